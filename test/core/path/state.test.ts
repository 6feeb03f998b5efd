import { describe, it, expect } from 'vitest';
import {
  addFlight,
  ipFamilyOf,
  maxDataPayload,
  onDataSent,
  onRttMeasurement,
  onT3RtxExpiry,
  removeFlight,
  resetPathForRestart,
  setPathMtu,
} from '../../../src/core/path/index.js';
import { config, path } from './helpers.js';

describe('path MTU and DATA payload', () => {
  it('MTU − IP − 12 − 16, rounded down to 4', () => {
    expect(maxDataPayload(1500, 'ipv4')).toBe(1452);
    expect(maxDataPayload(1500, 'ipv6')).toBe(1432);
    expect(maxDataPayload(1499, 'ipv4')).toBe(1448);
    expect(maxDataPayload(576, 'ipv4')).toBe(528);
    expect(maxDataPayload(1280, 'ipv6')).toBe(1212);
    expect(maxDataPayload(40, 'ipv4')).toBe(0);
  });

  it('ipFamilyOf reads canonical address text', () => {
    expect(ipFamilyOf('192.0.2.1')).toBe('ipv4');
    expect(ipFamilyOf('2001:db8::1')).toBe('ipv6');
    expect(ipFamilyOf('::ffff:192.0.2.1')).toBe('ipv6');
  });

  it('a smaller MTU keeps cwnd; a larger one lifts cwnd to at least 1*MTU', () => {
    const p = path();
    setPathMtu(p, 1280);
    expect([p.mtu, p.cwnd]).toEqual([1280, 4404]);
    setPathMtu(p, 9000);
    expect([p.mtu, p.cwnd]).toEqual([9000, 9000]);
    setPathMtu(p, 0);
    expect(p.mtu).toBe(9000);
  });
});

describe('flight size bookkeeping', () => {
  it('adds and removes, never below zero', () => {
    const p = path();
    addFlight(p, 1000);
    addFlight(p, -5);
    removeFlight(p, 400);
    expect(p.flightSize).toBe(600);
    removeFlight(p, 10_000);
    expect(p.flightSize).toBe(0);
  });
});

describe('RFC 9260 §5.2.4 restart reset', () => {
  it('congestion and RTO state back to initial, counters kept', () => {
    const c = config({ rtoMin: 10 });
    const p = path('10.0.0.1', { cfg: c });
    onRttMeasurement(p, 100, c);
    onDataSent(p, 3000, 0, 1);
    onT3RtxExpiry(p, c, 1000);
    resetPathForRestart(p, 20_000, c);
    expect([p.cwnd, p.ssthresh, p.flightSize, p.rto, p.srtt, p.rttvar, p.errorCount]).toEqual([
      4404, 20_000, 0, 1000, undefined, undefined, 0,
    ]);
    expect([p.counters.t3Expiries, p.counters.rtxChunks]).toEqual([1, 1]);
  });
});
