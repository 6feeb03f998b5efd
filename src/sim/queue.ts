/**
 * The simulator's single event queue: a binary min-heap ordered by
 * (time, insertion sequence). Equal times keep insertion order, so a run is a
 * pure function of the seed and the inputs. Entries know their heap index, so a
 * host's timeout can be removed when its deadline moves (one pending timeout
 * event per host, never a stale one left behind).
 */
import type { Millis } from '../core/env.js';

export interface QueueEntry<T> {
  readonly time: Millis;
  readonly seq: number;
  readonly payload: T;
  /** Position in the heap; -1 once popped or removed. */
  index: number;
}

export class EventQueue<T> {
  private readonly heap: QueueEntry<T>[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: Millis, payload: T): QueueEntry<T> {
    const entry: QueueEntry<T> = { time, seq: this.nextSeq++, payload, index: this.heap.length };
    this.heap.push(entry);
    this.up(entry.index);
    return entry;
  }

  peek(): QueueEntry<T> | undefined {
    return this.heap[0];
  }

  pop(): QueueEntry<T> | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top;
  }

  /** Removes `entry` if it is still queued; returns whether it was. */
  remove(entry: QueueEntry<T>): boolean {
    const i = entry.index;
    if (i < 0 || this.heap[i] !== entry) return false;
    this.removeAt(i);
    return true;
  }

  /** Queued entries in (time, seq) order. O(n log n); for inspection only. */
  entries(): QueueEntry<T>[] {
    return [...this.heap].sort(compare);
  }

  private removeAt(i: number): void {
    const removed = this.heap[i]!;
    const last = this.heap.pop()!;
    removed.index = -1;
    if (last === removed) return;
    this.heap[i] = last;
    last.index = i;
    this.down(i);
    this.up(last.index);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compare(h[i]!, h[parent]!) >= 0) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    while (true) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && compare(h[l]!, h[m]!) < 0) m = l;
      if (r < n && compare(h[r]!, h[m]!) < 0) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const x = h[a]!;
    const y = h[b]!;
    h[a] = y;
    h[b] = x;
    y.index = a;
    x.index = b;
  }
}

function compare<T>(a: QueueEntry<T>, b: QueueEntry<T>): number {
  return a.time - b.time || a.seq - b.seq;
}
