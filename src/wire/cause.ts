/**
 * Error causes (RFC 9260 §3.3.10, RFC 5061 §4.3, RFC 4895 §4.1): TLVs inside
 * ABORT, ERROR and the ASCONF Error Cause Indication parameter.
 *
 * Framing errors (length below 4, past the container) are typed errors. A known
 * cause whose value does not fit its fixed layout is `bad-value`. Unknown codes
 * decode to `unknown` with code and value kept, never to an error.
 */
import type { ErrorCause } from './types.js';
import { CauseCode } from './registry.js';
import { DecodeErrorCode, fail, ok, type Result } from './result.js';
import { allZero, pad4, put16, put32, u16, u32 } from './bytes.js';

export function causeCode(c: ErrorCause): number {
  switch (c.kind) {
    case 'invalid-stream-identifier':
      return CauseCode.INVALID_STREAM_IDENTIFIER;
    case 'missing-mandatory-parameter':
      return CauseCode.MISSING_MANDATORY_PARAMETER;
    case 'stale-cookie':
      return CauseCode.STALE_COOKIE;
    case 'out-of-resource':
      return CauseCode.OUT_OF_RESOURCE;
    case 'unresolvable-address':
      return CauseCode.UNRESOLVABLE_ADDRESS;
    case 'unrecognized-chunk-type':
      return CauseCode.UNRECOGNIZED_CHUNK_TYPE;
    case 'invalid-mandatory-parameter':
      return CauseCode.INVALID_MANDATORY_PARAMETER;
    case 'unrecognized-parameters':
      return CauseCode.UNRECOGNIZED_PARAMETERS;
    case 'no-user-data':
      return CauseCode.NO_USER_DATA;
    case 'cookie-received-while-shutting-down':
      return CauseCode.COOKIE_RECEIVED_WHILE_SHUTTING_DOWN;
    case 'restart-with-new-addresses':
      return CauseCode.RESTART_WITH_NEW_ADDRESSES;
    case 'user-initiated-abort':
      return CauseCode.USER_INITIATED_ABORT;
    case 'protocol-violation':
      return CauseCode.PROTOCOL_VIOLATION;
    case 'request-to-delete-last-address':
      return CauseCode.REQUEST_TO_DELETE_LAST_ADDRESS;
    case 'operation-refused-resource-shortage':
      return CauseCode.OPERATION_REFUSED_RESOURCE_SHORTAGE;
    case 'request-to-delete-source-address':
      return CauseCode.REQUEST_TO_DELETE_SOURCE_ADDRESS;
    case 'illegal-asconf-ack':
      return CauseCode.ILLEGAL_ASCONF_ACK;
    case 'request-refused-no-authorization':
      return CauseCode.REQUEST_REFUSED_NO_AUTHORIZATION;
    case 'unsupported-hmac-identifier':
      return CauseCode.UNSUPPORTED_HMAC_IDENTIFIER;
    case 'unknown':
      return c.code;
  }
}

/** The value bytes of causes whose value is an opaque byte string, else undefined. */
function opaqueValue(c: ErrorCause): Uint8Array | undefined {
  switch (c.kind) {
    case 'unresolvable-address':
      return c.address;
    case 'unrecognized-chunk-type':
      return c.chunk;
    case 'unrecognized-parameters':
      return c.params;
    case 'restart-with-new-addresses':
      return c.addresses;
    case 'user-initiated-abort':
      return c.reason;
    case 'protocol-violation':
      return c.info;
    case 'request-to-delete-last-address':
    case 'operation-refused-resource-shortage':
    case 'request-to-delete-source-address':
    case 'request-refused-no-authorization':
      return c.request;
    case 'unknown':
      return c.value;
    default:
      return undefined;
  }
}

/** Cause Length field of one cause: header and value, without trailing padding. */
export function encodedCauseLength(c: ErrorCause): number {
  switch (c.kind) {
    case 'invalid-stream-identifier':
    case 'stale-cookie':
    case 'no-user-data':
      return 8;
    case 'missing-mandatory-parameter':
      return 8 + 2 * c.missingTypes.length;
    case 'out-of-resource':
    case 'invalid-mandatory-parameter':
    case 'cookie-received-while-shutting-down':
    case 'illegal-asconf-ack':
      return 4;
    // RFC 4895 §4.1: Cause Length 6, then two bytes of padding.
    case 'unsupported-hmac-identifier':
      return 6;
    default:
      return 4 + opaqueValue(c)!.length;
  }
}

