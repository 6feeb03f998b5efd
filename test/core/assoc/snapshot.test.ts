// The association is plain data: snapshot = structured copy; a restored copy continues identically.
import { describe, expect, it } from 'vitest';
import { summarize } from '../../../src/core/association/snapshot.js';
import { A, B, PORT_A, PORT_B, endpoint, established, kinds, drain, text } from './helpers.js';

describe('snapshot', () => {
  it('summarizes state, tags, TSNs, paths, streams and counters', () => {
    const x = established();
    x.a.send(10, x.idA, text('abc'), { streamId: 2, ppid: 0 });
    x.pair.pump(10);
    const s = summarize(x.a.snapshot(x.idA)!);
    expect(s).toMatchObject({ id: x.idA, state: 'established', localPort: PORT_A, remotePort: PORT_B, outStreams: 10, primary: B, outstandingChunks: 0 }); // the first DATA is SACKed at once
    expect(s.paths).toEqual([expect.objectContaining({ address: B, state: 'active', primary: true, rto: 1000 })]);
    expect(s.outboundSsn).toEqual({ 2: 1 });
    expect(s.counters?.outOrderChunks).toBe(1);
    const sb = summarize(x.b.snapshot(x.idB)!);
    expect(sb.inboundSsn).toEqual({ 2: 1 });
    expect(sb.localTag).toBe(s.peerTag);
  });

  it('a restored snapshot in a fresh endpoint behaves exactly like the original', () => {
    const x = established();
    x.a.send(10, x.idA, text('in flight'), { streamId: 0, ppid: 0 });
    drain(x.a, 10); // lost
    const snap = x.a.snapshot(x.idA)!;
    const twin = endpoint([A], PORT_A, 1);
    expect(twin.restore(snap)).toBe(true);
    // Same timer, same retransmission, byte for byte (the RNG is not drawn on this path).
    expect(twin.pollTimeout()).toBe(x.a.pollTimeout());
    const t = x.a.pollTimeout()!;
    x.a.handleTimeout(t);
    twin.handleTimeout(t);
    const o1 = drain(x.a, t);
    const o2 = drain(twin, t);
    expect(kinds(o1)).toEqual([['data']]);
    expect(o2).toEqual(o1);
    expect(twin.snapshot(x.idA)).toEqual(x.a.snapshot(x.idA));
  });
});
