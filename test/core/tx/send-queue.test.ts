// RFC 9260 §6.1, §6.6, §6.9, §10.1: send queue, fragmentation, round robin, lifetime before TSN.
import { describe, it, expect } from 'vitest';
import {
  createSendQueue,
  enqueue,
  expireUnsent,
  isSendQueueEmpty,
  produceChunk,
  setBufferedAmountLowThreshold,
} from '../../../src/core/tx/index.js';
import { bytes, pump, send, setup } from './fixtures.js';

describe('enqueue', () => {
  it('rejects bad input with typed errors', () => {
    const q = createSendQueue(2, { maxMessageSize: 1000, sendBufferSize: 1500 });
    const base = { ppid: 0, unordered: false };
    expect(enqueue(q, { ...base, streamId: 2, data: bytes(1) }, 0)).toEqual({ ok: false, error: { kind: 'invalid-stream', streamId: 2, outboundStreams: 2 } });
    expect(enqueue(q, { ...base, streamId: -1, data: bytes(1) }, 0)).toMatchObject({ ok: false, error: { kind: 'invalid-stream' } });
    expect(enqueue(q, { ...base, streamId: 0, data: bytes(0) }, 0)).toEqual({ ok: false, error: { kind: 'empty-message' } });
    expect(enqueue(q, { ...base, streamId: 0, data: bytes(1001) }, 0)).toEqual({ ok: false, error: { kind: 'message-too-big', size: 1001, maxMessageSize: 1000 } });
    expect(enqueue(q, { ...base, streamId: 0, data: bytes(1), maxRetransmits: -1 }, 0)).toMatchObject({ ok: false, error: { kind: 'invalid-policy' } });
    expect(enqueue(q, { ...base, streamId: 0, data: bytes(1), lifetime: -5 }, 0)).toMatchObject({ ok: false, error: { kind: 'invalid-policy' } });
    expect(q.bufferedAmount).toBe(0);
  });

  it('bounds the queue by bytes (back-pressure) but always admits into an empty queue', () => {
    const q = createSendQueue(1, { maxMessageSize: 5000, sendBufferSize: 1500 });
    expect(enqueue(q, { streamId: 0, ppid: 0, unordered: false, data: bytes(2000) }, 0)).toEqual({ ok: true, messageId: 0 });
    expect(enqueue(q, { streamId: 0, ppid: 0, unordered: false, data: bytes(1) }, 0)).toEqual({
      ok: false,
      error: { kind: 'queue-full', bufferedAmount: 2000, sendBufferSize: 1500 },
    });
    produceChunk(q, 2000, 0);
    expect(q.bufferedAmount).toBe(0);
    expect(enqueue(q, { streamId: 0, ppid: 0, unordered: false, data: bytes(1000) }, 0)).toEqual({ ok: true, messageId: 1 });
    expect(enqueue(q, { streamId: 0, ppid: 0, unordered: false, data: bytes(500) }, 0)).toEqual({ ok: true, messageId: 2 });
    expect(enqueue(q, { streamId: 0, ppid: 0, unordered: false, data: bytes(1) }, 0)).toMatchObject({ ok: false, error: { kind: 'queue-full' } });
  });
});

