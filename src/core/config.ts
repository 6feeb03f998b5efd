/**
 * Protocol parameters an operator tunes, with RFC 9260 §16 defaults, and their
 * validation. Times are milliseconds.
 */

export interface ProtocolConfig {
  /** RTO.Initial (RFC 9260 §16: 1 s). */
  readonly rtoInitial: number;
  /** RTO.Min (1 s). */
  readonly rtoMin: number;
  /** RTO.Max (60 s). */
  readonly rtoMax: number;
  /** RTO.Alpha (1/8) and RTO.Beta (1/4), §6.3.1. */
  readonly rtoAlpha: number;
  readonly rtoBeta: number;
  /** Max.Burst (4), §6.1. */
  readonly maxBurst: number;
  /** Valid.Cookie.Life (60 s), §5.1.3. */
  readonly validCookieLife: number;
  /** Association.Max.Retrans (10), §8.1. */
  readonly associationMaxRetrans: number;
  /** Path.Max.Retrans (5), §8.2. */
  readonly pathMaxRetrans: number;
  /**
   * Potentially-failed threshold (RFC 7829 §5.4): errors after which a path is
   * PF. 0 enables the "dormant" quick failover; `pathMaxRetrans` or more disables PF.
   */
  readonly pfMaxRetrans: number;
  /** Primary Path Switchover (RFC 7829 §6): return to the primary only when it recovers. */
  readonly primaryPathSwitchover: boolean;
  /** Max.Init.Retransmits (8), §5.1. */
  readonly maxInitRetransmits: number;
  /** HB.interval (30 s), §8.3. */
  readonly hbInterval: number;
  /** HB.Max.Burst (1). */
  readonly hbMaxBurst: number;
  /** Delayed SACK timer (200 ms, at most 500 ms), §6.2. */
  readonly sackDelay: number;
  /** Acknowledge at least every `sackFrequency` packets carrying DATA (2), §6.2. */
  readonly sackFrequency: number;
  /** Advertised receiver window in bytes. */
  readonly receiveWindow: number;
  /** Streams we ask for and accept. */
  readonly outboundStreams: number;
  readonly maxInboundStreams: number;
  /** Path MTU in bytes of IP packet (no PMTU discovery below this yet). */
  readonly pathMtu: number;
  /** Maximum message size the application may send, in bytes. */
  readonly maxMessageSize: number;
  /**
   * Bytes of user data the send queue holds before `send` reports back-pressure
   * (queued, not yet given a TSN). A message may always enter an empty queue.
   */
  readonly sendBufferSize: number;
  /**
   * Bound on DATA chunks holding a TSN and not yet cumulatively acknowledged.
   * Gap Ack Block offsets are 16 bits (RFC 9260 §3.3.4), so more could not be
   * selectively acknowledged anyway.
   */
  readonly maxOutstandingChunks: number;
  /** Grace period during which a rotated-out cookie secret still validates. */
  readonly cookieSecretGrace: number;
  /** How long one cookie secret signs new cookies before the endpoint rotates it (RFC 9260 §5.1.3 "the secret key SHOULD be changed reasonably frequently"). */
  readonly cookieSecretLifetime: number;
  /**
   * PR-SCTP (RFC 3758): advertise Forward-TSN-Supported in INIT / INIT ACK
   * (§3.3.1) and use it when the peer does too. With false we never abandon a
   * chunk that holds a TSN and treat a received FORWARD TSN as unsupported.
   */
  readonly prSctp: boolean;
  /**
   * SCTP_NODELAY (RFC 6458 §8.1.5): turns off the Nagle-like sender-side SWS
   * avoidance (RFC 9260 §6.1, RFC 1122 §4.2.3.4) that holds a partly filled
   * packet of new data while earlier data is unacknowledged. Off by default,
   * as in usrsctp and Linux: small messages then share packets.
   */
  readonly nodelay: boolean;
  /**
   * RFC 4895 AUTH: offer RANDOM, CHUNK LIST and HMAC-ALGO in INIT / INIT ACK
   * and authenticate chunks when the peer does too. Takes effect only on an
   * endpoint given an HMAC-SHA1 (RFC 4895 §3.3: SHA-1 MUST be supported).
   */
  readonly auth: boolean;
  /**
   * RFC 5061 ADD-IP: list ASCONF and ASCONF-ACK in Supported Extensions and
   * use them when the peer does too. Only with AUTH (RFC 5061 §4.1: ASCONF
   * is always authenticated).
   */
  readonly asconf: boolean;
  /**
   * Chunk types the peer must authenticate (RFC 4895 §3.2 CHUNK LIST),
   * besides ASCONF and ASCONF-ACK which are always listed with `asconf`.
   * INIT, INIT ACK, SHUTDOWN COMPLETE and AUTH cannot be listed.
   */
  readonly authChunks: readonly number[];
  /**
   * HMAC identifiers offered in HMAC-ALGO, most preferred first (RFC 4895
   * §3.3): 3 (SHA-256), 1 (SHA-1). SHA-1 MUST be among them.
   */
  readonly hmacIdentifiers: readonly number[];
  /**
   * Endpoint pair shared keys by identifier (RFC 4895 §6.1). Key 0 is the
   * empty key unless one with identifier 0 is given here.
   */
  readonly sharedKeys: readonly SharedKey[];
  /** The Shared Key Identifier our AUTH chunks carry (RFC 4895 §6.2): 0 or one of `sharedKeys`. */
  readonly activeKeyId: number;
  /** RFC 5061 §4.2.5 Adaptation Layer Indication to send in INIT / INIT ACK; undefined: none. */
  readonly adaptationIndication: number | undefined;
  /**
   * Acknowledge after forward (rx/ack-hold.ts) for new associations: received
   * TSNs are reported in SACKs only once the application released the message
   * (`Endpoint.release`). Off by default; `Endpoint.setAckHold` turns it on or
   * off per association.
   */
  readonly holdAcks: boolean;
  /** With `holdAcks`: ms a delivered message may stay unreleased before a_rwnd closes (back-pressure). */
  readonly holdLimit: number;
  /** Report 'message-acked' when the peer's Cumulative TSN Ack covers a sent message. */
  readonly notifyAcked: boolean;
}

