/**
 * One cluster node's replicated endpoint (DESIGN.md §4), sans-IO like the core
 * it wraps: inputs carry this host's `now`, outputs are polled (SCTP
 * datagrams, cluster-link messages, application events, notices).
 *
 * Replication is a log of the core's inputs. The primary applies each input
 * (a packet, a timer, an application call) to its endpoint as one record
 * {seq, now, ops, entropy}; a standby applies the same records to its copy
 * and, the core being deterministic, holds the same TCB. The rules of §4:
 *
 * - Sync before acknowledge / transmit (`sync` mode): every datagram the
 *   primary's core produced while applying record n is held until the
 *   standby acknowledged n. A SACK therefore never covers a DATA chunk the
 *   standby does not have, and no DATA leaves with a TSN the standby does not
 *   know (this is output commit: one rule gives both guarantees).
 * - Application commit: deliveries are numbered per association; the
 *   application commits them (with its own state, optionally in the same
 *   record as its reply); a promoted standby re-delivers exactly the
 *   uncommitted ones, flagged `redelivered`.
 * - Full sync, then records; the standby is declared in sync only once it
 *   acknowledged the full sync, and only then may it take over. Digests catch
 *   drift and trigger a new full sync.
 * - A standby is silent: it answers HEARTBEATs for associations it holds,
 *   forwards every other packet for them to the primary, drops the rest.
 * - Epochs fence: a promotion bumps the epoch; messages from an older epoch
 *   are ignored; a primary that meets a newer epoch steps down and rejoins
 *   through a full sync.
 * - Bounded: too many unacknowledged records, or a silent standby, make the
 *   associations explicitly unprotected (a notice and a counter), and held
 *   datagrams are released.
 */
import { createEndpoint, type Datagram, type Endpoint, type EndpointEvent, type EndpointOptions, type EndpointState } from '../../core/endpoint.js';
import type { Millis, Rng } from '../../core/env.js';
import type { SendResult } from '../../core/association/association.js';
import { crc32c } from '../../wire/crc32c.js';
import { decodePacket, encodePacket } from '../../wire/packet.js';
import type { Chunk } from '../../wire/types.js';
import { decodePlain, encodePlain } from './plain-codec.js';
import type { AppLedger, ClusterMessage, Delivery, LogRecord, Op, Role } from './messages.js';
import { TapRng } from './tap-rng.js';

export type ReplicationMode = 'sync' | 'async';

/** What protects the associations right now. */
export type Protection = 'unprotected' | 'joining' | 'in-sync';

export interface ReplicaOptions {
  readonly node: string;
  readonly role: Role;
  /** The endpoint every node of the cluster presents: all nodes' addresses, one port. */
  readonly endpoint: Omit<EndpointOptions, 'rng' | 'now'>;
  /** The addresses this host holds: datagrams leave from one of these. */
  readonly ownAddresses: readonly string[];
  readonly rng: Rng;
  readonly now: Millis;
  readonly mode?: ReplicationMode;
  /** Cluster heartbeat period and how many may be missed before the other node counts as dead (default 50 ms × 3). */
  readonly heartbeatInterval?: Millis;
  readonly heartbeatMisses?: number;
  /** Unacknowledged records are sent again after this long (a lossy link; over TCP only after a stall). */
  readonly recordRetransmit?: Millis;
  /** Digest comparison period; 0 turns it off. */
  readonly digestInterval?: Millis;
  /** Bounds: unacknowledged records and their bytes before the association is declared unprotected. */
  readonly maxPendingRecords?: number;
  readonly maxPendingBytes?: number;
  /** A standby promotes itself when the primary falls silent (default true). */
  readonly autoPromote?: boolean;
  /**
   * On a takeover (not a planned switchover, where the old primary forwards
   * the peer's SACKs), retransmit at once what the peer has not acknowledged:
   * its SACKs for it went to the dead host (default true; off only to measure
   * what it saves).
   */
  readonly retransmitOnTakeover?: boolean;
  /**
   * Turns the output hold off while a standby is in sync: the negative
   * control that shows what withholding SACKs protects. Never in production.
   */
  readonly unsafeNoHold?: boolean;
}

export type AppEvent =
  | {
      readonly type: 'message';
      readonly assocId: number;
      readonly delivery: number;
      readonly streamId: number;
      readonly ppid: number;
      readonly unordered: boolean;
      readonly data: Uint8Array;
      readonly redelivered: boolean;
    }
  /**
   * On promotion (and a checkpoint restart), for every association: the
   * application state the old primary committed last (undefined if its
   * application never committed any), and whether the association is up.
   */
  | { readonly type: 'app-state'; readonly assocId: number; readonly appState: Uint8Array | undefined; readonly committed: number; readonly established: boolean }
  | { readonly type: 'core'; readonly assocId: number; readonly event: Exclude<EndpointEvent['event'], { type: 'message' }> };

export type Notice =
  | { readonly type: 'role'; readonly role: Role; readonly epoch: number; readonly reason: string }
  | { readonly type: 'protection'; readonly protection: Protection; readonly reason: string }
  | { readonly type: 'drift'; readonly reason: string }
  | { readonly type: 'cannot-promote'; readonly reason: string };

export interface ReplicaCounters {
  recordsSent: number;
  recordsApplied: number;
  recordRetransmits: number;
  fullSyncsSent: number;
  fullSyncsApplied: number;
  unprotected: number;
  digestMismatches: number;
  heartbeatsAnswered: number;
  packetsForwarded: number;
  packetsDroppedAsStandby: number;
  promotions: number;
  demotions: number;
  heldDatagrams: number;
  staleMessages: number;
  badMessages: number;
}

interface Held {
  readonly seq: number;
  readonly datagram: Datagram;
}

