/**
 * `hasctp server`: accepts associations and echoes or discards what arrives.
 * Runs until SIGINT/SIGTERM (or the abort signal), then closes gracefully.
 */
import type { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { createServer } from '../api/server.js';
import type { Association, Message } from '../api/association.js';
import { formatAddressChange, scheduleAddressChanges, type AddressChange } from './address-changes.js';
import { openPcapRecorder, type PcapRecorder } from '../transport/pcap-tap.js';
import type { ProtocolConfig } from '../core/config.js';
import { defaultControlPath, startControlServer, type ControlServer } from '../ops/control.js';
import { Ops } from '../ops/handlers.js';
import { startMetricsServer } from '../ops/metrics.js';
import { serverSource } from '../ops/sources.js';
import { ConfigError, loadServerConfig } from '../ops/config.js';

export interface ServerCommandOptions {
  readonly localAddresses: readonly string[];
  readonly port: number;
  readonly udpEncap: boolean;
  readonly udpPort?: number;
  readonly remoteUdpPort?: number;
  readonly mode: 'echo' | 'discard';
  readonly out: Writable;
  readonly err: Writable;
  /** Lifecycle lines (default: pino at info level on stderr). */
  readonly logger?: Logger;
  /** Stops the server (tests); SIGINT/SIGTERM do the same. */
  readonly signal?: AbortSignal;
  /** Records every SCTP packet sent and received to this pcapng file. */
  readonly pcap?: string;
  /** RFC 5061 requests (--add-address, --remove-address, --set-peer-primary), timed from each association's establishment. */
  readonly addressChanges?: readonly AddressChange[];
  /** Control socket path; default under the runtime directory (server-PORT.sock); false: none. */
  readonly control?: string | false;
  /** Prometheus exposition on host:port (port 0: any; the line printed says which). */
  readonly metrics?: { readonly host: string; readonly port: number };
  /** Protocol parameters (the config file's "protocol"). */
  readonly protocol?: Partial<ProtocolConfig>;
  /** The config file: SIGHUP reads it again and applies what can change at run time (logLevel). */
  readonly configFile?: string;
}

export async function serverCommand(o: ServerCommandOptions): Promise<number> {
  const logger = o.logger ?? pino({ level: 'info' }, pino.destination({ dest: 2, sync: true }));
  let server;
  let recorder: PcapRecorder | undefined;
  try {
    if (o.pcap !== undefined) recorder = await openPcapRecorder(o.pcap, { comment: 'hasctp server' });
    server = await createServer({
      localAddresses: o.localAddresses,
      port: o.port,
      transport: o.udpEncap ? 'udp' : 'raw',
      ...(o.udpPort !== undefined && { udpPort: o.udpPort }),
      ...(o.remoteUdpPort !== undefined && { remoteUdpPort: o.remoteUdpPort }),
      logger,
      ...(o.protocol !== undefined && { config: o.protocol }),
      ...(recorder !== undefined && { wrapTransport: recorder.wrap }),
      // Echo on the stream it came on: offer as many outbound streams as a peer may take.
      outboundStreams: 65535,
      // There is no receive-side pause in the API yet: an echo server takes
      // whatever arrives and needs room to queue the echoes behind the send buffer.
      ...(o.mode === 'echo' && { maxBufferedBytes: 64 * 1024 * 1024 }),
    });
  } catch (e) {
    await recorder?.abandon();
    o.err.write(`hasctp server: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  let messages = 0;
  let bytes = 0;
  server.on('association', (a: Association) => {
    // Every log line about this association carries its id and the peer's primary address
    // (fields, not a child logger: a child would not follow a log level reloaded on SIGHUP).
    const tag = { assocId: a.id, peer: a.summary()?.primary ?? a.remoteAddresses[0] };
    // Per association: what arrived, between its first and its last message
    // (printed when it closes; bench/net.mjs reads the rate from it).
    let assocMessages = 0;
    let assocBytes = 0;
    let first = 0;
    let last = 0;
    a.on('close', () => {
      const seconds = (last - first) / 1000;
      const rate = seconds > 0 ? `, ${Math.round(assocMessages / seconds)} msgs/s, ${((assocBytes * 8) / seconds / 1e6).toFixed(2)} Mbit/s` : '';
      o.out.write(`hasctp server: association ${a.id} closed: ${assocMessages} messages, ${assocBytes} bytes in ${seconds.toFixed(3)} s (first to last message)${rate}\n`);
    });
    let stamped = false;
    const unstamp = (): void => {
      stamped = false;
    };
    a.on('message', (m: Message) => {
      // One clock read per batch of messages (they arrive together), not per message.
      if (!stamped) {
        stamped = true;
        last = performance.now();
        queueMicrotask(unstamp);
      }
      if (assocMessages++ === 0) first = last;
      assocBytes += m.data.length;
      messages++;
      bytes += m.data.length;
      if (o.mode === 'echo' && !a.closed) {
        try {
          a.send(m.data, { stream: m.stream < a.outboundStreams ? m.stream : 0, ppid: m.ppid, unordered: m.unordered });
        } catch (e) {
          logger.warn({ ...tag, err: e instanceof Error ? e.message : String(e) }, 'echo failed');
        }
      }
    });
    a.on('down', (reason: string) => logger.info({ ...tag, reason }, 'association down'));
    a.on('path', (address: string, state: string) => logger.info({ ...tag, address, state }, 'path state'));
    a.on('shutdown', () => logger.info(tag, 'peer shut down'));
    // RFC 5061: the peer's address changes and our own requests, one line each.
    a.on('path', (address: string, state: string) => {
      if (state === 'SCTP_ADDR_ADDED' || state === 'SCTP_ADDR_REMOVED' || state === 'SCTP_ADDR_MADE_PRIM') o.out.write(`hasctp server: association ${a.id} peer ${address} ${state}\n`);
    });
    if (o.addressChanges !== undefined) {
      const changes = scheduleAddressChanges(a, o.addressChanges, logger, (r) => o.out.write(`hasctp server: association ${a.id} asconf ${formatAddressChange(r)}\n`));
      a.on('close', changes.cancel);
    }
  });
  const addr = server.address();
  const ops = new Ops(serverSource(server));
  let control: ControlServer | undefined;
  let metrics: { port: number; close(): Promise<void> } | undefined;
  try {
    if (o.control !== false) {
      const path = o.control ?? defaultControlPath(`server-${addr.port}`);
      control = await startControlServer(path, ops.handler(), { onError: (err, req) => logger.error({ err: String(err), cmd: req['cmd'] }, 'control request failed') });
      o.out.write(`hasctp server: control socket ${path}\n`);
    }
    if (o.metrics !== undefined) {
      metrics = await startMetricsServer(o.metrics.host, o.metrics.port, () => ops.metrics());
      o.out.write(`hasctp server: metrics on http://${o.metrics.host.includes(':') ? `[${o.metrics.host}]` : o.metrics.host}:${metrics.port}/metrics\n`);
    }
  } catch (e) {
    o.err.write(`hasctp server: ${e instanceof Error ? e.message : String(e)}\n`);
    await control?.close();
    // The transport's close finishes the capture file (the tap wraps it).
    await server.close(0);
    return 1;
  }
  o.out.write(
    `hasctp server: listening on ${addr.localAddresses.join(',')} port ${addr.port} ${addr.transport}${addr.udpPort !== undefined ? ` udp-port ${addr.udpPort}` : ''} (${o.mode})\n`,
  );
  // SIGHUP: read the config file again; what can change at run time is applied (the log level).
  const reload = (): void => {
    if (o.configFile === undefined) {
      logger.info('SIGHUP: no config file to reload');
      return;
    }
    try {
      const c = loadServerConfig(o.configFile);
      if (c.logLevel !== undefined) logger.level = c.logLevel;
      logger.warn({ logLevel: logger.level, file: o.configFile }, 'configuration reloaded');
    } catch (e) {
      logger.error({ err: e instanceof ConfigError ? e.message : String(e) }, 'configuration not reloaded');
    }
  };
  process.on('SIGHUP', reload);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      o.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (o.signal?.aborted === true) stop();
    else o.signal?.addEventListener('abort', stop);
  });
  process.off('SIGHUP', reload);
  // Graceful: every association is shut down (SHUTDOWN, RFC 9260 §9.2) before the sockets close.
  logger.info({ associations: server.associations().length }, 'shutting down');
  await server.close();
  await control?.close();
  await metrics?.close();
  o.out.write(`hasctp server: ${messages} messages, ${bytes} bytes received\n`);
  return 0;
}
