/**
 * SCTP packets (RFC 9260 §3): the 12-byte common header, then chunks.
 *
 * `checksum` in a decoded packet is bytes 8..11 read big-endian, as Wireshark
 * shows the field; checksum.ts explains the byte order of the CRC inside it.
 */
import type { Chunk, ChecksumStatus, DecodedPacket, Packet } from './types.js';
import { DecodeErrorCode, fail, ok, type Result } from './result.js';
import { pad4, put16, put32, u16, u32 } from './bytes.js';
import { chunkFramingError, decodeChunkValue, encodeChunk, encodedChunkLength } from './chunk.js';
import { verifySctpChecksum, writeSctpChecksum } from './checksum.js';

/** Bytes in the common header (RFC 9260 §3.1). */
export const COMMON_HEADER_LENGTH = 12;

export interface DecodePacketOptions {
  /**
   * 'strict' (default): only a correct CRC32c is accepted (RFC 9260 §6.8), else
   * a `bad-checksum` error. 'classify': decode whatever the checksum, and label
   * it in `checksumStatus`. 'skip': do not compute it and report 'crc32c' (for
   * packets already verified, e.g. by the NIC or the native addon).
   */
  readonly checksum?: 'strict' | 'classify' | 'skip';
}

export interface EncodePacketOptions {
  /** 'crc32c' (default), or 'zero' to leave the field 0 (RFC 9653, or offload). */
  readonly checksum?: 'crc32c' | 'zero';
}

/**
 * Decodes a whole SCTP packet. A packet with no chunks decodes (chunks = []):
 * whether that is acceptable is the core's decision. Chunk-level errors carry
 * the offset of the offending field within `bytes`.
 */
export function decodePacket(bytes: Uint8Array, options?: DecodePacketOptions): Result<DecodedPacket> {
  const n = bytes.length;
  if (n < COMMON_HEADER_LENGTH) {
    return fail(DecodeErrorCode.truncated, 0, `${n} bytes, the SCTP common header needs 12`);
  }
  const mode = options?.checksum ?? 'strict';
  let checksumStatus: ChecksumStatus = 'crc32c';
  if (mode !== 'skip') {
    checksumStatus = verifySctpChecksum(bytes, 0, n);
    if (mode === 'strict' && checksumStatus !== 'crc32c') {
      return fail(DecodeErrorCode.badChecksum, 8, `checksum field is ${checksumStatus === 'bad' ? 'wrong' : checksumStatus}, not CRC32c`);
    }
  }
  const chunks: Chunk[] = [];
  let o = COMMON_HEADER_LENGTH;
  while (o < n) {
    const bad = chunkFramingError(bytes, o, n);
    if (bad !== undefined) return bad;
    const len = u16(bytes, o + 2);
    const r = decodeChunkValue(bytes, bytes[o]!, bytes[o + 1]!, o + 4, o + len, o);
    if (!r.ok) return r;
    chunks.push(r.value);
    // RFC 9260 §3.2: the final chunk's padding may be missing in old captures.
    const next = o + pad4(len);
    o = next < n ? next : n;
  }
  return ok({
    sourcePort: u16(bytes, 0),
    destinationPort: u16(bytes, 2),
    verificationTag: u32(bytes, 4),
    chunks,
    checksum: u32(bytes, 8),
    checksumStatus,
  });
}

/** Bytes the packet takes on the wire. */
export function encodedPacketLength(packet: Packet): number {
  let n = COMMON_HEADER_LENGTH;
  const chunks = packet.chunks;
  for (let i = 0; i < chunks.length; i++) n += encodedChunkLength(chunks[i]!);
  return n;
}

/**
 * Writes the packet at out[offset] (for batching several into one buffer) and
 * returns the offset after it.
 * @throws RangeError if `out` is too small, or as encodeChunk does.
 */
export function encodePacketInto(packet: Packet, out: Uint8Array, offset: number, options?: EncodePacketOptions): number {
  put16(out, offset, packet.sourcePort);
  put16(out, offset + 2, packet.destinationPort);
  put32(out, offset + 4, packet.verificationTag);
  put32(out, offset + 8, 0);
  let o = offset + COMMON_HEADER_LENGTH;
  const chunks = packet.chunks;
  for (let i = 0; i < chunks.length; i++) o = encodeChunk(chunks[i]!, out, o);
  if (o > out.length) throw new RangeError(`packet needs ${o - offset} bytes at offset ${offset}, buffer has ${out.length}`);
  if (options?.checksum !== 'zero') writeSctpChecksum(out, offset, o - offset);
  return o;
}

/*
 * Small packets are carved from a shared slab, as Node's Buffer pool does: a
 * fresh ArrayBuffer costs far more than a view of an existing one (about 850 ns
 * against 45 ns here), and encodePacket runs once per packet sent. Slab memory
 * is never handed out twice, so it is still zero where the encoder skips bytes.
 */
const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_PACKET = 4096;
let slab = new Uint8Array(0);
let slabUsed = 0;

function allocate(n: number): Uint8Array {
  if (n > SLAB_MAX_PACKET) return new Uint8Array(n);
  if (slabUsed + n > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab.buffer, slabUsed, n);
  slabUsed = (slabUsed + n + 7) & ~7;
  return out;
}

/**
 * Encodes the packet into a buffer of exactly its length. Packets up to 4 KiB
 * are views into a shared 64 KiB slab: use the view, not its `.buffer`.
 */
export function encodePacket(packet: Packet, options?: EncodePacketOptions): Uint8Array {
  const out = allocate(encodedPacketLength(packet));
  encodePacketInto(packet, out, 0, options);
  return out;
}

const FRAMING_OK: Result<undefined> = ok(undefined);

/**
 * Walks the chunk headers of the packet in bytes[0, end) without decoding any
 * value and without allocating: `fn(type, flags, length, offset)` per chunk;
 * returning `false` from it stops the walk. Returns the first framing error,
 * or a shared success value. Does not look at the checksum.
 */
export function forEachChunkHeader(
  bytes: Uint8Array,
  fn: (type: number, flags: number, length: number, offset: number) => boolean | void,
  end: number = bytes.length,
): Result<undefined> {
  if (end > bytes.length) end = bytes.length;
  if (end < COMMON_HEADER_LENGTH) return fail(DecodeErrorCode.truncated, 0, `${end} bytes, the SCTP common header needs 12`);
  let o = COMMON_HEADER_LENGTH;
  while (o < end) {
    const bad = chunkFramingError(bytes, o, end);
    if (bad !== undefined) return bad;
    const len = u16(bytes, o + 2);
    if (fn(bytes[o]!, bytes[o + 1]!, len, o) === false) break;
    const next = o + pad4(len);
    o = next < end ? next : end;
  }
  return FRAMING_OK;
}
