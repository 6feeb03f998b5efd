/**
 * Processing a received SACK (RFC 9260 §6.2.1 D, §6.3.1 C5, §6.3.2 R2-R4,
 * §7.2.4; RFC 3758 §3.5 A4/C1-C3).
 */
import type { Millis } from '../env.js';
import { add32, diff32, gte32, lt32 } from '../../wire/serial.js';
import type { SackChunk } from '../../wire/types.js';
import { abandonMessage, abandonReason, advanceAckPoint } from './pr-sctp.js';
import { enterFlight, leaveFlight, setChunkState, totalFlightSize, untrackChunk, type RetransmissionQueueState } from './retransmission-queue.js';
import type { SendQueueState } from './send-queue.js';
import type { Destination, OutstandingChunk, SendFailed } from './types.js';

/** What one SACK meant for one destination (the path module's inputs). */
export interface DestinationAck {
  readonly destination: Destination;
  /**
   * Bytes acknowledged for the first time by this SACK, cumulatively or by a
   * Gap Ack Block (§7.2.1/§7.2.2 "bytes acknowledged"; abandoned chunks never
   * count, RFC 3758 §3.5 A2).
   */
  readonly newlyAckedBytes: number;
  /** Of which acknowledged by the Cumulative TSN Ack... */
  readonly newlyCumAckedBytes: number;
  /** ...and by Gap Ack Blocks. */
  readonly newlyGapAckedBytes: number;
  /** Flight size before and after this SACK. */
  readonly flightSizeBefore: number;
  readonly flightSize: number;
  /** Chunks still unacknowledged whose latest transmission went here (0: stop T3-rtx, §6.3.2 R2). */
  readonly outstandingChunks: number;
  /** The lowest outstanding TSN sent here was acknowledged: restart T3-rtx if data remains (R3). */
  readonly earliestOutstandingAcked: boolean;
  /** A TSN sent here was reneged: start T3-rtx if it is not running (R4). */
  readonly reneged: boolean;
}

export interface RttSample {
  readonly destination: Destination;
  readonly rtt: Millis;
}

export type SackOutcome =
  /** §6.2.1 D i: an out-of-order SACK (Cumulative TSN Ack behind ours), dropped whole. */
  | { readonly kind: 'old-sack' }
  /** The peer acknowledged a TSN we never sent: the association ABORTs (Protocol Violation). */
  | { readonly kind: 'protocol-violation'; readonly reason: string }
  | SackProcessed;

export interface SackProcessed {
  readonly kind: 'processed';
  readonly cumulativeTsnAck: number;
  readonly cumAckAdvanced: boolean;
  /**
   * One entry per destination that had data in flight or marked before this
   * SACK, or has some after it (renege), in TSN order of first appearance.
   */
  readonly destinations: readonly DestinationAck[];
  /** At most one per destination, from a newly acked chunk never retransmitted (Karn, §6.3.1 C5). */
  readonly rttSamples: readonly RttSample[];
  /** TSNs newly marked for retransmission at their third miss indication (§7.2.4). */
  readonly fastRetransmitTsns: readonly number[];
  /**
   * Fast Recovery entered by this SACK (§7.2.4 step 6): these destinations get
   * the §7.2.3 ssthresh/cwnd reduction (step 2). Empty when already in Fast
   * Recovery (no further reduction) or nothing was lost.
   */
  readonly cwndReductionDestinations: readonly Destination[];
  readonly enteredFastRecovery: boolean;
  readonly exitedFastRecovery: boolean;
  /** Fast Recovery state after this SACK (§7.2.1: no slow-start growth while in it). */
  readonly inFastRecovery: boolean;
  /** TSNs that were gap-acked before and are missing from this SACK (§6.2.1 D iii). */
  readonly renegedTsns: readonly number[];
  /** Message ids whose every fragment is now cumulatively acknowledged. */
  readonly ackedMessageIds: readonly number[];
  readonly peerRwnd: number;
  readonly duplicateTsns: number;
  /** Messages abandoned by PR-SCTP while processing (limit reached at a 3rd miss). */
  readonly sendFailed: readonly SendFailed[];
  /** RFC 3758 §3.5 C3: a FORWARD TSN must be sent (`takeForwardTsn`). */
  readonly forwardTsnDue: boolean;
}

const FAST_RETRANSMIT_THRESHOLD = 3;

interface Tally {
  newlyCumAckedBytes: number;
  newlyGapAckedBytes: number;
  flightSizeBefore: number;
  earliestTsn: number | undefined;
  earliestAcked: boolean;
  reneged: boolean;
}

/**
 * Applies a SACK. `sq` is needed because PR-SCTP may abandon a message whose
 * last fragments are still in the send queue.
 */
