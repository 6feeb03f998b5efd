/**
 * Which TSNs the peer sent us, and when and how to acknowledge them (RFC 9260
 * §6.2, §6.7; RFC 3758 §3.6 for FORWARD TSN; RFC 7053 for the I bit).
 *
 * The tracker knows TSNs only, never streams or bytes: reassembly owns those
 * (./reassembly.ts). The association calls, per received packet:
 *   for each DATA / I-DATA chunk: `onData` (and, for a 'new' TSN, reassembly);
 *   for a FORWARD TSN: `onForwardTsn`;
 *   at the end of the packet: `onPacketEnd` → send a SACK now, (re)arm the
 *   delayed-SACK timer, or nothing; after sending a SACK built by `buildSack`:
 *   `onSackSent`.
 * The delayed-SACK timer itself belongs to the association.
 */
import type { GapBlock, SackChunk } from '../../wire/types.js';
import { add32, diff32, gt32, lt32, lte32 } from '../../wire/serial.js';
import type { ProtocolConfig } from '../config.js';

/** Bounds that keep a misbehaving peer from growing the tracker without limit. */
export interface DataTrackerLimits {
  /**
   * Out-of-order TSN ranges kept at most. A TSN that would open one more range
   * is refused ('dropped-no-room'); the peer retransmits it later. A TSN that
   * extends a range, fills a hole or advances the cumulative ack is never refused
   * for this reason, so the association always makes progress.
   */
  readonly maxGapRanges: number;
  /**
   * TSNs accepted at most this far beyond the cumulative TSN ack. Capped at
   * 65535: a Gap Ack Block offset is 16 bits (RFC 9260 §3.3.4), so a TSN further
   * out could never be reported.
   */
  readonly maxTsnWindow: number;
  /**
   * Duplicate TSNs remembered for the next SACK. RFC 9260 §3.3.4 lists every
   * duplicate occurrence since the last SACK; beyond this many, later ones are
   * not listed (they still trigger an immediate SACK). 32 keeps a SACK with a
   * full duplicate list at 144 bytes.
   */
  readonly maxDuplicateReports: number;
}

export const defaultDataTrackerLimits: DataTrackerLimits = {
  maxGapRanges: 256,
  maxTsnWindow: 65535,
  maxDuplicateReports: 32,
};

/** Absolute TSNs, both ends included. */
export interface TsnRange {
  start: number;
  end: number;
}

/** Why the next SACK must not wait for the delayed-SACK timer. */
export type SackReason =
  /** RFC 9260 §5.1: the first DATA chunk of the association is acknowledged at once. */
  | 'first-data'
  /** RFC 9260 §6.7: a gap exists; a SACK follows every packet that does not fill it. */
  | 'gap'
  /** RFC 9260 §6.2 via RFC 5681 §4.2: a TSN filled all or part of a gap. */
  | 'gap-filled'
  /** RFC 9260 §6.2: a duplicate DATA chunk arrived. */
  | 'duplicate'
  /** RFC 7053 §4.2: the I bit asks for a SACK without delay. */
  | 'immediate-bit'
  /** RFC 9260 §6.2: a DATA chunk was dropped (window full or out of tracking room). */
  | 'dropped'
  /** RFC 3758 §3.6: a FORWARD TSN at or behind the cumulative TSN ack; our SACK was probably lost. */
  | 'stale-forward-tsn'
  /** RFC 9260 §6.2: every `sackFrequency`-th packet carrying DATA. */
  | 'sack-frequency';

export interface DataTracker {
  /** RFC 9260 §3.3.4: the last TSN received before a break in the sequence. */
  cumulativeTsnAck: number;
  /** TSNs received beyond the cumulative ack, sorted, disjoint and non-adjacent. */
  gapRanges: TsnRange[];
  /** Duplicate TSNs since the last SACK, in arrival order (bounded). */
  duplicateTsns: number[];
  readonly limits: DataTrackerLimits;
  /** A DATA chunk has been seen on this association (RFC 9260 §5.1). */
  firstDataSeen: boolean;
  /** The packet being processed carried DATA or FORWARD TSN. */
  packetHadData: boolean;
  /** Packets carrying DATA since the last SACK (RFC 9260 §6.2 "every second packet"). */
  packetsSinceSack: number;
  /** Set when the next SACK must go now; cleared by `onSackSent`. */
  immediateReason: SackReason | undefined;
}

