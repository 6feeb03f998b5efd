// RFC 9260 §3.3.2, §3.3.3, §5.1.2, §3.2.1-§3.2.2: INIT / INIT ACK validation.
import { describe, expect, it } from 'vitest';
import type { InitAckChunk, InitChunk, Param } from '../../../src/wire/types.js';
import { A, B, PORT_A, PORT_B, deliver, drain, endpoint, events, forward, kinds, only } from '../assoc/helpers.js';

const baseInit: InitChunk = { kind: 'init', initiateTag: 0x1234, aRwnd: 65535, outboundStreams: 10, inboundStreams: 10, initialTsn: 100, params: [] };

function sendInit(init: InitChunk) {
  const b = endpoint([B], PORT_B, 2);
  deliver(b, 0, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 0, chunks: [init] });
  return { b, out: drain(b, 0) };
}

describe('INIT validation', () => {
  for (const [name, init] of [
    ['zero Initiate Tag', { ...baseInit, initiateTag: 0 }],
    ['zero outbound streams', { ...baseInit, outboundStreams: 0 }],
    ['zero inbound streams', { ...baseInit, inboundStreams: 0 }],
  ] as const) {
    it(`${name} → ABORT with Invalid Mandatory Parameter (§3.3.2)`, () => {
      const { b, out } = sendInit(init);
      expect(kinds(out)).toEqual([['abort']]);
      expect(out[0]!.packet.verificationTag).toBe(init.initiateTag);
      expect(only(out, 'abort')).toEqual({ kind: 'abort', tBit: false, causes: [{ kind: 'invalid-mandatory-parameter' }] });
      expect(b.associationIds()).toEqual([]);
    });
  }

  it('a Host Name Address → ABORT with Unresolvable Address carrying the parameter (§5.1.2 B)', () => {
    const { out } = sendInit({ ...baseInit, params: [{ kind: 'host-name-address', hostName: 'peer.example' }] });
    const abort = only(out, 'abort');
    expect(abort.causes[0]!.kind).toBe('unresolvable-address');
    const addr = abort.causes[0]!.kind === 'unresolvable-address' ? abort.causes[0]!.address : new Uint8Array();
    expect((addr[0]! << 8) | addr[1]!).toBe(11); // the Host Name Address TLV, type 11
  });

  it('unknown parameters follow their upper two bits (§3.2.1) and are reported in the INIT ACK (§3.2.2)', () => {
    const unk = (type: number): Param => ({ kind: 'unknown', type, value: new Uint8Array([1, 2, 3, 4]) });
    // 0x8xxx skip, 0xCxxx skip and report, 0x4xxx stop and report; the one after a stop is not looked at.
    const { out } = sendInit({ ...baseInit, params: [unk(0x8101), unk(0xc102), unk(0x4103), unk(0xc104)] });
    const ack = only(out, 'init-ack');
    const reported = ack.params.filter((p) => p.kind === 'unrecognized-parameter').map((p) => (p.kind === 'unrecognized-parameter' ? (p.param[0]! << 8) | p.param[1]! : 0));
    expect(reported).toEqual([0xc102, 0x4103]);
  });

  it('an unknown parameter with 00 bits stops parameter processing silently, the INIT is still answered', () => {
    const { out } = sendInit({ ...baseInit, params: [{ kind: 'unknown', type: 0x0105, value: new Uint8Array(4) }, { kind: 'ipv4-address', address: '10.9.9.9' }] });
    const ack = only(out, 'init-ack');
    expect(ack.params.some((p) => p.kind === 'unrecognized-parameter')).toBe(false);
  });

  it('INIT bundled with another chunk, or with a nonzero tag, is discarded (§6.10, §8.5.1 A)', () => {
    const b = endpoint([B], PORT_B, 2);
    deliver(b, 0, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 7, chunks: [baseInit] });
    deliver(b, 0, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 0, chunks: [baseInit, { kind: 'cookie-ack' }] });
    expect(drain(b, 0)).toEqual([]);
  });
});

describe('INIT ACK validation', () => {
  function initAckTo(mutate: (ack: InitAckChunk) => InitAckChunk) {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    forward(b, 0, drain(a, 0));
    const out = drain(b, 0);
    const ack = only(out, 'init-ack');
    deliver(a, 1, B, A, { ...out[0]!.packet, chunks: [mutate(ack)] });
    return { a, out: drain(a, 1), ev: events(a) };
  }

  it('without a State Cookie → ABORT with Missing Mandatory Parameter, cannot-start (§3.3.3)', () => {
    const { a, out, ev } = initAckTo((ack) => ({ ...ack, params: ack.params.filter((p) => p.kind !== 'state-cookie') }));
    expect(only(out, 'abort').causes).toEqual([{ kind: 'missing-mandatory-parameter', missingTypes: [7] }]);
    expect(ev.map((e) => e.event.type)).toEqual(['cannot-start']);
    expect(a.associationIds()).toEqual([]);
  });

  it('with zero inbound streams → ABORT with Invalid Mandatory Parameter', () => {
    const { out } = initAckTo((ack) => ({ ...ack, inboundStreams: 0 }));
    expect(only(out, 'abort').causes).toEqual([{ kind: 'invalid-mandatory-parameter' }]);
  });

  it('unrecognized parameters are reported in an ERROR bundled after the COOKIE ECHO (§3.2.2)', () => {
    const { out } = initAckTo((ack) => ({ ...ack, params: [...ack.params, { kind: 'unknown', type: 0xc0ff, value: new Uint8Array([9, 9]) }] }));
    expect(kinds(out)).toEqual([['cookie-echo', 'error']]);
    const cause = only(out, 'error').causes[0]!;
    expect(cause.kind).toBe('unrecognized-parameters');
  });
});
