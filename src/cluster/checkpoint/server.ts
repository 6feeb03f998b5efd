/**
 * `hasctp checkpointd` (issue #7 part 1): stores the checkpoint portions of
 * cluster nodes so a node whose process restarts continues its associations.
 *
 * Network: TCP, every message in the cluster link's authenticated frames
 * (HMAC-SHA256 over a shared key, frame.ts); a frame with a bad MAC drops the
 * connection and is counted. Requests and replies: checkpoint-messages.ts.
 * Storage: the pure CheckpointStore (per node, per connection, per portion,
 * bounded by `maxBytes`; an update beyond the bound is refused whole with a
 * reply the node logs). Frames longer than the bound are refused as soon as
 * their length is read, and connections are limited in number, so memory
 * stays near `maxBytes` plus one frame per connection.
 *
 * Persistence (`dir`): an append-only log of the updates the store accepted,
 * with periodic compaction into a snapshot. Chosen over one file per
 * connection written atomically because an update is atomic across
 * connections (a new association changes its own portions and the endpoint
 * portion in one update): one log record per update keeps the disk state at
 * one record seq per node, where files per connection could be caught half
 * written by a crash and not recombine. It also writes only what changed
 * (the portions of the update), sequentially, and one fsync covers every
 * update of a batch.
 *
 *   snapshot      "HCKS" | u32 version 1 | u32 generation | u32 length | u32 CRC32c | plain-encoded store
 *   log.<gen>     records: u32 length | u32 CRC32c | plain-encoded {at, update}
 *
 * Compaction (when the log exceeds twice the live bytes and 4 MiB) writes the
 * whole store as snapshot generation g+1 to a temporary file, fsyncs it,
 * renames it over `snapshot`, fsyncs the directory, then starts log.<g+1> and
 * removes log.<g>. A crash at any point leaves either the old snapshot and
 * its log or the new snapshot (and an empty or absent new log). On start the
 * snapshot is read and its log replayed; a torn last record (a crash in the
 * middle of a write) is cut off.
 *
 * fsync policy (`fsync`): `interval` (default) writes each update to the log
 * before acknowledging it (so a crash of the server process loses nothing:
 * the kernel has it) and fdatasyncs once a second, so a power loss of the
 * server's host may lose the last second of acknowledged updates; a node that
 * is still running sends its whole state again when it reconnects, so that
 * only matters when the node's host lost power at the same moment. `always`
 * fdatasyncs before acknowledging (one fsync per batch of updates read
 * together); `never` leaves it to the kernel.
 */
import { createHmac } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { crc32c } from '../../wire/crc32c.js';
import { decodeCheckpointRequest, encodeCheckpointMessage, type CheckpointReply, type CheckpointRequest, type CheckpointUpdate } from '../state/checkpoint-messages.js';
import { CheckpointStore } from '../state/checkpoint-store.js';
import { encodeFrame, FrameDecoder } from '../state/frame.js';
import { decodePlain, encodePlain } from '../state/plain-codec.js';

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface CheckpointServerOptions {
  readonly listen: { readonly host: string; readonly port: number };
  readonly key: Uint8Array;
  /** Bound on what the store holds (portion bytes plus per-entry overheads). */
  readonly maxBytes: number;
  readonly dir?: string;
  readonly fsync?: FsyncPolicy;
  readonly fsyncInterval?: number;
  readonly logger?: Logger;
  readonly maxConnections?: number;
  /** The log is compacted once it exceeds this and twice the live bytes (default 4 MiB). */
  readonly compactMinBytes?: number;
}

export interface CheckpointServerCounters {
  connections: number;
  rejectedFrames: number;
  updates: number;
  refusals: number;
  fetches: number;
  lists: number;
  bytesIn: number;
  compactions: number;
  fsyncs: number;
  logBytes: number;
}

const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array => createHmac('sha256', key).update(data).digest();
const SNAPSHOT = 'snapshot';
const MAGIC = [0x48, 0x43, 0x4b, 0x53]; // "HCKS"

function u32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}
function putU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** The append-only log and snapshot of one `dir`. */
class Persistence {
  private gen = 0;
  private fd: number | undefined;
  private dirty = false;
  logBytes = 0;

  constructor(
    private readonly dir: string,
    private readonly logger: Logger | undefined,
  ) {}

  private logPath(gen: number): string {
    return join(this.dir, `log.${gen}`);
  }

