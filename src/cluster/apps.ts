/**
 * The applications a cluster node runs (`app` in the node config). Each one
 * commits what it consumed, in the same replicated record as its reply, so a
 * standby that takes over re-delivers exactly what was not handled:
 *
 * - echo: sends every message back on its stream, with its PPID.
 * - discard: consumes and commits; reports the time from its first message to its last.
 * - sink: counts and checks numbered messages (a decimal number at the start
 *   of the message, as `usrsctp client` sends typed lines, or else a 32-bit
 *   big-endian number in the first four bytes) and keeps its counters as
 *   replicated application state, so the counts survive a takeover.
 * - stream: the sending side, for a cluster that initiates towards an echo
 *   server: streams numbered messages (a window of them in flight), checks
 *   every echo (number, order per stream, content) and shuts the
 *   association down once all came back. What it sent and what came back is
 *   replicated application state committed with each send, so a promoted
 *   standby continues the numbering where the old primary left off.
 */
import type { Op } from './state/messages.js';
import type { AppEvent } from './state/replica.js';

export interface SinkCounters {
  messages: number;
  bytes: number;
  duplicates: number;
  gaps: number;
  redelivered: number;
  /** Next number expected per stream. */
  next: Record<string, number>;
}

export interface ClusterApp {
  /** The ops to apply for one event (empty: nothing to do). */
  onEvent(e: AppEvent): Op[];
  report(): Record<string, unknown>;
}

export interface StreamOptions {
  /** Messages per association. */
  readonly messages: number;
  /** Bytes per message (at least 4: the number). */
  readonly size: number;
  /** Messages sent and not yet echoed, at most. */
  readonly window: number;
  /** Message i goes on stream i mod streams. */
  readonly streams: number;
  /** Shut the association down once every echo came back. */
  readonly shutdown: boolean;
}

export const defaultStreamOptions: StreamOptions = { messages: 1000, size: 100, window: 16, streams: 1, shutdown: true };

export function createApp(kind: 'echo' | 'discard' | 'sink' | 'stream', stream: StreamOptions = defaultStreamOptions): ClusterApp {
  switch (kind) {
    case 'stream':
      return new StreamApp(stream);
    case 'echo':
      return new EchoApp();
    case 'discard':
      return new DiscardApp();
    case 'sink':
      return new SinkApp();
  }
}

class EchoApp implements ClusterApp {
  private echoed = 0;
  private redelivered = 0;
  onEvent(e: AppEvent): Op[] {
    if (e.type !== 'message') return [];
    this.echoed++;
    if (e.redelivered) this.redelivered++;
    return [
      { op: 'send', assocId: e.assocId, data: e.data, options: { streamId: e.streamId, ppid: e.ppid, unordered: e.unordered } },
      { op: 'commit', assocId: e.assocId, delivery: e.delivery },
    ];
  }
  report(): Record<string, unknown> {
    return { app: 'echo', echoed: this.echoed, redelivered: this.redelivered };
  }
}

