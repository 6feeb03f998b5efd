// RFC 9260 §9.1: ABORT both ways, with causes; user abort with a reason.
import { describe, expect, it } from 'vitest';
import { established, only, text } from './helpers.js';

describe('ABORT (§9.1)', () => {
  it('user abort with a reason: the peer gets communication-lost with User-Initiated Abort', () => {
    const x = established();
    x.a.send(10, x.idA, text('unsent?'), { streamId: 0, ppid: 0 });
    x.pair.drop = (s) => s.packet.chunks.some((c) => c.kind === 'data');
    x.pair.pump(10);
    x.a.abort(11, x.idA, text('bye'));
    x.pair.pump(11);
    const abortSent = x.pair.log.filter((l) => l.from === 'a').map((l) => l.sent);
    expect(only(abortSent, 'abort')).toEqual({ kind: 'abort', tBit: false, causes: [{ kind: 'user-initiated-abort', reason: text('bye') }] });
    const evA = x.pair.evA.map((e) => e.event);
    expect(evA).toContainEqual(expect.objectContaining({ type: 'send-failed', reason: 'association-closed', data: text('unsent?') }));
    expect(evA).toContainEqual(expect.objectContaining({ type: 'communication-lost', reason: 'local-abort' }));
    expect(x.pair.evB.map((e) => e.event)).toContainEqual({ type: 'communication-lost', reason: 'peer-abort', causes: [{ kind: 'user-initiated-abort', reason: text('bye') }] });
    expect(x.a.associationIds()).toEqual([]);
    expect(x.b.associationIds()).toEqual([]);
  });

  it('the other direction', () => {
    const x = established();
    x.b.abort(10, x.idB);
    x.pair.pump(10);
    expect(x.pair.evA.map((e) => e.event.type)).toContain('communication-lost');
    expect(x.a.associationIds()).toEqual([]);
  });

  it('after an abort the peer answers further packets as out of the blue (ABORT with T bit)', () => {
    const x = established();
    x.b.abort(10, x.idB);
    x.pair.drop = () => true;
    x.pair.pump(10);
    x.pair.drop = () => false;
    x.a.send(11, x.idA, text('x'), { streamId: 0, ppid: 0 });
    x.pair.pump(11);
    const fromB = x.pair.log.filter((l) => l.from === 'b').map((l) => l.sent);
    expect(fromB.at(-1)!.packet.chunks).toEqual([{ kind: 'abort', tBit: true, causes: [] }]);
    expect(x.pair.evA.map((e) => e.event.type)).toContain('communication-lost');
  });
});
