/**
 * The retransmission queue: every DATA chunk that holds a TSN and is not yet
 * cumulatively acknowledged (RFC 9260 §6.1, §6.2.1, §6.3; RFC 3758 §3.5).
 *
 * `chunks[i].tsn === add32(cumulativeTsnAck, i + 1)`: TSNs are assigned in
 * order and leave only from the front when the Cumulative TSN Ack Point
 * advances, so a TSN finds its chunk by index.
 *
 * Byte counts (flight size, rwnd, acked bytes) are user data bytes, as
 * Linux's sctp_data_size: RFC 9260 §6.2.1 C subtracts "the data size of the
 * chunk" from rwnd, and cwnd is compared against the same unit.
 *
 * This module owns the per-destination flight size (`flightSize`) because it
 * is the one that knows which chunk is in flight where; every outcome reports
 * it so the path module can mirror it.
 */
import type { Millis } from '../env.js';
import { add32, diff32, lt32 } from '../../wire/serial.js';
import type { DataChunk } from '../../wire/types.js';
import type { ChunkState, Destination, OutstandingChunk, ProducedChunk } from './types.js';

export interface TxCounters {
  /** Chunks retransmitted (SCTP-MIB sctpAssocRtxChunks), fast retransmissions included. */
  retransmittedChunks: number;
  fastRetransmittedChunks: number;
  /** TSNs the peer reported as duplicates in SACKs. */
  duplicateTsnsReported: number;
  /** SACKs dropped because their Cumulative TSN Ack was behind ours (§6.2.1 D i). */
  oldSacksIgnored: number;
  abandonedChunks: number;
  zeroWindowProbes: number;
}

export interface RetransmissionQueueState {
  /** The TSN the next new chunk gets. */
  nextTsn: number;
  /** Cumulative TSN Ack Point: the highest TSN the peer acknowledged cumulatively. */
  cumulativeTsnAck: number;
  /** RFC 3758 §3.5 A1. */
  advancedPeerAckPoint: number;
  chunks: OutstandingChunk[];
  /** Peer's rwnd as estimated per §6.2.1 (a_rwnd minus bytes in flight). */
  peerRwnd: number;
  /** RFC 3758 §3.3: FORWARD TSN negotiated. Without it nothing holding a TSN is ever abandoned. */
  readonly forwardTsnSupported: boolean;
  /**
   * ProtocolConfig.maxOutstandingChunks: no new TSN beyond it. An abandoned
   * message tail may take one placeholder TSN more (`abandonUnsentRemainder`),
   * so `chunks.length <= maxOutstandingChunks + 1`.
   */
  readonly maxOutstandingChunks: number;
  /** §7.2.4 step 6: the Fast Recovery exit point; in Fast Recovery iff defined. */
  fastRecoveryExitPoint: number | undefined;
  /** RFC 3758 §3.5 C3 / A5: a FORWARD TSN is to be sent. */
  forwardTsnPending: boolean;
  /** Bytes in flight per destination (chunks in state `in-flight`). */
  readonly flightSize: Map<Destination, number>;
  /**
   * Indexes over `chunks`, kept up to date by `setChunkState` (and the few
   * places that add or remove chunks) so that the per-packet and per-SACK
   * paths need not scan every outstanding chunk. `checkInvariants` checks them.
   */
  /** Chunks in state `to-retransmit`. */
  toRetransmitCount: number;
  /** While `toRetransmitCount > 0`: no chunk below this TSN is in state `to-retransmit`. */
  toRetransmitFrom: number;
  /** Chunks in state `acked` (gap-acked). */
  gapAckedCount: number;
  /**
   * Chunks in state `in-flight` or `to-retransmit` per destination
   * (`outstandingChunksTo`); no zero entries. Created with the first chunk
   * (an idle association carries no Map).
   */
  outstandingCount: Map<Destination, number> | undefined;
  readonly counters: TxCounters;
}

