/**
 * Data transfer, path management, error, abort and shutdown conformance
 * (RFC 9260 §6, §8, §9), scripted packet in / packet out against one
 * established endpoint B with the test playing peer A.
 */
import { describe, expect, it } from 'vitest';
import type { Chunk } from '../../../src/wire/types.js';
import { A, A2, B, PORT_A, PORT_B, chunksOf, deliver, drain, endpoint, established, events, kinds, only, reachState, text } from './helpers.js';

/** B established with A; the test speaks for A (whose packets are withheld from here on). */
function peerB(opts: { a?: string[] } = {}) {
  const { a, b, idB, pair } = established({}, opts.a ? { a: opts.a } : {});
  pair.evB.length = 0;
  const tcb = b.snapshot(idB)!.fsm;
  if (tcb.state !== 'established') throw new Error('not established');
  const t = tcb.tcb;
  const toB = (now: number, chunks: Chunk[], source = A) => deliver(b, now, source, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: t.localTag, chunks });
  return { a, b, idB, localTag: t.localTag, peerTag: t.peerTag, peerNextTsn: (t.tracker.cumulativeTsnAck + 1) >>> 0, firstTsn: t.rq.nextTsn, toB };
}

const data = (tsn: number, streamId = 0, body = 'x'): Chunk => ({ kind: 'data', tsn, streamId, ssn: 0, ppid: 0, userData: text(body), unordered: false, beginning: true, ending: true, immediate: false });

describe('SACK receipt (§6.2.1)', () => {
  it('a Cumulative TSN Ack beyond anything sent: ABORT with Protocol Violation', () => {
    const f = peerB();
    f.b.send(1, f.idB, text('m'), { streamId: 0, ppid: 0 });
    drain(f.b, 1);
    f.toB(2, [{ kind: 'sack', cumulativeTsnAck: (f.firstTsn + 5) >>> 0, aRwnd: 65_535, gapBlocks: [], duplicateTsns: [] }]);
    const out = drain(f.b, 2);
    const abort = only(out, 'abort');
    expect(abort.causes.map((c) => c.kind)).toEqual(['protocol-violation']);
    expect(out[0]!.packet.verificationTag).toBe(f.peerTag);
    expect(events(f.b).map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'communication-lost', reason: 'protocol-violation' }));
  });

  it('a Cumulative TSN Ack behind the current one is ignored (§6.2.1 D i)', () => {
    const f = peerB();
    f.b.send(1, f.idB, text('m'), { streamId: 0, ppid: 0 });
    drain(f.b, 1);
    f.toB(2, [{ kind: 'sack', cumulativeTsnAck: (f.firstTsn - 10) >>> 0, aRwnd: 65_535, gapBlocks: [], duplicateTsns: [] }]);
    expect(kinds(drain(f.b, 2))).toEqual([]);
    expect(f.b.snapshot(f.idB)!.fsm.state).toBe('established');
  });

  it('gap blocks reversed or beyond what was sent do not abort and ack nothing', () => {
    const f = peerB();
    f.b.send(1, f.idB, text('m'), { streamId: 0, ppid: 0 });
    drain(f.b, 1);
    f.toB(2, [{ kind: 'sack', cumulativeTsnAck: (f.firstTsn - 1) >>> 0, aRwnd: 65_535, gapBlocks: [{ start: 5, end: 2 }, { start: 100, end: 200 }], duplicateTsns: [] }]);
    expect(kinds(drain(f.b, 2))).toEqual([]);
    const s = f.b.snapshot(f.idB)!.fsm;
    expect(s.state).toBe('established');
    if (s.state === 'established') expect(s.tcb.rq.chunks.map((c) => c.state)).toEqual(['in-flight']);
  });
});

