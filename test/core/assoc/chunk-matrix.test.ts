// DESIGN.md §3: every (chunk kind × state) cell has an explicit decision; this
// walks the whole matrix with real packets. For every state an association
// reaches through the public API and every chunk kind, a packet carrying that
// chunk (with the verification tag RFC 9260 §8.5 / §8.5.1 asks for) goes in,
// and what comes out is checked against the table's decision for the cell:
// 'process' against the RFC effect listed in `effects` below, 'discard' (no
// transmit, no event, no state change), 'ootb' (§8.4 / §8.5.1 E) and
// 'unrecognized' (§3.2: the upper two bits of the type).
import { describe, expect, it } from 'vitest';
import { chunkTable, type ChunkDecision } from '../../../src/core/association/chunk-table.js';
import type { Association } from '../../../src/core/association/types.js';
import type { EndpointEvent } from '../../../src/core/endpoint.js';
import { unrecognizedChunkAction } from '../../../src/wire/registry.js';
import type { Chunk, ChunkKind } from '../../../src/wire/types.js';
import { chunksOf, deliver, drain, events, hmac, hmacSha1, kinds, only, peerInit, reachState, type ReachableState, type Sent, type StateFixture } from './helpers.js';
import { associationKeyFor } from '../../../src/core/auth/keys.js';
import { macFunction } from '../../../src/core/auth/mac.js';
import { signPacket } from '../../../src/core/auth/send.js';
import { macLength } from '../../../src/core/auth/state.js';
import { writeSctpChecksum } from '../../../src/wire/checksum.js';
import { encodePacket } from '../../../src/wire/packet.js';

const STATES: readonly ReachableState[] = ['cookie-wait', 'cookie-echoed', 'established', 'shutdown-pending', 'shutdown-sent', 'shutdown-received', 'shutdown-ack-sent'];
const KINDS: readonly ChunkKind[] = [
  'data', 'init', 'init-ack', 'sack', 'heartbeat', 'heartbeat-ack', 'abort', 'shutdown', 'shutdown-ack', 'error', 'cookie-echo', 'cookie-ack', 'ecne', 'cwr',
  'shutdown-complete', 'auth', 'nr-sack', 'idata', 'asconf-ack', 're-config', 'pad', 'forward-tsn', 'asconf', 'i-forward-tsn', 'unknown',
];

const u8 = new Uint8Array([1, 2, 3, 4]);
const dec = (x: number): number => (x - 1) >>> 0;

/** The chunk of `kind` a peer of `f` would send (DATA at the next TSN, SACK acking nothing new, ...). */
function sample(kind: ChunkKind, f: StateFixture): Chunk {
  switch (kind) {
    case 'data':
      return { kind: 'data', tsn: f.peerNextTsn, streamId: 0, ssn: 0, ppid: 0, userData: u8, unordered: false, beginning: true, ending: true, immediate: false };
    case 'init':
      return peerInit(f.peerInitiateTag, f.peerNextTsn);
    case 'init-ack':
      return f.initAck ?? { kind: 'init-ack', initiateTag: f.peerInitiateTag, aRwnd: 65_535, outboundStreams: 10, inboundStreams: 10, initialTsn: f.peerNextTsn, params: [{ kind: 'state-cookie', cookie: u8 }] };
    case 'sack':
      return { kind: 'sack', cumulativeTsnAck: dec(f.localFirstUnacked), aRwnd: 65_535, gapBlocks: [], duplicateTsns: [] };
    case 'heartbeat':
      return { kind: 'heartbeat', info: u8 };
    case 'heartbeat-ack':
      return { kind: 'heartbeat-ack', info: u8 };
    case 'abort':
      return { kind: 'abort', tBit: false, causes: [] };
    case 'shutdown':
      return { kind: 'shutdown', cumulativeTsnAck: dec(f.localFirstUnacked) };
    case 'shutdown-ack':
      return { kind: 'shutdown-ack' };
    case 'error':
      return { kind: 'error', causes: [{ kind: 'out-of-resource' }] };
    case 'cookie-echo':
      return { kind: 'cookie-echo', cookie: f.cookie.cookie };
    case 'cookie-ack':
      return { kind: 'cookie-ack' };
    case 'ecne':
      return { kind: 'ecne', lowestTsn: 1 };
    case 'cwr':
      return { kind: 'cwr', lowestTsn: 1 };
    case 'shutdown-complete':
      return { kind: 'shutdown-complete', tBit: false };
    case 'auth':
      return { kind: 'auth', sharedKeyId: 0, hmacId: 1, hmac: new Uint8Array(20) };
    case 'nr-sack':
      return { kind: 'nr-sack', allNonRenegable: false, cumulativeTsnAck: 0, aRwnd: 1500, gapBlocks: [], nrGapBlocks: [], duplicateTsns: [] };
    case 'idata':
      return { kind: 'idata', tsn: f.peerNextTsn, streamId: 0, mid: 0, ppid: 0, fsn: 0, userData: u8, unordered: false, beginning: true, ending: true, immediate: false };
    case 'asconf-ack':
      return { kind: 'asconf-ack', serial: 1, params: [] };
    case 're-config':
      return { kind: 're-config', params: [{ kind: 'ssn-tsn-reset-request', requestSeq: 1 }] };
    case 'pad':
      return { kind: 'pad', length: 4 };
    case 'forward-tsn':
      return { kind: 'forward-tsn', newCumulativeTsn: f.peerNextTsn, streams: [] };
    case 'asconf':
      return { kind: 'asconf', serial: 1, address: f.peer, params: [] };
    case 'i-forward-tsn':
      return { kind: 'i-forward-tsn', newCumulativeTsn: 0, streams: [] };
    case 'unknown':
      return { kind: 'unknown', type: 0xff, flags: 0, value: u8 };
  }
}

