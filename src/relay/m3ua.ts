/**
 * M3UA (RFC 4666) message codec: the common header (§3.1), TLV parameters
 * (§3.2), and the few messages a relay answers as an SGP. Decoding never
 * throws: a malformed message yields the M3UA error code the RFC assigns to
 * it (§3.8.1), so the caller can answer with an Error message.
 */

export const M3UA_PPID = 3;
export const M3UA_VERSION = 1;

/** §3.1.2 message classes. */
export const MessageClass = {
  MGMT: 0,
  TRANSFER: 1,
  SSNM: 2,
  ASPSM: 3,
  ASPTM: 4,
  RKM: 9,
} as const;

/** §3.1.3 message types per class. */
export const MgmtType = { ERR: 0, NTFY: 1 } as const;
export const TransferType = { DATA: 1 } as const;
export const AspsmType = { UP: 1, DOWN: 2, BEAT: 3, UP_ACK: 4, DOWN_ACK: 5, BEAT_ACK: 6 } as const;
export const AsptmType = { ACTIVE: 1, INACTIVE: 2, ACTIVE_ACK: 3, INACTIVE_ACK: 4 } as const;

/** Types defined per class (§3.1.3); anything else is an Unsupported Message Type. */
const KNOWN_TYPES: Readonly<Record<number, readonly number[]>> = {
  [MessageClass.MGMT]: [0, 1],
  [MessageClass.TRANSFER]: [1],
  [MessageClass.SSNM]: [1, 2, 3, 4, 5, 6],
  [MessageClass.ASPSM]: [1, 2, 3, 4, 5, 6],
  [MessageClass.ASPTM]: [1, 2, 3, 4],
  [MessageClass.RKM]: [1, 2, 3, 4],
};

/** §3.2 parameter tags used here. */
export const Tag = {
  INFO_STRING: 0x0004,
  ROUTING_CONTEXT: 0x0006,
  DIAGNOSTIC_INFORMATION: 0x0007,
  HEARTBEAT_DATA: 0x0009,
  TRAFFIC_MODE_TYPE: 0x000b,
  ERROR_CODE: 0x000c,
  ASP_IDENTIFIER: 0x0011,
  NETWORK_APPEARANCE: 0x0200,
  CORRELATION_ID: 0x0013,
  PROTOCOL_DATA: 0x0210,
} as const;

