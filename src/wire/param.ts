/**
 * Parameters (RFC 9260 §3.2.1): TLVs in INIT, INIT ACK, ASCONF, ASCONF-ACK and
 * RE-CONFIG; also the Heartbeat Info of HEARTBEAT and the address inside the
 * RFC 5061 ASCONF parameters.
 *
 * Unknown types decode to `unknown` (the core applies the upper-two-bit rules,
 * §3.2.1). A known type whose length does not fit its layout is `bad-value`.
 * Padding bytes are not checked: RFC 9260 §3.2 tells the receiver to ignore them.
 */
import type { Param } from './types.js';
import { ParamType } from './registry.js';
import { DecodeErrorCode, fail, ok, type Result } from './result.js';
import { allZero, fromUtf8, pad4, put16, put32, u16, u32, utf8 } from './bytes.js';
import { addressBytes, formatIPv4, formatIPv6 } from './address.js';
import { decodeCauses, encodeCauses, unpaddedCausesLength } from './cause.js';
import { decodeReconfigParam, encodeReconfigParam, reconfigParamLength } from './param-reconfig.js';

export function paramType(p: Param): number {
  switch (p.kind) {
    case 'heartbeat-info':
      return ParamType.HEARTBEAT_INFO;
    case 'ipv4-address':
      return ParamType.IPV4_ADDRESS;
    case 'ipv6-address':
      return ParamType.IPV6_ADDRESS;
    case 'state-cookie':
      return ParamType.STATE_COOKIE;
    case 'unrecognized-parameter':
      return ParamType.UNRECOGNIZED_PARAMETER;
    case 'cookie-preservative':
      return ParamType.COOKIE_PRESERVATIVE;
    case 'host-name-address':
      return ParamType.HOST_NAME_ADDRESS;
    case 'supported-address-types':
      return ParamType.SUPPORTED_ADDRESS_TYPES;
    case 'ecn-capable':
      return ParamType.ECN_CAPABLE;
    case 'forward-tsn-supported':
      return ParamType.FORWARD_TSN_SUPPORTED;
    case 'random':
      return ParamType.RANDOM;
    case 'chunk-list':
      return ParamType.CHUNK_LIST;
    case 'hmac-algo':
      return ParamType.HMAC_ALGO;
    case 'padding':
      return ParamType.PADDING;
    case 'supported-extensions':
      return ParamType.SUPPORTED_EXTENSIONS;
    case 'add-ip-address':
      return ParamType.ADD_IP_ADDRESS;
    case 'delete-ip-address':
      return ParamType.DELETE_IP_ADDRESS;
    case 'set-primary-address':
      return ParamType.SET_PRIMARY_ADDRESS;
    case 'error-cause-indication':
      return ParamType.ERROR_CAUSE_INDICATION;
    case 'success-indication':
      return ParamType.SUCCESS_INDICATION;
    case 'adaptation-layer-indication':
      return ParamType.ADAPTATION_LAYER_INDICATION;
    case 'outgoing-ssn-reset-request':
      return ParamType.OUTGOING_SSN_RESET_REQUEST;
    case 'incoming-ssn-reset-request':
      return ParamType.INCOMING_SSN_RESET_REQUEST;
    case 'ssn-tsn-reset-request':
      return ParamType.SSN_TSN_RESET_REQUEST;
    case 'reconfig-response':
      return ParamType.RECONFIG_RESPONSE;
    case 'add-outgoing-streams-request':
      return ParamType.ADD_OUTGOING_STREAMS_REQUEST;
    case 'add-incoming-streams-request':
      return ParamType.ADD_INCOMING_STREAMS_REQUEST;
    case 'unknown':
      return p.type;
  }
}

// ------------------------------------------------------------------ addresses

/** Raw bytes of an address string. @throws RangeError if it is not an IPv4/IPv6 address. */
function addressOrThrow(address: string): Uint8Array {
  const a = addressBytes(address);
  if (a === undefined) throw new RangeError(`not an IPv4 or IPv6 address: ${JSON.stringify(address)}`);
  return a;
}

/** Length of the IPv4 (8) or IPv6 (20) Address Parameter for an address string. */
export function addressParamLength(address: string): number {
  return address.includes(':') ? 20 : 8;
}

/** Writes an IPv4/IPv6 Address Parameter (RFC 9260 §3.3.2.1); returns the offset after it. */
export function encodeAddressParam(address: string, out: Uint8Array, offset: number): number {
  const a = addressOrThrow(address);
  put16(out, offset, a.length === 4 ? ParamType.IPV4_ADDRESS : ParamType.IPV6_ADDRESS);
  put16(out, offset + 2, 4 + a.length);
  out.set(a, offset + 4);
  return offset + 4 + a.length;
}

