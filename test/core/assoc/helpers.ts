/**
 * Scripted packet-in / packet-out helpers: endpoints driven through their
 * public API, transmits decoded with the wire codec.
 */
import { createHmac } from 'node:crypto';
import { expect } from 'vitest';
import { createEndpoint, type Datagram, type Endpoint, type EndpointEvent } from '../../../src/core/endpoint.js';
import type { ProtocolConfig } from '../../../src/core/config.js';
import { SeededRng, type HmacSha1, type HmacSha256, type Millis, type Rng } from '../../../src/core/env.js';
import { decodePacket, encodePacket } from '../../../src/wire/packet.js';
import type { Chunk, DecodedPacket, Packet } from '../../../src/wire/types.js';
import type { SimHost } from '../../../src/sim/host.js';
import { createSimulation, type Simulation } from '../../../src/sim/simulation.js';

export const hmac: HmacSha256 = (key, data) => new Uint8Array(createHmac('sha256', key).update(data).digest());
/** For RFC 4895 AUTH: with it endpoints offer AUTH and ADD-IP, as the runtime's do. */
export const hmacSha1: HmacSha1 = (key, data) => new Uint8Array(createHmac('sha1', key).update(data).digest());

export const A = '10.0.0.1';
export const B = '10.0.0.2';
export const A2 = '10.1.0.1';
export const B2 = '10.1.0.2';
export const PORT_A = 5000;
export const PORT_B = 6000;

export interface Sent {
  readonly source: string;
  readonly destination: string;
  readonly packet: DecodedPacket;
}

export function endpoint(addresses: string[], port: number, seed: number, config: Partial<ProtocolConfig> = {}, rng?: Rng): Endpoint {
  return createEndpoint({ localAddresses: addresses, port, config, rng: rng ?? new SeededRng(seed), hmac, hmacSha1, now: 0 });
}

export function decode(d: Datagram): Sent {
  const r = decodePacket(d.bytes);
  if (!r.ok) throw new Error(`transmit does not decode: ${r.error.message}`);
  return { source: d.source, destination: d.destination, packet: r.value };
}

/** Every transmit now, decoded. */
export function drain(ep: Endpoint, now: Millis): Sent[] {
  const out: Sent[] = [];
  for (let d = ep.pollTransmit(now); d; d = ep.pollTransmit(now)) out.push(decode(d));
  return out;
}

export function events(ep: Endpoint): EndpointEvent[] {
  const out: EndpointEvent[] = [];
  for (let e = ep.pollEvent(); e; e = ep.pollEvent()) out.push(e);
  return out;
}

export function kinds(sent: readonly Sent[]): string[][] {
  return sent.map((s) => s.packet.chunks.map((c) => c.kind));
}

export function chunksOf<K extends Chunk['kind']>(sent: readonly Sent[], kind: K): Extract<Chunk, { kind: K }>[] {
  return sent.flatMap((s) => s.packet.chunks.filter((c): c is Extract<Chunk, { kind: K }> => c.kind === kind));
}

export function only<K extends Chunk['kind']>(sent: readonly Sent[], kind: K): Extract<Chunk, { kind: K }> {
  const cs = chunksOf(sent, kind);
  expect(cs.length, `one ${kind} expected in ${JSON.stringify(kinds(sent))}`).toBe(1);
  return cs[0]!;
}

/** Delivers a packet to `ep` as if it came from `source`. */
export function deliver(ep: Endpoint, now: Millis, source: string, destination: string, packet: Packet): void {
  ep.handlePacket(now, { source, destination, bytes: encodePacket(packet) });
}

export function forward(ep: Endpoint, now: Millis, sent: readonly Sent[]): void {
  for (const s of sent) ep.handlePacket(now, { source: s.source, destination: s.destination, bytes: encodePacket(s.packet) });
}

/**
 * Two endpoints wired back to back: `pump` moves every transmit to the other
 * side until both are quiet (bounded), optionally dropping with `drop`.
 */
export class Pair {
  readonly log: { readonly from: 'a' | 'b'; readonly sent: Sent }[] = [];
  readonly evA: EndpointEvent[] = [];
  readonly evB: EndpointEvent[] = [];
  drop: (s: Sent, from: 'a' | 'b') => boolean = () => false;
  constructor(
    readonly a: Endpoint,
    readonly b: Endpoint,
  ) {}

  pump(now: Millis, rounds = 100): void {
    for (let i = 0; i < rounds; i++) {
      const fromA = drain(this.a, now);
      const fromB = drain(this.b, now);
      this.evA.push(...events(this.a));
      this.evB.push(...events(this.b));
      if (fromA.length === 0 && fromB.length === 0) return;
      for (const s of fromA) {
        this.log.push({ from: 'a', sent: s });
        if (!this.drop(s, 'a')) forward(this.b, now, [s]);
      }
      for (const s of fromB) {
        this.log.push({ from: 'b', sent: s });
        if (!this.drop(s, 'b')) forward(this.a, now, [s]);
      }
    }
    throw new Error('pump: no quiescence');
  }

