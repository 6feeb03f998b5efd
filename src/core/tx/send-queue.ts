/**
 * The send queue: user messages that have not yet been given a TSN (RFC 9260
 * §6.1, §6.6, §6.9, §10.1 SEND). It schedules streams round-robin at message
 * granularity and fragments one message at a time: with DATA chunks (not
 * I-DATA, RFC 8260) the fragments of a message must carry consecutive TSNs
 * (§6.9), so a fragmented message is produced whole before any other starts.
 *
 * TSNs are assigned by the retransmission queue; this module assigns SSNs.
 */
import type { Millis } from '../env.js';
import type { ProtocolConfig } from '../config.js';
import { copyBytes } from '../../wire/bytes.js';
import { add16 } from '../../wire/serial.js';
import { dataChunkWireSize, type ProducedChunk, type QueuedMessage, type SendFailed } from './types.js';

/** The message being fragmented. `ssn` is fixed when its first fragment is produced. */
export interface CurrentMessage {
  readonly message: QueuedMessage;
  /** Bytes of `message.data` already produced as fragments. */
  offset: number;
  ssn: number;
}

export interface SendQueueState {
  readonly outboundStreams: number;
  readonly maxMessageSize: number;
  /** Back-pressure bound on `bufferedAmount` (ProtocolConfig.sendBufferSize). */
  readonly sendBufferSize: number;
  /** A crossing from above to at-or-below reports `bufferedAmountLow` (the 'drain' hook). */
  bufferedAmountLowThreshold: number;
  /** User data bytes queued and not yet produced as chunks. */
  bufferedAmount: number;
  nextMessageId: number;
  /**
   * Messages per stream (only streams that have some waiting): those from
   * index `streamHeads.get(streamId) ?? 0` on are waiting, the ones before it
   * were taken and are dropped in batches (Array.shift is O(n) once a list is
   * big enough for V8's large-object space: 100 µs a message at 50,000).
   * `queuedMessages` lists the waiting ones.
   */
  readonly streams: Map<number, QueuedMessage[]>;
  /** Index of the first waiting message per stream, when not 0. */
  readonly streamHeads: Map<number, number>;
  /** Streams with waiting messages, in round-robin service order. */
  rrOrder: number[];
  /** Next SSN per ordered stream (absent: 0). */
  readonly nextSsn: Map<number, number>;
  current: CurrentMessage | undefined;
}

export function createSendQueue(
  outboundStreams: number,
  config: Pick<ProtocolConfig, 'maxMessageSize' | 'sendBufferSize'>,
): SendQueueState {
  return {
    outboundStreams,
    maxMessageSize: config.maxMessageSize,
    sendBufferSize: config.sendBufferSize,
    bufferedAmountLowThreshold: 0,
    bufferedAmount: 0,
    nextMessageId: 0,
    streams: new Map(),
    streamHeads: new Map(),
    rrOrder: [],
    nextSsn: new Map(),
    current: undefined,
  };
}

export interface SendRequest {
  readonly streamId: number;
  readonly ppid: number;
  /**
   * Ownership passes to the queue (the caller must not modify it afterwards),
   * unless `copy` is set: then the queue keeps a copy and the caller may reuse
   * the buffer at once.
   */
  readonly data: Uint8Array;
  readonly copy?: boolean;
  readonly unordered: boolean;
  /** PR-SCTP timed reliability / RFC 9260 §10.1 lifetime, in ms from enqueue. */
  readonly lifetime?: Millis;
  /** PR-SCTP limited retransmissions (RFC 7496 §4.1). */
  readonly maxRetransmits?: number;
  /** RFC 7053: ask the peer to SACK the message's last fragment at once. */
  readonly immediate?: boolean;
}

export type EnqueueError =
  | { readonly kind: 'invalid-stream'; readonly streamId: number; readonly outboundStreams: number }
  | { readonly kind: 'empty-message' }
  | { readonly kind: 'message-too-big'; readonly size: number; readonly maxMessageSize: number }
  | { readonly kind: 'queue-full'; readonly bufferedAmount: number; readonly sendBufferSize: number }
  | { readonly kind: 'invalid-policy'; readonly reason: string };

export type EnqueueResult = { readonly ok: true; readonly messageId: number } | { readonly ok: false; readonly error: EnqueueError };

/**
 * Queues a user message. `queue-full` is back-pressure: the association turns it
 * into `send` returning false and waits for `bufferedAmountLow`.
 */
