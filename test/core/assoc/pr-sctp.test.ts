// RFC 3758 (PR-SCTP) and RFC 7496 (limited retransmissions), both ends hasctp, over src/sim.
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../../src/core/endpoint.js';
import { allOf, chunkIs, dataWithTsn } from '../../../src/sim/filters.js';
import { add32, diff32 } from '../../../src/wire/serial.js';
import { A, B, PORT_A, PORT_B, deliver, drain, established, only, sentChunks, simPair, text } from './helpers.js';

function tcb(ep: Endpoint, id: number) {
  const s = ep.snapshot(id);
  if (!s || s.fsm.state !== 'established') throw new Error(`not established: ${s?.fsm.state}`);
  return s.fsm.tcb;
}

const decoded = (d: Uint8Array): string => new TextDecoder().decode(d);

describe('PR-SCTP negotiation (RFC 3758 §3.3.1)', () => {
  it('INIT and INIT ACK both carry Forward-TSN-Supported; the association uses it', () => {
    const { sim, a, b, idA, idB } = simPair();
    const has = (kind: 'init' | 'init-ack', src: string) =>
      sentChunks(sim, kind, src).every((x) => x.chunk.params.some((p) => p.kind === 'forward-tsn-supported'));
    expect(sentChunks(sim, 'init', A).length).toBe(1);
    expect(has('init', A)).toBe(true);
    expect(has('init-ack', B)).toBe(true);
    expect(tcb(a.endpoint, idA).rq.forwardTsnSupported).toBe(true);
    expect(tcb(b.endpoint, idB).rq.forwardTsnSupported).toBe(true);
  });

  it('prSctp: false is not advertised and disables PR-SCTP on both ends', () => {
    const { sim, a, b, idA, idB } = simPair({ configB: { prSctp: false } });
    expect(sentChunks(sim, 'init-ack', B)[0]!.chunk.params.some((p) => p.kind === 'forward-tsn-supported')).toBe(false);
    expect(tcb(a.endpoint, idA).rq.forwardTsnSupported).toBe(false);
    expect(tcb(b.endpoint, idB).rq.forwardTsnSupported).toBe(false);
  });
});