/** The state a full sync carries. */
interface FullState {
  readonly endpoint: EndpointState;
  readonly ledgers: [number, AppLedger][];
}

const RECORDS_PER_MESSAGE = 512;
/** Packets held during a planned switchover, and forwarded ones kept by the standby taking over. */
const MAX_DEFERRED = 10_000;
/** A planned switchover that has not completed by then is abandoned. */
const HANDOVER_TIMEOUT = 2000;
const MAX_REORDER_BUFFER = 4096;

export class Replica {
  readonly node: string;
  readonly counters: ReplicaCounters = {
    recordsSent: 0,
    recordsApplied: 0,
    recordRetransmits: 0,
    fullSyncsSent: 0,
    fullSyncsApplied: 0,
    unprotected: 0,
    digestMismatches: 0,
    heartbeatsAnswered: 0,
    packetsForwarded: 0,
    packetsDroppedAsStandby: 0,
    promotions: 0,
    demotions: 0,
    heldDatagrams: 0,
    staleMessages: 0,
    badMessages: 0,
  };
  readonly endpoint: Endpoint;
  private readonly tap: TapRng;
  private readonly opts: Required<Omit<ReplicaOptions, 'endpoint' | 'ownAddresses' | 'rng' | 'now' | 'node' | 'role'>>;
  private readonly own: readonly string[];
  private role: Role;
  private epoch = 0;
  /** Core time = this host's time + offset (a standby adopts the primary's time base). */
  private offset = 0;
  private lastNow: Millis;
  /** Last record applied (both roles). */
  private seq = 0;
  private readonly ledgers = new Map<number, AppLedger>();

  // primary side
  private protection: Protection = 'unprotected';
  private standbyNode: string | undefined;
  /** The SCTP addresses the standby announced in its hello. */
  private standbyAddresses: readonly string[] = [];
  /** Associations that came up: check they list the standby's addresses (after the record that brought them up). */
  private presentPending: number[] = [];
  private fullSyncSeq: number | undefined;
  private fullSyncSentAt: Millis = 0;
  private ackedSeq = 0;
  private pending: LogRecord[] = [];
  private pendingBytes = 0;
  private unsent: LogRecord[] = [];
  private lastRecordSendAt: Millis = 0;
  private held: Held[] = [];
  private heldHead = 0;
  private nextDigestAt: Millis;

  // standby side
  private synced = false;
  private ready = false;
  private readonly reorder = new Map<number, LogRecord>();
  private expectedDigest: { readonly seq: number; readonly digest: number } | undefined;
  private resyncAskedAt: Millis | undefined;
  /** Set on a primary that handed over, until the other node is primary. */
  private handoverSeq: number | undefined;
  /** A planned switchover in progress on the primary: inputs wait while the standby catches up. */
  private handingOver: { readonly since: Millis; readonly deferred: Datagram[] } | undefined;
  /** A checkpoint store gates output too (setExternalGate), and what it acknowledged. */
  private externalGate = false;
  private externalAckedSeq = 0;
  /** Standby: packets the (handing-over) primary forwarded before this node took over. */
  private readonly earlyForwards: Datagram[] = [];
  /** Standby: a handover announced for a record not applied yet. */
  private pendingHandover: number | undefined;

  // both
  /** The full-sync generation: the primary's last one sent, the standby's last one applied. */
  private syncId = 0;
  private lastHeard: Millis | undefined;
  private nextHelloAt: Millis;
  private readonly out: Datagram[] = [];
  private readonly link: ClusterMessage[] = [];
  private readonly app: AppEvent[] = [];
  private readonly notices: Notice[] = [];

  constructor(options: ReplicaOptions) {
    this.node = options.node;
    this.role = options.role;
    this.own = options.ownAddresses.slice();
    this.tap = new TapRng(options.rng);
    this.opts = {
      mode: options.mode ?? 'sync',
      heartbeatInterval: options.heartbeatInterval ?? 50,
      heartbeatMisses: options.heartbeatMisses ?? 3,
      recordRetransmit: options.recordRetransmit ?? 100,
      digestInterval: options.digestInterval ?? 1000,
      maxPendingRecords: options.maxPendingRecords ?? 50_000,
      maxPendingBytes: options.maxPendingBytes ?? 64 * 1024 * 1024,
      autoPromote: options.autoPromote ?? true,
      unsafeNoHold: options.unsafeNoHold ?? false,
      retransmitOnTakeover: options.retransmitOnTakeover ?? true,
    };
    this.endpoint = createEndpoint({ ...options.endpoint, rng: this.tap, now: options.now });
    this.lastNow = options.now;
    this.nextHelloAt = options.now;
    this.nextDigestAt = options.now + this.opts.digestInterval;
  }

  // ------------------------------------------------------------ inspection

  get currentRole(): Role {
    return this.role;
  }
  get currentEpoch(): number {
    return this.epoch;
  }
  get appliedSeq(): number {
    return this.seq;
  }
  /** Primary: what protects its associations. Standby: whether it could take over. */
  get protectionState(): Protection {
    if (this.role === 'primary') return this.protection;
    return this.ready ? 'in-sync' : this.synced ? 'joining' : 'unprotected';
  }
  /** Records the standby has not acknowledged yet (replication lag). */
  get lagRecords(): number {
    return this.pending.length;
  }
  uncommitted(assocId: number): readonly Delivery[] {
    return this.ledgers.get(assocId)?.uncommitted ?? [];
  }
  coreNow(localNow: Millis): Millis {
    const t = Math.max(this.lastNow, localNow + this.offset);
    this.lastNow = t;
    return t;
  }

  // ------------------------------------------------------------ primary: inputs

