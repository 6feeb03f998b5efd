/**
 * The signaling relay's logic (issue #10), independent of how it is driven:
 * the runtime driver (./relay.ts, UDP or raw IP), the simulator
 * (./sim-host.ts), and later a cluster node's application (src/cluster/apps.ts),
 * which would map `RelayIo` onto its replicated ops.
 *
 * Associations accepted from the front side are paired with one association
 * per back-side server they route to (created on first use). Every message
 * is forwarded on the same stream, with the same PPID and the same ordered /
 * unordered flag, in delivery order, so per-stream order is kept end to end.
 * With acknowledge after forward on (the endpoint's `holdAcks`), the received
 * message is released (its TSNs may then be SACKed) only when the next hop's
 * Cumulative TSN Ack covered the forwarded copy ('message-acked'); replies
 * from the back side travel the same way to the front association.
 *
 * When a back-side association is lost, the messages it had not acknowledged
 * are sent again, in order, over a new association to the same server: the
 * server may then receive one of them twice (it reached it but the SACK was
 * lost), never zero times.
 *
 * M3UA (PPID 3) from the front is handled by an SGP (./m3ua-sgp.ts): ASP
 * management is answered here, DATA forwarded, errors answered.
 */
import type { AssociationEvent } from '../core/association/types.js';
import type { Millis } from '../core/env.js';
import { SgpAsp, createM3uaCounters, type AspState, type M3uaCounters } from './m3ua-sgp.js';
import { M3UA_PPID } from './m3ua.js';

export interface BackendSpec {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly port: number;
  /** RFC 6951 encapsulation port of the server (UDP transport). */
  readonly udpPort?: number;
}

export type Routing =
  /** By PPID; `default` for any other. */
  | { readonly mode: 'ppid'; readonly routes: readonly { readonly ppid: number; readonly backend: string }[]; readonly default: string }
  /** By stream id range (both ends included); `default` for any other. */
  | { readonly mode: 'stream'; readonly routes: readonly { readonly streams: readonly [number, number]; readonly backend: string }[]; readonly default: string }
  /** Each (front association, stream) goes to the next server in turn, then stays there (stream affinity keeps its order). */
  | { readonly mode: 'round-robin' };

export interface RelayOptions {
  readonly backends: readonly BackendSpec[];
  readonly routing: Routing;
  /** Answer M3UA ASP management on PPID 3 as an SGP; false: PPID 3 is forwarded opaquely like any other. */
  readonly m3ua?: { readonly enabled: boolean; readonly routingContexts: readonly number[] };
  /** New associations to one server after losses, at most (then the pair's messages stay unacknowledged). */
  readonly maxReconnects?: number;
}

export interface SendOpts {
  readonly streamId: number;
  readonly ppid: number;
  readonly unordered: boolean;
}

/** What the relay needs from its driver. Synchronous: the sans-IO endpoint underneath answers at once. */
export interface RelayIo {
  now(): Millis;
  /** A new association to a server; undefined if it cannot even start. */
  connect(backend: BackendSpec): number | undefined;
  send(assocId: number, data: Uint8Array, opts: SendOpts): { readonly ok: true; readonly messageId: number } | { readonly ok: false; readonly error: string };
  /** Acknowledge after forward: the received message may now be acknowledged. */
  release(assocId: number, token: number): void;
  shutdown(assocId: number): void;
}

/** A message on its way to one association. */
interface Forward {
  readonly from: number;
  /** Hold token on `from`; undefined when it was not held (acknowledge after forward off). */
  readonly token: number | undefined;
  readonly data: Uint8Array;
  readonly opts: SendOpts;
}

interface Outbound {
  up: boolean;
  /** Not yet accepted by the association (not up yet, or its send buffer full). */
  queue: Forward[];
  /** Accepted, waiting for the peer's cumulative ack, by message id (insertion = send order). */
  inflight: Map<number, Forward>;
}

interface FrontState {
  readonly id: number;
  readonly out: Outbound;
  /** Server name → its back association for this front association. */
  readonly backs: Map<string, number>;
  /** Round robin stream affinity: stream → server name. */
  readonly affinity: Map<number, string>;
  readonly sgp: SgpAsp | undefined;
  messagesIn: number;
  closed: boolean;
  /** The front peer sent SHUTDOWN: each back association is shut down once the relay's queue for it is empty. */
  shuttingDown: boolean;
}

interface BackState {
  readonly id: number;
  readonly front: number;
  readonly backend: BackendSpec;
  readonly out: Outbound;
  reconnects: number;
  messagesIn: number;
}

