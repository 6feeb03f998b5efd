// Hand-made captures: byte orders, block types, options, sections, and the
// typed errors for truncated or damaged input.
import { describe, expect, it } from 'vitest';
import { CaptureReader, readCapture, type CaptureItem, type CaptureRecord } from '../../src/pcap/index.js';
import { block, Bytes, concat, epb, idb, option, readCaptureFile, shb } from './helpers.js';

function readAll(bytes: Uint8Array): CaptureItem[] {
  const r = new CaptureReader();
  return [...r.push(bytes), ...r.end()];
}

function okRecords(items: CaptureItem[]): CaptureRecord[] {
  return items.filter((i): i is { ok: true; value: CaptureRecord } => i.ok).map((i) => i.value);
}

function errors(items: CaptureItem[]): { code: string; fatal: boolean; offset: number; message: string }[] {
  return items.flatMap((i) => (i.ok ? [] : [i.error]));
}

const pkt = Uint8Array.from({ length: 37 }, (_, i) => i);

function pcapFile(le: boolean, magic: number, records: [number, number, Uint8Array, number?][], linkType = 1): Uint8Array {
  const b = new Bytes(le).u32(magic).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(linkType);
  for (const [s, f, d, orig] of records) b.u32(s).u32(f).u32(d.length).u32(orig ?? d.length).bytes(d);
  return b.build();
}

describe('classic pcap', () => {
  it('reads the big-endian public capture (sctp.cap) with correct timestamps', () => {
    const f = readCapture(readCaptureFile('sctp.cap'));
    if (!f.ok) throw new Error(f.error.message);
    expect(f.value.interfaces).toEqual([{ linkType: 1, snaplen: 65535, tsresol: 6, tsoffset: 0 }]);
    expect(okRecords(f.value.records)[0]!.timestamp).toEqual({ seconds: 1088696689, nanos: 784578000 });
  });

  for (const le of [true, false]) {
    it(`reads ${le ? 'little' : 'big'}-endian microsecond and nanosecond files`, () => {
      const us = okRecords(readAll(pcapFile(le, 0xa1b2c3d4, [[10, 999_999, pkt]], 113)));
      expect(us).toEqual([{ interfaceId: 0, linkType: 113, timestamp: { seconds: 10, nanos: 999_999_000 }, capturedLength: 37, originalLength: 37, data: pkt }]);
      const ns = okRecords(readAll(pcapFile(le, 0xa1b23c4d, [[10, 999_999_999, pkt, 1500]])));
      expect(ns[0]).toMatchObject({ timestamp: { seconds: 10, nanos: 999_999_999 }, capturedLength: 37, originalLength: 1500 });
    });
  }

  it('carries an out-of-range fraction into the seconds', () => {
    const [r] = okRecords(readAll(pcapFile(true, 0xa1b2c3d4, [[10, 2_500_000, pkt]])));
    expect(r!.timestamp).toEqual({ seconds: 12, nanos: 500_000_000 });
  });

  it('masks FCS bits out of the link type', () => {
    const [r] = okRecords(readAll(pcapFile(true, 0xa1b2c3d4, [[1, 0, pkt]], 0x14000001)));
    expect(r!.linkType).toBe(1);
  });

  it('reads the 0xa1b2cd34 variant with 24-byte record headers', () => {
    const b = new Bytes(true).u32(0xa1b2cd34).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1);
    b.u32(5).u32(6).u32(pkt.length).u32(pkt.length).u32(3).u16(0x0800).u8(0, 0).bytes(pkt);
    expect(okRecords(readAll(b.build()))).toEqual([expect.objectContaining({ timestamp: { seconds: 5, nanos: 6000 }, data: pkt })]);
  });

  it('reports a record whose captured length exceeds its original length, and goes on', () => {
    const items = readAll(pcapFile(true, 0xa1b2c3d4, [[1, 0, pkt, 10], [2, 0, pkt]]));
    expect(errors(items)).toEqual([expect.objectContaining({ code: 'bad-value', fatal: false, offset: 24 + 8 })]);
    expect(okRecords(items)).toHaveLength(1);
  });

  it('stops with a fatal error on an absurd record length', () => {
    const b = pcapFile(true, 0xa1b2c3d4, [[1, 0, pkt]]);
    b.set([0xff, 0xff, 0xff, 0x7f], 24 + 8);
    const items = readAll(b);
    expect(items).toHaveLength(1);
    expect(errors(items)[0]).toMatchObject({ code: 'bad-value', fatal: true });
  });

  it('reports a truncated final record at the end, after the good ones', () => {
    const whole = pcapFile(true, 0xa1b2c3d4, [[1, 0, pkt], [2, 0, pkt]]);
    for (const cut of [whole.length - 1, whole.length - 37, whole.length - 40]) {
      const r = new CaptureReader();
      const first = r.push(whole.subarray(0, cut));
      expect(okRecords(first)).toHaveLength(1);
      expect(errors(first)).toEqual([]);
      const last = r.end();
      expect(errors(last)).toEqual([expect.objectContaining({ code: 'truncated', fatal: true, offset: 24 + 16 + 37 })]);
    }
  });

  it('rejects a truncated or unknown file header with one typed error', () => {
    const cases: [Uint8Array, string, RegExp][] = [
      [new Uint8Array(0), 'truncated', /too short/],
      [pcapFile(true, 0xa1b2c3d4, []).subarray(0, 23), 'truncated', /too short/],
      [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 'bad-header', /not a pcap or pcapng file: magic 0x01020304/],
      [Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0), 'bad-header', /gzip/],
      [new Bytes(true).u32(0xa1b2c3d4).u16(1).u16(0).u32(0).u32(0).u32(0).u32(1).build(), 'bad-header', /version 1\.0/],
    ];
    for (const [bytes, code, message] of cases) {
      const f = readCapture(bytes);
      expect(f.ok).toBe(false);
      if (!f.ok) {
        expect(f.error.code).toBe(code);
        expect(f.error.message).toMatch(message);
        expect(f.error.fatal).toBe(true);
      }
    }
  });

  it('ignores input after a fatal error', () => {
    const r = new CaptureReader();
    expect(errors(r.push(Uint8Array.of(9, 9, 9, 9)))).toHaveLength(1);
    expect(r.failed).toBe(true);
    expect(r.push(pcapFile(true, 0xa1b2c3d4, [[1, 0, pkt]]))).toEqual([]);
    expect(r.end()).toEqual([]);
  });
});

