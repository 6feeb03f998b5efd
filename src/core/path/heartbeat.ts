/**
 * Path heartbeat (RFC 9260 §8.3), path verification (§5.4) and the PF probing
 * of RFC 7829 §5.1.
 *
 * When a HEARTBEAT goes, per path state:
 * - active / inactive (confirmed, idle): RTO + HB.interval + δ after the last
 *   DATA or HEARTBEAT sent here, δ = jitter·RTO with jitter drawn from the
 *   injected Rng in [-0.5, 0.5) each time a HEARTBEAT is sent (§8.3);
 * - pf: once per RTO, HB.interval ignored, first one at once on entering PF
 *   (RFC 7829 §5.1);
 * - unconfirmed: at once, then once per RTO (§5.4), with at most HB.Max.Burst
 *   unconfirmed probes in flight at a time (`heartbeatTargets`).
 * Only one HEARTBEAT is outstanding per path; unanswered for its RTO it is an
 * error on the path and RTO backs off (§8.3), which spaces PF and unconfirmed
 * probes exponentially.
 */

import type { Millis, Rng } from '../env.js';
import type { ProtocolConfig } from '../config.js';
import { backOffRto, onRttMeasurement, type RtoConfig } from './rto.js';
import { onPathError, onPathSuccess, type FaultConfig } from './fault.js';
import { setPathStatus, type PathEvent, type PathState } from './state.js';

export type HeartbeatConfig = Pick<ProtocolConfig, 'hbInterval' | 'hbMaxBurst'>;

/**
 * When this path's next HEARTBEAT is due. With one outstanding, its timeout:
 * call `onHeartbeatTimeout` then, which frees the path for the next one. The
 * association arms its timer at the minimum over its paths.
 */
export function nextHeartbeatAt(path: PathState, config: Pick<ProtocolConfig, 'hbInterval'>): Millis {
  if (path.heartbeat) return path.heartbeat.timeoutAt;
  switch (path.state) {
    case 'unconfirmed':
    case 'pf': {
      const last = path.lastHeartbeatSentAt;
      if (last === undefined) return path.stateChangedAt;
      return Math.max(last + (path.lastHeartbeatRto ?? path.rto), path.stateChangedAt);
    }
    case 'active':
    case 'inactive': {
      const base = Math.max(path.createdAt, path.lastDataSentAt ?? -Infinity, path.lastHeartbeatSentAt ?? -Infinity);
      return base + path.rto + config.hbInterval + path.hbJitterFraction * path.rto;
    }
  }
}

/** A HEARTBEAT may be sent to this path now (none outstanding, and due). */
export function heartbeatDue(path: PathState, config: Pick<ProtocolConfig, 'hbInterval'>, now: Millis): boolean {
  return path.heartbeat === undefined && now >= nextHeartbeatAt(path, config);
}

/**
 * The addresses to send a HEARTBEAT to now, in `paths` order. Unconfirmed
 * paths are limited so that at most HB.Max.Burst probes to unconfirmed
 * addresses are in flight at once (§5.4), i.e. HB.Max.Burst per RTO.
 */
export function heartbeatTargets(paths: readonly PathState[], config: HeartbeatConfig, now: Millis): string[] {
  let unconfirmedInFlight = paths.filter((p) => p.state === 'unconfirmed' && p.heartbeat !== undefined).length;
  const out: string[] = [];
  for (const p of paths) {
    if (!heartbeatDue(p, config, now)) continue;
    if (p.state === 'unconfirmed') {
      if (unconfirmedInFlight >= config.hbMaxBurst) continue;
      unconfirmedInFlight++;
    }
    out.push(p.address);
  }
  return out;
}

// ---- Heartbeat Info (opaque to the peer, echoed in HEARTBEAT ACK) ----

const HB_INFO_VERSION = 1;
const HB_INFO_FIXED = 22;

