// RFC 9260 §6.9 partial delivery: a message larger than the receive window.
//
// Regression: with receiveWindow 16384 a 64 KiB message never arrived. The
// receiver held 16 KiB of its fragments, advertised a_rwnd 0, dropped every
// zero window probe (§6.2: a TSN beyond the highest received while the window
// is full), and the association stayed ESTABLISHED, silent, for ever. Now the
// fragments of the incomplete message at the head of the line leave the
// window (reassembly.dispatchHeadOfLine) and the message completes; one that
// would exceed maxMessageSize is refused with an ABORT (Out of Resource).
import { describe, expect, it } from 'vitest';
import * as reassembly from '../../../src/core/rx/reassembly.js';
import type { DataChunk, ForwardTsnChunk } from '../../../src/wire/types.js';
import { simPair } from '../assoc/helpers.js';

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe('a message larger than the receive window (simulation)', () => {
  for (const receiveWindow of [1500, 4096, 16384]) {
    it(`receiveWindow ${receiveWindow}: 64 KiB and 100 KB messages, ordered and unordered, arrive whole; the window accounting ends at 0`, () => {
      const { sim, a, b, idA, idB } = simPair({ configB: { receiveWindow } });
      const sent = [
        { data: bytes(65536, 1), streamId: 0, unordered: false },
        { data: bytes(100_000, 2), streamId: 1, unordered: true },
        { data: bytes(3000, 3), streamId: 0, unordered: false },
        { data: bytes(65536, 4), streamId: 2, unordered: false },
      ];
      for (const m of sent) expect(a.endpoint.send(sim.now, idA, m.data, { streamId: m.streamId, ppid: 7, unordered: m.unordered }).ok).toBe(true);
      sim.poke('a');
      sim.runUntil(() => b.ofType('message').length >= sent.length, 120_000);
      const got = b.ofType('message');
      // Ordered on each stream; the unordered one may come at any point.
      const key = (m: { streamId: number; unordered: boolean; data: Uint8Array }) => `${m.streamId}/${m.unordered}/${m.data.length}`;
      expect(got.map(key).sort()).toEqual(sent.map(key).sort());
      for (const m of sent) expect(got.find((g) => key(g) === key(m))!.data).toEqual(m.data);
      expect(got.filter((g) => g.streamId === 0).map((g) => g.data.length)).toEqual([65536, 3000]);
      sim.run({ until: sim.now + 1000 });
      const s = b.endpoint.snapshot(idB)!;
      if (s.fsm.state !== 'established') throw new Error(`state ${s.fsm.state}`);
      expect(s.fsm.tcb.reasm.bufferedBytes).toBe(0);
      expect(s.fsm.tcb.reasm.outsideWindow).toBeUndefined();
      expect(a.ofType('communication-lost')).toEqual([]);
    });
  }

  it('a message beyond maxMessageSize that does not fit the window: ABORT with Out of Resource, not a silent stall', () => {
    const { sim, a, b, idA } = simPair({ configB: { receiveWindow: 16384, maxMessageSize: 32768 } });
    expect(a.endpoint.send(sim.now, idA, bytes(65536, 5), { streamId: 0, ppid: 0 }).ok).toBe(true);
    sim.poke('a');
    sim.runUntil(() => a.ofType('communication-lost').length > 0, 60_000);
    expect(a.ofType('communication-lost')[0]).toMatchObject({ type: 'communication-lost', reason: 'peer-abort' });
    expect(b.ofType('communication-lost').length).toBe(1);
    expect(b.ofType('message')).toEqual([]);
  });
});

