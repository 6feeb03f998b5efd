/**
 * The one interface every packet driver implements (DESIGN.md §2): raw IP
 * (raw.ts, on the native addon), RFC 6951 UDP encapsulation (udp.ts), and
 * later the simulator and pcap replay. The runtime owns one or more
 * transports, feeds what they receive to the endpoint and sends what the
 * endpoint polls out.
 *
 * Everything is batched: a driver hands over what one libuv tick brought
 * (one recvmmsg, or the datagrams of one poll phase) in one call, and `send`
 * takes what one pass over the endpoint produced, so that system calls and
 * JS-native crossings are per batch, not per packet.
 *
 * Drivers do not judge the bytes: a datagram that is not SCTP at all is
 * delivered as it came, and the decoder (src/wire/packet.ts) rejects it.
 * Drivers do not read the clock either (the runtime does, once per batch).
 */

export interface OutgoingDatagram {
  /** A local address of the transport (canonical text: dotted quad or RFC 5952). */
  readonly source: string;
  readonly destination: string;
  /** One SCTP packet: common header and chunks, checksum already written. */
  readonly bytes: Uint8Array;
  /**
   * UDP encapsulation only: the peer's encapsulation port for this
   * destination, as learned from its packets (RFC 6951 §5.4); the
   * transport's default remote port (9899) when absent. Raw IP ignores it.
   */
  readonly remoteUdpPort?: number;
}

export interface IncomingDatagram {
  /** Canonical text of the IP source address. */
  readonly source: string;
  /** Canonical text of the IP destination address (one of the local addresses). */
  readonly destination: string;
  /**
   * One SCTP packet as received, a plain Uint8Array view (never a Buffer):
   * several datagrams of a batch may share one ArrayBuffer, which is never
   * reused, so the decoder's zero-copy byte fields stay valid.
   */
  readonly bytes: Uint8Array;
  /** UDP encapsulation only: the UDP source port (the peer's encapsulation port, RFC 6951 §5.4). */
  readonly udpSourcePort?: number;
  /** Receive time in the runtime's clock, when a driver knows it (none of the socket drivers do). */
  readonly receivedAt?: number;
  /** Raw IP only: the receiving interface index (IP_PKTINFO / IPV6_PKTINFO). */
  readonly ifindex?: number;
  /** Raw IP only: IPv4 TTL or IPv6 hop limit. */
  readonly ttl?: number;
}

export type DatagramHandler = (batch: IncomingDatagram[]) => void;

/** Running totals since the transport opened. */
export interface TransportCounters {
  readonly packetsIn: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly bytesOut: number;
  /** Packets the system refused to send (unreachable, buffer full, source not local, ...). */
  readonly sendErrors: number;
  /** Failed receive calls. */
  readonly receiveErrors: number;
  /**
   * Received packets not handed on: truncated, malformed IP, dropped by the
   * kernel on a full receive queue, or arriving while no handler was set.
   */
  readonly drops: number;
}

export interface Transport {
  /** 'raw-ip' or 'udp-encap'; for logs and the CLI. */
  readonly kind: string;
  /** The addresses packets are received on and may be sent from (canonical text). */
  readonly localAddresses: readonly string[];
  /**
   * Called once per received batch, on the event loop. Packets that arrive
   * while it is undefined are dropped (and counted). A handler that throws
   * raises an uncaught exception, as a throwing 'message' listener would.
   */
  onDatagrams: DatagramHandler | undefined;
  /**
   * Sends a batch. Never throws for a packet the network refuses: the failure
   * is counted (sendErrors) and described in lastError, and SCTP's
   * retransmission handles the loss.
   */
  send(packets: readonly OutgoingDatagram[]): void;
  /** A snapshot of the counters. */
  counters(): TransportCounters;
  /** The latest send or receive failure, as one line (e.g. "send 10.0.0.9: ENETUNREACH"). */
  readonly lastError: string | undefined;
  /** Releases the sockets; no handler call happens after it is called. Idempotent. */
  close(): Promise<void>;
  /**
   * RFC 5061 ADD-IP: receive on, and send from, one more local address
   * (resolves once it can). Drivers that cannot leave it out.
   */
  addLocalAddress?(address: string): Promise<void>;
  /** The reverse of `addLocalAddress`: the address is no longer received on or sent from. */
  removeLocalAddress?(address: string): Promise<void>;
}
