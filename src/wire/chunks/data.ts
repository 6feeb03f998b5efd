/** DATA (RFC 9260 §3.3.1) and I-DATA (RFC 8260 §2.1). */
import type { DataChunk, IDataChunk, Chunk } from '../types.js';
import { DecodeErrorCode, fail, ok, type Result } from '../result.js';
import { put16, put32, u16, u32 } from '../bytes.js';

/** Chunk flags shared by DATA and I-DATA: |I|U|B|E| in the low four bits (I from RFC 7053). */
export const DataFlag = { E: 0x01, B: 0x02, U: 0x04, I: 0x08 } as const;

export function dataFlags(c: DataChunk | IDataChunk): number {
  return (
    (c.immediate ? DataFlag.I : 0) | (c.unordered ? DataFlag.U : 0) | (c.beginning ? DataFlag.B : 0) | (c.ending ? DataFlag.E : 0)
  );
}

/**
 * DATA value b[s, e) of the chunk at `at`. An empty user data field is decoded,
 * not refused: answering it with a No User Data abort is the core's job (§6.2).
 */
export function decodeData(b: Uint8Array, flags: number, s: number, e: number, at: number): Result<Chunk> {
  if (e - s < 12) return fail(DecodeErrorCode.lengthTooShort, at + 2, `DATA chunk length ${e - at} < 16`);
  return ok({
    kind: 'data',
    tsn: u32(b, s),
    streamId: u16(b, s + 4),
    ssn: u16(b, s + 6),
    ppid: u32(b, s + 8),
    userData: b.subarray(s + 12, e),
    unordered: (flags & DataFlag.U) !== 0,
    beginning: (flags & DataFlag.B) !== 0,
    ending: (flags & DataFlag.E) !== 0,
    immediate: (flags & DataFlag.I) !== 0,
  });
}

export function dataValueLength(c: DataChunk): number {
  return 12 + c.userData.length;
}

export function encodeDataValue(c: DataChunk, out: Uint8Array, v: number): void {
  put32(out, v, c.tsn);
  put16(out, v + 4, c.streamId);
  put16(out, v + 6, c.ssn);
  put32(out, v + 8, c.ppid);
  out.set(c.userData, v + 12);
}

/**
 * I-DATA value. RFC 8260 §2.1: the 32-bit field after the MID is the PPID on the
 * first fragment (B set) and the FSN otherwise; the other one is reported as 0.
 */
export function decodeIData(b: Uint8Array, flags: number, s: number, e: number, at: number): Result<Chunk> {
  if (e - s < 16) return fail(DecodeErrorCode.lengthTooShort, at + 2, `I-DATA chunk length ${e - at} < 20`);
  const beginning = (flags & DataFlag.B) !== 0;
  const ppidOrFsn = u32(b, s + 12);
  return ok({
    kind: 'idata',
    tsn: u32(b, s),
    streamId: u16(b, s + 4),
    mid: u32(b, s + 8),
    ppid: beginning ? ppidOrFsn : 0,
    fsn: beginning ? 0 : ppidOrFsn,
    userData: b.subarray(s + 16, e),
    unordered: (flags & DataFlag.U) !== 0,
    beginning,
    ending: (flags & DataFlag.E) !== 0,
    immediate: (flags & DataFlag.I) !== 0,
  });
}

export function idataValueLength(c: IDataChunk): number {
  return 16 + c.userData.length;
}

export function encodeIDataValue(c: IDataChunk, out: Uint8Array, v: number): void {
  put32(out, v, c.tsn);
  put16(out, v + 4, c.streamId);
  put16(out, v + 6, 0);
  put32(out, v + 8, c.mid);
  put32(out, v + 12, c.beginning ? c.ppid : c.fsn);
  out.set(c.userData, v + 16);
}
