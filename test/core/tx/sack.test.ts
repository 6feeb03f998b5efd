// RFC 9260 §6.2.1 (SACK processing), §6.3.1 C5 (Karn), §6.3.2 R2-R4, §7.2.4 (HTNA, fast retransmit, Fast Recovery).
import { describe, it, expect } from 'vitest';
import { checkInvariants, fastRetransmitChunks, onSack, onT3RtxExpiry, type SackOutcome, type SackProcessed } from '../../../src/core/tx/index.js';
import { pump, sack, send, setup, states, tsns, type Tx } from './fixtures.js';

function processed(o: SackOutcome): SackProcessed {
  if (o.kind !== 'processed') throw new Error(`expected processed, got ${JSON.stringify(o)}`);
  return o;
}

function sendN(tx: Tx, n: number, destination = 'A', now = 0, size = 100): number[] {
  for (let i = 0; i < n; i++) send(tx, { streamId: 0, size }, now);
  return tsns(pump(tx, destination, now, { packetSpace: 100_000 }).chunks);
}

function apply(tx: Tx, s: ReturnType<typeof sack>, now = 0): SackProcessed {
  const o = processed(onSack(tx.rq, tx.sq, s, now));
  expect(checkInvariants(tx.rq)).toEqual([]);
  return o;
}

describe('cumulative acknowledgement', () => {
  it('acks across the 2^32 wrap and reports per-destination bytes, R3 and an RTT sample', () => {
    const tx = setup({ initialTsn: 0xffff_fffe });
    expect(sendN(tx, 4, 'A', 10)).toEqual([0xffff_fffe, 0xffff_ffff, 0, 1]);
    const o = apply(tx, sack(0xffff_ffff, [], 5000), 60);
    expect(o).toEqual({
      kind: 'processed',
      cumulativeTsnAck: 0xffff_ffff,
      cumAckAdvanced: true,
      destinations: [
        {
          destination: 'A',
          newlyAckedBytes: 200,
          newlyCumAckedBytes: 200,
          newlyGapAckedBytes: 0,
          flightSizeBefore: 400,
          flightSize: 200,
          outstandingChunks: 2,
          earliestOutstandingAcked: true,
          reneged: false,
        },
      ],
      rttSamples: [{ destination: 'A', rtt: 50 }],
      fastRetransmitTsns: [],
      cwndReductionDestinations: [],
      enteredFastRecovery: false,
      exitedFastRecovery: false,
      inFastRecovery: false,
      renegedTsns: [],
      ackedMessageIds: [0, 1],
      peerRwnd: 4800,
      duplicateTsns: 0,
      sendFailed: [],
      forwardTsnDue: false,
    });
    expect(states(tx.rq)).toEqual(['0:in-flight', '1:in-flight']);
    const o2 = apply(tx, sack(1, [], 5000, [0, 1]), 70);
    expect(o2.destinations).toMatchObject([{ destination: 'A', newlyAckedBytes: 200, flightSizeBefore: 200, flightSize: 0, outstandingChunks: 0 }]);
    expect(o2.peerRwnd).toBe(5000);
    expect(tx.rq.counters.duplicateTsnsReported).toBe(2);
    expect(tx.rq.chunks).toEqual([]);
  });

  it('keeps destinations apart', () => {
    const tx = setup();
    sendN(tx, 2, 'A'); // 1000, 1001
    sendN(tx, 2, 'B'); // 1002, 1003
    const o = apply(tx, sack(999, [[3, 4]]));
    expect(o.destinations).toEqual([
      {
        destination: 'A',
        newlyAckedBytes: 0,
        newlyCumAckedBytes: 0,
        newlyGapAckedBytes: 0,
        flightSizeBefore: 200,
        flightSize: 200,
        outstandingChunks: 2,
        earliestOutstandingAcked: false,
        reneged: false,
      },
      {
        destination: 'B',
        newlyAckedBytes: 200,
        newlyCumAckedBytes: 0,
        newlyGapAckedBytes: 200,
        flightSizeBefore: 200,
        flightSize: 0,
        outstandingChunks: 0,
        earliestOutstandingAcked: true,
        reneged: false,
      },
    ]);
    expect(states(tx.rq)).toEqual(['1000:in-flight', '1001:in-flight', '1002:acked', '1003:acked']);
    // Cum ack over gap-acked chunks: not newly acked again.
    expect(apply(tx, sack(1003)).destinations).toMatchObject([{ destination: 'A', newlyCumAckedBytes: 200, newlyGapAckedBytes: 0 }]);
  });

  it('ignores an old SACK (§6.2.1 D i) but processes one with an equal cum ack', () => {
    const tx = setup();
    sendN(tx, 3);
    apply(tx, sack(1001, [], 7000));
    const rwnd = tx.rq.peerRwnd;
    expect(onSack(tx.rq, tx.sq, sack(1000, [], 1), 5)).toEqual({ kind: 'old-sack' });
    expect(tx.rq.peerRwnd).toBe(rwnd);
    expect(tx.rq.cumulativeTsnAck).toBe(1001);
    expect(tx.rq.counters.oldSacksIgnored).toBe(1);
    expect(apply(tx, sack(1001, [], 300)).peerRwnd).toBe(200);
  });

  it('a cum ack beyond the highest TSN sent is a protocol violation, also across the wrap', () => {
    const tx = setup({ initialTsn: 0xffff_ffff });
    expect(sendN(tx, 1)).toEqual([0xffff_ffff]);
    expect(onSack(tx.rq, tx.sq, sack(0), 0)).toEqual({
      kind: 'protocol-violation',
      reason: 'SACK cumulative TSN ack 0 is beyond the highest TSN sent 4294967295',
    });
    expect(tx.rq.cumulativeTsnAck).toBe(0xffff_fffe);
    // Gap blocks beyond the highest TSN sent are clipped, not fatal.
    expect(apply(tx, sack(0xffff_fffe, [[1, 5]])).destinations[0]!.newlyAckedBytes).toBe(100);
  });
});

