// RFC 9260 §5.1: the four-way handshake, both ways, T1-init and T1-cookie.
import { describe, expect, it } from 'vitest';
import { A, A2, B, B2, PORT_A, PORT_B, Pair, chunksOf, drain, endpoint, events, established, forward, kinds, only } from './helpers.js';

describe('four-way handshake (RFC 9260 §5.1)', () => {
  it('INIT → INIT ACK → COOKIE ECHO → COOKIE ACK, no server state before the COOKIE ECHO', () => {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2);
    const r = a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    expect(r.ok).toBe(true);

    const init = drain(a, 0);
    expect(kinds(init)).toEqual([['init']]);
    expect(init[0]!.packet.verificationTag).toBe(0); // §8.5.1 A
    expect(init[0]!.source).toBe(A);
    expect(init[0]!.destination).toBe(B);
    const initChunk = only(init, 'init');
    expect(initChunk.initiateTag).not.toBe(0);
    expect(initChunk.params.some((p) => p.kind === 'forward-tsn-supported')).toBe(true);

    forward(b, 1, init);
    expect(b.associationIds()).toEqual([]); // §5.1.3: stateless until the cookie returns
    const initAck = drain(b, 1);
    expect(kinds(initAck)).toEqual([['init-ack']]);
    expect(initAck[0]!.packet.verificationTag).toBe(initChunk.initiateTag);
    const ack = only(initAck, 'init-ack');
    expect(ack.params.some((p) => p.kind === 'state-cookie')).toBe(true);

    forward(a, 2, initAck);
    const echo = drain(a, 2);
    expect(kinds(echo)).toEqual([['cookie-echo']]);
    expect(echo[0]!.packet.verificationTag).toBe(ack.initiateTag);

    forward(b, 3, echo);
    expect(b.associationIds().length).toBe(1);
    const cookieAck = drain(b, 3);
    expect(kinds(cookieAck)).toEqual([['cookie-ack']]);
    expect(cookieAck[0]!.packet.verificationTag).toBe(initChunk.initiateTag);
    const evB = events(b);
    expect(evB.map((e) => e.event.type)).toEqual(['communication-up']);

    forward(a, 4, cookieAck);
    const evA = events(a);
    expect(evA.map((e) => e.event.type)).toEqual(['communication-up']);
    const snapA = a.snapshot(r.ok ? r.assocId : -1)!;
    expect(snapA.fsm.state).toBe('established');
  });

  it('works the other way round (B initiates to A)', () => {
    const a = endpoint([A], PORT_A, 3);
    const b = endpoint([B], PORT_B, 4);
    const pair = new Pair(a, b);
    b.connect(0, { remoteAddresses: [A], remotePort: PORT_A });
    pair.pump(0);
    expect(pair.evA.map((e) => e.event.type)).toEqual(['communication-up']);
    expect(pair.evB.map((e) => e.event.type)).toEqual(['communication-up']);
  });

  it('negotiates streams as the minimum of OS and MIS (§5.1.1)', () => {
    const a = endpoint([A], PORT_A, 1, { outboundStreams: 20, maxInboundStreams: 3 });
    const b = endpoint([B], PORT_B, 2, { outboundStreams: 7, maxInboundStreams: 100 });
    const pair = new Pair(a, b);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    pair.pump(0);
    const upA = pair.evA[0]!.event;
    const upB = pair.evB[0]!.event;
    expect(upA).toMatchObject({ type: 'communication-up', outboundStreams: 20, inboundStreams: 3 });
    expect(upB).toMatchObject({ type: 'communication-up', outboundStreams: 3, inboundStreams: 20 });
  });

  it('T1-init retransmits with backoff, to alternate addresses, then reports cannot-start (§5.1.6)', () => {
    const a = endpoint([A], PORT_A, 1, { maxInitRetransmits: 2 });
    a.connect(0, { remoteAddresses: [B, B2], remotePort: PORT_B });
    expect(drain(a, 0).map((s) => s.destination)).toEqual([B]);
    expect(a.pollTimeout()).toBe(1000);
    a.handleTimeout(1000);
    expect(drain(a, 1000).map((s) => s.destination)).toEqual([B2]);
    expect(a.pollTimeout()).toBe(3000);
    a.handleTimeout(3000);
    expect(kinds(drain(a, 3000))).toEqual([['init']]);
    expect(a.pollTimeout()).toBe(7000);
    a.handleTimeout(7000);
    expect(drain(a, 7000)).toEqual([]);
    expect(events(a).map((e) => e.event)).toEqual([{ type: 'cannot-start', reason: 'init-timeout', causes: [] }]);
    expect(a.associationIds()).toEqual([]);
  });

  it('T1-cookie retransmits the COOKIE ECHO (§5.1.6)', () => {
    const { pair } = established();
    expect(pair.log.length).toBe(4);
    const a = endpoint([A], PORT_A, 5);
    const b = endpoint([B], PORT_B, 6);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    forward(b, 0, drain(a, 0));
    forward(a, 0, drain(b, 0));
    const echo1 = drain(a, 0);
    expect(kinds(echo1)).toEqual([['cookie-echo']]);
    a.handleTimeout(a.pollTimeout()!);
    const echo2 = drain(a, 1000);
    expect(kinds(echo2)).toEqual([['cookie-echo']]);
    forward(b, 1000, echo2);
    forward(a, 1000, drain(b, 1000));
    expect(events(a).map((e) => e.event.type)).toEqual(['communication-up']);
  });

  it('multihomed INIT lists every local address; the peer keeps them UNCONFIRMED then confirms them by HEARTBEAT (§5.4)', () => {
    const a = endpoint([A, A2], PORT_A, 1);
    const b = endpoint([B, B2], PORT_B, 2);
    const pair = new Pair(a, b);
    a.connect(0, { remoteAddresses: [B, B2], remotePort: PORT_B });
    const init = drain(a, 0);
    const params = only(init, 'init').params.filter((p) => p.kind === 'ipv4-address');
    expect(params.map((p) => (p.kind === 'ipv4-address' ? p.address : ''))).toEqual([A, A2]);
    forward(b, 0, init);
    pair.pump(0);
    const idB = pair.evB[0]!.assocId;
    const snap = b.snapshot(idB)!;
    expect(snap.fsm.state).toBe('established');
    const paths = snap.fsm.state === 'established' ? snap.fsm.tcb.paths.map((p) => [p.address, p.state]) : [];
    expect(paths).toEqual([
      [A, 'active'],
      [A2, 'unconfirmed'],
    ]);
    // The unconfirmed address is probed at once with a HEARTBEAT.
    pair.runTo(0, 10);
    const hb = pair.log.filter((l) => l.from === 'b' && l.sent.packet.chunks.some((c) => c.kind === 'heartbeat'));
    expect(hb.map((l) => l.sent.destination)).toContain(A2);
    const confirmed = pair.evB.filter((e) => e.event.type === 'peer-address-change');
    expect(confirmed.map((e) => e.event)).toContainEqual({ type: 'peer-address-change', address: A2, state: 'SCTP_ADDR_CONFIRMED', from: 'unconfirmed', to: 'active' });
    expect(chunksOf(pair.log.map((l) => l.sent), 'heartbeat-ack').length).toBeGreaterThan(0);
  });
});
