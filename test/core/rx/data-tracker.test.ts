/** RFC 9260 §3.3.4 / §6.2 / §6.7: which TSNs a SACK acknowledges, and the tracker's bounds. */
import { describe, it, expect } from 'vitest';
import {
  buildSack,
  createDataTracker,
  gapBlocksThatFit,
  hasReceived,
  highestTsnReceived,
  onData,
  onSackSent,
  shouldAccept,
  type DataTracker,
} from '../../../src/core/rx/data-tracker.js';

function receive(t: DataTracker, ...tsns: number[]): string[] {
  return tsns.map((tsn) => onData(t, tsn, { immediate: false }));
}

describe('data tracker: SACK contents (RFC 9260 §3.3.4)', () => {
  it('starts with the cumulative TSN ack one before the peer initial TSN', () => {
    const t = createDataTracker(100);
    expect(buildSack(t, 5000)).toEqual({ kind: 'sack', cumulativeTsnAck: 99, aRwnd: 5000, gapBlocks: [], duplicateTsns: [] });
    expect(createDataTracker(0).cumulativeTsnAck).toBe(0xffff_ffff);
  });

  it('advances the cumulative ack over in-sequence TSNs', () => {
    const t = createDataTracker(100);
    expect(receive(t, 100, 101, 102)).toEqual(['new', 'new', 'new']);
    expect(buildSack(t, 1000).cumulativeTsnAck).toBe(102);
  });

  it('reports out-of-order TSNs as gap blocks offset from the cumulative ack', () => {
    const t = createDataTracker(100);
    receive(t, 100, 102, 103, 106);
    expect(buildSack(t, 1000)).toEqual({
      kind: 'sack', cumulativeTsnAck: 100, aRwnd: 1000,
      gapBlocks: [{ start: 2, end: 3 }, { start: 6, end: 6 }], duplicateTsns: [],
    });
    expect(highestTsnReceived(t)).toBe(106);
    expect(hasReceived(t, 103)).toBe(true);
    expect(hasReceived(t, 104)).toBe(false);
  });

  it('a TSN filling the first gap moves the cumulative ack over the following block', () => {
    const t = createDataTracker(100);
    receive(t, 100, 102, 103, 106);
    receive(t, 101);
    expect(buildSack(t, 1000).cumulativeTsnAck).toBe(103);
    expect(buildSack(t, 1000).gapBlocks).toEqual([{ start: 3, end: 3 }]);
    receive(t, 105);
    expect(buildSack(t, 1000).gapBlocks).toEqual([{ start: 2, end: 3 }]);
    receive(t, 104);
    expect(buildSack(t, 1000)).toMatchObject({ cumulativeTsnAck: 106, gapBlocks: [] });
  });

  it('merges two blocks when the TSN between them arrives', () => {
    const t = createDataTracker(1);
    receive(t, 1, 3, 5);
    receive(t, 4);
    expect(buildSack(t, 0).gapBlocks).toEqual([{ start: 2, end: 4 }]);
  });

  it('lists each duplicate occurrence until the next SACK is sent', () => {
    const t = createDataTracker(100);
    expect(receive(t, 100, 100, 102, 102, 100)).toEqual(['new', 'duplicate', 'new', 'duplicate', 'duplicate']);
    expect(buildSack(t, 1000).duplicateTsns).toEqual([100, 102, 100]);
    // buildSack does not consume: a SACK held back (HA sync) is rebuilt identical.
    expect(buildSack(t, 1000).duplicateTsns).toEqual([100, 102, 100]);
    onSackSent(t);
    expect(buildSack(t, 1000).duplicateTsns).toEqual([]);
    expect(buildSack(t, 1000).gapBlocks).toEqual([{ start: 2, end: 2 }]);
  });

  it('handles the TSN wrap at 2^32', () => {
    const t = createDataTracker(0xffff_fff0);
    receive(t, 0xffff_fff0, 0xffff_fffe, 0xffff_ffff, 0, 1);
    expect(buildSack(t, 1)).toMatchObject({ cumulativeTsnAck: 0xffff_fff0, gapBlocks: [{ start: 14, end: 17 }] });
    for (let tsn = 0xffff_fff1; tsn <= 0xffff_fffd; tsn++) receive(t, tsn);
    expect(buildSack(t, 1)).toMatchObject({ cumulativeTsnAck: 1, gapBlocks: [] });
    expect(receive(t, 0xffff_ffff, 2)).toEqual(['duplicate', 'new']);
  });

  it('clamps a_rwnd into 32 bits', () => {
    const t = createDataTracker(1);
    expect(buildSack(t, -5).aRwnd).toBe(0);
    expect(buildSack(t, 2 ** 40).aRwnd).toBe(0xffff_ffff);
  });
});

