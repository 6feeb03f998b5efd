// Writer -> reader round trips for pcap and pcapng, and (when tshark is
// installed, as in CI) an independent reading of what the writers produce.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CaptureReader,
  extractSctp,
  LinkType,
  PcapngWriter,
  PcapWriter,
  readCapture,
  timestampToTicks,
  tickConverter,
  type CaptureRecord,
} from '../../src/pcap/index.js';
import { encodeIp } from '../../src/wire/ip.js';
import { encodeUdpEncapsulated } from '../../src/wire/udp.js';
import { chunked, concat } from './helpers.js';

function recordsOf(bytes: Uint8Array): CaptureRecord[] {
  const f = readCapture(bytes);
  if (!f.ok) throw new Error(f.error.message);
  return f.value.records.map((r) => {
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  });
}

const timestamp = fc.record({ seconds: fc.integer({ min: 0, max: 0xffffffff }), nanos: fc.integer({ min: 0, max: 999_999_999 }) });
const packet = fc.record({ ts: timestamp, data: fc.uint8Array({ maxLength: 200 }) });

describe('PcapWriter', () => {
  for (const resolution of ['us', 'ns'] as const) {
    for (const byteOrder of ['little', 'big'] as const) {
      it(`round-trips (${resolution}, ${byteOrder}-endian)`, () => {
        fc.assert(
          fc.property(fc.array(packet, { maxLength: 20 }), fc.constantFrom(1, 101, 113, 276), (pkts, linkType) => {
            const w = new PcapWriter({ linkType, resolution, byteOrder });
            const bytes = concat(w.header(), ...pkts.map((p) => w.packet(p.ts, p.data)));
            const reader = new CaptureReader();
            const got = [...reader.push(bytes), ...reader.end()].map((r) => {
              if (!r.ok) throw new Error(r.error.message);
              return r.value;
            });
            expect(reader.format).toBe('pcap');
            expect(reader.byteOrder).toBe(byteOrder);
            expect(got).toHaveLength(pkts.length);
            got.forEach((r, i) => {
              const p = pkts[i]!;
              const nanos = resolution === 'ns' ? p.ts.nanos : Math.floor(p.ts.nanos / 1000) * 1000;
              expect(r).toEqual({ interfaceId: 0, linkType, timestamp: { seconds: p.ts.seconds, nanos }, capturedLength: p.data.length, originalLength: p.data.length, data: p.data });
            });
          }),
          { numRuns: 40 },
        );
      });
    }
  }

  it('cuts packets to snaplen and keeps the original length', () => {
    const w = new PcapWriter({ linkType: LinkType.raw, snaplen: 10 });
    const [r] = recordsOf(concat(w.header(), w.packet({ seconds: 1, nanos: 0 }, new Uint8Array(50))));
    expect([r!.capturedLength, r!.originalLength, r!.data.length]).toEqual([10, 50, 10]);
  });

  it('rejects timestamps it cannot store', () => {
    const w = new PcapWriter({ linkType: 1 });
    expect(() => w.packet({ seconds: -1, nanos: 0 }, new Uint8Array())).toThrow(RangeError);
    expect(() => w.packet({ seconds: 0, nanos: 1e9 }, new Uint8Array())).toThrow(RangeError);
    expect(() => w.packet({ seconds: 2 ** 32, nanos: 0 }, new Uint8Array())).toThrow(RangeError);
  });
});

