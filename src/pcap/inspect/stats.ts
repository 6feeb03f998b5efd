/** Small bounded accumulators used by the association tracker. */
import { gt32, lte32 } from '../../wire/serial.js';
import type { AnomalyExample, AnomalyKind, AnomalyReport, RttReport } from './report.js';

export class Rtt {
  samples = 0;
  min = Infinity;
  max = 0;
  sum = 0;
  add(seconds: number): void {
    // A merged capture can put an answer before its question: no sample.
    if (!(seconds >= 0)) return;
    this.samples++;
    this.sum += seconds;
    if (seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
  }
  report(): RttReport | null {
    if (this.samples === 0) return null;
    return { samples: this.samples, min: this.min, avg: this.sum / this.samples, max: this.max };
  }
}

/** Counts per anomaly kind with the first few examples of each. */
export class Anomalies {
  private readonly byKind = new Map<AnomalyKind, { count: number; examples: AnomalyExample[] }>();
  constructor(private readonly examples: number) {}
  add(kind: AnomalyKind, frame: number, time: number, detail: string): void {
    let a = this.byKind.get(kind);
    if (a === undefined) {
      a = { count: 0, examples: [] };
      this.byKind.set(kind, a);
    }
    a.count++;
    if (a.examples.length < this.examples) a.examples.push({ frame, time, detail });
  }
  get total(): number {
    let n = 0;
    for (const a of this.byKind.values()) n += a.count;
    return n;
  }
  report(): AnomalyReport[] {
    return [...this.byKind].map(([kind, a]) => ({ kind, count: a.count, examples: a.examples }));
  }
}

const VALID = 1;
const RETRANSMITTED = 2;

/**
 * The TSNs one endpoint sent, in a ring indexed by TSN: enough to tell a
 * retransmission from a first transmission and to time the first
 * transmission for RTT samples, in memory bounded by `max` entries whatever
 * the length of the association.
 *
 * First transmissions carry increasing TSNs, so a TSN at or below the highest
 * seen is a retransmission when the ring holds it, when the peer already
 * acknowledged it, or when it is so old that the ring moved past it; a TSN
 * below the highest that the ring never held is a first sighting (the capture
 * reordered it, or missed the original).
 */
export class TsnTrack {
  private size: number;
  private tsns: Uint32Array;
  private times: Float64Array;
  private flags: Uint8Array;
  private haveHighest = false;
  highest = 0;
  haveCum = false;
  cumAck = 0;

  constructor(
    initial: number,
    private readonly max: number,
  ) {
    this.size = initial;
    this.tsns = new Uint32Array(initial);
    this.times = new Float64Array(initial);
    this.flags = new Uint8Array(initial);
  }

  /** True when `tsn` was sent before (see the class comment). */
  isRetransmission(tsn: number): boolean {
    if (!this.haveHighest || gt32(tsn, this.highest)) return false;
    if (this.haveCum && lte32(tsn, this.cumAck)) return true;
    const slot = tsn & (this.size - 1);
    if ((this.flags[slot]! & VALID) === 0) return false;
    const held = this.tsns[slot]!;
    if (held === tsn) return true;
    return gt32(held, tsn);
  }

  /** Records a first transmission at `time`. */
  sent(tsn: number, time: number): void {
    if (!this.haveHighest) {
      this.haveHighest = true;
      this.highest = tsn;
    } else if (gt32(tsn, this.highest)) this.highest = tsn;
    if (this.size < this.max && this.haveCum && ((tsn - this.cumAck) >>> 0) >= this.size) this.grow(((tsn - this.cumAck) >>> 0) + 1);
    const slot = tsn & (this.size - 1);
    this.tsns[slot] = tsn;
    this.times[slot] = time;
    this.flags[slot] = VALID;
  }

  retransmitted(tsn: number): void {
    const slot = tsn & (this.size - 1);
    if (this.tsns[slot] === tsn) this.flags[slot]! |= RETRANSMITTED;
  }

  /**
   * A cumulative ack from the peer. Returns the send time of `cum` when that
   * ack newly covers it and it was sent once only (Karn), else undefined.
   */
  ack(cum: number): number | undefined {
    if (this.haveCum && !gt32(cum, this.cumAck)) return undefined;
    // An ack beyond anything sent is from before the capture started or is bogus: no sample.
    if (this.haveHighest && gt32(cum, this.highest)) {
      this.haveCum = true;
      this.cumAck = cum;
      return undefined;
    }
    this.haveCum = true;
    this.cumAck = cum;
    const slot = cum & (this.size - 1);
    if (this.flags[slot] === VALID && this.tsns[slot] === cum) return this.times[slot];
    return undefined;
  }

  /** Forgets everything (a restart starts new TSN spaces). */
  reset(): void {
    this.haveHighest = false;
    this.haveCum = false;
    this.flags.fill(0);
  }

  private grow(need: number): void {
    let size = this.size;
    while (size < need && size < this.max) size *= 2;
    const tsns = new Uint32Array(size);
    const times = new Float64Array(size);
    const flags = new Uint8Array(size);
    for (let i = 0; i < this.size; i++) {
      if (this.flags[i] === 0) continue;
      const t = this.tsns[i]!;
      const s = t & (size - 1);
      tsns[s] = t;
      times[s] = this.times[i]!;
      flags[s] = this.flags[i]!;
    }
    this.size = size;
    this.tsns = tsns;
    this.times = times;
    this.flags = flags;
  }
}
