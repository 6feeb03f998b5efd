// RFC 3758 §3.5 (abandoning, Advanced.Peer.Ack.Point, FORWARD TSN), §4.1 timed reliability, RFC 7496 limited retransmissions.
import { describe, it, expect } from 'vitest';
import {
  buildForwardTsn,
  checkInvariants,
  fastRetransmitChunks,
  isSenderDry,
  onSack,
  onT3RtxExpiry,
  takeForwardTsn,
} from '../../../src/core/tx/index.js';
import { bytes, pump, sack, send, setup, states, tsns } from './fixtures.js';

describe('timed reliability (TR4) on T3', () => {
  it('abandons expired messages whole, advances the ack point and builds FORWARD TSNs with ordered stream/SSN pairs', () => {
    const tx = setup({ prSctp: true });
    const a = new Uint8Array(300).map((_, i) => i);
    send(tx, { streamId: 0, data: a, lifetime: 100 }, 0); // 1000-1002
    send(tx, { streamId: 1, size: 100 }, 0); // 1003, reliable
    send(tx, { streamId: 2, size: 100, lifetime: 100, unordered: true }, 0); // 1004
    send(tx, { streamId: 0, size: 100, lifetime: 100 }, 0); // 1005, SSN 1
    const sent = pump(tx, 'A', 0, { maxFragmentPayload: 100 }).chunks;
    expect(sent.map((c) => [c.tsn, c.streamId, c.ssn])).toEqual([
      [1000, 0, 0],
      [1001, 0, 0],
      [1002, 0, 0],
      [1003, 1, 0],
      [1004, 2, 0],
      [1005, 0, 1],
    ]);
    const o = onT3RtxExpiry(tx.rq, tx.sq, 'A', 200);
    expect(o.markedTsns).toEqual([1003]);
    expect(o.lostBytes).toBe(600);
    expect(o.sendFailed).toEqual([
      { messageId: 0, streamId: 0, ppid: 51, unordered: false, data: a, reason: 'lifetime-expired', sent: true },
      { messageId: 2, streamId: 2, ppid: 51, unordered: true, data: bytes(100), reason: 'lifetime-expired', sent: true },
      { messageId: 3, streamId: 0, ppid: 51, unordered: false, data: bytes(100), reason: 'lifetime-expired', sent: true },
    ]);
    expect(o.forwardTsnDue).toBe(true);
    expect(tx.rq.advancedPeerAckPoint).toBe(1002);
    expect(tx.rq.flightSize.size).toBe(0);
    expect(takeForwardTsn(tx.rq, 1000)).toEqual({ kind: 'forward-tsn', newCumulativeTsn: 1002, streams: [{ streamId: 0, ssn: 0 }] });
    expect(takeForwardTsn(tx.rq, 1000)).toBeUndefined();

    // The retransmitted 1003 and the FORWARD TSN arrive: C1 then C2 over 1004-1005.
    expect(tsns(pump(tx, 'A', 200).chunks)).toEqual([1003]);
    const s = onSack(tx.rq, tx.sq, sack(1003), 250);
    expect(s).toMatchObject({ kind: 'processed', forwardTsnDue: true, ackedMessageIds: [1] });
    // Abandoned chunks never credit cwnd (A2).
    expect(s.kind === 'processed' && s.destinations[0]!.newlyAckedBytes).toBe(100);
    expect(takeForwardTsn(tx.rq, 1000)).toEqual({ kind: 'forward-tsn', newCumulativeTsn: 1005, streams: [{ streamId: 0, ssn: 1 }] });
    expect(onSack(tx.rq, tx.sq, sack(1005), 300)).toMatchObject({ forwardTsnDue: false });
    expect(isSenderDry(tx.rq, tx.sq)).toBe(true);
  });

  it('C3: a SACK behind the ack point makes the FORWARD TSN due again; A5: so does a T3 expiry', () => {
    const tx = setup({ prSctp: true });
    send(tx, { size: 10, lifetime: 10 }, 0);
    send(tx, { size: 10 }, 0);
    pump(tx, 'A', 0);
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 50);
    expect(takeForwardTsn(tx.rq, 100)).toMatchObject({ newCumulativeTsn: 1000 });
    expect(onSack(tx.rq, tx.sq, sack(999), 60)).toMatchObject({ forwardTsnDue: true });
    takeForwardTsn(tx.rq, 100);
    expect(onT3RtxExpiry(tx.rq, tx.sq, 'A', 1050).forwardTsnDue).toBe(true);
  });

  it('without PR-SCTP a sent message is reliable whatever its lifetime', () => {
    const tx = setup({ prSctp: false });
    send(tx, { size: 10, lifetime: 10, maxRetransmits: 0 }, 0);
    pump(tx);
    const o = onT3RtxExpiry(tx.rq, tx.sq, 'A', 500);
    expect(o.markedTsns).toEqual([1000]);
    expect(o.sendFailed).toEqual([]);
    expect(tsns(pump(tx, 'A', 500).chunks)).toEqual([1000]);
  });
});

