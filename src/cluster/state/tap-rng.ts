/**
 * The entropy a replicated endpoint draws, made replayable (DESIGN.md §2: the
 * core gets its randomness from an injected RNG). On the primary the tap
 * records every byte the core draws while it applies a log record, and the
 * record carries them; on a standby the tap hands the same bytes back, so
 * re-applying the record makes the same verification tags, TSNs, nonces and
 * cookie secrets. Once promoted, the tap draws live from the real RNG.
 */
import type { Rng } from '../../core/env.js';

export type TapMode = 'live' | 'record' | 'replay';

export class TapRng implements Rng {
  mode: TapMode = 'live';
  /** A replay asked for more bytes than the record carried: the replica drifted. */
  exhausted = false;
  private recorded: number[] = [];
  private replay: Uint8Array = new Uint8Array(0);
  private pos = 0;

  constructor(private readonly inner: Rng) {}

  /** Start recording the draws of one record (primary). */
  beginRecord(): void {
    this.mode = 'record';
    this.recorded.length = 0;
  }

  /** The bytes drawn since `beginRecord`; back to live. */
  endRecord(): Uint8Array {
    this.mode = 'live';
    return this.recorded.length === 0 ? EMPTY : Uint8Array.from(this.recorded);
  }

  /** Serve draws from `entropy` (standby applying a record). */
  beginReplay(entropy: Uint8Array): void {
    this.mode = 'replay';
    this.replay = entropy;
    this.pos = 0;
  }

  /** True if the replay used exactly the bytes it was given. */
  endReplay(): boolean {
    const exact = this.pos === this.replay.length && !this.exhausted;
    this.mode = 'live';
    this.exhausted = false;
    return exact;
  }

  nextU32(): number {
    switch (this.mode) {
      case 'live':
        return this.inner.nextU32();
      case 'record': {
        const v = this.inner.nextU32() >>> 0;
        this.recorded.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
        return v;
      }
      case 'replay': {
        if (this.pos + 4 > this.replay.length) {
          this.exhausted = true;
          return this.inner.nextU32();
        }
        const b = this.replay;
        const p = this.pos;
        this.pos += 4;
        return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
      }
    }
  }

  fill(out: Uint8Array): void {
    switch (this.mode) {
      case 'live':
        this.inner.fill(out);
        return;
      case 'record':
        this.inner.fill(out);
        for (const x of out) this.recorded.push(x);
        return;
      case 'replay':
        if (this.pos + out.length > this.replay.length) {
          this.exhausted = true;
          this.inner.fill(out);
          return;
        }
        out.set(this.replay.subarray(this.pos, this.pos + out.length));
        this.pos += out.length;
        return;
    }
  }
}

const EMPTY = new Uint8Array(0);
