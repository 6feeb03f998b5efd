/**
 * Chunks (RFC 9260 §3.2): a 4-byte header (type, flags, length) and a value,
 * padded to 4 bytes. The length counts header and value, not the padding.
 * Per-chunk layouts live in chunks/*.ts; this file frames and dispatches.
 */
import type { Chunk } from './types.js';
import { ChunkType } from './registry.js';
import { DecodeErrorCode, fail, ok, type Result } from './result.js';
import { pad4, put16, put32, u16 } from './bytes.js';
import { encodeCauses, unpaddedCausesLength } from './cause.js';
import { encodeParams } from './param.js';
import { dataFlags, dataValueLength, decodeData, decodeIData, encodeDataValue, encodeIDataValue, idataValueLength } from './chunks/data.js';
import { decodeInit, encodeInitValue, initValueLength } from './chunks/init.js';
import { decodeNrSack, decodeSack, encodeNrSackValue, encodeSackValue, NR_SACK_ALL, nrSackValueLength, sackValueLength } from './chunks/sack.js';
import {
  decodeAuth,
  decodeCauseChunk,
  decodeCookieEcho,
  decodeHeartbeat,
  decodeTsnChunk,
  encodeAuthValue,
  encodeHeartbeatValue,
  heartbeatValueLength,
  T_BIT,
} from './chunks/control.js';
import {
  asconfAckValueLength,
  asconfValueLength,
  decodeAsconf,
  decodeAsconfAck,
  decodeReconfig,
  encodeAsconfAckValue,
  encodeAsconfValue,
  reconfigValueLength,
} from './chunks/asconf.js';
import {
  decodeForwardTsn,
  decodeIForwardTsn,
  encodeForwardTsnValue,
  encodeIForwardTsnValue,
  forwardTsnValueLength,
  iForwardTsnValueLength,
} from './chunks/forward.js';

export function chunkType(c: Chunk): number {
  switch (c.kind) {
    case 'data':
      return ChunkType.DATA;
    case 'init':
      return ChunkType.INIT;
    case 'init-ack':
      return ChunkType.INIT_ACK;
    case 'sack':
      return ChunkType.SACK;
    case 'heartbeat':
      return ChunkType.HEARTBEAT;
    case 'heartbeat-ack':
      return ChunkType.HEARTBEAT_ACK;
    case 'abort':
      return ChunkType.ABORT;
    case 'shutdown':
      return ChunkType.SHUTDOWN;
    case 'shutdown-ack':
      return ChunkType.SHUTDOWN_ACK;
    case 'error':
      return ChunkType.ERROR;
    case 'cookie-echo':
      return ChunkType.COOKIE_ECHO;
    case 'cookie-ack':
      return ChunkType.COOKIE_ACK;
    case 'ecne':
      return ChunkType.ECNE;
    case 'cwr':
      return ChunkType.CWR;
    case 'shutdown-complete':
      return ChunkType.SHUTDOWN_COMPLETE;
    case 'auth':
      return ChunkType.AUTH;
    case 'nr-sack':
      return ChunkType.NR_SACK;
    case 'idata':
      return ChunkType.I_DATA;
    case 'asconf-ack':
      return ChunkType.ASCONF_ACK;
    case 're-config':
      return ChunkType.RE_CONFIG;
    case 'pad':
      return ChunkType.PAD;
    case 'forward-tsn':
      return ChunkType.FORWARD_TSN;
    case 'asconf':
      return ChunkType.ASCONF;
    case 'i-forward-tsn':
      return ChunkType.I_FORWARD_TSN;
    case 'unknown':
      return c.type;
  }
}

/** The Chunk Flags byte. Flags a chunk type does not define are sent as 0 (RFC 9260 §3.2). */
export function chunkFlags(c: Chunk): number {
  switch (c.kind) {
    case 'data':
    case 'idata':
      return dataFlags(c);
    case 'abort':
    case 'shutdown-complete':
      return c.tBit ? T_BIT : 0;
    case 'nr-sack':
      return c.allNonRenegable ? NR_SACK_ALL : 0;
    case 'unknown':
      return c.flags;
    default:
      return 0;
  }
}

