// Sender-side SWS avoidance for new data (Nagle, RFC 9260 §6.1 / RFC 1122
// §4.2.3.4) and retransmission of holes into a closed window (§6.1 A limits
// new data only).
import { describe, expect, it } from 'vitest';
import { onSack, onT3RtxExpiry, queueFillsPacket } from '../../../src/core/tx/index.js';
import { pump, sack, send, setup, tsns } from './fixtures.js';

// 100 B chunks take 116 bytes on the wire: 12 of them fill a 1452-byte packet.
describe('Nagle: small messages share packets while two full packets are in flight', () => {
  // The fixture cuts fragments at 1200 bytes: the bar is 2400 bytes in flight.
  it('never delays while little is in flight; beyond that, holds a runt until the queue fills a packet or SACKs drain the flight', () => {
    const tx = setup();
    // One message at a time, each pumped at once: 24 runts go, 2400 bytes in flight.
    for (let i = 0; i < 24; i++) {
      send(tx, { size: 100 });
      expect(pump(tx, 'A', 0, { nagle: true }).chunks.length).toBe(1);
    }
    // The 25th waits.
    send(tx, { size: 100 });
    let r = pump(tx, 'A', 0, { nagle: true });
    expect(r.chunks).toEqual([]);
    expect(r.stoppedBy).toBe('nagle');
    // Without Nagle (SCTP_NODELAY) it would go now.
    expect(pump(structuredClone(tx), 'A', 0, { nagle: false }).chunks.length).toBe(1);
    // Enough for a full packet: it goes (12 chunks of 116 bytes), the 13th waits.
    for (let i = 0; i < 12; i++) send(tx, { size: 100 });
    r = pump(tx, 'A', 0, { nagle: true });
    expect(r.chunks.length).toBe(12);
    expect(r.stoppedBy).toBe('packet-full');
    r = pump(tx, 'A', 0, { nagle: true });
    expect(r.stoppedBy).toBe('nagle');
    // A SACK leaves 1100 bytes in flight: below the bar, the runt goes.
    onSack(tx.rq, tx.sq, sack(1024), 1);
    r = pump(tx, 'A', 1, { nagle: true });
    expect(tsns(r.chunks)).toEqual([1036]);
    expect(r.stoppedBy).toBe('empty');
  });

  it('counts a message bigger than the packet, or two that cannot share one, as a full packet', () => {
    const tx = setup();
    for (let i = 0; i < 2; i++) send(tx, { size: 1200 });
    pump(tx, 'A', 0, { nagle: true });
    pump(tx, 'A', 0, { nagle: true });
    // 2400 bytes in flight. One 800 B message: a runt (816 of 1452 bytes), held.
    send(tx, { size: 800 });
    expect(pump(tx, 'A', 0, { nagle: true }).stoppedBy).toBe('nagle');
    // A second one cannot join it: the first packet is as full as it gets.
    send(tx, { size: 800 });
    expect(pump(tx, 'A', 0, { nagle: true }).chunks.map((c) => c.userData.length)).toEqual([800]);
    expect(pump(tx, 'A', 0, { nagle: true }).stoppedBy).toBe('nagle');
    // A message needing fragmentation fills packets, and the tail of it is not held (one write).
    send(tx, { size: 3000 });
    expect(pump(tx, 'A', 0, { nagle: true }).chunks.map((c) => c.userData.length)).toEqual([800]);
    expect(pump(tx, 'A', 0, { nagle: true }).chunks.map((c) => c.userData.length)).toEqual([1200]);
    expect(pump(tx, 'A', 0, { nagle: true }).chunks.map((c) => c.userData.length)).toEqual([1200]);
    expect(pump(tx, 'A', 0, { nagle: true }).chunks.map((c) => c.userData.length)).toEqual([600]);
    // A small message after it is held again.
    send(tx, { size: 100 });
    expect(pump(tx, 'A', 0, { nagle: true }).stoppedBy).toBe('nagle');
    // Everything acknowledged: it goes.
    onSack(tx.rq, tx.sq, sack(1006), 1);
    expect(pump(tx, 'A', 1, { nagle: true }).chunks.map((c) => c.userData.length)).toEqual([100]);
  });

  it('bundles held new data behind retransmissions without waiting', () => {
    const tx = setup();
    for (let i = 0; i < 30; i++) send(tx, { size: 100 });
    for (let i = 0; i < 30; i++) pump(tx, 'A', 0, { nagle: false });
    send(tx, { size: 100 });
    expect(pump(tx, 'A', 0, { nagle: true }).stoppedBy).toBe('nagle');
    // All 30 lost: T3 marks them, 12 go per packet.
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 1000);
    expect(pump(tx, 'A', 1000, { nagle: true }).retransmittedTsns.length).toBe(12);
    expect(pump(tx, 'A', 1000, { nagle: true }).retransmittedTsns.length).toBe(12);
    // 2400 bytes in flight again, but the third packet goes for its 6 retransmissions anyway: the held message joins it.
    const r = pump(tx, 'A', 1000, { nagle: true });
    expect(r.retransmittedTsns).toEqual([1024, 1025, 1026, 1027, 1028, 1029]);
    expect(tsns(r.chunks)).toEqual([1024, 1025, 1026, 1027, 1028, 1029, 1030]);
  });

  it('queueFillsPacket is a dry run of the chunk selection', () => {
    const tx = setup();
    expect(queueFillsPacket(tx.sq, 1452, 1436)).toBe(false);
    for (let i = 0; i < 12; i++) send(tx, { size: 100 });
    // 12 × 116 = 1392: everything fits, the packet is not full.
    expect(queueFillsPacket(tx.sq, 1452, 1436)).toBe(false);
    send(tx, { size: 1, streamId: 1 });
    // A 13th chunk (20 bytes) still fits: 1412.
    expect(queueFillsPacket(tx.sq, 1452, 1436)).toBe(false);
    send(tx, { size: 40, streamId: 2 });
    // 1412 + 56 > 1452: full.
    expect(queueFillsPacket(tx.sq, 1452, 1436)).toBe(true);
    expect(queueFillsPacket(tx.sq, 2000, 1436)).toBe(false);
    // Queued user bytes at least the room: full without a walk.
    expect(queueFillsPacket(tx.sq, 1000, 1436)).toBe(true);
  });
});

