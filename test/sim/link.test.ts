import { describe, it, expect } from 'vitest';
import { createSimulation } from '../../src/sim/simulation.js';
import { ScriptedHost, dataChunk, packetBytes } from '../../src/sim/test-hosts.js';
import { decodePacket } from '../../src/wire/packet.js';
import { dataScript, tsnOf } from './util.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function pair(seed: number, script: ConstructorParameters<typeof ScriptedHost>[0]) {
  const sim = createSimulation({ seed });
  const a = new ScriptedHost(script);
  const b = new ScriptedHost();
  sim.addNode('a', [A], a);
  sim.addNode('b', [B], b);
  return { sim, a, b };
}

describe('delay and jitter', () => {
  it('delivers after exactly `delay` with no jitter', () => {
    const { sim, b } = pair(1, dataScript(A, B, 3, { interval: 10, at: 5 }));
    sim.link(A, B, { delay: 7 });
    sim.run({ untilIdle: true, maxTime: 1000 });
    expect(b.received.map((r) => r.time)).toEqual([12, 22, 32]);
    expect(b.received.map(tsnOf)).toEqual([0, 1, 2]);
  });

  it('jitter spreads arrivals over [delay, delay + jitter) and never reorders', () => {
    const { sim, b } = pair(5, dataScript(A, B, 1000, { interval: 1 }));
    sim.link(A, B, { delay: 10, jitter: 5 });
    sim.run({ untilIdle: true, maxTime: 10_000 });
    expect(b.received.map(tsnOf)).toEqual([...Array(1000).keys()]);
    const latency = b.received.map((r, i) => r.time - i);
    expect(Math.min(...latency)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...latency)).toBeLessThan(15);
    expect(new Set(latency).size).toBeGreaterThan(100);
  });

  it('directions are independent when configured one way', () => {
    const { sim } = pair(1, []);
    sim.link(A, B, { delay: 3 });
    sim.setLink(B, A, { delay: 9 }, { oneWay: true });
    expect(sim.linkProperties(A, B)?.delay).toBe(3);
    expect(sim.linkProperties(B, A)?.delay).toBe(9);
  });
});

describe('loss, duplication, reordering', () => {
  it('loses 10% of 10,000 datagrams within statistical bounds (±5 sigma)', () => {
    for (const seed of [1, 2]) {
      const { sim, b } = pair(seed, dataScript(A, B, 10_000, { interval: 0.1 }));
      sim.link(A, B, { delay: 1, loss: 0.1 });
      sim.run({ untilIdle: true, maxTime: 10_000 });
      const s = sim.linkStats(A, B);
      expect(s.sent).toBe(10_000);
      expect(s.lost + s.delivered).toBe(10_000);
      expect(b.received.length).toBe(s.delivered);
      // n p = 1000, sigma = sqrt(n p (1-p)) = 30.
      expect(s.lost).toBeGreaterThan(850);
      expect(s.lost).toBeLessThan(1150);
      expect(sim.dropCounts().loss).toBe(s.lost);
    }
  });

  it('loss 1 drops everything, loss 0 nothing', () => {
    const { sim, b } = pair(3, dataScript(A, B, 50));
    sim.link(A, B, { loss: 1 });
    sim.run({ until: 100 });
    expect(b.received).toEqual([]);
    sim.setLink(A, B, { loss: 0 });
    (sim.host('a') as ScriptedHost).send({ source: A, destination: B, bytes: packetBytes([dataChunk(7)]) });
    sim.poke('a');
    sim.run({ until: 200 });
    expect(b.received.map(tsnOf)).toEqual([7]);
  });

  it('duplicates: every copy is delivered and counted', () => {
    const { sim, b } = pair(11, dataScript(A, B, 2000));
    sim.link(A, B, { delay: 2, duplicate: 0.25 });
    sim.run({ untilIdle: true, maxTime: 10_000 });
    const s = sim.linkStats(A, B);
    expect(s.duplicated).toBeGreaterThan(400);
    expect(s.duplicated).toBeLessThan(600);
    expect(b.received.length).toBe(2000 + s.duplicated);
    expect(s.delivered).toBe(2000 + s.duplicated);
    expect(new Set(b.received.map(tsnOf)).size).toBe(2000);
    expect(sim.trace.filter((e) => e.fate === 'delivered' && e.copy === 1).length).toBe(s.duplicated);
  });

  it('reorder holds a datagram back by reorderDelay so later ones overtake it', () => {
    const { sim, b } = pair(4, dataScript(A, B, 500, { interval: 1 }));
    sim.link(A, B, { delay: 5, reorder: 0.1, reorderDelay: 20 });
    sim.run({ untilIdle: true, maxTime: 10_000 });
    const s = sim.linkStats(A, B);
    expect(s.reordered).toBeGreaterThan(25);
    expect(s.reordered).toBeLessThan(80);
    const order = b.received.map(tsnOf);
    expect([...order].sort((x, y) => x - y)).toEqual([...Array(500).keys()]);
    expect(order).not.toEqual([...Array(500).keys()]);
    // Sent at t = tsn: in-order ones take `delay`, held-back ones `delay + reorderDelay`.
    const latencies = b.received.map((r) => r.time - tsnOf(r));
    expect(latencies.filter((l) => l !== 5 && l !== 25)).toEqual([]);
    expect(latencies.filter((l) => l === 25).length).toBe(s.reordered);
  });
});

