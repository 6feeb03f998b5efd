/** RFC 3758 §3.6: the stream part of FORWARD TSN, and the tracker and reassembly together. */
import { describe, it, expect } from 'vitest';
import { createReassembly, onDataChunk, onForwardTsn, pollMessage, bufferedBytes, type Reassembly } from '../../../src/core/rx/reassembly.js';
import * as tracker from '../../../src/core/rx/data-tracker.js';
import { data, text } from './chunks.js';

function summary(r: Reassembly): string[] {
  const out: string[] = [];
  for (let m = pollMessage(r); m !== undefined; m = pollMessage(r)) out.push(`${m.streamId}/${m.unordered ? 'u' : m.ssn}:${text(m.data)}`);
  return out;
}

describe('reassembly: FORWARD TSN', () => {
  it('skips the listed SSN and delivers the ordered messages queued behind it', () => {
    const r = createReassembly(2);
    onDataChunk(r, data(1, { ssn: 0, ending: false, data: 'lost' }));
    onDataChunk(r, data(4, { ssn: 1, data: 'one' }));
    onDataChunk(r, data(5, { ssn: 2, data: 'two' }));
    onDataChunk(r, data(6, { streamId: 1, ssn: 1, data: 's1' }));
    expect(summary(r)).toEqual([]);
    expect(onForwardTsn(r, { kind: 'forward-tsn', newCumulativeTsn: 3, streams: [{ streamId: 0, ssn: 0 }] }))
      .toEqual({ kind: 'applied', delivered: 2 });
    expect(summary(r)).toEqual(['0/1:one', '0/2:two']);
    // Stream 1 still waits for its SSN 0.
    expect(bufferedBytes(r)).toBe(2);
    expect(onDataChunk(r, data(7, { ssn: 0, data: 'late' }))).toEqual({ kind: 'stale' });
  });

  it('drops incomplete unordered messages at or below the new cumulative TSN, keeps later ones', () => {
    const r = createReassembly(1);
    onDataChunk(r, data(2, { unordered: true, ending: false, data: 'ab' }));
    onDataChunk(r, data(6, { unordered: true, ending: false, data: 'cd' }));
    onForwardTsn(r, { kind: 'forward-tsn', newCumulativeTsn: 4, streams: [] });
    expect(bufferedBytes(r)).toBe(2);
    onDataChunk(r, data(7, { unordered: true, beginning: false, data: 'e' }));
    expect(summary(r)).toEqual(['0/u:cde']);
  });

  it('ignores a listed SSN already passed and streams we do not have', () => {
    const r = createReassembly(1);
    onDataChunk(r, data(1, { ssn: 0, data: 'a' }));
    onDataChunk(r, data(2, { ssn: 1, data: 'b' }));
    summary(r);
    onForwardTsn(r, { kind: 'forward-tsn', newCumulativeTsn: 2, streams: [{ streamId: 0, ssn: 0 }, { streamId: 9, ssn: 3 }] });
    onDataChunk(r, data(3, { ssn: 2, data: 'c' }));
    expect(summary(r)).toEqual(['0/2:c']);
    expect(r.streams.has(9)).toBe(false);
  });

  it('drops complete ordered messages it skips over', () => {
    const r = createReassembly(1);
    onDataChunk(r, data(2, { ssn: 1, data: 'skipped' }));
    onDataChunk(r, data(3, { ssn: 2, data: 'kept' }));
    onForwardTsn(r, { kind: 'forward-tsn', newCumulativeTsn: 2, streams: [{ streamId: 0, ssn: 1 }] });
    expect(summary(r)).toEqual(['0/2:kept']);
    expect(bufferedBytes(r)).toBe(0);
  });

  it('tracker and reassembly together: a FORWARD TSN over a lost fragment unblocks the stream and the SACK', () => {
    const t = tracker.createDataTracker(100);
    const r = createReassembly(1);
    const chunks = [
      data(101, { ssn: 0, beginning: false, data: 'B' }),
      data(102, { ssn: 1, data: 'next' }),
    ];
    for (const c of chunks) {
      if (tracker.onData(t, c.tsn, { immediate: false }) === 'new') onDataChunk(r, c);
    }
    expect(tracker.buildSack(t, 0)).toMatchObject({ cumulativeTsnAck: 99, gapBlocks: [{ start: 2, end: 3 }] });
    const fwd = { kind: 'forward-tsn' as const, newCumulativeTsn: 101, streams: [{ streamId: 0, ssn: 0 }] };
    expect(tracker.onForwardTsn(t, fwd.newCumulativeTsn)).toBe('advanced');
    onForwardTsn(r, fwd);
    expect(tracker.buildSack(t, 0)).toMatchObject({ cumulativeTsnAck: 102, gapBlocks: [] });
    expect(summary(r)).toEqual(['0/1:next']);
    expect(bufferedBytes(r)).toBe(0);
  });
});
