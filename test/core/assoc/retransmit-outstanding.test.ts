// Endpoint.retransmitOutstanding (association/retransmit-outstanding.ts): what
// an HA standby that took over does instead of waiting for T3-rtx — every chunk
// in flight goes again now, within cwnd, without the T3 penalties (no RTO
// backoff, no error count), delivered once.
import { describe, expect, it } from 'vitest';
import { createEndpoint } from '../../../src/core/endpoint.js';
import { SeededRng } from '../../../src/core/env.js';
import { initialCwnd } from '../../../src/core/path/state.js';
import { EndpointHost } from '../../../src/sim/scenarios.js';
import { createSimulation } from '../../../src/sim/simulation.js';
import { allOf, chunkIs, fromAddress } from '../../../src/sim/filters.js';
import { A, A2, B, PORT_A, PORT_B, drain, hmac, hmacSha1 } from './helpers.js';

function simPair(seed = 1, addIp = false) {
  const sim = createSimulation({ seed, defaultLink: { delay: 10 } });
  const extra = addIp ? { hmacSha1 } : {};
  const a = new EndpointHost(createEndpoint({ localAddresses: addIp ? [A, A2] : [A], port: PORT_A, config: {}, rng: new SeededRng(seed), hmac, ...extra, now: 0 }));
  const b = new EndpointHost(createEndpoint({ localAddresses: [B], port: PORT_B, config: {}, rng: new SeededRng(seed + 100), hmac, ...extra, now: 0 }));
  sim.addNode('a', addIp ? [A, A2] : [A], a);
  sim.addNode('b', [B], b);
  const r = a.endpoint.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
  if (!r.ok) throw new Error('connect');
  sim.poke('a');
  sim.runUntil(() => b.events.some((e) => e.e.event.type === 'communication-up') && a.events.some((e) => e.e.event.type === 'communication-up'), 1000);
  return { sim, a, b, id: r.assocId };
}

const tcbOf = (h: EndpointHost, id: number) => {
  const s = h.endpoint.snapshot(id)!;
  if (!('tcb' in s.fsm)) throw new Error(`no tcb in ${s.fsm.state}`);
  return s.fsm.tcb;
};
const numbers = (h: EndpointHost): number[] =>
  h.events.flatMap((e) => (e.e.event.type === 'message' ? [new DataView(e.e.event.data.buffer, e.e.event.data.byteOffset).getUint32(0)] : []));
const message = (n: number, size = 100): Uint8Array => {
  const m = new Uint8Array(size);
  new DataView(m.buffer).setUint32(0, n);
  return m;
};

