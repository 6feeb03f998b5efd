/** FORWARD TSN (RFC 3758 §3.2) and I-FORWARD-TSN (RFC 8260 §2.3.1). */
import type { Chunk, ForwardTsnChunk, IForwardTsnChunk } from '../types.js';
import { DecodeErrorCode, fail, ok, type Result } from '../result.js';
import { put16, put32, u16, u32 } from '../bytes.js';

/** FORWARD TSN value: new cumulative TSN, then (stream, SSN) pairs of 4 bytes. */
export function decodeForwardTsn(b: Uint8Array, s: number, e: number, at: number): Result<Chunk> {
  if (e - s < 4) return fail(DecodeErrorCode.lengthTooShort, at + 2, `FORWARD TSN chunk length ${e - at} < 8`);
  if (((e - s - 4) & 3) !== 0) {
    return fail(DecodeErrorCode.badValue, at + 2, `FORWARD TSN chunk length ${e - at} is not 8 + 4N`);
  }
  const streams: { streamId: number; ssn: number }[] = [];
  for (let o = s + 4; o < e; o += 4) streams.push({ streamId: u16(b, o), ssn: u16(b, o + 2) });
  return ok({ kind: 'forward-tsn', newCumulativeTsn: u32(b, s), streams });
}

export function forwardTsnValueLength(c: ForwardTsnChunk): number {
  return 4 + 4 * c.streams.length;
}

export function encodeForwardTsnValue(c: ForwardTsnChunk, out: Uint8Array, v: number): void {
  put32(out, v, c.newCumulativeTsn);
  for (let i = 0; i < c.streams.length; i++) {
    const st = c.streams[i]!;
    put16(out, v + 4 + 4 * i, st.streamId);
    put16(out, v + 6 + 4 * i, st.ssn);
  }
}

/** I-FORWARD-TSN value: new cumulative TSN, then 8-byte entries: stream, 15 reserved bits and U, MID. */
export function decodeIForwardTsn(b: Uint8Array, s: number, e: number, at: number): Result<Chunk> {
  if (e - s < 4) return fail(DecodeErrorCode.lengthTooShort, at + 2, `I-FORWARD-TSN chunk length ${e - at} < 8`);
  if (((e - s - 4) & 7) !== 0) {
    return fail(DecodeErrorCode.badValue, at + 2, `I-FORWARD-TSN chunk length ${e - at} is not 8 + 8N`);
  }
  const streams: { streamId: number; unordered: boolean; mid: number }[] = [];
  for (let o = s + 4; o < e; o += 8) {
    streams.push({ streamId: u16(b, o), unordered: (b[o + 3]! & 1) !== 0, mid: u32(b, o + 4) });
  }
  return ok({ kind: 'i-forward-tsn', newCumulativeTsn: u32(b, s), streams });
}

export function iForwardTsnValueLength(c: IForwardTsnChunk): number {
  return 4 + 8 * c.streams.length;
}

export function encodeIForwardTsnValue(c: IForwardTsnChunk, out: Uint8Array, v: number): void {
  put32(out, v, c.newCumulativeTsn);
  for (let i = 0; i < c.streams.length; i++) {
    const st = c.streams[i]!;
    const o = v + 4 + 8 * i;
    put16(out, o, st.streamId);
    put16(out, o + 2, st.unordered ? 1 : 0);
    put32(out, o + 4, st.mid);
  }
}
