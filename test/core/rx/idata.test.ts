/** RFC 8260 §2.1: I-DATA reassembly by MID and FSN. */
import { describe, it, expect } from 'vitest';
import { createReassembly, onDataChunk, onForwardTsn, pollMessage, bufferedBytes, type Reassembly } from '../../../src/core/rx/reassembly.js';
import { data, idata, text } from './chunks.js';

function summary(r: Reassembly): string[] {
  const out: string[] = [];
  for (let m = pollMessage(r); m !== undefined; m = pollMessage(r)) {
    out.push(`${m.streamId}/${m.unordered ? 'u' : ''}${m.mid}:${text(m.data)}:ppid${m.ppid}:${m.tsns.join('-')}`);
  }
  return out;
}

describe('reassembly (I-DATA)', () => {
  it('reassembles interleaved messages by FSN, the PPID from the B fragment', () => {
    const r = createReassembly(2, { interleaving: true });
    onDataChunk(r, idata(10, { streamId: 0, mid: 0, ppid: 7, ending: false, data: 'a' }));
    onDataChunk(r, idata(11, { streamId: 1, mid: 0, ppid: 8, ending: false, data: 'X' }));
    onDataChunk(r, idata(13, { streamId: 1, mid: 0, fsn: 1, beginning: false, data: 'Y' }));
    expect(summary(r)).toEqual(['1/0:XY:ppid8:11-13']);
    onDataChunk(r, idata(14, { streamId: 0, mid: 0, fsn: 2, beginning: false, data: 'c' }));
    expect(summary(r)).toEqual([]);
    onDataChunk(r, idata(12, { streamId: 0, mid: 0, fsn: 1, beginning: false, ending: false, data: 'b' }));
    expect(summary(r)).toEqual(['0/0:abc:ppid7:10-14']);
    expect(bufferedBytes(r)).toBe(0);
  });

  it('delivers ordered messages in MID order and unordered ones at once', () => {
    const r = createReassembly(1, { interleaving: true });
    onDataChunk(r, idata(2, { mid: 1, data: 'o1' }));
    onDataChunk(r, idata(3, { mid: 0, unordered: true, data: 'u0' }));
    expect(summary(r)).toEqual(['0/u0:u0:ppid0:3-3']);
    onDataChunk(r, idata(1, { mid: 0, data: 'o0' }));
    expect(summary(r)).toEqual(['0/0:o0:ppid0:1-1', '0/1:o1:ppid0:2-2']);
    expect(onDataChunk(r, idata(4, { mid: 1, data: 'again' }))).toEqual({ kind: 'stale' });
  });

  it('ignores a duplicate FSN', () => {
    const r = createReassembly(1, { interleaving: true });
    onDataChunk(r, idata(1, { ending: false, data: 'a' }));
    expect(onDataChunk(r, idata(2, { ending: false, data: 'a' }))).toEqual({ kind: 'duplicate' });
    onDataChunk(r, idata(3, { unordered: true, mid: 4, fsn: 1, beginning: false, ending: false, data: 'u' }));
    expect(onDataChunk(r, idata(4, { unordered: true, mid: 4, fsn: 1, beginning: false, ending: false, data: 'u' }))).toEqual({ kind: 'duplicate' });
    expect(bufferedBytes(r)).toBe(2);
  });

  it('a non-B fragment with FSN 0 is a protocol violation', () => {
    const r = createReassembly(1, { interleaving: true });
    expect(onDataChunk(r, idata(1, { beginning: false, fsn: 0 }))).toMatchObject({ kind: 'protocol-violation' });
  });

  it('DATA and FORWARD TSN after I-DATA was negotiated are protocol violations', () => {
    const r = createReassembly(1, { interleaving: true });
    expect(onDataChunk(r, data(1))).toMatchObject({ kind: 'protocol-violation' });
    expect(onForwardTsn(r, { kind: 'forward-tsn', newCumulativeTsn: 1, streams: [] })).toMatchObject({ kind: 'protocol-violation' });
  });

  it('wraps the MID at 2^32 (reached through I-FORWARD-TSN)', () => {
    const r = createReassembly(1, { interleaving: true });
    // Each step stays within 2^31 of the next MID (serial arithmetic).
    for (const mid of [0x5000_0000, 0xa000_0000, 0xffff_fffd]) {
      onForwardTsn(r, { kind: 'i-forward-tsn', newCumulativeTsn: 1, streams: [{ streamId: 0, unordered: false, mid }] });
    }
    expect(r.streams.get(0)?.nextSequence).toBe(0xffff_fffe);
    onDataChunk(r, idata(5, { mid: 0, data: 'after' }));
    onDataChunk(r, idata(4, { mid: 0xffff_ffff, data: 'last' }));
    expect(summary(r)).toEqual([]);
    onDataChunk(r, idata(3, { mid: 0xffff_fffe, data: 'before' }));
    expect(summary(r).map((s) => s.split(':')[1])).toEqual(['before', 'last', 'after']);
  });
});

describe('reassembly: I-FORWARD-TSN (RFC 8260 §2.3)', () => {
  it('skips ordered MIDs and drops unordered ones up to the listed MID', () => {
    const r = createReassembly(2, { interleaving: true });
    onDataChunk(r, idata(1, { mid: 0, ending: false, data: 'partial' }));
    onDataChunk(r, idata(3, { mid: 2, data: 'two' }));
    onDataChunk(r, idata(4, { streamId: 1, unordered: true, mid: 5, ending: false, data: 'uu' }));
    onDataChunk(r, idata(6, { streamId: 1, unordered: true, mid: 6, ending: false, data: 'keep' }));
    expect(onForwardTsn(r, {
      kind: 'i-forward-tsn', newCumulativeTsn: 5,
      streams: [{ streamId: 0, unordered: false, mid: 1 }, { streamId: 1, unordered: true, mid: 5 }],
    })).toEqual({ kind: 'applied', delivered: 1 });
    expect(summary(r)).toEqual(['0/2:two:ppid0:3-3']);
    expect(bufferedBytes(r)).toBe(4);
  });
});
