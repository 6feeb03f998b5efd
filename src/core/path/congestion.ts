/**
 * Congestion control per destination (RFC 9260 §7.2): slow start, congestion
 * avoidance, fast retransmit / Fast Recovery, T3-rtx reduction, idle decay,
 * and the §6.1 B/D send limits.
 *
 * Invariants every function here keeps: cwnd ≥ 1*MTU, and every reduction
 * leaves ssthresh ≥ 4*MTU (the initial ssthresh is the peer's a_rwnd, which
 * may be smaller).
 */

import type { Millis } from '../env.js';
import type { ProtocolConfig } from '../config.js';
import { lte32 } from '../../wire/serial.js';
import { addFlight, type PathState } from './state.js';

/** RFC 9260 §7.2.3: max(cwnd/2, 4*MTU), in whole bytes. */
function halvedWindow(path: PathState): number {
  return Math.max(Math.floor(path.cwnd / 2), 4 * path.mtu);
}

/** §7.2.1 / §7.2.2: cwnd ≤ ssthresh means slow start. */
export function inSlowStart(path: PathState): boolean {
  return path.cwnd <= path.ssthresh;
}

export function inFastRecovery(path: PathState): boolean {
  return path.fastRecoveryExitTsn !== undefined;
}

/**
 * "The current congestion window is being fully utilized": before the SACK
 * arrived, flightsize ≥ cwnd (§7.2.1, §7.2.2). Take this BEFORE removing the
 * SACK's acked bytes from the flight and pass it to `onBytesAcked`.
 */
export function isCwndFullyUtilized(path: PathState): boolean {
  return path.flightSize >= path.cwnd;
}

export interface AckContext {
  /** `isCwndFullyUtilized(path)` taken before this SACK was applied. */
  readonly fullyUtilized: boolean;
  /**
   * Whether the sender is in Fast Recovery. Defaults to this path's marker;
   * pass the association's flag if Fast Recovery is kept association-wide.
   */
  readonly inFastRecovery?: boolean;
}

/**
 * A SACK newly acknowledged `bytesAcked` bytes last sent to this destination
 * (by the cumulative TSN ack and by gap ack blocks). Call it after removing
 * those bytes from the flight (`removeFlight`), once per SACK per destination.
 *
 * RFC 9260 no longer requires the cumulative TSN ack point to advance (the
 * RFC 4960 errata, RFC 8540 §3.22, removed that condition; §7.2.1 now reads
 * "only when these two conditions are met"):
 * - slow start (§7.2.1): only if cwnd was fully utilized and not in Fast
 *   Recovery, cwnd += min(bytesAcked, MTU) — the MTU bound protects against
 *   ACK splitting;
 * - congestion avoidance (§7.2.2): partial_bytes_acked += bytesAcked; when it
 *   reaches cwnd, either the window was fully utilized (pba -= cwnd, cwnd +=
 *   MTU) or it was not (pba is capped at cwnd, so cwnd grows at most one MTU
 *   per RTT and only when used);
 * - §7.2.2 last bullet: when all data sent here has been acknowledged
 *   (flight 0), partial_bytes_acked is reset to 0.
 */
export function onBytesAcked(path: PathState, bytesAcked: number, ctx: AckContext): void {
  const bytes = Math.max(0, bytesAcked);
  const recovering = ctx.inFastRecovery ?? inFastRecovery(path);
  if (inSlowStart(path)) {
    if (ctx.fullyUtilized && !recovering) path.cwnd += Math.min(bytes, path.mtu);
  } else {
    path.partialBytesAcked += bytes;
    if (path.partialBytesAcked >= path.cwnd) {
      if (ctx.fullyUtilized) {
        path.partialBytesAcked -= path.cwnd;
        path.cwnd += path.mtu;
      } else {
        path.partialBytesAcked = path.cwnd;
      }
    }
  }
  if (path.flightSize === 0) path.partialBytesAcked = 0;
}

/**
 * Loss detected from SACKs on data last sent here (RFC 9260 §7.2.4 steps 1-2,
 * §7.2.3): if not already in Fast Recovery, ssthresh = max(cwnd/2, 4*MTU),
 * cwnd = ssthresh, partial_bytes_acked = 0, and Fast Recovery is entered with
 * `exitTsn` (the highest TSN outstanding) as exit point. In Fast Recovery a
 * further fast retransmit does not reduce cwnd again (§7.2.4 step 2). Returns
 * whether cwnd was reduced.
 */
export function onFastRetransmit(path: PathState, exitTsn: number): boolean {
  if (inFastRecovery(path)) return false;
  path.ssthresh = halvedWindow(path);
  path.cwnd = path.ssthresh;
  path.partialBytesAcked = 0;
  path.fastRecoveryExitTsn = exitTsn >>> 0;
  path.counters.fastRecoveries++;
  return true;
}

