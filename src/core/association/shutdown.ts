/**
 * Graceful shutdown (RFC 9260 §9.2): SHUTDOWN-PENDING → SHUTDOWN-SENT →
 * (SHUTDOWN ACK) → CLOSED on one side, SHUTDOWN-RECEIVED → SHUTDOWN-ACK-SENT →
 * (SHUTDOWN COMPLETE) → CLOSED on the other, T2-shutdown with backoff counted
 * against Association.Max.Retrans, and the T5-shutdown-guard.
 */
import type { ShutdownChunk } from '../../wire/types.js';
import { backOffRto } from '../path/rto.js';
import { selectRetransmitDestination } from '../path/select.js';
import { totalFlightSize } from '../tx/retransmission-queue.js';
import { isSendQueueEmpty } from '../tx/send-queue.js';
import type { AssocContext } from './context.js';
import { failPending } from './events.js';
import { abortAssociation, associationFailed } from './abort.js';
import { onSackChunk, type ChunkResult } from './data.js';
import { dataDestination, emitPacket } from './transmit.js';
import { pathOf } from './tcb.js';
import type { Association, AssociationState, Tcb } from './types.js';
import { lt32 } from '../../wire/serial.js';

/** T5-shutdown-guard: "The recommended value for T5 is 5 times RTO.Max" (§9.2). */
function t5Duration(ctx: AssocContext): number {
  return 5 * ctx.config.rtoMax;
}

/** ULP SHUTDOWN (§9.2, §10.1). */
export function userShutdown(ctx: AssocContext, a: Association): void {
  const s = a.fsm;
  switch (s.state) {
    case 'cookie-wait':
      // Nothing was established: the attempt ends here.
      failPending(ctx, a.id, s.pendingSends);
      ctx.event(a.id, { type: 'shutdown-complete' });
      a.fsm = { state: 'closed' };
      return;
    case 'cookie-echoed':
      s.shutdownRequested = true;
      return;
    case 'established':
      a.fsm = { state: 'shutdown-pending', tcb: s.tcb };
      return;
    case 'shutdown-pending':
    case 'shutdown-sent':
    case 'shutdown-received':
    case 'shutdown-ack-sent':
    case 'closed':
      return;
  }
}

function allDataAcked(tcb: Tcb): boolean {
  return isSendQueueEmpty(tcb.sq) && tcb.rq.chunks.length === 0;
}

function shutdownChunk(tcb: Tcb): ShutdownChunk {
  return { kind: 'shutdown', cumulativeTsnAck: tcb.tracker.cumulativeTsnAck };
}

/**
 * §9.2: once all outstanding data is acknowledged, SHUTDOWN-PENDING sends
 * SHUTDOWN and SHUTDOWN-RECEIVED sends SHUTDOWN ACK. Called after every input.
 */
export function progressShutdown(ctx: AssocContext, a: Association): void {
  const s = a.fsm;
  if (s.state !== 'shutdown-pending' && s.state !== 'shutdown-received') return;
  const tcb = s.tcb;
  if (!allDataAcked(tcb)) return;
  const dest = dataDestination(ctx, tcb);
  const rto = pathOf(tcb, dest)?.rto ?? ctx.config.rtoInitial;
  const t2 = { at: ctx.now + rto, retransmits: 0, rto };
  if (s.state === 'shutdown-pending') {
    // The SACK that SHUTDOWN replaces (§9.2: SHUTDOWN carries the cumulative TSN ack).
    tcb.control.push({ chunk: shutdownChunk(tcb), destination: dest });
    a.fsm = { state: 'shutdown-sent', tcb, t2, t5At: ctx.now + t5Duration(ctx) };
  } else {
    tcb.control.push({ chunk: { kind: 'shutdown-ack' }, destination: dest });
    a.fsm = { state: 'shutdown-ack-sent', tcb, t2, t5At: undefined };
  }
}

/**
 * §9.2: the SHUTDOWN's Cumulative TSN Ack acknowledges our data like a SACK
 * without gap blocks (only when it advances: a SHUTDOWN is no SACK, so the
 * gap-acked chunks must not be taken as reneged).
 */
function applyShutdownAck(ctx: AssocContext, a: Association, tcb: Tcb, chunk: ShutdownChunk): ChunkResult {
  if (!lt32(tcb.rq.cumulativeTsnAck, chunk.cumulativeTsnAck)) return { kind: 'continue' };
  return onSackChunk(ctx, a, tcb, { kind: 'sack', cumulativeTsnAck: chunk.cumulativeTsnAck, aRwnd: tcb.rq.peerRwnd + totalFlightSize(tcb.rq), gapBlocks: [], duplicateTsns: [] });
}

