// DESIGN.md §3: every (chunk kind × state) cell is an explicit decision; walk the matrix.
import { describe, expect, it } from 'vitest';
import { chunkDecision, chunkTable, ootbTable } from '../../../src/core/association/chunk-table.js';
import { unrecognizedChunkAction } from '../../../src/wire/registry.js';
import type { Chunk, ChunkKind } from '../../../src/wire/types.js';
import { A, B, PORT_A, PORT_B, deliver, drain, established, events, only } from './helpers.js';

const u8 = new Uint8Array(4);
const samples: Record<ChunkKind, Chunk> = {
  data: { kind: 'data', tsn: 1, streamId: 0, ssn: 0, ppid: 0, userData: u8, unordered: false, beginning: true, ending: true, immediate: false },
  init: { kind: 'init', initiateTag: 1, aRwnd: 1500, outboundStreams: 1, inboundStreams: 1, initialTsn: 1, params: [] },
  'init-ack': { kind: 'init-ack', initiateTag: 1, aRwnd: 1500, outboundStreams: 1, inboundStreams: 1, initialTsn: 1, params: [{ kind: 'state-cookie', cookie: u8 }] },
  sack: { kind: 'sack', cumulativeTsnAck: 0, aRwnd: 1500, gapBlocks: [], duplicateTsns: [] },
  heartbeat: { kind: 'heartbeat', info: u8 },
  'heartbeat-ack': { kind: 'heartbeat-ack', info: u8 },
  abort: { kind: 'abort', tBit: false, causes: [] },
  shutdown: { kind: 'shutdown', cumulativeTsnAck: 0 },
  'shutdown-ack': { kind: 'shutdown-ack' },
  error: { kind: 'error', causes: [{ kind: 'out-of-resource' }] },
  'cookie-echo': { kind: 'cookie-echo', cookie: u8 },
  'cookie-ack': { kind: 'cookie-ack' },
  ecne: { kind: 'ecne', lowestTsn: 1 },
  cwr: { kind: 'cwr', lowestTsn: 1 },
  'shutdown-complete': { kind: 'shutdown-complete', tBit: false },
  auth: { kind: 'auth', sharedKeyId: 0, hmacId: 1, hmac: new Uint8Array(20) },
  'nr-sack': { kind: 'nr-sack', allNonRenegable: false, cumulativeTsnAck: 0, aRwnd: 1500, gapBlocks: [], nrGapBlocks: [], duplicateTsns: [] },
  idata: { kind: 'idata', tsn: 1, streamId: 0, mid: 0, ppid: 0, fsn: 0, userData: u8, unordered: false, beginning: true, ending: true, immediate: false },
  'asconf-ack': { kind: 'asconf-ack', serial: 1, params: [] },
  're-config': { kind: 're-config', params: [{ kind: 'ssn-tsn-reset-request', requestSeq: 1 }] },
  pad: { kind: 'pad', length: 4 },
  'forward-tsn': { kind: 'forward-tsn', newCumulativeTsn: 0, streams: [] },
  asconf: { kind: 'asconf', serial: 1, address: '10.0.0.1', params: [] },
  'i-forward-tsn': { kind: 'i-forward-tsn', newCumulativeTsn: 0, streams: [] },
  unknown: { kind: 'unknown', type: 0xff, flags: 0, value: u8 },
};

