/**
 * Reassembly of fragmented user messages and their delivery order (RFC 9260
 * §6.5, §6.6, §6.9), with RFC 8260 I-DATA (message interleaving) as a second
 * mode of the same state, and the stream part of FORWARD TSN / I-FORWARD-TSN
 * (RFC 3758 §3.6, RFC 8260 §2.3).
 *
 * Reassembly trusts the data tracker to filter duplicate TSNs: the association
 * passes a chunk here only when `onData` said 'new'. It still ignores a TSN (or
 * I-DATA FSN) it holds, and ordered chunks whose SSN / MID was already delivered
 * or skipped.
 *
 * DATA: the fragments of one message carry consecutive TSNs, B on the first and
 * E on the last (§6.9). Ordered fragments are grouped per stream by SSN and
 * delivered in SSN order (§6.5, 16-bit serial wrap); unordered ones sit in one
 * TSN-sorted list and go out as soon as a B..E run of consecutive TSNs is there
 * (§6.6).
 * I-DATA: fragments are grouped per stream by MID (ordered and unordered apart)
 * and ordered by FSN, 0 on the B fragment; ordered messages go out in MID order
 * (32-bit serial wrap).
 *
 * User data is copied on arrival: decoded chunks alias the packet buffer, which
 * the transport reuses.
 */
import { copyBytes } from '../../wire/bytes.js';
import type { DataChunk, ForwardTsnChunk, IDataChunk, IForwardTsnChunk } from '../../wire/types.js';
import { add16, add32, lt16, lt32, lte16, lte32 } from '../../wire/serial.js';

export interface Fragment {
  readonly tsn: number;
  /** I-DATA Fragment Sequence Number (0 on the B fragment); 0 with DATA, where the TSN orders fragments. */
  readonly fsn: number;
  readonly beginning: boolean;
  readonly ending: boolean;
  readonly ppid: number;
  readonly data: Uint8Array;
}

/** A DATA fragment of an unordered message, waiting in the TSN-sorted list. */
export interface UnorderedFragment extends Fragment {
  readonly streamId: number;
  readonly ssn: number;
}

export interface InboundStream {
  /** Next SSN (DATA, §6.5) or next MID (I-DATA, RFC 8260 §2.1) to deliver in order. */
  nextSequence: number;
  /** Ordered fragments by SSN / MID; each list sorted by TSN (DATA) or FSN (I-DATA). */
  readonly ordered: Map<number, Fragment[]>;
  /** I-DATA unordered fragments by MID, each list sorted by FSN. Empty with DATA. */
  readonly unordered: Map<number, Fragment[]>;
}

export interface ReceivedMessage {
  readonly streamId: number;
  /** SSN as sent (DATA); undefined with I-DATA. */
  readonly ssn: number | undefined;
  /** Message Identifier (I-DATA); undefined with DATA. */
  readonly mid: number | undefined;
  readonly ppid: number;
  readonly unordered: boolean;
  /** A copy: owned by the receiver. */
  readonly data: Uint8Array;
  /** TSNs of the first (B) and last (E) fragment. */
  readonly tsns: readonly [first: number, last: number];
}

export interface Reassembly {
  /** RFC 8260 I-DATA was negotiated: only I-DATA and I-FORWARD-TSN are valid. */
  readonly interleaving: boolean;
  /** Streams the peer may send on (min of its OS and our MIS, RFC 9260 §5.1.1). */
  inboundStreams: number;
  /** Per-stream state, created on first use (a stream id is a key below `inboundStreams`). */
  readonly streams: Map<number, InboundStream>;
  /** DATA mode: fragments of unordered messages across all streams, sorted by TSN. */
  unorderedByTsn: UnorderedFragment[];
  /** Complete messages in delivery order, waiting for `pollMessage`. */
  readonly ready: ReceivedMessage[];
  /** User data bytes held (fragments and ready messages), for a_rwnd (RFC 9260 §6.2). */
  bufferedBytes: number;
  /**
   * RFC 9260 §6.9 partial delivery: the leading fragments (TSNs `firstTsn`..
   * `lastTsn`) of the incomplete message at the head of the line, taken out of
   * the receive window because the window ran out before the message was
   * complete (`dispatchHeadOfLine`). Their bytes are not in `bufferedBytes`
   * until the message completes. DATA mode only.
   */
  outsideWindow: { firstTsn: number; lastTsn: number; bytes: number } | undefined;
}

