// M3UA (RFC 4666) codec and SGP answers: valid and malformed input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AspsmType, AsptmType, decodeM3ua, decodeProtocolData, decodeU32, encodeData, encodeError, encodeM3ua, ErrorCode, findParameter, MessageClass, MgmtType, Tag, u32,
  type M3uaMessage,
} from '../../src/relay/m3ua.js';
import { SgpAsp } from '../../src/relay/m3ua-sgp.js';

function decoded(bytes: Uint8Array): M3uaMessage {
  const r = decodeM3ua(bytes);
  if (!r.ok) throw new Error(`does not decode: ${r.reason}`);
  return r.message;
}

function errorCodeOf(bytes: Uint8Array): number | undefined {
  const m = decoded(bytes);
  if (m.messageClass !== MessageClass.MGMT || m.messageType !== MgmtType.ERR) return undefined;
  return decodeU32(findParameter(m, Tag.ERROR_CODE)!.value);
}

const pd = { opc: 1001, dpc: 2002, si: 3, ni: 2, mp: 0, sls: 7, userData: new Uint8Array([9, 8, 7, 6, 5]) };

describe('M3UA codec', () => {
  it('encodes the common header and padded TLVs, and decodes them back', () => {
    const bytes = encodeM3ua(MessageClass.ASPSM, AspsmType.BEAT, [{ tag: Tag.HEARTBEAT_DATA, value: new Uint8Array([1, 2, 3, 4, 5]) }]);
    // 8 header + 4 TLV header + 5 value + 3 padding.
    expect(bytes.length).toBe(20);
    expect([...bytes.subarray(0, 8)]).toEqual([1, 0, 3, 3, 0, 0, 0, 20]);
    expect([...bytes.subarray(8, 12)]).toEqual([0, 9, 0, 9]);
    const m = decoded(bytes);
    expect(m.parameters).toHaveLength(1);
    expect([...m.parameters[0]!.value]).toEqual([1, 2, 3, 4, 5]);
  });

  it('DATA with routing context and protocol data round-trips', () => {
    const m = decoded(encodeData(pd, 42));
    expect(decodeU32(findParameter(m, Tag.ROUTING_CONTEXT)!.value)).toBe(42);
    const back = decodeProtocolData(findParameter(m, Tag.PROTOCOL_DATA)!.value)!;
    expect({ ...back, userData: [...back.userData] }).toEqual({ ...pd, userData: [...pd.userData] });
  });

  const bad: [string, Uint8Array, number][] = [
    ['version 2', Uint8Array.from([2, 0, 3, 1, 0, 0, 0, 8]), ErrorCode.INVALID_VERSION],
    ['class 7', Uint8Array.from([1, 0, 7, 1, 0, 0, 0, 8]), ErrorCode.UNSUPPORTED_MESSAGE_CLASS],
    ['ASPSM type 9', Uint8Array.from([1, 0, 3, 9, 0, 0, 0, 8]), ErrorCode.UNSUPPORTED_MESSAGE_TYPE],
    ['shorter than the header', Uint8Array.from([1, 0, 3]), ErrorCode.PROTOCOL_ERROR],
    ['length field beyond the message', Uint8Array.from([1, 0, 3, 1, 0, 0, 0, 12]), ErrorCode.PARAMETER_FIELD_ERROR],
    ['parameter length 2', Uint8Array.from([1, 0, 3, 1, 0, 0, 0, 12, 0, 4, 0, 2]), ErrorCode.PARAMETER_FIELD_ERROR],
    ['parameter overruns', Uint8Array.from([1, 0, 3, 1, 0, 0, 0, 12, 0, 4, 0, 9]), ErrorCode.PARAMETER_FIELD_ERROR],
    ['truncated parameter header', Uint8Array.from([1, 0, 3, 1, 0, 0, 0, 10, 0, 4]), ErrorCode.PARAMETER_FIELD_ERROR],
  ];
  for (const [what, bytes, code] of bad) {
    it(`malformed: ${what} → error code ${code}`, () => {
      const r = decodeM3ua(bytes);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errorCode).toBe(code);
    });
  }

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 3 }), (bytes, stream) => {
        decodeM3ua(bytes);
        const out = new SgpAsp({ routingContexts: [1] }).handle(bytes, stream);
        for (const r of out.replies) expect(decodeM3ua(r).ok).toBe(true);
      }),
      { numRuns: 2000, seed: 10 },
    );
  });
});

