// Replay planning: the message script of one captured association.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildScript, buildScriptStream } from '../../src/pcap/replay/index.js';
import { capturesDir } from '../helpers/env.js';
import { A, B, TA, TB, SyntheticCapture, data, handshake, payload, sack } from './inspect-fixtures.js';

const file = (name: string): Uint8Array => new Uint8Array(readFileSync(join(capturesDir, name)));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('replay script from a capture', () => {
  it('sctp-www.cap: HTTP requests and their (fragmented) responses, in order, with their causal order', () => {
    const r = buildScript(file('sctp-www.cap'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const s = r.value;
    expect(s).toMatchObject({ association: 1, client: 0, end: { how: 'shutdown', by: 0 }, incomplete: 0 });
    const [client, server] = s.endpoints;
    expect(client.messages.map((m) => text(m.data).slice(0, 14))).toEqual(['GET / HTTP/1.1', 'GET /images/CP']);
    expect(client.messages.map((m) => m.after)).toEqual([0, 2]);
    expect(server.messages.map((m) => m.data.length)).toEqual([304, 7486, 304, 12800]);
    expect(text(server.messages[1]!.data).startsWith('<html>')).toBe(true);
    expect(server.messages.map((m) => m.after)).toEqual([1, 1, 2, 2]);
    // Times count from the COOKIE ACK (frame 4 at 0.006616).
    expect(s.start).toBeCloseTo(0.006616, 6);
    expect(client.messages[0]!.time).toBeCloseTo(0.000201, 6);
    expect(server.messages[1]!.complete).toBeGreaterThan(server.messages[1]!.time);
  });

  it('names an association: the INIT nobody answered has no messages', () => {
    const r = buildScript(file('sctp-www.cap'), { association: 3 });
    expect(r.ok && r.value.endpoints.map((e) => e.messages.length)).toEqual([0, 0]);
    const missing = buildScript(file('sctp-www.cap'), { association: 9 });
    expect(missing).toEqual({ ok: false, error: 'association 9 is not in the capture (it has 3)' });
  });

  it('reassembles fragments sent out of order and ignores retransmissions; TSN order, across wrap-around', () => {
    const base = 0xffff_fffe;
    const c = handshake(new SyntheticCapture(), { tsnA: base })
      .add(1, A, B, 5000, 2905, TB, [data(base, { userData: payload(10, 1), ending: false, ppid: 3 })])
      .add(1.001, A, B, 5000, 2905, TB, [data(base + 2 - 2 ** 32, { userData: payload(10, 3), beginning: false, ppid: 3 })])
      .add(1.002, A, B, 5000, 2905, TB, [data(base + 1, { userData: payload(10, 2), beginning: false, ending: false, ppid: 3 })])
      .add(1.003, A, B, 5000, 2905, TB, [data(base + 1, { userData: payload(10, 2), beginning: false, ending: false, ppid: 3 })])
      .add(1.004, A, B, 5000, 2905, TB, [data(1, { streamId: 2, unordered: true, userData: payload(5, 9) })])
      .add(1.01, B, A, 2905, 5000, TA, [sack(1)]);
    const r = buildScript(c.bytes());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const m = r.value.endpoints[0].messages;
    expect(m).toHaveLength(2);
    expect(m[0]).toMatchObject({ stream: 0, ppid: 3, unordered: false, frame: 6 });
    expect([...m[0]!.data]).toEqual([...payload(10, 1), ...payload(10, 2), ...payload(10, 3)]);
    expect(m[1]).toMatchObject({ stream: 2, unordered: true, index: 1 });
  });

  it('I-DATA: one MID, fragments by FSN', () => {
    const frag = (tsn: number, fsn: number, b: boolean, e: boolean, seed: number) =>
      ({ kind: 'idata', tsn, streamId: 1, mid: 7, ppid: b ? 18 : 0, fsn, userData: payload(8, seed), unordered: false, beginning: b, ending: e, immediate: false }) as const;
    const c = handshake(new SyntheticCapture())
      .add(1, A, B, 5000, 2905, TB, [frag(101, 1, false, false, 2)])
      .add(1.001, A, B, 5000, 2905, TB, [frag(100, 0, true, false, 1), frag(102, 2, false, true, 3)]);
    const r = buildScript(c.bytes());
    expect(r.ok && r.value.endpoints[0].messages.map((x) => [x.ppid, [...x.data]])).toEqual([[18, [...payload(8, 1), ...payload(8, 2), ...payload(8, 3)]]]);
  });

  it('refuses what it cannot replay, in one line', async () => {
    expect(buildScript(Uint8Array.of(1, 2, 3, 4, 5))).toEqual({ ok: false, error: expect.stringMatching(/^not a readable capture: /) });
    expect(buildScript(new SyntheticCapture().bytes())).toEqual({ ok: false, error: 'the capture holds no SCTP association' });
    const big = handshake(new SyntheticCapture()).add(1, A, B, 5000, 2905, TB, [data(100, { size: 1000 })]).bytes();
    expect(buildScript(big, { maxBytes: 500 })).toEqual({ ok: false, error: 'association 1 carries more than 500 bytes of user data: too big to replay' });
    const streamed = await buildScriptStream(async function* () {
      yield file('sctp-addip.cap');
    });
    expect(streamed.ok && streamed.value.endpoints.map((e) => e.messages.length)).toEqual([8, 7]);
  });
});
