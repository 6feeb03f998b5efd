// RFC 9260 §5.2: INIT collision, duplicate COOKIE ECHO (Table 2 cases A-D), restart.
import { describe, expect, it } from 'vitest';
import { A, A2, B, PORT_A, PORT_B, Pair, deliver, drain, endpoint, established, events, forward, kinds, only } from './helpers.js';

const types = (ev: { event: { type: string } }[]) => ev.map((e) => e.event.type);

describe('INIT collision (§5.2.1, §5.2.4 case B)', () => {
  it('both sides connect at once: one association each, both up, tags agree', () => {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2);
    const pair = new Pair(a, b);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    b.connect(0, { remoteAddresses: [A], remotePort: PORT_A });
    pair.pump(0);
    expect(a.associationIds().length).toBe(1);
    expect(b.associationIds().length).toBe(1);
    expect(types(pair.evA)).toEqual(['communication-up']);
    expect(types(pair.evB)).toEqual(['communication-up']);
    const sa = a.snapshot(a.associationIds()[0]!)!;
    const sb = b.snapshot(b.associationIds()[0]!)!;
    if (sa.fsm.state !== 'established' || sb.fsm.state !== 'established') throw new Error('not up');
    expect(sa.fsm.tcb.peerTag).toBe(sb.fsm.tcb.localTag);
    expect(sb.fsm.tcb.peerTag).toBe(sa.fsm.tcb.localTag);
    // And data flows.
    a.send(1, sa.id, new Uint8Array([1, 2, 3]), { streamId: 0, ppid: 0 });
    pair.pump(1);
    expect(types(pair.evB)).toContain('message');
  });
});

describe('restart (§5.2.2, §5.2.4 case A)', () => {
  it('a peer that restarts (same address and port, new tags) restarts the association', () => {
    const x = established();
    const a2 = endpoint([A], PORT_A, 77);
    const pair2 = new Pair(a2, x.b);
    a2.connect(100, { remoteAddresses: [B], remotePort: PORT_B });
    const init = drain(a2, 100);
    forward(x.b, 100, init);
    const initAck = drain(x.b, 100);
    expect(kinds(initAck)).toEqual([['init-ack']]);
    const sb = x.b.snapshot(x.idB)!;
    if (sb.fsm.state !== 'established') throw new Error('state');
    expect(only(initAck, 'init-ack').initiateTag).not.toBe(sb.fsm.tcb.localTag); // a new tag (§5.2.2)
    forward(a2, 100, initAck);
    pair2.pump(100);
    expect(types(pair2.evB)).toContain('restart');
    expect(types(pair2.evA)).toEqual(['communication-up']);
    expect(x.b.associationIds()).toEqual([x.idB]);
    const after = x.b.snapshot(x.idB)!;
    if (after.fsm.state !== 'established') throw new Error('state');
    expect(after.fsm.tcb.peerTag).not.toBe(sb.fsm.tcb.peerTag);
  });

  it('a restart that adds an address is refused with ABORT "Restart with New Addresses", state unchanged', () => {
    const x = established();
    const a2 = endpoint([A, A2], PORT_A, 77);
    a2.connect(100, { remoteAddresses: [B], remotePort: PORT_B });
    forward(x.b, 100, drain(a2, 100));
    const out = drain(x.b, 100);
    expect(kinds(out)).toEqual([['abort']]);
    expect(only(out, 'abort').causes[0]!.kind).toBe('restart-with-new-addresses');
    expect(x.b.snapshot(x.idB)!.fsm.state).toBe('established');
    expect(events(x.b)).toEqual([]);
  });

  it('INIT in SHUTDOWN-ACK-SENT: discarded, SHUTDOWN ACK repeated (§9.2)', () => {
    const x = established();
    x.a.shutdown(10, x.idA);
    x.pair.drop = (s) => s.packet.chunks.some((c) => c.kind === 'shutdown-ack');
    x.pair.pump(10);
    expect(x.b.snapshot(x.idB)!.fsm.state).toBe('shutdown-ack-sent');
    deliver(x.b, 20, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 0, chunks: [{ kind: 'init', initiateTag: 5, aRwnd: 5000, outboundStreams: 1, inboundStreams: 1, initialTsn: 1, params: [] }] });
    expect(kinds(drain(x.b, 20))).toEqual([['shutdown-ack']]);
  });
});

describe('duplicate COOKIE ECHO (§5.2.4)', () => {
  it('case D: the same cookie again gets a COOKIE ACK and nothing else', () => {
    const x = established();
    const echo = x.pair.log.find((l) => l.sent.packet.chunks[0]!.kind === 'cookie-echo')!.sent;
    forward(x.b, 50, [echo]);
    expect(kinds(drain(x.b, 50))).toEqual([['cookie-ack']]);
    expect(events(x.b)).toEqual([]);
    expect(x.b.associationIds().length).toBe(1);
  });

  it('case C: a late cookie from an earlier INIT ACK (other local tag, same peer tag, no tie-tags) is discarded', () => {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    const init = drain(a, 0);
    forward(b, 0, init);
    const ack1 = drain(b, 0);
    forward(b, 1, init); // the INIT again (a retransmission): another INIT ACK, another tag
    const ack2 = drain(b, 1);
    const cookie2 = only(ack2, 'init-ack').params.find((p) => p.kind === 'state-cookie');
    forward(a, 2, ack1);
    forward(b, 3, drain(a, 2));
    forward(a, 4, drain(b, 3));
    expect(types(events(b))).toEqual(['communication-up']);
    if (cookie2?.kind !== 'state-cookie') throw new Error('cookie');
    deliver(b, 5, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: only(ack2, 'init-ack').initiateTag, chunks: [{ kind: 'cookie-echo', cookie: cookie2.cookie }] });
    expect(drain(b, 5)).toEqual([]);
    expect(events(b)).toEqual([]);
    expect(b.associationIds().length).toBe(1);
  });

  it('INIT ACK outside COOKIE-WAIT and COOKIE ACK outside COOKIE-ECHOED are discarded (§5.2.3, §5.2.5)', () => {
    const x = established();
    const initAck = x.pair.log.find((l) => l.sent.packet.chunks[0]!.kind === 'init-ack')!.sent;
    const cookieAck = x.pair.log.find((l) => l.sent.packet.chunks[0]!.kind === 'cookie-ack')!.sent;
    forward(x.a, 50, [initAck, cookieAck]);
    expect(drain(x.a, 50)).toEqual([]);
    expect(events(x.a)).toEqual([]);
  });
});
