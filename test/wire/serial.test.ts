/** RFC 1982 serial arithmetic, with wrap-around at 2^32 and 2^16 (DESIGN.md §3). */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  add16,
  add32,
  diff16,
  diff32,
  gt16,
  gt32,
  gte16,
  gte32,
  lt16,
  lt32,
  lte16,
  lte32,
  max32,
} from '../../src/wire/serial.js';

const MAX32 = 0xffffffff;

describe('32-bit serial numbers (TSN, MID, tags)', () => {
  it('add32 wraps at 2^32 in both directions', () => {
    expect(add32(MAX32, 1)).toBe(0);
    expect(add32(MAX32, 2)).toBe(1);
    expect(add32(0xfffffff0, 0x20)).toBe(0x10);
    expect(add32(0, -1)).toBe(MAX32);
    expect(add32(5, -10)).toBe(0xfffffffb);
    expect(add32(0x80000000, 0x80000000)).toBe(0);
  });

  it('lt32 and gt32 across the wrap', () => {
    expect(lt32(MAX32, 0)).toBe(true);
    expect(lt32(0, MAX32)).toBe(false);
    expect(gt32(0, MAX32)).toBe(true);
    expect(lt32(0xfffffff0, 0x10)).toBe(true);
    expect(lt32(0x10, 0xfffffff0)).toBe(false);
    expect(lt32(7, 7)).toBe(false);
    expect(lte32(7, 7) && gte32(7, 7)).toBe(true);
    // Exactly 2^31 apart: undefined by RFC 1982 §3.2, reported as neither.
    expect(lt32(0, 0x80000000) || gt32(0, 0x80000000)).toBe(false);
    expect(lt32(0, 0x7fffffff)).toBe(true);
    expect(lt32(0, 0x80000001)).toBe(false);
  });

  it('diff32 is the signed distance across the wrap', () => {
    expect(diff32(MAX32, 0)).toBe(1);
    expect(diff32(0, MAX32)).toBe(-1);
    expect(diff32(0xfffffff0, 0x10)).toBe(0x20);
    expect(diff32(0, 0x80000000)).toBe(-0x80000000);
  });

  it('max32 picks the later one across the wrap', () => {
    expect(max32(MAX32, 3)).toBe(3);
    expect(max32(3, MAX32)).toBe(3);
  });
});

describe('16-bit serial numbers (SSN)', () => {
  it('add16 wraps at 65536', () => {
    expect(add16(0xffff, 1)).toBe(0);
    expect(add16(0xfffe, 5)).toBe(3);
    expect(add16(0, -1)).toBe(0xffff);
  });

  it('lt16, gt16, diff16 across the wrap', () => {
    expect(lt16(0xffff, 0)).toBe(true);
    expect(gt16(0, 0xffff)).toBe(true);
    expect(lt16(0, 0xffff)).toBe(false);
    expect(lt16(0xfff0, 0x000f)).toBe(true);
    expect(lt16(0, 0x8000) || gt16(0, 0x8000)).toBe(false);
    expect(lte16(9, 9) && gte16(9, 9)).toBe(true);
    expect(diff16(0xffff, 1)).toBe(2);
    expect(diff16(1, 0xffff)).toBe(-2);
  });
});

/** RFC 1982 §3.2 with BigInt: s1 < s2 iff (i1 < i2 and i2 - i1 < 2^(n-1)) or (i1 > i2 and i1 - i2 > 2^(n-1)). */
function refLt(a: number, b: number, bits: bigint): boolean {
  const i1 = BigInt(a);
  const i2 = BigInt(b);
  const half = 1n << (bits - 1n);
  return (i1 < i2 && i2 - i1 < half) || (i1 > i2 && i1 - i2 > half);
}
function refAdd(a: number, n: number, bits: bigint): number {
  const m = 1n << bits;
  return Number((((BigInt(a) + BigInt(n)) % m) + m) % m);
}

const u32 = fc.oneof(fc.integer({ min: 0, max: MAX32 }), fc.integer({ min: MAX32 - 64, max: MAX32 }), fc.integer({ min: 0, max: 64 }));
const u16 = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xffc0, max: 0xffff }), fc.integer({ min: 0, max: 64 }));

describe('against a BigInt reference (RFC 1982)', () => {
  it('32 bit: add, lt, gt, lte, gte, diff', () => {
    fc.assert(
      fc.property(u32, u32, fc.integer({ min: -MAX32, max: MAX32 }), (a, b, n) => {
        expect(add32(a, n)).toBe(refAdd(a, n, 32n));
        expect(lt32(a, b)).toBe(refLt(a, b, 32n));
        expect(gt32(a, b)).toBe(refLt(b, a, 32n));
        expect(lte32(a, b)).toBe(a === b || refLt(a, b, 32n));
        expect(gte32(a, b)).toBe(a === b || refLt(b, a, 32n));
        // diff is the signed distance: a + diff(a, b) = b.
        expect(add32(a, diff32(a, b))).toBe(b);
        expect(diff32(a, b) > 0).toBe(refLt(a, b, 32n));
      }),
      { numRuns: 5_000 },
    );
  });

  it('16 bit: add, lt, gt, lte, gte, diff', () => {
    fc.assert(
      fc.property(u16, u16, fc.integer({ min: -0xffff, max: 0xffff }), (a, b, n) => {
        expect(add16(a, n)).toBe(refAdd(a, n, 16n));
        expect(lt16(a, b)).toBe(refLt(a, b, 16n));
        expect(gt16(a, b)).toBe(refLt(b, a, 16n));
        expect(lte16(a, b)).toBe(a === b || refLt(a, b, 16n));
        expect(gte16(a, b)).toBe(a === b || refLt(b, a, 16n));
        expect(add16(a, diff16(a, b))).toBe(b);
        expect(diff16(a, b) > 0).toBe(refLt(a, b, 16n));
      }),
      { numRuns: 5_000 },
    );
  });
});
