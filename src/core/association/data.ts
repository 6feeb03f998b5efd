/**
 * Data transfer (RFC 9260 §6): DATA in (tracker + reassembly), SACK in (tx
 * module, then congestion control and RTO per path, §6.3.2 T3 rules, §7.2.4
 * fast retransmit), FORWARD TSN in (RFC 3758 §3.6), and the end-of-packet
 * SACK decision (§6.2, RFC 7053).
 */
import { encodeChunk, encodedChunkLength } from '../../wire/chunk.js';
import type { DataChunk, ForwardTsnChunk, SackChunk } from '../../wire/types.js';
import { isCwndFullyUtilized, maybeExitFastRecovery, onBytesAcked, onFastRetransmit } from '../path/congestion.js';
import { onPathSuccess } from '../path/fault.js';
import { onRttMeasurement } from '../path/rto.js';
import * as hold from '../rx/ack-hold.js';
import * as tracker from '../rx/data-tracker.js';
import * as reassembly from '../rx/reassembly.js';
import { highestTsnSent } from '../tx/retransmission-queue.js';
import { onSack } from '../tx/sack.js';
import { fastRetransmitChunks } from '../tx/transmit.js';
import type { AssocContext } from './context.js';
import { emitPathEvent, emitSendFailed } from './events.js';
import { dataDestination, emitPacket, packetLimit, syncFlight } from './transmit.js';
import { pathOf } from './tcb.js';
import type { Association, Tcb } from './types.js';
import type { ErrorCause } from '../../wire/types.js';

/** What a chunk handler asks of the dispatcher. */
export type ChunkResult = { readonly kind: 'continue' } | { readonly kind: 'abort'; readonly cause: ErrorCause };

const CONTINUE: ChunkResult = { kind: 'continue' };

function violation(reason: string): ChunkResult {
  return { kind: 'abort', cause: { kind: 'protocol-violation', info: new TextEncoder().encode(reason) } };
}

/** Moves complete messages to the application, holding their bytes in the window until polled. */
export function deliverMessages(ctx: AssocContext, a: Association, tcb: Tcb): void {
  for (let m = reassembly.pollMessage(tcb.reasm); m !== undefined; m = reassembly.pollMessage(tcb.reasm)) {
    tcb.heldBytes += m.data.length;
    tcb.counters.deliveredMessages++;
    if (tcb.hold) {
      const holdToken = hold.onDelivered(tcb.hold, m.tsns[0], m.tsns[1], m.data.length, ctx.now);
      ctx.event(a.id, { type: 'message', streamId: m.streamId, ppid: m.ppid, unordered: m.unordered, data: m.data, holdToken });
    } else ctx.event(a.id, { type: 'message', streamId: m.streamId, ppid: m.ppid, unordered: m.unordered, data: m.data });
  }
}

/**
 * Bytes that occupy the receive window: held for reassembly, and delivered
 * but not yet read, or, under acknowledge-after-forward, not yet released.
 */
export function receiveOccupancy(tcb: Tcb): number {
  return tcb.reasm.bufferedBytes + (tcb.hold ? Math.max(tcb.heldBytes, tcb.hold.pendingBytes) : tcb.heldBytes);
}