export interface RetransmissionQueueOptions {
  readonly forwardTsnSupported: boolean;
  readonly maxOutstandingChunks: number;
}

export function createRetransmissionQueue(initialTsn: number, peerARwnd: number, options: RetransmissionQueueOptions): RetransmissionQueueState {
  const cum = add32(initialTsn, -1);
  return {
    nextTsn: initialTsn >>> 0,
    cumulativeTsnAck: cum,
    advancedPeerAckPoint: cum,
    chunks: [],
    // §6.2.1 A: rwnd starts as the a_rwnd of the INIT / INIT ACK.
    peerRwnd: peerARwnd >>> 0,
    forwardTsnSupported: options.forwardTsnSupported,
    maxOutstandingChunks: options.maxOutstandingChunks,
    fastRecoveryExitPoint: undefined,
    forwardTsnPending: false,
    flightSize: new Map(),
    toRetransmitCount: 0,
    toRetransmitFrom: initialTsn >>> 0,
    gapAckedCount: 0,
    outstandingCount: undefined,
    counters: {
      retransmittedChunks: 0,
      fastRetransmittedChunks: 0,
      duplicateTsnsReported: 0,
      oldSacksIgnored: 0,
      abandonedChunks: 0,
      zeroWindowProbes: 0,
    },
  };
}

/** Bytes in flight to `destination` (its flightsize, §7.2). */
export function flightSizeOf(rq: RetransmissionQueueState, destination: Destination): number {
  return rq.flightSize.get(destination) ?? 0;
}

/** Bytes in flight to all destinations. */
export function totalFlightSize(rq: RetransmissionQueueState): number {
  let sum = 0;
  for (const v of rq.flightSize.values()) sum += v;
  return sum;
}

export function isInFastRecovery(rq: RetransmissionQueueState): boolean {
  return rq.fastRecoveryExitPoint !== undefined;
}

/** Whether a new chunk may get a TSN (the outstanding bound). */
export function canAssignTsn(rq: RetransmissionQueueState): boolean {
  return rq.chunks.length < rq.maxOutstandingChunks;
}

/** Whether some chunk waits for retransmission (§6.1 C: they go before new data). */
export function hasChunksToRetransmit(rq: RetransmissionQueueState): boolean {
  return rq.toRetransmitCount > 0;
}

/** Index in `chunks` from which chunks in state `to-retransmit` may be found (0 when unsure). */
export function toRetransmitStart(rq: RetransmissionQueueState): number {
  return Math.max(0, diff32(rq.cumulativeTsnAck, rq.toRetransmitFrom) - 1);
}

/** Counts `c` (in its current state) into the indexes. */
export function trackChunk(rq: RetransmissionQueueState, c: OutstandingChunk): void {
  switch (c.state) {
    case 'to-retransmit':
    case 'in-flight': {
      if (c.state === 'to-retransmit') {
        if (rq.toRetransmitCount === 0 || lt32(c.tsn, rq.toRetransmitFrom)) rq.toRetransmitFrom = c.tsn;
        rq.toRetransmitCount++;
      }
      const m = (rq.outstandingCount ??= new Map());
      m.set(c.destination, (m.get(c.destination) ?? 0) + 1);
      break;
    }
    case 'acked':
      rq.gapAckedCount++;
      break;
    case 'abandoned':
      break;
  }
}

/** Counts `c` (in its current state) out of the indexes: before it changes state or destination, or leaves `chunks`. */
export function untrackChunk(rq: RetransmissionQueueState, c: OutstandingChunk): void {
  switch (c.state) {
    case 'to-retransmit':
    case 'in-flight': {
      if (c.state === 'to-retransmit') rq.toRetransmitCount--;
      const m = rq.outstandingCount;
      if (!m) break;
      const left = (m.get(c.destination) ?? 0) - 1;
      if (left > 0) m.set(c.destination, left);
      else m.delete(c.destination);
      break;
    }
    case 'acked':
      rq.gapAckedCount--;
      break;
    case 'abandoned':
      break;
  }
}