  /**
   * Applies application calls as one record (primary only): a reply and the
   * commit of the message it answers go in one `apply`. Returns the result of
   * each op (`send` results, `connect` results), undefined for the others.
   */
  apply(localNow: Millis, ops: readonly Op[]): (SendResult | ReturnType<Endpoint['connect']> | undefined)[] {
    if (this.role !== 'primary') return ops.map(() => undefined);
    return this.record(this.coreNow(localNow), ops);
  }

  send(localNow: Millis, assocId: number, data: Uint8Array, options: Extract<Op, { op: 'send' }>['options']): SendResult {
    return this.apply(localNow, [{ op: 'send', assocId, data, options }])[0] as SendResult;
  }

  commit(localNow: Millis, assocId: number, delivery: number, appState?: Uint8Array): void {
    this.apply(localNow, [{ op: 'commit', assocId, delivery, ...(appState ? { appState } : {}) }]);
  }

  /** An SCTP datagram reached one of this host's addresses. */
  handlePacket(localNow: Millis, d: Datagram): void {
    if (this.role === 'primary') {
      if (this.handingOver) {
        if (this.handingOver.deferred.length < MAX_DEFERRED) this.handingOver.deferred.push(d);
        return;
      }
      this.record(this.coreNow(localNow), [{ op: 'packet', source: d.source, destination: d.destination, bytes: d.bytes }]);
      return;
    }
    this.standbyPacket(d);
  }

  handleTimeout(localNow: Millis): void {
    const now = this.coreNow(localNow);
    if (this.role === 'primary') {
      const due = this.handingOver ? undefined : this.endpoint.pollTimeout();
      // The same comparison as pollTimeout's (local time), so rounding in the offset cannot strand a deadline.
      if (due !== undefined && due - this.offset <= localNow) {
        this.lastNow = Math.max(now, due);
        this.record(this.lastNow, [{ op: 'timeout' }]);
      }
      this.primaryLinkTimers(localNow, now);
    } else {
      this.standbyTimers(localNow);
    }
    if (localNow >= this.nextHelloAt) this.hello(localNow);
  }

  /** The earliest local time at which `handleTimeout` has work. */
  pollTimeout(): Millis | undefined {
    let t = this.nextHelloAt;
    if (this.role === 'primary') {
      const core = this.endpoint.pollTimeout();
      if (core !== undefined) t = Math.min(t, core - this.offset);
      if (this.pending.length > 0) t = Math.min(t, this.lastRecordSendAt + this.opts.recordRetransmit);
      if (this.fullSyncSeq !== undefined) t = Math.min(t, this.fullSyncSentAt + this.opts.recordRetransmit * 5);
      if (this.protection !== 'unprotected' && this.opts.digestInterval > 0) t = Math.min(t, this.nextDigestAt);
      if (this.lastHeard !== undefined && this.standbyNode !== undefined) t = Math.min(t, this.lastHeard + this.deadAfter());
      if (this.handingOver) t = Math.min(t, this.handingOver.since + HANDOVER_TIMEOUT);
    } else if (this.lastHeard !== undefined) {
      t = Math.min(t, this.lastHeard + this.deadAfter());
    }
    return t;
  }

  // ------------------------------------------------------------ outputs

  /** The next SCTP datagram to send from this host, with its source rewritten to an address this host holds. */
  pollTransmit(): Datagram | undefined {
    if (this.heldHead < this.held.length) {
      const h = this.held[this.heldHead]!;
      if (!this.holding() || this.released(h.seq)) {
        this.heldHead++;
        if (this.heldHead > 1024 && this.heldHead * 2 > this.held.length) {
          this.held = this.held.slice(this.heldHead);
          this.heldHead = 0;
        }
        return h.datagram;
      }
    }
    return this.out.shift();
  }

  /** The next message for the other node, if any (records are batched). */
  pollLink(): ClusterMessage | undefined {
    if (this.unsent.length > 0) {
      const batch = this.unsent.splice(0, RECORDS_PER_MESSAGE);
      this.counters.recordsSent += batch.length;
      return { t: 'records', epoch: this.epoch, sync: this.syncId, records: batch };
    }
    return this.link.shift();
  }

  pollEvent(): AppEvent | undefined {
    return this.app.shift();
  }

  pollNotice(): Notice | undefined {
    return this.notices.shift();
  }

  // ------------------------------------------------------------ external checkpoints

  /**
   * A checkpoint store (hasctp checkpointd) must also hold the state before
   * output leaves (`sync` mode): datagrams produced at record n wait for
   * `ackExternal(n)` as they wait for the standby. Off: they do not wait for it
   * (the store is gone; the node says its associations are unprotected).
   */
  setExternalGate(on: boolean): void {
    this.externalGate = on;
  }

  /** The checkpoint store holds the state as of record `seq`. */
  ackExternal(seq: number): void {
    if (seq > this.externalAckedSeq) this.externalAckedSeq = seq;
  }

  /**
   * The whole replicated state, for a checkpoint: the endpoint, the delivery
   * ledgers, and the record and core time it is at. Take it between inputs.
   */
  exportCheckpoint(): { readonly seq: number; readonly now: Millis; readonly endpoint: EndpointState; readonly ledgers: [number, AppLedger][] } {
    return { seq: this.seq, now: this.lastNow, endpoint: this.endpoint.exportState(), ledgers: structuredClone([...this.ledgers]) };
  }

  /**
   * A restarted process continues from a checkpoint (as primary): the
   * endpoint, the ledgers (uncommitted messages are re-delivered), and the
   * core time base (timers resume where they were, shifted by the downtime).
   */
  importCheckpoint(localNow: Millis, c: { readonly seq: number; readonly now: Millis; readonly endpoint: EndpointState; readonly ledgers: readonly [number, AppLedger][] }): boolean {
    if (!this.endpoint.importState(c.endpoint)) return false;
    this.ledgers.clear();
    for (const [id, l] of structuredClone(c.ledgers)) this.ledgers.set(id, l);
    this.seq = Math.max(this.seq, c.seq);
    this.offset = c.now - localNow;
    this.lastNow = c.now;
    this.externalAckedSeq = this.seq;
    this.handBackToApp();
    return true;
  }

