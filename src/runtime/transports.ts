/** Opens the transport named in the API options ('udp' = RFC 6951 encapsulation, 'raw' = raw IP, root). */
import { openRawTransport } from '../transport/raw.js';
import type { Transport } from '../transport/transport.js';
import { openUdpTransport } from '../transport/udp.js';

export type TransportKind = 'udp' | 'raw';

export interface OpenTransportOptions {
  readonly transport: TransportKind;
  readonly localAddresses: readonly string[];
  /** UDP only: local encapsulation port (default 9899; 0 = ephemeral). */
  readonly udpPort?: number;
  /** UDP only: the remote encapsulation port until one is learned from the peer (default 9899). */
  readonly remoteUdpPort?: number;
}

export async function openTransport(o: OpenTransportOptions): Promise<Transport> {
  switch (o.transport) {
    case 'udp':
      return openUdpTransport({
        localAddresses: o.localAddresses,
        ...(o.udpPort !== undefined && { port: o.udpPort }),
        ...(o.remoteUdpPort !== undefined && { remotePort: o.remoteUdpPort }),
      });
    case 'raw':
      return openRawTransport({ localAddresses: o.localAddresses });
  }
}

/** The local UDP port actually bound (ephemeral ports resolved), or undefined for raw IP. */
export function boundUdpPort(t: Transport, address: string): number | undefined {
  const lp = (t as { localPort?: (a: string) => number | undefined }).localPort;
  return typeof lp === 'function' ? lp.call(t, address) : undefined;
}
