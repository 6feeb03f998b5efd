/**
 * A deterministic simulated network for sans-IO hosts (DESIGN.md §2, §5).
 *
 * Time is virtual and starts at 0. Everything that happens is an event in one
 * queue ordered by (time, insertion sequence), and every random choice (loss,
 * jitter, duplication, reordering) comes from one SeededRng drawn in a fixed
 * order, so a run is bit-for-bit reproducible from its seed.
 *
 * After each input to a host (a delivery, a timeout, an action, `poke`) the
 * simulator drains `pollTransmit` and re-reads `pollTimeout`; each host has at
 * most one pending timeout event, replaced when its deadline moves. A host added
 * with `addNode` or `replaceHost` is first polled by a `start` event at the
 * current time, so every node added before a run exists when the first one sends.
 *
 * The simulator is test infrastructure, not core: it throws on misuse and when a
 * run exceeds its time or event bound, with the bound named in the message.
 */
import { SeededRng } from '../core/env.js';
import type { Millis } from '../core/env.js';
import { addressFamily } from '../wire/address.js';
import type { ChunkPredicate, DropFilter, DropOptions } from './filters.js';
import type { Datagram, PacketTooBig, SimHost } from './host.js';
import type { LinkProperties, LinkSettings, LinkStats } from './link.js';
import { Network } from './network.js';
import type { Arrival } from './network.js';
import { EventQueue } from './queue.js';
import type { QueueEntry } from './queue.js';
import { TraceRecorder } from './trace.js';
import type { DropReason, FormatTraceOptions, TraceEntry, TraceParties } from './trace.js';

export interface SimulationOptions {
  readonly seed: number;
  /**
   * The link used for address pairs nobody configured (merged over
   * `defaultLinkProperties`). `null` makes routing strict: a datagram between
   * unlinked addresses is dropped as `no-route`.
   */
  readonly defaultLink?: LinkSettings | null;
  /** Bound on events processed by one `run`/`runUntil` call (default 1,000,000). */
  readonly maxEvents?: number;
  /** Bound on datagrams drained from one host after one input (default 100,000). */
  readonly maxTransmitsPerPoll?: number;
  /** Trace entries kept; older ones are discarded (default 200,000; 0 disables tracing). */
  readonly traceLimit?: number;
}

export type RunOptions =
  | { readonly until: Millis; readonly maxEvents?: number }
  | { readonly untilIdle: true; readonly maxTime: Millis; readonly maxEvents?: number };

interface NodeState {
  readonly name: string;
  readonly addresses: readonly string[];
  host: SimHost;
  alive: boolean;
  timer: QueueEntry<SimEvent> | undefined;
  /** The deadline `timer` was armed for, as the host returned it. */
  deadline: Millis | undefined;
}

type SimEvent =
  | { readonly kind: 'deliver'; readonly arrival: Arrival }
  | { readonly kind: 'timeout'; readonly node: NodeState }
  /** First poll of a host added or replaced: in event order, so nodes added together all exist by then. */
  | { readonly kind: 'start'; readonly node: NodeState; readonly host: SimHost }
  | { readonly kind: 'too-big-report'; readonly who: TraceParties; readonly node: NodeState; readonly report: PacketTooBig }
  | { readonly kind: 'action'; readonly label: string; readonly action: (sim: Simulation) => void };

export function createSimulation(options: SimulationOptions): Simulation {
  return new Simulation(options);
}

export class Simulation {
  private clock: Millis = 0;
  private readonly rng: SeededRng;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes = new Map<string, NodeState>();
  private readonly network: Network<NodeState>;
  private readonly recorder: TraceRecorder;
  private readonly maxEvents: number;
  private readonly maxTransmitsPerPoll: number;
  private running = false;

  constructor(options: SimulationOptions) {
    if (!Number.isInteger(options.seed)) throw new Error(`createSimulation: seed must be an integer (got ${options.seed})`);
    this.rng = new SeededRng(options.seed);
    this.maxEvents = options.maxEvents ?? 1_000_000;
    this.maxTransmitsPerPoll = options.maxTransmitsPerPoll ?? 100_000;
    const now = (): Millis => this.clock;
    this.recorder = new TraceRecorder(options.traceLimit ?? 200_000, now);
    this.network = new Network<NodeState>(this.rng, this.recorder, now, options.defaultLink);
  }

