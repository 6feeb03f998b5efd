// Acknowledge after forward (issue #10, src/core/rx/ack-hold.ts): a received
// TSN is reported in a SACK only once the application released its message.
import { describe, expect, it } from 'vitest';
import type { Endpoint, EndpointEvent } from '../../../src/core/endpoint.js';
import { add32, diff32 } from '../../../src/wire/serial.js';
import type { SackChunk } from '../../../src/wire/types.js';
import { SeededRng } from '../../../src/core/env.js';
import { A, B, deliver, established, events, PORT_A, PORT_B, text, type Pair } from '../assoc/helpers.js';

function tcb(ep: Endpoint, id: number) {
  const s = ep.snapshot(id);
  if (!s || s.fsm.state !== 'established') throw new Error(`not established: ${s?.fsm.state}`);
  return s.fsm.tcb;
}

function sacksFromB(pair: Pair): SackChunk[] {
  return pair.log.filter((l) => l.from === 'b').flatMap((l) => l.sent.packet.chunks.filter((c): c is SackChunk => c.kind === 'sack'));
}

function tokens(ev: readonly EndpointEvent[]): number[] {
  return ev.flatMap((e) => (e.event.type === 'message' ? [e.event.holdToken ?? -1] : []));
}

/** The TSNs a SACK reports (cumulatively from `base`, or in Gap Ack Blocks). */
function reported(s: SackChunk, base: number): Set<number> {
  const out = new Set<number>();
  for (let t = base; diff32(t, s.cumulativeTsnAck) >= 0 && diff32(t, s.cumulativeTsnAck) < 10_000; t = add32(t, 1)) out.add(t);
  for (const g of s.gapBlocks) for (let o = g.start; o <= g.end; o++) out.add(add32(s.cumulativeTsnAck, o));
  return out;
}

const hbOff = { hbInterval: 3_600_000 };