describe('DATA receipt (§6.2, §6.5)', () => {
  it('a TSN far beyond the receive window is dropped, not acknowledged', () => {
    const f = peerB();
    f.toB(1, [data((f.peerNextTsn + 200_000) >>> 0)]);
    f.b.handleTimeout(1000);
    const sacks = chunksOf(drain(f.b, 1000), 'sack');
    for (const s of sacks) {
      expect(s.cumulativeTsnAck).toBe((f.peerNextTsn - 1) >>> 0);
      expect(s.gapBlocks).toEqual([]);
    }
    expect(events(f.b).filter((e) => e.event.type === 'message')).toEqual([]);
  });

  it('DATA for a stream not negotiated: ERROR Invalid Stream Identifier, the TSN is acknowledged', () => {
    const f = peerB();
    f.toB(1, [data(f.peerNextTsn, 60_000)]);
    const out = drain(f.b, 1);
    const err = only(out, 'error');
    expect(err.causes).toEqual([{ kind: 'invalid-stream-identifier', streamId: 60_000 }]);
    expect(only(out, 'sack').cumulativeTsnAck).toBe(f.peerNextTsn);
  });

  it('DATA with no user data: ABORT with No User Data (§6.2)', () => {
    const f = peerB();
    f.toB(1, [{ ...(data(f.peerNextTsn) as Extract<Chunk, { kind: 'data' }>), userData: new Uint8Array(0) }]);
    const abort = only(drain(f.b, 1), 'abort');
    expect(abort.causes).toEqual([{ kind: 'no-user-data', tsn: f.peerNextTsn }]);
  });
});

describe('HEARTBEAT (§8.3)', () => {
  it('is answered with a HEARTBEAT ACK carrying the same information, to the source address', () => {
    const f = peerB({ a: [A, A2] });
    const info = new Uint8Array([1, 2, 3, 4, 5, 6, 7]);
    f.toB(1, [{ kind: 'heartbeat', info }], A2);
    const out = drain(f.b, 1).filter((s) => s.packet.chunks.some((c) => c.kind === 'heartbeat-ack'));
    expect(only(out, 'heartbeat-ack').info).toEqual(info);
    expect(out[0]!.destination).toBe(A2);
    expect(out[0]!.packet.verificationTag).toBe(f.peerTag);
  });

  it('a HEARTBEAT ACK with information we never sent is discarded', () => {
    const f = peerB();
    f.toB(1, [{ kind: 'heartbeat-ack', info: new Uint8Array(40).fill(7) }]);
    expect(kinds(drain(f.b, 1))).toEqual([]);
    expect(events(f.b)).toEqual([]);
    expect(f.b.snapshot(f.idB)!.fsm.state).toBe('established');
  });
});

describe('ERROR and ABORT (§3.3.10, §9.1)', () => {
  it('an ERROR chunk is reported to the ULP and the association goes on', () => {
    const f = peerB();
    f.toB(1, [{ kind: 'error', causes: [{ kind: 'invalid-stream-identifier', streamId: 3 }] }]);
    expect(events(f.b).map((e) => e.event)).toEqual([{ type: 'remote-error', causes: [{ kind: 'invalid-stream-identifier', streamId: 3 }] }]);
    expect(f.b.snapshot(f.idB)!.fsm.state).toBe('established');
  });

  it('an ABORT with an unknown cause still aborts, and is not answered', () => {
    const f = peerB();
    f.toB(1, [{ kind: 'abort', tBit: false, causes: [{ kind: 'unknown', code: 0x7777, value: new Uint8Array([1, 2, 3, 4]) }] }]);
    expect(drain(f.b, 1)).toEqual([]);
    expect(events(f.b).map((e) => e.event.type)).toEqual(['communication-lost']);
    expect(f.b.associationIds()).toEqual([]);
  });

  it('an ABORT with a wrong tag is discarded', () => {
    const f = peerB();
    deliver(f.b, 1, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: (f.localTag + 1) >>> 0, chunks: [{ kind: 'abort', tBit: false, causes: [] }] });
    expect(f.b.snapshot(f.idB)!.fsm.state).toBe('established');
  });
});

describe('out-of-the-blue packets (§8.4)', () => {
  it('the replies to a flood of OOTB packets are rate limited', () => {
    const b = endpoint([B], PORT_B, 2);
    for (let i = 0; i < 1000; i++) deliver(b, 0, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 1000 + i, chunks: [data(i)] });
    const replies = drain(b, 0);
    expect(replies.length).toBeGreaterThan(0);
    expect(replies.length).toBeLessThanOrEqual(64);
    // The budget comes back with time.
    deliver(b, 10_000, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 7, chunks: [data(1)] });
    const later = only(drain(b, 10_000), 'abort');
    expect(later.tBit).toBe(true);
  });

  it('a single OOTB DATA gets ABORT with the tag reflected and the T bit (rule 8)', () => {
    const b = endpoint([B], PORT_B, 2);
    deliver(b, 0, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 0xabcdef, chunks: [data(1)] });
    const out = drain(b, 0);
    expect(only(out, 'abort').tBit).toBe(true);
    expect(out[0]!.packet.verificationTag).toBe(0xabcdef);
  });
});

