// The send-side state is plain data (DESIGN.md §3): a structuredClone taken at
// any point continues exactly like the original.
import { describe, it, expect } from 'vitest';
import {
  enqueue,
  fastRetransmitChunks,
  nextChunksToSend,
  onSack,
  onT3RtxExpiry,
  takeForwardTsn,
  type TransmitResult,
} from '../../../src/core/tx/index.js';
import { bytes, sack, send, setup, type Tx } from './fixtures.js';

function pumpTo(tx: Tx, destination: string, now: number, packetSpace = 1200): TransmitResult {
  return nextChunksToSend(tx.rq, tx.sq, { destination, now, packetSpace, maxFragmentPayload: 300, cwndBudget: 5000, allowZeroWindowProbe: true });
}

function script(tx: Tx): unknown[] {
  return [
    onSack(tx.rq, tx.sq, sack(0xffff_fffa, [[2, 3]]), 20),
    onSack(tx.rq, tx.sq, sack(0xffff_fffa, [[2, 4]]), 21), // third miss of 0xfffffffb: Fast Recovery
    fastRetransmitChunks(tx.rq, tx.sq, { destination: 'B', now: 22, packetSpace: 1200 }),
    onT3RtxExpiry(tx.rq, tx.sq, 'B', 600), // lifetimes run out: abandonments
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 600),
    pumpTo(tx, 'A', 601),
    takeForwardTsn(tx.rq, 1200),
    onSack(tx.rq, tx.sq, sack(tx.rq.advancedPeerAckPoint, [], 30_000), 700),
    enqueue(tx.sq, { streamId: 1, ppid: 3, data: bytes(900, 7), unordered: true }, 701),
    pumpTo(tx, 'B', 702),
    pumpTo(tx, 'B', 703),
  ];
}

describe('structuredClone determinism', () => {
  it('a clone taken mid-flight continues identically', () => {
    const tx = setup({ prSctp: true, initialTsn: 0xffff_fffa, aRwnd: 20_000 });
    for (let i = 0; i < 8; i++) {
      send(tx, { streamId: i % 3, size: 200, lifetime: i % 3 === 1 ? 300 : undefined, maxRetransmits: i === 4 ? 0 : undefined }, 0);
    }
    pumpTo(tx, 'A', 1, 2000); // 0xfffffffa .. 1
    send(tx, { streamId: 2, size: 700, lifetime: 400 }, 2);
    pumpTo(tx, 'A', 3, 316); // the first fragment only: a message half produced
    onSack(tx.rq, tx.sq, sack(0xffff_fffa, [[2, 2]]), 10);
    tx.sq.bufferedAmountLowThreshold = 100;

    const copy: Tx = { sq: structuredClone(tx.sq), rq: structuredClone(tx.rq) };
    expect(copy).toEqual(tx);
    const a = script(tx);
    const b = script(copy);
    expect(b).toEqual(a);
    expect(copy).toEqual(tx);
    // The script did walk the interesting paths.
    expect(tx.rq.counters.fastRetransmittedChunks).toBe(1);
    expect(tx.rq.counters.abandonedChunks).toBeGreaterThan(0);
    expect(a[6]).toMatchObject({ kind: 'forward-tsn' });
  });
});
