// RFC 9260 §6.1 A-C: cwnd budget, peer rwnd, zero window probe, sender SWS avoidance; bounds; sender dry.
import { describe, it, expect } from 'vitest';
import { isSenderDry, needsRetransmissionTimer, onSack, onT3RtxExpiry } from '../../../src/core/tx/index.js';
import { pump, sack, send, setup, tsns } from './fixtures.js';

describe('§6.1 B cwnd budget', () => {
  it('starts a packet while the budget is above zero and fills it (cwnd exceeded by less than one packet)', () => {
    const tx = setup();
    for (let i = 0; i < 20; i++) send(tx, { size: 100 });
    expect(pump(tx, 'A', 0, { cwndBudget: 0 }).stoppedBy).toBe('cwnd');
    const r = pump(tx, 'A', 0, { cwndBudget: 250 });
    // 12 chunks of 116 bytes fill the 1452-byte packet: 1200 bytes against a budget of 250.
    expect(tsns(r.chunks)).toEqual(Array.from({ length: 12 }, (_, i) => 1000 + i));
    expect(r.stoppedBy).toBe('packet-full');
    expect(r.bytes).toBe(1200);
    expect(pump(tx, 'A', 0, { cwndBudget: 0 }).chunks).toEqual([]);
  });
});

describe('§6.1 A rwnd, zero window probe, SWS avoidance', () => {
  it('tracks rwnd, never cuts a chunk to fit the window, and probes a closed window once', () => {
    const tx = setup({ aRwnd: 1000 });
    for (let i = 0; i < 5; i++) send(tx, { size: 300 });
    let r = pump(tx);
    expect(tsns(r.chunks)).toEqual([1000, 1001, 1002]);
    expect(r.stoppedBy).toBe('rwnd');
    expect(tx.rq.peerRwnd).toBe(100);
    // §6.2.1 D ii: a_rwnd minus the bytes still in flight.
    expect(onSack(tx.rq, tx.sq, sack(1000, [], 500), 1)).toMatchObject({ peerRwnd: 0 });
    expect(onSack(tx.rq, tx.sq, sack(1002, [], 0), 2)).toMatchObject({ peerRwnd: 0 });
    r = pump(tx, 'A', 3);
    expect(r.chunks).toEqual([]);
    expect(r.stoppedBy).toBe('rwnd');
    r = pump(tx, 'A', 1003, { allowZeroWindowProbe: true });
    expect(tsns(r.chunks)).toEqual([1003]);
    expect(r.zeroWindowProbe).toBe(true);
    expect(r.stoppedBy).toBe('rwnd');
    // The probe is in flight: no second probe.
    r = pump(tx, 'A', 1004, { allowZeroWindowProbe: true });
    expect(r.chunks).toEqual([]);
    // Lost probe: T3 marks it, and it goes again as the next probe.
    onT3RtxExpiry(tx.rq, tx.sq, 'A', 2003);
    r = pump(tx, 'A', 2003, { allowZeroWindowProbe: true });
    expect(tsns(r.chunks)).toEqual([1003]);
    expect(r.retransmittedTsns).toEqual([1003]);
    expect(tx.rq.counters.zeroWindowProbes).toBe(2);
    // The window opens: the rest flows.
    onSack(tx.rq, tx.sq, sack(1003, [], 10_000), 2100);
    expect(tsns(pump(tx, 'A', 2100).chunks)).toEqual([1004]);
  });

  it('holds a runt packet back while a window-limited flight is large (sender SWS avoidance)', () => {
    // 100 B chunks take 116 bytes: 12 fill a 1452-byte packet.
    const tx = setup({ aRwnd: 5700 });
    for (let i = 0; i < 100; i++) send(tx, { size: 100 });
    for (let p = 0; p < 4; p++) expect(pump(tx).chunks.length).toBe(12);
    // 900 bytes of window left would make a 9-chunk packet: with 4800 bytes in flight, wait.
    const r = pump(tx);
    expect(r.chunks).toEqual([]);
    expect(r.stoppedBy).toBe('rwnd');
    // A SACK for two packets reopens a full packet and more.
    onSack(tx.rq, tx.sq, sack(1023, [], 5700), 1);
    expect(pump(tx, 'A', 1).chunks.length).toBe(12);
    expect(pump(tx, 'A', 1).chunks.length).toBe(12);
    expect(pump(tx, 'A', 1).chunks).toEqual([]);
  });

  it('sends a runt packet into the window when little is in flight', () => {
    const tx = setup({ aRwnd: 2000 });
    for (let i = 0; i < 30; i++) send(tx, { size: 100 });
    expect(pump(tx).chunks.length).toBe(12);
    const r = pump(tx);
    expect(r.chunks.length).toBe(8);
    expect(r.stoppedBy).toBe('rwnd');
  });

  it('sends into a small window when the chunk fits', () => {
    const tx = setup({ aRwnd: 150 });
    send(tx, { size: 100 });
    send(tx, { size: 40 });
    send(tx, { size: 20 });
    const r = pump(tx);
    expect(r.chunks.map((c) => c.userData.length)).toEqual([100, 40]);
    expect(tx.rq.peerRwnd).toBe(10);
  });
});

describe('bounds', () => {
  it('stops assigning TSNs at maxOutstandingChunks', () => {
    const tx = setup({ maxOutstandingChunks: 3 });
    for (let i = 0; i < 5; i++) send(tx, { size: 10 });
    const r = pump(tx);
    expect(tsns(r.chunks)).toEqual([1000, 1001, 1002]);
    expect(r.stoppedBy).toBe('outstanding-limit');
    onSack(tx.rq, tx.sq, sack(1001), 1);
    expect(tsns(pump(tx, 'A', 1).chunks)).toEqual([1003, 1004]);
  });
});

describe('sender dry (RFC 6458 SCTP_SENDER_DRY_EVENT)', () => {
  it('is dry only with nothing queued and nothing unacknowledged', () => {
    const tx = setup();
    expect(isSenderDry(tx.rq, tx.sq)).toBe(true);
    send(tx, { size: 10 });
    expect(isSenderDry(tx.rq, tx.sq)).toBe(false);
    pump(tx);
    expect(isSenderDry(tx.rq, tx.sq)).toBe(false);
    expect(needsRetransmissionTimer(tx.rq)).toBe(true);
    onSack(tx.rq, tx.sq, sack(999, [[1, 1]]), 1);
    expect(needsRetransmissionTimer(tx.rq)).toBe(false);
    expect(isSenderDry(tx.rq, tx.sq)).toBe(false);
    onSack(tx.rq, tx.sq, sack(1000), 2);
    expect(isSenderDry(tx.rq, tx.sq)).toBe(true);
  });
});