describe('data tracker: bounds', () => {
  it('reports at most maxGapBlocks blocks, those nearest the cumulative ack first', () => {
    const t = createDataTracker(1);
    receive(t, 1, 3, 5, 7, 9);
    expect(buildSack(t, 0, 2).gapBlocks).toEqual([{ start: 2, end: 2 }, { start: 4, end: 4 }]);
    expect(buildSack(t, 0, 0).gapBlocks).toEqual([]);
    expect(buildSack(t, 0).gapBlocks).toHaveLength(4);
  });

  it('computes how many gap blocks fit next to the duplicates', () => {
    expect(gapBlocksThatFit(1452, 0)).toBe(359);
    expect(gapBlocksThatFit(1452, 32)).toBe(327);
    expect(gapBlocksThatFit(10, 0)).toBe(0);
  });

  it('remembers at most maxDuplicateReports duplicates per SACK (default 32)', () => {
    const t = createDataTracker(1);
    receive(t, 1);
    for (let i = 0; i < 40; i++) receive(t, 1);
    expect(buildSack(t, 0).duplicateTsns).toHaveLength(32);
    const small = createDataTracker(1, { maxDuplicateReports: 2 });
    receive(small, 1, 1, 1, 1);
    expect(buildSack(small, 0).duplicateTsns).toEqual([1, 1]);
  });

  it('refuses a TSN further than maxTsnWindow (at most 65535) past the cumulative ack', () => {
    const t = createDataTracker(1);
    expect(receive(t, 65535)).toEqual(['new']);
    expect(receive(t, 65536)).toEqual(['dropped-no-room']);
    expect(buildSack(t, 0).gapBlocks).toEqual([{ start: 65535, end: 65535 }]);
    const narrow = createDataTracker(1, { maxTsnWindow: 10 });
    expect(receive(narrow, 10, 11)).toEqual(['new', 'dropped-no-room']);
    // A window wider than a gap block offset can express is capped.
    expect(createDataTracker(1, { maxTsnWindow: 1_000_000 }).limits.maxTsnWindow).toBe(65535);
  });

  it('refuses a TSN that would open one gap range too many, but never one that extends a range or the cumulative ack', () => {
    const t = createDataTracker(1, { maxGapRanges: 2 });
    expect(receive(t, 3, 5, 7)).toEqual(['new', 'new', 'dropped-no-room']);
    expect(receive(t, 6, 4, 1, 2, 7)).toEqual(['new', 'new', 'new', 'new', 'new']);
    expect(buildSack(t, 0)).toMatchObject({ cumulativeTsnAck: 7, gapBlocks: [] });
  });

  it('with the window full, drops TSNs beyond the highest received and accepts hole fillers (RFC 9260 §6.2)', () => {
    const t = createDataTracker(1);
    receive(t, 1, 2, 5);
    expect(shouldAccept(t, 6, 1000, 1000)).toBe('dropped-window-full');
    expect(shouldAccept(t, 3, 1000, 1000)).toBe('new');
    expect(shouldAccept(t, 6, 999, 1000)).toBe('new');
    expect(shouldAccept(t, 2, 1000, 1000)).toBe('duplicate');
    expect(onData(t, 6, { immediate: false, bufferedBytes: 2000, receiveWindow: 1000 })).toBe('dropped-window-full');
    expect(onData(t, 3, { immediate: false, bufferedBytes: 2000, receiveWindow: 1000 })).toBe('new');
    expect(onData(t, 4, { immediate: false, bufferedBytes: 2000, receiveWindow: 1000 })).toBe('new');
    // No hole left: even the next in-sequence TSN is beyond the highest received.
    expect(onData(t, 6, { immediate: false, bufferedBytes: 2000, receiveWindow: 1000 })).toBe('dropped-window-full');
    // Dropped TSNs are not acknowledged.
    expect(buildSack(t, 0)).toMatchObject({ cumulativeTsnAck: 5, gapBlocks: [] });
  });
});