export interface RelayCounters {
  frontAssociations: number;
  backAssociations: number;
  forwardedToBack: number;
  forwardedToFront: number;
  /** Received messages released after the next hop acknowledged their copy. */
  released: number;
  /** Messages sent again over a new back association after one was lost. */
  resent: number;
  backLost: number;
  /** Replies whose front association was gone (released: nobody can take them). */
  undeliverable: number;
  /** Messages the next association refused (e.g. a stream it does not have): held, never acknowledged. */
  refused: number;
  /** M3UA messages answered by the SGP and released at once. */
  m3uaLocal: number;
}

interface OutboundState {
  readonly up: boolean;
  readonly queue: readonly Forward[];
  readonly inflight: readonly (readonly [number, Forward])[];
}

/** `RelayCore.exportState`: plain data. */
export interface RelayState {
  readonly rr: number;
  readonly fronts: readonly {
    readonly id: number;
    readonly out: OutboundState;
    readonly backs: readonly (readonly [string, number])[];
    readonly affinity: readonly (readonly [number, string])[];
    readonly asp: { readonly state: AspState; readonly contexts: readonly number[] } | undefined;
    readonly messagesIn: number;
    readonly shuttingDown: boolean;
  }[];
  readonly backs: readonly { readonly id: number; readonly front: number; readonly backend: string; readonly out: OutboundState; readonly reconnects: number; readonly messagesIn: number }[];
}

export interface PairView {
  readonly front: number;
  readonly backs: readonly { readonly backend: string; readonly assocId: number; readonly up: boolean; readonly waiting: number; readonly queued: number }[];
  /** Replies waiting for the front peer's acknowledgement. */
  readonly waitingFront: number;
  readonly m3ua?: { readonly state: string; readonly routingContexts: readonly number[] };
}

export class RelayCore {
  readonly counters: RelayCounters = {
    frontAssociations: 0, backAssociations: 0, forwardedToBack: 0, forwardedToFront: 0, released: 0,
    resent: 0, backLost: 0, undeliverable: 0, refused: 0, m3uaLocal: 0,
  };
  readonly m3uaCounters: M3uaCounters = createM3uaCounters();
  private readonly fronts = new Map<number, FrontState>();
  private readonly backs = new Map<number, BackState>();
  private rr = 0;

  constructor(
    private readonly io: RelayIo,
    readonly options: RelayOptions,
  ) {}

  /** One endpoint event. Associations the relay did not open are front ones. */
  onEvent(assocId: number, e: AssociationEvent): void {
    const back = this.backs.get(assocId);
    if (back) {
      this.onBackEvent(back, e);
      return;
    }
    let front = this.fronts.get(assocId);
    if (!front) {
      if (e.type !== 'communication-up') return;
      front = this.newFront(assocId);
    }
    this.onFrontEvent(front, e);
  }

  private newFront(id: number): FrontState {
    const m = this.options.m3ua;
    const f: FrontState = {
      id,
      out: { up: false, queue: [], inflight: new Map() },
      backs: new Map(),
      affinity: new Map(),
      sgp: m?.enabled ? new SgpAsp({ routingContexts: m.routingContexts }, this.m3uaCounters) : undefined,
      messagesIn: 0,
      closed: false,
      shuttingDown: false,
    };
    this.fronts.set(id, f);
    this.counters.frontAssociations++;
    return f;
  }

  private onFrontEvent(f: FrontState, e: AssociationEvent): void {
    switch (e.type) {
      case 'communication-up':
      case 'restart':
        f.out.up = true;
        this.drain(f.id, f.out);
        return;
      case 'message':
        f.messagesIn++;
        this.onFrontMessage(f, e.data, { streamId: e.streamId, ppid: e.ppid, unordered: e.unordered }, e.holdToken);
        return;
      case 'message-acked':
        this.onAcked(f.id, f.out, e.messageId, 'front');
        return;
      case 'sender-dry':
        this.drain(f.id, f.out);
        return;
      case 'communication-lost':
      case 'shutdown-complete':
      case 'cannot-start':
        this.closeFront(f);
        return;
      case 'shutdown-received':
        // The front peer sends no more: the back side is told the same once the relay's queue for it is through.
        f.shuttingDown = true;
        for (const id of f.backs.values()) this.maybeShutdownBack(id);
        return;
      default:
        return;
    }
  }

