// Seeded end-to-end simulation: loss, duplication, reordering; exactly once, in order; TSNs wrap.
import { describe, expect, it } from 'vitest';
import { runTransferSimulation, simulationConfig } from '../../../src/sim/scenarios.js';
import { hmac } from './helpers.js';

describe('seeded transfer simulation', () => {
  // With RTO.Max = 2 s and 20% loss, each message needs at most a few backed-off
  // retransmissions; 200 messages each way must finish well within 200·RTO.Max.
  const bound = 200 * (simulationConfig.rtoMax ?? 2000);
  for (const multihomed of [false, true]) {
    for (let seed = 1; seed <= 12; seed++) {
      const loss = ((seed - 1) % 5) * 0.05; // 0 .. 20 %
      it(`seed ${seed}, loss ${Math.round(loss * 100)}%, ${multihomed ? 'multihomed' : 'single-homed'}`, () => {
        const r = runTransferSimulation({ seed, loss, duplicate: 0.05, reorder: 0.05, messages: 200, multihomed, hmac });
        expect(r.failures).toEqual([]);
        expect(r).toMatchObject({ delivered: 400, lost: 0, duplicated: 0, reordered: 0, corrupted: 0 });
        expect(r.virtualMs).toBeLessThan(bound);
      });
    }
  }

  it('is deterministic for a seed', () => {
    const a = runTransferSimulation({ seed: 7, loss: 0.1, duplicate: 0.05, reorder: 0.05, messages: 50, multihomed: true, hmac });
    const b = runTransferSimulation({ seed: 7, loss: 0.1, duplicate: 0.05, reorder: 0.05, messages: 50, multihomed: true, hmac });
    expect(a).toEqual(b);
  });

  it('negative control: the checker reports loss when the association is allowed to give up', () => {
    // With Association.Max.Retrans 1 at 40% loss the association fails early:
    // the same checker that reports 0 lost above must now report loss.
    const r = runTransferSimulation({
      seed: 3, loss: 0.4, duplicate: 0, reorder: 0, messages: 50, multihomed: false, hmac,
      config: { associationMaxRetrans: 1, pathMaxRetrans: 1 }, maxTime: 60_000,
    });
    expect(r.failures.length).toBeGreaterThan(0);
    expect(r.lost).toBeGreaterThan(0);
  });
});
