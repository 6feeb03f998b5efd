/** ASCONF and ASCONF-ACK (RFC 5061 §3.1), RE-CONFIG (RFC 6525 §3.1). */
import type { AsconfAckChunk, AsconfChunk, Chunk, ReconfigChunk } from '../types.js';
import { ParamType } from '../registry.js';
import { DecodeErrorCode, fail, ok, type Result } from '../result.js';
import { put32, u16, u32 } from '../bytes.js';
import { addressParamLength, decodeParam, decodeParams, encodeAddressParam, encodeParams, unpaddedParamsLength } from '../param.js';

/**
 * ASCONF value: serial number, then the mandatory Address Parameter (RFC 5061
 * §3.1.1), then the request parameters. No Address Parameter is `missing`.
 */
export function decodeAsconf(b: Uint8Array, s: number, e: number, at: number): Result<Chunk> {
  if (e - s < 4) return fail(DecodeErrorCode.lengthTooShort, at + 2, `ASCONF chunk length ${e - at} < 8`);
  const a = s + 4;
  const t = e - a >= 4 ? u16(b, a) : -1;
  if (t !== ParamType.IPV4_ADDRESS && t !== ParamType.IPV6_ADDRESS) {
    return fail(DecodeErrorCode.missing, a, `ASCONF chunk at ${at} does not start with an Address Parameter`);
  }
  const addr = decodeParam(b, a, e);
  if (!addr.ok) return addr;
  const p = addr.value.param;
  const params = decodeParams(b, addr.value.next, e);
  if (!params.ok) return params;
  const address = p.kind === 'ipv4-address' || p.kind === 'ipv6-address' ? p.address : '';
  return ok({ kind: 'asconf', serial: u32(b, s), address, params: params.value });
}

export function asconfValueLength(c: AsconfChunk): number {
  return 4 + addressParamLength(c.address) + unpaddedParamsLength(c.params);
}

export function encodeAsconfValue(c: AsconfChunk, out: Uint8Array, v: number): void {
  put32(out, v, c.serial);
  encodeParams(c.params, out, encodeAddressParam(c.address, out, v + 4));
}

/** ASCONF-ACK value: serial number, then response parameters (RFC 5061 §3.1.2). */
export function decodeAsconfAck(b: Uint8Array, s: number, e: number, at: number): Result<Chunk> {
  if (e - s < 4) return fail(DecodeErrorCode.lengthTooShort, at + 2, `ASCONF-ACK chunk length ${e - at} < 8`);
  const params = decodeParams(b, s + 4, e);
  if (!params.ok) return params;
  return ok({ kind: 'asconf-ack', serial: u32(b, s), params: params.value });
}

export function asconfAckValueLength(c: AsconfAckChunk): number {
  return 4 + unpaddedParamsLength(c.params);
}

export function encodeAsconfAckValue(c: AsconfAckChunk, out: Uint8Array, v: number): void {
  put32(out, v, c.serial);
  encodeParams(c.params, out, v + 4);
}

/**
 * RE-CONFIG value: request/response parameters. RFC 6525 §3.1 allows one or
 * two; how many arrived is the core's to judge, so any number decodes.
 */
export function decodeReconfig(b: Uint8Array, s: number, e: number): Result<Chunk> {
  const params = decodeParams(b, s, e);
  if (!params.ok) return params;
  return ok({ kind: 're-config', params: params.value });
}

export function reconfigValueLength(c: ReconfigChunk): number {
  return unpaddedParamsLength(c.params);
}