  private onFrontMessage(f: FrontState, data: Uint8Array, opts: SendOpts, token: number | undefined): void {
    if (f.sgp && opts.ppid === M3UA_PPID) {
      const r = f.sgp.handle(data, opts.streamId);
      for (const reply of r.replies) this.io.send(f.id, reply, { streamId: 0, ppid: M3UA_PPID, unordered: false });
      if (!r.forward) {
        // Consumed here (answered or refused with an Error): nothing further to wait for.
        this.counters.m3uaLocal++;
        if (token !== undefined) this.io.release(f.id, token);
        return;
      }
    }
    const backend = this.route(f, opts);
    let backId = f.backs.get(backend.name);
    if (backId === undefined || !this.backs.has(backId)) backId = this.openBack(f, backend, 0);
    const b = backId === undefined ? undefined : this.backs.get(backId);
    if (!b) {
      // Not even an association could be started: the message stays unacknowledged (counted).
      this.counters.refused++;
      return;
    }
    b.out.queue.push({ from: f.id, token, data, opts });
    this.drain(b.id, b.out);
  }

  private route(f: FrontState, opts: SendOpts): BackendSpec {
    const r = this.options.routing;
    const byName = (n: string): BackendSpec => this.options.backends.find((b) => b.name === n) ?? this.options.backends[0]!;
    switch (r.mode) {
      case 'ppid':
        return byName(r.routes.find((x) => x.ppid === opts.ppid)?.backend ?? r.default);
      case 'stream':
        return byName(r.routes.find((x) => opts.streamId >= x.streams[0] && opts.streamId <= x.streams[1])?.backend ?? r.default);
      case 'round-robin': {
        let name = f.affinity.get(opts.streamId);
        if (name === undefined) {
          name = this.options.backends[this.rr++ % this.options.backends.length]!.name;
          f.affinity.set(opts.streamId, name);
        }
        return byName(name);
      }
    }
  }

  private openBack(f: FrontState, backend: BackendSpec, reconnects: number): number | undefined {
    const id = this.io.connect(backend);
    if (id === undefined) return undefined;
    this.backs.set(id, { id, front: f.id, backend, out: { up: false, queue: [], inflight: new Map() }, reconnects, messagesIn: 0 });
    f.backs.set(backend.name, id);
    this.counters.backAssociations++;
    return id;
  }

  private onBackEvent(b: BackState, e: AssociationEvent): void {
    switch (e.type) {
      case 'communication-up':
      case 'restart':
        b.out.up = true;
        this.drain(b.id, b.out);
        return;
      case 'message': {
        b.messagesIn++;
        const f = this.fronts.get(b.front);
        const fwd: Forward = { from: b.id, token: e.holdToken, data: e.data, opts: { streamId: e.streamId, ppid: e.ppid, unordered: e.unordered } };
        if (!f || f.closed) {
          this.counters.undeliverable++;
          if (fwd.token !== undefined) this.io.release(b.id, fwd.token);
          return;
        }
        f.out.queue.push(fwd);
        this.drain(f.id, f.out);
        return;
      }
      case 'message-acked':
        this.onAcked(b.id, b.out, e.messageId, 'back');
        return;
      case 'sender-dry':
        this.drain(b.id, b.out);
        return;
      case 'communication-lost':
      case 'cannot-start':
        this.onBackLost(b);
        return;
      case 'shutdown-complete':
        this.backs.delete(b.id);
        return;
      default:
        return;
    }
  }

  private maybeShutdownBack(id: number): void {
    const b = this.backs.get(id);
    if (b && b.out.up && b.out.queue.length === 0) this.io.shutdown(id);
  }

  /** Sends what the association takes now, in order; stops at the first refusal. */
  private drain(assocId: number, out: Outbound): void {
    if (!out.up) return;
    while (out.queue.length > 0) {
      const fwd = out.queue[0]!;
      const r = this.io.send(assocId, fwd.data, fwd.opts);
      if (!r.ok) {
        if (r.error !== 'queue-full') {
          // A permanent refusal (e.g. a stream the peer does not accept): the
          // message is never acknowledged to its sender, the rest goes on.
          this.counters.refused++;
          out.queue.shift();
          continue;
        }
        return;
      }
      out.queue.shift();
      out.inflight.set(r.messageId, fwd);
      if (this.backs.has(assocId)) this.counters.forwardedToBack++;
      else this.counters.forwardedToFront++;
    }
    const b = this.backs.get(assocId);
    if (b && this.fronts.get(b.front)?.shuttingDown) this.io.shutdown(assocId);
  }

  private onAcked(assocId: number, out: Outbound, messageId: number, _side: 'front' | 'back'): void {
    const fwd = out.inflight.get(messageId);
    if (!fwd) return;
    out.inflight.delete(messageId);
    if (fwd.token !== undefined && (this.fronts.has(fwd.from) || this.backs.has(fwd.from))) {
      this.io.release(fwd.from, fwd.token);
      this.counters.released++;
    }
    this.drain(assocId, out);
  }

