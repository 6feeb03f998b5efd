/**
 * The path model: who owns which address, the links between address pairs,
 * drop filters, and the fate of each datagram handed to the network (routing,
 * filters, link state, MTU, serialization queue, loss, duplication, jitter,
 * reordering). It decides; the simulation schedules.
 */
import type { Millis, SeededRng } from '../core/env.js';
import { addressFamily, canonicalAddress } from '../wire/address.js';
import { decodeSctp, encodeSctp } from './codec.js';
import { applyFilters } from './filters.js';
import type { ChunkPredicate, DropFilter, DropOptions } from './filters.js';
import type { Datagram, PacketTooBig } from './host.js';
import { defaultLinkProperties, emptyLinkStats, ipHeaderBytes, linkKey, mergeLink } from './link.js';
import type { LinkDirection, LinkProperties, LinkSettings, LinkStats } from './link.js';
import type { TraceParties, TraceRecorder } from './trace.js';

export interface NodeInfo {
  readonly name: string;
  readonly addresses: readonly string[];
}

/** A copy of a datagram on its way: delivered (or dropped) at `time`. */
export interface Arrival {
  readonly time: Millis;
  readonly who: TraceParties;
  readonly datagram: Datagram;
  readonly link: LinkDirection;
  readonly note: string | undefined;
}

/** What the network made of one datagram: arrivals to schedule, and maybe a too-big report. */
export interface Transmission<N> {
  readonly arrivals: readonly Arrival[];
  readonly tooBig?: { readonly time: Millis; readonly node: N; readonly who: TraceParties; readonly report: PacketTooBig };
}

type FilterOutcome = { kind: 'pass' } | { kind: 'drop'; label: string } | { kind: 'strip'; label: string; bytes: Uint8Array };

export class Network<N extends NodeInfo> {
  private readonly owners = new Map<string, N>();
  private readonly links = new Map<string, LinkDirection>();
  private readonly filters: DropFilter[] = [];
  private readonly canonical = new Map<string, string | undefined>();
  private readonly linkBase: LinkProperties;
  private readonly strictRouting: boolean;
  private nextDatagramId = 1;
  private nextFilterId = 1;

  constructor(
    private readonly rng: SeededRng,
    private readonly recorder: TraceRecorder,
    private readonly now: () => Millis,
    defaultLink: LinkSettings | null | undefined,
  ) {
    this.strictRouting = defaultLink === null;
    this.linkBase = mergeLink(defaultLinkProperties, defaultLink ?? {});
  }

  // ------------------------------------------------------------- addresses

  /** Canonical forms of a new node's addresses; throws if one is invalid, repeated or taken. */
  checkAddresses(addresses: readonly string[]): string[] {
    const own = addresses.map((a) => this.requireAddress(a, 'addNode'));
    for (const a of own) {
      const holder = this.owners.get(a);
      if (holder) throw new Error(`addNode: address ${a} already belongs to node "${holder.name}"`);
    }
    if (new Set(own).size !== own.length) throw new Error(`addNode: an address is listed twice`);
    return own;
  }

  /** Makes `node` the owner of its (checked) addresses. */
  register(node: N): void {
    for (const a of node.addresses) this.owners.set(a, node);
  }

  ownerOf(address: string): N | undefined {
    const a = this.canonicalize(address);
    return a === undefined ? undefined : this.owners.get(a);
  }

  requireAddress(address: string, what: string): string {
    const c = this.canonicalize(address);
    if (c === undefined) throw new Error(`${what}: "${address}" is not an IPv4 or IPv6 address`);
    return c;
  }

  private canonicalize(address: string): string | undefined {
    if (this.canonical.has(address)) return this.canonical.get(address);
    const c = canonicalAddress(address);
    this.canonical.set(address, c);
    return c;
  }

  // ------------------------------------------------------------------ links

  link(a: string, b: string, settings: LinkSettings, oneWay: boolean): void {
    const props = mergeLink(this.linkBase, settings);
    for (const [from, to] of this.pairs(a, b, oneWay, 'link')) {
      const dir = this.direction(from, to);
      dir.props = props;
      dir.configured = true;
    }
  }

  setLink(a: string, b: string, patch: LinkSettings, oneWay: boolean): void {
    for (const [from, to] of this.pairs(a, b, oneWay, 'setLink')) {
      const dir = this.direction(from, to);
      dir.props = mergeLink(dir.props, patch);
      dir.configured = true;
    }
  }

  linkProperties(from: string, to: string): LinkProperties | undefined {
    return this.links.get(linkKey(this.requireAddress(from, 'linkProperties'), this.requireAddress(to, 'linkProperties')))?.props;
  }

