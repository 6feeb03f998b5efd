/**
 * The peer's address changes, as its ASCONF asks them (RFC 5061 §4.2, §5.3):
 * a new destination (UNCONFIRMED until a HEARTBEAT confirms it, RFC 9260
 * §5.4), a destination removed (its outstanding DATA moved to the others),
 * and the peer's choice of our primary destination. Each returns the error
 * cause to report, or undefined on success.
 */
import { encodeParam, encodedParamLength } from '../../wire/param.js';
import type { ErrorCause, Param } from '../../wire/types.js';
import type { AssocContext } from '../association/context.js';
import { emitSendFailed } from '../association/events.js';
import { syncFlight } from '../association/transmit.js';
import { pathOf } from '../association/tcb.js';
import type { Association, PeerAddrState, Tcb } from '../association/types.js';
import { createPathState } from '../path/state.js';
import { onT3RtxExpiry } from '../tx/t3.js';

/** Peer destinations one association keeps at most: an Add beyond it is refused for resource shortage. */
export const MAX_PEER_ADDRESSES = 32;

type AddressRequest = Extract<Param, { kind: 'add-ip-address' | 'delete-ip-address' | 'set-primary-address' }>;

/** The request parameter as received, for the error causes that carry it (§4.3). */
export function requestTlv(p: Param): Uint8Array {
  const len = encodedParamLength(p);
  const out = new Uint8Array((len + 3) & ~3);
  encodeParam(p, out, 0);
  return out.subarray(0, len);
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function isNonUnicast(address: string): boolean {
  if (address.includes(':')) return address.toLowerCase().startsWith('ff');
  const first = Number(address.split('.')[0]);
  return (first >= 224 && first <= 239) || address === '255.255.255.255';
}

function addrEvent(ctx: AssocContext, a: Association, address: string, state: PeerAddrState, status: string): void {
  ctx.event(a.id, { type: 'peer-address-change', address, state, from: status, to: status });
}

/**
 * Add IP Address (§4.2.1). "0.0.0.0" / "::" stands for the packet's source
 * address. An address we know already is a success with nothing to do.
 */
export function peerAddAddress(ctx: AssocContext, a: Association, tcb: Tcb, p: AddressRequest, source: string): ErrorCause | undefined {
  const address = isWildcard(p.address) ? source : p.address;
  if (isNonUnicast(address)) return { kind: 'invalid-mandatory-parameter' };
  // An address of a family we have no address of could never be reached.
  if (!a.localAddresses.some((l) => l.includes(':') === address.includes(':'))) return { kind: 'unresolvable-address', address: requestTlv(p) };
  if (pathOf(tcb, address)) return undefined;
  if (tcb.paths.length >= MAX_PEER_ADDRESSES) return { kind: 'operation-refused-resource-shortage', request: requestTlv(p) };
  // RFC 9260 §5.4: a new address is UNCONFIRMED, and the heartbeat module probes it at once.
  const path = createPathState({ address, mtu: ctx.config.pathMtu, aRwnd: tcb.rq.peerRwnd, confirmed: false, now: ctx.now }, ctx.config);
  tcb.paths.push(path);
  if (!a.peerAddresses.includes(address)) a.peerAddresses.push(address);
  addrEvent(ctx, a, address, 'SCTP_ADDR_ADDED', path.state);
  return undefined;
}

/**
 * Removes one peer destination. Its outstanding DATA is marked for
 * retransmission and goes to the remaining destinations with the next packet
 * (as usrsctp's sctp_move_chunks_from_net does).
 */
function removePath(ctx: AssocContext, a: Association, tcb: Tcb, address: string): void {
  const out = onT3RtxExpiry(tcb.rq, tcb.sq, address, ctx.now);
  emitSendFailed(ctx, a.id, out.sendFailed);
  tcb.t3.delete(address);
  tcb.paths = tcb.paths.filter((x) => x.address !== address);
  a.peerAddresses = a.peerAddresses.filter((x) => x !== address);
  a.routes.delete(address);
  if (tcb.lastDataDestination === address) tcb.lastDataDestination = undefined;
  if (tcb.sackDestination === address) tcb.sackDestination = undefined;
  if (tcb.asconf?.peerRequestedPrimary === address) tcb.asconf.peerRequestedPrimary = undefined;
  if (tcb.primary === address) {
    const next = tcb.paths.find((x) => x.state === 'active') ?? tcb.paths.find((x) => x.state !== 'unconfirmed') ?? tcb.paths[0];
    tcb.primary = next?.address ?? tcb.primary;
  }
  syncFlight(tcb);
  addrEvent(ctx, a, address, 'SCTP_ADDR_REMOVED', 'inactive');
}

/**
 * Delete IP Address (§4.2.2, §5.3): never the source address of the packet
 * ("Request to Delete Source IP Address"), never the last address ("Request
 * to Delete Last Remaining IP Address"); an address we do not know is a
 * success. "0.0.0.0" / "::" deletes every address but the source.
 */
export function peerDeleteAddress(ctx: AssocContext, a: Association, tcb: Tcb, p: AddressRequest, source: string): ErrorCause | undefined {
  if (isWildcard(p.address)) {
    if (!pathOf(tcb, source)) return { kind: 'request-refused-no-authorization', request: requestTlv(p) };
    for (const x of tcb.paths.map((q) => q.address)) if (x !== source) removePath(ctx, a, tcb, x);
    return undefined;
  }
  if (p.address === source) return { kind: 'request-to-delete-source-address', request: requestTlv(p) };
  if (!pathOf(tcb, p.address)) return undefined;
  if (tcb.paths.length <= 1) return { kind: 'request-to-delete-last-address', request: requestTlv(p) };
  removePath(ctx, a, tcb, p.address);
  return undefined;
}

function makePrimary(ctx: AssocContext, a: Association, tcb: Tcb, address: string): void {
  tcb.primary = address;
  // RFC 7829 §6: a new primary ends any switchover to an alternate.
  tcb.lastDataDestination = undefined;
  addrEvent(ctx, a, address, 'SCTP_ADDR_MADE_PRIM', pathOf(tcb, address)?.state ?? 'active');
}

/**
 * Set Primary Address (§4.2.4): the peer prefers us to send to `address`.
 * An UNCONFIRMED address becomes primary once confirmed (RFC 9260 §5.4: no
 * DATA goes to it before), as usrsctp does; an unknown one is refused with
 * "Unresolvable Address".
 */
export function peerSetPrimary(ctx: AssocContext, a: Association, tcb: Tcb, p: AddressRequest, source: string): ErrorCause | undefined {
  const address = isWildcard(p.address) ? source : p.address;
  const path = pathOf(tcb, address);
  if (!path) return { kind: 'unresolvable-address', address: requestTlv(p) };
  if (path.state === 'unconfirmed') {
    if (tcb.asconf) tcb.asconf.peerRequestedPrimary = address;
    return undefined;
  }
  if (tcb.asconf) tcb.asconf.peerRequestedPrimary = undefined;
  makePrimary(ctx, a, tcb, address);
  return undefined;
}

/** A peer address was confirmed (RFC 9260 §5.4): a Set Primary waiting for it takes effect. */
export function onPeerAddressConfirmed(ctx: AssocContext, a: Association, tcb: Tcb, address: string): void {
  if (tcb.asconf?.peerRequestedPrimary !== address) return;
  tcb.asconf.peerRequestedPrimary = undefined;
  makePrimary(ctx, a, tcb, address);
}
