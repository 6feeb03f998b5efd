// RFC 3873 scalars the endpoint keeps (sctpActiveEstabs, sctpPassiveEstabs,
// sctpAborteds, sctpShutdowns), and the per-association view and totals
// src/ops builds from snapshots.
import { describe, expect, it } from 'vitest';
import { B, deliver, established, PORT_B, text } from '../core/assoc/helpers.js';
import { assocDetail, assocRow, endpointMib, mibTotals } from '../../src/ops/inspect.js';

describe('SCTP-MIB scalars of the endpoint', () => {
  it('the initiator counts an active establishment, the acceptor a passive one', () => {
    const x = established();
    expect(x.a.counters).toMatchObject({ activeEstabs: 1, passiveEstabs: 0, aborteds: 0, shutdowns: 0 });
    expect(x.b.counters).toMatchObject({ activeEstabs: 0, passiveEstabs: 1, aborteds: 0, shutdowns: 0 });
    const snaps = x.a.associationIds().map((id) => x.a.snapshot(id)!);
    expect(endpointMib(x.a.counters, snaps)).toMatchObject({ sctpCurrEstab: 1, sctpActiveEstabs: 1, sctpPassiveEstabs: 0 });
  });

  it('a graceful shutdown counts on both sides (SHUTDOWN-SENT and SHUTDOWN-ACK-SENT to CLOSED), no abort', () => {
    const x = established();
    x.a.shutdown(10, x.idA);
    x.pair.pump(10);
    expect(x.a.associationIds()).toEqual([]);
    expect(x.a.counters).toMatchObject({ shutdowns: 1, aborteds: 0 });
    expect(x.b.counters).toMatchObject({ shutdowns: 1, aborteds: 0 });
  });

  it('an ABORT counts on the side that sent it and the side that received it, not as a shutdown', () => {
    const x = established();
    x.b.abort(10, x.idB);
    x.pair.pump(10);
    expect(x.a.counters).toMatchObject({ aborteds: 1, shutdowns: 0 });
    expect(x.b.counters).toMatchObject({ aborteds: 1, shutdowns: 0 });
  });

  it('sctpOutOfBlues: the INIT and COOKIE ECHO that start an association are not out of the blue; a stray packet is', () => {
    const x = established();
    expect(x.a.counters.outOfBlues).toBe(0);
    expect(x.b.counters.outOfBlues).toBe(0);
    deliver(x.b, 1, '10.9.9.9', B, { sourcePort: 7, destinationPort: PORT_B, verificationTag: 5, chunks: [{ kind: 'heartbeat', info: new Uint8Array(4) }] });
    expect(x.b.counters.outOfBlues).toBe(1);
  });

  it('the counters travel with the endpoint state (a standby that takes over keeps them)', () => {
    const x = established();
    const st = x.b.exportState();
    expect(st.counters).toMatchObject({ passiveEstabs: 1 });
  });
});

describe('association views', () => {
  it('row and detail follow the snapshot: unacked bytes, streams, per-path table, MIB counters', () => {
    const x = established();
    x.pair.drop = (s) => s.packet.chunks.some((c) => c.kind === 'sack');
    x.a.send(1, x.idA, text('hello'), { streamId: 0, ppid: 1 });
    x.a.send(1, x.idA, text('world!'), { streamId: 2, ppid: 1 });
    x.pair.pump(1);
    const snap = x.a.snapshot(x.idA)!;
    const row = assocRow(snap, { state: 'none', lagRecords: 0 });
    expect(row).toMatchObject({ id: x.idA, state: 'established', unackedBytes: 11, primary: '10.0.0.2', paths: [{ address: '10.0.0.2', state: 'ACTIVE' }] });
    const d = assocDetail(snap, 101, { state: 'in-sync', lagRecords: 3 });
    expect(d.replication).toEqual({ state: 'in-sync', lagRecords: 3 });
    expect(d.pathTable[0]).toMatchObject({ address: '10.0.0.2', state: 'ACTIVE', primary: true, pmtu: expect.any(Number), errorCount: 0 });
    expect(d.streams.map((s) => [s.stream, s.outNextSsn])).toEqual([
      [0, 1],
      [2, 1],
    ]);
    expect(d.mib.sctpOutOrderChunks).toBe(2);
    expect(d.upForMs).toBe(101);
    const peer = assocDetail(x.b.snapshot(x.idB)!, 101, { state: 'none', lagRecords: 0 });
    expect(peer.mib).toMatchObject({ sctpInOrderChunks: 2, sctpReasmUsrMsgs: 2 });
    expect(peer.streams.map((s) => [s.stream, s.inNextSsn])).toEqual([
      [0, 1],
      [2, 1],
    ]);
  });

  it('totals include the associations that closed, with what they counted up to the end', () => {
    const x = established();
    x.a.send(1, x.idA, text('one'), { streamId: 0, ppid: 0 });
    x.pair.pump(1);
    const live = mibTotals(x.a.counters, [x.a.snapshot(x.idA)!]);
    expect(live.sctpOutOrderChunks).toBe(1);
    const pkts = live.sctpOutSCTPPacks;
    // Counted after the last look: one more message, then the ABORT packet itself.
    x.a.send(2, x.idA, text('two'), { streamId: 0, ppid: 0 });
    x.pair.pump(2);
    x.a.abort(3, x.idA);
    x.pair.pump(3);
    expect(x.a.associationIds()).toEqual([]);
    const after = mibTotals(x.a.counters, []);
    expect(after.sctpOutOrderChunks).toBe(2);
    expect(after.sctpOutSCTPPacks).toBeGreaterThanOrEqual(pkts + 2);
    expect(x.a.counters.closedAssociations.outOrderChunks).toBe(2);
    // The peer's side: closed by the ABORT it received, with the two messages counted.
    expect(mibTotals(x.b.counters, []).sctpInOrderChunks).toBe(2);
  });
});
