// RFC 9260 §6.3 (T3-rtx, Karn), §7.2.4 (fast retransmit), §8.1 (association failure), over src/sim.
import { describe, expect, it } from 'vitest';
import { createEndpoint } from '../../../src/core/endpoint.js';
import { SeededRng } from '../../../src/core/env.js';
import { EndpointHost } from '../../../src/sim/scenarios.js';
import { createSimulation } from '../../../src/sim/simulation.js';
import { dataWithTsn } from '../../../src/sim/filters.js';
import { add32 } from '../../../src/wire/serial.js';
import { A, B, PORT_A, PORT_B, hmac, text } from './helpers.js';

function simPair(seed = 1, config = {}) {
  const sim = createSimulation({ seed, defaultLink: { delay: 10 } });
  const a = new EndpointHost(createEndpoint({ localAddresses: [A], port: PORT_A, config, rng: new SeededRng(seed), hmac, now: 0 }));
  const b = new EndpointHost(createEndpoint({ localAddresses: [B], port: PORT_B, config, rng: new SeededRng(seed + 100), hmac, now: 0 }));
  sim.addNode('a', [A], a);
  sim.addNode('b', [B], b);
  const r = a.endpoint.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
  if (!r.ok) throw new Error('connect');
  sim.poke('a');
  sim.runUntil(() => b.events.some((e) => e.e.event.type === 'communication-up') && a.events.some((e) => e.e.event.type === 'communication-up'), 1000);
  const snap = a.endpoint.snapshot(r.assocId)!;
  if (snap.fsm.state !== 'established') throw new Error('not up');
  return { sim, a, b, idA: r.assocId, tsn0: snap.fsm.tcb.localInitialTsn };
}

const delivered = (h: EndpointHost) => h.events.flatMap((e) => (e.e.event.type === 'message' ? [new TextDecoder().decode(e.e.event.data)] : []));

describe('retransmission', () => {
  it('T3-rtx: "drop TSN n twice" → retransmitted after RTO, then again after 2·RTO, delivered once (§6.3.3)', () => {
    const { sim, a, b, idA, tsn0 } = simPair();
    const filter = sim.dropNext(dataWithTsn(tsn0), { count: 2 });
    const t0 = sim.now;
    a.endpoint.send(t0, idA, text('hello'), { streamId: 0, ppid: 0 });
    sim.poke('a');
    const t = sim.runUntil(() => delivered(b).length === 1, 20_000);
    expect(filter.hits.length).toBe(2);
    // RTO after the handshake RTT sample (20 ms) is RTO.Min = 1 s; 1 s then 2 s backoff.
    expect(filter.hits[1]!.time - filter.hits[0]!.time).toBe(1000);
    expect(t - t0).toBeGreaterThanOrEqual(3000);
    expect(t - t0).toBeLessThan(3100);
    expect(delivered(b)).toEqual(['hello']);
    const s = a.endpoint.snapshot(idA)!;
    expect(s.fsm.state === 'established' && s.fsm.tcb.counters.t3Expireds).toBe(2);
    expect(s.fsm.state === 'established' && s.fsm.tcb.paths[0]!.rto).toBe(4000);
  });

  it('fast retransmit on the third miss indication, no T3 (§7.2.4)', () => {
    const { sim, a, b, idA, tsn0 } = simPair(2);
    sim.dropNext(dataWithTsn(add32(tsn0, 1)), { count: 1 });
    for (let i = 0; i < 8; i++) a.endpoint.send(sim.now, idA, text(`m${i}`), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.runUntil(() => delivered(b).length === 8, 5000);
    expect(delivered(b)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    const s = a.endpoint.snapshot(idA)!;
    if (s.fsm.state !== 'established') throw new Error('state');
    expect(s.fsm.tcb.rq.counters.fastRetransmittedChunks).toBe(1);
    expect(s.fsm.tcb.counters.t3Expireds).toBe(0);
    expect(s.fsm.tcb.paths[0]!.counters.fastRecoveries).toBe(1);
  });

  it("Karn's rule: no RTT sample from a retransmitted chunk (§6.3.1 C5)", () => {
    const { sim, a, idA, tsn0 } = simPair(3);
    const before = a.endpoint.snapshot(idA)!;
    const n0 = before.fsm.state === 'established' ? before.fsm.tcb.paths[0]!.counters.rttMeasurements : -1;
    sim.dropNext(dataWithTsn(tsn0), { count: 1 });
    a.endpoint.send(sim.now, idA, text('x'), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.run({ until: sim.now + 3000 });
    const after = a.endpoint.snapshot(idA)!;
    if (after.fsm.state !== 'established') throw new Error('state');
    expect(after.fsm.tcb.rq.chunks.length).toBe(0);
    expect(after.fsm.tcb.paths[0]!.counters.rttMeasurements).toBe(n0);
  });

  it('Association.Max.Retrans consecutive timeouts → communication lost (§8.1)', () => {
    const { sim, a, idA } = simPair(4, { associationMaxRetrans: 3, pathMaxRetrans: 3, rtoMax: 4000 });
    sim.setNodeLinks('a', 'b', { up: false });
    a.endpoint.send(sim.now, idA, text('lost'), { streamId: 0, ppid: 9 });
    sim.poke('a');
    sim.runUntil(() => a.events.some((e) => e.e.event.type === 'communication-lost'), 60_000);
    const types = a.events.map((e) => e.e.event.type);
    expect(types).toContain('send-failed');
    const lost = a.events.find((e) => e.e.event.type === 'communication-lost')!.e.event;
    expect(lost).toMatchObject({ type: 'communication-lost', reason: 'max-retransmits' });
    expect(a.endpoint.associationIds()).toEqual([]);
  });
});