  /** Reads the snapshot and replays its log into `store`. */
  load(store: CheckpointStore): { records: number; truncatedBytes: number } {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const snap = join(this.dir, SNAPSHOT);
    if (existsSync(snap)) {
      const b = new Uint8Array(readFileSync(snap));
      const ok = b.length >= 20 && MAGIC.every((m, i) => b[i] === m) && u32(b, 4) === 1 && u32(b, 12) === b.length - 20 && crc32c(b.subarray(20)) === u32(b, 16);
      const r = ok ? decodePlain(b.subarray(20)) : undefined;
      if (!r || !r.ok || !store.importPlain(r.value)) throw new Error(`${snap}: not a checkpoint snapshot, or damaged (remove it to start empty)`);
      this.gen = u32(b, 8);
    }
    let records = 0;
    let truncatedBytes = 0;
    const log = this.logPath(this.gen);
    if (existsSync(log)) {
      const b = new Uint8Array(readFileSync(log));
      let off = 0;
      while (off + 8 <= b.length) {
        const len = u32(b, off);
        if (off + 8 + len > b.length || crc32c(b.subarray(off + 8, off + 8 + len)) !== u32(b, off + 4)) break;
        const r = decodePlain(b.subarray(off + 8, off + 8 + len));
        const x = r.ok ? (r.value as { at?: unknown; u?: unknown }) : undefined;
        const m = x && x.u !== undefined ? decodeCheckpointRequest(encodePlain(x.u)) : undefined;
        if (!m || !m.ok || m.message.t !== 'update' || typeof x!.at !== 'number') break;
        store.apply(m.message, x!.at, false);
        records++;
        off += 8 + len;
      }
      truncatedBytes = b.length - off;
      if (truncatedBytes > 0) {
        // A torn last record (a crash in the middle of a write): cut it off.
        const fd = openSync(log, 'r+');
        ftruncateSync(fd, off);
        fsyncSync(fd);
        closeSync(fd);
      }
      this.logBytes = off;
    }
    // Leftovers of a compaction cut short.
    for (const name of readdirSync(this.dir)) {
      if ((/^log\.\d+$/.test(name) && name !== `log.${this.gen}`) || name === `${SNAPSHOT}.tmp`) unlinkSync(join(this.dir, name));
    }
    this.fd = openSync(log, 'a', 0o600);
    this.logger?.debug({ dir: this.dir, generation: this.gen, records, truncatedBytes }, 'checkpoint store loaded');
    return { records, truncatedBytes };
  }

  append(u: CheckpointUpdate, at: number): void {
    if (this.fd === undefined) return;
    const payload = encodePlain({ at, u });
    const rec = new Uint8Array(8 + payload.length);
    putU32(rec, 0, payload.length);
    putU32(rec, 4, crc32c(payload));
    rec.set(payload, 8);
    for (let off = 0; off < rec.length; ) off += writeSync(this.fd, rec, off, rec.length - off);
    this.logBytes += rec.length;
    this.dirty = true;
  }

  /** fdatasync if anything was written since the last one; true if it synced. */
  sync(): boolean {
    if (this.fd === undefined || !this.dirty) return false;
    fdatasyncSync(this.fd);
    this.dirty = false;
    return true;
  }

  /** Writes the whole store as the next generation's snapshot and starts its log. */
  compact(store: CheckpointStore): void {
    if (this.fd === undefined) return;
    const next = this.gen + 1;
    const payload = encodePlain(store.exportPlain());
    const b = new Uint8Array(20 + payload.length);
    b.set(MAGIC, 0);
    putU32(b, 4, 1);
    putU32(b, 8, next);
    putU32(b, 12, payload.length);
    putU32(b, 16, crc32c(payload));
    b.set(payload, 20);
    const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(this.dir, SNAPSHOT));
    const dfd = openSync(this.dir, 'r');
    fsyncSync(dfd);
    closeSync(dfd);
    const old = this.gen;
    closeSync(this.fd);
    this.gen = next;
    this.fd = openSync(this.logPath(next), 'a', 0o600);
    this.logBytes = 0;
    this.dirty = false;
    try {
      unlinkSync(this.logPath(old));
    } catch {
      // already gone
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    this.sync();
    closeSync(this.fd);
    this.fd = undefined;
  }
}

export class CheckpointServer {
  readonly counters: CheckpointServerCounters = { connections: 0, rejectedFrames: 0, updates: 0, refusals: 0, fetches: 0, lists: 0, bytesIn: 0, compactions: 0, fsyncs: 0, logBytes: 0 };
  readonly store: CheckpointStore;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly disk: Persistence | undefined;
  private readonly policy: FsyncPolicy;
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly maxFrame: number;
  private readonly lastRefusalLog = new Map<string, number>();

  constructor(private readonly o: CheckpointServerOptions) {
    this.store = new CheckpointStore(o.maxBytes);
    this.policy = o.fsync ?? 'interval';
    this.disk = o.dir === undefined ? undefined : new Persistence(o.dir, o.logger);
    // An update larger than the whole bound can never be stored; a little room for framing and names.
    this.maxFrame = o.maxBytes + 64 * 1024;
  }