/**
 * The address of the IPv4/IPv6 Address Parameter at b[at, end): RFC 5061 §4.2.1
 * nests one inside ADD/DELETE IP and SET PRIMARY. Anything else is `bad-value`.
 */
function decodeNestedAddress(b: Uint8Array, at: number, end: number, name: string): Result<string> {
  if (end - at >= 4) {
    const t = u16(b, at);
    const len = u16(b, at + 2);
    if (t === ParamType.IPV4_ADDRESS && len === 8 && end - at === 8) return ok(formatIPv4(b, at + 4));
    if (t === ParamType.IPV6_ADDRESS && len === 20 && end - at === 20) return ok(formatIPv6(b, at + 4));
  }
  return fail(DecodeErrorCode.badValue, at, `${name} must hold exactly one IPv4 or IPv6 Address Parameter`);
}

// -------------------------------------------------------------------- lengths

function u8ListLength(list: readonly number[]): number {
  return 4 + list.length;
}

/** Parameter Length field of one parameter: header and value, without trailing padding. */
export function encodedParamLength(p: Param): number {
  switch (p.kind) {
    case 'heartbeat-info':
      return 4 + p.info.length;
    case 'ipv4-address':
      return 8;
    case 'ipv6-address':
      return 20;
    case 'state-cookie':
      return 4 + p.cookie.length;
    case 'unrecognized-parameter':
      return 4 + p.param.length;
    case 'cookie-preservative':
    case 'success-indication':
    case 'adaptation-layer-indication':
      return 8;
    // RFC 9260 §3.3.2.1.4: the name is NUL-terminated.
    case 'host-name-address':
      return 4 + fromUtf8(p.hostName).length + 1;
    case 'supported-address-types':
      return 4 + 2 * p.addressTypes.length;
    case 'ecn-capable':
    case 'forward-tsn-supported':
      return 4;
    case 'random':
      return 4 + p.random.length;
    case 'chunk-list':
      return u8ListLength(p.chunkTypes);
    case 'supported-extensions':
      return u8ListLength(p.chunkTypes);
    case 'hmac-algo':
      return 4 + 2 * p.hmacIds.length;
    case 'padding':
      return 4 + p.length;
    case 'add-ip-address':
    case 'delete-ip-address':
    case 'set-primary-address':
      return 8 + addressParamLength(p.address);
    case 'error-cause-indication':
      return 8 + unpaddedCausesLength(p.causes);
    case 'unknown':
      return 4 + p.value.length;
    default:
      return reconfigParamLength(p);
  }
}

/** Bytes the parameters take back to back, each padded to 4 (the last one too). */
export function encodedParamsLength(params: readonly Param[]): number {
  let n = 0;
  for (let i = 0; i < params.length; i++) n += pad4(encodedParamLength(params[i]!));
  return n;
}

/** encodedParamsLength without the last parameter's padding (RFC 9260 §3.2 chunk length). */
export function unpaddedParamsLength(params: readonly Param[]): number {
  const n = encodedParamsLength(params);
  if (params.length === 0) return n;
  const last = encodedParamLength(params[params.length - 1]!);
  return n - (pad4(last) - last);
}

// ------------------------------------------------------------------- encoding

function putU16List(out: Uint8Array, v: number, list: readonly number[]): void {
  for (let i = 0; i < list.length; i++) put16(out, v + 2 * i, list[i]!);
}

function putU8List(out: Uint8Array, v: number, list: readonly number[]): void {
  for (let i = 0; i < list.length; i++) out[v + i] = list[i]!;
}

/**
 * Writes one parameter at out[offset] with its zero padding; returns the offset after it.
 * @throws RangeError on an address that is not IPv4/IPv6 or a length over 65535.
 */
