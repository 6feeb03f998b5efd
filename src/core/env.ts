/**
 * What the pure core gets from outside (DESIGN.md §2): time arrives as `now`
 * arguments in milliseconds of a monotonic clock; entropy and the cookie MAC are
 * injected, so a run is reproducible from a seed and the core never touches I/O.
 */

/** Milliseconds on a monotonic clock. Only the runtime reads a real clock. */
export type Millis = number;

/** Entropy for verification tags, initial TSNs, heartbeat nonces and cookie secrets. */
export interface Rng {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
  /** Fills `out` with random bytes. */
  fill(out: Uint8Array): void;
}

/** HMAC-SHA256(key, data), 32 bytes. The runtime passes node:crypto's. */
export type HmacSha256 = (key: Uint8Array, data: Uint8Array) => Uint8Array;

/**
 * HMAC-SHA1(key, data), 20 bytes: RFC 4895 §3.3 makes it the one HMAC every
 * AUTH endpoint MUST support, so an endpoint given none does not offer AUTH
 * (nor ADD-IP, which needs it). The runtime passes node:crypto's.
 */
export type HmacSha1 = (key: Uint8Array, data: Uint8Array) => Uint8Array;

/**
 * A deterministic RNG (xoshiro128**) for simulations and tests. Not for
 * production secrets: the runtime injects a cryptographic RNG there.
 */
export class SeededRng implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // splitmix32 spreads any seed (0 included) over the 128-bit state.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1), for simulations (loss, jitter). */
  nextFloat(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  fill(out: Uint8Array): void {
    for (let i = 0; i < out.length; i += 4) {
      const v = this.nextU32();
      out[i] = v;
      if (i + 1 < out.length) out[i + 1] = v >>> 8;
      if (i + 2 < out.length) out[i + 2] = v >>> 16;
      if (i + 3 < out.length) out[i + 3] = v >>> 24;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
