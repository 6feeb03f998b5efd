// The send queue takes messages off a stream by index and drops taken ones in
// batches (Array.shift is O(n) on big lists): order, round robin, expiry and
// the listing of waiting messages must not notice.
import { describe, expect, it } from 'vitest';
import { createSendQueue, enqueue, expireUnsent, produceChunk, queuedMessages, windowCutsPacket, queueFillsPacket } from '../../../src/core/tx/index.js';

const msg = (streamId: number, n: number, lifetime?: number) => ({
  streamId,
  ppid: n,
  unordered: false,
  data: new Uint8Array([n & 0xff, (n >> 8) & 0xff, n >> 16]),
  ...(lifetime !== undefined && { lifetime }),
});

describe('send queue heads', () => {
  it('keeps order per stream and round robin across streams over many compactions', () => {
    const q = createSendQueue(3, { maxMessageSize: 100, sendBufferSize: 1 << 30 });
    for (let i = 0; i < 5000; i++) expect(enqueue(q, msg(i % 3 === 2 ? 1 : 0, i), 0).ok).toBe(true);
    const out: number[] = [];
    for (let i = 0; i < 2000; i++) out.push(produceChunk(q, 100, 0).chunk!.ppid);
    // Waiting messages: the 3000 not yet taken, per stream in order.
    const waiting = [...queuedMessages(q)].map((m) => m.ppid);
    expect(waiting.length).toBe(3000);
    for (let i = 2000; i < 5000; i++) out.push(produceChunk(q, 100, 0).chunk!.ppid);
    expect(produceChunk(q, 100, 0).chunk).toBeUndefined();
    // Round robin between streams 0 and 1, each in its own order.
    const s0 = out.filter((p) => p % 3 !== 2);
    const s1 = out.filter((p) => p % 3 === 2);
    expect(s0).toEqual([...s0].sort((a, b) => a - b));
    expect(s1).toEqual([...s1].sort((a, b) => a - b));
    expect(out.slice(0, 4)).toEqual([0, 2, 1, 5]);
    expect(new Set(out).size).toBe(5000);
    expect(q.streams.size).toBe(0);
    expect(q.streamHeads.size).toBe(0);
    expect(q.bufferedAmount).toBe(0);
  });

  it('expires, lists and dry-runs only the waiting messages', () => {
    const q = createSendQueue(1, { maxMessageSize: 2000, sendBufferSize: 1 << 30 });
    for (let i = 0; i < 100; i++) enqueue(q, msg(0, i, i >= 90 ? 10 : undefined), 0);
    for (let i = 0; i < 80; i++) produceChunk(q, 100, 0);
    // The first 64 taken were dropped from the list; 16 more taken since.
    expect(q.streams.get(0)!.length).toBe(36);
    expect(q.streamHeads.get(0)).toBe(16);
    expect([...queuedMessages(q)].map((m) => m.ppid)).toEqual(Array.from({ length: 20 }, (_, i) => 80 + i));
    // 20 waiting messages of 3 bytes: 20 bytes each on the wire.
    expect(queueFillsPacket(q, 400, 1000)).toBe(false);
    expect(queueFillsPacket(q, 399, 1000)).toBe(true);
    expect(windowCutsPacket(q, 1000, 1000, 1000, 30)).toBe('rwnd');
    const failed = expireUnsent(q, 10);
    expect(failed.map((f) => f.ppid)).toEqual(Array.from({ length: 10 }, (_, i) => 90 + i));
    expect([...queuedMessages(q)].map((m) => m.ppid)).toEqual(Array.from({ length: 10 }, (_, i) => 80 + i));
    expect(q.bufferedAmount).toBe(30);
    expect(produceChunk(q, 100, 10).chunk!.ppid).toBe(80);
  });
});
