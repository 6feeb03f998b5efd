/**
 * One SCTP association as a Node EventEmitter.
 *
 * Events:
 * - 'up' ()                                 communication up (RFC 6458 SCTP_COMM_UP)
 * - 'message' ({ data, stream, ppid, unordered })
 * - 'drain' ()                               send() returned false earlier and the overflow queue has emptied
 * - 'path' (address, state)                  peer address state change (SCTP_ADDR_AVAILABLE, ..._UNREACHABLE, ...)
 * - 'restart' ()                             the peer restarted the association (RFC 9260 §5.2.2)
 * - 'shutdown' ()                            the peer sent SHUTDOWN: no more data will arrive
 * - 'down' (reason)                          communication lost (peer-abort, max-retransmits, ...)
 * - 'error' (err)                            with the 'down' of a lost association, ONLY if an 'error' listener exists
 * - 'send-failed' ({ data, stream, ppid, reason, sent })  a message that will not be delivered
 * - 'remote-error' (causes), 'sender-dry' ()
 * - 'close' ()                               the association is gone (after shutdown, abort or loss); last event
 */
import { EventEmitter } from 'node:events';
import type { EndpointEvent } from '../core/endpoint.js';
import type { Association as CoreAssociation } from '../core/association/types.js';
import { summarize, type AssociationSummary } from '../core/association/snapshot.js';
import type { SendOptions as CoreSendOptions } from '../core/association/association.js';
import type { Runtime } from '../runtime/runtime.js';

export interface SendOptions {
  /** Stream identifier (default 0). */
  readonly stream?: number;
  /** Payload protocol identifier (default 0). */
  readonly ppid?: number;
  readonly unordered?: boolean;
  /** PR-SCTP timed reliability (RFC 3758): lifetime in ms. */
  readonly ttl?: number;
  /** PR-SCTP limited retransmissions (RFC 7496). */
  readonly maxRetransmits?: number;
}

export interface Message {
  readonly data: Buffer;
  readonly stream: number;
  readonly ppid: number;
  readonly unordered: boolean;
}

export interface SendFailed {
  readonly data: Uint8Array;
  readonly stream: number;
  readonly ppid: number;
  readonly reason: string;
  /** True when some of it may have reached the peer. */
  readonly sent: boolean;
}

export class SctpError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'SctpError';
  }
}

/** What the association needs from the host that owns it. */
export interface AssociationHost {
  readonly runtime: Runtime;
  /** Called once when the association is gone; resolves when whatever it owned is released. */
  released(a: Association): Promise<void>;
}

interface Queued {
  readonly data: Uint8Array;
  readonly opts: CoreSendOptions;
}

export class Association extends EventEmitter {
  readonly id: number;
  private readonly host: AssociationHost;
  private readonly overflow: Queued[] = [];
  private overflowHead = 0;
  private overflowBytes = 0;
  private readonly maxOverflowBytes: number;
  private needDrain = false;
  private upFlag = false;
  private closedFlag = false;
  private closeWaiters: (() => void)[] = [];
  remoteAddresses: readonly string[] = [];
  outboundStreams = 0;
  inboundStreams = 0;

  /** @internal created by the server or connect(). */
  constructor(host: AssociationHost, id: number, maxOverflowBytes: number) {
    super();
    this.host = host;
    this.id = id;
    this.maxOverflowBytes = maxOverflowBytes;
  }

