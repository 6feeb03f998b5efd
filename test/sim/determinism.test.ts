import { describe, it, expect } from 'vitest';
import { createSimulation } from '../../src/sim/simulation.js';
import { EchoHost, ReliableSender, ScriptedHost } from '../../src/sim/test-hosts.js';
import { dataScript } from './util.js';

function lossyRun(seed: number): { trace: string; lostIds: number[]; times: number[] } {
  const sim = createSimulation({ seed });
  sim.addNode('a', ['10.0.0.1', '10.0.1.1'], new ScriptedHost(dataScript('10.0.0.1', '10.0.0.2', 300, { interval: 2 })));
  sim.addNode('b', ['10.0.0.2', '10.0.1.2'], new EchoHost(3));
  sim.link('10.0.0.1', '10.0.0.2', { delay: 5, jitter: 4, loss: 0.2, duplicate: 0.1, reorder: 0.1 });
  sim.run({ untilIdle: true, maxTime: 10_000 });
  return {
    trace: sim.formatTrace(),
    lostIds: sim.trace.filter((e) => e.reason === 'loss').map((e) => e.id),
    times: sim.trace.map((e) => e.time),
  };
}

describe('determinism', () => {
  it('same seed: bit-for-bit identical trace', () => {
    const a = lossyRun(42);
    const b = lossyRun(42);
    expect(a.trace).toBe(b.trace);
    expect(a.times).toEqual(b.times);
    expect(a.lostIds.length).toBeGreaterThan(0);
  });

  it('different seed: different loss pattern', () => {
    expect(lossyRun(1).lostIds).not.toEqual(lossyRun(2).lostIds);
  });

  it('forkRng gives hosts reproducible entropy from the one seed', () => {
    const draws = (seed: number): number[] => {
      const sim = createSimulation({ seed });
      const r = sim.forkRng();
      return [r.nextU32(), r.nextU32(), sim.forkRng().nextU32()];
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
  });

  it('a retransmitting pair over a lossy link replays identically', () => {
    const run = (): string => {
      const sim = createSimulation({ seed: 99 });
      const sender = new ReliableSender({ source: '2001:db8::1', destination: '2001:db8::2', initialTsn: 0xfffffff0, count: 40, rto: 30 });
      sim.addNode('a', ['2001:db8::1'], sender);
      sim.addNode('b', ['2001:db8::2'], new EchoHost());
      sim.link('2001:db8::1', '2001:db8::2', { delay: 4, jitter: 3, loss: 0.3 });
      sim.runUntil(() => sender.done, 60_000);
      return sim.formatTrace();
    };
    expect(run()).toBe(run());
  });
});
