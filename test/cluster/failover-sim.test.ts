// HA on the deterministic simulator (DESIGN.md §4, issue #6): a peer and a
// primary + standby cluster; the primary dies at many moments of the
// association's life, with loss, duplication and reordering on the peer's
// paths and on the cluster link. The peer's application must see every echo
// exactly once and in order, and the association must never fail. Negative
// controls turn the protections off and show that the guarantee then breaks.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runFailoverSimulation, type FailoverOptions, type FailoverResult } from '../../src/sim/cluster.js';

const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => createHmac('sha256', key).update(data).digest();
const hmacSha1 = (key: Uint8Array, data: Uint8Array): Uint8Array => createHmac('sha1', key).update(data).digest();
const noisy = { loss: 0.03, reorder: 0.03, duplicate: 0.02, linkLoss: 0.03, linkReorder: 0.03 };

interface Sweep {
  runs: number;
  bad: { seed: number; killAt: number; r: FailoverResult }[];
  lost: number;
  duplicated: number;
  promoted: number;
  redelivered: number;
}

function sweep(seeds: number, extra: Partial<FailoverOptions> = {}, killSpan = 700): Sweep {
  const out: Sweep = { runs: 0, bad: [], lost: 0, duplicated: 0, promoted: 0, redelivered: 0 };
  for (let seed = 1; seed <= seeds; seed++) {
    const killAt = (seed * 7919) % killSpan;
    const r = runFailoverSimulation({ seed, hmac, messages: 60, killAt, shutdown: true, ...noisy, ...extra });
    out.runs++;
    out.lost += r.lost;
    out.duplicated += r.duplicated;
    if (r.promoted) out.promoted++;
    out.redelivered += r.redelivered;
    if (r.lost || r.duplicated || r.reordered || r.corrupted || r.failures.length || r.error) out.bad.push({ seed, killAt, r });
  }
  return out;
}

describe('failover simulation (sync mode, output commit, application commit)', () => {
  it('without a kill every message is echoed once and the association shuts down cleanly', () => {
    const r = runFailoverSimulation({ seed: 1, hmac, messages: 200, killAt: undefined, shutdown: true, ...noisy });
    expect(r).toMatchObject({ echoed: 200, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, failures: [], promoted: false, shutdownComplete: true });
  });

  it('a kill mid-stream: the standby takes over, nothing lost, duplicated or reordered', () => {
    const r = runFailoverSimulation({ seed: 2, hmac, messages: 200, killAt: 150, shutdown: true });
    expect(r).toMatchObject({ echoed: 200, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, failures: [], promoted: true, shutdownComplete: true });
  });

  it('kills at 150 moments across handshake, transfer, retransmission and shutdown: 0 lost, 0 duplicated, never aborted', () => {
    const s = sweep(150, {}, 350);
    expect(s.bad.map((b) => ({ seed: b.seed, killAt: b.killAt, lost: b.r.lost, dup: b.r.duplicated, failures: b.r.failures, error: b.r.error }))).toEqual([]);
    // The sweep really exercised takeovers, including re-delivery of uncommitted messages.
    expect(s.promoted).toBeGreaterThan(75);
  });

  it('the same with AUTH and ADD-IP negotiated: the promoted standby asks the peer for its address (ASCONF Set Primary)', () => {
    const s = sweep(100, { hmacSha1 }, 350);
    expect(s.bad.map((b) => ({ seed: b.seed, killAt: b.killAt, lost: b.r.lost, dup: b.r.duplicated, failures: b.r.failures, error: b.r.error }))).toEqual([]);
    expect(s.promoted).toBeGreaterThan(50);
  });

  it('the same when the cluster initiates the association', () => {
    const s = sweep(60, { clusterInitiates: true }, 350);
    expect(s.bad.map((b) => ({ seed: b.seed, killAt: b.killAt, lost: b.r.lost, failures: b.r.failures, error: b.r.error }))).toEqual([]);
    expect(s.promoted).toBeGreaterThan(25);
  });

  it('planned switchover: no loss and no retransmission timeout at the peer', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = runFailoverSimulation({ seed, hmac, messages: 200, killAt: undefined, handoverAt: 120 + seed * 13 });
      expect(r).toMatchObject({ handedOver: true, promoted: true, lost: 0, duplicated: 0, reordered: 0, failures: [] });
      expect(r.peerT3Expiries).toBe(0);
    }
  });

  it('a standby that never got in sync does not continue a stale copy: the loss is explicit (the peer sees the association fail), not silent', () => {
    // The cluster link comes up only after the primary died: the standby holds no copy.
    const r = runFailoverSimulation({ seed: 7, hmac, messages: 100, killAt: 200, joinAt: 10_000, maxTime: 60_000 });
    expect(r.lost).toBeGreaterThan(0);
    expect(r.failures.length).toBeGreaterThan(0);
  });
});

describe('negative controls: without the protections the guarantee breaks', () => {
  it('without withholding SACKs and DATA (output hold off), some kills lose messages or abort the association', () => {
    const s = sweep(120, { unsafeNoHold: true });
    expect(s.bad.length).toBeGreaterThan(0);
  });

  it('async mode loses messages in some kills', () => {
    const s = sweep(120, { mode: 'async' });
    expect(s.bad.length).toBeGreaterThan(0);
  });

  it('without application commit, the promoted standby re-delivers what was already answered: duplicates', () => {
    const s = sweep(60, { commit: false });
    expect(s.duplicated).toBeGreaterThan(0);
  });
});