describe('hostile or odd Gap Ack Blocks', () => {
  it('merges overlapping and unsorted blocks, skips reversed and zero-offset ones', () => {
    const tx = setup();
    sendN(tx, 8); // 1000..1007
    const blocks: [number, number][] = [[5, 6], [2, 3], [3, 5], [0, 1], [7, 6], [2, 2]];
    for (let i = 0; i < 10_000; i++) blocks.push([2, 65535]);
    const o = apply(tx, sack(999, blocks));
    expect(states(tx.rq)).toEqual(['1000:in-flight', ...[1001, 1002, 1003, 1004, 1005, 1006, 1007].map((t) => `${t}:acked`)]);
    expect(o.destinations[0]).toMatchObject({ newlyGapAckedBytes: 700 });
    expect(tx.rq.chunks[0]!.missIndications).toBe(1);
  });
});

describe('§7.2.4 HTNA miss indications and fast retransmit', () => {
  it('counts misses only below the highest newly acked TSN and marks at the third', () => {
    const tx = setup();
    expect(sendN(tx, 10)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]);
    apply(tx, sack(1000, [[2, 2]])); // 1002 newly acked: 1001 misses once
    expect(tx.rq.chunks.map((c) => c.missIndications)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0]);
    apply(tx, sack(1000, [[2, 3]])); // 1003 newly acked
    apply(tx, sack(1000, [[2, 3]])); // nothing newly acked: no miss counted
    expect(tx.rq.chunks[0]!.missIndications).toBe(2);
    const o = apply(tx, sack(1000, [[2, 4]]));
    expect(o.fastRetransmitTsns).toEqual([1001]);
    expect(o.enteredFastRecovery).toBe(true);
    expect(o.cwndReductionDestinations).toEqual(['A']);
    expect(o.inFastRecovery).toBe(true);
    expect(tx.rq.fastRecoveryExitPoint).toBe(1009);
    expect(o.destinations[0]).toMatchObject({ flightSizeBefore: 700, flightSize: 500, newlyAckedBytes: 100 });
    expect(states(tx.rq).slice(0, 4)).toEqual(['1001:to-retransmit', '1002:acked', '1003:acked', '1004:acked']);
    // The TSNs above the highest newly acked were never counted.
    expect(tx.rq.chunks.slice(4).map((c) => c.missIndications)).toEqual([0, 0, 0, 0, 0]);

    // Step 3: one packet, ignoring cwnd; step 4: 1001 was A's first outstanding TSN.
    const fr = fastRetransmitChunks(tx.rq, tx.sq, { destination: 'B', now: 5, packetSpace: 1452 });
    expect(tsns(fr.chunks)).toEqual([1001]);
    expect(fr.restartT3For).toEqual(['A']);
    expect(tx.rq.chunks[0]).toMatchObject({ state: 'in-flight', destination: 'B', retransmissions: 1, fastRetransmitted: true, missIndications: 0 });
    expect(tx.rq.counters).toMatchObject({ retransmittedChunks: 1, fastRetransmittedChunks: 1 });

    apply(tx, sack(1000, [[2, 4], [7, 9]])); // 1007-1009 newly acked: 1005 and 1006 miss once
    expect(tx.rq.chunks.slice(4, 6).map((c) => [c.tsn, c.missIndications])).toEqual([
      [1005, 1],
      [1006, 1],
    ]);
    // HTNA alone stops at 1005, the highest newly acked TSN; in Fast Recovery
    // with the cum ack advancing, every TSN reported missing counts: 1006 too.
    const o2 = apply(tx, sack(1005, [[2, 4]]));
    expect(tx.rq.chunks[0]).toMatchObject({ tsn: 1006, missIndications: 2 });
    expect(o2.exitedFastRecovery).toBe(false);
    // From 1005 only: 1001 was retransmitted (Karn).
    expect(o2.rttSamples).toEqual([{ destination: 'A', rtt: 0 }]);
    const o3 = apply(tx, sack(1009));
    expect(o3.exitedFastRecovery).toBe(true);
    expect(o3.inFastRecovery).toBe(false);
  });

  it('a chunk already fast retransmitted is not eligible again (step 5)', () => {
    const tx = setup();
    sendN(tx, 8);
    apply(tx, sack(1000, [[2, 2]]));
    apply(tx, sack(1000, [[2, 3]]));
    apply(tx, sack(1000, [[2, 4]]));
    fastRetransmitChunks(tx.rq, tx.sq, { destination: 'A', now: 0, packetSpace: 1452 });
    apply(tx, sack(1000, [[2, 5]]));
    apply(tx, sack(1000, [[2, 6]]));
    const o = apply(tx, sack(1000, [[2, 7]]));
    expect(o.fastRetransmitTsns).toEqual([]);
    expect(tx.rq.chunks[0]).toMatchObject({ tsn: 1001, state: 'in-flight', missIndications: 0 });
  });

  it('a new loss during Fast Recovery is marked without another cwnd reduction and without the cwnd-ignoring packet', () => {
    const tx = setup();
    sendN(tx, 20); // 1000..1019
    apply(tx, sack(1000, [[2, 2]]));
    apply(tx, sack(1000, [[2, 3]]));
    expect(apply(tx, sack(1000, [[2, 4]])).enteredFastRecovery).toBe(true);
    apply(tx, sack(1000, [[2, 9], [11, 11]])); // 1010 misses once
    apply(tx, sack(1000, [[2, 9], [11, 12]]));
    const o = apply(tx, sack(1000, [[2, 9], [11, 13]]));
    expect(o.fastRetransmitTsns).toEqual([1010]);
    expect(o.enteredFastRecovery).toBe(false);
    expect(o.cwndReductionDestinations).toEqual([]);
    expect(o.inFastRecovery).toBe(true);
    // Only 1001 goes in the step-3 packet; 1010 waits for cwnd.
    const fr = fastRetransmitChunks(tx.rq, tx.sq, { destination: 'A', now: 0, packetSpace: 1452 });
    expect(tsns(fr.chunks)).toEqual([1001]);
    const next = pump(tx, 'A', 0, { cwndBudget: 1 });
    expect(tsns(next.chunks)).toEqual([1010]);
    expect(next.retransmittedTsns).toEqual([1010]);
  });

  it('re-enters Fast Recovery on a SACK that both exits it and reports a new third miss', () => {
    const tx = setup();
    sendN(tx, 5); // 1000..1004
    apply(tx, sack(1000, [[2, 2]]));
    apply(tx, sack(1000, [[2, 3]]));
    apply(tx, sack(1000, [[2, 4]]));
    expect(tx.rq.fastRecoveryExitPoint).toBe(1004);
    fastRetransmitChunks(tx.rq, tx.sq, { destination: 'A', now: 0, packetSpace: 1452 });
    sendN(tx, 5); // 1005..1009
    apply(tx, sack(1004, [[2, 2]])); // exits, then 1005 misses once
    expect(tx.rq.fastRecoveryExitPoint).toBeUndefined();
    apply(tx, sack(1004, [[2, 3]]));
    const o = apply(tx, sack(1004, [[2, 4]]));
    expect(o.fastRetransmitTsns).toEqual([1005]);
    expect(o.enteredFastRecovery).toBe(true);
    expect(tx.rq.fastRecoveryExitPoint).toBe(1009);
  });
});

