/**
 * Receiving authenticated chunks (RFC 4895 §6.3). The receiver checks, in
 * order: the HMAC Identifier is one it offered (else an ERROR with
 * "Unsupported HMAC Identifier" and the AUTH and everything after it are
 * dropped), the Shared Key Identifier names a key it has, the HMAC has the
 * identifier's length, then the HMAC itself, computed over the packet's bytes
 * from the AUTH chunk to the end with the HMAC field zero, as received (so a
 * sender's padding and encoding choices are what is hashed). Any failure
 * drops the AUTH chunk and all chunks after it.
 */
import { forEachChunkHeader } from '../../wire/packet.js';
import { chunkType } from '../../wire/chunk.js';
import type { AuthChunk, Chunk } from '../../wire/types.js';
import { associationKeyFor } from './keys.js';
import type { MacFunction } from './mac.js';
import { AUTH_HEADER, macLength, type AuthState } from './state.js';

/** No early exit: timing does not tell how many HMAC bytes were right. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export type AuthVerdict = 'ok' | 'unsupported-hmac' | 'unknown-key' | 'bad-hmac';

/** Byte offset of chunk number `index` of an encoded packet, or -1. */
export function chunkOffset(bytes: Uint8Array, index: number): number {
  let i = 0;
  let at = -1;
  forEachChunkHeader(bytes, (_type, _flags, _len, offset) => {
    if (i++ !== index) return true;
    at = offset;
    return false;
  });
  return at;
}

/**
 * Verifies `chunk`, chunk number `index` of the packet `bytes`, and counts the
 * outcome. `bytes` undefined (a packet that never was bytes) fails as a bad HMAC.
 */
export function verifyAuthChunk(auth: AuthState, chunk: AuthChunk, bytes: Uint8Array | undefined, index: number, mac: MacFunction | undefined): AuthVerdict {
  const len = macLength(chunk.hmacId);
  if (!auth.localHmacIds.includes(chunk.hmacId) || len === undefined || mac === undefined) {
    auth.counters.unsupportedHmac++;
    return 'unsupported-hmac';
  }
  const key = associationKeyFor(auth, chunk.sharedKeyId);
  if (key === undefined) {
    auth.counters.unknownKey++;
    return 'unknown-key';
  }
  const at = bytes === undefined ? -1 : chunkOffset(bytes, index);
  if (bytes === undefined || at < 0 || bytes[at] !== 0x0f || chunk.hmac.length !== len) {
    auth.counters.badHmac++;
    return 'bad-hmac';
  }
  const covered = bytes.slice(at);
  covered.fill(0, AUTH_HEADER, AUTH_HEADER + len);
  const expected = mac(chunk.hmacId, key, covered);
  if (expected === undefined || !constantTimeEqual(expected.subarray(0, len), chunk.hmac)) {
    auth.counters.badHmac++;
    return 'bad-hmac';
  }
  auth.counters.authenticated++;
  return 'ok';
}

/** The chunk's type is in our CHUNK LIST: without a valid AUTH before it, it is dropped (§6.3). */
export function mustBeAuthenticated(auth: AuthState, chunk: Chunk): boolean {
  if (auth.localChunks.length === 0) return false;
  return auth.localChunks.includes(chunkType(chunk));
}
