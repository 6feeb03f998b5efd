// Property: random sends over a lossy, reordering-free path to a simulated receiver
// that SACKs (and sometimes reneges) end with every message acknowledged exactly once,
// its bytes reassembled intact, and no invariant broken on the way. A PR-SCTP variant
// checks that every message ends either acknowledged or reported failed, never both.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SeededRng } from '../../../src/core/env.js';
import { add32, diff32, gt32, lte32 } from '../../../src/wire/serial.js';
import type { DataChunk, SackChunk } from '../../../src/wire/types.js';
import {
  checkInvariants,
  chunkAt,
  fastRetransmitChunks,
  needsRetransmissionTimer,
  nextChunksToSend,
  onSack,
  onT3RtxExpiry,
  isSenderDry,
  takeForwardTsn,
  flightSizeOf,
  type Destination,
} from '../../../src/core/tx/index.js';
import { send, setup, type Tx } from './fixtures.js';

class Receiver {
  cum: number;
  readonly above = new Map<number, DataChunk>();
  readonly all = new Map<number, DataChunk>();
  dups: number[] = [];
  constructor(initialTsn: number, readonly window: number) {
    this.cum = add32(initialTsn, -1);
  }
  onData(c: DataChunk): void {
    if (lte32(c.tsn, this.cum) || this.above.has(c.tsn)) {
      this.dups.push(c.tsn);
      return;
    }
    this.above.set(c.tsn, c);
    if (!this.all.has(c.tsn)) this.all.set(c.tsn, c);
    this.advance();
  }
  onForwardTsn(newCum: number): void {
    if (!gt32(newCum, this.cum)) return;
    this.cum = newCum;
    for (const t of [...this.above.keys()]) if (lte32(t, this.cum)) this.above.delete(t);
    this.advance();
  }
  private advance(): void {
    while (this.above.has(add32(this.cum, 1))) {
      this.cum = add32(this.cum, 1);
      this.above.delete(this.cum);
    }
  }
  renege(): void {
    this.above.clear();
  }
  sack(): SackChunk {
    const offs = [...this.above.keys()].map((t) => diff32(this.cum, t)).sort((a, b) => a - b);
    const gapBlocks: { start: number; end: number }[] = [];
    for (const o of offs) {
      const last = gapBlocks[gapBlocks.length - 1];
      if (last && last.end + 1 === o) last.end = o;
      else gapBlocks.push({ start: o, end: o });
    }
    let held = 0;
    for (const c of this.above.values()) held += c.userData.length;
    const s: SackChunk = { kind: 'sack', cumulativeTsnAck: this.cum, aRwnd: Math.max(0, this.window - held), gapBlocks, duplicateTsns: this.dups };
    this.dups = [];
    return s;
  }
}

interface Scenario {
  initialTsn: number;
  seed: number;
  loss: number;
  renege: number;
  window: number;
  prSctp: boolean;
  messages: { streamId: number; size: number; unordered: boolean; lifetime?: number; maxRetransmits?: number }[];
}

const RTO = 100;
const STEP = 10;

