/**
 * A node's connection to `hasctp checkpointd` (issue #7 part 1): the I/O
 * around the sans-IO CheckpointSession. On start it fetches this node's
 * portions and restores them into the Replica before the node opens for
 * traffic; after every pump it sends the changed portions; the server's
 * acknowledgements release the Replica's held output (sync mode). When the
 * server is unreachable, refuses, or stops acknowledging, the node logs it,
 * counts it, shows `checkpoint: unprotected` and lets its output go (never
 * stalls), and keeps dialling; a new connection starts with the whole state.
 */
import { createHash, createHmac } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Millis } from '../../core/env.js';
import { monotonicNow } from '../../runtime/env.js';
import { decodeCheckpointReply, encodeCheckpointMessage, type CheckpointReply, type CheckpointRequest } from '../state/checkpoint-messages.js';
import { CheckpointSession, type CheckpointCounters, type CheckpointMode, type CheckpointProtection } from '../state/checkpoint-session.js';
import { encodeFrame, FrameDecoder } from '../state/frame.js';
import type { Replica } from '../state/replica.js';

const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array => createHmac('sha256', key).update(data).digest();
/** Portion digests: SHA-256, base64. */
export const portionDigest = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('base64');
/** Bytes queued on the socket beyond which the server counts as unreachable (it does not read). */
const MAX_QUEUED = 64 * 1024 * 1024;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface CheckpointClientOptions {
  readonly server: Endpoint;
  readonly key: Uint8Array;
  readonly node: string;
  readonly mode: CheckpointMode;
  readonly replica: Replica;
  readonly logger: Logger;
  /** Held output may be released, or an update is due: the node pumps. */
  readonly onProgress: () => void;
  /** How long `start` waits for the server before the node starts without its checkpoint (default 3000 ms). */
  readonly fetchTimeout?: Millis;
  readonly ackTimeout?: Millis;
}

export interface CheckpointStatus {
  readonly state: CheckpointProtection;
  readonly reason: string;
  readonly server: string;
  readonly mode: CheckpointMode;
  readonly connected: boolean;
  readonly acknowledgedSeq: number;
  readonly unacknowledged: number;
  readonly restore: { readonly seq: number; readonly associations: number; readonly portions: number; readonly bytes: number; readonly ms: number } | { readonly error: string } | undefined;
  readonly counters: CheckpointCounters & { readonly connects: number; readonly disconnects: number; readonly rejectedFrames: number };
}

