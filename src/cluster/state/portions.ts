/**
 * Checkpoint portions (issue #7 part 1): a checkpoint of the replicated
 * endpoint (`Replica.exportCheckpoint`) split into one portion per module,
 * each keyed by a connection identifier and stored apart by
 * `hasctp checkpointd`, so a node sends only the modules whose part changed
 * (a state change, a new TSN, a path change), not the whole TCB every time.
 *
 * Per association (connection `connectionId(a)`):
 *
 * - `core`: the association and its TCB (state machine, timers, tags, TSNs,
 *   retransmission queue, SACK tracker, unordered reassembly, AUTH/ASCONF
 *   state, counters) with its paths and its per-stream state taken out; in
 *   their place it lists the path portion keys and the stream ids, in their
 *   order, so the recombined TCB is the same value down to Map iteration
 *   order (the plain encoding, and so digests and replay, depend on it).
 * - `path/<peer address>`: one portion per destination (RFC 9260 §14.3:
 *   RTO/SRTT, cwnd/ssthresh, error counter, state, heartbeat).
 * - `stream/<id>`: one portion per stream id, holding both directions: the
 *   outbound next SSN and the messages waiting on that stream, and the
 *   inbound next SSN with the ordered fragments held for it. Per stream
 *   rather than per direction: a direction is all streams of one side, so a
 *   message on stream 7 would re-send the state of every other stream with
 *   it; per stream, a signaling peer with many streams (M3UA by SLS, S1AP by
 *   UE) re-sends only the stream it used. Both directions together: a
 *   request and its answer usually use the same stream id (echo, M3UA), so
 *   one round trip changes one stream portion instead of two. Only streams
 *   that hold state have a portion (the core's Maps create them on use).
 * - `app`: the delivery ledger (numbering, uncommitted messages, the
 *   application's committed state), when the association has one.
 *
 * Plus one endpoint-level portion (connection `endpoint`): cookie secrets,
 * the association id counter, endpoint counters, the out-of-the-blue reply
 * budget, and the order of the associations and of the ledgers.
 *
 * Payloads are stored once: with a digest function, every byte string of
 * 64 bytes or more in an association's portions (a queued message, the user
 * data of an outstanding DATA chunk, a fragment held for reassembly, an
 * uncommitted delivery, a cookie) becomes a `data/<digest>` portion of its
 * connection, referenced from where it was. Those bytes never change, so
 * they cross to the server once, when they appear, and are dropped when no
 * portion refers to them any more, instead of riding along with every update
 * of the module that holds them while a message is outstanding. Arrays of
 * objects with the same keys (the retransmission queue's chunks, gap ranges)
 * are stored as a table: the keys once, then one row of values per object.
 *
 * Ledgers of associations that no longer exist are not carried: association
 * ids are never reused and a closed association has nothing to redeliver.
 *
 * Pure: portions are plain-encoded (plain-codec.ts); the digest used to find
 * changed portions is injected (the node passes SHA-256).
 */
import type { EndpointState } from '../../core/endpoint.js';
import type { Millis } from '../../core/env.js';
import type { Association } from '../../core/association/types.js';
import type { AppLedger } from './messages.js';
import { decodePlain, encodePlain } from './plain-codec.js';

/** The connection id of the endpoint-level portion (connection ids of associations start with a digit). */
export const ENDPOINT_CONN = 'endpoint';
export const CORE = 'core';
export const APP = 'app';
export const ENDPOINT = 'endpoint';
const PATH = 'path/';
const STREAM = 'stream/';

/** What `Replica.exportCheckpoint` returns and `importCheckpoint` takes. */
export interface Checkpoint {
  readonly seq: number;
  readonly now: Millis;
  readonly endpoint: EndpointState;
  readonly ledgers: readonly [number, AppLedger][];
}

export interface Portion {
  /** Connection identifier (`connectionId`), or ENDPOINT_CONN. */
  readonly conn: string;
  /** `core`, `path/<address>`, `stream/<id>`, `app`, or `endpoint`. */
  readonly key: string;
  readonly bytes: Uint8Array;
}

export interface PortionRef {
  readonly conn: string;
  readonly key: string;
}

export interface SplitCheckpoint {
  readonly seq: number;
  readonly now: Millis;
  readonly portions: readonly Portion[];
}

