/**
 * Control chunks with small fixed layouts: HEARTBEAT and HEARTBEAT ACK
 * (RFC 9260 §3.3.5-6), ABORT (§3.3.7), SHUTDOWN (§3.3.8), ERROR (§3.3.10),
 * COOKIE ECHO (§3.3.11), ECNE and CWR (Appendix A), AUTH (RFC 4895 §4.2).
 * The chunks with no value (SHUTDOWN ACK, COOKIE ACK, SHUTDOWN COMPLETE) and PAD
 * are handled in chunk.ts.
 *
 * A fixed-size chunk longer than its layout is accepted and the excess ignored,
 * as Linux does; shorter is `length-too-short`.
 */
import type { AuthChunk, Chunk, HeartbeatAckChunk, HeartbeatChunk } from '../types.js';
import { ParamType } from '../registry.js';
import { DecodeErrorCode, fail, ok, type Result } from '../result.js';
import { put16, u16, u32 } from '../bytes.js';
import { decodeCauses } from '../cause.js';
import { decodeParam } from '../param.js';

/** ABORT and SHUTDOWN COMPLETE flag T (RFC 9260 §3.3.7, §3.3.13). */
export const T_BIT = 0x01;

/**
 * HEARTBEAT / HEARTBEAT ACK value: one Heartbeat Info parameter (§3.3.5). A
 * value that does not start with one is `missing`.
 */
export function decodeHeartbeat(
  kind: 'heartbeat' | 'heartbeat-ack',
  b: Uint8Array,
  s: number,
  e: number,
  at: number,
): Result<Chunk> {
  if (e - s < 4 || u16(b, s) !== ParamType.HEARTBEAT_INFO) {
    return fail(DecodeErrorCode.missing, s, `${kind === 'heartbeat' ? 'HEARTBEAT' : 'HEARTBEAT ACK'} chunk at ${at} has no Heartbeat Info`);
  }
  const r = decodeParam(b, s, e);
  if (!r.ok) return r;
  const p = r.value.param;
  return ok({ kind, info: p.kind === 'heartbeat-info' ? p.info : b.subarray(s + 4, s + 4) });
}

export function heartbeatValueLength(c: HeartbeatChunk | HeartbeatAckChunk): number {
  return 4 + c.info.length;
}

export function encodeHeartbeatValue(c: HeartbeatChunk | HeartbeatAckChunk, out: Uint8Array, v: number): void {
  put16(out, v, ParamType.HEARTBEAT_INFO);
  put16(out, v + 2, 4 + c.info.length);
  out.set(c.info, v + 4);
}

/** ABORT (T bit) or ERROR value: zero or more error causes. */
export function decodeCauseChunk(kind: 'abort' | 'error', b: Uint8Array, flags: number, s: number, e: number): Result<Chunk> {
  const causes = decodeCauses(b, s, e);
  if (!causes.ok) return causes;
  return kind === 'abort' ? ok({ kind, tBit: (flags & T_BIT) !== 0, causes: causes.value }) : ok({ kind, causes: causes.value });
}

/** Value of SHUTDOWN, ECNE or CWR: one 32-bit TSN. */
export function decodeTsnChunk(kind: 'shutdown' | 'ecne' | 'cwr', b: Uint8Array, s: number, e: number, at: number): Result<Chunk> {
  if (e - s < 4) return fail(DecodeErrorCode.lengthTooShort, at + 2, `${kind.toUpperCase()} chunk length ${e - at} < 8`);
  const tsn = u32(b, s);
  return kind === 'shutdown' ? ok({ kind, cumulativeTsnAck: tsn }) : ok({ kind, lowestTsn: tsn });
}

export function decodeCookieEcho(b: Uint8Array, s: number, e: number): Result<Chunk> {
  return ok({ kind: 'cookie-echo', cookie: b.subarray(s, e) });
}

/** AUTH value (RFC 4895 §4.2): shared key id, HMAC id, HMAC. */
export function decodeAuth(b: Uint8Array, s: number, e: number, at: number): Result<Chunk> {
  if (e - s < 4) return fail(DecodeErrorCode.lengthTooShort, at + 2, `AUTH chunk length ${e - at} < 8`);
  return ok({ kind: 'auth', sharedKeyId: u16(b, s), hmacId: u16(b, s + 2), hmac: b.subarray(s + 4, e) });
}

export function encodeAuthValue(c: AuthChunk, out: Uint8Array, v: number): void {
  put16(out, v, c.sharedKeyId);
  put16(out, v + 2, c.hmacId);
  out.set(c.hmac, v + 4);
}