  // ------------------------------------------------------------ cluster link

  /** The link to the other node came up (or went down: `up` false). */
  linkState(localNow: Millis, up: boolean): void {
    if (up) {
      this.lastHeard = localNow;
      this.hello(localNow);
      return;
    }
    if (this.role === 'primary') this.loseStandby('cluster link down');
    // A standby keeps its copy: the missed-heartbeat deadline decides about promotion.
  }

  handleMessage(localNow: Millis, m: ClusterMessage): void {
    // A forwarded SCTP packet is not replicated state: any node's copy is worth processing
    // (SCTP discards what is stale), even from a node that has not learned the new epoch yet.
    if (m.t === 'forward' && m.epoch < this.epoch) {
      if (this.role === 'primary') this.record(this.coreNow(localNow), [{ op: 'packet', source: m.source, destination: m.destination, bytes: m.bytes }]);
      return;
    }
    if (m.epoch < this.epoch) {
      // Fencing: a deposed primary's records (and anything else from an older epoch) are ignored.
      this.counters.staleMessages++;
      if (m.t === 'hello') this.hello(localNow);
      return;
    }
    this.lastHeard = localNow;
    if (m.epoch > this.epoch) {
      this.epoch = m.epoch;
      if (this.role === 'primary') this.stepDown(`met epoch ${m.epoch}`);
    }
    switch (m.t) {
      case 'hello':
        if (this.role === 'primary' && m.role === 'primary') {
          // Same epoch, both primary (two nodes started as primary): the lower node id keeps the role.
          if (m.node < this.node) this.stepDown(`${m.node} is primary in epoch ${m.epoch}`);
          return;
        }
        if (this.role === 'standby' && m.role === 'primary') {
          this.handoverSeq = undefined;
          if (m.protection === 'in-sync' && this.synced) this.ready = true;
          else if (m.protection === 'unprotected' && this.synced) {
            // The primary stopped holding its output for us: our copy may lag what the peer saw.
            this.synced = false;
            this.ready = false;
          }
        }
        if (this.role === 'standby' && m.role === 'standby' && m.handoverSeq !== undefined) this.takeHandover(localNow, m.handoverSeq);
        if (this.role === 'primary' && m.role === 'standby') this.standbyAddresses = Array.isArray(m.addresses) ? m.addresses.filter((a) => typeof a === 'string') : [];
        if (this.role === 'primary' && m.role === 'standby' && (this.standbyNode === undefined || this.protection === 'unprotected')) {
          this.standbyNode = m.node;
          this.startFullSync(localNow, 'standby joined');
        }
        this.link.push({ t: 'hello-ack', epoch: this.epoch, node: this.node, echo: m.sentAt });
        return;
      case 'hello-ack':
        return;
      case 'ack':
        // An ack of another sync generation says nothing about this one's records.
        if (this.role === 'primary' && m.sync === this.syncId) {
          this.onAck(localNow, m.seq);
          this.finishHandover(localNow);
        }
        return;
      case 'resync':
        if (this.role === 'primary') {
          this.counters.digestMismatches++;
          this.startFullSync(localNow, `standby asked: ${m.reason}`);
        }
        return;
      case 'forward':
        if (this.role === 'primary') this.record(this.coreNow(localNow), [{ op: 'packet', source: m.source, destination: m.destination, bytes: m.bytes }]);
        // From a primary handing over to us: kept until we take over.
        else if (this.earlyForwards.length < MAX_DEFERRED) this.earlyForwards.push({ source: m.source, destination: m.destination, bytes: m.bytes });
        return;
      case 'full-sync':
        if (this.role === 'standby') this.applyFullSync(localNow, m.sync, m.seq, m.now, m.state);
        return;
      case 'records':
        // Records of another generation: the primary sends them again once this one's full sync is here.
        if (this.role === 'standby' && m.sync === this.syncId) this.onRecords(localNow, m.records);
        return;
      case 'in-sync':
        if (this.role === 'standby' && this.synced && m.sync === this.syncId) this.ready = true;
        return;
      case 'digest':
        if (this.role === 'standby' && m.sync === this.syncId) {
          this.expectedDigest = { seq: m.seq, digest: m.digest };
          this.checkDigest(localNow);
        }
        return;
      case 'handover':
        if (this.role === 'standby') this.takeHandover(localNow, m.seq);
        return;
    }
  }

  // ------------------------------------------------------------ role changes

  /**
   * Takes over (missed heartbeats, `hasctp promote`, a handover). Refused
   * unless the primary declared this standby in sync, or `force`.
   */
  promote(localNow: Millis, reason: string, force = false, planned = false): boolean {
    if (this.role === 'primary') return false;
    if (!this.synced && !force) {
      this.notices.push({ type: 'cannot-promote', reason: 'this standby holds no in-sync copy (no full sync, or the primary stopped protecting it)' });
      return false;
    }
    this.coreNow(localNow);
    if (!this.synced) this.dropUntrustedCopy(reason);
    this.role = 'primary';
    this.epoch++;
    this.counters.promotions++;
    this.protection = 'unprotected';
    this.standbyNode = undefined;
    this.reorder.clear();
    this.notices.push({ type: 'role', role: 'primary', epoch: this.epoch, reason });
    this.notices.push({ type: 'protection', protection: 'unprotected', reason: 'promoted; no standby yet' });
    this.handBackToApp();
    for (const d of this.earlyForwards.splice(0)) this.record(this.coreNow(localNow), [{ op: 'packet', source: d.source, destination: d.destination, bytes: d.bytes }]);
    const ids = this.endpoint.associationIds();
    if (!planned && this.opts.retransmitOnTakeover && ids.length > 0) this.record(this.coreNow(localNow), ids.map((assocId) => ({ op: 'retransmit-outstanding' as const, assocId })));
    this.hello(localNow);
    return true;
  }

