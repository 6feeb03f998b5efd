/**
 * Seeded end-to-end scenarios: two real endpoints (src/core) over the
 * simulated network. `runTransferSimulation` is what `npm run sim` wraps: it
 * sends messages both ways over a lossy, duplicating, reordering network and
 * reports what arrived, exactly once and in order or not.
 *
 * The simulator is pure: the cookie MAC is injected by the caller (tests and
 * scripts/sim.mjs pass node:crypto's HMAC-SHA256).
 */
import { createEndpoint, type Endpoint, type EndpointEvent } from '../core/endpoint.js';
import type { ProtocolConfig } from '../core/config.js';
import type { HmacSha1, HmacSha256, Millis, Rng } from '../core/env.js';
import type { Datagram, SimHost } from './host.js';
import { createSimulation, type Simulation } from './simulation.js';

// --------------------------------------------------------------- host glue

/**
 * Draws every 32-bit value from the top 256 of the range, so initial TSNs
 * (and tags) sit just below 2^32 and TSNs wrap early in a run.
 */
export class NearWrapRng implements Rng {
  constructor(private readonly inner: Rng) {}
  nextU32(): number {
    return (0xffff_ff00 | (this.inner.nextU32() & 0xff)) >>> 0;
  }
  fill(out: Uint8Array): void {
    this.inner.fill(out);
  }
}

/** An endpoint as a SimHost, with an application that reads every event at once and runs `app` after each input. */
export class EndpointHost implements SimHost {
  readonly events: { readonly time: Millis; readonly e: EndpointEvent }[] = [];
  constructor(
    readonly endpoint: Endpoint,
    private readonly app: (now: Millis, host: EndpointHost) => void = () => {},
  ) {}
  handlePacket(now: Millis, d: Datagram): void {
    this.endpoint.handlePacket(now, d);
    this.settle(now);
  }
  handleTimeout(now: Millis): void {
    this.endpoint.handleTimeout(now);
    this.settle(now);
  }
  pollTransmit(now: Millis): Datagram | undefined {
    return this.endpoint.pollTransmit(now);
  }
  pollTimeout(): Millis | undefined {
    return this.endpoint.pollTimeout();
  }
  /** Drains events, then lets the application act. Call after driving the endpoint directly. */
  settle(now: Millis): void {
    for (let i = 0; i < 100_000; i++) {
      const e = this.endpoint.pollEvent();
      if (!e) break;
      this.events.push({ time: now, e });
    }
    this.app(now, this);
    for (let i = 0; i < 100_000; i++) {
      const e = this.endpoint.pollEvent();
      if (!e) break;
      this.events.push({ time: now, e });
    }
  }
}

// --------------------------------------------------------------- transfer

export interface TransferOptions {
  readonly seed: number;
  /** Per-datagram probabilities on every link, both ways. */
  readonly loss: number;
  readonly duplicate: number;
  readonly reorder: number;
  /** Messages each way. */
  readonly messages: number;
  /** Two addresses per side (two paths each way). */
  readonly multihomed: boolean;
  /** Protocol settings for both endpoints (default: fast timers, see `simulationConfig`). */
  readonly config?: Partial<ProtocolConfig>;
  /** Give up (and report what arrived) after this much virtual time. */
  readonly maxTime?: Millis;
  /** HMAC-SHA256 for the cookie MAC (node:crypto's, from an impure caller). */
  readonly hmac: HmacSha256;
  /** HMAC-SHA1: with it both endpoints offer AUTH and ADD-IP (RFC 4895, RFC 5061), as the runtime's do. */
  readonly hmacSha1?: HmacSha1;
}

export interface TransferResult {
  /** Messages delivered (first copies), both directions. */
  readonly delivered: number;
  /** Messages sent and never delivered. */
  readonly lost: number;
  /** Extra deliveries of a message already delivered. */
  readonly duplicated: number;
  /** Ordered messages delivered before an earlier one of the same stream. */
  readonly reordered: number;
  /** Deliveries whose bytes differ from what was sent. */
  readonly corrupted: number;
  /** Virtual time until everything was delivered (or maxTime). */
  readonly virtualMs: Millis;
  /** Both associations ended in error (COMMUNICATION_LOST / cannot start). */
  readonly failures: readonly string[];
}

/** Fast timers for simulations: RTO 50 ms .. 2 s, 20 ms delayed SACK. */
export const simulationConfig: Partial<ProtocolConfig> = { rtoInitial: 200, rtoMin: 50, rtoMax: 2000, sackDelay: 20, hbInterval: 5000 };

