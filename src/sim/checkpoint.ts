/**
 * Process restarts with a checkpoint server, on the simulator (issue #7 part
 * 1): a peer sends numbered messages to a single node (no standby) whose
 * application echoes and commits them; the node checkpoints its portions to
 * a store (the pure CheckpointStore behind a delayed link, as
 * `hasctp checkpointd` would be); the node's process dies at `killAt` and a
 * new one starts `downtime` ms later from what the store holds. The peer
 * checks every echo: exactly once, in order, and the association never
 * failed. Negative controls: `mode: 'async'` and no checkpoint at all.
 */
import { createEndpoint, type Datagram } from '../core/endpoint.js';
import type { ProtocolConfig } from '../core/config.js';
import type { HmacSha256, Millis } from '../core/env.js';
import { decodeCheckpointReply, decodeCheckpointRequest, encodeCheckpointMessage, type CheckpointReply } from '../cluster/state/checkpoint-messages.js';
import { CheckpointSession, type CheckpointMode } from '../cluster/state/checkpoint-session.js';
import { CheckpointStore } from '../cluster/state/checkpoint-store.js';
import { Replica } from '../cluster/state/replica.js';
import type { SimHost } from './host.js';
import { EndpointHost, NearWrapRng, simulationConfig } from './scenarios.js';
import { createSimulation, type Simulation } from './simulation.js';

export interface CheckpointRestartOptions {
  readonly seed: number;
  readonly hmac: HmacSha256;
  readonly digest: (bytes: Uint8Array) => string;
  readonly messages: number;
  /** Virtual time of the node's death; undefined: never. */
  readonly killAt: Millis | undefined;
  /** How long the node stays down (default 300 ms). */
  readonly downtime?: Millis;
  /** `sync` (default) holds output until the store acknowledged; `async` does not (negative control). */
  readonly mode?: CheckpointMode;
  /** Negative control: no checkpoint server; the new process starts empty. */
  readonly noCheckpoint?: boolean;
  /** One-way delay to the store (default 0.5 ms). */
  readonly storeDelay?: Millis;
  /**
   * Updates still on their way when the process dies are lost with it (its
   * host died, or they sat in the process's own socket buffer); default
   * false: a killed process's kernel still delivers what it wrote.
   */
  readonly lostInFlight?: boolean;
  readonly loss?: number;
  readonly reorder?: number;
  readonly duplicate?: number;
  /** Peer sends one message per `interval` ms (default 2). */
  readonly interval?: Millis;
  readonly streams?: number;
  readonly maxTime?: Millis;
  readonly config?: Partial<ProtocolConfig>;
  /** Store bound (default 64 MiB). */
  readonly maxBytes?: number;
}

export interface CheckpointRestartResult {
  readonly error: string | undefined;
  readonly echoed: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly reordered: number;
  readonly corrupted: number;
  /** The association failed at the peer (ABORT, COMMUNICATION LOST). */
  readonly failures: readonly string[];
  readonly restarted: boolean;
  /** Associations the new process restored from the store. */
  readonly restoredAssociations: number;
  readonly redelivered: number;
  /** Last echo before the kill to the first after it (virtual ms). */
  readonly outage: Millis | undefined;
  readonly shutdownComplete: boolean;
  /** Checkpoint traffic of the first process: updates and portion bytes. */
  readonly updates: number;
  readonly portionBytes: number;
  readonly fullUpdates: number;
  readonly refusals: number;
  readonly storeBytes: number;
}

const PEER = ['10.2.0.9'];
const NODE = ['10.2.0.1'];
const PORT = 2905;
const NAME = 'n';

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

