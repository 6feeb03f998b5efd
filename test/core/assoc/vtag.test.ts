// RFC 9260 §8.5 and §8.5.1: verification tag rules, T bit.
import { describe, expect, it } from 'vitest';
import type { Chunk } from '../../../src/wire/types.js';
import { A, B, PORT_A, PORT_B, deliver, drain, endpoint, established, events, kinds } from './helpers.js';

const data: Chunk = { kind: 'data', tsn: 0, streamId: 0, ssn: 0, ppid: 0, userData: new Uint8Array([1]), unordered: false, beginning: true, ending: true, immediate: false };

function tags(x: ReturnType<typeof established>) {
  const s = x.b.snapshot(x.idB)!;
  if (s.fsm.state !== 'established') throw new Error('not established');
  return { local: s.fsm.tcb.localTag, peer: s.fsm.tcb.peerTag, peerTsn: s.fsm.tcb.peerInitialTsn };
}

describe('verification tag (§8.5, §8.5.1)', () => {
  it('a packet with the wrong tag is silently discarded (§8.5)', () => {
    const x = established();
    const t = tags(x);
    deliver(x.b, 10, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: (t.local + 1) >>> 0, chunks: [{ ...data, tsn: t.peerTsn } as Chunk] });
    expect(drain(x.b, 10)).toEqual([]);
    expect(events(x.b)).toEqual([]);
    deliver(x.b, 10, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: t.local, chunks: [{ ...data, tsn: t.peerTsn } as Chunk] });
    expect(kinds(drain(x.b, 10))).toEqual([['sack']]);
  });

  it('ABORT: our tag without T, or the peer tag with T; anything else ignored (§8.5.1 B)', () => {
    for (const [vtagOf, tBit, accepted] of [
      ['local', false, true],
      ['peer', true, true],
      ['local', true, false],
      ['peer', false, false],
    ] as const) {
      const x = established();
      const t = tags(x);
      deliver(x.b, 10, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: vtagOf === 'local' ? t.local : t.peer, chunks: [{ kind: 'abort', tBit, causes: [] }] });
      const ev = events(x.b).map((e) => e.event.type);
      expect(ev, `${vtagOf} tag, T=${tBit}`).toEqual(accepted ? ['communication-lost'] : []);
      expect(x.b.associationIds().length).toBe(accepted ? 0 : 1);
    }
  });

  it('SHUTDOWN COMPLETE with the T bit needs the peer tag (§8.5.1 C)', () => {
    const x = established();
    x.a.shutdown(10, x.idA);
    x.pair.drop = (s) => s.packet.chunks.some((c) => c.kind === 'shutdown-complete');
    x.pair.pump(10);
    // B is in SHUTDOWN-ACK-SENT now; a SHUTDOWN COMPLETE with T and B's own tag is not accepted.
    const snap = x.b.snapshot(x.idB)!;
    expect(snap.fsm.state).toBe('shutdown-ack-sent');
    const tcb = snap.fsm.state === 'shutdown-ack-sent' ? snap.fsm.tcb : undefined;
    deliver(x.b, 20, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: tcb!.localTag, chunks: [{ kind: 'shutdown-complete', tBit: true }] });
    expect(x.b.associationIds().length).toBe(1);
    deliver(x.b, 20, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: tcb!.peerTag, chunks: [{ kind: 'shutdown-complete', tBit: true }] });
    expect(x.b.associationIds().length).toBe(0);
    expect(events(x.b).map((e) => e.event.type)).toContain('shutdown-complete');
  });

  it('SHUTDOWN ACK in COOKIE-WAIT is out of the blue: SHUTDOWN COMPLETE with T (§8.5.1 E)', () => {
    const a = endpoint([A], PORT_A, 1);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    drain(a, 0);
    deliver(a, 1, B, A, { sourcePort: PORT_B, destinationPort: PORT_A, verificationTag: 0x5555, chunks: [{ kind: 'shutdown-ack' }] });
    const out = drain(a, 1);
    expect(kinds(out)).toEqual([['shutdown-complete']]);
    expect(out[0]!.packet.verificationTag).toBe(0x5555);
    expect(out[0]!.packet.chunks[0]).toEqual({ kind: 'shutdown-complete', tBit: true });
    expect(a.associationIds().length).toBe(1);
  });

  it('an ABORT in COOKIE-WAIT with our initiate tag refuses the association: cannot-start', () => {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    const init = drain(a, 0);
    const tag = init[0]!.packet.chunks[0]!.kind === 'init' ? init[0]!.packet.chunks[0]!.initiateTag : 0;
    void b;
    deliver(a, 1, B, A, { sourcePort: PORT_B, destinationPort: PORT_A, verificationTag: tag, chunks: [{ kind: 'abort', tBit: false, causes: [{ kind: 'out-of-resource' }] }] });
    expect(events(a).map((e) => e.event)).toEqual([{ type: 'cannot-start', reason: 'peer-abort', causes: [{ kind: 'out-of-resource' }] }]);
  });
});
