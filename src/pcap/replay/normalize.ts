/**
 * Offline replay comparison: chunks reduced to what does not depend on the
 * entropy of a run (RFC 9260 §5.1: verification tags, initial TSNs, cookies,
 * RANDOM, HMACs and Heartbeat Info all differ on every association), then the
 * captured and re-executed chunks matched.
 *
 * TSNs and ASCONF serial numbers (RFC 5061 §5.1: initialised like the TSN)
 * become offsets from their sender's initial TSN, so `DATA +3` means the
 * fourth TSN our endpoint used, whatever its initial TSN was.
 */
import { diff32 } from '../../wire/serial.js';
import type { Chunk, ErrorCause, Param } from '../../wire/types.js';

/** Initial TSNs of the association, as one run (the capture, or the re-execution) chose them. */
export interface TsnBases {
  /** Our endpoint's initial TSN (and ASCONF serial). */
  readonly ours: number;
  /** The peer's: the same in the capture and the re-execution (the peer's packets are fed unchanged). */
  readonly peer: number;
}

/** One chunk our endpoint sent, reduced for comparison. */
export interface NormalChunk {
  /** Everything compared exactly: chunk type, normalised fields, destination address. */
  readonly key: string;
  /** a_rwnd of a SACK / NR-SACK, INIT, INIT ACK: compared with a tolerance. */
  readonly aRwnd?: number;
  /** Milliseconds (capture time, or virtual time of the re-execution). */
  readonly time: number;
  /** Capture: the frame that carried it. Re-execution: the last captured frame fed to the core before it left. */
  readonly frame: number;
}

function off(x: number, base: number): string {
  const d = diff32(base, x);
  return d >= 0 ? `+${d}` : `${d}`;
}

