// copyBytes: a copy that shares no memory with its input, small ones carved from a slab.
import { describe, expect, it } from 'vitest';
import { copyBytes } from '../../src/wire/bytes.js';

describe('copyBytes', () => {
  it('copies small and large inputs, never aliasing the input or another copy', () => {
    const src = new Uint8Array(2000).map((_, i) => i & 0xff);
    const copies: Uint8Array[] = [];
    for (const n of [1, 7, 100, 512, 513, 2000, 100, 3]) copies.push(copyBytes(src.subarray(0, n)));
    expect(copies.map((c) => c.length)).toEqual([1, 7, 100, 512, 513, 2000, 100, 3]);
    for (const c of copies) expect([...c]).toEqual([...src.subarray(0, c.length)]);
    src.fill(0);
    for (const c of copies) for (let i = 0; i < c.length; i++) expect(c[i]).toBe(i & 0xff);
    // Writing one copy changes no other.
    for (const c of copies) c.fill(0xee);
    for (const c of copies) expect(c.every((x) => x === 0xee)).toBe(true);
    // Small copies share slabs (that is the point), large ones own their buffer.
    expect(copies[4]!.buffer.byteLength).toBe(513);
    expect(copies[0]!.buffer).toBe(copies[1]!.buffer);
  });
});
