// The cluster's encodings: plain data (full syncs, checkpoints), cluster
// messages, and authenticated frames. Decoders never throw on any input.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePlain, encodePlain } from '../../src/cluster/state/plain-codec.js';
import { decodeMessage, encodeMessage, type ClusterMessage } from '../../src/cluster/state/messages.js';
import { encodeFrame, FrameDecoder, MAX_FRAME } from '../../src/cluster/state/frame.js';

const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => createHmac('sha256', key).update(data).digest();
const key = new Uint8Array(32).fill(7);

describe('plain codec', () => {
  it('round-trips the values a TCB is made of', () => {
    const v = {
      a: 1,
      b: -0x8000_0000,
      c: 2 ** 40,
      d: 0.5,
      e: 'ü',
      f: new Uint8Array([1, 2, 3]),
      g: [undefined, null, true, false],
      h: new Map<unknown, unknown>([['x', 1], [2, new Set([3])]]),
      i: { nested: { deep: [new Uint8Array(0)] } },
    };
    const r = decodePlain(encodePlain(v));
    expect(r.ok).toBe(true);
    expect(r.ok && r.value).toEqual(v);
  });

  it('the same value always encodes to the same bytes (digests compare encodings)', () => {
    const v = { m: new Map([[1, 'a'], [2, 'b']]), s: new Set(['x']), n: [1.25, -3] };
    expect(encodePlain(v)).toEqual(encodePlain(structuredClone(v)));
  });

  it('refuses what is not plain data', () => {
    expect(() => encodePlain({ f: () => 1 })).toThrow(/cannot encode a function/);
    expect(() => encodePlain(new Date())).toThrow(/plain objects/);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = decodePlain(bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects forged counts, deep nesting and __proto__ keys with an error', () => {
    expect(decodePlain(new Uint8Array([8, 0xff, 0xff, 0x7f])).ok).toBe(false);
    expect(decodePlain(new Uint8Array(200).fill(8)).ok).toBe(false);
    // An object of one key "__proto__" (tag 9, count 1, key length 9) holding null.
    const bytes = new Uint8Array([9, 1, 9, ...new TextEncoder().encode('__proto__'), 1]);
    expect(decodePlain(bytes)).toMatchObject({ ok: false, error: 'forbidden key' });
  });
});

describe('cluster messages', () => {
  it('round-trip every kind', () => {
    const msgs: ClusterMessage[] = [
      { t: 'hello', epoch: 2, node: 'a', role: 'standby', appliedSeq: 9, sentAt: 1.5, protection: 'in-sync', handoverSeq: 3 },
      { t: 'hello-ack', epoch: 2, node: 'b', echo: 1.5 },
      { t: 'full-sync', epoch: 1, sync: 2, seq: 4, now: 100, state: new Uint8Array([1, 2]) },
      { t: 'records', epoch: 1, sync: 2, records: [{ seq: 5, now: 101, ops: [{ op: 'packet', source: '10.0.0.1', destination: '10.0.0.2', bytes: new Uint8Array([9]) }, { op: 'timeout' }, { op: 'commit', assocId: 1, delivery: 3 }], entropy: new Uint8Array(4) }] },
      { t: 'ack', epoch: 1, sync: 2, seq: 5 },
      { t: 'in-sync', epoch: 1, sync: 2, seq: 5 },
      { t: 'digest', epoch: 1, sync: 2, seq: 5, digest: 0xdeadbeef },
      { t: 'resync', epoch: 1, reason: 'x' },
      { t: 'forward', epoch: 1, source: 'a', destination: 'b', bytes: new Uint8Array([1]) },
      { t: 'handover', epoch: 1, seq: 7 },
    ];
    for (const m of msgs) {
      const r = decodeMessage(encodeMessage(m));
      expect(r.ok && r.message).toEqual(m);
    }
  });

  it('reject what is not a cluster message', () => {
    expect(decodeMessage(encodePlain({ t: 'nope', epoch: 1 }))).toMatchObject({ ok: false });
    expect(decodeMessage(encodePlain({ t: 'ack', epoch: -1, seq: 1 }))).toMatchObject({ ok: false, error: 'bad epoch' });
    expect(decodeMessage(encodePlain({ t: 'records', epoch: 1, sync: 2, records: 5 }))).toMatchObject({ ok: false });
    expect(decodeMessage(new Uint8Array([0xff]))).toMatchObject({ ok: false });
  });
});

describe('authenticated frames', () => {
  it('decode across arbitrary stream splits', () => {
    const frames = [new Uint8Array([1, 2, 3]), new Uint8Array(5000).fill(4), new Uint8Array(0)].map((p) => encodeFrame(p, key, hmac));
    const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let o = 0;
    for (const f of frames) {
      stream.set(f, o);
      o += f.length;
    }
    for (const step of [1, 7, 100, stream.length]) {
      const d = new FrameDecoder(key, hmac);
      const got: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += step) for (const e of d.push(stream.subarray(i, i + step))) if (e.ok) got.push(e.payload);
      expect(got.map((p) => p.length)).toEqual([3, 5000, 0]);
    }
  });

  it('a frame made with another key is rejected and nothing after it is decoded', () => {
    const good = encodeFrame(new Uint8Array([1]), key, hmac);
    const bad = encodeFrame(new Uint8Array([2]), new Uint8Array(32).fill(8), hmac);
    const d = new FrameDecoder(key, hmac);
    const out = d.push(new Uint8Array([...good, ...bad, ...good]));
    expect(out).toEqual([{ ok: true, payload: new Uint8Array([1]) }, { ok: false, error: 'bad-mac' }]);
    expect(d.push(good)).toEqual([]);
  });

  it('a tampered payload, a wrong version or an absurd length is rejected', () => {
    const f = encodeFrame(new Uint8Array([1, 2, 3]), key, hmac);
    const tampered = f.slice();
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    expect(new FrameDecoder(key, hmac).push(tampered)).toEqual([{ ok: false, error: 'bad-mac' }]);
    const version = f.slice();
    version[4] = 9;
    expect(new FrameDecoder(key, hmac).push(version)).toEqual([{ ok: false, error: 'bad-version' }]);
    const huge = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    expect(MAX_FRAME).toBeLessThan(0xffffffff);
    expect(new FrameDecoder(key, hmac).push(huge)).toEqual([{ ok: false, error: 'too-large' }]);
  });
});