type Obj = Record<string, unknown>;

function hex32(n: unknown): string {
  return (typeof n === 'number' ? n >>> 0 : 0).toString(16).padStart(8, '0');
}

function bracket(address: string | undefined): string {
  if (address === undefined) return '-';
  return address.includes(':') ? `[${address}]` : address;
}

function tagsOf(a: Association): { local: number; peer: number } {
  const f = a.fsm;
  switch (f.state) {
    case 'cookie-wait':
      return { local: f.init.initiateTag, peer: 0 };
    case 'closed':
      return { local: 0, peer: 0 };
    default:
      return { local: f.tcb.localTag, peer: f.tcb.peerTag };
  }
}

/**
 * `<local port>-<first peer address>:<peer port>-<local tag>-<peer tag>`
 * (tags in hex; the peer tag is 00000000 until the INIT ACK gives it). A
 * peer restart (new tags) or a peer's first address deleted by ASCONF makes
 * a new identifier: the old connection is dropped and the new one sent whole.
 */
export function connectionId(a: Association): string {
  const t = tagsOf(a);
  return `${a.localPort}-${bracket(a.peerAddresses[0])}:${a.peerPort}-${hex32(t.local)}-${hex32(t.peer)}`;
}

interface StreamPart {
  queued?: unknown;
  nextSsn?: unknown;
  inbound?: unknown;
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set) && !(v instanceof Uint8Array);
}

function tcbOfPlain(a: Obj): Obj | undefined {
  const fsm = a['fsm'];
  if (!isObj(fsm)) return undefined;
  const tcb = fsm['tcb'];
  return isObj(tcb) ? tcb : undefined;
}


/** Byte strings at least this long are stored apart, once (`data/<digest>`). */
export const BLOB_MIN = 64;
const DATA = 'data/';
const REF = '$data';
const TABLE = '$table';

const isPlainObject = (v: unknown): v is Obj => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The value as stored: byte strings of BLOB_MIN bytes or more replaced by a
 * reference (`{ $data: key }`, the bytes go to `blobs`), arrays of objects
 * with the same keys as `{ $table: keys, rows }`. The input is not modified.
 */
function pack(v: unknown, blobs: Map<string, Uint8Array> | undefined, digest: ((b: Uint8Array) => string) | undefined, depth = 0): unknown {
  if (v === null || typeof v !== 'object' || depth > 80) return v;
  if (v instanceof Uint8Array) {
    if (!blobs || !digest || v.length < BLOB_MIN) return v;
    // 22 characters of the digest (128 bits of SHA-256 in base64) name the bytes.
    const key = `${DATA}${digest(v).slice(0, 22)}`;
    if (!blobs.has(key)) blobs.set(key, v);
    return { [REF]: key };
  }
  if (Array.isArray(v)) {
    const first = v[0] as unknown;
    if (v.length >= 2 && isPlainObject(first)) {
      const keys = Object.keys(first);
      if (v.every((x) => isPlainObject(x) && sameKeys(Object.keys(x), keys))) {
        return { [TABLE]: keys, rows: v.map((x) => keys.map((k) => pack((x as Obj)[k], blobs, digest, depth + 1))) };
      }
    }
    return v.map((x) => pack(x, blobs, digest, depth + 1));
  }
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, pack(x, blobs, digest, depth + 1)]));
  if (v instanceof Set) return v;
  const out: Obj = {};
  for (const k of Object.keys(v)) out[k] = pack((v as Obj)[k], blobs, digest, depth + 1);
  return out;
}

