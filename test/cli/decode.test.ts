import { describe, it, expect, afterAll } from 'vitest';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { decodeCommand } from '../../src/cli/decode.js';
import { encodePacket } from '../../src/wire/packet.js';
import { encodeIPv6 } from '../../src/wire/ip.js';
import { encodeUdpEncapsulated } from '../../src/wire/udp.js';
import { PcapngWriter, LinkType } from '../../src/pcap/index.js';
import { capturesDir, repoRoot } from '../helpers/env.js';

async function decode(file: string, opts: { json?: boolean; udpPorts?: number[] } = {}): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  const code = await decodeCommand(file, { json: opts.json ?? false, udpPorts: opts.udpPorts ?? [9899], time: 'rel', out, err });
  return { code, out: o, err: e };
}

const tmp = mkdtempSync(join(tmpdir(), 'hasctp-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('hasctp decode', () => {
  it('prints one line per SCTP packet with addresses, tag, checksum status and chunks', async () => {
    const r = await decode(join(capturesDir, 'sctp-addip.cap'));
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(38);
    expect(lines[0]).toMatch(/^#1 0\.000000 192\.168\.0\.101:6666 > 192\.168\.0\.100:9999 vtag=0x00000000 crc32c-ok INIT tag=0x71b81d1f a_rwnd=109568 os=10 mis=65535 itsn=2702200202 params=\[addr-types=\[v4\], ecn, fwd-tsn\]$/);
    expect(lines.some((l) => /ASCONF serial=2702200202 addr=192\.168\.0\.101 \[add 192\.168\.0\.102\]/.test(l))).toBe(true);
    expect(lines.some((l) => /set-primary 192\.168\.0\.102/.test(l))).toBe(true);
    expect(r.err).toMatch(/38 frames, 38 SCTP packets, 0 malformed/);
  });

  it('labels Adler-32 and zero checksums of old captures instead of dropping them', async () => {
    const adler = await decode(join(capturesDir, 'sctp.cap'));
    expect(adler.out).toMatch(/ adler32 DATA /);
    const zero = await decode(join(capturesDir, 'sctp001.pcap'));
    expect(zero.out).toMatch(/cksum-zero/);
  });

  it('--json prints one parseable object per packet', async () => {
    const r = await decode(join(capturesDir, 'sctp-test.cap'), { json: true });
    const objs = r.out.trim().split('\n').map((l) => JSON.parse(l) as { chunks: { kind: string }[]; checksumStatus: string });
    expect(objs).toHaveLength(74);
    expect(objs[0]!.chunks[0]!.kind).toBe('init');
    expect(objs.every((o) => o.checksumStatus === 'crc32c')).toBe(true);
  });

  it('a missing file is one line on stderr and exit 1', async () => {
    const r = await decode(join(tmp, 'nope.pcap'));
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/cannot read .*nope\.pcap: ENOENT/);
  });

  it('a truncated file header is one line on stderr and exit 1', async () => {
    const f = join(tmp, 'short.pcap');
    writeFileSync(f, readFileSync(join(capturesDir, 'sctp.cap')).subarray(0, 10));
    const r = await decode(f);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/not a readable capture/);
  });

  it('a damaged packet is reported on its own line and the rest still decodes', async () => {
    const bytes = new Uint8Array(readFileSync(join(capturesDir, 'sctp-addip.cap')));
    // Frame 3 (COOKIE ECHO): pcap header 24 B, records of 16 B header + data. Find
    // the COOKIE ECHO chunk (type 10) and make its length run past the packet.
    let off = 24;
    for (let i = 0; i < 2; i++) off += 16 + (bytes[off + 8]! | (bytes[off + 9]! << 8));
    const caplen = bytes[off + 8]! | (bytes[off + 9]! << 8);
    const frame = bytes.subarray(off + 16, off + 16 + caplen);
    const chunkAt = frame.length - 164; // 160-byte cookie + 4-byte chunk header
    expect(frame[chunkAt]).toBe(10);
    frame[chunkAt + 2] = 0x7f;
    const f = join(tmp, 'damaged.cap');
    writeFileSync(f, bytes);
    const r = await decode(f);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(38);
    expect(lines[2]).toMatch(/^#3 .* MALFORMED SCTP beyond-end/);
    expect(lines[3]).toMatch(/COOKIE-ACK/);
    expect(r.err).toMatch(/1 malformed/);
  });
});

describe('hasctp decode: pcapng and UDP encapsulation', () => {
  it('decodes a pcapng with two interfaces of different link types', async () => {
    const r = await decode(join(repoRoot, 'test/pcap/fixtures/merged.pcapng'));
    expect(r.code).toBe(0);
    // sctp.cap (4, Ethernet) + sctp-addip.cap (38, Linux cooked) merged by mergecap.
    expect(r.out.trim().split('\n')).toHaveLength(42);
    expect(r.err).toMatch(/42 SCTP packets, 0 malformed/);
  });

  it('finds RFC 6951 encapsulated SCTP on 9899 by default and on --udp-port', async () => {
    const sctp = encodePacket({
      sourcePort: 5060, destinationPort: 5060, verificationTag: 7,
      chunks: [{ kind: 'data', tsn: 1, streamId: 0, ssn: 0, ppid: 46, userData: Uint8Array.of(1, 2, 3), unordered: false, beginning: true, ending: true, immediate: false }],
    });
    const frame = (port: number): Uint8Array =>
      encodeIPv6({
        source: 'fd00::1', destination: 'fd00::2', protocol: 17,
        payload: encodeUdpEncapsulated({ source: 'fd00::1', destination: 'fd00::2', sourcePort: port, destinationPort: port, sctp }),
      });
    const w = new PcapngWriter();
    const { id, block } = w.addInterface({ linkType: LinkType.raw, name: 'sim0' });
    const f = join(tmp, 'udp.pcapng');
    writeFileSync(f, Buffer.concat([w.header(), block, w.packet(id, { seconds: 1, nanos: 0 }, frame(9899)), w.packet(id, { seconds: 2, nanos: 5 }, frame(5000))]));

    const byDefault = await decode(f);
    const lines = byDefault.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^#1 0\.000000 \[fd00::1\]:5060 > \[fd00::2\]:5060 udp 9899>9899 vtag=0x00000007 crc32c-ok DATA tsn=1 sid=0 ssn=0 ppid=46\(DIAMETER\) len=3 \[B E\]$/);

    const both = await decode(f, { udpPorts: [9899, 5000] });
    expect(both.out.trim().split('\n')[1]).toMatch(/^#2 1\.000000 .* udp 5000>5000 .* DATA tsn=1/);
  });
});

describe('hasctp command line', () => {
  const bin = join(repoRoot, 'dist/cli/bin.js');
  const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

  it('the built binary decodes a bundled capture (the README demo)', () => {
    const r = run(['decode', join(capturesDir, 'sctp.cap')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('bad arguments give one line and a non-zero exit', () => {
    for (const args of [['decode'], ['frobnicate'], ['decode', 'x.pcap', '--udp-port', '70000'], ['decode', 'x.pcap', '--time', 'never']]) {
      const r = run(args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(/error|hasctp:/);
    }
  });
});
