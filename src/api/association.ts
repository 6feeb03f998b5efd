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
 * - 'asconf' ({ request, result, causes })   how one of our RFC 5061 requests (addLocalAddress, removeLocalAddress,
 *                                            requestPeerPrimary) ended: success, error, unsupported, closed
 * - 'peer-set-primary' (address)             the peer asked us (ASCONF Set Primary) to send to `address`, and we now do;
 *                                            also a 'path' event with state SCTP_ADDR_MADE_PRIM
 * - 'adaptation' (indication)                the peer's Adaptation Layer Indication (RFC 5061 §4.2.5)
 * Acknowledge after forward (options holdAcks, holdLimit, notifyAcked): messages carry a `token`, acknowledged
 * to the peer only after release(token); sendAcked() resolves once the peer's cumulative ack covers a message.
 * - 'close' ()                               the association is gone (after shutdown, abort or loss); last event
 */
import { EventEmitter } from 'node:events';
import type { EndpointEvent } from '../core/endpoint.js';
import type { Association as CoreAssociation } from '../core/association/types.js';
import { summarize, type AssociationSummary } from '../core/association/snapshot.js';
import type { SendOptions as CoreSendOptions } from '../core/association/association.js';
import type { AsconfRequest } from '../core/asconf/state.js';
import type { AsconfResult } from '../core/association/types.js';
import type { ErrorCause } from '../wire/types.js';
import { canonicalAddress } from '../wire/address.js';
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
  /**
   * With acknowledge after forward (option holdAcks): pass it to release()
   * once the message is safe elsewhere; until then the peer's copy is not
   * acknowledged (its TSNs are left out of our SACKs).
   */
  readonly token?: number;
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

/** How one RFC 5061 request ended: the 'asconf' event, and what the address methods resolve with. */
export interface AsconfOutcome {
  readonly request: AsconfRequest;
  readonly result: AsconfResult;
  readonly causes: readonly ErrorCause[];
}

/** What the association needs from the host that owns it. */
export interface AssociationHost {
  readonly runtime: Runtime;
  /** Called once when the association is gone; resolves when whatever it owned is released. */
  released(a: Association): Promise<void>;
  /** RFC 5061: the transport receives on and may send from `address` (idempotent). */
  addTransportAddress?(address: string): Promise<void>;
  /** RFC 5061: the transport may let `address` go, if nothing uses it any more. */
  releaseTransportAddress?(address: string): Promise<void>;
}

interface AckWaiter {
  readonly resolve: () => void;
  readonly reject: (e: SctpError) => void;
}

interface Queued {
  readonly data: Uint8Array;
  readonly opts: CoreSendOptions;
  readonly waiter?: AckWaiter;
}