  /** Advances time, firing timeouts on both sides and pumping after each. */
  runTo(from: Millis, to: Millis): Millis {
    let now = from;
    for (let i = 0; i < 10_000; i++) {
      const next = Math.min(this.a.pollTimeout() ?? Infinity, this.b.pollTimeout() ?? Infinity);
      if (next > to) break;
      now = Math.max(now, next);
      this.a.handleTimeout(now);
      this.b.handleTimeout(now);
      this.pump(now);
    }
    return to;
  }
}

/** An established pair: A connected to B at t=0 (no loss). Returns the pair and the association ids. */
export function established(config: Partial<ProtocolConfig> = {}, opts: { a?: string[]; b?: string[]; seedA?: number; seedB?: number } = {}) {
  const a = endpoint(opts.a ?? [A], PORT_A, opts.seedA ?? 1, config);
  const b = endpoint(opts.b ?? [B], PORT_B, opts.seedB ?? 2, config);
  const pair = new Pair(a, b);
  const r = a.connect(0, { remoteAddresses: opts.b ?? [B], remotePort: PORT_B });
  if (!r.ok) throw new Error('connect failed');
  pair.pump(0);
  const upA = pair.evA.find((e) => e.event.type === 'communication-up');
  const upB = pair.evB.find((e) => e.event.type === 'communication-up');
  if (!upA || !upB) throw new Error('handshake did not complete');
  return { pair, a, b, idA: upA.assocId, idB: upB.assocId };
}

