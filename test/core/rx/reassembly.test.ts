/** RFC 9260 §6.5, §6.6, §6.9: reassembly of DATA fragments and delivery order. */
import { describe, it, expect } from 'vitest';
import {
  bufferedBytes,
  createReassembly,
  onDataChunk,
  onForwardTsn,
  pollMessage,
  type Reassembly,
  type ReceivedMessage,
} from '../../../src/core/rx/reassembly.js';
import { data, idata, text } from './chunks.js';

function drain(r: Reassembly): ReceivedMessage[] {
  const out: ReceivedMessage[] = [];
  for (let m = pollMessage(r); m !== undefined; m = pollMessage(r)) out.push(m);
  return out;
}

function summary(r: Reassembly): string[] {
  return drain(r).map((m) => `${m.streamId}/${m.unordered ? 'u' : m.ssn}:${text(m.data)}`);
}

describe('reassembly (DATA)', () => {
  it('delivers an unfragmented ordered message with its metadata', () => {
    const r = createReassembly(4);
    expect(onDataChunk(r, data(7, { streamId: 2, ssn: 0, ppid: 51, data: 'hello' }))).toEqual({ kind: 'accepted', delivered: 1 });
    expect(bufferedBytes(r)).toBe(5);
    const m = pollMessage(r);
    expect(m).toMatchObject({ streamId: 2, ssn: 0, mid: undefined, ppid: 51, unordered: false, tsns: [7, 7] });
    expect(text(m?.data ?? new Uint8Array())).toBe('hello');
    expect(bufferedBytes(r)).toBe(0);
    expect(pollMessage(r)).toBeUndefined();
  });

  it('reassembles fragments in order', () => {
    const r = createReassembly(1);
    expect(onDataChunk(r, data(1, { ending: false, data: 'ab', ppid: 9 }))).toEqual({ kind: 'accepted', delivered: 0 });
    expect(onDataChunk(r, data(2, { beginning: false, ending: false, data: 'cd' }))).toEqual({ kind: 'accepted', delivered: 0 });
    expect(bufferedBytes(r)).toBe(4);
    expect(onDataChunk(r, data(3, { beginning: false, data: 'e' }))).toEqual({ kind: 'accepted', delivered: 1 });
    const [m] = drain(r);
    expect(m).toMatchObject({ ppid: 9, tsns: [1, 3] });
    expect(text(m?.data ?? new Uint8Array())).toBe('abcde');
  });

  it('reassembles reordered fragments', () => {
    const r = createReassembly(1);
    onDataChunk(r, data(3, { beginning: false, data: 'e' }));
    onDataChunk(r, data(1, { ending: false, data: 'ab' }));
    expect(summary(r)).toEqual([]);
    onDataChunk(r, data(2, { beginning: false, ending: false, data: 'cd' }));
    expect(summary(r)).toEqual(['0/0:abcde']);
  });

  it('holds later SSNs until the earlier ones are delivered, per stream', () => {
    const r = createReassembly(3);
    onDataChunk(r, data(11, { streamId: 1, ssn: 1, data: 'b1' }));
    onDataChunk(r, data(12, { streamId: 2, ssn: 0, data: 'c0' }));
    onDataChunk(r, data(13, { streamId: 1, ssn: 2, data: 'b2' }));
    expect(summary(r)).toEqual(['2/0:c0']);
    onDataChunk(r, data(10, { streamId: 1, ssn: 0, data: 'b0' }));
    expect(summary(r)).toEqual(['1/0:b0', '1/1:b1', '1/2:b2']);
  });

  it('interleaved streams with fragmented messages', () => {
    const r = createReassembly(2);
    // stream 0 message over TSN 1-2, stream 1 message over TSN 3-4 (§6.9: consecutive TSNs per message).
    onDataChunk(r, data(4, { streamId: 1, beginning: false, data: 'Y' }));
    onDataChunk(r, data(2, { streamId: 0, beginning: false, data: 'B' }));
    onDataChunk(r, data(3, { streamId: 1, ending: false, data: 'X' }));
    expect(summary(r)).toEqual(['1/0:XY']);
    onDataChunk(r, data(1, { streamId: 0, ending: false, data: 'A' }));
    expect(summary(r)).toEqual(['0/0:AB']);
  });

  it('delivers an unordered message as soon as it is complete, before older ordered ones (§6.6)', () => {
    const r = createReassembly(1);
    onDataChunk(r, data(2, { ssn: 1, data: 'o1' }));
    onDataChunk(r, data(4, { unordered: true, beginning: false, data: 'U2' }));
    onDataChunk(r, data(3, { unordered: true, ending: false, data: 'U1' }));
    expect(summary(r)).toEqual(['0/u:U1U2']);
    onDataChunk(r, data(1, { ssn: 0, data: 'o0' }));
    expect(summary(r)).toEqual(['0/0:o0', '0/1:o1']);
  });

  it('does not join unordered fragments of different streams or across a message boundary', () => {
    const r = createReassembly(2);
    onDataChunk(r, data(1, { unordered: true, streamId: 0, ending: false, data: 'a' }));
    onDataChunk(r, data(2, { unordered: true, streamId: 1, beginning: false, data: 'b' }));
    expect(summary(r)).toEqual([]);
    onDataChunk(r, data(3, { unordered: true, streamId: 1, data: 'c' }));
    onDataChunk(r, data(5, { unordered: true, streamId: 1, beginning: false, data: 'e' }));
    expect(summary(r)).toEqual(['1/u:c']);
    expect(bufferedBytes(r)).toBe(3);
  });

  it('wraps the SSN from 65535 to 0', () => {
    const r = createReassembly(1);
    let tsn = 1;
    for (let ssn = 0; ssn < 65534; ssn++) {
      onDataChunk(r, data(tsn++, { ssn, data: 'x' }));
      pollMessage(r);
    }
    // SSN 0 (after the wrap) and 65535 arrive before 65534.
    onDataChunk(r, data(tsn + 2, { ssn: 0, data: 'after' }));
    onDataChunk(r, data(tsn + 1, { ssn: 65535, data: 'last' }));
    expect(summary(r)).toEqual([]);
    onDataChunk(r, data(tsn, { ssn: 65534, data: 'before' }));
    expect(summary(r)).toEqual(['0/65534:before', '0/65535:last', '0/0:after']);
  });

  it('reassembles across the TSN wrap', () => {
    const r = createReassembly(1);
    onDataChunk(r, data(0, { beginning: false, ending: false, data: 'c' }));
    onDataChunk(r, data(0xffff_fffe, { ending: false, data: 'a' }));
    onDataChunk(r, data(1, { beginning: false, data: 'd' }));
    expect(summary(r)).toEqual([]);
    onDataChunk(r, data(0xffff_ffff, { beginning: false, ending: false, data: 'b' }));
    const r2 = createReassembly(1);
    onDataChunk(r2, data(0, { unordered: true, beginning: false, data: 'Z' }));
    onDataChunk(r2, data(0xffff_ffff, { unordered: true, ending: false, data: 'Y' }));
    const [m] = drain(r);
    expect(text(m?.data ?? new Uint8Array())).toBe('abcd');
    expect(m?.tsns).toEqual([0xffff_fffe, 1]);
    expect(summary(r2)).toEqual(['0/u:YZ']);
  });

  it('ignores a fragment it already holds and an ordered SSN already delivered', () => {
    const r = createReassembly(1);
    onDataChunk(r, data(1, { ending: false, data: 'a' }));
    expect(onDataChunk(r, data(1, { ending: false, data: 'a' }))).toEqual({ kind: 'duplicate' });
    onDataChunk(r, data(5, { unordered: true, ending: false, data: 'u' }));
    expect(onDataChunk(r, data(5, { unordered: true, ending: false, data: 'u' }))).toEqual({ kind: 'duplicate' });
    expect(bufferedBytes(r)).toBe(2);
    onDataChunk(r, data(2, { beginning: false, data: 'b' }));
    expect(summary(r)).toEqual(['0/0:ab']);
    expect(onDataChunk(r, data(9, { ssn: 0, data: 'again' }))).toEqual({ kind: 'stale' });
    expect(bufferedBytes(r)).toBe(1);
  });

  it('copies user data: the packet buffer may be reused', () => {
    const r = createReassembly(1);
    const packetBuffer = new TextEncoder().encode('abcd');
    onDataChunk(r, data(1, { ending: false, data: packetBuffer.subarray(0, 2) }));
    packetBuffer.fill(0x21);
    onDataChunk(r, data(2, { beginning: false, data: new TextEncoder().encode('cd') }));
    const single = new TextEncoder().encode('zz');
    onDataChunk(r, data(3, { ssn: 1, data: single }));
    single.fill(0x21);
    expect(summary(r)).toEqual(['0/0:abcd', '0/1:zz']);
  });

  it('an invalid stream id is reported and nothing is held (§6.5)', () => {
    const r = createReassembly(2);
    expect(onDataChunk(r, data(1, { streamId: 2 }))).toEqual({ kind: 'invalid-stream', streamId: 2 });
    expect(bufferedBytes(r)).toBe(0);
    expect(r.streams.size).toBe(0);
  });

  it('a DATA chunk without user data is reported (§6.2)', () => {
    const r = createReassembly(2);
    expect(onDataChunk(r, data(1, { data: new Uint8Array(0) }))).toEqual({ kind: 'no-user-data' });
    expect(onDataChunk(r, data(1, { data: new Uint8Array(0), streamId: 9 }))).toEqual({ kind: 'no-user-data' });
  });

  it('rejects I-DATA and I-FORWARD-TSN when I-DATA was not negotiated (RFC 8260 §2.1)', () => {
    const r = createReassembly(2);
    expect(onDataChunk(r, idata(1))).toMatchObject({ kind: 'protocol-violation' });
    expect(onForwardTsn(r, { kind: 'i-forward-tsn', newCumulativeTsn: 1, streams: [] })).toMatchObject({ kind: 'protocol-violation' });
  });

  it('a misbehaving peer reusing an SSN does not block the stream', () => {
    const r = createReassembly(1);
    onDataChunk(r, data(1, { ssn: 0, ending: false, data: 'x' }));
    onDataChunk(r, data(5, { ssn: 0, data: 'a' }));
    expect(summary(r)).toEqual(['0/0:a']);
    // The stray fragment of SSN 0 left with it.
    expect(bufferedBytes(r)).toBe(0);
    onDataChunk(r, data(6, { ssn: 1, data: 'b' }));
    expect(summary(r)).toEqual(['0/1:b']);
  });
});
