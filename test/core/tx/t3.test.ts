// RFC 9260 §6.3.3 E3 (T3-rtx expiry) and §6.1 C (retransmissions first, in TSN order).
import { describe, it, expect } from 'vitest';
import { onSack, onT3RtxExpiry, outstandingChunksTo, flightSizeOf } from '../../../src/core/tx/index.js';
import { pump, sack, send, setup, states, tsns } from './fixtures.js';

describe('onT3RtxExpiry', () => {
  it('marks only the chunks in flight to that destination, gap-acked ones excepted', () => {
    const tx = setup();
    send(tx, { size: 100 });
    send(tx, { size: 100 });
    expect(tsns(pump(tx, 'A').chunks)).toEqual([1000, 1001]);
    send(tx, { size: 100 });
    expect(tsns(pump(tx, 'B').chunks)).toEqual([1002]);
    send(tx, { size: 100 });
    expect(tsns(pump(tx, 'A').chunks)).toEqual([1003]);
    onSack(tx.rq, tx.sq, sack(999, [[2, 2]]), 10);
    const o = onT3RtxExpiry(tx.rq, tx.sq, 'A', 1000);
    expect(o).toEqual({ markedTsns: [1000, 1003], lostBytes: 200, sendFailed: [], forwardTsnDue: false });
    expect(states(tx.rq)).toEqual(['1000:to-retransmit', '1001:acked', '1002:in-flight', '1003:to-retransmit']);
    expect(flightSizeOf(tx.rq, 'A')).toBe(0);
    expect(flightSizeOf(tx.rq, 'B')).toBe(100);
    // R2: A still has unacknowledged data, so its timer keeps running.
    expect(outstandingChunksTo(tx.rq, 'A')).toBe(2);
  });

  it('retransmits lowest TSN first, once per marking, before any new data, within cwnd', () => {
    const tx = setup();
    for (let i = 0; i < 4; i++) send(tx, { size: 100 });
    pump(tx, 'A');
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 1000);
    send(tx, { size: 100 });
    // No budget, no packet; with some, one packet (room for one chunk here).
    expect(pump(tx, 'B', 1000, { cwndBudget: 0 }).stoppedBy).toBe('cwnd');
    let r = pump(tx, 'B', 1000, { cwndBudget: 100, packetSpace: 116 });
    expect(tsns(r.chunks)).toEqual([1000]);
    expect(r.stoppedBy).toBe('packet-full');
    r = pump(tx, 'B', 1001, { packetSpace: 232 });
    expect(tsns(r.chunks)).toEqual([1001, 1002]);
    expect(r.retransmittedTsns).toEqual([1001, 1002]);
    expect(r.stoppedBy).toBe('packet-full');
    r = pump(tx, 'B', 1002);
    expect(tsns(r.chunks)).toEqual([1003, 1004]);
    expect(r.retransmittedTsns).toEqual([1003]);
    expect(tx.rq.counters.retransmittedChunks).toBe(4);
    expect(tx.rq.chunks.map((c) => [c.destination, c.retransmissions])).toEqual([
      ['B', 1],
      ['B', 1],
      ['B', 1],
      ['B', 1],
      ['B', 0],
    ]);
    // Nothing is marked any more: another expiry on A finds nothing.
    expect(onT3RtxExpiry(tx.rq, tx.sq, 'A', 2000).markedTsns).toEqual([]);
    expect(onT3RtxExpiry(tx.rq, tx.sq, 'B', 2000).markedTsns).toEqual([1000, 1001, 1002, 1003, 1004]);
  });

  it('works across the 2^32 wrap', () => {
    const tx = setup({ initialTsn: 0xffff_fffe });
    for (let i = 0; i < 3; i++) send(tx, { size: 10 });
    expect(tsns(pump(tx, 'A').chunks)).toEqual([0xffff_fffe, 0xffff_ffff, 0]);
    expect(onT3RtxExpiry(tx.rq, tx.sq, 'A', 1).markedTsns).toEqual([0xffff_fffe, 0xffff_ffff, 0]);
    expect(tsns(pump(tx, 'A', 2).chunks)).toEqual([0xffff_fffe, 0xffff_ffff, 0]);
  });
});