describe('pcapng, hand-made', () => {
  for (const le of [true, false]) {
    const order = le ? 'little' : 'big';

    it(`reads a ${order}-endian file: IDB options, EPB, SPB, obsolete PB, skipped blocks`, () => {
      const enc = new TextEncoder();
      const file = concat(
        shb(le),
        idb(le, 101, 0, [option(le, 2, enc.encode('lo')), option(le, 9, [9])]),
        block(le, 4, new Bytes(le).u16(1).u16(8).u8(127, 0, 0, 1, 0x6c, 0x6f, 0, 0).u32(0).build()), // NRB: skipped
        idb(le, 1, 20, [option(le, 9, [0x80 | 20]), option(le, 14, le ? [1, 0, 0, 0, 0, 0, 0, 0] : [0, 0, 0, 0, 0, 0, 0, 1])]),
        epb(le, 0, 0x16a9aaad, 0x0d0bcd15, pkt, 100, [option(le, 1, enc.encode('hello')), option(le, 2, le ? [2, 0, 0, 0] : [0, 0, 0, 2])]),
        epb(le, 1, 0, 3 << 19, pkt.subarray(0, 20), 37),
        block(le, 5, new Bytes(le).u32(0).u32(0).u32(0).build()), // ISB: skipped
        block(le, 0x0a, new Bytes(le).u32(0x544c534b).u32(0).build()), // DSB: skipped
        block(le, 0x40000bad, new Bytes(le).u32(32473).build()), // custom: skipped
        block(le, 0x12345, new Uint8Array(5)), // unknown: skipped
        block(le, 3, new Bytes(le).u32(37).bytes(pkt).build()), // SPB, interface 0
        block(le, 2, new Bytes(le).u16(1).u16(0).u32(0).u32(1 << 20).u32(10).u32(10).bytes(pkt.subarray(0, 10)).build()), // PB
      );
      const reader = new CaptureReader();
      const items = [...reader.push(file), ...reader.end()];
      expect(errors(items)).toEqual([]);
      expect(reader.byteOrder).toBe(order);
      expect(reader.interfaces).toEqual([
        { linkType: 101, snaplen: 0, tsresol: 9, tsoffset: 0, name: 'lo' },
        { linkType: 1, snaplen: 20, tsresol: 0x94, tsoffset: 1 },
      ]);
      const recs = okRecords(items);
      expect(recs).toHaveLength(4);
      // 0x16a9aaad_0d0bcd15 ns = 1633024000.123456789 s.
      expect(recs[0]).toEqual({
        interfaceId: 0,
        linkType: 101,
        timestamp: { seconds: 1633024000, nanos: 123456789 },
        capturedLength: 37,
        originalLength: 100,
        data: pkt,
        comment: 'hello',
        direction: 'outbound',
      });
      // 3 * 2^19 ticks of 2^-20 s = 1.5 s, plus if_tsoffset 1 s.
      expect(recs[1]).toMatchObject({ interfaceId: 1, linkType: 1, timestamp: { seconds: 2, nanos: 500_000_000 }, capturedLength: 20, originalLength: 37 });
      expect(recs[2]).toMatchObject({ interfaceId: 0, linkType: 101, capturedLength: 37, data: pkt });
      expect(recs[3]).toMatchObject({ interfaceId: 1, linkType: 1, capturedLength: 10, timestamp: { seconds: 2, nanos: 0 } });
    });
  }

  it('starts over at each section, whose byte order may differ', () => {
    const file = concat(shb(true), idb(true, 1, 0), epb(true, 0, 0, 1, pkt), shb(false), idb(false, 113, 0), idb(false, 101, 0), epb(false, 1, 0, 2, pkt), epb(false, 2, 0, 3, pkt));
    const reader = new CaptureReader();
    const items = [...reader.push(file), ...reader.end()];
    expect(okRecords(items).map((r) => [r.interfaceId, r.linkType, r.timestamp.nanos])).toEqual([
      [0, 1, 1000],
      [1, 101, 2000],
    ]);
    // The second section has two interfaces: id 2 is an error, not the first section's.
    expect(errors(items)).toEqual([expect.objectContaining({ code: 'bad-value', fatal: false })]);
    expect(reader.section).toBe(1);
    expect(reader.byteOrder).toBe('big');
  });

  it('reports damaged blocks and goes on with the next one', () => {
    const bad: Uint8Array[] = [
      block(true, 6, new Bytes(true).u32(0).u32(0).u32(0).u32(500).u32(500).bytes(pkt).build()), // caplen beyond block
      block(true, 6, new Bytes(true).u32(0).u32(0).u32(0).u32(37).u32(10).bytes(pkt).build()), // caplen > origlen
      epb(true, 7, 0, 0, pkt), // no such interface
      block(true, 6, new Bytes(true).u32(0).u32(0).build()), // EPB too short
      epb(true, 0, 0, 0, pkt, 37, [new Bytes(true).u16(1).u16(200).build()]), // option runs past the block
      new Bytes(true).u32(6).u32(32).u32(0).u32(0).u32(0).u32(0).u32(0).u32(36).build(), // trailer != leading length
    ];
    const good = epb(true, 0, 0, 5, pkt);
    const file = concat(shb(true), idb(true, 1, 0), ...bad.flatMap((b) => [b, good]));
    const items = readAll(file);
    expect(items.map((i) => (i.ok ? 'ok' : i.error.code))).toEqual([
      'beyond-end', 'ok', 'bad-value', 'ok', 'bad-value', 'ok', 'length-too-short', 'ok', 'beyond-end', 'ok', 'bad-value', 'ok',
    ]);
    expect(errors(items).every((e) => !e.fatal)).toBe(true);
  });

  it('keeps interface numbering when an IDB is damaged', () => {
    const file = concat(shb(true), block(true, 1, new Uint8Array(4)), idb(true, 113, 0), epb(true, 1, 0, 0, pkt), epb(true, 0, 0, 0, pkt));
    const items = readAll(file);
    expect(items.map((i) => (i.ok ? i.value.linkType : i.error.code))).toEqual(['length-too-short', 113, 'bad-value']);
  });

  it('gives fatal errors when the framing is lost or the header is bad', () => {
    const cases: [Uint8Array, string, RegExp][] = [
      [concat(shb(true), idb(true, 1, 0), new Bytes(true).u32(6).u32(13).build(), new Uint8Array(20)), 'length-too-short', /length 13/],
      [concat(shb(true), new Bytes(true).u32(6).u32(0x7ffffff0).build()), 'bad-value', /exceeds/],
      [Uint8Array.from(shb(true), (x, i) => (i === 8 ? 0x99 : x)), 'bad-header', /byte-order magic/],
      [shb(true, 2), 'bad-header', /version 2\.0/],
      [shb(true).subarray(0, 20), 'truncated', /ends inside a block: have 20 of 28/],
      [concat(shb(true), idb(true, 1, 0), epb(true, 0, 0, 0, pkt).subarray(0, 30)), 'truncated', /ends inside a block/],
    ];
    for (const [bytes, code, message] of cases) {
      const items = readAll(bytes);
      const errs = errors(items);
      expect(errs).toHaveLength(1);
      expect(errs[0]).toMatchObject({ code, fatal: true });
      expect(errs[0]!.message).toMatch(message);
      expect(items.at(-1)).toEqual({ ok: false, error: errs[0] });
    }
  });

  it('reports an error offset in file coordinates', () => {
    const head = concat(shb(true), idb(true, 1, 0));
    const file = concat(head, epb(true, 3, 0, 0, pkt));
    const [e] = errors(readAll(file));
    expect(e!.offset).toBe(head.length + 8);
  });
});
