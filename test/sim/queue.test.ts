import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from '../../src/sim/queue.js';

describe('EventQueue', () => {
  it('orders by time, then by insertion sequence', () => {
    const q = new EventQueue<string>();
    q.push(5, 'a');
    q.push(1, 'b');
    q.push(5, 'c');
    q.push(1, 'd');
    q.push(0, 'e');
    const out: string[] = [];
    for (let e = q.pop(); e; e = q.pop()) out.push(e.payload);
    expect(out).toEqual(['e', 'b', 'd', 'a', 'c']);
  });

  it('removes an entry once; a popped entry cannot be removed', () => {
    const q = new EventQueue<number>();
    const a = q.push(3, 1);
    const b = q.push(2, 2);
    expect(q.remove(a)).toBe(true);
    expect(q.remove(a)).toBe(false);
    expect(q.pop()).toBe(b);
    expect(q.remove(b)).toBe(false);
    expect(q.size).toBe(0);
  });

  it('property: pops in (time, seq) order after arbitrary pushes and removals', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ time: fc.integer({ min: 0, max: 20 }), remove: fc.boolean() }), { maxLength: 200 }),
        (ops) => {
          const q = new EventQueue<number>();
          const entries = ops.map((o, i) => q.push(o.time, i));
          const kept = entries.filter((e, i) => !(ops[i]!.remove && q.remove(e)));
          const expected = kept.map((e) => [e.time, e.payload]).sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
          const popped: number[][] = [];
          for (let e = q.pop(); e; e = q.pop()) popped.push([e.time, e.payload]);
          expect(popped).toEqual(expected);
        },
      ),
    );
  });
});