export type DataOutcome =
  /** First time seen: pass the chunk to reassembly. */
  | 'new'
  /** Already received (or already passed by FORWARD TSN): reported in the next SACK. */
  | 'duplicate'
  /** Beyond the TSN window or needing one gap range too many. Not acknowledged. */
  | 'dropped-no-room'
  /** RFC 9260 §6.2: receive window full and the TSN is beyond the highest received. Not acknowledged. */
  | 'dropped-window-full';

/** What the association does with the delayed-SACK timer after a packet. */
export type SackDecision =
  /** Send a SACK now (bundled or alone) and stop the delayed-SACK timer. */
  | 'send-now'
  /** Start the delayed-SACK timer if it is not running; do not restart it. */
  | 'delay'
  /** The packet carried no DATA: leave the timer as it is. */
  | 'nothing';

export interface DataArrival {
  /** RFC 7053 I bit. */
  readonly immediate: boolean;
  /**
   * Bytes held by reassembly and not yet read by the application, and the
   * configured receive window: with both given, the RFC 9260 §6.2 full-window
   * rule applies (see `shouldAccept`).
   */
  readonly bufferedBytes?: number;
  readonly receiveWindow?: number;
}

/** The receive side of an association whose peer starts at `peerInitialTsn` (INIT / INIT ACK). */
export function createDataTracker(peerInitialTsn: number, limits: Partial<DataTrackerLimits> = {}): DataTracker {
  const merged = { ...defaultDataTrackerLimits, ...limits };
  return {
    cumulativeTsnAck: add32(peerInitialTsn, -1),
    gapRanges: [],
    duplicateTsns: [],
    limits: {
      maxGapRanges: Math.max(0, Math.floor(merged.maxGapRanges)),
      maxTsnWindow: Math.min(65535, Math.max(1, Math.floor(merged.maxTsnWindow))),
      maxDuplicateReports: Math.max(0, Math.floor(merged.maxDuplicateReports)),
    },
    firstDataSeen: false,
    packetHadData: false,
    packetsSinceSack: 0,
    immediateReason: undefined,
  };
}

/** The highest TSN received (the cumulative ack when nothing is out of order). */
export function highestTsnReceived(t: DataTracker): number {
  const last = t.gapRanges[t.gapRanges.length - 1];
  return last ? last.end : t.cumulativeTsnAck;
}

/** True when `tsn` was received: at or behind the cumulative ack, or inside a gap range. */
export function hasReceived(t: DataTracker, tsn: number): boolean {
  if (lte32(tsn, t.cumulativeTsnAck)) return true;
  const i = rangeIndexAtOrBefore(t, tsn);
  const r = i >= 0 ? t.gapRanges[i] : undefined;
  return r !== undefined && lte32(tsn, r.end);
}

/**
 * What `onData` would do with `tsn`, without changing anything.
 *
 * RFC 9260 §6.2: "When the receiver's advertised window is 0, the receiver MUST
 * drop any new incoming DATA chunk with a TSN larger than the largest TSN
 * received so far." A TSN below the largest one fills a hole and is accepted.
 * The RFC adds that the receiver SHOULD then drop (renege) the largest TSN held
 * for reordering to make room; we do not renege, so the buffer can overshoot
 * the window by at most the holes below the highest TSN, itself bounded by
 * `maxTsnWindow`. The window counts as 0 once `bufferedBytes >= receiveWindow`.
 */
export function shouldAccept(t: DataTracker, tsn: number, bufferedBytes?: number, receiveWindow?: number): DataOutcome {
  if (hasReceived(t, tsn)) return 'duplicate';
  if (diff32(t.cumulativeTsnAck, tsn) > t.limits.maxTsnWindow) return 'dropped-no-room';
  const windowFull = bufferedBytes !== undefined && receiveWindow !== undefined && bufferedBytes >= receiveWindow;
  if (windowFull && gt32(tsn, highestTsnReceived(t))) return 'dropped-window-full';
  if (opensNewRange(t, tsn) && t.gapRanges.length >= t.limits.maxGapRanges) return 'dropped-no-room';
  return 'new';
}