/** One node process: a Replica (primary, no standby), its checkpoint session, an echo application that commits. */
class NodeProcess implements SimHost {
  alive = true;
  redelivered = 0;
  constructor(
    readonly replica: Replica,
    readonly session: CheckpointSession | undefined,
    private readonly toStore: (bytes: Uint8Array, from: NodeProcess) => void,
  ) {}
  handlePacket(now: Millis, d: Datagram): void {
    this.replica.handlePacket(now, d);
    this.settle(now);
  }
  handleTimeout(now: Millis): void {
    this.replica.handleTimeout(now);
    if (this.session) {
      const t = this.session.pollTimeout();
      if (t !== undefined && now >= t && this.session.handleTimeout(this.replica, now) === 'reconnect') {
        // A simulated reconnect: the store is there, the next update is the whole state.
        this.session.connectedTo(this.replica, now);
      }
    }
    this.settle(now);
  }
  onReply(now: Millis, m: CheckpointReply): void {
    this.session?.onReply(this.replica, now, m);
    this.settle(now);
  }
  pollTransmit(): Datagram | undefined {
    return this.replica.pollTransmit();
  }
  pollTimeout(): Millis | undefined {
    const a = this.replica.pollTimeout();
    const b = this.session?.pollTimeout();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }
  settle(now: Millis): void {
    const r = this.replica;
    for (let round = 0; round < 1000; round++) {
      let work = false;
      for (let ev = r.pollEvent(); ev; ev = r.pollEvent()) {
        if (ev.type !== 'message') continue;
        work = true;
        if (ev.redelivered) this.redelivered++;
        r.apply(now, [
          { op: 'send', assocId: ev.assocId, data: ev.data, options: { streamId: ev.streamId, ppid: ev.ppid, unordered: ev.unordered } },
          { op: 'commit', assocId: ev.assocId, delivery: ev.delivery },
        ]);
      }
      while (r.pollNotice()) work = true;
      while (r.pollLink()) work = true; // no standby: hellos go nowhere
      if (!work) break;
    }
    if (!this.session) return;
    while (this.session.pollNotice());
    const u = this.session.pollUpdate(r, now);
    if (u) this.toStore(encodeCheckpointMessage(u), this);
  }
}