describe('PR-SCTP timed reliability (RFC 3758 §4.1 TR4, §3.5)', () => {
  it('an expired message is abandoned at T3, FORWARD TSN skips its TSN and SSN, later messages flow', () => {
    const { sim, a, b, idA, idB, tsn0 } = simPair();
    // Strip only the DATA chunk of TSN tsn0, every time it is sent.
    const f = sim.dropNext(dataWithTsn(tsn0), { count: Infinity, mode: 'chunk' });
    const t0 = sim.now;
    a.endpoint.send(t0, idA, text('m0'), { streamId: 0, ppid: 7, lifetime: 500 });
    a.endpoint.send(t0, idA, text('m1'), { streamId: 0, ppid: 7 });
    a.endpoint.send(t0, idA, text('u'), { streamId: 1, ppid: 7, unordered: true });
    sim.poke('a');
    sim.runUntil(() => b.delivered().includes('m1'), t0 + 5000);
    // m1 waited behind the lost m0 (ordered, same stream) until the FORWARD TSN.
    expect(b.delivered()).toEqual(['u', 'm1']);
    const fwd = sentChunks(sim, 'forward-tsn', A);
    expect(fwd.length).toBe(1);
    // §3.5 C4: new cumulative TSN = the abandoned TSN; stream 0 skips SSN 0; the unordered stream 1 is not listed.
    expect(fwd[0]!.chunk).toMatchObject({ newCumulativeTsn: tsn0, streams: [{ streamId: 0, ssn: 0 }] });
    // Abandoned at the first T3-rtx expiry (RTO.Min = 1 s), never retransmitted.
    expect(fwd[0]!.time - t0).toBeGreaterThanOrEqual(1000);
    expect(fwd[0]!.time - t0).toBeLessThan(1100);
    expect(f.hits.length).toBe(1);
    const failed = a.ofType('send-failed');
    expect(failed.length).toBe(1);
    expect(failed[0]).toMatchObject({ reason: 'lifetime-expired', sent: true, streamId: 0, ppid: 7 });
    expect(decoded(failed[0]!.data)).toBe('m0');
    sim.run({ until: sim.now + 500 });
    // The receiver's cum ack moved past the abandoned TSN and the data sent since.
    expect(tcb(b.endpoint, idB).tracker.cumulativeTsnAck).toBe(add32(tsn0, 2));
    expect(tcb(a.endpoint, idA).rq.chunks.length).toBe(0);
    // No stall on stream 0: SSN 2 is delivered at once.
    a.endpoint.send(sim.now, idA, text('m2'), { streamId: 0, ppid: 7 });
    sim.poke('a');
    sim.runUntil(() => b.delivered().includes('m2'), sim.now + 200);
    expect(b.delivered()).toEqual(['u', 'm1', 'm2']);
    sim.cancelFilter(f);
  });

  it('a message that expires before it gets a TSN is reported unsent, and takes no TSN or SSN (TR3)', () => {
    const { sim, a, b, idA, tsn0 } = simPair({ seed: 2 });
    sim.setNodeLinks('a', 'b', { up: false });
    const t0 = sim.now;
    // Fill cwnd (4380 bytes initially) so that the next message waits in the queue.
    a.endpoint.send(t0, idA, new Uint8Array(4000).fill(65), { streamId: 0, ppid: 0 });
    a.endpoint.send(t0, idA, new Uint8Array(1000).fill(66), { streamId: 0, ppid: 0 });
    a.endpoint.send(t0, idA, text('late'), { streamId: 0, ppid: 0, lifetime: 100 });
    sim.poke('a');
    sim.run({ until: t0 + 50 });
    sim.setNodeLinks('a', 'b', { up: true });
    sim.runUntil(() => b.delivered().length === 2, t0 + 10_000);
    sim.run({ until: sim.now + 500 });
    const failed = a.ofType('send-failed');
    expect(failed).toMatchObject([{ reason: 'lifetime-expired', sent: false }]);
    expect(decoded(failed[0]!.data)).toBe('late');
    expect(sentChunks(sim, 'forward-tsn', A)).toEqual([]);
    const highest = Math.max(...sentChunks(sim, 'data', A).map((x) => diff32(tsn0, x.chunk.tsn)));
    expect(add32(tsn0, highest)).toBe(add32(tcb(a.endpoint, idA).rq.nextTsn, -1));
  });
});

