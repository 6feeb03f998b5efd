/**
 * Sending authenticated chunks (RFC 4895 §6.2): an AUTH chunk goes before the
 * first chunk of the packet that the peer listed in its CHUNK LIST (and before
 * every ASCONF / ASCONF-ACK, which RFC 5061 §4.1 always authenticates), never
 * before a COOKIE ECHO; its HMAC covers the AUTH chunk, with the HMAC field
 * zero, and everything after it, so it is written once the packet is encoded
 * (`signPacket`), then the CRC32c is recomputed over the result.
 */
import { chunkType } from '../../wire/chunk.js';
import { writeSctpChecksum } from '../../wire/checksum.js';
import { forEachChunkHeader } from '../../wire/packet.js';
import { ChunkType } from '../../wire/registry.js';
import type { Chunk } from '../../wire/types.js';
import { associationKeyFor } from './keys.js';
import type { MacFunction } from './mac.js';
import { AUTH_HEADER, macLength, type AuthState } from './state.js';

/** What the endpoint needs to fill the HMAC of an encoded packet in. */
export interface AuthSign {
  readonly hmacId: number;
  /** The association shared key (RFC 4895 §6.1). */
  readonly key: Uint8Array;
}

/** The chunk must follow an AUTH: the peer listed it, or it is an ASCONF / ASCONF-ACK (RFC 5061 §4.1). */
export function mustSendAuthenticated(auth: AuthState, c: Chunk): boolean {
  if (c.kind === 'asconf' || c.kind === 'asconf-ack') return true;
  // With reserve 0 the peer lists nothing but ASCONF / ASCONF-ACK (state.ts).
  return auth.reserve > 0 && auth.peerChunks.includes(chunkType(c));
}

/**
 * `chunks` with an AUTH placeholder inserted where §6.2 puts it, and what to
 * sign it with; undefined when no chunk needs authenticating (or the active
 * key is gone, in which case the packet goes out as it is and the peer drops
 * what it required authenticated).
 */
export function withAuth(auth: AuthState | undefined, chunks: readonly Chunk[]): { readonly chunks: Chunk[]; readonly sign: AuthSign } | undefined {
  if (auth === undefined) return undefined;
  let at = -1;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    if (c.kind === 'auth') return undefined;
    // §6.2: COOKIE ECHO is never authenticated and comes first; the AUTH follows it.
    if (c.kind !== 'cookie-echo' && mustSendAuthenticated(auth, c)) {
      at = i;
      break;
    }
  }
  if (at < 0) return undefined;
  const key = associationKeyFor(auth, auth.activeKeyId);
  if (key === undefined) return undefined;
  const out = chunks.slice();
  out.splice(at, 0, { kind: 'auth', sharedKeyId: auth.activeKeyId, hmacId: auth.hmacId, hmac: new Uint8Array(macLength(auth.hmacId)!) });
  auth.counters.sent++;
  return { chunks: out, sign: { hmacId: auth.hmacId, key } };
}

/** Byte offset of the first AUTH chunk in an encoded packet, or -1. */
export function authOffset(bytes: Uint8Array): number {
  let at = -1;
  forEachChunkHeader(bytes, (type, _flags, _len, offset) => {
    if (type !== ChunkType.AUTH) return true;
    at = offset;
    return false;
  });
  return at;
}

/**
 * Writes the HMAC into the (zeroed) HMAC field of the packet's first AUTH
 * chunk and rewrites the checksum. False if there is no AUTH chunk or the
 * HMAC cannot be computed (the packet is then left as it was).
 */
export function signPacket(bytes: Uint8Array, sign: AuthSign, mac: MacFunction): boolean {
  const at = authOffset(bytes);
  if (at < 0) return false;
  const digest = mac(sign.hmacId, sign.key, bytes.subarray(at));
  const len = macLength(sign.hmacId);
  if (digest === undefined || len === undefined || digest.length < len) return false;
  bytes.set(digest.subarray(0, len), at + AUTH_HEADER);
  writeSctpChecksum(bytes, 0, bytes.length);
  return true;
}