/** Changes the state of a chunk held in `chunks`, keeping the indexes (not the flight sizes: see `leaveFlight`/`enterFlight`). */
export function setChunkState(rq: RetransmissionQueueState, c: OutstandingChunk, state: ChunkState): void {
  if (c.state === state) return;
  untrackChunk(rq, c);
  c.state = state;
  trackChunk(rq, c);
}

/**
 * Chunks not yet acknowledged or abandoned whose latest transmission went to
 * `destination` (in flight or marked for retransmission): while there are
 * some, its T3-rtx timer runs (§6.3.2 R2).
 */
export function outstandingChunksTo(rq: RetransmissionQueueState, destination: Destination): number {
  return rq.outstandingCount?.get(destination) ?? 0;
}

/**
 * Whether a T3-rtx timer must keep running somewhere: data is unacknowledged,
 * or a FORWARD TSN was (or is to be) sent and not yet acknowledged
 * (RFC 3758 §3.5 C5).
 */
export function needsRetransmissionTimer(rq: RetransmissionQueueState): boolean {
  return rq.chunks.length > rq.gapAckedCount;
}

/** Highest TSN assigned so far. */
export function highestTsnSent(rq: RetransmissionQueueState): number {
  return add32(rq.nextTsn, -1);
}

export function chunkAt(rq: RetransmissionQueueState, tsn: number): OutstandingChunk | undefined {
  const i = diff32(rq.cumulativeTsnAck, tsn) - 1;
  return i >= 0 ? rq.chunks[i] : undefined;
}

/** Moves a chunk out of its destination's flight (lost, acked or abandoned). */
export function leaveFlight(rq: RetransmissionQueueState, c: OutstandingChunk): void {
  if (c.state !== 'in-flight') return;
  const left = (rq.flightSize.get(c.destination) ?? 0) - c.userData.length;
  if (left > 0) rq.flightSize.set(c.destination, left);
  else rq.flightSize.delete(c.destination);
}

/** Counts a chunk into its destination's flight; the caller sets `state` to `in-flight`. */
export function enterFlight(rq: RetransmissionQueueState, c: OutstandingChunk): void {
  rq.flightSize.set(c.destination, (rq.flightSize.get(c.destination) ?? 0) + c.userData.length);
}

/**
 * Gives a produced chunk the next TSN and records it as in flight to
 * `destination` (§6.1; §6.2.1 C: rwnd shrinks by its size). The caller must
 * have checked `canAssignTsn`.
 */
export function assignTsn(rq: RetransmissionQueueState, p: ProducedChunk, destination: Destination, now: Millis): OutstandingChunk {
  const c: OutstandingChunk = {
    tsn: rq.nextTsn,
    messageId: p.messageId,
    streamId: p.streamId,
    ssn: p.ssn,
    ppid: p.ppid,
    userData: p.userData,
    unordered: p.unordered,
    beginning: p.beginning,
    ending: p.ending,
    immediate: p.immediate,
    ...(p.expiresAt !== undefined ? { expiresAt: p.expiresAt } : {}),
    ...(p.maxRetransmits !== undefined ? { maxRetransmits: p.maxRetransmits } : {}),
    destination,
    sentAt: now,
    retransmissions: 0,
    state: 'in-flight',
    missIndications: 0,
    fastRetransmitted: false,
    fastRetransmitPending: false,
  };
  rq.chunks.push(c);
  trackChunk(rq, c);
  rq.nextTsn = add32(rq.nextTsn, 1);
  enterFlight(rq, c);
  rq.peerRwnd = Math.max(0, rq.peerRwnd - c.userData.length);
  return c;
}

/**
 * Sends a marked chunk again to `destination` (which may differ from the
 * previous one, §6.4): back in flight, one more retransmission, miss
 * indications restart (§7.2.4 counts misses of the latest transmission).
 */