export function enqueue(q: SendQueueState, req: SendRequest, now: Millis): EnqueueResult {
  if (!Number.isInteger(req.streamId) || req.streamId < 0 || req.streamId >= q.outboundStreams) {
    return { ok: false, error: { kind: 'invalid-stream', streamId: req.streamId, outboundStreams: q.outboundStreams } };
  }
  // RFC 9260 §6.1: a DATA chunk carries at least one byte of user data.
  if (req.data.length === 0) return { ok: false, error: { kind: 'empty-message' } };
  if (req.data.length > q.maxMessageSize) {
    return { ok: false, error: { kind: 'message-too-big', size: req.data.length, maxMessageSize: q.maxMessageSize } };
  }
  if (req.lifetime !== undefined && !(req.lifetime >= 0)) {
    return { ok: false, error: { kind: 'invalid-policy', reason: `lifetime must be >= 0, got ${req.lifetime}` } };
  }
  if (req.maxRetransmits !== undefined && !(Number.isInteger(req.maxRetransmits) && req.maxRetransmits >= 0)) {
    return { ok: false, error: { kind: 'invalid-policy', reason: `maxRetransmits must be a whole number >= 0, got ${req.maxRetransmits}` } };
  }
  if (q.bufferedAmount > 0 && q.bufferedAmount + req.data.length > q.sendBufferSize) {
    return { ok: false, error: { kind: 'queue-full', bufferedAmount: q.bufferedAmount, sendBufferSize: q.sendBufferSize } };
  }
  const messageId = q.nextMessageId;
  q.nextMessageId = (q.nextMessageId + 1) % Number.MAX_SAFE_INTEGER;
  const data = req.copy === true ? copyBytes(req.data) : req.data;
  // Without PR-SCTP fields no spreading: this runs for every message sent.
  const message: QueuedMessage =
    req.lifetime === undefined && req.maxRetransmits === undefined
      ? { messageId, streamId: req.streamId, ppid: req.ppid >>> 0, data, unordered: req.unordered, immediate: req.immediate ?? false }
      : {
          messageId,
          streamId: req.streamId,
          ppid: req.ppid >>> 0,
          data,
          unordered: req.unordered,
          immediate: req.immediate ?? false,
          ...(req.lifetime !== undefined ? { expiresAt: now + req.lifetime } : {}),
          ...(req.maxRetransmits !== undefined ? { maxRetransmits: req.maxRetransmits } : {}),
        };
  let list = q.streams.get(req.streamId);
  if (!list) {
    list = [];
    q.streams.set(req.streamId, list);
    q.rrOrder.push(req.streamId);
  }
  list.push(message);
  q.bufferedAmount += req.data.length;
  return { ok: true, messageId };
}

export function setBufferedAmountLowThreshold(q: SendQueueState, bytes: number): void {
  q.bufferedAmountLowThreshold = Math.max(0, bytes);
}

/** True when a message has expired: at `expiresAt` it is already too late. */
export function isExpired(p: { readonly expiresAt?: Millis }, now: Millis): boolean {
  return p.expiresAt !== undefined && now >= p.expiresAt;
}

function unsentFailure(m: QueuedMessage): SendFailed {
  return { messageId: m.messageId, streamId: m.streamId, ppid: m.ppid, unordered: m.unordered, data: m.data, reason: 'lifetime-expired', sent: false };
}

/** Takes the next message off the round-robin schedule (rotating its stream to the back). */
function popRoundRobin(q: SendQueueState): QueuedMessage | undefined {
  const streamId = q.rrOrder[0];
  if (streamId === undefined) return undefined;
  const list = q.streams.get(streamId);
  const head = q.streamHeads.get(streamId) ?? 0;
  const message = list?.[head];
  q.rrOrder.shift();
  if (list && head + 1 < list.length) {
    q.rrOrder.push(streamId);
    // Taken messages are dropped once they are half the list: O(1) amortized.
    if (head + 1 >= 64 && 2 * (head + 1) >= list.length) {
      list.splice(0, head + 1);
      q.streamHeads.delete(streamId);
    } else q.streamHeads.set(streamId, head + 1);
  } else {
    q.streams.delete(streamId);
    q.streamHeads.delete(streamId);
  }
  return message;
}

/** The messages waiting in the queue per stream, in order (not the one being fragmented). */
export function* queuedMessages(q: SendQueueState): Generator<QueuedMessage> {
  for (const [streamId, list] of q.streams) {
    for (let i = q.streamHeads.get(streamId) ?? 0; i < list.length; i++) yield list[i]!;
  }
}

export interface SelectResult {
  /** Bytes of the selected message not yet produced; undefined when the queue is empty. */
  readonly remaining: number | undefined;
  /** Whether the selected message already produced a fragment. */
  readonly started: boolean;
  /** Messages dropped because their lifetime expired before a TSN was assigned. */
  readonly sendFailed: SendFailed[];
}