/** RFC 9260 §6.2 DATA receipt. */
export function onDataChunk(ctx: AssocContext, a: Association, tcb: Tcb, chunk: DataChunk, source: string): ChunkResult {
  if (chunk.unordered) tcb.counters.inUnorderChunks++;
  else tcb.counters.inOrderChunks++;
  tcb.sackDestination = source;
  // §6.2: "If an endpoint receives a DATA chunk with no user data (i.e., the
  // Length field is set to 16), it MUST send an ABORT with a No User Data error cause."
  if (chunk.userData.length === 0) return { kind: 'abort', cause: { kind: 'no-user-data', tsn: chunk.tsn } };
  const outcome = tracker.onData(tcb.tracker, chunk.tsn, {
    immediate: chunk.immediate,
    bufferedBytes: receiveOccupancy(tcb),
    // Under back-pressure a_rwnd is 0: RFC 9260 §6.2 then drops new TSNs beyond the highest.
    receiveWindow: tcb.hold?.backPressure ? 0 : ctx.config.receiveWindow,
  });
  switch (outcome) {
    case 'duplicate':
      tcb.counters.inDuplicateChunks++;
      // The peer retransmitted a TSN we hold back (its T3-rtx): not delivered again.
      if (tcb.hold && hold.isWithheld(tcb.hold, chunk.tsn)) tcb.hold.counters.withheldDuplicates++;
      return CONTINUE;
    case 'dropped-no-room':
    case 'dropped-window-full':
      return CONTINUE;
    case 'new':
      break;
  }
  const r = reassembly.onDataChunk(tcb.reasm, chunk);
  // A TSN that will never be part of a delivered message is reportable at once.
  if (tcb.hold && r.kind !== 'accepted') hold.markReportable(tcb.hold, chunk.tsn);
  switch (r.kind) {
    case 'accepted':
      if (r.delivered > 0) deliverMessages(ctx, a, tcb);
      return relieveFullWindow(ctx, tcb);
    case 'duplicate':
    case 'stale':
      return CONTINUE;
    case 'invalid-stream':
      // §6.5: acknowledge the TSN, report Invalid Stream Identifier, discard.
      tcb.control.push({ chunk: { kind: 'error', causes: [{ kind: 'invalid-stream-identifier', streamId: r.streamId }] }, destination: source });
      return CONTINUE;
    case 'no-user-data':
      return { kind: 'abort', cause: { kind: 'no-user-data', tsn: chunk.tsn } };
    case 'protocol-violation':
      return violation(r.reason);
  }
}

/**
 * RFC 9260 §6.9 partial delivery, when the window cannot take another full
 * chunk: the incomplete message at the head of the line leaves the window
 * (reassembly.dispatchHeadOfLine) so that the rest of it can come, and a SACK
 * tells the sender at once. A message beyond maxMessageSize that does not fit
 * the window is refused with an ABORT (Out of Resource) rather than left to
 * hold the window closed for ever.
 */
function relieveFullWindow(ctx: AssocContext, tcb: Tcb): ChunkResult {
  if (receiveOccupancy(tcb) + ctx.config.pathMtu <= ctx.config.receiveWindow) return CONTINUE;
  const d = reassembly.dispatchHeadOfLine(tcb.reasm, tcb.tracker.cumulativeTsnAck, ctx.config.maxMessageSize);
  switch (d.kind) {
    case 'dispatched':
      tcb.sackNow = true;
      return CONTINUE;
    case 'nothing':
      return CONTINUE;
    case 'too-big':
      return { kind: 'abort', cause: { kind: 'out-of-resource' } };
  }
}

/** RFC 3758 §3.6 FORWARD TSN receipt. */
export function onForwardTsnChunk(ctx: AssocContext, a: Association, tcb: Tcb, chunk: ForwardTsnChunk, source: string): ChunkResult {
  if (!ctx.config.prSctp) {
    // We did not advertise Forward-TSN-Supported (RFC 3758 §3.3.1), so the
    // chunk type is unknown to us: its upper bits are 11, "skip this chunk
    // and continue processing, but report it in an ERROR chunk using the
    // 'Unrecognized Chunk Type' cause" (RFC 9260 §3.2).
    const bytes = new Uint8Array(encodedChunkLength(chunk));
    encodeChunk(chunk, bytes, 0);
    tcb.control.push({ chunk: { kind: 'error', causes: [{ kind: 'unrecognized-chunk-type', chunk: bytes }] }, destination: source });
    return CONTINUE;
  }
  tcb.sackDestination = source;
  if (tracker.onForwardTsn(tcb.tracker, chunk.newCumulativeTsn) === 'stale') return CONTINUE;
  if (tcb.hold) hold.onForwardTsnReport(tcb.hold, chunk.newCumulativeTsn);
  const r = reassembly.onForwardTsn(tcb.reasm, chunk);
  if (r.kind === 'protocol-violation') return violation(r.reason);
  if (r.delivered > 0) deliverMessages(ctx, a, tcb);
  return CONTINUE;
}

/** After the last chunk of a packet: SACK now or arm the delayed-SACK timer (§6.2). */
export function onPacketEnd(ctx: AssocContext, tcb: Tcb): void {
  switch (tracker.onPacketEnd(tcb.tracker, ctx.config)) {
    case 'send-now':
      tcb.sackNow = true;
      return;
    case 'delay':
      tcb.delayedSackAt ??= ctx.now + ctx.config.sackDelay;
      return;
    case 'nothing':
      return;
  }
}

