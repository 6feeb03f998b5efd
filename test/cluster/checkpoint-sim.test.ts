// Process restarts with a checkpoint server, on the simulator (issue #7
// part 1): a single node (no standby) checkpoints its portions; its process
// dies at many moments of a lossy transfer and a new one continues from the
// store. Sync mode: every echo arrives exactly once and the association never
// fails. Negative controls: no checkpoint server, and async mode when the
// updates in flight die with the process, lose the association.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runCheckpointRestartSimulation, type CheckpointRestartOptions, type CheckpointRestartResult } from '../../src/sim/checkpoint.js';

const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => createHmac('sha256', key).update(data).digest();
const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('base64');
const noisy = { loss: 0.03, reorder: 0.03, duplicate: 0.01 };

interface Sweep {
  runs: number;
  bad: { seed: number; killAt: number; r: CheckpointRestartResult }[];
  restored: number;
  failed: number;
}

function sweep(seeds: number, extra: Partial<CheckpointRestartOptions> = {}): Sweep {
  const out: Sweep = { runs: 0, bad: [], restored: 0, failed: 0 };
  for (let seed = 1; seed <= seeds; seed++) {
    // The association is up from about 30 ms; 80 messages every 2 ms end near 200 ms.
    const killAt = 15 + ((seed * 7919) % 185);
    const r = runCheckpointRestartSimulation({ seed, hmac, digest, messages: 80, killAt, ...noisy, ...extra });
    out.runs++;
    if (r.restoredAssociations > 0) out.restored++;
    if (r.failures.length > 0) out.failed++;
    if (r.lost || r.duplicated || r.reordered || r.corrupted || r.failures.length || r.error) out.bad.push({ seed, killAt, r });
  }
  return out;
}

const brief = (s: Sweep): unknown[] => s.bad.map((b) => ({ seed: b.seed, killAt: b.killAt, lost: b.r.lost, dup: b.r.duplicated, failures: b.r.failures, error: b.r.error }));

describe('checkpoint server: process restarts (simulation)', () => {
  it('without a kill every message is echoed once; one full update, then deltas', () => {
    const r = runCheckpointRestartSimulation({ seed: 1, hmac, digest, messages: 200, killAt: undefined, ...noisy });
    expect(r).toMatchObject({ echoed: 200, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, failures: [], restarted: false, shutdownComplete: true, fullUpdates: 1, refusals: 0 });
    expect(r.updates).toBeGreaterThan(100);
    // The figure README quotes: checkpoint bytes per echoed message (payloads 4..1203 bytes).
    process.stdout.write(`checkpoint bytes per echoed message (sim, 3 streams, ~600 B payloads): ${Math.round(r.portionBytes / 200)}\n`);
  });

  it('sync: kills at 50 moments of a lossy transfer; the restarted process continues, nothing lost, duplicated or aborted', () => {
    const s = sweep(50);
    expect(brief(s)).toEqual([]);
    // The sweep really restarted mid-association.
    expect(s.restored).toBeGreaterThan(25);
  });

  it('sync: still safe when the updates in flight die with the process (the output waited for them)', () => {
    const s = sweep(40, { storeDelay: 20, lostInFlight: true });
    expect(brief(s)).toEqual([]);
    expect(s.restored).toBeGreaterThan(15);
  });

  it('negative control: async mode with the same loss of in-flight updates loses the association', () => {
    const s = sweep(40, { mode: 'async', storeDelay: 20, lostInFlight: true });
    expect(s.bad.length).toBeGreaterThan(20);
    expect(s.failed).toBeGreaterThan(20);
  });

  it('negative control: without a checkpoint server the restarted process knows nothing: ABORT (or a cookie it cannot verify)', () => {
    const s = sweep(40, { noCheckpoint: true });
    expect(s.failed).toBeGreaterThan(20);
    // An ABORT for an association it does not know, or (killed during the handshake) a COOKIE ECHO it cannot verify.
    expect(s.bad.every((b) => b.r.failures.some((f) => f === 'communication-lost peer-abort' || f === 'cannot-start cookie-timeout'))).toBe(true);
    expect(s.bad.filter((b) => b.r.failures.includes('communication-lost peer-abort')).length).toBeGreaterThan(20);
  });

  it('a server that refuses (over its bound) makes the node unprotected, never stalled: every echo still arrives', () => {
    const r = runCheckpointRestartSimulation({ seed: 4, hmac, digest, messages: 100, killAt: undefined, maxBytes: 1500, ...noisy });
    expect(r).toMatchObject({ echoed: 100, lost: 0, duplicated: 0, failures: [], shutdownComplete: true });
    expect(r.refusals).toBeGreaterThan(0);
    expect(r.storeBytes).toBeLessThanOrEqual(1500);
  });
});