export function encodeParam(p: Param, out: Uint8Array, offset: number): number {
  const len = encodedParamLength(p);
  if (len > 0xffff) throw new RangeError(`parameter ${p.kind} is ${len} bytes, more than 65535`);
  put16(out, offset, paramType(p));
  put16(out, offset + 2, len);
  const v = offset + 4;
  switch (p.kind) {
    case 'heartbeat-info':
      out.set(p.info, v);
      break;
    case 'ipv4-address':
    case 'ipv6-address': {
      const a = addressOrThrow(p.address);
      if (a.length !== len - 4) throw new RangeError(`${p.kind} parameter holds ${p.address}`);
      out.set(a, v);
      break;
    }
    case 'state-cookie':
      out.set(p.cookie, v);
      break;
    case 'unrecognized-parameter':
      out.set(p.param, v);
      break;
    case 'cookie-preservative':
      put32(out, v, p.lifeSpanIncrement);
      break;
    case 'host-name-address': {
      const name = fromUtf8(p.hostName);
      out.set(name, v);
      out[v + name.length] = 0;
      break;
    }
    case 'supported-address-types':
      putU16List(out, v, p.addressTypes);
      break;
    case 'ecn-capable':
    case 'forward-tsn-supported':
      break;
    case 'random':
      out.set(p.random, v);
      break;
    case 'chunk-list':
    case 'supported-extensions':
      putU8List(out, v, p.chunkTypes);
      break;
    case 'hmac-algo':
      putU16List(out, v, p.hmacIds);
      break;
    case 'padding':
      out.fill(0, v, v + p.length);
      break;
    case 'add-ip-address':
    case 'delete-ip-address':
    case 'set-primary-address':
      put32(out, v, p.correlationId);
      encodeAddressParam(p.address, out, v + 4);
      break;
    case 'error-cause-indication':
      put32(out, v, p.correlationId);
      encodeCauses(p.causes, out, v + 4);
      break;
    case 'success-indication':
      put32(out, v, p.correlationId);
      break;
    case 'adaptation-layer-indication':
      put32(out, v, p.indication);
      break;
    case 'unknown':
      out.set(p.value, v);
      break;
    default:
      encodeReconfigParam(p, out, v);
  }
  const end = offset + pad4(len);
  for (let i = offset + len; i < end; i++) out[i] = 0;
  return end;
}

/** Writes the parameters back to back, each padded; returns the offset after the last. */
export function encodeParams(params: readonly Param[], out: Uint8Array, offset: number): number {
  let o = offset;
  for (let i = 0; i < params.length; i++) o = encodeParam(params[i]!, out, o);
  return o;
}

// ------------------------------------------------------------------- decoding

function fixedLength(len: number, want: number, at: number, name: string): Result<never> | undefined {
  return len === want ? undefined : fail(DecodeErrorCode.badValue, at + 2, `${name} parameter length ${len}, expected ${want}`);
}

function u16List(b: Uint8Array, v: number, e: number): number[] {
  const list: number[] = [];
  for (let i = v; i + 1 < e; i += 2) list.push(u16(b, i));
  return list;
}

function u8List(b: Uint8Array, v: number, e: number): number[] {
  const list: number[] = [];
  for (let i = v; i < e; i++) list.push(b[i]!);
  return list;
}

function evenValue(len: number, at: number, name: string): Result<never> | undefined {
  return (len & 1) === 0 ? undefined : fail(DecodeErrorCode.badValue, at + 2, `${name} parameter length ${len} is odd`);
}