export type ReassemblyOutcome =
  /** Held; `delivered` messages became ready (0 when the message is not complete or must wait). */
  | { readonly kind: 'accepted'; readonly delivered: number }
  /** This TSN / FSN is already held. */
  | { readonly kind: 'duplicate' }
  /** Ordered SSN / MID already delivered or skipped by FORWARD TSN: discarded. */
  | { readonly kind: 'stale' }
  /** RFC 9260 §6.5: ack the TSN, send ERROR Invalid Stream Identifier, discard. */
  | { readonly kind: 'invalid-stream'; readonly streamId: number }
  /** RFC 9260 §6.2: a DATA chunk without user data: ABORT with No User Data. */
  | { readonly kind: 'no-user-data' }
  /** e.g. DATA after I-DATA was negotiated (RFC 8260 §2.1): ABORT with Protocol Violation. */
  | { readonly kind: 'protocol-violation'; readonly reason: string };

export type ForwardTsnOutcome =
  | { readonly kind: 'applied'; readonly delivered: number }
  | { readonly kind: 'protocol-violation'; readonly reason: string };

export function createReassembly(inboundStreams: number, options: { readonly interleaving?: boolean } = {}): Reassembly {
  return {
    interleaving: options.interleaving ?? false,
    inboundStreams,
    streams: new Map(),
    unorderedByTsn: [],
    ready: [],
    bufferedBytes: 0,
    outsideWindow: undefined,
  };
}

/** User data bytes held, complete or not: what a_rwnd is reduced by (RFC 9260 §6.2). */
export function bufferedBytes(r: Reassembly): number {
  return r.bufferedBytes;
}

/** The next message in delivery order, removed from the buffer. */
export function pollMessage(r: Reassembly): ReceivedMessage | undefined {
  const m = r.ready.shift();
  if (m !== undefined) r.bufferedBytes -= m.data.length;
  return m;
}

/** Passes one DATA or I-DATA chunk whose TSN the tracker reported as 'new'. */
export function onDataChunk(r: Reassembly, chunk: DataChunk | IDataChunk): ReassemblyOutcome {
  if (chunk.kind === 'data' && r.interleaving) {
    return { kind: 'protocol-violation', reason: 'DATA chunk received after I-DATA was negotiated (RFC 8260 §2.1)' };
  }
  if (chunk.kind === 'idata' && !r.interleaving) {
    return { kind: 'protocol-violation', reason: 'I-DATA chunk received but I-DATA was not negotiated (RFC 8260 §2.1)' };
  }
  if (chunk.userData.length === 0) return { kind: 'no-user-data' };
  if (chunk.streamId >= r.inboundStreams) return { kind: 'invalid-stream', streamId: chunk.streamId };
  const before = r.ready.length;
  const outcome = chunk.kind === 'data' ? onData(r, chunk) : onIData(r, chunk);
  return outcome ?? { kind: 'accepted', delivered: r.ready.length - before };
}

/**
 * The stream part of FORWARD TSN (RFC 3758 §3.6) or I-FORWARD-TSN (RFC 8260
 * §2.3.2), applied after the tracker accepted the new cumulative TSN (skip it
 * when the tracker said 'stale'). Each listed ordered stream skips to the SSN /
 * MID after the one listed, dropping what it held up to it, then delivers what
 * became deliverable. DATA: incomplete unordered messages at or below the new
 * cumulative TSN are abandoned (their TSNs are consecutive, so a message with a
 * fragment there was abandoned whole). I-DATA: listed unordered entries drop
 * that stream's unordered messages up to the MID.
 */
