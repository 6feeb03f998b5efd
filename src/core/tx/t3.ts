/**
 * T3-rtx expiry on the send side (RFC 9260 §6.3.3 E3; RFC 3758 §3.5 A5).
 * E1 (ssthresh/cwnd) and E2 (RTO back-off) belong to the path module.
 */
import type { Millis } from '../env.js';
import { abandonMessage, abandonReason, advanceAckPoint } from './pr-sctp.js';
import { flightSizeOf, leaveFlight, setChunkState, type RetransmissionQueueState } from './retransmission-queue.js';
import type { SendQueueState } from './send-queue.js';
import type { Destination, SendFailed } from './types.js';

export interface T3Outcome {
  /** TSNs marked for retransmission, lowest first. */
  readonly markedTsns: readonly number[];
  /** User data bytes that left the destination's flight (marked lost or abandoned). */
  readonly lostBytes: number;
  /** Messages PR-SCTP abandoned instead of retransmitting them. */
  readonly sendFailed: readonly SendFailed[];
  /** A FORWARD TSN is due (A5: the previous one may have been lost). */
  readonly forwardTsnDue: boolean;
}

/**
 * §6.3.3 E3: every chunk in flight to `destination` is marked for
 * retransmission and leaves its flight; they go out, lowest TSN first, as the
 * reduced cwnd allows (`nextChunksToSend`; with cwnd = 1 MTU that is the one
 * packet E3 asks for). A T3 retransmission starts over: miss indications and
 * fast retransmit eligibility reset (as Linux does). Gap-acked chunks are not
 * marked: the peer holds them.
 */
export function onT3RtxExpiry(rq: RetransmissionQueueState, sq: SendQueueState, destination: Destination, now: Millis): T3Outcome {
  const markedTsns: number[] = [];
  const sendFailed: SendFailed[] = [];
  const flightBefore = flightSizeOf(rq, destination);
  for (const c of rq.chunks) {
    if (c.destination !== destination) continue;
    if (c.state === 'to-retransmit') c.fastRetransmitPending = false;
    if (c.state !== 'in-flight') continue;
    const reason = abandonReason(rq, c, now);
    if (reason) {
      sendFailed.push(abandonMessage(rq, sq, c, reason, now));
      continue;
    }
    leaveFlight(rq, c);
    setChunkState(rq, c, 'to-retransmit');
    c.missIndications = 0;
    c.fastRetransmitted = false;
    c.fastRetransmitPending = false;
    markedTsns.push(c.tsn);
  }
  // RFC 3758 §3.5 A5: advance the point (C2) and send a FORWARD TSN again if
  // it is beyond the Cumulative TSN Ack Point.
  advanceAckPoint(rq);
  return { markedTsns, lostBytes: flightBefore - flightSizeOf(rq, destination), sendFailed, forwardTsnDue: rq.forwardTsnPending };
}
