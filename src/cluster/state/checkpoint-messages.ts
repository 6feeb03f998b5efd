/**
 * What a node and `hasctp checkpointd` say to each other (issue #7 part 1),
 * over the same authenticated frames as the cluster link (frame.ts). The
 * encoding is the plain codec; the decoder checks every field a peer could
 * get wrong and never throws.
 *
 * Node → server:
 * - `update`: the portions that changed since the node's previous update
 *   (`base`), tagged with the record `seq` they bring the store to, or the
 *   whole state (`full`) after a (re)connect or a refusal. `gen` counts the
 *   full updates of one node process, so a reply to an update sent before the
 *   last full one is told apart.
 * - `fetch`: every portion of a node (a restarted process continuing).
 * - `list`: what the server holds (`hasctp checkpoints`).
 *
 * Server → node: `ack` (the update is stored, as durably as the server's
 * fsync policy says), `refused` (nothing of it stored: over the memory bound,
 * or not based on what the server holds), `state`, `listing`, `error`.
 */
import { decodePlain, encodePlain } from './plain-codec.js';

/** [connection id, portion key, bytes] */
export type PortionTuple = readonly [conn: string, key: string, bytes: Uint8Array];
/** [connection id, portion key] */
export type PortionRefTuple = readonly [conn: string, key: string];

export interface CheckpointUpdate {
  readonly t: 'update';
  readonly node: string;
  readonly gen: number;
  /** The seq of the node's previous update: the store must be at it (unless `full`). */
  readonly base: number;
  readonly seq: number;
  /** Core time at `seq` (the restarted process resumes its timers from it). */
  readonly now: number;
  /** Replace everything held for this node by `put`. */
  readonly full: boolean;
  readonly put: readonly PortionTuple[];
  readonly drop: readonly PortionRefTuple[];
  readonly dropConns: readonly string[];
}

export type CheckpointRequest =
  | CheckpointUpdate
  | { readonly t: 'fetch'; readonly id: number; readonly node: string }
  | { readonly t: 'list'; readonly id: number };

export interface PortionListing {
  readonly key: string;
  readonly bytes: number;
  /** Record seq of the update that last wrote it. */
  readonly seq: number;
}

export interface ConnectionListing {
  readonly conn: string;
  readonly seq: number;
  /** Wall-clock ms (server) of the last change. */
  readonly updatedAt: number;
  readonly bytes: number;
  readonly portions: readonly PortionListing[];
}

export interface NodeListing {
  readonly node: string;
  readonly seq: number;
  readonly updatedAt: number;
  readonly bytes: number;
  readonly connections: readonly ConnectionListing[];
}

export type RefusalCode = 'over-limit' | 'base-mismatch' | 'bad-update';

export type CheckpointReply =
  | { readonly t: 'ack'; readonly node: string; readonly gen: number; readonly seq: number }
  | { readonly t: 'refused'; readonly node: string; readonly gen: number; readonly seq: number; readonly code: RefusalCode; readonly reason: string }
  | { readonly t: 'state'; readonly id: number; readonly node: string; readonly seq: number; readonly now: number; readonly portions: readonly PortionTuple[] }
  | { readonly t: 'listing'; readonly id: number; readonly at: number; readonly bytes: number; readonly maxBytes: number; readonly nodes: readonly NodeListing[] }
  | { readonly t: 'error'; readonly id?: number; readonly reason: string };

export function encodeCheckpointMessage(m: CheckpointRequest | CheckpointReply): Uint8Array {
  return encodePlain(m);
}

export type Decoded<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly error: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Map) && !(v instanceof Set);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function portionTuples(v: unknown): boolean {
  return Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 3 && isName(p[0]) && isName(p[1]) && p[2] instanceof Uint8Array);
}

function checkRequest(m: Obj): string | undefined {
  switch (m['t']) {
    case 'update':
      if (!isName(m['node'])) return 'update: bad node';
      if (!isSeq(m['gen']) || !isSeq(m['base']) || !isSeq(m['seq'])) return 'update: bad gen/base/seq';
      if (!isTime(m['now'])) return 'update: bad now';
      if (typeof m['full'] !== 'boolean') return 'update: bad full';
      if (!portionTuples(m['put'])) return 'update: bad put';
      if (!Array.isArray(m['drop']) || !m['drop'].every((r) => Array.isArray(r) && r.length === 2 && isName(r[0]) && isName(r[1]))) return 'update: bad drop';
      if (!Array.isArray(m['dropConns']) || !m['dropConns'].every(isName)) return 'update: bad dropConns';
      return undefined;
    case 'fetch':
      return isSeq(m['id']) && isName(m['node']) ? undefined : 'fetch: bad id or node';
    case 'list':
      return isSeq(m['id']) ? undefined : 'list: bad id';
    default:
      return 'not a checkpoint request';
  }
}

function checkReply(m: Obj): string | undefined {
  switch (m['t']) {
    case 'ack':
      return isName(m['node']) && isSeq(m['gen']) && isSeq(m['seq']) ? undefined : 'ack: bad fields';
    case 'refused':
      return isName(m['node']) && isSeq(m['gen']) && isSeq(m['seq']) && typeof m['code'] === 'string' && typeof m['reason'] === 'string' ? undefined : 'refused: bad fields';
    case 'state':
      return isSeq(m['id']) && isName(m['node']) && isSeq(m['seq']) && isTime(m['now']) && portionTuples(m['portions']) ? undefined : 'state: bad fields';
    case 'listing':
      return isSeq(m['id']) && isTime(m['at']) && isSeq(m['bytes']) && isSeq(m['maxBytes']) && Array.isArray(m['nodes']) && m['nodes'].every(isObj) ? undefined : 'listing: bad fields';
    case 'error':
      return typeof m['reason'] === 'string' && (m['id'] === undefined || isSeq(m['id'])) ? undefined : 'error: bad fields';
    default:
      return 'not a checkpoint reply';
  }
}

function decodeWith<T>(bytes: Uint8Array, check: (m: Obj) => string | undefined): Decoded<T> {
  const r = decodePlain(bytes);
  if (!r.ok) return { ok: false, error: r.error };
  if (!isObj(r.value)) return { ok: false, error: 'not a message' };
  const err = check(r.value);
  return err === undefined ? { ok: true, message: r.value as unknown as T } : { ok: false, error: err };
}

/** Never throws. */
export function decodeCheckpointRequest(bytes: Uint8Array): Decoded<CheckpointRequest> {
  return decodeWith(bytes, checkRequest);
}

/** Never throws. */
export function decodeCheckpointReply(bytes: Uint8Array): Decoded<CheckpointReply> {
  return decodeWith(bytes, checkReply);
}
