/**
 * The relay as a simulator host (src/sim): one sans-IO endpoint with the
 * relay logic on its events, deterministic like every other sim host.
 */
import type { Endpoint } from '../core/endpoint.js';
import type { Millis } from '../core/env.js';
import type { Datagram, SimHost } from '../sim/host.js';
import { RelayCore, type RelayIo, type RelayOptions } from './core.js';

export class RelaySimHost implements SimHost {
  readonly core: RelayCore;
  private now: Millis = 0;

  constructor(
    readonly endpoint: Endpoint,
    options: RelayOptions,
  ) {
    const io: RelayIo = {
      now: () => this.now,
      connect: (b) => {
        const r = endpoint.connect(this.now, { remoteAddresses: b.addresses, remotePort: b.port });
        return r.ok ? r.assocId : undefined;
      },
      send: (id, data, opts) => {
        const r = endpoint.send(this.now, id, data, opts);
        return r.ok ? r : { ok: false, error: r.error.kind };
      },
      release: (id, token) => {
        endpoint.release(this.now, id, token);
      },
      shutdown: (id) => {
        endpoint.shutdown(this.now, id);
      },
    };
    this.core = new RelayCore(io, options);
  }

  handlePacket(now: Millis, packet: Datagram): void {
    this.now = now;
    this.endpoint.handlePacket(now, packet);
    this.events();
  }

  handleTimeout(now: Millis): void {
    this.now = now;
    this.endpoint.handleTimeout(now);
    this.events();
  }

  pollTransmit(now: Millis): Datagram | undefined {
    this.now = now;
    return this.endpoint.pollTransmit(now);
  }

  pollTimeout(): Millis | undefined {
    return this.endpoint.pollTimeout();
  }

  /** Events are handled as they come: a handler's own inputs may add more. */
  private events(): void {
    for (let i = 0, e = this.endpoint.pollEvent(); e !== undefined && i < 1_000_000; i++, e = this.endpoint.pollEvent()) this.core.onEvent(e.assocId, e.event);
  }
}