/**
 * Makes sure `q.current` holds the next message to fragment, skipping messages
 * whose lifetime expired before their first fragment: RFC 9260 §10.1 (SEND,
 * lifetime) and RFC 3758 §4.1 TR3 — they never use a TSN.
 */
export function selectNextMessage(q: SendQueueState, now: Millis): SelectResult {
  const sendFailed: SendFailed[] = [];
  // A message selected earlier but held back (cwnd, rwnd) before its first
  // fragment still has no TSN: it expires like a queued one (RFC 3758 §4.1 TR3).
  const held = q.current;
  if (held && held.offset === 0 && isExpired(held.message, now)) {
    q.bufferedAmount -= held.message.data.length;
    sendFailed.push(unsentFailure(held.message));
    q.current = undefined;
  }
  // Bounded: each iteration removes one message from the queue.
  while (q.current === undefined) {
    const message = popRoundRobin(q);
    if (!message) return { remaining: undefined, started: false, sendFailed };
    if (isExpired(message, now)) {
      q.bufferedAmount -= message.data.length;
      sendFailed.push(unsentFailure(message));
      continue;
    }
    q.current = { message, offset: 0, ssn: 0 };
  }
  return { remaining: q.current.message.data.length - q.current.offset, started: q.current.offset > 0, sendFailed };
}

export interface ProduceResult {
  readonly chunk: ProducedChunk | undefined;
  readonly sendFailed: SendFailed[];
}

/**
 * The next fragment of at most `maxPayload` bytes (B/E flags per RFC 9260
 * §6.9). The SSN of an ordered stream is assigned with the first fragment
 * (§6.6); unordered messages carry SSN 0, which the receiver ignores.
 */
export function produceChunk(q: SendQueueState, maxPayload: number, now: Millis): ProduceResult {
  const sel = selectNextMessage(q, now);
  const cur = q.current;
  if (!cur || maxPayload < 1) return { chunk: undefined, sendFailed: sel.sendFailed };
  const m = cur.message;
  const beginning = cur.offset === 0;
  if (beginning && !m.unordered) {
    cur.ssn = q.nextSsn.get(m.streamId) ?? 0;
    q.nextSsn.set(m.streamId, add16(cur.ssn, 1));
  }
  const size = Math.min(Math.floor(maxPayload), m.data.length - cur.offset);
  // Views of the message's bytes (the queue's own copy when taken with
  // `copy`): a whole message is its own chunk, and the fragments of one share
  // its buffer without overlapping, which structuredClone and the plain codec
  // both carry faithfully. A copy per fragment cost an allocation each.
  const userData = cur.offset === 0 && size === m.data.length ? m.data : m.data.subarray(cur.offset, cur.offset + size);
  cur.offset += size;
  q.bufferedAmount -= size;
  const ending = cur.offset === m.data.length;
  if (ending) q.current = undefined;
  const chunk: ProducedChunk = {
    messageId: m.messageId,
    streamId: m.streamId,
    ssn: cur.ssn,
    ppid: m.ppid,
    userData,
    unordered: m.unordered,
    beginning,
    ending,
    immediate: ending && m.immediate,
    ...(m.expiresAt !== undefined ? { expiresAt: m.expiresAt } : {}),
    ...(m.maxRetransmits !== undefined ? { maxRetransmits: m.maxRetransmits } : {}),
  };
  return { chunk, sendFailed: sel.sendFailed };
}

/** What `discardCurrentMessage` removed. */
export interface DiscardedRemainder {
  readonly message: QueuedMessage;
  readonly ssn: number;
  /** The bytes that never got a TSN. */
  readonly rest: Uint8Array;
}

/**
 * Drops the rest of the message being fragmented when PR-SCTP abandons it
 * (RFC 3758 §3.5 A3: every fragment goes together).
 */
export function discardCurrentMessage(q: SendQueueState, messageId: number): DiscardedRemainder | undefined {
  const cur = q.current;
  if (!cur || cur.message.messageId !== messageId) return undefined;
  const rest = cur.message.data.subarray(cur.offset);
  q.bufferedAmount -= rest.length;
  q.current = undefined;
  return { message: cur.message, ssn: cur.ssn, rest };
}

/**
 * RFC 3758 §4.1 TR5: drops every queued message whose lifetime expired and
 * that has no TSN yet, so the application hears of it even while cwnd or rwnd
 * stop transmission. Bounded by the number of queued messages.
 */