export function messages(ev: readonly EndpointEvent[]): { streamId: number; data: string; unordered: boolean }[] {
  return ev.flatMap((e) => (e.event.type === 'message' ? [{ streamId: e.event.streamId, data: new TextDecoder().decode(e.event.data), unordered: e.event.unordered }] : []));
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

// ------------------------------------------------------------ simulator pairs

/**
 * A simulator host whose application reads (polls events) only while
 * `reading` is true: a paused reader keeps its messages in the receive window.
 */
export class ReaderHost implements SimHost {
  readonly events: { readonly time: Millis; readonly e: EndpointEvent }[] = [];
  reading = true;
  constructor(readonly endpoint: Endpoint) {}
  handlePacket(now: Millis, d: Datagram): void {
    this.endpoint.handlePacket(now, d);
    this.read(now);
  }
  handleTimeout(now: Millis): void {
    this.endpoint.handleTimeout(now);
    this.read(now);
  }
  pollTransmit(now: Millis): Datagram | undefined {
    return this.endpoint.pollTransmit(now);
  }
  pollTimeout(): Millis | undefined {
    return this.endpoint.pollTimeout();
  }
  /** Polls every event if the application is reading; `max` bounds the messages read. */
  read(now: Millis, max = Infinity): void {
    if (!this.reading) return;
    let n = 0;
    for (let e = this.endpoint.pollEvent(); e; e = n < max ? this.endpoint.pollEvent() : undefined) {
      this.events.push({ time: now, e });
      if (e.event.type === 'message') n++;
    }
  }
  delivered(): string[] {
    return this.events.flatMap((x) => (x.e.event.type === 'message' ? [new TextDecoder().decode(x.e.event.data)] : []));
  }
  ofType<T extends EndpointEvent['event']['type']>(type: T): Extract<EndpointEvent['event'], { type: T }>[] {
    return this.events.flatMap((x) => (x.e.event.type === type ? [x.e.event as Extract<EndpointEvent['event'], { type: T }>] : []));
  }
}

/** A connected pair over the simulator (10 ms each way), each side with its own config. */
export function simPair(opts: { seed?: number; configA?: Partial<ProtocolConfig>; configB?: Partial<ProtocolConfig> } = {}) {
  const seed = opts.seed ?? 1;
  const sim = createSimulation({ seed, defaultLink: { delay: 10 } });
  const a = new ReaderHost(createEndpoint({ localAddresses: [A], port: PORT_A, config: opts.configA ?? {}, rng: new SeededRng(seed), hmac, hmacSha1, now: 0 }));
  const b = new ReaderHost(createEndpoint({ localAddresses: [B], port: PORT_B, config: opts.configB ?? {}, rng: new SeededRng(seed + 100), hmac, hmacSha1, now: 0 }));
  sim.addNode('a', [A], a);
  sim.addNode('b', [B], b);
  const r = a.endpoint.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
  if (!r.ok) throw new Error('connect');
  sim.poke('a');
  sim.runUntil(() => a.ofType('communication-up').length > 0 && b.ofType('communication-up').length > 0, 1000);
  const snap = a.endpoint.snapshot(r.assocId)!;
  if (snap.fsm.state !== 'established') throw new Error('not up');
  const idB = b.events.find((x) => x.e.event.type === 'communication-up')!.e.assocId;
  return { sim, a, b, idA: r.assocId, idB, tsn0: snap.fsm.tcb.localInitialTsn };
}

/** Chunks of `kind` that `source` handed to the network (dropped ones included), with the send time. */
export function sentChunks<K extends Chunk['kind']>(sim: Simulation, kind: K, source?: string): { time: Millis; chunk: Extract<Chunk, { kind: K }> }[] {
  const out: { time: Millis; chunk: Extract<Chunk, { kind: K }> }[] = [];
  for (const e of sim.trace) {
    if (e.fate !== 'sent' || e.copy !== 0 || (source !== undefined && e.source !== source)) continue;
    const r = decodePacket(e.bytes);
    if (!r.ok) continue;
    for (const c of r.value.chunks) if (c.kind === kind) out.push({ time: e.time, chunk: c as Extract<Chunk, { kind: K }> });
  }
  return out;
}

// ------------------------------------------------------------ every association state

/** The association states an endpoint reaches through its public API. */
export type ReachableState = 'cookie-wait' | 'cookie-echoed' | 'established' | 'shutdown-pending' | 'shutdown-sent' | 'shutdown-received' | 'shutdown-ack-sent';

/**
 * One endpoint (`ep`) held in `state`, with what a peer needs to talk to it.
 * COOKIE-WAIT and COOKIE-ECHOED are the initiator A (its INIT / COOKIE ECHO
 * withheld); the other states are the responder B, reached by sending and
 * shutting down while packets are withheld.
 */
export interface StateFixture {
  readonly ep: Endpoint;
  readonly id: number;
  readonly now: Millis;
  /** Our address / port and the peer's. */
  readonly me: string;
  readonly myPort: number;
  readonly peer: string;
  readonly peerPort: number;
  /** Our verification tag, and the peer's (undefined: not known in COOKIE-WAIT). */
  readonly localTag: number;
  readonly peerTag: number | undefined;
  /** The peer's real Initiate Tag (known to the test even in COOKIE-WAIT). */
  readonly peerInitiateTag: number;
  /** The TSN of the peer's next new DATA. */
  readonly peerNextTsn: number;
  /** Our first TSN not yet acknowledged (outstanding when `outstanding`). */
  readonly localFirstUnacked: number;
  readonly outstanding: boolean;
  /** INIT ACK the peer sent (withheld), COOKIE-WAIT only. */
  readonly initAck: Extract<Chunk, { kind: 'init-ack' }> | undefined;
  /**
   * A State Cookie we minted and the tag its COOKIE ECHO carries:
   * COOKIE-WAIT §5.2.4 case B, COOKIE-ECHOED and later case D (duplicate).
   */
  readonly cookie: { readonly cookie: Uint8Array; readonly vtag: number };
  /** A cookie from an INIT ACK answering a peer restart (§5.2.4 case A), B-side states only. */
  readonly restartCookie: { readonly cookie: Uint8Array; readonly vtag: number } | undefined;
  /** With `multihomedPeer`: our path-verification HEARTBEAT (§5.4) to the peer's second address, withheld. */
  readonly heartbeat: { readonly info: Uint8Array; readonly to: string } | undefined;
}

function stateCookie(c: Extract<Chunk, { kind: 'init-ack' }>): Uint8Array {
  const p = c.params.find((x) => x.kind === 'state-cookie');
  if (!p || p.kind !== 'state-cookie') throw new Error('no cookie');
  return p.cookie;
}

/** A peer INIT to `f.ep` with `initiateTag` (the packet goes with tag 0). */
export function peerInit(initiateTag: number, initialTsn: number): Extract<Chunk, { kind: 'init' }> {
  return { kind: 'init', initiateTag, aRwnd: 65_535, outboundStreams: 10, inboundStreams: 10, initialTsn, params: [] };
}

/** Drives two endpoints (withholding packets) until one association is in `state`. */
export function reachState(state: ReachableState, opts: { multihomedPeer?: boolean } = {}): StateFixture {
  const a = endpoint(opts.multihomedPeer === true && state !== 'cookie-wait' && state !== 'cookie-echoed' ? [A, A2] : [A], PORT_A, 1);
  const b = endpoint([B], PORT_B, 2);
  const r = a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
  if (!r.ok) throw new Error('connect');
  if (state === 'cookie-wait' || state === 'cookie-echoed') {
    forward(b, 0, drain(a, 0));
    const fromB = drain(b, 0);
    const initAck = only(fromB, 'init-ack');
    const snap0 = a.snapshot(r.assocId)!;
    if (snap0.fsm.state !== 'cookie-wait') throw new Error('not cookie-wait');
    const localTag = snap0.fsm.init.initiateTag;
    if (state === 'cookie-echoed') {
      forward(a, 0, fromB);
      drain(a, 0); // the COOKIE ECHO, withheld
    }
    // A peer INIT (tag 0) makes us mint a cookie: case B in COOKIE-WAIT, case D in COOKIE-ECHOED.
    const now = 1;
    deliver(a, now, B, A, { sourcePort: PORT_B, destinationPort: PORT_A, verificationTag: 0, chunks: [peerInit(initAck.initiateTag, initAck.initialTsn)] });
    const ack = only(drain(a, now), 'init-ack');
    events(a);
    const s = a.snapshot(r.assocId)!;
    if (s.fsm.state !== state) throw new Error(`reached ${s.fsm.state}, not ${state}`);
    return {
      ep: a,
      id: r.assocId,
      now,
      me: A,
      myPort: PORT_A,
      peer: B,
      peerPort: PORT_B,
      localTag,
      peerTag: state === 'cookie-echoed' ? initAck.initiateTag : undefined,
      peerInitiateTag: initAck.initiateTag,
      peerNextTsn: initAck.initialTsn,
      localFirstUnacked: snap0.fsm.init.initialTsn,
      outstanding: false,
      initAck,
      cookie: { cookie: stateCookie(ack), vtag: ack.initiateTag },
      restartCookie: undefined,
      heartbeat: undefined,
    };
  }

  const pair = new Pair(a, b);
  pair.pump(0);
  const upB = pair.evB.find((e) => e.event.type === 'communication-up');
  if (!upB) throw new Error('handshake');
  const idA = r.assocId;
  const idB = upB.assocId;
  let heartbeat: StateFixture['heartbeat'];
  if (opts.multihomedPeer === true) {
    // §5.4: the unconfirmed address is probed at once; the probe is withheld.
    b.handleTimeout(0);
    const hb = drain(b, 0).filter((x) => x.packet.chunks.some((c) => c.kind === 'heartbeat'));
    heartbeat = { info: only(hb, 'heartbeat').info, to: hb[0]!.destination };
  }
  const echo = only(
    pair.log.filter((l) => l.from === 'a').map((l) => l.sent),
    'cookie-echo',
  );
  const s0 = b.snapshot(idB)!;
  if (s0.fsm.state !== 'established') throw new Error('not established');
  const tcb0 = s0.fsm.tcb;
  // A peer restart INIT while ESTABLISHED: the INIT ACK's cookie is a §5.2.4 case A cookie.
  let now = 1;
  deliver(b, now, A, B, { sourcePort: PORT_A, destinationPort: PORT_B, verificationTag: 0, chunks: [peerInit(0x0badcafe, 77)] });
  const restartAck = only(drain(b, now), 'init-ack');
  let outstanding = false;
  now = 2;
  switch (state) {
    case 'established':
      break;
    case 'shutdown-pending':
      b.send(now, idB, text('held'), { streamId: 0, ppid: 0 });
      drain(b, now); // the DATA, withheld
      b.shutdown(now, idB);
      outstanding = true;
      break;
    case 'shutdown-sent':
      b.shutdown(now, idB);
      drain(b, now); // the SHUTDOWN, withheld
      break;
    case 'shutdown-received':
      b.send(now, idB, text('held'), { streamId: 0, ppid: 0 });
      drain(b, now); // the DATA, withheld
      a.shutdown(now, idA);
      forward(b, now, drain(a, now));
      drain(b, now);
      outstanding = true;
      break;
    case 'shutdown-ack-sent':
      a.shutdown(now, idA);
      forward(b, now, drain(a, now));
      drain(b, now); // the SHUTDOWN ACK, withheld
      break;
  }
  events(b);
  const s = b.snapshot(idB)!;
  if (s.fsm.state !== state) throw new Error(`reached ${s.fsm.state}, not ${state}`);
  return {
    ep: b,
    id: idB,
    now,
    me: B,
    myPort: PORT_B,
    peer: A,
    peerPort: PORT_A,
    localTag: tcb0.localTag,
    peerTag: tcb0.peerTag,
    peerInitiateTag: tcb0.peerTag,
    peerNextTsn: (tcb0.tracker.cumulativeTsnAck + 1) >>> 0,
    localFirstUnacked: tcb0.rq.nextTsn,
    outstanding,
    initAck: undefined,
    cookie: { cookie: echo.cookie, vtag: tcb0.localTag },
    restartCookie: { cookie: stateCookie(restartAck), vtag: restartAck.initiateTag },
    heartbeat,
  };
}
