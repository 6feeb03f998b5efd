/**
 * The HMACs AUTH uses (RFC 4895 §3.3), from the functions the host injected
 * (src/core/env.ts): the core computes none itself.
 */
import type { HmacSha1, HmacSha256 } from '../env.js';
import { HMAC_SHA1, HMAC_SHA256 } from './state.js';

/** HMAC `hmacId` of `data` under `key`; undefined for an identifier we cannot compute. */
export type MacFunction = (hmacId: number, key: Uint8Array, data: Uint8Array) => Uint8Array | undefined;

export function macFunction(sha256: HmacSha256, sha1: HmacSha1 | undefined): MacFunction {
  return (hmacId, key, data) => {
    switch (hmacId) {
      case HMAC_SHA256:
        return sha256(key, data);
      case HMAC_SHA1:
        return sha1?.(key, data);
      default:
        return undefined;
    }
  };
}
