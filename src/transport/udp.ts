/**
 * SCTP over UDP (RFC 6951) on node:dgram: no privileges needed, so this is
 * the default for demos and embedded use (`--udp-encap`).
 *
 * One socket per local address, bound to that address on the local
 * encapsulation port: node:dgram does not report the destination address of
 * a received datagram, so binding per address is what makes `destination`
 * right, which multihoming needs (RFC 9260 §6.4: the association is found
 * from the addresses and ports). It also makes the source of every sent
 * packet exact: the packet goes out of the socket bound to its source.
 *
 * What the association must do with `udpSourcePort` (not this driver's job,
 * since only the association knows which packets are genuine):
 * - RFC 6951 §5.4: only after the packet has been matched to an association
 *   and its verification tag checked, store the UDP source port as the remote
 *   encapsulation port of the path to the packet's source address, and use it
 *   as `remoteUdpPort` for every packet sent to that address; a port change
 *   replaces the stored one (the peer is behind a NAT that re-mapped it).
 * - Answers to packets that match no association (INIT-ACK to an INIT, ABORT
 *   or SHUTDOWN COMPLETE to OOTB packets, §8.4) go to the UDP source port of
 *   the packet they answer.
 * - RFC 6951 §5.4: a non-encapsulated packet from that address (arriving on a
 *   raw IP transport) turns encapsulation off for that path.
 * - RFC 6951 §5.6: the path MTU available to SCTP is 8 bytes (the UDP header)
 *   smaller than the IP path MTU.
 * The SCTP common header's ports are not changed by encapsulation.
 */
import { createSocket, type Socket } from 'node:dgram';
import { SCTP_UDP_ENCAPSULATION_PORT } from '../wire/udp.js';
import { addressFamily, canonicalAddress } from '../wire/address.js';
import type { DatagramHandler, IncomingDatagram, OutgoingDatagram, Transport, TransportCounters } from './transport.js';

export interface UdpTransportOptions {
  /** Local addresses to bind, IPv4 and/or IPv6 (at least one). */
  readonly localAddresses: readonly string[];
  /** Local UDP encapsulation port for every address (default 9899; 0 = an ephemeral port per address). */
  readonly port?: number;
  /** Remote encapsulation port when OutgoingDatagram.remoteUdpPort is absent (default 9899). */
  readonly remotePort?: number;
  readonly onDatagrams?: DatagramHandler;
  /**
   * SO_RCVBUF / SO_SNDBUF in bytes (default 4 MiB, as the raw IP addon; the
   * kernel caps it at net.core.rmem_max / wmem_max). The system default
   * (208 KiB on Linux) holds fewer datagrams than a 256 KiB receive window
   * sends (each costs its size plus ~1 KiB of kernel overhead): a burst
   * overflowed it and the loss cost a retransmission timeout.
   */
  readonly receiveBufferSize?: number;
  readonly sendBufferSize?: number;
}

const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;

/** The default buffer size is a wish: a system that refuses it keeps its own. */
function bestEffort(set: () => void): void {
  try {
    set();
  } catch {
    // the system default stays
  }
}

interface Bound {
  readonly address: string;
  readonly socket: Socket;
  readonly port: number;
  /** Sends handed to the socket whose completion has not been reported yet (see send). */
  inFlight?: number;
  /** Called when inFlight drops to 0 (close waits for it). */
  onIdle?: (() => void) | undefined;
}

/** Bounded cache of canonical forms of IPv6 text from rinfo (scope ids stripped). */
const v6Canonical = new Map<string, string>();
function canonicalSource(address: string): string {
  if (!address.includes(':')) return address; // dotted quad: already canonical
  let c = v6Canonical.get(address);
  if (c === undefined) {
    const percent = address.indexOf('%');
    c = canonicalAddress(percent < 0 ? address : address.slice(0, percent)) ?? address;
    if (v6Canonical.size >= 1024) v6Canonical.clear();
    v6Canonical.set(address, c);
  }
  return c;
}