/** An endpoint pair shared key (RFC 4895 §6.1). */
export interface SharedKey {
  readonly id: number;
  readonly key: Uint8Array;
}

export const defaultProtocolConfig: ProtocolConfig = {
  rtoInitial: 1000,
  rtoMin: 1000,
  rtoMax: 60_000,
  rtoAlpha: 0.125,
  rtoBeta: 0.25,
  maxBurst: 4,
  validCookieLife: 60_000,
  associationMaxRetrans: 10,
  pathMaxRetrans: 5,
  pfMaxRetrans: 5,
  primaryPathSwitchover: false,
  maxInitRetransmits: 8,
  hbInterval: 30_000,
  hbMaxBurst: 1,
  sackDelay: 200,
  sackFrequency: 2,
  receiveWindow: 256 * 1024,
  outboundStreams: 10,
  maxInboundStreams: 65535,
  pathMtu: 1500,
  maxMessageSize: 256 * 1024,
  sendBufferSize: 1024 * 1024,
  maxOutstandingChunks: 16384,
  cookieSecretGrace: 60_000,
  cookieSecretLifetime: 3_600_000,
  prSctp: true,
  nodelay: false,
  auth: true,
  asconf: true,
  authChunks: [],
  hmacIdentifiers: [3, 1],
  sharedKeys: [],
  activeKeyId: 0,
  adaptationIndication: undefined,
  holdAcks: false,
  holdLimit: 5000,
  notifyAcked: false,
};

export type ConfigResult = { readonly ok: true; readonly config: ProtocolConfig } | { readonly ok: false; readonly errors: readonly string[] };

interface Rule {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}
/** A setting that is not a plain number or boolean: `check` returns what is wrong, or undefined. */
interface Custom {
  readonly check: (value: unknown) => string | undefined;
}

/** RFC 4895 §3.2: "The chunk types for INIT, INIT ACK, SHUTDOWN COMPLETE, and AUTH chunks MUST NOT be listed". */
const NEVER_AUTHENTICATED = [1, 2, 14, 15];

function checkAuthChunks(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `must be a list of chunk types, got ${JSON.stringify(v)}`;
  for (const t of v) {
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 255) return `chunk types are integers from 0 to 255, got ${JSON.stringify(t)}`;
    if (NEVER_AUTHENTICATED.includes(t)) return `chunk type ${t} cannot be authenticated (RFC 4895 §3.2)`;
  }
  return undefined;
}

function checkHmacIdentifiers(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length === 0) return `must be a non-empty list of HMAC identifiers, got ${JSON.stringify(v)}`;
  for (const id of v) if (id !== 1 && id !== 3) return `supported HMAC identifiers are 1 (SHA-1) and 3 (SHA-256), got ${JSON.stringify(id)}`;
  if (new Set(v).size !== v.length) return 'lists an HMAC identifier twice';
  if (!v.includes(1)) return 'must include 1 (SHA-1, RFC 4895 §3.3)';
  return undefined;
}

function checkSharedKeys(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `must be a list of { id, key }, got ${JSON.stringify(v)}`;
  const ids = new Set<number>();
  for (const k of v) {
    const id = (k as { id?: unknown } | null)?.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 65535) return `key identifiers are integers from 0 to 65535, got ${JSON.stringify(id)}`;
    if (!((k as { key?: unknown }).key instanceof Uint8Array)) return `key ${id} must be a Uint8Array`;
    if (ids.has(id)) return `key identifier ${id} given twice`;
    ids.add(id);
  }
  return undefined;
}

