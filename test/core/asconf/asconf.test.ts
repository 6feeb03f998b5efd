// RFC 5061 ADD-IP, packet in / packet out: our ASCONF requests (§5.1: serial
// numbers, one outstanding, T-4 RTO), the peer's (§5.2: serial checks,
// parameters in order, the cached ASCONF-ACK), the address rules of §5.3 and
// §4.2, and what the ULP sees. Both endpoints negotiate AUTH and ADD-IP (the
// helpers give them HMAC-SHA1); ASCONF always travels after an AUTH chunk.
import { describe, expect, it } from 'vitest';
import { summarize } from '../../../src/core/association/snapshot.js';
import type { Endpoint } from '../../../src/core/endpoint.js';
import type { Chunk, ErrorCause, Param } from '../../../src/wire/types.js';
import { A, A2, B, B2, PORT_A, PORT_B, Pair, chunksOf, deliver, drain, endpoint, established, events, kinds, only, text, type Sent } from '../assoc/helpers.js';
import { signedPacket, tcbOf } from '../auth/helpers.js';

const A3 = '10.2.0.1';
const fromA = { source: PORT_A, destination: PORT_B };

function asconfEvents(ev: Pair['evA']): { kind: string; address: string; result: string; causes: readonly ErrorCause[] }[] {
  return ev.flatMap((e) => (e.event.type === 'asconf' ? [{ kind: e.event.request.kind, address: e.event.request.address, result: e.event.result, causes: e.event.causes }] : []));
}

function sentBy(pair: Pair, who: 'a' | 'b'): Sent[] {
  return pair.log.filter((l) => l.from === who).map((l) => l.sent);
}

/** An authenticated ASCONF from A to B with the next serial B expects (or `serial`). */
function peerAsconf(x: ReturnType<typeof established>, params: Param[], o: { serial?: number; address?: string } = {}): { bytes: Uint8Array; serial: number } {
  const serial = o.serial ?? (tcbOf(x.b, x.idB).asconf!.peerSerial + 1) >>> 0;
  return { bytes: signedPacket(x.b, x.idB, fromA, [], [{ kind: 'asconf', serial, address: o.address ?? A, params }]), serial };
}

function send(ep: Endpoint, source: string, bytes: Uint8Array, now = 10): Sent[] {
  ep.handlePacket(now, { source, destination: B, bytes });
  return drain(ep, now);
}