/** What one packet did: transmits, events, the association before and after. */
interface Outcome {
  readonly out: Sent[];
  readonly ev: EndpointEvent['event'][];
  readonly before: Association;
  readonly after: Association | undefined;
}

function inject(f: StateFixture, vtag: number, chunks: Chunk[]): Outcome {
  const before = f.ep.snapshot(f.id)!;
  deliver(f.ep, f.now, f.peer, f.me, { sourcePort: f.peerPort, destinationPort: f.myPort, verificationTag: vtag, chunks });
  const out = drain(f.ep, f.now);
  const ev = events(f.ep).map((e) => e.event);
  return { out, ev, before, after: f.ep.snapshot(f.id) };
}

/** The tag RFC 9260 §8.5 asks for: 0 for INIT (§8.5.1 A), COOKIE ECHO the one in its cookie (§8.5.1 D), else ours. */
function rightTag(kind: ChunkKind, f: StateFixture): number {
  if (kind === 'init') return 0;
  if (kind === 'cookie-echo') return f.cookie.vtag;
  return f.localTag;
}

/** The association without what every packet touches (counters, last-heard time). */
function comparable(a: Association | undefined): unknown {
  const strip = (v: unknown): unknown => {
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, strip(x)]));
    if (Array.isArray(v)) return v.map(strip);
    if (v instanceof Uint8Array || v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'counters' && k !== 'lastHeardAt').map(([k, x]) => [k, strip(x)]));
  };
  return strip(a);
}

function stateOf(o: Outcome): string {
  return o.after?.fsm.state ?? 'gone';
}

function tcbOfSnap(a: Association | undefined) {
  const s = a?.fsm;
  return s && 'tcb' in s ? s.tcb : undefined;
}

function expectNothing(o: Outcome, what: string): void {
  expect(kinds(o.out), `${what}: transmit`).toEqual([]);
  expect(o.ev, `${what}: events`).toEqual([]);
  expect(comparable(o.after), `${what}: association`).toEqual(comparable(o.before));
}

function expectUnchangedState(o: Outcome): void {
  expect(stateOf(o)).toBe(o.before.fsm.state);
}

/** Every packet we sent goes to the peer with the peer's tag. */
function expectToPeer(o: Outcome, f: StateFixture, peerTag = f.peerTag): void {
  for (const s of o.out) {
    expect(s.destination).toBe(f.peer);
    expect(s.packet.verificationTag).toBe(peerTag);
  }
}

/**
 * The SACK for a packet with DATA / FORWARD TSN: now, or when the delayed-SACK
 * timer fires (§6.2: within 200 ms / every second packet).
 */
function sackSoon(o: Outcome, f: StateFixture): Extract<Chunk, { kind: 'sack' }> {
  let sacks = chunksOf(o.out, 'sack');
  if (sacks.length === 0) {
    const t = f.ep.pollTimeout();
    expect(t, 'a delayed SACK timer').toBeDefined();
    expect(t! - f.now).toBeLessThanOrEqual(500); // §6.2: "MUST NOT be delayed more than 500 ms"
    f.ep.handleTimeout(t!);
    sacks = chunksOf(drain(f.ep, t!), 'sack');
  }
  expect(sacks.length).toBe(1);
  return sacks[0]!;
}

const isEvent = (o: Outcome, type: EndpointEvent['event']['type']) => o.ev.filter((e) => e.type === type);

type Effect = (f: StateFixture) => void;

/** DATA accepted (§6.2): delivered, cumulative TSN ack advanced, SACKed. */
const dataProcessed: Effect = (f) => {
  const o = inject(f, f.localTag, [sample('data', f)]);
  expect(isEvent(o, 'message')).toHaveLength(1);
  expect(tcbOfSnap(o.after)!.tracker.cumulativeTsnAck).toBe(f.peerNextTsn);
  expectUnchangedState(o);
  expect(sackSoon(o, f).cumulativeTsnAck).toBe(f.peerNextTsn);
};

/** FORWARD TSN (RFC 3758 §3.6): the cumulative TSN ack moves to the New Cumulative TSN, SACKed. */
const forwardTsnProcessed: Effect = (f) => {
  const o = inject(f, f.localTag, [sample('forward-tsn', f)]);
  expect(tcbOfSnap(o.after)!.tracker.cumulativeTsnAck).toBe(f.peerNextTsn);
  expectUnchangedState(o);
  expect(sackSoon(o, f).cumulativeTsnAck).toBe(f.peerNextTsn);
};

/** SACK acking nothing new: counted (§6.2.1), nothing else. */
const sackCounted: Effect = (f) => {
  const o = inject(f, f.localTag, [sample('sack', f)]);
  expect(tcbOfSnap(o.after)!.counters.sacksReceived).toBe(tcbOfSnap(o.before)!.counters.sacksReceived + 1);
  expectUnchangedState(o);
  expect(kinds(o.out)).toEqual([]);
};