describe('chunk × state decision table', () => {
  const states = Object.keys(chunkTable) as (keyof typeof chunkTable)[];
  const kinds = Object.keys(samples) as ChunkKind[];

  it('has a decision for every cell, and extensions we do not implement are never processed', () => {
    const unimplemented: ChunkKind[] = ['ecne', 'cwr', 'nr-sack', 'idata', 're-config', 'pad', 'i-forward-tsn', 'unknown'];
    for (const s of states) {
      for (const k of kinds) {
        const d = chunkTable[s][k];
        expect(['process', 'discard', 'ootb', 'unrecognized'], `${s} × ${k}`).toContain(d);
        if (unimplemented.includes(k)) expect(d, `${s} × ${k}`).toBe('unrecognized');
      }
      expect(Object.keys(chunkTable[s]).sort()).toEqual([...kinds].sort());
    }
    for (const k of kinds) expect(ootbTable[k], k).toBeDefined();
  });

  it('AUTH, ASCONF and ASCONF-ACK follow their cells only where the extension was negotiated (RFC 9260 §3.2)', () => {
    for (const s of states) {
      for (const k of ['auth', 'asconf', 'asconf-ack'] as const) {
        expect(chunkDecision(s, k, false, false), `${s} × ${k} not negotiated`).toBe('unrecognized');
        expect(chunkDecision(s, k, true, true), `${s} × ${k} negotiated`).toBe(chunkTable[s][k]);
      }
      // AUTH alone (a peer without ADD-IP): AUTH follows its cell, ASCONF is unknown.
      expect(chunkDecision(s, 'asconf', true, false)).toBe('unrecognized');
      expect(chunkDecision(s, 'auth', true, false)).toBe(chunkTable[s].auth);
    }
    expect(chunkTable.established.asconf).toBe('process'); // RFC 5061 §5.2
    expect(chunkTable['cookie-echoed'].auth).toBe('process'); // RFC 4895 §6.3
    expect(chunkTable['shutdown-ack-sent'].asconf).toBe('discard');
    expect(ootbTable.auth).toBe('ootb-ignored'); // RFC 4895 §6.3
  });

  it('spot checks of RFC rules', () => {
    expect(chunkTable['cookie-wait']['cookie-ack']).toBe('discard'); // §5.2.5
    expect(chunkTable.established['init-ack']).toBe('discard'); // §5.2.3
    expect(chunkTable['cookie-echoed']['shutdown-ack']).toBe('ootb'); // §8.5.1 E
    expect(chunkTable['shutdown-ack-sent']['shutdown-complete']).toBe('process'); // §9.2
    expect(ootbTable.abort).toBe('ootb-discard-packet'); // §8.4 rule 2
  });

  // Every chunk kind into an ESTABLISHED association, with the right tag, after a valid DATA:
  // nothing throws, the table's decision is what happens, unrecognized ones follow their bits.
  for (const k of kinds) {
    it(`ESTABLISHED × ${k}: ${chunkTable.established[k]}`, () => {
      const x = established();
      const s = x.b.snapshot(x.idB)!;
      if (s.fsm.state !== 'established') throw new Error('state');
      const tag = s.fsm.tcb.localTag;
      const chunk = samples[k];
      const vtag = k === 'init' ? 0 : tag;
      expect(() => deliver(x.b, 10, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: vtag, chunks: [chunk] })).not.toThrow();
      const out = drain(x.b, 10);
      events(x.b);
      if (chunkTable.established[k] === 'unrecognized') {
        const type = k === 'unknown' ? 0xff : undefined;
        const action = type !== undefined ? unrecognizedChunkAction(type) : undefined;
        const reported = out.some((o) => o.packet.chunks.some((c) => c.kind === 'error' && c.causes.some((x) => x.kind === 'unrecognized-chunk-type')));
        if (action !== undefined) expect(reported).toBe(action === 'stop-and-report' || action === 'skip-and-report');
        if (k === 'pad') expect(reported).toBe(false); // 0x84: skip silently
        if (k === 'unknown') expect(only(out, 'error').causes[0]).toEqual({ kind: 'unrecognized-chunk-type', chunk: new Uint8Array([0xff, 0, 0, 8, 0, 0, 0, 0]) });
      }
      if (k === 'asconf' || k === 'asconf-ack') {
        // ADD-IP negotiated: without an AUTH before it the chunk is dropped silently and counted (RFC 4895 §6.3).
        const reported = out.some((o) => o.packet.chunks.some((c) => c.kind === 'error'));
        expect(reported).toBe(false);
        const after = x.b.snapshot(x.idB)!;
        if (after.fsm.state !== 'established') throw new Error('state');
        expect(after.fsm.tcb.auth!.counters.unauthenticated).toBe(1);
      }
    });
  }

  it('a stop-and-report chunk (0x7f) stops the packet: the DATA after it is not processed', () => {
    const x = established();
    const s = x.b.snapshot(x.idB)!;
    if (s.fsm.state !== 'established') throw new Error('state');
    const data = { ...samples.data, tsn: s.fsm.tcb.peerInitialTsn } as Chunk;
    deliver(x.b, 10, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: s.fsm.tcb.localTag, chunks: [{ kind: 'unknown', type: 0x7f, flags: 0, value: u8 }, data] });
    const out = drain(x.b, 10);
    expect(only(out, 'error').causes[0]!.kind).toBe('unrecognized-chunk-type');
    expect(events(x.b).filter((e) => e.event.type === 'message')).toEqual([]);
  });
});
