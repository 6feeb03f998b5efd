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
          logger.warn({ assocId: a.id, err: e instanceof Error ? e.message : String(e) }, 'echo failed');
        }
      }
    });
    a.on('down', (reason: string) => logger.info({ assocId: a.id, reason }, 'association down'));
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
