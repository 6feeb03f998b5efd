/**
 * Per-destination transport state (RFC 9260 §14.3 "per transport address
 * data"), as plain data: numbers, strings and plain objects only, so the
 * association can replicate it with structuredClone, print it in the CLI and
 * assert on it in tests. The procedures live beside this file (rto.ts,
 * congestion.ts, fault.ts, heartbeat.ts, select.ts); each takes the state as
 * its first argument and changes it in place.
 */

import type { Millis } from '../env.js';
import type { ProtocolConfig } from '../config.js';

/**
 * RFC 9260 §8.2 ACTIVE / INACTIVE, RFC 7829 §5 Potentially Failed, and RFC
 * 9260 §5.4 UNCONFIRMED (an address the peer listed that no HEARTBEAT ACK
 * with our nonce has confirmed yet: it carries no DATA).
 */
export type PathStatus = 'active' | 'pf' | 'inactive' | 'unconfirmed';

/**
 * A state change the association surfaces as an RFC 6458 §6.1.2
 * SCTP_PEER_ADDR_CHANGE notification (see `peerAddrChangeState`).
 */
export interface PathEvent {
  readonly kind: 'path-state';
  readonly address: string;
  readonly from: PathStatus;
  readonly to: PathStatus;
}

/** The one HEARTBEAT in flight on a path (RFC 9260 §8.3: one per RTO). */
export interface OutstandingHeartbeat {
  /** 64-bit random nonce, 16 lower-case hex digits (RFC 9260 §5.4). */
  readonly nonce: string;
  readonly sentAt: Millis;
  /** The RTO the HEARTBEAT was sent with; unanswered for this long it is an error (§8.3). */
  readonly rto: Millis;
  readonly timeoutAt: Millis;
}

/** Counters, named after RFC 3873 (SCTP-MIB) sctpAssocRemAddrTable where one exists. */
export interface PathCounters {
  /** sctpAssocRemAddrRtx: DATA chunks retransmitted to this address. */
  rtxChunks: number;
  hbSent: number;
  hbAcked: number;
  /** HEARTBEATs unanswered within their RTO. */
  hbTimeouts: number;
  t3Expiries: number;
  /** Fast retransmit events that reduced this path's cwnd (§7.2.4). */
  fastRecoveries: number;
  rttMeasurements: number;
}

export interface PathState {
  /** The peer's transport address (canonical text from src/wire/address.ts). */
  readonly address: string;
  state: PathStatus;
  /** RFC 9260 §8.2 error counter of this destination. */
  errorCount: number;
  rto: Millis;
  /** Undefined before the first RTT measurement (§6.3.1 C1). */
  srtt: Millis | undefined;
  rttvar: Millis | undefined;
  cwnd: number;
  ssthresh: number;
  partialBytesAcked: number;
  /** Bytes of DATA outstanding to this destination (§7.2 flightsize). */
  flightSize: number;
  /**
   * Highest TSN outstanding when Fast Recovery was entered on this path
   * (RFC 9260 §7.2.4); undefined when not in Fast Recovery.
   */
  fastRecoveryExitTsn: number | undefined;
  /** Path MTU in bytes of IP packet. */
  mtu: number;
  /** sctpAssocRemAddrStartTime. */
  readonly createdAt: Millis;
  /** When the state last changed (RFC 7829 §5: a PF path is probed at once). */
  stateChangedAt: Millis;
  /** Last DATA sent here (idle detection for cwnd, §7.2.1, and heartbeats, §8.3). */
  lastDataSentAt: Millis | undefined;
  /** Last HEARTBEAT sent here, and the RTO it went with. */
  lastHeartbeatSentAt: Millis | undefined;
  lastHeartbeatRto: Millis | undefined;
  /** Last time any packet arrived from this address (ties in path selection). */
  lastHeardAt: Millis | undefined;
  /** Idle-decay reference point for cwnd (§7.2.1); see congestion.ts. */
  cwndIdleSince: Millis | undefined;
  heartbeat: OutstandingHeartbeat | undefined;
  /**
   * Jitter of the next idle-path HEARTBEAT as a fraction of RTO in [-0.5, 0.5)
   * (RFC 9260 §8.3), drawn from the injected Rng when a HEARTBEAT is sent.
   */
  hbJitterFraction: number;
  counters: PathCounters;
}

/** RFC 9260 §7.2.1: initial cwnd = min(4*MTU, max(2*MTU, 4404 bytes)). */
export function initialCwnd(mtu: number): number {
  return Math.min(4 * mtu, Math.max(2 * mtu, 4404));
}

export interface NewPath {
  readonly address: string;
  readonly mtu: number;
  /**
   * The peer's a_rwnd from INIT / INIT ACK: the initial ssthresh (RFC 9260
   * §7.2.1 "MAY be arbitrarily high, e.g. the receiver's advertised window").
   */
  readonly aRwnd: number;
  /**
   * RFC 9260 §5.4: the address the INIT was sent to once the COOKIE ACK
   * arrives, and the address the accepted COOKIE ECHO came from, are confirmed;
   * every other address the peer lists starts UNCONFIRMED.
   */
  readonly confirmed: boolean;
  readonly now: Millis;
}

