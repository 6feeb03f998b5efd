/**
 * The simulator's record of every datagram: sent, delivered, dropped (with the
 * reason), and rendered one line each with the wire formatter, for test
 * failure messages and debugging.
 */
import type { Millis } from '../core/env.js';
import { formatPacket } from '../wire/format.js';
import { decodeSctp } from './codec.js';

export type DropReason =
  /** Random loss on the link. */
  | 'loss'
  /** Above the link MTU. */
  | 'too-big'
  /** The link was down when the datagram was sent or when it arrived. */
  | 'link-down'
  /** No node owns the destination address, or no link and strict routing. */
  | 'no-route'
  /** The destination node was killed. */
  | 'node-down'
  /** A drop filter. */
  | 'filtered'
  /** The link's serialization queue was full. */
  | 'queue-full'
  /** A node sent from an address that is not its own. */
  | 'foreign-source';

export type TraceFate =
  /** A node (or `inject`) handed the datagram to the network. */
  | 'sent'
  /** A drop filter stripped chunks: `bytes` is what travels on. */
  | 'trimmed'
  | 'delivered'
  | 'dropped'
  /** The sender was told the datagram was too big (link `tooBig: 'report'`). */
  | 'reported';

export interface TraceEntry {
  readonly time: Millis;
  /** Datagram id, shared by every entry (and copy) of one transmission. */
  readonly id: number;
  /** 0 for the original, 1 for a duplicate made by the link. */
  readonly copy: number;
  readonly fate: TraceFate;
  readonly source: string;
  readonly destination: string;
  /** Node that sent it (undefined for injected datagrams) and node that owns the destination. */
  readonly fromNode: string | undefined;
  readonly toNode: string | undefined;
  readonly bytes: Uint8Array;
  readonly reason?: DropReason;
  /** Free text: filter label, `reordered`, MTU figures. */
  readonly note?: string;
}

export interface FormatTraceOptions {
  /** Only the last `last` entries. */
  readonly last?: number;
  /** Only entries for which this is true. */
  readonly where?: (e: TraceEntry) => boolean;
}

export function formatTraceEntry(e: TraceEntry): string {
  const decoded = decodeSctp(e.bytes);
  const body = decoded.ok ? formatPacket(decoded.packet) : `<undecodable ${e.bytes.length}B: ${decoded.message}>`;
  const why = e.reason === undefined ? '' : ` (${e.reason}${e.note === undefined ? '' : `: ${e.note}`})`;
  const note = e.reason === undefined && e.note !== undefined ? ` (${e.note})` : '';
  const id = `#${e.id}${e.copy ? `'` : ''}`;
  return `${formatTime(e.time)} ${id.padEnd(6)} ${e.fate.padEnd(9)} ${e.source} > ${e.destination}${why}${note} | ${body}`;
}

export function formatTraceEntries(entries: readonly TraceEntry[], options: FormatTraceOptions = {}): string {
  let list = options.where ? entries.filter(options.where) : entries;
  if (options.last !== undefined) list = list.slice(Math.max(0, list.length - options.last));
  return list.map(formatTraceEntry).join('\n');
}

/** Fixed 3 decimals: virtual times may be fractional (jitter, serialization). */
function formatTime(t: Millis): string {
  return t.toFixed(3).padStart(11);
}

export const allDropReasons: readonly DropReason[] = [
  'loss', 'too-big', 'link-down', 'no-route', 'node-down', 'filtered', 'queue-full', 'foreign-source',
];

/** Addresses and bytes of what an entry describes (a datagram or a too-big report). */
interface Traced {
  readonly source: string;
  readonly destination: string;
  readonly bytes: Uint8Array;
}

/** Who sent a datagram and whom it is for, by node name. */
export interface TraceParties {
  readonly id: number;
  readonly copy: number;
  readonly fromNode: string | undefined;
  readonly toNode: string | undefined;
}

/**
 * The trace buffer and the network-wide drop counters. Keeps the latest
 * `limit` entries (0: none), discarding in batches so recording stays O(1).
 */
export class TraceRecorder {
  readonly entries: TraceEntry[] = [];
  readonly drops: Record<DropReason, number>;
  discarded = 0;

  constructor(
    private readonly limit: number,
    private readonly now: () => Millis,
  ) {
    this.drops = Object.fromEntries(allDropReasons.map((r) => [r, 0])) as Record<DropReason, number>;
  }

  record(fate: TraceFate, who: TraceParties, d: Traced, reason?: DropReason, note?: string): void {
    if (this.limit <= 0) {
      this.discarded += 1;
      return;
    }
    this.entries.push({
      time: this.now(),
      id: who.id,
      copy: who.copy,
      fate,
      source: d.source,
      destination: d.destination,
      fromNode: who.fromNode,
      toNode: who.toNode,
      bytes: d.bytes,
      ...(reason === undefined ? {} : { reason }),
      ...(note === undefined ? {} : { note }),
    });
    if (this.entries.length >= 2 * this.limit) {
      const excess = this.entries.length - this.limit;
      this.entries.splice(0, excess);
      this.discarded += excess;
    }
  }

  drop(who: TraceParties, d: Traced, reason: DropReason, note?: string): void {
    this.drops[reason] += 1;
    this.record('dropped', who, d, reason, note);
  }

  format(options: FormatTraceOptions = {}): string {
    const head = this.discarded > 0 ? `(${this.discarded} earlier entries discarded)\n` : '';
    return head + formatTraceEntries(this.entries, options);
  }
}
