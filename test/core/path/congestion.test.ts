import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  applyIdleDecay,
  effectiveCwnd,
  initialCwnd,
  inSlowStart,
  isCwndFullyUtilized,
  maybeExitFastRecovery,
  onBytesAcked,
  onDataSent,
  onFastRetransmit,
  onT3RtxExpiry,
  removeFlight,
  sendAllowance,
  type PathState,
} from '../../../src/core/path/index.js';
import { config, path } from './helpers.js';

const cfg = config();

/** One SACK acking `bytes` from this path: fully-utilized snapshot, flight removal, cwnd update. */
function sack(p: PathState, bytes: number): void {
  const fullyUtilized = isCwndFullyUtilized(p);
  removeFlight(p, bytes);
  onBytesAcked(p, bytes, { fullyUtilized });
}

describe('RFC 9260 §7.2.1 initial cwnd', () => {
  it('min(4*MTU, max(2*MTU, 4404))', () => {
    expect(initialCwnd(1500)).toBe(4404);
    expect(initialCwnd(1000)).toBe(4000);
    expect(initialCwnd(576)).toBe(2304);
    expect(initialCwnd(9000)).toBe(18_000);
    expect(initialCwnd(2000)).toBe(4404);
  });

  it('ssthresh starts at the peer a_rwnd', () => {
    const p = path('10.0.0.1', { aRwnd: 10_000 });
    expect([p.cwnd, p.ssthresh, p.partialBytesAcked, p.flightSize]).toEqual([4404, 10_000, 0, 0]);
  });
});