/** Value length (after the header, before padding). */
function chunkValueLength(c: Chunk): number {
  switch (c.kind) {
    case 'data':
      return dataValueLength(c);
    case 'idata':
      return idataValueLength(c);
    case 'init':
    case 'init-ack':
      return initValueLength(c);
    case 'sack':
      return sackValueLength(c);
    case 'nr-sack':
      return nrSackValueLength(c);
    case 'heartbeat':
    case 'heartbeat-ack':
      return heartbeatValueLength(c);
    case 'abort':
    case 'error':
      return unpaddedCausesLength(c.causes);
    case 'shutdown':
    case 'ecne':
    case 'cwr':
      return 4;
    case 'shutdown-ack':
    case 'cookie-ack':
    case 'shutdown-complete':
      return 0;
    case 'cookie-echo':
      return c.cookie.length;
    case 'auth':
      return 4 + c.hmac.length;
    case 'asconf':
      return asconfValueLength(c);
    case 'asconf-ack':
      return asconfAckValueLength(c);
    case 're-config':
      return reconfigValueLength(c);
    case 'pad':
      return c.length;
    case 'forward-tsn':
      return forwardTsnValueLength(c);
    case 'i-forward-tsn':
      return iForwardTsnValueLength(c);
    case 'unknown':
      return c.value.length;
  }
}

/** Bytes the chunk takes on the wire, padding included. */
export function encodedChunkLength(c: Chunk): number {
  return pad4(4 + chunkValueLength(c));
}

function encodeChunkValue(c: Chunk, out: Uint8Array, v: number, len: number): void {
  switch (c.kind) {
    case 'data':
      return encodeDataValue(c, out, v);
    case 'idata':
      return encodeIDataValue(c, out, v);
    case 'init':
    case 'init-ack':
      return encodeInitValue(c, out, v);
    case 'sack':
      return encodeSackValue(c, out, v);
    case 'nr-sack':
      return encodeNrSackValue(c, out, v);
    case 'heartbeat':
    case 'heartbeat-ack':
      return encodeHeartbeatValue(c, out, v);
    case 'abort':
    case 'error':
      encodeCauses(c.causes, out, v);
      return;
    case 'shutdown':
      return put32(out, v, c.cumulativeTsnAck);
    case 'ecne':
    case 'cwr':
      return put32(out, v, c.lowestTsn);
    case 'shutdown-ack':
    case 'cookie-ack':
    case 'shutdown-complete':
      return;
    case 'cookie-echo':
      return out.set(c.cookie, v);
    case 'auth':
      return encodeAuthValue(c, out, v);
    case 'asconf':
      return encodeAsconfValue(c, out, v);
    case 'asconf-ack':
      return encodeAsconfAckValue(c, out, v);
    case 're-config':
      encodeParams(c.params, out, v);
      return;
    case 'pad':
      out.fill(0, v, v + len - 4);
      return;
    case 'forward-tsn':
      return encodeForwardTsnValue(c, out, v);
    case 'i-forward-tsn':
      return encodeIForwardTsnValue(c, out, v);
    case 'unknown':
      return out.set(c.value, v);
  }
}

/**
 * Writes the chunk at out[offset] with zeroed padding; returns the offset after
 * the padding.
 * @throws RangeError if the chunk is longer than 65535 bytes, or holds an
 * address string that is not IPv4/IPv6 (an encoder bug, not a wire condition).
 */
export function encodeChunk(c: Chunk, out: Uint8Array, offset: number): number {
  const len = 4 + chunkValueLength(c);
  if (len > 0xffff) throw new RangeError(`chunk ${c.kind} is ${len} bytes, more than 65535`);
  out[offset] = chunkType(c);
  out[offset + 1] = chunkFlags(c);
  put16(out, offset + 2, len);
  encodeChunkValue(c, out, offset + 4, len);
  const end = offset + pad4(len);
  for (let i = offset + len; i < end; i++) out[i] = 0;
  return end;
}

/**
 * Decodes the value b[s, e) of a chunk whose header is at `at`. Unknown types
 * become `unknown`, never an error (the core applies RFC 9260 §3.2's rules).
 */
