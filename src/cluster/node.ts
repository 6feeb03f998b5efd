/**
 * A cluster node (`hasctp node --config FILE`, or `createClusterNode` from the
 * library): the Replica (cluster/state) driven by real I/O. It owns the SCTP
 * transport on this host's addresses, the TCP cluster link, the one timer
 * and the clock, and runs the configured application.
 *
 * Every input is followed by one pump: application events (whose replies are
 * applied as records), notices (logged), cluster messages (sent on the link),
 * then every datagram the replica releases goes out in one transport batch.
 */
import type { Logger } from 'pino';
import type { Datagram } from '../core/endpoint.js';
import type { Millis } from '../core/env.js';
import { hmacSha1, hmacSha256, CryptoRng, monotonicNow } from '../runtime/env.js';
import { openTransport } from '../runtime/transports.js';
import type { PcapRecorder } from '../transport/pcap-tap.js';
import type { IncomingDatagram, OutgoingDatagram, Transport } from '../transport/transport.js';
import { decodePacket } from '../wire/packet.js';
import { createApp, type ClusterApp } from './apps.js';
import { CheckpointClient, type CheckpointStatus } from './checkpoint/client.js';
import { clusterAddresses, type NodeConfig } from './config.js';
import { TcpLink } from './link/tcp-link.js';
import type { ClusterMessage } from './state/messages.js';
import { Replica, type AppEvent, type Notice } from './state/replica.js';

export interface FailoverTimings {
  readonly reason: string;
  /** Wall-clock time of the promotion (ms since the epoch). */
  readonly at: number;
  /** From the last message heard from the old primary to the promotion. */
  readonly detectionMs: number | undefined;
  /** Promotion to the first SCTP packet sent. */
  readonly firstPacketOutMs: number | undefined;
  /** Promotion to the first SACK received from a peer. */
  readonly firstSackInMs: number | undefined;
}

export interface NodeStatus {
  readonly node: string;
  readonly role: string;
  readonly epoch: number;
  readonly protection: string;
  readonly appliedSeq: number;
  readonly lagRecords: number;
  readonly link: { readonly up: boolean } & TcpLink['counters'];
  readonly replication: Replica['counters'];
  readonly associations: number;
  readonly app: Record<string, unknown>;
  readonly lastFailover: FailoverTimings | undefined;
  /** With a checkpoint server (`checkpoint` in the config): `state` is `protected` or `unprotected`. */
  readonly checkpoint?: CheckpointStatus;
  /** The other node as its last cluster heartbeat described it (`ageMs` since then). */
  readonly peer?: { readonly node: string; readonly role: string; readonly epoch: number; readonly appliedSeq: number; readonly ageMs: number };
  /** Round trip of the last cluster heartbeat answered. */
  readonly linkRttMs?: number;
}

export interface ClusterNodeOptions {
  readonly config: NodeConfig;
  readonly logger: Logger;
  /** Called on role and protection changes (the CLI prints them; tests wait on them). */
  readonly onNotice?: (n: Notice) => void;
  /** The application; default: the one the config names. */
  readonly app?: ClusterApp;
  /**
   * Records every SCTP packet sent and received (one pcapng interface per
   * local address) and the cluster link's frames (interface "cluster-link",
   * as IP/UDP between the link's addresses), so a failover can be read in
   * Wireshark.
   */
  readonly pcap?: PcapRecorder;
}

export class ClusterNode {
  readonly replica: Replica;
  readonly config: NodeConfig;
  private readonly logger: Logger;
  private readonly app: ClusterApp;
  private transport: Transport | undefined;
  private link: TcpLink | undefined;
  private checkpoint: CheckpointClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly udpPorts = new Map<string, number>();
  private pumping = false;
  /** A timer expired and its handling waits for the I/O poll (see onTimer). */
  private timerDeferred = false;
  private closed = false;
  private connectAsked = false;
  private startedAt: Millis = 0;
  private lastHeardFromPrimary: Millis | undefined;
  private failover: { reason: string; at: number; t0: Millis; detectionMs: number | undefined; out?: Millis; sack?: Millis } | undefined;
  /** For `hasctp cluster`: the other node's last hello, the last heartbeat round trip. */
  private peerHello: { node: string; role: string; epoch: number; appliedSeq: number; at: Millis } | undefined;
  private linkRtt: number | undefined;
  /** Association id → the peer's primary address when it came up (log fields). */
  private readonly peers = new Map<number, string>();

