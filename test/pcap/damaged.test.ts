// Damaged input through the whole tool: a capture of our own association with a file cut inside a
// record, an IP packet cut short, a packet of thousands of chunks, and random bytes spliced in.
// `pcap inspect` and `pcap replay --offline` say what was wrong in one line at most, never throw,
// and still read the rest: the association and our responses come out as from the clean file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture, PcapWriter } from '../../src/pcap/index.js';
import { SeededRng } from '../../src/core/env.js';
import { encodePacket } from '../../src/wire/packet.js';
import { encodeIp } from '../../src/wire/ip.js';
import { simCapture } from './offline-sim.js';
import { cli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'hasctp-damaged-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const clean = simCapture({ messages: 20, size: 300, interval: 30, echo: true, seed: 7 });
const file = readCapture(clean);
if (!file.ok) throw new Error(file.error.message);
const records = file.value.records.map((r) => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
});
const w = new PcapWriter({ linkType: 101 });

/** The clean capture with `extra` records (raw IPv4 frames) after record `at`. */
function spliced(at: number, extra: { data: Uint8Array; originalLength?: number }[]): Uint8Array {
  const parts = [w.header()];
  records.forEach((r, i) => {
    parts.push(w.packet(r.timestamp, r.data));
    if (i === at) for (const x of extra) parts.push(w.packet(r.timestamp, x.data, x.originalLength ?? x.data.length));
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function save(name: string, bytes: Uint8Array): string {
  const f = join(tmp, name);
  writeFileSync(f, bytes);
  return f;
}

// An unrelated packet of 5000 chunks (DATA-less, unknown type 0x3f: skip) from another host.
const many = encodeIp({
  source: '10.77.9.9',
  destination: '10.77.0.2',
  protocol: 132,
  payload: encodePacket({ sourcePort: 1, destinationPort: 2, verificationTag: 7, chunks: Array.from({ length: 5000 }, () => ({ kind: 'unknown' as const, type: 0x3f, flags: 0, value: new Uint8Array(0) })) }),
});
const rng = new SeededRng(5);
const noise = new Uint8Array(700);
rng.fill(noise);
// One of our DATA packets, cut by the capture in the middle of its chunk.
const dataRecord = records.find((r) => r.data.length > 300)!;

interface Report {
  frames: number;
  associations: { outcome: string; directions: { messages: number }[] }[];
  anomalies: { kind: string; count: number }[];
}

const cases: [string, () => Uint8Array, (r: Report) => void][] = [
  // Not an anomaly (unknown chunk types are legal); it is read whole and grouped apart.
  ['a packet with 5000 chunks', () => spliced(10, [{ data: many }]), (r) => expect([r.frames, r.associations.length]).toEqual([records.length + 1, 2])],
  [
    'random bytes as a frame, and as an IPv4 payload',
    () => spliced(12, [{ data: noise }, { data: encodeIp({ source: '10.77.9.9', destination: '10.77.0.2', protocol: 132, payload: noise }) }]),
    (r) => expect(r.anomalies.length).toBeGreaterThan(0),
  ],
  [
    'a packet cut by the snaplen inside its SCTP common header',
    () => spliced(14, [{ data: dataRecord.data.subarray(0, 28), originalLength: dataRecord.data.length }]),
    (r) => expect(r.anomalies).toEqual([expect.objectContaining({ kind: 'malformed', count: 1 })]),
  ],
];

describe('damaged input: inspect and offline replay read past it', () => {
  for (const [what, make, check] of cases) {
    it(what, async () => {
      const f = save(`${what.replace(/\W+/g, '-')}.pcap`, make());
      const ins = await cli(['pcap', 'inspect', f, '--json']);
      expect(ins.code, ins.err).toBe(0);
      expect(ins.err).toBe('');
      const rep = JSON.parse(ins.out) as Report;
      const ours = rep.associations.find((a) => a.directions[0]!.messages === 20)!;
      expect(ours.outcome).toBe('closed by shutdown');
      expect(ours.directions.map((d) => d.messages)).toEqual([20, 20]);
      check(rep);
      const off = await cli(['pcap', 'replay', f, '--offline', '--assoc', '1', '--strict']);
      expect(off.err).toBe('');
      expect(off.out).toContain('ok: our responses reproduced exactly');
      expect(off.code).toBe(0);
    });
  }

  it('a file cut inside a record: what was read is reported, one line says where reading stopped', async () => {
    const f = save('cut.pcap', clean.subarray(0, clean.length - 100));
    const ins = await cli(['pcap', 'inspect', f]);
    expect(ins.code).toBe(0);
    // The last two packets are gone: our SHUTDOWN is the last one read.
    expect(ins.out).toContain('association 1: 10.77.0.1:40000 <-> 10.77.0.2:5000, shutting down at end of capture');
    expect(ins.err).toMatch(/^hasctp pcap inspect: .*cut\.pcap: reading stopped early: [^\n]+\n$/);
    const off = await cli(['pcap', 'replay', f, '--offline', '--json']);
    expect(off.code).toBe(0);
    const r = JSON.parse(off.out) as { chunks: { captured: number; matched: number } };
    expect(r.chunks.captured).toBeGreaterThan(30);
    expect(r.chunks.matched).toBe(r.chunks.captured);
  });

  it('random bytes for a file: one line, exit 1, no stack trace', async () => {
    const f = save('noise.pcap', noise);
    for (const args of [['pcap', 'inspect', f], ['pcap', 'replay', f, '--offline']]) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^hasctp pcap (inspect|replay): .*noise\.pcap: not a readable capture: [^\n]+\n$/);
    }
  });
});