  /**
   * Planned switchover (`hasctp failover`): stop applying inputs, let the
   * standby catch up to the last record and take over; this node becomes a
   * standby. Inputs that arrive meanwhile are forwarded like a standby's.
   */
  handOver(localNow: Millis): boolean {
    if (this.role !== 'primary' || this.protection !== 'in-sync' || this.handingOver) return false;
    // Packets that arrive from now on wait; once the standby acknowledged every record and
    // every held datagram left, the role passes and the waiting packets follow it.
    this.handingOver = { since: localNow, deferred: [] };
    this.finishHandover(localNow);
    return true;
  }

  private finishHandover(localNow: Millis): void {
    const h = this.handingOver;
    if (!h || this.role !== 'primary') return;
    if (this.protection !== 'in-sync' || localNow >= h.since + HANDOVER_TIMEOUT) {
      // The standby went away or did not catch up: stay primary and process what waited.
      this.handingOver = undefined;
      this.notices.push({ type: 'cannot-promote', reason: 'planned switchover abandoned: the standby did not catch up' });
      for (const d of h.deferred) this.record(this.coreNow(localNow), [{ op: 'packet', source: d.source, destination: d.destination, bytes: d.bytes }]);
      return;
    }
    if (this.ackedSeq < this.seq || this.heldHead < this.held.length || this.unsent.length > 0) return;
    this.handingOver = undefined;
    this.handoverSeq = this.seq;
    this.link.push({ t: 'handover', epoch: this.epoch, seq: this.seq });
    this.demote(localNow, 'planned switchover', true);
    for (const d of h.deferred) this.link.push({ t: 'forward', epoch: this.epoch, source: d.source, destination: d.destination, bytes: d.bytes });
  }

  /**
   * A new primary (promotion, checkpoint restart) tells its application, for
   * every association, what the old one committed, then re-delivers the
   * uncommitted messages. Associations without a ledger are included: the old
   * primary may have died between an association's first record and its
   * application's first reply.
   */
  private handBackToApp(): void {
    const ids = new Set([...this.endpoint.associationIds(), ...this.ledgers.keys()]);
    for (const assocId of ids) {
      const l = this.ledgers.get(assocId);
      const fsm = this.endpoint.snapshot(assocId)?.fsm.state;
      const established = fsm === 'established';
      this.app.push({ type: 'app-state', assocId, appState: l?.appState, committed: l?.committed ?? 0, established });
      for (const d of l?.uncommitted ?? []) this.app.push({ type: 'message', assocId, ...d, redelivered: true });
    }
  }

  /**
   * A copy the primary never declared in sync cannot be trusted to continue
   * its associations (records may be missing): start from none of them, but
   * keep the cookie secrets so a handshake in progress still completes.
   */
  private dropUntrustedCopy(reason: string): void {
    const st = this.endpoint.exportState();
    const dropped = st.associations.length;
    this.endpoint.importState({ ...st, associations: [], windowUpdates: [] });
    this.ledgers.clear();
    if (dropped > 0) this.notices.push({ type: 'drift', reason: `${reason}: promoted without an in-sync copy, ${dropped} association(s) dropped` });
  }

  /** The other node handed over at record `seq`: take over once everything up to it is applied (the records may still be on their way). */
  private takeHandover(localNow: Millis, seq: number): void {
    if (this.handoverSeq !== undefined) return; // we handed over ourselves
    if (this.synced && this.seq >= seq) {
      this.pendingHandover = undefined;
      this.promote(localNow, 'planned switchover', true, true);
    } else this.pendingHandover = seq;
  }

  // ------------------------------------------------------------ internals: primary

  private standbyHolds(): boolean {
    // From the start of a full sync on: a standby that applied it may take over at any moment.
    return this.role === 'primary' && this.protection !== 'unprotected' && this.opts.mode === 'sync' && !this.opts.unsafeNoHold;
  }

  private externalHolds(): boolean {
    return this.role === 'primary' && this.externalGate && this.opts.mode === 'sync' && !this.opts.unsafeNoHold;
  }

  private holding(): boolean {
    return this.standbyHolds() || this.externalHolds();
  }

  private released(seq: number): boolean {
    return (!this.standbyHolds() || seq <= this.ackedSeq) && (!this.externalHolds() || seq <= this.externalAckedSeq);
  }

  private record(now: Millis, ops: readonly Op[]): (SendResult | ReturnType<Endpoint['connect']> | undefined)[] {
    const replicate = this.protection !== 'unprotected';
    const seq = ++this.seq;
    if (replicate) this.tap.beginRecord();
    const results = ops.map((op) => this.exec(now, op));
    this.drain(now, seq, true);
    if (replicate) {
      const entropy = this.tap.endRecord();
      let bytes = entropy.length + 32;
      for (const op of ops) if (op.op === 'packet' || op.op === 'send') bytes += (op.op === 'packet' ? op.bytes : op.data).length;
      const rec: LogRecord = { seq, now, ops, entropy };
      this.pending.push(rec);
      this.pendingBytes += bytes;
      this.unsent.push(rec);
      if (this.pending.length === 1) this.lastRecordSendAt = now - this.offset;
      if (this.pending.length > this.opts.maxPendingRecords || this.pendingBytes > this.opts.maxPendingBytes) {
        this.loseStandby(`replication backlog over its bound (${this.pending.length} records, ${this.pendingBytes} bytes)`);
      }
    }
    if (this.presentPending.length > 0) {
      // An association set up from an INIT ACK sent before the standby joined (its cookie carries the old address list).
      const ids = this.presentPending.splice(0);
      if (this.protection === 'in-sync') this.presentStandby(now - this.offset, ids);
    }
    return results;
  }

