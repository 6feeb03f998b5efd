/**
 * The State Cookie (RFC 9260 §5.1.3): everything needed to build the TCB when
 * the COOKIE ECHO comes back, so no state is kept before it (§5.1 "the
 * receiver of an INIT ... MUST NOT allocate resources"). Signed with
 * HMAC-SHA256 under an endpoint secret that rotates (`cookieSecretLifetime`);
 * the previous secret still validates for `cookieSecretGrace` after rotation.
 * The MAC is checked, in constant time, before a single field is parsed.
 */
import type { Millis, HmacSha256, Rng } from '../env.js';
import type { ProtocolConfig } from '../config.js';

export interface CookieContents {
  readonly createdAt: Millis;
  /** Valid.Cookie.Life plus any Cookie Preservative increment granted (§5.1.3, §5.2.6). */
  readonly lifespan: Millis;
  readonly localTag: number;
  readonly localInitialTsn: number;
  readonly peerTag: number;
  readonly peerInitialTsn: number;
  readonly peerARwnd: number;
  /** Negotiated stream counts (§5.1.1). */
  readonly outboundStreams: number;
  readonly inboundStreams: number;
  /** Tie-tags (§5.2.2): the tags of the association that existed when the INIT ACK was built, else 0. */
  readonly localTieTag: number;
  readonly peerTieTag: number;
  readonly peerForwardTsn: boolean;
  readonly localPort: number;
  readonly peerPort: number;
  /** Peer addresses; the first is the source of the INIT (confirmed, §5.4). */
  readonly peerAddresses: readonly string[];
  readonly localAddresses: readonly string[];
  /** Our RFC 4895 key vector as sent in the INIT ACK (empty: we did not offer AUTH). */
  readonly localAuth: Uint8Array;
  /** The peer's, from its INIT (empty: it did not offer AUTH). */
  readonly peerAuth: Uint8Array;
  /** Chunk types of the peer's Supported Extensions parameter (RFC 5061 §4.2.7). */
  readonly peerExtensions: readonly number[];
  /** The peer's Adaptation Layer Indication (RFC 5061 §4.2.5), if any. */
  readonly peerAdaptation: number | undefined;
}

export interface CookieSecret {
  readonly key: Uint8Array;
  readonly createdAt: Millis;
}
export interface CookieSecrets {
  current: CookieSecret;
  previous: { readonly key: Uint8Array; readonly retiredAt: Millis } | undefined;
}

const VERSION = 2;
const MAC_LENGTH = 32;
const FIXED = 1 + 8 + 8 + 4 * 6 + 2 * 2 + 4 * 2 + 1 + 2 * 2;

export function createCookieSecrets(rng: Rng, now: Millis): CookieSecrets {
  const key = new Uint8Array(32);
  rng.fill(key);
  return { current: { key, createdAt: now }, previous: undefined };
}

/** Rotates the secret when it is older than `cookieSecretLifetime`; the old one stays valid for the grace period. */
export function maybeRotateSecret(s: CookieSecrets, rng: Rng, now: Millis, config: Pick<ProtocolConfig, 'cookieSecretLifetime'>): void {
  if (now - s.current.createdAt < config.cookieSecretLifetime) return;
  rotateSecret(s, rng, now);
}

export function rotateSecret(s: CookieSecrets, rng: Rng, now: Millis): void {
  const key = new Uint8Array(32);
  rng.fill(key);
  s.previous = { key: s.current.key, retiredAt: now };
  s.current = { key, createdAt: now };
}

export function encodeCookieBody(c: CookieContents): Uint8Array {
  const enc = new TextEncoder();
  const peer = c.peerAddresses.slice(0, 255).map((a) => enc.encode(a));
  const local = c.localAddresses.slice(0, 255).map((a) => enc.encode(a));
  const localAuth = c.localAuth.subarray(0, 0xffff);
  const peerAuth = c.peerAuth.subarray(0, 0xffff);
  const extensions = c.peerExtensions.slice(0, 255);
  let size = FIXED + 2;
  for (const a of [...peer, ...local]) size += 1 + Math.min(a.length, 255);
  size += 2 + localAuth.length + 2 + peerAuth.length + 1 + extensions.length + 5;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let o = 0;
  out[o++] = VERSION;
  v.setFloat64(o, c.createdAt);
  o += 8;
  v.setFloat64(o, c.lifespan);
  o += 8;
  for (const n of [c.localTag, c.localInitialTsn, c.peerTag, c.peerInitialTsn, c.peerARwnd, c.localTieTag]) {
    v.setUint32(o, n >>> 0);
    o += 4;
  }
  v.setUint16(o, c.outboundStreams);
  v.setUint16(o + 2, c.inboundStreams);
  o += 4;
  v.setUint32(o, c.peerTieTag >>> 0);
  o += 4;
  v.setUint32(o, 0);
  o += 4;
  out[o++] = c.peerForwardTsn ? 1 : 0;
  v.setUint16(o, c.localPort);
  v.setUint16(o + 2, c.peerPort);
  o += 4;
  out[o++] = peer.length;
  out[o++] = local.length;
  for (const a of [...peer, ...local]) {
    const b = a.subarray(0, 255);
    out[o++] = b.length;
    out.set(b, o);
    o += b.length;
  }
  for (const v of [localAuth, peerAuth]) {
    v16(out, o, v.length);
    out.set(v, o + 2);
    o += 2 + v.length;
  }
  out[o++] = extensions.length;
  for (const t of extensions) out[o++] = t;
  out[o++] = c.peerAdaptation === undefined ? 0 : 1;
  new DataView(out.buffer, out.byteOffset).setUint32(o, (c.peerAdaptation ?? 0) >>> 0);
  return out;
}

