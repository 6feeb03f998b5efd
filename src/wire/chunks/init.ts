/** INIT (RFC 9260 §3.3.2) and INIT ACK (§3.3.3): fixed fields then parameters. */
import type { Chunk, InitAckChunk, InitChunk } from '../types.js';
import { DecodeErrorCode, fail, ok, type Result } from '../result.js';
import { put16, put32, u16, u32 } from '../bytes.js';
import { decodeParams, encodeParams, unpaddedParamsLength } from '../param.js';

/**
 * INIT or INIT ACK value b[s, e). Zero tags, zero stream counts and missing
 * mandatory parameters are legal encodings here; refusing them is the core's
 * job (§3.3.2, §5.1).
 */
export function decodeInit(
  kind: 'init' | 'init-ack',
  b: Uint8Array,
  s: number,
  e: number,
  at: number,
): Result<Chunk> {
  if (e - s < 16) {
    return fail(DecodeErrorCode.lengthTooShort, at + 2, `${kind === 'init' ? 'INIT' : 'INIT ACK'} chunk length ${e - at} < 20`);
  }
  const params = decodeParams(b, s + 16, e);
  if (!params.ok) return params;
  return ok({
    kind,
    initiateTag: u32(b, s),
    aRwnd: u32(b, s + 4),
    outboundStreams: u16(b, s + 8),
    inboundStreams: u16(b, s + 10),
    initialTsn: u32(b, s + 12),
    params: params.value,
  });
}

export function initValueLength(c: InitChunk | InitAckChunk): number {
  return 16 + unpaddedParamsLength(c.params);
}

export function encodeInitValue(c: InitChunk | InitAckChunk, out: Uint8Array, v: number): void {
  put32(out, v, c.initiateTag);
  put32(out, v + 4, c.aRwnd);
  put16(out, v + 8, c.outboundStreams);
  put16(out, v + 10, c.inboundStreams);
  put32(out, v + 12, c.initialTsn);
  encodeParams(c.params, out, v + 16);
}