export class Association extends EventEmitter {
  readonly id: number;
  private readonly host: AssociationHost;
  private readonly overflow: Queued[] = [];
  private overflowHead = 0;
  private overflowBytes = 0;
  private readonly maxOverflowBytes: number;
  private needDrain = false;
  /** Messages were queued in the core since its last flush (see send()). */
  private flushDue = false;
  /** shutdown() was called with messages in the overflow queue: the core hears of it once they are in. */
  private shutdownWaitsForOverflow = false;
  private upFlag = false;
  private closedFlag = false;
  private closeWaiters: (() => void)[] = [];
  private asconfWaiters: { readonly request: AsconfRequest; readonly resolve: (o: AsconfOutcome) => void }[] = [];
  /** sendAcked() messages by core message id, until acknowledged or failed. */
  private readonly ackWaiters = new Map<number, AckWaiter>();
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
    return this.sendWith(data, options, undefined);
  }

  /**
   * As send(), and resolves once the peer's Cumulative TSN Ack covers every
   * fragment of the message (not a Gap Ack Block: RFC 9260 lets a receiver
   * drop gap-acked data). Rejects with the reason if the message fails
   * (PR-SCTP, association closed). Needs the notifyAcked option.
   * @throws SctpError as send(), and ERR_SCTP_NOT_ENABLED without notifyAcked.
   */
  sendAcked(data: Uint8Array | string, options: SendOptions = {}): Promise<void> {
    if (!this.host.runtime.endpoint.config.notifyAcked) throw new SctpError('sendAcked needs the notifyAcked option', 'ERR_SCTP_NOT_ENABLED');
    return new Promise<void>((resolve, reject) => {
      this.sendWith(data, options, { resolve, reject });
    });
  }

  /**
   * Acknowledge after forward: the message delivered with `token` may be
   * acknowledged to the peer now. False for an unknown or released token.
   */
  release(token: number): boolean {
    if (this.closedFlag) return false;
    const rt = this.host.runtime;
    return rt.input((now) => rt.endpoint.release(now, this.id, token)) === 'released';
  }

  /** Turns acknowledge after forward on or off for this association (see the holdAcks option). */
  setAckHold(enabled: boolean): void {
    if (this.closedFlag) throw new SctpError('association is closed', 'ERR_SCTP_CLOSED');
    const rt = this.host.runtime;
    rt.input((now) => rt.endpoint.setAckHold(now, this.id, enabled));
  }

  private sendWith(data: Uint8Array | string, options: SendOptions, waiter: AckWaiter | undefined): boolean {
    if (this.closedFlag) throw new SctpError('association is closed', 'ERR_SCTP_CLOSED');
    if (this.shutdownWaitsForOverflow) throw new SctpError('association is shutting down', 'ERR_SCTP_SHUTTING_DOWN');
    const bytes = typeof data === 'string' ? new Uint8Array(Buffer.from(data)) : data;
    // The common case (stream, ppid, unordered at most) without spreading: send() is per message.
    const opts: CoreSendOptions =
      options.ttl === undefined && options.maxRetransmits === undefined
        ? { streamId: options.stream ?? 0, ppid: options.ppid ?? 0, unordered: options.unordered === true }
        : {
            streamId: options.stream ?? 0,
            ppid: options.ppid ?? 0,
            ...(options.unordered !== undefined && { unordered: options.unordered }),
            ...(options.ttl !== undefined && { lifetime: options.ttl }),
            ...(options.maxRetransmits !== undefined && { maxRetransmits: options.maxRetransmits }),
          };
    if (this.overflow.length > this.overflowHead) return this.enqueueOverflow(bytes, opts, waiter);
    const rt = this.host.runtime;
    // Queued now (so the result is known), transmitted at the end of the tick
    // together with every other send of it: one pass over the association's
    // transmit path and full packets, not one packet per message.
    const r = rt.endpoint.queue(rt.now(), this.id, bytes, opts);
    if (r.ok) {
      if (waiter) this.ackWaiters.set(r.messageId, waiter);
      this.flushDue = true;
      rt.pumpSoon();
      return true;
    }
    if (r.error.kind === 'queue-full') return this.enqueueOverflow(bytes, opts, waiter);
    throw sendError(r.error.kind, r.error);
  }

  private enqueueOverflow(data: Uint8Array, opts: CoreSendOptions, waiter: AckWaiter | undefined): false {
    if (this.overflowBytes > 0 && this.overflowBytes + data.length > this.maxOverflowBytes) {
      throw new SctpError(`send buffer full: ${this.overflowBytes} bytes waiting (maxBufferedBytes ${this.maxOverflowBytes}); wait for 'drain'`, 'ERR_SCTP_BUFFER_FULL');
    }
    this.overflow.push(waiter ? { data, opts, waiter } : { data, opts });
    this.overflowBytes += data.length;
    this.needDrain = true;
    return false;
  }

  /** @internal */
  get wantsFlush(): boolean {
    return this.flushDue || this.needDrain || this.shutdownWaitsForOverflow || this.overflow.length > this.overflowHead;
  }

  /**
   * @internal After the events of each pump: hands the overflow queue to the
   * core while it takes it, then has the core transmit what was queued.
   */
  flushOverflow(): void {
    if (this.closedFlag) return;
    const rt = this.host.runtime;
    if (this.overflow.length > this.overflowHead) {
      const now = rt.now();
      while (this.overflowHead < this.overflow.length) {
        const q = this.overflow[this.overflowHead]!;
        const r = rt.endpoint.queue(now, this.id, q.data, q.opts);
        if (!r.ok && r.error.kind === 'queue-full') break;
        if (r.ok) {
          this.flushDue = true;
          if (q.waiter) this.ackWaiters.set(r.messageId, q.waiter);
        }
        this.overflowHead++;
        this.overflowBytes -= q.data.length;
        if (!r.ok) {
          this.emit('send-failed', { data: q.data, stream: q.opts.streamId, ppid: q.opts.ppid, reason: r.error.kind, sent: false } satisfies SendFailed);
          q.waiter?.reject(new SctpError(`send failed: ${r.error.kind}`, 'ERR_SCTP_SEND_FAILED'));
        }
      }
      if (this.overflowHead === this.overflow.length) {
        this.overflow.length = 0;
        this.overflowHead = 0;
      } else if (this.overflowHead > 1024) {
        this.overflow.splice(0, this.overflowHead);
        this.overflowHead = 0;
      }
    }
    if (this.flushDue) {
      this.flushDue = false;
      rt.endpoint.flush(rt.now(), this.id);
    }
    if (this.shutdownWaitsForOverflow && this.overflow.length === 0) {
      this.shutdownWaitsForOverflow = false;
      rt.endpoint.shutdown(rt.now(), this.id);
      // Inside a pump: one more round takes what the SHUTDOWN made.
      rt.pumpSoon();
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

  /**
   * RFC 5061 ADD-IP: makes `address` one of this association's local
   * addresses: the transport starts receiving on it, and an authenticated
   * ASCONF (Add IP Address) tells the peer. Resolves with the outcome once the
   * peer answered (result 'success' when it took it; the address is then a
   * source address too).
   * @throws SctpError when the request cannot be made: invalid address,
   *   ADD-IP not negotiated (ERR_SCTP_NOT_NEGOTIATED), already present, closed.
   */
  async addLocalAddress(address: string): Promise<AsconfOutcome> {
    const c = this.checkedAddress(address);
    await this.host.addTransportAddress?.(c);
    return this.asconfRequest({ kind: 'add-ip-address', address: c }, (now) => this.host.runtime.endpoint.addLocalAddress(now, c, this.id));
  }

  /**
   * RFC 5061 ADD-IP: `address` stops being one of this association's local
   * addresses: never a source from now on, received on until the peer
   * acknowledged the ASCONF (Delete IP Address). The last address cannot go.
   */
  async removeLocalAddress(address: string): Promise<AsconfOutcome> {
    const c = this.checkedAddress(address);
    const outcome = await this.asconfRequest({ kind: 'delete-ip-address', address: c }, (now) => this.host.runtime.endpoint.removeLocalAddress(now, c, this.id));
    if (outcome.result === 'success') await this.host.releaseTransportAddress?.(c);
    return outcome;
  }

  /**
   * RFC 5061 §4.2.4: asks the peer to send to our `localAddress` (one added,
   * or being added) from now on; an HA standby that took over does this so
   * the peer moves at once instead of after its retransmission timeouts.
   */
  requestPeerPrimary(localAddress: string): Promise<AsconfOutcome> {
    const c = this.checkedAddress(localAddress);
    return this.asconfRequest({ kind: 'set-primary-address', address: c }, (now) => this.host.runtime.endpoint.requestPeerPrimary(now, this.id, c));
  }

  private checkedAddress(address: string): string {
    if (this.closedFlag) throw new SctpError('association is closed', 'ERR_SCTP_CLOSED');
    const c = canonicalAddress(address);
    if (c === undefined) throw new SctpError(`not an IP address: ${JSON.stringify(address)}`, 'ERR_SCTP_INVALID_ADDRESS');
    return c;
  }

  private asconfRequest(request: AsconfRequest, call: (now: number) => ReturnType<Runtime['endpoint']['addLocalAddress']>): Promise<AsconfOutcome> {
    if (this.closedFlag) return Promise.reject(new SctpError('association is closed', 'ERR_SCTP_CLOSED'));
    return new Promise<AsconfOutcome>((resolve, reject) => {
      // Registered first: the answer cannot come before the request is sent, but the pump may run at once.
      const waiter = { request, resolve };
      this.asconfWaiters.push(waiter);
      const r = this.host.runtime.input(call);
      if (!r.ok) {
        this.asconfWaiters = this.asconfWaiters.filter((w) => w !== waiter);
        reject(new SctpError(`${request.kind} ${request.address}: ${r.error}`, `ERR_SCTP_${r.error.toUpperCase().replace(/-/g, '_')}`));
      }
    });
  }

  /** Graceful close (RFC 9260 §9.2): queued data is delivered first. Resolves at 'close'. */
  shutdown(): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    const p = this.whenClosed();
    // Messages send() took into the overflow queue are "queued data" too: the
    // SHUTDOWN waits until the core has them (flushOverflow), or they would fail.
    if (this.overflow.length > this.overflowHead) {
      this.shutdownWaitsForOverflow = true;
      return p;
    }
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
          ...(e.holdToken !== undefined && { token: e.holdToken }),
        } satisfies Message);
        return;
      case 'message-acked': {
        const w = this.ackWaiters.get(e.messageId);
        if (w) {
          this.ackWaiters.delete(e.messageId);
          w.resolve();
        }
        return;
      }
      case 'peer-address-change':
        if (e.state === 'SCTP_ADDR_ADDED' && !this.remoteAddresses.includes(e.address)) this.remoteAddresses = [...this.remoteAddresses, e.address];
        if (e.state === 'SCTP_ADDR_REMOVED') this.remoteAddresses = this.remoteAddresses.filter((x) => x !== e.address);
        this.emit('path', e.address, e.state);
        if (e.state === 'SCTP_ADDR_MADE_PRIM') this.emit('peer-set-primary', e.address);
        return;
      case 'asconf': {
        const outcome: AsconfOutcome = { request: e.request, result: e.result, causes: e.causes };
        const i = this.asconfWaiters.findIndex((w) => w.request.kind === e.request.kind && w.request.address === e.request.address);
        if (i >= 0) this.asconfWaiters.splice(i, 1)[0]!.resolve(outcome);
        this.emit('asconf', outcome);
        return;
      }
      case 'adaptation-indication':
        this.emit('adaptation', e.indication);
        return;
      case 'restart':
        this.outboundStreams = e.outboundStreams;
        this.inboundStreams = e.inboundStreams;
        this.emit('restart');
        return;
      case 'shutdown-received':
        this.emit('shutdown');
        return;
      case 'send-failed': {
        this.emit('send-failed', { data: e.data, stream: e.streamId, ppid: e.ppid, reason: e.reason, sent: e.sent } satisfies SendFailed);
        const w = this.ackWaiters.get(e.messageId);
        if (w) {
          this.ackWaiters.delete(e.messageId);
          w.reject(new SctpError(`send failed: ${e.reason}`, 'ERR_SCTP_SEND_FAILED'));
        }
        return;
      }
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
      q.waiter?.reject(new SctpError('send failed: association-closed', 'ERR_SCTP_SEND_FAILED'));
    }
    for (const w of this.ackWaiters.values()) w.reject(new SctpError('send failed: association-closed', 'ERR_SCTP_SEND_FAILED'));
    this.ackWaiters.clear();
    this.overflow.length = 0;
    this.overflowHead = 0;
    this.overflowBytes = 0;
    for (const w of this.asconfWaiters.splice(0)) w.resolve({ request: w.request, result: 'closed', causes: [] });
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
