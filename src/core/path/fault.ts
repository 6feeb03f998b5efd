/**
 * Path fault management: RFC 9260 §8.2 (error counter, ACTIVE → INACTIVE at
 * Path.Max.Retrans) with RFC 7829 §5 Potentially Failed (ACTIVE → PF at
 * PotentiallyFailed.Max.Retrans).
 *
 * Thresholds, both "exceeds": errorCount > pfMaxRetrans → PF (so pfMaxRetrans
 * = 0 means PF on the first timeout), errorCount > pathMaxRetrans → INACTIVE.
 * With pfMaxRetrans ≥ pathMaxRetrans PF never happens (RFC 7829 §5.1: the PF
 * operation is disabled), which is the default config.
 */

import type { Millis } from '../env.js';
import type { ProtocolConfig } from '../config.js';
import { backOffRto } from './rto.js';
import { reduceCwndOnT3Expiry } from './congestion.js';
import { setPathStatus, type PathEvent, type PathState } from './state.js';

export type FaultConfig = Pick<ProtocolConfig, 'pathMaxRetrans' | 'pfMaxRetrans'>;

/**
 * One error on this destination: a T3-rtx expiry for data sent there, or a
 * HEARTBEAT unanswered within its RTO (§8.2, §8.3). Returns the transition,
 * if any. An UNCONFIRMED path only counts: it was never usable, so it has no
 * state to lose and no notification to give (as Linux does).
 */
export function onPathError(path: PathState, config: FaultConfig, now: Millis): PathEvent | undefined {
  path.errorCount++;
  switch (path.state) {
    case 'active':
      if (path.errorCount > config.pathMaxRetrans) return setPathStatus(path, 'inactive', now);
      if (path.errorCount > config.pfMaxRetrans) return setPathStatus(path, 'pf', now);
      return undefined;
    case 'pf':
      // RFC 7829 §5.1: (PMR − PFMR) further timeouts confirm the failure.
      if (path.errorCount > config.pathMaxRetrans) return setPathStatus(path, 'inactive', now);
      return undefined;
    case 'inactive':
    case 'unconfirmed':
      return undefined;
  }
}

/**
 * Proof that the destination is reachable: a SACK newly acknowledging DATA
 * last sent to it, or a HEARTBEAT ACK for it (§8.2, §8.3; RFC 7829 §5.1).
 * Clears the error counter and returns a PF or INACTIVE path to ACTIVE.
 * RFC 7829 no longer changes cwnd on PF → ACTIVE (the draft's cwnd = 1*MTU was
 * dropped); the T3-rtx expiries that led to PF already reduced it.
 *
 * It does not confirm an UNCONFIRMED path: only a HEARTBEAT ACK carrying our
 * nonce does (§5.4, heartbeat.ts).
 *
 * §8.2 ambiguity, the caller's choice: when the chunk acked was retransmitted
 * to an alternate, the caller MAY skip crediting the original destination.
 */
export function onPathSuccess(path: PathState, now: Millis): PathEvent | undefined {
  path.errorCount = 0;
  switch (path.state) {
    case 'pf':
    case 'inactive':
      return setPathStatus(path, 'active', now);
    case 'active':
    case 'unconfirmed':
      return undefined;
  }
}

/**
 * T3-rtx expired for data sent to this destination (RFC 9260 §6.3.3):
 * E1 congestion reduction (§7.2.3), E2 RTO backoff, and the §8.2 error count.
 * The association then moves the timed-out chunks (E3) and picks a
 * retransmission destination (select.ts). Returns the path's transition, if
 * any; the association also counts the timeout on its own error counter (§8.1).
 */
export function onT3RtxExpiry(
  path: PathState,
  config: FaultConfig & Pick<ProtocolConfig, 'rtoMin' | 'rtoMax'>,
  now: Millis,
): PathEvent | undefined {
  path.counters.t3Expiries++;
  reduceCwndOnT3Expiry(path);
  backOffRto(path, config);
  return onPathError(path, config, now);
}
