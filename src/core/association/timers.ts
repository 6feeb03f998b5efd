/**
 * The association's deadline table (one per association): T1-init /
 * T1-cookie, T2-shutdown, T5-shutdown-guard, T3-rtx per path, heartbeat per
 * path, delayed SACK, zero window probe, T-4 RTO (RFC 5061 ASCONF). `nextDeadline` is their minimum;
 * `onTimeout` runs every one that is due.
 */
import type { Millis } from '../env.js';
import { onT3RtxExpiry as pathOnT3RtxExpiry } from '../path/fault.js';
import { selectRetransmitDestination } from '../path/select.js';
import { holdDeadline, updateBackPressure } from '../rx/ack-hold.js';
import { onDelayedSackTimeout } from '../rx/data-tracker.js';
import { onT3RtxExpiry as txOnT3RtxExpiry } from '../tx/t3.js';
import { associationFailed } from './abort.js';
import type { AssocContext } from './context.js';
import { emitPathEvent, emitSendFailed } from './events.js';
import { onT1Expiry } from './handshake.js';
import { nextHeartbeatDeadline, onHeartbeatTimer } from './multihoming.js';
import { onT4Expiry } from '../asconf/sender.js';
import { onT2Expiry, onT5Expiry } from './shutdown.js';
import { flushTcb, syncFlight } from './transmit.js';
import { pathOf, tcbOf } from './tcb.js';
import type { Association, AssociationStateName, Tcb } from './types.js';

export type TimerName = 't1-init' | 't1-cookie' | 't2-shutdown' | 't5-shutdown-guard' | 't3-rtx' | 'heartbeat' | 'delayed-sack' | 'zero-window-probe' | 't4-rto' | 'ack-hold';

export interface Deadline {
  readonly timer: TimerName;
  readonly at: Millis;
  /** The path, for per-path timers. */
  readonly address?: string;
}

/** Heartbeats run once the association is up (not while the cookie is in flight). */
function heartbeatsRun(state: AssociationStateName): boolean {
  return state !== 'cookie-wait' && state !== 'cookie-echoed' && state !== 'closed';
}

/** Every armed timer of the association. */
export function deadlines(a: Association, ctx: Pick<AssocContext, 'config'>): Deadline[] {
  const s = a.fsm;
  const out: Deadline[] = [];
  switch (s.state) {
    case 'closed':
      return out;
    case 'cookie-wait':
      out.push({ timer: 't1-init', at: s.t1.at });
      return out;
    case 'cookie-echoed':
      out.push({ timer: 't1-cookie', at: s.t1.at });
      break;
    case 'shutdown-sent':
      out.push({ timer: 't2-shutdown', at: s.t2.at }, { timer: 't5-shutdown-guard', at: s.t5At });
      break;
    case 'shutdown-ack-sent':
      out.push({ timer: 't2-shutdown', at: s.t2.at });
      if (s.t5At !== undefined) out.push({ timer: 't5-shutdown-guard', at: s.t5At });
      break;
    case 'established':
    case 'shutdown-pending':
    case 'shutdown-received':
      break;
  }
  const tcb = s.tcb;
  for (const [address, at] of tcb.t3) out.push({ timer: 't3-rtx', at, address });
  if (tcb.delayedSackAt !== undefined) out.push({ timer: 'delayed-sack', at: tcb.delayedSackAt });
  // rx/ack-hold.ts: the oldest unreleased message reaches the bound.
  const holdAt = tcb.hold ? holdDeadline(tcb.hold) : undefined;
  if (holdAt !== undefined) out.push({ timer: 'ack-hold', at: holdAt });
  // RFC 5061 §5.1 A4: T-4 RTO runs while our ASCONF is unacknowledged.
  const asconf = tcb.asconf?.outstanding;
  if (asconf !== undefined) out.push({ timer: 't4-rto', at: asconf.t4At });
  if (tcb.zeroWindowSince !== undefined) {
    const p = pathOf(tcb, tcb.lastDataDestination ?? tcb.primary);
    out.push({ timer: 'zero-window-probe', at: tcb.zeroWindowSince + (p?.rto ?? ctx.config.rtoInitial) });
  }
  if (heartbeatsRun(s.state)) {
    const hb = nextHeartbeatDeadline(tcb, ctx);
    if (hb !== undefined) out.push({ timer: 'heartbeat', at: hb });
  }
  return out;
}

