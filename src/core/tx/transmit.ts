/**
 * Choosing the DATA chunks of the next packet (RFC 9260 §6.1 A-D, §7.2.4
 * step 3, §6.3.3 E3).
 *
 * The split of duties: this module decides WHAT goes out (retransmissions
 * first in TSN order, then new fragments in round-robin order; rwnd, zero
 * window probe and sender-side SWS avoidance; PR-SCTP abandonment before
 * (re)transmission). The caller decides HOW MUCH and WHERE: it picks the
 * destination (§6.4), passes the room left in the packet and the cwnd budget
 * of that destination (`cwnd - flightSize`, §6.1 B), and calls again for the
 * next packet up to Max.Burst packets (§6.1 D).
 */
import type { Millis } from '../env.js';
import type { DataChunk } from '../../wire/types.js';
import { abandonExpiredMarked, abandonMessage, abandonUnsentRemainder, advanceAckPoint } from './pr-sctp.js';
import { assignTsn, canAssignTsn, retransmit, toDataChunk, toRetransmitStart, totalFlightSize, type RetransmissionQueueState } from './retransmission-queue.js';
import { isExpired, isSendQueueEmpty, produceChunk, queueFillsPacket, selectNextMessage, windowCutsPacket, type SendQueueState } from './send-queue.js';
import { dataChunkWireSize, type Destination, type SendFailed } from './types.js';

export interface TransmitRequest {
  /** Where this packet goes (chosen by the path module, §6.4). */
  readonly destination: Destination;
  readonly now: Millis;
  /** Bytes left in this packet for DATA chunks (PMTU − IP header − 12-byte common header − chunks bundled before). */
  readonly packetSpace: number;
  /**
   * User data bytes per fragment on this path. Fragments are cut at this size
   * (only a message's last one is shorter) unless the packet is smaller.
   */
  readonly maxFragmentPayload: number;
  /**
   * `cwnd - flightSize` of the destination. A packet may start while it is
   * above 0 and is then filled whatever is left of it: RFC 9260 §6.1 B lets
   * the sender exceed cwnd by up to PMTU − 1 bytes, one packet only (the
   * caller stops at the first packet that takes the budget to 0 or below).
   * Cutting packets at the budget instead made a cwnd-limited flow of small
   * messages send a runt for every SACK (each opens a few chunks' worth).
   */
  readonly cwndBudget: number;
  /**
   * §6.1 A: when the peer's window is closed and nothing is in flight, one
   * chunk may go as a zero window probe. The caller allows it 1 RTO after the
   * window closed; the probe is then in flight and T3-rtx backs it off
   * exponentially, as §6.1 A asks.
   */
  readonly allowZeroWindowProbe: boolean;
  /**
   * Sender-side SWS avoidance for new data (RFC 9260 §6.1; RFC 1122 §4.2.3.4,
   * the Nagle algorithm): while at least two full packets' worth of data is in
   * flight, a packet of new data goes only when the queue fills it; a runt
   * waits for the SACKs those packets bring (or for more data). So small
   * messages share packets once the association is busy, and nothing is
   * delayed while it is not: a lone message, or a few, go at once. Two
   * packets, not one: a peer SACKs at least every second packet (§6.2), so
   * the flight falls below the bar without waiting for its delayed-SACK timer.
   * Off: every opportunity sends what is queued (SCTP_NODELAY, RFC 6458 §8.1.5).
   */
  readonly nagle?: boolean;
}

/**
 * Why the packet ended: lets the association know what it waits for.
 * 'nagle': runt of new data held while data is in flight (`nagle`).
 */
export type TransmitStop = 'empty' | 'packet-full' | 'cwnd' | 'rwnd' | 'outstanding-limit' | 'nagle';

export interface TransmitResult {
  readonly chunks: readonly DataChunk[];
  /** TSNs among `chunks` that are retransmissions. */
  readonly retransmittedTsns: readonly number[];
  /** User data bytes now in flight to `destination` because of this packet. */
  readonly bytes: number;
  readonly zeroWindowProbe: boolean;
  readonly stoppedBy: TransmitStop;
  readonly sendFailed: readonly SendFailed[];
  /** The send queue's buffered amount crossed down to its low threshold (the 'drain' hook). */
  readonly bufferedAmountLow: boolean;
}

type Verdict = 'ok' | 'packet-full' | 'cwnd' | 'rwnd';