  linkStats(from: string, to: string): LinkStats {
    const dir = this.links.get(linkKey(this.requireAddress(from, 'linkStats'), this.requireAddress(to, 'linkStats')));
    return { ...(dir?.stats ?? emptyLinkStats()) };
  }

  allLinkStats(): { readonly from: string; readonly to: string; readonly stats: LinkStats }[] {
    return [...this.links.values()].map((d) => ({ from: d.from, to: d.to, stats: { ...d.stats } }));
  }

  private direction(from: string, to: string): LinkDirection {
    const key = linkKey(from, to);
    let dir = this.links.get(key);
    if (dir === undefined) {
      dir = { from, to, props: this.linkBase, stats: emptyLinkStats(), lastArrival: 0, busyUntil: 0, configured: false };
      this.links.set(key, dir);
    }
    return dir;
  }

  private pairs(a: string, b: string, oneWay: boolean, what: string): [string, string][] {
    const x = this.requireAddress(a, what);
    const y = this.requireAddress(b, what);
    if (addressFamily(x) !== addressFamily(y)) throw new Error(`${what}: ${x} and ${y} are of different families`);
    return oneWay || x === y ? [[x, y]] : [[x, y], [y, x]];
  }

  // ---------------------------------------------------------------- filters

  dropNext(predicate: ChunkPredicate, options: DropOptions): DropFilter {
    const count = options.count ?? 1;
    if (!(count >= 1) || (!Number.isInteger(count) && count !== Infinity)) {
      throw new Error(`dropNext: count must be a positive integer or Infinity (got ${count})`);
    }
    const id = this.nextFilterId++;
    const direction: { from?: string; to?: string } = {};
    if (options.direction?.from !== undefined) direction.from = this.canonicalize(options.direction.from) ?? options.direction.from;
    if (options.direction?.to !== undefined) direction.to = this.canonicalize(options.direction.to) ?? options.direction.to;
    const filter: DropFilter = {
      id,
      label: options.label ?? `filter#${id}`,
      mode: options.mode ?? 'packet',
      predicate,
      direction,
      remaining: count,
      hits: [],
    };
    this.filters.push(filter);
    return filter;
  }

  cancelFilter(filter: DropFilter): void {
    const i = this.filters.indexOf(filter);
    if (i >= 0) this.filters.splice(i, 1);
  }

  get activeFilters(): readonly DropFilter[] {
    return this.filters;
  }

  private filter(datagram: Datagram, fromNode: string | undefined, toNode: string): FilterOutcome {
    if (this.filters.length === 0) return { kind: 'pass' };
    const matches = (want: string | undefined, address: string, node: string | undefined): boolean =>
      want === undefined || want === address || want === node;
    const candidates = this.filters.filter(
      (f) => matches(f.direction.from, datagram.source, fromNode) && matches(f.direction.to, datagram.destination, toNode),
    );
    if (candidates.length === 0) return { kind: 'pass' };
    const decoded = decodeSctp(datagram.bytes);
    if (!decoded.ok) return { kind: 'pass' };
    const verdict = applyFilters(candidates, this.now(), datagram, decoded.packet);
    for (let i = this.filters.length - 1; i >= 0; i--) if (this.filters[i]!.remaining <= 0) this.filters.splice(i, 1);
    switch (verdict.kind) {
      case 'pass':
        return verdict;
      case 'drop':
        return { kind: 'drop', label: verdict.filter.label };
      case 'strip': {
        const packet = decoded.packet;
        const bytes = encodeSctp({
          sourcePort: packet.sourcePort,
          destinationPort: packet.destinationPort,
          verificationTag: packet.verificationTag,
          chunks: verdict.keep.map((i) => packet.chunks[i]!),
        });
        const stripped = packet.chunks.length - verdict.keep.length;
        return { kind: 'strip', label: `${verdict.filters.map((f) => f.label).join(',')} stripped ${stripped} chunk(s)`, bytes };
      }
    }
  }

  // ------------------------------------------------------------- datagrams