/** §8.3: HEARTBEAT ACK with the same Heartbeat Information, back to the source, peer's tag. */
const heartbeatAnswered: Effect = (f) => {
  const o = inject(f, f.localTag, [sample('heartbeat', f)]);
  expect(only(o.out, 'heartbeat-ack').info).toEqual(u8);
  expectToPeer(o, f);
  expectUnchangedState(o);
};

/** §8.3: a HEARTBEAT ACK whose info is not one of ours is counted and ignored (no path changes). */
const heartbeatAckIgnored: Effect = (f) => {
  const o = inject(f, f.localTag, [sample('heartbeat-ack', f)]);
  expect(tcbOfSnap(o.after)!.counters.inControlChunks).toBe(tcbOfSnap(o.before)!.counters.inControlChunks + 1);
  expectNothing(o, 'unknown heartbeat info');
};

/**
 * §5.4 / §8.3: the echo of our path-verification HEARTBEAT confirms the
 * address (reported), whatever the shutdown state; an unknown echo is ignored.
 */
const heartbeatAckConfirms: Effect = (f) => {
  heartbeatAckIgnored(f);
  const g = reachState(f.ep.snapshot(f.id)!.fsm.state as ReachableState, { multihomedPeer: true });
  const hb = g.heartbeat!;
  expect(tcbOfSnap(g.ep.snapshot(g.id))!.paths.find((p) => p.address === hb.to)!.state).toBe('unconfirmed');
  const o = inject(g, g.localTag, [{ kind: 'heartbeat-ack', info: hb.info }]);
  expect(o.ev).toEqual([expect.objectContaining({ type: 'peer-address-change', address: hb.to, state: 'SCTP_ADDR_CONFIRMED' })]);
  expect(tcbOfSnap(o.after)!.paths.find((p) => p.address === hb.to)!.state).not.toBe('unconfirmed');
  expectUnchangedState(o);
};

/** §9.1 / §8.5.1 B: ABORT with our tag (T=0) or, where we have one, the peer's (T=1): closed, reported, nothing sent. */
const aborted =
  (event: 'cannot-start' | 'communication-lost'): Effect =>
  (f) => {
    const variants: { tBit: boolean; vtag: number; accepted: boolean }[] = [
      { tBit: false, vtag: f.localTag, accepted: true },
      { tBit: false, vtag: (f.localTag + 1) >>> 0, accepted: false },
    ];
    if (f.peerTag !== undefined) variants.push({ tBit: true, vtag: f.peerTag, accepted: true }, { tBit: true, vtag: f.localTag, accepted: false });
    else variants.push({ tBit: true, vtag: f.localTag, accepted: false }); // no peer tag to reflect
    for (const v of variants) {
      const g = reachState(f.ep.snapshot(f.id)!.fsm.state as ReachableState);
      const o = inject(g, v.vtag, [{ kind: 'abort', tBit: v.tBit, causes: [] }]);
      const what = `ABORT T=${v.tBit} tag ${v.vtag === g.localTag ? 'ours' : v.vtag === g.peerTag ? 'peer' : 'other'}`;
      if (!v.accepted) {
        expectNothing(o, what);
        continue;
      }
      expect(stateOf(o), what).toBe('gone');
      expect(kinds(o.out), what).toEqual([]); // §9.1: never answer an ABORT
      const e = o.ev.find((x) => x.type === event);
      expect(e, what).toMatchObject({ reason: 'peer-abort' });
    }
  };

/** ERROR (§3.3.10): reported to the ULP, nothing else. */
const errorReported: Effect = (f) => {
  const o = inject(f, f.localTag, [sample('error', f)]);
  expect(o.ev).toEqual([{ type: 'remote-error', causes: [{ kind: 'out-of-resource' }] }]);
  expect(kinds(o.out)).toEqual([]);
  expectUnchangedState(o);
};

/** §5.2.2: an INIT for an existing association: INIT ACK with a new tag, tie-tags, the state unchanged. */
const initRestartAnswered: Effect = (f) => {
  const o = inject(f, 0, [sample('init', f)]);
  const ack = only(o.out, 'init-ack');
  expect(ack.initiateTag).not.toBe(f.localTag);
  expect(o.out[0]!.packet.verificationTag).toBe(f.peerInitiateTag); // §5.2.2: the INIT's Initiate Tag
  expect(o.ev).toEqual([]);
  expectUnchangedState(o);
  expect(tcbOfSnap(o.after)!.localTag).toBe(f.localTag);
};

/** §5.2.4 case D: a duplicate COOKIE ECHO: COOKIE ACK, nothing else changes. */
const duplicateCookieAcked: Effect = (f) => {
  const o = inject(f, f.cookie.vtag, [sample('cookie-echo', f)]);
  expect(kinds(o.out)).toEqual([['cookie-ack']]);
  expectToPeer(o, f);
  expect(o.ev).toEqual([]);
  expectUnchangedState(o);
};

/** SHUTDOWN ACK answered with SHUTDOWN COMPLETE (T=0, peer's tag), closed (§9.2). */
const shutdownAckCompletes: Effect = (f) => {
  const o = inject(f, f.localTag, [sample('shutdown-ack', f)]);
  expect(kinds(o.out)).toEqual([['shutdown-complete']]);
  expect(only(o.out, 'shutdown-complete').tBit).toBe(false);
  expectToPeer(o, f);
  expect(o.ev).toEqual([{ type: 'shutdown-complete' }]);
  expect(stateOf(o)).toBe('gone');
};

