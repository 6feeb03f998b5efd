/**
 * ABORT both ways (RFC 9260 §9.1) and association failure (§8.1).
 */
import type { AbortChunk, ErrorCause } from '../../wire/types.js';
import type { AssocContext } from './context.js';
import { failAllData, failPending } from './events.js';
import { dataDestination, emitPacket } from './transmit.js';
import { tcbOf } from './tcb.js';
import type { Association, LostReason } from './types.js';

/** ULP ABORT (§9.1, RFC 6458 SCTP_ABORT): the reason travels in a User-Initiated Abort cause. */
export function userAbort(ctx: AssocContext, a: Association, reason: Uint8Array | undefined): void {
  const s = a.fsm;
  const cause: ErrorCause = { kind: 'user-initiated-abort', reason: reason ?? new Uint8Array(0) };
  switch (s.state) {
    case 'closed':
      return;
    case 'cookie-wait':
      // No peer tag yet: nothing can be sent the peer would accept.
      failPending(ctx, a.id, s.pendingSends);
      ctx.event(a.id, { type: 'cannot-start', reason: 'local-abort', causes: [cause] });
      a.fsm = { state: 'closed' };
      return;
    case 'cookie-echoed':
      emitPacket(ctx, a, s.cookieDestination, s.tcb.peerTag, [{ kind: 'abort', tBit: false, causes: [cause] }], s.tcb);
      failAllData(ctx, a.id, s.tcb);
      ctx.event(a.id, { type: 'cannot-start', reason: 'local-abort', causes: [cause] });
      a.fsm = { state: 'closed' };
      return;
    case 'established':
    case 'shutdown-pending':
    case 'shutdown-sent':
    case 'shutdown-received':
    case 'shutdown-ack-sent':
      abortAssociation(ctx, a, cause, 'local-abort');
      return;
  }
}

/**
 * Sends ABORT with `cause` (best effort, to the current destination), reports
 * the unsent data and the loss, and closes.
 */
export function abortAssociation(ctx: AssocContext, a: Association, cause: ErrorCause | undefined, reason: LostReason): void {
  const tcb = tcbOf(a.fsm);
  if (tcb) {
    emitPacket(ctx, a, dataDestination(ctx, tcb), tcb.peerTag, [{ kind: 'abort', tBit: false, causes: cause ? [cause] : [] }], tcb);
    failAllData(ctx, a.id, tcb);
  }
  const causes = cause ? [cause] : [];
  if (a.fsm.state === 'cookie-echoed' || a.fsm.state === 'cookie-wait') ctx.event(a.id, { type: 'cannot-start', reason: 'local-abort', causes });
  else ctx.event(a.id, { type: 'communication-lost', reason, causes });
  a.fsm = { state: 'closed' };
}

/**
 * §8.1: the association error counter exceeded Association.Max.Retrans: the
 * peer is unreachable. No ABORT is required by the RFC; one is sent anyway
 * (as Linux does) so a peer that is still there does not linger.
 */
export function associationFailed(ctx: AssocContext, a: Association): void {
  const tcb = tcbOf(a.fsm);
  if (tcb) failAllData(ctx, a.id, tcb);
  if (tcb) {
    emitPacket(ctx, a, dataDestination(ctx, tcb), tcb.peerTag, [
      { kind: 'abort', tBit: false, causes: [{ kind: 'protocol-violation', info: new TextEncoder().encode('Association.Max.Retrans exceeded') }] },
    ], tcb);
  }
  ctx.event(a.id, { type: 'communication-lost', reason: 'max-retransmits', causes: [] });
  a.fsm = { state: 'closed' };
}

/** A peer ABORT that passed the §8.5.1 B tag check. */
export function onAbortChunk(ctx: AssocContext, a: Association, chunk: AbortChunk): void {
  const s = a.fsm;
  switch (s.state) {
    case 'closed':
      return;
    case 'cookie-wait':
      failPending(ctx, a.id, s.pendingSends);
      ctx.event(a.id, { type: 'cannot-start', reason: 'peer-abort', causes: chunk.causes });
      break;
    case 'cookie-echoed':
      failAllData(ctx, a.id, s.tcb);
      ctx.event(a.id, { type: 'cannot-start', reason: 'peer-abort', causes: chunk.causes });
      break;
    case 'established':
    case 'shutdown-pending':
    case 'shutdown-sent':
    case 'shutdown-received':
    case 'shutdown-ack-sent':
      failAllData(ctx, a.id, s.tcb);
      ctx.event(a.id, { type: 'communication-lost', reason: 'peer-abort', causes: chunk.causes });
      break;
  }
  a.fsm = { state: 'closed' };
}
