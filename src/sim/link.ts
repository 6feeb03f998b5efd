/**
 * Properties and counters of one direction of a simulated path between two
 * addresses. Probabilities are in [0, 1]; times in (virtual) milliseconds.
 */
import type { Millis } from '../core/env.js';

export interface LinkProperties {
  /** One-way propagation delay. */
  readonly delay: Millis;
  /**
   * Extra delay drawn uniformly from [0, jitter) per datagram. Jitter never
   * reorders: a direction is FIFO (a datagram never arrives before one sent
   * earlier on it) unless it is picked by `reorder`.
   */
  readonly jitter: Millis;
  /** Probability that a datagram is lost. */
  readonly loss: number;
  /** Probability that a datagram is delivered twice (the copy draws its own jitter). */
  readonly duplicate: number;
  /**
   * Probability that a datagram is held back by `reorderDelay`, outside the
   * FIFO order, so that later datagrams overtake it.
   */
  readonly reorder: number;
  /** How long a reordered datagram is held back. */
  readonly reorderDelay: Millis;
  /**
   * IP MTU in bytes. A datagram's IP size is its SCTP packet plus 20 (IPv4) or
   * 40 (IPv6) bytes of IP header, the same accounting as ProtocolConfig.pathMtu.
   */
  readonly mtu: number;
  /** Larger datagrams are dropped silently (a PMTU black hole) or also reported to the sender. */
  readonly tooBig: 'drop' | 'report';
  /** False: every datagram sent, or arriving, while down is dropped (a cut path). */
  readonly up: boolean;
  /**
   * Bytes per millisecond of serialization (IP size); undefined = infinite.
   * Datagrams queue behind each other (drop-tail at `queueLimit`).
   */
  readonly bandwidth: number | undefined;
  /** Bytes the serialization queue holds before it drops (only with `bandwidth`). */
  readonly queueLimit: number;
}

/** Every field optional: what `link` and `setLink` take. */
export type LinkSettings = { readonly [K in keyof LinkProperties]?: LinkProperties[K] };

/** A clean 1 ms LAN: the default for address pairs nobody configured (unless routing is strict). */
export const defaultLinkProperties: LinkProperties = {
  delay: 1,
  jitter: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelay: 10,
  mtu: 1500,
  tooBig: 'drop',
  up: true,
  bandwidth: undefined,
  queueLimit: 1_000_000,
};

export function mergeLink(base: LinkProperties, patch: LinkSettings): LinkProperties {
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    // exactOptionalPropertyTypes: `bandwidth: undefined` is meaningful (infinite), other undefineds are absent.
    if (v !== undefined || k === 'bandwidth') merged[k] = v;
  }
  const props = merged as unknown as LinkProperties;
  const errors = validateLink(props);
  if (errors.length > 0) throw new Error(`invalid link settings: ${errors.join('; ')}`);
  return props;
}

export function validateLink(p: LinkProperties): string[] {
  const errors: string[] = [];
  const nonNegative = (name: string, v: number): void => {
    if (!Number.isFinite(v) || v < 0) errors.push(`${name} must be a finite number >= 0 (got ${v})`);
  };
  const probability = (name: string, v: number): void => {
    if (!(v >= 0 && v <= 1)) errors.push(`${name} must be a probability in [0, 1] (got ${v})`);
  };
  nonNegative('delay', p.delay);
  nonNegative('jitter', p.jitter);
  nonNegative('reorderDelay', p.reorderDelay);
  nonNegative('queueLimit', p.queueLimit);
  probability('loss', p.loss);
  probability('duplicate', p.duplicate);
  probability('reorder', p.reorder);
  if (!Number.isInteger(p.mtu) || p.mtu < 68) errors.push(`mtu must be an integer >= 68 (got ${p.mtu})`);
  if (p.tooBig !== 'drop' && p.tooBig !== 'report') errors.push(`tooBig must be 'drop' or 'report' (got ${String(p.tooBig)})`);
  if (typeof p.up !== 'boolean') errors.push(`up must be a boolean`);
  if (p.bandwidth !== undefined && !(Number.isFinite(p.bandwidth) && p.bandwidth > 0)) {
    errors.push(`bandwidth must be > 0 bytes/ms or undefined (got ${p.bandwidth})`);
  }
  return errors;
}

/** Counters of one direction. `sent` counts datagrams handed to the link (after drop filters). */
export interface LinkStats {
  sent: number;
  delivered: number;
  /** Random loss (`loss`). */
  lost: number;
  /** Extra copies made (`duplicate`); each copy is delivered or dropped like any datagram. */
  duplicated: number;
  /** Datagrams held back by `reorder`. */
  reordered: number;
  /** Datagrams above the MTU. */
  tooBig: number;
  /** Dropped because the link was down when sent or when arriving. */
  linkDown: number;
  /** Dropped by the serialization queue (`queueLimit`). */
  queueFull: number;
  /** Dropped or trimmed by a drop filter (counted per datagram). */
  filtered: number;
  /** Arrived at a node that was killed. */
  nodeDown: number;
  bytesSent: number;
  bytesDelivered: number;
}

export function emptyLinkStats(): LinkStats {
  return {
    sent: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    tooBig: 0,
    linkDown: 0,
    queueFull: 0,
    filtered: 0,
    nodeDown: 0,
    bytesSent: 0,
    bytesDelivered: 0,
  };
}

/** Mutable per-direction runtime: properties, counters, FIFO and serialization clocks. */
export interface LinkDirection {
  readonly from: string;
  readonly to: string;
  props: LinkProperties;
  readonly stats: LinkStats;
  /** Latest in-order arrival time scheduled: later datagrams never arrive earlier (FIFO). */
  lastArrival: Millis;
  /** When the serialization queue is empty again. */
  busyUntil: Millis;
  /** True when created by `link`/`setLink`; false when made from the default link on first use. */
  configured: boolean;
}

export function linkKey(from: string, to: string): string {
  return `${from}>${to}`;
}

export function ipHeaderBytes(address: string): number {
  return address.includes(':') ? 40 : 20;
}