function fmt(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

export class CheckpointClient {
  readonly session: CheckpointSession;
  private socket: Socket | undefined;
  private closed = false;
  /** Restored (or given up): from now on updates go and progress pumps the node. */
  private ready = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private sessionTimer: NodeJS.Timeout | undefined;
  private backoff = 100;
  /** Why this client dropped the connection itself (shown instead of "connection closed"). */
  private dropReason: string | undefined;
  private fetchId = 0;
  private fetching: { readonly id: number; readonly resolve: (r: Extract<CheckpointReply, { t: 'state' }> | undefined) => void } | undefined;
  private restoreInfo: CheckpointStatus['restore'];
  private readonly extra = { connects: 0, disconnects: 0, rejectedFrames: 0 };

  constructor(private readonly o: CheckpointClientOptions) {
    this.session = new CheckpointSession({ node: o.node, mode: o.mode, digest: portionDigest, ...(o.ackTimeout !== undefined && { ackTimeout: o.ackTimeout }) });
  }

  /**
   * Connects, fetches this node's portions and restores them into the
   * Replica (call before the node opens its transport). Without an answer
   * within `fetchTimeout` the node starts without them (logged); the
   * connection keeps being retried.
   */
  async start(): Promise<void> {
    const t0 = monotonicNow();
    const got = await new Promise<Extract<CheckpointReply, { t: 'state' }> | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.fetching = undefined;
        resolve(undefined);
      }, this.o.fetchTimeout ?? 3000);
      this.fetching = {
        id: ++this.fetchId,
        resolve: (r) => {
          clearTimeout(timer);
          this.fetching = undefined;
          resolve(r);
        },
      };
      this.dial();
    });
    const log = this.o.logger;
    this.ready = true;
    if (!got) {
      this.restoreInfo = { error: `no answer from the checkpoint server ${fmt(this.o.server)} within ${this.o.fetchTimeout ?? 3000} ms` };
      log.warn({ server: fmt(this.o.server) }, 'checkpoint: server unreachable at start; starting without checkpointed associations (unprotected)');
      this.drainNotices();
      return;
    }
    const r = this.session.restore(this.o.replica, monotonicNow(), got);
    const bytes = got.portions.reduce((n, p) => n + p[2].length, 0);
    if (r.ok) {
      this.restoreInfo = { seq: r.seq, associations: r.associations, portions: got.portions.length, bytes, ms: Math.round((monotonicNow() - t0) * 10) / 10 };
      log.info({ ...this.restoreInfo, ...(r.ignored.length > 0 && { ignored: r.ignored }) }, r.associations > 0 ? 'checkpoint: associations restored' : 'checkpoint: nothing to restore');
    } else {
      this.restoreInfo = { error: r.error };
      log.error({ error: r.error, portions: got.portions.length }, 'checkpoint: stored state unusable; starting without it');
    }
  }

  /** After each pump of the node: send what changed. */
  afterPump(): void {
    if (this.closed || !this.ready) return;
    const u = this.session.pollUpdate(this.o.replica, monotonicNow());
    if (u) this.write(u);
    this.drainNotices();
    this.arm();
  }

  status(): CheckpointStatus {
    return {
      state: this.session.state,
      reason: this.session.reason,
      server: fmt(this.o.server),
      mode: this.o.mode,
      connected: this.session.connected,
      acknowledgedSeq: this.session.acknowledgedSeq,
      unacknowledged: this.session.unacknowledged,
      restore: this.restoreInfo,
      counters: { ...this.session.counters, ...this.extra },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    this.fetching?.resolve(undefined);
    const s = this.socket;
    this.socket = undefined;
    if (s && !s.destroyed) {
      // Let the last update out (a clean stop), briefly.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        s.end(() => {
          clearTimeout(t);
          resolve();
        });
      });
      s.destroy();
    }
  }

  // ------------------------------------------------------------ connection

  private dial(): void {
    if (this.closed || this.socket) return;
    const s = connect({ host: this.o.server.host, port: this.o.server.port });
    this.socket = s;
    s.setNoDelay(true);
    let reason = 'connection closed';
    s.once('connect', () => {
      if (this.socket !== s) return;
      this.extra.connects++;
      this.backoff = 100;
      this.o.logger.info({ server: fmt(this.o.server) }, 'checkpoint server connected');
      this.session.connectedTo(this.o.replica, monotonicNow());
      if (this.fetching) this.write({ t: 'fetch', id: this.fetching.id, node: this.o.node });
      if (this.ready) this.o.onProgress();
    });
    const decoder = new FrameDecoder(this.o.key, hmacSha256);
    s.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        if (!f.ok) {
          this.extra.rejectedFrames++;
          reason = `frame from the server rejected (${f.error}${f.error === 'bad-mac' ? ': another key?' : ''})`;
          this.o.logger.error({ server: fmt(this.o.server), reason: f.error }, 'checkpoint: frame from the server rejected');
          s.destroy();
          return;
        }
        const m = decodeCheckpointReply(f.payload);
        if (!m.ok) {
          this.extra.rejectedFrames++;
          continue;
        }
        this.onReply(m.message);
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      reason = `checkpoint server ${fmt(this.o.server)}: ${e.code ?? e.message}`;
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      if (this.closed) return;
      const wasConnected = this.session.connected;
      if (wasConnected) this.extra.disconnects++;
      this.session.disconnected(this.o.replica, this.dropReason ?? reason);
      this.dropReason = undefined;
      this.drainNotices();
      if (this.ready) this.o.onProgress();
      this.scheduleDial();
    });
  }

  private scheduleDial(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.backoff;
    this.backoff = Math.min(2000, this.backoff * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.dial();
    }, delay);
  }

  private write(m: CheckpointRequest): void {
    const s = this.socket;
    if (!s || s.destroyed || s.connecting) return;
    if (s.writableLength > MAX_QUEUED) {
      this.o.logger.warn({ queued: s.writableLength }, 'checkpoint server does not read; reconnecting');
      this.dropReason = `the checkpoint server does not read (${s.writableLength} bytes queued)`;
      s.destroy();
      return;
    }
    s.write(encodeFrame(encodeCheckpointMessage(m), this.o.key, hmacSha256));
  }

  private onReply(m: CheckpointReply): void {
    switch (m.t) {
      case 'state':
        if (this.fetching && m.id === this.fetching.id && m.node === this.o.node) this.fetching.resolve(m);
        return;
      case 'ack':
      case 'refused':
        this.session.onReply(this.o.replica, monotonicNow(), m);
        this.drainNotices();
        if (this.ready) this.o.onProgress();
        return;
      case 'error':
        this.o.logger.warn({ server: fmt(this.o.server), reason: m.reason }, 'checkpoint server error');
        return;
      case 'listing':
        return;
    }
  }

  // ------------------------------------------------------------ timers and notices

  private arm(): void {
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    this.sessionTimer = undefined;
    const at = this.session.pollTimeout();
    if (at === undefined || this.closed) return;
    this.sessionTimer = setTimeout(() => {
      this.sessionTimer = undefined;
      if (this.closed) return;
      if (this.session.handleTimeout(this.o.replica, monotonicNow()) === 'reconnect' && this.socket) {
        this.dropReason = this.session.reason;
        this.socket.destroy();
      }
      this.drainNotices();
      this.o.onProgress();
    }, Math.max(0, Math.ceil(at - monotonicNow())));
  }

  private drainNotices(): void {
    for (let n = this.session.pollNotice(); n; n = this.session.pollNotice()) {
      if (n.protection === 'protected') this.o.logger.info({ reason: n.reason }, 'checkpoint: protected');
      else this.o.logger.warn({ reason: n.reason, unprotectedCount: this.session.counters.unprotected }, 'checkpoint: unprotected');
    }
  }
}

/** One request to a checkpoint server (`hasctp checkpoints`). @throws Error with a one-line message. */
export function checkpointRequest(server: Endpoint, key: Uint8Array, request: CheckpointRequest, timeoutMs = 5000): Promise<CheckpointReply> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: server.host, port: server.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer from the checkpoint server ${fmt(server)} within ${timeoutMs} ms (another --key?)`));
    }, timeoutMs);
    const decoder = new FrameDecoder(key, hmacSha256);
    s.once('connect', () => s.write(encodeFrame(encodeCheckpointMessage(request), key, hmacSha256)));
    s.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        clearTimeout(timer);
        s.destroy();
        if (!f.ok) return reject(new Error(`the checkpoint server's answer failed authentication (${f.error}): another --key?`));
        const m = decodeCheckpointReply(f.payload);
        return m.ok ? resolve(m.message) : reject(new Error(`bad answer from the checkpoint server: ${m.error}`));
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the checkpoint server ${fmt(server)} (${e.code ?? e.message})`));
    });
    s.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`the checkpoint server ${fmt(server)} closed the connection (another --key?)`));
    });
  });
}

