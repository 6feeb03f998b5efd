// RFC 9260 §9.2: graceful shutdown, both sides, with data in flight, T2.
import { describe, expect, it } from 'vitest';
import { established, kinds, messages, text } from './helpers.js';

const types = (ev: { event: { type: string } }[]) => ev.map((e) => e.event.type);

describe('graceful shutdown (§9.2)', () => {
  it('initiator side: SHUTDOWN → SHUTDOWN ACK → SHUTDOWN COMPLETE, both report shutdown-complete', () => {
    const x = established();
    x.a.shutdown(10, x.idA);
    x.pair.pump(10);
    expect(x.pair.log.slice(4).map((l) => [l.from, ...l.sent.packet.chunks.map((c) => c.kind)])).toEqual([
      ['a', 'shutdown'],
      ['b', 'shutdown-ack'],
      ['a', 'shutdown-complete'],
    ]);
    expect(types(x.pair.evA)).toEqual(['communication-up', 'shutdown-complete']);
    expect(types(x.pair.evB)).toEqual(['communication-up', 'shutdown-received', 'shutdown-complete']);
    expect(x.a.associationIds()).toEqual([]);
    expect(x.b.associationIds()).toEqual([]);
  });

  it('from the other side', () => {
    const x = established();
    x.b.shutdown(10, x.idB);
    x.pair.pump(10);
    expect(types(x.pair.evB)).toContain('shutdown-complete');
    expect(types(x.pair.evA)).toContain('shutdown-complete');
  });

  it('with data in flight: the data is delivered first, no new data is accepted', () => {
    const x = established();
    x.pair.drop = (s, from) => from === 'a' && s.packet.chunks.some((c) => c.kind === 'data') && s.packet.chunks.some((c) => c.kind === 'data' && c.ssn === 0) && !dropped++;
    let dropped = 0;
    for (let i = 0; i < 3; i++) x.a.send(10, x.idA, text(`d${i}`), { streamId: 0, ppid: 0 });
    x.a.shutdown(10, x.idA);
    expect(x.a.send(10, x.idA, text('late'), { streamId: 0, ppid: 0 })).toMatchObject({ ok: false, error: { kind: 'shutting-down' } });
    x.pair.pump(10);
    expect(x.a.snapshot(x.idA)!.fsm.state).toBe('shutdown-pending');
    x.pair.runTo(10, 5000);
    expect(messages(x.pair.evB).map((m) => m.data)).toEqual(['d0', 'd1', 'd2']);
    expect(types(x.pair.evA)).toContain('shutdown-complete');
    expect(types(x.pair.evB)).toContain('shutdown-complete');
    // SHUTDOWN went only after the retransmitted data was acknowledged.
    const order = x.pair.log.filter((l) => l.from === 'a').map((l) => kinds([l.sent])[0]!.join('+'));
    expect(order.indexOf('shutdown')).toBeGreaterThan(order.lastIndexOf('data'));
  });

  it('T2-shutdown retransmits a lost SHUTDOWN', () => {
    const x = established();
    let drops = 1;
    x.pair.drop = (s) => s.packet.chunks.some((c) => c.kind === 'shutdown') && drops-- > 0;
    x.a.shutdown(10, x.idA);
    x.pair.pump(10);
    expect(x.a.snapshot(x.idA)!.fsm.state).toBe('shutdown-sent');
    x.pair.runTo(10, 5000);
    expect(types(x.pair.evA)).toContain('shutdown-complete');
    expect(x.pair.log.filter((l) => l.sent.packet.chunks.some((c) => c.kind === 'shutdown')).length).toBe(2);
  });

  it('shutdown collision: both send SHUTDOWN, both end with shutdown-complete', () => {
    const x = established();
    x.a.shutdown(10, x.idA);
    x.b.shutdown(10, x.idB);
    x.pair.pump(10);
    x.pair.runTo(10, 5000);
    expect(types(x.pair.evA)).toContain('shutdown-complete');
    expect(types(x.pair.evB)).toContain('shutdown-complete');
    expect(x.a.associationIds()).toEqual([]);
    expect(x.b.associationIds()).toEqual([]);
  });
});