/** The expected RFC effect of every 'process' cell. */
const effects: Record<ReachableState, Partial<Record<ChunkKind, Effect>>> = {
  'cookie-wait': {
    // §5.2.1: INIT ACK with our original Initiate Tag, to the INIT's tag; state unchanged.
    init: (f) => {
      const o = inject(f, 0, [sample('init', f)]);
      expect(only(o.out, 'init-ack').initiateTag).toBe(f.localTag);
      expect(o.out[0]!.packet.verificationTag).toBe(f.peerInitiateTag);
      expect(stateOf(o)).toBe('cookie-wait');
      expect(o.ev).toEqual([]);
    },
    // §5.1 C: COOKIE ECHO with the cookie, to the peer's tag; COOKIE-ECHOED.
    'init-ack': (f) => {
      const o = inject(f, f.localTag, [sample('init-ack', f)]);
      const cookie = f.initAck!.params.flatMap((p) => (p.kind === 'state-cookie' ? [p.cookie] : []));
      expect([only(o.out, 'cookie-echo').cookie]).toEqual(cookie);
      expectToPeer(o, f, f.peerInitiateTag);
      expect(stateOf(o)).toBe('cookie-echoed');
    },
    abort: aborted('cannot-start'),
    error: errorReported,
    // §5.2.4 case B (INIT collision): COOKIE ACK, ESTABLISHED, communication up.
    'cookie-echo': (f) => {
      const o = inject(f, f.cookie.vtag, [sample('cookie-echo', f)]);
      expect(kinds(o.out)).toEqual([['cookie-ack']]);
      expectToPeer(o, f, f.peerInitiateTag);
      expect(stateOf(o)).toBe('established');
      expect(isEvent(o, 'communication-up')).toHaveLength(1);
    },
  },
  'cookie-echoed': {
    // §5.1 D: the peer is ESTABLISHED and its COOKIE ACK may be lost: DATA is accepted and SACKed.
    data: dataProcessed,
    // §5.2.1: INIT ACK with our Initiate Tag (the same parameters), no state change.
    init: (f) => {
      const o = inject(f, 0, [sample('init', f)]);
      expect(only(o.out, 'init-ack').initiateTag).toBe(f.localTag);
      expect(o.out[0]!.packet.verificationTag).toBe(f.peerInitiateTag);
      expect(stateOf(o)).toBe('cookie-echoed');
    },
    sack: sackCounted,
    heartbeat: heartbeatAnswered,
    'heartbeat-ack': heartbeatAckIgnored,
    abort: aborted('cannot-start'),
    // §3.3.10 and §5.2.6: a plain ERROR is reported; a Stale Cookie one restarts the handshake.
    error: (f) => {
      errorReported(f);
      const g = reachState('cookie-echoed');
      const o = inject(g, g.localTag, [{ kind: 'error', causes: [{ kind: 'stale-cookie', staleness: 1000 }] }]);
      expect(stateOf(o)).toBe('cookie-wait');
      const init = only(o.out, 'init');
      expect(init.params.some((p) => p.kind === 'cookie-preservative')).toBe(true);
      expect(o.out[0]!.packet.verificationTag).toBe(0);
    },
    // §5.2.4 case D: COOKIE ACK, ESTABLISHED.
    'cookie-echo': (f) => {
      const o = inject(f, f.cookie.vtag, [sample('cookie-echo', f)]);
      expect(kinds(o.out)).toEqual([['cookie-ack']]);
      expectToPeer(o, f);
      expect(stateOf(o)).toBe('established');
      expect(isEvent(o, 'communication-up')).toHaveLength(1);
    },
    // §5.1 E: ESTABLISHED, communication up.
    'cookie-ack': (f) => {
      const o = inject(f, f.localTag, [sample('cookie-ack', f)]);
      expect(stateOf(o)).toBe('established');
      expect(isEvent(o, 'communication-up')).toHaveLength(1);
    },
    'forward-tsn': forwardTsnProcessed,
  },
  established: {
    data: dataProcessed,
    init: initRestartAnswered,
    sack: sackCounted,
    heartbeat: heartbeatAnswered,
    'heartbeat-ack': heartbeatAckConfirms,
    abort: aborted('communication-lost'),
    // §9.2: SHUTDOWN-RECEIVED, reported; nothing outstanding, so SHUTDOWN ACK at once and SHUTDOWN-ACK-SENT.
    shutdown: (f) => {
      const o = inject(f, f.localTag, [sample('shutdown', f)]);
      expect(isEvent(o, 'shutdown-received')).toHaveLength(1);
      expect(kinds(o.out)).toEqual([['shutdown-ack']]);
      expectToPeer(o, f);
      expect(stateOf(o)).toBe('shutdown-ack-sent');
    },
    error: errorReported,
    // §5.2.4 case D, and case A (peer restart): COOKIE ACK, restart reported, new tags.
    'cookie-echo': (f) => {
      duplicateCookieAcked(f);
      const g = reachState('established');
      const o = inject(g, g.restartCookie!.vtag, [{ kind: 'cookie-echo', cookie: g.restartCookie!.cookie }]);
      expect(kinds(o.out)).toEqual([['cookie-ack']]);
      expect(o.out[0]!.packet.verificationTag).toBe(0x0badcafe);
      expect(isEvent(o, 'restart')).toHaveLength(1);
      expect(tcbOfSnap(o.after)!.localTag).toBe(g.restartCookie!.vtag);
    },
    'forward-tsn': forwardTsnProcessed,
  },
  'shutdown-pending': {
    data: dataProcessed, // §9.2: the peer may still send
    init: initRestartAnswered,
    // §9.2: our outstanding data acknowledged: SHUTDOWN (with the cumulative TSN ack), SHUTDOWN-SENT.
    sack: (f) => {
      const o = inject(f, f.localTag, [{ kind: 'sack', cumulativeTsnAck: f.localFirstUnacked, aRwnd: 65_535, gapBlocks: [], duplicateTsns: [] }]);
      expect(only(o.out, 'shutdown').cumulativeTsnAck).toBe(dec(f.peerNextTsn));
      expectToPeer(o, f);
      expect(stateOf(o)).toBe('shutdown-sent');
    },
    heartbeat: heartbeatAnswered,
    'heartbeat-ack': heartbeatAckConfirms,
    abort: aborted('communication-lost'),
    // §9.2: SHUTDOWN-RECEIVED; our data is still outstanding, so no SHUTDOWN ACK yet.
    shutdown: (f) => {
      const o = inject(f, f.localTag, [sample('shutdown', f)]);
      expect(isEvent(o, 'shutdown-received')).toHaveLength(1);
      expect(chunksOf(o.out, 'shutdown-ack')).toEqual([]);
      expect(stateOf(o)).toBe('shutdown-received');
    },
    error: errorReported,
    'cookie-echo': duplicateCookieAcked,
    'forward-tsn': forwardTsnProcessed,
  },
  'shutdown-sent': {
    // §9.2: DATA in SHUTDOWN-SENT is answered at once with a SHUTDOWN; T2 restarts.
    data: (f) => {
      const before = f.ep.snapshot(f.id)!.fsm;
      const o = inject(f, f.localTag, [sample('data', f)]);
      expect(isEvent(o, 'message')).toHaveLength(1);
      expect(only(o.out, 'shutdown').cumulativeTsnAck).toBe(f.peerNextTsn);
      expectToPeer(o, f);
      expect(stateOf(o)).toBe('shutdown-sent');
      const after = o.after!.fsm;
      if (before.state !== 'shutdown-sent' || after.state !== 'shutdown-sent') throw new Error('state');
      expect(after.t2.at).toBe(f.now + after.t2.rto);
      // "If a SHUTDOWN chunk by itself cannot acknowledge all of the received DATA chunks
      // (i.e., there are TSNs ... larger than the cumulative TSN ...), a SACK chunk MUST also be sent."
      const g = reachState('shutdown-sent');
      const gap = inject(g, g.localTag, [{ ...(sample('data', g) as Extract<Chunk, { kind: 'data' }>), tsn: (g.peerNextTsn + 1) >>> 0 }]);
      expect(only(gap.out, 'shutdown').cumulativeTsnAck).toBe(dec(g.peerNextTsn));
      expect(only(gap.out, 'sack').gapBlocks).toEqual([{ start: 2, end: 2 }]);
    },
    init: initRestartAnswered,
    sack: sackCounted,
    heartbeat: heartbeatAnswered,
    'heartbeat-ack': heartbeatAckConfirms,
    abort: aborted('communication-lost'),
    // §9.2 shutdown collision: SHUTDOWN ACK, SHUTDOWN-ACK-SENT.
    shutdown: (f) => {
      const o = inject(f, f.localTag, [sample('shutdown', f)]);
      expect(kinds(o.out)).toEqual([['shutdown-ack']]);
      expectToPeer(o, f);
      expect(stateOf(o)).toBe('shutdown-ack-sent');
    },
    'shutdown-ack': shutdownAckCompletes,
    error: errorReported,
    'cookie-echo': duplicateCookieAcked,
    // RFC 3758 §3.6 with §9.2: a FORWARD TSN moves the cumulative ack; answered at once with SHUTDOWN.
    'forward-tsn': (f) => {
      const o = inject(f, f.localTag, [sample('forward-tsn', f)]);
      expect(tcbOfSnap(o.after)!.tracker.cumulativeTsnAck).toBe(f.peerNextTsn);
      expect(only(o.out, 'shutdown').cumulativeTsnAck).toBe(f.peerNextTsn);
      expect(stateOf(o)).toBe('shutdown-sent');
    },
  },
  'shutdown-received': {
    init: initRestartAnswered,
    // §9.2: our outstanding data acknowledged: SHUTDOWN ACK, SHUTDOWN-ACK-SENT.
    sack: (f) => {
      const o = inject(f, f.localTag, [{ kind: 'sack', cumulativeTsnAck: f.localFirstUnacked, aRwnd: 65_535, gapBlocks: [], duplicateTsns: [] }]);
      expect(kinds(o.out)).toEqual([['shutdown-ack']]);
      expectToPeer(o, f);
      expect(stateOf(o)).toBe('shutdown-ack-sent');
    },
    heartbeat: heartbeatAnswered,
    'heartbeat-ack': heartbeatAckConfirms,
    abort: aborted('communication-lost'),
    // §9.2: a repeated SHUTDOWN's Cumulative TSN Ack acknowledges our data: SHUTDOWN ACK.
    shutdown: (f) => {
      const o = inject(f, f.localTag, [{ kind: 'shutdown', cumulativeTsnAck: f.localFirstUnacked }]);
      expect(kinds(o.out)).toEqual([['shutdown-ack']]);
      expect(stateOf(o)).toBe('shutdown-ack-sent');
    },
    error: errorReported,
    'cookie-echo': duplicateCookieAcked,
  },
  'shutdown-ack-sent': {
    // §9.2: "discard the INIT chunk and retransmit the SHUTDOWN ACK chunk".
    init: (f) => {
      const o = inject(f, 0, [sample('init', f)]);
      expect(kinds(o.out)).toEqual([['shutdown-ack']]);
      expectToPeer(o, f);
      expect(stateOf(o)).toBe('shutdown-ack-sent');
    },
    heartbeat: heartbeatAnswered,
    'heartbeat-ack': heartbeatAckConfirms,
    abort: aborted('communication-lost'),
    // §9.2: repeat the SHUTDOWN ACK.
    shutdown: (f) => {
      const o = inject(f, f.localTag, [sample('shutdown', f)]);
      expect(kinds(o.out)).toEqual([['shutdown-ack']]);
      expect(stateOf(o)).toBe('shutdown-ack-sent');
    },
    'shutdown-ack': shutdownAckCompletes, // §9.2 collision
    error: errorReported,
    // §5.2.4 A: "MUST NOT set up a new association but instead resend the SHUTDOWN ACK and
    // send an ERROR chunk with a 'Cookie Received While Shutting Down' error cause"; case D: COOKIE ACK.
    'cookie-echo': (f) => {
      const o = inject(f, f.restartCookie!.vtag, [{ kind: 'cookie-echo', cookie: f.restartCookie!.cookie }]);
      expect(kinds(o.out)).toEqual([['shutdown-ack', 'error']]);
      expect(only(o.out, 'error').causes).toEqual([{ kind: 'cookie-received-while-shutting-down' }]);
      expectToPeer(o, f);
      expect(o.ev).toEqual([]);
      expect(stateOf(o)).toBe('shutdown-ack-sent');
      duplicateCookieAcked(reachState('shutdown-ack-sent'));
    },
    // §9.2 / §8.5.1 C: SHUTDOWN COMPLETE with our tag (T=0) or the peer's (T=1): CLOSED.
    'shutdown-complete': (f) => {
      for (const [tBit, vtag] of [[false, f.localTag], [true, f.peerTag!]] as const) {
        const g = reachState('shutdown-ack-sent');
        const o = inject(g, vtag, [{ kind: 'shutdown-complete', tBit }]);
        expect(o.ev, `T=${tBit}`).toEqual([{ type: 'shutdown-complete' }]);
        expect(kinds(o.out)).toEqual([]);
        expect(stateOf(o)).toBe('gone');
      }
      const g = reachState('shutdown-ack-sent');
      expectNothing(inject(g, g.peerTag!, [{ kind: 'shutdown-complete', tBit: false }]), 'T=0 with the peer tag');
    },
  },
};

