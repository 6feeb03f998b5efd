/**
 * PR-SCTP on the sending side (RFC 3758 §3.5, §4.1; RFC 7496 §4.1): abandoning
 * messages that hold TSNs, the Advanced.Peer.Ack.Point and the FORWARD TSN.
 */
import { concatBytes } from '../../wire/bytes.js';
import type { Millis } from '../env.js';
import { add32, diff32, gt16, lt32 } from '../../wire/serial.js';
import type { ForwardTsnChunk } from '../../wire/types.js';
import { chunkAt, leaveFlight, setChunkState, toRetransmitStart, type RetransmissionQueueState } from './retransmission-queue.js';
import { discardCurrentMessage, isExpired, type SendQueueState } from './send-queue.js';
import type { OutstandingChunk, SendFailed, SendFailedReason } from './types.js';

/**
 * Why PR-SCTP would give up on `c` instead of sending it again, if it would:
 * TR4 (lifetime expired before a retransmission) or the RFC 7496 limit (it
 * was already retransmitted `maxRetransmits` times). Without FORWARD TSN
 * support nothing that holds a TSN is abandoned (RFC 3758 §3.3.3).
 */
export function abandonReason(rq: RetransmissionQueueState, c: OutstandingChunk, now: Millis): SendFailedReason | undefined {
  if (!rq.forwardTsnSupported) return undefined;
  if (isExpired(c, now)) return 'lifetime-expired';
  if (c.maxRetransmits !== undefined && c.retransmissions >= c.maxRetransmits) return 'retransmit-limit';
  return undefined;
}

/**
 * Abandons the whole message `c` belongs to (RFC 3758 §3.5 A3): its fragments
 * in the queue (in flight, marked, or gap-acked) and the fragments the send
 * queue has not produced yet. A2: they leave the flight without crediting
 * cwnd. Then C2 advances the Advanced.Peer.Ack.Point, and a FORWARD TSN is
 * due when it passed the Cumulative TSN Ack Point (TR5 lets us evaluate at any
 * time; sending at once avoids waiting for the next SACK or T3).
 */
export function abandonMessage(rq: RetransmissionQueueState, sq: SendQueueState, c: OutstandingChunk, reason: SendFailedReason, now: Millis): SendFailed {
  // DATA fragments of one message hold consecutive TSNs (RFC 9260 §6.9).
  const at = diff32(rq.cumulativeTsnAck, c.tsn) - 1;
  let first = at;
  while (first > 0 && rq.chunks[first - 1]?.messageId === c.messageId) first--;
  let last = at;
  while (last + 1 < rq.chunks.length && rq.chunks[last + 1]?.messageId === c.messageId) last++;
  const parts: Uint8Array[] = [];
  for (let i = first; i <= last; i++) {
    const f = rq.chunks[i];
    if (!f || f.state === 'abandoned') continue;
    leaveFlight(rq, f);
    setChunkState(rq, f, 'abandoned');
    f.fastRetransmitPending = false;
    rq.counters.abandonedChunks++;
    parts.push(f.userData);
  }
  const rest = abandonUnsentRemainder(rq, sq, c.messageId, now);
  if (rest) parts.push(rest);
  advanceAckPoint(rq);
  return { messageId: c.messageId, streamId: c.streamId, ppid: c.ppid, unordered: c.unordered, data: concatBytes(parts), reason, sent: true };
}

/**
 * Abandons the unsent fragments of a message that already sent some (the
 * send queue's current message). They still take one TSN: an abandoned,
 * never transmitted last fragment, so that the FORWARD TSN covers the whole
 * message and tells the peer to drop the fragments it holds, even when every
 * sent fragment was already cumulatively acked (usrsctp does the same).
 * Returns the unsent bytes.
 */
export function abandonUnsentRemainder(rq: RetransmissionQueueState, sq: SendQueueState, messageId: number, now: Millis): Uint8Array | undefined {
  const d = discardCurrentMessage(sq, messageId);
  if (!d) return undefined;
  const m = d.message;
  rq.chunks.push({
    tsn: rq.nextTsn,
    messageId,
    streamId: m.streamId,
    ssn: d.ssn,
    ppid: m.ppid,
    userData: new Uint8Array(0),
    unordered: m.unordered,
    beginning: false,
    ending: true,
    immediate: false,
    destination: '',
    sentAt: now,
    retransmissions: 0,
    state: 'abandoned',
    missIndications: 0,
    fastRetransmitted: false,
    fastRetransmitPending: false,
  });
  rq.nextTsn = add32(rq.nextTsn, 1);
  rq.counters.abandonedChunks++;
  return d.rest;
}


