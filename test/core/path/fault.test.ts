import { describe, it, expect } from 'vitest';
import {
  onPathError,
  onPathSuccess,
  onT3RtxExpiry,
  peerAddrChangeState,
  type PathEvent,
  type PathStatus,
} from '../../../src/core/path/index.js';
import { config, path } from './helpers.js';

/** The state after each of n errors, and the events seen. */
function strike(pfMaxRetrans: number, pathMaxRetrans: number, n: number): { states: PathStatus[]; events: PathEvent[] } {
  const c = config({ pfMaxRetrans, pathMaxRetrans });
  const p = path('10.0.0.1', { cfg: c });
  const states: PathStatus[] = [];
  const events: PathEvent[] = [];
  for (let i = 1; i <= n; i++) {
    const e = onPathError(p, c, i * 100);
    if (e) events.push(e);
    states.push(p.state);
  }
  return { states, events };
}

describe('RFC 9260 §8.2 + RFC 7829 §5 error thresholds (Path.Max.Retrans 5)', () => {
  it('pfMaxRetrans 0: PF on the first error, INACTIVE when errors exceed 5', () => {
    const { states, events } = strike(0, 5, 7);
    expect(states).toEqual(['pf', 'pf', 'pf', 'pf', 'pf', 'inactive', 'inactive']);
    expect(events).toEqual([
      { kind: 'path-state', address: '10.0.0.1', from: 'active', to: 'pf' },
      { kind: 'path-state', address: '10.0.0.1', from: 'pf', to: 'inactive' },
    ]);
  });

  it('pfMaxRetrans 1: PF on the second error', () => {
    const { states } = strike(1, 5, 6);
    expect(states).toEqual(['active', 'pf', 'pf', 'pf', 'pf', 'inactive']);
  });

  it('pfMaxRetrans = pathMaxRetrans: PF off, ACTIVE → INACTIVE directly', () => {
    const { states, events } = strike(5, 5, 6);
    expect(states).toEqual(['active', 'active', 'active', 'active', 'active', 'inactive']);
    expect(events).toEqual([{ kind: 'path-state', address: '10.0.0.1', from: 'active', to: 'inactive' }]);
    expect(strike(8, 5, 6).states.at(-1)).toBe('inactive');
  });

  it('pathMaxRetrans 0: the first error makes the path INACTIVE', () => {
    expect(strike(0, 0, 1).states).toEqual(['inactive']);
  });

  it('an UNCONFIRMED path only counts errors', () => {
    const c = config({ pfMaxRetrans: 0 });
    const p = path('10.0.0.9', { cfg: c, confirmed: false });
    for (let i = 0; i < 10; i++) expect(onPathError(p, c, i)).toBeUndefined();
    expect([p.state, p.errorCount]).toEqual(['unconfirmed', 10]);
    expect(onPathSuccess(p, 11)).toBeUndefined();
    expect([p.state, p.errorCount]).toEqual(['unconfirmed', 0]);
  });
});

describe('success returns the path to ACTIVE', () => {
  it('from PF and INACTIVE, clearing the error counter; cwnd untouched (RFC 7829)', () => {
    const c = config({ pfMaxRetrans: 0 });
    const p = path('10.0.0.1', { cfg: c });
    onT3RtxExpiry(p, c, 1000);
    expect(p.state).toBe('pf');
    const cwnd = p.cwnd;
    expect(onPathSuccess(p, 2000)).toEqual({ kind: 'path-state', address: '10.0.0.1', from: 'pf', to: 'active' });
    expect([p.state, p.errorCount, p.cwnd, p.stateChangedAt]).toEqual(['active', 0, cwnd, 2000]);

    for (let i = 0; i < 6; i++) onPathError(p, c, 3000 + i);
    expect(p.state).toBe('inactive');
    expect(onPathSuccess(p, 4000)?.from).toBe('inactive');
    expect(onPathSuccess(p, 4001)).toBeUndefined();
  });

  it('error count restarts after success: the PF threshold applies afresh', () => {
    const c = config({ pfMaxRetrans: 1 });
    const p = path('10.0.0.1', { cfg: c });
    onPathError(p, c, 1);
    onPathSuccess(p, 2);
    expect(onPathError(p, c, 3)).toBeUndefined();
    expect(onPathError(p, c, 4)?.to).toBe('pf');
  });
});

describe('RFC 6458 notification state names', () => {
  const ev = (from: PathStatus, to: PathStatus): PathEvent => ({ kind: 'path-state', address: 'a', from, to });
  it('maps transitions', () => {
    expect(peerAddrChangeState(ev('unconfirmed', 'active'))).toBe('SCTP_ADDR_CONFIRMED');
    expect(peerAddrChangeState(ev('pf', 'active'))).toBe('SCTP_ADDR_AVAILABLE');
    expect(peerAddrChangeState(ev('inactive', 'active'))).toBe('SCTP_ADDR_AVAILABLE');
    expect(peerAddrChangeState(ev('active', 'pf'))).toBe('SCTP_ADDR_POTENTIALLY_FAILED');
    expect(peerAddrChangeState(ev('pf', 'inactive'))).toBe('SCTP_ADDR_UNREACHABLE');
  });
});
