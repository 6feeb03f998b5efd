/**
 * The event loop around the sans-IO core (DESIGN.md §2): the only place that
 * reads the clock and arms timers. Every input (a received batch, a timer
 * expiry, a ULP call) is followed by one pump: events are handed to the API
 * layer, everything the endpoint wants to send goes out in ONE transport
 * batch, and the single timer is re-armed for the endpoint's next deadline.
 */
import type { Logger } from 'pino';
import type { Endpoint, EndpointEvent } from '../core/endpoint.js';
import type { Millis } from '../core/env.js';
import type { IncomingDatagram, OutgoingDatagram, Transport } from '../transport/transport.js';
import { monotonicNow } from './env.js';

export interface RuntimeOptions {
  readonly endpoint: Endpoint;
  readonly transport: Transport;
  readonly logger: Logger;
  /** Every endpoint event, in order, synchronously during the pump. May call back into the runtime. */
  readonly onEvent: (e: EndpointEvent) => void;
  /** After the events of a pump were handed on (the API layer retries its overflow queues there). */
  readonly afterEvents?: () => void;
  /** The clock; monotonic milliseconds (tests may inject one). */
  readonly now?: () => Millis;
}

/** A pump re-runs while inputs arrive re-entrantly from event handlers; bounded against a runaway handler. */
const MAX_PUMP_ROUNDS = 10_000;
/** In a big received batch, what the packets call for is sent after every this many (a power of 2). */
const ACK_EVERY = 16;

export class Runtime {
  readonly endpoint: Endpoint;
  readonly transport: Transport;
  readonly logger: Logger;
  private readonly onEvent: (e: EndpointEvent) => void;
  private readonly afterEvents: (() => void) | undefined;
  private readonly clock: () => Millis;
  /** RFC 6951 §5.4: the peer's UDP encapsulation port per remote address, from its datagrams. */
  private readonly udpPorts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** The endpoint deadline the timer stands for. */
  private armedAt: Millis | undefined;
  /** When the timer fires: at or before `armedAt` (see arm()). */
  private timerAt: Millis | undefined;
  private pumping = false;
  private pumpScheduled = false;
  private again = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Called after every pump (close() waits on it for the associations to end). */
  private pumpWaiters = new Set<() => void>();

  constructor(options: RuntimeOptions) {
    this.endpoint = options.endpoint;
    this.transport = options.transport;
    this.logger = options.logger;
    this.onEvent = options.onEvent;
    this.afterEvents = options.afterEvents;
    this.clock = options.now ?? monotonicNow;
    this.transport.onDatagrams = (batch) => this.onDatagrams(batch);
  }

  now(): Millis {
    return this.clock();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The deadline the one timer is armed for (undefined: none armed). For diagnostics and tests. */
  get armedDeadline(): Millis | undefined {
    return this.timer === undefined ? undefined : this.armedAt;
  }

  /** The learned remote UDP encapsulation port of an address (RFC 6951), if any. */
  remoteUdpPort(address: string): number | undefined {
    return this.udpPorts.get(address);
  }

  /** Remembers a remote encapsulation port in advance (the client knows the server's). */
  setRemoteUdpPort(address: string, port: number): void {
    this.udpPorts.set(address, port);
  }

  /** Runs one ULP input with the current time, then pumps. */
  input<T>(fn: (now: Millis) => T): T {
    const r = fn(this.clock());
    this.pump();
    return r;
  }

  /**
   * A pump at the end of the current tick (a microtask), however many inputs
   * the tick brings: what the application queued in one tick (Endpoint.queue,
   * flushed by the API layer in `afterEvents`) leaves in one transport batch
   * (one sendmmsg) and the timer is re-armed once. Nothing if a pump is
   * already due; from inside a pump, one more round.
   */
  pumpSoon(): void {
    if (this.pumping) {
      // From an event handler: the running pump polls transmits after the
      // events; one more round takes the events the input made.
      this.again = true;
      return;
    }
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(this.scheduledPump);
  }

  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false;
    if (!this.closed) this.pump();
  };

  private onDatagrams(batch: IncomingDatagram[]): void {
    if (this.closed) return;
    const now = this.clock();
    for (let i = 0; i < batch.length; i++) {
      const d = batch[i]!;
      // Kept before the verification tag check (the core does not report which
      // packets it accepted); an off-path spoofer could redirect the replies to
      // another port of the same address until the peer's next packet.
      if (d.udpSourcePort !== undefined && this.udpPorts.get(d.source) !== d.udpSourcePort) this.udpPorts.set(d.source, d.udpSourcePort);
      const bytes = d.bytes.constructor === Uint8Array ? d.bytes : new Uint8Array(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength);
      this.endpoint.handlePacket(now, { source: d.source, destination: d.destination, bytes });
      if ((i & (ACK_EVERY - 1)) === ACK_EVERY - 1 && i + 1 < batch.length) this.sendTransmits(now);
    }
    // What the packets called for (SACKs, the data SACKs released) leaves
    // before the application's work on the events (pump): the peer's clock
    // must not wait for it. Holding the SACKs of a batch until its messages
    // had been handed over made a window's worth of 100-byte messages cost a
    // whole round of the receiver's work before any SACK left, so sender and
    // receiver took turns instead of working at the same time.
    this.sendTransmits(now);
    this.pump();
  }