/** Records the arrival of one DATA / I-DATA chunk's TSN. */
export function onData(t: DataTracker, tsn: number, arrival: DataArrival): DataOutcome {
  t.packetHadData = true;
  if (!t.firstDataSeen) {
    t.firstDataSeen = true;
    markImmediate(t, 'first-data');
  }
  if (arrival.immediate) markImmediate(t, 'immediate-bit');

  const outcome = shouldAccept(t, tsn, arrival.bufferedBytes, arrival.receiveWindow);
  switch (outcome) {
    case 'duplicate':
      if (t.duplicateTsns.length < t.limits.maxDuplicateReports) t.duplicateTsns.push(tsn);
      markImmediate(t, 'duplicate');
      return outcome;
    case 'dropped-no-room':
    case 'dropped-window-full':
      // RFC 9260 §6.2: after dropping, "the receiver MUST immediately send back a
      // SACK ... showing only DATA chunks received and accepted so far".
      markImmediate(t, 'dropped');
      return outcome;
    case 'new':
      if (insertTsn(t, tsn)) markImmediate(t, 'gap-filled');
      return outcome;
  }
}

/**
 * RFC 3758 §3.6: a FORWARD TSN (or RFC 8260 I-FORWARD-TSN) moves the cumulative
 * TSN ack to `newCumulativeTsn`, forgets tracked TSNs at or below it, then
 * advances further over TSNs already received. One at or behind the current
 * cumulative ack is out of date: nothing moves, but a SACK goes at once.
 * Either way it counts as DATA for the delayed-SACK rules.
 */
export function onForwardTsn(t: DataTracker, newCumulativeTsn: number): 'advanced' | 'stale' {
  t.packetHadData = true;
  if (lte32(newCumulativeTsn, t.cumulativeTsnAck)) {
    markImmediate(t, 'stale-forward-tsn');
    return 'stale';
  }
  t.cumulativeTsnAck = newCumulativeTsn;
  const kept: TsnRange[] = [];
  for (const r of t.gapRanges) {
    if (lte32(r.end, newCumulativeTsn)) continue;
    kept.push(lte32(r.start, newCumulativeTsn) ? { start: add32(newCumulativeTsn, 1), end: r.end } : r);
  }
  t.gapRanges = kept;
  absorbFirstRange(t);
  return 'advanced';
}

/**
 * Called once per received packet after all its chunks were processed.
 * RFC 9260 §6.2: a SACK SHOULD follow at least every second packet carrying
 * DATA (`sackFrequency`) and otherwise within `sackDelay`; immediately on the
 * reasons listed in `SackReason`. With `sackDelay` 0 every SACK is immediate.
 */
export function onPacketEnd(t: DataTracker, config: Pick<ProtocolConfig, 'sackFrequency' | 'sackDelay'>): SackDecision {
  if (!t.packetHadData) return t.immediateReason !== undefined ? 'send-now' : 'nothing';
  t.packetHadData = false;
  t.packetsSinceSack += 1;
  // RFC 9260 §6.7: "The data receiver continues sending a SACK chunk after
  // receipt of each SCTP packet that doesn't fill the gap."
  if (t.gapRanges.length > 0) markImmediate(t, 'gap');
  if (t.packetsSinceSack >= config.sackFrequency || config.sackDelay <= 0) markImmediate(t, 'sack-frequency');
  return t.immediateReason !== undefined ? 'send-now' : 'delay';
}

/** The delayed-SACK timer fired: send a SACK if one is still owed. */
export function onDelayedSackTimeout(t: DataTracker): 'send-now' | 'nothing' {
  return isSackOwed(t) ? 'send-now' : 'nothing';
}

/** Data arrived since the last SACK: a SACK may be bundled with outgoing DATA (RFC 9260 §6.1, §6.10). */
export function isSackOwed(t: DataTracker): boolean {
  return t.packetsSinceSack > 0 || t.immediateReason !== undefined || t.packetHadData;
}

/**
 * The SACK describing what we received (RFC 9260 §3.3.4). Gap Ack Blocks are
 * offsets from the cumulative TSN ack; at most `maxGapBlocks` of them, those
 * closest to the cumulative ack first, since those are what the sender needs
 * to fast-retransmit the holes it can fill soonest. Does not change state: call
 * `onSackSent` once the SACK is on its way.
 */
