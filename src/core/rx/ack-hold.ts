/**
 * Acknowledge after forward (issue #10): an opt-in receive mode in which a
 * received TSN is reported in a SACK (Cumulative TSN Ack or Gap Ack Block)
 * only once the application released the message it belongs to, e.g. after
 * a relay's next hop acknowledged the forwarded copy.
 *
 * The data tracker (./data-tracker.ts) keeps recording what arrived, so a
 * retransmission of a withheld TSN is a duplicate: never passed to
 * reassembly, never delivered twice. Beside it, `report` is a second tracker
 * holding only what may be reported. It only ever grows (released TSNs are
 * added, nothing is taken out), so a SACK never reports less than an earlier
 * one: there is no renege (RFC 9260 §6.2), withheld TSNs are simply not
 * reported yet, and the peer keeps them in its retransmission queue.
 *
 * Window: the peer counts every unreported TSN as outstanding and takes it
 * off a_rwnd (RFC 9260 §6.2.1). Withheld bytes are therefore left out of the
 * occupancy a_rwnd is computed from, or they would be subtracted twice; the
 * total withheld stays within one receive window because the peer's flight
 * does. When a delivered message stays unreleased longer than `limit` ms the
 * association stops offering room instead of acknowledging: a_rwnd 0 until
 * every overdue message was released (back-pressure). The peer's T3-rtx then
 * retransmits withheld TSNs, which are answered at once with a SACK (a
 * duplicate) carrying the closed window; RFC 9260 §6.1 A asks a sender not to
 * count unacknowledged probes against the association while SACKs keep coming.
 *
 * Pure and plain data, like the rest of the TCB (replicated as is).
 */
import type { Millis } from '../env.js';
import { add32, lte32 } from '../../wire/serial.js';
import { createDataTracker, hasReceived, onForwardTsn, type DataTracker } from './data-tracker.js';

/** A delivered message not yet released by the application. */
export interface HeldMessage {
  /** What the application passes to `release` (the 'message' event's `holdToken`). */
  readonly token: number;
  /** Its TSNs, first and last (DATA fragments carry consecutive TSNs, RFC 9260 §6.9). */
  readonly firstTsn: number;
  readonly lastTsn: number;
  readonly bytes: number;
  /** When it was delivered: the `limit` runs from here. */
  readonly deliveredAt: Millis;
}

export interface AckHoldCounters {
  /** Messages delivered under hold. */
  held: number;
  released: number;
  /** Times a message passed `limit` unreleased (back-pressure began or continued). */
  overdue: number;
  /** Retransmissions of withheld TSNs the peer sent (recognized, not delivered again). */
  withheldDuplicates: number;
}

export interface AckHold {
  /** Bound in ms before back-pressure replaces acknowledgement. */
  limit: Millis;
  /** What may be reported: TSNs released, or received and never to be delivered. */
  report: DataTracker;
  /** Delivered, unreleased messages by token, in delivery order (a Map: releases come in any order, each O(1)). */
  pending: Map<number, HeldMessage>;
  /** Sum of `pending` bytes. */
  pendingBytes: number;
  nextToken: number;
  /** A delivered message passed `limit` unreleased: a_rwnd is 0. */
  backPressure: boolean;
  /** Releases since the last SACK (the sackFrequency rule, applied to releases). */
  releasesSinceSack: number;
  counters: AckHoldCounters;
}

/**
 * A hold for a receiver whose tracker is `tracker`: everything it already
 * received counts as released (enabling the mode never withdraws a report).
 */
export function createAckHold(tracker: DataTracker, limit: Millis): AckHold {
  const report = createDataTracker(add32(tracker.cumulativeTsnAck, 1), tracker.limits);
  report.gapRanges = tracker.gapRanges.map((r) => ({ start: r.start, end: r.end }));
  return {
    limit,
    report,
    pending: new Map(),
    pendingBytes: 0,
    nextToken: 1,
    backPressure: false,
    releasesSinceSack: 0,
    counters: { held: 0, released: 0, overdue: 0, withheldDuplicates: 0 },
  };
}

