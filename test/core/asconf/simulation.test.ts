// ADD-IP under loss, in the deterministic simulator: mid-transfer A adds a
// second address, asks B to make it its primary, then deletes its first
// address. ASCONFs, ASCONF-ACKs and HEARTBEATs are lost like everything else
// (T-4 and the replay cache at work); every message must still arrive once,
// in order, and B must end up sending to the new address only.
import { describe, expect, it } from 'vitest';
import { createEndpoint } from '../../../src/core/endpoint.js';
import { SeededRng } from '../../../src/core/env.js';
import { createSimulation } from '../../../src/sim/simulation.js';
import { simulationConfig } from '../../../src/sim/scenarios.js';
import { decodePacket } from '../../../src/wire/packet.js';
import { A, A2, B, PORT_A, PORT_B, ReaderHost, hmac, hmacSha1 } from '../assoc/helpers.js';
import { tcbOf } from '../auth/helpers.js';

const MESSAGES = 120;

function run(seed: number, loss: number) {
  const sim = createSimulation({ seed, traceLimit: 20_000, defaultLink: { delay: 10, jitter: 3, loss, duplicate: loss / 4, reorder: loss / 4, reorderDelay: 20 } });
  const config = { ...simulationConfig };
  const a = new ReaderHost(createEndpoint({ localAddresses: [A], port: PORT_A, config, rng: new SeededRng(seed), hmac, hmacSha1, now: 0 }));
  const b = new ReaderHost(createEndpoint({ localAddresses: [B], port: PORT_B, config, rng: new SeededRng(seed + 1000), hmac, hmacSha1, now: 0 }));
  // A owns both addresses in the network from the start; the endpoint learns of A2 1 s after establishment.
  sim.addNode('a', [A, A2], a);
  sim.addNode('b', [B], b);
  const r = a.endpoint.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
  if (!r.ok) throw new Error('connect');
  const idA = r.assocId;
  sim.poke('a');
  sim.runUntil(() => b.ofType('communication-up').length > 0 && a.ofType('communication-up').length > 0, 10_000);
  const idB = b.events.find((x) => x.e.event.type === 'communication-up')!.e.assocId;
  // Times from here on are after establishment (the handshake may have needed retransmissions).
  const t0 = sim.now;
  // Messages both ways, 40 ms apart, from t0+500 on.
  for (let i = 0; i < MESSAGES; i++) {
    sim.at(t0 + 500 + i * 40, () => {
      a.endpoint.send(sim.now, idA, new TextEncoder().encode(`a${i}`), { streamId: i % 3, ppid: 0 });
      b.endpoint.send(sim.now, idB, new TextEncoder().encode(`b${i}`), { streamId: i % 3, ppid: 0 });
      sim.poke('a');
      sim.poke('b');
    });
  }
  sim.at(t0 + 1000, () => {
    a.endpoint.addLocalAddress(sim.now, A2, idA);
    a.endpoint.requestPeerPrimary(sim.now, idA, A2);
    sim.poke('a');
  });
  let deleteAsked = false;
  sim.at(t0 + 3000, () => {
    deleteAsked = a.endpoint.removeLocalAddress(sim.now, A, idA).ok;
    sim.poke('a');
  });
  const asconfDone = (): boolean => a.ofType('asconf').length >= 3;
  sim.runUntil(() => a.delivered().length === MESSAGES && b.delivered().length === MESSAGES && asconfDone(), 120_000);
  return { sim, a, b, idA, idB, deleteAsked };
}

describe('ADD-IP in the simulator with loss, duplication and reordering', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`seed ${seed}: add, set primary, delete; every message once, in order; B ends on the new address`, () => {
      const { sim, a, b, idA, idB, deleteAsked } = run(seed, 0.1);
      expect(deleteAsked).toBe(true);
      expect(a.ofType('asconf').map((e) => `${e.request.kind} ${e.result}`)).toEqual(['add-ip-address success', 'set-primary-address success', 'delete-ip-address success']);
      const expected = (p: string) => Array.from({ length: MESSAGES }, (_, i) => `${p}${i}`);
      // Per stream order, exactly once.
      for (const [got, p] of [[b.delivered(), 'a'], [a.delivered(), 'b']] as const) {
        expect([...got].sort()).toEqual(expected(p).sort());
        for (let s = 0; s < 3; s++) {
          const onStream = got.filter((m) => Number(m.slice(1)) % 3 === s);
          expect(onStream).toEqual(expected(p).filter((m) => Number(m.slice(1)) % 3 === s));
        }
      }
      expect([...a.ofType('communication-lost'), ...b.ofType('communication-lost')]).toEqual([]);
      const tb = tcbOf(b.endpoint, idB);
      expect(tb.primary).toBe(A2);
      expect(tb.paths.map((p) => p.address)).toEqual([A2]);
      expect(a.endpoint.snapshot(idA)!.localAddresses).toEqual([A2]);
      // Once the delete was acknowledged nothing left A from its old address.
      const ackedAt = a.events.find((x) => x.e.event.type === 'asconf' && x.e.event.request.kind === 'delete-ip-address')!.time;
      const late = sim.trace.filter((e) => e.fate === 'sent' && e.copy === 0 && e.time > ackedAt && e.source === A);
      expect(late).toEqual([]);
      // And B's new DATA (first transmissions; retransmissions may go to an alternate, RFC 9260 §6.4.1)
      // went to A2 only, from the moment the Set Primary took effect.
      const madePrimary = b.events.find((x) => x.e.event.type === 'peer-address-change' && x.e.event.state === 'SCTP_ADDR_MADE_PRIM')!.time;
      const firstSend = new Map<number, { time: number; destination: string }>();
      for (const e of sim.trace) {
        if (e.fate !== 'sent' || e.copy !== 0 || e.source !== B) continue;
        const d = decodePacket(e.bytes);
        if (!d.ok) continue;
        for (const c of d.value.chunks) if (c.kind === 'data' && !firstSend.has(c.tsn)) firstSend.set(c.tsn, { time: e.time, destination: e.destination });
      }
      const newToOld = [...firstSend.values()].filter((f) => f.time > madePrimary && f.destination !== A2);
      expect(newToOld).toEqual([]);
      expect([...firstSend.values()].some((f) => f.time > madePrimary)).toBe(true);
    });
  }
});