class UdpTransport implements Transport {
  readonly kind = 'udp-encap';
  onDatagrams: DatagramHandler | undefined;
  /** Replaced (never mutated) by addLocalAddress / removeLocalAddress. */
  localAddresses: readonly string[];
  private readonly bound = new Map<string, Bound>();
  private readonly options: UdpTransportOptions;
  private readonly remotePort: number;
  private pending: IncomingDatagram[] = [];
  private flushScheduled: NodeJS.Immediate | undefined;
  private closing: Promise<void> | undefined;
  private packetsIn = 0;
  private bytesIn = 0;
  private packetsOut = 0;
  private bytesOut = 0;
  private sendErrors = 0;
  private receiveErrors = 0;
  private drops = 0;
  private last: string | undefined;

  constructor(options: UdpTransportOptions, addresses: readonly string[]) {
    this.onDatagrams = options.onDatagrams;
    this.remotePort = options.remotePort ?? SCTP_UDP_ENCAPSULATION_PORT;
    this.localAddresses = addresses;
    this.options = options;
  }

  /**
   * Transport.addLocalAddress (RFC 5061 ADD-IP): binds one more socket, on
   * the same local encapsulation port rule as the others.
   */
  async addLocalAddress(address: string): Promise<void> {
    const c = canonicalAddress(address);
    if (c === undefined) throw new TypeError(`not an IP address: ${address}`);
    if (this.closing !== undefined) throw new Error('UDP encapsulation: transport closed');
    if (this.bound.has(c)) return;
    await bindOne(c, this.options.port ?? SCTP_UDP_ENCAPSULATION_PORT, this.options, (b) => this.attach(b));
    this.localAddresses = [...this.localAddresses, c];
  }

  /** Transport.removeLocalAddress: closes that address's socket. */
  async removeLocalAddress(address: string): Promise<void> {
    const c = canonicalAddress(address) ?? address;
    const b = this.bound.get(c);
    if (b === undefined || this.closing !== undefined) return;
    this.bound.delete(c);
    this.localAddresses = this.localAddresses.filter((x) => x !== c);
    await closeSocket(b.socket);
  }

  /** Takes a freshly bound socket over (before any event of it can fire). */
  attach(b: Bound): void {
    this.bound.set(b.address, b);
    const destination = b.address;
    b.socket.on('message', (msg, rinfo) => {
      if (this.closing !== undefined) return;
      this.packetsIn++;
      this.bytesIn += msg.length;
      // A plain view: the codec's loops are slower on Buffer (src/wire/crc32c.ts).
      // dgram gives every datagram its own memory, so the view is never overwritten.
      this.pending.push({
        source: canonicalSource(rinfo.address),
        destination,
        bytes: new Uint8Array(msg.buffer, msg.byteOffset, msg.length),
        udpSourcePort: rinfo.port,
      });
      // Datagrams read in one poll phase are handed on together in the check
      // phase of the same loop iteration: one handler call per tick.
      this.flushScheduled ??= setImmediate(this.flush);
    });
    b.socket.on('error', (err: NodeJS.ErrnoException) => {
      // Without a send callback, dgram reports failed sends here (syscall
      // 'send'); failed reads have syscall 'recvmsg'.
      if (err.syscall === 'send') this.sendErrors++;
      else this.receiveErrors++;
      this.last = `${err.syscall ?? 'socket'} (${destination}): ${err.code ?? err.message}`;
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = undefined;
    const batch = this.pending;
    if (batch.length === 0 || this.closing !== undefined) return;
    this.pending = [];
    const handler = this.onDatagrams;
    if (handler === undefined) {
      this.drops += batch.length;
      return;
    }
    handler(batch);
  };

  send(packets: readonly OutgoingDatagram[]): void {
    if (this.closing !== undefined) {
      this.sendErrors += packets.length;
      this.last = 'send: transport closed';
      return;
    }
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      const b = this.bound.get(p.source);
      if (b === undefined) {
        this.sendErrors++;
        this.last = `send from ${p.source}: not a local address of this transport`;
        continue;
      }
      if (p.destination.includes(':') !== b.address.includes(':')) {
        this.sendErrors++;
        this.last = `send from ${p.source} to ${p.destination}: address families differ`;
        continue;
      }
      // A callback only on a socket's last packet of the batch (one costs a
      // nextTick): dgram hands a packet to the kernel a tick later (after
      // resolving the address), so close() waits for these to report, or the
      // last packet of an association (its ABORT) would die with the socket.
      // Errors come to the 'error' listener. Counted as out once handed over.
      const next = packets[i + 1];
      const lastForSocket = next === undefined || next.source !== p.source;
      if (lastForSocket) {
        b.inFlight = (b.inFlight ?? 0) + 1;
        b.socket.send(p.bytes, p.remoteUdpPort ?? this.remotePort, p.destination, () => sendDone(b));
      } else b.socket.send(p.bytes, p.remoteUdpPort ?? this.remotePort, p.destination);
      this.packetsOut++;
      this.bytesOut += p.bytes.length;
    }
  }

  counters(): TransportCounters {
    return {
      packetsIn: this.packetsIn,
      bytesIn: this.bytesIn,
      packetsOut: this.packetsOut,
      bytesOut: this.bytesOut,
      sendErrors: this.sendErrors,
      receiveErrors: this.receiveErrors,
      drops: this.drops,
    };
  }

  get lastError(): string | undefined {
    return this.last;
  }

  /** The UDP port bound on a local address (the configured one, or the ephemeral one for port 0). */
  localPort(address: string): number | undefined {
    return this.bound.get(canonicalAddress(address) ?? address)?.port;
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      if (this.flushScheduled !== undefined) clearImmediate(this.flushScheduled);
      this.flushScheduled = undefined;
      this.drops += this.pending.length;
      this.pending = [];
      this.closing = Promise.all([...this.bound.values()].map(async (b) => {
        await sendsDone(b, CLOSE_DRAIN_MS);
        await closeSocket(b.socket);
      })).then(() => undefined);
    }
    return this.closing;
  }
}