  /**
   * Decides the fate of a datagram sent now by `from` (undefined: injected).
   * Every drop is recorded and counted here; arrivals are for the caller to
   * schedule. RNG draws happen in a fixed order (loss, duplicate, then per copy
   * jitter and reorder) so runs are reproducible.
   */
  transmit(from: N | undefined, raw: Datagram): Transmission<N> {
    const none: Transmission<N> = { arrivals: [] };
    const id = this.nextDatagramId++;
    const source = this.canonicalize(raw.source);
    const destination = this.canonicalize(raw.destination);
    const fromNode = from?.name;
    if (source === undefined || destination === undefined) {
      const who: TraceParties = { id, copy: 0, fromNode, toNode: undefined };
      this.recorder.record('sent', who, raw);
      this.recorder.drop(who, raw, 'no-route', 'not an IP address');
      return none;
    }
    let datagram: Datagram = source === raw.source && destination === raw.destination ? raw : { source, destination, bytes: raw.bytes };
    const owner = this.owners.get(destination);
    const who: TraceParties = { id, copy: 0, fromNode, toNode: owner?.name };
    this.recorder.record('sent', who, datagram);
    if (from && !from.addresses.includes(source)) {
      this.recorder.drop(who, datagram, 'foreign-source', `${source} is not an address of ${from.name}`);
      return none;
    }
    if (owner === undefined) {
      this.recorder.drop(who, datagram, 'no-route', 'no node has this address');
      return none;
    }
    if (addressFamily(source) !== addressFamily(destination)) {
      this.recorder.drop(who, datagram, 'no-route', 'address families differ');
      return none;
    }
    const link = this.links.get(linkKey(source, destination)) ?? (this.strictRouting ? undefined : this.direction(source, destination));
    if (link === undefined) {
      this.recorder.drop(who, datagram, 'no-route', 'no link (strict routing)');
      return none;
    }

    const filtered = this.filter(datagram, fromNode, owner.name);
    if (filtered.kind === 'drop') {
      link.stats.filtered += 1;
      this.recorder.drop(who, datagram, 'filtered', filtered.label);
      return none;
    }
    if (filtered.kind === 'strip') {
      link.stats.filtered += 1;
      datagram = { source, destination, bytes: filtered.bytes };
      this.recorder.record('trimmed', who, datagram, undefined, filtered.label);
    }
    return this.onLink(link, from, who, datagram);
  }

  private onLink(link: LinkDirection, from: N | undefined, who: TraceParties, datagram: Datagram): Transmission<N> {
    const none: Transmission<N> = { arrivals: [] };
    const now = this.now();
    const p = link.props;
    const stats = link.stats;
    const size = datagram.bytes.length + ipHeaderBytes(datagram.destination);
    stats.sent += 1;
    stats.bytesSent += datagram.bytes.length;
    if (!p.up) {
      stats.linkDown += 1;
      this.recorder.drop(who, datagram, 'link-down');
      return none;
    }
    if (size > p.mtu) {
      stats.tooBig += 1;
      this.recorder.drop(who, datagram, 'too-big', `${size}B > mtu ${p.mtu}`);
      if (p.tooBig === 'report' && from) {
        const report: PacketTooBig = { source: datagram.source, destination: datagram.destination, mtu: p.mtu, bytes: datagram.bytes };
        return { arrivals: [], tooBig: { time: now + p.delay, node: from, who, report } };
      }
      return none;
    }
    let departure = now;
    if (p.bandwidth !== undefined) {
      const backlog = Math.max(0, link.busyUntil - now) * p.bandwidth;
      if (backlog + size > p.queueLimit) {
        stats.queueFull += 1;
        this.recorder.drop(who, datagram, 'queue-full', `${backlog}B queued`);
        return none;
      }
      link.busyUntil = Math.max(now, link.busyUntil) + size / p.bandwidth;
      departure = link.busyUntil;
    }
    if (this.chance(p.loss)) {
      stats.lost += 1;
      this.recorder.drop(who, datagram, 'loss');
      return none;
    }
    const copies = this.chance(p.duplicate) ? 2 : 1;
    if (copies === 2) stats.duplicated += 1;
    const arrivals: Arrival[] = [];
    for (let copy = 0; copy < copies; copy++) {
      let time = departure + p.delay + (p.jitter > 0 ? this.rng.nextFloat() * p.jitter : 0);
      let note: string | undefined;
      if (this.chance(p.reorder)) {
        stats.reordered += 1;
        time += p.reorderDelay;
        note = 'reordered';
      } else {
        // FIFO: jitter alone never lets a datagram overtake an earlier one.
        time = Math.max(time, link.lastArrival);
        link.lastArrival = time;
      }
      arrivals.push({ time, who: { ...who, copy }, datagram, link, note });
    }
    return { arrivals };
  }

  /** Checks an arrival against the link and the destination node; records the fate. True: hand it to the host. */
  arrive(a: Arrival, alive: boolean): boolean {
    const stats = a.link.stats;
    if (!a.link.props.up) {
      stats.linkDown += 1;
      this.recorder.drop(a.who, a.datagram, 'link-down', 'cut while in flight');
      return false;
    }
    if (!alive) {
      stats.nodeDown += 1;
      this.recorder.drop(a.who, a.datagram, 'node-down');
      return false;
    }
    stats.delivered += 1;
    stats.bytesDelivered += a.datagram.bytes.length;
    this.recorder.record('delivered', a.who, a.datagram, undefined, a.note);
    return true;
  }

  private chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.rng.nextFloat() < p;
  }
}
