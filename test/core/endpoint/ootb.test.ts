// RFC 9260 §8.4: out-of-the-blue packets, all eight rules.
import { describe, expect, it } from 'vitest';
import type { Chunk } from '../../../src/wire/types.js';
import { A, B, PORT_A, PORT_B, deliver, drain, endpoint, kinds, only } from '../assoc/helpers.js';

function ootb(chunks: Chunk[], opts: { source?: string; vtag?: number } = {}) {
  const b = endpoint([B], PORT_B, 2);
  deliver(b, 0, opts.source ?? A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: opts.vtag ?? 0xabcd, chunks });
  return { b, out: drain(b, 0) };
}

const data: Chunk = { kind: 'data', tsn: 1, streamId: 0, ssn: 0, ppid: 0, userData: new Uint8Array([1]), unordered: false, beginning: true, ending: true, immediate: false };

describe('out-of-the-blue packets (§8.4)', () => {
  it('rule 1: from a multicast or broadcast source: discarded', () => {
    expect(ootb([data], { source: '224.0.0.5' }).out).toEqual([]);
    expect(ootb([data], { source: '255.255.255.255' }).out).toEqual([]);
  });

  it('rule 2: containing an ABORT: discarded', () => {
    expect(ootb([data, { kind: 'abort', tBit: false, causes: [] }]).out).toEqual([]);
  });

  it('rule 3: INIT is answered with INIT ACK (and nothing is kept)', () => {
    const { b, out } = ootb([{ kind: 'init', initiateTag: 9, aRwnd: 1500, outboundStreams: 1, inboundStreams: 1, initialTsn: 0, params: [] }], { vtag: 0 });
    expect(kinds(out)).toEqual([['init-ack']]);
    expect(b.associationIds()).toEqual([]);
  });

  it('rule 3: a COOKIE ECHO with a bad cookie is discarded', () => {
    expect(ootb([{ kind: 'cookie-echo', cookie: new Uint8Array(80) }]).out).toEqual([]);
  });

  it('rule 4: SHUTDOWN ACK is answered with SHUTDOWN COMPLETE, tag reflected, T bit set', () => {
    const { out } = ootb([{ kind: 'shutdown-ack' }]);
    expect(only(out, 'shutdown-complete')).toEqual({ kind: 'shutdown-complete', tBit: true });
    expect(out[0]!.packet.verificationTag).toBe(0xabcd);
    expect(out[0]!.destination).toBe(A);
    expect(out[0]!.packet.destinationPort).toBe(PORT_A);
  });

  it('rule 5: SHUTDOWN COMPLETE is discarded', () => {
    expect(ootb([{ kind: 'shutdown-complete', tBit: false }]).out).toEqual([]);
  });

  it('rule 6: ERROR with Stale Cookie is discarded; another ERROR gets ABORT', () => {
    expect(ootb([{ kind: 'error', causes: [{ kind: 'stale-cookie', staleness: 5 }] }]).out).toEqual([]);
    expect(kinds(ootb([{ kind: 'error', causes: [{ kind: 'out-of-resource' }] }]).out)).toEqual([['abort']]);
  });

  it('rule 7: COOKIE ACK is discarded', () => {
    expect(ootb([{ kind: 'cookie-ack' }]).out).toEqual([]);
  });

  it('rule 8: anything else gets ABORT with the tag reflected and the T bit set', () => {
    for (const c of [data, { kind: 'sack', cumulativeTsnAck: 1, aRwnd: 1, gapBlocks: [], duplicateTsns: [] } as Chunk, { kind: 'heartbeat', info: new Uint8Array(4) } as Chunk]) {
      const { out } = ootb([c]);
      expect(only(out, 'abort')).toEqual({ kind: 'abort', tBit: true, causes: [] });
      expect(out[0]!.packet.verificationTag).toBe(0xabcd);
    }
  });

  it('counts out-of-the-blue packets and checksum errors', () => {
    const b = endpoint([B], PORT_B, 2);
    deliver(b, 0, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 1, chunks: [data] });
    const bytes = new Uint8Array(16);
    b.handlePacket(0, { source: A, destination: B, bytes });
    expect(b.counters.outOfBlues).toBe(1);
    expect(b.counters.checksumErrors).toBe(1);
  });
});
