import { describe, it, expect } from 'vitest';
import { SeededRng } from '../../../src/core/env.js';
import {
  buildHeartbeatInfo,
  isCwndFullyUtilized,
  maybeExitFastRecovery,
  nextHeartbeatAt,
  onBytesAcked,
  onDataSent,
  onFastRetransmit,
  onHeartbeatAck,
  onHeartbeatTimeout,
  onPathSuccess,
  onRttMeasurement,
  onT3RtxExpiry,
  removeFlight,
  selectDestination,
  sendAllowance,
  type PathState,
} from '../../../src/core/path/index.js';
import { config, path } from './helpers.js';

const cfg = config({ pfMaxRetrans: 1, rtoMin: 200 });

/** A scripted run over two paths; returns every output in order. */
function script(paths: PathState[], rng: SeededRng, t0: number, steps: number): unknown[] {
  const out: unknown[] = [];
  let now = t0;
  for (let i = 0; i < steps; i++) {
    const p = paths[i % paths.length]!;
    now += 137;
    out.push(sendAllowance(p, cfg, now));
    onDataSent(p, 1200, now, i % 5 === 0 ? 1 : 0);
    if (i % 7 === 3) {
      out.push(onT3RtxExpiry(p, cfg, now));
    } else if (i % 11 === 5) {
      out.push(onFastRetransmit(p, (0xffff_fff0 + i) >>> 0));
    } else {
      const fullyUtilized = isCwndFullyUtilized(p);
      removeFlight(p, 1000);
      out.push(maybeExitFastRecovery(p, (0xffff_fff0 + i) >>> 0));
      onBytesAcked(p, 1000, { fullyUtilized });
      onRttMeasurement(p, 40 + (i % 13), cfg);
      out.push(onPathSuccess(p, now));
    }
    if (i % 4 === 0) {
      const info = buildHeartbeatInfo(p, rng, now);
      out.push(i % 8 === 0 ? onHeartbeatAck(p, info, now + 30, cfg) : onHeartbeatTimeout(p, cfg, now + p.rto));
    }
    out.push(nextHeartbeatAt(p, cfg));
    out.push(selectDestination(paths, '10.0.0.1', cfg, '10.0.0.2'));
  }
  return out;
}

describe('plain data: structuredClone then continuing gives identical results', () => {
  it('matches the original step for step', () => {
    const original = [path('10.0.0.1', { cfg }), path('10.0.0.2', { cfg, confirmed: false })];
    script(original, new SeededRng(42), 0, 40);

    const copy = structuredClone(original);
    expect(copy).toEqual(original);
    const a = script(original, new SeededRng(99), 100_000, 60);
    const b = script(copy, new SeededRng(99), 100_000, 60);
    expect(b).toEqual(a);
    expect(copy).toEqual(original);
  });

  it('the state survives a JSON round trip up to undefined fields (no class instances inside)', () => {
    const p = path();
    onDataSent(p, 100, 1);
    const json = JSON.parse(JSON.stringify(p)) as Record<string, unknown>;
    for (const [k, v] of Object.entries(p)) {
      if (v !== undefined) expect(json[k]).toEqual(v);
    }
  });
});