describe('our ASCONF (RFC 5061 §5.1)', () => {
  it('Add IP Address: an authenticated ASCONF with serial = our Initial TSN; acknowledged, the address becomes a source; the peer probes it', () => {
    const x = established();
    x.pair.log.length = 0;
    x.pair.evA.length = 0;
    x.pair.evB.length = 0;
    const tsn0 = tcbOf(x.a, x.idA).localInitialTsn;
    expect(x.a.addLocalAddress(10, A2, x.idA)).toEqual({ ok: true, associations: [x.idA] });
    // §5.3: not a source address before the ASCONF-ACK.
    expect(x.a.snapshot(x.idA)!.localAddresses).toEqual([A]);
    x.pair.pump(10);
    const [asconfPacket] = sentBy(x.pair, 'a');
    expect(kinds([asconfPacket!])).toEqual([['auth', 'asconf']]);
    expect(only([asconfPacket!], 'asconf')).toEqual({ kind: 'asconf', serial: tsn0, address: A, params: [{ kind: 'add-ip-address', correlationId: 1, address: A2 }] });
    expect(kinds(sentBy(x.pair, 'b'))).toEqual([['auth', 'asconf-ack']]);
    expect(asconfEvents(x.pair.evA)).toEqual([{ kind: 'add-ip-address', address: A2, result: 'success', causes: [] }]);
    expect(x.a.snapshot(x.idA)!.localAddresses).toEqual([A, A2]);
    expect(x.pair.evB.map((e) => e.event)).toEqual([expect.objectContaining({ type: 'peer-address-change', address: A2, state: 'SCTP_ADDR_ADDED' })]);
    // RFC 9260 §5.4: the new destination is UNCONFIRMED until a HEARTBEAT to it is answered.
    expect(tcbOf(x.b, x.idB).paths.find((p) => p.address === A2)!.state).toBe('unconfirmed');
    x.pair.runTo(10, 20);
    expect(chunksOf(sentBy(x.pair, 'b'), 'heartbeat')).toHaveLength(1);
    expect(tcbOf(x.b, x.idB).paths.find((p) => p.address === A2)!.state).toBe('active');
  });

  it('one ASCONF outstanding (§5.1.1 R1): later requests wait, then go together with the next serial number', () => {
    const x = established();
    const drop = new Set<string>();
    x.pair.drop = (s, from) => from === 'b' && drop.has('ack') && s.packet.chunks.some((c) => c.kind === 'asconf-ack');
    drop.add('ack');
    x.a.addLocalAddress(10, A2, x.idA);
    x.a.addLocalAddress(10, A3, x.idA);
    x.a.requestPeerPrimary(10, x.idA, A3);
    x.pair.pump(10);
    const first = chunksOf(sentBy(x.pair, 'a'), 'asconf');
    expect(first).toHaveLength(1);
    expect(first[0]!.params.map((p) => p.kind)).toEqual(['add-ip-address']);
    expect(summarize(x.a.snapshot(x.idA)!).extensions!.asconf).toMatchObject({
      pending: { serial: first[0]!.serial, requests: [{ kind: 'add-ip-address', address: A2 }], retransmits: 0 },
      queued: [{ kind: 'add-ip-address', address: A3 }, { kind: 'set-primary-address', address: A3 }],
      addingLocal: [A2, A3],
    });
    drop.clear();
    x.pair.runTo(10, 1100); // T-4 retransmits; its ASCONF-ACK gets through; the next ASCONF follows
    const all = chunksOf(sentBy(x.pair, 'a'), 'asconf');
    expect(all.map((c) => c.serial)).toEqual([first[0]!.serial, first[0]!.serial, (first[0]!.serial + 1) >>> 0]);
    expect(all[2]!.params.map((p) => [p.kind, 'address' in p ? p.address : ''])).toEqual([
      ['add-ip-address', A3],
      ['set-primary-address', A3],
    ]);
    expect(asconfEvents(x.pair.evA).map((e) => `${e.kind} ${e.address} ${e.result}`)).toEqual([
      `add-ip-address ${A2} success`,
      `add-ip-address ${A3} success`,
      `set-primary-address ${A3} success`,
    ]);
  });

  it('T-4 RTO (§5.1 B1-B5): the same ASCONF again, RTO doubled, error counters up; the ASCONF-ACK clears them (A5)', () => {
    const x = established();
    let dropping = true;
    x.pair.drop = (s, from) => dropping && from === 'b' && s.packet.chunks.some((c) => c.kind === 'asconf-ack');
    x.a.addLocalAddress(10, A2, x.idA);
    x.pair.pump(10);
    const rto = tcbOf(x.a, x.idA).paths[0]!.rto;
    expect(tcbOf(x.a, x.idA).asconf!.outstanding!.t4At).toBe(10 + rto);
    x.pair.runTo(10, 10 + rto);
    const sent = chunksOf(sentBy(x.pair, 'a'), 'asconf');
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]); // B4: "it MUST be the same (including its Sequence Number)"
    const t = tcbOf(x.a, x.idA);
    expect(t.errorCount).toBe(1); // B2
    expect(t.paths[0]!.errorCount).toBe(1); // B1
    expect(t.paths[0]!.rto).toBe(2 * rto); // B3
    expect(t.asconf!.outstanding!.t4At).toBe(10 + rto + 2 * rto); // B5
    expect(t.asconf!.counters.retransmitted).toBe(1);
    // B's replay cache answers the retransmission (§5.2 C3); this one gets through.
    dropping = false;
    x.pair.runTo(10 + rto, 10 + 3 * rto);
    expect(asconfEvents(x.pair.evA).map((e) => e.result)).toEqual(['success']);
    expect(tcbOf(x.a, x.idA).errorCount).toBe(0);
    expect(tcbOf(x.a, x.idA).paths[0]!.errorCount).toBe(0);
    expect(tcbOf(x.b, x.idB).asconf!.counters).toMatchObject({ received: 1, replayed: 2 });
  });

  it('T-4 expiries count against Association.Max.Retrans (§5.1 B2, RFC 9260 §8.1): the association ends', () => {
    const x = established({ associationMaxRetrans: 2 });
    x.pair.drop = (s, from) => from === 'b' && s.packet.chunks.some((c) => c.kind === 'asconf-ack');
    x.a.addLocalAddress(10, A2, x.idA);
    x.pair.pump(10);
    x.pair.runTo(10, 60_000);
    expect(chunksOf(sentBy(x.pair, 'a'), 'asconf')).toHaveLength(3);
    expect(x.pair.evA.map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'communication-lost', reason: 'max-retransmits' }));
    expect(x.a.snapshot(x.idA)).toBeUndefined();
  });

  it('Delete IP Address: no source at once, still received on until acknowledged (§5.3); the peer moves its data off it', () => {
    const x = established({}, { a: [A] });
    x.a.addLocalAddress(10, A2, x.idA);
    x.pair.pump(10);
    x.pair.runTo(10, 50); // B confirms A2
    // Outstanding DATA from B to A when A deletes A: retransmitted to A2.
    x.pair.drop = (s, from) => from === 'b' && s.packet.chunks.some((c) => c.kind === 'data');
    x.b.send(60, x.idB, text('in flight'), { streamId: 0, ppid: 0 });
    x.pair.pump(60);
    x.pair.drop = () => false;
    expect(x.a.removeLocalAddress(61, A, x.idA)).toEqual({ ok: true, associations: [x.idA] });
    expect(x.a.snapshot(x.idA)!.localAddresses).toEqual([A2]);
    x.pair.log.length = 0;
    x.pair.pump(61);
    const asconfFrom = sentBy(x.pair, 'a').find((s) => s.packet.chunks.some((c) => c.kind === 'asconf'))!;
    expect(asconfFrom.source).toBe(A2); // never A again
    expect(only([asconfFrom], 'asconf')).toMatchObject({ address: A2, params: [{ kind: 'delete-ip-address', address: A }] });
    expect(asconfEvents(x.pair.evA).map((e) => `${e.kind} ${e.result}`)).toEqual(['add-ip-address success', 'delete-ip-address success']);
    expect(tcbOf(x.b, x.idB).paths.map((p) => p.address)).toEqual([A2]);
    expect(tcbOf(x.b, x.idB).primary).toBe(A2);
    expect(x.pair.evB.map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'peer-address-change', address: A, state: 'SCTP_ADDR_REMOVED' }));
    const data = sentBy(x.pair, 'b').filter((s) => s.packet.chunks.some((c) => c.kind === 'data'));
    expect(data.map((s) => s.destination)).toEqual([A2]);
    expect(x.pair.evA.some((e) => e.event.type === 'message')).toBe(true);
    for (const s of sentBy(x.pair, 'a')) expect(s.source).toBe(A2);
  });

  it('refuses, before anything is sent, to delete the last address (§5.3), an unknown one, or to ask for an address not ours', () => {
    const x = established();
    expect(x.a.removeLocalAddress(10, A, x.idA)).toEqual({ ok: false, error: 'last-address' });
    expect(x.a.removeLocalAddress(10, A3, x.idA)).toEqual({ ok: false, error: 'not-present' });
    expect(x.a.requestPeerPrimary(10, x.idA, A3)).toEqual({ ok: false, error: 'not-present' });
    expect(x.a.addLocalAddress(10, A, x.idA)).toEqual({ ok: false, error: 'already-present' });
    expect(x.a.addLocalAddress(10, 'not an address', x.idA)).toEqual({ ok: false, error: 'invalid-address' });
    expect(x.a.addLocalAddress(10, A2, 999)).toEqual({ ok: false, error: 'no-such-association' });
    expect(drain(x.a, 10)).toEqual([]);
  });

  it('Set Primary Address, we ask (§4.2.4): the peer sends to our new address once it confirmed it', () => {
    const x = established();
    x.a.addLocalAddress(10, A2, x.idA);
    x.a.requestPeerPrimary(10, x.idA, A2);
    x.pair.pump(10);
    x.pair.runTo(10, 50);
    expect(asconfEvents(x.pair.evA).map((e) => `${e.kind} ${e.result}`)).toEqual(['add-ip-address success', 'set-primary-address success']);
    expect(tcbOf(x.b, x.idB).primary).toBe(A2);
    expect(x.pair.evB.map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'peer-address-change', address: A2, state: 'SCTP_ADDR_MADE_PRIM' }));
    x.pair.log.length = 0;
    x.b.send(60, x.idB, text('to the new primary'), { streamId: 0, ppid: 0 });
    x.pair.pump(60);
    expect(sentBy(x.pair, 'b').filter((s) => s.packet.chunks.some((c) => c.kind === 'data')).map((s) => s.destination)).toEqual([A2]);
  });

  it('Set Primary Address, the peer asks (§4.2.4): we send our DATA there (reported SCTP_ADDR_MADE_PRIM)', () => {
    const x = established();
    x.b.addLocalAddress(10, B2, x.idB);
    x.b.requestPeerPrimary(10, x.idB, B2);
    x.pair.pump(10);
    x.pair.runTo(10, 50);
    expect(tcbOf(x.a, x.idA).primary).toBe(B2);
    expect(x.pair.evA.map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'peer-address-change', address: B2, state: 'SCTP_ADDR_MADE_PRIM' }));
    x.pair.log.length = 0;
    x.a.send(60, x.idA, text('x'), { streamId: 0, ppid: 0 });
    x.pair.pump(60);
    expect(sentBy(x.pair, 'a').filter((s) => s.packet.chunks.some((c) => c.kind === 'data')).map((s) => s.destination)).toEqual([B2]);
  });

  it('the peer did not understand Add IP Address (§5.3 F3a): reported unsupported, no more Add / Delete requests', () => {
    const x = established();
    x.pair.drop = (s, from) => from === 'b' && s.packet.chunks.some((c) => c.kind === 'asconf-ack');
    x.a.addLocalAddress(10, A2, x.idA);
    x.pair.pump(10);
    const sent = chunksOf(sentBy(x.pair, 'a'), 'asconf')[0]!;
    const ack: Chunk = { kind: 'asconf-ack', serial: sent.serial, params: [{ kind: 'error-cause-indication', correlationId: 1, causes: [{ kind: 'unrecognized-parameters', params: new Uint8Array(8) }] }] };
    x.a.handlePacket(11, { source: B, destination: A, bytes: signedPacket(x.a, x.idA, { source: PORT_B, destination: PORT_A }, [], [ack]) });
    expect(events(x.a).map((e) => e.event)).toEqual([expect.objectContaining({ type: 'asconf', result: 'unsupported' })]);
    expect(x.a.snapshot(x.idA)!.localAddresses).toEqual([A]);
    expect(x.a.addLocalAddress(12, A3, x.idA)).toEqual({ ok: false, error: 'unsupported-by-peer' });
    expect(x.a.requestPeerPrimary(12, x.idA, A)).toEqual({ ok: true, associations: [x.idA] }); // F3b is separate
  });

  it('an ERROR "Unrecognized Chunk Type" for our ASCONF (§5.1 A9): T-4 stopped, requests unsupported, no ASCONF again', () => {
    const x = established();
    x.pair.drop = (s, from) => from === 'b';
    x.a.addLocalAddress(10, A2, x.idA);
    x.pair.pump(10);
    const t = tcbOf(x.a, x.idA);
    deliver(x.a, 11, B, A, { sourcePort: PORT_B, destinationPort: PORT_A, verificationTag: t.localTag, chunks: [{ kind: 'error', causes: [{ kind: 'unrecognized-chunk-type', chunk: new Uint8Array([0xc1, 0, 0, 8, 0, 0, 0, 0]) }] }] });
    expect(events(x.a).map((e) => e.event.type)).toEqual(['asconf', 'remote-error']);
    expect(tcbOf(x.a, x.idA).asconf!.outstanding).toBeUndefined();
    expect(x.a.addLocalAddress(12, A3, x.idA)).toEqual({ ok: false, error: 'unsupported-by-peer' });
  });

  it('IPv6: an address parameter of 20 bytes; the peer needs an IPv6 address of its own to take it', () => {
    const x = established({}, { a: [A, 'fd00::1'], b: [B, 'fd00::2'] });
    x.pair.runTo(0, 50);
    x.a.addLocalAddress(100, 'fd00::11', x.idA);
    x.pair.pump(100);
    expect(asconfEvents(x.pair.evA).map((e) => `${e.address} ${e.result}`)).toEqual(['fd00::11 success']);
    expect(tcbOf(x.b, x.idB).paths.map((p) => p.address)).toContain('fd00::11');
    // A peer with IPv4 addresses only refuses it: Unresolvable Address.
    const y = established();
    const out = send(y.b, A, peerAsconf(y, [{ kind: 'add-ip-address', correlationId: 9, address: 'fd00::11' }]).bytes);
    expect(only(out, 'asconf-ack').params).toEqual([{ kind: 'error-cause-indication', correlationId: 9, causes: [expect.objectContaining({ kind: 'unresolvable-address' })] }]);
  });

  it('endpoint-wide: with no association id the address is the endpoint\'s, and every association that negotiated ADD-IP asks', () => {
    const x = established();
    expect(x.a.addLocalAddress(10, A2)).toEqual({ ok: true, associations: [x.idA] });
    expect(x.a.localAddresses).toEqual([A, A2]);
    x.pair.pump(10);
    expect(asconfEvents(x.pair.evA).map((e) => e.result)).toEqual(['success']);
    expect(x.a.removeLocalAddress(20, A2)).toEqual({ ok: true, associations: [x.idA] });
    expect(x.a.localAddresses).toEqual([A]);
  });
});