/** FNV-1a of user data: payloads compared without keeping them twice. */
function fnv(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function causeList(c: readonly ErrorCause[]): string {
  return c.map((x) => x.kind).join(',');
}

/** Parameters by kind; values only where they are not random (addresses, lists, numbers). */
function params(list: readonly Param[]): string {
  return list
    .map((p) => {
      switch (p.kind) {
        case 'ipv4-address':
        case 'ipv6-address':
          return `${p.kind}=${p.address}`;
        case 'supported-extensions':
        case 'chunk-list':
          return `${p.kind}=${p.chunkTypes.join('.')}`;
        case 'hmac-algo':
          return `${p.kind}=${p.hmacIds.join('.')}`;
        case 'supported-address-types':
          return `${p.kind}=${p.addressTypes.join('.')}`;
        case 'adaptation-layer-indication':
          return `${p.kind}=${p.indication}`;
        case 'add-ip-address':
        case 'delete-ip-address':
        case 'set-primary-address':
          return `${p.kind}=${p.address}`;
        case 'error-cause-indication':
          return `${p.kind}=${causeList(p.causes)}`;
        case 'unknown':
          return `param-${p.type}`;
        default:
          return p.kind;
      }
    })
    // Parameter order carries no meaning (RFC 9260 §3.2.1).
    .sort()
    .join(' ');
}

function blocks(b: readonly { readonly start: number; readonly end: number }[]): string {
  return b.map((x) => `${x.start}-${x.end}`).join(',');
}

/** The comparison key of one chunk sent by our endpoint to `destination`. */
export function chunkKey(c: Chunk, bases: TsnBases): { key: string; aRwnd?: number } {
  switch (c.kind) {
    case 'data':
      return { key: `DATA ${off(c.tsn, bases.ours)} sid=${c.streamId} ssn=${c.ssn} ppid=${c.ppid} ${c.unordered ? 'U' : ''}${c.beginning ? 'B' : ''}${c.ending ? 'E' : ''}${c.immediate ? 'I' : ''} len=${c.userData.length} #${fnv(c.userData)}` };
    case 'idata':
      return { key: `I-DATA ${off(c.tsn, bases.ours)} sid=${c.streamId} mid=${c.mid} ${c.beginning ? `ppid=${c.ppid}` : `fsn=${c.fsn}`} ${c.unordered ? 'U' : ''}${c.beginning ? 'B' : ''}${c.ending ? 'E' : ''} len=${c.userData.length} #${fnv(c.userData)}` };
    case 'init':
    case 'init-ack':
      return { key: `${c.kind.toUpperCase()} os=${c.outboundStreams} mis=${c.inboundStreams} [${params(c.params)}]`, aRwnd: c.aRwnd };
    case 'sack':
      return { key: `SACK cum=${off(c.cumulativeTsnAck, bases.peer - 1)} gaps=[${blocks(c.gapBlocks)}] dups=[${c.duplicateTsns.map((t) => off(t, bases.peer)).join(',')}]`, aRwnd: c.aRwnd };
    case 'nr-sack':
      return { key: `NR-SACK cum=${off(c.cumulativeTsnAck, bases.peer - 1)} gaps=[${blocks(c.gapBlocks)}] nr=[${blocks(c.nrGapBlocks)}] dups=[${c.duplicateTsns.map((t) => off(t, bases.peer)).join(',')}]`, aRwnd: c.aRwnd };
    case 'shutdown':
      return { key: `SHUTDOWN cum=${off(c.cumulativeTsnAck, bases.peer - 1)}` };
    case 'abort':
      return { key: `ABORT${c.tBit ? ' T' : ''} [${causeList(c.causes)}]` };
    case 'shutdown-complete':
      return { key: `SHUTDOWN-COMPLETE${c.tBit ? ' T' : ''}` };
    case 'error':
      return { key: `ERROR [${causeList(c.causes)}]` };
    case 'auth':
      return { key: `AUTH key=${c.sharedKeyId} hmac=${c.hmacId}` };
    case 'asconf':
      return { key: `ASCONF ${off(c.serial, bases.ours)} addr=${c.address} [${params(c.params)}]` };
    case 'asconf-ack':
      return { key: `ASCONF-ACK ${off(c.serial, bases.peer)} [${params(c.params)}]` };
    case 'forward-tsn':
      return { key: `FORWARD-TSN ${off(c.newCumulativeTsn, bases.ours - 1)} [${c.streams.map((s) => `${s.streamId}:${s.ssn}`).join(',')}]` };
    case 'i-forward-tsn':
      return { key: `I-FORWARD-TSN ${off(c.newCumulativeTsn, bases.ours - 1)}` };
    case 'ecne':
      return { key: `ECNE ${off(c.lowestTsn, bases.peer)}` };
    case 'cwr':
      return { key: `CWR ${off(c.lowestTsn, bases.ours)}` };
    case 're-config':
      return { key: `RE-CONFIG [${params(c.params)}]` };
    case 'pad':
      return { key: `PAD ${c.length}` };
    case 'unknown':
      return { key: `CHUNK-${c.type} flags=${c.flags} len=${c.value.length}` };
    case 'heartbeat':
    case 'heartbeat-ack':
    case 'cookie-echo':
    case 'cookie-ack':
    case 'shutdown-ack':
      // Heartbeat Info and the State Cookie are the sender's own opaque (random, MACed) bytes.
      return { key: c.kind.toUpperCase() };
  }
}

export type DivergenceKind = 'missing' | 'extra' | 'a_rwnd' | 'time';

export interface Divergence {
  readonly kind: DivergenceKind;
  /** Captured frame of the expected chunk; for 'extra': the last captured frame fed in before it. */
  readonly frame: number;
  /** Milliseconds since the start of the association. */
  readonly time: number;
  readonly expected?: string;
  readonly actual?: string;
  readonly detail?: string;
}

export interface CompareOptions {
  /** Bytes a_rwnd may differ by; Infinity ignores a_rwnd. */
  readonly rwndTolerance: number;
  /** Milliseconds a chunk may leave earlier or later than in the capture. */
  readonly timeTolerance: number;
}

export interface Comparison {
  readonly matched: number;
  readonly divergences: Divergence[];
}

/**
 * Matches every captured chunk with the first re-executed chunk of the same
 * key not yet matched that left within `timeTolerance` of it: the order of
 * chunks a few milliseconds apart depends on the scheduling of the live run
 * (when its application and its timers ran), not on the protocol. Chunks
 * still unmatched are paired by key regardless of time ('time': left
 * earlier or later), and the rest are 'missing' (captured, not re-executed)
 * or 'extra'. Both lists are in time order; the cost is linear in their
 * length times the chunks within the tolerance.
 */
export function compareChunks(expected: readonly NormalChunk[], actual: readonly NormalChunk[], o: CompareOptions): Comparison {
  const out: Divergence[] = [];
  const used = new Uint8Array(actual.length);
  const pending: number[] = [];
  let matched = 0;
  let lo = 0;
  const rwnd = (e: NormalChunk, a: NormalChunk): void => {
    if (e.aRwnd !== undefined && a.aRwnd !== undefined && Math.abs(e.aRwnd - a.aRwnd) > o.rwndTolerance) {
      out.push({ kind: 'a_rwnd', frame: e.frame, time: e.time, expected: `${e.key} a_rwnd=${e.aRwnd}`, actual: `a_rwnd=${a.aRwnd}`, detail: `a_rwnd ${a.aRwnd}, captured ${e.aRwnd} (${a.aRwnd - e.aRwnd > 0 ? '+' : ''}${a.aRwnd - e.aRwnd} bytes)` });
    }
  };
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    while (lo < actual.length && (used[lo] === 1 || actual[lo]!.time < e.time - o.timeTolerance)) lo++;
    let hit = -1;
    for (let k = lo; k < actual.length && actual[k]!.time <= e.time + o.timeTolerance; k++) {
      if (used[k] === 0 && actual[k]!.key === e.key) {
        hit = k;
        break;
      }
    }
    if (hit < 0) {
      pending.push(i);
      continue;
    }
    used[hit] = 1;
    matched++;
    rwnd(e, actual[hit]!);
  }
  // Same chunk, another time.
  const byKey = new Map<string, number[]>();
  for (let k = 0; k < actual.length; k++) {
    if (used[k] === 1) continue;
    const key = actual[k]!.key;
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [k]);
    else list.push(k);
  }
  const head = new Map<string, number>();
  for (const i of pending) {
    const e = expected[i]!;
    const list = byKey.get(e.key);
    const h = head.get(e.key) ?? 0;
    if (list === undefined || h >= list.length) {
      out.push({ kind: 'missing', frame: e.frame, time: e.time, expected: e.key });
      continue;
    }
    head.set(e.key, h + 1);
    const a = actual[list[h]!]!;
    used[list[h]!] = 1;
    out.push({ kind: 'time', frame: e.frame, time: e.time, expected: e.key, detail: `sent ${Math.abs(a.time - e.time).toFixed(1)} ms ${a.time > e.time ? 'later' : 'earlier'} than captured` });
    rwnd(e, a);
  }
  for (let k = 0; k < actual.length; k++) {
    const a = actual[k]!;
    if (used[k] === 0) out.push({ kind: 'extra', frame: a.frame, time: a.time, actual: a.key });
  }
  out.sort((x, y) => x.time - y.time || x.frame - y.frame);
  return { matched, divergences: out };
}