export function retransmit(rq: RetransmissionQueueState, c: OutstandingChunk, destination: Destination, now: Millis): void {
  untrackChunk(rq, c);
  c.destination = destination;
  c.sentAt = now;
  c.retransmissions++;
  c.missIndications = 0;
  c.fastRetransmitPending = false;
  c.state = 'in-flight';
  trackChunk(rq, c);
  enterFlight(rq, c);
  rq.peerRwnd = Math.max(0, rq.peerRwnd - c.userData.length);
  rq.counters.retransmittedChunks++;
}

export function toDataChunk(c: OutstandingChunk): DataChunk {
  return {
    kind: 'data',
    tsn: c.tsn,
    streamId: c.streamId,
    ssn: c.ssn,
    ppid: c.ppid,
    userData: c.userData,
    unordered: c.unordered,
    beginning: c.beginning,
    ending: c.ending,
    immediate: c.immediate,
  };
}

/**
 * Consistency of the state, for tests and debug builds: every TSN has its
 * chunk, flight sizes equal the sum of the chunks in flight. Returns the
 * broken invariants (empty when sound).
 */
export function checkInvariants(rq: RetransmissionQueueState): string[] {
  const errors: string[] = [];
  const flight = new Map<Destination, number>();
  const outstanding = new Map<Destination, number>();
  let toRetransmit = 0;
  let gapAcked = 0;
  rq.chunks.forEach((c, i) => {
    const want = add32(rq.cumulativeTsnAck, i + 1);
    if (c.tsn !== want) errors.push(`chunks[${i}].tsn is ${c.tsn}, expected ${want}`);
    if (c.state === 'in-flight') flight.set(c.destination, (flight.get(c.destination) ?? 0) + c.userData.length);
    if (c.state === 'in-flight' || c.state === 'to-retransmit') outstanding.set(c.destination, (outstanding.get(c.destination) ?? 0) + 1);
    if (c.state === 'acked') gapAcked++;
    if (c.state === 'to-retransmit') {
      toRetransmit++;
      if (lt32(c.tsn, rq.toRetransmitFrom)) errors.push(`chunk ${c.tsn} is marked below toRetransmitFrom ${rq.toRetransmitFrom}`);
    }
  });
  if (toRetransmit !== rq.toRetransmitCount) errors.push(`toRetransmitCount is ${rq.toRetransmitCount}, chunks say ${toRetransmit}`);
  if (gapAcked !== rq.gapAckedCount) errors.push(`gapAckedCount is ${rq.gapAckedCount}, chunks say ${gapAcked}`);
  if (outstanding.size !== (rq.outstandingCount?.size ?? 0)) errors.push('outstandingCount does not match the chunks');
  for (const [d, v] of outstanding) if (rq.outstandingCount?.get(d) !== v) errors.push(`outstandingCount of ${d} is ${rq.outstandingCount?.get(d)}, chunks say ${v}`);
  if (add32(rq.cumulativeTsnAck, rq.chunks.length + 1) !== rq.nextTsn) errors.push('nextTsn does not follow the last chunk');
  for (const [d, v] of rq.flightSize) {
    if (v <= 0) errors.push(`flightSize of ${d} is ${v}`);
    if ((flight.get(d) ?? 0) !== v) errors.push(`flightSize of ${d} is ${v}, chunks say ${flight.get(d) ?? 0}`);
  }
  for (const [d, v] of flight) if (!rq.flightSize.has(d)) errors.push(`flightSize misses ${d} (${v} bytes)`);
  if (rq.peerRwnd < 0) errors.push(`peerRwnd is ${rq.peerRwnd}`);
  if (rq.chunks.length > rq.maxOutstandingChunks + 1) errors.push('more chunks outstanding than maxOutstandingChunks + 1');
  return errors;
}