describe('the peer\'s ASCONF (RFC 5061 §5.2)', () => {
  it('a replayed serial: the cached ASCONF-ACK again, nothing redone (C3); older or skipped serials are dropped (C4)', () => {
    const x = established();
    const { bytes, serial } = peerAsconf(x, [{ kind: 'add-ip-address', correlationId: 1, address: A2 }]);
    const first = send(x.b, A, bytes);
    expect(only(first, 'asconf-ack')).toEqual({ kind: 'asconf-ack', serial, params: [] });
    events(x.b);
    const again = send(x.b, A, bytes);
    expect(only(again, 'asconf-ack')).toEqual(only(first, 'asconf-ack'));
    expect(events(x.b)).toEqual([]); // not added twice
    expect(tcbOf(x.b, x.idB).paths.map((p) => p.address)).toEqual([A, A2]);
    expect(send(x.b, A, peerAsconf(x, [{ kind: 'delete-ip-address', correlationId: 2, address: A2 }], { serial: (serial - 1) >>> 0 }).bytes)).toEqual([]);
    expect(send(x.b, A, peerAsconf(x, [{ kind: 'delete-ip-address', correlationId: 2, address: A2 }], { serial: (serial + 2) >>> 0 }).bytes)).toEqual([]);
    expect(tcbOf(x.b, x.idB).asconf!.counters).toMatchObject({ received: 1, replayed: 1, dropped: 2 });
    expect(tcbOf(x.b, x.idB).paths.map((p) => p.address)).toEqual([A, A2]);
  });

  it('an ASCONF without AUTH is discarded (RFC 5061 §4.1, RFC 4895 §6.3): no answer, no change, counted', () => {
    const x = established();
    const t = tcbOf(x.b, x.idB);
    deliver(x.b, 10, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: t.localTag, chunks: [{ kind: 'asconf', serial: (t.asconf!.peerSerial + 1) >>> 0, address: A, params: [{ kind: 'add-ip-address', correlationId: 1, address: A2 }] }] });
    expect(drain(x.b, 10)).toEqual([]);
    expect(events(x.b)).toEqual([]);
    expect(tcbOf(x.b, x.idB).paths).toHaveLength(1);
    expect(tcbOf(x.b, x.idB).auth!.counters.unauthenticated).toBe(1);
  });

  it('an ASCONF on an association without ADD-IP is an unknown chunk type (0xC1: skip and report)', () => {
    const x = established({ asconf: false });
    const t = tcbOf(x.b, x.idB);
    expect(t.auth).toBeDefined();
    expect(t.asconf).toBeUndefined();
    deliver(x.b, 10, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: t.localTag, chunks: [{ kind: 'asconf', serial: 1, address: A, params: [] }] });
    expect(only(drain(x.b, 10), 'error').causes[0]!.kind).toBe('unrecognized-chunk-type');
  });

  it('refuses to delete the last remaining address (§5.3: Request to Delete Last Remaining IP Address)', () => {
    // From a second source address, deleting the only address B has for A: the last one.
    const y = established();
    y.b.handlePacket(10, { source: A2, destination: B, bytes: peerAsconf(y, [{ kind: 'delete-ip-address', correlationId: 7, address: A }]).bytes });
    const ack2 = only(drain(y.b, 10), 'asconf-ack');
    expect(ack2.params).toEqual([{ kind: 'error-cause-indication', correlationId: 7, causes: [expect.objectContaining({ kind: 'request-to-delete-last-address' })] }]);
    const cause = (ack2.params[0] as Extract<Param, { kind: 'error-cause-indication' }>).causes[0] as Extract<ErrorCause, { kind: 'request-to-delete-last-address' }>;
    // The cause carries the request parameter (§4.3): type 0xC002, length 16, Correlation ID 7, the address.
    expect([...cause.request.subarray(0, 8)]).toEqual([0xc0, 0x02, 0, 16, 0, 0, 0, 7]);
    expect(tcbOf(y.b, y.idB).paths.map((p) => p.address)).toEqual([A]);
  });

  it('refuses to delete the source address of the packet (§5.3: Request to Delete Source IP Address); success indications follow an error', () => {
    const x = established();
    send(x.b, A, peerAsconf(x, [{ kind: 'add-ip-address', correlationId: 1, address: A2 }]).bytes);
    const out = send(x.b, A, peerAsconf(x, [{ kind: 'delete-ip-address', correlationId: 2, address: A }, { kind: 'set-primary-address', correlationId: 3, address: A }]).bytes);
    expect(only(out, 'asconf-ack').params).toEqual([
      { kind: 'error-cause-indication', correlationId: 2, causes: [expect.objectContaining({ kind: 'request-to-delete-source-address' })] },
      { kind: 'success-indication', correlationId: 3 },
    ]);
    expect(tcbOf(x.b, x.idB).paths.map((p) => p.address)).toEqual([A, A2]);
  });

  it('parameters in order (V1): add, then make it primary in the same ASCONF; Set Primary of an unknown address: Unresolvable Address', () => {
    const x = established();
    const out = send(x.b, A, peerAsconf(x, [{ kind: 'set-primary-address', correlationId: 1, address: A3 }, { kind: 'add-ip-address', correlationId: 2, address: A2 }, { kind: 'set-primary-address', correlationId: 3, address: A2 }]).bytes);
    expect(only(out, 'asconf-ack').params).toEqual([
      { kind: 'error-cause-indication', correlationId: 1, causes: [expect.objectContaining({ kind: 'unresolvable-address' })] },
      { kind: 'success-indication', correlationId: 2 },
      { kind: 'success-indication', correlationId: 3 },
    ]);
    // A2 is UNCONFIRMED: it becomes primary when its HEARTBEAT is answered.
    expect(tcbOf(x.b, x.idB).primary).toBe(A);
    expect(tcbOf(x.b, x.idB).asconf!.peerRequestedPrimary).toBe(A2);
  });

  it('L2 (§5.2): an ASCONF from a source B does not know is found by its Address Parameter; 0.0.0.0 stands for the source', () => {
    const x = established();
    const { bytes } = peerAsconf(x, [{ kind: 'add-ip-address', correlationId: 1, address: '0.0.0.0' }], { address: A });
    const out = send(x.b, A3, bytes);
    expect(only(out, 'asconf-ack').params).toEqual([]);
    expect(out[0]!.destination).toBe(A3); // the ASCONF-ACK goes where the ASCONF came from
    expect(tcbOf(x.b, x.idB).paths.map((p) => p.address)).toEqual([A, A3]);
  });

  it('Add IP Address of a multicast address: refused (Invalid Mandatory Parameter); an address already known: success', () => {
    const x = established();
    const out = send(x.b, A, peerAsconf(x, [{ kind: 'add-ip-address', correlationId: 1, address: '224.0.0.5' }, { kind: 'add-ip-address', correlationId: 2, address: A }]).bytes);
    expect(only(out, 'asconf-ack').params).toEqual([
      { kind: 'error-cause-indication', correlationId: 1, causes: [{ kind: 'invalid-mandatory-parameter' }] },
      { kind: 'success-indication', correlationId: 2 },
    ]);
  });

  it('an ABORT sent to an address we are deleting is ignored (§5.3)', () => {
    const x = established();
    x.a.addLocalAddress(10, A2, x.idA);
    x.pair.pump(10);
    x.pair.drop = () => true; // the Delete stays unacknowledged
    x.a.removeLocalAddress(20, A, x.idA);
    x.pair.pump(20);
    deliver(x.a, 21, B, A, { sourcePort: PORT_B, destinationPort: PORT_A, verificationTag: tcbOf(x.a, x.idA).localTag, chunks: [{ kind: 'abort', tBit: false, causes: [] }] });
    expect(x.a.snapshot(x.idA)?.fsm.state).toBe('established');
    deliver(x.a, 22, B, A2, { sourcePort: PORT_B, destinationPort: PORT_A, verificationTag: tcbOf(x.a, x.idA).localTag, chunks: [{ kind: 'abort', tBit: false, causes: [] }] });
    expect(x.a.snapshot(x.idA)).toBeUndefined();
  });
});

