/**
 * Which of our addresses a packet to a peer address leaves from.
 *
 * RFC 9260 leaves source address selection to the implementation (§6.4 only
 * says where replies go); the host's routing would pick the address of the
 * interface the destination is reached through. A sans-IO core cannot ask the
 * routing table, so it approximates it, in this order:
 *
 * 1. On-link: the one local address that shares the longest prefix with the
 *    destination, when that prefix is at least a /24 (IPv4) or a /64 (IPv6),
 *    as the address of the interface whose subnet holds the destination would
 *    (RFC 6724 §5 rule 8, "use longest matching prefix", in spirit).
 * 2. Learned: the local address the peer's last packet from that address
 *    arrived at (replies follow the path the peer uses).
 * 3. The first local address of the destination's family.
 *
 * On-link comes before learned on purpose: a peer that sends from one of its
 * addresses to our address on the other link (usrsctp does) must not make us
 * answer across links too. A packet whose source address belongs to another
 * link than the one it leaves on is dropped by strict reverse path filtering
 * (rp_filter=1, the default of some distributions) and by networks that are
 * really disjoint, and a HEARTBEAT sent that way confirms a path it never
 * tested. Without rule 1 two multihomed peers on two disjoint networks never
 * confirm their second path: each one's first HEARTBEAT to the other's second
 * address leaves from its first address.
 */
import { addressBytes } from '../../wire/address.js';

/** Shortest common prefix, in bits, taken to mean "the same link". */
const ON_LINK_PREFIX = { 4: 24, 6: 64 } as const;

/** Parsed addresses (bounded; addresses repeat, the transmit path calls this per packet). */
const parsed = new Map<string, Uint8Array | undefined>();

function bytesOf(address: string): Uint8Array | undefined {
  if (parsed.has(address)) return parsed.get(address);
  const b = addressBytes(address);
  if (parsed.size >= 1024) parsed.clear();
  parsed.set(address, b);
  return b;
}

/** Leading bits two addresses of the same length have in common. */
export function commonPrefixBits(x: Uint8Array, y: Uint8Array): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const diff = x[i]! ^ y[i]!;
    if (diff !== 0) return i * 8 + Math.clz32(diff) - 24;
  }
  return n * 8;
}

/**
 * The source address for a packet to `destination` (see the module comment).
 * `learned`: the local address the peer's last packet from `destination` arrived at.
 */
export function selectSource(localAddresses: readonly string[], destination: string, learned?: string): string {
  const v6 = destination.includes(':');
  let first: string | undefined;
  let sameFamily = 0;
  for (const a of localAddresses) {
    if (a.includes(':') !== v6) continue;
    first ??= a;
    sameFamily++;
  }
  if (sameFamily <= 1) return first ?? localAddresses[0] ?? '';
  const d = bytesOf(destination);
  if (d !== undefined) {
    let best: string | undefined;
    let bestBits = -1;
    let tie = false;
    for (const a of localAddresses) {
      if (a.includes(':') !== v6) continue;
      const b = bytesOf(a);
      if (b === undefined) continue;
      const bits = commonPrefixBits(b, d);
      if (bits > bestBits) {
        best = a;
        bestBits = bits;
        tie = false;
      } else if (bits === bestBits) tie = true;
    }
    if (best !== undefined && !tie && bestBits >= ON_LINK_PREFIX[v6 ? 6 : 4]) return best;
  }
  if (learned !== undefined && learned.includes(':') === v6 && localAddresses.includes(learned)) return learned;
  return first!;
}
