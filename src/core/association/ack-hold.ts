/**
 * The association's side of acknowledge after forward (rx/ack-hold.ts): the
 * application releases delivered messages, and may turn the mode on or off.
 */
import * as hold from '../rx/ack-hold.js';
import type { AssocContext } from './context.js';
import { tcbOf } from './tcb.js';
import type { Association } from './types.js';

export type ReleaseResult = 'released' | 'unknown-token' | 'not-holding';

/**
 * The message with `token` may now be acknowledged. The SACK follows the
 * RFC 9260 §6.2 delayed-SACK rule, counting releases as packets: at once
 * every `sackFrequency` releases, else within `sackDelay`; at once when it
 * ends back-pressure (the window reopens).
 */
export function releaseHeld(ctx: AssocContext, a: Association, token: number): ReleaseResult {
  const tcb = tcbOf(a.fsm);
  if (!tcb?.hold) return 'not-holding';
  const h = tcb.hold;
  if (!hold.release(h, token)) return 'unknown-token';
  if (hold.updateBackPressure(h, ctx.now) || h.releasesSinceSack >= ctx.config.sackFrequency || ctx.config.sackDelay <= 0) tcb.sackNow = true;
  else tcb.delayedSackAt ??= ctx.now + ctx.config.sackDelay;
  return 'released';
}

/**
 * Turns the mode on (what was received so far counts as released) or off
 * (everything received becomes reportable; pending tokens are forgotten).
 * False when the association has no TCB.
 */
export function setAckHold(ctx: AssocContext, a: Association, enabled: boolean): boolean {
  const tcb = tcbOf(a.fsm);
  if (!tcb) return false;
  if (enabled) tcb.hold ??= hold.createAckHold(tcb.tracker, ctx.config.holdLimit);
  else if (tcb.hold) {
    delete tcb.hold;
    tcb.sackNow = true;
  }
  return true;
}
