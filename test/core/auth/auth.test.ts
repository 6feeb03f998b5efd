// RFC 4895 AUTH, packet in / packet out: negotiation in INIT / INIT ACK (§3,
// §6.1), the association shared key (§6.1), AUTH placement (§6.2) and
// verification (§6.3), the COOKIE ECHO bundled case, and the AUTH state in
// snapshots.
import { describe, expect, it } from 'vitest';
import { associationKey, associationKeyFor, compareKeyVectors } from '../../../src/core/auth/keys.js';
import { keyVector, parseKeyVector } from '../../../src/core/auth/params.js';
import { signPacket } from '../../../src/core/auth/send.js';
import { createEndpoint } from '../../../src/core/endpoint.js';
import { SeededRng } from '../../../src/core/env.js';
import { ChunkType } from '../../../src/wire/registry.js';
import { encodePacket } from '../../../src/wire/packet.js';
import type { Chunk, InitChunk, Param } from '../../../src/wire/types.js';
import {
  A,
  A2,
  B,
  PORT_A,
  PORT_B,
  Pair,
  chunksOf,
  deliver,
  drain,
  endpoint,
  established,
  events,
  forward,
  hmac,
  kinds,
  messages,
  only,
  text,
  type Sent,
} from '../assoc/helpers.js';
import { mac, signedPacket, tcbOf } from './helpers.js';

const fromA = { source: PORT_A, destination: PORT_B };
const asconfAdd = (serial: number, address = A2): Chunk => ({ kind: 'asconf', serial, address: A, params: [{ kind: 'add-ip-address', correlationId: 1, address }] });
const nextPeerSerial = (ep: ReturnType<typeof endpoint>, id: number): number => (tcbOf(ep, id).asconf!.peerSerial + 1) >>> 0;

function paramsOf(c: Chunk): readonly Param[] {
  return c.kind === 'init' || c.kind === 'init-ack' ? c.params : [];
}

