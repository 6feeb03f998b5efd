/** SACK (RFC 9260 §3.3.4) and NR-SACK (draft-natarajan-tsvwg-sctp-nrsack, as in FreeBSD/usrsctp). */
import type { Chunk, GapBlock, NrSackChunk, SackChunk } from '../types.js';
import { DecodeErrorCode, fail, ok, type Result } from '../result.js';
import { put16, put32, u16, u32 } from '../bytes.js';

/** NR-SACK chunk flag: every out-of-order block is non-renegable. */
export const NR_SACK_ALL = 0x01;

function gapBlocks(b: Uint8Array, o: number, n: number): GapBlock[] {
  const blocks: GapBlock[] = [];
  for (let i = 0; i < n; i++) blocks.push({ start: u16(b, o + 4 * i), end: u16(b, o + 4 * i + 2) });
  return blocks;
}

function u32List(b: Uint8Array, o: number, n: number): number[] {
  const list: number[] = [];
  for (let i = 0; i < n; i++) list.push(u32(b, o + 4 * i));
  return list;
}

function putGapBlocks(out: Uint8Array, o: number, blocks: readonly GapBlock[]): number {
  for (let i = 0; i < blocks.length; i++) {
    put16(out, o, blocks[i]!.start);
    put16(out, o + 2, blocks[i]!.end);
    o += 4;
  }
  return o;
}

function putU32List(out: Uint8Array, o: number, list: readonly number[]): void {
  for (let i = 0; i < list.length; i++) put32(out, o + 4 * i, list[i]!);
}

/**
 * SACK value b[s, e). The block and duplicate counts must fit inside the chunk;
 * trailing bytes after them are ignored, as Linux and FreeBSD do.
 */
export function decodeSack(b: Uint8Array, s: number, e: number, at: number): Result<Chunk> {
  if (e - s < 12) return fail(DecodeErrorCode.lengthTooShort, at + 2, `SACK chunk length ${e - at} < 16`);
  const nGaps = u16(b, s + 8);
  const nDups = u16(b, s + 10);
  if (12 + 4 * (nGaps + nDups) > e - s) {
    return fail(DecodeErrorCode.badValue, s + 8, `SACK claims ${nGaps} gap blocks and ${nDups} duplicates, chunk length ${e - at}`);
  }
  return ok({
    kind: 'sack',
    cumulativeTsnAck: u32(b, s),
    aRwnd: u32(b, s + 4),
    gapBlocks: gapBlocks(b, s + 12, nGaps),
    duplicateTsns: u32List(b, s + 12 + 4 * nGaps, nDups),
  });
}

export function sackValueLength(c: SackChunk): number {
  return 12 + 4 * (c.gapBlocks.length + c.duplicateTsns.length);
}

export function encodeSackValue(c: SackChunk, out: Uint8Array, v: number): void {
  put32(out, v, c.cumulativeTsnAck);
  put32(out, v + 4, c.aRwnd);
  put16(out, v + 8, c.gapBlocks.length);
  put16(out, v + 10, c.duplicateTsns.length);
  putU32List(out, putGapBlocks(out, v + 12, c.gapBlocks), c.duplicateTsns);
}

/**
 * NR-SACK value: cum TSN, a_rwnd, #gap blocks, #NR gap blocks, #dups, reserved,
 * then gap blocks, NR gap blocks, duplicate TSNs (usrsctp `struct sctp_nr_sack`).
 */
export function decodeNrSack(b: Uint8Array, flags: number, s: number, e: number, at: number): Result<Chunk> {
  if (e - s < 16) return fail(DecodeErrorCode.lengthTooShort, at + 2, `NR-SACK chunk length ${e - at} < 20`);
  const nGaps = u16(b, s + 8);
  const nNr = u16(b, s + 10);
  const nDups = u16(b, s + 12);
  if (16 + 4 * (nGaps + nNr + nDups) > e - s) {
    return fail(
      DecodeErrorCode.badValue,
      s + 8,
      `NR-SACK claims ${nGaps} gap, ${nNr} NR gap blocks and ${nDups} duplicates, chunk length ${e - at}`,
    );
  }
  const gapsAt = s + 16;
  const nrAt = gapsAt + 4 * nGaps;
  return ok({
    kind: 'nr-sack',
    allNonRenegable: (flags & NR_SACK_ALL) !== 0,
    cumulativeTsnAck: u32(b, s),
    aRwnd: u32(b, s + 4),
    gapBlocks: gapBlocks(b, gapsAt, nGaps),
    nrGapBlocks: gapBlocks(b, nrAt, nNr),
    duplicateTsns: u32List(b, nrAt + 4 * nNr, nDups),
  });
}

export function nrSackValueLength(c: NrSackChunk): number {
  return 16 + 4 * (c.gapBlocks.length + c.nrGapBlocks.length + c.duplicateTsns.length);
}

export function encodeNrSackValue(c: NrSackChunk, out: Uint8Array, v: number): void {
  put32(out, v, c.cumulativeTsnAck);
  put32(out, v + 4, c.aRwnd);
  put16(out, v + 8, c.gapBlocks.length);
  put16(out, v + 10, c.nrGapBlocks.length);
  put16(out, v + 12, c.duplicateTsns.length);
  put16(out, v + 14, 0);
  let o = putGapBlocks(out, v + 16, c.gapBlocks);
  o = putGapBlocks(out, o, c.nrGapBlocks);
  putU32List(out, o, c.duplicateTsns);
}
