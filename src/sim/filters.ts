/**
 * Chunk-aware drop filters: "drop the next COOKIE ECHO", "drop TSN 7 twice".
 *
 * A filter is evaluated on every datagram a node sends (and every injected one),
 * before the link, chunk by chunk in the order filters were installed; the
 * predicate sees the decoded packet and one chunk. Two modes:
 * - `packet` (default): a match drops the whole datagram; it uses one of `count`.
 * - `chunk`: a match strips that chunk only and the packet is re-encoded with a
 *   fresh CRC32c; each stripped chunk uses one of `count`. A packet left with no
 *   chunk is dropped. (Stripping a chunk covered by an AUTH chunk breaks its HMAC,
 *   as a middlebox would.)
 * Datagrams that do not decode are never matched. Filters with nothing left are
 * removed.
 */
import type { Millis } from '../core/env.js';
import { canonicalAddress } from '../wire/address.js';
import type { Chunk, ChunkKind, DecodedPacket } from '../wire/types.js';
import type { Datagram } from './host.js';

export interface FilterContext {
  readonly time: Millis;
  readonly datagram: Datagram;
  readonly packet: DecodedPacket;
  readonly chunk: Chunk;
  readonly chunkIndex: number;
}

export type ChunkPredicate = (ctx: FilterContext) => boolean;

export interface DropOptions {
  /** How many matches to act on (default 1; Infinity for a standing filter). */
  readonly count?: number;
  /** Restrict to datagrams from / to an address or a node name. */
  readonly direction?: { readonly from?: string; readonly to?: string };
  /** Drop the whole datagram (default) or strip the matching chunk. */
  readonly mode?: 'packet' | 'chunk';
  /** Name shown in the trace (default: `filter#<id>`). */
  readonly label?: string;
}

/** A record of one datagram a filter acted on. */
export interface FilterHit {
  readonly time: Millis;
  readonly source: string;
  readonly destination: string;
  readonly chunk: Chunk;
}

/** Handle returned by `dropNext`: live counters, and what it caught. */
export interface DropFilter {
  readonly id: number;
  readonly label: string;
  readonly mode: 'packet' | 'chunk';
  readonly predicate: ChunkPredicate;
  readonly direction: { readonly from?: string; readonly to?: string };
  /** Matches still to act on; 0 when the filter is spent (and removed). */
  remaining: number;
  readonly hits: FilterHit[];
}

export function chunkIs(...kinds: ChunkKind[]): ChunkPredicate {
  const set = new Set<ChunkKind>(kinds);
  return (ctx) => set.has(ctx.chunk.kind);
}

/** DATA or I-DATA carrying `tsn`. */
export function dataWithTsn(tsn: number): ChunkPredicate {
  const want = tsn >>> 0;
  return ({ chunk }) => (chunk.kind === 'data' || chunk.kind === 'idata') && chunk.tsn === want;
}

export function fromAddress(address: string): ChunkPredicate {
  const a = canonicalOrSame(address);
  return ({ datagram }) => datagram.source === a;
}

export function toAddress(address: string): ChunkPredicate {
  const a = canonicalOrSame(address);
  return ({ datagram }) => datagram.destination === a;
}

export function allOf(...predicates: ChunkPredicate[]): ChunkPredicate {
  return (ctx) => predicates.every((p) => p(ctx));
}

export function anyOf(...predicates: ChunkPredicate[]): ChunkPredicate {
  return (ctx) => predicates.some((p) => p(ctx));
}

export function not(predicate: ChunkPredicate): ChunkPredicate {
  return (ctx) => !predicate(ctx);
}

function canonicalOrSame(address: string): string {
  return canonicalAddress(address) ?? address;
}

/** What the filters decided for one datagram. */
export type FilterVerdict =
  | { readonly kind: 'pass' }
  | { readonly kind: 'drop'; readonly filter: DropFilter }
  | {
      readonly kind: 'strip';
      readonly filters: readonly DropFilter[];
      /** Indexes (into packet.chunks) of the chunks to keep. */
      readonly keep: readonly number[];
    };

/**
 * Runs `filters` (already narrowed to those whose direction matches) over one
 * decoded datagram, consuming their counts. Pure apart from the filter counters.
 */
export function applyFilters(filters: readonly DropFilter[], time: Millis, datagram: Datagram, packet: DecodedPacket): FilterVerdict {
  const keep: number[] = [];
  const stripping: DropFilter[] = [];
  for (let chunkIndex = 0; chunkIndex < packet.chunks.length; chunkIndex++) {
    const chunk = packet.chunks[chunkIndex]!;
    const ctx: FilterContext = { time, datagram, packet, chunk, chunkIndex };
    let stripped = false;
    for (const f of filters) {
      if (f.remaining <= 0 || !f.predicate(ctx)) continue;
      f.remaining -= 1;
      f.hits.push({ time, source: datagram.source, destination: datagram.destination, chunk });
      if (f.mode === 'packet') return { kind: 'drop', filter: f };
      stripped = true;
      if (!stripping.includes(f)) stripping.push(f);
      break;
    }
    if (!stripped) keep.push(chunkIndex);
  }
  if (stripping.length === 0) return { kind: 'pass' };
  if (keep.length === 0) return { kind: 'drop', filter: stripping[0]! };
  return { kind: 'strip', filters: stripping, keep };
}