  constructor(private readonly o: ClusterNodeOptions) {
    this.config = o.config;
    this.logger = o.logger;
    this.app = o.app ?? createApp(o.config.app, o.config.stream);
    const c = o.config;
    this.replica = new Replica({
      node: c.node,
      role: c.role,
      endpoint: { localAddresses: clusterAddresses(c), port: c.sctp.port, config: c.protocol, hmac: hmacSha256, hmacSha1 },
      ownAddresses: c.sctp.addresses,
      rng: new CryptoRng(),
      now: monotonicNow(),
      mode: c.cluster.mode,
      heartbeatInterval: c.cluster.heartbeatInterval,
      heartbeatMisses: c.cluster.heartbeatMisses,
      autoPromote: c.cluster.autoPromote,
      unsafeNoHold: c.cluster.unsafeNoHold,
    });
  }

  async start(): Promise<void> {
    const c = this.config;
    if (c.checkpoint && c.role === 'primary') {
      // Continue the associations a previous process of this node checkpointed, before any packet is read.
      this.checkpoint = new CheckpointClient({
        server: c.checkpoint.server,
        key: c.checkpoint.key,
        node: c.node,
        mode: c.checkpoint.mode,
        replica: this.replica,
        logger: this.logger,
        onProgress: () => this.pump(),
        fetchTimeout: c.checkpoint.fetchTimeout,
        ackTimeout: c.checkpoint.ackTimeout,
      });
      await this.checkpoint.start();
    }
    const opened = await openTransport({
      transport: c.sctp.transport,
      localAddresses: c.sctp.addresses,
      ...(c.sctp.udpPort !== undefined && { udpPort: c.sctp.udpPort }),
      ...(c.sctp.remoteUdpPort !== undefined && { remoteUdpPort: c.sctp.remoteUdpPort }),
    });
    this.transport = this.o.pcap ? this.o.pcap.wrap(opened) : opened;
    this.transport.onDatagrams = (batch) => this.onDatagrams(batch);
    // A single node with a checkpoint server has no cluster link.
    if (c.cluster.listen || c.cluster.dial) this.link = new TcpLink({
      ...(c.cluster.listen && { listen: c.cluster.listen }),
      ...(c.cluster.dial && { dial: c.cluster.dial }),
      key: c.cluster.key,
      onMessage: (m) => this.onLinkMessage(m),
      onState: (up) => {
        this.logger.info({ up }, up ? 'cluster link up' : 'cluster link down');
        this.replica.linkState(monotonicNow(), up);
        this.pump();
      },
      onReject: (reason) => this.logger.warn({ reason }, 'cluster link frame rejected; connection dropped'),
      ...(this.o.pcap && { onFrame: (direction: 'in' | 'out', frame: Uint8Array) => this.recordLinkFrame(direction, frame) }),
    });
    try {
      await this.link?.start();
    } catch (e) {
      await this.transport.close();
      await this.checkpoint?.close();
      throw e;
    }
    this.startedAt = monotonicNow();
    this.logger.info({ node: c.node, role: c.role, addresses: c.sctp.addresses, endpoint: clusterAddresses(c), port: c.sctp.port, transport: c.sctp.transport, mode: c.cluster.mode }, 'cluster node started');
    this.pump();
  }

  /** Forced or operator promotion (`hasctp promote`). */
  promote(force: boolean): boolean {
    const ok = this.replica.promote(monotonicNow(), force ? 'operator promote --force' : 'operator promote', force);
    this.pump();
    return ok;
  }

  /** Planned switchover (`hasctp failover`). */
  handOver(): boolean {
    const ok = this.replica.handOver(monotonicNow());
    this.pump();
    return ok;
  }

  /** Operator actions on associations (control socket): applied as replicated records. */
  apply(ops: Parameters<Replica['apply']>[1]): void {
    this.replica.apply(monotonicNow(), ops);
    this.pump();
  }