describe('PcapngWriter', () => {
  const ifaces = [
    { linkType: LinkType.raw, name: '192.0.2.1', resolution: 'ns' as const },
    { linkType: LinkType.ethernet, name: 'eth0', description: 'uplink', resolution: 'us' as const },
    { linkType: LinkType.linuxSll2, name: 'cluster', resolution: 'ns' as const, snaplen: 64 },
  ];

  for (const byteOrder of ['little', 'big'] as const) {
    it(`round-trips several interfaces, both resolutions, comments and direction (${byteOrder}-endian)`, () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              iface: fc.nat(2),
              ts: fc.record({ seconds: fc.integer({ min: 0, max: 2 ** 34 }), nanos: fc.integer({ min: 0, max: 999_999_999 }) }),
              data: fc.uint8Array({ maxLength: 120 }),
              comment: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
              direction: fc.option(fc.constantFrom('inbound' as const, 'outbound' as const), { nil: undefined }),
            }),
            { maxLength: 25 },
          ),
          fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 10 }),
          (pkts, sizes) => {
            const w = new PcapngWriter({ application: 'hasctp test', byteOrder });
            const parts = [w.header()];
            for (const i of ifaces) parts.push(w.addInterface(i).block);
            for (const p of pkts) {
              parts.push(
                w.packet(p.iface, p.ts, p.data, {
                  ...(p.comment === undefined ? {} : { comment: p.comment }),
                  ...(p.direction === undefined ? {} : { direction: p.direction }),
                }),
              );
            }
            const reader = new CaptureReader();
            const got: CaptureRecord[] = [];
            for (const c of chunked(concat(...parts), sizes)) {
              for (const r of reader.push(c)) {
                if (!r.ok) throw new Error(r.error.message);
                got.push({ ...r.value, data: r.value.data.slice() });
              }
            }
            expect(reader.end()).toEqual([]);
            expect(reader.byteOrder).toBe(byteOrder);
            expect(reader.interfaces.map((i) => [i.linkType, i.name, i.tsresol, i.snaplen])).toEqual([
              [101, '192.0.2.1', 9, 0],
              [1, 'eth0', 6, 0],
              [276, 'cluster', 9, 64],
            ]);
            expect(reader.interfaces[1]!.description).toBe('uplink');
            expect(got).toHaveLength(pkts.length);
            got.forEach((r, k) => {
              const p = pkts[k]!;
              const spec = ifaces[p.iface]!;
              const caplen = Math.min(p.data.length, spec.snaplen ?? Infinity);
              const nanos = spec.resolution === 'ns' ? p.ts.nanos : Math.floor(p.ts.nanos / 1000) * 1000;
              expect(r.interfaceId).toBe(p.iface);
              expect(r.linkType).toBe(spec.linkType);
              expect(r.timestamp).toEqual({ seconds: p.ts.seconds, nanos });
              expect([r.capturedLength, r.originalLength]).toEqual([caplen, p.data.length]);
              expect(r.data).toEqual(p.data.subarray(0, caplen));
              expect(r.comment).toBe(p.comment);
              expect(r.direction).toBe(p.direction);
            });
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('rejects packets for interfaces it was not told about', () => {
    const w = new PcapngWriter();
    expect(() => w.packet(0, { seconds: 0, nanos: 0 }, new Uint8Array())).toThrow(RangeError);
  });

  it('converts 64-bit tick counts exactly, including nanoseconds past 2^53', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 34 }), fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(0, 1, 3, 6, 9), (seconds, nanos, k) => {
        const units = 10 ** k;
        const { hi, lo } = timestampToTicks({ seconds, nanos }, units);
        const exact = BigInt(seconds) * BigInt(units) + (BigInt(nanos) * BigInt(units)) / 1_000_000_000n;
        expect((BigInt(hi) << 32n) | BigInt(lo)).toBe(exact);
        const back = tickConverter(k)(hi, lo, 0);
        const step = 10 ** (9 - k);
        expect(back).toEqual({ seconds, nanos: Math.floor(nanos / step) * step });
      }),
      { numRuns: 500 },
    );
    // Resolutions finer than 1 ns and binary ones go through BigInt.
    expect(() => timestampToTicks({ seconds: 2 ** 35, nanos: 0 }, 1e9)).toThrow(RangeError);
    expect(tickConverter(12)(0, 1_500_000, 0)).toEqual({ seconds: 0, nanos: 1500 });
    expect(tickConverter(0x80 | 10)(0, 1024 + 512, 7)).toEqual({ seconds: 8, nanos: 500_000_000 });
  });
});

