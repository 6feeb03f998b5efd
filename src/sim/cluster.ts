/**
 * High-availability scenarios on the simulator (DESIGN.md §4, §5): a peer
 * endpoint talks to a cluster of a primary and a standby that present one
 * multihomed endpoint; the primary is killed at a chosen moment; the peer's
 * application checks that every message came back exactly once and in order
 * and that the association never failed.
 *
 * The cluster link is simulated apart from the SCTP network (it carries
 * encoded cluster messages, with its own delay, loss and reordering), so the
 * replication protocol's own retransmission and reordering are exercised.
 */
import { createEndpoint, type Datagram, type Endpoint } from '../core/endpoint.js';
import type { ProtocolConfig } from '../core/config.js';
import type { HmacSha1, HmacSha256, Millis } from '../core/env.js';
import { decodeMessage, encodeMessage, type Role } from '../cluster/state/messages.js';
import { Replica, type AppEvent, type ReplicationMode } from '../cluster/state/replica.js';
import { createApp, streamPayload, type ClusterApp } from '../cluster/apps.js';
import type { SimHost } from './host.js';
import { toAddress } from './filters.js';
import { EndpointHost, NearWrapRng, simulationConfig } from './scenarios.js';
import { createSimulation, type Simulation } from './simulation.js';

/** A cluster node as a SimHost: SCTP datagrams through the simulated network, cluster messages through `send`. */
export class ReplicaHost implements SimHost {
  constructor(
    readonly replica: Replica,
    private readonly sendLink: (bytes: Uint8Array) => void,
    private readonly app: (now: Millis, host: ReplicaHost) => void,
  ) {}
  handlePacket(now: Millis, d: Datagram): void {
    this.replica.handlePacket(now, d);
    this.settle(now);
  }
  handleTimeout(now: Millis): void {
    this.replica.handleTimeout(now);
    this.settle(now);
  }
  onLink(now: Millis, bytes: Uint8Array): void {
    const m = decodeMessage(bytes);
    if (m.ok) this.replica.handleMessage(now, m.message);
    this.settle(now);
  }
  pollTransmit(): Datagram | undefined {
    return this.replica.pollTransmit();
  }
  pollTimeout(): Millis | undefined {
    return this.replica.pollTimeout();
  }
  /** Lets the application act on its events, then ships cluster messages. */
  settle(now: Millis): void {
    this.app(now, this);
    for (let i = 0; i < 100_000; i++) {
      const m = this.replica.pollLink();
      if (!m) break;
      this.sendLink(encodeMessage(m));
    }
  }
}

export interface FailoverOptions {
  readonly seed: number;
  readonly hmac: HmacSha256;
  /** With it both sides negotiate AUTH and ADD-IP, and the promoted standby sends ASCONF Set Primary. */
  readonly hmacSha1?: HmacSha1;
  /** Messages the peer sends (each is echoed by the cluster's application). */
  readonly messages: number;
  /** Virtual time of the primary's death; undefined: never (or `killOn`). */
  readonly killAt: Millis | undefined;
  /** The primary dies on an event instead: see KillTrigger. */
  readonly killOn?: KillTrigger;
  /** Peer paths. */
  readonly loss?: number;
  readonly reorder?: number;
  readonly duplicate?: number;
  /** Cluster link. */
  readonly linkLoss?: number;
  readonly linkReorder?: number;
  readonly mode?: ReplicationMode;
  /** Negative control: no output hold. */
  readonly unsafeNoHold?: boolean;
  /** The cluster's application commits what it answered (default true). */
  readonly commit?: boolean;
  /** The cluster initiates the association instead of the peer. */
  readonly clusterInitiates?: boolean;
  /**
   * The reverse traffic: the cluster runs the `stream` app (numbered messages
   * out, echoes checked, replicated counters) and the peer echoes. `messages`
   * is then the count the cluster sends.
   */
  readonly clusterSends?: boolean;
  /** Replica option: retransmit what is outstanding at once on a takeover (default true). */
  readonly retransmitOnTakeover?: boolean;
  /** Peer sends one message per `interval` ms (default 2). */
  readonly interval?: Millis;
  /** The peer shuts the association down once all echoes arrived. */
  readonly shutdown?: boolean;
  readonly maxTime?: Millis;
  readonly config?: Partial<ProtocolConfig>;
  /** Planned switchover (`hasctp failover`) at this time instead of a kill. */
  readonly handoverAt?: Millis;
  /** The cluster link (and so the standby's join) comes up only at this time (default 0). */
  readonly joinAt?: Millis;
  /**
   * The endpoint starts with the primary's address only (a standby added
   * later): associations made before the standby joined learn its address by
   * ASCONF Add IP once it is in sync (with `hmacSha1`, i.e. ADD-IP), or never.
   */
  readonly standbyAddressLate?: boolean;
}