// ------------------------------------------------ AUTH, ASCONF, ASCONF-ACK (negotiated: the helpers' endpoints do AUTH and ADD-IP)

/** The packet [AUTH, ...chunks] from the peer of `f`, signed with the association's key (RFC 4895 §6.2); `corrupt` flips an HMAC bit. */
function signedPacket(f: StateFixture, chunks: Chunk[], corrupt = false): Uint8Array {
  const auth = tcbOfSnap(f.ep.snapshot(f.id))!.auth!;
  const hmacId = 3;
  const bytes = encodePacket({
    sourcePort: f.peerPort,
    destinationPort: f.myPort,
    verificationTag: f.localTag,
    chunks: [{ kind: 'auth', sharedKeyId: 0, hmacId, hmac: new Uint8Array(macLength(hmacId)!) }, ...chunks],
  }).slice();
  expect(signPacket(bytes, { hmacId, key: associationKeyFor(auth, 0)! }, macFunction(hmac, hmacSha1))).toBe(true);
  if (corrupt) {
    bytes[12 + 8] = bytes[12 + 8]! ^ 1;
    writeSctpChecksum(bytes);
  }
  return bytes;
}

function injectBytes(f: StateFixture, bytes: Uint8Array): Outcome {
  const before = f.ep.snapshot(f.id)!;
  f.ep.handlePacket(f.now, { source: f.peer, destination: f.me, bytes });
  const out = drain(f.ep, f.now);
  const ev = events(f.ep).map((e) => e.event);
  return { out, ev, before, after: f.ep.snapshot(f.id) };
}

