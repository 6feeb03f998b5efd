/**
 * The INIT / INIT ACK side of RFC 4895: our RANDOM, CHUNK LIST and HMAC-ALGO
 * parameters (§3.1-§3.3), the key vectors made of them (§6.1), and the
 * checks on the peer's (§6.1: a RANDOM of 32 bytes, SHA-1 among the HMACs).
 */
import { ChunkType } from '../../wire/registry.js';
import { encodeParam, encodedParamLength } from '../../wire/param.js';
import type { ErrorCause, Param } from '../../wire/types.js';
import type { ProtocolConfig, SharedKey } from '../config.js';
import type { Rng } from '../env.js';
import { AUTH_HEADER, HMAC_SHA1, createAuthCounters, macLength, type AuthState } from './state.js';

/** RFC 4895 §6.1: "The RANDOM parameter MUST contain a 32 byte Random Number." */
export const RANDOM_LENGTH = 32;

/** RFC 4895 §3.2: these chunk types in a CHUNK LIST "MUST be ignored". */
const NEVER_AUTHENTICATED: readonly number[] = [ChunkType.INIT, ChunkType.INIT_ACK, ChunkType.SHUTDOWN_COMPLETE, ChunkType.AUTH];

export type AuthConfig = Pick<ProtocolConfig, 'auth' | 'asconf' | 'authChunks' | 'hmacIdentifiers' | 'sharedKeys' | 'activeKeyId'>;

/** The HMAC identifiers we can compute: SHA-256 always, SHA-1 only when the endpoint was given it. */
export function availableHmacIds(config: AuthConfig, haveSha1: boolean): number[] {
  return config.hmacIdentifiers.filter((id) => id !== HMAC_SHA1 || haveSha1);
}

/**
 * AUTH is offered when configured and SHA-1 can be computed (RFC 4895 §3.3:
 * it MUST be supported and listed, and peers refuse an HMAC-ALGO without it).
 */
export function authOffered(config: AuthConfig, haveSha1: boolean): boolean {
  return config.auth && haveSha1 && availableHmacIds(config, haveSha1).includes(HMAC_SHA1);
}

/** ADD-IP is offered only together with AUTH (RFC 5061 §4.1). */
export function asconfOffered(config: AuthConfig, haveSha1: boolean): boolean {
  return config.asconf && authOffered(config, haveSha1);
}

