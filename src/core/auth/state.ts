/**
 * What one association knows about chunk authentication (RFC 4895), as plain
 * data in the TCB: it is built from the INIT / INIT ACK exchange (or the State
 * Cookie), travels in snapshots and survives `restore`.
 */
import type { SharedKey } from '../config.js';

/** HMAC identifiers (RFC 4895 §3.3, IANA "HMAC Identifiers"). */
export const HMAC_SHA1 = 1;
export const HMAC_SHA256 = 3;

/** Bytes of the HMAC of an identifier, or undefined for one we do not know. */
export function macLength(hmacId: number): number | undefined {
  switch (hmacId) {
    case HMAC_SHA1:
      return 20;
    case HMAC_SHA256:
      return 32;
    default:
      return undefined;
  }
}

export function hmacName(hmacId: number): string {
  switch (hmacId) {
    case HMAC_SHA1:
      return 'hmac-sha1';
    case HMAC_SHA256:
      return 'hmac-sha256';
    default:
      return `hmac-${hmacId}`;
  }
}

/** AUTH chunk header (type, flags, length, Shared Key Identifier, HMAC Identifier): RFC 4895 §4.1. */
export const AUTH_HEADER = 8;

export interface AuthCounters {
  /** AUTH chunks received whose HMAC was right (§6.3). */
  authenticated: number;
  /** AUTH chunks we sent. */
  sent: number;
  /** AUTH chunks whose HMAC did not match (or had the wrong length): they and the rest of their packet were dropped. */
  badHmac: number;
  /** AUTH chunks naming a Shared Key Identifier we do not have. */
  unknownKey: number;
  /** AUTH chunks with an HMAC Identifier we did not offer: answered with an ERROR (§6.3). */
  unsupportedHmac: number;
  /** Chunks of our CHUNK LIST that arrived without a valid AUTH before them: silently dropped (§6.3). */
  unauthenticated: number;
}

export interface AuthState {
  /** Our RANDOM ‖ CHUNKS ‖ HMAC-ALGO parameters as sent, unpadded (§6.1 key vector). */
  readonly localKeyVector: Uint8Array;
  /** The peer's, as received. */
  readonly peerKeyVector: Uint8Array;
  /** Chunk types the peer must authenticate (our CHUNK LIST). */
  readonly localChunks: readonly number[];
  /** Chunk types we must authenticate (the peer's CHUNK LIST, §3.2 exclusions removed). */
  readonly peerChunks: readonly number[];
  /** HMAC identifiers we offered: an AUTH with another one is answered with an ERROR (§6.3). */
  readonly localHmacIds: readonly number[];
  /** The peer's HMAC-ALGO list, its preference first. */
  readonly peerHmacIds: readonly number[];
  /** What our AUTH chunks use: the first of the peer's list that we support (§3.3). */
  readonly hmacId: number;
  /** Endpoint pair shared keys as they were when the association began (§6.1; key 0 empty unless given). */
  readonly sharedKeys: readonly SharedKey[];
  /** The Shared Key Identifier our AUTH chunks carry. */
  activeKeyId: number;
  /**
   * Bytes packet assembly keeps free for an AUTH chunk: the AUTH size when the
   * peer wants chunks authenticated that travel in assembled packets (anything
   * but ASCONF / ASCONF-ACK, which go in packets of their own), else 0.
   */
  readonly reserve: number;
  counters: AuthCounters;
}

export function createAuthCounters(): AuthCounters {
  return { authenticated: 0, sent: 0, badHmac: 0, unknownKey: 0, unsupportedHmac: 0, unauthenticated: 0 };
}
