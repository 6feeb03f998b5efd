/**
 * The relay on a real network: one endpoint (one port, one transport) that
 * accepts the front associations and opens the back ones, driven by the
 * runtime, with the relay logic of ./core.ts on its events.
 */
import { pino, type Logger } from 'pino';
import { createEndpoint } from '../core/endpoint.js';
import { defaultProtocolConfig } from '../core/config.js';
import { CryptoRng, hmacSha1, hmacSha256, monotonicNow } from '../runtime/env.js';
import { Runtime } from '../runtime/runtime.js';
import { boundUdpPort, openTransport } from '../runtime/transports.js';
import { relayProtocolConfig, type RelayConfig } from './config.js';
import { RelayCore, type RelayIo } from './core.js';

export interface RelayHandle {
  readonly core: RelayCore;
  readonly runtime: Runtime;
  /** The UDP encapsulation port bound (UDP transport), else undefined. */
  readonly udpPort: number | undefined;
  close(graceMs?: number): Promise<void>;
}

export async function startRelay(config: RelayConfig, logger: Logger = pino({ level: 'silent' })): Promise<RelayHandle> {
  const transport = await openTransport({
    transport: config.transport,
    localAddresses: config.listen.addresses,
    ...(config.listen.udpPort !== undefined && { udpPort: config.listen.udpPort }),
  });
  const udp = transport.kind === 'udp-encap';
  const protocol = relayProtocolConfig(config);
  // RFC 6951 §5.6: 8 bytes of UDP header less room for the SCTP packet.
  const mtu = (protocol.pathMtu ?? defaultProtocolConfig.pathMtu) - (udp ? 8 : 0);
  let endpoint;
  try {
    endpoint = createEndpoint({
      localAddresses: transport.localAddresses,
      port: config.listen.port,
      config: { ...protocol, pathMtu: mtu },
      rng: new CryptoRng(),
      hmac: hmacSha256,
      hmacSha1,
      now: monotonicNow(),
    });
  } catch (e) {
    await transport.close();
    throw e;
  }
  // Sends and releases of one pump are queued and transmitted once per
  // association after the pump's events (as the API does with its sends).
  const dirty = new Set<number>();
  const flush = (): void => {
    if (dirty.size === 0) return;
    const now = runtime.now();
    for (const id of dirty) endpoint.flush(now, id);
    dirty.clear();
  };
  // Events arrive only from the transport, after `core` below exists.
  const runtime = new Runtime({ endpoint, transport, logger, onEvent: (e) => core.onEvent(e.assocId, e.event), afterEvents: flush });
  const io: RelayIo = {
    now: () => runtime.now(),
    connect: (b) => {
      if (udp) for (const a of b.addresses) runtime.setRemoteUdpPort(a, b.udpPort ?? 9899);
      const r = endpoint.connect(runtime.now(), { remoteAddresses: b.addresses, remotePort: b.port });
      if (!r.ok) {
        logger.warn({ backend: b.name, error: r.error }, 'relay: cannot open a back association');
        return undefined;
      }
      logger.info({ backend: b.name, assocId: r.assocId }, 'relay: back association opening');
      runtime.pumpSoon();
      return r.assocId;
    },
    send: (id, data, opts) => {
      const r = endpoint.queue(runtime.now(), id, data, opts);
      dirty.add(id);
      runtime.pumpSoon();
      return r.ok ? r : { ok: false, error: r.error.kind };
    },
    release: (id, token) => {
      endpoint.release(runtime.now(), id, token, true);
      dirty.add(id);
      runtime.pumpSoon();
    },
    shutdown: (id) => {
      endpoint.shutdown(runtime.now(), id);
      runtime.pumpSoon();
    },
  };
  const core = new RelayCore(io, config);
  logger.info({ listen: config.listen, backends: config.backends.map((b) => b.name), ackAfterForward: config.ackAfterForward }, 'relay started');
  return {
    core,
    runtime,
    udpPort: udp ? boundUdpPort(transport, transport.localAddresses[0]!) : undefined,
    close: (graceMs = 1000) => runtime.close(graceMs),
  };
}
