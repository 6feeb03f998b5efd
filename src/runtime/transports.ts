/** Opens the transport named in the API options ('udp' = RFC 6951 encapsulation, 'raw' = raw IP, root). */
import { installNativeCrc32c } from '../transport/native.js';
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
  // Packets are about to flow: checksum them with the CPU's CRC32c instruction
  // when the addon offers it (src/wire stays pure; this only picks its backend).
  installNativeCrc32cOnce();
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

let crcInstalled = false;

/** The addon's CRC32c as the wire checksum backend, once per process (a no-op without the addon). */
export function installNativeCrc32cOnce(): void {
  if (crcInstalled) return;
  crcInstalled = true;
  installNativeCrc32c();
}

/** The local UDP port actually bound (ephemeral ports resolved), or undefined for raw IP. */
export function boundUdpPort(t: Transport, address: string): number | undefined {
  const lp = (t as { localPort?: (a: string) => number | undefined }).localPort;
  return typeof lp === 'function' ? lp.call(t, address) : undefined;
}
