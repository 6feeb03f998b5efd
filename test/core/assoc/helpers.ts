/**
 * Scripted packet-in / packet-out helpers: endpoints driven through their
 * public API, transmits decoded with the wire codec.
 */
import { createHmac } from 'node:crypto';
import { expect } from 'vitest';
import { createEndpoint, type Datagram, type Endpoint, type EndpointEvent } from '../../../src/core/endpoint.js';
import type { ProtocolConfig } from '../../../src/core/config.js';
import { SeededRng, type HmacSha256, type Millis, type Rng } from '../../../src/core/env.js';
import { decodePacket, encodePacket } from '../../../src/wire/packet.js';
import type { Chunk, DecodedPacket, Packet } from '../../../src/wire/types.js';

export const hmac: HmacSha256 = (key, data) => new Uint8Array(createHmac('sha256', key).update(data).digest());

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
  return createEndpoint({ localAddresses: addresses, port, config, rng: rng ?? new SeededRng(seed), hmac, now: 0 });
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