/** The value of one parameter whose TLV is b[at, at + len), already framed. */
function decodeParamValue(b: Uint8Array, type: number, at: number, len: number): Result<Param> {
  const v = at + 4;
  const e = at + len;
  switch (type) {
    case ParamType.HEARTBEAT_INFO:
      return ok({ kind: 'heartbeat-info', info: b.subarray(v, e) });
    case ParamType.IPV4_ADDRESS:
      return fixedLength(len, 8, at, 'IPv4 Address') ?? ok({ kind: 'ipv4-address', address: formatIPv4(b, v) });
    case ParamType.IPV6_ADDRESS:
      return fixedLength(len, 20, at, 'IPv6 Address') ?? ok({ kind: 'ipv6-address', address: formatIPv6(b, v) });
    case ParamType.STATE_COOKIE:
      return ok({ kind: 'state-cookie', cookie: b.subarray(v, e) });
    case ParamType.UNRECOGNIZED_PARAMETER:
      return ok({ kind: 'unrecognized-parameter', param: b.subarray(v, e) });
    case ParamType.COOKIE_PRESERVATIVE:
      return (
        fixedLength(len, 8, at, 'Cookie Preservative') ?? ok({ kind: 'cookie-preservative', lifeSpanIncrement: u32(b, v) })
      );
    case ParamType.HOST_NAME_ADDRESS: {
      let n = e;
      while (n > v && b[n - 1] === 0) n--;
      return ok({ kind: 'host-name-address', hostName: utf8(b.subarray(v, n)) });
    }
    case ParamType.SUPPORTED_ADDRESS_TYPES:
      return (
        evenValue(len, at, 'Supported Address Types') ??
        ok({ kind: 'supported-address-types', addressTypes: u16List(b, v, e) })
      );
    case ParamType.ECN_CAPABLE:
      return fixedLength(len, 4, at, 'ECN Capable') ?? ok({ kind: 'ecn-capable' });
    case ParamType.FORWARD_TSN_SUPPORTED:
      return fixedLength(len, 4, at, 'Forward-TSN-Supported') ?? ok({ kind: 'forward-tsn-supported' });
    case ParamType.RANDOM:
      return ok({ kind: 'random', random: b.subarray(v, e) });
    case ParamType.CHUNK_LIST:
      return ok({ kind: 'chunk-list', chunkTypes: u8List(b, v, e) });
    case ParamType.HMAC_ALGO:
      return evenValue(len, at, 'HMAC-ALGO') ?? ok({ kind: 'hmac-algo', hmacIds: u16List(b, v, e) });
    case ParamType.PADDING:
      return ok({ kind: 'padding', length: len - 4 });
    case ParamType.SUPPORTED_EXTENSIONS:
      return ok({ kind: 'supported-extensions', chunkTypes: u8List(b, v, e) });
    case ParamType.ADD_IP_ADDRESS:
    case ParamType.DELETE_IP_ADDRESS:
    case ParamType.SET_PRIMARY_ADDRESS: {
      const kind =
        type === ParamType.ADD_IP_ADDRESS
          ? 'add-ip-address'
          : type === ParamType.DELETE_IP_ADDRESS
            ? 'delete-ip-address'
            : 'set-primary-address';
      if (len < 8) return fail(DecodeErrorCode.badValue, at + 2, `${kind} parameter length ${len} < 8`);
      const a = decodeNestedAddress(b, v + 4, e, kind);
      return a.ok ? ok({ kind, correlationId: u32(b, v), address: a.value }) : a;
    }
    case ParamType.ERROR_CAUSE_INDICATION: {
      if (len < 8) return fail(DecodeErrorCode.badValue, at + 2, `Error Cause Indication parameter length ${len} < 8`);
      const causes = decodeCauses(b, v + 4, e);
      return causes.ok ? ok({ kind: 'error-cause-indication', correlationId: u32(b, v), causes: causes.value }) : causes;
    }
    case ParamType.SUCCESS_INDICATION:
      return fixedLength(len, 8, at, 'Success Indication') ?? ok({ kind: 'success-indication', correlationId: u32(b, v) });
    case ParamType.ADAPTATION_LAYER_INDICATION:
      return (
        fixedLength(len, 8, at, 'Adaptation Layer Indication') ??
        ok({ kind: 'adaptation-layer-indication', indication: u32(b, v) })
      );
    default:
      return decodeReconfigParam(b, type, at, len) ?? ok({ kind: 'unknown', type, value: b.subarray(v, e) });
  }
}

/**
 * Decodes the parameter at b[offset] inside a container ending at `end`.
 * `next` is the offset after its padding, or `end` when that padding is absent.
 */
export function decodeParam(b: Uint8Array, offset: number, end: number): Result<{ param: Param; next: number }> {
  if (end > b.length) end = b.length;
  if (end - offset < 4) return fail(DecodeErrorCode.truncated, offset, `${end - offset} bytes left, a parameter header needs 4`);
  const len = u16(b, offset + 2);
  if (len < 4) return fail(DecodeErrorCode.lengthTooShort, offset + 2, `parameter length ${len} < 4`);
  if (len > end - offset) {
    return fail(DecodeErrorCode.beyondEnd, offset + 2, `parameter length ${len} runs ${len - (end - offset)} bytes past its container`);
  }
  const r = decodeParamValue(b, u16(b, offset), offset, len);
  if (!r.ok) return r;
  const next = offset + pad4(len);
  return ok({ param: r.value, next: next < end ? next : end });
}

/**
 * Decodes the parameters in b[start, end). RFC 9260 §3.2.1: the last one's
 * padding may or may not be inside `end`; 1 to 3 trailing zero bytes are taken
 * as padding.
 */
export function decodeParams(b: Uint8Array, start: number, end: number): Result<Param[]> {
  const params: Param[] = [];
  if (end > b.length) end = b.length;
  let p = start;
  while (p < end) {
    if (end - p < 4 && allZero(b, p, end)) break;
    const r = decodeParam(b, p, end);
    if (!r.ok) return r;
    params.push(r.value.param);
    p = r.value.next;
  }
  return ok(params);
}
