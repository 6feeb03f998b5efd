import { describe, it, expect } from 'vitest';
import { SeededRng } from '../../../src/core/env.js';
import {
  buildHeartbeatInfo,
  heartbeatDue,
  heartbeatTargets,
  nextHeartbeatAt,
  onDataSent,
  onHeartbeatAck,
  onHeartbeatTimeout,
  onT3RtxExpiry,
  parseHeartbeatInfo,
} from '../../../src/core/path/index.js';
import { config, path } from './helpers.js';

const cfg = config(); // RTO 1 s, HB.interval 30 s

describe('RFC 9260 §8.3 idle-path heartbeat timing', () => {
  it('first one at RTO + HB.interval after creation (jitter 0 before any draw)', () => {
    const p = path();
    expect(nextHeartbeatAt(p, cfg)).toBe(31_000);
    expect(heartbeatDue(p, cfg, 30_999)).toBe(false);
    expect(heartbeatDue(p, cfg, 31_000)).toBe(true);
  });

  it('DATA sent pushes it back (the path is not idle)', () => {
    const p = path();
    onDataSent(p, 100, 20_000);
    expect(nextHeartbeatAt(p, cfg)).toBe(51_000);
  });

  it('jitter δ stays within [−RTO/2, +RTO/2) over 1000 draws and spreads over the range', () => {
    const rng = new SeededRng(7);
    const p = path();
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 1000; i++) {
      const now = nextHeartbeatAt(p, cfg);
      const info = buildHeartbeatInfo(p, rng, now);
      const out = onHeartbeatAck(p, info, now + 50, cfg);
      expect(out.kind).toBe('ack');
      expect(p.rto).toBe(1000); // RTO.Min holds it
      const delta = nextHeartbeatAt(p, cfg) - (now + p.rto + cfg.hbInterval);
      expect(delta).toBeGreaterThanOrEqual(-p.rto / 2);
      expect(delta).toBeLessThan(p.rto / 2);
      lo = Math.min(lo, delta);
      hi = Math.max(hi, delta);
    }
    expect(lo).toBeLessThan(-450);
    expect(hi).toBeGreaterThan(450);
  });
});