const authCounters = (a: Association | undefined) => tcbOfSnap(a)!.auth!.counters;

/** RFC 4895 §6.3: a valid AUTH vouches for the chunks after it; a bad HMAC drops them, counted. */
const authProcessed: Effect = (f) => {
  const state = f.ep.snapshot(f.id)!.fsm.state as ReachableState;
  const o = injectBytes(f, signedPacket(f, [{ kind: 'error', causes: [{ kind: 'out-of-resource' }] }]));
  expect(o.ev).toEqual([{ type: 'remote-error', causes: [{ kind: 'out-of-resource' }] }]);
  expect(authCounters(o.after).authenticated).toBe(authCounters(o.before).authenticated + 1);
  expectUnchangedState(o);
  const g = reachState(state);
  const bad = injectBytes(g, signedPacket(g, [{ kind: 'error', causes: [{ kind: 'out-of-resource' }] }], true));
  expectNothing(bad, 'bad HMAC');
  expect(authCounters(bad.after).badHmac).toBe(authCounters(bad.before).badHmac + 1);
};

/**
 * RFC 5061 §5.2: an authenticated ASCONF with the next serial is processed
 * (Add IP Address: a new UNCONFIRMED destination, reported) and answered with
 * an authenticated ASCONF-ACK; without an AUTH it is dropped, counted.
 */
