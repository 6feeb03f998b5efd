/**
 * `inspect` on captures built with our own writer: one per anomaly, a
 * multihomed failover, retransmissions with gap and duplicate reports and
 * Karn's rule, a restart, mid-stream and UDP-encapsulated associations, the
 * memory bounds, and damaged input.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectCapture, inspectStream, type AssociationReport, type InspectReport } from '../../src/pcap/inspect/index.js';
import { encodeIp } from '../../src/wire/ip.js';
import { capturesDir, requireTool } from '../helpers/env.js';
import { buildScript } from '../../src/pcap/replay/index.js';
import {
  A, B, TA, TB, SyntheticCapture, cookieAck, cookieEcho, data, handshake, heartbeat, heartbeatAck, init, initAck, ourView, payload, sack, tsharkView,
} from './inspect-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'hasctp-inspect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const kinds = (r: InspectReport | AssociationReport): Record<string, number> => Object.fromEntries(r.anomalies.map((a) => [a.kind, a.count]));

describe('multihoming', () => {
  const A1 = '10.0.0.1';
  const A2 = '10.0.1.1';
  const B1 = '10.0.0.2';
  const B2 = '10.0.1.2';
  const c = handshake(new SyntheticCapture(), { a: A1, b: B1, aList: [A1, A2], bList: [B1, B2], tsnA: 100 })
    // HEARTBEATs probe the other paths (RFC 9260 §8.3): one association, not four.
    .add(0.1, A1, B2, 5000, 2905, TB, [heartbeat(1)])
    .add(0.1004, B2, A1, 2905, 5000, TA, [heartbeatAck(1)])
    .add(0.2, A2, B1, 5000, 2905, TB, [heartbeat(2)])
    .add(0.2006, B1, A2, 2905, 5000, TA, [heartbeatAck(2)])
    .add(0.3, B2, A2, 2905, 5000, TA, [heartbeat(3)])
    .add(0.3002, A2, B2, 5000, 2905, TB, [heartbeatAck(3)])
    .add(1.0, A1, B1, 5000, 2905, TB, [data(100)])
    .add(1.01, B1, A1, 2905, 5000, TA, [sack(100)])
    // B1 dies: 101 is never acknowledged on it; T3 retransmits it to B2 (§6.4.1), and new data follows there.
    .add(1.1, A1, B1, 5000, 2905, TB, [data(101)])
    .add(2.1, A1, B2, 5000, 2905, TB, [data(101)])
    .add(2.11, B2, A1, 2905, 5000, TA, [sack(101)])
    .add(2.2, A1, B2, 5000, 2905, TB, [data(102)])
    .add(2.21, B2, A1, 2905, 5000, TA, [sack(102)]);
  const r = inspectCapture(c.bytes());

  it('is one association holding every address of both endpoints', () => {
    expect(r.associations).toHaveLength(1);
    const a = r.associations[0]!;
    expect(a.endpoints[0].addresses).toEqual([A1, A2]);
    expect(a.endpoints[1].addresses).toEqual([B1, B2]);
    expect(a.packets).toBe(17);
  });

  it('shows the failover as an event, with the path usage before and after', () => {
    const a = r.associations[0]!;
    expect(a.failovers).toBe(1);
    expect(a.pathSwitches).toBe(0);
    const f = a.timeline.find((e) => e.event === 'failover');
    expect(f).toMatchObject({ time: expect.closeTo(2.2, 6), from: 0, detail: `${A1} > ${B1}  ->  ${A1} > ${B2} (after 1 retransmitted chunk)` });
    const path = (s: string, d: string) => a.paths.find((p) => p.source === s && p.destination === d)!;
    expect(path(A1, B1)).toMatchObject({ dataChunks: 2, retransmissions: 0 });
    expect(path(A1, B2)).toMatchObject({ dataChunks: 2, retransmissions: 1, heartbeats: 1 });
    expect(a.directions[0]).toMatchObject({ messages: 3, dataChunks: 4, retransmissions: 1 });
  });

  it('measures heartbeat RTT per path, matched by Heartbeat Info', () => {
    const a = r.associations[0]!;
    const rtt = (s: string, d: string) => a.paths.find((p) => p.source === s && p.destination === d)!.rttHeartbeat;
    expect(rtt(A1, B2)).toMatchObject({ samples: 1, min: expect.closeTo(0.0004, 6) });
    expect(rtt(A2, B1)).toMatchObject({ samples: 1, min: expect.closeTo(0.0006, 6) });
    expect(rtt(B2, A2)).toMatchObject({ samples: 1, min: expect.closeTo(0.0002, 6) });
  });
});

function retransmissionCapture(): SyntheticCapture {
  return handshake(new SyntheticCapture(), { tsnA: 100 })
    .add(1.0, A, B, 5000, 2905, TB, [data(100)])
    .add(1.0, A, B, 5000, 2905, TB, [data(101)])
    .add(1.001, A, B, 5000, 2905, TB, [data(102)])
    .add(1.01, B, A, 2905, 5000, TA, [sack(100, [{ start: 2, end: 2 }])])
    .add(1.02, A, B, 5000, 2905, TB, [data(101)])
    .add(1.03, B, A, 2905, 5000, TA, [sack(102)])
    .add(1.04, A, B, 5000, 2905, TB, [data(103)])
    .add(1.05, A, B, 5000, 2905, TB, [data(103)])
    .add(1.06, B, A, 2905, 5000, TA, [sack(103, [], [103])]);
}

describe('retransmissions, gap and duplicate reports, RTT (Karn)', () => {
  const r = inspectCapture(retransmissionCapture().bytes());
  const a = r.associations[0]!;

  it('counts retransmitted TSNs, not messages twice', () => {
    expect(a.directions[0]).toMatchObject({ dataChunks: 6, retransmissions: 2, messages: 4, userBytes: 400, retransmittedBytes: 200 });
  });

  it('counts SACKs with gaps and reported duplicates', () => {
    expect(a.directions[1]).toMatchObject({ sacks: 3, sacksWithGaps: 1, gapBlocks: 1, duplicateTsnsReported: 1 });
  });

  it('takes RTT samples only from TSNs sent once (RFC 9260 §6.3.1 C5)', () => {
    // 100 acked after 10 ms; 102 (sent once) after 29 ms; 103 was retransmitted: no sample.
    const rtt = a.directions[0].rttDataToSack!;
    expect(rtt.samples).toBe(2);
    expect(rtt.min).toBeCloseTo(0.01, 6);
    expect(rtt.max).toBeCloseTo(0.029, 6);
  });

  const haveTshark = requireTool('tshark', 'the synthetic retransmission capture cannot be checked against Wireshark');
  it.skipIf(!haveTshark)('agrees with tshark on retransmissions and per-direction counts', () => {
    const f = join(tmp, 'rtx.pcapng');
    writeFileSync(f, retransmissionCapture().bytes());
    const theirs = tsharkView(f);
    const ours = ourView(r);
    expect(ours.retransmissions).toBe(theirs.retransmissions);
    expect(Object.fromEntries(ours.dirs)).toEqual(Object.fromEntries(theirs.dirs));
    expect(ours.types).toEqual(theirs.types);
  });
});

describe('anomalies, one capture each', () => {
  it('bad, Adler-32 and zero checksums', () => {
    const c = handshake(new SyntheticCapture())
      .add(1, A, B, 5000, 2905, TB, [data(100)], { checksum: 'bad' })
      .add(2, A, B, 5000, 2905, TB, [data(101)], { checksum: 'adler32' })
      .add(3, A, B, 5000, 2905, TB, [data(102)], { checksum: 'zero' });
    const r = inspectCapture(c.bytes());
    expect(kinds(r)).toEqual({ 'bad-checksum': 1, 'adler32-checksum': 1, 'zero-checksum': 1 });
    expect(kinds(r.associations[0]!)).toEqual(kinds(r));
    expect(r.associations[0]!.anomalies.find((x) => x.kind === 'bad-checksum')!.examples[0]!.frame).toBe(5);
  });

  it('out of the blue: a packet answered with a T-bit ABORT, and a lone COOKIE ACK', () => {
    const c = handshake(new SyntheticCapture())
      .add(1, '10.0.0.9', B, 6000, 2905, 0x77, [data(1)])
      .add(1.001, B, '10.0.0.9', 2905, 6000, 0x77, [{ kind: 'abort', tBit: true, causes: [] }])
      .add(2, '10.0.0.8', '10.0.0.7', 1, 2, 0x55, [cookieAck]);
    const r = inspectCapture(c.bytes());
    expect(kinds(r)).toEqual({ 'out-of-the-blue': 2 });
    expect(r.ungroupedPackets).toBe(1);
    const stray = r.associations[1]!;
    expect(stray).toMatchObject({ midStream: true, state: 'aborted' });
    expect(stray.anomalies[0]!.examples[0]!.detail).toMatch(/endpoint 1 answered with ABORT \(T bit\)/);
    expect(r.associations[0]!.anomalies).toEqual([]);
  });

  it('tag mismatch: a packet between the ports and addresses of an open association with neither of its tags', () => {
    const c = handshake(new SyntheticCapture())
      .add(1, A, B, 5000, 2905, TB, [data(100)])
      .add(1.5, A, B, 5000, 2905, 0xdead_beef, [data(101)])
      .add(2, B, A, 2905, 5000, TA, [sack(100)]);
    const r = inspectCapture(c.bytes());
    expect(r.associations).toHaveLength(1);
    const a = r.associations[0]!;
    expect(kinds(a)).toEqual({ 'tag-mismatch': 1 });
    expect(a.anomalies[0]!.examples[0]!.detail).toBe('verification tag 0xdeadbeef from endpoint 0; endpoint 1 has 0x22222222');
    // The receiver drops it (RFC 9260 §8.5): its DATA is not counted.
    expect(a.directions[0]).toMatchObject({ packets: 4, messages: 1, dataChunks: 1 });
  });

  it('malformed chunks: the good chunks before and after a bad one still count', () => {
    const c = handshake(new SyntheticCapture())
      // Second chunk's length runs past the packet: the walk stops there.
      .add(1, A, B, 5000, 2905, TB, [data(100), data(101)], {
        mutate: (b) => {
          const second = 12 + 16 + 100;
          b[second + 2] = 0x0f;
        },
      })
      // First chunk is a DATA of 8 bytes (too short for its header): it is reported, the SACK after it counts.
      .add(2, B, A, 2905, 5000, TA, [{ kind: 'unknown', type: 0, flags: 3, value: payload(4) }, sack(100)]);
    const r = inspectCapture(c.bytes());
    const a = r.associations[0]!;
    expect(kinds(a)).toEqual({ malformed: 2 });
    expect(a.anomalies[0]!.examples.map((e) => e.frame)).toEqual([5, 6]);
    expect(a.directions[0].messages).toBe(1);
    expect(a.directions[1].sacks).toBe(1);
  });

  it('duplicate frames of a capture on two interfaces, but not a retransmission with the same bytes', () => {
    const c = new SyntheticCapture(2);
    const both = (t: number, src: string, dst: string, sp: number, dp: number, tag: number, chunks: Parameters<SyntheticCapture['add']>[6]) =>
      c.add(t, src, dst, sp, dp, tag, chunks, { iface: 0 }).add(t + 0.00002, src, dst, sp, dp, tag, chunks, { iface: 1 });
    both(0, A, B, 5000, 2905, 0, [init(TA, 100)]);
    both(0.001, B, A, 2905, 5000, TA, [initAck(TB, 9000)]);
    both(0.002, A, B, 5000, 2905, TB, [cookieEcho]);
    both(0.003, B, A, 2905, 5000, TA, [cookieAck]);
    both(1, A, B, 5000, 2905, TB, [data(100)]);
    // The same bytes again 1 s later on one interface: T3 retransmission.
    c.add(2, A, B, 5000, 2905, TB, [data(100)], { iface: 0 });
    // The same bytes 100 µs apart with an answer in between: a retransmission, not a duplicate.
    c.add(2.0001, B, A, 2905, 5000, TA, [sack(100)], { iface: 0 });
    c.add(2.0002, A, B, 5000, 2905, TB, [data(100)], { iface: 0 });
    const r = inspectCapture(c.bytes());
    expect(kinds(r)).toEqual({ 'duplicate-frame': 5 });
    expect(r.anomalies[0]!.examples[0]!.detail).toBe('same SCTP packet as frame 1 (20 µs later, interface 0 then 1)');
    const a = r.associations[0]!;
    expect(a.packets).toBe(8);
    expect(a.directions[0]).toMatchObject({ messages: 1, dataChunks: 3, retransmissions: 2 });
  });

  it('zero verification tag on a packet that is not an INIT', () => {
    const r = inspectCapture(new SyntheticCapture().add(0, A, B, 1, 2, 0, [data(1)]).bytes());
    expect(kinds(r)).toEqual({ 'zero-tag': 1 });
    expect(r.associations).toHaveLength(0);
  });

  it('IP fragments of SCTP and undecodable IP are reported, not grouped', () => {
    const frag = encodeIp({ source: A, destination: B, protocol: 132, payload: payload(40) });
    frag[6] = 0x20; // More Fragments
    const notIp = Uint8Array.of(0x45, 0, 0, 10);
    const r = inspectCapture(new SyntheticCapture().addFrame(0, frag).addFrame(1, notIp).bytes());
    expect(r.frames).toBe(2);
    expect(kinds(r)).toEqual({ 'ip-error': 2 });
    expect(r.anomalies[0]!.examples[0]!.detail).toMatch(/IP fragment of an SCTP packet/);
  });
});

describe('grouping', () => {
  it('a restart: new tags on both sides, one association, a restart event', () => {
    const TA2 = 0x3333_3333;
    const TB2 = 0x4444_4444;
    const c = handshake(new SyntheticCapture(), { tsnA: 100 })
      .add(1, A, B, 5000, 2905, TB, [data(100)])
      .add(1.01, B, A, 2905, 5000, TA, [sack(100)])
      .add(5, A, B, 5000, 2905, 0, [init(TA2, 7000)])
      .add(5.001, B, A, 2905, 5000, TA2, [initAck(TB2, 8000)])
      .add(5.002, A, B, 5000, 2905, TB2, [cookieEcho])
      .add(5.003, B, A, 2905, 5000, TA2, [cookieAck])
      .add(6, A, B, 5000, 2905, TB2, [data(7000)])
      .add(6.01, B, A, 2905, 5000, TA2, [sack(7000)]);
    const r = inspectCapture(c.bytes());
    expect(r.associations).toHaveLength(1);
    const a = r.associations[0]!;
    expect(a.restarts).toBe(1);
    expect(a.timeline.map((e) => e.event)).toContain('restart');
    expect(a.endpoints.map((e) => e.tags)).toEqual([['0x11111111', '0x33333333'], ['0x22222222', '0x44444444']]);
    expect(a.directions[0]).toMatchObject({ messages: 2, retransmissions: 0 });
    expect(a.directions[0].rttDataToSack?.samples).toBe(2);
  });

  it('mid-stream over UDP encapsulation: the tag pair and ports make one association; other UDP ports need --udp-port', () => {
    const build = (port: number) =>
      new SyntheticCapture()
        .add(0, A, B, 5000, 2905, TB, [data(1, { ppid: 46 })], { udp: { sourcePort: port, destinationPort: port } })
        .add(0.01, B, A, 2905, 5000, TA, [sack(1)], { udp: { sourcePort: port, destinationPort: port } })
        .bytes();
    const r = inspectCapture(build(9899));
    expect(r.associations).toHaveLength(1);
    expect(r.associations[0]!).toMatchObject({ midStream: true, endpoints: [{ tags: ['0x11111111'] }, { tags: ['0x22222222'] }] });
    expect(r.associations[0]!.directions[0].ppids).toEqual([{ ppid: 46, name: 'Diameter', messages: 1, bytes: 100 }]);
    expect(inspectCapture(build(5555)).associations).toHaveLength(0);
    expect(inspectCapture(build(5555), { udpPorts: [5555] }).associations).toHaveLength(1);
  });

  it('I-DATA: the PPID of the first fragment names the message', () => {
    const frag = (tsn: number, fsn: number, b: boolean, e: boolean) =>
      ({ kind: 'idata', tsn, streamId: 3, mid: 0, ppid: b ? 60 : 0, fsn, userData: payload(50), unordered: false, beginning: b, ending: e, immediate: false }) as const;
    const c = handshake(new SyntheticCapture()).add(1, A, B, 5000, 2905, TB, [frag(100, 0, true, false)]).add(1.001, A, B, 5000, 2905, TB, [frag(101, 1, false, true)]);
    const d = inspectCapture(c.bytes()).associations[0]!.directions[0];
    expect(d).toMatchObject({ messages: 1, fragments: 2, userBytes: 100, streams: [{ stream: 3, messages: 1, bytes: 100, unordered: 0 }] });
    expect(d.ppids).toEqual([{ ppid: 60, name: 'NGAP', messages: 1, bytes: 100 }]);
  });
});

describe('a capture cut by its snaplen', () => {
  const c = handshake(new SyntheticCapture(1, 96))
    .add(1, A, B, 5000, 2905, TB, [data(100, { size: 1000, ppid: 3 })])
    .add(1.01, B, A, 2905, 5000, TA, [sack(100)])
    .add(1.02, A, B, 5000, 2905, TB, [data(101, { size: 20 }), data(102, { size: 1000, streamId: 1 })]);

  it('still groups and counts: DATA headers carry the message sizes; no checksum or malformed alarms', () => {
    const r = inspectCapture(c.bytes());
    expect(r.anomalies).toEqual([]);
    expect(r.associations).toHaveLength(1);
    const d = r.associations[0]!.directions[0];
    expect(d).toMatchObject({ messages: 3, userBytes: 2020, dataChunks: 3 });
    expect(d.ppids.find((p) => p.ppid === 3)).toMatchObject({ name: 'M3UA', messages: 1, bytes: 1000 });
    expect(r.associations[0]!.directions[0].rttDataToSack?.samples).toBe(1);
  });

  it('replay planning leaves the cut messages out', () => {
    const s = buildScript(c.bytes());
    expect(s.ok && [s.value.endpoints[0].messages.map((m) => m.data.length), s.value.incomplete]).toEqual([[20], 2]);
  });
});

describe('bounded memory', () => {
  it('a TSN ring smaller than the flight still knows a retransmission of a TSN it no longer holds', () => {
    const c = handshake(new SyntheticCapture(), { tsnA: 100 });
    for (let i = 0; i < 1000; i++) c.add(1 + i * 1e-4, A, B, 5000, 2905, TB, [data(100 + i, { size: 10 })]);
    c.add(2, A, B, 5000, 2905, TB, [data(100, { size: 10 })]);
    const d = inspectCapture(c.bytes(), { tsnWindow: 64 }).associations[0]!.directions[0];
    expect(d).toMatchObject({ messages: 1000, retransmissions: 1 });
  });

  it('streams, associations and timeline events past their limits are summed or counted, not kept', () => {
    const c = handshake(new SyntheticCapture(), { tsnA: 100 });
    for (let s = 0; s < 10; s++) c.add(1 + s * 0.01, A, B, 5000, 2905, TB, [data(100 + s, { streamId: s })]);
    for (let k = 0; k < 5; k++) c.add(2 + k, `10.9.0.${k + 1}`, B, 7000 + k, 2905, 0, [init(0x5000 + k, 1)]);
    const r = inspectCapture(c.bytes(), { maxStreams: 4, maxAssociations: 3, maxEvents: 3 });
    const a = r.associations[0]!;
    expect(a.directions[0].streams).toHaveLength(4);
    expect(a.directions[0].otherStreams).toEqual({ messages: 6, bytes: 600 });
    expect(a.timeline).toHaveLength(3);
    expect(a.eventsDropped).toBe(1);
    expect(r.associations).toHaveLength(3);
    expect(r.untracked).toEqual({ associations: 3, packets: 3 });
  });
});

describe('damaged input never throws; the rest of the file is still read', () => {
  it('a packet with thousands of chunks', () => {
    const pads = Array.from({ length: 3000 }, () => ({ kind: 'pad', length: 0 }) as const);
    const r = inspectCapture(handshake(new SyntheticCapture()).add(1, A, B, 5000, 2905, TB, pads).add(2, A, B, 5000, 2905, TB, [data(100)]).bytes());
    expect(r.associations[0]!.chunks['PAD']).toBe(3000);
    expect(r.associations[0]!.directions[0].messages).toBe(1);
  });

  it('a damaged record in the middle, then a file cut inside a record', () => {
    const good = handshake(new SyntheticCapture()).add(1, A, B, 5000, 2905, TB, [data(100)]).bytes();
    // Break the trailing length of the last block (non-fatal), then append a block cut short (fatal).
    const damaged = good.slice();
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 0xff;
    const cut = new Uint8Array(damaged.length + 10);
    cut.set(damaged);
    cut.set([6, 0, 0, 0, 0x40, 0, 0, 0], damaged.length);
    const r = inspectCapture(cut);
    expect(kinds(r)).toEqual({ 'capture-error': 1 });
    expect(r.fatalError).toMatch(/file ends inside a block/);
    expect(r.associations[0]!.outcome).toBe('open at end of capture');
  });

  it('random frames', () => {
    let x = 12345;
    const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const c = handshake(new SyntheticCapture());
    for (let i = 0; i < 2000; i++) {
      const f = Uint8Array.from({ length: 20 + (rnd() % 80) }, rnd);
      if (i % 2 === 0) {
        f[0] = 0x45;
        f[9] = 132;
      }
      c.addFrame(1 + i * 1e-3, f);
    }
    expect(() => inspectCapture(c.bytes())).not.toThrow();
  });

  it('mutated real captures: no throw, and the same report however the file is chunked', async () => {
    let x = 99;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (const name of ['sctp-addip.cap', 'sctp-www.cap', 'forces3.pcap']) {
      const original = new Uint8Array(readFileSync(join(capturesDir, name)));
      for (let round = 0; round < 30; round++) {
        const b = original.slice();
        for (let k = 0; k < 20; k++) b[24 + rnd(b.length - 24)] = rnd(256);
        const whole = inspectCapture(b);
        async function* chunks() {
          for (let o = 0; o < b.length; ) {
            const n = 1 + rnd(700);
            yield b.subarray(o, o + n);
            o += n;
          }
        }
        expect(await inspectStream(chunks())).toEqual(whole);
      }
    }
  });

  it('random bytes are not a capture', () => {
    const r = inspectCapture(Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff));
    expect(r.format).toBeNull();
    expect(r.fatalError).toMatch(/not a pcap or pcapng file/);
  });
});