describe('PR-SCTP limited retransmissions (RFC 7496 §4.1)', () => {
  it('maxRetransmits 0: a lost chunk is abandoned at T3 instead of retransmitted', () => {
    const { sim, a, b, idA, tsn0 } = simPair({ seed: 3 });
    const f = sim.dropNext(dataWithTsn(tsn0), { count: Infinity, mode: 'chunk' });
    const t0 = sim.now;
    a.endpoint.send(t0, idA, text('once'), { streamId: 0, ppid: 0, maxRetransmits: 0 });
    a.endpoint.send(t0, idA, text('next'), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.runUntil(() => b.delivered().includes('next'), t0 + 5000);
    expect(f.hits.length).toBe(1);
    expect(b.delivered()).toEqual(['next']);
    expect(a.ofType('send-failed')).toMatchObject([{ reason: 'retransmit-limit', sent: true }]);
    expect(sentChunks(sim, 'forward-tsn', A)[0]!.chunk).toMatchObject({ newCumulativeTsn: tsn0, streams: [{ streamId: 0, ssn: 0 }] });
    sim.cancelFilter(f);
  });

  it('maxRetransmits 0 with fast retransmit: abandoned at the third miss indication, before any T3 (§3.5 F5)', () => {
    const { sim, a, b, idA, tsn0 } = simPair({ seed: 4 });
    const f = sim.dropNext(dataWithTsn(tsn0), { count: Infinity, mode: 'chunk' });
    const t0 = sim.now;
    for (let i = 0; i < 5; i++) a.endpoint.send(t0, idA, text(`m${i}`), { streamId: 0, ppid: 0, maxRetransmits: 0 });
    sim.poke('a');
    sim.runUntil(() => b.delivered().length === 4, t0 + 5000);
    expect(sim.now - t0).toBeLessThan(200);
    expect(f.hits.length).toBe(1);
    expect(b.delivered()).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(a.ofType('send-failed')).toMatchObject([{ reason: 'retransmit-limit' }]);
    sim.cancelFilter(f);
  });

  it('maxRetransmits 1: lost twice → abandoned after the one retransmission; lost once → delivered', () => {
    const { sim, a, b, idA, tsn0 } = simPair({ seed: 5 });
    const f = sim.dropNext(dataWithTsn(tsn0), { count: 2, mode: 'chunk' });
    const t0 = sim.now;
    a.endpoint.send(t0, idA, text('twice'), { streamId: 0, ppid: 0, maxRetransmits: 1 });
    a.endpoint.send(t0, idA, text('after'), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.runUntil(() => b.delivered().includes('after'), t0 + 10_000);
    expect(f.hits.length).toBe(2);
    // Original at t0, retransmission at +1 s (T3), abandoned at the next T3 (+2 s backed off).
    expect(sentChunks(sim, 'data', A).filter((x) => x.chunk.tsn === tsn0).length).toBe(2);
    expect(sentChunks(sim, 'forward-tsn', A)[0]!.time - t0).toBeGreaterThanOrEqual(3000);
    expect(b.delivered()).toEqual(['after']);
    expect(a.ofType('send-failed')).toMatchObject([{ reason: 'retransmit-limit', sent: true }]);

    const t1 = sim.now;
    const tsn2 = add32(tsn0, 2);
    const g = sim.dropNext(dataWithTsn(tsn2), { count: 1, mode: 'chunk' });
    a.endpoint.send(t1, idA, text('once-lost'), { streamId: 0, ppid: 0, maxRetransmits: 1 });
    sim.poke('a');
    sim.runUntil(() => b.delivered().includes('once-lost'), t1 + 10_000);
    expect(g.hits.length).toBe(1);
    expect(a.ofType('send-failed').length).toBe(1);
  });
});

describe('FORWARD TSN retransmission (RFC 3758 §3.5 A5, C3, C5)', () => {
  it('a lost FORWARD TSN is sent again at the next T3-rtx expiry and the receiver catches up', () => {
    const { sim, a, b, idA, idB, tsn0 } = simPair({ seed: 6 });
    const f = sim.dropNext(dataWithTsn(tsn0), { count: Infinity, mode: 'chunk' });
    const lostFwd = sim.dropNext(chunkIs('forward-tsn'), { count: 1, mode: 'chunk' });
    const t0 = sim.now;
    a.endpoint.send(t0, idA, text('m0'), { streamId: 0, ppid: 0, lifetime: 100 });
    a.endpoint.send(t0, idA, text('m1'), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.runUntil(() => b.delivered().includes('m1'), t0 + 10_000);
    expect(lostFwd.hits.length).toBe(1);
    const fwd = sentChunks(sim, 'forward-tsn', A);
    expect(fwd.length).toBe(2);
    expect(fwd[1]!.chunk).toEqual(fwd[0]!.chunk);
    // First at T3 (1 s), again at the backed-off T3 (2 s later).
    expect(fwd[1]!.time - fwd[0]!.time).toBe(2000);
    sim.run({ until: sim.now + 5000 });
    expect(tcb(b.endpoint, idB).tracker.cumulativeTsnAck).toBe(add32(tsn0, 1));
    expect(tcb(a.endpoint, idA).rq.chunks.length).toBe(0);
    // Nothing more goes out once the FORWARD TSN is acknowledged (T3 stopped).
    expect(sentChunks(sim, 'forward-tsn', A).length).toBe(2);
    expect(a.endpoint.snapshot(idA)!.fsm.state).toBe('established');
    sim.cancelFilter(f);
  });

  it('a FORWARD TSN lost while a SACK still reports the old cum ack is sent again on that SACK (C3)', () => {
    const { sim, a, b, idA, tsn0 } = simPair({ seed: 7 });
    sim.dropNext(dataWithTsn(tsn0), { count: Infinity, mode: 'chunk' });
    const lostFwd = sim.dropNext(chunkIs('forward-tsn'), { count: 1, mode: 'chunk' });
    const t0 = sim.now;
    a.endpoint.send(t0, idA, text('m0'), { streamId: 0, ppid: 0, lifetime: 100 });
    sim.poke('a');
    sim.run({ until: t0 + 1100 });
    expect(lostFwd.hits.length).toBe(1);
    // New data: its SACK still says cum = tsn0 - 1, so the FORWARD TSN goes again at once.
    const t1 = sim.now;
    a.endpoint.send(t1, idA, text('m1'), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.runUntil(() => b.delivered().includes('m1'), t1 + 500);
    expect(sim.now - t1).toBeLessThan(100);
    expect(sentChunks(sim, 'forward-tsn', A).length).toBe(2);
  });
});

describe('peer without PR-SCTP (RFC 3758 §3.3.1, §4.1)', () => {
  it('nothing that holds a TSN is abandoned: every message is delivered, in order', () => {
    for (const side of ['a', 'b'] as const) {
      const { sim, a, b, idA, tsn0 } = simPair({ seed: 8, ...(side === 'a' ? { configA: { prSctp: false } } : { configB: { prSctp: false } }) });
      const f = sim.dropNext(dataWithTsn(tsn0), { count: 3, mode: 'chunk' });
      const t0 = sim.now;
      a.endpoint.send(t0, idA, text('m0'), { streamId: 0, ppid: 0, lifetime: 100 });
      a.endpoint.send(t0, idA, text('m1'), { streamId: 0, ppid: 0, maxRetransmits: 0 });
      sim.dropNext(dataWithTsn(add32(tsn0, 1)), { count: 1, mode: 'chunk' });
      a.endpoint.send(t0, idA, text('m2'), { streamId: 0, ppid: 0 });
      sim.poke('a');
      sim.runUntil(() => b.delivered().length === 3, t0 + 20_000);
      expect(f.hits.length).toBe(3);
      expect(b.delivered()).toEqual(['m0', 'm1', 'm2']);
      expect(a.ofType('send-failed')).toEqual([]);
      expect(sentChunks(sim, 'forward-tsn', A)).toEqual([]);
    }
  });
});

describe('abandoning a fragmented message (RFC 3758 §3.5 A3, §3.6)', () => {
  it('the receiver drops the partial fragments and the next message on the stream arrives intact', () => {
    const { sim, a, b, idA, idB, tsn0 } = simPair({ seed: 9 });
    // 4000 bytes: three fragments (1452 + 1452 + 1096); the middle one is lost for good.
    const big = new Uint8Array(4000).map((_, i) => i & 0xff);
    const f = sim.dropNext(dataWithTsn(add32(tsn0, 1)), { count: Infinity, mode: 'chunk' });
    const t0 = sim.now;
    a.endpoint.send(t0, idA, big, { streamId: 3, ppid: 1, lifetime: 500 });
    a.endpoint.send(t0, idA, text('after'), { streamId: 3, ppid: 1 });
    sim.poke('a');
    const frags = sentChunks(sim, 'data', A).filter((x) => x.chunk.streamId === 3 && x.chunk.ssn === 0);
    expect(frags.length).toBe(3);
    sim.run({ until: t0 + 300 });
    // Fragments 1 and 3 sit in reassembly, and 'after' waits behind SSN 0.
    expect(tcb(b.endpoint, idB).reasm.bufferedBytes).toBe(4000 - frags[1]!.chunk.userData.length + 'after'.length);
    sim.runUntil(() => b.delivered().includes('after'), t0 + 5000);
    expect(b.delivered()).toEqual(['after']);
    const fwd = sentChunks(sim, 'forward-tsn', A);
    expect(fwd[0]!.chunk).toMatchObject({ newCumulativeTsn: add32(tsn0, 2), streams: [{ streamId: 3, ssn: 0 }] });
    const failed = a.ofType('send-failed');
    expect(failed).toMatchObject([{ reason: 'lifetime-expired', sent: true, streamId: 3 }]);
    // The sender hands back the bytes it still held: the first fragment was acked cumulatively and released.
    expect(failed[0]!.data.length).toBe(4000 - frags[0]!.chunk.userData.length);
    const r = tcb(b.endpoint, idB).reasm;
    expect(r.bufferedBytes).toBe(0);
    expect(r.streams.get(3)?.ordered.size).toBe(0);
    expect(f.hits.length).toBe(1);
    sim.cancelFilter(f);
  });

  it('abandoned while fragments were still unsent: the rest never goes out, the FORWARD TSN covers the whole message', () => {
    const { sim, a, b, idA, tsn0 } = simPair({ seed: 10 });
    // Nothing reaches b: the first fragments fill cwnd and wait; the message expires mid-way.
    const f = sim.dropNext(allOf(chunkIs('data')), { count: Infinity, mode: 'chunk' });
    const t0 = sim.now;
    const big = new Uint8Array(20_000).fill(7);
    a.endpoint.send(t0, idA, big, { streamId: 2, ppid: 1, lifetime: 500 });
    sim.poke('a');
    sim.run({ until: t0 + 200 });
    const sentBefore = sentChunks(sim, 'data', A).length;
    expect(sentBefore).toBeGreaterThan(0);
    expect(sentBefore).toBeLessThan(14);
    sim.cancelFilter(f);
    a.endpoint.send(sim.now, idA, text('then'), { streamId: 2, ppid: 1 });
    sim.poke('a');
    sim.runUntil(() => b.delivered().includes('then'), t0 + 5000);
    expect(b.delivered()).toEqual(['then']);
    const failed = a.ofType('send-failed');
    expect(failed).toMatchObject([{ reason: 'lifetime-expired', sent: true, streamId: 2 }]);
    expect(failed[0]!.data.length).toBe(20_000);
    const fwd = sentChunks(sim, 'forward-tsn', A);
    const firstTsns = sentChunks(sim, 'data', A).filter((x) => x.chunk.streamId === 2 && x.chunk.ssn === 0).map((x) => x.chunk.tsn);
    // One placeholder TSN after the last sent fragment stands for the unsent tail.
    expect(fwd[0]!.chunk.newCumulativeTsn).toBe(add32(tsn0, Math.max(...firstTsns.map((t) => diff32(tsn0, t))) + 1));
    expect(fwd[0]!.chunk.streams).toEqual([{ streamId: 2, ssn: 0 }]);
  });
});

describe('FORWARD TSN at an endpoint that did not advertise PR-SCTP', () => {
  it('is skipped and reported as an Unrecognized Chunk Type (RFC 9260 §3.2, upper bits 11)', () => {
    const { a, b, idB } = established({ prSctp: false });
    const s = b.snapshot(idB)!;
    if (s.fsm.state !== 'established') throw new Error('state');
    const cum = s.fsm.tcb.tracker.cumulativeTsnAck;
    deliver(b, 100, A, B, {
      sourcePort: PORT_A,
      destinationPort: PORT_B,
      verificationTag: s.fsm.tcb.localTag,
      chunks: [{ kind: 'forward-tsn', newCumulativeTsn: add32(cum, 5), streams: [{ streamId: 0, ssn: 3 }] }],
    });
    const err = only(drain(b, 100), 'error');
    expect(err.causes.map((c) => c.kind)).toEqual(['unrecognized-chunk-type']);
    const after = b.snapshot(idB)!;
    expect(after.fsm.state === 'established' && after.fsm.tcb.tracker.cumulativeTsnAck).toBe(cum);
    expect(a.associationIds().length).toBe(1);
  });
});