const asconfProcessed: Effect = (f) => {
  const state = f.ep.snapshot(f.id)!.fsm.state as ReachableState;
  const serial = (tcbOfSnap(f.ep.snapshot(f.id))!.asconf!.peerSerial + 1) >>> 0;
  const asconf: Chunk = { kind: 'asconf', serial, address: f.peer, params: [{ kind: 'add-ip-address', correlationId: 7, address: '10.9.9.9' }] };
  const g = reachState(state);
  const plain = inject(g, g.localTag, [asconf]);
  expectNothing(plain, 'ASCONF without AUTH');
  expect(authCounters(plain.after).unauthenticated).toBe(authCounters(plain.before).unauthenticated + 1);
  const o = injectBytes(f, signedPacket(f, [asconf]));
  expect(kinds(o.out)).toEqual([['auth', 'asconf-ack']]);
  expect(only(o.out, 'asconf-ack')).toEqual({ kind: 'asconf-ack', serial, params: [] });
  expectToPeer(o, f);
  expect(tcbOfSnap(o.after)!.paths.find((p) => p.address === '10.9.9.9')?.state).toBe('unconfirmed');
  expect(o.ev).toEqual([expect.objectContaining({ type: 'peer-address-change', address: '10.9.9.9', state: 'SCTP_ADDR_ADDED' })]);
  expectUnchangedState(o);
};

/**
 * RFC 5061 §5.1 / §5.3 F0: with no ASCONF of ours outstanding, an
 * authenticated ASCONF-ACK for a serial we never used ends the association
 * (Illegal ASCONF-ACK); a stale one is ignored; an unauthenticated one dropped.
 */
const asconfAckProcessed: Effect = (f) => {
  const state = f.ep.snapshot(f.id)!.fsm.state as ReachableState;
  const next = tcbOfSnap(f.ep.snapshot(f.id))!.asconf!.nextSerial;
  const g = reachState(state);
  const plain = inject(g, g.localTag, [{ kind: 'asconf-ack', serial: next, params: [] }]);
  expectNothing(plain, 'ASCONF-ACK without AUTH');
  const h = reachState(state);
  expectNothing(injectBytes(h, signedPacket(h, [{ kind: 'asconf-ack', serial: (next - 1) >>> 0, params: [] }])), 'stale ASCONF-ACK');
  const o = injectBytes(f, signedPacket(f, [{ kind: 'asconf-ack', serial: next, params: [] }]));
  expect(only(o.out, 'abort').causes).toEqual([{ kind: 'illegal-asconf-ack' }]);
  expect(stateOf(o)).toBe('gone');
  expect(isEvent(o, 'communication-lost')).toHaveLength(1);
};

for (const state of ['cookie-echoed', 'established', 'shutdown-pending', 'shutdown-sent', 'shutdown-received', 'shutdown-ack-sent'] as const) {
  effects[state].auth = authProcessed;
  if (state === 'cookie-echoed' || state === 'shutdown-ack-sent') continue;
  effects[state].asconf = asconfProcessed;
  effects[state]['asconf-ack'] = asconfAckProcessed;
}

/**
 * 'discard': nothing happens, whatever tag variant §8.5.1 lets through; the
 * chunks after it are still read (an ERROR after it is reported), except
 * after the chunks §6.10 says travel alone.
 */
function checkDiscard(state: ReachableState, kind: ChunkKind): void {
  const f = reachState(state);
  expectNothing(inject(f, rightTag(kind, f), [sample(kind, f)]), `${kind}, our tag`);
  if (kind !== 'init' && kind !== 'init-ack' && kind !== 'shutdown-complete') {
    const g = reachState(state);
    const o = inject(g, rightTag(kind, g), [sample(kind, g), { kind: 'error', causes: [{ kind: 'out-of-resource' }] }]);
    expect(o.ev, `${kind} then ERROR`).toEqual([{ type: 'remote-error', causes: [{ kind: 'out-of-resource' }] }]);
    expect(kinds(o.out), `${kind} then ERROR`).toEqual([]);
    expect(stateOf(o)).toBe(state);
  }
  if ((kind === 'shutdown-complete' || kind === 'abort') && f.peerTag !== undefined) {
    const g = reachState(state);
    expectNothing(inject(g, g.peerTag!, [{ kind, tBit: true, causes: [] } as Chunk]), `${kind} T=1`);
  }
}