export function onForwardTsn(r: Reassembly, chunk: ForwardTsnChunk | IForwardTsnChunk): ForwardTsnOutcome {
  const before = r.ready.length;
  switch (chunk.kind) {
    case 'forward-tsn': {
      if (r.interleaving) {
        return { kind: 'protocol-violation', reason: 'FORWARD TSN received after I-DATA was negotiated (RFC 8260 §2.3.1)' };
      }
      const kept: UnorderedFragment[] = [];
      for (const f of r.unorderedByTsn) {
        if (lte32(f.tsn, chunk.newCumulativeTsn)) release(r, f);
        else kept.push(f);
      }
      r.unorderedByTsn = kept;
      for (const { streamId, ssn } of chunk.streams) {
        if (streamId >= r.inboundStreams) continue;
        const s = streamOf(r, streamId);
        if (lt16(ssn, s.nextSequence)) continue;
        dropUpTo(r, s.ordered, (key) => lte16(key, ssn));
        s.nextSequence = add16(ssn, 1);
        drainOrdered(r, streamId, s);
      }
      break;
    }
    case 'i-forward-tsn': {
      if (!r.interleaving) {
        return { kind: 'protocol-violation', reason: 'I-FORWARD-TSN received but I-DATA was not negotiated (RFC 8260 §2.3.1)' };
      }
      for (const { streamId, unordered, mid } of chunk.streams) {
        if (streamId >= r.inboundStreams) continue;
        const s = streamOf(r, streamId);
        if (unordered) {
          dropUpTo(r, s.unordered, (key) => lte32(key, mid));
          continue;
        }
        if (lt32(mid, s.nextSequence)) continue;
        dropUpTo(r, s.ordered, (key) => lte32(key, mid));
        s.nextSequence = add32(mid, 1);
        drainOrdered(r, streamId, s);
      }
      break;
    }
  }
  return { kind: 'applied', delivered: r.ready.length - before };
}

// ------------------------------------------------------------------ DATA mode

function onData(r: Reassembly, chunk: DataChunk): ReassemblyOutcome | undefined {
  const data = copyBytes(chunk.userData);
  if (chunk.unordered) {
    const f: UnorderedFragment = {
      tsn: chunk.tsn, fsn: 0, beginning: chunk.beginning, ending: chunk.ending, ppid: chunk.ppid, data,
      streamId: chunk.streamId, ssn: chunk.ssn,
    };
    const at = insertSorted(r.unorderedByTsn, f, byTsn);
    if (at < 0) return { kind: 'duplicate' };
    r.bufferedBytes += data.length;
    takeUnorderedRun(r, at);
    return undefined;
  }
  const s = streamOf(r, chunk.streamId);
  // §6.5: an SSN before the next expected one was delivered or skipped.
  if (lt16(chunk.ssn, s.nextSequence)) return { kind: 'stale' };
  const f: Fragment = { tsn: chunk.tsn, fsn: 0, beginning: chunk.beginning, ending: chunk.ending, ppid: chunk.ppid, data };
  if (!insertInto(s.ordered, chunk.ssn, f, byTsn)) return { kind: 'duplicate' };
  r.bufferedBytes += data.length;
  if (chunk.ssn === s.nextSequence) drainOrdered(r, chunk.streamId, s);
  return undefined;
}

/** Finds the B..E run of consecutive TSNs on one stream around index `at` and delivers it. */
function takeUnorderedRun(r: Reassembly, at: number): void {
  const list = r.unorderedByTsn;
  const pivot = list[at];
  if (pivot === undefined) return;
  let first = at;
  for (;;) {
    const cur = list[first];
    if (cur === undefined) return;
    if (cur.beginning) break;
    const prev = list[first - 1];
    if (prev === undefined || prev.ending || prev.streamId !== pivot.streamId || add32(prev.tsn, 1) !== cur.tsn) return;
    first -= 1;
  }
  let last = at;
  for (;;) {
    const cur = list[last];
    if (cur === undefined) return;
    if (cur.ending) break;
    const next = list[last + 1];
    if (next === undefined || next.beginning || next.streamId !== pivot.streamId || add32(cur.tsn, 1) !== next.tsn) return;
    last += 1;
  }
  const run = list.splice(first, last - first + 1);
  const head = run[0];
  if (head === undefined) return;
  r.ready.push(message(run, pivot.streamId, true, head.ssn, undefined));
  completed(r, head.tsn);
}

