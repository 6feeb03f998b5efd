/**
 * Multihoming (RFC 9260 §5.4, §8.3, RFC 7829): HEARTBEAT / HEARTBEAT ACK,
 * path verification of UNCONFIRMED addresses, heartbeats on idle paths, and
 * the ULP's primary path choice.
 */
import type { HeartbeatAckChunk, HeartbeatChunk } from '../../wire/types.js';
import { buildHeartbeatInfo, heartbeatTargets, nextHeartbeatAt, onHeartbeatAck, onHeartbeatTimeout, parseHeartbeatInfo } from '../path/heartbeat.js';
import type { Millis } from '../env.js';
import { onPeerAddressConfirmed } from '../asconf/peer.js';
import type { AssocContext } from './context.js';
import { emitPathEvent } from './events.js';
import { pathOf } from './tcb.js';
import type { Association, Tcb } from './types.js';

/** §8.3: answer with the same Heartbeat Information, to the address it came from. */
export function onHeartbeat(tcb: Tcb, chunk: HeartbeatChunk, source: string): void {
  tcb.control.push({ chunk: { kind: 'heartbeat-ack', info: chunk.info.slice() }, destination: source });
}

/** §8.3 / §5.4: the echo of one of our HEARTBEATs (it may arrive from any peer address). */
export function onHeartbeatAckChunk(ctx: AssocContext, a: Association, tcb: Tcb, chunk: HeartbeatAckChunk): void {
  const info = parseHeartbeatInfo(chunk.info);
  const path = info ? pathOf(tcb, info.address) : undefined;
  if (!path) return;
  const r = onHeartbeatAck(path, chunk.info, ctx.now, ctx.config);
  if (r.kind !== 'ack') return;
  // §8.1: a HEARTBEAT ACK resets the association error counter.
  tcb.errorCount = 0;
  emitPathEvent(ctx, a.id, r.event);
  // RFC 5061 §4.2.4: a peer's Set Primary that waited for this address to be confirmed.
  if (r.confirmed) onPeerAddressConfirmed(ctx, a, tcb, path.address);
}

/** When the next heartbeat work is due on any path. */
export function nextHeartbeatDeadline(tcb: Tcb, ctx: Pick<AssocContext, 'config'>): Millis | undefined {
  let at: Millis | undefined;
  // Unconfirmed paths beyond HB.Max.Burst in flight wait for a probe to finish (§5.4), not for a time.
  const unconfirmedBusy = tcb.paths.filter((p) => p.state === 'unconfirmed' && p.heartbeat !== undefined).length >= ctx.config.hbMaxBurst;
  for (const p of tcb.paths) {
    if (unconfirmedBusy && p.state === 'unconfirmed' && p.heartbeat === undefined) continue;
    const t = nextHeartbeatAt(p, ctx.config);
    if (at === undefined || t < at) at = t;
  }
  return at;
}

/**
 * Heartbeat timer work: unanswered HEARTBEATs count as errors (§8.3, on the
 * path and, for a confirmed path, on the association, §8.1), then new ones go
 * where due. Returns false when the association error counter exceeded
 * Association.Max.Retrans (the caller ends the association).
 */
export function onHeartbeatTimer(ctx: AssocContext, a: Association, tcb: Tcb): boolean {
  for (const p of tcb.paths) {
    const wasUnconfirmed = p.state === 'unconfirmed';
    const r = onHeartbeatTimeout(p, ctx.config, ctx.now);
    if (r.kind !== 'timeout') continue;
    emitPathEvent(ctx, a.id, r.event);
    if (!wasUnconfirmed) {
      tcb.errorCount++;
      if (tcb.errorCount > ctx.config.associationMaxRetrans) return false;
    }
  }
  for (const address of heartbeatTargets(tcb.paths, ctx.config, ctx.now)) {
    const p = pathOf(tcb, address);
    if (!p) continue;
    tcb.control.push({ chunk: { kind: 'heartbeat', info: buildHeartbeatInfo(p, ctx.rng, ctx.now) }, destination: address });
  }
  return true;
}

export type SetPrimaryResult = { readonly ok: true } | { readonly ok: false; readonly error: 'no-such-address' | 'unconfirmed-address' | 'no-tcb' };

/** RFC 9260 §10.1 SET PRIMARY (RFC 6458 SCTP_PRIMARY_ADDR): only a confirmed address (§5.4). */
export function setPrimary(tcb: Tcb | undefined, address: string): SetPrimaryResult {
  if (!tcb) return { ok: false, error: 'no-tcb' };
  const p = pathOf(tcb, address);
  if (!p) return { ok: false, error: 'no-such-address' };
  if (p.state === 'unconfirmed') return { ok: false, error: 'unconfirmed-address' };
  tcb.primary = address;
  // RFC 7829 §6: a ULP choice ends any switchover to an alternate.
  tcb.lastDataDestination = undefined;
  return { ok: true };
}