describe('around ADD-IP', () => {
  it('Adaptation Layer Indication (§4.2.5): sent when configured, reported to the peer after communication up', () => {
    const a = endpoint([A], PORT_A, 1);
    const b = endpoint([B], PORT_B, 2, { adaptationIndication: 0x1234_5678 });
    const pair = new Pair(a, b);
    a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
    pair.pump(0);
    const ack = chunksOf(pair.log.map((l) => l.sent), 'init-ack')[0]!;
    expect(ack.params).toContainEqual({ kind: 'adaptation-layer-indication', indication: 0x1234_5678 });
    expect(pair.evA.map((e) => e.event.type)).toEqual(['communication-up', 'adaptation-indication']);
    expect(pair.evA[1]!.event).toEqual({ type: 'adaptation-indication', indication: 0x1234_5678 });
    expect(pair.evB.map((e) => e.event.type)).toEqual(['communication-up']);
  });

  it('the summary shows the extensions in use, the HMAC, and the ASCONF pending', () => {
    const x = established();
    const s0 = summarize(x.a.snapshot(x.idA)!).extensions!;
    expect(s0).toMatchObject({ prSctp: true, auth: { hmac: 'hmac-sha256', keyId: 0, localChunks: [0x80, 0xc1], peerChunks: [0x80, 0xc1] }, asconf: { pending: undefined, queued: [] } });
    expect(s0.peerSupported).toEqual([0xc0, 0x0f, 0xc1, 0x80]);
    x.a.addLocalAddress(10, A2, x.idA);
    expect(summarize(x.a.snapshot(x.idA)!).extensions!.asconf!.pending).toMatchObject({ requests: [{ kind: 'add-ip-address', address: A2 }], destination: B });
  });

  it('the ASCONF state survives snapshot / restore: serials and the replay cache carry on', () => {
    const x = established();
    const { bytes, serial } = peerAsconf(x, [{ kind: 'add-ip-address', correlationId: 1, address: A2 }]);
    const first = only(send(x.b, A, bytes), 'asconf-ack');
    const b2 = endpoint([B], PORT_B, 22);
    expect(b2.restore(x.b.snapshot(x.idB)!)).toBe(true);
    b2.handlePacket(10, { source: A, destination: B, bytes });
    expect(only(drain(b2, 10), 'asconf-ack')).toEqual(first);
    expect(tcbOf(b2, x.idB).asconf!.peerSerial).toBe(serial);
  });
});