  private onAck(localNow: Millis, seq: number): void {
    if (seq > this.ackedSeq) {
      this.ackedSeq = seq;
      // Progress: the retransmission clock restarts for the oldest record still unacknowledged.
      this.lastRecordSendAt = localNow;
    }
    let drop = 0;
    while (drop < this.pending.length && this.pending[drop]!.seq <= seq) drop++;
    if (drop > 0) {
      this.pending.splice(0, drop);
      this.pendingBytes = this.pending.length === 0 ? 0 : Math.max(0, this.pendingBytes - drop * 32);
      if (this.pending.length === 0) this.pendingBytes = 0;
    }
    if (this.fullSyncSeq !== undefined && seq >= this.fullSyncSeq) {
      this.fullSyncSeq = undefined;
      this.protection = 'in-sync';
      // §4.3: declared in sync only once everything up to now is acknowledged.
      this.link.push({ t: 'in-sync', epoch: this.epoch, sync: this.syncId, seq });
      this.notices.push({ type: 'protection', protection: 'in-sync', reason: `standby ${this.standbyNode ?? '?'} acknowledged the full sync` });
      this.presentStandby(localNow);
    }
  }

  /**
   * DESIGN.md §4 presentation: associations must list the standby's addresses
   * as the endpoint's, or their peers can never reach it. Those set up before
   * this standby joined (with an address the endpoint did not have) get them
   * by ASCONF Add IP Address (RFC 5061), where they negotiated ADD-IP and
   * AUTH; the standby then answers the peer's HEARTBEATs there. Replicated
   * like any input, so the standby's copy lists them too.
   */
  private presentStandby(localNow: Millis, ids: readonly number[] = this.endpoint.associationIds()): void {
    const e = this.endpoint;
    const ops: Op[] = [];
    for (const address of this.standbyAddresses) {
      const listed = e.localAddresses.includes(address) && ids.every((id) => e.snapshot(id)?.localAddresses.includes(address) !== false);
      if (!listed) ops.push({ op: 'add-local-address', address });
    }
    if (ops.length > 0) this.record(this.coreNow(localNow), ops);
  }

  private startFullSync(localNow: Millis, reason: string): void {
    const state: FullState = { endpoint: this.endpoint.exportState(), ledgers: [...this.ledgers] };
    this.pending = [];
    this.pendingBytes = 0;
    this.unsent = [];
    this.ackedSeq = 0;
    this.fullSyncSeq = this.seq;
    this.fullSyncSentAt = localNow;
    this.counters.fullSyncsSent++;
    if (this.protection !== 'joining') this.notices.push({ type: 'protection', protection: 'joining', reason });
    this.protection = 'joining';
    this.syncId++;
    this.link.push({ t: 'full-sync', epoch: this.epoch, sync: this.syncId, seq: this.seq, now: this.coreNow(localNow), state: encodePlain(state) });
  }

  private loseStandby(reason: string): void {
    if (this.protection === 'unprotected') return;
    this.protection = 'unprotected';
    this.counters.unprotected++;
    this.standbyNode = undefined;
    this.fullSyncSeq = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    this.unsent = [];
    this.notices.push({ type: 'protection', protection: 'unprotected', reason });
    // Held datagrams go now: nobody is left to take over, so holding protects nothing.
  }

  private primaryLinkTimers(localNow: Millis, now: Millis): void {
    if (this.handingOver) this.finishHandover(localNow);
    if (this.standbyNode !== undefined && this.lastHeard !== undefined && localNow >= this.lastHeard + this.deadAfter()) {
      this.loseStandby(`standby silent for ${localNow - this.lastHeard} ms`);
      return;
    }
    if (this.fullSyncSeq !== undefined && localNow >= this.fullSyncSentAt + this.opts.recordRetransmit * 5) {
      this.startFullSync(localNow, 'full sync not acknowledged');
      return;
    }
    if (this.pending.length > 0 && localNow >= this.lastRecordSendAt + this.opts.recordRetransmit) {
      this.unsent = this.pending.slice(0, RECORDS_PER_MESSAGE * 4);
      this.counters.recordRetransmits += this.unsent.length;
      this.lastRecordSendAt = localNow;
    }
    if (this.protection !== 'unprotected' && this.opts.digestInterval > 0 && localNow >= this.nextDigestAt) {
      this.nextDigestAt = localNow + this.opts.digestInterval;
      if (this.fullSyncSeq === undefined) this.link.push({ t: 'digest', epoch: this.epoch, sync: this.syncId, seq: this.seq, digest: this.digest() });
    }
    void now;
  }

  private stepDown(reason: string): void {
    this.demote(undefined, reason, false);
  }

  /** Primary → standby. A planned handover keeps the state (the copies are equal); otherwise wait for a full sync. */
  private demote(localNow: Millis | undefined, reason: string, keepState: boolean): void {
    this.role = 'standby';
    this.counters.demotions++;
    this.protection = 'unprotected';
    this.standbyNode = undefined;
    this.fullSyncSeq = undefined;
    this.pending = [];
    this.unsent = [];
    this.pendingBytes = 0;
    // Nothing of the old epoch may leave any more (fencing).
    this.held = [];
    this.heldHead = 0;
    this.out.length = 0;
    this.synced = keepState;
    this.ready = false;
    this.notices.push({ type: 'role', role: 'standby', epoch: this.epoch, reason });
    if (localNow !== undefined) this.hello(localNow);
  }