/**
 * RFC 3758 §3.5 C1 and C2: the Advanced.Peer.Ack.Point is at least the
 * Cumulative TSN Ack Point and moves over abandoned chunks only (never over
 * gap-acked ones: the peer may still renege them). Sets `forwardTsnPending`
 * when it lies beyond the Cumulative TSN Ack Point (C3).
 */
export function advanceAckPoint(rq: RetransmissionQueueState): void {
  if (lt32(rq.advancedPeerAckPoint, rq.cumulativeTsnAck)) rq.advancedPeerAckPoint = rq.cumulativeTsnAck;
  // Bounded by the queue length.
  for (let c = chunkAt(rq, add32(rq.advancedPeerAckPoint, 1)); c?.state === 'abandoned'; c = chunkAt(rq, add32(rq.advancedPeerAckPoint, 1))) {
    rq.advancedPeerAckPoint = c.tsn;
  }
  if (lt32(rq.cumulativeTsnAck, rq.advancedPeerAckPoint)) rq.forwardTsnPending = true;
}

/** FORWARD TSN chunk size: 4-byte header, New Cumulative TSN, 4 bytes per stream (RFC 3758 §3.2). */
function forwardTsnSize(streams: number): number {
  return 8 + 4 * streams;
}

/**
 * The FORWARD TSN that moves the peer to the Advanced.Peer.Ack.Point, with
 * the highest skipped SSN of each ordered stream (C4: unordered chunks are
 * never reported, each stream once). If it would not fit in `maxChunkSize`
 * bytes, the point is lowered to the last TSN that fits (C4). Undefined when
 * the point is not beyond the Cumulative TSN Ack Point.
 */
export function buildForwardTsn(rq: RetransmissionQueueState, maxChunkSize: number): ForwardTsnChunk | undefined {
  const n = diff32(rq.cumulativeTsnAck, rq.advancedPeerAckPoint);
  if (n <= 0) return undefined;
  const ssnOf = new Map<number, number>();
  let newCumulativeTsn = rq.cumulativeTsnAck;
  for (let i = 0; i < n; i++) {
    const c = rq.chunks[i];
    if (!c) break;
    if (!c.unordered) {
      const had = ssnOf.get(c.streamId);
      if (had === undefined && forwardTsnSize(ssnOf.size + 1) > maxChunkSize) break;
      if (had === undefined || gt16(c.ssn, had)) ssnOf.set(c.streamId, c.ssn);
    }
    newCumulativeTsn = c.tsn;
  }
  if (newCumulativeTsn === rq.cumulativeTsnAck) return undefined;
  const streams = [...ssnOf].sort((a, b) => a[0] - b[0]).map(([streamId, ssn]) => ({ streamId, ssn }));
  return { kind: 'forward-tsn', newCumulativeTsn, streams };
}

/**
 * The FORWARD TSN to send now, if one is due (C3 after a SACK, A5 after a
 * T3-rtx expiry, or after an abandonment). Clears the due flag; the caller
 * bundles it with DATA when it can (F2, delay at most 200 ms per F3) and keeps
 * a T3-rtx timer running (C5, see `needsRetransmissionTimer`).
 */
export function takeForwardTsn(rq: RetransmissionQueueState, maxChunkSize: number): ForwardTsnChunk | undefined {
  if (!rq.forwardTsnPending) return undefined;
  rq.forwardTsnPending = false;
  return buildForwardTsn(rq, maxChunkSize);
}

/**
 * TR4 for chunks about to be retransmitted: abandons the messages of marked
 * chunks whose lifetime expired. Bounded by the queue length.
 */
export function abandonExpiredMarked(rq: RetransmissionQueueState, sq: SendQueueState, now: Millis): SendFailed[] {
  const failed: SendFailed[] = [];
  if (!rq.forwardTsnSupported || rq.toRetransmitCount === 0) return failed;
  for (let i = toRetransmitStart(rq); i < rq.chunks.length; i++) {
    const c = rq.chunks[i]!;
    if (c.state === 'to-retransmit' && isExpired(c, now)) failed.push(abandonMessage(rq, sq, c, 'lifetime-expired', now));
  }
  return failed;
}
