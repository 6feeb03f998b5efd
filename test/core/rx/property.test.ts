/**
 * Property: whatever the order, duplication and packetization of the DATA (or
 * I-DATA) chunks, with a sender that retransmits what the last SACK did not
 * acknowledge, every message is delivered exactly once, intact, and each
 * ordered stream in order; a SACK never acknowledges a TSN that was not
 * accepted; nothing stays buffered at the end.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SeededRng } from '../../../src/core/env.js';
import { add16, add32, diff32, lte32 } from '../../../src/wire/serial.js';
import type { DataChunk, IDataChunk, SackChunk } from '../../../src/wire/types.js';
import * as tracker from '../../../src/core/rx/data-tracker.js';
import { bufferedBytes, createReassembly, onDataChunk, pollMessage, type ReceivedMessage } from '../../../src/core/rx/reassembly.js';

const STREAMS = 4;

/** Tracker outcomes over all runs: the properties must have exercised every path. */
const tally = new Map<string, number>();

interface Msg {
  readonly streamId: number;
  readonly unordered: boolean;
  readonly data: Uint8Array;
  readonly fragSize: number;
}

const msgArb = fc.record({
  streamId: fc.integer({ min: 0, max: STREAMS - 1 }),
  unordered: fc.boolean(),
  size: fc.integer({ min: 1, max: 3000 }),
  fragSize: fc.integer({ min: 1, max: 1200 }),
});

function makeMessages(specs: readonly { streamId: number; unordered: boolean; size: number; fragSize: number }[], rng: SeededRng): Msg[] {
  return specs.map((s) => {
    const data = new Uint8Array(s.size);
    rng.fill(data);
    // At most 16 fragments per message keeps a run small.
    return { streamId: s.streamId, unordered: s.unordered, data, fragSize: Math.max(s.fragSize, Math.ceil(s.size / 16)) };
  });
}

function pieces(m: Msg): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < m.data.length; off += m.fragSize) out.push(m.data.subarray(off, off + m.fragSize));
  return out;
}

/** DATA: each message on consecutive TSNs (RFC 9260 §6.9), SSN per ordered stream. */
function dataChunks(msgs: readonly Msg[], initialTsn: number): { chunks: DataChunk[]; firstTsn: number[] } {
  const ssn = new Array<number>(STREAMS).fill(0);
  const chunks: DataChunk[] = [];
  const firstTsn: number[] = [];
  let tsn = initialTsn;
  msgs.forEach((m, id) => {
    const parts = pieces(m);
    const s = m.unordered ? 0 : (ssn[m.streamId] ?? 0);
    if (!m.unordered) ssn[m.streamId] = add16(s, 1);
    firstTsn.push(tsn);
    parts.forEach((p, i) => {
      chunks.push({
        kind: 'data', tsn, streamId: m.streamId, ssn: s, ppid: id, userData: p, unordered: m.unordered,
        beginning: i === 0, ending: i === parts.length - 1, immediate: false,
      });
      tsn = add32(tsn, 1);
    });
  });
  return { chunks, firstTsn };
}

/** I-DATA: fragments of different messages interleaved in TSN order, MID per stream and ordering. */
function idataChunks(msgs: readonly Msg[], initialTsn: number, rng: SeededRng): { chunks: IDataChunk[]; firstTsn: number[] } {
  const mids = new Map<string, number>();
  const queues = msgs.map((m, id) => {
    const key = `${m.streamId}/${m.unordered}`;
    const mid = mids.get(key) ?? 0;
    mids.set(key, add32(mid, 1));
    const parts = pieces(m);
    return parts.map((p, fsn): Omit<IDataChunk, 'tsn'> => ({
      kind: 'idata', streamId: m.streamId, mid, ppid: fsn === 0 ? id : 0, fsn, userData: p, unordered: m.unordered,
      beginning: fsn === 0, ending: fsn === parts.length - 1, immediate: false,
    }));
  });
  const chunks: IDataChunk[] = [];
  const firstTsn = new Array<number>(msgs.length).fill(0);
  let tsn = initialTsn;
  const active = queues.map((_, i) => i);
  while (active.length > 0) {
    const pick = rng.nextU32() % active.length;
    const id = active[pick] ?? 0;
    const q = queues[id] ?? [];
    const next = q.shift();
    if (next === undefined) {
      active.splice(pick, 1);
      continue;
    }
    if (next.beginning) firstTsn[id] = tsn;
    chunks.push({ ...next, tsn });
    tsn = add32(tsn, 1);
  }
  return { chunks, firstTsn };
}

function acks(sack: SackChunk, tsn: number): boolean {
  if (lte32(tsn, sack.cumulativeTsnAck)) return true;
  const off = diff32(sack.cumulativeTsnAck, tsn);
  return sack.gapBlocks.some((b) => off >= b.start && off <= b.end);
}

function shuffle<T>(a: T[], rng: SeededRng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.nextU32() % (i + 1);
    const x = a[i] as T;
    a[i] = a[j] as T;
    a[j] = x;
  }
}

interface Setup {
  readonly interleaving: boolean;
  readonly receiveWindow: number;
  readonly maxGapRanges: number;
}