  // ------------------------------------------------------------ internals: standby

  private standbyPacket(d: Datagram): void {
    const hit = this.synced ? this.endpoint.lookup(d.source, d.bytes) : undefined;
    const decoded = decodePacket(d.bytes);
    if (!decoded.ok) {
      this.counters.packetsDroppedAsStandby++;
      return;
    }
    const p = decoded.value;
    if (hit && p.verificationTag === hit.localTag && p.chunks.every((c) => c.kind === 'heartbeat')) {
      // §4.4: answer probes of our own address, or the peer keeps it unconfirmed.
      const acks: Chunk[] = p.chunks.map((c) => ({ kind: 'heartbeat-ack', info: (c as Extract<Chunk, { kind: 'heartbeat' }>).info }));
      this.out.push({
        source: d.destination,
        destination: d.source,
        bytes: encodePacket({ sourcePort: p.destinationPort, destinationPort: p.sourcePort, verificationTag: hit.peerTag, chunks: acks }),
      });
      this.counters.heartbeatsAnswered++;
      return;
    }
    // Everything else goes to the primary, known tag or not: the standby's copy may lag (a brand
    // new association, or a copy being re-synced), and the primary answers for the endpoint.
    // A standby itself never answers out of the blue (§4.4).
    this.link.push({ t: 'forward', epoch: this.epoch, source: d.source, destination: d.destination, bytes: d.bytes });
    this.counters.packetsForwarded++;
  }

  private applyFullSync(localNow: Millis, sync: number, seq: number, now: Millis, bytes: Uint8Array): void {
    const r = decodePlain(bytes);
    const s = r.ok ? (r.value as FullState) : undefined;
    if (!s || typeof s !== 'object' || !s.endpoint || !Array.isArray(s.ledgers) || !this.endpoint.importState(s.endpoint)) {
      this.counters.badMessages++;
      this.askResync(localNow, 'undecodable full sync');
      return;
    }
    this.ledgers.clear();
    for (const [id, l] of s.ledgers) this.ledgers.set(id, l);
    this.syncId = sync;
    this.seq = seq;
    this.offset = now - localNow;
    this.lastNow = now;
    this.synced = true;
    this.ready = false;
    this.reorder.clear();
    this.expectedDigest = undefined;
    this.resyncAskedAt = undefined;
    this.counters.fullSyncsApplied++;
    this.link.push({ t: 'ack', epoch: this.epoch, sync: this.syncId, seq: this.seq });
  }

  private onRecords(localNow: Millis, records: readonly LogRecord[]): void {
    if (!this.synced) {
      this.askResync(localNow, 'records before a full sync');
      return;
    }
    for (const r of records) {
      if (r.seq <= this.seq) continue;
      if (r.seq === this.seq + 1) this.applyRecord(localNow, r);
      else if (this.reorder.size < MAX_REORDER_BUFFER) this.reorder.set(r.seq, r);
      for (let next = this.reorder.get(this.seq + 1); next; next = this.reorder.get(this.seq + 1)) {
        this.reorder.delete(next.seq);
        this.applyRecord(localNow, next);
      }
      if (!this.synced) return;
    }
    this.link.push({ t: 'ack', epoch: this.epoch, sync: this.syncId, seq: this.seq });
    this.checkDigest(localNow);
    if (this.pendingHandover !== undefined) this.takeHandover(localNow, this.pendingHandover);
  }

  private applyRecord(localNow: Millis, r: LogRecord): void {
    this.tap.beginReplay(r.entropy);
    for (const op of r.ops) this.exec(r.now, op);
    this.drain(r.now, r.seq, false);
    const exact = this.tap.endReplay();
    this.seq = r.seq;
    this.offset = r.now - localNow;
    this.lastNow = Math.max(this.lastNow, r.now);
    this.counters.recordsApplied++;
    if (!exact) {
      this.notices.push({ type: 'drift', reason: `record ${r.seq} drew different entropy` });
      this.askResync(localNow, `entropy mismatch at record ${r.seq}`);
    }
  }

  private checkDigest(localNow: Millis): void {
    const e = this.expectedDigest;
    if (!e || e.seq > this.seq) return;
    this.expectedDigest = undefined;
    if (e.seq < this.seq) return; // passed it while batching: the next one will do
    if (this.digest() !== e.digest) {
      this.counters.digestMismatches++;
      this.notices.push({ type: 'drift', reason: `digest differs at record ${e.seq}` });
      this.askResync(localNow, `digest differs at record ${e.seq}`);
    }
  }

  private askResync(localNow: Millis, reason: string): void {
    this.synced = false;
    this.ready = false;
    if (this.resyncAskedAt !== undefined && localNow - this.resyncAskedAt < this.opts.recordRetransmit) return;
    this.resyncAskedAt = localNow;
    this.link.push({ t: 'resync', epoch: this.epoch, reason });
  }

  private standbyTimers(localNow: Millis): void {
    if (this.lastHeard === undefined) return;
    const silent = Math.round(localNow - this.lastHeard);
    if (localNow >= this.lastHeard + this.deadAfter()) {
      if (this.opts.autoPromote) {
        // Not in sync: the service goes on for new associations, and the ones the copy may
        // hold stale are dropped (their peers get an ABORT, never a silently wrong TCB).
        this.promote(localNow, `primary silent for ${silent} ms`, true);
      } else {
        this.lastHeard = undefined;
        this.notices.push({ type: 'cannot-promote', reason: `primary silent for ${silent} ms; automatic promotion is off (hasctp promote)` });
      }
    }
    if (this.synced === false && this.resyncAskedAt !== undefined && localNow - this.resyncAskedAt >= this.opts.recordRetransmit * 5) {
      this.resyncAskedAt = undefined;
      this.askResync(localNow, 'still waiting for a full sync');
    }
  }

