/**
 * Our side of RFC 5061: requests to add or delete one of our addresses or to
 * make one the peer's primary path, sent in ASCONF chunks with serial
 * numbers (§5.1 A1-A5), one outstanding at a time (§5.1.1 R1) and retransmitted
 * on T-4 RTO expiry (§5.1 B1-B5), and the ASCONF-ACK that answers them
 * (§5.1 A5-A9, §5.3). ASCONF always travels authenticated (§4.1): the packet
 * assembly's AUTH hook (auth/send.ts) puts an AUTH chunk before it.
 */
import { add32, gte32 } from '../../wire/serial.js';
import type { AsconfAckChunk, AsconfChunk, ErrorCause, Param } from '../../wire/types.js';
import { onPathError, onPathSuccess } from '../path/fault.js';
import { backOffRto } from '../path/rto.js';
import { selectRetransmitDestination } from '../path/select.js';
import { AUTH_HEADER, macLength } from '../auth/state.js';
import type { AssocContext } from '../association/context.js';
import { selectSource } from '../path/source.js';
import type { ChunkResult } from '../association/data.js';
import { emitPathEvent } from '../association/events.js';
import { dataDestination, emitPacket, packetLimit } from '../association/transmit.js';
import { pathOf } from '../association/tcb.js';
import type { Association, AsconfResult, Tcb } from '../association/types.js';
import type { AsconfRequest, AsconfRequestKind, AsconfState, OutstandingAsconf, QueuedRequest } from './state.js';

export type AsconfRequestError =
  /** ADD-IP was not negotiated on this association (the peer, or we, did not offer it with AUTH). */
  | 'not-negotiated'
  /** The peer said it does not understand this request (§5.3 F3a / F3b) or ASCONF (§5.1 A9). */
  | 'unsupported-by-peer'
  | 'already-present'
  | 'not-present'
  /** §5.3: "An endpoint MUST NOT delete its last remaining IP address from an association." */
  | 'last-address'
  /** An Add or Delete of this address is still in progress. */
  | 'in-progress'
  /** The association is not in a state that sends ASCONF. */
  | 'wrong-state';

export type AsconfRequestResult = { readonly ok: true } | { readonly ok: false; readonly error: AsconfRequestError };

const OK: AsconfRequestResult = { ok: true };

/** ASCONF chunk header: type, flags, length, Serial Number (RFC 5061 §3.1.1). */
const ASCONF_HEADER = 8;

function asconfOf(tcb: Tcb): AsconfState | undefined {
  return tcb.asconf;
}

function queue(st: AsconfState, kind: AsconfRequestKind, address: string): void {
  st.queue.push({ kind, address, correlationId: st.nextCorrelationId });
  st.nextCorrelationId = (st.nextCorrelationId % 0xffff_ffff) + 1;
}

function usable(st: AsconfState | undefined, what: 'add-delete' | 'set-primary'): AsconfRequestResult | undefined {
  if (st === undefined) return { ok: false, error: 'not-negotiated' };
  if (st.asconfUnsupported || (what === 'add-delete' ? st.addDeleteUnsupported : st.setPrimaryUnsupported)) return { ok: false, error: 'unsupported-by-peer' };
  return undefined;
}

/** ULP request: add `address` (canonical text) to the association (§4.2.1 Add IP Address). */
export function requestAddAddress(a: Association, tcb: Tcb, address: string): AsconfRequestResult {
  const st = asconfOf(tcb);
  const refused = usable(st, 'add-delete');
  if (refused) return refused;
  if (a.localAddresses.includes(address) || st!.pendingAdd.includes(address)) return { ok: false, error: 'already-present' };
  if (st!.pendingDelete.includes(address)) return { ok: false, error: 'in-progress' };
  // §5.3: not a source address until the ASCONF-ACK says it was added.
  st!.pendingAdd.push(address);
  queue(st!, 'add-ip-address', address);
  return OK;
}

/** ULP request: delete `address` from the association (§4.2.2 Delete IP Address). */
export function requestDeleteAddress(a: Association, tcb: Tcb, address: string): AsconfRequestResult {
  const st = asconfOf(tcb);
  const refused = usable(st, 'add-delete');
  if (refused) return refused;
  if (st!.pendingAdd.includes(address) || st!.pendingDelete.includes(address)) return { ok: false, error: 'in-progress' };
  if (!a.localAddresses.includes(address)) return { ok: false, error: 'not-present' };
  // §5.3: "An endpoint MUST NOT delete its last remaining IP address from an association."
  if (a.localAddresses.length <= 1) return { ok: false, error: 'last-address' };
  // §5.3: from now on never a source address, still a destination until the ASCONF-ACK.
  a.localAddresses = a.localAddresses.filter((x) => x !== address);
  for (const [peer, local] of a.routes) if (local === address) a.routes.delete(peer);
  st!.pendingDelete.push(address);
  queue(st!, 'delete-ip-address', address);
  return OK;
}

