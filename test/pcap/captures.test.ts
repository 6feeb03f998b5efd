// Every public capture in captures/: record counts (captures/INDEX.md), each
// frame as tshark sees it (fixtures/expected.json), and streamed reading in
// random-sized chunks giving the same records as reading the file whole.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CaptureReader, extractSctp, readCapture, readCaptureStream, type CaptureItem, type CaptureRecord } from '../../src/pcap/index.js';
import { capturesDir, chunked, expectedFrames, packetCounts, readCaptureFile, readFixture } from './helpers.js';
import { readdirSync } from 'node:fs';

function records(items: CaptureItem[]): CaptureRecord[] {
  return items.map((r) => {
    if (!r.ok) throw new Error(`unexpected error: ${r.error.message}`);
    return r.value;
  });
}

function epoch(r: CaptureRecord): string {
  return `${r.timestamp.seconds}.${String(r.timestamp.nanos).padStart(9, '0')}`;
}

/** A record with its bytes copied, for comparisons that outlive the input chunks. */
function snapshot(r: CaptureRecord): object {
  return { ...r, data: Array.from(r.data) };
}

const expected = expectedFrames();

describe('public captures', () => {
  it('has every capture named in INDEX.md, and no other', () => {
    const files = readdirSync(capturesDir()).filter((f) => /\.(cap|pcap)$/.test(f)).sort();
    expect(files).toEqual(Object.keys(packetCounts).sort());
  });

  for (const [name, count] of Object.entries(packetCounts)) {
    describe(name, () => {
      const bytes = readCaptureFile(name);
      const file = readCapture(bytes);
      if (!file.ok) throw new Error(`${name}: ${file.error.message}`);

      it(`holds ${count} records, all SCTP over IPv4, matching tshark frame by frame`, () => {
        expect(file.value.format).toBe('pcap');
        const recs = records(file.value.records);
        expect(recs).toHaveLength(count);
        const frames = expected[name]!;
        expect(frames).toHaveLength(count);
        let sctpFrames = 0;
        recs.forEach((r, i) => {
          const [ts, caplen, len, , src, dst, sctpLen, sport, dport] = frames[i]!;
          expect(epoch(r)).toBe(ts);
          expect(r.capturedLength).toBe(caplen);
          expect(r.originalLength).toBe(len);
          expect(r.data.length).toBe(caplen);
          const x = extractSctp(r.linkType, r.data);
          expect(x.ok).toBe(true);
          if (!x.ok || x.value === null) return;
          sctpFrames++;
          const f = x.value;
          expect([f.ipVersion, f.source, f.destination, f.encapsulation]).toEqual([4, src, dst, 'ip']);
          expect(f.sctp.length).toBe(sctpLen);
          expect([(f.sctp[0]! << 8) | f.sctp[1]!, (f.sctp[2]! << 8) | f.sctp[3]!]).toEqual([sport, dport]);
          // Zero copy: the SCTP bytes are a view of the record's bytes.
          expect(f.sctp.buffer).toBe(r.data.buffer);
          expect(f.ipChecksumValid).toBe(true);
        });
        expect(sctpFrames).toBe(count);
      });

      it('gives the same records when fed in random chunks of 1..1000 bytes', () => {
        const whole = records(file.value.records).map(snapshot);
        fc.assert(
          fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 50 }), (sizes) => {
            const reader = new CaptureReader();
            const got: object[] = [];
            for (const chunk of chunked(bytes, sizes)) {
              for (const r of records(reader.push(chunk))) got.push(snapshot(r));
              // The reader must have copied what it keeps of this chunk.
              chunk.fill(0xa5);
            }
            expect(reader.end()).toEqual([]);
            expect(got).toEqual(whole);
          }),
          { numRuns: 15 },
        );
      });
    });
  }

  it('reads byte-at-a-time too', () => {
    const bytes = readCaptureFile('sctp.cap');
    const reader = new CaptureReader();
    const got: CaptureItem[] = [];
    for (let i = 0; i < bytes.length; i++) got.push(...reader.push(bytes.subarray(i, i + 1)));
    got.push(...reader.end());
    expect(records(got).map(epoch)).toEqual(expected['sctp.cap']!.map((f) => f[0]));
  });

  it('reads from an async stream of chunks', async () => {
    const bytes = readCaptureFile('forces3.pcap');
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += 4096) yield bytes.slice(i, i + 4096);
    }
    const got: CaptureItem[] = [];
    for await (const item of readCaptureStream(source())) got.push(item);
    expect(records(got)).toHaveLength(154);
  });
});

describe('pcapng written by mergecap (fixtures/merged.pcapng)', () => {
  const bytes = readFixture('merged.pcapng');
  const frames = expected['merged.pcapng']!;

  it('reads two interfaces of different link types and all 42 packets', () => {
    const file = readCapture(bytes);
    if (!file.ok) throw new Error(file.error.message);
    expect(file.value.format).toBe('pcapng');
    expect(file.value.interfaces.map((i) => [i.linkType, i.tsresol])).toEqual([
      [1, 6],
      [113, 6],
    ]);
    const recs = records(file.value.records);
    expect(recs).toHaveLength(42);
    recs.forEach((r, i) => {
      const [ts, caplen, len, iface, src, dst, sctpLen] = frames[i]!;
      expect([epoch(r), r.capturedLength, r.originalLength, r.interfaceId]).toEqual([ts, caplen, len, iface]);
      expect(r.linkType).toBe(iface === 0 ? 1 : 113);
      const x = extractSctp(r.linkType, r.data);
      if (!x.ok || x.value === null) throw new Error(`frame ${i + 1}: no SCTP`);
      expect([x.value.source, x.value.destination, x.value.sctp.length]).toEqual([src, dst, sctpLen]);
    });
  });

  it('gives the same records in random chunks', () => {
    const whole = readCapture(bytes);
    if (!whole.ok) throw new Error(whole.error.message);
    const want = records(whole.value.records).map(snapshot);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 50 }), (sizes) => {
        const reader = new CaptureReader();
        const got: object[] = [];
        for (const chunk of chunked(bytes, sizes)) {
          for (const r of records(reader.push(chunk))) got.push(snapshot(r));
          chunk.fill(0x5a);
        }
        expect(reader.end()).toEqual([]);
        expect(got).toEqual(want);
      }),
      { numRuns: 25 },
    );
  });
});