describe('retransmitOutstanding', () => {
  it('DATA whose transmission was lost goes again at once, not after the 1 s RTO; no backoff, no error counted', () => {
    const { sim, a, b, id } = simPair();
    const lost = sim.dropNext(allOf(fromAddress(A), chunkIs('data')), { count: 5 });
    const t0 = sim.now;
    for (let n = 0; n < 5; n++) a.endpoint.send(t0, id, message(n), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.runUntil(() => lost.hits.length === 5, 100);
    const rtoBefore = tcbOf(a, id).paths[0]!.rto;
    expect(a.endpoint.retransmitOutstanding(sim.now, id)).toBe(5);
    sim.poke('a');
    const t = sim.runUntil(() => numbers(b).length === 5, 5000);
    // One one-way delay after the call, where T3-rtx would have waited RTO.Min (1 s).
    expect(t - t0).toBeLessThan(100);
    expect(numbers(b)).toEqual([0, 1, 2, 3, 4]);
    sim.runUntil(() => tcbOf(a, id).rq.chunks.length === 0, 1000);
    const tcb = tcbOf(a, id);
    expect(tcb.counters.t3Expireds).toBe(0);
    expect(tcb.errorCount).toBe(0);
    expect(tcb.paths[0]!.rto).toBe(rtoBefore);
    expect(tcb.paths[0]!.errorCount).toBe(0);
  });

  it('what the peer already has is delivered once (it reports duplicates), and its SACK clears the queue', () => {
    const { sim, a, b, id } = simPair(2);
    // The peer gets the DATA, its SACKs are lost (they went to a host that is gone).
    const sacks = sim.dropNext(allOf(fromAddress(B), chunkIs('sack')), { count: 3 });
    for (let n = 0; n < 3; n++) a.endpoint.send(sim.now, id, message(n), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.runUntil(() => numbers(b).length === 3 && sacks.hits.length >= 1, 500);
    sim.cancelFilter(sacks);
    expect(tcbOf(a, id).rq.chunks.length).toBe(3);
    expect(a.endpoint.retransmitOutstanding(sim.now, id)).toBe(3);
    sim.poke('a');
    const t0 = sim.now;
    const t = sim.runUntil(() => tcbOf(a, id).rq.chunks.length === 0, 5000);
    expect(t - t0).toBeLessThan(300);
    expect(numbers(b)).toEqual([0, 1, 2]);
    expect(tcbOf(b, id).counters.inDuplicateChunks).toBe(3);
    expect(tcbOf(a, id).counters.t3Expireds).toBe(0);
  });

  it('respects cwnd: it starts over from the initial window, the rest follows as SACKs arrive', () => {
    const { sim, a, b, id } = simPair(3);
    // Grow cwnd first.
    for (let n = 0; n < 300; n++) a.endpoint.send(sim.now, id, message(n, 1000), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.runUntil(() => numbers(b).length === 300, 20_000);
    const grown = tcbOf(a, id).paths[0]!.cwnd;
    const mtu = tcbOf(a, id).paths[0]!.mtu;
    expect(grown).toBeGreaterThan(4 * initialCwnd(mtu));
    const lost = sim.dropNext(allOf(fromAddress(A), chunkIs('data')), { count: 1000 });
    for (let n = 300; n < 340; n++) a.endpoint.send(sim.now, id, message(n, 1000), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.runUntil(() => lost.hits.length > 0 && tcbOf(a, id).paths[0]!.flightSize > 2 * initialCwnd(mtu), 100);
    sim.cancelFilter(lost);
    const inFlight = tcbOf(a, id).paths[0]!.flightSize;
    const marked = a.endpoint.retransmitOutstanding(sim.now, id);
    expect(marked).toBeGreaterThan(0);
    // What leaves now: within the initial window (one packet may exceed it, §6.1 B).
    const now = drain(a.endpoint, sim.now);
    const bytes = now.flatMap((s) => s.packet.chunks).reduce((sum, c) => sum + (c.kind === 'data' ? c.userData.length : 0), 0);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(inFlight);
    expect(bytes).toBeLessThanOrEqual(initialCwnd(mtu) + mtu);
    // Those were taken off the wire here; the rest of the story still completes, each message once.
    sim.runUntil(() => numbers(b).length === 340, 30_000);
    expect(numbers(b)).toEqual(Array.from({ length: 340 }, (_, i) => i));
  });

  it('an outstanding ASCONF goes again first (same serial), before the DATA, without a T-4 penalty', () => {
    const { sim, a, b, id } = simPair(5, true);
    // Our A2 is withdrawn and added again; the ASCONF-ACK for the add is lost.
    expect(a.endpoint.removeLocalAddress(sim.now, A2, id)).toMatchObject({ ok: true });
    sim.poke('a');
    sim.runUntil(() => !tcbOf(a, id).asconf?.outstanding, 1000);
    const acks = sim.dropNext(allOf(fromAddress(B), chunkIs('asconf-ack')), { count: 1 });
    expect(a.endpoint.addLocalAddress(sim.now, A2, id)).toMatchObject({ ok: true });
    a.endpoint.send(sim.now, id, message(1), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.runUntil(() => acks.hits.length === 1, 500);
    const serial = tcbOf(a, id).asconf!.outstanding!.serial;
    const errorsBefore = tcbOf(a, id).errorCount;
    a.endpoint.retransmitOutstanding(sim.now, id);
    const out = drain(a.endpoint, sim.now);
    const kindsOut = out.flatMap((x) => x.packet.chunks.map((c) => c.kind)).filter((k) => k === 'asconf' || k === 'data');
    expect(kindsOut[0]).toBe('asconf');
    expect(out.flatMap((x) => x.packet.chunks).find((c) => c.kind === 'asconf')).toMatchObject({ serial });
    expect(tcbOf(a, id).errorCount).toBe(errorsBefore);
    expect(tcbOf(a, id).asconf!.counters.retransmitted).toBe(0);
    // Those packets were taken off the wire here; the association still settles (T-4 and T3 as usual).
    sim.runUntil(() => numbers(b).length === 1 && !tcbOf(a, id).asconf?.outstanding, 10_000);
    expect(numbers(b)).toEqual([1]);
  });

  it('nothing outstanding, or no such association: nothing marked, nothing sent', () => {
    const { sim, a, id } = simPair(4);
    expect(a.endpoint.retransmitOutstanding(sim.now, id)).toBe(0);
    expect(drain(a.endpoint, sim.now)).toEqual([]);
    expect(a.endpoint.retransmitOutstanding(sim.now, id + 99)).toBe(0);
  });
});