/**
 * §7.2.4: "When a SACK acknowledges all TSNs up to and including this exit
 * point, Fast Recovery is exited." Call with each SACK's cumulative TSN ack
 * before `onBytesAcked`. Returns whether Fast Recovery ended now.
 */
export function maybeExitFastRecovery(path: PathState, cumulativeTsnAck: number): boolean {
  const exit = path.fastRecoveryExitTsn;
  if (exit === undefined || !lte32(exit, cumulativeTsnAck >>> 0)) return false;
  path.fastRecoveryExitTsn = undefined;
  return true;
}

/**
 * The congestion part of a T3-rtx expiry on this destination (RFC 9260 §7.2.3,
 * §6.3.3 E1): ssthresh = max(cwnd/2, 4*MTU), cwnd = 1*MTU,
 * partial_bytes_acked = 0. Fast Recovery on this path ends too (as in Linux):
 * the timeout is the stronger signal, and keeping the marker would block slow
 * start until the old exit point is acked. fault.ts `onT3RtxExpiry` calls this
 * together with the RTO backoff and the error count.
 */
export function reduceCwndOnT3Expiry(path: PathState): void {
  path.ssthresh = halvedWindow(path);
  path.cwnd = path.mtu;
  path.partialBytesAcked = 0;
  path.fastRecoveryExitTsn = undefined;
}

const MAX_IDLE_STEPS = 64;

/**
 * cwnd after idle decay, without changing state. RFC 9260 §7.2.1 / §7.2.2:
 * "When the endpoint does not transmit data on a given transport address, the
 * cwnd of the transport address SHOULD be adjusted to max(cwnd/2, 4*MTU) per
 * RTO." Applied lazily: one halving per whole RTO (the current RTO) elapsed
 * since DATA was last sent here with nothing left in flight. It never raises
 * cwnd (a path at 1*MTU after a T3-rtx stays there), so its floor is
 * min(cwnd, 4*MTU).
 */
export function effectiveCwnd(path: PathState, now: Millis): number {
  return idleDecay(path, now).cwnd;
}

function idleDecay(path: PathState, now: Millis): { cwnd: number; since: Millis | undefined } {
  const since = path.cwndIdleSince;
  if (since === undefined || path.flightSize > 0 || !(path.rto > 0)) return { cwnd: path.cwnd, since };
  const steps = Math.floor((now - since) / path.rto);
  if (steps <= 0) return { cwnd: path.cwnd, since };
  let cwnd = path.cwnd;
  const floor = Math.min(cwnd, 4 * path.mtu);
  for (let i = 0; i < Math.min(steps, MAX_IDLE_STEPS) && cwnd > floor; i++) {
    cwnd = Math.max(Math.floor(cwnd / 2), floor);
  }
  return { cwnd, since: since + steps * path.rto };
}

/** Commits the idle decay computed by `effectiveCwnd`. */
export function applyIdleDecay(path: PathState, now: Millis): void {
  const d = idleDecay(path, now);
  path.cwnd = d.cwnd;
  path.cwndIdleSince = d.since;
}

/**
 * DATA sent to this destination: idle decay is settled first, then the flight
 * grows and the idle clocks restart. `retransmittedChunks` counts DATA chunks
 * in this send that are retransmissions (sctpAssocRemAddrRtx).
 */
export function onDataSent(path: PathState, bytes: number, now: Millis, retransmittedChunks = 0): void {
  applyIdleDecay(path, now);
  addFlight(path, bytes);
  path.lastDataSentAt = now;
  path.cwndIdleSince = now;
  if (retransmittedChunks > 0) path.counters.rtxChunks += retransmittedChunks;
}

/**
 * Bytes of new DATA this destination may take now (RFC 9260 §6.1):
 * - B: no new data while flightsize ≥ cwnd; below it the sender may exceed
 *   cwnd by up to PMTU − 1 bytes, so a packet may be started whenever the
 *   allowance is > 0 even if it is larger than the allowance;
 * - D: Max.Burst limits one transmission opportunity to Max.Burst*MTU beyond
 *   the current flight (the RFC's "cwnd = flightsize + Max.Burst*MTU", applied
 *   here without changing cwnd, as the RFC asks).
 * Uses the idle-decayed cwnd. rwnd (§6.1 A) is the association's business.
 */
export function sendAllowance(path: PathState, config: Pick<ProtocolConfig, 'maxBurst'>, now: Millis): number {
  const cwnd = effectiveCwnd(path, now);
  if (path.flightSize >= cwnd) return 0;
  return Math.min(cwnd - path.flightSize, config.maxBurst * path.mtu);
}