  status(): NodeStatus {
    const f = this.failover;
    const h = this.peerHello;
    return {
      node: this.config.node,
      role: this.replica.currentRole,
      epoch: this.replica.currentEpoch,
      protection: this.replica.protectionState,
      appliedSeq: this.replica.appliedSeq,
      lagRecords: this.replica.lagRecords,
      link: { up: this.link?.up ?? false, ...(this.link?.counters ?? { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, rejected: 0, connects: 0, disconnects: 0 }) },
      replication: { ...this.replica.counters },
      associations: this.replica.endpoint.associationIds().length,
      app: this.app.report(),
      lastFailover: f && {
        reason: f.reason,
        at: f.at,
        detectionMs: f.detectionMs,
        firstPacketOutMs: f.out === undefined ? undefined : f.out - f.t0,
        firstSackInMs: f.sack === undefined ? undefined : f.sack - f.t0,
      },
      ...(this.checkpoint && { checkpoint: this.checkpoint.status() }),
      ...(h && { peer: { node: h.node, role: h.role, epoch: h.epoch, appliedSeq: h.appliedSeq, ageMs: Math.round(monotonicNow() - h.at) } }),
      ...(this.linkRtt !== undefined && { linkRttMs: this.linkRtt }),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.link?.close();
    await this.transport?.close();
    await this.checkpoint?.close();
  }

  /**
   * A cluster-link frame into the capture. The link is TCP; the capture shows
   * each frame as one IP/UDP datagram between the link's configured ends (the
   * listening side's address and port; the dialling side's own end is not
   * configured, so it shows as 0.0.0.0 port 0).
   */
  private recordLinkFrame(direction: 'in' | 'out', frame: Uint8Array): void {
    const c = this.o.config.cluster;
    const unknown = { host: '0.0.0.0', port: 0 };
    const here = c.listen ?? unknown;
    const there = c.dial ?? unknown;
    const [src, dst] = direction === 'out' ? [here, there] : [there, here];
    const v6 = src.host.includes(':') || dst.host.includes(':');
    const host = (h: string): string => (h === '0.0.0.0' && v6 ? '::' : h);
    this.o.pcap?.tap()?.writeOtherUdp('cluster-link', {
      source: host(src.host),
      destination: host(dst.host),
      sourcePort: src.port,
      destinationPort: dst.port,
      payload: frame,
      direction: direction === 'in' ? 'inbound' : 'outbound',
    });
  }

  // ------------------------------------------------------------ inputs

  private onDatagrams(batch: IncomingDatagram[]): void {
    if (this.closed) return;
    const now = monotonicNow();
    for (const d of batch) {
      if (d.udpSourcePort !== undefined && this.replica.currentRole === 'primary') this.udpPorts.set(d.source, d.udpSourcePort);
      if (this.failover && this.failover.sack === undefined && hasSack(d.bytes)) {
        this.failover.sack = now;
        // The takeover is complete from the peer's side: one line with every timing.
        this.logger.warn({ failover: this.status().lastFailover }, 'failover complete: first SACK from the peer');
      }
      this.replica.handlePacket(now, { source: d.source, destination: d.destination, bytes: d.bytes });
    }
    this.pump();
  }

  private onLinkMessage(m: ClusterMessage): void {
    if (this.closed) return;
    const now = monotonicNow();
    if (this.replica.currentRole === 'standby') this.lastHeardFromPrimary = now;
    if (m.t === 'hello') this.peerHello = { node: m.node, role: m.role, epoch: m.epoch, appliedSeq: m.appliedSeq, at: now };
    else if (m.t === 'hello-ack') this.linkRtt = Math.round((now - m.echo) * 1000) / 1000;
    this.replica.handleMessage(now, m);
    this.pump();
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.closed || this.timerDeferred) return;
    // A timer that fires late because this process did not run (a long batch, GC, a loaded
    // host) would otherwise be handled before the cluster-link data that arrived meanwhile:
    // Node runs expired timers before it polls for I/O, so the other node would look silent
    // and a standby would promote itself beside a live primary. setImmediate runs after the
    // poll phase: what the other node sent is read first, then the deadlines are judged.
    this.timerDeferred = true;
    setImmediate(() => {
      this.timerDeferred = false;
      if (this.closed) return;
      this.replica.handleTimeout(monotonicNow());
      this.pump();
    });
  }