  get up(): boolean {
    return this.upFlag;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Bytes waiting in this object's overflow queue (not yet accepted by the SCTP send buffer). */
  get bufferedAmount(): number {
    return this.overflowBytes;
  }

  /**
   * Queues one message. As Node's writable.write(): the message is always
   * taken (never dropped silently) and true means "go on"; false means the
   * SCTP send buffer is full and the message waits in a small overflow queue:
   * wait for 'drain' before sending more. The overflow queue is bounded
   * (maxBufferedBytes, default the core's sendBufferSize): beyond it send()
   * throws SctpError ERR_SCTP_BUFFER_FULL and the message is NOT queued.
   * @throws SctpError for local misuse: closed association, empty or too big
   *   message, invalid stream or PR-SCTP policy, shutting down.
   */
  send(data: Uint8Array | string, options: SendOptions = {}): boolean {
    if (this.closedFlag) throw new SctpError('association is closed', 'ERR_SCTP_CLOSED');
    const bytes = typeof data === 'string' ? new Uint8Array(Buffer.from(data)) : data;
    const opts: CoreSendOptions = {
      streamId: options.stream ?? 0,
      ppid: options.ppid ?? 0,
      ...(options.unordered !== undefined && { unordered: options.unordered }),
      ...(options.ttl !== undefined && { lifetime: options.ttl }),
      ...(options.maxRetransmits !== undefined && { maxRetransmits: options.maxRetransmits }),
    };
    if (this.overflow.length > this.overflowHead) return this.enqueueOverflow(bytes, opts);
    const rt = this.host.runtime;
    const r = rt.input((now) => rt.endpoint.send(now, this.id, bytes, opts));
    if (r.ok) return true;
    if (r.error.kind === 'queue-full') return this.enqueueOverflow(bytes, opts);
    throw sendError(r.error.kind, r.error);
  }

  private enqueueOverflow(data: Uint8Array, opts: CoreSendOptions): false {
    if (this.overflowBytes > 0 && this.overflowBytes + data.length > this.maxOverflowBytes) {
      throw new SctpError(`send buffer full: ${this.overflowBytes} bytes waiting (maxBufferedBytes ${this.maxOverflowBytes}); wait for 'drain'`, 'ERR_SCTP_BUFFER_FULL');
    }
    this.overflow.push({ data, opts });
    this.overflowBytes += data.length;
    this.needDrain = true;
    return false;
  }

  /** @internal */
  get wantsFlush(): boolean {
    return this.needDrain || this.overflow.length > this.overflowHead;
  }

  /** @internal After each pump: hands the overflow queue to the core while it takes it. */
  flushOverflow(): void {
    if (this.closedFlag) return;
    if (this.overflow.length > this.overflowHead) {
      const rt = this.host.runtime;
      const now = rt.now();
      while (this.overflowHead < this.overflow.length) {
        const q = this.overflow[this.overflowHead]!;
        const r = rt.endpoint.send(now, this.id, q.data, q.opts);
        if (!r.ok && r.error.kind === 'queue-full') break;
        this.overflowHead++;
        this.overflowBytes -= q.data.length;
        if (!r.ok) this.emit('send-failed', { data: q.data, stream: q.opts.streamId, ppid: q.opts.ppid, reason: r.error.kind, sent: false } satisfies SendFailed);
      }
      if (this.overflowHead === this.overflow.length) {
        this.overflow.length = 0;
        this.overflowHead = 0;
      } else if (this.overflowHead > 1024) {
        this.overflow.splice(0, this.overflowHead);
        this.overflowHead = 0;
      }
    }
    if (this.needDrain && this.overflow.length === 0) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  /** Makes `address` the primary path (RFC 9260 §10.1 SET PRIMARY). */
  setPrimary(address: string): void {
    const rt = this.host.runtime;
    const r = rt.input((now) => rt.endpoint.setPrimary(now, this.id, address));
    if (!r.ok) throw new SctpError(`setPrimary ${address}: ${r.error}`, `ERR_SCTP_${r.error.toUpperCase().replace(/-/g, '_')}`);
  }

  /** Graceful close (RFC 9260 §9.2): queued data is delivered first. Resolves at 'close'. */
  shutdown(): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    const p = this.whenClosed();
    const rt = this.host.runtime;
    rt.input((now) => rt.endpoint.shutdown(now, this.id));
    return p;
  }

  /** Abortive close (RFC 9260 §9.1), with an optional reason for the peer. Resolves at 'close'. */
  abort(reason?: string | Uint8Array): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    const p = this.whenClosed();
    const bytes = typeof reason === 'string' ? new Uint8Array(Buffer.from(reason)) : reason;
    const rt = this.host.runtime;
    rt.input((now) => rt.endpoint.abort(now, this.id, bytes));
    return p;
  }

  /** The whole TCB as plain data (what replication ships), or undefined once closed. */
  snapshot(): CoreAssociation | undefined {
    return this.host.runtime.endpoint.snapshot(this.id);
  }

  /** A one-level summary (state, primary, per-path state, cwnd, RTO, ...), or undefined once closed. */
  summary(): AssociationSummary | undefined {
    const s = this.snapshot();
    return s === undefined ? undefined : summarize(s);
  }

  private whenClosed(): Promise<void> {
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /** @internal One core event for this association. */
  handle(e: EndpointEvent['event']): void {
    switch (e.type) {
      case 'communication-up':
        this.upFlag = true;
        this.remoteAddresses = e.peerAddresses;
        this.outboundStreams = e.outboundStreams;
        this.inboundStreams = e.inboundStreams;
        this.emit('up');
        return;
      case 'message':
        this.emit('message', {
          data: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength),
          stream: e.streamId,
          ppid: e.ppid,
          unordered: e.unordered,
        } satisfies Message);
        return;
      case 'peer-address-change':
        this.emit('path', e.address, e.state);
        return;
      case 'restart':
        this.outboundStreams = e.outboundStreams;
        this.inboundStreams = e.inboundStreams;
        this.emit('restart');
        return;
      case 'shutdown-received':
        this.emit('shutdown');
        return;
      case 'send-failed':
        this.emit('send-failed', { data: e.data, stream: e.streamId, ppid: e.ppid, reason: e.reason, sent: e.sent } satisfies SendFailed);
        return;
      case 'remote-error':
        this.emit('remote-error', e.causes);
        return;
      case 'sender-dry':
        this.emit('sender-dry');
        return;
      case 'communication-lost':
        this.emit('down', e.reason);
        if (this.listenerCount('error') > 0) this.emit('error', new SctpError(`association lost: ${e.reason}`, `ERR_SCTP_${e.reason.toUpperCase().replace(/-/g, '_')}`));
        this.finish();
        return;
      case 'cannot-start':
        this.emit('down', e.reason);
        this.finish();
        return;
      case 'shutdown-complete':
        this.finish();
        return;
    }
  }

  private finish(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.upFlag = false;
    for (let i = this.overflowHead; i < this.overflow.length; i++) {
      const q = this.overflow[i]!;
      this.emit('send-failed', { data: q.data, stream: q.opts.streamId, ppid: q.opts.ppid, reason: 'association-closed', sent: false } satisfies SendFailed);
    }
    this.overflow.length = 0;
    this.overflowHead = 0;
    this.overflowBytes = 0;
    void this.host.released(this).then(() => {
      this.emit('close');
      for (const w of this.closeWaiters.splice(0)) w();
    });
  }
}

function sendError(kind: string, detail: unknown): SctpError {
  switch (kind) {
    case 'no-such-association':
      return new SctpError('association is closed', 'ERR_SCTP_CLOSED');
    case 'shutting-down':
      return new SctpError('association is shutting down', 'ERR_SCTP_SHUTTING_DOWN');
    default:
      return new SctpError(`send: ${kind} ${JSON.stringify(detail)}`, `ERR_SCTP_${kind.toUpperCase().replace(/-/g, '_')}`);
  }
}