export function runCheckpointRestartSimulation(o: CheckpointRestartOptions): CheckpointRestartResult {
  const sim: Simulation = createSimulation({
    seed: o.seed,
    traceLimit: 0,
    defaultLink: { delay: 5, jitter: 2, loss: o.loss ?? 0, duplicate: o.duplicate ?? 0, reorder: o.reorder ?? 0, reorderDelay: 10 },
  });
  const config = { ...simulationConfig, ...o.config };
  const store = new CheckpointStore(o.maxBytes ?? 64 * 1024 * 1024);
  const storeDelay = o.storeDelay ?? 0.5;
  const mode = o.mode ?? 'sync';
  let current: NodeProcess;

  // The store: requests in order (a TCP connection), replies only to the process that sent them.
  const toStore = (bytes: Uint8Array, from: NodeProcess): void => {
    sim.after(storeDelay, (s) => {
      if (o.lostInFlight && !from.alive) return;
      const m = decodeCheckpointRequest(bytes);
      if (!m.ok || m.message.t !== 'update') return;
      const u = m.message;
      const r = store.apply(u, s.now);
      const reply: CheckpointReply = r.ok ? { t: 'ack', node: u.node, gen: u.gen, seq: u.seq } : { t: 'refused', node: u.node, gen: u.gen, seq: u.seq, code: r.code, reason: r.reason };
      const back = encodeCheckpointMessage(reply);
      s.after(storeDelay, (s2) => {
        if (!from.alive || from !== current) return;
        const d = decodeCheckpointReply(back);
        if (d.ok) from.onReply(s2.now, d.message);
      }, 'checkpoint-reply');
    }, 'checkpoint-update');
  };

  const makeProcess = (now: Millis): NodeProcess => {
    const replica = new Replica({
      node: NAME,
      role: 'primary',
      endpoint: { localAddresses: NODE, port: PORT, config, hmac: o.hmac },
      ownAddresses: NODE,
      rng: new NearWrapRng(sim.forkRng()),
      now,
      mode,
      heartbeatInterval: 1000,
    });
    const session = o.noCheckpoint ? undefined : new CheckpointSession({ node: NAME, mode, digest: o.digest });
    const p = new NodeProcess(replica, session, toStore);
    session?.connectedTo(replica, now);
    return p;
  };
  current = makeProcess(0);
  const first = current;
  sim.addNode(NAME, NODE, current);

  let restarted = false;
  let restoredAssociations = 0;
  let restoreError: string | undefined;
  if (o.killAt !== undefined) {
    sim.at(o.killAt, (s) => {
      current.alive = false;
      s.killNode(NAME);
    }, 'kill-node');
    sim.at(o.killAt + (o.downtime ?? 300), (s) => {
      const p = makeProcess(s.now);
      if (p.session) {
        const r = p.session.restore(p.replica, s.now, store.fetch(NAME));
        if (r.ok) restoredAssociations = r.associations;
        else restoreError = r.error;
      }
      current = p;
      restarted = true;
      s.replaceHost(NAME, p);
      p.settle(s.now);
    }, 'restart-node');
  }

  // The peer: numbered messages, echoes checked.
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
  let shutdownComplete = false;
  let shutdownAsked = false;
  let pumping = false;
  const interval = o.interval ?? 2;
  const streams = o.streams ?? 3;
  const pump = (x: Simulation): void => {
    if (assocId === undefined || sent >= o.messages) return;
    const r = peer.endpoint.send(x.now, assocId, payload(sent), { streamId: sent % streams, ppid: 3 });
    if (r.ok) sent++;
    if (sent < o.messages) x.after(interval, pump, 'peer-send');
  };
  const peer = new EndpointHost(
    createEndpoint({ localAddresses: PEER, port: 4000, config, rng: new NearWrapRng(sim.forkRng()), hmac: o.hmac, now: 0 }),
    (now, host) => {
      for (const { e } of host.events.splice(0)) {
        const x = e.event;
        if (x.type === 'communication-up' || x.type === 'restart') assocId = e.assocId;
        else if (x.type === 'communication-lost' || x.type === 'cannot-start') failures.push(`${x.type} ${x.reason}`);
        else if (x.type === 'shutdown-complete') shutdownComplete = true;
        else if (x.type === 'message') {
          const index = new DataView(x.data.buffer, x.data.byteOffset, x.data.byteLength).getUint32(0);
          if (!intact(x.data, index)) corrupted++;
          const n = seen.get(index) ?? 0;
          seen.set(index, n + 1);
          if (n > 0) duplicated++;
          else {
            if (o.killAt === undefined || now < o.killAt) lastBeforeKill = now;
            else firstAfterKill ??= now;
            const last = lastPerStream.get(x.streamId);
            if (last !== undefined && last > index) reordered++;
            lastPerStream.set(x.streamId, index);
          }
        }
      }
      if (assocId === undefined) return;
      if (!pumping && sent < o.messages) {
        pumping = true;
        sim.at(now, pump, 'peer-send');
      }
      if (!shutdownAsked && seen.size >= o.messages) {
        shutdownAsked = true;
        host.endpoint.shutdown(now, assocId);
      }
    },
  );
  sim.addNode('peer', PEER, peer);
  sim.at(10, (x) => {
    peer.endpoint.connect(x.now, { remoteAddresses: NODE, remotePort: PORT });
  });

  const done = (): boolean => shutdownComplete || failures.length > 0;
  let error: string | undefined;
  try {
    sim.runUntil(done, o.maxTime ?? 120_000);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  if (restoreError !== undefined) error = `restore: ${restoreError}${error ? `; ${error}` : ''}`;
  const c = first.session?.counters;
  return {
    error,
    echoed: seen.size,
    lost: o.messages - seen.size,
    duplicated,
    reordered,
    corrupted,
    failures,
    restarted,
    restoredAssociations,
    redelivered: current.redelivered,
    outage: o.killAt !== undefined && lastBeforeKill !== undefined && firstAfterKill !== undefined ? firstAfterKill - lastBeforeKill : undefined,
    shutdownComplete,
    updates: c?.updates ?? 0,
    portionBytes: c?.bytesSent ?? 0,
    fullUpdates: c?.fullUpdates ?? 0,
    refusals: c?.refusals ?? 0,
    storeBytes: store.bytes,
  };
}