describe('reassembly.dispatchHeadOfLine', () => {
  const frag = (tsn: number, o: Partial<DataChunk> & { n?: number } = {}): DataChunk => ({
    kind: 'data',
    tsn,
    streamId: o.streamId ?? 0,
    ssn: o.ssn ?? 0,
    ppid: 0,
    unordered: o.unordered ?? false,
    beginning: o.beginning ?? false,
    ending: o.ending ?? false,
    immediate: false,
    userData: new Uint8Array(o.n ?? 100).fill(tsn & 0xff),
  });

  it('moves the received fragments of the head message out of the window, and back in when it completes', () => {
    const r = reassembly.createReassembly(4);
    reassembly.onDataChunk(r, frag(10, { beginning: true }));
    reassembly.onDataChunk(r, frag(11));
    expect(r.bufferedBytes).toBe(200);
    expect(reassembly.dispatchHeadOfLine(r, 11, 1000)).toEqual({ kind: 'dispatched', bytes: 200 });
    expect(r.bufferedBytes).toBe(0);
    reassembly.onDataChunk(r, frag(12));
    expect(reassembly.dispatchHeadOfLine(r, 12, 1000)).toEqual({ kind: 'dispatched', bytes: 100 });
    expect(reassembly.dispatchHeadOfLine(r, 12, 1000)).toEqual({ kind: 'nothing' });
    expect(r.outsideWindow).toEqual({ firstTsn: 10, lastTsn: 12, bytes: 300 });
    expect(reassembly.onDataChunk(r, frag(13, { ending: true }))).toEqual({ kind: 'accepted', delivered: 1 });
    expect(r.outsideWindow).toBeUndefined();
    expect(r.bufferedBytes).toBe(400);
    const m = reassembly.pollMessage(r)!;
    expect(m.data.length).toBe(400);
    expect([...m.data.subarray(0, 1), ...m.data.subarray(399)]).toEqual([10, 13]);
    expect(r.bufferedBytes).toBe(0);
  });

  it('nothing to take when the chunk at the cumulative TSN ends a message or is not held', () => {
    const r = reassembly.createReassembly(4);
    reassembly.onDataChunk(r, frag(1, { beginning: true, ssn: 0 }));
    reassembly.onDataChunk(r, frag(2, { ending: true, ssn: 0 }));
    expect(reassembly.dispatchHeadOfLine(r, 2, 1000)).toEqual({ kind: 'nothing' });
    expect(reassembly.dispatchHeadOfLine(r, 99, 1000)).toEqual({ kind: 'nothing' });
  });

  it('unordered messages, and the maxMessageSize bound', () => {
    const r = reassembly.createReassembly(4);
    reassembly.onDataChunk(r, frag(20, { unordered: true, beginning: true, streamId: 3 }));
    reassembly.onDataChunk(r, frag(21, { unordered: true, streamId: 3 }));
    expect(reassembly.dispatchHeadOfLine(r, 21, 150)).toEqual({ kind: 'too-big', bytes: 200 });
    expect(reassembly.dispatchHeadOfLine(r, 21, 1000)).toEqual({ kind: 'dispatched', bytes: 200 });
    reassembly.onDataChunk(r, frag(22, { unordered: true, streamId: 3, ending: true }));
    expect(reassembly.pollMessage(r)?.data.length).toBe(300);
    expect(r.bufferedBytes).toBe(0);
    expect(r.outsideWindow).toBeUndefined();
  });

  it('FORWARD TSN abandoning a message taken out of the window leaves both counts at 0', () => {
    const r = reassembly.createReassembly(4);
    reassembly.onDataChunk(r, frag(30, { beginning: true, ssn: 0 }));
    reassembly.onDataChunk(r, frag(31, { ssn: 0 }));
    reassembly.dispatchHeadOfLine(r, 31, 1000);
    reassembly.onDataChunk(r, frag(32, { ssn: 0 }));
    const fwd: ForwardTsnChunk = { kind: 'forward-tsn', newCumulativeTsn: 33, streams: [{ streamId: 0, ssn: 0 }] };
    expect(reassembly.onForwardTsn(r, fwd)).toEqual({ kind: 'applied', delivered: 0 });
    expect(r.bufferedBytes).toBe(0);
    expect(r.outsideWindow).toBeUndefined();
  });
});