describe('acknowledge after forward (holdAcks)', () => {
  it('off by default: the SACK covers what arrived, messages carry no token (control)', () => {
    const { pair, a, idA } = established(hbOff);
    const first = tcb(a, idA).localInitialTsn;
    for (let i = 0; i < 3; i++) a.send(0, idA, text(`m${i}`), { streamId: 0, ppid: 0 });
    pair.pump(0);
    pair.runTo(0, 1000);
    expect(tokens(pair.evB)).toEqual([-1, -1, -1]);
    expect(sacksFromB(pair).at(-1)!.cumulativeTsnAck).toBe(add32(first, 2));
  });

  it('withholds every TSN until released, reports released ones (gap block first), never reneges', () => {
    const { pair, a, b, idA, idB } = established({ ...hbOff, holdAcks: true, notifyAcked: true });
    const first = tcb(a, idA).localInitialTsn;
    const before = add32(first, -1);
    for (let i = 0; i < 3; i++) expect(a.send(0, idA, text(`m${i}`), { streamId: 0, ppid: 0 }).ok).toBe(true);
    pair.pump(0);
    pair.runTo(0, 500);
    // Delivered at once, each with a token; nothing acknowledged.
    expect(tokens(pair.evB)).toEqual([1, 2, 3]);
    const s0 = sacksFromB(pair);
    expect(s0.length).toBeGreaterThan(0);
    for (const s of s0) {
      expect(s.cumulativeTsnAck).toBe(before);
      expect(s.gapBlocks).toEqual([]);
      // Withheld bytes are outstanding for the peer already: the window is not reduced by them.
      expect(s.aRwnd).toBe(256 * 1024);
    }
    expect(pair.evA.some((e) => e.event.type === 'message-acked')).toBe(false);

    // Release the second message: it is reported in a Gap Ack Block, the cumulative ack stays.
    expect(b.release(500, idB, 2)).toBe('released');
    pair.pump(500);
    pair.runTo(500, 800);
    const s1 = sacksFromB(pair).at(-1)!;
    expect(s1.cumulativeTsnAck).toBe(before);
    expect(s1.gapBlocks).toEqual([{ start: 2, end: 2 }]);
    expect(b.release(800, idB, 2)).toBe('unknown-token');

    // Release the first and the third: cumulative ack over all three; the sender learns it per message.
    expect(b.release(800, idB, 1)).toBe('released');
    expect(b.release(800, idB, 3)).toBe('released');
    pair.pump(800);
    pair.runTo(800, 1200);
    const s2 = sacksFromB(pair).at(-1)!;
    expect(s2.cumulativeTsnAck).toBe(add32(first, 2));
    expect(pair.evA.filter((e) => e.event.type === 'message-acked').map((e) => (e.event.type === 'message-acked' ? e.event.messageId : -1)).sort()).toEqual([0, 1, 2]);

    // Every SACK reports a superset of the one before it (no renege, RFC 9260 §6.2).
    const all = sacksFromB(pair);
    for (let i = 1; i < all.length; i++) {
      const prev = reported(all[i - 1]!, first);
      const cur = reported(all[i]!, first);
      for (const t of prev) expect(cur.has(t)).toBe(true);
    }
  });

  it('a withheld TSN retransmitted on T3 is recognized: not delivered twice, not listed as a duplicate', () => {
    const { pair, a, b, idA, idB } = established({ ...hbOff, holdAcks: true });
    a.send(0, idA, text('once'), { streamId: 1, ppid: 3 });
    pair.pump(0);
    // T3-rtx at the sender (RTO.Initial 1 s) retransmits the withheld TSN, twice with backoff.
    pair.runTo(0, 3500);
    expect(tcb(a, idA).counters.t3Expireds).toBeGreaterThanOrEqual(2);
    expect(pair.evB.filter((e) => e.event.type === 'message').length).toBe(1);
    const h = tcb(b, idB).hold!;
    expect(h.counters.withheldDuplicates).toBeGreaterThanOrEqual(2);
    for (const s of sacksFromB(pair)) expect(s.duplicateTsns).toEqual([]);
    // Released: acknowledged, and the retransmissions stop.
    b.release(3500, idB, tokens(pair.evB)[0]!);
    pair.pump(3500);
    pair.runTo(3500, 10_000);
    expect(tcb(a, idA).rq.chunks.length).toBe(0);
    expect(pair.evB.filter((e) => e.event.type === 'message').length).toBe(1);
  });

  it('past holdLimit the window closes (back-pressure) instead of acknowledging; a release reopens it', () => {
    const { pair, a, b, idA, idB } = established({ ...hbOff, holdAcks: true, holdLimit: 300, receiveWindow: 8000 });
    const first = tcb(a, idA).localInitialTsn;
    a.send(0, idA, new Uint8Array(500).fill(1), { streamId: 0, ppid: 0 });
    pair.pump(0);
    pair.runTo(0, 299);
    expect(sacksFromB(pair).every((s) => s.aRwnd === 8000)).toBe(true);
    pair.runTo(299, 301);
    const closing = sacksFromB(pair).at(-1)!;
    expect(closing.aRwnd).toBe(0);
    expect(closing.cumulativeTsnAck).toBe(add32(first, -1));
    expect(tcb(b, idB).hold!.counters.overdue).toBe(1);
    // New data waits for the window; the association survives its retransmissions.
    a.send(301, idA, text('later'), { streamId: 0, ppid: 0 });
    pair.pump(301);
    pair.runTo(301, 5000);
    expect(a.snapshot(idA)!.fsm.state).toBe('established');
    expect(pair.evB.filter((e) => e.event.type === 'message').length).toBe(1);
    // The window is 0: a new TSN beyond the highest received is dropped (RFC 9260 §6.2), not delivered.
    const tb = tcb(b, idB);
    deliver(b, 5000, A, B, {
      sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: tb.localTag,
      chunks: [{ kind: 'data', tsn: add32(first, 5), streamId: 0, ssn: 7, ppid: 0, userData: text('pushy'), unordered: false, beginning: true, ending: true, immediate: false }],
    });
    expect(events(b).filter((e) => e.event.type === 'message')).toEqual([]);
    expect(tcb(b, idB).tracker.gapRanges).toEqual([]);
    b.release(5000, idB, 1);
    pair.pump(5000);
    const reopen = sacksFromB(pair).at(-1)!;
    expect(reopen.aRwnd).toBe(8000);
    expect(reopen.cumulativeTsnAck).toBe(first);
    pair.runTo(5000, 8000);
    expect(pair.evB.filter((e) => e.event.type === 'message').length).toBe(2);
  });

  it('withheld bytes stay within one receive window: the peer counts them as outstanding, a_rwnd does not count them twice', () => {
    // A window smaller than the sender's initial cwnd (4380 B), so the window is what limits it.
    const { pair, a, b, idA, idB } = established({ ...hbOff, holdAcks: true, receiveWindow: 3000 });
    for (let i = 0; i < 20; i++) a.send(0, idA, new Uint8Array(1000).fill(i), { streamId: 0, ppid: 0 });
    pair.pump(0);
    pair.runTo(0, 600);
    const held = tokens(pair.evB);
    // 3 messages fill the window the peer sees (a_rwnd 3000 less 3000 outstanding): no more are sent.
    expect(held.length).toBe(3);
    expect(sacksFromB(pair).every((s) => s.aRwnd === 3000)).toBe(true);
    expect(tcb(a, idA).rq.peerRwnd).toBe(0);
    // The application releases whatever it has, every 100 ms: the rest flows.
    let released = 0;
    for (let now = 600; now <= 6000; now += 100) {
      const all = tokens(pair.evB);
      for (const t of all.slice(released)) b.release(now, idB, t);
      released = all.length;
      pair.pump(now);
      pair.runTo(now, now + 100);
    }
    expect(tokens(pair.evB).length).toBe(20);
    expect(tcb(a, idA).rq.chunks.length).toBe(0);
  });

  it('per association: setAckHold on and off; turning it off reports everything received', () => {
    const { pair, a, b, idA, idB } = established(hbOff);
    const first = tcb(a, idA).localInitialTsn;
    expect(b.setAckHold(0, idB, true)).toBe(true);
    a.send(0, idA, text('x'), { streamId: 0, ppid: 0 });
    pair.pump(0);
    pair.runTo(0, 500);
    expect(sacksFromB(pair).at(-1)!.cumulativeTsnAck).toBe(add32(first, -1));
    expect(b.setAckHold(500, idB, false)).toBe(true);
    pair.pump(500);
    expect(sacksFromB(pair).at(-1)!.cumulativeTsnAck).toBe(first);
    expect(b.release(500, idB, 1)).toBe('not-holding');
  });

  it('random release orders with loss: exactly-once delivery, each SACK a superset of the last, all acked at the end', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const rng = new SeededRng(seed);
      const { pair, a, b, idA, idB } = established({ ...hbOff, holdAcks: true, rtoMin: 200, rtoInitial: 200 }, { seedA: seed, seedB: seed + 100 });
      const first = tcb(a, idA).localInitialTsn;
      pair.drop = (s) => s.packet.chunks.some((c) => c.kind === 'data') && rng.nextU32() % 5 === 0;
      const N = 40;
      for (let i = 0; i < N; i++) a.send(0, idA, text(`${i}`), { streamId: i % 3, ppid: 0 });
      let now = 0;
      const open: number[] = [];
      const got: string[] = [];
      for (let step = 0; step < 400 && !(got.length === N && open.length === 0 && tcb(a, idA).rq.chunks.length === 0); step++) {
        now += 50;
        pair.runTo(now - 50, now);
        for (const e of pair.evB.splice(0)) {
          if (e.event.type !== 'message') continue;
          open.push(e.event.holdToken!);
          got.push(new TextDecoder().decode(e.event.data));
        }
        // Release a random subset, in random order.
        for (let k = open.length - 1; k >= 0; k--) if (rng.nextU32() % 3 === 0) b.release(now, idB, open.splice(k, 1)[0]!);
        pair.pump(now);
      }
      expect(got.sort()).toEqual(Array.from({ length: N }, (_, i) => `${i}`).sort());
      expect(tcb(a, idA).rq.chunks.length).toBe(0);
      const all = sacksFromB(pair);
      for (let i = 1; i < all.length; i++) {
        const prev = reported(all[i - 1]!, first);
        const cur = reported(all[i]!, first);
        for (const t of prev) expect(cur.has(t), `seed ${seed}: TSN ${t} reneged`).toBe(true);
      }
    }
  });
});