/** SHUTDOWN received (§9.2). */
export function onShutdown(ctx: AssocContext, a: Association, s: Extract<AssociationState, { tcb: Tcb }>, chunk: ShutdownChunk, source: string): ChunkResult {
  const tcb = s.tcb;
  switch (s.state) {
    case 'established':
    case 'shutdown-pending': {
      const r = applyShutdownAck(ctx, a, tcb, chunk);
      if (r.kind !== 'continue') return r;
      a.fsm = { state: 'shutdown-received', tcb };
      ctx.event(a.id, { type: 'shutdown-received' });
      return r;
    }
    case 'shutdown-received':
      return applyShutdownAck(ctx, a, tcb, chunk);
    case 'shutdown-sent': {
      // §9.2 collision: "respond immediately with a SHUTDOWN ACK ... and move
      // into the SHUTDOWN-ACK-SENT state restarting its T2-shutdown timer".
      applyShutdownAck(ctx, a, tcb, chunk);
      tcb.control.push({ chunk: { kind: 'shutdown-ack' }, destination: source });
      const rto = pathOf(tcb, source)?.rto ?? s.t2.rto;
      a.fsm = { state: 'shutdown-ack-sent', tcb, t2: { at: ctx.now + rto, retransmits: 0, rto }, t5At: s.t5At };
      return { kind: 'continue' };
    }
    case 'shutdown-ack-sent':
      tcb.control.push({ chunk: { kind: 'shutdown-ack' }, destination: source });
      return { kind: 'continue' };
    case 'cookie-echoed':
      return { kind: 'continue' };
  }
}

/** SHUTDOWN ACK received in SHUTDOWN-SENT or SHUTDOWN-ACK-SENT (§9.2): SHUTDOWN COMPLETE, CLOSED. */
export function onShutdownAck(ctx: AssocContext, a: Association, tcb: Tcb, source: string): void {
  emitPacket(ctx, a, source, tcb.peerTag, [{ kind: 'shutdown-complete', tBit: false }], tcb);
  ctx.event(a.id, { type: 'shutdown-complete' });
  a.fsm = { state: 'closed' };
}

/** SHUTDOWN COMPLETE received in SHUTDOWN-ACK-SENT (§9.2). */
export function onShutdownComplete(ctx: AssocContext, a: Association): void {
  ctx.event(a.id, { type: 'shutdown-complete' });
  a.fsm = { state: 'closed' };
}

/** §9.2: DATA arriving in SHUTDOWN-SENT is answered at once with SACK and SHUTDOWN; T2 restarts. */
export function onDataWhileShutdownSent(ctx: AssocContext, s: Extract<AssociationState, { state: 'shutdown-sent' }>): void {
  s.tcb.sackNow = true;
  s.tcb.control.push({ chunk: shutdownChunk(s.tcb), destination: undefined });
  s.t2.at = ctx.now + s.t2.rto;
}

/** T2-shutdown expired: retransmit to an alternate (§9.2, §6.4.1), counting against Association.Max.Retrans. */
export function onT2Expiry(ctx: AssocContext, a: Association): void {
  const s = a.fsm;
  if (s.state !== 'shutdown-sent' && s.state !== 'shutdown-ack-sent') return;
  const tcb = s.tcb;
  tcb.counters.t2Expireds++;
  tcb.errorCount++;
  if (tcb.errorCount > ctx.config.associationMaxRetrans) {
    associationFailed(ctx, a);
    return;
  }
  const last = dataDestination(ctx, tcb);
  const lastPath = pathOf(tcb, last);
  if (lastPath) backOffRto(lastPath, ctx.config);
  const dest = selectRetransmitDestination(tcb.paths, last, ctx.config)?.address ?? last;
  s.t2.retransmits++;
  s.t2.rto = Math.min(s.t2.rto * 2, ctx.config.rtoMax);
  s.t2.at = ctx.now + s.t2.rto;
  tcb.control.push({ chunk: s.state === 'shutdown-sent' ? shutdownChunk(tcb) : { kind: 'shutdown-ack' }, destination: dest });
}

/** T5-shutdown-guard expired (§9.2): "the endpoint SHOULD send an ABORT". */
export function onT5Expiry(ctx: AssocContext, a: Association): void {
  abortAssociation(ctx, a, undefined, 'shutdown-guard');
}