describe('graceful shutdown (§9.2)', () => {
  it("the SHUTDOWN's Cumulative TSN Ack acknowledges outstanding data like a SACK", () => {
    const f = peerB();
    f.b.send(1, f.idB, text('m'), { streamId: 0, ppid: 0 });
    drain(f.b, 1);
    f.toB(2, [{ kind: 'shutdown', cumulativeTsnAck: f.firstTsn }]);
    // All acknowledged: SHUTDOWN ACK at once.
    expect(kinds(drain(f.b, 2))).toEqual([['shutdown-ack']]);
    expect(f.b.snapshot(f.idB)!.fsm.state).toBe('shutdown-ack-sent');
  });

  it('SHUTDOWN ACK is retransmitted on T2-shutdown in SHUTDOWN-ACK-SENT', () => {
    const f = reachState('shutdown-ack-sent');
    const t = f.ep.pollTimeout()!;
    f.ep.handleTimeout(t);
    expect(chunksOf(drain(f.ep, t), 'shutdown-ack')).toHaveLength(1);
  });

  it('a SHUTDOWN ACK received in SHUTDOWN-ACK-SENT (crossing) is answered by SHUTDOWN COMPLETE', () => {
    const f = reachState('shutdown-ack-sent');
    deliver(f.ep, f.now, f.peer, f.me, { sourcePort: f.peerPort, destinationPort: f.myPort, verificationTag: f.localTag, chunks: [{ kind: 'shutdown-ack' }] });
    const sc = only(drain(f.ep, f.now), 'shutdown-complete');
    expect(sc.tBit).toBe(false);
    expect(events(f.ep).map((e) => e.event.type)).toEqual(['shutdown-complete']);
  });

  it('SHUTDOWN COMPLETE bundled with DATA is discarded whole (§6.10): T2 goes on', () => {
    const f = reachState('shutdown-ack-sent');
    deliver(f.ep, f.now, f.peer, f.me, { sourcePort: f.peerPort, destinationPort: f.myPort, verificationTag: f.localTag, chunks: [{ kind: 'shutdown-complete', tBit: false }, data(f.peerNextTsn)] });
    expect(f.ep.snapshot(f.id)!.fsm.state).toBe('shutdown-ack-sent');
    const t = f.ep.pollTimeout()!;
    f.ep.handleTimeout(t);
    expect(chunksOf(drain(f.ep, t), 'shutdown-ack')).toHaveLength(1);
  });

  it('SHUTDOWN ACK unanswered: retransmitted Association.Max.Retrans times, then ABORT (§9.2, §8.1)', () => {
    const { b, idB, pair } = established({ associationMaxRetrans: 3 });
    pair.evB.length = 0;
    const t = b.snapshot(idB)!.fsm;
    if (t.state !== 'established') throw new Error('not established');
    deliver(b, 1, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: t.tcb.localTag, chunks: [{ kind: 'shutdown', cumulativeTsnAck: (t.tcb.rq.nextTsn - 1) >>> 0 }] });
    const sent: string[][] = kinds(drain(b, 1));
    for (let i = 0; i < 20 && b.associationIds().length > 0; i++) {
      const now = b.pollTimeout()!;
      b.handleTimeout(now);
      sent.push(...kinds(drain(b, now)));
    }
    expect(sent).toEqual([['shutdown-ack'], ['shutdown-ack'], ['shutdown-ack'], ['shutdown-ack'], ['abort']]);
  });

  it('T5-shutdown-guard ends the shutdown with an ABORT', () => {
    const f = reachState('shutdown-sent');
    let last: string[][] = [];
    let now = f.now;
    for (let i = 0; i < 100 && f.ep.associationIds().length > 0; i++) {
      now = f.ep.pollTimeout()!;
      f.ep.handleTimeout(now);
      last = kinds(drain(f.ep, now));
    }
    expect(last).toEqual([['abort']]);
    expect(now).toBeLessThanOrEqual(f.now + 5 * 60_000);
    expect(events(f.ep).map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'communication-lost' }));
  });
});