export function nextDeadline(a: Association, ctx: Pick<AssocContext, 'config'>): Millis | undefined {
  let min: Millis | undefined;
  for (const d of deadlines(a, ctx)) if (min === undefined || d.at < min) min = d.at;
  return min;
}

/** Runs every due timer. The caller flushes afterwards. */
export function onTimeout(ctx: AssocContext, a: Association): void {
  const now = ctx.now;
  for (const d of deadlines(a, ctx)) {
    if (d.at > now) continue;
    if (a.fsm.state === 'closed') return;
    switch (d.timer) {
      case 't1-init':
      case 't1-cookie':
        onT1Expiry(ctx, a);
        break;
      case 't2-shutdown':
        onT2Expiry(ctx, a);
        break;
      case 't5-shutdown-guard':
        onT5Expiry(ctx, a);
        break;
      case 't3-rtx': {
        const tcb = tcbOf(a.fsm);
        if (tcb && d.address !== undefined && tcb.t3.get(d.address) === d.at) {
          tcb.t3.delete(d.address);
          onT3Expiry(ctx, a, tcb, d.address);
        }
        break;
      }
      case 'delayed-sack': {
        const tcb = tcbOf(a.fsm);
        if (tcb) {
          tcb.delayedSackAt = undefined;
          if (onDelayedSackTimeout(tcb.tracker) === 'send-now' || (tcb.hold?.releasesSinceSack ?? 0) > 0) tcb.sackNow = true;
        }
        break;
      }
      case 'ack-hold': {
        // Back-pressure instead of acknowledgement: a SACK with the window closed goes now.
        const tcb = tcbOf(a.fsm);
        if (tcb?.hold && updateBackPressure(tcb.hold, now)) tcb.sackNow = true;
        break;
      }
      case 'heartbeat': {
        const tcb = tcbOf(a.fsm);
        if (tcb && !onHeartbeatTimer(ctx, a, tcb)) associationFailed(ctx, a);
        break;
      }
      case 't4-rto': {
        const tcb = tcbOf(a.fsm);
        // §5.1 B1-B5; B2 counts against Association.Max.Retrans (§8.1).
        if (tcb && tcb.asconf?.outstanding?.t4At === d.at && !onT4Expiry(ctx, a, tcb)) associationFailed(ctx, a);
        break;
      }
      case 'zero-window-probe': {
        // §6.1 A: the probe goes now (transmit.ts allows it once due); if
        // nothing could go, the timer is dropped until the window closes again.
        const tcb = tcbOf(a.fsm);
        if (!tcb) break;
        const dataAllowed = a.fsm.state === 'established' || a.fsm.state === 'shutdown-pending' || a.fsm.state === 'shutdown-received';
        flushTcb(ctx, a, tcb, { data: dataAllowed });
        if (tcb.zeroWindowSince !== undefined && tcb.zeroWindowSince + (pathOf(tcb, tcb.lastDataDestination ?? tcb.primary)?.rto ?? ctx.config.rtoInitial) <= now) {
          tcb.zeroWindowSince = undefined;
        }
        break;
      }
    }
  }
}

/**
 * RFC 9260 §6.3.3: E1/E2 and the path error count in the path module, E3 in
 * the tx module, the association error count (§8.1), and the retransmission
 * (one packet) to an alternate destination (§6.4.1).
 */
function onT3Expiry(ctx: AssocContext, a: Association, tcb: Tcb, address: string): void {
  const now = ctx.now;
  tcb.counters.t3Expireds++;
  const path = pathOf(tcb, address);
  if (path) emitPathEvent(ctx, a.id, pathOnT3RtxExpiry(path, ctx.config, now));
  const out = txOnT3RtxExpiry(tcb.rq, tcb.sq, address, now);
  emitSendFailed(ctx, a.id, out.sendFailed);
  syncFlight(tcb);
  tcb.errorCount++;
  if (tcb.errorCount > ctx.config.associationMaxRetrans) {
    associationFailed(ctx, a);
    return;
  }
  const dest = selectRetransmitDestination(tcb.paths, address, ctx.config)?.address ?? address;
  const dataAllowed = a.fsm.state === 'established' || a.fsm.state === 'shutdown-pending' || a.fsm.state === 'shutdown-received';
  flushTcb(ctx, a, tcb, { data: dataAllowed, destination: dest, maxDataPackets: 1 });
}