/** The inverse of `pack`; throws Bad on a reference to a missing blob or a malformed table. */
function unpack(v: unknown, blobs: ReadonlyMap<string, unknown>, depth = 0): unknown {
  need(depth <= 80, 'value nested too deeply');
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array || v instanceof Set) return v;
  if (Array.isArray(v)) return v.map((x) => unpack(x, blobs, depth + 1));
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, unpack(x, blobs, depth + 1)]));
  const o = v as Obj;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === REF) {
    const ref = o[REF];
    const b = typeof ref === 'string' ? blobs.get(ref) : undefined;
    need(b instanceof Uint8Array, `data portion ${String(ref)} missing`);
    return b.slice();
  }
  if (keys.length === 2 && keys[0] === TABLE && keys[1] === 'rows') {
    const cols = o[TABLE];
    const rows = o['rows'];
    need(Array.isArray(cols) && cols.every(isStr) && Array.isArray(rows), 'malformed table');
    return rows.map((row: unknown) => {
      need(Array.isArray(row) && row.length === cols.length, 'malformed table row');
      const x: Obj = {};
      for (let i = 0; i < cols.length; i++) x[cols[i]!] = unpack(row[i], blobs, depth + 1);
      return x;
    });
  }
  const out: Obj = {};
  for (const k of keys) out[k] = unpack(o[k], blobs, depth + 1);
  return out;
}

function splitAssociation(a: Association, ledger: AppLedger | undefined, conn: string, out: Portion[], digest: ((b: Uint8Array) => string) | undefined): void {
  const blobs = digest ? new Map<string, Uint8Array>() : undefined;
  const encode = (v: unknown): Uint8Array => encodePlain(pack(v, blobs, digest));
  const tcb = tcbOfPlain(a as unknown as Obj);
  if (tcb === undefined) {
    out.push({ conn, key: CORE, bytes: encode(a) });
    if (ledger !== undefined) out.push({ conn, key: APP, bytes: encode(ledger) });
    for (const [key, bytes] of blobs ?? []) out.push({ conn, key, bytes });
    return;
  }
  const paths = tcb['paths'] as readonly { address: string }[];
  const pathKeys: string[] = [];
  const pathPortions: Portion[] = [];
  for (let i = 0; i < paths.length; i++) {
    let key = `${PATH}${paths[i]!.address}`;
    if (pathKeys.includes(key)) key = `${key}#${i}`;
    pathKeys.push(key);
    pathPortions.push({ conn, key, bytes: encode(paths[i]) });
  }
  const sq = tcb['sq'] as Obj;
  const reasm = tcb['reasm'] as Obj;
  const queued = sq['streams'] as Map<number, unknown>;
  const nextSsn = sq['nextSsn'] as Map<number, unknown>;
  const inbound = reasm['streams'] as Map<number, unknown>;
  const streams = new Map<number, StreamPart>();
  const part = (id: number): StreamPart => {
    let p = streams.get(id);
    if (!p) streams.set(id, (p = {}));
    return p;
  };
  for (const [id, v] of nextSsn) part(id).nextSsn = v;
  for (const [id, v] of queued) part(id).queued = v;
  for (const [id, v] of inbound) part(id).inbound = v;
  const coreTcb = {
    ...tcb,
    paths: pathKeys,
    sq: { ...sq, streams: [...queued.keys()], nextSsn: [...nextSsn.keys()] },
    reasm: { ...reasm, streams: [...inbound.keys()] },
  };
  const core = { ...a, fsm: { ...a.fsm, tcb: coreTcb } };
  out.push({ conn, key: CORE, bytes: encode(core) });
  out.push(...pathPortions);
  for (const id of [...streams.keys()].sort((x, y) => x - y)) out.push({ conn, key: `${STREAM}${id}`, bytes: encode(streams.get(id)) });
  if (ledger !== undefined) out.push({ conn, key: APP, bytes: encode(ledger) });
  for (const [key, bytes] of blobs ?? []) out.push({ conn, key, bytes });
}

/**
 * Splits a checkpoint into portions: the endpoint portion first, then each
 * association's core, paths, streams, ledger and (with `digest`) payloads.
 * Take the checkpoint between inputs (as `exportCheckpoint` says); the value
 * is not modified.
 */
export function splitCheckpoint(c: Checkpoint, digest?: (bytes: Uint8Array) => string): SplitCheckpoint {
  const out: Portion[] = [];
  const conns = new Map<number, string>();
  const used = new Set<string>([ENDPOINT_CONN]);
  for (const a of c.endpoint.associations) {
    let conn = connectionId(a);
    // Two associations with the same ports, first address and tags cannot both be live; keep them apart anyway.
    if (used.has(conn)) conn = `${conn}~${a.id}`;
    used.add(conn);
    conns.set(a.id, conn);
  }
  const ledgerOrder = c.ledgers.filter(([id]) => conns.has(id)).map(([id]) => id);
  const endpoint = { ...c.endpoint, associations: c.endpoint.associations.map((a) => a.id), ledgerOrder };
  out.push({ conn: ENDPOINT_CONN, key: ENDPOINT, bytes: encodePlain(endpoint) });
  const ledgers = new Map(c.ledgers);
  for (const a of c.endpoint.associations) {
    splitAssociation(a, ledgers.get(a.id), conns.get(a.id)!, out, digest);
  }
  return { seq: c.seq, now: c.now, portions: out };
}

