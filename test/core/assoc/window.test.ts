// RFC 9260 §6.1 A (zero window probing), §6.2 (window update, receiver SWS
// avoidance), §6.1 + RFC 1122 §4.2.3.4 (sender SWS avoidance), over src/sim.
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../../src/core/endpoint.js';
import { sentChunks, simPair, A, B } from './helpers.js';

function tcb(ep: Endpoint, id: number) {
  const s = ep.snapshot(id);
  if (!s || s.fsm.state !== 'established') throw new Error(`not established: ${s?.fsm.state}`);
  return s.fsm.tcb;
}

const block = (i: number, size: number): Uint8Array => new Uint8Array(size).fill(i & 0xff);

describe('zero window probing (RFC 9260 §6.1 A)', () => {
  it('a stalled reader: one probe chunk at a time, probes never fail the association, a window update resumes the transfer', () => {
    const config = { rtoMax: 4000, associationMaxRetrans: 3, pathMaxRetrans: 3, pfMaxRetrans: 3, hbInterval: 3_600_000 };
    const { sim, a, b, idA, idB } = simPair({ seed: 11, configA: config, configB: { ...config, receiveWindow: 4000 } });
    b.reading = false;
    const t0 = sim.now;
    const N = 12;
    for (let i = 0; i < N; i++) expect(a.endpoint.send(t0, idA, block(i, 1000), { streamId: 0, ppid: 0 }).ok).toBe(true);
    sim.poke('a');
    // The receiver's window closes with 4 messages held.
    sim.runUntil(() => sentChunks(sim, 'sack', B).some((x) => x.chunk.aRwnd === 0), t0 + 1000);
    const closedAt = sim.now;
    sim.run({ until: closedAt + 60_000 });
    expect(a.endpoint.snapshot(idA)!.fsm.state).toBe('established');
    expect(tcb(b.endpoint, idB).heldBytes).toBe(4000);

    const data = sentChunks(sim, 'data', A).filter((x) => x.time > closedAt + 20);
    // Probes: every DATA packet after the window closed carries one chunk, always the same TSN.
    const probeTsns = new Set(data.map((x) => x.chunk.tsn));
    expect(probeTsns.size).toBe(1);
    const perPacket = new Map<number, number>();
    for (const x of data) perPacket.set(x.time, (perPacket.get(x.time) ?? 0) + 1);
    expect([...perPacket.values()].every((n) => n === 1)).toBe(true);
    // More probes than Association.Max.Retrans: unanswered probes do not count as errors
    // while SACKs keep coming; the interval backs off (bounded by RTO.Max).
    expect(data.length).toBeGreaterThan(config.associationMaxRetrans + 1);
    const gaps = data.slice(1).map((x, i) => x.time - data[i]!.time);
    expect(gaps[0]!).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2 * config.rtoMax);
    expect(gaps[gaps.length - 1]!).toBeGreaterThan(gaps[0]!);
    expect(tcb(a.endpoint, idA).rq.counters.zeroWindowProbes).toBeGreaterThan(0);

    // The application reads again: a window update SACK opens the window (§6.2) and the rest flows.
    const sacksBefore = sentChunks(sim, 'sack', B).length;
    const t1 = sim.now;
    b.reading = true;
    b.read(t1);
    sim.poke('b');
    const update = sentChunks(sim, 'sack', B).slice(sacksBefore);
    expect(update.length).toBe(1);
    expect(update[0]!.time).toBe(t1);
    expect(update[0]!.chunk.aRwnd).toBe(4000);
    sim.runUntil(() => b.delivered().length === N, t1 + 5000);
    expect(sim.now - t1).toBeLessThan(1000);
    expect(b.delivered().map((s) => s.length)).toEqual(Array(N).fill(1000));
    expect(b.events.filter((x) => x.e.event.type === 'message').map((x) => (x.e.event.type === 'message' ? x.e.event.data[0] : -1))).toEqual(
      Array.from({ length: N }, (_, i) => i),
    );
  });
});