/** Runs rounds of "send what the last SACK did not ack, shuffled, with duplicates" until everything is acked. */
function exchange(chunks: readonly (DataChunk | IDataChunk)[], initialTsn: number, rng: SeededRng, setup: Setup): ReceivedMessage[] {
  const t = tracker.createDataTracker(initialTsn, { maxGapRanges: setup.maxGapRanges });
  const r = createReassembly(STREAMS, { interleaving: setup.interleaving });
  const accepted = new Set<number>();
  const delivered: ReceivedMessage[] = [];
  let sack = tracker.buildSack(t, 0);
  const sendSack = (): void => {
    sack = tracker.buildSack(t, setup.receiveWindow - bufferedBytes(r), 8);
    for (const c of chunks) if (acks(sack, c.tsn)) expect(accepted.has(c.tsn)).toBe(true);
    tracker.onSackSent(t);
  };
  for (let round = 0; round < 2000; round++) {
    const pool = chunks.filter((c) => !acks(sack, c.tsn));
    if (pool.length === 0) break;
    const dups = rng.nextU32() % (1 + Math.floor(chunks.length / 3));
    for (let i = 0; i < dups; i++) pool.push(chunks[rng.nextU32() % chunks.length] as DataChunk | IDataChunk);
    shuffle(pool, rng);
    for (let i = 0; i < pool.length; ) {
      const n = 1 + (rng.nextU32() % 4);
      for (const c of pool.slice(i, i + n)) {
        const o = tracker.onData(t, c.tsn, { immediate: false, bufferedBytes: bufferedBytes(r), receiveWindow: setup.receiveWindow });
        tally.set(o, (tally.get(o) ?? 0) + 1);
        if (o === 'new') {
          accepted.add(c.tsn);
          expect(onDataChunk(r, c).kind).toBe('accepted');
        }
      }
      i += n;
      if (tracker.onPacketEnd(t, { sackFrequency: 2, sackDelay: 200 }) === 'send-now') sendSack();
      for (let m = pollMessage(r); m !== undefined; m = pollMessage(r)) delivered.push(m);
    }
    // The delayed-SACK timer fires before the sender's retransmission.
    sendSack();
  }
  const last = chunks[chunks.length - 1];
  expect(last === undefined || sack.cumulativeTsnAck === last.tsn).toBe(true);
  expect(t.gapRanges).toEqual([]);
  expect(bufferedBytes(r)).toBe(0);
  return delivered;
}

function check(msgs: readonly Msg[], firstTsn: readonly number[], delivered: readonly ReceivedMessage[]): void {
  expect(delivered).toHaveLength(msgs.length);
  const byFirst = new Map(firstTsn.map((tsn, id) => [tsn, id]));
  const seen = new Set<number>();
  const lastOrdered = new Array<number>(STREAMS).fill(-1);
  for (const m of delivered) {
    const id = byFirst.get(m.tsns[0]);
    expect(id).toBeDefined();
    if (id === undefined) return;
    expect(seen.has(id)).toBe(false);
    seen.add(id);
    const sent = msgs[id];
    expect(m.ppid).toBe(id);
    expect(m.streamId).toBe(sent?.streamId);
    expect(m.unordered).toBe(sent?.unordered);
    expect(Buffer.from(m.data).equals(Buffer.from(sent?.data ?? new Uint8Array()))).toBe(true);
    if (!m.unordered) {
      expect(id).toBeGreaterThan(lastOrdered[m.streamId] ?? -1);
      lastOrdered[m.streamId] = id;
    }
  }
}

const initialTsnArb = fc.oneof(fc.constant(0xffff_fff0), fc.constant(0), fc.integer({ min: 0, max: 0xffff_ffff }));

describe('receive side: property', () => {
  it('DATA: exactly once, in order per ordered stream, intact', () => {
    fc.assert(
      fc.property(
        fc.array(msgArb, { minLength: 1, maxLength: 30 }),
        initialTsnArb,
        fc.integer(),
        fc.constantFrom(2, 8, 256),
        fc.constantFrom(4000, 1 << 20),
        (specs, initialTsn, seed, maxGapRanges, receiveWindow) => {
          const rng = new SeededRng(seed);
          const msgs = makeMessages(specs, rng);
          const { chunks, firstTsn } = dataChunks(msgs, initialTsn);
          check(msgs, firstTsn, exchange(chunks, initialTsn, rng, { interleaving: false, receiveWindow, maxGapRanges }));
        },
      ),
      { numRuns: 150 },
    );
    for (const o of ['new', 'duplicate', 'dropped-no-room', 'dropped-window-full']) expect(tally.get(o) ?? 0).toBeGreaterThan(0);
  });

  it('I-DATA: exactly once, in order per ordered stream, intact', () => {
    fc.assert(
      fc.property(
        fc.array(msgArb, { minLength: 1, maxLength: 30 }),
        initialTsnArb,
        fc.integer(),
        fc.constantFrom(2, 8, 256),
        (specs, initialTsn, seed, maxGapRanges) => {
          const rng = new SeededRng(seed);
          const msgs = makeMessages(specs, rng);
          const { chunks, firstTsn } = idataChunks(msgs, initialTsn, rng);
          check(msgs, firstTsn, exchange(chunks, initialTsn, rng, { interleaving: true, receiveWindow: 1 << 20, maxGapRanges }));
        },
      ),
      { numRuns: 150 },
    );
  });
});
