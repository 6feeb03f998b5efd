/**
 * Retransmission timer value (RFC 9260 §6.3.1, §6.3.3 E2) and the failover
 * arithmetic that follows from it.
 *
 * Karn's rule (§6.3.1 C5) and one measurement per round trip (C4) are the
 * caller's duty: the retransmission queue measures RTT only on a DATA chunk
 * that was sent once and acked without ever being retransmitted, at most once
 * per round trip; HEARTBEAT RTTs (heartbeat.ts) are always valid because each
 * HEARTBEAT carries a fresh nonce.
 */

import type { Millis } from '../env.js';
import type { ProtocolConfig } from '../config.js';
import type { PathState } from './state.js';

/**
 * Clock granularity G (RFC 9260 §6.3.1 G1). The runtime's clock is read in
 * milliseconds and its timers fire with millisecond resolution, so G = 1 ms;
 * with RTO.Min = 1 s by default G only matters on links with RTTVAR = 0.
 */
export const CLOCK_GRANULARITY: Millis = 1;

export type RtoConfig = Pick<ProtocolConfig, 'rtoMin' | 'rtoMax' | 'rtoAlpha' | 'rtoBeta'>;

function clampRto(rto: Millis, config: Pick<ProtocolConfig, 'rtoMin' | 'rtoMax'>): Millis {
  // C6: below RTO.Min rounds up; C7: RTO.Max caps.
  return Math.min(Math.max(rto, config.rtoMin), config.rtoMax);
}

/**
 * A new RTT measurement R for this destination (RFC 9260 §6.3.1 C2/C3, G1,
 * C6/C7). Returns false and changes nothing when R is not a finite number ≥ 0
 * (a clock glitch must not poison SRTT).
 */
export function onRttMeasurement(path: PathState, rtt: Millis, config: RtoConfig): boolean {
  if (!Number.isFinite(rtt) || rtt < 0) return false;
  if (path.srtt === undefined || path.rttvar === undefined) {
    // C2: first measurement.
    path.srtt = rtt;
    path.rttvar = rtt / 2;
  } else {
    // C3: RTTVAR first, with the SRTT from before this measurement.
    path.rttvar = (1 - config.rtoBeta) * path.rttvar + config.rtoBeta * Math.abs(path.srtt - rtt);
    path.srtt = (1 - config.rtoAlpha) * path.srtt + config.rtoAlpha * rtt;
  }
  // G1: a zero RTTVAR becomes G so RTO keeps a margin above SRTT.
  if (path.rttvar === 0) path.rttvar = CLOCK_GRANULARITY;
  path.rto = clampRto(path.srtt + 4 * path.rttvar, config);
  path.counters.rttMeasurements++;
  return true;
}

/**
 * RFC 9260 §6.3.3 E2 (T3-rtx expiry) and §8.3 (unanswered HEARTBEAT):
 * RTO <- RTO * 2, capped at RTO.Max (C7).
 */
export function backOffRto(path: PathState, config: Pick<ProtocolConfig, 'rtoMin' | 'rtoMax'>): void {
  path.rto = clampRto(path.rto * 2, config);
}

/**
 * The successive timeouts a sender waits through when every transmission to
 * one destination is lost, starting from `rto`: rto, 2·rto, 4·rto, … each
 * capped at RTO.Max (§6.3.3 E2).
 */
export function backedOffRtos(
  config: Pick<ProtocolConfig, 'rtoMin' | 'rtoMax'>,
  count: number,
  rto: Millis,
): Millis[] {
  const out: Millis[] = [];
  let r = clampRto(rto, config);
  const n = Math.max(0, Math.min(Math.floor(count), 100_000));
  for (let i = 0; i < n; i++) {
    out.push(r);
    r = clampRto(r * 2, config);
  }
  return out;
}

/**
 * How long a sender takes, from the first lost transmission on a destination
 * that went dark, until it stops sending new data there:
 * - `pf: false` (RFC 9260 §8.2): Path.Max.Retrans + 1 consecutive timeouts
 *   mark the path INACTIVE;
 * - `pf: true` (RFC 7829 §5): PotentiallyFailed.Max.Retrans + 1 timeouts mark
 *   it PF and new data moves to an active alternate. PF is off when
 *   pfMaxRetrans ≥ pathMaxRetrans, and then this equals the `pf: false` time.
 *
 * `rto` is the destination's RTO when the outage starts (defaults to
 * RTO.Initial; after measurements on a fast link it is RTO.Min). Assumes each
 * timeout is met by a retransmission or heartbeat on the same path and ignores
 * Association.Max.Retrans, which can end the association first when every
 * path is down.
 */
export function failureDetectionTime(
  config: Pick<ProtocolConfig, 'rtoInitial' | 'rtoMin' | 'rtoMax' | 'pathMaxRetrans' | 'pfMaxRetrans'>,
  options: { readonly pf: boolean; readonly rto?: Millis },
): Millis {
  const pfOn = options.pf && config.pfMaxRetrans < config.pathMaxRetrans;
  const timeouts = (pfOn ? config.pfMaxRetrans : config.pathMaxRetrans) + 1;
  return backedOffRtos(config, timeouts, options.rto ?? config.rtoInitial).reduce((a, b) => a + b, 0);
}
