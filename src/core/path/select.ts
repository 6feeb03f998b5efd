/**
 * Destination selection: RFC 9260 §6.4 (new data to the primary while it is
 * active, else an active alternate), §6.4.1 (timed-out data to an alternate),
 * §5.4 (no DATA to an UNCONFIRMED address), RFC 7829 §5.1 (PF destinations
 * only when no active one is left) and §6 (Primary Path Switchover).
 *
 * Ranking among candidates of the same state (`compareCandidates`): fewest
 * errors first, then the one heard from most recently (RFC 7829 §5.1 item 3:
 * "the last active destination"), then the primary, then the order of `paths`
 * (the association keeps the peer's address-list order), so the choice is
 * deterministic.
 */

import type { ProtocolConfig } from '../config.js';
import type { PathState } from './state.js';

export type SelectionReason =
  /** The primary, active. */
  | 'primary'
  /** Primary Path Switchover: staying on the alternate we moved to. */
  | 'switchover-alternate'
  | 'active-alternate'
  /** The last destination, active, and no active alternate exists. */
  | 'same-destination'
  /** No active path: the PF path with the fewest errors (RFC 7829 §5.1). */
  | 'potentially-failed'
  /** Every confirmed path is INACTIVE: the primary if confirmed, else the best inactive one. */
  | 'no-active-path';

export interface DestinationChoice {
  readonly address: string;
  readonly reason: SelectionReason;
}

function compareCandidates(a: PathState, b: PathState, preferred: string | undefined): number {
  if (a.errorCount !== b.errorCount) return a.errorCount - b.errorCount;
  const ha = a.lastHeardAt ?? -Infinity;
  const hb = b.lastHeardAt ?? -Infinity;
  if (ha !== hb) return hb > ha ? 1 : -1;
  if (a.address === preferred) return -1;
  if (b.address === preferred) return 1;
  return 0;
}

function best(candidates: readonly PathState[], preferred: string | undefined): PathState | undefined {
  let chosen: PathState | undefined;
  for (const c of candidates) {
    if (chosen === undefined || compareCandidates(c, chosen, preferred) < 0) chosen = c;
  }
  return chosen;
}

/**
 * Where new DATA goes. `current` is the destination the association used last
 * for new data: with `primaryPathSwitchover` on, once traffic moved off the
 * primary it stays on that alternate while the alternate is ACTIVE, even after
 * the primary recovers (RFC 7829 §6; a `setPrimary` from the ULP should clear
 * `current`). With it off, traffic returns to the primary as soon as it is
 * ACTIVE again (RFC 9260 §6.4). Undefined only when no confirmed path exists.
 *
 * The switchover trigger is the primary leaving ACTIVE (PF or INACTIVE), i.e.
 * RFC 7829's Primary.Switchover.Max.Retrans taken equal to
 * PotentiallyFailed.Max.Retrans (or Path.Max.Retrans with PF off).
 */
export function selectDestination(
  paths: readonly PathState[],
  primary: string,
  config: Pick<ProtocolConfig, 'primaryPathSwitchover'>,
  current?: string,
): DestinationChoice | undefined {
  const usable = paths.filter((p) => p.state !== 'unconfirmed');
  if (usable.length === 0) return undefined;
  const find = (address: string): PathState | undefined => usable.find((p) => p.address === address);
  const prim = find(primary);

  if (config.primaryPathSwitchover && current !== undefined && current !== primary) {
    if (find(current)?.state === 'active') return { address: current, reason: 'switchover-alternate' };
  }
  if (prim?.state === 'active') return { address: primary, reason: 'primary' };

  const active = best(usable.filter((p) => p.state === 'active'), primary);
  if (active) return { address: active.address, reason: 'active-alternate' };

  const pf = best(usable.filter((p) => p.state === 'pf'), primary);
  if (pf) return { address: pf.address, reason: 'potentially-failed' };

  // §6.4: nothing active; keep the primary so the T3-rtx / heartbeat backoff on
  // it (and the association error counter) decide, instead of hopping around.
  const fallback = prim ?? best(usable, primary);
  return fallback ? { address: fallback.address, reason: 'no-active-path' } : undefined;
}

/**
 * Where timed-out DATA goes (RFC 9260 §6.4.1, "SHOULD try to retransmit a
 * chunk that timed out to an active destination transport address that is
 * different from the last destination address to which the DATA chunk was
 * sent"): an active alternate if one exists, else the last destination if it
 * is still active, else the PF / inactive rules of `selectDestination`.
 * Fast retransmissions may keep their destination; that is the caller's call.
 * `_config` is taken for symmetry with `selectDestination`: Primary Path
 * Switchover governs new data only.
 */
export function selectRetransmitDestination(
  paths: readonly PathState[],
  lastDestination: string,
  _config: Pick<ProtocolConfig, 'primaryPathSwitchover'>,
): DestinationChoice | undefined {
  const usable = paths.filter((p) => p.state !== 'unconfirmed');
  const alternate = best(
    usable.filter((p) => p.state === 'active' && p.address !== lastDestination),
    undefined,
  );
  if (alternate) return { address: alternate.address, reason: 'active-alternate' };
  const last = usable.find((p) => p.address === lastDestination);
  if (last?.state === 'active') return { address: last.address, reason: 'same-destination' };
  return selectDestination(paths, lastDestination, { primaryPathSwitchover: false });
}