/** 'ootb' (§8.5.1 E → §8.4 rule 5): SHUTDOWN COMPLETE, T bit set, the received tag reflected; no state change. */
function checkOotb(state: ReachableState, kind: ChunkKind): void {
  expect(kind).toBe('shutdown-ack');
  const f0 = reachState(state);
  for (const vtag of [f0.localTag, 0x12345678]) {
    const f = reachState(state);
    const o = inject(f, vtag, [sample(kind, f)]);
    expect(kinds(o.out)).toEqual([['shutdown-complete']]);
    expect(only(o.out, 'shutdown-complete').tBit).toBe(true);
    expect(o.out[0]!.packet.verificationTag).toBe(vtag);
    expect(o.out[0]!.destination).toBe(f.peer);
    expect(o.ev).toEqual([]);
    expect(comparable(o.after)).toEqual(comparable(o.before));
  }
}

/**
 * 'unrecognized' (§3.2): the chunk, then an ERROR (which every state processes:
 * a 'remote-error' event says whether the rest of the packet was read).
 * 00 stop, 01 stop and report, 10 skip, 11 skip and report. Without a TCB
 * (COOKIE-WAIT) there is no peer tag to report with.
 */
function checkUnrecognized(state: ReachableState, kind: ChunkKind): void {
  const chunks: Chunk[] = kind === 'unknown' ? [0x3f, 0x7f, 0xbf, 0xff].map((type) => ({ kind: 'unknown', type, flags: 0, value: u8 })) : [sample(kind, reachState(state))];
  for (const chunk of chunks) {
    const f = reachState(state);
    const type = chunk.kind === 'unknown' ? chunk.type : undefined;
    const o = inject(f, f.localTag, [chunk, { kind: 'error', causes: [{ kind: 'out-of-resource' }] }]);
    const action = unrecognizedChunkAction(type ?? typeOf(kind));
    const what = `${kind} (0x${(type ?? typeOf(kind)).toString(16)}, ${action})`;
    const skip = action === 'skip' || action === 'skip-and-report';
    const report = (action === 'stop-and-report' || action === 'skip-and-report') && f.peerTag !== undefined;
    expect(isEvent(o, 'remote-error'), `${what}: the rest of the packet`).toHaveLength(skip ? 1 : 0);
    const errors = chunksOf(o.out, 'error');
    if (report) {
      expect(kinds(o.out), what).toEqual([['error']]);
      expectToPeer(o, f);
      const cause = errors[0]!.causes[0]!;
      expect(cause.kind, what).toBe('unrecognized-chunk-type');
      if (cause.kind === 'unrecognized-chunk-type') expect(cause.chunk[0], what).toBe(type ?? typeOf(kind));
    } else {
      expect(kinds(o.out), what).toEqual([]);
    }
    expect(stateOf(o), what).toBe(state);
    // The same with an ABORT after it: read (the association ends) only when the bits say skip.
    const g = reachState(state);
    const o2 = inject(g, g.localTag, [chunk, { kind: 'abort', tBit: false, causes: [] }]);
    expect(stateOf(o2), `${what} then ABORT`).toBe(skip ? 'gone' : state);
  }
}

const TYPES: Partial<Record<ChunkKind, number>> = { ecne: 12, cwr: 13, auth: 15, 'nr-sack': 16, idata: 0x40, 'asconf-ack': 0x80, 're-config': 0x82, pad: 0x84, asconf: 0xc1, 'i-forward-tsn': 0xc2 };
function typeOf(kind: ChunkKind): number {
  const t = TYPES[kind];
  if (t === undefined) throw new Error(`type of ${kind}`);
  return t;
}

describe('chunk × state matrix, walked with packets', () => {
  it('covers every reachable state and every chunk kind; every process cell has an expected effect', () => {
    expect([...STATES].sort()).toEqual(Object.keys(chunkTable).sort());
    for (const s of STATES) {
      expect([...KINDS].sort()).toEqual(Object.keys(chunkTable[s]).sort());
      for (const k of KINDS) expect(effects[s][k] !== undefined, `${s} × ${k}`).toBe(chunkTable[s][k] === 'process');
    }
  });

  for (const state of STATES) {
    describe(state, () => {
      for (const kind of KINDS) {
        const decision: ChunkDecision = chunkTable[state][kind];
        it(`${state} × ${kind}: ${decision}`, () => {
          switch (decision) {
            case 'process': {
              const effect = effects[state][kind];
              if (!effect) throw new Error(`no expected effect for ${state} × ${kind}`);
              effect(reachState(state));
              return;
            }
            case 'discard':
              checkDiscard(state, kind);
              return;
            case 'ootb':
              checkOotb(state, kind);
              return;
            case 'unrecognized':
              checkUnrecognized(state, kind);
              return;
          }
        });
      }
    });
  }

  // §8.5.1 B / C: a reflected tag (T bit) vouches for the ABORT / SHUTDOWN COMPLETE alone.
  it('a DATA bundled with a T-bit SHUTDOWN COMPLETE under the peer tag is not read', () => {
    const f = reachState('established');
    const o = inject(f, f.peerTag!, [sample('data', f), { kind: 'shutdown-complete', tBit: true }]);
    expectNothing(o, 'DATA + SHUTDOWN COMPLETE (T)');
  });

  it('with our tag the chunks before an ABORT are read first (DATA delivered, then the loss)', () => {
    const f = reachState('established');
    const o = inject(f, f.localTag, [sample('data', f), { kind: 'abort', tBit: false, causes: [] }]);
    expect(o.ev.map((e) => e.type)).toEqual(['message', 'communication-lost']);
    expect(stateOf(o)).toBe('gone');
  });
});
