/**
 * `hasctp server`: accepts associations and echoes or discards what arrives.
 * Runs until SIGINT/SIGTERM (or the abort signal), then closes gracefully.
 */
import type { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { createServer } from '../api/server.js';
import type { Association, Message } from '../api/association.js';

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
}

export async function serverCommand(o: ServerCommandOptions): Promise<number> {
  const logger = o.logger ?? pino({ level: 'info' }, pino.destination({ dest: 2, sync: true }));
  let server;
  try {
    server = await createServer({
      localAddresses: o.localAddresses,
      port: o.port,
      transport: o.udpEncap ? 'udp' : 'raw',
      ...(o.udpPort !== undefined && { udpPort: o.udpPort }),
      ...(o.remoteUdpPort !== undefined && { remoteUdpPort: o.remoteUdpPort }),
      logger,
      // Echo on the stream it came on: offer as many outbound streams as a peer may take.
      outboundStreams: 65535,
      // There is no receive-side pause in the API yet: an echo server takes
      // whatever arrives and needs room to queue the echoes behind the send buffer.
      ...(o.mode === 'echo' && { maxBufferedBytes: 64 * 1024 * 1024 }),
    });
  } catch (e) {
    o.err.write(`hasctp server: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  let messages = 0;
  let bytes = 0;
  server.on('association', (a: Association) => {
    a.on('message', (m: Message) => {
      messages++;
      bytes += m.data.length;
      if (o.mode === 'echo' && !a.closed) {
        try {
          a.send(m.data, { stream: m.stream < a.outboundStreams ? m.stream : 0, ppid: m.ppid, unordered: m.unordered });
        } catch (e) {
          logger.warn({ assocId: a.id, err: e instanceof Error ? e.message : String(e) }, 'echo failed');
        }
      }
    });
    a.on('down', (reason: string) => logger.info({ assocId: a.id, reason }, 'association down'));
  });
  const addr = server.address();
  o.out.write(
    `hasctp server: listening on ${addr.localAddresses.join(',')} port ${addr.port} ${addr.transport}${addr.udpPort !== undefined ? ` udp-port ${addr.udpPort}` : ''} (${o.mode})\n`,
  );
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
  await server.close();
  o.out.write(`hasctp server: ${messages} messages, ${bytes} bytes received\n`);
  return 0;
}
