import type { Datagram } from '../../src/sim/host.js';
import { dataChunk, packetBytes } from '../../src/sim/test-hosts.js';
import type { Received } from '../../src/sim/test-hosts.js';

/** `count` DATA datagrams with TSN start.., one every `interval` ms from `at`. */
export function dataScript(
  source: string,
  destination: string,
  count: number,
  options: { interval?: number; at?: number; tsn?: number; size?: number } = {},
): { at: number; datagram: Datagram }[] {
  const { interval = 1, at = 0, tsn = 0, size = 4 } = options;
  const out: { at: number; datagram: Datagram }[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ at: at + i * interval, datagram: { source, destination, bytes: packetBytes([dataChunk((tsn + i) >>> 0, size)]) } });
  }
  return out;
}

/** TSN of the first chunk of a received datagram (it must be DATA). */
export function tsnOf(r: Received): number {
  const c = r.packet?.chunks[0];
  if (c?.kind !== 'data') throw new Error(`not a DATA packet: ${c?.kind}`);
  return c.tsn;
}