/**
 * ULP request: ask the peer to use `address` (one of ours, added or being
 * added) as its primary destination (§4.2.4 Set Primary Address).
 */
export function requestSetPeerPrimary(a: Association, tcb: Tcb, address: string): AsconfRequestResult {
  const st = asconfOf(tcb);
  const refused = usable(st, 'set-primary');
  if (refused) return refused;
  if (!a.localAddresses.includes(address) && !st!.pendingAdd.includes(address)) return { ok: false, error: 'not-present' };
  queue(st!, 'set-primary-address', address);
  return OK;
}

function requestParam(r: QueuedRequest): Param {
  return { kind: r.kind, correlationId: r.correlationId, address: r.address };
}

function buildAsconf(o: Pick<OutstandingAsconf, 'serial' | 'lookupAddress' | 'requests'>): AsconfChunk {
  return { kind: 'asconf', serial: o.serial, address: o.lookupAddress, params: o.requests.map(requestParam) };
}

/** Bytes of one request parameter: 8 (type, length, Correlation ID) + the address parameter. */
function requestSize(r: AsconfRequest): number {
  return 8 + (r.address.includes(':') ? 20 : 8);
}

/**
 * Sends the next ASCONF when none is outstanding and requests wait (§5.1 A1-A4):
 * as many queued requests as fit one packet beside the AUTH chunk, the next
 * serial number, to the current primary destination, T-4 RTO started.
 */
export function maybeSendAsconf(ctx: AssocContext, a: Association, tcb: Tcb): void {
  const st = tcb.asconf;
  if (st === undefined || st.outstanding !== undefined || st.queue.length === 0 || st.asconfUnsupported) return;
  const destination = dataDestination(ctx, tcb);
  // §4.1: the Address Parameter is an address the peer knows: the packet's own source.
  const lookupAddress = selectSource(a.localAddresses, destination, a.routes.get(destination));
  const room = packetLimit(tcb, destination, ctx.config.pathMtu) - 12 - (tcb.auth ? AUTH_HEADER + (macLength(tcb.auth.hmacId) ?? 32) : 0);
  let size = ASCONF_HEADER + (lookupAddress.includes(':') ? 20 : 8);
  let n = 0;
  while (n < st.queue.length && (n === 0 || size + requestSize(st.queue[n]!) <= room)) {
    size += requestSize(st.queue[n]!);
    n++;
  }
  const requests = st.queue.splice(0, n);
  const path = pathOf(tcb, destination);
  const o: OutstandingAsconf = {
    serial: st.nextSerial,
    lookupAddress,
    requests,
    destination,
    t4At: ctx.now + (path?.rto ?? ctx.config.rtoInitial),
    retransmits: 0,
    sentAt: ctx.now,
  };
  st.nextSerial = add32(st.nextSerial, 1);
  st.outstanding = o;
  st.counters.sent++;
  emitPacket(ctx, a, destination, tcb.peerTag, [buildAsconf(o)], tcb);
}

/**
 * T-4 RTO expired (§5.1 B1-B5): an error on the destination and on the
 * association, the destination's RTO backed off, the same ASCONF (same serial,
 * same parameters) sent again, to an alternate destination if there is one,
 * and T-4 restarted with that destination's RTO. False when the association
 * error counter went past Association.Max.Retrans (§8.1): the caller ends it.
 */
export function onT4Expiry(ctx: AssocContext, a: Association, tcb: Tcb): boolean {
  const o = tcb.asconf?.outstanding;
  if (o === undefined) return true;
  const path = pathOf(tcb, o.destination);
  if (path) {
    backOffRto(path, ctx.config); // B3
    emitPathEvent(ctx, a.id, onPathError(path, ctx.config, ctx.now)); // B1
  }
  tcb.errorCount++; // B2
  if (tcb.errorCount > ctx.config.associationMaxRetrans) return false;
  o.destination = selectRetransmitDestination(tcb.paths, o.destination, ctx.config)?.address ?? o.destination; // B4
  o.retransmits++;
  o.t4At = ctx.now + (pathOf(tcb, o.destination)?.rto ?? ctx.config.rtoInitial); // B5
  tcb.asconf!.counters.retransmitted++;
  emitPacket(ctx, a, o.destination, tcb.peerTag, [buildAsconf(o)], tcb);
  return true;
}

/**
 * The outstanding ASCONF again now, same serial and parameters, without the
 * T-4 penalties (association/retransmit-outstanding.ts: its ASCONF-ACK went to
 * a source address that is gone). T-4 restarts. False if none is outstanding.
 */
export function resendOutstandingAsconf(ctx: AssocContext, a: Association, tcb: Tcb): boolean {
  const o = tcb.asconf?.outstanding;
  if (o === undefined) return false;
  o.t4At = ctx.now + (pathOf(tcb, o.destination)?.rto ?? ctx.config.rtoInitial);
  emitPacket(ctx, a, o.destination, tcb.peerTag, [buildAsconf(o)], tcb);
  return true;
}

