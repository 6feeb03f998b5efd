// Acknowledge after forward keeps its state in the TCB as plain data: it
// survives the replication codec and an endpoint restore, so a standby that
// takes over withholds exactly what the primary withheld.
import { describe, expect, it } from 'vitest';
import { decodePlain, encodePlain } from '../../src/cluster/state/plain-codec.js';
import { add32 } from '../../src/wire/serial.js';
import { endpoint, established, text, B, PORT_B } from '../core/assoc/helpers.js';

describe('hold state replication', () => {
  it('round-trips through the plain codec and importState; the restored endpoint releases and SACKs as the original would', () => {
    const { pair, a, b, idA, idB } = established({ hbInterval: 3_600_000, holdAcks: true });
    for (let i = 0; i < 3; i++) a.send(0, idA, text(`m${i}`), { streamId: 0, ppid: 0 });
    pair.pump(0);
    pair.runTo(0, 300);
    const st = b.exportState();
    const decoded = decodePlain(encodePlain(st));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.value).toEqual(st);
    // A standby's endpoint takes the state over.
    const standby = endpoint([B], PORT_B, 77, { hbInterval: 3_600_000, holdAcks: true });
    expect(standby.importState(decoded.value as typeof st)).toBe(true);
    const first = (a.snapshot(idA)!.fsm as { tcb: { localInitialTsn: number } }).tcb.localInitialTsn;
    expect(standby.release(300, idB, 2)).toBe('released');
    expect(standby.release(300, idB, 1)).toBe('released');
    for (let d = standby.pollTransmit(300); d; d = standby.pollTransmit(300)) a.handlePacket(300, d);
    const snap = a.snapshot(idA)!;
    if (snap.fsm.state !== 'established') throw new Error('not established');
    // The sender saw the first two acknowledged, the third still outstanding.
    expect(snap.fsm.tcb.rq.chunks.map((c) => c.tsn)).toEqual([add32(first, 2)]);
  });
});
