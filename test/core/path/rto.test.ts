import { describe, it, expect } from 'vitest';
import {
  backOffRto,
  backedOffRtos,
  failureDetectionTime,
  onRttMeasurement,
  onT3RtxExpiry,
  CLOCK_GRANULARITY,
} from '../../../src/core/path/index.js';
import { config, path } from './helpers.js';

// RFC 9260 §6.3.1 with RTO.Alpha = 1/8 and RTO.Beta = 1/4 (exact in binary).
const fast = config({ rtoMin: 10, rtoInitial: 1000, rtoMax: 60_000 });

describe('RFC 9260 §6.3.1 RTO calculation', () => {
  it('C1: RTO.Initial before any measurement, no SRTT/RTTVAR', () => {
    const p = path('10.0.0.1', { cfg: fast });
    expect(p.rto).toBe(1000);
    expect(p.srtt).toBeUndefined();
    expect(p.rttvar).toBeUndefined();
  });

  it('C2: first measurement R=100 → SRTT 100, RTTVAR 50, RTO 300', () => {
    const p = path('10.0.0.1', { cfg: fast });
    expect(onRttMeasurement(p, 100, fast)).toBe(true);
    expect([p.srtt, p.rttvar, p.rto]).toEqual([100, 50, 300]);
  });

  it('C3: RTTVAR uses the old SRTT; hand-computed sequence 100, 200, 100', () => {
    const p = path('10.0.0.1', { cfg: fast });
    onRttMeasurement(p, 100, fast);
    onRttMeasurement(p, 200, fast);
    // RTTVAR = 3/4·50 + 1/4·|100−200| = 62.5 ; SRTT = 7/8·100 + 1/8·200 = 112.5
    expect([p.srtt, p.rttvar, p.rto]).toEqual([112.5, 62.5, 362.5]);
    onRttMeasurement(p, 100, fast);
    // RTTVAR = 3/4·62.5 + 1/4·12.5 = 50 ; SRTT = 7/8·112.5 + 1/8·100 = 110.9375
    expect([p.srtt, p.rttvar, p.rto]).toEqual([110.9375, 50, 310.9375]);
    expect(p.counters.rttMeasurements).toBe(3);
  });

  it('C6: RTO below RTO.Min rounds up (default RTO.Min = 1 s)', () => {
    const c = config();
    const p = path();
    onRttMeasurement(p, 100, c);
    expect(p.srtt).toBe(100);
    expect(p.rto).toBe(1000);
  });

  it('C7: RTO above RTO.Max is capped', () => {
    const p = path('10.0.0.1', { cfg: fast });
    onRttMeasurement(p, 30_000, fast); // 30000 + 4·15000 = 90000
    expect(p.rto).toBe(60_000);
  });

  it('G1: RTTVAR of 0 becomes the clock granularity G = 1 ms', () => {
    const c = config({ rtoMin: 1, rtoInitial: 1000 });
    const p = path('10.0.0.1', { cfg: c });
    onRttMeasurement(p, 0, c);
    expect(CLOCK_GRANULARITY).toBe(1);
    expect([p.srtt, p.rttvar, p.rto]).toEqual([0, 1, 4]);
  });

  it('rejects a negative, NaN or infinite sample without touching state', () => {
    const p = path('10.0.0.1', { cfg: fast });
    onRttMeasurement(p, 100, fast);
    const before = structuredClone(p);
    expect(onRttMeasurement(p, -1, fast)).toBe(false);
    expect(onRttMeasurement(p, Number.NaN, fast)).toBe(false);
    expect(onRttMeasurement(p, Number.POSITIVE_INFINITY, fast)).toBe(false);
    expect(p).toEqual(before);
  });
});

describe('RFC 9260 §6.3.3 E2 backoff and Karn', () => {
  it('doubles RTO up to RTO.Max', () => {
    const c = config({ rtoMin: 10, rtoInitial: 300, rtoMax: 1000 });
    const p = path('10.0.0.1', { cfg: c });
    backOffRto(p, c);
    expect(p.rto).toBe(600);
    backOffRto(p, c);
    expect(p.rto).toBe(1000);
    backOffRto(p, c);
    expect(p.rto).toBe(1000);
  });

  it('a fresh measurement after backoff recomputes RTO from SRTT (the backoff does not stick)', () => {
    const p = path('10.0.0.1', { cfg: fast });
    onRttMeasurement(p, 100, fast); // RTO 300
    backOffRto(p, fast);
    backOffRto(p, fast);
    expect(p.rto).toBe(1200);
    // Karn (C5) is the caller's duty: only a never-retransmitted chunk yields this sample.
    onRttMeasurement(p, 100, fast);
    // RTTVAR = 3/4·50 + 0 = 37.5 ; SRTT = 100 ; RTO = 250
    expect([p.srtt, p.rttvar, p.rto]).toEqual([100, 37.5, 250]);
  });

  it('backedOffRtos lists the timeouts, capped', () => {
    expect(backedOffRtos(config({ rtoMax: 10_000 }), 6, 1000)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backedOffRtos(config(), 0, 1000)).toEqual([]);
  });
});

describe('failure detection time (RFC 9260 §8.2, RFC 7829 §5)', () => {
  it('defaults: 63 s to INACTIVE; PF off by default so the same 63 s', () => {
    const c = config();
    expect(failureDetectionTime(c, { pf: false })).toBe(1000 + 2000 + 4000 + 8000 + 16_000 + 32_000);
    expect(failureDetectionTime(c, { pf: true })).toBe(63_000); // pfMaxRetrans 5 = pathMaxRetrans: PF off
  });

  it('PF: pfMaxRetrans 0 switches after one RTO, 1 after RTO + 2·RTO', () => {
    expect(failureDetectionTime(config({ pfMaxRetrans: 0 }), { pf: true })).toBe(1000);
    expect(failureDetectionTime(config({ pfMaxRetrans: 1 }), { pf: true })).toBe(3000);
    expect(failureDetectionTime(config({ pfMaxRetrans: 1 }), { pf: false })).toBe(63_000);
  });

  it('honours RTO.Max, a starting RTO and clamps it', () => {
    expect(failureDetectionTime(config({ rtoMax: 10_000 }), { pf: false })).toBe(35_000);
    const c = config({ rtoMin: 200, rtoInitial: 1000, pathMaxRetrans: 2 });
    expect(failureDetectionTime(c, { pf: false, rto: 200 })).toBe(200 + 400 + 800);
    expect(failureDetectionTime(c, { pf: false, rto: 50 })).toBe(1400); // clamped up to RTO.Min
  });

  it('matches a path driven through T3-rtx expiries until it changes state', () => {
    for (const [pfMaxRetrans, pf] of [[5, false], [0, true], [1, true], [3, true]] as const) {
      const c = config({ pfMaxRetrans });
      const p = path('10.0.0.1', { cfg: c });
      let t = 0;
      for (let i = 0; i < 100 && p.state === 'active'; i++) {
        t += p.rto; // T3-rtx runs one (backed-off) RTO after each (re)transmission
        onT3RtxExpiry(p, c, t);
      }
      expect(p.state).toBe(pf ? 'pf' : 'inactive');
      expect(t).toBe(failureDetectionTime(c, { pf }));
    }
  });
});