// ---------------------------------------------------------------- I-DATA mode

function onIData(r: Reassembly, chunk: IDataChunk): ReassemblyOutcome | undefined {
  // RFC 8260 §2.1: the B fragment carries the PPID instead of an FSN, which is 0.
  if (!chunk.beginning && chunk.fsn === 0) {
    return { kind: 'protocol-violation', reason: 'I-DATA fragment without B bit has FSN 0 (RFC 8260 §2.1)' };
  }
  const s = streamOf(r, chunk.streamId);
  const data = copyBytes(chunk.userData);
  const f: Fragment = {
    tsn: chunk.tsn, fsn: chunk.beginning ? 0 : chunk.fsn, beginning: chunk.beginning, ending: chunk.ending,
    ppid: chunk.beginning ? chunk.ppid : 0, data,
  };
  if (chunk.unordered) {
    if (!insertInto(s.unordered, chunk.mid, f, byFsn)) return { kind: 'duplicate' };
    r.bufferedBytes += data.length;
    const bucket = s.unordered.get(chunk.mid) ?? [];
    const run = findRun(bucket, byFsn);
    if (run !== undefined) {
      r.ready.push(message(bucket.slice(run[0], run[1] + 1), chunk.streamId, true, undefined, chunk.mid));
      dropBucketRest(r, bucket, run);
      s.unordered.delete(chunk.mid);
    }
    return undefined;
  }
  if (lt32(chunk.mid, s.nextSequence)) return { kind: 'stale' };
  if (!insertInto(s.ordered, chunk.mid, f, byFsn)) return { kind: 'duplicate' };
  r.bufferedBytes += data.length;
  if (chunk.mid === s.nextSequence) drainOrdered(r, chunk.streamId, s);
  return undefined;
}

// ------------------------------------------------------------------- shared

interface FragmentOrder {
  /** The number that orders fragments of one message and is consecutive within it. */
  readonly seq: (f: Fragment) => number;
  readonly less: (a: number, b: number) => boolean;
}
const byTsn: FragmentOrder = { seq: (f) => f.tsn, less: lt32 };
// FSNs count up from 0 within one message: plain comparison.
const byFsn: FragmentOrder = { seq: (f) => f.fsn, less: (a, b) => a < b };

function streamOf(r: Reassembly, streamId: number): InboundStream {
  let s = r.streams.get(streamId);
  if (s === undefined) {
    s = { nextSequence: 0, ordered: new Map(), unordered: new Map() };
    r.streams.set(streamId, s);
  }
  return s;
}

/** Inserts keeping `list` sorted; the index, or -1 when the same TSN / FSN is there. */
function insertSorted<F extends Fragment>(list: F[], f: F, order: FragmentOrder): number {
  const key = order.seq(f);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = list[mid];
    if (m !== undefined && order.less(order.seq(m), key)) lo = mid + 1;
    else hi = mid;
  }
  const at = list[lo];
  if (at !== undefined && order.seq(at) === key) return -1;
  list.splice(lo, 0, f);
  return lo;
}

function insertInto(buckets: Map<number, Fragment[]>, key: number, f: Fragment, order: FragmentOrder): boolean {
  let bucket = buckets.get(key);
  if (bucket === undefined) {
    bucket = [];
    buckets.set(key, bucket);
  }
  return insertSorted(bucket, f, order) >= 0;
}

/**
 * The first run B, consecutive fragments, E in a sorted bucket: [first, last]
 * indexes. A well-behaved peer puts exactly one message in a bucket; the scan
 * tolerates a misbehaving one without getting stuck on its extra fragments.
 */