/** How each request of the acknowledged ASCONF ended (§5.1 A6-A8). */
function outcomes(requests: readonly QueuedRequest[], ack: AsconfAckChunk): { result: AsconfResult; causes: ErrorCause[] }[] {
  const answers = new Map<number, Param>();
  for (const p of ack.params) {
    if ((p.kind === 'error-cause-indication' || p.kind === 'success-indication') && !answers.has(p.correlationId)) answers.set(p.correlationId, p);
  }
  const firstError = requests.findIndex((r) => answers.get(r.correlationId)?.kind === 'error-cause-indication');
  return requests.map((r, i) => {
    const p = answers.get(r.correlationId);
    if (p?.kind === 'error-cause-indication') {
      // §5.3 F3a / F3b: "not understood" is an Unrecognized Parameters cause.
      const unknown = p.causes.some((c) => c.kind === 'unrecognized-parameters');
      return { result: unknown ? 'unsupported' : 'error', causes: [...p.causes] };
    }
    if (p?.kind === 'success-indication') return { result: 'success', causes: [] };
    // A7: unanswered requests before the first error succeeded, those after it failed; A8: no error, all succeeded.
    return { result: firstError < 0 || i < firstError ? 'success' : 'error', causes: [] };
  });
}

/** Applies the outcome of one request to our address lists. */
function settleRequest(a: Association, tcb: Tcb, st: AsconfState, r: QueuedRequest, result: AsconfResult): void {
  switch (r.kind) {
    case 'add-ip-address':
      st.pendingAdd = st.pendingAdd.filter((x) => x !== r.address);
      // §5.3: once acknowledged, the address may be the source of any packet.
      if (result === 'success' && !a.localAddresses.includes(r.address)) a.localAddresses = [...a.localAddresses, r.address];
      if (result === 'unsupported') st.addDeleteUnsupported = true; // F3a
      return;
    case 'delete-ip-address':
      st.pendingDelete = st.pendingDelete.filter((x) => x !== r.address);
      // A refused delete leaves the address where it was.
      if (result !== 'success' && !a.localAddresses.includes(r.address)) a.localAddresses = [...a.localAddresses, r.address];
      if (result === 'unsupported') st.addDeleteUnsupported = true; // F3a
      return;
    case 'set-primary-address':
      if (result === 'unsupported') st.setPrimaryUnsupported = true; // F3b
      // The peer now sends to that address: ours go from it too, so its SACKs (sent
      // to the source of our DATA, RFC 9260 §6.4) and its DATA meet on one address.
      if (result === 'success' && a.localAddresses.includes(r.address)) for (const p of tcb.paths) a.routes.set(p.address, r.address);
      return;
  }
}

/**
 * An ASCONF-ACK (§5.1 A5-A8, §5.3 F0). The one for our outstanding serial
 * stops T-4, clears the error counters of the association and of the
 * destination, and settles each request; one for a serial we never sent,
 * with none outstanding, ends the association (F0); any other is stale.
 */
export function onAsconfAck(ctx: AssocContext, a: Association, tcb: Tcb, ack: AsconfAckChunk): ChunkResult {
  const st = tcb.asconf;
  if (st === undefined) return { kind: 'continue' };
  const o = st.outstanding;
  if (o === undefined || ack.serial !== o.serial) {
    // §5.3 F0: "greater than or equal to the next Sequence Number to be used but no ASCONF Chunk is outstanding".
    if (o === undefined && gte32(ack.serial, st.nextSerial)) return { kind: 'abort', cause: { kind: 'illegal-asconf-ack' } };
    return { kind: 'continue' };
  }
  st.outstanding = undefined;
  st.counters.acked++;
  // A5: "clear the appropriate association and destination error counters".
  tcb.errorCount = 0;
  const path = pathOf(tcb, o.destination);
  if (path) emitPathEvent(ctx, a.id, onPathSuccess(path, ctx.now));
  const results = outcomes(o.requests, ack);
  o.requests.forEach((r, i) => {
    const { result, causes } = results[i]!;
    settleRequest(a, tcb, st, r, result);
    ctx.event(a.id, { type: 'asconf', request: { kind: r.kind, address: r.address }, result, causes });
  });
  return { kind: 'continue' };
}

/**
 * §5.1 A9: the peer answered an ASCONF with "Unrecognized Chunk Type": no
 * more ASCONF, T-4 stopped, every request reported unsupported.
 */
export function onAsconfUnrecognized(ctx: AssocContext, a: Association, tcb: Tcb): void {
  const st = tcb.asconf;
  if (st === undefined || st.asconfUnsupported) return;
  st.asconfUnsupported = true;
  const dropped = [...(st.outstanding?.requests ?? []), ...st.queue];
  st.outstanding = undefined;
  st.queue = [];
  for (const r of dropped) {
    settleRequest(a, tcb, st, r, 'unsupported');
    ctx.event(a.id, { type: 'asconf', request: { kind: r.kind, address: r.address }, result: 'unsupported', causes: [] });
  }
}