/** The DATA chunks of one packet. */
export function nextChunksToSend(rq: RetransmissionQueueState, sq: SendQueueState, req: TransmitRequest): TransmitResult {
  const { destination, now } = req;
  const bufferedBefore = sq.bufferedAmount;
  // RFC 3758 §4.1 TR4: evaluate lifetimes before retransmitting.
  const sendFailed: SendFailed[] = abandonExpiredMarked(rq, sq, now);
  const chunks: DataChunk[] = [];
  const retransmittedTsns: number[] = [];
  let room = req.packetSpace;
  let budget = req.cwndBudget;
  let bytes = 0;
  let zeroWindowProbe = false;

  const admit = (len: number, hole = false): Verdict => {
    if (dataChunkWireSize(len) > room) return 'packet-full';
    if (budget <= 0 && chunks.length === 0) return 'cwnd';
    if (len > rq.peerRwnd && !hole) {
      // §6.1 A: no data while the peer has no room, except one probe with nothing
      // in flight. With data in flight we wait rather than send into a sliver of
      // window, and never cut a fragment to fit it: sender-side SWS avoidance
      // (§6.1, RFC 1122 §4.2.3.4).
      if (!(req.allowZeroWindowProbe && chunks.length === 0 && totalFlightSize(rq) === 0)) return 'rwnd';
      zeroWindowProbe = true;
    }
    return 'ok';
  };
  const account = (len: number): void => {
    room -= dataChunkWireSize(len);
    budget -= len;
    bytes += len;
  };

  // §6.1 C: chunks marked for retransmission go first, lowest TSN first.
  // rwnd applies to them too (as in Linux and dcsctp), except to holes: a
  // chunk below one the peer acknowledged in a Gap Ack Block. §6.1 A limits
  // new data only, and a peer whose window is full of out-of-order data can
  // reopen it only once the holes are filled; holding them to rwnd left a
  // usrsctp receiver (a_rwnd 0, 105 chunks above 15 holes) getting one hole
  // per backed-off zero window probe.
  // The scan starts at the lowest marked TSN and ends with the last marked chunk.
  let stoppedBy: TransmitStop | undefined;
  let holesBelow = -1;
  if (rq.toRetransmitCount > 0 && rq.gapAckedCount > 0) {
    for (let i = rq.chunks.length - 1; i >= 0; i--) {
      if (rq.chunks[i]!.state === 'acked') {
        holesBelow = i;
        break;
      }
    }
  }
  for (let i = rq.toRetransmitCount > 0 ? toRetransmitStart(rq) : rq.chunks.length; i < rq.chunks.length && rq.toRetransmitCount > 0; i++) {
    const c = rq.chunks[i]!;
    if (c.state !== 'to-retransmit') continue;
    const verdict = admit(c.userData.length, i < holesBelow);
    if (verdict !== 'ok') {
      stoppedBy = verdict;
      rq.toRetransmitFrom = c.tsn;
      break;
    }
    retransmit(rq, c, destination, now);
    chunks.push(toDataChunk(c));
    retransmittedTsns.push(c.tsn);
    account(c.userData.length);
  }

  // Sender-side SWS avoidance for a packet of new data (RFC 1122 §4.2.3.4;
  // usrsctp's sctp_sws_sender is similar): with at least four full fragments'
  // worth in flight, SACKs are on their way, so a peer window that would cut
  // this packet short is left to grow instead of sending a runt. Runts
  // perpetuate themselves: the peer SACKs every second packet whatever its
  // size, so each SACK reopens only what those two packets carried (a
  // window-limited 100 B flow settled at 12 + 4 chunks per SACK). cwnd is not
  // held this way: fewer packets would mean fewer SACKs and slower growth.
  if (stoppedBy === undefined && chunks.length === 0 && rq.peerRwnd < room && totalFlightSize(rq) >= 4 * req.maxFragmentPayload) {
    if (windowCutsPacket(sq, room, req.maxFragmentPayload, budget, rq.peerRwnd) === 'rwnd') stoppedBy = 'rwnd';
  }

  // Nagle (RFC 1122 §4.2.3.4): with two full packets' worth in flight, new
  // data goes only as a packet it fills. What is queued waits for the SACKs
  // (or for more data), so small messages travel many to a packet. The tail
  // of a message already being fragmented is never held (as in Linux): it was
  // one write, and holding its end only delays the whole message.
  if (
    stoppedBy === undefined &&
    req.nagle === true &&
    chunks.length === 0 &&
    !isSendQueueEmpty(sq) &&
    !(sq.current !== undefined && sq.current.offset > 0) &&
    totalFlightSize(rq) >= 2 * req.maxFragmentPayload &&
    !queueFillsPacket(sq, room, req.maxFragmentPayload)
  ) {
    stoppedBy = 'nagle';
  }

  // New data only when nothing waits for retransmission (§6.1 C). Bounded:
  // each turn either uses packet room or removes a message from the queue.
  while (stoppedBy === undefined) {
    if (!canAssignTsn(rq)) {
      stoppedBy = 'outstanding-limit';
      break;
    }
    const sel = selectNextMessage(sq, now);
    sendFailed.push(...sel.sendFailed);
    const cur = sq.current;
    if (sel.remaining === undefined || !cur) {
      stoppedBy = 'empty';
      break;
    }
    // TR4: a message whose lifetime ran out after its first fragment got a TSN
    // is abandoned whole (with PR-SCTP; without it the rest is still sent,
    // RFC 9260 §10.1 SEND lifetime).
    if (sel.started && rq.forwardTsnSupported && isExpired(cur.message, now)) {
      const m = cur.message;
      const last = rq.chunks[rq.chunks.length - 1];
      if (last?.messageId === m.messageId) {
        sendFailed.push(abandonMessage(rq, sq, last, 'lifetime-expired', now));
      } else {
        // Every sent fragment was already acked cumulatively.
        const rest = abandonUnsentRemainder(rq, sq, m.messageId, now) ?? new Uint8Array(0);
        advanceAckPoint(rq);
        sendFailed.push({ messageId: m.messageId, streamId: m.streamId, ppid: m.ppid, unordered: m.unordered, data: rest, reason: 'lifetime-expired', sent: true });
      }
      continue;
    }
    let len = Math.min(sel.remaining, req.maxFragmentPayload);
    if (dataChunkWireSize(len) > room) {
      // Full-size fragments only, unless the packet itself is smaller.
      if (chunks.length > 0) {
        stoppedBy = 'packet-full';
        break;
      }
      len = Math.min(len, (room - 16) & ~3);
      if (len < 1) {
        stoppedBy = 'packet-full';
        break;
      }
    }
    const verdict = admit(len);
    if (verdict !== 'ok') {
      stoppedBy = verdict;
      break;
    }
    const produced = produceChunk(sq, len, now).chunk;
    if (!produced) {
      stoppedBy = 'empty';
      break;
    }
    const c = assignTsn(rq, produced, destination, now);
    chunks.push(toDataChunk(c));
    account(len);
  }
  if (zeroWindowProbe) rq.counters.zeroWindowProbes++;
  return {
    chunks,
    retransmittedTsns,
    bytes,
    zeroWindowProbe,
    stoppedBy: stoppedBy ?? 'empty',
    sendFailed,
    bufferedAmountLow: crossedLowThreshold(sq, bufferedBefore),
  };
}

