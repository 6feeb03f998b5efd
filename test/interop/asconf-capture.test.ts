// The kept capture of our ADD-IP sequence against usrsctp
// (captures/asconf-usrsctp.pcapng, made by asconf-netns.test.ts with
// HASCTP_UPDATE_CAPTURES=1, described in captures/INDEX.md) still says what
// INDEX.md says: no root needed to check it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capturesDir } from '../helpers/env.js';
import { moveFacts, readSctpPackets, retransmittedTsns, unauthenticatedAsconf } from './asconf-capture.js';

const file = join(capturesDir, 'asconf-usrsctp.pcapng');
const F = { old: '10.85.1.1', new: '10.85.2.1', peer: '10.85.9.2' };

describe('captures/asconf-usrsctp.pcapng', () => {
  const pkts = readSctpPackets(file);

  it('holds one association: handshake with AUTH and ADD-IP offered both ways, Add, Set Primary, Delete, shutdown', () => {
    const kinds = pkts.map((p) => p.chunks.map((c) => c.kind).join(','));
    expect(kinds[0]).toBe('init');
    expect(kinds[1]).toBe('init-ack');
    for (const c of [pkts[0]!.chunks[0]!, pkts[1]!.chunks[0]!]) {
      const params = c.kind === 'init' || c.kind === 'init-ack' ? c.params.map((p) => p.kind) : [];
      for (const k of ['random', 'chunk-list', 'hmac-algo', 'supported-extensions'] as const) expect(params).toContain(k);
    }
    const asconf = pkts.flatMap((p) => p.chunks.flatMap((c) => (c.kind === 'asconf' ? c.params.map((x) => x.kind) : [])));
    expect(asconf).toEqual(['add-ip-address', 'set-primary-address', 'delete-ip-address']);
    expect(pkts.filter((p) => p.chunks.some((c) => c.kind === 'asconf-ack'))).toHaveLength(3);
    expect(kinds.slice(-3)).toEqual(['shutdown', 'shutdown-ack', 'shutdown-complete']);
    expect(unauthenticatedAsconf(pkts)).toEqual([]);
  });

  it('shows usrsctp moving its DATA and SACKs to the new address at the Set Primary, with no retransmission, and the old address gone after the Delete', () => {
    const f = moveFacts(pkts, { peer: F.peer, oldLocal: F.old, newLocal: F.new });
    expect(f.dataToOldAfterSetPrimary).toBe(0);
    expect(f.sacksToOldAfterMove).toBe(0);
    expect(f.firstDataToNew! - f.setPrimaryAt!).toBeLessThan(0.05);
    expect(f.firstSackToNew! - f.setPrimaryAt!).toBeLessThan(0.05);
    expect(f.oldAddressAfterDelete).toBe(0);
    expect(f.dataAfterDelete).toBeGreaterThan(20);
    expect(retransmittedTsns(pkts, (p) => p.src === F.peer)).toEqual([]);
    expect(retransmittedTsns(pkts, (p) => p.dst === F.peer)).toEqual([]);
  });
});
