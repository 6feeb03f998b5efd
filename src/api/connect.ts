/**
 * connect(): one association from an endpoint of its own. The endpoint (its
 * transport and timer) is released when the association closes, before its
 * 'close' event.
 */
import type { Association } from './association.js';
import { SctpError } from './association.js';
import { Host, type CommonOptions } from './host.js';

export interface ConnectOptions extends CommonOptions {
  readonly remoteAddresses: readonly string[];
  /** The peer's SCTP port. */
  readonly port: number;
  /** Local SCTP port (default: an ephemeral one, 49152-65535). */
  readonly localPort?: number;
  /** Outbound streams asked for (default config.outboundStreams). */
  readonly outboundStreams?: number;
  /** Give up (ABORT) when not up after this many ms (default: the core's INIT retransmission limit). */
  readonly timeout?: number;
}

/**
 * Resolves with the association once it is up; rejects with SctpError
 * ERR_SCTP_CANNOT_START (code detail in the message) when it cannot start.
 */
export async function connect(options: ConnectOptions): Promise<Association> {
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError(`connect: bad SCTP port ${options.port}`);
  const localPort = options.localPort ?? 49152 + Math.floor(Math.random() * 16384);
  const host = await Host.open(options, localPort);
  host.onReleased = () => host.close(0);
  const rt = host.runtime;
  if (options.remoteUdpPort !== undefined) for (const r of options.remoteAddresses) rt.setRemoteUdpPort(r, options.remoteUdpPort);
  const r = rt.endpoint.connect(rt.now(), { remoteAddresses: options.remoteAddresses, remotePort: options.port, ...(options.outboundStreams !== undefined && { outboundStreams: options.outboundStreams }) });
  if (!r.ok) {
    await host.close(0);
    throw new SctpError(`connect: ${r.error}`, 'ERR_SCTP_CANNOT_START');
  }
  const a = host.adopt(r.assocId);
  return new Promise<Association>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      a.off('up', onUp);
      a.off('down', onDown);
    };
    const onUp = (): void => {
      cleanup();
      resolve(a);
    };
    const onDown = (reason: string): void => {
      cleanup();
      a.once('close', () => reject(new SctpError(`cannot start association: ${reason}`, 'ERR_SCTP_CANNOT_START')));
    };
    a.on('up', onUp);
    a.on('down', onDown);
    if (options.timeout !== undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        void a.abort('connect timeout');
      }, options.timeout);
    }
    rt.pump();
  });
}