  // ------------------------------------------------------------ internals: both

  private deadAfter(): Millis {
    return this.opts.heartbeatInterval * this.opts.heartbeatMisses;
  }

  private hello(localNow: Millis): void {
    this.nextHelloAt = localNow + this.opts.heartbeatInterval;
    this.link.push({
      t: 'hello',
      epoch: this.epoch,
      node: this.node,
      role: this.role,
      appliedSeq: this.seq,
      sentAt: localNow,
      ...(this.role === 'primary' ? { protection: this.protection } : {}),
      ...(this.handoverSeq !== undefined ? { handoverSeq: this.handoverSeq } : {}),
      addresses: this.own,
    });
  }

  private digest(): number {
    return crc32c(encodePlain({ endpoint: this.endpoint.exportState(), ledgers: [...this.ledgers] }));
  }

  private exec(now: Millis, op: Op): SendResult | ReturnType<Endpoint['connect']> | undefined {
    const e = this.endpoint;
    switch (op.op) {
      case 'packet':
        e.handlePacket(now, { source: op.source, destination: op.destination, bytes: op.bytes });
        return undefined;
      case 'timeout':
        e.handleTimeout(now);
        return undefined;
      case 'connect':
        return e.connect(now, op.options);
      case 'send':
        return e.send(now, op.assocId, op.data, op.options);
      case 'shutdown':
        e.shutdown(now, op.assocId);
        return undefined;
      case 'abort':
        e.abort(now, op.assocId, op.reason);
        return undefined;
      case 'set-primary':
        e.setPrimary(now, op.assocId, op.address);
        return undefined;
      case 'request-peer-primary': {
        // Only where the core offers ADD-IP (RFC 5061); otherwise the peer moves on its own timeouts.
        const ask = (e as unknown as { requestPeerPrimary?: (now: Millis, assocId: number, address: string) => unknown }).requestPeerPrimary;
        if (typeof ask === 'function') ask.call(e, now, op.assocId, op.address);
        return undefined;
      }
      case 'commit': {
        let l = this.ledgers.get(op.assocId);
        // An application may commit state before any delivery (a sender's first messages).
        if (!l && e.associationIds().includes(op.assocId)) this.ledgers.set(op.assocId, (l = { delivered: 0, committed: 0, uncommitted: [], appState: undefined }));
        if (!l) return undefined;
        const upTo = Math.min(op.delivery, l.delivered);
        if (upTo > l.committed) {
          l.committed = upTo;
          let n = 0;
          while (n < l.uncommitted.length && l.uncommitted[n]!.delivery <= upTo) n++;
          if (n > 0) l.uncommitted.splice(0, n);
        }
        if (op.appState) l.appState = op.appState;
        return undefined;
      }
      case 'rotate-cookie':
        e.rotateCookieSecret(now);
        return undefined;
      case 'retransmit-outstanding':
        e.retransmitOutstanding(now, op.assocId);
        return undefined;
      case 'add-local-address': {
        // To the endpoint (new associations), then each association that lacks it (ASCONF where negotiated).
        if (!e.localAddresses.includes(op.address)) e.addLocalAddress(now, op.address);
        else for (const id of e.associationIds()) if (e.snapshot(id)?.localAddresses.includes(op.address) === false) e.addLocalAddress(now, op.address, id);
        return undefined;
      }
    }
  }

  /**
   * After each record, on both roles alike (the copies must stay equal):
   * events first (reading a message frees receive window), then datagrams.
   */
  private drain(now: Millis, seq: number, live: boolean): void {
    const e = this.endpoint;
    for (let i = 0; i < 1_000_000; i++) {
      const ev = e.pollEvent();
      if (!ev) break;
      this.onCoreEvent(ev, live);
    }
    for (let i = 0; i < 1_000_000; i++) {
      const d = e.pollTransmit(now);
      if (!d) break;
      if (!live) continue;
      const datagram = this.own.includes(d.source) ? d : { ...d, source: this.sourceFor(d.destination) };
      if (this.holding()) {
        this.held.push({ seq, datagram });
        this.counters.heldDatagrams++;
      } else {
        this.out.push(datagram);
      }
    }
  }

  private onCoreEvent(ev: EndpointEvent, live: boolean): void {
    const x = ev.event;
    if (live && (x.type === 'communication-up' || x.type === 'restart') && this.standbyAddresses.length > 0) this.presentPending.push(ev.assocId);
    if (x.type === 'message') {
      let l = this.ledgers.get(ev.assocId);
      if (!l) this.ledgers.set(ev.assocId, (l = { delivered: 0, committed: 0, uncommitted: [], appState: undefined }));
      const d: Delivery = { delivery: ++l.delivered, streamId: x.streamId, ppid: x.ppid, unordered: x.unordered, data: x.data };
      l.uncommitted.push(d);
      if (live) this.app.push({ type: 'message', assocId: ev.assocId, ...d, redelivered: false });
      return;
    }
    if ((x.type === 'communication-lost' || x.type === 'cannot-start' || x.type === 'shutdown-complete') && this.endpoint.associationIds().indexOf(ev.assocId) < 0) {
      // Closed: nothing can be redelivered into it any more.
      const l = this.ledgers.get(ev.assocId);
      if (l) l.uncommitted = [];
    }
    if (live) this.app.push({ type: 'core', assocId: ev.assocId, event: x });
  }

  private sourceFor(destination: string): string {
    const v6 = destination.includes(':');
    return this.own.find((a) => a.includes(':') === v6) ?? this.own[0] ?? destination;
  }
}