  /**
   * RFC 6951 §5.4 learns a peer's encapsulation port per address from its
   * packets; an address that has sent nothing yet (a multihomed peer's second
   * one, listed in its INIT or INIT ACK) gets the port of the packets that
   * listed it, as usrsctp does, rather than the well-known 9899: a peer on
   * another port would otherwise never see our HEARTBEATs there, and the
   * path would stay unconfirmed.
   */
  private shareUdpPort(addresses: readonly string[]): void {
    let port: number | undefined;
    for (const a of addresses) port ??= this.udpPorts.get(a);
    if (port === undefined) return;
    for (const a of addresses) if (!this.udpPorts.has(a)) this.udpPorts.set(a, port);
  }

  /** Sends what the endpoint has to send now, in one batch. */
  private sendTransmits(now: Millis): void {
    if (this.pumping) return;
    let out: OutgoingDatagram[] | undefined;
    for (let d = this.endpoint.pollTransmit(now); d !== undefined; d = this.endpoint.pollTransmit(now)) {
      const remoteUdpPort = this.udpPorts.get(d.destination);
      (out ??= []).push(remoteUdpPort === undefined ? d : { source: d.source, destination: d.destination, bytes: d.bytes, remoteUdpPort });
    }
    if (out !== undefined && !this.closed) this.transport.send(out);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = undefined;
    if (this.closed) return;
    this.endpoint.handleTimeout(this.clock());
    this.pump();
  };

  /**
   * Hands events on and sends what the endpoint produced, until neither is
   * left (event handlers may send, which makes more); then re-arms the timer.
   * Re-entrant calls (from an event handler) only ask for another round.
   */
  pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    const out: OutgoingDatagram[] = [];
    try {
      for (let round = 0; round < MAX_PUMP_ROUNDS; round++) {
        this.again = false;
        for (let e = this.endpoint.pollEvent(); e !== undefined; e = this.endpoint.pollEvent()) {
          if (e.event.type === 'communication-up') this.shareUdpPort(e.event.peerAddresses);
          this.onEvent(e);
        }
        this.afterEvents?.();
        const now = this.clock();
        for (let d = this.endpoint.pollTransmit(now); d !== undefined; d = this.endpoint.pollTransmit(now)) {
          const remoteUdpPort = this.udpPorts.get(d.destination);
          out.push(remoteUdpPort === undefined ? d : { source: d.source, destination: d.destination, bytes: d.bytes, remoteUdpPort });
        }
        if (!this.again) break;
      }
    } finally {
      this.pumping = false;
      if (out.length > 0 && !this.closed) this.transport.send(out);
      this.arm();
    }
    if (this.pumpWaiters.size > 0) for (const w of [...this.pumpWaiters]) w();
  }

  /**
   * Exactly one armed timer, for the endpoint's next deadline. A deadline that
   * moved later (T3-rtx restarted by every SACK) keeps the timer already
   * armed: it fires early, finds nothing due, and arms again. That costs one
   * wake-up per RTO instead of a clearTimeout and a setTimeout per SACK.
   */
  private arm(): void {
    if (this.closed) return;
    const at = this.endpoint.pollTimeout();
    this.armedAt = at;
    if (at === undefined) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = undefined;
      return;
    }
    if (this.timer !== undefined && this.timerAt !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    // setTimeout has 1 ms granularity and may fire a fraction early: round up.
    const delay = Math.max(0, Math.ceil(at - this.clock()));
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, delay);
  }

  /**
   * Resolves once `predicate` holds after some pump, or after `ms` (false).
   * The wait's own timer is cleared either way.
   */
  waitFor(predicate: () => boolean, ms: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(t);
        this.pumpWaiters.delete(check);
        resolve(ok);
      };
      const check = (): void => {
        if (this.closed) done(predicate());
        else if (predicate()) done(true);
      };
      const t = setTimeout(() => done(predicate()), ms);
      this.pumpWaiters.add(check);
    });
  }

  /**
   * Clean close: SHUTDOWN every association (RFC 9260 §9.2), wait at most
   * `graceMs` for them to end, ABORT the rest, then release the transport and
   * the timer. Idempotent.
   */
  close(graceMs = 2000): Promise<void> {
    this.closing ??= this.doClose(graceMs);
    return this.closing;
  }

  private async doClose(graceMs: number): Promise<void> {
    // close() may be called from an event handler in the middle of a pump:
    // let that pump finish and send what it collected (e.g. SHUTDOWN COMPLETE).
    await Promise.resolve();
    const ids = this.endpoint.associationIds();
    if (ids.length > 0) {
      this.logger.info({ associations: ids.length }, 'shutting down associations');
      this.input((now) => {
        for (const id of ids) this.endpoint.shutdown(now, id);
      });
      const ok = await this.waitFor(() => this.endpoint.associationIds().length === 0, graceMs);
      const left = this.endpoint.associationIds();
      if (!ok && left.length > 0) {
        this.logger.warn({ associations: left.length }, 'graceful shutdown timed out, aborting');
        this.input((now) => {
          for (const id of left) this.endpoint.abort(now, id);
        });
      }
    }
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
    this.armedAt = undefined;
    for (const w of [...this.pumpWaiters]) w();
    await this.transport.close();
    this.transport.onDatagrams = undefined;
    this.logger.info({ transport: this.transport.kind }, 'closed');
  }
}