class DiscardApp implements ClusterApp {
  private messages = 0;
  private bytes = 0;
  private first = 0;
  private last = 0;
  onEvent(e: AppEvent): Op[] {
    if (e.type !== 'message') return [];
    this.last = performance.now();
    if (this.messages++ === 0) this.first = this.last;
    this.bytes += e.data.length;
    return [{ op: 'commit', assocId: e.assocId, delivery: e.delivery }];
  }
  report(): Record<string, unknown> {
    // seconds: from the first message to the last on this node (a receive rate, as `hasctp server` prints).
    return { app: 'discard', messages: this.messages, bytes: this.bytes, seconds: (this.last - this.first) / 1000 };
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The message's number: leading decimal digits, else a 32-bit big-endian prefix; undefined if neither. */
export function messageNumber(data: Uint8Array): number | undefined {
  let n = 0;
  let digits = 0;
  while (digits < data.length && digits < 15 && data[digits]! >= 0x30 && data[digits]! <= 0x39) n = n * 10 + (data[digits++]! - 0x30);
  if (digits > 0) return n;
  if (data.length >= 4) return new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
  return undefined;
}

class SinkApp implements ClusterApp {
  private readonly byAssoc = new Map<number, SinkCounters>();

  private counters(assocId: number): SinkCounters {
    let c = this.byAssoc.get(assocId);
    if (!c) this.byAssoc.set(assocId, (c = { messages: 0, bytes: 0, duplicates: 0, gaps: 0, redelivered: 0, next: {} }));
    return c;
  }

  onEvent(e: AppEvent): Op[] {
    if (e.type === 'app-state') {
      // A takeover: continue from what the old primary committed.
      if (e.appState) {
        try {
          this.byAssoc.set(e.assocId, JSON.parse(decoder.decode(e.appState)) as SinkCounters);
        } catch {
          // Unreadable state: start over for this association (counted from here).
        }
      }
      return [];
    }
    if (e.type !== 'message') return [];
    const c = this.counters(e.assocId);
    c.messages++;
    c.bytes += e.data.length;
    if (e.redelivered) c.redelivered++;
    const n = messageNumber(e.data);
    if (n !== undefined && !e.unordered) {
      const key = String(e.streamId);
      const want = c.next[key];
      if (want !== undefined && n < want) c.duplicates++;
      else if (want !== undefined && n > want) c.gaps += n - want;
      if (want === undefined || n >= want) c.next[key] = n + 1;
    }
    return [{ op: 'commit', assocId: e.assocId, delivery: e.delivery, appState: encoder.encode(JSON.stringify(c)) }];
  }

  report(): Record<string, unknown> {
    const total = { messages: 0, bytes: 0, duplicates: 0, gaps: 0, redelivered: 0 };
    for (const c of this.byAssoc.values()) {
      total.messages += c.messages;
      total.bytes += c.bytes;
      total.duplicates += c.duplicates;
      total.gaps += c.gaps;
      total.redelivered += c.redelivered;
    }
    return { app: 'sink', ...total, associations: Object.fromEntries(this.byAssoc) };
  }
}

/** Message `n` of the stream app: the number (32-bit big-endian), then bytes derived from it. */
export function streamPayload(n: number, size: number): Uint8Array {
  const out = new Uint8Array(Math.max(4, size));
  new DataView(out.buffer).setUint32(0, n);
  for (let i = 4; i < out.length; i++) out[i] = (n * 7 + i) & 0xff;
  return out;
}

/** Per association, replicated with every send and every echo (JSON in the commit's appState). */
export interface StreamCounters {
  /** Messages 1..sent were handed to SCTP. */
  sent: number;
  /** Distinct messages echoed. */
  echoed: number;
  duplicates: number;
  /** Numbers skipped on their stream (a late echo of a skipped one then counts as a duplicate). */
  gaps: number;
  corrupted: number;
  redelivered: number;
  /** Next number expected per stream. */
  next: Record<string, number>;
  done: boolean;
}

class StreamApp implements ClusterApp {
  private readonly byAssoc = new Map<number, StreamCounters>();
  constructor(private readonly o: StreamOptions) {}

  onEvent(e: AppEvent): Op[] {
    if (e.type === 'core') {
      const x = e.event;
      // A new association (or a restarted one: the peer starts over, so do we).
      if ((x.type === 'communication-up' || x.type === 'restart') && (x.type === 'restart' || !this.byAssoc.has(e.assocId))) return this.start(e.assocId, 0);
      return [];
    }
    if (e.type === 'app-state') {
      // A takeover: continue from what the old primary committed; with no state, its
      // application never acted on the association (nothing was sent): start it if it is up.
      const c = e.appState ? parseCounters(e.appState) : undefined;
      if (c) {
        this.byAssoc.set(e.assocId, c);
        return this.topUp(e.assocId, c, e.committed);
      }
      return e.established ? this.start(e.assocId, e.committed) : [];
    }
    const c = this.byAssoc.get(e.assocId) ?? this.fresh(e.assocId);
    if (e.redelivered) c.redelivered++;
    const n = e.data.length >= 4 ? new DataView(e.data.buffer, e.data.byteOffset, 4).getUint32(0) : 0;
    if (n < 1 || n > c.sent || !sameBytes(e.data, streamPayload(n, this.o.size))) c.corrupted++;
    else {
      const key = String(e.streamId);
      const want = c.next[key] ?? firstOnStream(e.streamId, this.o.streams);
      if (n === want) {
        c.echoed++;
        c.next[key] = n + this.o.streams;
      } else if (n > want) {
        c.echoed++;
        c.gaps += (n - want) / this.o.streams;
        c.next[key] = n + this.o.streams;
      } else c.duplicates++;
    }
    return this.topUp(e.assocId, c, e.delivery);
  }

  report(): Record<string, unknown> {
    const total = { sent: 0, echoed: 0, duplicates: 0, gaps: 0, corrupted: 0, redelivered: 0, done: 0 };
    for (const c of this.byAssoc.values()) {
      total.sent += c.sent;
      total.echoed += c.echoed;
      total.duplicates += c.duplicates;
      total.gaps += c.gaps;
      total.corrupted += c.corrupted;
      total.redelivered += c.redelivered;
      if (c.done) total.done++;
    }
    return { app: 'stream', messages: this.o.messages, ...total, associations: this.byAssoc.size };
  }

  private fresh(assocId: number): StreamCounters {
    const c: StreamCounters = { sent: 0, echoed: 0, duplicates: 0, gaps: 0, corrupted: 0, redelivered: 0, next: {}, done: false };
    this.byAssoc.set(assocId, c);
    return c;
  }

  private start(assocId: number, committed: number): Op[] {
    return this.topUp(assocId, this.fresh(assocId), committed);
  }

  /** Sends up to the window, and commits the counters with the sends (one record: a takeover never repeats or skips a number). */
  private topUp(assocId: number, c: StreamCounters, delivery: number): Op[] {
    const ops: Op[] = [];
    while (c.sent < this.o.messages && c.sent - c.echoed < this.o.window) {
      const n = ++c.sent;
      ops.push({ op: 'send', assocId, data: streamPayload(n, this.o.size), options: { streamId: (n - 1) % this.o.streams, ppid: 0 } });
    }
    if (!c.done && c.echoed >= this.o.messages) {
      c.done = true;
      if (this.o.shutdown) ops.push({ op: 'shutdown', assocId });
    }
    ops.push({ op: 'commit', assocId, delivery, appState: encoder.encode(JSON.stringify(c)) });
    return ops;
  }
}

function firstOnStream(streamId: number, streams: number): number {
  return streamId + 1 <= streams ? streamId + 1 : 1;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function parseCounters(bytes: Uint8Array): StreamCounters | undefined {
  try {
    const c = JSON.parse(decoder.decode(bytes)) as StreamCounters;
    return typeof c === 'object' && c !== null && typeof c.sent === 'number' ? c : undefined;
  } catch {
    return undefined;
  }
}
