// Endpoint.queue / Endpoint.flush: SEND without transmitting, then one pass
// of the transmit path for everything queued (what the runtime does with the
// application's sends of one event-loop tick).
import { describe, expect, it } from 'vitest';
import { chunksOf, drain, established, forward, messages, text } from '../assoc/helpers.js';

describe('queue and flush', () => {
  it('queue transmits nothing; flush sends everything queued in full packets', () => {
    const { pair, a, idA } = established();
    for (let i = 0; i < 30; i++) {
      const r = a.queue(1, idA, text(`m${String(i).padStart(2, '0')}`.padEnd(100, '.')), { streamId: 0, ppid: 0 });
      expect(r.ok).toBe(true);
    }
    expect(drain(a, 1)).toEqual([]);
    expect(a.flush(1, idA)).toBe(true);
    const sent = drain(a, 1);
    // 100 B messages take 116 bytes: 12 per 1452-byte packet.
    expect(sent.map((s) => chunksOf([s], 'data').length)).toEqual([12, 12, 6]);
    forward(pair.b, 1, sent);
    pair.pump(1);
    expect(messages(pair.evB).map((m) => m.data.slice(0, 3))).toEqual(Array.from({ length: 30 }, (_, i) => `m${String(i).padStart(2, '0')}`));
  });

  it('with send, the same messages go one packet each while nothing holds them', () => {
    const { a, idA } = established({ nodelay: true });
    for (let i = 0; i < 5; i++) expect(a.send(1, idA, text(`m${i}`), { streamId: 0, ppid: 0 }).ok).toBe(true);
    expect(drain(a, 1).map((s) => chunksOf([s], 'data').length)).toEqual([1, 1, 1, 1, 1]);
  });

  it('queue reports the same errors as send, and any other input flushes what it left', () => {
    const { pair, a, idA } = established();
    expect(a.queue(1, idA, new Uint8Array(0), { streamId: 0, ppid: 0 })).toMatchObject({ ok: false, error: { kind: 'empty-message' } });
    expect(a.queue(1, idA, text('x'), { streamId: 999, ppid: 0 })).toMatchObject({ ok: false, error: { kind: 'invalid-stream' } });
    expect(a.queue(1, 12345, text('x'), { streamId: 0, ppid: 0 })).toMatchObject({ ok: false, error: { kind: 'no-such-association' } });
    expect(a.flush(1, 12345)).toBe(false);
    expect(a.queue(1, idA, text('queued'), { streamId: 0, ppid: 0 }).ok).toBe(true);
    // A send (or a packet, a timeout) runs the transmit path: both messages go, in order.
    expect(a.send(1, idA, text('sent'), { streamId: 0, ppid: 0 }).ok).toBe(true);
    const sent = drain(a, 1);
    expect(sent.flatMap((s) => chunksOf([s], 'data').map((c) => new TextDecoder().decode(c.userData)))).toEqual(['queued', 'sent']);
    forward(pair.b, 1, sent);
    pair.pump(1);
    expect(messages(pair.evB).map((m) => m.data)).toEqual(['queued', 'sent']);
  });
});