// ------------------------------------------------------------------ recombine

export type RecombineResult =
  | {
      readonly ok: true;
      readonly checkpoint: Checkpoint;
      /** Connections stored that the endpoint portion does not list (left out). */
      readonly ignored: readonly string[];
    }
  | { readonly ok: false; readonly error: string };

class Bad extends Error {}

function need(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Bad(what);
}

function keyList<T>(v: unknown, what: string, check: (x: unknown) => x is T): T[] {
  need(Array.isArray(v) && v.every(check), `${what}: not a list of keys`);
  return v as T[];
}
const isStr = (x: unknown): x is string => typeof x === 'string';
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

function recombineAssociation(conn: string, parts: Map<string, unknown>): Obj {
  const core = parts.get(CORE);
  need(isObj(core), `${conn}: no core portion`);
  need(isInt(core['id']), `${conn}: core has no association id`);
  need(isObj(core['fsm']) && typeof core['fsm']['state'] === 'string', `${conn}: core has no state`);
  need(Array.isArray(core['peerAddresses']), `${conn}: core has no peer addresses`);
  const tcb = tcbOfPlain(core);
  if (tcb === undefined) return core;
  const pathKeys = keyList(tcb['paths'], `${conn} paths`, isStr);
  const paths = pathKeys.map((k) => {
    const p = parts.get(k);
    need(isObj(p), `${conn}: path portion ${k} missing`);
    return p;
  });
  const sq = tcb['sq'];
  const reasm = tcb['reasm'];
  need(isObj(sq) && isObj(reasm), `${conn}: core has no stream queues`);
  const stream = (id: number): Obj => {
    const s = parts.get(`${STREAM}${id}`);
    need(isObj(s), `${conn}: stream portion ${id} missing`);
    return s;
  };
  const field = (id: number, name: keyof StreamPart): unknown => {
    const s = stream(id);
    need(name in s, `${conn}: stream portion ${id} lacks ${name}`);
    return s[name];
  };
  const queued = new Map(keyList(sq['streams'], `${conn} queued streams`, isInt).map((id) => [id, field(id, 'queued')]));
  const nextSsn = new Map(keyList(sq['nextSsn'], `${conn} outbound streams`, isInt).map((id) => [id, field(id, 'nextSsn')]));
  const inbound = new Map(keyList(reasm['streams'], `${conn} inbound streams`, isInt).map((id) => [id, field(id, 'inbound')]));
  const fullTcb = { ...tcb, paths, sq: { ...sq, streams: queued, nextSsn }, reasm: { ...reasm, streams: inbound } };
  return { ...core, fsm: { ...(core['fsm'] as Obj), tcb: fullTcb } };
}

/**
 * Recombines the portions of one node into a checkpoint. Never throws: bytes
 * that do not decode, or portions that do not fit together, give an error
 * naming the connection and portion.
 */