/** Marks one TSN reportable (idempotent). */
export function markReportable(h: AckHold, tsn: number): void {
  const t = h.report;
  if (hasReceived(t, tsn)) return;
  if (tsn === add32(t.cumulativeTsnAck, 1)) {
    t.cumulativeTsnAck = tsn;
    absorb(t);
    return;
  }
  const ranges = t.gapRanges;
  let i = 0;
  while (i < ranges.length && lte32(ranges[i]!.start, tsn)) i++;
  const prev = ranges[i - 1];
  const next = ranges[i];
  const extendsPrev = prev !== undefined && add32(prev.end, 1) === tsn;
  const extendsNext = next !== undefined && add32(tsn, 1) === next.start;
  if (prev && next && extendsPrev && extendsNext) {
    prev.end = next.end;
    ranges.splice(i, 1);
  } else if (prev && extendsPrev) prev.end = tsn;
  else if (next && extendsNext) next.start = tsn;
  else ranges.splice(i, 0, { start: tsn, end: tsn });
}

function absorb(t: DataTracker): void {
  const first = t.gapRanges[0];
  if (first !== undefined && first.start === add32(t.cumulativeTsnAck, 1)) {
    t.cumulativeTsnAck = first.end;
    t.gapRanges.shift();
  }
}

/** A complete message was delivered: its TSNs wait for `release`. Returns its token. */
export function onDelivered(h: AckHold, firstTsn: number, lastTsn: number, bytes: number, now: Millis): number {
  const token = h.nextToken++;
  h.pending.set(token, { token, firstTsn, lastTsn, bytes, deliveredAt: now });
  h.pendingBytes += bytes;
  h.counters.held++;
  return token;
}

/**
 * The application released a delivered message: its TSNs may be reported.
 * False for an unknown (or already released) token.
 */
export function release(h: AckHold, token: number): boolean {
  const m = h.pending.get(token);
  if (m === undefined) return false;
  h.pending.delete(token);
  h.pendingBytes -= m.bytes;
  for (let tsn = m.firstTsn; ; tsn = add32(tsn, 1)) {
    markReportable(h, tsn);
    if (tsn === m.lastTsn) break;
  }
  h.counters.released++;
  h.releasesSinceSack++;
  return true;
}

/**
 * RFC 3758 §3.6: the sender abandoned everything up to `newCumulativeTsn`;
 * the report follows (a withheld TSN it covers was given up by the sender,
 * which expects nothing of it any more).
 */
export function onForwardTsnReport(h: AckHold, newCumulativeTsn: number): void {
  onForwardTsn(h.report, newCumulativeTsn);
  h.report.packetHadData = false;
  h.report.immediateReason = undefined;
}

/** When the oldest pending message passes `limit` (undefined: nothing pending, or already overdue). */
export function holdDeadline(h: AckHold): Millis | undefined {
  if (h.backPressure) return undefined;
  const oldest = oldestPending(h);
  return oldest === undefined ? undefined : oldest.deliveredAt + h.limit;
}

/**
 * Re-evaluates back-pressure at `now`. Returns true when it changed (a SACK
 * should go at once, to close or reopen the window).
 */
export function updateBackPressure(h: AckHold, now: Millis): boolean {
  const oldest = oldestPending(h);
  const overdue = oldest !== undefined && now >= oldest.deliveredAt + h.limit;
  if (overdue === h.backPressure) return false;
  h.backPressure = overdue;
  if (overdue) h.counters.overdue++;
  return true;
}

/** The first delivered of the pending messages (Map order is delivery order). */
function oldestPending(h: AckHold): HeldMessage | undefined {
  for (const m of h.pending.values()) return m;
  return undefined;
}

/** True when `tsn` was received but is not reportable yet (a retransmission of it is a withheld duplicate). */
export function isWithheld(h: AckHold, tsn: number): boolean {
  return !hasReceived(h.report, tsn);
}