  /** Current virtual time. */
  get now(): Millis {
    return this.clock;
  }

  /** Events queued (deliveries in flight, one timeout per host with a deadline, actions). */
  get pendingEvents(): number {
    return this.queue.size;
  }

  /** Time of the next event, if any. */
  get nextEventTime(): Millis | undefined {
    return this.queue.peek()?.time;
  }

  /**
   * A new RNG seeded from the simulation's, for hosts (vtags, TSNs, nonces), so
   * one seed drives the whole run. Consumes one draw of the simulation RNG.
   */
  forkRng(): SeededRng {
    return new SeededRng(this.rng.nextU32());
  }

  // ------------------------------------------------------------------- nodes

  addNode(name: string, addresses: readonly string[], host: SimHost): void {
    if (this.nodes.has(name)) throw new Error(`addNode: node "${name}" exists`);
    if (addresses.length === 0) throw new Error(`addNode: node "${name}" needs at least one address`);
    const own = this.network.checkAddresses(addresses);
    const node: NodeState = { name, addresses: own, host, alive: true, timer: undefined, deadline: undefined };
    this.nodes.set(name, node);
    this.network.register(node);
    this.queue.push(this.clock, { kind: 'start', node, host });
  }

  /**
   * Swaps the host behind a node (a restart, or a standby taking the addresses)
   * and revives it; the new host is first polled at the current time, in event order.
   */
  replaceHost(name: string, host: SimHost): void {
    const node = this.requireNode(name, 'replaceHost');
    this.cancelTimer(node);
    node.host = host;
    node.alive = true;
    this.queue.push(this.clock, { kind: 'start', node, host });
  }

  /** Crashes a node: no more deliveries (dropped as `node-down`), timeouts or polls. Datagrams already sent stay in flight. */
  killNode(name: string): void {
    const node = this.requireNode(name, 'killNode');
    node.alive = false;
    this.cancelTimer(node);
  }

  isAlive(name: string): boolean {
    return this.requireNode(name, 'isAlive').alive;
  }

  host(name: string): SimHost {
    return this.requireNode(name, 'host').host;
  }

  addressesOf(name: string): readonly string[] {
    return this.requireNode(name, 'addressesOf').addresses;
  }

  /** Node owning `address`, if any. */
  nodeOf(address: string): string | undefined {
    return this.network.ownerOf(address)?.name;
  }

  /**
   * Drains the node's transmissions and re-reads its deadline now: call it after
   * driving a host directly (e.g. `association.send(...)`) outside an action.
   */
  poke(name: string): void {
    const node = this.requireNode(name, 'poke');
    if (node.alive) this.service(node);
  }

  /** Runs `action` at virtual time `time` (in event order), then services every live node. */
  at(time: Millis, action: (sim: Simulation) => void, label = 'action'): void {
    if (!(time >= this.clock)) throw new Error(`at: time ${time} is before now (${this.clock})`);
    this.queue.push(time, { kind: 'action', label, action });
  }

  after(delay: Millis, action: (sim: Simulation) => void, label = 'action'): void {
    this.at(this.clock + delay, action, label);
  }

  // ------------------------------------------------------------------- links

  /** Configures a link between two addresses (both directions unless `oneWay`), from the default link plus `settings`. */
  link(a: string, b: string, settings: LinkSettings = {}, options: { readonly oneWay?: boolean } = {}): void {
    this.network.link(a, b, settings, options.oneWay ?? false);
  }

  /** Changes some properties of a link (both directions unless `oneWay`) at any time, e.g. `{ up: false }`. */
  setLink(a: string, b: string, patch: LinkSettings, options: { readonly oneWay?: boolean } = {}): void {
    this.network.setLink(a, b, patch, options.oneWay ?? false);
  }

  /** `setLink` on every same-family address pair between two nodes, both directions. */
  setNodeLinks(nodeA: string, nodeB: string, patch: LinkSettings): void {
    const na = this.requireNode(nodeA, 'setNodeLinks');
    const nb = this.requireNode(nodeB, 'setNodeLinks');
    for (const a of na.addresses) {
      for (const b of nb.addresses) if (addressFamily(a) === addressFamily(b)) this.network.setLink(a, b, patch, false);
    }
  }