describe('MTU', () => {
  it('counts the IP header: 1480 B of SCTP fits IPv4 mtu 1500, 1484 B does not', () => {
    const small = packetBytes([dataChunk(1, 1480 - 12 - 16)]);
    const big = packetBytes([dataChunk(2, 1484 - 12 - 16)]);
    expect([small.length, big.length]).toEqual([1480, 1484]);
    const { sim, b } = pair(1, [
      { at: 0, datagram: { source: A, destination: B, bytes: small } },
      { at: 1, datagram: { source: A, destination: B, bytes: big } },
    ]);
    sim.link(A, B, { mtu: 1500 });
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received.map(tsnOf)).toEqual([1]);
    expect(sim.linkStats(A, B).tooBig).toBe(1);
    expect(sim.trace.find((e) => e.reason === 'too-big')?.note).toBe('1504B > mtu 1500');
  });

  it('IPv6 has 40 bytes of header', () => {
    const sim = createSimulation({ seed: 1 });
    const bytes = packetBytes([dataChunk(1, 1460 - 12 - 16)]);
    const b = new ScriptedHost();
    sim.addNode('a', ['2001:db8::1'], new ScriptedHost([{ at: 0, datagram: { source: '2001:db8::1', destination: '2001:db8::2', bytes } }]));
    sim.addNode('b', ['2001:db8::2'], b);
    sim.link('2001:db8::1', '2001:db8::2', { mtu: 1499 });
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received).toEqual([]);
    sim.setLink('2001:db8::1', '2001:db8::2', { mtu: 1500 });
    (sim.host('a') as ScriptedHost).send({ source: '2001:db8::1', destination: '2001:db8::2', bytes });
    sim.poke('a');
    sim.run({ untilIdle: true, maxTime: 200 });
    expect(b.received.length).toBe(1);
  });

  it("tooBig: 'report' tells the sender after the link delay", () => {
    const big = packetBytes([dataChunk(2, 1400)]);
    const { sim, a, b } = pair(1, [{ at: 3, datagram: { source: A, destination: B, bytes: big } }]);
    sim.link(A, B, { delay: 4, mtu: 1280, tooBig: 'report' });
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received).toEqual([]);
    expect(a.tooBig.map((t) => [t.time, t.report.mtu, t.report.destination, t.report.bytes.length])).toEqual([[7, 1280, B, big.length]]);
    expect(sim.trace.map((e) => e.fate)).toEqual(['sent', 'dropped', 'reported']);
  });
});

describe('link up and down', () => {
  it('a cut path drops what is sent and what is in flight; restoring it resumes delivery', () => {
    const { sim, b } = pair(1, dataScript(A, B, 30, { interval: 10 }));
    sim.link(A, B, { delay: 15 });
    sim.at(100, (s) => s.setLink(A, B, { up: false }), 'cut');
    sim.at(200, (s) => s.setLink(A, B, { up: true }), 'restore');
    sim.run({ untilIdle: true, maxTime: 1000 });
    // Sent at 0..80 arrive by 95; 90 is in flight at the cut; 100..190 are sent while down; 200.. pass.
    const got = b.received.map(tsnOf);
    expect(got).toEqual([...[...Array(9).keys()], ...Array.from({ length: 10 }, (_, i) => 20 + i)]);
    const s = sim.linkStats(A, B);
    expect(s.linkDown).toBe(11);
    expect(sim.trace.filter((e) => e.note === 'cut while in flight').map((e) => e.time)).toEqual([105]);
  });

  it('setNodeLinks partitions every address pair of two multihomed nodes', () => {
    const sim = createSimulation({ seed: 1 });
    const b = new ScriptedHost();
    const script = [
      ...dataScript('10.0.0.1', '10.0.0.2', 1, { at: 0, tsn: 1 }),
      ...dataScript('10.1.0.1', '10.1.0.2', 1, { at: 0, tsn: 2 }),
      ...dataScript('10.0.0.1', '10.1.0.2', 1, { at: 0, tsn: 3 }),
      ...dataScript('10.1.0.1', '10.1.0.2', 1, { at: 50, tsn: 4 }),
    ];
    sim.addNode('a', ['10.0.0.1', '10.1.0.1'], new ScriptedHost(script));
    sim.addNode('b', ['10.0.0.2', '10.1.0.2'], b);
    sim.setNodeLinks('a', 'b', { up: false });
    sim.at(40, (s) => s.setNodeLinks('a', 'b', { up: true }));
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received.map(tsnOf)).toEqual([4]);
    expect(sim.dropCounts()['link-down']).toBe(3);
  });
});