describe('RFC 4895 negotiation in INIT / INIT ACK', () => {
  it('both sides send RANDOM (32 bytes), CHUNK LIST (ASCONF, ASCONF-ACK), HMAC-ALGO (SHA-256, SHA-1) and Supported Extensions', () => {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    const init = only(drain(a, 0), 'init');
    forward(b, 0, [{ source: A, destination: B, packet: { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 0, chunks: [init], checksum: 0, checksumStatus: 'crc32c' } }]);
    const ack = only(drain(b, 0), 'init-ack');
    for (const c of [init, ack]) {
      const p = paramsOf(c);
      const random = p.find((x) => x.kind === 'random');
      expect(random?.kind === 'random' && random.random.length).toBe(32);
      expect(p.find((x) => x.kind === 'chunk-list')).toEqual({ kind: 'chunk-list', chunkTypes: [ChunkType.ASCONF_ACK, ChunkType.ASCONF] });
      expect(p.find((x) => x.kind === 'hmac-algo')).toEqual({ kind: 'hmac-algo', hmacIds: [3, 1] });
      expect(p.find((x) => x.kind === 'supported-extensions')).toEqual({ kind: 'supported-extensions', chunkTypes: [0xc0, 0x0f, 0xc1, 0x80] });
    }
  });

  it('each side keeps both key vectors: ours as sent, the peer as received; SHA-256 is chosen (first of the peer list)', () => {
    const x = established();
    const ta = tcbOf(x.a, x.idA).auth!;
    const tb = tcbOf(x.b, x.idB).auth!;
    expect(ta.localKeyVector).toEqual(tb.peerKeyVector);
    expect(ta.peerKeyVector).toEqual(tb.localKeyVector);
    expect(ta.hmacId).toBe(3);
    expect(tb.hmacId).toBe(3);
    expect(parseKeyVector(ta.localKeyVector)).toMatchObject({ chunkTypes: [0x80, 0xc1], hmacIds: [3, 1] });
    expect(associationKeyFor(ta, 0)).toEqual(associationKeyFor(tb, 0));
    expect(tcbOf(x.a, x.idA).asconf).toBeDefined();
  });

  it('"The receiver of an HMAC-ALGO parameter SHOULD use the first listed algorithm it supports" (§3.3): a peer listing only SHA-1', () => {
    const y = (() => {
      const a = endpoint([A], PORT_A, 1, { hmacIdentifiers: [1] });
      const b = endpoint([B], PORT_B, 2);
      const pair = new Pair(a, b);
      a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
      pair.pump(0);
      return { a, b, idA: pair.evA.find((e) => e.event.type === 'communication-up')!.assocId, idB: pair.evB.find((e) => e.event.type === 'communication-up')!.assocId, pair };
    })();
    expect(tcbOf(y.a, y.idA).auth!.hmacId).toBe(1);
    expect(tcbOf(y.b, y.idB).auth!.hmacId).toBe(1); // the peer's list is [1]
    // ASCONF then travels with a 20-byte HMAC-SHA1, and B (which offered both) accepts it.
    y.a.addLocalAddress(10, A2, y.idA);
    y.pair.pump(10);
    const auth = chunksOf(y.pair.log.filter((l) => l.from === 'a').map((l) => l.sent), 'auth');
    expect(auth).toHaveLength(1);
    expect(auth[0]).toMatchObject({ hmacId: 1, sharedKeyId: 0 });
    expect(auth[0]!.hmac).toHaveLength(20);
    expect(y.pair.evA.map((e) => e.event.type)).toContain('asconf');
    expect(tcbOf(y.b, y.idB).auth!.counters.authenticated).toBe(1);
  });

  it('no AUTH without HMAC-SHA1 (§3.3) or with auth off: no RANDOM / CHUNK LIST / HMAC-ALGO, no ADD-IP', () => {
    const noSha1 = createEndpoint({ localAddresses: [A], port: PORT_A, rng: new SeededRng(1), hmac, now: 0 });
    const b = endpoint([B], PORT_B, 2);
    const pair = new Pair(noSha1, b);
    noSha1.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    pair.pump(0);
    const init = chunksOf(pair.log.map((l) => l.sent), 'init')[0]!;
    expect(init.params.map((p) => p.kind)).not.toContain('random');
    const idB = pair.evB.find((e) => e.event.type === 'communication-up')!.assocId;
    const idA = pair.evA.find((e) => e.event.type === 'communication-up')!.assocId;
    expect(tcbOf(b, idB).auth).toBeUndefined();
    expect(tcbOf(b, idB).asconf).toBeUndefined();
    expect(noSha1.addLocalAddress(1, A2, idA)).toEqual({ ok: false, error: 'not-negotiated' });
    const off = established({ auth: false });
    expect(tcbOf(off.a, off.idA).auth).toBeUndefined();
    expect(tcbOf(off.b, off.idB).asconf).toBeUndefined();
  });

  it('a RANDOM that is not 32 bytes, or an HMAC-ALGO without SHA-1, aborts the association (§6.1: Protocol Violation)', () => {
    for (const bad of [
      [{ kind: 'random', random: new Uint8Array(16) }, { kind: 'hmac-algo', hmacIds: [3, 1] }],
      [{ kind: 'random', random: new Uint8Array(32) }, { kind: 'hmac-algo', hmacIds: [3] }],
    ] as Param[][]) {
      const b = endpoint([B], PORT_B, 2);
      const init: InitChunk = { kind: 'init', initiateTag: 0x1234, aRwnd: 65_535, outboundStreams: 1, inboundStreams: 1, initialTsn: 1, params: bad };
      deliver(b, 0, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 0, chunks: [init] });
      const abort = only(drain(b, 0), 'abort');
      expect(abort.causes[0]!.kind).toBe('protocol-violation');
    }
  });

  it('a CHUNK LIST naming INIT, INIT ACK, SHUTDOWN COMPLETE or AUTH: those are ignored (§3.2)', () => {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    const init = only(drain(a, 0), 'init');
    const forged: InitChunk = { ...init, params: init.params.map((p) => (p.kind === 'chunk-list' ? { kind: 'chunk-list', chunkTypes: [1, 2, 14, 15, 0xc1, 0x80] } : p)) };
    deliver(b, 0, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 0, chunks: [forged] });
    const ack = only(drain(b, 0), 'init-ack');
    const cookie = ack.params.find((p) => p.kind === 'state-cookie')!;
    deliver(b, 1, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: ack.initiateTag, chunks: [{ kind: 'cookie-echo', cookie: cookie.kind === 'state-cookie' ? cookie.cookie : new Uint8Array() }] });
    drain(b, 1);
    const idB = events(b).find((e) => e.event.type === 'communication-up')!.assocId;
    expect(tcbOf(b, idB).auth!.peerChunks).toEqual([0xc1, 0x80]);
  });
});