  /** Properties of one direction: configured, created from the default on use, or undefined. */
  linkProperties(from: string, to: string): LinkProperties | undefined {
    return this.network.linkProperties(from, to);
  }

  /** A copy of one direction's counters (zeros if nothing used it). */
  linkStats(from: string, to: string): LinkStats {
    return this.network.linkStats(from, to);
  }

  /** Counters of every direction used or configured, in creation order. */
  allLinkStats(): { readonly from: string; readonly to: string; readonly stats: LinkStats }[] {
    return this.network.allLinkStats();
  }

  /** Datagrams dropped, by reason, over the whole network. */
  dropCounts(): Record<DropReason, number> {
    return { ...this.recorder.drops };
  }

  // ----------------------------------------------------------------- filters

  /** Installs a drop filter (see filters.ts); the returned handle shows what it caught. */
  dropNext(predicate: ChunkPredicate, options: DropOptions = {}): DropFilter {
    return this.network.dropNext(predicate, options);
  }

  cancelFilter(filter: DropFilter): void {
    this.network.cancelFilter(filter);
  }

  get activeFilters(): readonly DropFilter[] {
    return this.network.activeFilters;
  }

  // ------------------------------------------------------------------ trace

  get trace(): readonly TraceEntry[] {
    return this.recorder.entries;
  }

  /** Entries discarded because of `traceLimit`. */
  get traceDiscarded(): number {
    return this.recorder.discarded;
  }

  formatTrace(options: FormatTraceOptions = {}): string {
    return this.recorder.format(options);
  }

  /** Sends a datagram into the network from outside any node (a scripted peer, a spoofer). */
  inject(datagram: Datagram): void {
    this.transmit(undefined, datagram);
  }

  private transmit(from: NodeState | undefined, datagram: Datagram): void {
    const t = this.network.transmit(from, datagram);
    for (const arrival of t.arrivals) this.queue.push(arrival.time, { kind: 'deliver', arrival });
    if (t.tooBig) this.queue.push(t.tooBig.time, { kind: 'too-big-report', who: t.tooBig.who, node: t.tooBig.node, report: t.tooBig.report });
  }

  // ------------------------------------------------------------- run control

  /** Processes the next event, if any; returns false when the queue is empty. */
  step(): boolean {
    this.enter('step');
    try {
      const entry = this.queue.pop();
      if (entry === undefined) return false;
      this.process(entry);
      return true;
    } finally {
      this.running = false;
    }
  }

  /**
   * `{ until }`: processes every event up to and including `until`, then sets the
   * clock to `until`. `{ untilIdle, maxTime }`: runs until no event is left, and
   * throws if one is still pending after `maxTime`. Returns the events processed.
   */
  run(options: RunOptions): number {
    this.enter('run');
    try {
      const bound = options.maxEvents ?? this.maxEvents;
      if ('until' in options) {
        if (!(options.until >= this.clock)) throw new Error(`run: until=${options.until} is before now (${this.clock})`);
        let n = 0;
        for (let e = this.queue.peek(); e !== undefined && e.time <= options.until; e = this.queue.peek()) {
          if (n >= bound) throw this.boundError('run', `maxEvents=${bound}`);
          this.process(this.queue.pop()!);
          n += 1;
        }
        this.clock = options.until;
        return n;
      }
      let n = 0;
      for (let e = this.queue.peek(); e !== undefined; e = this.queue.peek()) {
        if (e.time > options.maxTime) {
          this.clock = Math.max(this.clock, options.maxTime);
          throw this.boundError('run({ untilIdle })', `maxTime=${options.maxTime} (still busy)`);
        }
        if (n >= bound) throw this.boundError('run({ untilIdle })', `maxEvents=${bound}`);
        this.process(this.queue.pop()!);
        n += 1;
      }
      return n;
    } finally {
      this.running = false;
    }
  }

