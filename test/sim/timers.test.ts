import { describe, it, expect } from 'vitest';
import type { Millis } from '../../src/core/env.js';
import type { Datagram, SimHost } from '../../src/sim/host.js';
import { createSimulation } from '../../src/sim/simulation.js';
import { EchoHost, ReliableSender, ScriptedHost, dataChunk, packetBytes } from '../../src/sim/test-hosts.js';
import { dataScript, tsnOf } from './util.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

/** Fires at the listed deadlines, recording the `now` of each call. */
class AlarmHost implements SimHost {
  readonly fired: Millis[] = [];
  readonly polls: number[] = [];
  constructor(private deadlines: Millis[]) {}
  handlePacket(): void {}
  handleTimeout(now: Millis): void {
    this.fired.push(now);
    this.deadlines = this.deadlines.filter((d) => d > now);
  }
  pollTransmit(): Datagram | undefined {
    return undefined;
  }
  pollTimeout(): Millis | undefined {
    this.polls.push(this.deadlines[0] ?? -1);
    return this.deadlines[0];
  }
  moveTo(deadlines: Millis[]): void {
    this.deadlines = deadlines;
  }
}

describe('timers', () => {
  it('fire at exact (fractional) virtual times', () => {
    const sim = createSimulation({ seed: 1 });
    const h = new AlarmHost([3, 10.5, 1000]);
    sim.addNode('h', [A], h);
    sim.run({ until: 999.999 });
    expect(h.fired).toEqual([3, 10.5]);
    expect(sim.now).toBe(999.999);
    sim.run({ until: 1000 });
    expect(h.fired).toEqual([3, 10.5, 1000]);
    expect(sim.pendingEvents).toBe(0);
  });

  it('keeps exactly one timeout event per host, replaced when the deadline moves', () => {
    const sim = createSimulation({ seed: 1 });
    const h = new AlarmHost([500]);
    sim.addNode('h', [A], h);
    sim.run({ until: 0 });
    expect(sim.pendingEvents).toBe(1);
    for (let i = 0; i < 10; i++) {
      sim.at(10 + i, () => h.moveTo([400 - i]));
    }
    sim.at(50, () => h.moveTo([30]));
    sim.run({ until: 100 });
    expect(sim.pendingEvents).toBe(0);
    expect(h.fired).toEqual([50]); // a deadline in the past fires at once
  });

  it('an echo host replies exactly replyDelay after each arrival', () => {
    const sim = createSimulation({ seed: 1 });
    const a = new ScriptedHost(dataScript(A, B, 3, { interval: 1.25, at: 2 }));
    const echo = new EchoHost(7);
    sim.addNode('a', [A], a);
    sim.addNode('b', [B], echo);
    sim.link(A, B, { delay: 10 });
    sim.run({ untilIdle: true, maxTime: 1000 });
    expect(echo.received.map((r) => r.time)).toEqual([12, 13.25, 14.5]);
    expect(a.received.map((r) => r.time)).toEqual([29, 30.25, 31.5]);
    expect(a.received.map((r) => r.packet?.chunks[0])).toEqual([0, 1, 2].map((tsn) => ({ kind: 'sack', cumulativeTsnAck: tsn, aRwnd: 65535, gapBlocks: [], duplicateTsns: [] })));
  });

  it('a host that re-arms its timeout retransmits at exact multiples of its RTO', () => {
    const sim = createSimulation({ seed: 1 });
    const sender = new ReliableSender({ source: A, destination: B, initialTsn: 0xffffffff, count: 2, rto: 100, start: 5 });
    sim.addNode('a', [A], sender);
    sim.addNode('b', [B], new EchoHost());
    sim.link(A, B, { delay: 10 });
    sim.setLink(A, B, { up: false });
    sim.at(260, (s) => s.setLink(A, B, { up: true }));
    const doneAt = sim.runUntil(() => sender.done, 10_000);
    expect(sender.transmissions).toEqual([
      { time: 5, what: 0xffffffff },
      { time: 105, what: 0xffffffff },
      { time: 205, what: 0xffffffff },
      { time: 305, what: 0xffffffff },
      { time: 325, what: 0 },
    ]);
    expect([...sender.acked]).toEqual([[0xffffffff, 325], [0, 345]]);
    expect(doneAt).toBe(345);
    expect(sim.pendingEvents).toBe(0);
  });
});

describe('killNode and replaceHost', () => {
  it('a killed node gets no deliveries, timeouts or polls; in-flight datagrams to it are node-down', () => {
    const sim = createSimulation({ seed: 1 });
    const sender = new ReliableSender({ source: A, destination: B, initialTsn: 1, count: 100, rto: 50 });
    const echo = new EchoHost(0);
    sim.addNode('a', [A], sender);
    sim.addNode('b', [B], echo);
    sim.link(A, B, { delay: 5 });
    sim.at(52, (s) => s.killNode('b'));
    sim.run({ until: 200 });
    // Round trips of 10 ms: TSNs 1..5 acked by t=50; TSN 6 sent at 50 arrives at 55, after the kill.
    expect([...sender.acked.keys()]).toEqual([1, 2, 3, 4, 5]);
    expect(echo.received.length).toBe(5);
    expect(sim.isAlive('b')).toBe(false);
    // TSN 6 sent at 50 and retransmitted at 100, 150, 200: the last lands at 205.
    expect(sim.linkStats(A, B).nodeDown).toBe(3);
    sim.run({ until: 210 });
    expect(sim.linkStats(A, B).nodeDown).toBe(4);
    expect(sim.trace.filter((e) => e.reason === 'node-down').map((e) => e.time)).toEqual([55, 105, 155, 205]);
  });

  it('killing a sender stops its timers; replaceHost brings a new host up at the same addresses', () => {
    const sim = createSimulation({ seed: 1 });
    const first = new ReliableSender({ source: A, destination: B, initialTsn: 1, count: 100, rto: 50 });
    const b = new ScriptedHost();
    sim.addNode('a', [A], first);
    sim.addNode('b', [B], b);
    sim.at(120, (s) => s.killNode('a'));
    sim.run({ until: 1000 });
    expect(first.transmissions.map((t) => t.time)).toEqual([0, 50, 100]);
    expect(sim.pendingEvents).toBe(0);
    const second = new ScriptedHost([{ at: 0, datagram: { source: A, destination: B, bytes: packetBytes([dataChunk(42)]) } }]);
    sim.replaceHost('a', second);
    expect(sim.isAlive('a')).toBe(true);
    sim.run({ untilIdle: true, maxTime: 2000 });
    expect(b.received.map((r) => [r.time, tsnOf(r)])).toEqual([[1, 1], [51, 1], [101, 1], [1001, 42]]);
  });

  it('a replaced host that is killed before its first poll is never polled', () => {
    const sim = createSimulation({ seed: 1 });
    const h = new AlarmHost([10]);
    sim.addNode('h', [A], new AlarmHost([]));
    sim.replaceHost('h', h);
    sim.killNode('h');
    sim.run({ until: 100 });
    expect(h.polls).toEqual([]);
  });
});