describe('the association shared key (RFC 4895 §6.1)', () => {
  const v = (...b: number[]): Uint8Array => new Uint8Array(b);
  it('key vectors compare as unsigned numbers, then by length', () => {
    expect(compareKeyVectors(v(1, 2), v(1, 3))).toBeLessThan(0);
    expect(compareKeyVectors(v(2), v(1, 0))).toBeLessThan(0); // 2 < 256
    expect(compareKeyVectors(v(0, 5), v(5))).toBeGreaterThan(0); // equal as numbers: the shorter first
    expect(compareKeyVectors(v(7, 7), v(7, 7))).toBe(0);
  });

  it('is the endpoint pair shared key, then the smaller key vector, then the larger one, whichever side computes it', () => {
    const small = v(0x80, 0x02, 0, 5, 1);
    const big = v(0x80, 0x02, 0, 5, 9);
    const shared = v(0xaa, 0xbb);
    expect(associationKey(shared, small, big)).toEqual(v(0xaa, 0xbb, 0x80, 2, 0, 5, 1, 0x80, 2, 0, 5, 9));
    expect(associationKey(shared, big, small)).toEqual(associationKey(shared, small, big));
    // The negotiated vectors round-trip (type, length, value, unpadded).
    const x = established();
    const t = tcbOf(x.a, x.idA).auth!;
    const parsed = parseKeyVector(t.localKeyVector)!;
    expect(keyVector([{ kind: 'hmac-algo', hmacIds: [3, 1] }, { kind: 'random', random: parsed.random }, { kind: 'chunk-list', chunkTypes: [0x80, 0xc1] }])).toEqual(t.localKeyVector);
    expect(t.localKeyVector).toHaveLength(36 + 6 + 8);
  });

  it('configured endpoint pair shared keys (key 1 on both sides): ADD-IP works; a different key on one side: every AUTH fails', () => {
    const key = new TextEncoder().encode('cluster secret');
    const cfg = { sharedKeys: [{ id: 1, key }], activeKeyId: 1 };
    const ok = established(cfg);
    ok.a.addLocalAddress(10, A2, ok.idA);
    ok.pair.pump(10);
    expect(chunksOf(ok.pair.log.map((l) => l.sent), 'auth').map((c) => c.sharedKeyId)).toEqual([1, 1]);
    expect(ok.pair.evA.filter((e) => e.event.type === 'asconf').map((e) => e.event.type === 'asconf' && e.event.result)).toEqual(['success']);

    const a = endpoint([A], PORT_A, 1, cfg);
    const b = endpoint([B], PORT_B, 2, { sharedKeys: [{ id: 1, key: new TextEncoder().encode('another secret') }], activeKeyId: 1 });
    const pair = new Pair(a, b);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    pair.pump(0);
    const idA = pair.evA.find((e) => e.event.type === 'communication-up')!.assocId;
    const idB = pair.evB.find((e) => e.event.type === 'communication-up')!.assocId;
    a.addLocalAddress(10, A2, idA);
    pair.pump(10);
    expect(tcbOf(b, idB).auth!.counters.badHmac).toBe(1);
    expect(chunksOf(pair.log.map((l) => l.sent), 'asconf-ack')).toEqual([]);
    expect(tcbOf(b, idB).paths.map((p) => p.address)).toEqual([A]);
  });
});

