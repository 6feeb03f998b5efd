/**
 * createServer(): an SCTP endpoint that accepts associations.
 *
 * Events: 'association' (Association) when one comes up, 'close' () after close().
 */
import { EventEmitter } from 'node:events';
import type { EndpointCounters } from '../core/endpoint.js';
import { boundUdpPort } from '../runtime/transports.js';
import type { Association } from './association.js';
import { Host, type CommonOptions } from './host.js';

export interface ServerOptions extends CommonOptions {
  /** The SCTP port to listen on. */
  readonly port: number;
}

export interface ServerAddress {
  readonly localAddresses: readonly string[];
  readonly port: number;
  readonly transport: string;
  /** UDP encapsulation: the bound local UDP port (the ephemeral one when udpPort was 0). */
  readonly udpPort?: number;
}

export class Server extends EventEmitter {
  private readonly host: Host;
  private closing: Promise<void> | undefined;

  /** @internal use createServer() */
  constructor(host: Host) {
    super();
    this.host = host;
    host.onNew = (a) => this.emit('association', a);
  }

  address(): ServerAddress {
    const rt = this.host.runtime;
    const t = rt.transport;
    const udpPort = boundUdpPort(t, t.localAddresses[0]!);
    return { localAddresses: t.localAddresses, port: rt.endpoint.port, transport: t.kind, ...(udpPort !== undefined && { udpPort }) };
  }

  /**
   * For operations tooling (control socket, metrics): the core clock the
   * snapshots' times are in, and the endpoint's RFC 3873 counters (a copy).
   */
  inspect(): { readonly now: number; readonly counters: EndpointCounters } {
    const rt = this.host.runtime;
    return { now: rt.now(), counters: { ...rt.endpoint.counters } };
  }

  /** The associations that are up or closing. */
  associations(): Association[] {
    return [...this.host.associations.values()];
  }

  /**
   * Shuts every association down gracefully (at most `graceMs`, then ABORT),
   * releases the sockets and the timer, then emits 'close'. Idempotent.
   */
  close(graceMs = 2000): Promise<void> {
    this.closing ??= this.host.close(graceMs).then(() => {
      this.emit('close');
    });
    return this.closing;
  }
}

/** Opens the transport and starts accepting associations; resolves once bound. */
export async function createServer(options: ServerOptions): Promise<Server> {
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError(`createServer: bad SCTP port ${options.port}`);
  return new Server(await Host.open(options, options.port));
}