describe('SGP answers (RFC 4666 §4.3)', () => {
  const up = encodeM3ua(MessageClass.ASPSM, AspsmType.UP, [{ tag: Tag.ASP_IDENTIFIER, value: u32(77) }]);
  const active = (params = [{ tag: Tag.TRAFFIC_MODE_TYPE, value: u32(2) }, { tag: Tag.ROUTING_CONTEXT, value: u32(1) }]) => encodeM3ua(MessageClass.ASPTM, AsptmType.ACTIVE, params);

  it('ASP Up → ASP Up Ack; ASP Active → ASP Active Ack with the routing context; DATA forwarded; BEAT → BEAT Ack with the same data', () => {
    const asp = new SgpAsp({ routingContexts: [1, 2] });
    const r1 = asp.handle(up, 0);
    expect(r1.forward).toBe(false);
    const ack = decoded(r1.replies[0]!);
    expect([ack.messageClass, ack.messageType]).toEqual([MessageClass.ASPSM, AspsmType.UP_ACK]);
    expect(decodeU32(findParameter(ack, Tag.ASP_IDENTIFIER)!.value)).toBe(77);
    expect(asp.state).toBe('inactive');

    const aAck = decoded(asp.handle(active(), 0).replies[0]!);
    expect([aAck.messageClass, aAck.messageType]).toEqual([MessageClass.ASPTM, AsptmType.ACTIVE_ACK]);
    expect(decodeU32(findParameter(aAck, Tag.ROUTING_CONTEXT)!.value)).toBe(1);
    expect(decodeU32(findParameter(aAck, Tag.TRAFFIC_MODE_TYPE)!.value)).toBe(2);
    expect(asp.state).toBe('active');

    expect(asp.handle(encodeData(pd, 1), 1)).toEqual({ replies: [], forward: true });
    expect(asp.handle(encodeData(pd), 3).forward).toBe(true);

    const hb = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01]);
    const beatAck = decoded(asp.handle(encodeM3ua(MessageClass.ASPSM, AspsmType.BEAT, [{ tag: Tag.HEARTBEAT_DATA, value: hb }]), 0).replies[0]!);
    expect(beatAck.messageType).toBe(AspsmType.BEAT_ACK);
    expect([...findParameter(beatAck, Tag.HEARTBEAT_DATA)!.value]).toEqual([...hb]);

    expect(asp.counters.received).toMatchObject({ 'ASPSM.UP': 1, 'ASPTM.ACTIVE': 1, 'TRANSFER.DATA': 2, 'ASPSM.BEAT': 1 });
    expect(asp.counters.sent).toMatchObject({ 'ASPSM.UP_ACK': 1, 'ASPTM.ACTIVE_ACK': 1, 'ASPSM.BEAT_ACK': 1 });
    expect(asp.counters.forwarded).toBe(2);
  });

  it('ASP Active without routing context: the Ack names the configured ones', () => {
    const asp = new SgpAsp({ routingContexts: [5] });
    asp.handle(up, 0);
    const aAck = decoded(asp.handle(active([]), 0).replies[0]!);
    expect(decodeU32(findParameter(aAck, Tag.ROUTING_CONTEXT)!.value)).toBe(5);
  });

  const cases: [string, (asp: SgpAsp) => Uint8Array, number][] = [
    ['DATA before ASP Active', (asp) => asp.handle(encodeData(pd), 1).replies[0]!, ErrorCode.UNEXPECTED_MESSAGE],
    ['ASP Active before ASP Up', (asp) => asp.handle(active(), 0).replies[0]!, ErrorCode.UNEXPECTED_MESSAGE],
    ['ASP Up on stream 1', (asp) => asp.handle(up, 1).replies[0]!, ErrorCode.INVALID_STREAM_IDENTIFIER],
    ['an unknown routing context', (asp) => (asp.handle(up, 0), asp.handle(active([{ tag: Tag.ROUTING_CONTEXT, value: u32(9) }]), 0).replies[0]!), ErrorCode.INVALID_ROUTING_CONTEXT],
    ['traffic mode 7', (asp) => (asp.handle(up, 0), asp.handle(active([{ tag: Tag.TRAFFIC_MODE_TYPE, value: u32(7) }]), 0).replies[0]!), ErrorCode.UNSUPPORTED_TRAFFIC_MODE_TYPE],
    ['a 3-byte traffic mode', (asp) => (asp.handle(up, 0), asp.handle(active([{ tag: Tag.TRAFFIC_MODE_TYPE, value: new Uint8Array(3) }]), 0).replies[0]!), ErrorCode.PARAMETER_FIELD_ERROR],
    ['DATA without Protocol Data', (asp) => (asp.handle(up, 0), asp.handle(active(), 0), asp.handle(encodeM3ua(MessageClass.TRANSFER, 1, [{ tag: Tag.ROUTING_CONTEXT, value: u32(1) }]), 1).replies[0]!), ErrorCode.MISSING_PARAMETER],
    ['DATA with a 5-byte Protocol Data', (asp) => (asp.handle(up, 0), asp.handle(active(), 0), asp.handle(encodeM3ua(MessageClass.TRANSFER, 1, [{ tag: Tag.PROTOCOL_DATA, value: new Uint8Array(5) }]), 1).replies[0]!), ErrorCode.PARAMETER_FIELD_ERROR],
    ['a routing key registration (RKM)', (asp) => asp.handle(encodeM3ua(MessageClass.RKM, 1), 0).replies[0]!, ErrorCode.UNSUPPORTED_MESSAGE_CLASS],
    ['version 2', (asp) => asp.handle(Uint8Array.from([2, 0, 3, 1, 0, 0, 0, 8]), 0).replies[0]!, ErrorCode.INVALID_VERSION],
    ['ASPTM type 9', (asp) => asp.handle(Uint8Array.from([1, 0, 4, 9, 0, 0, 0, 8]), 0).replies[0]!, ErrorCode.UNSUPPORTED_MESSAGE_TYPE],
  ];
  for (const [what, run, code] of cases) {
    it(`${what} → Error (${code}), nothing forwarded, counted`, () => {
      const asp = new SgpAsp({ routingContexts: [1] });
      const reply = run(asp);
      expect(errorCodeOf(reply)).toBe(code);
      expect(asp.counters.forwarded).toBe(0);
      expect(Object.values(asp.counters.errors).reduce((a, b) => a + b, 0)).toBe(1);
    });
  }

  it('an Error carries the start of the offending message as Diagnostic Information', () => {
    const offending = Uint8Array.from([2, 0, 3, 1, 0, 0, 0, 8]);
    const m = decoded(encodeError(ErrorCode.INVALID_VERSION, offending));
    expect([...findParameter(m, Tag.DIAGNOSTIC_INFORMATION)!.value]).toEqual([...offending]);
  });
});