  /** Loads what `dir` holds, then listens. */
  async start(): Promise<{ readonly nodes: number; readonly bytes: number; readonly records: number; readonly truncatedBytes: number }> {
    const loaded = this.disk?.load(this.store) ?? { records: 0, truncatedBytes: 0 };
    this.counters.logBytes = this.disk?.logBytes ?? 0;
    const server = createServer((s) => this.adopt(s));
    server.maxConnections = this.o.maxConnections ?? 256;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.listen.port, this.o.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.o.logger?.error({ err: e.message }, 'checkpoint server socket error'));
    if (this.disk && this.policy === 'interval') {
      this.syncTimer = setInterval(() => {
        if (this.disk?.sync()) this.counters.fsyncs++;
      }, this.o.fsyncInterval ?? 1000);
      this.syncTimer.unref();
    }
    return { nodes: this.store.nodeNames().length, bytes: this.store.bytes, ...loaded };
  }

  get port(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  async close(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.disk?.close();
  }

  private adopt(s: Socket): void {
    this.sockets.add(s);
    this.counters.connections++;
    s.setNoDelay(true);
    const decoder = new FrameDecoder(this.o.key, hmacSha256, this.maxFrame);
    const peer = `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;
    s.on('data', (chunk: Buffer) => {
      this.counters.bytesIn += chunk.length;
      const frames = decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      const replies: CheckpointReply[] = [];
      let wrote = false;
      let drop: string | undefined;
      for (const f of frames) {
        if (!f.ok) {
          this.counters.rejectedFrames++;
          drop = f.error;
          if (f.error === 'too-large') replies.push({ t: 'error', reason: `frame over the server's bound of ${this.maxFrame} bytes (--max-bytes)` });
          break;
        }
        const m = decodeCheckpointRequest(f.payload);
        if (!m.ok) {
          this.counters.rejectedFrames++;
          replies.push({ t: 'error', reason: `bad request: ${m.error}` });
          continue;
        }
        const r = this.handle(m.message);
        if (r.wrote) wrote = true;
        replies.push(r.reply);
      }
      // Acknowledge only what is as durable as the policy says.
      if (wrote && this.policy === 'always' && this.disk?.sync()) this.counters.fsyncs++;
      if (wrote) this.maybeCompact();
      for (const r of replies) if (!s.destroyed) s.write(encodeFrame(encodeCheckpointMessage(r), this.o.key, hmacSha256));
      if (drop !== undefined) {
        this.o.logger?.warn({ peer, reason: drop }, drop === 'bad-mac' ? 'checkpoint connection rejected: bad MAC (another key?)' : 'checkpoint connection dropped: bad frame');
        s.end();
        setTimeout(() => s.destroy(), 1000).unref();
      }
    });
    s.on('error', () => {});
    s.on('close', () => this.sockets.delete(s));
  }

  private handle(m: CheckpointRequest): { reply: CheckpointReply; wrote: boolean } {
    switch (m.t) {
      case 'update': {
        this.counters.updates++;
        const at = Date.now();
        const r = this.store.apply(m, at);
        if (!r.ok) {
          this.counters.refusals++;
          const last = this.lastRefusalLog.get(m.node) ?? 0;
          if (at - last > 5000) {
            this.lastRefusalLog.set(m.node, at);
            this.o.logger?.warn({ node: m.node, seq: m.seq, code: r.code, reason: r.reason, bytes: this.store.bytes, maxBytes: this.o.maxBytes }, 'checkpoint update refused');
          }
          return { reply: { t: 'refused', node: m.node, gen: m.gen, seq: m.seq, code: r.code, reason: r.reason }, wrote: false };
        }
        this.disk?.append(m, at);
        this.counters.logBytes = this.disk?.logBytes ?? 0;
        return { reply: { t: 'ack', node: m.node, gen: m.gen, seq: m.seq }, wrote: this.disk !== undefined };
      }
      case 'fetch': {
        this.counters.fetches++;
        const f = this.store.fetch(m.node);
        this.o.logger?.info({ node: m.node, seq: f.seq, portions: f.portions.length }, 'checkpoint fetched');
        return { reply: { t: 'state', id: m.id, node: m.node, seq: f.seq, now: f.now, portions: f.portions }, wrote: false };
      }
      case 'list':
        this.counters.lists++;
        return { reply: { t: 'listing', id: m.id, at: Date.now(), bytes: this.store.bytes, maxBytes: this.o.maxBytes, nodes: this.store.list() }, wrote: false };
    }
  }

  private maybeCompact(): void {
    const d = this.disk;
    if (!d) return;
    if (d.logBytes <= Math.max(this.o.compactMinBytes ?? 4 * 1024 * 1024, 2 * this.store.bytes)) return;
    const t0 = Date.now();
    const before = d.logBytes;
    d.compact(this.store);
    this.counters.compactions++;
    this.counters.logBytes = d.logBytes;
    this.o.logger?.info({ logBytes: before, storeBytes: this.store.bytes, ms: Date.now() - t0 }, 'checkpoint log compacted');
  }
}
