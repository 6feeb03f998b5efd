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

export function createApp(kind: 'echo' | 'discard' | 'sink'): ClusterApp {
  switch (kind) {
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
