/**
 * Association setup conformance (RFC 9260 §3.3.2, §3.3.3, §5.1, §5.1.2,
 * §5.1.6, §6.10), scripted packet in / packet out. Named after the ETSI TS
 * 102 369 test purposes they follow where one applies.
 */
import { describe, expect, it } from 'vitest';
import type { Chunk } from '../../../src/wire/types.js';
import { A, B, PORT_A, PORT_B, chunksOf, deliver, drain, endpoint, events, kinds, only, peerInit, reachState } from './helpers.js';

const initTo = (chunk: Chunk, extra: Chunk[] = []) => ({ sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 0, chunks: [chunk, ...extra] });

describe('INIT validation (listener side)', () => {
  it('INIT with a_rwnd below 1500 is answered by ABORT with Invalid Mandatory Parameter (§6, §3.3.2)', () => {
    const b = endpoint([B], PORT_B, 2);
    deliver(b, 0, A, B, initTo({ ...peerInit(0x1234, 1), aRwnd: 1499 }));
    const out = drain(b, 0);
    const abort = only(out, 'abort');
    expect(abort.causes.map((c) => c.kind)).toEqual(['invalid-mandatory-parameter']);
    expect(out[0]!.packet.verificationTag).toBe(0x1234);
    expect(abort.tBit).toBe(false);
    expect(b.associationIds()).toEqual([]);
  });

  it('INIT with a_rwnd of exactly 1500 is accepted', () => {
    const b = endpoint([B], PORT_B, 2);
    deliver(b, 0, A, B, initTo({ ...peerInit(0x1234, 1), aRwnd: 1500 }));
    only(drain(b, 0), 'init-ack');
  });

  it('INIT with a_rwnd 0 is refused the same way', () => {
    const b = endpoint([B], PORT_B, 2);
    deliver(b, 0, A, B, initTo({ ...peerInit(0x1234, 1), aRwnd: 0 }));
    expect(only(drain(b, 0), 'abort').causes.map((c) => c.kind)).toEqual(['invalid-mandatory-parameter']);
  });

  it('INIT listing only IPv6 in Supported Address Types, sent over IPv4, still gets an INIT ACK (§5.1.2)', () => {
    const b = endpoint([B], PORT_B, 2);
    deliver(b, 0, A, B, initTo({ ...peerInit(0x1234, 1), params: [{ kind: 'supported-address-types', addressTypes: [6] }] }));
    only(drain(b, 0), 'init-ack');
  });

  it('INIT with Initiate Tag 0 is answered by ABORT (§3.3.2)', () => {
    const b = endpoint([B], PORT_B, 2);
    deliver(b, 0, A, B, initTo(peerInit(0, 1)));
    expect(only(drain(b, 0), 'abort').causes.map((c) => c.kind)).toEqual(['invalid-mandatory-parameter']);
  });

  it('INIT bundled with DATA is silently discarded (§6.10)', () => {
    const b = endpoint([B], PORT_B, 2);
    const data: Chunk = { kind: 'data', tsn: 1, streamId: 0, ssn: 0, ppid: 0, userData: new Uint8Array(100), unordered: false, beginning: true, ending: true, immediate: false };
    deliver(b, 0, A, B, initTo(peerInit(0x1234, 1), [data]));
    expect(drain(b, 0)).toEqual([]);
  });
});