  // ------------------------------------------------------------ the pump

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      for (let round = 0; round < 10_000; round++) {
        let work = false;
        for (let n = this.replica.pollNotice(); n; n = this.replica.pollNotice()) {
          work = true;
          this.onNotice(n);
        }
        for (let e = this.replica.pollEvent(); e; e = this.replica.pollEvent()) {
          work = true;
          this.onAppEvent(e);
        }
        if (this.replica.currentRole === 'primary' && this.config.connect && !this.connectAsked && this.connectDue()) {
          this.connectAsked = true;
          if (this.replica.endpoint.associationIds().length === 0) {
            const c = this.config.connect;
            this.replica.apply(monotonicNow(), [{ op: 'connect', options: { remoteAddresses: c.addresses, remotePort: c.port, ...(c.streams !== undefined && { outboundStreams: c.streams }) } }]);
            work = true;
          }
        }
        for (let m = this.replica.pollLink(); m; m = this.replica.pollLink()) {
          work = true;
          this.link?.send(m);
        }
        const out: OutgoingDatagram[] = [];
        for (let d = this.replica.pollTransmit(); d; d = this.replica.pollTransmit()) out.push(this.outgoing(d));
        if (out.length > 0) {
          work = true;
          if (this.failover && this.failover.out === undefined) this.failover.out = monotonicNow();
          this.transport?.send(out);
        }
        if (!work) break;
      }
    } finally {
      this.pumping = false;
    }
    // The records this pump applied, to the checkpoint server (their output waits for its ack in sync mode).
    this.checkpoint?.afterPump();
    this.arm();
  }

  /**
   * `connect.waitForStandby`: the primary initiates once a standby is in sync
   * (the association is protected from its first message), or alone after
   * that many ms. The cluster heartbeat's timer brings the pump back meanwhile.
   */
  private connectDue(): boolean {
    const wait = this.config.connect?.waitForStandby ?? 0;
    return wait === 0 || this.replica.protectionState === 'in-sync' || monotonicNow() >= this.startedAt + wait;
  }

  private outgoing(d: Datagram): OutgoingDatagram {
    const port = this.udpPorts.get(d.destination);
    return port === undefined ? d : { ...d, remoteUdpPort: port };
  }

  private arm(): void {
    const at = this.replica.pollTimeout();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (at === undefined || this.closed) return;
    const delay = Math.max(0, at - monotonicNow());
    this.timer = setTimeout(() => this.onTimer(), Math.ceil(delay));
  }

  /** The peer's primary address, for log lines (associations taken over were never seen coming up here). */
  private peerOf(assocId: number): string | undefined {
    const known = this.peers.get(assocId);
    if (known !== undefined) return known;
    const s = this.replica.endpoint.snapshot(assocId);
    const primary = s !== undefined && 'tcb' in s.fsm ? s.fsm.tcb.primary : s?.peerAddresses[0];
    if (primary !== undefined) this.peers.set(assocId, primary);
    return primary;
  }

  private onAppEvent(e: AppEvent): void {
    if (e.type === 'core') {
      const ev = e.event;
      // Log lines about an association carry its id and the peer's (primary) address.
      if (ev.type === 'communication-up') this.peers.set(e.assocId, ev.peerAddresses[0] ?? '');
      const peer = this.peerOf(e.assocId);
      if (ev.type === 'communication-up' || ev.type === 'communication-lost' || ev.type === 'restart' || ev.type === 'shutdown-complete' || ev.type === 'cannot-start') {
        this.logger.info({ assocId: e.assocId, peer, event: ev.type, ...('peerAddresses' in ev && { peerAddresses: ev.peerAddresses }) }, `association ${ev.type}`);
        if (ev.type !== 'communication-up' && ev.type !== 'restart') this.peers.delete(e.assocId);
      } else if (ev.type === 'peer-address-change') {
        this.logger.info({ assocId: e.assocId, peer, address: ev.address, state: ev.state }, 'path state');
      }
    }
    const ops = this.app.onEvent(e);
    if (ops.length > 0) this.replica.apply(monotonicNow(), ops);
  }

  private onNotice(n: Notice): void {
    const now = monotonicNow();
    switch (n.type) {
      case 'role':
        this.logger.warn({ role: n.role, epoch: n.epoch, reason: n.reason }, `now ${n.role}`);
        if (n.role === 'primary' && n.epoch > 0) {
          this.failover = { reason: n.reason, at: Date.now(), t0: now, detectionMs: this.lastHeardFromPrimary === undefined ? undefined : now - this.lastHeardFromPrimary };
          this.udpPorts.clear();
          this.afterTakeover();
        }
        break;
      case 'protection':
        this.logger.info({ protection: n.protection, reason: n.reason }, `associations ${n.protection}`);
        break;
      case 'drift':
        this.logger.warn({ reason: n.reason }, 'replication drift');
        break;
      case 'cannot-promote':
        this.logger.warn({ reason: n.reason }, 'cannot promote');
        break;
    }
    this.o.onNotice?.(n);
  }

  /**
   * DESIGN.md §4.5: after a takeover, ask each peer to make this node's
   * address its primary path (ASCONF Set Primary, RFC 5061) where the
   * association negotiated ADD-IP and AUTH.
   */
  private afterTakeover(): void {
    if (!this.config.setPeerPrimary) return;
    const address = this.config.sctp.addresses[0]!;
    const ops = this.replica.endpoint.associationIds().map((assocId) => ({ op: 'request-peer-primary' as const, assocId, address }));
    if (ops.length > 0) this.replica.apply(monotonicNow(), ops);
  }
}

function hasSack(bytes: Uint8Array): boolean {
  const p = decodePacket(bytes, { checksum: 'skip' });
  return p.ok && p.value.chunks.some((c) => c.kind === 'sack');
}

export async function createClusterNode(o: ClusterNodeOptions): Promise<ClusterNode> {
  const n = new ClusterNode(o);
  await n.start();
  return n;
}