function findRun(bucket: readonly Fragment[], order: FragmentOrder): [number, number] | undefined {
  let first = -1;
  for (let i = 0; i < bucket.length; i++) {
    const f = bucket[i];
    if (f === undefined) break;
    if (f.beginning) first = i;
    else if (first >= 0) {
      const prev = bucket[i - 1];
      if (prev === undefined || add32(order.seq(prev), 1) !== order.seq(f)) first = -1;
    }
    if (first >= 0 && f.ending) return [first, i];
  }
  return undefined;
}

/** Delivers ordered messages from `nextSequence` on while they are complete (§6.5, RFC 8260 §2.1). */
function drainOrdered(r: Reassembly, streamId: number, s: InboundStream): void {
  const order = r.interleaving ? byFsn : byTsn;
  for (let guard = s.ordered.size; guard >= 0; guard--) {
    const key = s.nextSequence;
    const bucket = s.ordered.get(key);
    if (bucket === undefined) return;
    const run = findRun(bucket, order);
    if (run === undefined) return;
    const fragments = bucket.slice(run[0], run[1] + 1);
    r.ready.push(message(fragments, streamId, false, r.interleaving ? undefined : key, r.interleaving ? key : undefined));
    if (!r.interleaving && fragments[0] !== undefined) completed(r, fragments[0].tsn);
    dropBucketRest(r, bucket, run);
    s.ordered.delete(key);
    s.nextSequence = r.interleaving ? add32(key, 1) : add16(key, 1);
  }
}

/** Bytes of the fragments of `bucket` outside the delivered run leave the buffer. */
function dropBucketRest(r: Reassembly, bucket: readonly Fragment[], run: readonly [number, number]): void {
  bucket.forEach((f, i) => {
    if (i < run[0] || i > run[1]) release(r, f);
  });
}

function dropUpTo(r: Reassembly, buckets: Map<number, Fragment[]>, covered: (key: number) => boolean): void {
  for (const [key, bucket] of buckets) {
    if (!covered(key)) continue;
    for (const f of bucket) release(r, f);
    buckets.delete(key);
  }
}

// ---------------------------------------------------------- partial delivery

function isOutsideWindow(r: Reassembly, tsn: number): boolean {
  const o = r.outsideWindow;
  return o !== undefined && !r.interleaving && lte32(o.firstTsn, tsn) && lte32(tsn, o.lastTsn);
}

/** A held fragment is dropped (FORWARD TSN, a misbehaving peer's extra fragment): its bytes leave their count. */
function release(r: Reassembly, f: Fragment): void {
  const o = r.outsideWindow;
  if (o !== undefined && isOutsideWindow(r, f.tsn)) {
    o.bytes -= f.data.length;
    if (o.bytes <= 0) r.outsideWindow = undefined;
  } else r.bufferedBytes -= f.data.length;
}

/** The message whose first fragment is `firstTsn` became ready: its bytes taken out of the window count again, as a ready message's. */
function completed(r: Reassembly, firstTsn: number): void {
  const o = r.outsideWindow;
  if (o === undefined || o.firstTsn !== firstTsn) return;
  r.bufferedBytes += o.bytes;
  r.outsideWindow = undefined;
}

export type DispatchOutcome =
  /** `bytes` more of the head-of-line message left the window. */
  | { readonly kind: 'dispatched'; readonly bytes: number }
  /** No incomplete message at the head of the line (or nothing new of it to take). */
  | { readonly kind: 'nothing' }
  /** The head-of-line message has grown beyond `maxMessageSize` and does not fit the window. */
  | { readonly kind: 'too-big'; readonly bytes: number };