export function expireUnsent(q: SendQueueState, now: Millis): SendFailed[] {
  const failed: SendFailed[] = [];
  for (const [streamId, all] of [...q.streams]) {
    const list = all.slice(q.streamHeads.get(streamId) ?? 0);
    q.streamHeads.delete(streamId);
    const keep = list.filter((m) => {
      if (!isExpired(m, now)) return true;
      q.bufferedAmount -= m.data.length;
      failed.push(unsentFailure(m));
      return false;
    });
    if (keep.length > 0) q.streams.set(streamId, keep);
    else {
      q.streams.delete(streamId);
      q.rrOrder = q.rrOrder.filter((s) => s !== streamId);
    }
  }
  if (q.current && q.current.offset === 0 && isExpired(q.current.message, now)) {
    q.bufferedAmount -= q.current.message.data.length;
    failed.push(unsentFailure(q.current.message));
    q.current = undefined;
  }
  failed.sort((a, b) => a.messageId - b.messageId);
  return failed;
}

/**
 * Whether a packet of new data started now would be cut short by the window
 * rather than filled (or would carry everything queued): a dry run of the
 * chunk selection of `nextChunksToSend` over the queued messages, without
 * changing the queue. `room` is the packet space in wire bytes, `budget` the
 * cwnd budget (a chunk is admitted while it is above 0), `rwnd` the peer's
 * window (a chunk must fit in it). Lifetimes are not evaluated. Bounded by
 * `room` (each chunk takes at least 20 bytes) and a step limit; undecided
 * counts as not cut short (undefined). Otherwise, the window that cuts it.
 */
export function windowCutsPacket(q: SendQueueState, room: number, maxFragmentPayload: number, budget: number, rwnd: number): 'cwnd' | 'rwnd' | undefined {
  let chunks = 0;
  // 'full' when the packet is full, the window that stops it, or undefined to go on.
  const take = (remaining: number): 'full' | 'cwnd' | 'rwnd' | undefined => {
    while (remaining > 0) {
      let len = Math.min(remaining, maxFragmentPayload);
      if (dataChunkWireSize(len) > room) {
        if (chunks > 0) return 'full';
        len = Math.min(len, (room - 16) & ~3);
        if (len < 1) return 'full';
      }
      if (budget <= 0) return 'cwnd';
      if (len > rwnd) return 'rwnd';
      room -= dataChunkWireSize(len);
      budget -= len;
      rwnd -= len;
      remaining -= len;
      chunks++;
    }
    return undefined;
  };
  const cur = q.current;
  if (cur) {
    const r = take(cur.message.data.length - cur.offset);
    if (r !== undefined) return r === 'full' ? undefined : r;
  }
  // Round-robin order: round i takes message i of every stream that has one.
  let steps = 0;
  for (let round = 0; ; round++) {
    let any = false;
    for (const streamId of q.rrOrder) {
      if (++steps > 4096) return undefined;
      const m = q.streams.get(streamId)?.[(q.streamHeads.get(streamId) ?? 0) + round];
      if (!m) continue;
      any = true;
      const r = take(m.data.length);
      if (r !== undefined) return r === 'full' ? undefined : r;
    }
    if (!any) return undefined;
  }
}

/**
 * Whether the queued messages would fill a packet of `room` wire bytes, that
 * is, whether the chunk selection of `nextChunksToSend` (windows aside) would
 * stop at 'packet-full' rather than run out of data: the "full-sized segment"
 * of sender-side SWS avoidance (RFC 1122 §4.2.3.4). Bounded by `room` (each
 * chunk takes at least 20 bytes) and a step limit; undecided counts as full.
 */
export function queueFillsPacket(q: SendQueueState, room: number, maxFragmentPayload: number): boolean {
  // User data alone at least fills it: its chunks are bigger still.
  if (q.bufferedAmount >= room) return true;
  let chunks = 0;
  const take = (remaining: number): boolean => {
    while (remaining > 0) {
      let len = Math.min(remaining, maxFragmentPayload);
      if (dataChunkWireSize(len) > room) {
        if (chunks > 0) return true;
        len = Math.min(len, (room - 16) & ~3);
        if (len < 1) return true;
      }
      room -= dataChunkWireSize(len);
      remaining -= len;
      chunks++;
    }
    return false;
  };
  const cur = q.current;
  if (cur && take(cur.message.data.length - cur.offset)) return true;
  let steps = 0;
  for (let round = 0; ; round++) {
    let any = false;
    for (const streamId of q.rrOrder) {
      if (++steps > 4096) return true;
      const m = q.streams.get(streamId)?.[(q.streamHeads.get(streamId) ?? 0) + round];
      if (!m) continue;
      any = true;
      if (take(m.data.length)) return true;
    }
    if (!any) return false;
  }
}

/** Nothing waiting for a TSN. */
export function isSendQueueEmpty(q: SendQueueState): boolean {
  return q.current === undefined && q.rrOrder.length === 0;
}