/** Our CHUNK LIST: ASCONF and ASCONF-ACK with ADD-IP (RFC 5061 §4.1), then the configured types, ascending. */
export function localChunkList(config: AuthConfig, haveSha1: boolean): number[] {
  const set = new Set<number>(config.authChunks.filter((t) => !NEVER_AUTHENTICATED.includes(t)));
  if (asconfOffered(config, haveSha1)) {
    set.add(ChunkType.ASCONF);
    set.add(ChunkType.ASCONF_ACK);
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * Fresh RANDOM, CHUNK LIST (omitted when empty, §3.2 allows it) and
 * HMAC-ALGO parameters for an INIT or INIT ACK; [] when AUTH is not offered.
 */
export function buildAuthParams(config: AuthConfig, haveSha1: boolean, rng: Rng): Param[] {
  if (!authOffered(config, haveSha1)) return [];
  const random = new Uint8Array(RANDOM_LENGTH);
  rng.fill(random);
  const chunks = localChunkList(config, haveSha1);
  return [
    { kind: 'random', random },
    ...(chunks.length > 0 ? [{ kind: 'chunk-list' as const, chunkTypes: chunks }] : []),
    { kind: 'hmac-algo', hmacIds: availableHmacIds(config, haveSha1) },
  ];
}

/** The RANDOM, CHUNK LIST and HMAC-ALGO among `params` (the first of each). */
export function authParamsOf(params: readonly Param[]): Param[] {
  const out: Param[] = [];
  for (const kind of ['random', 'chunk-list', 'hmac-algo'] as const) {
    const p = params.find((x) => x.kind === kind);
    if (p !== undefined) out.push(p);
  }
  return out;
}

function tlv(p: Param): Uint8Array {
  const len = encodedParamLength(p);
  const out = new Uint8Array((len + 3) & ~3);
  encodeParam(p, out, 0);
  return out.subarray(0, len);
}

/**
 * RFC 4895 §6.1 key vector: "the concatenation of the RANDOM, CHUNKS (if
 * sent) and HMAC-ALGO parameters", each with its type and length and without
 * padding. Empty unless both RANDOM and HMAC-ALGO are among `params`.
 */
export function keyVector(params: readonly Param[]): Uint8Array {
  const random = params.find((p) => p.kind === 'random');
  const hmacs = params.find((p) => p.kind === 'hmac-algo');
  if (!random || !hmacs) return new Uint8Array(0);
  const chunks = params.find((p) => p.kind === 'chunk-list');
  const parts = [tlv(random), ...(chunks ? [tlv(chunks)] : []), tlv(hmacs)];
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/** What a key vector holds: its RANDOM, chunk types and HMAC identifiers. */
export interface KeyVectorContents {
  readonly random: Uint8Array;
  readonly chunkTypes: readonly number[];
  readonly hmacIds: readonly number[];
}

/** Reads a key vector `keyVector` built (a TLV walk); undefined if it is not one. */
export function parseKeyVector(v: Uint8Array): KeyVectorContents | undefined {
  let random: Uint8Array | undefined;
  let chunkTypes: number[] = [];
  let hmacIds: number[] | undefined;
  let o = 0;
  while (o + 4 <= v.length) {
    const type = (v[o]! << 8) | v[o + 1]!;
    const len = (v[o + 2]! << 8) | v[o + 3]!;
    if (len < 4 || o + len > v.length) return undefined;
    const value = v.subarray(o + 4, o + len);
    if (type === 0x8002) random = value;
    else if (type === 0x8003) chunkTypes = [...value];
    else if (type === 0x8004) {
      hmacIds = [];
      for (let i = 0; i + 1 < value.length; i += 2) hmacIds.push((value[i]! << 8) | value[i + 1]!);
    }
    o += len;
  }
  if (o !== v.length || random === undefined || hmacIds === undefined) return undefined;
  return { random, chunkTypes, hmacIds };
}

export type PeerAuthCheck =
  | { readonly ok: true; readonly keyVector: Uint8Array }
  | { readonly ok: false; readonly cause: ErrorCause };

function violation(text: string): ErrorCause {
  return { kind: 'protocol-violation', info: new TextEncoder().encode(text) };
}

/**
 * The peer's AUTH parameters in its INIT / INIT ACK (RFC 4895 §6.1). Without
 * RANDOM or HMAC-ALGO the peer does not do AUTH (an empty key vector). A
 * RANDOM that is not 32 bytes, or an HMAC-ALGO without SHA-1, aborts the
 * association with a Protocol Violation ("If the Random Number is not 32
 * byte long the association MUST be aborted"; "The HMAC algorithm based on
 * SHA-1 MUST be supported and included in the HMAC-ALGO parameter").
 */
export function checkPeerAuthParams(params: readonly Param[]): PeerAuthCheck {
  const random = params.find((p) => p.kind === 'random');
  const hmacs = params.find((p) => p.kind === 'hmac-algo');
  if (random && random.kind === 'random' && random.random.length !== RANDOM_LENGTH) {
    return { ok: false, cause: violation(`RANDOM of ${random.random.length} bytes, RFC 4895 asks for 32`) };
  }
  if (hmacs && hmacs.kind === 'hmac-algo' && !hmacs.hmacIds.includes(HMAC_SHA1)) {
    return { ok: false, cause: violation('HMAC-ALGO without SHA-1 (RFC 4895 §6.1)') };
  }
  return { ok: true, keyVector: keyVector(params) };
}

/**
 * The association's AUTH state from the two key vectors, or undefined when
 * either side does not do AUTH or no HMAC is common (RFC 4895 §6.1). The
 * peer's CHUNK LIST is kept without the types §3.2 says to ignore.
 */
export function createAuthState(localKeyVector: Uint8Array, peerKeyVector: Uint8Array, config: AuthConfig, haveSha1: boolean): AuthState | undefined {
  const local = localKeyVector.length > 0 ? parseKeyVector(localKeyVector) : undefined;
  const peer = peerKeyVector.length > 0 ? parseKeyVector(peerKeyVector) : undefined;
  if (!local || !peer) return undefined;
  const supported = local.hmacIds.filter((id) => id !== HMAC_SHA1 || haveSha1);
  // §3.3: "the first HMAC Identifier listed in the HMAC-ALGO parameter of the peer that it supports".
  const hmacId = peer.hmacIds.find((id) => supported.includes(id) && macLength(id) !== undefined);
  if (hmacId === undefined) return undefined;
  const peerChunks = [...new Set(peer.chunkTypes)].filter((t) => !NEVER_AUTHENTICATED.includes(t));
  const bundled = peerChunks.some((t) => t !== ChunkType.ASCONF && t !== ChunkType.ASCONF_ACK);
  return {
    localKeyVector: localKeyVector.slice(),
    peerKeyVector: peerKeyVector.slice(),
    localChunks: local.chunkTypes.slice(),
    peerChunks,
    localHmacIds: supported,
    peerHmacIds: peer.hmacIds.slice(),
    hmacId,
    sharedKeys: config.sharedKeys.map((k: SharedKey) => ({ id: k.id, key: k.key.slice() })),
    activeKeyId: config.activeKeyId,
    reserve: bundled ? AUTH_HEADER + macLength(hmacId)! : 0,
    counters: createAuthCounters(),
  };
}