describe('sending authenticated chunks (RFC 4895 §6.2)', () => {
  it('a peer that lists DATA gets an AUTH first in every packet with DATA, the packet within the MTU; SACK-only packets go without', () => {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2, { authChunks: [ChunkType.DATA] });
    const pair = new Pair(a, b);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    pair.pump(0);
    const idA = pair.evA.find((e) => e.event.type === 'communication-up')!.assocId;
    expect(tcbOf(a, idA).auth!.reserve).toBe(40);
    const big = new Uint8Array(5000).fill(7);
    a.send(1, idA, big, { streamId: 0, ppid: 0 });
    pair.pump(1);
    const fromA = pair.log.filter((l) => l.from === 'a' && l.sent.packet.chunks.some((c) => c.kind === 'data'));
    expect(fromA.length).toBeGreaterThan(1);
    for (const l of fromA) {
      const k = l.sent.packet.chunks.map((c) => c.kind);
      // Right before the first DATA: a SACK bundled ahead of it is not covered.
      expect(k.indexOf('auth')).toBe(k.indexOf('data') - 1);
      expect(encodePacket(l.sent.packet).length).toBeLessThanOrEqual(1500 - 20);
    }
    const fromB = pair.log.filter((l) => l.from === 'b' && l.sent.packet.chunks.every((c) => c.kind === 'sack'));
    expect(fromB.length).toBeGreaterThan(0);
    expect(pair.evB.filter((e) => e.event.type === 'message').map((e) => e.event.type === 'message' && e.event.data.length)).toEqual([5000]);
  });

  it('never before a COOKIE ECHO: the COOKIE ECHO first, then the AUTH (§6.2)', () => {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2, { authChunks: [ChunkType.ERROR] });
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    forward(b, 0, drain(a, 0));
    const initAck = drain(b, 0);
    // An INIT ACK parameter A does not know makes A bundle an ERROR (which B wants authenticated) after the COOKIE ECHO.
    const ack = only(initAck, 'init-ack');
    const withUnknown = { ...initAck[0]!, packet: { ...initAck[0]!.packet, chunks: [{ ...ack, params: [...ack.params, { kind: 'unknown' as const, type: 0xc00f, value: new Uint8Array(4) }] }] } };
    forward(a, 0, [withUnknown]);
    const echo = drain(a, 0);
    expect(kinds(echo)).toEqual([['cookie-echo', 'auth', 'error']]);
    forward(b, 0, echo);
    const up = events(b).find((e) => e.event.type === 'communication-up')!;
    expect(tcbOf(b, up.assocId).auth!.counters.authenticated).toBe(1);
  });
});