export function onSack(rq: RetransmissionQueueState, sq: SendQueueState, sack: SackChunk, now: Millis): SackOutcome {
  const cum = sack.cumulativeTsnAck >>> 0;
  // §6.2.1 D i and RFC 3758 §3.5 F4: compared with the Cumulative TSN Ack Point, not the Advanced one.
  if (lt32(cum, rq.cumulativeTsnAck)) {
    rq.counters.oldSacksIgnored++;
    return { kind: 'old-sack' };
  }
  const advance = diff32(rq.cumulativeTsnAck, cum);
  if (advance > rq.chunks.length) {
    return { kind: 'protocol-violation', reason: `SACK cumulative TSN ack ${cum} is beyond the highest TSN sent ${add32(rq.nextTsn, -1)}` };
  }

  const tallies = new Map<Destination, Tally>();
  const tally = (d: Destination): Tally => {
    let t = tallies.get(d);
    if (!t) {
      t = { newlyCumAckedBytes: 0, newlyGapAckedBytes: 0, flightSizeBefore: rq.flightSize.get(d) ?? 0, earliestTsn: undefined, earliestAcked: false, reneged: false };
      tallies.set(d, t);
    }
    return t;
  };
  // §6.3.2 R3 needs the lowest outstanding TSN of each destination before the
  // SACK: the scan ends once every destination with outstanding chunks is seen.
  let destinationsToFind = rq.outstandingCount?.size ?? 0;
  for (let i = 0; destinationsToFind > 0 && i < rq.chunks.length; i++) {
    const c = rq.chunks[i]!;
    if (c.state !== 'in-flight' && c.state !== 'to-retransmit') continue;
    const t = tally(c.destination);
    if (t.earliestTsn === undefined) {
      t.earliestTsn = c.tsn;
      destinationsToFind--;
    }
  }
  for (const d of rq.flightSize.keys()) tally(d);

  const rttByDest = new Map<Destination, { tsn: number; rtt: Millis }>();
  let highestNewlyAcked: number | undefined;
  const newlyAcked = (c: OutstandingChunk, byGap: boolean): void => {
    const t = tally(c.destination);
    if (byGap) t.newlyGapAckedBytes += c.userData.length;
    else t.newlyCumAckedBytes += c.userData.length;
    if (c.tsn === t.earliestTsn) t.earliestAcked = true;
    // Karn (§6.3.1 C5): only a chunk transmitted once gives an unambiguous RTT.
    if (c.retransmissions === 0) rttByDest.set(c.destination, { tsn: c.tsn, rtt: now - c.sentAt });
    highestNewlyAcked = c.tsn;
    leaveFlight(rq, c);
    c.fastRetransmitPending = false;
  };

  // Cumulative part.
  const ackedMessageIds: number[] = [];
  for (let i = 0; i < advance; i++) {
    const c = rq.chunks[i];
    if (!c) break;
    if (c.state === 'in-flight' || c.state === 'to-retransmit') newlyAcked(c, false);
    if (c.ending && c.state !== 'abandoned') ackedMessageIds.push(c.messageId);
    untrackChunk(rq, c);
  }
  // A few chunks at a time (the common case) by shift, which V8 does without
  // moving the rest of the queue; splice(0, n) copies it.
  if (advance <= 64) for (let i = 0; i < advance; i++) rq.chunks.shift();
  else rq.chunks.splice(0, advance);
  rq.cumulativeTsnAck = cum;

  // Gap Ack Blocks: offsets from the SACK's Cumulative TSN Ack (§3.3.4).
  const ranges = gapRanges(sack, rq.chunks.length);
  let highestReported: number | undefined;
  let ackedInGaps = 0;
  for (const [start, end] of ranges) {
    for (let off = start; off <= end; off++) {
      const c = rq.chunks[off - 1];
      if (!c) break;
      if (c.state === 'in-flight' || c.state === 'to-retransmit') {
        newlyAcked(c, true);
        setChunkState(rq, c, 'acked');
      }
      if (c.state === 'acked') ackedInGaps++;
    }
    highestReported = add32(cum, end);
  }

  // §6.2.1 D iii: a TSN gap-acked before and missing now was reneged: it is
  // outstanding again and counts a miss indication (below). Only when some
  // gap-acked chunk lies outside this SACK's blocks.
  const renegedTsns: number[] = [];
  if (rq.gapAckedCount > ackedInGaps) {
    const inGap = new Uint8Array(rq.chunks.length);
    for (const [start, end] of ranges) inGap.fill(1, start - 1, end);
    rq.chunks.forEach((c, i) => {
      if (c.state !== 'acked' || inGap[i]) return;
      setChunkState(rq, c, 'in-flight');
      c.missIndications = 0;
      enterFlight(rq, c);
      tally(c.destination).reneged = true;
      renegedTsns.push(c.tsn);
    });
  }

  // §7.2.4 step 6 / §6.2.1 D iv: leave Fast Recovery first, so that new loss
  // reported by this SACK can enter it again (as dcsctp does).
  let exitedFastRecovery = false;
  if (rq.fastRecoveryExitPoint !== undefined && gte32(cum, rq.fastRecoveryExitPoint)) {
    rq.fastRecoveryExitPoint = undefined;
    exitedFastRecovery = true;
  }
  const wasInFastRecovery = rq.fastRecoveryExitPoint !== undefined;

  // §7.2.4 HTNA: miss indications only for TSNs below the highest TSN newly
  // acknowledged; in Fast Recovery with the cum ack advancing, for every TSN
  // reported missing (below the highest TSN in a Gap Ack Block). A chunk still
  // in flight is in no Gap Ack Block of this SACK (those are all acked now).
  const limit = wasInFastRecovery && advance > 0 ? highestReported : highestNewlyAcked;
  const fastRetransmitTsns: number[] = [];
  const lostDestinations: Destination[] = [];
  const sendFailed: SendFailed[] = [];
  if (limit !== undefined) {
    for (const c of rq.chunks) {
      if (!lt32(c.tsn, limit)) break;
      if (c.state !== 'in-flight' || c.fastRetransmitted) continue;
      c.missIndications++;
      if (c.missIndications < FAST_RETRANSMIT_THRESHOLD) continue;
      // RFC 3758 §3.5 F5: the congestion reaction happens even if PR-SCTP abandons it.
      if (!lostDestinations.includes(c.destination)) lostDestinations.push(c.destination);
      fastRetransmitTsns.push(c.tsn);
      const reason = abandonReason(rq, c, now);
      if (reason) {
        sendFailed.push(abandonMessage(rq, sq, c, reason, now));
        continue;
      }
      leaveFlight(rq, c);
      setChunkState(rq, c, 'to-retransmit');
      c.fastRetransmitted = true;
      // Step 3: only the retransmission that opens Fast Recovery ignores cwnd.
      c.fastRetransmitPending = !wasInFastRecovery;
    }
  }
  let enteredFastRecovery = false;
  let cwndReductionDestinations: Destination[] = [];
  if (fastRetransmitTsns.length > 0 && !wasInFastRecovery) {
    enteredFastRecovery = true;
    rq.fastRecoveryExitPoint = add32(rq.nextTsn, -1);
    cwndReductionDestinations = lostDestinations;
  }

  // RFC 3758 §3.5 C1-C3: due iff the point is beyond this SACK's cum ack
  // (an earlier due FORWARD TSN that the peer has now caught up with is moot).
  rq.forwardTsnPending = false;
  advanceAckPoint(rq);

  // §6.2.1 D ii: rwnd = a_rwnd minus the bytes still in flight.
  rq.peerRwnd = Math.max(0, (sack.aRwnd >>> 0) - totalFlightSize(rq));
  rq.counters.duplicateTsnsReported += sack.duplicateTsns.length;

  const outstanding = rq.outstandingCount;
  const destinations: DestinationAck[] = [...tallies].map(([destination, t]) => ({
    destination,
    newlyAckedBytes: t.newlyCumAckedBytes + t.newlyGapAckedBytes,
    newlyCumAckedBytes: t.newlyCumAckedBytes,
    newlyGapAckedBytes: t.newlyGapAckedBytes,
    flightSizeBefore: t.flightSizeBefore,
    flightSize: rq.flightSize.get(destination) ?? 0,
    outstandingChunks: outstanding?.get(destination) ?? 0,
    earliestOutstandingAcked: t.earliestAcked,
    reneged: t.reneged,
  }));
  const rttSamples = [...rttByDest].map(([destination, s]) => ({ destination, rtt: s.rtt }));
  return {
    kind: 'processed',
    cumulativeTsnAck: cum,
    cumAckAdvanced: advance > 0,
    destinations,
    rttSamples,
    fastRetransmitTsns,
    cwndReductionDestinations,
    enteredFastRecovery,
    exitedFastRecovery,
    inFastRecovery: rq.fastRecoveryExitPoint !== undefined,
    renegedTsns,
    ackedMessageIds,
    peerRwnd: rq.peerRwnd,
    duplicateTsns: sack.duplicateTsns.length,
    sendFailed,
    forwardTsnDue: rq.forwardTsnPending,
  };
}

/**
 * The SACK's Gap Ack Blocks as sorted, merged offset ranges clipped to the
 * TSNs outstanding, so that each chunk is visited once whatever the peer sent
 * (overlapping or unsorted blocks are not an error, RFC 9260 §3.3.4; reversed
 * or zero-offset ones are skipped). A block reaching beyond the highest TSN
 * sent is clipped.
 */
function gapRanges(sack: SackChunk, outstanding: number): [number, number][] {
  const blocks: [number, number][] = [];
  for (const b of sack.gapBlocks) {
    if (b.start < 1 || b.end < b.start || b.start > outstanding) continue;
    blocks.push([b.start, Math.min(b.end, outstanding)]);
  }
  blocks.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of blocks) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1] + 1) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}