describe('retransmission into a closed window (§6.1 A limits new data only)', () => {
  it('fills holes below gap-acknowledged data whatever rwnd says; other retransmissions wait for the window', () => {
    const tx = setup({ aRwnd: 100_000 });
    for (let i = 0; i < 10; i++) send(tx, { size: 1000 });
    for (let i = 0; i < 10; i++) expect(pump(tx, 'A', 0, { packetSpace: 1100 }).chunks.length).toBe(1);
    // The peer got 1003..1006 (the holes 1000..1002 were lost), its window is full: a_rwnd 0.
    onSack(tx.rq, tx.sq, sack(999, [[4, 7]], 0), 10);
    // The rest are lost too: T3 marks 1000..1002 and 1007..1009.
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 1000);
    expect(tx.rq.peerRwnd).toBe(0);
    let r = pump(tx, 'A', 1000, { packetSpace: 1100 });
    expect(tsns(r.chunks)).toEqual([1000]);
    r = pump(tx, 'A', 1000, { packetSpace: 1100 });
    expect(tsns(r.chunks)).toEqual([1001]);
    r = pump(tx, 'A', 1000, { packetSpace: 1100 });
    expect(tsns(r.chunks)).toEqual([1002]);
    // 1007 is above everything the peer holds: rwnd applies.
    r = pump(tx, 'A', 1000, { packetSpace: 1100 });
    expect(r.chunks).toEqual([]);
    expect(r.stoppedBy).toBe('rwnd');
    // The holes filled, the peer delivers and reopens its window.
    onSack(tx.rq, tx.sq, sack(1006, [], 100_000), 1010);
    expect(tsns(pump(tx, 'A', 1010, { packetSpace: 1100 }).chunks)).toEqual([1007]);
  });
});
