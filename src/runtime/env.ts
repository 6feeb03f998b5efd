/**
 * What the runtime injects into the pure core (src/core/env.ts): the real
 * monotonic clock, a cryptographic RNG and node:crypto's HMAC-SHA256 and
 * HMAC-SHA1 (the latter for RFC 4895 AUTH).
 */
import { createHmac, randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { HmacSha1, HmacSha256, Millis, Rng } from '../core/env.js';

/** Milliseconds on a monotonic clock (never steps back, unlike Date.now()). */
export function monotonicNow(): Millis {
  return performance.now();
}

/** Entropy from the operating system's CSPRNG, buffered to keep system calls rare. */
export class CryptoRng implements Rng {
  private readonly pool = new Uint32Array(256);
  private next = this.pool.length;

  nextU32(): number {
    if (this.next >= this.pool.length) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++]!;
  }

  fill(out: Uint8Array): void {
    randomFillSync(out);
  }
}

export const hmacSha256: HmacSha256 = (key, data) => {
  const d = createHmac('sha256', key).update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
};

export const hmacSha1: HmacSha1 = (key, data) => {
  const d = createHmac('sha1', key).update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
};