describe('fragmentation (§6.9)', () => {
  it('cuts a message into B/E fragments with one SSN and consecutive TSNs across the 2^32 wrap', () => {
    const tx = setup({ initialTsn: 0xffff_fffe });
    const data = new Uint8Array(250).map((_, i) => i);
    send(tx, { streamId: 1, data, ppid: 7 });
    send(tx, { streamId: 1, size: 10, immediate: true });
    const r = pump(tx, 'A', 0, { maxFragmentPayload: 100 });
    expect(r.chunks.map((c) => [c.tsn, c.streamId, c.ssn, c.beginning, c.ending, c.userData.length, c.ppid, c.immediate])).toEqual([
      [0xffff_fffe, 1, 0, true, false, 100, 7, false],
      [0xffff_ffff, 1, 0, false, false, 100, 7, false],
      [0, 1, 0, false, true, 50, 7, false],
      [1, 1, 1, true, true, 10, 51, true],
    ]);
    expect([...r.chunks[2]!.userData.slice(0, 3)]).toEqual([200, 201, 202]);
    expect(r.bytes).toBe(260);
    expect(tx.rq.nextTsn).toBe(2);
  });

  it('unordered messages carry SSN 0 and do not consume the stream SSN', () => {
    const tx = setup();
    send(tx, { streamId: 0 });
    send(tx, { streamId: 0, unordered: true });
    send(tx, { streamId: 0 });
    const r = pump(tx);
    expect(r.chunks.map((c) => [c.ssn, c.unordered])).toEqual([
      [0, false],
      [0, true],
      [1, false],
    ]);
  });

  it('SSN wraps at 2^16 per stream', () => {
    const tx = setup();
    tx.sq.nextSsn.set(2, 0xffff);
    send(tx, { streamId: 2, size: 4 });
    send(tx, { streamId: 2, size: 4 });
    expect(pump(tx).chunks.map((c) => c.ssn)).toEqual([0xffff, 0]);
  });

  it('a fragmented message is sent whole before another stream starts (DATA needs consecutive TSNs)', () => {
    const tx = setup();
    send(tx, { streamId: 0, size: 250 });
    send(tx, { streamId: 1, size: 10 });
    // One fragment per packet: the message on stream 0 must still finish first.
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      for (const c of pump(tx, 'A', 0, { maxFragmentPayload: 100, packetSpace: 116 }).chunks) order.push(`${c.streamId}:${c.beginning ? 'B' : ''}${c.ending ? 'E' : ''}`);
    }
    expect(order).toEqual(['0:B', '0:', '0:E', '1:BE']);
  });

  it('fills the packet with full-size fragments only, except when the packet is smaller than one', () => {
    const tx = setup();
    send(tx, { streamId: 0, size: 100 });
    send(tx, { streamId: 1, size: 300 });
    // 116 + 216 = 332 > 300: the 200-byte fragment does not fit after the first chunk.
    let r = pump(tx, 'A', 0, { maxFragmentPayload: 200, packetSpace: 300 });
    expect(r.chunks.map((c) => c.userData.length)).toEqual([100]);
    expect(r.stoppedBy).toBe('packet-full');
    // An empty packet smaller than a fragment gets a 4-aligned fragment that fits.
    r = pump(tx, 'A', 0, { maxFragmentPayload: 200, packetSpace: 115 });
    expect(r.chunks.map((c) => [c.userData.length, c.beginning, c.ending])).toEqual([[96, true, false]]);
    r = pump(tx, 'A', 0, { maxFragmentPayload: 200, packetSpace: 1000 });
    expect(r.chunks.map((c) => [c.tsn, c.userData.length, c.beginning, c.ending])).toEqual([
      [1002, 200, false, false],
      [1003, 4, false, true],
    ]);
  });
});

describe('round robin between streams (message granularity)', () => {
  it('serves streams in turn, one message each', () => {
    const tx = setup();
    send(tx, { streamId: 0, size: 1, ppid: 1 }); // a1
    send(tx, { streamId: 0, size: 1, ppid: 2 }); // a2
    send(tx, { streamId: 1, size: 1, ppid: 3 }); // b1
    send(tx, { streamId: 2, size: 1, ppid: 4 }); // c1
    send(tx, { streamId: 2, size: 1, ppid: 5 }); // c2
    send(tx, { streamId: 0, size: 1, ppid: 6 }); // a3
    const r = pump(tx);
    expect(r.chunks.map((c) => [c.ppid, c.streamId, c.ssn, c.tsn])).toEqual([
      [1, 0, 0, 1000],
      [3, 1, 0, 1001],
      [4, 2, 0, 1002],
      [2, 0, 1, 1003],
      [5, 2, 1, 1004],
      [6, 0, 2, 1005],
    ]);
    expect(isSendQueueEmpty(tx.sq)).toBe(true);
    expect(tx.sq.bufferedAmount).toBe(0);
  });

  it('a stream that becomes active joins the end of the rotation', () => {
    const tx = setup();
    send(tx, { streamId: 0, size: 1, ppid: 1 });
    send(tx, { streamId: 0, size: 1, ppid: 2 });
    send(tx, { streamId: 1, size: 1, ppid: 3 });
    expect(pump(tx, 'A', 0, { packetSpace: 20 }).chunks.map((c) => c.ppid)).toEqual([1]);
    send(tx, { streamId: 3, size: 1, ppid: 4 });
    expect(pump(tx).chunks.map((c) => c.ppid)).toEqual([3, 2, 4]);
  });
});