describe('receiving authenticated chunks (RFC 4895 §6.3)', () => {
  it('a bad HMAC: the AUTH and every chunk after it are dropped, counted; nothing answered', () => {
    const x = established();
    const bytes = signedPacket(x.b, x.idB, fromA, [], [asconfAdd(nextPeerSerial(x.b, x.idB))], { corrupt: true });
    x.b.handlePacket(10, { source: A, destination: B, bytes });
    expect(drain(x.b, 10)).toEqual([]);
    expect(tcbOf(x.b, x.idB).auth!.counters.badHmac).toBe(1);
    expect(tcbOf(x.b, x.idB).paths.map((p) => p.address)).toEqual([A]);
  });

  it('the chunks before the AUTH are not covered and are processed; those after a good AUTH are', () => {
    const x = established();
    const t = tcbOf(x.b, x.idB);
    const data: Chunk = { kind: 'data', tsn: t.peerInitialTsn, streamId: 0, ssn: 0, ppid: 0, userData: text('before'), unordered: false, beginning: true, ending: true, immediate: false };
    const bytes = signedPacket(x.b, x.idB, fromA, [data], [asconfAdd(nextPeerSerial(x.b, x.idB))], { corrupt: true });
    x.b.handlePacket(10, { source: A, destination: B, bytes });
    expect(messages(events(x.b))).toEqual([{ streamId: 0, data: 'before', unordered: false }]);
    expect(chunksOf(drain(x.b, 10), 'asconf-ack')).toEqual([]);
  });

  it('an HMAC Identifier we did not offer: ERROR with Unsupported HMAC Identifier, the rest dropped', () => {
    for (const [config, hmacId] of [[{}, 2], [{ hmacIdentifiers: [1] }, 3]] as const) {
      const x = established(config);
      const bytes = signedPacket(x.b, x.idB, fromA, [], [asconfAdd(nextPeerSerial(x.b, x.idB))], { hmacId, hmacLength: 32 });
      x.b.handlePacket(10, { source: A, destination: B, bytes });
      const out = drain(x.b, 10);
      expect(kinds(out)).toEqual([['error']]);
      expect(only(out, 'error').causes).toEqual([{ kind: 'unsupported-hmac-identifier', hmacId }]);
      expect(out[0]!.destination).toBe(A);
      expect(tcbOf(x.b, x.idB).auth!.counters.unsupportedHmac).toBe(1);
      expect(tcbOf(x.b, x.idB).paths).toHaveLength(1);
    }
  });

  it('a Shared Key Identifier we do not have: dropped silently, counted', () => {
    const x = established();
    const bytes = signedPacket(x.b, x.idB, fromA, [], [asconfAdd(nextPeerSerial(x.b, x.idB))], { keyId: 9, key: new Uint8Array(0) });
    x.b.handlePacket(10, { source: A, destination: B, bytes });
    expect(drain(x.b, 10)).toEqual([]);
    expect(tcbOf(x.b, x.idB).auth!.counters.unknownKey).toBe(1);
  });

  it('an HMAC of the wrong length for its identifier: dropped as a bad HMAC', () => {
    const x = established();
    const bytes = signedPacket(x.b, x.idB, fromA, [], [asconfAdd(nextPeerSerial(x.b, x.idB))], { hmacId: 3, hmacLength: 20 });
    x.b.handlePacket(10, { source: A, destination: B, bytes });
    expect(drain(x.b, 10)).toEqual([]);
    expect(tcbOf(x.b, x.idB).auth!.counters.badHmac).toBe(1);
  });

  it('a chunk of our CHUNK LIST without an AUTH before it is dropped and counted; the others are processed', () => {
    const x = established({ authChunks: [ChunkType.DATA] });
    const t = tcbOf(x.b, x.idB);
    const data: Chunk = { kind: 'data', tsn: t.peerInitialTsn, streamId: 0, ssn: 0, ppid: 0, userData: text('x'), unordered: false, beginning: true, ending: true, immediate: false };
    deliver(x.b, 10, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: t.localTag, chunks: [data, { kind: 'error', causes: [{ kind: 'out-of-resource' }] }] });
    expect(events(x.b).map((e) => e.event.type)).toEqual(['remote-error']);
    expect(tcbOf(x.b, x.idB).auth!.counters.unauthenticated).toBe(1);
    expect(tcbOf(x.b, x.idB).tracker.cumulativeTsnAck).toBe((t.peerInitialTsn - 1) >>> 0);
    // With a valid AUTH the same DATA is delivered.
    x.b.handlePacket(11, { source: A, destination: B, bytes: signedPacket(x.b, x.idB, fromA, [], [data]) });
    expect(messages(events(x.b))).toEqual([{ streamId: 0, data: 'x', unordered: false }]);
  });

  it('AUTH bundled after a COOKIE ECHO is verified with the keys from the cookie (§6.3); a bad one drops the DATA, not the association', () => {
    for (const corrupt of [false, true]) {
      const a = endpoint([A], PORT_A, 1);
      const b = endpoint([B], PORT_B, 2, { authChunks: [ChunkType.DATA] });
      a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
      const initSent = drain(a, 0);
      const init = only(initSent, 'init');
      forward(b, 0, initSent);
      const ack = only(drain(b, 0), 'init-ack');
      const cookie = ack.params.find((p) => p.kind === 'state-cookie');
      const key = associationKey(new Uint8Array(0), keyVector(init.params), keyVector(ack.params));
      const data: Chunk = { kind: 'data', tsn: init.initialTsn, streamId: 0, ssn: 0, ppid: 0, userData: text('early'), unordered: false, beginning: true, ending: true, immediate: false };
      const bytes = encodePacket({
        sourcePort: PORT_A,
        destinationPort: PORT_B,
        verificationTag: ack.initiateTag,
        chunks: [{ kind: 'cookie-echo', cookie: cookie?.kind === 'state-cookie' ? cookie.cookie : new Uint8Array() }, { kind: 'auth', sharedKeyId: 0, hmacId: 3, hmac: new Uint8Array(32) }, data],
      }).slice();
      expect(signPacket(bytes, { hmacId: 3, key: corrupt ? new Uint8Array([1]) : key }, mac)).toBe(true);
      b.handlePacket(1, { source: A, destination: B, bytes });
      const ev = events(b);
      expect(ev.map((e) => e.event.type)).toEqual(corrupt ? ['communication-up'] : ['communication-up', 'message']);
      const out: Sent[] = drain(b, 1);
      expect(kinds(out)[0]![0]).toBe('cookie-ack');
    }
  });

  it('out of the blue: the AUTH chunk is not taken into account (§6.3): [AUTH, DATA] gets an ABORT, [AUTH] alone nothing', () => {
    const b = endpoint([B], PORT_B, 2);
    const auth: Chunk = { kind: 'auth', sharedKeyId: 0, hmacId: 3, hmac: new Uint8Array(32) };
    const data: Chunk = { kind: 'data', tsn: 1, streamId: 0, ssn: 0, ppid: 0, userData: text('x'), unordered: false, beginning: true, ending: true, immediate: false };
    deliver(b, 0, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 77, chunks: [auth, data] });
    const abort = only(drain(b, 0), 'abort');
    expect(abort.tBit).toBe(true);
    deliver(b, 0, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 77, chunks: [auth] });
    expect(drain(b, 0)).toEqual([]);
  });

  it('an AUTH on an association that did not negotiate AUTH is an unknown chunk (type 0x0F: stop, no report)', () => {
    const x = established({ auth: false });
    const t = tcbOf(x.b, x.idB);
    deliver(x.b, 10, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: t.localTag, chunks: [{ kind: 'auth', sharedKeyId: 0, hmacId: 1, hmac: new Uint8Array(20) }, { kind: 'error', causes: [{ kind: 'out-of-resource' }] }] });
    expect(drain(x.b, 10)).toEqual([]);
    expect(events(x.b)).toEqual([]);
  });
});

describe('the AUTH state lives in the TCB', () => {
  it('survives snapshot / restore: the restored association signs and verifies as before', () => {
    const x = established();
    const snap = x.a.snapshot(x.idA)!;
    const a2 = endpoint([A], PORT_A, 11);
    expect(a2.restore(snap)).toBe(true);
    const pair = new Pair(a2, x.b);
    expect(a2.addLocalAddress(10, A2, x.idA)).toEqual({ ok: true, associations: [x.idA] });
    pair.pump(10);
    expect(pair.evA.filter((e) => e.event.type === 'asconf').map((e) => e.event.type === 'asconf' && e.event.result)).toEqual(['success']);
    expect(tcbOf(x.b, x.idB).paths.map((p) => p.address)).toEqual([A, A2]);
    expect(tcbOf(a2, x.idA).auth!.counters.authenticated).toBe(1);
  });
});