export function decodeChunkValue(b: Uint8Array, type: number, flags: number, s: number, e: number, at: number): Result<Chunk> {
  switch (type) {
    case ChunkType.DATA:
      return decodeData(b, flags, s, e, at);
    case ChunkType.INIT:
      return decodeInit('init', b, s, e, at);
    case ChunkType.INIT_ACK:
      return decodeInit('init-ack', b, s, e, at);
    case ChunkType.SACK:
      return decodeSack(b, s, e, at);
    case ChunkType.HEARTBEAT:
      return decodeHeartbeat('heartbeat', b, s, e, at);
    case ChunkType.HEARTBEAT_ACK:
      return decodeHeartbeat('heartbeat-ack', b, s, e, at);
    case ChunkType.ABORT:
      return decodeCauseChunk('abort', b, flags, s, e);
    case ChunkType.SHUTDOWN:
      return decodeTsnChunk('shutdown', b, s, e, at);
    case ChunkType.SHUTDOWN_ACK:
      return ok({ kind: 'shutdown-ack' });
    case ChunkType.ERROR:
      return decodeCauseChunk('error', b, flags, s, e);
    case ChunkType.COOKIE_ECHO:
      return decodeCookieEcho(b, s, e);
    case ChunkType.COOKIE_ACK:
      return ok({ kind: 'cookie-ack' });
    case ChunkType.ECNE:
      return decodeTsnChunk('ecne', b, s, e, at);
    case ChunkType.CWR:
      return decodeTsnChunk('cwr', b, s, e, at);
    case ChunkType.SHUTDOWN_COMPLETE:
      return ok({ kind: 'shutdown-complete', tBit: (flags & T_BIT) !== 0 });
    case ChunkType.AUTH:
      return decodeAuth(b, s, e, at);
    case ChunkType.NR_SACK:
      return decodeNrSack(b, flags, s, e, at);
    case ChunkType.I_DATA:
      return decodeIData(b, flags, s, e, at);
    case ChunkType.ASCONF_ACK:
      return decodeAsconfAck(b, s, e, at);
    case ChunkType.RE_CONFIG:
      return decodeReconfig(b, s, e);
    // RFC 4820 §3: the padding data is ignored by the receiver.
    case ChunkType.PAD:
      return ok({ kind: 'pad', length: e - s });
    case ChunkType.FORWARD_TSN:
      return decodeForwardTsn(b, s, e, at);
    case ChunkType.ASCONF:
      return decodeAsconf(b, s, e, at);
    case ChunkType.I_FORWARD_TSN:
      return decodeIForwardTsn(b, s, e, at);
    default:
      return ok({ kind: 'unknown', type, flags, value: b.subarray(s, e) });
  }
}

/**
 * Checks the framing of the chunk header at b[offset] in a packet ending at
 * `end`; returns the failure, or undefined when the chunk fits.
 */
export function chunkFramingError(b: Uint8Array, offset: number, end: number): Result<never> | undefined {
  if (end - offset < 4) return fail(DecodeErrorCode.truncated, offset, `${end - offset} bytes left, a chunk header needs 4`);
  const len = u16(b, offset + 2);
  if (len < 4) return fail(DecodeErrorCode.lengthTooShort, offset + 2, `chunk length ${len} < 4`);
  if (len > end - offset) {
    return fail(DecodeErrorCode.beyondEnd, offset + 2, `chunk length ${len} runs ${len - (end - offset)} bytes past the packet`);
  }
  return undefined;
}

/**
 * Decodes the chunk at b[offset] in a packet ending at `end` (default b.length).
 * `next` is the offset after its padding; a final chunk whose padding is absent
 * (old captures) gets `next === end`. Padding bytes are ignored (RFC 9260 §3.2).
 */
export function decodeChunk(b: Uint8Array, offset: number, end: number = b.length): Result<{ chunk: Chunk; next: number }> {
  if (end > b.length) end = b.length;
  const bad = chunkFramingError(b, offset, end);
  if (bad !== undefined) return bad;
  const len = u16(b, offset + 2);
  const r = decodeChunkValue(b, b[offset]!, b[offset + 1]!, offset + 4, offset + len, offset);
  if (!r.ok) return r;
  const next = offset + pad4(len);
  return ok({ chunk: r.value, next: next < end ? next : end });
}
