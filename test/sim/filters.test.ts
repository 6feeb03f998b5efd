import { describe, it, expect } from 'vitest';
import { createSimulation } from '../../src/sim/simulation.js';
import { allOf, chunkIs, dataWithTsn, fromAddress, not, toAddress } from '../../src/sim/filters.js';
import { EchoHost, ReliableSender, ScriptedHost, dataChunk, packetBytes } from '../../src/sim/test-hosts.js';
import { decodePacket } from '../../src/wire/packet.js';
import { dataScript, tsnOf } from './util.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function senderPair(options: { initialTsn?: number; count?: number; handshake?: boolean } = {}) {
  const sim = createSimulation({ seed: 1 });
  const sender = new ReliableSender({
    source: A,
    destination: B,
    initialTsn: options.initialTsn ?? 1,
    count: options.count ?? 5,
    rto: 100,
    handshake: options.handshake ?? false,
  });
  const echo = new EchoHost();
  sim.addNode('a', [A], sender);
  sim.addNode('b', [B], echo);
  sim.link(A, B, { delay: 5 });
  return { sim, sender, echo };
}

describe('drop filters', () => {
  it('drops the next COOKIE ECHO; the retransmission passes', () => {
    const { sim, sender } = senderPair({ handshake: true, count: 1 });
    const f = sim.dropNext(chunkIs('cookie-echo'), { label: 'no-cookie' });
    sim.runUntil(() => sender.done, 10_000);
    expect(sender.transmissions).toEqual([
      { time: 0, what: 'cookie-echo' },
      { time: 100, what: 'cookie-echo' },
      { time: 110, what: 1 },
    ]);
    expect(f.remaining).toBe(0);
    expect(f.hits.map((h) => [h.time, h.chunk.kind])).toEqual([[0, 'cookie-echo']]);
    expect(sim.activeFilters).toEqual([]);
    expect(sim.trace.filter((e) => e.fate === 'dropped').map((e) => [e.time, e.reason, e.note])).toEqual([[0, 'filtered', 'no-cookie']]);
    expect(sim.linkStats(A, B).filtered).toBe(1);
  });

  it('drops TSN n twice, then lets it pass (across TSN wrap-around)', () => {
    const { sim, sender } = senderPair({ initialTsn: 0xfffffffe, count: 4 });
    const f = sim.dropNext(dataWithTsn(0), { count: 2 });
    sim.runUntil(() => sender.done, 10_000);
    expect(sender.transmissions.map((t) => [t.time, t.what])).toEqual([
      [0, 0xfffffffe],
      [10, 0xffffffff],
      [20, 0],
      [120, 0],
      [220, 0],
      [230, 1],
    ]);
    expect(f.hits.map((h) => h.time)).toEqual([20, 120]);
    expect(sender.acked.get(0)).toBe(230);
  });

  it('chunk mode strips the matching chunk and re-encodes with a valid checksum', () => {
    const sim = createSimulation({ seed: 1 });
    const b = new ScriptedHost();
    const bundle = packetBytes([dataChunk(1), dataChunk(2), dataChunk(3)]);
    const lone = packetBytes([dataChunk(2)]);
    sim.addNode('a', [A], new ScriptedHost([
      { at: 0, datagram: { source: A, destination: B, bytes: bundle } },
      { at: 1, datagram: { source: A, destination: B, bytes: lone } },
    ]));
    sim.addNode('b', [B], b);
    const f = sim.dropNext(dataWithTsn(2), { mode: 'chunk', count: 2, label: 'strip-2' });
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received.length).toBe(1);
    const got = decodePacket(b.received[0]!.datagram.bytes); // strict CRC32c check
    expect(got.ok && got.value.chunks.map((c) => c.kind === 'data' && c.tsn)).toEqual([1, 3]);
    expect(f.remaining).toBe(0);
    expect(sim.trace.map((e) => [e.fate, e.note ?? ''])).toEqual([
      ['sent', ''],
      ['trimmed', 'strip-2 stripped 1 chunk(s)'],
      ['delivered', ''],
      ['sent', ''],
      ['dropped', 'strip-2'],
    ]);
  });

  it('direction narrows a filter by node name or address; predicates compose', () => {
    const { sim, sender, echo } = senderPair({ count: 3 });
    // SACKs travel b -> a: a filter on a -> b traffic for SACK never fires.
    const wrongWay = sim.dropNext(chunkIs('sack'), { direction: { from: 'a' } });
    const sackTo2 = sim.dropNext(allOf(chunkIs('sack'), fromAddress(B), toAddress(A), not(({ chunk }) => chunk.kind === 'sack' && chunk.cumulativeTsnAck !== 2)), {
      direction: { from: B, to: 'a' },
    });
    sim.runUntil(() => sender.done, 10_000);
    expect(wrongWay.remaining).toBe(1);
    expect(sackTo2.hits.map((h) => h.time)).toEqual([15]);
    expect(echo.received.map(tsnOf)).toEqual([1, 2, 2, 3]);
    sim.cancelFilter(wrongWay);
    expect(sim.activeFilters).toEqual([]);
  });

  it('a standing filter (count Infinity) black-holes until cancelled', () => {
    const sim = createSimulation({ seed: 1 });
    const b = new ScriptedHost();
    sim.addNode('a', [A], new ScriptedHost(dataScript(A, B, 10, { interval: 10 })));
    sim.addNode('b', [B], b);
    const f = sim.dropNext(chunkIs('data'), { count: Infinity });
    sim.at(45, (s) => s.cancelFilter(f));
    sim.run({ untilIdle: true, maxTime: 1000 });
    expect(b.received.map(tsnOf)).toEqual([5, 6, 7, 8, 9]);
    expect(f.hits.length).toBe(5);
  });

  it('undecodable datagrams are never matched', () => {
    const sim = createSimulation({ seed: 1 });
    const b = new ScriptedHost();
    sim.addNode('a', [A], new ScriptedHost([{ at: 0, datagram: { source: A, destination: B, bytes: new Uint8Array([1, 2, 3]) } }]));
    sim.addNode('b', [B], b);
    const f = sim.dropNext(() => true);
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(b.received.length).toBe(1);
    expect(f.remaining).toBe(1);
    expect(sim.formatTrace()).toContain('<undecodable 3B: truncated at 0');
  });

  it('rejects a bad count', () => {
    const sim = createSimulation({ seed: 1 });
    expect(() => sim.dropNext(() => true, { count: 0 })).toThrow(/count must be a positive integer/);
    expect(() => sim.dropNext(() => true, { count: 1.5 })).toThrow(/count must be a positive integer/);
  });
});