describe('lifetime before a TSN is assigned (§10.1, RFC 3758 TR3)', () => {
  it('drops expired messages without using a TSN and reports them unsent', () => {
    const tx = setup();
    send(tx, { streamId: 0, size: 10, lifetime: 50, ppid: 9 }, 100);
    send(tx, { streamId: 1, size: 20 }, 100);
    const r = pump(tx, 'A', 150);
    expect(r.sendFailed).toEqual([
      { messageId: 0, streamId: 0, ppid: 9, unordered: false, data: bytes(10), reason: 'lifetime-expired', sent: false },
    ]);
    expect(r.chunks.map((c) => [c.tsn, c.streamId, c.ssn])).toEqual([[1000, 1, 0]]);
    // The SSN was not consumed either.
    send(tx, { streamId: 0, size: 1 }, 150);
    expect(pump(tx, 'A', 150).chunks.map((c) => [c.tsn, c.ssn])).toEqual([[1001, 0]]);
  });

  it('keeps a message that has not expired yet (strictly before expiresAt)', () => {
    const tx = setup();
    send(tx, { size: 10, lifetime: 50 }, 100);
    expect(pump(tx, 'A', 149).chunks).toHaveLength(1);
  });

  it('without PR-SCTP, a message that started before expiring is sent to the end', () => {
    const tx = setup({ prSctp: false });
    send(tx, { size: 300, lifetime: 10 }, 0);
    expect(pump(tx, 'A', 0, { maxFragmentPayload: 100, packetSpace: 116 }).chunks).toHaveLength(1);
    const r = pump(tx, 'A', 50, { maxFragmentPayload: 100 });
    expect(r.chunks.map((c) => c.ending)).toEqual([false, true]);
    expect(r.sendFailed).toEqual([]);
  });

  it('expireUnsent sweeps every stream while nothing can be sent', () => {
    const tx = setup();
    send(tx, { streamId: 0, size: 5, lifetime: 10 }, 0);
    send(tx, { streamId: 1, size: 6 }, 0);
    send(tx, { streamId: 1, size: 7, lifetime: 20 }, 0);
    send(tx, { streamId: 2, size: 8, lifetime: 10 }, 0);
    const failed = expireUnsent(tx.sq, 15);
    expect(failed.map((f) => [f.messageId, f.data.length, f.sent])).toEqual([
      [0, 5, false],
      [3, 8, false],
    ]);
    expect(tx.sq.bufferedAmount).toBe(13);
    expect(tx.sq.rrOrder).toEqual([1]);
    expect(pump(tx, 'A', 15).chunks.map((c) => c.userData.length)).toEqual([6, 7]);
  });
});

describe('buffered amount low (the drain hook)', () => {
  it('fires once when the buffered amount crosses down to the threshold', () => {
    const tx = setup();
    setBufferedAmountLowThreshold(tx.sq, 150);
    send(tx, { size: 100 });
    send(tx, { size: 100 });
    send(tx, { size: 100 });
    expect(tx.sq.bufferedAmount).toBe(300);
    expect(pump(tx, 'A', 0, { packetSpace: 116 }).bufferedAmountLow).toBe(false); // 200
    expect(pump(tx, 'A', 0, { packetSpace: 116 }).bufferedAmountLow).toBe(true); // 100
    expect(pump(tx, 'A', 0, { packetSpace: 116 }).bufferedAmountLow).toBe(false); // 0, already low
  });
});