/** Bytes the causes take back to back, each padded to 4 (the last one too). */
export function encodedCausesLength(causes: readonly ErrorCause[]): number {
  let n = 0;
  for (let i = 0; i < causes.length; i++) n += pad4(encodedCauseLength(causes[i]!));
  return n;
}

/**
 * Like encodedCausesLength without the last cause's padding: what an enclosing
 * length field counts (RFC 9260 §3.2: it excludes the final padding).
 */
export function unpaddedCausesLength(causes: readonly ErrorCause[]): number {
  const n = encodedCausesLength(causes);
  if (causes.length === 0) return n;
  const last = encodedCauseLength(causes[causes.length - 1]!);
  return n - (pad4(last) - last);
}

/**
 * Writes one cause at out[offset] with its zero padding; returns the offset after it.
 * @throws RangeError if its length does not fit the 16-bit length field.
 */
export function encodeCause(c: ErrorCause, out: Uint8Array, offset: number): number {
  const len = encodedCauseLength(c);
  if (len > 0xffff) throw new RangeError(`error cause ${c.kind} is ${len} bytes, more than 65535`);
  put16(out, offset, causeCode(c));
  put16(out, offset + 2, len);
  const v = offset + 4;
  switch (c.kind) {
    case 'invalid-stream-identifier':
      put16(out, v, c.streamId);
      put16(out, v + 2, 0);
      break;
    case 'missing-mandatory-parameter':
      put32(out, v, c.missingTypes.length);
      for (let i = 0; i < c.missingTypes.length; i++) put16(out, v + 4 + 2 * i, c.missingTypes[i]!);
      break;
    case 'stale-cookie':
      put32(out, v, c.staleness);
      break;
    case 'no-user-data':
      put32(out, v, c.tsn);
      break;
    case 'unsupported-hmac-identifier':
      put16(out, v, c.hmacId);
      break;
    case 'out-of-resource':
    case 'invalid-mandatory-parameter':
    case 'cookie-received-while-shutting-down':
    case 'illegal-asconf-ack':
      break;
    default:
      out.set(opaqueValue(c)!, v);
  }
  const end = offset + pad4(len);
  for (let i = offset + len; i < end; i++) out[i] = 0;
  return end;
}

/** Writes the causes back to back, each padded; returns the offset after the last. */
export function encodeCauses(causes: readonly ErrorCause[], out: Uint8Array, offset: number): number {
  let o = offset;
  for (let i = 0; i < causes.length; i++) o = encodeCause(causes[i]!, out, o);
  return o;
}

function exactLength(len: number, want: number, at: number, name: string): Result<never> | undefined {
  return len === want ? undefined : fail(DecodeErrorCode.badValue, at + 2, `${name} cause length ${len}, expected ${want}`);
}

