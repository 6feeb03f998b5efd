/**
 * Round trips for every chunk, parameter and cause kind, and the "decoders never
 * throw" fuzz: random bytes, random values behind valid chunk headers, and
 * mutated valid packets (120,000 cases in all).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { Chunk, DecodedPacket } from '../../src/wire/types.js';
import { decodeChunk, encodeChunk, encodedChunkLength } from '../../src/wire/chunk.js';
import { decodeParams, encodeParams, encodedParamsLength } from '../../src/wire/param.js';
import { decodeCauses, encodeCauses, encodedCausesLength } from '../../src/wire/cause.js';
import { decodePacket, encodePacket } from '../../src/wire/packet.js';
import { ChunkType } from '../../src/wire/registry.js';
import { causeArbs, chunkArbs, packet, paramArbs } from './arbitraries.js';

const ROUND_TRIP_RUNS = 200;

function reencode(c: Chunk): Chunk {
  const out = new Uint8Array(encodedChunkLength(c));
  expect(encodeChunk(c, out, 0)).toBe(out.length);
  const r = decodeChunk(out, 0, out.length);
  if (!r.ok) throw new Error(`${c.kind}: ${r.error.code} at ${r.error.offset}: ${r.error.message}`);
  expect(r.value.next).toBe(out.length);
  return r.value.chunk;
}

describe('decode(encode(x)) = x', () => {
  it.each(Object.keys(chunkArbs) as (keyof typeof chunkArbs)[])('chunk %s', (kind) => {
    const arb = chunkArbs[kind] as fc.Arbitrary<Chunk>;
    fc.assert(
      fc.property(arb, (c) => {
        expect(reencode(c)).toEqual(c);
      }),
      { numRuns: ROUND_TRIP_RUNS },
    );
  });

  it.each(Object.keys(paramArbs) as (keyof typeof paramArbs)[])('parameter %s', (kind) => {
    fc.assert(
      fc.property(paramArbs[kind], (p) => {
        const out = new Uint8Array(encodedParamsLength([p]));
        encodeParams([p], out, 0);
        const r = decodeParams(out, 0, out.length);
        expect(r.ok && r.value).toEqual([p]);
      }),
      { numRuns: ROUND_TRIP_RUNS },
    );
  });

  it.each(Object.keys(causeArbs) as (keyof typeof causeArbs)[])('cause %s', (kind) => {
    fc.assert(
      fc.property(causeArbs[kind], (c) => {
        const out = new Uint8Array(encodedCausesLength([c]));
        encodeCauses([c], out, 0);
        const r = decodeCauses(out, 0, out.length);
        expect(r.ok && r.value).toEqual([c]);
      }),
      { numRuns: ROUND_TRIP_RUNS },
    );
  });

  it('whole packets, with a CRC32c that strict decoding accepts', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const bytes = encodePacket(p);
        const r = decodePacket(bytes);
        if (!r.ok) throw new Error(r.error.message);
        const { checksum: _c, checksumStatus, ...rest } = r.value;
        expect(checksumStatus).toBe('crc32c');
        expect(rest).toEqual(p);
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * A successful decode re-encodes to bytes that decode to the same value: the
 * decoder's output is always encodable and the codec is a fixed point on it.
 */
function checkFixedPoint(r: ReturnType<typeof decodePacket>): void {
  if (!r.ok) return;
  const again = decodePacket(encodePacket(r.value, { checksum: 'zero' }), { checksum: 'skip' });
  if (!again.ok) throw new Error(`re-encoded packet does not decode: ${again.error.message}`);
  expect(again.value.chunks).toEqual((r.value as DecodedPacket).chunks);
}

const knownTypes = Object.values(ChunkType);
/** 12 header bytes, then chunks with a known type, random flags and a random value. */
const chunkySoup = fc
  .array(
    fc.tuple(fc.constantFrom(...knownTypes), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 48 }), fc.integer({ min: 0, max: 9 })),
    { minLength: 1, maxLength: 3 },
  )
  .map((chunks) => {
    const parts: number[] = [0x13, 0x88, 0x13, 0x89, 1, 2, 3, 4, 0, 0, 0, 0];
    for (const [type, flags, value, honest] of chunks) {
      // Mostly honest lengths so the value decoders run; sometimes a lie.
      const len = honest !== 0 ? 4 + value.length : (value[0] ?? 0) * 3;
      parts.push(type, flags, len >> 8, len & 0xff, ...value);
      while (parts.length % 4 !== 0) parts.push(0);
    }
    return Uint8Array.from(parts);
  });

/** A valid packet's bytes with 1-4 point mutations (byte set, truncation, length field poke). */
const mutatedPacket = fc
  .tuple(
    packet,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'len', 'xor')), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([p, mutations]) => {
    let b = encodePacket(p, { checksum: 'zero' });
    for (const [pos, value, op] of mutations) {
      if (b.length === 0) break;
      const at = pos % b.length;
      if (op === 'cut') b = b.subarray(0, at);
      else if (op === 'set') b[at] = value;
      else if (op === 'xor') b[at]! ^= 1 << (value & 7);
      else if (at + 1 < b.length) {
        b[at] = 0;
        b[at + 1] = value;
      }
    }
    return b;
  });

describe('decoders never throw', () => {
  it('random bytes (40,000 cases)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (b) => {
        decodePacket(b, { checksum: 'classify' });
        const r = decodePacket(b, { checksum: 'skip' });
        checkFixedPoint(r);
        for (let o = 0; o < Math.min(b.length, 8); o++) decodeChunk(b, o, b.length);
      }),
      { numRuns: 40_000 },
    );
  });

  it('known chunk types with random flags, values and lengths (40,000 cases)', () => {
    let decoded = 0;
    fc.assert(
      fc.property(chunkySoup, (b) => {
        const r = decodePacket(b, { checksum: 'skip' });
        if (r.ok) decoded++;
        checkFixedPoint(r);
      }),
      { numRuns: 40_000 },
    );
    // The generator must reach the value decoders, not only the framing checks.
    expect(decoded).toBeGreaterThan(3_000);
  });

  it('mutated valid packets (40,000 cases)', () => {
    fc.assert(
      fc.property(mutatedPacket, (b) => {
        checkFixedPoint(decodePacket(b, { checksum: 'skip' }));
        decodePacket(b, { checksum: 'classify' });
      }),
      { numRuns: 40_000 },
    );
  });
});
