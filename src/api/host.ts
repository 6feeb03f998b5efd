/**
 * What createServer() and connect() share: one endpoint driven by one runtime
 * over one transport, with core events routed to Association objects.
 */
import { pino, type Logger } from 'pino';
import { defaultProtocolConfig, type ProtocolConfig } from '../core/config.js';
import { createEndpoint, type EndpointEvent } from '../core/endpoint.js';
import { CryptoRng, hmacSha1, hmacSha256, monotonicNow } from '../runtime/env.js';
import { Runtime, type RuntimeOptions } from '../runtime/runtime.js';
import { openTransport, type TransportKind } from '../runtime/transports.js';
import { Association, type AssociationHost } from './association.js';
import type { Transport } from '../transport/transport.js';

/** Options common to createServer() and connect(); any ProtocolConfig field may be given too. */
export interface CommonOptions extends Partial<ProtocolConfig> {
  readonly localAddresses: readonly string[];
  /** SCTP port (connect: 0 or absent = an ephemeral port). */
  readonly port?: number;
  /** 'udp': RFC 6951 encapsulation, no privileges (default). 'raw': raw IP, needs CAP_NET_RAW. */
  readonly transport?: TransportKind;
  /** UDP: local encapsulation port (default 9899; 0 = ephemeral). */
  readonly udpPort?: number;
  /** UDP: the peer's encapsulation port until learned from its packets (default 9899). */
  readonly remoteUdpPort?: number;
  /** Protocol parameters (also accepted at the top level). */
  readonly config?: Partial<ProtocolConfig>;
  /** Bound of each association's overflow queue behind the SCTP send buffer (default config.sendBufferSize). */
  readonly maxBufferedBytes?: number;
  /** Lifecycle logging (default: silent). */
  readonly logger?: Logger;
  /** Wraps the transport once it is open, e.g. in a pcap tap recording every packet (src/transport/pcap-tap.ts). */
  readonly wrapTransport?: (t: Transport) => Transport;
}

const configKeys = Object.keys(defaultProtocolConfig) as (keyof ProtocolConfig)[];

export function protocolConfig(o: CommonOptions): Partial<ProtocolConfig> {
  const c: Record<string, unknown> = {};
  for (const k of configKeys) if (o[k] !== undefined) c[k] = o[k];
  return { ...c, ...o.config };
}

/**
 * RFC 6951 §5.6: over UDP the SCTP packet has 8 bytes (the UDP header) less
 * than the IP path MTU; `pathMtu` stays the IP path MTU for the user.
 */
function encapsulated(c: Partial<ProtocolConfig>, udp: boolean): Partial<ProtocolConfig> {
  if (!udp) return c;
  return { ...c, pathMtu: (c.pathMtu ?? defaultProtocolConfig.pathMtu) - 8 };
}

export class Host implements AssociationHost {
  readonly associations = new Map<number, Association>();
  readonly runtime: Runtime;
  private readonly maxBufferedBytes: number;
  /** An association seen up for the first time (server: accept). */
  onNew: ((a: Association) => void) | undefined;
  /** Last association gone (connect: release everything). */
  onReleased: ((a: Association) => Promise<void>) | undefined;
  /** The transport as opened (beneath any wrapper): what local addresses are added to and removed from. */
  private base: Transport | undefined;

  private constructor(options: Omit<RuntimeOptions, 'onEvent' | 'afterEvents'>, maxBufferedBytes: number) {
    this.runtime = new Runtime({ ...options, onEvent: (e) => this.route(e), afterEvents: () => this.afterEvents() });
    this.maxBufferedBytes = maxBufferedBytes;
  }

  static async open(o: CommonOptions, port: number): Promise<Host> {
    const logger = o.logger ?? pino({ level: 'silent' });
    const opened = await openTransport({
      transport: o.transport ?? 'udp',
      localAddresses: o.localAddresses,
      ...(o.udpPort !== undefined && { udpPort: o.udpPort }),
      ...(o.remoteUdpPort !== undefined && { remoteUdpPort: o.remoteUdpPort }),
    });
    const transport = o.wrapTransport !== undefined ? o.wrapTransport(opened) : opened;
    let endpoint;
    try {
      endpoint = createEndpoint({
        localAddresses: transport.localAddresses,
        port,
        config: encapsulated(protocolConfig(o), transport.kind === 'udp-encap'),
        rng: new CryptoRng(),
        hmac: hmacSha256,
        hmacSha1,
        now: monotonicNow(),
      });
    } catch (e) {
      await transport.close();
      throw e;
    }
    const host = new Host({ endpoint, transport, logger }, o.maxBufferedBytes ?? endpoint.config.sendBufferSize);
    host.base = opened;
    logger.info({ transport: transport.kind, localAddresses: transport.localAddresses, port }, 'endpoint open');
    return host;
  }

  /** An Association object for an id the endpoint gave (connect). */
  adopt(id: number): Association {
    const a = new Association(this, id, this.maxBufferedBytes);
    this.associations.set(id, a);
    return a;
  }

  private route(e: EndpointEvent): void {
    let a = this.associations.get(e.assocId);
    if (a === undefined) {
      // The server learns of an association when it comes up (COOKIE ECHO accepted).
      if (e.event.type !== 'communication-up') return;
      a = this.adopt(e.assocId);
      this.runtime.logger.info({ assocId: e.assocId, peer: e.event.peerAddresses }, 'association up');
      this.onNew?.(a);
    }
    a.handle(e.event);
  }

  private afterEvents(): void {
    for (const a of this.associations.values()) if (a.wantsFlush) a.flushOverflow();
  }

  /** RFC 5061 ADD-IP: the transport receives on, and may send from, `address` (idempotent). */
  async addTransportAddress(address: string): Promise<void> {
    const t = this.base ?? this.runtime.transport;
    if (t.localAddresses.includes(address)) return;
    if (t.addLocalAddress === undefined) throw new Error(`the ${t.kind} transport cannot add local addresses`);
    await t.addLocalAddress(address);
    this.runtime.logger.info({ address }, 'local address added to the transport');
  }

  /**
   * The transport stops using `address` once no association of the endpoint
   * uses it any more (as a source, or while an Add or Delete of it is in
   * progress) and, on a server, it is not one of the addresses it listens on.
   */
  async releaseTransportAddress(address: string): Promise<void> {
    const t = this.base ?? this.runtime.transport;
    const ep = this.runtime.endpoint;
    if (this.onNew !== undefined && ep.localAddresses.includes(address)) return;
    for (const id of ep.associationIds()) {
      const s = ep.snapshot(id);
      const tcb = s !== undefined && 'tcb' in s.fsm ? s.fsm.tcb : undefined;
      if (s?.localAddresses.includes(address) || tcb?.asconf?.pendingAdd.includes(address) || tcb?.asconf?.pendingDelete.includes(address)) return;
    }
    if (!t.localAddresses.includes(address) || t.localAddresses.length <= 1 || t.removeLocalAddress === undefined) return;
    await t.removeLocalAddress(address);
    this.runtime.logger.info({ address }, 'local address removed from the transport');
  }

  released(a: Association): Promise<void> {
    this.associations.delete(a.id);
    this.runtime.logger.info({ assocId: a.id, peer: a.remoteAddresses[0] }, 'association closed');
    return this.onReleased ? this.onReleased(a) : Promise.resolve();
  }

  close(graceMs?: number): Promise<void> {
    return this.runtime.close(graceMs);
  }
}
