// RFC 9260 §6.1-§6.2, §6.5-§6.9, RFC 7053: data transfer and SACK timing.
import { describe, expect, it } from 'vitest';
import { add32 } from '../../../src/wire/serial.js';
import type { Chunk, DataChunk } from '../../../src/wire/types.js';
import { A, B, PORT_A, PORT_B, Pair, chunksOf, deliver, drain, endpoint, established, events, kinds, messages, only, text } from './helpers.js';

function setup(config = {}) {
  const x = established(config);
  const s = x.b.snapshot(x.idB)!;
  if (s.fsm.state !== 'established') throw new Error('not established');
  const tsn0 = s.fsm.tcb.peerInitialTsn;
  const vtag = s.fsm.tcb.localTag;
  const dataAt = (now: number, chunks: Chunk[]) => {
    deliver(x.b, now, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: vtag, chunks });
    return drain(x.b, now);
  };
  const d = (i: number, over: Partial<DataChunk> = {}): DataChunk => ({
    kind: 'data',
    tsn: add32(tsn0, i),
    streamId: 0,
    ssn: i,
    ppid: 7,
    userData: text(`m${i}`),
    unordered: false,
    beginning: true,
    ending: true,
    immediate: false,
    ...over,
  });
  return { ...x, tsn0, dataAt, d };
}

describe('SACK timing (§6.2)', () => {
  it('the first DATA is acknowledged at once, then every second packet, else after sackDelay', () => {
    const { b, tsn0, dataAt, d } = setup();
    expect(kinds(dataAt(10, [d(0)]))).toEqual([['sack']]); // §5.1: first DATA at once
    expect(dataAt(11, [d(1)])).toEqual([]); // delayed
    expect(b.pollTimeout()).toBe(11 + 200);
    const second = dataAt(12, [d(2)]);
    expect(only(second, 'sack')).toMatchObject({ cumulativeTsnAck: add32(tsn0, 2), gapBlocks: [], duplicateTsns: [] });
    expect(dataAt(13, [d(3)])).toEqual([]);
    b.handleTimeout(213);
    expect(only(drain(b, 213), 'sack').cumulativeTsnAck).toBe(add32(tsn0, 3));
    expect(messages(events(b)).map((m) => m.data)).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('a gap, a duplicate and the I bit each get an immediate SACK (§6.7, §6.2, RFC 7053)', () => {
    const { tsn0, dataAt, d } = setup();
    dataAt(10, [d(0)]);
    const gap = only(dataAt(11, [d(2)]), 'sack');
    expect(gap).toMatchObject({ cumulativeTsnAck: tsn0, gapBlocks: [{ start: 2, end: 2 }] });
    const dup = only(dataAt(12, [d(0)]), 'sack');
    expect(dup.duplicateTsns).toEqual([tsn0]);
    dataAt(13, [d(1)]); // fills the gap: immediate too
    expect(kinds(dataAt(14, [d(3, { immediate: true })]))).toEqual([['sack']]);
  });

  it('a DATA chunk without user data → ABORT No User Data (§6.2)', () => {
    const { b, tsn0, dataAt, d } = setup();
    const out = dataAt(10, [d(0, { userData: new Uint8Array(0) })]);
    expect(only(out, 'abort').causes).toEqual([{ kind: 'no-user-data', tsn: tsn0 }]);
    expect(events(b).map((e) => e.event.type)).toContain('communication-lost');
  });

  it('an invalid stream → ERROR Invalid Stream Identifier, the TSN is still acknowledged (§6.5)', () => {
    const { dataAt, d, tsn0 } = setup();
    const out = dataAt(10, [d(0, { streamId: 500 })]);
    expect(only(out, 'error').causes).toEqual([{ kind: 'invalid-stream-identifier', streamId: 500 }]);
    expect(only(out, 'sack').cumulativeTsnAck).toBe(tsn0);
  });
});

describe('sending (§6.1, §6.9)', () => {
  it('fragments a large message within the path MTU and reassembles it; ordered and unordered', () => {
    const { pair, a, idA } = setup();
    const big = new Uint8Array(5000).map((_, i) => i & 0xff);
    expect(a.send(10, idA, big, { streamId: 1, ppid: 3 }).ok).toBe(true);
    expect(a.send(10, idA, text('u'), { streamId: 2, ppid: 3, unordered: true }).ok).toBe(true);
    pair.pump(10);
    const dataSent = pair.log.filter((l) => l.from === 'a').map((l) => l.sent);
    const chunks = chunksOf(dataSent, 'data');
    expect(chunks.length).toBe(5);
    for (const c of chunks.slice(0, 4)) expect(c.userData.length).toBeLessThanOrEqual(1500 - 20 - 12 - 16);
    expect(chunks.map((c) => [c.beginning, c.ending])).toEqual([
      [true, false],
      [false, false],
      [false, false],
      [false, true],
      [true, true],
    ]);
    expect(chunks[4]!.unordered).toBe(true);
    const got = pair.evB.flatMap((e) => (e.event.type === 'message' ? [e.event] : []));
    expect(got.map((m) => [m.streamId, m.data.length, m.unordered])).toEqual([
      [1, 5000, false],
      [2, 1, true],
    ]);
    expect(got[0]!.data).toEqual(big);
    pair.runTo(10, 1000); // the delayed SACK for the last packet
    expect(pair.evA.map((e) => e.event.type)).toContain('sender-dry');
  });

  it('reports back-pressure as queue-full and other send errors as typed values', () => {
    const { a, idA } = setup({ sendBufferSize: 2000 });
    expect(a.send(10, idA, new Uint8Array(1500), { streamId: 0, ppid: 0 }).ok).toBe(true); // goes out at once
    expect(a.send(10, idA, new Uint8Array(1500), { streamId: 0, ppid: 0 }).ok).toBe(true);
    // The window of cwnd (4380) takes the first three; then the queue fills.
    const results = [];
    for (let i = 0; i < 6; i++) results.push(a.send(10, idA, new Uint8Array(1500), { streamId: 0, ppid: 0 }));
    expect(results.some((r) => !r.ok && r.error.kind === 'queue-full')).toBe(true);
    expect(a.send(10, idA, new Uint8Array(10), { streamId: 99, ppid: 0 })).toMatchObject({ ok: false, error: { kind: 'invalid-stream' } });
    expect(a.send(10, idA, new Uint8Array(0), { streamId: 0, ppid: 0 })).toMatchObject({ ok: false, error: { kind: 'empty-message' } });
    expect(a.send(10, 999, new Uint8Array(1), { streamId: 0, ppid: 0 })).toMatchObject({ ok: false, error: { kind: 'no-such-association' } });
  });

  it('piggybacks a delayed SACK on outgoing DATA (§6.2)', () => {
    const { b, idB, dataAt, d } = setup();
    dataAt(10, [d(0)]);
    expect(dataAt(11, [d(1)])).toEqual([]);
    b.send(12, idB, text('reply'), { streamId: 0, ppid: 0 });
    expect(kinds(drain(b, 12))).toEqual([['sack', 'data']]);
  });

  it('messages queued in COOKIE-WAIT go out once the association is up', () => {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2);
    const pair = new Pair(a, b);
    const r = a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    if (!r.ok) throw new Error('connect');
    expect(a.send(0, r.assocId, text('early'), { streamId: 0, ppid: 1 })).toEqual({ ok: true, messageId: 0 });
    pair.pump(0);
    expect(messages(pair.evB).map((m) => m.data)).toEqual(['early']);
  });
});