/** Whether the buffered amount went from above the low threshold to at or below it. */
export function crossedLowThreshold(sq: SendQueueState, bufferedBefore: number): boolean {
  return bufferedBefore > sq.bufferedAmountLowThreshold && sq.bufferedAmount <= sq.bufferedAmountLowThreshold;
}

export interface FastRetransmitRequest {
  readonly destination: Destination;
  readonly now: Millis;
  readonly packetSpace: number;
}

export interface FastRetransmitResult {
  readonly chunks: readonly DataChunk[];
  /**
   * Destinations whose lowest outstanding TSN is among `chunks`: restart
   * their T3-rtx (§7.2.4 step 4, second clause).
   */
  readonly restartT3For: readonly Destination[];
  readonly sendFailed: readonly SendFailed[];
}

/**
 * §7.2.4 step 3: the one packet of chunks marked by the SACK that entered Fast
 * Recovery, lowest TSN first, ignoring cwnd (and rwnd: these fill holes the
 * peer already made room for). Step 5: those that do not fit stay marked and
 * go out through `nextChunksToSend` as cwnd allows. Call it right after a
 * SACK whose outcome has `enteredFastRecovery`.
 */
export function fastRetransmitChunks(rq: RetransmissionQueueState, sq: SendQueueState, req: FastRetransmitRequest): FastRetransmitResult {
  const sendFailed = abandonExpiredMarked(rq, sq, req.now);
  const earliest = new Map<Destination, number>();
  for (const c of rq.chunks) {
    if ((c.state === 'in-flight' || c.state === 'to-retransmit') && !earliest.has(c.destination)) earliest.set(c.destination, c.tsn);
  }
  const chunks: DataChunk[] = [];
  const restartT3For: Destination[] = [];
  let room = req.packetSpace;
  for (const c of rq.chunks) {
    if (c.state !== 'to-retransmit' || !c.fastRetransmitPending) continue;
    const size = dataChunkWireSize(c.userData.length);
    if (size > room) break;
    room -= size;
    if (earliest.get(c.destination) === c.tsn && !restartT3For.includes(c.destination)) restartT3For.push(c.destination);
    retransmit(rq, c, req.destination, req.now);
    rq.counters.fastRetransmittedChunks++;
    chunks.push(toDataChunk(c));
  }
  for (const c of rq.chunks) c.fastRetransmitPending = false;
  return { chunks, restartT3For, sendFailed };
}

/** RFC 6458 SCTP_SENDER_DRY_EVENT: nothing queued and nothing unacknowledged. */
export function isSenderDry(rq: RetransmissionQueueState, sq: SendQueueState): boolean {
  return isSendQueueEmpty(sq) && rq.chunks.length === 0;
}