const rules: Record<keyof ProtocolConfig, Rule | 'boolean' | Custom> = {
  rtoInitial: { min: 1, max: 3_600_000, integer: false },
  rtoMin: { min: 1, max: 3_600_000, integer: false },
  rtoMax: { min: 1, max: 3_600_000, integer: false },
  rtoAlpha: { min: 0, max: 1, integer: false },
  rtoBeta: { min: 0, max: 1, integer: false },
  maxBurst: { min: 1, max: 1024, integer: true },
  validCookieLife: { min: 1, max: 86_400_000, integer: false },
  associationMaxRetrans: { min: 1, max: 1000, integer: true },
  pathMaxRetrans: { min: 0, max: 1000, integer: true },
  pfMaxRetrans: { min: 0, max: 1000, integer: true },
  primaryPathSwitchover: 'boolean',
  maxInitRetransmits: { min: 0, max: 1000, integer: true },
  hbInterval: { min: 1, max: 86_400_000, integer: false },
  hbMaxBurst: { min: 1, max: 64, integer: true },
  sackDelay: { min: 0, max: 500, integer: false },
  sackFrequency: { min: 1, max: 64, integer: true },
  receiveWindow: { min: 1500, max: 0xffff_ffff, integer: true },
  outboundStreams: { min: 1, max: 65535, integer: true },
  maxInboundStreams: { min: 1, max: 65535, integer: true },
  pathMtu: { min: 576, max: 65535, integer: true },
  maxMessageSize: { min: 1, max: 0xffff_ffff, integer: true },
  sendBufferSize: { min: 1, max: 0xffff_ffff, integer: true },
  maxOutstandingChunks: { min: 1, max: 65535, integer: true },
  cookieSecretGrace: { min: 0, max: 86_400_000, integer: false },
  cookieSecretLifetime: { min: 1, max: 86_400_000 * 30, integer: false },
  prSctp: 'boolean',
  nodelay: 'boolean',
  auth: 'boolean',
  asconf: 'boolean',
  authChunks: { check: checkAuthChunks },
  hmacIdentifiers: { check: checkHmacIdentifiers },
  sharedKeys: { check: checkSharedKeys },
  activeKeyId: { min: 0, max: 65535, integer: true },
  adaptationIndication: { min: 0, max: 0xffff_ffff, integer: true },
  holdAcks: 'boolean',
  holdLimit: { min: 1, max: 3_600_000, integer: false },
  notifyAcked: 'boolean',
};

/**
 * Defaults overlaid with `overrides`, checked field by field. Every error names
 * the key and what is wrong, so the CLI can print it as one line.
 */
export function resolveProtocolConfig(overrides: Readonly<Record<string, unknown>> = {}): ConfigResult {
  const errors: string[] = [];
  const merged: Record<string, unknown> = { ...defaultProtocolConfig };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const rule = (rules as Record<string, Rule | 'boolean' | Custom | undefined>)[key];
    if (!rule) {
      errors.push(`${key}: unknown setting`);
      continue;
    }
    if (typeof rule === 'object' && 'check' in rule) {
      const problem = rule.check(value);
      if (problem !== undefined) errors.push(`${key}: ${problem}`);
      else merged[key] = value;
      continue;
    }
    if (rule === 'boolean') {
      if (typeof value !== 'boolean') errors.push(`${key}: must be true or false, got ${JSON.stringify(value)}`);
      else merged[key] = value;
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      errors.push(`${key}: must be a number, got ${JSON.stringify(value)}`);
    } else if (rule.integer && !Number.isInteger(value)) {
      errors.push(`${key}: must be a whole number, got ${value}`);
    } else if (value < rule.min || value > rule.max) {
      errors.push(`${key}: must be between ${rule.min} and ${rule.max}, got ${value}`);
    } else {
      merged[key] = value;
    }
  }
  const c = merged as unknown as ProtocolConfig;
  if (c.activeKeyId !== 0 && !c.sharedKeys.some((k) => k.id === c.activeKeyId)) {
    errors.push(`activeKeyId: ${c.activeKeyId} is not one of sharedKeys (only key 0 exists without it)`);
  }
  if (c.rtoMin > c.rtoMax) errors.push(`rtoMin: must not exceed rtoMax (${c.rtoMin} > ${c.rtoMax})`);
  if (c.rtoInitial < c.rtoMin || c.rtoInitial > c.rtoMax) {
    errors.push(`rtoInitial: must lie between rtoMin and rtoMax (${c.rtoMin}..${c.rtoMax}), got ${c.rtoInitial}`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, config: c };
}