describe('RFC 9260 §5.4 path verification', () => {
  it('an unconfirmed path is probed at once, then every (backed-off) RTO', () => {
    const rng = new SeededRng(1);
    const p = path('10.0.0.2', { confirmed: false, now: 500 });
    expect(nextHeartbeatAt(p, cfg)).toBe(500);
    buildHeartbeatInfo(p, rng, 500);
    expect(heartbeatDue(p, cfg, 1400)).toBe(false);
    expect(nextHeartbeatAt(p, cfg)).toBe(1500); // its timeout
    expect(onHeartbeatTimeout(p, cfg, 1499)).toEqual({ kind: 'not-due' });
    expect(onHeartbeatTimeout(p, cfg, 1500)).toEqual({ kind: 'timeout', event: undefined });
    expect([p.rto, p.errorCount, p.state]).toEqual([2000, 1, 'unconfirmed']);
    expect(nextHeartbeatAt(p, cfg)).toBe(1500); // next probe right away
    buildHeartbeatInfo(p, rng, 1500);
    expect(nextHeartbeatAt(p, cfg)).toBe(3500); // timeout after the doubled RTO
  });

  it('a matching HEARTBEAT ACK confirms, measures RTT and clears errors', () => {
    const c = config({ rtoMin: 100 });
    const rng = new SeededRng(2);
    const p = path('10.0.0.2', { confirmed: false, cfg: c });
    const info = buildHeartbeatInfo(p, rng, 0);
    onHeartbeatTimeout(p, c, 1000);
    const info2 = buildHeartbeatInfo(p, rng, 1000);
    expect(onHeartbeatAck(p, info, 1100, c)).toEqual({ kind: 'mismatch', reason: 'nonce' }); // the old one
    const out = onHeartbeatAck(p, info2, 1120, c);
    expect(out).toEqual({
      kind: 'ack',
      rtt: 120,
      confirmed: true,
      event: { kind: 'path-state', address: '10.0.0.2', from: 'unconfirmed', to: 'active' },
    });
    expect([p.state, p.errorCount, p.srtt, p.rttvar, p.rto, p.heartbeat]).toEqual(['active', 0, 120, 60, 360, undefined]);
    expect([p.counters.hbSent, p.counters.hbAcked, p.counters.hbTimeouts]).toEqual([2, 1, 1]);
    expect(onHeartbeatAck(p, info2, 1130, c)).toEqual({ kind: 'mismatch', reason: 'not-outstanding' });
  });

  it('a wrong nonce, another address or garbage does not confirm', () => {
    const rng = new SeededRng(3);
    const p = path('10.0.0.2', { confirmed: false });
    const q = path('10.0.0.3', { confirmed: false });
    const info = buildHeartbeatInfo(p, rng, 0);
    const qInfo = buildHeartbeatInfo(q, rng, 0);
    const forged = info.slice();
    forged[4]! ^= 0x01;
    expect(onHeartbeatAck(p, forged, 10, cfg)).toEqual({ kind: 'mismatch', reason: 'nonce' });
    expect(onHeartbeatAck(p, qInfo, 10, cfg)).toEqual({ kind: 'mismatch', reason: 'address' });
    expect(onHeartbeatAck(p, info.subarray(0, 10), 10, cfg)).toEqual({ kind: 'malformed' });
    expect(onHeartbeatAck(p, new Uint8Array(0), 10, cfg)).toEqual({ kind: 'malformed' });
    const badVersion = info.slice();
    badVersion[0] = 9;
    expect(onHeartbeatAck(p, badVersion, 10, cfg)).toEqual({ kind: 'malformed' });
    expect([p.state, p.counters.hbAcked, p.heartbeat?.sentAt]).toEqual(['unconfirmed', 0, 0]);
  });

  it('Heartbeat Info round-trips nonce, time and an IPv6 address', () => {
    const rng = new SeededRng(4);
    const p = path('2001:db8::1', { confirmed: false });
    const info = buildHeartbeatInfo(p, rng, 1234.5);
    const parsed = parseHeartbeatInfo(info);
    expect(parsed).toEqual({ nonce: p.heartbeat?.nonce, sentAt: 1234.5, address: '2001:db8::1' });
    expect(parsed?.nonce).toMatch(/^[0-9a-f]{16}$/);
    expect(info.length).toBe(22 + '2001:db8::1'.length);
    expect(parseHeartbeatInfo(new Uint8Array([...info, 0]))).toBeUndefined();
  });

  it('HB.Max.Burst limits unconfirmed probes in flight; confirmed paths are not limited', () => {
    const c = config({ hbMaxBurst: 1 });
    const rng = new SeededRng(5);
    const a = path('10.0.0.1');
    const u1 = path('10.0.0.2', { confirmed: false });
    const u2 = path('10.0.0.3', { confirmed: false });
    const paths = [a, u1, u2];
    expect(heartbeatTargets(paths, c, 0)).toEqual(['10.0.0.2']);
    buildHeartbeatInfo(u1, rng, 0);
    expect(heartbeatTargets(paths, c, 31_000)).toEqual(['10.0.0.1']);
    onHeartbeatTimeout(u1, c, 1000);
    expect(heartbeatTargets(paths, c, 1000)).toEqual(['10.0.0.2']);
    expect(heartbeatTargets(paths, config({ hbMaxBurst: 2 }), 1000)).toEqual(['10.0.0.2', '10.0.0.3']);
  });
});

describe('RFC 7829 §5.1 PF probing and §8.3 errors', () => {
  it('a PF path is probed at once, then once per RTO, HB.interval ignored', () => {
    const c = config({ pfMaxRetrans: 0 });
    const rng = new SeededRng(6);
    const p = path('10.0.0.1', { cfg: c });
    onDataSent(p, 1000, 0);
    onT3RtxExpiry(p, c, 1000); // PF, RTO 2000
    expect(p.state).toBe('pf');
    expect(nextHeartbeatAt(p, c)).toBe(1000);
    buildHeartbeatInfo(p, rng, 1000);
    const out = onHeartbeatTimeout(p, c, 3000);
    expect(out).toEqual({ kind: 'timeout', event: undefined });
    expect([p.rto, p.errorCount]).toEqual([4000, 2]);
    expect(nextHeartbeatAt(p, c)).toBe(3000);
    const info = buildHeartbeatInfo(p, rng, 3000);
    const ack = onHeartbeatAck(p, info, 3200, c);
    expect(ack.kind === 'ack' && ack.event).toEqual({ kind: 'path-state', address: '10.0.0.1', from: 'pf', to: 'active' });
    expect([p.state, p.errorCount, p.rto]).toEqual(['active', 0, 1000]);
  });

  it('an unanswered HEARTBEAT on an active path is an error that can make it PF', () => {
    const c = config({ pfMaxRetrans: 0 });
    const rng = new SeededRng(8);
    const p = path('10.0.0.1', { cfg: c });
    buildHeartbeatInfo(p, rng, 31_000);
    const out = onHeartbeatTimeout(p, c, 32_000);
    expect(out).toEqual({ kind: 'timeout', event: { kind: 'path-state', address: '10.0.0.1', from: 'active', to: 'pf' } });
    expect(p.rto).toBe(2000);
    expect(heartbeatDue(p, c, 32_000)).toBe(true);
  });
});