describe('INIT ACK validation (initiator side, COOKIE-WAIT)', () => {
  function cookieWait() {
    const f = reachState('cookie-wait');
    return { ...f, ack: f.initAck! };
  }

  it('INIT ACK with a_rwnd below 1500: ABORT with Invalid Mandatory Parameter, cannot-start', () => {
    const f = cookieWait();
    deliver(f.ep, 2, B, A, { sourcePort: PORT_B, destinationPort: PORT_A, verificationTag: f.localTag, chunks: [{ ...f.ack, aRwnd: 1000 }] });
    const out = drain(f.ep, 2);
    expect(only(out, 'abort').causes.map((c) => c.kind)).toEqual(['invalid-mandatory-parameter']);
    expect(out[0]!.packet.verificationTag).toBe(f.ack.initiateTag);
    expect(events(f.ep).map((e) => e.event.type)).toContain('cannot-start');
    expect(f.ep.associationIds()).toEqual([]);
  });

  it('INIT ACK with Initiate Tag 0: ABORT with Invalid Mandatory Parameter, tag reflected (§3.3.3)', () => {
    const f = cookieWait();
    deliver(f.ep, 2, B, A, { sourcePort: PORT_B, destinationPort: PORT_A, verificationTag: f.localTag, chunks: [{ ...f.ack, initiateTag: 0 }] });
    const out = drain(f.ep, 2);
    const abort = only(out, 'abort');
    expect(abort.causes.map((c) => c.kind)).toEqual(['invalid-mandatory-parameter']);
    // No peer tag to use: the packet's own tag is reflected with the T bit.
    expect(out[0]!.packet.verificationTag).toBe(f.localTag);
    expect(abort.tBit).toBe(true);
    expect(events(f.ep).map((e) => e.event.type)).toContain('cannot-start');
  });

  it('INIT ACK with OS 0: ABORT with Invalid Mandatory Parameter', () => {
    const f = cookieWait();
    deliver(f.ep, 2, B, A, { sourcePort: PORT_B, destinationPort: PORT_A, verificationTag: f.localTag, chunks: [{ ...f.ack, outboundStreams: 0 }] });
    expect(only(drain(f.ep, 2), 'abort').causes.map((c) => c.kind)).toEqual(['invalid-mandatory-parameter']);
  });

  it('INIT ACK bundled with DATA: the packet is discarded, COOKIE-WAIT goes on (§6.10)', () => {
    const f = cookieWait();
    const data: Chunk = { kind: 'data', tsn: f.ack.initialTsn, streamId: 0, ssn: 0, ppid: 0, userData: new Uint8Array(100), unordered: false, beginning: true, ending: true, immediate: false };
    deliver(f.ep, 2, B, A, { sourcePort: PORT_B, destinationPort: PORT_A, verificationTag: f.localTag, chunks: [f.ack, data] });
    expect(kinds(drain(f.ep, 2))).toEqual([]);
    expect(f.ep.snapshot(f.id)!.fsm.state).toBe('cookie-wait');
    expect(events(f.ep).filter((e) => e.event.type === 'message')).toEqual([]);
  });
});

describe('T1-init (§5.1.6)', () => {
  it('starts at RTO.Initial, doubles, is capped at RTO.Max, and gives up after Max.Init.Retransmits', () => {
    const a = endpoint([A], PORT_A, 1, { rtoInitial: 100, rtoMin: 100, rtoMax: 400, maxInitRetransmits: 4 });
    const r = a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    expect(r.ok).toBe(true);
    const times: number[] = [];
    let now = 0;
    if (chunksOf(drain(a, 0), 'init').length === 1) times.push(0);
    for (let i = 0; i < 10; i++) {
      const t = a.pollTimeout();
      if (t === undefined) break;
      now = t;
      a.handleTimeout(now);
      if (chunksOf(drain(a, now), 'init').length === 1) times.push(now);
    }
    // 100, 200, 400, 400 (capped) between the INITs.
    expect(times).toEqual([0, 100, 300, 700, 1100]);
    const ev = events(a).map((e) => e.event);
    expect(ev.find((e) => e.type === 'cannot-start')).toMatchObject({ reason: 'init-timeout' });
    expect(now).toBe(1500);
    expect(a.associationIds()).toEqual([]);
  });

  it('T1-cookie: the COOKIE ECHO is retransmitted with backoff, then cannot-start', () => {
    const a = endpoint([A], PORT_A, 1, { rtoInitial: 100, rtoMin: 100, rtoMax: 1000, maxInitRetransmits: 2 });
    const b = endpoint([B], PORT_B, 2);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    for (const s of drain(a, 0)) deliver(b, 0, s.source, s.destination, s.packet);
    const ack = drain(b, 0);
    for (const s of ack) deliver(a, 0, s.source, s.destination, s.packet);
    const times: number[] = [];
    if (chunksOf(drain(a, 0), 'cookie-echo').length === 1) times.push(0);
    for (let i = 0; i < 10; i++) {
      const t = a.pollTimeout();
      if (t === undefined) break;
      a.handleTimeout(t);
      if (chunksOf(drain(a, t), 'cookie-echo').length === 1) times.push(t);
    }
    expect(times).toEqual([0, 100, 300]);
    expect(events(a).map((e) => e.event).find((e) => e.type === 'cannot-start')).toMatchObject({ reason: 'cookie-timeout' });
  });
});
