import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { adler32, adler32Update } from '../../src/wire/adler32.js';
import { setCrc32cBackend, verifySctpChecksum, writeSctpChecksum } from '../../src/wire/checksum.js';
import { crc32c, crc32cUpdate } from '../../src/wire/crc32c.js';
import {
  installNativeCrc32c,
  loadNative,
  nativeUnavailableReason,
  uninstallNativeCrc32c,
} from '../../src/transport/native.js';
import { inCi } from '../helpers/env.js';

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s/g, '');
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16));
}

/** The textbook bitwise CRC32c (RFC 9260 Appendix A), the reference for everything else. */
function crc32cBitwise(data: Uint8Array, start = 0, end = data.length, init = 0): number {
  let c = ~init >>> 0;
  for (let i = start; i < end; i++) {
    c ^= data[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const iota = (n: number, f: (i: number) => number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i));

/** Random bytes with a random window [start, end) and a random byte offset into their ArrayBuffer. */
const window = fc
  .record({
    pre: fc.nat({ max: 7 }),
    bytes: fc.uint8Array({ minLength: 0, maxLength: 4200 }),
    a: fc.nat(),
    b: fc.nat(),
    init: fc.nat({ max: 0xffffffff }),
  })
  .map(({ pre, bytes, a, b, init }) => {
    const buf = new Uint8Array(pre + bytes.length);
    buf.set(bytes, pre);
    const data = buf.subarray(pre);
    const x = a % (data.length + 1);
    const y = b % (data.length + 1);
    return { data, start: Math.min(x, y), end: Math.max(x, y), init };
  });

describe('crc32c', () => {
  it('matches the RFC 3720 B.4 iSCSI vectors and the check value', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(iota(32, (i) => i))).toBe(0x46dd794e);
    expect(crc32c(iota(32, (i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('takes and returns finished CRCs: update(crc(a), b) = crc(a ‖ b)', () => {
    const s = ascii('123456789');
    expect(crc32cUpdate(0, s)).toBe(0xe3069283);
    for (let cut = 0; cut <= s.length; cut++) expect(crc32cUpdate(crc32c(s, 0, cut), s, cut, s.length)).toBe(0xe3069283);
  });

  it('equals the bitwise reference on random lengths, windows and alignments', () => {
    fc.assert(
      fc.property(window, ({ data, start, end, init }) => {
        expect(crc32c(data, start, end)).toBe(crc32cBitwise(data, start, end));
        expect(crc32cUpdate(init, data, start, end)).toBe(crc32cBitwise(data, start, end, init));
      }),
      { numRuns: 300 },
    );
  });

  it('covers the word path (>= 1 KiB) at every alignment and tail length', () => {
    const big = iota(4096 + 64, (i) => (i * 131 + 17) & 0xff);
    for (let pre = 0; pre < 8; pre++) {
      for (const len of [1023, 1024, 1025, 1031, 1039, 2048 + 13, 4096]) {
        expect(crc32c(big, pre, pre + len)).toBe(crc32cBitwise(big, pre, pre + len));
      }
    }
  });
});

describe('adler32', () => {
  it('matches the RFC 1950 check value and is incremental', () => {
    expect(adler32(ascii('Wikipedia'))).toBe(0x11e60398);
    expect(adler32(new Uint8Array(0))).toBe(1);
    const s = ascii('123456789');
    expect(adler32(s)).toBe(0x091e01de);
    expect(adler32Update(adler32(s, 0, 4), s, 4)).toBe(0x091e01de);
    // Long runs exercise the deferred modulo (NMAX).
    const ff = new Uint8Array(100_000).fill(0xff);
    let a = 1;
    let b = 0;
    for (const x of ff) {
      a = (a + x) % 65521;
      b = (b + a) % 65521;
    }
    expect(adler32(ff)).toBe(((b << 16) | a) >>> 0);
  });
});

/** An SACK from sctp-test.cap (Wireshark wiki; Linux, CRC32c) and a DATA packet from sctp.cap (Adler-32). */
const captured = {
  crc32cSack: hex('0007000700000eb0ba043258 030000100000361c0000ffff00000000'),
  adler32Data: hex(
    '40000b8000016f0a6db01882 0003005b280243450000a0bd000000074d454741434f2f32203c6d672d74723e3a31363338340a' +
      '5265706c79203d203137343039317b0a436f6e74657874203d203235357b0a4d6f64696679203d204d55582f3235350a7d0a7d0a67',
  ),
};

describe('SCTP checksum field', () => {
  afterEach(() => setCrc32cBackend(undefined, Infinity));

  it('classifies captured packets: Linux CRC32c and RFC 2960 Adler-32', () => {
    expect(verifySctpChecksum(captured.crc32cSack)).toBe('crc32c');
    expect(verifySctpChecksum(captured.adler32Data)).toBe('adler32');
  });

  it('writes the CRC least significant byte first (RFC 9260 Appendix A), as captured from Linux', () => {
    const p = captured.crc32cSack.slice();
    const field = p.slice(8, 12);
    p.fill(0xaa, 8, 12);
    writeSctpChecksum(p);
    expect(p.slice(8, 12)).toEqual(field);
    const zeroed = p.slice();
    zeroed.fill(0, 8, 12);
    const crc = crc32cBitwise(zeroed);
    expect(Array.from(field)).toEqual([crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24]);
  });

  it('classifies all four statuses', () => {
    const p = hex('1388138901020304 00000000 0000001403000000000003e8000000010000000a');
    writeSctpChecksum(p);
    expect(verifySctpChecksum(p)).toBe('crc32c');
    const zero = p.slice();
    zero.fill(0, 8, 12);
    expect(verifySctpChecksum(zero)).toBe('zero');
    const adler = zero.slice();
    const a = adler32(zero);
    adler.set([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff], 8);
    expect(verifySctpChecksum(adler)).toBe('adler32');
    const bad = p.slice();
    bad[20]! ^= 0x01;
    expect(verifySctpChecksum(bad)).toBe('bad');
    const badField = p.slice();
    badField[11]! ^= 0x80;
    expect(verifySctpChecksum(badField)).toBe('bad');
  });

  it('works on a window of a larger buffer without touching the bytes around it', () => {
    fc.assert(
      fc.property(fc.nat({ max: 40 }), fc.uint8Array({ minLength: 12, maxLength: 600 }), fc.nat({ max: 40 }), (pre, pkt, post) => {
        const buf = new Uint8Array(pre + pkt.length + post).fill(0x5c);
        buf.set(pkt, pre);
        writeSctpChecksum(buf, pre, pkt.length);
        expect(buf.subarray(0, pre).every((x) => x === 0x5c)).toBe(true);
        expect(buf.subarray(pre + pkt.length).every((x) => x === 0x5c)).toBe(true);
        expect(verifySctpChecksum(buf, pre, pkt.length)).toBe('crc32c');
        const alone = buf.slice(pre, pre + pkt.length);
        expect(verifySctpChecksum(alone)).toBe('crc32c');
        const zeroed = alone.slice();
        zeroed.fill(0, 8, 12);
        const crc = crc32cBitwise(zeroed);
        expect(alone[8]! | (alone[9]! << 8) | (alone[10]! << 16) | (alone[11]! << 24)).toBe(crc | 0);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects ranges that cannot hold a common header', () => {
    expect(verifySctpChecksum(new Uint8Array(11))).toBe('bad');
    expect(verifySctpChecksum(new Uint8Array(20), 10)).toBe('bad');
    expect(verifySctpChecksum(new Uint8Array(20), 0, 21)).toBe('bad');
    expect(() => writeSctpChecksum(new Uint8Array(11))).toThrow(RangeError);
    expect(() => writeSctpChecksum(new Uint8Array(20), 4, 17)).toThrow(RangeError);
  });

  it('uses an installed backend only from minBytes on, with identical results', () => {
    const calls: number[] = [];
    const spy = (d: Uint8Array, s: number, e: number, init: number): number => {
      calls.push(e - s);
      return crc32cUpdate(init, d, s, e);
    };
    setCrc32cBackend(spy, 100);
    const small = new Uint8Array(12 + 99).fill(3);
    const large = new Uint8Array(12 + 100).fill(3);
    writeSctpChecksum(small);
    writeSctpChecksum(large);
    expect(calls).toEqual([100]);
    expect(verifySctpChecksum(small)).toBe('crc32c');
    expect(verifySctpChecksum(large)).toBe('crc32c');
    setCrc32cBackend(undefined, 0);
    expect(verifySctpChecksum(small)).toBe('crc32c');
    expect(verifySctpChecksum(large)).toBe('crc32c');
    expect(calls).toEqual([100, 100]);
  });
});

const addon = loadNative();
if (addon === undefined) {
  const msg = `native addon unavailable: ${nativeUnavailableReason() ?? '?'} — native CRC32c is NOT tested (run npm install)`;
  if (inCi) {
    it('has the native addon (required when CI=true)', () => {
      throw new Error(`CI: ${msg}`);
    });
  } else {
    process.stderr.write(`\n!!!! SKIPPING: ${msg} !!!!\n\n`);
  }
}

describe.skipIf(addon === undefined)('native crc32c (hasctp_native)', () => {
  afterEach(() => uninstallNativeCrc32c());
  const native = addon!;

  it('matches the vectors', () => {
    const v = (d: Uint8Array): number => native.crc32c(d, 0, d.length, 0);
    expect(v(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(v(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(v(iota(32, (i) => i))).toBe(0x46dd794e);
    expect(v(iota(32, (i) => 31 - i))).toBe(0x113fdb5c);
    expect(v(ascii('123456789'))).toBe(0xe3069283);
    expect(['sse4.2', 'armv8-crc', 'slice-by-8']).toContain(native.crc32cImplementation);
  });

  it('equals JS on random buffers, windows, alignments and initial values', () => {
    fc.assert(
      fc.property(window, ({ data, start, end, init }) => {
        expect(native.crc32c(data, start, end, init)).toBe(crc32cUpdate(init, data, start, end));
      }),
      { numRuns: 500 },
    );
  });

  it('equals JS across the 3-way interleaved block sizes (3 x 256 B, 3 x 8 KiB)', () => {
    const big = iota(3 * 8192 * 2 + 3000, (i) => (i * 2654435761) >>> 24);
    for (const len of [767, 768, 769, 3 * 256 + 7, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 3 * 256 + 9, big.length - 3]) {
      for (const pre of [0, 1, 3]) {
        expect(native.crc32c(big, pre, pre + len, 0)).toBe(crc32c(big, pre, pre + len));
      }
    }
  });

  it('rejects bad arguments with a JS exception instead of reading out of bounds', () => {
    const b = new Uint8Array(8);
    const call = native.crc32c as (...args: unknown[]) => number;
    expect(() => call(b, 0, 9, 0)).toThrow(RangeError);
    expect(() => call(b, 5, 4, 0)).toThrow(RangeError);
    expect(() => call(b, 0.5, 4, 0)).toThrow(RangeError);
    expect(() => call(b, NaN, 4, 0)).toThrow(RangeError);
    expect(() => call(new Uint16Array(4), 0, 4, 0)).toThrow(TypeError);
    expect(() => call('abc', 0, 3, 0)).toThrow(TypeError);
    expect(() => call(b, 0, 4)).toThrow(TypeError);
  });

  it('installs as the checksum backend', () => {
    const r = installNativeCrc32c({ minBytes: 0 });
    expect(r).toMatchObject({ installed: true, minBytes: 0 });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 3000 }), (pkt) => {
        writeSctpChecksum(pkt);
        const crc = pkt.slice(8, 12);
        uninstallNativeCrc32c();
        expect(verifySctpChecksum(pkt)).toBe('crc32c');
        writeSctpChecksum(pkt);
        expect(pkt.slice(8, 12)).toEqual(crc);
        installNativeCrc32c({ minBytes: 0 });
      }),
      { numRuns: 200 },
    );
    expect(installNativeCrc32c().minBytes).toBeGreaterThan(0);
  });
});

describe('crc32c ranges', () => {
  it('clamps start and end to the array', () => {
    const d = iota(2000, (i) => i * 7);
    expect(crc32c(d, -5, 10_000)).toBe(crc32c(d));
    expect(crc32c(d, 1500, 9999)).toBe(crc32c(d, 1500));
    expect(crc32c(d, 10, 5)).toBe(0);
    expect(crc32cUpdate(0x12345678, d, 3, 3)).toBe(0x12345678);
  });
});
