// Nagle-like bundling at the association level (RFC 9260 §6.1 sender-side SWS
// avoidance, RFC 1122 §4.2.3.4; SCTP_NODELAY of RFC 6458 §8.1.5 turns it off),
// driven through the public endpoint API over the simulator.
import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/wire/packet.js';
import type { Simulation } from '../../../src/sim/simulation.js';
import { A, simPair, text } from './helpers.js';

/** DATA chunks per packet that A handed to the network, in order. */
function dataPackets(sim: Simulation): number[] {
  const out: number[] = [];
  for (const e of sim.trace) {
    if (e.fate !== 'sent' || e.copy !== 0 || e.source !== A) continue;
    const r = decodePacket(e.bytes);
    if (!r.ok) continue;
    const n = r.value.chunks.filter((c) => c.kind === 'data').length;
    if (n > 0) out.push(n);
  }
  return out;
}

function burst(nodelay: boolean, count: number) {
  const { sim, a, b, idA } = simPair({ configA: { nodelay } });
  const t0 = sim.now;
  const sent: string[] = [];
  for (let i = 0; i < count; i++) {
    const m = `m${String(i).padStart(4, '0')}`.padEnd(100, '.');
    sent.push(m);
    expect(a.endpoint.send(t0, idA, text(m), { streamId: 0, ppid: 0 }).ok).toBe(true);
  }
  sim.poke('a');
  sim.runUntil(() => b.delivered().length === count, t0 + 10_000);
  const lastAt = b.events.filter((x) => x.e.event.type === 'message').pop()!.time;
  return { sim, b, sent, t0, took: lastAt - t0 };
}

describe('Nagle (default) and nodelay', () => {
  it('a few small messages sent together go at once, one per packet, as with nodelay', () => {
    const { sim, b, sent, took } = burst(false, 10);
    expect(b.delivered()).toEqual(sent);
    expect(dataPackets(sim)).toEqual(Array(10).fill(1));
    // One way is 10 ms.
    expect(took).toBe(10);
  });

  it('a busy association bundles small messages into full packets, at most a round trip later than nodelay', () => {
    const nagle = burst(false, 2000);
    const nodelay = burst(true, 2000);
    expect(nagle.b.delivered()).toEqual(nagle.sent);
    expect(nodelay.b.delivered()).toEqual(nodelay.sent);
    const np = dataPackets(nagle.sim);
    const dp = dataPackets(nodelay.sim);
    // Beyond the first two packets' worth in flight, Nagle sends only full
    // packets (12 chunks of 116 bytes); nodelay sends a packet per message
    // while cwnd has room.
    expect(np.length).toBeLessThan(dp.length);
    expect(np.filter((n) => n > 1 && n < 12).length).toBeLessThanOrEqual(1);
    expect(dp.filter((n) => n === 1).length).toBeGreaterThan(np.filter((n) => n === 1).length);
    // The held tail waits for the SACKs of the flight, not for the peer's
    // 200 ms delayed-SACK timer: at most one round trip (20 ms) later.
    expect(nagle.took).toBeLessThanOrEqual(nodelay.took + 20);
  });

  it('never delays a message when little is in flight', () => {
    const { sim, a, b, idA } = simPair();
    // One message every 5 ms (an RTT is 20 ms, so up to 4 in flight): each goes alone, at once.
    for (let i = 0; i < 50; i++) {
      const t = sim.now;
      a.endpoint.send(t, idA, text(`q${i}`), { streamId: 0, ppid: 0 });
      sim.poke('a');
      sim.run({ until: t + 5 });
    }
    sim.run({ until: sim.now + 20 });
    expect(b.delivered().length).toBe(50);
    for (const x of b.events.filter((e) => e.e.event.type === 'message')) expect(x.time % 5).toBe(0);
    expect(dataPackets(sim)).toEqual(Array(50).fill(1));
  });
});