/** §3.8.1 error codes. */
export const ErrorCode = {
  INVALID_VERSION: 0x01,
  UNSUPPORTED_MESSAGE_CLASS: 0x03,
  UNSUPPORTED_MESSAGE_TYPE: 0x04,
  UNSUPPORTED_TRAFFIC_MODE_TYPE: 0x05,
  UNEXPECTED_MESSAGE: 0x06,
  PROTOCOL_ERROR: 0x07,
  INVALID_STREAM_IDENTIFIER: 0x09,
  INVALID_PARAMETER_VALUE: 0x11,
  PARAMETER_FIELD_ERROR: 0x12,
  UNEXPECTED_PARAMETER: 0x13,
  MISSING_PARAMETER: 0x16,
  INVALID_ROUTING_CONTEXT: 0x19,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;

export function errorCodeName(code: number): string {
  for (const [k, v] of Object.entries(ErrorCode)) if (v === code) return k;
  return `0x${code.toString(16)}`;
}

export interface Parameter {
  readonly tag: number;
  readonly value: Uint8Array;
}

export interface M3uaMessage {
  readonly version: number;
  readonly messageClass: number;
  readonly messageType: number;
  readonly parameters: readonly Parameter[];
}

/** The decoded Protocol Data parameter (§3.3.1.1): MTP3 routing label and the user's bytes. */
export interface ProtocolData {
  readonly opc: number;
  readonly dpc: number;
  readonly si: number;
  readonly ni: number;
  readonly mp: number;
  readonly sls: number;
  readonly userData: Uint8Array;
}

export type DecodeResult =
  | { readonly ok: true; readonly message: M3uaMessage }
  | { readonly ok: false; readonly errorCode: number; readonly reason: string };

const HEADER = 8;

function fail(errorCode: number, reason: string): DecodeResult {
  return { ok: false, errorCode, reason };
}

/**
 * The common header and the TLVs. Version first (§3.8.1 Invalid Version),
 * then class and type, then lengths (Parameter Field Error for any length
 * that does not add up; Protocol Error for a message shorter than its header).
 */
export function decodeM3ua(bytes: Uint8Array): DecodeResult {
  if (bytes.length < 1) return fail(ErrorCode.PROTOCOL_ERROR, 'empty message');
  if (bytes[0] !== M3UA_VERSION) return fail(ErrorCode.INVALID_VERSION, `version ${bytes[0]}, only 1 is supported`);
  if (bytes.length < HEADER) return fail(ErrorCode.PROTOCOL_ERROR, `message of ${bytes.length} bytes is shorter than the common header`);
  const messageClass = bytes[2]!;
  const messageType = bytes[3]!;
  const known = KNOWN_TYPES[messageClass];
  if (known === undefined) return fail(ErrorCode.UNSUPPORTED_MESSAGE_CLASS, `message class ${messageClass}`);
  if (!known.includes(messageType)) return fail(ErrorCode.UNSUPPORTED_MESSAGE_TYPE, `message type ${messageType} in class ${messageClass}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(4);
  if (length !== bytes.length) return fail(ErrorCode.PARAMETER_FIELD_ERROR, `message length field ${length}, message has ${bytes.length} bytes`);
  if (length % 4 !== 0) return fail(ErrorCode.PARAMETER_FIELD_ERROR, `message length ${length} is not a multiple of 4`);
  const parameters: Parameter[] = [];
  let off = HEADER;
  while (off < length) {
    if (off + 4 > length) return fail(ErrorCode.PARAMETER_FIELD_ERROR, `truncated parameter header at offset ${off}`);
    const tag = view.getUint16(off);
    const plen = view.getUint16(off + 2);
    if (plen < 4) return fail(ErrorCode.PARAMETER_FIELD_ERROR, `parameter 0x${tag.toString(16)} length ${plen} < 4`);
    if (off + plen > length) return fail(ErrorCode.PARAMETER_FIELD_ERROR, `parameter 0x${tag.toString(16)} of ${plen} bytes overruns the message`);
    parameters.push({ tag, value: bytes.subarray(off + 4, off + plen) });
    // §3.2: each parameter is padded to a multiple of 4 bytes (the padding is not in its length).
    off += (plen + 3) & ~3;
  }
  if (off !== length) return fail(ErrorCode.PARAMETER_FIELD_ERROR, 'last parameter padding overruns the message');
  return { ok: true, message: { version: bytes[0]!, messageClass, messageType, parameters } };
}

export function findParameter(m: M3uaMessage, tag: number): Parameter | undefined {
  return m.parameters.find((p) => p.tag === tag);
}

/** A list of 32-bit values (Routing Context, §3.3.1): undefined when the length is not a multiple of 4 or is 0. */
export function decodeU32List(value: Uint8Array): number[] | undefined {
  if (value.length === 0 || value.length % 4 !== 0) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 4) out.push(view.getUint32(i));
  return out;
}

export function decodeU32(value: Uint8Array): number | undefined {
  if (value.length !== 4) return undefined;
  return new DataView(value.buffer, value.byteOffset, 4).getUint32(0);
}

/** §3.3.1.1 Protocol Data: at least the 12-byte routing label. */
export function decodeProtocolData(value: Uint8Array): ProtocolData | undefined {
  if (value.length < 12) return undefined;
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return { opc: v.getUint32(0), dpc: v.getUint32(4), si: value[8]!, ni: value[9]!, mp: value[10]!, sls: value[11]!, userData: value.subarray(12) };
}

// ----------------------------------------------------------------- encoding

export function encodeM3ua(messageClass: number, messageType: number, parameters: readonly Parameter[] = []): Uint8Array {
  let length = HEADER;
  for (const p of parameters) length += (4 + p.value.length + 3) & ~3;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out[0] = M3UA_VERSION;
  out[2] = messageClass;
  out[3] = messageType;
  view.setUint32(4, length);
  let off = HEADER;
  for (const p of parameters) {
    view.setUint16(off, p.tag);
    view.setUint16(off + 2, 4 + p.value.length);
    out.set(p.value, off + 4);
    off += (4 + p.value.length + 3) & ~3;
  }
  return out;
}

export function u32(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(4 * i, v >>> 0));
  return out;
}

export function encodeProtocolData(d: ProtocolData): Uint8Array {
  const out = new Uint8Array(12 + d.userData.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, d.opc);
  view.setUint32(4, d.dpc);
  out[8] = d.si;
  out[9] = d.ni;
  out[10] = d.mp;
  out[11] = d.sls;
  out.set(d.userData, 12);
  return out;
}

/** §3.3.1 DATA, with a Routing Context when given. */
export function encodeData(d: ProtocolData, routingContext?: number): Uint8Array {
  const params: Parameter[] = [];
  if (routingContext !== undefined) params.push({ tag: Tag.ROUTING_CONTEXT, value: u32(routingContext) });
  params.push({ tag: Tag.PROTOCOL_DATA, value: encodeProtocolData(d) });
  return encodeM3ua(MessageClass.TRANSFER, TransferType.DATA, params);
}

/**
 * §3.8.1 Error. The Diagnostic Information carries the start of the
 * offending message (at most 40 bytes) to help the peer find it.
 */
export function encodeError(errorCode: number, offending?: Uint8Array, routingContexts?: readonly number[]): Uint8Array {
  const params: Parameter[] = [{ tag: Tag.ERROR_CODE, value: u32(errorCode) }];
  if (routingContexts !== undefined && routingContexts.length > 0) params.push({ tag: Tag.ROUTING_CONTEXT, value: u32(...routingContexts) });
  if (offending !== undefined && offending.length > 0) params.push({ tag: Tag.DIAGNOSTIC_INFORMATION, value: offending.slice(0, 40) });
  return encodeM3ua(MessageClass.MGMT, MgmtType.ERR, params);
}
