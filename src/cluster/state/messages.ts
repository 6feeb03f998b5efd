/**
 * What cluster nodes say to each other (DESIGN.md §4). Replication is a log
 * of the core's inputs: the core is deterministic, so a standby that applies
 * the same inputs at the same `now` with the same entropy holds the same TCB.
 * A joining standby first gets the whole endpoint (full sync), then records.
 *
 * Every message carries the sender's epoch; a node never acts on a message
 * from an older epoch (fencing). Authentication (HMAC over the shared key)
 * and versioning are the frame's job (frame.ts).
 */
import type { Millis } from '../../core/env.js';
import type { ConnectOptions } from '../../core/endpoint.js';
import type { SendOptions } from '../../core/association/association.js';
import { decodePlain, encodePlain } from './plain-codec.js';

/** One input of the core, as the log carries it. */
export type Op =
  | { readonly op: 'packet'; readonly source: string; readonly destination: string; readonly bytes: Uint8Array }
  | { readonly op: 'timeout' }
  | { readonly op: 'connect'; readonly options: ConnectOptions }
  | { readonly op: 'send'; readonly assocId: number; readonly data: Uint8Array; readonly options: SendOptions }
  | { readonly op: 'shutdown'; readonly assocId: number }
  | { readonly op: 'abort'; readonly assocId: number; readonly reason?: Uint8Array }
  | { readonly op: 'set-primary'; readonly assocId: number; readonly address: string }
  /** ASCONF Set Primary Address (RFC 5061): ask the peer to send to `address` of ours. */
  | { readonly op: 'request-peer-primary'; readonly assocId: number; readonly address: string }
  /**
   * The application is done with deliveries up to `delivery` (cumulative) of
   * an association, and (optionally) its own state after them: what a
   * promoted standby hands its application with the uncommitted messages.
   */
  | { readonly op: 'commit'; readonly assocId: number; readonly delivery: number; readonly appState?: Uint8Array }
  | { readonly op: 'rotate-cookie' }
  /** A takeover: what the old primary sent and the peer has not acknowledged goes again now (Endpoint.retransmitOutstanding). */
  | { readonly op: 'retransmit-outstanding'; readonly assocId: number }
  /**
   * RFC 5061 Add IP Address: `address` becomes one of the endpoint's (new
   * associations list it) and, with ASCONF, of every association that
   * negotiated ADD-IP and does not list it yet.
   */
  | { readonly op: 'add-local-address'; readonly address: string };

/** One replicated input step: the ops applied at `now`, and the entropy they drew. */
export interface LogRecord {
  readonly seq: number;
  readonly now: Millis;
  readonly ops: readonly Op[];
  readonly entropy: Uint8Array;
}

/** A delivered message the application has not committed yet. */
export interface Delivery {
  readonly delivery: number;
  readonly streamId: number;
  readonly ppid: number;
  readonly unordered: boolean;
  readonly data: Uint8Array;
}

/** Per association, what lives beside the TCB: delivery numbering, uncommitted messages, the application's state. */
export interface AppLedger {
  /** Number of the last message delivered. */
  delivered: number;
  committed: number;
  uncommitted: Delivery[];
  appState: Uint8Array | undefined;
}

export type Role = 'primary' | 'standby';

export type ClusterMessage =
  /** Sent on link up and with every heartbeat: who I am, my role, my epoch. */
  | {
      readonly t: 'hello';
      readonly epoch: number;
      readonly node: string;
      readonly role: Role;
      readonly appliedSeq: number;
      readonly sentAt: Millis;
      /**
       * From a primary: how it protects its associations. `unprotected` tells a standby that
       * the primary no longer holds its output for it, so its copy may lag (repeated every
       * heartbeat, so a lost message does not matter).
       */
      readonly protection?: 'unprotected' | 'joining' | 'in-sync';
      /** From a node that handed the primary role over at this record and waits for the other to take it. */
      readonly handoverSeq?: number;
      /** The SCTP addresses the sender holds: a primary adds a joining standby's to associations that lack them (ASCONF Add IP). */
      readonly addresses?: readonly string[];
    }
  | { readonly t: 'hello-ack'; readonly epoch: number; readonly node: string; readonly echo: Millis }
  /** The whole endpoint at `seq` (endpoint state + ledgers), plain-encoded. */
  /**
   * `sync` numbers the full syncs of a primary: records, acks, digests and the
   * in-sync declaration carry it, so that nothing of one sync generation is
   * taken for the next (a record applied before a full sync arrived, an ack
   * of it arriving after).
   */
  | { readonly t: 'full-sync'; readonly epoch: number; readonly sync: number; readonly seq: number; readonly now: Millis; readonly state: Uint8Array }
  | { readonly t: 'records'; readonly epoch: number; readonly sync: number; readonly records: readonly LogRecord[] }
  /** Cumulative: every record up to `seq` is applied. */
  | { readonly t: 'ack'; readonly epoch: number; readonly sync: number; readonly seq: number }
  /** The primary declares the standby in sync from `seq` on: it may take over. */
  | { readonly t: 'in-sync'; readonly epoch: number; readonly sync: number; readonly seq: number }
  /** Digest of the whole replicated state after `seq`. */
  | { readonly t: 'digest'; readonly epoch: number; readonly sync: number; readonly seq: number; readonly digest: number }
  /** The standby found drift (or a gap it cannot fill) and asks for a full sync. */
  | { readonly t: 'resync'; readonly epoch: number; readonly reason: string }
  /** A packet that reached the standby's address, for the primary to process. */
  | { readonly t: 'forward'; readonly epoch: number; readonly source: string; readonly destination: string; readonly bytes: Uint8Array }
  /** Planned switchover: the primary stopped and asks the standby to take over at `seq`. */
  | { readonly t: 'handover'; readonly epoch: number; readonly seq: number };

const TYPES = new Set(['hello', 'hello-ack', 'full-sync', 'records', 'ack', 'in-sync', 'digest', 'resync', 'forward', 'handover']);

export function encodeMessage(m: ClusterMessage): Uint8Array {
  return encodePlain(m);
}

export type MessageResult = { readonly ok: true; readonly message: ClusterMessage } | { readonly ok: false; readonly error: string };

/** Never throws. Checks the shape a peer node could get wrong; the frame MAC already vouches for the sender. */
export function decodeMessage(bytes: Uint8Array): MessageResult {
  const r = decodePlain(bytes);
  if (!r.ok) return { ok: false, error: r.error };
  const m = r.value as Record<string, unknown> | null;
  if (m === null || typeof m !== 'object' || typeof m.t !== 'string' || !TYPES.has(m.t)) return { ok: false, error: 'not a cluster message' };
  if (typeof m.epoch !== 'number' || !Number.isInteger(m.epoch) || m.epoch < 0) return { ok: false, error: 'bad epoch' };
  if (m.t === 'records' && !Array.isArray(m.records)) return { ok: false, error: 'records is not a list' };
  if ((m.t === 'full-sync' || m.t === 'forward') && !(m.state instanceof Uint8Array || m.bytes instanceof Uint8Array)) return { ok: false, error: 'missing bytes' };
  return { ok: true, message: m as unknown as ClusterMessage };
}