  /**
   * Processes events until `predicate()` holds (checked before the first event
   * and after each); returns the virtual time it became true. Throws if the
   * network goes idle first, or `maxTime` or the event bound is reached.
   */
  runUntil(predicate: () => boolean, maxTime: Millis, maxEvents: number = this.maxEvents): Millis {
    this.enter('runUntil');
    try {
      if (predicate()) return this.clock;
      for (let n = 0; ; n++) {
        const e = this.queue.peek();
        if (e === undefined) throw this.boundError('runUntil', `idle before the condition held (maxTime=${maxTime})`);
        if (e.time > maxTime) {
          this.clock = Math.max(this.clock, maxTime);
          throw this.boundError('runUntil', `maxTime=${maxTime} reached before the condition held`);
        }
        if (n >= maxEvents) throw this.boundError('runUntil', `maxEvents=${maxEvents}`);
        this.process(this.queue.pop()!);
        if (predicate()) return this.clock;
      }
    } finally {
      this.running = false;
    }
  }

  private enter(what: string): void {
    if (this.running) throw new Error(`${what}: the simulation is already running (called from a host or an action?)`);
    this.running = true;
  }

  private boundError(what: string, bound: string): Error {
    const next = this.queue.peek();
    return new Error(
      `Simulation.${what}: exceeded ${bound} at t=${this.clock}; ${this.queue.size} events pending` +
        (next ? `, next at t=${next.time} (${next.payload.kind})` : '') +
        `\nlast trace entries:\n${this.formatTrace({ last: 20 })}`,
    );
  }

  private process(entry: QueueEntry<SimEvent>): void {
    this.clock = entry.time;
    const ev = entry.payload;
    switch (ev.kind) {
      case 'deliver':
        return this.deliver(ev.arrival);
      case 'timeout': {
        const node = ev.node;
        node.timer = undefined;
        node.deadline = undefined;
        if (!node.alive) return;
        node.host.handleTimeout(this.clock);
        return this.service(node);
      }
      case 'start':
        // Skipped if the host was replaced or killed before its first poll.
        if (ev.node.alive && ev.node.host === ev.host) this.service(ev.node);
        return;
      case 'too-big-report': {
        const node = ev.node;
        if (!node.alive) return;
        this.recorder.record('reported', ev.who, ev.report, undefined, `mtu ${ev.report.mtu}`);
        if (node.host.handlePacketTooBig === undefined) return;
        node.host.handlePacketTooBig(this.clock, ev.report);
        return this.service(node);
      }
      case 'action':
        ev.action(this);
        for (const node of this.nodes.values()) if (node.alive) this.service(node);
        return;
    }
  }

  private deliver(arrival: Arrival): void {
    const node = this.network.ownerOf(arrival.datagram.destination);
    if (node === undefined || !this.network.arrive(arrival, node.alive)) return;
    node.host.handlePacket(this.clock, arrival.datagram);
    this.service(node);
  }

  /** Drains the host's transmissions, then re-arms its one timeout event. */
  private service(node: NodeState): void {
    for (let n = 0; ; n++) {
      if (!node.alive) return;
      const d = node.host.pollTransmit(this.clock);
      if (d === undefined) break;
      if (n >= this.maxTransmitsPerPoll) {
        throw this.boundError(`service(${node.name})`, `maxTransmitsPerPoll=${this.maxTransmitsPerPoll}`);
      }
      this.transmit(node, d);
    }
    const deadline = node.host.pollTimeout();
    if (deadline === undefined) return this.cancelTimer(node);
    if (typeof deadline !== 'number' || !Number.isFinite(deadline)) {
      throw new Error(`node "${node.name}": pollTimeout returned ${String(deadline)}`);
    }
    if (node.timer !== undefined && node.deadline === deadline) return;
    this.cancelTimer(node);
    node.deadline = deadline;
    // A deadline already past fires now, after the events already queued for now.
    node.timer = this.queue.push(Math.max(deadline, this.clock), { kind: 'timeout', node });
  }

  private cancelTimer(node: NodeState): void {
    if (node.timer !== undefined) this.queue.remove(node.timer);
    node.timer = undefined;
    node.deadline = undefined;
  }

  // ---------------------------------------------------------------- helpers

  private requireNode(name: string, what: string): NodeState {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`${what}: no node "${name}"`);
    return node;
  }
}