describe('slow start → congestion avoidance → fast retransmit → T3, exact numbers (MTU 1500)', () => {
  it('walks the phases', () => {
    const p = path('10.0.0.1', { aRwnd: 10_000 });
    // Slow start, window fully used: +min(acked, MTU).
    onDataSent(p, 4404, 0);
    sack(p, 1000);
    expect(p.cwnd).toBe(5404);
    // Flight (3404) < cwnd (5404) before this SACK: not fully utilized, no growth; flight 0 → pba 0.
    sack(p, 3404);
    expect([p.cwnd, p.flightSize]).toEqual([5404, 0]);
    // Each full window acked at once grows cwnd by one MTU only (ACK-splitting bound).
    onDataSent(p, 5404, 10);
    sack(p, 5404);
    expect(p.cwnd).toBe(6904);
    onDataSent(p, 6904, 20);
    sack(p, 6904);
    onDataSent(p, 8404, 30);
    sack(p, 8404);
    expect(p.cwnd).toBe(9904);
    expect(inSlowStart(p)).toBe(true); // 9904 ≤ 10000
    onDataSent(p, 9904, 40);
    sack(p, 9904);
    expect(p.cwnd).toBe(11_404);
    expect(inSlowStart(p)).toBe(false);

    // Congestion avoidance (§7.2.2).
    onDataSent(p, 20_000, 50);
    sack(p, 6000);
    expect([p.cwnd, p.partialBytesAcked]).toEqual([11_404, 6000]);
    sack(p, 6000); // flight before 14000 ≥ cwnd: pba 12000 ≥ 11404 → pba 596, cwnd + MTU
    expect([p.cwnd, p.partialBytesAcked]).toEqual([12_904, 596]);
    sack(p, 8000); // flight before 8000 < cwnd: no growth; all acked → pba 0
    expect([p.cwnd, p.partialBytesAcked, p.flightSize]).toEqual([12_904, 0, 0]);

    // Fast retransmit (§7.2.3/§7.2.4): ssthresh = max(cwnd/2, 4*MTU) = 6452, cwnd = ssthresh.
    onDataSent(p, 12_904, 60);
    expect(onFastRetransmit(p, 1000)).toBe(true);
    expect([p.ssthresh, p.cwnd, p.partialBytesAcked, p.fastRecoveryExitTsn]).toEqual([6452, 6452, 0, 1000]);
    // A second loss in Fast Recovery does not reduce again.
    expect(onFastRetransmit(p, 1200)).toBe(false);
    expect([p.ssthresh, p.cwnd, p.fastRecoveryExitTsn]).toEqual([6452, 6452, 1000]);
    // Slow start (cwnd ≤ ssthresh) but in Fast Recovery: no growth even when fully utilized.
    sack(p, 1000);
    expect(p.cwnd).toBe(6452);
    expect(maybeExitFastRecovery(p, 999)).toBe(false);
    expect(maybeExitFastRecovery(p, 1000)).toBe(true);
    expect(p.fastRecoveryExitTsn).toBeUndefined();
    sack(p, 1000); // flight 10904 ≥ 6452: +1000
    expect(p.cwnd).toBe(7452);

    // T3-rtx (§7.2.3): ssthresh = max(7452/2, 6000) = 6000, cwnd = 1*MTU, RTO doubled.
    expect(p.rto).toBe(1000);
    onT3RtxExpiry(p, cfg, 5000);
    expect([p.ssthresh, p.cwnd, p.partialBytesAcked, p.rto]).toEqual([6000, 1500, 0, 2000]);
    expect(p.counters.t3Expiries).toBe(1);
  });

  it('the ssthresh floor of 4*MTU applies to both reductions', () => {
    const p = path('10.0.0.1', { aRwnd: 100_000 });
    onFastRetransmit(p, 5); // cwnd 4404 → max(2202, 6000)
    expect([p.ssthresh, p.cwnd]).toEqual([6000, 6000]);
    onT3RtxExpiry(p, cfg, 0);
    expect([p.ssthresh, p.cwnd]).toEqual([6000, 1500]);
  });

  it('T3 ends Fast Recovery on the path', () => {
    const p = path();
    onFastRetransmit(p, 77);
    onT3RtxExpiry(p, cfg, 0);
    expect(p.fastRecoveryExitTsn).toBeUndefined();
  });

  it('Fast Recovery exit compares TSNs in serial space (wrap-around)', () => {
    const p = path();
    onFastRetransmit(p, 0xffff_fffe);
    expect(maybeExitFastRecovery(p, 0xffff_fff0)).toBe(false);
    expect(maybeExitFastRecovery(p, 1)).toBe(true); // 1 is after 0xfffffffe
  });

  it('the caller may override the Fast Recovery flag (association-wide Fast Recovery)', () => {
    const p = path();
    onDataSent(p, 4404, 0);
    const fullyUtilized = isCwndFullyUtilized(p);
    removeFlight(p, 1000);
    onBytesAcked(p, 1000, { fullyUtilized, inFastRecovery: true });
    expect(p.cwnd).toBe(4404);
  });

  it('congestion avoidance caps partial_bytes_acked at cwnd when the window was not used', () => {
    const p = path('10.0.0.1', { aRwnd: 3000 }); // cwnd 4404 > ssthresh 3000: CA from the start
    onDataSent(p, 10_000, 0);
    onBytesAcked(p, 9000, { fullyUtilized: false });
    expect([p.cwnd, p.partialBytesAcked]).toEqual([4404, 4404]);
  });
});

