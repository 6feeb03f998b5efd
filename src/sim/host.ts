/**
 * The contract between the simulator and what it drives: a sans-IO host
 * (DESIGN.md §2). Inputs carry `now`; outputs are polled. The association and
 * endpoint implement this later; src/sim/test-hosts.ts has small doubles.
 */
import type { Millis } from '../core/env.js';

/** One IP datagram as the simulator sees it: addresses plus an SCTP packet (common header + chunks). */
export interface Datagram {
  readonly source: string;
  readonly destination: string;
  readonly bytes: Uint8Array;
}

/**
 * What a path reports when a datagram exceeds its MTU and the link is set to
 * `tooBig: 'report'`: the ICMP "fragmentation needed" / ICMPv6 "packet too big"
 * a router would send back (RFC 9260 §7.3, RFC 8201). `bytes` is the refused
 * SCTP packet, so the host can find the association by its common header.
 */
export interface PacketTooBig {
  readonly source: string;
  readonly destination: string;
  /** The IP MTU of the hop that refused the datagram. */
  readonly mtu: number;
  readonly bytes: Uint8Array;
}

export interface SimHost {
  /** A datagram arrived at one of the node's addresses. */
  handlePacket(now: Millis, packet: Datagram): void;
  /** The deadline last returned by `pollTimeout` was reached. */
  handleTimeout(now: Millis): void;
  /** Next datagram to send, if any; the simulator drains it after every input. */
  pollTransmit(now: Millis): Datagram | undefined;
  /** The next deadline, if any; re-read after every input. */
  pollTimeout(): Millis | undefined;
  /** Optional: a path refused a datagram for its size (links with `tooBig: 'report'`). */
  handlePacketTooBig?(now: Millis, report: PacketTooBig): void;
}
