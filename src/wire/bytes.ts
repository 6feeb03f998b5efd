/**
 * Big-endian field access on Uint8Array without DataView allocation: the codec
 * runs once per packet on the hot path, so these stay tiny and monomorphic.
 * Callers check bounds first; these do not.
 */

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** n rounded up to a multiple of 4 (RFC 9260 §3.2 chunk and parameter padding). */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** True when b[from..to) are all zero. */
export function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

const hexDigits = '0123456789abcdef';
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += hexDigits[b[i]! >> 4]! + hexDigits[b[i]! & 15]!;
  return s;
}

/** UTF-8 without TextDecoder's allocation of a decoder per call. */
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();
export function utf8(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}
export function fromUtf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** The parts back to back in one new array (the single part itself when there is one). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/*
 * Copies of small byte strings (user messages: queued by the sender, taken out
 * of received packets by reassembly) are carved from a shared slab, as
 * packet.ts does for encoded packets: a fresh ArrayBuffer per copy
 * (Uint8Array.slice) costs about a microsecond with its garbage collection,
 * most of what queueing or receiving a 100-byte message costs. A slab lives
 * while any copy in it does (as Node's Buffer pool): a structured clone of a
 * state holding copies carries the slabs they sit in, 16 KiB each at most.
 */
const COPY_SLAB_SIZE = 16 * 1024;
const COPY_SLAB_MAX = 512;
let copySlab = new Uint8Array(0);
let copySlabUsed = 0;

/** A copy of `b` that shares no memory with it (small ones are views into a shared slab). */
export function copyBytes(b: Uint8Array): Uint8Array {
  const n = b.length;
  if (n > COPY_SLAB_MAX) return b.slice();
  if (copySlabUsed + n > copySlab.length) {
    copySlab = new Uint8Array(COPY_SLAB_SIZE);
    copySlabUsed = 0;
  }
  const out = copySlab.subarray(copySlabUsed, copySlabUsed + n);
  out.set(b);
  copySlabUsed = (copySlabUsed + n + 7) & ~7;
  return out;
}