export function recombine(seq: number, now: Millis, portions: readonly Portion[]): RecombineResult {
  try {
    const byConn = new Map<string, Map<string, unknown>>();
    const blobsOf = new Map<string, Map<string, unknown>>();
    for (const p of portions) {
      need(typeof p.conn === 'string' && typeof p.key === 'string' && p.bytes instanceof Uint8Array, 'malformed portion');
      if (p.key.startsWith(DATA)) {
        let b = blobsOf.get(p.conn);
        if (!b) blobsOf.set(p.conn, (b = new Map()));
        b.set(p.key, p.bytes);
        continue;
      }
      const r = decodePlain(p.bytes);
      need(r.ok, `${p.conn} ${p.key}: ${r.ok ? '' : r.error}`);
      let m = byConn.get(p.conn);
      if (!m) byConn.set(p.conn, (m = new Map()));
      m.set(p.key, r.value);
    }
    for (const [conn, m] of byConn) {
      const blobs = blobsOf.get(conn) ?? new Map<string, unknown>();
      for (const [key, v] of m) {
        try {
          m.set(key, unpack(v, blobs));
        } catch (e) {
          throw e instanceof Bad ? new Bad(`${conn} ${key}: ${e.message}`) : e;
        }
      }
    }
    const ep = byConn.get(ENDPOINT_CONN)?.get(ENDPOINT);
    need(isObj(ep), 'no endpoint portion');
    const order = keyList(ep['associations'], 'endpoint associations', isInt);
    const ledgerOrder = keyList(ep['ledgerOrder'], 'endpoint ledgers', isInt);
    const assocs = new Map<number, { conn: string; a: Obj; ledger: unknown }>();
    const ignored: string[] = [];
    for (const [conn, parts] of byConn) {
      if (conn === ENDPOINT_CONN) continue;
      const core = parts.get(CORE);
      const id = isObj(core) ? core['id'] : undefined;
      if (!isInt(id) || !order.includes(id)) {
        ignored.push(conn);
        continue;
      }
      need(!assocs.has(id), `association ${id} stored under two connections`);
      assocs.set(id, { conn, a: recombineAssociation(conn, parts), ledger: parts.get(APP) });
    }
    const associations = order.map((id) => {
      const x = assocs.get(id);
      need(x !== undefined, `association ${id}: its connection is missing`);
      return x.a;
    });
    const ledgers: [number, AppLedger][] = ledgerOrder.map((id) => {
      const x = assocs.get(id);
      need(x !== undefined && isObj(x.ledger), `association ${id}: its app portion is missing`);
      const l = x.ledger;
      need(isInt(l['delivered']) && isInt(l['committed']) && Array.isArray(l['uncommitted']), `${x.conn} app: not a ledger`);
      return [id, l as unknown as AppLedger];
    });
    const { ledgerOrder: _ledgerOrder, ...rest } = ep;
    const endpoint = { ...rest, associations } as unknown as EndpointState;
    need(endpoint.version === 1 && isInt(endpoint.port), 'endpoint: unknown version');
    return { ok: true, checkpoint: { seq, now, endpoint, ledgers }, ignored };
  } catch (e) {
    return { ok: false, error: e instanceof Bad ? e.message : `unexpected: ${String(e)}` };
  }
}

// ------------------------------------------------------------------ diff

/** What the server holds, as the node last sent it: connection → portion key → digest. */
export type PortionDigests = ReadonlyMap<string, ReadonlyMap<string, string>>;

export interface PortionDiff {
  /** New or changed portions. */
  readonly put: readonly Portion[];
  /** Portions gone from connections that remain (a path removed, a ledger dropped). */
  readonly drop: readonly PortionRef[];
  /** Connections that disappeared (closed associations, or an identifier that changed). */
  readonly dropConns: readonly string[];
  /** The digests after this diff is applied: the `prev` of the next one. */
  readonly next: PortionDigests;
}

/**
 * Which portions changed since `prev` (the digests last sent), and which
 * connections and portions disappeared. `prev` is not modified.
 */
export function diffPortions(prev: PortionDigests, portions: readonly Portion[], digest: (bytes: Uint8Array) => string): PortionDiff {
  const next = new Map<string, Map<string, string>>();
  const put: Portion[] = [];
  for (const p of portions) {
    const d = digest(p.bytes);
    let m = next.get(p.conn);
    if (!m) next.set(p.conn, (m = new Map()));
    m.set(p.key, d);
    if (prev.get(p.conn)?.get(p.key) !== d) put.push(p);
  }
  const drop: PortionRef[] = [];
  const dropConns: string[] = [];
  for (const [conn, keys] of prev) {
    const now = next.get(conn);
    if (!now) {
      dropConns.push(conn);
      continue;
    }
    for (const key of keys.keys()) if (!now.has(key)) drop.push({ conn, key });
  }
  return { put, drop, dropConns, next };
}

/** Digests of portions as they are (e.g. what a fetch returned: the server holds exactly these). */
export function digestsOf(portions: readonly Portion[], digest: (bytes: Uint8Array) => string): PortionDigests {
  return diffPortions(new Map(), portions, digest).next;
}