/**
 * Kill moments inside a procedure, which a time alone hits only by chance:
 * - `peer-shutdown`: `delay` ms after the peer's application asked for the
 *   graceful shutdown (SHUTDOWN-PENDING, SHUTDOWN / SHUTDOWN ACK / COMPLETE in flight);
 * - `primary-t3`: nothing reaches the peer from `blackoutAt` for `blackoutFor`
 *   ms, and the primary dies `delay` ms after its T3-rtx expired `expiries`
 *   times (so during the RTO backoff, with retransmissions outstanding).
 */
export type KillTrigger =
  | { readonly event: 'peer-shutdown'; readonly delay: Millis }
  | { readonly event: 'primary-t3'; readonly expiries: number; readonly delay: Millis; readonly blackoutAt: Millis; readonly blackoutFor: Millis };

export interface FailoverResult {
  /** The run stopped early: the simulator went idle, or hit its bounds. */
  readonly error: string | undefined;
  /** Echoes the peer got (first copies). */
  readonly echoed: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly reordered: number;
  readonly corrupted: number;
  /** The association failed at the peer (ABORT, COMMUNICATION LOST, cannot start). */
  readonly failures: readonly string[];
  /** The standby took over. */
  readonly promoted: boolean;
  /** Messages re-delivered to the promoted standby's application. */
  readonly redelivered: number;
  /** Last echo before the kill, first after (virtual ms), when both exist. */
  readonly outage: Millis | undefined;
  readonly virtualMs: Millis;
  readonly shutdownComplete: boolean;
  /** `handoverAt` was accepted (the primary had a standby in sync). */
  readonly handedOver: boolean;
  /** T3-rtx expiries at the peer while its association lives (a planned switchover should cause none). */
  readonly peerT3Expiries: number;
  /** HEARTBEATs to its own address the standby answered while standby. */
  readonly standbyHeartbeatsAnswered: number;
  /**
   * With `clusterSends`: at the peer, from the last new message before the
   * standby took over to the first one after (virtual ms): the stall the
   * takeover caused (what the dead primary had already sent is not counted).
   */
  readonly peerRxGap: Millis | undefined;
}

const PEER = ['10.1.0.9'];
const PRIMARY = ['10.1.0.1'];
const STANDBY = ['10.1.0.2'];
const PORT = 2905;
const STREAMS = 3;
/**
 * The association starts once the cluster had time to sync (a deployment
 * starts its cluster before peers connect). Associations made while a node is
 * alone are unprotected by design; test/cluster covers that case apart.
 */
const CONNECT_AT = 50;

/** The kill scenarios `npm run sim:ha` and test/cluster/failover-sim.test.ts sweep. */
export const SCENARIOS = ['anytime', 'shutdown', 't3-backoff', 'joining', 'reverse'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/**
 * One seed of a scenario: the kill moment, and what provokes the procedure it
 * lands in, spread over the seeds.
 * - anytime: a time in [0, killSpan): handshake, transfer, retransmission, shutdown;
 * - shutdown: 0-39 ms into the graceful shutdown the peer starts;
 * - t3-backoff: the peer hears nothing for 0.25 s; the primary dies after its 1st or 2nd T3-rtx expiry;
 * - joining: the standby's cluster link comes up 0-4.75 ms before the kill (full sync in flight);
 * - reverse: the cluster initiates and streams, the peer echoes; a time in [0, killSpan).
 */
export function scenarioOptions(scenario: Scenario, seed: number, killSpan = 350): Pick<FailoverOptions, 'killAt' | 'killOn' | 'joinAt' | 'clusterInitiates' | 'clusterSends'> {
  switch (scenario) {
    case 'anytime':
      return { killAt: (seed * 7919) % killSpan };
    case 'shutdown':
      return { killAt: undefined, killOn: { event: 'peer-shutdown', delay: (seed * 7) % 40 } };
    case 't3-backoff':
      return { killAt: undefined, killOn: { event: 'primary-t3', expiries: 1 + (seed % 2), delay: (seed * 13) % 30, blackoutAt: CONNECT_AT + 30 + ((seed * 11) % 60), blackoutFor: 250 } };
    case 'joining': {
      const killAt = CONNECT_AT + 40 + ((seed * 7919) % 100);
      return { killAt, joinAt: killAt - ((seed * 3) % 20) * 0.25 };
    }
    case 'reverse':
      return { killAt: (seed * 7919) % killSpan, clusterInitiates: true, clusterSends: true };
  }
}

function payload(index: number): Uint8Array {
  const size = 4 + ((index * 131) % 1200);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, index);
  for (let i = 4; i < size; i++) out[i] = (index * 7 + i) & 0xff;
  return out;
}

