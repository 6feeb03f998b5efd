// Random and mutated input: the reader and extractSctp never throw, and the
// reader's output does not depend on how the input was cut into chunks.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CaptureReader, extractSctp, LinkType, readCapture, type CaptureItem } from '../../src/pcap/index.js';
import { concat, readCaptureFile, readFixture } from './helpers.js';

const seeds = [readCaptureFile('sctp.cap'), readCaptureFile('sctp-addip.cap').subarray(0, 3000), readFixture('merged.pcapng').subarray(0, 3000)];
const prefixes = [
  Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0),
  Uint8Array.of(0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4),
  Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a),
  Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0),
  new Uint8Array(0),
];

type Mutation = { at: number; value: number; kind: 'set' | 'cut' };
const mutations = fc.array(
  fc.record({ at: fc.nat(), value: fc.nat(255), kind: fc.constantFrom<'set' | 'cut'>('set', 'set', 'set', 'cut') }),
  { minLength: 1, maxLength: 6 },
);

function mutate(seed: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = seed.slice();
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'set') b[at] = m.value;
    else b = b.slice(0, at);
  }
  return b;
}

function summary(items: CaptureItem[]): unknown[] {
  return items.map((i) => (i.ok ? { ...i.value, data: Array.from(i.value.data) } : i.error));
}

function readChunked(bytes: Uint8Array, sizes: number[]): CaptureItem[] {
  const r = new CaptureReader({ maxBlockLength: 1 << 20 });
  const out: CaptureItem[] = [];
  let p = 0;
  let k = 0;
  while (p < bytes.length) {
    const n = sizes[k++ % sizes.length]!;
    for (const item of r.push(bytes.slice(p, p + n))) out.push(item.ok ? { ok: true, value: { ...item.value, data: item.value.data.slice() } } : item);
    p += n;
  }
  out.push(...r.end());
  return out;
}

function checkItems(items: CaptureItem[]): void {
  items.forEach((item, i) => {
    if (item.ok) expect(item.value.data.length).toBe(item.value.capturedLength);
    else if (item.error.fatal) expect(i).toBe(items.length - 1);
  });
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 });

describe('fuzz', () => {
  it('random bytes behind real magic numbers: no throw, fatal only last, chunking-independent', () => {
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 400 }), chunkSizes, (prefix, tail, sizes) => {
        const bytes = concat(prefix, tail);
        const whole = readChunked(bytes, [bytes.length || 1]);
        checkItems(whole);
        expect(summary(readChunked(bytes, sizes))).toEqual(summary(whole));
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated real captures: no throw, chunking-independent, extractSctp never throws', () => {
    const linkTypes = [LinkType.ethernet, LinkType.linuxSll];
    fc.assert(
      fc.property(fc.constantFrom(...seeds), mutations, chunkSizes, (seed, ms, sizes) => {
        const bytes = mutate(seed, ms);
        const whole = readChunked(bytes, [bytes.length || 1]);
        checkItems(whole);
        expect(summary(readChunked(bytes, sizes))).toEqual(summary(whole));
        for (const item of whole) {
          if (item.ok) extractSctp(item.value.linkType, item.value.data);
          // The same frame under other link types: another code path, same promise.
          if (item.ok) for (const lt of linkTypes) extractSctp(lt, item.value.data, { udpPorts: [9899, 0] });
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('random frames under every supported link type: extractSctp never throws', () => {
    const all = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 999];
    const ipStart = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc.uint8Array({ minLength: 20, maxLength: 120 }).map((b) => {
        b[0] = 0x45;
        b[9] = [132, 17, 6][b[9]! % 3]!;
        return b;
      }),
      fc.uint8Array({ minLength: 40, maxLength: 160 }).map((b) => {
        b[0] = 0x60;
        b[6] = [132, 17, 0, 43, 44, 60, 51][b[6]! % 7]!;
        return b;
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...all), fc.uint8Array({ maxLength: 24 }), ipStart, (lt, head, ip) => {
        const r = extractSctp(lt, concat(head, ip), { udpPorts: [9899] });
        expect(typeof r.ok).toBe('boolean');
        expect(extractSctp(lt, ip).ok !== undefined).toBe(true);
      }),
      { numRuns: 6000 },
    );
  });

  it('readCapture on pure noise returns a result', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(typeof readCapture(b).ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });
});