describe('zero window probing with a sliver of window (RFC 9260 §6.1 A)', () => {
  it('a peer window smaller than the next chunk counts as closed: the probe still goes after an RTO, and again', () => {
    // 100-byte messages into a 4050-byte window: 40 held leave a_rwnd 50, less than a chunk.
    // Regression: a_rwnd > 0 used to restart the probe clock at every flush (including the
    // probe timer's own), so nothing was ever sent again: a same-process echo over UDP stalled
    // for good once a lost TSN sat below a full receive buffer.
    const { sim, a, b, idA } = simPair({ seed: 14, configB: { receiveWindow: 4050 } });
    b.reading = false;
    const t0 = sim.now;
    for (let i = 0; i < 60; i++) expect(a.endpoint.send(t0, idA, block(i, 100), { streamId: 0, ppid: 0 }).ok).toBe(true);
    sim.poke('a');
    sim.runUntil(() => sentChunks(sim, 'sack', B).some((x) => x.chunk.aRwnd > 0 && x.chunk.aRwnd < 100), t0 + 1000);
    const slivered = sim.now;
    sim.run({ until: slivered + 20_000 });
    const probes = sentChunks(sim, 'data', A).filter((x) => x.time > slivered + 20);
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(probes[0]!.time - slivered).toBeGreaterThanOrEqual(900);
    expect(tcb(a.endpoint, idA).rq.counters.zeroWindowProbes).toBeGreaterThan(0);
    // The reader resumes: everything arrives.
    b.reading = true;
    b.read(sim.now);
    sim.poke('b');
    sim.runUntil(() => b.delivered().length === 60, sim.now + 10_000);
    expect(b.delivered().length).toBe(60);
  });
});

describe('receiver SWS avoidance (RFC 9260 §6.2, RFC 1122 §4.2.3.3)', () => {
  it('small reads do not each produce a window update: one per min(rwnd/2, MTU) of opening', () => {
    const { sim, a, b, idA } = simPair({ seed: 12, configB: { receiveWindow: 8000 } });
    b.reading = false;
    const t0 = sim.now;
    // 80 messages of 100 bytes: exactly fill the 8000-byte window.
    for (let i = 0; i < 80; i++) a.endpoint.send(t0, idA, block(i, 100), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.run({ until: t0 + 500 });
    expect(sentChunks(sim, 'sack', B).at(-1)!.chunk.aRwnd).toBe(0);
    // Read one 100-byte message at a time, letting the network run between reads.
    const before = sentChunks(sim, 'sack', B).length;
    b.reading = true;
    for (let i = 0; i < 40; i++) {
      b.read(sim.now, 1);
      sim.poke('b');
      sim.run({ until: sim.now + 1 });
    }
    const updates = sentChunks(sim, 'sack', B).slice(before);
    // 4000 bytes read, threshold min(8000 / 2, 1500) = 1500: two updates (after 1500 and 3000 bytes).
    expect(updates.map((x) => x.chunk.aRwnd)).toEqual([1500, 3000]);
  });
});

describe('sender SWS avoidance (RFC 9260 §6.1, RFC 1122 §4.2.3.4)', () => {
  it('with a small peer window and data in flight, fragments are never cut down to fit the sliver of window', () => {
    const { sim, a, b, idA } = simPair({ seed: 13, configB: { receiveWindow: 8000 } });
    b.reading = false;
    const t0 = sim.now;
    // 5000-byte messages (fragments 1452 ×3 + 644) into an 8000-byte window,
    // read one message at a time: the window keeps opening by pieces smaller
    // than a fragment while others are in flight.
    const N = 8;
    for (let i = 0; i < N; i++) a.endpoint.send(t0, idA, block(i, 5000), { streamId: 0, ppid: 0 });
    sim.poke('a');
    for (let step = 0; step < 400 && b.delivered().length < N; step++) {
      sim.run({ until: sim.now + 25 });
      b.reading = true;
      b.read(sim.now, 1);
      b.reading = false;
      sim.poke('b');
    }
    expect(b.delivered().length).toBe(N);
    const data = sentChunks(sim, 'data', A);
    expect(data.length).toBeGreaterThanOrEqual(4 * N);
    const sizes = new Set(data.map((x) => x.chunk.userData.length));
    expect([...sizes].sort((x, y) => x - y)).toEqual([644, 1452]);
    expect(data.every((x) => (x.chunk.userData.length === 644) === x.chunk.ending)).toBe(true);
    // The peer's window was the limit at times (a SACK advertised less than a fragment).
    expect(sentChunks(sim, 'sack', B).some((x) => x.chunk.aRwnd < 1452)).toBe(true);
  });
});