function intact(d: Uint8Array, index: number): boolean {
  const want = payload(index);
  if (want.length !== d.length) return false;
  for (let i = 0; i < d.length; i++) if (want[i] !== d[i]) return false;
  return true;
}

/**
 * One failover run: the peer connects to the cluster (or the cluster to the
 * peer), sends numbered messages on several streams, the primary dies at
 * `killAt`, the standby takes over.
 */
export function runFailoverSimulation(o: FailoverOptions): FailoverResult {
  const sim: Simulation = createSimulation({
    seed: o.seed,
    traceLimit: 0,
    defaultLink: { delay: 5, jitter: 2, loss: o.loss ?? 0, duplicate: o.duplicate ?? 0, reorder: o.reorder ?? 0, reorderDelay: 10 },
  });
  const config = { ...simulationConfig, pfMaxRetrans: 0, ...o.config };
  const linkRng = sim.forkRng();
  const clusterAddresses = o.standbyAddressLate ? [...PRIMARY] : [...PRIMARY, ...STANDBY];
  const hosts = new Map<string, ReplicaHost>();
  let promoted = false;
  let promotedAt: Millis | undefined;
  let handedOver = false;
  let redelivered = 0;

  // The cluster link: its own delay, loss and reordering, nothing delivered to a dead node.
  const linkTo = (to: string) => (bytes: Uint8Array) => {
    if (sim.now < (o.joinAt ?? 0)) return; // the link is not up yet
    if (linkRng.nextFloat() < (o.linkLoss ?? 0)) return;
    const delay = 0.2 + linkRng.nextFloat() * 0.1 + (linkRng.nextFloat() < (o.linkReorder ?? 0) ? linkRng.nextFloat() * 2 : 0);
    sim.after(delay, (s) => {
      if (s.isAlive(to)) hosts.get(to)!.onLink(s.now, bytes);
    }, 'cluster-link');
  };

  // With clusterSends, each node's own `stream` application (its counters travel in the commits).
  const streamApps = new Map<ReplicaHost, ClusterApp>();
  const streamOptions = { messages: o.messages, size: 1000, window: 64, streams: STREAMS, shutdown: o.shutdown ?? false };
  const onClusterEvent = (now: Millis, host: ReplicaHost, ev: AppEvent): void => {
    let app = streamApps.get(host);
    if (!app) streamApps.set(host, (app = createApp('stream', streamOptions)));
    if (ev.type === 'message' && ev.redelivered) redelivered++;
    const ops = app.onEvent(ev);
    if (ops.length > 0) host.replica.apply(now, ops);
  };

  // The cluster's application: echo every message, and commit it in the same record.
  const echoApp = (now: Millis, host: ReplicaHost): void => {
    const r = host.replica;
    for (let ev = r.pollEvent(); ev; ev = r.pollEvent()) {
      if (o.clusterSends) {
        onClusterEvent(now, host, ev);
        continue;
      }
      if (ev.type !== 'message') continue;
      if (ev.redelivered) redelivered++;
      const ops = [
        { op: 'send' as const, assocId: ev.assocId, data: ev.data, options: { streamId: ev.streamId, ppid: ev.ppid, unordered: ev.unordered } },
        ...(o.commit === false ? [] : [{ op: 'commit' as const, assocId: ev.assocId, delivery: ev.delivery }]),
      ];
      r.apply(now, ops);
    }
    for (let n = r.pollNotice(); n; n = r.pollNotice()) {
      if (n.type !== 'role' || n.role !== 'primary' || r.currentEpoch === 0) continue;
      promoted = true;
      promotedAt ??= now;
      // As `hasctp node` does after a takeover: ask the peer to send to our address (ASCONF, where negotiated).
      const ask = r.endpoint.associationIds().map((assocId) => ({ op: 'request-peer-primary' as const, assocId, address: STANDBY[0]! }));
      if (ask.length > 0 && host === hosts.get('s')) r.apply(now, ask);
      // As `hasctp node` with a `connect` section: a primary without the association starts it.
      if (o.clusterInitiates && r.endpoint.associationIds().length === 0) r.apply(now, [{ op: 'connect', options: { remoteAddresses: PEER, remotePort: 4000 } }]);
    }
  };

  const makeNode = (name: string, role: Role, own: readonly string[], other: string): ReplicaHost => {
    const replica = new Replica({
      node: name,
      role,
      endpoint: { localAddresses: clusterAddresses, port: PORT, config, hmac: o.hmac, ...(o.hmacSha1 && { hmacSha1: o.hmacSha1 }) },
      ownAddresses: own,
      rng: new NearWrapRng(sim.forkRng()),
      now: 0,
      mode: o.mode ?? 'sync',
      unsafeNoHold: o.unsafeNoHold ?? false,
      retransmitOnTakeover: o.retransmitOnTakeover ?? true,
      recordRetransmit: 5,
      heartbeatInterval: 20,
      heartbeatMisses: 3,
      digestInterval: 200,
    });
    const h = new ReplicaHost(replica, linkTo(other), echoApp);
    hosts.set(name, h);
    return h;
  };
  const p = makeNode('p', 'primary', PRIMARY, 's');
  const s = makeNode('s', 'standby', STANDBY, 'p');
  sim.addNode('p', PRIMARY, p);
  sim.addNode('s', STANDBY, s);
  sim.at(o.joinAt ?? 0, (x) => {
    p.replica.linkState(x.now, true);
    s.replica.linkState(x.now, true);
    p.settle(x.now);
    s.settle(x.now);
  });

  // The peer: sends numbered messages, checks the echoes.
  const failures: string[] = [];
  const seen = new Map<number, number>();
  const lastPerStream = new Map<number, number>();
  let duplicated = 0;
  let reordered = 0;
  let corrupted = 0;
  let sent = 0;
  let assocId: number | undefined;
  let lastBeforeKill: Millis | undefined;
  let firstAfterKill: Millis | undefined;
  let killedAt: Millis | undefined;
  const kill = (x: Simulation): void => {
    if (killedAt !== undefined) return;
    killedAt = x.now;
    x.killNode('p');
  };
  let shutdownComplete = false;
  let shutdownAsked = false;
  const arrivals: Millis[] = [];
  let pumping = false;
  const interval = o.interval ?? 2;
  // One message per interval while the peer's send queue takes it.
  const pump = (x: Simulation): void => {
    if (assocId === undefined || sent >= o.messages) return;
    const r = peer.endpoint.send(x.now, assocId, payload(sent), { streamId: sent % STREAMS, ppid: 3 });
    if (r.ok) sent++;
    if (sent < o.messages) x.after(interval, pump, 'peer-send');
  };
  const peer = new EndpointHost(
    createEndpoint({ localAddresses: PEER, port: 4000, config, rng: new NearWrapRng(sim.forkRng()), hmac: o.hmac, ...(o.hmacSha1 && { hmacSha1: o.hmacSha1 }), now: 0 }),
    (now, host) => {
      for (const { e } of host.events.splice(0)) {
        const x = e.event;
        if (x.type === 'communication-up' || x.type === 'restart') assocId = e.assocId;
        else if (x.type === 'communication-lost' || x.type === 'cannot-start') failures.push(`${x.type} ${x.reason}`);
        else if (x.type === 'shutdown-complete') shutdownComplete = true;
        else if (x.type === 'message') {
          const index = new DataView(x.data.buffer, x.data.byteOffset, x.data.byteLength).getUint32(0);
          if (o.clusterSends) {
            // The peer is an echo server here; arrivals time the outage, the cluster's app checks the echoes.
            if (!sameBytes(x.data, streamPayload(index, streamOptions.size))) corrupted++;
            const n = seen.get(index) ?? 0;
            seen.set(index, n + 1);
            if (n > 0) duplicated++;
            else if (killedAt === undefined) lastBeforeKill = now;
            else firstAfterKill ??= now;
            if (n === 0) arrivals.push(now);
            host.endpoint.send(now, e.assocId, x.data, { streamId: x.streamId, ppid: x.ppid, unordered: x.unordered });
            continue;
          }
          if (!intact(x.data, index)) corrupted++;
          const n = seen.get(index) ?? 0;
          seen.set(index, n + 1);
          if (n > 0) duplicated++;
          else {
            if (killedAt === undefined) lastBeforeKill = now;
            else firstAfterKill ??= now;
            const last = lastPerStream.get(x.streamId);
            if (last !== undefined && last > index) reordered++;
            lastPerStream.set(x.streamId, index);
          }
        }
      }
      if (assocId === undefined || o.clusterSends) return;
      if (!pumping && sent < o.messages) {
        pumping = true;
        sim.at(now, pump, 'peer-send');
      }
      if (o.shutdown && !shutdownAsked && seen.size >= o.messages) {
        shutdownAsked = true;
        host.endpoint.shutdown(now, assocId);
        const k = o.killOn;
        if (k?.event === 'peer-shutdown') sim.at(now + k.delay, kill, 'kill-primary');
      }
    },
  );
  sim.addNode('peer', PEER, peer);

  if (o.clusterInitiates) {
    sim.at(CONNECT_AT, (x) => {
      p.replica.apply(x.now, [{ op: 'connect', options: { remoteAddresses: PEER, remotePort: 4000 } }]);
      p.settle(x.now);
    });
  } else {
    sim.at(CONNECT_AT, (x) => {
      // A peer configured with every address of the cluster (as M3UA/Diameter peers are).
      peer.endpoint.connect(x.now, { remoteAddresses: clusterAddresses, remotePort: PORT });
    });
  }
  if (o.killAt !== undefined) sim.at(o.killAt, kill, 'kill-primary');
  const k = o.killOn;
  if (k?.event === 'primary-t3') {
    sim.at(k.blackoutAt, (x) => {
      const blackout = x.dropNext(toAddress(PEER[0]!), { count: 1_000_000 });
      x.after(k.blackoutFor, (y) => y.cancelFilter(blackout), 'blackout-ends');
      // The primary's T3-rtx count, looked at every millisecond of the blackout.
      const watch = (y: Simulation): void => {
        if (killedAt !== undefined || !y.isAlive('p') || y.now > k.blackoutAt + k.blackoutFor) return;
        if (t3Of(p.replica.endpoint) >= k.expiries) y.after(k.delay, kill, 'kill-primary');
        else y.after(1, watch, 'watch-t3');
      };
      watch(x);
    }, 'blackout');
  }
  if (o.handoverAt !== undefined) {
    sim.at(o.handoverAt, (x) => {
      handedOver = p.replica.handOver(x.now);
      p.settle(x.now);
    }, 'handover');
  }

  const peerT3 = (): number => t3Of(peer.endpoint);
  /** The node that is primary at the end (the standby once it took over). */
  const survivor = (): ReplicaHost => (s.replica.currentRole === 'primary' ? s : p);
  const streamReport = (): Record<string, number> => (streamApps.get(survivor())?.report() ?? {}) as Record<string, number>;
  const streamDone = (): boolean => (streamReport()['done'] ?? 0) > 0;
  const done = (): boolean => (o.shutdown ? shutdownComplete : o.clusterSends ? streamDone() : seen.size >= o.messages) || failures.length > 0;
  let virtualMs: Millis;
  let error: string | undefined;
  try {
    virtualMs = sim.runUntil(done, o.maxTime ?? 120_000);
  } catch (e) {
    virtualMs = sim.now;
    error = e instanceof Error ? e.message : String(e);
  }
  const sr = o.clusterSends ? streamReport() : undefined;
  const echoed = sr ? (sr['echoed'] ?? 0) : seen.size;
  return {
    error,
    echoed,
    lost: o.messages - echoed,
    duplicated: duplicated + (sr?.['duplicates'] ?? 0),
    reordered: reordered + (sr?.['gaps'] ?? 0),
    corrupted: corrupted + (sr?.['corrupted'] ?? 0),
    failures,
    promoted,
    redelivered,
    outage: killedAt !== undefined && lastBeforeKill !== undefined && firstAfterKill !== undefined ? firstAfterKill - lastBeforeKill : undefined,
    virtualMs,
    shutdownComplete,
    handedOver,
    peerT3Expiries: peerT3(),
    standbyHeartbeatsAnswered: s.replica.counters.heartbeatsAnswered,
    peerRxGap: o.clusterSends && promotedAt !== undefined ? gapAround(arrivals, promotedAt) : undefined,
  };
}

/** T3-rtx expiries over the endpoint's live associations. */
function t3Of(e: Endpoint): number {
  let n = 0;
  for (const id of e.associationIds()) {
    const a = e.snapshot(id);
    if (a && 'tcb' in a.fsm) n += a.fsm.tcb.counters.t3Expireds;
  }
  return n;
}

/** From the last instant at or before `at` to the first after it (the outage as the receiver sees it). */
function gapAround(times: readonly Millis[], at: Millis): Millis | undefined {
  const k = times.findIndex((t) => t > at);
  return k > 0 ? times[k]! - times[k - 1]! : undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