export function buildSack(t: DataTracker, aRwnd: number, maxGapBlocks: number = Number.POSITIVE_INFINITY): SackChunk {
  const gapBlocks: GapBlock[] = [];
  for (const r of t.gapRanges) {
    if (gapBlocks.length >= maxGapBlocks) break;
    const start = diff32(t.cumulativeTsnAck, r.start);
    const end = Math.min(diff32(t.cumulativeTsnAck, r.end), 0xffff);
    if (start > 0xffff) break;
    gapBlocks.push({ start, end });
  }
  return {
    kind: 'sack',
    cumulativeTsnAck: t.cumulativeTsnAck,
    aRwnd: Math.max(0, Math.min(0xffff_ffff, Math.floor(aRwnd))),
    gapBlocks,
    duplicateTsns: t.duplicateTsns.slice(),
  };
}

/**
 * How many Gap Ack Blocks fit in `bytesAvailable` bytes of a packet next to
 * `duplicateCount` duplicate TSNs (SACK: 16-byte fixed part, 4 bytes per block
 * or duplicate, RFC 9260 §3.3.4).
 */
export function gapBlocksThatFit(bytesAvailable: number, duplicateCount: number): number {
  return Math.max(0, Math.floor((bytesAvailable - 16 - 4 * duplicateCount) / 4));
}

/** A SACK built by `buildSack` was sent: the duplicate list and delayed-SACK counters start over. */
export function onSackSent(t: DataTracker): void {
  t.duplicateTsns = [];
  t.packetsSinceSack = 0;
  t.immediateReason = undefined;
}

// ------------------------------------------------------------------ internals

function markImmediate(t: DataTracker, reason: SackReason): void {
  t.immediateReason ??= reason;
}

/** Index of the last range whose start is at or before `tsn`, or -1. */
function rangeIndexAtOrBefore(t: DataTracker, tsn: number): number {
  let lo = 0;
  let hi = t.gapRanges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const r = t.gapRanges[mid];
    if (r !== undefined && lte32(r.start, tsn)) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function opensNewRange(t: DataTracker, tsn: number): boolean {
  if (tsn === add32(t.cumulativeTsnAck, 1)) return false;
  const i = rangeIndexAtOrBefore(t, tsn);
  const prev = t.gapRanges[i];
  const next = t.gapRanges[i + 1];
  if (prev !== undefined && add32(prev.end, 1) === tsn) return false;
  if (next !== undefined && add32(tsn, 1) === next.start) return false;
  return true;
}

/** Inserts a TSN known to be new. True when it filled all or part of a gap. */
function insertTsn(t: DataTracker, tsn: number): boolean {
  const filledGap = lt32(tsn, highestTsnReceived(t));
  if (tsn === add32(t.cumulativeTsnAck, 1)) {
    t.cumulativeTsnAck = tsn;
    absorbFirstRange(t);
    return filledGap;
  }
  const i = rangeIndexAtOrBefore(t, tsn);
  const prev = t.gapRanges[i];
  const next = t.gapRanges[i + 1];
  const extendsPrev = prev !== undefined && add32(prev.end, 1) === tsn;
  const extendsNext = next !== undefined && add32(tsn, 1) === next.start;
  if (prev !== undefined && next !== undefined && extendsPrev && extendsNext) {
    prev.end = next.end;
    t.gapRanges.splice(i + 1, 1);
  } else if (prev !== undefined && extendsPrev) {
    prev.end = tsn;
  } else if (next !== undefined && extendsNext) {
    next.start = tsn;
  } else {
    t.gapRanges.splice(i + 1, 0, { start: tsn, end: tsn });
  }
  return filledGap;
}

/** The cumulative ack reached the first range: it swallows it (RFC 9260 §6.2, RFC 3758 §3.6). */
function absorbFirstRange(t: DataTracker): void {
  const first = t.gapRanges[0];
  if (first !== undefined && first.start === add32(t.cumulativeTsnAck, 1)) {
    t.cumulativeTsnAck = first.end;
    t.gapRanges.shift();
  }
}
