/**
 * RE-CONFIG request and response parameters (RFC 6525 §4). Split out of
 * param.ts, which calls these for the parameter types 13..18.
 */
import type { Param } from './types.js';
import { ParamType } from './registry.js';
import { DecodeErrorCode, fail, ok, type Result } from './result.js';
import { put16, put32, u16, u32 } from './bytes.js';

export type ReconfigParam = Extract<
  Param,
  {
    kind:
      | 'outgoing-ssn-reset-request'
      | 'incoming-ssn-reset-request'
      | 'ssn-tsn-reset-request'
      | 'reconfig-response'
      | 'add-outgoing-streams-request'
      | 'add-incoming-streams-request';
  }
>;

/** Parameter Length field of a RE-CONFIG parameter. */
export function reconfigParamLength(p: ReconfigParam): number {
  switch (p.kind) {
    case 'outgoing-ssn-reset-request':
      return 16 + 2 * p.streams.length;
    case 'incoming-ssn-reset-request':
      return 8 + 2 * p.streams.length;
    case 'ssn-tsn-reset-request':
      return 8;
    case 'reconfig-response':
      return p.senderNextTsn === undefined && p.receiverNextTsn === undefined ? 12 : 20;
    case 'add-outgoing-streams-request':
    case 'add-incoming-streams-request':
      return 12;
  }
}

/** Writes the value (after the 4-byte TLV header) of a RE-CONFIG parameter at out[v]. */
export function encodeReconfigParam(p: ReconfigParam, out: Uint8Array, v: number): void {
  switch (p.kind) {
    case 'outgoing-ssn-reset-request':
      put32(out, v, p.requestSeq);
      put32(out, v + 4, p.responseSeq);
      put32(out, v + 8, p.senderLastTsn);
      for (let i = 0; i < p.streams.length; i++) put16(out, v + 12 + 2 * i, p.streams[i]!);
      return;
    case 'incoming-ssn-reset-request':
      put32(out, v, p.requestSeq);
      for (let i = 0; i < p.streams.length; i++) put16(out, v + 4 + 2 * i, p.streams[i]!);
      return;
    case 'ssn-tsn-reset-request':
      put32(out, v, p.requestSeq);
      return;
    case 'reconfig-response':
      put32(out, v, p.responseSeq);
      put32(out, v + 4, p.result);
      // RFC 6525 §4.4: both TSNs or neither; a lone one is sent with the other as 0.
      if (p.senderNextTsn !== undefined || p.receiverNextTsn !== undefined) {
        put32(out, v + 8, p.senderNextTsn ?? 0);
        put32(out, v + 12, p.receiverNextTsn ?? 0);
      }
      return;
    case 'add-outgoing-streams-request':
    case 'add-incoming-streams-request':
      put32(out, v, p.requestSeq);
      put16(out, v + 4, p.newStreams);
      put16(out, v + 6, 0);
      return;
  }
}

function badLength(at: number, name: string, len: number, want: string): Result<never> {
  return fail(DecodeErrorCode.badValue, at + 2, `${name} parameter length ${len}, expected ${want}`);
}

function streamList(b: Uint8Array, v: number, e: number): number[] {
  const streams: number[] = [];
  for (let i = v; i < e; i += 2) streams.push(u16(b, i));
  return streams;
}

/**
 * Decodes the RE-CONFIG parameter whose TLV is b[at, at + len), or returns
 * undefined when `type` is not one of them.
 */
export function decodeReconfigParam(b: Uint8Array, type: number, at: number, len: number): Result<Param> | undefined {
  const v = at + 4;
  const e = at + len;
  switch (type) {
    case ParamType.OUTGOING_SSN_RESET_REQUEST:
      if (len < 16 || (len & 1) !== 0) return badLength(at, 'Outgoing SSN Reset Request', len, '16 + 2N');
      return ok({
        kind: 'outgoing-ssn-reset-request',
        requestSeq: u32(b, v),
        responseSeq: u32(b, v + 4),
        senderLastTsn: u32(b, v + 8),
        streams: streamList(b, v + 12, e),
      });
    case ParamType.INCOMING_SSN_RESET_REQUEST:
      if (len < 8 || (len & 1) !== 0) return badLength(at, 'Incoming SSN Reset Request', len, '8 + 2N');
      return ok({ kind: 'incoming-ssn-reset-request', requestSeq: u32(b, v), streams: streamList(b, v + 4, e) });
    case ParamType.SSN_TSN_RESET_REQUEST:
      if (len !== 8) return badLength(at, 'SSN/TSN Reset Request', len, '8');
      return ok({ kind: 'ssn-tsn-reset-request', requestSeq: u32(b, v) });
    case ParamType.RECONFIG_RESPONSE:
      if (len === 12) return ok({ kind: 'reconfig-response', responseSeq: u32(b, v), result: u32(b, v + 4) });
      if (len !== 20) return badLength(at, 'Re-configuration Response', len, '12 or 20');
      return ok({
        kind: 'reconfig-response',
        responseSeq: u32(b, v),
        result: u32(b, v + 4),
        senderNextTsn: u32(b, v + 8),
        receiverNextTsn: u32(b, v + 12),
      });
    case ParamType.ADD_OUTGOING_STREAMS_REQUEST:
    case ParamType.ADD_INCOMING_STREAMS_REQUEST:
      if (len !== 12) return badLength(at, 'Add Streams Request', len, '12');
      return ok({
        kind: type === ParamType.ADD_OUTGOING_STREAMS_REQUEST ? 'add-outgoing-streams-request' : 'add-incoming-streams-request',
        requestSeq: u32(b, v),
        newStreams: u16(b, v + 4),
      });
    default:
      return undefined;
  }
}