  private onBackLost(b: BackState): void {
    this.backs.delete(b.id);
    this.counters.backLost++;
    const f = this.fronts.get(b.front);
    if (!f || f.closed) return;
    if (f.backs.get(b.backend.name) === b.id) f.backs.delete(b.backend.name);
    // What the server had not acknowledged goes again, first, in the order it went.
    const again = [...b.out.inflight.values(), ...b.out.queue];
    if (again.length === 0) return;
    if (b.reconnects >= (this.options.maxReconnects ?? 10)) {
      this.counters.refused += again.length;
      return;
    }
    const id = this.openBack(f, b.backend, b.reconnects + 1);
    const nb = id === undefined ? undefined : this.backs.get(id);
    if (!nb) {
      this.counters.refused += again.length;
      return;
    }
    this.counters.resent += b.out.inflight.size;
    nb.out.queue.push(...again);
  }

  private closeFront(f: FrontState): void {
    f.closed = true;
    this.fronts.delete(f.id);
    for (const backId of f.backs.values()) this.io.shutdown(backId);
  }

  /** The pairs and what waits on each side (for inspection: `hasctp assocs`, logs, tests). */
  pairs(): PairView[] {
    return [...this.fronts.values()].map((f) => ({
      front: f.id,
      backs: [...f.backs.entries()].map(([backend, id]) => {
        const b = this.backs.get(id);
        return { backend, assocId: id, up: b?.out.up ?? false, waiting: b?.out.inflight.size ?? 0, queued: b?.out.queue.length ?? 0 };
      }),
      waitingFront: f.out.inflight.size + f.out.queue.length,
      ...(f.sgp && { m3ua: { state: f.sgp.state, routingContexts: f.sgp.activeContexts } }),
    }));
  }

  /** Messages received on one side and not yet acknowledged by the other. */
  waiting(): number {
    let n = 0;
    for (const b of this.backs.values()) n += b.out.inflight.size + b.out.queue.length;
    for (const f of this.fronts.values()) n += f.out.inflight.size + f.out.queue.length;
    return n;
  }

  /**
   * Everything the relay holds, as plain data (structured-cloneable): what a
   * replicated deployment (a cluster node's application state) carries to a
   * standby so that, with both endpoints replicated, it can finish forwarding
   * after a takeover. M3UA ASP states are included; counters are not.
   */
  exportState(): RelayState {
    const out = (o: Outbound): OutboundState => ({ up: o.up, queue: o.queue.slice(), inflight: [...o.inflight.entries()] });
    return {
      rr: this.rr,
      fronts: [...this.fronts.values()].map((f) => ({
        id: f.id, out: out(f.out), backs: [...f.backs.entries()], affinity: [...f.affinity.entries()],
        asp: f.sgp ? { state: f.sgp.state, contexts: f.sgp.activeContexts.slice() } : undefined,
        messagesIn: f.messagesIn, shuttingDown: f.shuttingDown,
      })),
      backs: [...this.backs.values()].map((b) => ({ id: b.id, front: b.front, backend: b.backend.name, out: out(b.out), reconnects: b.reconnects, messagesIn: b.messagesIn })),
    };
  }

  /** Takes over a state `exportState` produced (on a fresh relay with the same options). */
  importState(st: RelayState): void {
    const out = (o: OutboundState): Outbound => ({ up: o.up, queue: o.queue.slice(), inflight: new Map(o.inflight) });
    this.rr = st.rr;
    this.fronts.clear();
    this.backs.clear();
    for (const f of st.fronts) {
      const fs = this.newFront(f.id);
      Object.assign(fs.out, out(f.out));
      for (const [k, v] of f.backs) fs.backs.set(k, v);
      for (const [k, v] of f.affinity) fs.affinity.set(k, v);
      if (fs.sgp && f.asp) {
        fs.sgp.state = f.asp.state;
        fs.sgp.activeContexts = f.asp.contexts.slice();
      }
      fs.messagesIn = f.messagesIn;
      fs.shuttingDown = f.shuttingDown;
    }
    for (const b of st.backs) {
      const backend = this.options.backends.find((x) => x.name === b.backend);
      if (!backend) continue;
      this.backs.set(b.id, { id: b.id, front: b.front, backend, out: out(b.out), reconnects: b.reconnects, messagesIn: b.messagesIn });
    }
  }

  report(): Record<string, unknown> {
    return { ...this.counters, waiting: this.waiting(), m3ua: this.m3uaCounters, pairs: this.pairs() };
  }
}