let tshark: string | undefined;
try {
  execFileSync('tshark', ['--version'], { stdio: 'ignore' });
  tshark = 'tshark';
} catch {
  tshark = undefined;
}

describe.skipIf(tshark === undefined)('tshark reads what the writers write', () => {
  const sctp = new Uint8Array(28);
  sctp.set([0x13, 0x88, 0x13, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x00, 0x00, 0x10]);
  const v4 = encodeIp({ source: '192.0.2.1', destination: '192.0.2.2', protocol: 17, payload: encodeUdpEncapsulated({ source: '192.0.2.1', destination: '192.0.2.2', sctp }) });
  const v6 = encodeIp({ source: '2001:db8::1', destination: '2001:db8::2', protocol: 132, payload: sctp });
  const eth = concat(new Uint8Array(12), Uint8Array.of(0x08, 0x00), encodeIp({ source: '10.0.0.1', destination: '10.0.0.2', protocol: 132, payload: sctp }));

  function run(bytes: Uint8Array, fields: string[]): string[][] {
    const dir = mkdtempSync(join(tmpdir(), 'hasctp-pcap-'));
    try {
      const file = join(dir, 'x.cap');
      writeFileSync(file, bytes);
      const args = ['-r', file, '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=|'];
      for (const f of fields) args.push('-e', f);
      const out = execFileSync(tshark!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return out.trim().split('\n').map((l) => l.split('|'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('pcapng with three interfaces, ns and us, comments', () => {
    const w = new PcapngWriter({ application: 'hasctp' });
    const a = w.addInterface({ linkType: LinkType.raw, name: '192.0.2.1' });
    const b = w.addInterface({ linkType: LinkType.raw, name: '2001:db8::1', resolution: 'us' });
    const c = w.addInterface({ linkType: LinkType.ethernet, name: 'cluster' });
    const bytes = concat(
      w.header(),
      a.block,
      b.block,
      c.block,
      w.packet(a.id, { seconds: 1_700_000_000, nanos: 123_456_789 }, v4, { comment: 'udp-encapsulated' }),
      w.packet(b.id, { seconds: 1_700_000_001, nanos: 5_000 }, v6, { direction: 'outbound' }),
      w.packet(c.id, { seconds: 1_700_000_002, nanos: 999_999_999 }, eth),
    );
    const rows = run(bytes, ['frame.interface_id', 'frame.time_epoch', 'frame.comment', 'sctp.srcport', 'udp.checksum.status', 'ip.checksum.status', 'ipv6.src']);
    expect(rows).toEqual([
      ['0', '1700000000.123456789', 'udp-encapsulated', '5000', '1', '1', ''],
      ['1', '1700000001.000005000', '', '5000', '', '', '2001:db8::1'],
      ['2', '1700000002.999999999', '', '5000', '', '1', ''],
    ]);
    // And our reader agrees with itself on the same bytes.
    const recs = recordsOf(bytes);
    expect(recs.map((r) => extractSctp(r.linkType, r.data)).map((x) => x.ok && x.value?.encapsulation)).toEqual(['udp', 'ip', 'ip']);
  });

  it('pcap, nanosecond, big-endian', () => {
    const w = new PcapWriter({ linkType: LinkType.raw, resolution: 'ns', byteOrder: 'big' });
    const bytes = concat(w.header(), w.packet({ seconds: 1_700_000_000, nanos: 42 }, v4), w.packet({ seconds: 1_700_000_003, nanos: 7 }, v6));
    expect(run(bytes, ['frame.time_epoch', 'sctp.dstport'])).toEqual([
      ['1700000000.000000042', '5001'],
      ['1700000003.000000007', '5001'],
    ]);
  });
});
