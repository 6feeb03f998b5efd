/**
 * CRC32c (Castagnoli), the SCTP checksum (RFC 9260 §6.8, Appendix A): reflected
 * polynomial 0x82F63B78, initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF.
 *
 * Convention (the same as zlib's crc32(crc, buf)): every function here takes
 * and returns a *finished* CRC, i.e. with the final inversion applied, and the
 * CRC of the empty input is 0. So `crc32cUpdate(crc32c(a), b) === crc32c(a ‖ b)`
 * and `crc32cUpdate(0, x) === crc32c(x)`. The pre/post inversions happen inside.
 *
 * Slice-by-16: sixteen 256-entry tables, built once at module load (16 KiB of
 * Int32Array), consuming 16 bytes per loop iteration. Slice-by-16 measured
 * faster than slice-by-8 here (x86-64, Node 20) with byte loads, and as fast or
 * faster with word loads, whose slice-by-8 form is also sensitive to how V8
 * happened to tier it up.
 */

const POLY = 0x82f63b78;
const SLICES = 16;

/** T[k * 256 + b]: CRC of byte b followed by k zero bytes. One flat array keeps the lookups monomorphic. */
const T = new Int32Array(SLICES * 256);
for (let b = 0; b < 256; b++) {
  let c = b;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[b] = c;
}
for (let b = 0; b < 256; b++) {
  let c = T[b]!;
  for (let k = 1; k < SLICES; k++) {
    c = (c >>> 8) ^ T[c & 0xff]!;
    T[k * 256 + b] = c;
  }
}

/** Word reads below assume a little-endian host; big-endian hosts use the byte loop. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * From this many bytes on, reading aligned 32-bit words through an Int32Array
 * view beats byte loads (measured on x86-64, Node 20: about 1.2 GB/s for byte
 * loads against 1.25 at 1 KiB and 1.45 at 64 KiB for words); below it the view
 * allocation does not pay.
 */
const WORDS_MIN_BYTES = 1024;

/** Slice-by-16 over bytes data[i, end), 16 at a time; returns the register. */
function bytes16(c: number, data: Uint8Array, i: number, end: number): number {
  const t = T;
  const end16 = end - 15;
  while (i < end16) {
    const w0 = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      t[0xf00 | (w0 & 0xff)]! ^
      t[0xe00 | ((w0 >>> 8) & 0xff)]! ^
      t[0xd00 | ((w0 >>> 16) & 0xff)]! ^
      t[0xc00 | (w0 >>> 24)]! ^
      t[0xb00 | data[i + 4]!]! ^
      t[0xa00 | data[i + 5]!]! ^
      t[0x900 | data[i + 6]!]! ^
      t[0x800 | data[i + 7]!]! ^
      t[0x700 | data[i + 8]!]! ^
      t[0x600 | data[i + 9]!]! ^
      t[0x500 | data[i + 10]!]! ^
      t[0x400 | data[i + 11]!]! ^
      t[0x300 | data[i + 12]!]! ^
      t[0x200 | data[i + 13]!]! ^
      t[0x100 | data[i + 14]!]! ^
      t[data[i + 15]!]!;
    i += 16;
  }
  while (i < end) {
    c = (c >>> 8) ^ t[(c ^ data[i]!) & 0xff]!;
    i++;
  }
  return c;
}

/** Slice-by-16 over little-endian words w[j, je), je - j a multiple of 4; returns the register. */
function words16(c: number, w: Int32Array, j: number, je: number): number {
  const t = T;
  for (; j < je; j += 4) {
    const a = c ^ w[j]!;
    const b = w[j + 1]!;
    const d = w[j + 2]!;
    const e = w[j + 3]!;
    c =
      t[0xf00 | (a & 0xff)]! ^
      t[0xe00 | ((a >>> 8) & 0xff)]! ^
      t[0xd00 | ((a >>> 16) & 0xff)]! ^
      t[0xc00 | (a >>> 24)]! ^
      t[0xb00 | (b & 0xff)]! ^
      t[0xa00 | ((b >>> 8) & 0xff)]! ^
      t[0x900 | ((b >>> 16) & 0xff)]! ^
      t[0x800 | (b >>> 24)]! ^
      t[0x700 | (d & 0xff)]! ^
      t[0x600 | ((d >>> 8) & 0xff)]! ^
      t[0x500 | ((d >>> 16) & 0xff)]! ^
      t[0x400 | (d >>> 24)]! ^
      t[0x300 | (e & 0xff)]! ^
      t[0x200 | ((e >>> 8) & 0xff)]! ^
      t[0x100 | ((e >>> 16) & 0xff)]! ^
      t[e >>> 24]!;
  }
  return c;
}

/**
 * Advances a raw (not inverted) CRC register over data[start, end). Callers
 * keep start <= end <= data.length. Exported for checksum.ts, which feeds the
 * SCTP common header in pieces.
 */
export function crc32cRaw(reg: number, data: Uint8Array, start: number, end: number): number {
  let c = reg | 0;
  let i = start;
  if (!LITTLE_ENDIAN || end - i < WORDS_MIN_BYTES) {
    // Node's Buffer (and any other Uint8Array subclass) has its own hidden class: loads that see both
    // run at about half speed. A plain view of the same bytes keeps bytes16 monomorphic.
    if (data.constructor !== Uint8Array) data = new Uint8Array(data.buffer, data.byteOffset, data.length);
    return bytes16(c, data, i, end);
  }
  const t = T;
  while (((data.byteOffset + i) & 3) !== 0) {
    c = (c >>> 8) ^ t[(c ^ data[i]!) & 0xff]!;
    i++;
  }
  const words = ((end - i) >>> 4) << 2;
  c = words16(c, new Int32Array(data.buffer, data.byteOffset + i, words), 0, words);
  i += words * 4;
  while (i < end) {
    c = (c >>> 8) ^ t[(c ^ data[i]!) & 0xff]!;
    i++;
  }
  return c;
}

/** CRC32c of data[start, end); the range is clamped to the array, like subarray(). */
export function crc32c(data: Uint8Array, start = 0, end: number = data.length): number {
  if (end > data.length) end = data.length;
  if (start < 0) start = 0;
  return ~crc32cRaw(-1, data, start, end) >>> 0;
}

/** Continues a finished CRC32c `crc` (of the bytes before) over data[start, end), clamped like crc32c. */
export function crc32cUpdate(crc: number, data: Uint8Array, start = 0, end: number = data.length): number {
  if (end > data.length) end = data.length;
  if (start < 0) start = 0;
  return ~crc32cRaw(~crc, data, start, end) >>> 0;
}
