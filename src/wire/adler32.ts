/**
 * Adler-32 (RFC 1950 §8), the SCTP checksum of RFC 2960 Appendix B before RFC
 * 3309 replaced it with CRC32c. Kept only to label captures of old stacks.
 */

const MOD = 65521;
/** Largest n such that 255 n (n + 1) / 2 + (n + 1)(MOD - 1) < 2^32 (zlib's NMAX). */
const NMAX = 5552;

/** Continues Adler-32 `adler` (1 for the empty input) over data[start, end). */
export function adler32Update(adler: number, data: Uint8Array, start = 0, end: number = data.length): number {
  let a = adler & 0xffff;
  let b = adler >>> 16;
  let i = start;
  while (i < end) {
    const stop = Math.min(end, i + NMAX);
    for (; i < stop; i++) {
      a += data[i]!;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}

/** Adler-32 of data[start, end). */
export function adler32(data: Uint8Array, start = 0, end: number = data.length): number {
  return adler32Update(1, data, start, end);
}
