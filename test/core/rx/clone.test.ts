/**
 * The receive-side state is plain data (DESIGN.md §3): a structuredClone taken
 * mid-stream continues exactly like the original (what replication relies on).
 */
import { describe, it, expect } from 'vitest';
import { SeededRng } from '../../../src/core/env.js';
import type { DataChunk, SackChunk } from '../../../src/wire/types.js';
import * as tracker from '../../../src/core/rx/data-tracker.js';
import { bufferedBytes, createReassembly, onDataChunk, onForwardTsn, pollMessage, type Reassembly, type ReceivedMessage } from '../../../src/core/rx/reassembly.js';
import { data } from './chunks.js';

interface Rx {
  t: tracker.DataTracker;
  r: Reassembly;
}
type Output = { sack: SackChunk } | { message: ReceivedMessage } | { decision: string };

function feed(rx: Rx, packets: readonly DataChunk[][]): Output[] {
  const out: Output[] = [];
  for (const p of packets) {
    for (const c of p) {
      if (tracker.onData(rx.t, c.tsn, { immediate: c.immediate, bufferedBytes: bufferedBytes(rx.r), receiveWindow: 6000 }) === 'new') {
        onDataChunk(rx.r, c);
      }
    }
    const decision = tracker.onPacketEnd(rx.t, { sackFrequency: 2, sackDelay: 200 });
    out.push({ decision });
    if (decision === 'send-now') {
      out.push({ sack: tracker.buildSack(rx.t, 6000 - bufferedBytes(rx.r), 4) });
      tracker.onSackSent(rx.t);
    }
    // The application reads every other packet.
    if (out.length % 2 === 0) for (let m = pollMessage(rx.r); m !== undefined; m = pollMessage(rx.r)) out.push({ message: m });
  }
  return out;
}

function script(seed: number): DataChunk[][] {
  const rng = new SeededRng(seed);
  const chunks: DataChunk[] = [];
  const ssn = [0, 0, 0];
  let tsn = 0xffff_ffe0;
  for (let i = 0; i < 60; i++) {
    const streamId = rng.nextU32() % 3;
    const unordered = rng.nextU32() % 4 === 0;
    const frags = 1 + (rng.nextU32() % 4);
    const s = ssn[streamId] ?? 0;
    if (!unordered) ssn[streamId] = (s + 1) & 0xffff;
    for (let f = 0; f < frags; f++) {
      const bytes = new Uint8Array(1 + (rng.nextU32() % 300));
      rng.fill(bytes);
      chunks.push(data(tsn, { streamId, ssn: s, unordered, beginning: f === 0, ending: f === frags - 1, data: bytes, immediate: rng.nextU32() % 10 === 0 }));
      tsn = (tsn + 1) >>> 0;
    }
  }
  // Shuffle locally (reordering within a window of 8) and duplicate some.
  for (let i = 0; i < chunks.length; i++) {
    const j = Math.min(chunks.length - 1, i + (rng.nextU32() % 8));
    const a = chunks[i] as DataChunk;
    chunks[i] = chunks[j] as DataChunk;
    chunks[j] = a;
  }
  const packets: DataChunk[][] = [];
  for (let i = 0; i < chunks.length; ) {
    const n = 1 + (rng.nextU32() % 3);
    const p = chunks.slice(i, i + n);
    if (rng.nextU32() % 5 === 0 && p[0]) p.push(p[0]);
    packets.push(p);
    i += n;
  }
  return packets;
}

describe('receive side: structuredClone continues identically', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}`, () => {
      const packets = script(seed);
      const half = Math.floor(packets.length / 2);
      const original: Rx = { t: tracker.createDataTracker(0xffff_ffe0), r: createReassembly(3) };
      feed(original, packets.slice(0, half));
      const copy: Rx = structuredClone(original);
      expect(copy).toEqual(original);
      const rest = packets.slice(half);
      const fwd = { kind: 'forward-tsn' as const, newCumulativeTsn: 0xffff_ffe0 + 5, streams: [{ streamId: 1, ssn: 0 }] };
      const a = feed(original, rest);
      const b = feed(copy, rest);
      expect(b).toEqual(a);
      expect(a.some((o) => 'message' in o)).toBe(true);
      for (const rx of [original, copy]) {
        tracker.onForwardTsn(rx.t, fwd.newCumulativeTsn);
        onForwardTsn(rx.r, fwd);
      }
      expect(copy).toEqual(original);
    });
  }
});
