import { describe, it, expect } from 'vitest';
import type { Millis } from '../../src/core/env.js';
import type { Datagram, SimHost } from '../../src/sim/host.js';
import { createSimulation } from '../../src/sim/simulation.js';
import { EchoHost, ScriptedHost, dataChunk, packetBytes } from '../../src/sim/test-hosts.js';
import { dataScript } from './util.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

/** Sends every datagram it receives straight back: with a 0 ms link, a livelock at one instant. */
class MirrorHost implements SimHost {
  private out: Datagram[] = [];
  handlePacket(_now: Millis, d: Datagram): void {
    this.out.push({ source: d.destination, destination: d.source, bytes: d.bytes });
  }
  handleTimeout(): void {}
  pollTransmit(): Datagram | undefined {
    return this.out.shift();
  }
  pollTimeout(): Millis | undefined {
    return undefined;
  }
}

/** A heartbeat-like host that always has a next deadline. */
class TickHost implements SimHost {
  ticks = 0;
  private next: Millis = 0;
  constructor(private readonly interval: Millis) {}
  handlePacket(): void {}
  handleTimeout(now: Millis): void {
    this.ticks += 1;
    this.next = now + this.interval;
  }
  pollTransmit(): Datagram | undefined {
    return undefined;
  }
  pollTimeout(): Millis | undefined {
    return this.next;
  }
}

describe('run control', () => {
  it('run({ until }) processes events up to and including `until` and sets the clock', () => {
    const sim = createSimulation({ seed: 1 });
    const t = new TickHost(10);
    sim.addNode('t', [A], t);
    expect(sim.run({ until: 30 })).toBe(5); // start + ticks at 0, 10, 20, 30
    expect(t.ticks).toBe(4);
    expect(sim.now).toBe(30);
    expect(sim.nextEventTime).toBe(40);
    expect(() => sim.run({ until: 29 })).toThrow(/until=29 is before now \(30\)/);
  });

  it('run({ untilIdle }) returns when nothing is left, and names maxTime when still busy', () => {
    const sim = createSimulation({ seed: 1 });
    sim.addNode('a', [A], new ScriptedHost(dataScript(A, B, 3)));
    sim.addNode('b', [B], new EchoHost(1));
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(sim.pendingEvents).toBe(0);
    expect(sim.now).toBe(5); // last SACK: sent 2, +1 delay, +1 reply, +1 back

    sim.addNode('t', ['10.0.0.3'], new TickHost(100));
    expect(() => sim.run({ untilIdle: true, maxTime: 500 })).toThrow(/exceeded maxTime=500 \(still busy\) at t=500; 1 events pending, next at t=505 \(timeout\)/);
  });

  it('throws naming maxEvents on a zero-delay livelock', () => {
    const sim = createSimulation({ seed: 1, maxEvents: 1000, defaultLink: { delay: 0 } });
    sim.addNode('a', [A], new MirrorHost());
    sim.addNode('b', [B], new MirrorHost());
    sim.inject({ source: A, destination: B, bytes: packetBytes([dataChunk(1)]) });
    expect(() => sim.run({ until: 1 })).toThrow(/Simulation\.run: exceeded maxEvents=1000 at t=0/);
    expect(() => sim.run({ until: 1, maxEvents: 10 })).toThrow(/maxEvents=10/);
  });

  it('throws naming maxTransmitsPerPoll when a host never stops sending', () => {
    const sim = createSimulation({ seed: 1, maxTransmitsPerPoll: 50 });
    const endless: SimHost = {
      handlePacket() {},
      handleTimeout() {},
      pollTransmit: () => ({ source: A, destination: B, bytes: packetBytes([dataChunk(1)]) }),
      pollTimeout: () => undefined,
    };
    sim.addNode('a', [A], endless);
    expect(() => sim.step()).toThrow(/exceeded maxTransmitsPerPoll=50/);
  });

  it('runUntil returns the time the condition became true', () => {
    const sim = createSimulation({ seed: 1 });
    const t = new TickHost(7);
    sim.addNode('t', [A], t);
    expect(sim.runUntil(() => t.ticks === 3, 100)).toBe(14);
    expect(sim.runUntil(() => t.ticks === 3, 100)).toBe(14); // already true: no event processed
    expect(() => sim.runUntil(() => t.ticks === 100, 50)).toThrow(/runUntil: exceeded maxTime=50 reached before the condition held/);
    expect(sim.now).toBe(50);
    expect(() => sim.runUntil(() => false, 1e9, 20)).toThrow(/maxEvents=20/);
  });

  it('runUntil says so when the network goes idle first', () => {
    const sim = createSimulation({ seed: 1 });
    sim.addNode('a', [A], new ScriptedHost(dataScript(A, B, 1)));
    expect(() => sim.runUntil(() => false, 1000)).toThrow(/idle before the condition held/);
  });

  it('step processes one event at a time', () => {
    const sim = createSimulation({ seed: 1 });
    const b = new ScriptedHost();
    sim.addNode('a', [A], new ScriptedHost(dataScript(A, B, 1, { at: 3 })));
    sim.addNode('b', [B], b);
    const times: number[] = [];
    while (sim.step()) times.push(sim.now);
    expect(times).toEqual([0, 0, 3, 4]); // start a, start b, a's timer (sends), delivery
    expect(b.received.length).toBe(1);
    expect(sim.step()).toBe(false);
  });

  it('refuses re-entrant runs, past actions and bad deadlines', () => {
    const sim = createSimulation({ seed: 1 });
    sim.at(5, (s) => s.run({ until: 10 }));
    expect(() => sim.run({ until: 10 })).toThrow(/already running/);
    expect(() => sim.at(1, () => {})).toThrow(/before now/);
    const bad: SimHost = { handlePacket() {}, handleTimeout() {}, pollTransmit: () => undefined, pollTimeout: () => Number.NaN };
    sim.addNode('bad', [A], bad);
    expect(() => sim.run({ until: 20 })).toThrow(/pollTimeout returned NaN/);
    expect(() => createSimulation({ seed: 1.5 })).toThrow(/seed must be an integer/);
  });

  it('actions run in time order and every live node is serviced after them', () => {
    const sim = createSimulation({ seed: 1 });
    const a = new ScriptedHost();
    const b = new ScriptedHost();
    sim.addNode('a', [A], a);
    sim.addNode('b', [B], b);
    const log: string[] = [];
    sim.after(20, () => log.push('second'));
    sim.at(10, () => {
      log.push('first');
      a.send({ source: A, destination: B, bytes: packetBytes([dataChunk(5)]) });
    });
    sim.run({ until: 100 });
    expect(log).toEqual(['first', 'second']);
    expect(b.received.map((r) => r.time)).toEqual([11]);
  });
});