describe('bandwidth', () => {
  it('serializes datagrams back to back and drops beyond the queue limit', () => {
    // 100 B datagrams + 20 B IPv4 header at 12 B/ms: 10 ms each.
    const script = dataScript(A, B, 5, { interval: 0, size: 100 - 12 - 16 });
    const { sim, b } = pair(1, script);
    sim.link(A, B, { delay: 1, bandwidth: 12, queueLimit: 400 });
    sim.run({ untilIdle: true, maxTime: 1000 });
    expect(b.received.map((r) => r.time)).toEqual([11, 21, 31]);
    expect(sim.linkStats(A, B).queueFull).toBe(2);
  });
});

describe('routing', () => {
  it('a datagram to an address nobody owns is a counted no-route drop', () => {
    const { sim } = pair(1, dataScript(A, '10.9.9.9', 2));
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(sim.dropCounts()['no-route']).toBe(2);
  });

  it('strict routing refuses address pairs without a link', () => {
    const sim = createSimulation({ seed: 1, defaultLink: null });
    const b = new ScriptedHost();
    sim.addNode('a', [A, '10.0.1.1'], new ScriptedHost([...dataScript(A, B, 1, { tsn: 1 }), ...dataScript('10.0.1.1', B, 1, { tsn: 2 })]));
    sim.addNode('b', [B], b);
    sim.link(A, B, { delay: 2 });
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received.map(tsnOf)).toEqual([1]);
    expect(sim.trace.find((e) => e.reason === 'no-route')?.note).toBe('no link (strict routing)');
  });

  it('the default link applies to unconfigured pairs', () => {
    const sim = createSimulation({ seed: 1, defaultLink: { delay: 25 } });
    const b = new ScriptedHost();
    sim.addNode('a', [A], new ScriptedHost(dataScript(A, B, 1)));
    sim.addNode('b', [B], b);
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received.map((r) => r.time)).toEqual([25]);
    expect(sim.linkStats(A, B).delivered).toBe(1);
  });

  it('a node sending from an address it does not own is dropped as foreign-source', () => {
    const { sim, b } = pair(1, dataScript('10.0.0.99', B, 1));
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received).toEqual([]);
    expect(sim.dropCounts()['foreign-source']).toBe(1);
  });

  it('canonicalizes IPv6 text so any spelling reaches the node', () => {
    const sim = createSimulation({ seed: 1 });
    const b = new ScriptedHost();
    sim.addNode('a', ['2001:DB8:0:0::1'], new ScriptedHost(dataScript('2001:db8::1', '2001:0db8::0002', 1)));
    sim.addNode('b', ['2001:db8::2'], b);
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received.map((r) => r.datagram.destination)).toEqual(['2001:db8::2']);
  });

  it('inject sends from outside any node', () => {
    const { sim, b } = pair(1, []);
    sim.inject({ source: '192.0.2.7', destination: B, bytes: packetBytes([dataChunk(9)]) });
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received.map(tsnOf)).toEqual([9]);
    expect(b.received[0]!.datagram.source).toBe('192.0.2.7');
    expect(decodePacket(b.received[0]!.datagram.bytes).ok).toBe(true);
  });

  it('rejects bad settings and addresses with clear errors', () => {
    const sim = createSimulation({ seed: 1 });
    expect(() => sim.link(A, B, { loss: 2 })).toThrow(/loss must be a probability/);
    expect(() => sim.link(A, 'nope', {})).toThrow(/not an IPv4 or IPv6 address/);
    expect(() => sim.link(A, '::1', {})).toThrow(/different families/);
    sim.addNode('a', [A], new ScriptedHost());
    expect(() => sim.addNode('c', [A], new ScriptedHost())).toThrow(/already belongs to node "a"/);
    expect(() => sim.killNode('zz')).toThrow(/no node "zz"/);
  });
});
