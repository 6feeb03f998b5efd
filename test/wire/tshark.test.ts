/**
 * Cross-checks against Wireshark's dissector, an implementation we did not write:
 * 1. every public capture decodes completely, with the same chunk-type counts
 *    as tshark reports;
 * 2. a packet of every chunk kind we can encode dissects in tshark with the
 *    same chunk types, no malformed mark and no bad-checksum expert info.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture, extractSctp, PcapWriter, LinkType } from '../../src/pcap/index.js';
import { decodePacket, encodePacket } from '../../src/wire/packet.js';
import { chunkType } from '../../src/wire/chunk.js';
import { encodeIPv4 } from '../../src/wire/ip.js';
import { encodeUdpEncapsulated } from '../../src/wire/udp.js';
import type { Chunk, Packet } from '../../src/wire/types.js';
import { capturesDir, requireTool, sharedCapturesDir } from '../helpers/env.js';
import { sampleChunks, extraChunks } from './samples.js';

const haveTshark = requireTool('tshark', 'the Wireshark cross-check of the codec cannot run');

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function countTypes(types: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const t of types) counts[t] = (counts[t] ?? 0) + 1;
  return counts;
}

/** tshark also lists the type of a chunk quoted inside an Unrecognized Chunk Type cause. */
function typesAsTsharkSees(c: Chunk): number[] {
  const nested = c.kind === 'error' || c.kind === 'abort'
    ? c.causes.flatMap((cause) => (cause.kind === 'unrecognized-chunk-type' && cause.chunk.length ? [cause.chunk[0]!] : []))
    : [];
  return [chunkType(c), ...nested];
}

/** The repo's fixtures, and the shared public captures when they sit beside the repo (as in CI). */
const captureDirs = [capturesDir, sharedCapturesDir].filter((d) => existsSync(d));
const captureFiles = captureDirs.flatMap((d) =>
  readdirSync(d).filter((f) => /\.(cap|pcap|pcapng)$/.test(f)).sort().map((f) => join(d, f)),
);

describe.skipIf(!haveTshark)('public captures: chunk counts equal tshark', () => {
  it('has the public captures to check', () => {
    expect(captureFiles.length).toBeGreaterThanOrEqual(7);
  });

  for (const path of captureFiles) {
    const file = path.slice(path.lastIndexOf('/', path.lastIndexOf('/') - 1) + 1);
    it(file, () => {
      const theirs = tshark(['-r', path, '-Y', 'sctp', '-T', 'fields', '-e', 'sctp.chunk_type'])
        .split('\n')
        .filter((l) => l.trim() !== '')
        .flatMap((l) => l.split(',').map(Number));

      const cap = readCapture(new Uint8Array(readFileSync(path)));
      expect(cap.ok).toBe(true);
      if (!cap.ok) return;
      const ours: number[] = [];
      let packets = 0;
      for (const rec of cap.value.records) {
        expect(rec.ok, rec.ok ? '' : rec.error.message).toBe(true);
        if (!rec.ok) continue;
        const ex = extractSctp(rec.value.linkType, rec.value.data);
        expect(ex.ok, ex.ok ? '' : ex.error.message).toBe(true);
        if (!ex.ok || ex.value === null) continue;
        const p = decodePacket(ex.value.sctp, { checksum: 'classify' });
        expect(p.ok, p.ok ? '' : `${file}: ${p.error.message}`).toBe(true);
        if (!p.ok) continue;
        packets++;
        for (const c of p.value.chunks) ours.push(chunkType(c));
      }
      expect(packets).toBeGreaterThan(0);
      expect(countTypes(ours)).toEqual(countTypes(theirs));
    });
  }
});

describe.skipIf(!haveTshark)('every chunk kind we encode dissects cleanly in tshark', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hasctp-tshark-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('one packet per chunk kind, plus a bundle and a UDP-encapsulated packet', () => {
    const chunks: Chunk[] = [...Object.values(sampleChunks), ...extraChunks];
    const packets: { packet: Packet; udp: boolean }[] = chunks.map((c) => ({
      packet: { sourcePort: 40000, destinationPort: 40001, verificationTag: c.kind === 'init' ? 0 : 0xcafe_f00d, chunks: [c] },
      udp: false,
    }));
    packets.push({
      packet: { sourcePort: 40002, destinationPort: 40003, verificationTag: 1, chunks: [sampleChunks.sack, sampleChunks.data, sampleChunks['forward-tsn'], sampleChunks.data] },
      udp: false,
    });
    packets.push({ packet: { sourcePort: 40004, destinationPort: 40005, verificationTag: 2, chunks: [sampleChunks.data] }, udp: true });

    const w = new PcapWriter({ linkType: LinkType.raw });
    const parts: Uint8Array[] = [w.header()];
    packets.forEach(({ packet, udp }, i) => {
      const sctp = encodePacket(packet);
      const payload = udp
        ? encodeUdpEncapsulated({ source: '10.0.0.1', destination: '10.0.0.2', sourcePort: 9899, destinationPort: 9899, sctp })
        : sctp;
      const ip = encodeIPv4({ source: '10.0.0.1', destination: '10.0.0.2', protocol: udp ? 17 : 132, payload });
      parts.push(w.packet({ seconds: 1_700_000_000 + i, nanos: 0 }, ip));
    });
    const file = join(dir, 'every-kind.pcap');
    writeFileSync(file, Buffer.concat(parts));

    const rows = tshark([
      '-r', file, '-o', 'sctp.checksum:CRC-32C',
      '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,',
      '-e', 'frame.number', '-e', 'sctp.chunk_type', '-e', '_ws.malformed', '-e', '_ws.expert.message', '-e', 'sctp.checksum.status',
    ])
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.split('\t'));
    expect(rows).toHaveLength(packets.length);
    rows.forEach((row, i) => {
      const [, types = '', malformed = '', expert = '', status = ''] = row;
      const expected = packets[i]!.packet.chunks.flatMap(typesAsTsharkSees);
      const label = `frame ${i + 1} (${packets[i]!.packet.chunks.map((c) => c.kind).join(',')})`;
      expect(types.split(',').filter(Boolean).map(Number), label).toEqual(expected);
      expect(malformed, `${label} malformed`).toBe('');
      expect(expert, `${label} expert info`).not.toMatch(/malformed|bad checksum|incorrect|wrong|error/i);
      // 1 = good (Wireshark's PROTO_CHECKSUM_E_GOOD).
      expect(status, `${label} checksum status`).toBe('1');
    });
  });
});