describe('timed reliability before (re)transmission', () => {
  it('abandons a partly sent message with its unsent fragments (A3) and reports all held bytes', () => {
    const tx = setup({ prSctp: true });
    const data = new Uint8Array(500).map((_, i) => i & 0xff);
    send(tx, { streamId: 3, data, lifetime: 50 }, 0);
    send(tx, { streamId: 1, size: 10 }, 0);
    expect(tsns(pump(tx, 'A', 0, { maxFragmentPayload: 100, packetSpace: 116 }).chunks)).toEqual([1000]);
    const r = pump(tx, 'A', 60, { maxFragmentPayload: 100 });
    expect(r.sendFailed).toEqual([{ messageId: 0, streamId: 3, ppid: 51, unordered: false, data, reason: 'lifetime-expired', sent: true }]);
    // 1001 is the abandoned placeholder of the unsent fragments.
    expect(r.chunks.map((c) => [c.tsn, c.streamId])).toEqual([[1002, 1]]);
    expect(states(tx.rq)).toEqual(['1000:abandoned', '1001:abandoned', '1002:in-flight']);
    expect(tx.sq.bufferedAmount).toBe(0);
    expect(takeForwardTsn(tx.rq, 1000)).toEqual({ kind: 'forward-tsn', newCumulativeTsn: 1001, streams: [{ streamId: 3, ssn: 0 }] });
    expect(checkInvariants(tx.rq)).toEqual([]);
  });

  it('a message abandoned after every sent fragment was acked still gets a FORWARD TSN, through a placeholder TSN', () => {
    const tx = setup({ prSctp: true });
    send(tx, { streamId: 1, size: 300, lifetime: 50 }, 0);
    expect(tsns(pump(tx, 'A', 0, { maxFragmentPayload: 100, packetSpace: 232 }).chunks)).toEqual([1000, 1001]);
    onSack(tx.rq, tx.sq, sack(1001), 10);
    const r = pump(tx, 'A', 60, { maxFragmentPayload: 100 });
    expect(r.sendFailed).toEqual([{ messageId: 0, streamId: 1, ppid: 51, unordered: false, data: bytes(100), reason: 'lifetime-expired', sent: true }]);
    expect(r.chunks).toEqual([]);
    expect(states(tx.rq)).toEqual(['1002:abandoned']);
    expect(takeForwardTsn(tx.rq, 1000)).toEqual({ kind: 'forward-tsn', newCumulativeTsn: 1002, streams: [{ streamId: 1, ssn: 0 }] });
    onSack(tx.rq, tx.sq, sack(1002), 70);
    expect(isSenderDry(tx.rq, tx.sq)).toBe(true);
  });

  it('abandons an expired marked chunk instead of retransmitting it', () => {
    const tx = setup({ prSctp: true });
    send(tx, { size: 10 }, 0);
    send(tx, { size: 10, lifetime: 100 }, 0);
    pump(tx, 'A', 0);
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 90); // marked while still alive
    const r = pump(tx, 'A', 100, { packetSpace: 28 });
    expect(r.sendFailed.map((f) => [f.messageId, f.reason])).toEqual([[1, 'lifetime-expired']]);
    expect(tsns(r.chunks)).toEqual([1000]);
    expect(states(tx.rq)).toEqual(['1000:in-flight', '1001:abandoned']);
  });
});

