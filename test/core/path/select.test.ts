import { describe, it, expect } from 'vitest';
import {
  onPacketFrom,
  onPathError,
  selectDestination,
  selectRetransmitDestination,
  type PathState,
  type PathStatus,
} from '../../../src/core/path/index.js';
import { config, path } from './helpers.js';

const A = '10.0.0.1';
const B = '10.0.1.1';
const C = '10.0.2.1';

interface Spec {
  readonly state: PathStatus;
  readonly errors?: number;
  readonly heard?: number;
}

/** Builds paths through the public API: errors via onPathError, state via the thresholds. */
function build(specs: Record<string, Spec>): PathState[] {
  const c = config({ pfMaxRetrans: 0, pathMaxRetrans: 5 });
  return Object.entries(specs).map(([address, s]) => {
    const p = path(address, { confirmed: s.state !== 'unconfirmed', cfg: c });
    const errors = s.errors ?? (s.state === 'pf' ? 1 : s.state === 'inactive' ? 6 : 0);
    for (let i = 0; i < errors; i++) onPathError(p, c, i);
    if (s.heard !== undefined) onPacketFrom(p, s.heard);
    if (s.state !== 'unconfirmed') expect(p.state).toBe(s.state);
    return p;
  });
}

const off = { primaryPathSwitchover: false };
const on = { primaryPathSwitchover: true };

describe('RFC 9260 §6.4 / RFC 7829 §5.1 selection for new data', () => {
  const table: Array<[string, Record<string, Spec>, { address: string; reason: string } | undefined]> = [
    ['all active → primary', { [A]: { state: 'active' }, [B]: { state: 'active' }, [C]: { state: 'active' } }, { address: A, reason: 'primary' }],
    ['primary PF → active alternate heard last', { [A]: { state: 'pf' }, [B]: { state: 'active', heard: 5 }, [C]: { state: 'active', heard: 9 } }, { address: C, reason: 'active-alternate' }],
    ['primary inactive → active alternate in list order on a tie', { [A]: { state: 'inactive' }, [B]: { state: 'active' }, [C]: { state: 'active' } }, { address: B, reason: 'active-alternate' }],
    ['all PF → fewest errors', { [A]: { state: 'pf', errors: 3 }, [B]: { state: 'pf', errors: 2 }, [C]: { state: 'inactive' } }, { address: B, reason: 'potentially-failed' }],
    ['all PF, same errors → heard last', { [A]: { state: 'pf', heard: 1 }, [B]: { state: 'pf', heard: 7 }, [C]: { state: 'pf', heard: 3 } }, { address: B, reason: 'potentially-failed' }],
    ['all PF, full tie → primary', { [B]: { state: 'pf' }, [A]: { state: 'pf' }, [C]: { state: 'pf' } }, { address: A, reason: 'potentially-failed' }],
    ['PF beats inactive, even the primary', { [A]: { state: 'inactive' }, [B]: { state: 'pf', errors: 4 } }, { address: B, reason: 'potentially-failed' }],
    ['all inactive → primary', { [A]: { state: 'inactive' }, [B]: { state: 'inactive', heard: 50 } }, { address: A, reason: 'no-active-path' }],
    ['unconfirmed never carries data', { [A]: { state: 'pf' }, [B]: { state: 'unconfirmed' } }, { address: A, reason: 'potentially-failed' }],
    ['unconfirmed primary: best inactive', { [A]: { state: 'unconfirmed' }, [B]: { state: 'inactive', heard: 1 }, [C]: { state: 'inactive', heard: 2 } }, { address: C, reason: 'no-active-path' }],
    ['only unconfirmed → nothing', { [A]: { state: 'unconfirmed' }, [B]: { state: 'unconfirmed' } }, undefined],
    ['single path PF → it', { [A]: { state: 'pf' } }, { address: A, reason: 'potentially-failed' }],
    ['single path inactive → it', { [A]: { state: 'inactive' } }, { address: A, reason: 'no-active-path' }],
  ];
  for (const [name, specs, expected] of table) {
    it(name, () => {
      expect(selectDestination(build(specs), A, off)).toEqual(expected);
    });
  }

  it('no paths → undefined', () => {
    expect(selectDestination([], A, off)).toBeUndefined();
  });
});

describe('RFC 7829 §6 Primary Path Switchover', () => {
  const healthy = (): PathState[] => build({ [A]: { state: 'active' }, [B]: { state: 'active' }, [C]: { state: 'active' } });

  it('on: stays on the active alternate after the primary recovered', () => {
    expect(selectDestination(healthy(), A, on, B)).toEqual({ address: B, reason: 'switchover-alternate' });
  });

  it('off: returns to the primary as soon as it is active', () => {
    expect(selectDestination(healthy(), A, off, B)).toEqual({ address: A, reason: 'primary' });
  });

  it('on: leaves the alternate when it fails, back to the active primary', () => {
    const paths = build({ [A]: { state: 'active' }, [B]: { state: 'pf' }, [C]: { state: 'active' } });
    expect(selectDestination(paths, A, on, B)).toEqual({ address: A, reason: 'primary' });
  });

  it('on: first switch happens when the primary leaves ACTIVE', () => {
    const paths = build({ [A]: { state: 'pf' }, [B]: { state: 'active' } });
    expect(selectDestination(paths, A, on, A)).toEqual({ address: B, reason: 'active-alternate' });
    expect(selectDestination(paths, A, on)).toEqual({ address: B, reason: 'active-alternate' });
  });
});

describe('RFC 9260 §6.4.1 retransmission destination', () => {
  it('an active alternate when one exists', () => {
    const paths = build({ [A]: { state: 'active' }, [B]: { state: 'active' } });
    expect(selectRetransmitDestination(paths, A, off)).toEqual({ address: B, reason: 'active-alternate' });
    expect(selectRetransmitDestination(paths, B, off)).toEqual({ address: A, reason: 'active-alternate' });
  });

  it('the same destination when it is the only active one', () => {
    const paths = build({ [A]: { state: 'active' }, [B]: { state: 'inactive' }, [C]: { state: 'unconfirmed' } });
    expect(selectRetransmitDestination(paths, A, off)).toEqual({ address: A, reason: 'same-destination' });
  });

  it('no active path: PF with fewest errors, else the last destination', () => {
    const pf = build({ [A]: { state: 'pf', errors: 3 }, [B]: { state: 'pf', errors: 1 } });
    expect(selectRetransmitDestination(pf, A, off)).toEqual({ address: B, reason: 'potentially-failed' });
    const dead = build({ [A]: { state: 'inactive' }, [B]: { state: 'inactive' } });
    expect(selectRetransmitDestination(dead, B, off)).toEqual({ address: B, reason: 'no-active-path' });
  });
});