export interface HeartbeatInfo {
  /** 16 lower-case hex digits. */
  readonly nonce: string;
  readonly sentAt: Millis;
  readonly address: string;
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * Records a HEARTBEAT sent to this path now and returns its Heartbeat
 * Information value: version (1 byte), 3 reserved, a 64-bit random nonce
 * (§5.4), the send time (float64 ms), the destination address (u16 length +
 * UTF-8). The address lets a HEARTBEAT ACK that arrives from another source
 * find its path; the nonce keeps a forged ACK from confirming an address.
 * Replaces any outstanding HEARTBEAT (an on-demand one, §8.3 D): the caller
 * gates periodic ones with `heartbeatDue`. Draws the jitter for the next one.
 */
export function buildHeartbeatInfo(path: PathState, rng: Rng, now: Millis): Uint8Array {
  const nonceBytes = new Uint8Array(8);
  rng.fill(nonceBytes);
  const nonce = toHex(nonceBytes);
  path.heartbeat = { nonce, sentAt: now, rto: path.rto, timeoutAt: now + path.rto };
  path.lastHeartbeatSentAt = now;
  path.lastHeartbeatRto = path.rto;
  path.hbJitterFraction = rng.nextU32() / 0x1_0000_0000 - 0.5;
  path.counters.hbSent++;

  const addr = new TextEncoder().encode(path.address);
  const out = new Uint8Array(HB_INFO_FIXED + addr.length);
  const view = new DataView(out.buffer);
  out[0] = HB_INFO_VERSION;
  out.set(nonceBytes, 4);
  view.setFloat64(12, now);
  view.setUint16(20, addr.length);
  out.set(addr, HB_INFO_FIXED);
  return out;
}

/** Decodes a Heartbeat Information value we built; undefined if it is not one. */
export function parseHeartbeatInfo(info: Uint8Array): HeartbeatInfo | undefined {
  if (info.length < HB_INFO_FIXED || info[0] !== HB_INFO_VERSION) return undefined;
  const view = new DataView(info.buffer, info.byteOffset, info.byteLength);
  const addrLength = view.getUint16(20);
  if (info.length !== HB_INFO_FIXED + addrLength) return undefined;
  const sentAt = view.getFloat64(12);
  if (!Number.isFinite(sentAt)) return undefined;
  const address = new TextDecoder().decode(info.subarray(HB_INFO_FIXED));
  return { nonce: toHex(info.subarray(4, 12)), sentAt, address };
}

export type HeartbeatAckOutcome =
  | {
      readonly kind: 'ack';
      /** RTT sample fed to `onRttMeasurement`. */
      readonly rtt: Millis;
      /** The path went UNCONFIRMED → ACTIVE (RFC 6458 SCTP_ADDR_CONFIRMED). */
      readonly confirmed: boolean;
      readonly event: PathEvent | undefined;
    }
  | { readonly kind: 'mismatch'; readonly reason: 'address' | 'nonce' | 'not-outstanding' }
  | { readonly kind: 'malformed' };

/**
 * A HEARTBEAT ACK echoing `info` for this path (find the path with
 * `parseHeartbeatInfo(info).address`). Only an echo of the outstanding nonce
 * counts (§5.4, §8.3): it clears the heartbeat, measures RTT from our own
 * record of the send time, clears the error counter, and makes the path ACTIVE
 * (confirming it if it was UNCONFIRMED). Anything else changes nothing.
 */
export function onHeartbeatAck(
  path: PathState,
  info: Uint8Array,
  now: Millis,
  config: RtoConfig,
): HeartbeatAckOutcome {
  const parsed = parseHeartbeatInfo(info);
  if (!parsed) return { kind: 'malformed' };
  if (parsed.address !== path.address) return { kind: 'mismatch', reason: 'address' };
  const hb = path.heartbeat;
  if (!hb) return { kind: 'mismatch', reason: 'not-outstanding' };
  if (parsed.nonce !== hb.nonce) return { kind: 'mismatch', reason: 'nonce' };

  path.heartbeat = undefined;
  path.counters.hbAcked++;
  path.lastHeardAt = now;
  const rtt = Math.max(0, now - hb.sentAt);
  onRttMeasurement(path, rtt, config);
  if (path.state === 'unconfirmed') {
    path.errorCount = 0;
    return { kind: 'ack', rtt, confirmed: true, event: setPathStatus(path, 'active', now) };
  }
  return { kind: 'ack', rtt, confirmed: false, event: onPathSuccess(path, now) };
}

export type HeartbeatTimeoutOutcome =
  | { readonly kind: 'not-due' }
  | { readonly kind: 'timeout'; readonly event: PathEvent | undefined };

/**
 * The outstanding HEARTBEAT went unanswered for its RTO (§8.3): an error on
 * the path (fault.ts) and RTO <- RTO*2. The association also counts it on its
 * own error counter when this is the path it sends data on (§8.1).
 */
export function onHeartbeatTimeout(
  path: PathState,
  config: FaultConfig & Pick<ProtocolConfig, 'rtoMin' | 'rtoMax'>,
  now: Millis,
): HeartbeatTimeoutOutcome {
  const hb = path.heartbeat;
  if (!hb || now < hb.timeoutAt) return { kind: 'not-due' };
  path.heartbeat = undefined;
  path.counters.hbTimeouts++;
  backOffRto(path, config);
  return { kind: 'timeout', event: onPathError(path, config, now) };
}