/** RFC 9260 §6.2.1 SACK receipt, then §6.3.1-§6.3.2, §7.2, §8.1-§8.2 bookkeeping. */
export function onSackChunk(ctx: AssocContext, a: Association, tcb: Tcb, sack: SackChunk): ChunkResult {
  const now = ctx.now;
  tcb.counters.sacksReceived++;
  syncFlight(tcb);
  const fullyUtilized = new Map(tcb.paths.map((p) => [p.address, isCwndFullyUtilized(p)]));
  const out = onSack(tcb.rq, tcb.sq, sack, now);
  switch (out.kind) {
    case 'old-sack':
      return CONTINUE;
    case 'protocol-violation':
      return violation(out.reason);
    case 'processed':
      break;
  }
  syncFlight(tcb);
  emitSendFailed(ctx, a.id, out.sendFailed);
  if (ctx.config.notifyAcked) for (const messageId of out.ackedMessageIds) ctx.event(a.id, { type: 'message-acked', messageId });
  // §6.3.1 C5 (Karn) is applied by the tx module: one sample per destination from a chunk sent once.
  for (const s of out.rttSamples) {
    const p = pathOf(tcb, s.destination);
    if (p) onRttMeasurement(p, s.rtt, ctx.config);
  }
  let anyAcked = false;
  for (const d of out.destinations) {
    const p = pathOf(tcb, d.destination);
    if (d.newlyAckedBytes > 0) {
      anyAcked = true;
      if (p) {
        maybeExitFastRecovery(p, out.cumulativeTsnAck);
        onBytesAcked(p, d.newlyAckedBytes, { fullyUtilized: fullyUtilized.get(p.address) ?? false, inFastRecovery: out.inFastRecovery });
        // §8.2: an acknowledgement of DATA sent to an address clears its error counter.
        emitPathEvent(ctx, a.id, onPathSuccess(p, now));
      }
    }
    // §6.3.2 R2-R4.
    if (d.outstandingChunks === 0) tcb.t3.delete(d.destination);
    else if (d.earliestOutstandingAcked) tcb.t3.set(d.destination, now + (p?.rto ?? ctx.config.rtoInitial));
    else if (d.reneged && !tcb.t3.has(d.destination)) tcb.t3.set(d.destination, now + (p?.rto ?? ctx.config.rtoInitial));
  }
  // §8.1: the association error counter is reset by an acknowledgement of new data.
  if (anyAcked || out.cumAckAdvanced) tcb.errorCount = 0;
  // §6.1 A: "If the sender continues to receive SACKs from the peer while
  // doing zero window probing, the unacknowledged window probes SHOULD NOT
  // increment the error counter for the association or any destination
  // transport address", since the receiver may keep its window closed
  // indefinitely. A SACK closing the window with only the probe outstanding
  // (as Linux checks) clears the counters its T3 expiries raised.
  const probe = tcb.rq.chunks.length === 1 ? tcb.rq.chunks[0] : undefined;
  if (sack.aRwnd === 0 && probe && probe.state !== 'acked') {
    tcb.errorCount = 0;
    const p = pathOf(tcb, probe.destination);
    if (p) p.errorCount = 0;
  }
  if (out.peerRwnd > 0) tcb.zeroWindowSince = undefined;

  // §7.2.4 steps 2-4: reduce cwnd once per Fast Recovery, send one packet of the lost chunks now.
  for (const d of out.cwndReductionDestinations) {
    const p = pathOf(tcb, d);
    if (p) onFastRetransmit(p, highestTsnSent(tcb.rq));
  }
  if (out.enteredFastRecovery) {
    const dest = dataDestination(ctx, tcb);
    const fr = fastRetransmitChunks(tcb.rq, tcb.sq, { destination: dest, now, packetSpace: packetLimit(tcb, dest, ctx.config.pathMtu) - 12 });
    emitSendFailed(ctx, a.id, fr.sendFailed);
    if (fr.chunks.length > 0) {
      emitPacket(ctx, a, dest, tcb.peerTag, fr.chunks, tcb);
      tcb.counters.rtxChunks += fr.chunks.length;
      const p = pathOf(tcb, dest);
      if (p) {
        p.lastDataSentAt = now;
        p.counters.rtxChunks += fr.chunks.length;
      }
      for (const d of fr.restartT3For) tcb.t3.set(d, now + (pathOf(tcb, d)?.rto ?? ctx.config.rtoInitial));
      if (!tcb.t3.has(dest)) tcb.t3.set(dest, now + (p?.rto ?? ctx.config.rtoInitial));
    }
    syncFlight(tcb);
  }
  return CONTINUE;
}