describe('idle decay (§7.2.1) and send limits (§6.1 B, D)', () => {
  it('halves per RTO without data, to 4*MTU, lazily', () => {
    const p = path('10.0.0.1', { aRwnd: 1_000_000 });
    for (let i = 0; i < 12; i++) {
      onDataSent(p, p.cwnd, i);
      sack(p, p.cwnd);
    }
    expect(p.cwnd).toBe(4404 + 12 * 1500); // 22404
    const t0 = 11;
    expect(effectiveCwnd(p, t0 + 999)).toBe(22_404);
    expect(effectiveCwnd(p, t0 + 1000)).toBe(11_202);
    expect(effectiveCwnd(p, t0 + 2000)).toBe(6000); // max(5601, 6000)
    expect(effectiveCwnd(p, t0 + 10_000)).toBe(6000);
    applyIdleDecay(p, t0 + 1500);
    expect([p.cwnd, p.cwndIdleSince]).toEqual([11_202, t0 + 1000]);
    applyIdleDecay(p, t0 + 2000);
    expect(p.cwnd).toBe(6000);
  });

  it('does not decay with data in flight, and never raises cwnd', () => {
    const p = path();
    onDataSent(p, 1000, 0);
    expect(effectiveCwnd(p, 50_000)).toBe(4404);
    onT3RtxExpiry(p, cfg, 1000); // cwnd 1500, RTO 2000
    removeFlight(p, 1000);
    expect(effectiveCwnd(p, 100_000)).toBe(1500);
  });

  it('sendAllowance: cwnd − flight, at most Max.Burst*MTU, 0 when cwnd is used up', () => {
    const p = path('10.0.0.1', { aRwnd: 1_000_000 });
    expect(sendAllowance(p, cfg, 0)).toBe(4404);
    for (let i = 0; i < 11; i++) {
      onDataSent(p, p.cwnd, i);
      sack(p, p.cwnd);
    }
    expect(p.cwnd).toBe(20_904);
    onDataSent(p, 2000, 20);
    expect(sendAllowance(p, cfg, 20)).toBe(6000); // Max.Burst 4 × 1500
    expect(sendAllowance(p, config({ maxBurst: 20 }), 20)).toBe(18_904);
    onDataSent(p, 18_903, 20);
    expect(sendAllowance(p, cfg, 20)).toBe(1);
    onDataSent(p, 1, 20);
    expect(sendAllowance(p, cfg, 20)).toBe(0);
  });

  it('onDataSent counts retransmitted chunks (sctpAssocRemAddrRtx)', () => {
    const p = path();
    onDataSent(p, 3000, 0, 2);
    onDataSent(p, 1000, 1);
    expect(p.counters.rtxChunks).toBe(2);
    expect(p.lastDataSentAt).toBe(1);
  });
});

type Op =
  | { op: 'send'; bytes: number }
  | { op: 'ack'; bytes: number; inFastRecovery: boolean }
  | { op: 'fast'; tsn: number }
  | { op: 'exit'; tsn: number }
  | { op: 't3' }
  | { op: 'idle'; dt: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('send' as const), bytes: fc.integer({ min: 0, max: 100_000 }) }),
  fc.record({ op: fc.constant('ack' as const), bytes: fc.integer({ min: 0, max: 100_000 }), inFastRecovery: fc.boolean() }),
  fc.record({ op: fc.constant('fast' as const), tsn: fc.nat({ max: 0xffff_ffff }) }),
  fc.record({ op: fc.constant('exit' as const), tsn: fc.nat({ max: 0xffff_ffff }) }),
  fc.record({ op: fc.constant('t3' as const) }),
  fc.record({ op: fc.constant('idle' as const), dt: fc.integer({ min: 0, max: 200_000 }) }),
);

describe('property: cwnd ≥ 1*MTU and ssthresh ≥ 4*MTU after any event sequence', () => {
  it('holds', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(576, 1280, 1500, 9000),
        fc.integer({ min: 0, max: 4 * 1024 * 1024 }),
        fc.array(opArb, { maxLength: 200 }),
        (mtu, extraRwnd, ops) => {
          const p = path('10.0.0.1', { mtu, aRwnd: 4 * mtu + extraRwnd });
          let now = 0;
          for (const o of ops) {
            switch (o.op) {
              case 'send':
                onDataSent(p, o.bytes, now);
                break;
              case 'ack': {
                const fullyUtilized = isCwndFullyUtilized(p);
                const bytes = Math.min(o.bytes, p.flightSize);
                removeFlight(p, bytes);
                onBytesAcked(p, bytes, { fullyUtilized, inFastRecovery: o.inFastRecovery });
                break;
              }
              case 'fast':
                onFastRetransmit(p, o.tsn);
                break;
              case 'exit':
                maybeExitFastRecovery(p, o.tsn);
                break;
              case 't3':
                onT3RtxExpiry(p, cfg, now);
                break;
              case 'idle':
                now += o.dt;
                applyIdleDecay(p, now);
                break;
            }
            if (p.cwnd < mtu || p.ssthresh < 4 * mtu) return false;
            if (p.flightSize < 0 || p.partialBytesAcked < 0 || !Number.isInteger(p.cwnd)) return false;
            if (effectiveCwnd(p, now + 1e9) < mtu) return false;
          }
          return true;
        },
      ),
      { numRuns: 300, seed: 9260 },
    );
  });
});