describe('§6.2.1 D iii renege', () => {
  it('un-acks TSNs no longer reported, puts them back in flight and flags the destination for T3 (R4)', () => {
    const tx = setup();
    sendN(tx, 5); // 1000..1004
    apply(tx, sack(999, [[2, 3]]));
    expect(tx.rq.flightSize.get('A')).toBe(300);
    const o = apply(tx, sack(999, [[3, 3]]));
    expect(o.renegedTsns).toEqual([1001]);
    expect(o.destinations[0]).toMatchObject({ reneged: true, flightSize: 400, newlyAckedBytes: 0 });
    expect(states(tx.rq)).toEqual(['1000:in-flight', '1001:in-flight', '1002:acked', '1003:in-flight', '1004:in-flight']);
    // After the cum ack moves past a gap: the rest of the gap must still be reported.
    const o2 = apply(tx, sack(1000, [[2, 2]]));
    expect(o2.renegedTsns).toEqual([]);
    const o3 = apply(tx, sack(1000, []));
    expect(o3.renegedTsns).toEqual([1002]);
  });

  it('a marked chunk acked late by a gap block is no longer retransmitted', () => {
    const tx = setup();
    sendN(tx, 3);
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 1000);
    const o = apply(tx, sack(999, [[2, 2]]), 1001);
    expect(o.destinations[0]).toMatchObject({ newlyAckedBytes: 100, flightSize: 0, outstandingChunks: 2 });
    expect(tsns(pump(tx, 'A', 1001).chunks)).toEqual([1000, 1002]);
  });
});

describe('§6.3.1 C5 Karn', () => {
  it('takes no RTT sample from retransmitted chunks', () => {
    const tx = setup();
    sendN(tx, 2, 'A', 0);
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 1000);
    expect(tsns(pump(tx, 'B', 1000).chunks)).toEqual([1000, 1001]);
    send(tx, { size: 10 }, 1050);
    expect(tsns(pump(tx, 'B', 1050).chunks)).toEqual([1002]);
    expect(apply(tx, sack(1001), 1090).rttSamples).toEqual([]);
    expect(apply(tx, sack(1002), 1100).rttSamples).toEqual([{ destination: 'B', rtt: 50 }]);
  });

  it('takes the sample of the newest newly acked chunk per destination, gap-acked ones included', () => {
    const tx = setup();
    sendN(tx, 2, 'A', 0); // 1000, 1001
    sendN(tx, 1, 'B', 30); // 1002
    sendN(tx, 1, 'A', 40); // 1003
    const o = apply(tx, sack(999, [[2, 4]]), 100);
    expect(o.rttSamples).toEqual([
      { destination: 'A', rtt: 60 },
      { destination: 'B', rtt: 70 },
    ]);
  });
});
