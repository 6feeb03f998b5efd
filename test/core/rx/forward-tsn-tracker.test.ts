/** RFC 3758 §3.6: FORWARD TSN moves the cumulative TSN ack. */
import { describe, it, expect } from 'vitest';
import { buildSack, createDataTracker, onData, onForwardTsn } from '../../../src/core/rx/data-tracker.js';

function tracker(initial: number, ...tsns: number[]) {
  const t = createDataTracker(initial);
  for (const tsn of tsns) onData(t, tsn, { immediate: false });
  return t;
}

describe('data tracker: FORWARD TSN', () => {
  it('advances to the new cumulative TSN, then over TSNs already received', () => {
    const t = tracker(100, 100, 103, 104, 107);
    expect(onForwardTsn(t, 102)).toBe('advanced');
    expect(buildSack(t, 0)).toMatchObject({ cumulativeTsnAck: 104, gapBlocks: [{ start: 3, end: 3 }] });
  });

  it('trims a gap range it cuts through', () => {
    const t = tracker(100, 100, 103, 104, 105, 108);
    onForwardTsn(t, 104);
    expect(buildSack(t, 0)).toMatchObject({ cumulativeTsnAck: 105, gapBlocks: [{ start: 3, end: 3 }] });
  });

  it('forgets every range below a new cumulative TSN past them all', () => {
    const t = tracker(100, 100, 103, 107);
    onForwardTsn(t, 110);
    expect(buildSack(t, 0)).toMatchObject({ cumulativeTsnAck: 110, gapBlocks: [] });
    expect(onData(t, 109, { immediate: false })).toBe('duplicate');
    expect(onData(t, 111, { immediate: false })).toBe('new');
  });

  it('ignores a new cumulative TSN at or behind the current one', () => {
    const t = tracker(100, 100, 101, 103);
    expect(onForwardTsn(t, 101)).toBe('stale');
    expect(onForwardTsn(t, 50)).toBe('stale');
    expect(buildSack(t, 0)).toMatchObject({ cumulativeTsnAck: 101, gapBlocks: [{ start: 2, end: 2 }] });
  });

  it('works across the TSN wrap', () => {
    const t = tracker(0xffff_fffe, 0xffff_fffe, 1, 2);
    expect(onForwardTsn(t, 0)).toBe('advanced');
    expect(buildSack(t, 0)).toMatchObject({ cumulativeTsnAck: 2, gapBlocks: [] });
  });
});