describe('limited retransmissions (RFC 7496 §4.1)', () => {
  it('sends once and retransmits maxRetransmits times before abandoning every fragment', () => {
    const tx = setup({ prSctp: true });
    send(tx, { streamId: 2, size: 150, maxRetransmits: 1 }, 0);
    expect(tsns(pump(tx, 'A', 0, { maxFragmentPayload: 100 }).chunks)).toEqual([1000, 1001]);
    expect(onT3RtxExpiry(tx.rq, tx.sq, 'A', 1000).markedTsns).toEqual([1000, 1001]);
    expect(tsns(pump(tx, 'A', 1000).chunks)).toEqual([1000, 1001]);
    const o = onT3RtxExpiry(tx.rq, tx.sq, 'A', 3000);
    expect(o.markedTsns).toEqual([]);
    expect(o.sendFailed.map((f) => [f.messageId, f.reason, f.data.length, f.sent])).toEqual([[0, 'retransmit-limit', 150, true]]);
    expect(states(tx.rq)).toEqual(['1000:abandoned', '1001:abandoned']);
    expect(tx.rq.counters.abandonedChunks).toBe(2);
  });

  it('maxRetransmits 0 is not abandoned on its first transmission, only when it would be retransmitted', () => {
    const tx = setup({ prSctp: true });
    send(tx, { size: 10, maxRetransmits: 0 }, 0);
    pump(tx);
    expect(states(tx.rq)).toEqual(['1000:in-flight']);
    expect(onSack(tx.rq, tx.sq, sack(999), 1)).toMatchObject({ forwardTsnDue: false });
    expect(onSack(tx.rq, tx.sq, sack(1000), 2)).toMatchObject({ ackedMessageIds: [0] });
  });

  it('a fast retransmit that abandons still triggers the congestion reaction (F5)', () => {
    const tx = setup({ prSctp: true });
    send(tx, { size: 10 }, 0);
    send(tx, { size: 10, maxRetransmits: 0 }, 0);
    for (let i = 0; i < 3; i++) send(tx, { size: 10 }, 0);
    pump(tx, 'A', 0); // 1000..1004
    onSack(tx.rq, tx.sq, sack(1000, [[2, 2]]), 1);
    onSack(tx.rq, tx.sq, sack(1000, [[2, 3]]), 2);
    const o = onSack(tx.rq, tx.sq, sack(1000, [[2, 4]]), 3);
    expect(o).toMatchObject({
      kind: 'processed',
      fastRetransmitTsns: [1001],
      enteredFastRecovery: true,
      cwndReductionDestinations: ['A'],
      forwardTsnDue: true,
      sendFailed: [{ messageId: 1, reason: 'retransmit-limit' }],
    });
    expect(fastRetransmitChunks(tx.rq, tx.sq, { destination: 'A', now: 3, packetSpace: 1452 }).chunks).toEqual([]);
    expect(takeForwardTsn(tx.rq, 1000)).toEqual({ kind: 'forward-tsn', newCumulativeTsn: 1001, streams: [{ streamId: 0, ssn: 1 }] });
  });
});

describe('FORWARD TSN content', () => {
  it('reports each ordered stream once with its highest skipped SSN, across the SSN wrap and the TSN wrap', () => {
    const tx = setup({ prSctp: true, initialTsn: 0xffff_fffe });
    tx.sq.nextSsn.set(1, 0xffff);
    send(tx, { streamId: 1, size: 10, lifetime: 1 }, 0); // SSN 0xffff
    send(tx, { streamId: 2, size: 10, lifetime: 1, unordered: true }, 0);
    send(tx, { streamId: 1, size: 10, lifetime: 1 }, 0); // SSN 0
    send(tx, { streamId: 0, size: 10, lifetime: 1 }, 0);
    // Round robin: stream 1's second message comes after stream 0's.
    expect(pump(tx, 'A', 0).chunks.map((c) => [c.tsn, c.streamId, c.ssn])).toEqual([
      [0xffff_fffe, 1, 0xffff],
      [0xffff_ffff, 2, 0],
      [0, 0, 0],
      [1, 1, 0],
    ]);
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 10);
    expect(buildForwardTsn(tx.rq, 1000)).toEqual({
      kind: 'forward-tsn',
      newCumulativeTsn: 1,
      streams: [
        { streamId: 0, ssn: 0 },
        { streamId: 1, ssn: 0 },
      ],
    });
    // C4: when it does not fit in one chunk, the point is lowered to the last TSN that fits.
    expect(buildForwardTsn(tx.rq, 12)).toEqual({ kind: 'forward-tsn', newCumulativeTsn: 0xffff_ffff, streams: [{ streamId: 1, ssn: 0xffff }] });
    expect(buildForwardTsn(tx.rq, 8)).toBeUndefined();
  });

  it('never skips a gap-acked chunk that is not abandoned (it could be reneged)', () => {
    const tx = setup({ prSctp: true });
    send(tx, { streamId: 0, size: 10, lifetime: 5 }, 0);
    send(tx, { streamId: 1, size: 10 }, 0);
    send(tx, { streamId: 2, size: 10, lifetime: 5 }, 0);
    pump(tx, 'A', 0);
    onSack(tx.rq, tx.sq, sack(999, [[2, 2]]), 1);
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 10);
    expect(states(tx.rq)).toEqual(['1000:abandoned', '1001:acked', '1002:abandoned']);
    expect(tx.rq.advancedPeerAckPoint).toBe(1000);
    expect(buildForwardTsn(tx.rq, 1000)).toMatchObject({ newCumulativeTsn: 1000 });
    onSack(tx.rq, tx.sq, sack(1001), 20);
    expect(tx.rq.advancedPeerAckPoint).toBe(1002);
  });
});