/**
 * RFC 9260 §6.9: "If the data receiver runs out of buffer space while still
 * waiting for more fragments to complete the reassembly of the message, it
 * SHOULD dispatch part of its inbound message through a partial delivery API
 * (see Section 11), freeing some of its receive buffer space so that the rest
 * of the message can be received." Without it a message larger than the
 * window can never complete: the window stays closed on its own fragments and
 * every zero window probe is dropped (§6.2), silently, for ever.
 *
 * The application here receives whole messages, so the part is dispatched to
 * the message's own assembly: the received fragments of the incomplete message
 * that holds `cumulativeTsn` (every TSN up to it is here, so it is the only
 * incomplete one there, and the next to deliver on its stream) stop counting
 * against the window, up to `maxMessageSize` bytes for the whole message.
 * Call it when the window cannot take another full chunk. DATA mode only.
 */
export function dispatchHeadOfLine(r: Reassembly, cumulativeTsn: number, maxMessageSize: number): DispatchOutcome {
  if (r.interleaving) return { kind: 'nothing' };
  const found = findHeldFragment(r, cumulativeTsn);
  if (found === undefined) return { kind: 'nothing' };
  const { list, at } = found;
  const last = list[at];
  if (last === undefined || last.ending) return { kind: 'nothing' };
  // Back to the B fragment through consecutive TSNs of the same message.
  let first = at;
  for (;;) {
    const f = list[first];
    if (f === undefined) return { kind: 'nothing' };
    if (f.beginning) break;
    const prev = list[first - 1];
    if (prev === undefined || prev.ending || add32(prev.tsn, 1) !== f.tsn || !sameStream(prev, f)) return { kind: 'nothing' };
    first -= 1;
  }
  const head = list[first]!;
  const o = r.outsideWindow;
  if (o !== undefined && o.firstTsn !== head.tsn) return { kind: 'nothing' };
  let bytes = 0;
  let total = o?.bytes ?? 0;
  for (let i = first; i <= at; i++) {
    const f = list[i]!;
    if (!isOutsideWindow(r, f.tsn)) bytes += f.data.length;
  }
  total += bytes;
  if (total > maxMessageSize) return { kind: 'too-big', bytes: total };
  if (bytes === 0) return { kind: 'nothing' };
  r.bufferedBytes -= bytes;
  r.outsideWindow = { firstTsn: head.tsn, lastTsn: last.tsn, bytes: total };
  return { kind: 'dispatched', bytes };
}

function sameStream(a: Fragment, b: Fragment): boolean {
  const ua = a as Partial<UnorderedFragment>;
  const ub = b as Partial<UnorderedFragment>;
  return ua.streamId === ub.streamId;
}

/** The sorted fragment list holding `tsn` (an ordered bucket or the unordered list) and its index. */
function findHeldFragment(r: Reassembly, tsn: number): { list: readonly Fragment[]; at: number } | undefined {
  const u = r.unorderedByTsn;
  let lo = 0;
  let hi = u.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lt32(u[mid]!.tsn, tsn)) lo = mid + 1;
    else hi = mid;
  }
  if (u[lo]?.tsn === tsn) return { list: u, at: lo };
  for (const s of r.streams.values()) {
    for (const bucket of s.ordered.values()) {
      const first = bucket[0];
      const last = bucket[bucket.length - 1];
      if (first === undefined || last === undefined || lt32(tsn, first.tsn) || lt32(last.tsn, tsn)) continue;
      const at = bucket.findIndex((f) => f.tsn === tsn);
      if (at >= 0) return { list: bucket, at };
    }
  }
  return undefined;
}

function message(
  fragments: readonly Fragment[], streamId: number, unordered: boolean, ssn: number | undefined, mid: number | undefined,
): ReceivedMessage {
  const head = fragments[0];
  const tail = fragments[fragments.length - 1];
  let data: Uint8Array;
  if (fragments.length === 1 && head !== undefined) {
    data = head.data;
  } else {
    let total = 0;
    for (const f of fragments) total += f.data.length;
    data = new Uint8Array(total);
    let offset = 0;
    for (const f of fragments) {
      data.set(f.data, offset);
      offset += f.data.length;
    }
  }
  return {
    streamId, ssn, mid, ppid: head?.ppid ?? 0, unordered, data,
    tsns: [head?.tsn ?? 0, tail?.tsn ?? 0],
  };
}