/** The value of one cause whose TLV is b[at, at + len), already framed. */
function decodeCauseValue(b: Uint8Array, code: number, at: number, len: number): Result<ErrorCause> {
  const v = at + 4;
  const e = at + len;
  switch (code) {
    case CauseCode.INVALID_STREAM_IDENTIFIER:
      return exactLength(len, 8, at, 'Invalid Stream Identifier') ?? ok({ kind: 'invalid-stream-identifier', streamId: u16(b, v) });
    case CauseCode.MISSING_MANDATORY_PARAMETER: {
      if (len < 8) return fail(DecodeErrorCode.badValue, at + 2, `Missing Mandatory Parameter cause length ${len} < 8`);
      const count = u32(b, v);
      // RFC 9260 §3.3.10.2: the count of 16-bit types must fit the cause.
      if (count > (len - 8) / 2) {
        return fail(DecodeErrorCode.badValue, v, `Missing Mandatory Parameter count ${count} does not fit length ${len}`);
      }
      const missingTypes: number[] = [];
      for (let i = 0; i < count; i++) missingTypes.push(u16(b, v + 4 + 2 * i));
      return ok({ kind: 'missing-mandatory-parameter', missingTypes });
    }
    case CauseCode.STALE_COOKIE:
      return exactLength(len, 8, at, 'Stale Cookie') ?? ok({ kind: 'stale-cookie', staleness: u32(b, v) });
    case CauseCode.OUT_OF_RESOURCE:
      return exactLength(len, 4, at, 'Out of Resource') ?? ok({ kind: 'out-of-resource' });
    case CauseCode.UNRESOLVABLE_ADDRESS:
      return ok({ kind: 'unresolvable-address', address: b.subarray(v, e) });
    case CauseCode.UNRECOGNIZED_CHUNK_TYPE:
      return ok({ kind: 'unrecognized-chunk-type', chunk: b.subarray(v, e) });
    case CauseCode.INVALID_MANDATORY_PARAMETER:
      return exactLength(len, 4, at, 'Invalid Mandatory Parameter') ?? ok({ kind: 'invalid-mandatory-parameter' });
    case CauseCode.UNRECOGNIZED_PARAMETERS:
      return ok({ kind: 'unrecognized-parameters', params: b.subarray(v, e) });
    case CauseCode.NO_USER_DATA:
      return exactLength(len, 8, at, 'No User Data') ?? ok({ kind: 'no-user-data', tsn: u32(b, v) });
    case CauseCode.COOKIE_RECEIVED_WHILE_SHUTTING_DOWN:
      return (
        exactLength(len, 4, at, 'Cookie Received While Shutting Down') ??
        ok({ kind: 'cookie-received-while-shutting-down' })
      );
    case CauseCode.RESTART_WITH_NEW_ADDRESSES:
      return ok({ kind: 'restart-with-new-addresses', addresses: b.subarray(v, e) });
    case CauseCode.USER_INITIATED_ABORT:
      return ok({ kind: 'user-initiated-abort', reason: b.subarray(v, e) });
    case CauseCode.PROTOCOL_VIOLATION:
      return ok({ kind: 'protocol-violation', info: b.subarray(v, e) });
    case CauseCode.REQUEST_TO_DELETE_LAST_ADDRESS:
      return ok({ kind: 'request-to-delete-last-address', request: b.subarray(v, e) });
    case CauseCode.OPERATION_REFUSED_RESOURCE_SHORTAGE:
      return ok({ kind: 'operation-refused-resource-shortage', request: b.subarray(v, e) });
    case CauseCode.REQUEST_TO_DELETE_SOURCE_ADDRESS:
      return ok({ kind: 'request-to-delete-source-address', request: b.subarray(v, e) });
    case CauseCode.ILLEGAL_ASCONF_ACK:
      return exactLength(len, 4, at, 'Illegal ASCONF-ACK') ?? ok({ kind: 'illegal-asconf-ack' });
    case CauseCode.REQUEST_REFUSED_NO_AUTHORIZATION:
      return ok({ kind: 'request-refused-no-authorization', request: b.subarray(v, e) });
    case CauseCode.UNSUPPORTED_HMAC_IDENTIFIER:
      // RFC 4895 §4.1 says length 6; some stacks count the 2 padding bytes (8).
      if (len !== 6 && len !== 8) {
        return fail(DecodeErrorCode.badValue, at + 2, `Unsupported HMAC Identifier cause length ${len}, expected 6`);
      }
      return ok({ kind: 'unsupported-hmac-identifier', hmacId: u16(b, v) });
    default:
      return ok({ kind: 'unknown', code, value: b.subarray(v, e) });
  }
}

/**
 * Decodes the causes in b[start, end). The last cause's padding may or may not
 * be inside `end` (RFC 9260 §3.2); 1 to 3 trailing zero bytes are taken as padding.
 */
export function decodeCauses(b: Uint8Array, start: number, end: number): Result<ErrorCause[]> {
  const causes: ErrorCause[] = [];
  if (end > b.length) end = b.length;
  let p = start;
  while (p < end) {
    if (end - p < 4) {
      if (allZero(b, p, end)) break;
      return fail(DecodeErrorCode.truncated, p, `${end - p} bytes left, an error cause header needs 4`);
    }
    const len = u16(b, p + 2);
    if (len < 4) return fail(DecodeErrorCode.lengthTooShort, p + 2, `error cause length ${len} < 4`);
    if (len > end - p) {
      return fail(DecodeErrorCode.beyondEnd, p + 2, `error cause length ${len} runs ${len - (end - p)} bytes past its container`);
    }
    const r = decodeCauseValue(b, u16(b, p), p, len);
    if (!r.ok) return r;
    causes.push(r.value);
    const next = p + pad4(len);
    p = next < end ? next : end;
  }
  return ok(causes);
}