function v16(out: Uint8Array, o: number, n: number): void {
  out[o] = n >>> 8;
  out[o + 1] = n & 0xff;
}

/** Parses a body whose MAC was verified; undefined if it is not one of ours (wrong version, truncated). */
export function decodeCookieBody(b: Uint8Array): CookieContents | undefined {
  if (b.length < FIXED + 2 || b[0] !== VERSION) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 1;
  const createdAt = v.getFloat64(o);
  const lifespan = v.getFloat64(o + 8);
  o += 16;
  const u: number[] = [];
  for (let i = 0; i < 6; i++, o += 4) u.push(v.getUint32(o));
  const outboundStreams = v.getUint16(o);
  const inboundStreams = v.getUint16(o + 2);
  o += 4;
  const peerTieTag = v.getUint32(o);
  o += 8;
  const peerForwardTsn = b[o++] === 1;
  const localPort = v.getUint16(o);
  const peerPort = v.getUint16(o + 2);
  o += 4;
  const nPeer = b[o++]!;
  const nLocal = b[o++]!;
  const dec = new TextDecoder();
  const addrs: string[] = [];
  for (let i = 0; i < nPeer + nLocal; i++) {
    const len = b[o];
    if (len === undefined || o + 1 + len > b.length) return undefined;
    addrs.push(dec.decode(b.subarray(o + 1, o + 1 + len)));
    o += 1 + len;
  }
  const vectors: Uint8Array[] = [];
  for (let i = 0; i < 2; i++) {
    if (o + 2 > b.length) return undefined;
    const len = (b[o]! << 8) | b[o + 1]!;
    if (o + 2 + len > b.length) return undefined;
    vectors.push(b.slice(o + 2, o + 2 + len));
    o += 2 + len;
  }
  const nExt = b[o];
  if (nExt === undefined || o + 1 + nExt + 5 > b.length) return undefined;
  const peerExtensions = [...b.subarray(o + 1, o + 1 + nExt)];
  o += 1 + nExt;
  const peerAdaptation = b[o] === 1 ? v.getUint32(o + 1) : undefined;
  if (!Number.isFinite(createdAt) || !Number.isFinite(lifespan)) return undefined;
  return {
    createdAt,
    lifespan,
    localTag: u[0]!,
    localInitialTsn: u[1]!,
    peerTag: u[2]!,
    peerInitialTsn: u[3]!,
    peerARwnd: u[4]!,
    localTieTag: u[5]!,
    peerTieTag,
    outboundStreams,
    inboundStreams,
    peerForwardTsn,
    localPort,
    peerPort,
    peerAddresses: addrs.slice(0, nPeer),
    localAddresses: addrs.slice(nPeer),
    localAuth: vectors[0]!,
    peerAuth: vectors[1]!,
    peerExtensions,
    peerAdaptation,
  };
}

/** body ‖ HMAC-SHA256(current secret, body). */
export function mintCookie(s: CookieSecrets, hmac: HmacSha256, c: CookieContents): Uint8Array {
  const body = encodeCookieBody(c);
  const mac = hmac(s.current.key, body);
  const out = new Uint8Array(body.length + MAC_LENGTH);
  out.set(body, 0);
  out.set(mac.subarray(0, MAC_LENGTH), body.length);
  return out;
}

/** Compares without an early exit, so timing does not reveal how many MAC bytes were right (§5.1.5 step 2). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export type OpenCookieOutcome =
  | { readonly kind: 'valid'; readonly contents: CookieContents; readonly secret: 'current' | 'previous' }
  /** The MAC matches no valid secret (tampered, forged, or signed by a secret past its grace): discard silently (§5.1.5 step 2). */
  | { readonly kind: 'bad-mac' }
  | { readonly kind: 'malformed' };

export function openCookie(s: CookieSecrets, hmac: HmacSha256, cookie: Uint8Array, now: Millis, config: Pick<ProtocolConfig, 'cookieSecretGrace'>): OpenCookieOutcome {
  if (cookie.length <= MAC_LENGTH) return { kind: 'malformed' };
  const body = cookie.subarray(0, cookie.length - MAC_LENGTH);
  const mac = cookie.subarray(cookie.length - MAC_LENGTH);
  let secret: 'current' | 'previous' | undefined;
  if (constantTimeEqual(hmac(s.current.key, body).subarray(0, MAC_LENGTH), mac)) secret = 'current';
  else if (s.previous && now - s.previous.retiredAt <= config.cookieSecretGrace && constantTimeEqual(hmac(s.previous.key, body).subarray(0, MAC_LENGTH), mac)) {
    secret = 'previous';
  }
  if (secret === undefined) return { kind: 'bad-mac' };
  const contents = decodeCookieBody(body);
  return contents ? { kind: 'valid', contents, secret } : { kind: 'malformed' };
}

/** §5.1.5 step 3: microseconds past the cookie's end of life, or 0 if still valid. */
export function cookieStaleness(c: CookieContents, now: Millis): number {
  const over = now - (c.createdAt + c.lifespan);
  return over > 0 ? Math.min(0xffff_ffff, Math.ceil(over * 1000)) : 0;
}