function run(sc: Scenario): void {
  const rng = new SeededRng(sc.seed);
  const tx: Tx = setup({ initialTsn: sc.initialTsn, aRwnd: sc.window, prSctp: sc.prSctp, streams: 4, maxOutstandingChunks: 256 });
  const rx = new Receiver(sc.initialTsn, sc.window);
  const sentData = new Map<number, Uint8Array>();
  const streamOf = new Map<number, number>();
  sc.messages.forEach((m, i) => {
    const data = new Uint8Array(m.size).map((_, j) => (i * 31 + j) & 0xff);
    const id = send(tx, { ...m, data }, 0);
    sentData.set(id, data);
    streamOf.set(id, m.streamId);
  });
  const acked = new Map<number, number>();
  const failed = new Map<number, number>();
  const t3 = new Map<Destination, number>();
  let lastNewTsn = add32(sc.initialTsn, -1);
  let now = 0;
  let fastRtxDue = false;

  const check = (): void => {
    expect(checkInvariants(tx.rq)).toEqual([]);
    expect(tx.sq.bufferedAmount).toBeGreaterThanOrEqual(0);
  };
  const deliver = (chunks: readonly DataChunk[], destination: Destination): void => {
    if (chunks.length > 0 && !t3.has(destination)) t3.set(destination, now + RTO); // R1
    for (const c of chunks) if (rng.nextFloat() >= sc.loss) rx.onData(c);
  };
  const forwardTsn = (): void => {
    const f = takeForwardTsn(tx.rq, 1200);
    if (f && rng.nextFloat() >= sc.loss) rx.onForwardTsn(f.newCumulativeTsn);
  };
  const fail = (list: readonly { messageId: number }[]): void => {
    for (const f of list) failed.set(f.messageId, (failed.get(f.messageId) ?? 0) + 1);
  };

  let steps = 0;
  for (; steps < 20_000 && !isSenderDry(tx.rq, tx.sq); steps++) {
    now += STEP;
    const destination = rng.nextFloat() < 0.5 ? 'A' : 'B';
    if (fastRtxDue) {
      const fr = fastRetransmitChunks(tx.rq, tx.sq, { destination, now, packetSpace: 1200 });
      fail(fr.sendFailed);
      deliver(fr.chunks, destination);
      fastRtxDue = false;
    }
    for (let p = 0; p < 4; p++) {
      const r = nextChunksToSend(tx.rq, tx.sq, {
        destination,
        now,
        packetSpace: 1200,
        maxFragmentPayload: 500,
        cwndBudget: 6000 - flightSizeOf(tx.rq, destination),
        allowZeroWindowProbe: true,
      });
      fail(r.sendFailed);
      for (const c of r.chunks) {
        if (r.retransmittedTsns.includes(c.tsn)) continue;
        // New data gets strictly increasing TSNs; the only TSNs skipped are the
        // never-sent placeholders of abandoned message tails.
        expect(gt32(c.tsn, lastNewTsn)).toBe(true);
        for (let t = add32(lastNewTsn, 1); t !== c.tsn; t = add32(t, 1)) {
          expect(chunkAt(tx.rq, t)).toMatchObject({ state: 'abandoned', userData: new Uint8Array(0) });
        }
        lastNewTsn = c.tsn;
      }
      deliver(r.chunks, destination);
      check();
      if (r.chunks.length === 0) break;
    }
    forwardTsn();
    if (rng.nextFloat() < sc.renege) rx.renege();
    if (rng.nextFloat() >= sc.loss) {
      const o = onSack(tx.rq, tx.sq, rx.sack(), now);
      expect(o.kind).toBe('processed');
      if (o.kind === 'processed') {
        for (const id of o.ackedMessageIds) acked.set(id, (acked.get(id) ?? 0) + 1);
        fail(o.sendFailed);
        if (o.enteredFastRecovery) fastRtxDue = true;
        for (const d of o.destinations) {
          if (d.outstandingChunks === 0) t3.delete(d.destination); // R2
          else if (d.earliestOutstandingAcked) t3.set(d.destination, now + RTO); // R3
          else if (d.reneged && !t3.has(d.destination)) t3.set(d.destination, now + RTO); // R4
        }
      }
      check();
      forwardTsn();
    }
    // RFC 3758 C5: a timer runs while anything (FORWARD TSN included) is unacknowledged.
    if (needsRetransmissionTimer(tx.rq) && t3.size === 0) t3.set('A', now + RTO);
    for (const [d, at] of [...t3]) {
      if (now < at) continue;
      const o = onT3RtxExpiry(tx.rq, tx.sq, d, now);
      fail(o.sendFailed);
      t3.set(d, now + RTO);
      check();
      forwardTsn();
    }
  }
  expect(steps).toBeLessThan(20_000);
  expect(tx.rq.chunks).toEqual([]);
  expect(tx.rq.flightSize.size).toBe(0);
  // Exactly once: each message is acknowledged once or (PR-SCTP) reported failed once.
  for (const id of sentData.keys()) {
    const a = acked.get(id) ?? 0;
    const f = failed.get(id) ?? 0;
    expect(a + f, `message ${id}: acked ${a}, failed ${f}`).toBe(1);
    if (!sc.prSctp) expect(a).toBe(1);
  }
  // Reassemble what the receiver got, in TSN order: the acknowledged messages come out intact, per stream in order.
  const got = new Map<number, Uint8Array[]>();
  let parts: Uint8Array[] = [];
  for (let t = sc.initialTsn, n = 0; n < diff32(sc.initialTsn, tx.rq.nextTsn); t = add32(t, 1), n++) {
    const c = rx.all.get(t);
    if (!c) {
      parts = [];
      continue;
    }
    if (c.beginning) parts = [];
    parts.push(c.userData);
    if (c.ending) {
      const m = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) {
        m.set(p, o);
        o += p.length;
      }
      got.set(c.streamId, [...(got.get(c.streamId) ?? []), m]);
      parts = [];
    }
  }
  const want = new Map<number, Uint8Array[]>();
  for (const [id, data] of sentData) {
    if ((acked.get(id) ?? 0) === 0) continue;
    const s = streamOf.get(id)!;
    want.set(s, [...(want.get(s) ?? []), data]);
  }
  if (!sc.prSctp) expect(got).toEqual(want);
  else for (const [s, list] of want) for (const m of list) expect(got.get(s)).toContainEqual(m);
}

const message = (pr: boolean) =>
  fc.record(
    {
      streamId: fc.integer({ min: 0, max: 3 }),
      size: fc.integer({ min: 1, max: 3000 }),
      unordered: fc.boolean(),
      ...(pr ? { lifetime: fc.integer({ min: 0, max: 2000 }), maxRetransmits: fc.integer({ min: 0, max: 3 }) } : {}),
    },
    pr ? { requiredKeys: ['streamId', 'size', 'unordered'] } : {},
  );

const scenario = (pr: boolean) =>
  fc.record({
    initialTsn: fc.constantFrom(0xffff_fff0, 0, 0x7fff_fff8, 4242),
    seed: fc.integer(),
    loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
    renege: fc.constantFrom(0, 0, 0.05),
    window: fc.constantFrom(3000, 20_000, 1_000_000),
    prSctp: fc.constant(pr),
    messages: fc.array(message(pr), { minLength: 1, maxLength: 40 }),
  }) as fc.Arbitrary<Scenario>;

describe('send side against a lossy simulated receiver', () => {
  it('reliable: every message acked exactly once, bytes intact, invariants hold', () => {
    fc.assert(fc.property(scenario(false), (sc) => run(sc)), { numRuns: 100 });
  });

  it('PR-SCTP: every message ends acked or failed exactly once', () => {
    fc.assert(fc.property(scenario(true), (sc) => run(sc)), { numRuns: 100 });
  });
});