export function createPathState(p: NewPath, config: Pick<ProtocolConfig, 'rtoInitial'>): PathState {
  return {
    address: p.address,
    state: p.confirmed ? 'active' : 'unconfirmed',
    errorCount: 0,
    rto: config.rtoInitial,
    srtt: undefined,
    rttvar: undefined,
    cwnd: initialCwnd(p.mtu),
    ssthresh: p.aRwnd,
    partialBytesAcked: 0,
    flightSize: 0,
    fastRecoveryExitTsn: undefined,
    mtu: p.mtu,
    createdAt: p.now,
    stateChangedAt: p.now,
    lastDataSentAt: undefined,
    lastHeartbeatSentAt: undefined,
    lastHeartbeatRto: undefined,
    lastHeardAt: undefined,
    cwndIdleSince: undefined,
    heartbeat: undefined,
    hbJitterFraction: 0,
    counters: {
      rtxChunks: 0,
      hbSent: 0,
      hbAcked: 0,
      hbTimeouts: 0,
      t3Expiries: 0,
      fastRecoveries: 0,
      rttMeasurements: 0,
    },
  };
}

/**
 * RFC 9260 §5.2.4 (restart): congestion control and RTO state go back to
 * their initial values. Confirmation, counters and history stay.
 */
export function resetPathForRestart(path: PathState, aRwnd: number, config: Pick<ProtocolConfig, 'rtoInitial'>): void {
  path.cwnd = initialCwnd(path.mtu);
  path.ssthresh = aRwnd;
  path.partialBytesAcked = 0;
  path.flightSize = 0;
  path.fastRecoveryExitTsn = undefined;
  path.rto = config.rtoInitial;
  path.srtt = undefined;
  path.rttvar = undefined;
  path.errorCount = 0;
  path.heartbeat = undefined;
  path.cwndIdleSince = undefined;
}

/** Transition helper: records the change and returns the event, or undefined if unchanged. */
export function setPathStatus(path: PathState, to: PathStatus, now: Millis): PathEvent | undefined {
  const from = path.state;
  if (from === to) return undefined;
  path.state = to;
  path.stateChangedAt = now;
  return { kind: 'path-state', address: path.address, from, to };
}

/** Any packet arrived from this address (RFC 7829 §5 ties: "last active"). */
export function onPacketFrom(path: PathState, now: Millis): void {
  path.lastHeardAt = now;
}

/**
 * The RFC 6458 §6.1.2 spc_state for a transition. PF is reported only when the
 * application enabled SCTP_EXPOSE_POTENTIALLY_FAILED_STATE (RFC 7829 §7.3);
 * the association decides, this only names the state.
 */
export type PeerAddrChangeState =
  | 'SCTP_ADDR_AVAILABLE'
  | 'SCTP_ADDR_UNREACHABLE'
  | 'SCTP_ADDR_CONFIRMED'
  | 'SCTP_ADDR_POTENTIALLY_FAILED';

export function peerAddrChangeState(event: PathEvent): PeerAddrChangeState {
  switch (event.to) {
    case 'active':
      return event.from === 'unconfirmed' ? 'SCTP_ADDR_CONFIRMED' : 'SCTP_ADDR_AVAILABLE';
    case 'pf':
      return 'SCTP_ADDR_POTENTIALLY_FAILED';
    case 'inactive':
    case 'unconfirmed':
      return 'SCTP_ADDR_UNREACHABLE';
  }
}

// ---- flight size (called by the association's retransmission queue) ----

/**
 * DATA sent to this path: flight grows, the idle clocks restart. Apply the
 * idle cwnd decay first (congestion.ts `applyIdleDecay`), or call this
 * through `onDataSent` in congestion.ts which does both.
 */
export function addFlight(path: PathState, bytes: number): void {
  if (bytes > 0) path.flightSize += bytes;
}

/** DATA acked, abandoned or moved to another path: flight shrinks, never below 0. */
export function removeFlight(path: PathState, bytes: number): void {
  if (bytes > 0) path.flightSize = Math.max(0, path.flightSize - bytes);
}

// ---- path MTU ----

export type IpFamily = 'ipv4' | 'ipv6';

/** The IP family of a canonical address string (IPv6 text always has a colon). */
export function ipFamilyOf(address: string): IpFamily {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

const IP_HEADER: Record<IpFamily, number> = { ipv4: 20, ipv6: 40 };
const SCTP_COMMON_HEADER = 12;
const DATA_CHUNK_HEADER = 16;

/**
 * The largest DATA payload that fits one packet alone: MTU − IP header (20 /
 * 40, no options or extension headers) − 12 (common header) − 16 (DATA chunk
 * header), rounded down to a multiple of 4 so the chunk needs no padding.
 * Never negative.
 */
export function maxDataPayload(mtu: number, family: IpFamily): number {
  const room = mtu - IP_HEADER[family] - SCTP_COMMON_HEADER - DATA_CHUNK_HEADER;
  return room > 0 ? room - (room % 4) : 0;
}

/**
 * A new path MTU (e.g. from an ICMP "packet too big", RFC 9260 §7.3). cwnd is
 * kept at 1*MTU at least, the floor every other rule keeps.
 */
export function setPathMtu(path: PathState, mtu: number): void {
  if (!(mtu > 0)) return;
  path.mtu = mtu;
  if (path.cwnd < mtu) path.cwnd = mtu;
}
