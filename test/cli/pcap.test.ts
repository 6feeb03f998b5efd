// `hasctp pcap inspect` and the argument and input errors of `hasctp pcap`, through the CLI entry point.
import { describe, it, expect, afterAll, afterEach, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InspectReport } from '../../src/pcap/inspect/index.js';
import { capturesDir } from '../helpers/env.js';
import { cli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'hasctp-cli-pcap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const oneLine = (s: string): void => {
  expect(s.trim().split('\n'), s).toHaveLength(1);
  expect(s).not.toMatch(/\n\s+at /); // no stack trace
};

describe('hasctp pcap inspect', () => {
  it('prints the associations of a capture as text', async () => {
    const r = await cli(['pcap', 'inspect', join(capturesDir, 'sctp-addip.cap')]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/sctp-addip\.cap: pcap, 38 frames, 38 SCTP packets, 0\.110 s from 2005-01-04T06:00:53\.221492Z; 1 association$/);
    expect(r.out).toContain('association 1: 192.168.0.101:6666 <-> 192.168.0.100:9999, closed by shutdown');
    expect(r.out).toMatch(/0 \(initiator\) +6666 +0x71b81d1f +192\.168\.0\.101, 192\.168\.0\.102/);
    expect(r.out).toMatch(/path-switch +1->0 +192\.168\.0\.100 > 192\.168\.0\.101 {2}-> {2}192\.168\.0\.100 > 192\.168\.0\.102/);
    expect(r.out).toMatch(/asconf +0->1 +serial 2702200202: add 192\.168\.0\.102/);
    expect(r.out).toMatch(/^ {2}0->1 +19 +960 +8 +0 +8 +208 /m);
    expect(r.out).toContain('path switches: 2, failovers: 0');
  });

  it('--json prints one object; --assoc picks one association', async () => {
    const r = await cli(['pcap', 'inspect', join(capturesDir, 'sctp-www.cap'), '--json']);
    expect(r.code).toBe(0);
    oneLine(r.out);
    const report = JSON.parse(r.out) as InspectReport & { file: string };
    expect(report.file).toMatch(/sctp-www\.cap$/);
    expect(report.associations).toHaveLength(3);
    const two = JSON.parse((await cli(['pcap', 'inspect', join(capturesDir, 'sctp-www.cap'), '--json', '--assoc', '2'])).out) as InspectReport;
    expect(two.associations.map((a) => a.id)).toEqual([2]);
    const text = await cli(['pcap', 'inspect', join(capturesDir, 'sctp-www.cap'), '--assoc', '3']);
    expect(text.out).toMatch(/; 3 associations\n/);
    expect(text.out).toContain('association 3: 155.230.24.155:32838 <-> 222.96.156.151:80, setup failed: INIT not answered');
    expect(text.out).not.toContain('association 1:');
  });

  it('names anomalies with frame numbers', async () => {
    const r = await cli(['pcap', 'inspect', join(capturesDir, 'sctp.cap')]);
    expect(r.out).toContain('adler32-checksum x4 (#1, #2, #3, #4): Adler-32 checksum (RFC 2960); RFC 9260 receivers drop it');
    expect(r.out).toMatch(/ppid +name.*\n +0->1 +7 +H\.248\/Megaco +1 +75/);
  });

  it('a file cut short: the report of what was read, and one line on stderr', async () => {
    const f = join(tmp, 'cut.cap');
    const b = readFileSync(join(capturesDir, 'sctp-addip.cap'));
    writeFileSync(f, b.subarray(0, b.length - 30));
    const r = await cli(['pcap', 'inspect', f]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('37 frames');
    expect(r.out).toContain('reading stopped early: file ends inside a record');
    oneLine(r.err);
  });
});

describe('hasctp pcap: errors', () => {
  const cap = join(capturesDir, 'sctp-www.cap');
  const badArgs: string[][] = [
    ['pcap'],
    ['pcap', 'bogus'],
    ['pcap', 'inspect'],
    ['pcap', 'inspect', cap, '--assoc', '0'],
    ['pcap', 'inspect', cap, '--udp-port', 'x'],
    ['pcap', 'inspect', cap, '--frobnicate'],
    ['pcap', 'replay', cap],
    ['pcap', 'replay', cap, '--target', '127.0.0.1'],
    ['pcap', 'replay', cap, '--target', '127.0.0.1:5000', '--side', 'middle'],
    ['pcap', 'replay', cap, '--target', '127.0.0.1:5000', '--speed', '0'],
    ['pcap', 'replay', cap, '--target', '127.0.0.1:5000', '--speed', '2', '--asap'],
    ['pcap', 'replay', cap, '--target', '127.0.0.1:5000', '--udp-encap', '9899'],
    ['pcap', 'replay', cap, '--target', '127.0.0.1:5000', '--bind', 'nowhere'],
    ['pcap', 'replay', cap, '--target', '127.0.0.1:5000', '--assoc', '-1'],
  ];
  for (const args of badArgs) {
    it(`bad arguments: ${args.slice(1).join(' ').replace(cap, 'FILE')} -> exit 2, one line`, async () => {
      const r = await cli(args);
      expect(r.code, r.err).toBe(2);
      // `hasctp pcap` alone prints the help of the group (commander), still no stack trace.
      if (args.length > 1) oneLine(r.err);
      expect(r.err).not.toMatch(/\n\s+at /);
    });
  }

  const inputs: [string, () => string, RegExp][] = [
    ['a missing file', () => join(tmp, 'nope.pcap'), /cannot read .*nope\.pcap: ENOENT/],
    ['a directory', () => tmp, /cannot read .*: EISDIR/],
    ['an empty file', () => (writeFileSync(join(tmp, 'empty.pcap'), ''), join(tmp, 'empty.pcap')), /not a readable capture: file too short for a capture header/],
    ['garbage', () => (writeFileSync(join(tmp, 'junk.pcap'), 'this is not a capture at all, just text\n'.repeat(50)), join(tmp, 'junk.pcap')), /not a readable capture: not a pcap or pcapng file/],
    ['gzip', () => (writeFileSync(join(tmp, 'x.pcap.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])), join(tmp, 'x.pcap.gz')), /gzip-compressed file: decompress it first/],
  ];
  for (const [what, make, message] of inputs) {
    it(`inspect of ${what}: one line, exit 1`, async () => {
      const r = await cli(['pcap', 'inspect', make()]);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      oneLine(r.err);
      expect(r.err).toMatch(/^hasctp pcap inspect: /);
      expect(r.err).toMatch(message);
    });
    it(`replay of ${what}: one line, exit 1`, async () => {
      const r = await cli(['pcap', 'replay', make(), '--target', '127.0.0.1:5000', '--udp-encap', '0:9']);
      expect(r.code).toBe(1);
      oneLine(r.err);
      expect(r.err).toMatch(/^hasctp pcap replay: /);
      expect(r.err).toMatch(message);
    });
  }

  it('inspect --assoc of an association the capture does not have: one line, exit 1', async () => {
    const r = await cli(['pcap', 'inspect', cap, '--assoc', '7']);
    expect(r.code).toBe(1);
    oneLine(r.err);
    expect(r.err).toMatch(/no association 7 \(the capture has 3\)/);
  });

  it('replay of an association that does not exist, or of a capture without SCTP: one line, exit 1', async () => {
    const r = await cli(['pcap', 'replay', cap, '--assoc', '9', '--target', '127.0.0.1:5000', '--udp-encap', '0:9']);
    expect(r.code).toBe(1);
    oneLine(r.err);
    expect(r.err).toMatch(/association 9 is not in the capture/);
  });
});
