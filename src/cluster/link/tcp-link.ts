/**
 * The intra-cluster link over TCP (DESIGN.md §2 `cluster/link`): one
 * connection between two nodes, every message framed and authenticated
 * (cluster/state/frame.ts). One side dials, the other accepts; the dialler
 * reconnects with a short backoff. TCP gives order and reliability; the
 * replication protocol above still survives a reconnect (the primary sends a
 * full sync to a standby that says hello again).
 *
 * A frame with a bad MAC or version drops the connection and is counted;
 * nothing from it is acted on.
 */
import { createHmac } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { decodeMessage, encodeMessage, type ClusterMessage } from '../state/messages.js';
import { encodeFrame, FrameDecoder } from '../state/frame.js';

export interface LinkEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface TcpLinkOptions {
  /** Where this node accepts the other node's connection. */
  readonly listen?: LinkEndpoint;
  /** Where this node dials the other node. */
  readonly dial?: LinkEndpoint;
  readonly key: Uint8Array;
  readonly onMessage: (m: ClusterMessage) => void;
  readonly onState: (up: boolean) => void;
  /** A frame that failed authentication or decoding (the connection is dropped). */
  readonly onReject?: (reason: string) => void;
  /** Optional tap for recording cluster-link traffic (raw frames, both ways). */
  readonly onFrame?: (direction: 'in' | 'out', frame: Uint8Array) => void;
  readonly reconnectDelay?: number;
}

export interface LinkCounters {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  rejected: number;
  connects: number;
  disconnects: number;
}

const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array => createHmac('sha256', key).update(data).digest();

export class TcpLink {
  readonly counters: LinkCounters = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, rejected: 0, connects: 0, disconnects: 0 };
  private server: Server | undefined;
  private socket: Socket | undefined;
  private closed = false;
  /** A cork is on the socket until the end of this tick (see send). */
  private corked = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly o: TcpLinkOptions) {}

  async start(): Promise<void> {
    if (this.o.listen) {
      const server = createServer((s) => this.adopt(s));
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.o.listen!.port, this.o.listen!.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', () => {});
    }
    if (this.o.dial) this.dial();
  }

  get up(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  /** The port actually listened on (0 resolved). */
  get listenPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  send(m: ClusterMessage): boolean {
    const s = this.socket;
    if (!s || s.destroyed) return false;
    const frame = encodeFrame(encodeMessage(m), this.o.key, hmacSha256);
    this.counters.framesOut++;
    this.counters.bytesOut += frame.length;
    this.o.onFrame?.('out', frame);
    // Frames written in one turn of the event loop (the records of one batch
    // of received packets, the acks of one batch of records) leave in one
    // write: with TCP_NODELAY each write would otherwise be a segment of its own.
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(() => {
        this.corked = false;
        s.uncork();
      });
    }
    s.write(frame);
    return true;
  }

  /** Bytes queued in the socket (back-pressure on the link). */
  get queuedBytes(): number {
    return this.socket?.writableLength ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.socket?.destroy();
    this.socket = undefined;
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private dial(): void {
    if (this.closed || !this.o.dial) return;
    const s = connect({ host: this.o.dial.host, port: this.o.dial.port });
    s.once('connect', () => this.adopt(s));
    s.once('error', () => {
      s.destroy();
      if (!this.socket) this.scheduleDial();
    });
  }

  private scheduleDial(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.dial();
    }, this.o.reconnectDelay ?? 100);
  }

  private adopt(s: Socket): void {
    if (this.closed) {
      s.destroy();
      return;
    }
    // One connection at a time: a newer one replaces the old (the other node restarted).
    if (this.socket && this.socket !== s) {
      const old = this.socket;
      this.socket = undefined;
      old.destroy();
    }
    this.socket = s;
    this.counters.connects++;
    s.setNoDelay(true);
    const decoder = new FrameDecoder(this.o.key, hmacSha256);
    s.on('data', (chunk: Buffer) => {
      this.counters.bytesIn += chunk.length;
      const frames = decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      for (const f of frames) {
        if (!f.ok) {
          this.counters.rejected++;
          this.o.onReject?.(f.error);
          s.destroy();
          return;
        }
        const m = decodeMessage(f.payload);
        if (!m.ok) {
          this.counters.rejected++;
          this.o.onReject?.(m.error);
          s.destroy();
          return;
        }
        this.counters.framesIn++;
        this.o.onFrame?.('in', f.payload);
        this.o.onMessage(m.message);
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.counters.disconnects++;
      this.o.onState(false);
      if (this.o.dial) this.scheduleDial();
    });
    this.o.onState(true);
  }
}