export type { UdpTransport };

/** How long close() waits at most for packets already handed to a socket. */
const CLOSE_DRAIN_MS = 200;

function sendDone(b: Bound): void {
  b.inFlight = (b.inFlight ?? 1) - 1;
  if (b.inFlight === 0) b.onIdle?.();
}

function sendsDone(b: Bound, ms: number): Promise<void> {
  if ((b.inFlight ?? 0) === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      b.onIdle = undefined;
      resolve();
    }
    b.onIdle = done;
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

function bindOne(address: string, port: number, options: UdpTransportOptions, onBound: (b: Bound) => void): Promise<void> {
  const family = addressFamily(address);
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6 });
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      socket.close();
      const where = family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
      const why =
        err.code === 'EADDRINUSE'
          ? 'address in use (another SCTP/UDP stack on the encapsulation port?)'
          : err.code === 'EADDRNOTAVAIL'
            ? 'not an address of this host'
            : (err.code ?? err.message);
      reject(Object.assign(new Error(`UDP encapsulation cannot bind ${where}: ${why}`), { code: err.code }));
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      try {
        if (options.receiveBufferSize !== undefined) socket.setRecvBufferSize(options.receiveBufferSize);
        else bestEffort(() => socket.setRecvBufferSize(DEFAULT_SOCKET_BUFFER));
        if (options.sendBufferSize !== undefined) socket.setSendBufferSize(options.sendBufferSize);
        else bestEffort(() => socket.setSendBufferSize(DEFAULT_SOCKET_BUFFER));
      } catch (err) {
        socket.close();
        reject(err as Error);
        return;
      }
      onBound({ address, socket, port: socket.address().port });
      resolve();
    });
  });
}

/**
 * Binds every local address on the encapsulation port and resolves when all
 * are bound; if one fails, the others are released and the promise rejects
 * with a one-line message.
 */
export async function openUdpTransport(options: UdpTransportOptions): Promise<UdpTransport> {
  const addresses: string[] = [];
  for (const a of options.localAddresses) {
    const c = canonicalAddress(a);
    if (c === undefined) throw new TypeError(`not an IP address: ${a}`);
    if (!addresses.includes(c)) addresses.push(c);
  }
  if (addresses.length === 0) throw new TypeError('UDP encapsulation needs at least one local address');
  const port = options.port ?? SCTP_UDP_ENCAPSULATION_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad UDP port ${port}`);
  const transport = new UdpTransport(options, addresses);
  const results = await Promise.allSettled(addresses.map((a) => bindOne(a, port, options, (b) => transport.attach(b))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await transport.close();
    throw failed.reason;
  }
  return transport;
}