const STREAMS = 4;

function messageBytes(dir: number, index: number, seed: number): Uint8Array {
  // Sizes from 1 byte to a little over two packets, so some messages fragment.
  const size = 1 + ((index * 7919 + seed * 31 + dir * 17) % 3200);
  const out = new Uint8Array(Math.max(8, size));
  const v = new DataView(out.buffer);
  v.setUint32(0, dir);
  v.setUint32(4, index);
  for (let i = 8; i < out.length; i++) out[i] = (index + i) & 0xff;
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isUnordered(index: number): boolean {
  return index % 5 === 4;
}

/** Two endpoints exchange `messages` messages each way; the report checks exactly-once and per-stream order. */
export function runTransferSimulation(o: TransferOptions): TransferResult {
  const sim: Simulation = createSimulation({ seed: o.seed, traceLimit: 0, defaultLink: { delay: 10, jitter: 4, loss: o.loss, duplicate: o.duplicate, reorder: o.reorder, reorderDelay: 25 } });
  const addrA = o.multihomed ? ['10.0.1.1', '10.0.2.1'] : ['10.0.1.1'];
  const addrB = o.multihomed ? ['10.0.1.2', '10.0.2.2'] : ['10.0.1.2'];
  const config = { ...simulationConfig, ...o.config };
  const failures: string[] = [];
  const received = [new Map<number, number>(), new Map<number, number>()];
  const order = [new Map<number, number>(), new Map<number, number>()];
  let reordered = 0;
  let duplicated = 0;
  let corrupted = 0;

  const makeApp = (dir: number) => {
    let assocId: number | undefined;
    let next = 0;
    let seen = 0;
    return (now: Millis, host: EndpointHost): void => {
      for (; seen < host.events.length; seen++) {
        const { e } = host.events[seen]!;
        switch (e.event.type) {
          case 'communication-up':
          case 'restart':
            assocId = e.assocId;
            break;
          case 'communication-lost':
          case 'cannot-start':
            failures.push(`${dir === 0 ? 'A' : 'B'}: ${e.event.type} ${e.event.reason}`);
            break;
          case 'message': {
            const v = new DataView(e.event.data.buffer, e.event.data.byteOffset, e.event.data.byteLength);
            const from = v.getUint32(0);
            const index = v.getUint32(4);
            if (!sameBytes(e.event.data, messageBytes(from, index, o.seed))) corrupted++;
            const counts = received[from]!;
            const n = counts.get(index) ?? 0;
            counts.set(index, n + 1);
            if (n > 0) duplicated++;
            else if (!e.event.unordered) {
              const last = order[from]!.get(e.event.streamId);
              if (last !== undefined && last > index) reordered++;
              order[from]!.set(e.event.streamId, index);
            }
            break;
          }
          default:
            break;
        }
      }
      if (assocId === undefined) return;
      for (; next < o.messages; next++) {
        const r = host.endpoint.send(now, assocId, messageBytes(dir, next, o.seed), { streamId: next % STREAMS, ppid: 0, unordered: isUnordered(next) });
        if (!r.ok) break;
      }
    };
  };

  const hostA = new EndpointHost(
    createEndpoint({ localAddresses: addrA, port: 5000, config, rng: new NearWrapRng(sim.forkRng()), hmac: o.hmac, ...(o.hmacSha1 && { hmacSha1: o.hmacSha1 }), now: 0 }),
    makeApp(0),
  );
  const hostB = new EndpointHost(
    createEndpoint({ localAddresses: addrB, port: 6000, config, rng: new NearWrapRng(sim.forkRng()), hmac: o.hmac, ...(o.hmacSha1 && { hmacSha1: o.hmacSha1 }), now: 0 }),
    makeApp(1),
  );
  sim.addNode('A', addrA, hostA);
  sim.addNode('B', addrB, hostB);
  sim.at(0, () => {
    hostA.endpoint.connect(0, { remoteAddresses: addrB, remotePort: 6000 });
  });
  const done = (): boolean => received[0]!.size >= o.messages && received[1]!.size >= o.messages;
  const maxTime = o.maxTime ?? 600_000;
  let virtualMs: Millis;
  try {
    virtualMs = sim.runUntil(() => done() || failures.length > 0, maxTime);
  } catch {
    virtualMs = sim.now;
  }
  const delivered = received[0]!.size + received[1]!.size;
  return { delivered, lost: 2 * o.messages - delivered, duplicated, reordered, corrupted, virtualMs, failures };
}

