/**
 * A node's side of the checkpoint protocol (issue #7 part 1), sans-IO: what
 * to send to `hasctp checkpointd` after each step of the Replica, and what a
 * reply means for it. The driver (src/cluster/checkpoint/client.ts, or the
 * simulator) moves the messages and calls in with `now`.
 *
 * - After a (re)connect, a promotion or a refusal, the whole state goes
 *   (`full`); after that only the portions whose digest changed, plus the
 *   connections and portions that disappeared (portions.ts), tagged with the
 *   record seq they bring the store to and based on the previous update's.
 * - `sync` mode: the Replica's external gate is on while the server takes
 *   updates, so a datagram produced at record n leaves only once the server
 *   acknowledged n (a restarted process then never knows less than the peer
 *   saw). The server unreachable, a refusal, or an update unacknowledged for
 *   `ackTimeout`: the gate goes off at once (output never stalls), the node
 *   says `unprotected` (a notice and a counter), and tries again with a full
 *   update after a backoff (refusal) or on the next connection. After a
 *   refusal or a timeout the gate returns only with the first acknowledgement
 *   of that full update, so a server that accepts connections but does not
 *   answer holds the output once (`ackTimeout`), not again on every retry.
 * - `async` mode: the gate stays off; checkpoints trail the output, so a
 *   restart may lose the last messages (and reuse TSNs the peer saw).
 */
import type { Millis } from '../../core/env.js';
import type { CheckpointReply, CheckpointUpdate, PortionTuple } from './checkpoint-messages.js';
import { diffPortions, digestsOf, recombine, splitCheckpoint, type Portion, type PortionDigests } from './portions.js';
import type { Replica } from './replica.js';

export type CheckpointMode = 'sync' | 'async';

/** `protected`: the server holds the state (sync: before any output leaves). */
export type CheckpointProtection = 'protected' | 'unprotected';

export interface CheckpointSessionOptions {
  readonly node: string;
  readonly mode: CheckpointMode;
  /** Digest of a portion's bytes (the node passes SHA-256): equal digests, unchanged portion. */
  readonly digest: (bytes: Uint8Array) => string;
  /** An update unacknowledged this long makes the node unprotected; the driver reconnects (default 2000 ms). */
  readonly ackTimeout?: Millis;
  /** First retry after a refusal; doubles up to `maxRetryAfter` (defaults 500 ms, 30 s). */
  readonly retryAfter?: Millis;
  readonly maxRetryAfter?: Millis;
}

export interface CheckpointCounters {
  updates: number;
  fullUpdates: number;
  portionsSent: number;
  /** Portion bytes sent (data only, without framing). */
  bytesSent: number;
  acks: number;
  refusals: number;
  /** Times the node became unprotected (disconnect, refusal, timeout). */
  unprotected: number;
  restores: number;
  restoredAssociations: number;
}

export interface CheckpointNotice {
  readonly protection: CheckpointProtection;
  readonly reason: string;
}

export type RestoreResult =
  | { readonly ok: true; readonly seq: number; readonly associations: number; readonly ignored: readonly string[] }
  | { readonly ok: false; readonly error: string };

export class CheckpointSession {
  readonly counters: CheckpointCounters = { updates: 0, fullUpdates: 0, portionsSent: 0, bytesSent: 0, acks: 0, refusals: 0, unprotected: 0, restores: 0, restoredAssociations: 0 };
  private readonly ackTimeout: Millis;
  private readonly retryMin: Millis;
  private readonly retryMax: Millis;
  private connectedNow = false;
  private protection: CheckpointProtection = 'unprotected';
  private why = 'not connected to the checkpoint server yet';
  private needFull = true;
  private gen = 0;
  private digests: PortionDigests = new Map();
  private lastSentSeq = 0;
  private ackedSeq = 0;
  private readonly outstanding: { readonly seq: number; readonly sentAt: Millis }[] = [];
  private retryAt: Millis | undefined;
  private backoff: Millis;
  private wasPrimary = false;
  /**
   * After a refusal or an acknowledgement timeout the gate comes back only
   * with the first acknowledgement of the next whole state: a server that
   * accepts connections but does not answer (stopped, overloaded) must not
   * hold the output again and again.
   */
  private gateOnAck = false;
  /** Why the node is unprotected, kept while it tries again. */
  private lastFailure: string | undefined;
  private readonly notices: CheckpointNotice[] = [];

  constructor(private readonly o: CheckpointSessionOptions) {
    this.ackTimeout = o.ackTimeout ?? 2000;
    this.retryMin = o.retryAfter ?? 500;
    this.retryMax = o.maxRetryAfter ?? 30_000;
    this.backoff = this.retryMin;
  }

  get state(): CheckpointProtection {
    return this.protection;
  }
  get reason(): string {
    return this.why;
  }
  get connected(): boolean {
    return this.connectedNow;
  }
  get acknowledgedSeq(): number {
    return this.ackedSeq;
  }
  get unacknowledged(): number {
    return this.outstanding.length;
  }

  pollNotice(): CheckpointNotice | undefined {
    return this.notices.shift();
  }

  /**
   * A restarted process continues from what the server held: recombine the
   * portions and import them (before the node opens for traffic). Never
   * throws: undecodable or inconsistent portions give an error.
   */
  restore(replica: Replica, localNow: Millis, fetched: { readonly seq: number; readonly now: Millis; readonly portions: readonly PortionTuple[] }): RestoreResult {
    if (fetched.portions.length === 0) return { ok: true, seq: 0, associations: 0, ignored: [] };
    const portions: Portion[] = fetched.portions.map(([conn, key, bytes]) => ({ conn, key, bytes }));
    const r = recombine(fetched.seq, fetched.now, portions);
    if (!r.ok) return { ok: false, error: r.error };
    let imported: boolean;
    try {
      imported = replica.importCheckpoint(localNow, r.checkpoint);
    } catch (e) {
      return { ok: false, error: `the endpoint refused the recombined state: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (!imported) return { ok: false, error: `the stored endpoint is for another port (${r.checkpoint.endpoint.port}) or version` };
    this.counters.restores++;
    this.counters.restoredAssociations += r.checkpoint.endpoint.associations.length;
    this.ackedSeq = fetched.seq;
    return { ok: true, seq: fetched.seq, associations: r.checkpoint.endpoint.associations.length, ignored: r.ignored };
  }

  /** The connection to the server is up: the next update is the whole state. */
  connectedTo(replica: Replica, _localNow: Millis): void {
    this.connectedNow = true;
    this.needFull = true;
    this.retryAt = undefined;
    this.outstanding.length = 0;
    this.say('connected; sending the whole state');
    // Output from now on waits for the server (the whole state goes with the next update).
    if (this.o.mode === 'sync' && !this.gateOnAck) replica.setExternalGate(true);
  }

  /** The connection went down (or never came up): unprotected until it returns. */
  disconnected(replica: Replica, reason: string): void {
    this.connectedNow = false;
    this.unprotect(replica, reason);
  }

  /** The update to send now, if the Replica applied records since the last one (or the whole state is due). */
  pollUpdate(replica: Replica, localNow: Millis): CheckpointUpdate | undefined {
    const primary = replica.currentRole === 'primary';
    if (primary && !this.wasPrimary) this.needFull = true;
    this.wasPrimary = primary;
    if (!primary || !this.connectedNow) return undefined;
    if (this.retryAt !== undefined) {
      if (localNow < this.retryAt) return undefined;
      this.retryAt = undefined;
    }
    const seq = replica.appliedSeq;
    if (!this.needFull && seq === this.lastSentSeq) return undefined;
    const split = splitCheckpoint(replica.exportCheckpoint(), this.o.digest);
    const full = this.needFull;
    let put: readonly Portion[];
    let drop: [string, string][] = [];
    let dropConns: readonly string[] = [];
    if (full) {
      put = split.portions;
      this.digests = digestsOf(split.portions, this.o.digest);
      this.gen++;
      this.needFull = false;
      this.outstanding.length = 0;
      this.counters.fullUpdates++;
      // From here on no output leaves before the server holds the state that produced it.
      if (this.o.mode === 'sync' && !this.gateOnAck) replica.setExternalGate(true);
      this.say('whole state sent, waiting for the acknowledgement');
    } else {
      const d = diffPortions(this.digests, split.portions, this.o.digest);
      this.digests = d.next;
      put = d.put;
      drop = d.drop.map((r) => [r.conn, r.key] as [string, string]);
      dropConns = d.dropConns;
    }
    const u: CheckpointUpdate = {
      t: 'update',
      node: this.o.node,
      gen: this.gen,
      base: this.lastSentSeq,
      seq,
      now: split.now,
      full,
      put: put.map((p) => [p.conn, p.key, p.bytes] as const),
      drop,
      dropConns,
    };
    this.lastSentSeq = seq;
    this.outstanding.push({ seq, sentAt: localNow });
    this.counters.updates++;
    this.counters.portionsSent += put.length;
    for (const p of put) this.counters.bytesSent += p.bytes.length;
    return u;
  }

  onReply(replica: Replica, localNow: Millis, m: CheckpointReply): void {
    if (m.t === 'ack') {
      if (m.node !== this.o.node) return;
      this.counters.acks++;
      if (m.seq > this.ackedSeq) this.ackedSeq = m.seq;
      replica.ackExternal(m.seq);
      while (this.outstanding.length > 0 && this.outstanding[0]!.seq <= m.seq) this.outstanding.shift();
      // Progress restarts the timeout of the next one.
      if (this.outstanding.length > 0) this.outstanding[0] = { seq: this.outstanding[0]!.seq, sentAt: Math.max(this.outstanding[0]!.sentAt, localNow) };
      if (this.protection !== 'protected' && m.gen === this.gen && this.connectedNow) {
        if (this.gateOnAck && this.o.mode === 'sync') replica.setExternalGate(true);
        this.gateOnAck = false;
        this.lastFailure = undefined;
        this.protection = 'protected';
        this.why = `the server holds record ${m.seq}`;
        this.backoff = this.retryMin;
        this.notices.push({ protection: 'protected', reason: this.why });
      }
      return;
    }
    if (m.t === 'refused') {
      if (m.node !== this.o.node || m.gen < this.gen) return; // a reply to an update before the last full one
      this.counters.refusals++;
      if (this.retryAt !== undefined || this.needFull) return; // already handling a refusal of this generation
      this.unprotect(replica, `the checkpoint server refused record ${m.seq} (${m.code}): ${m.reason}`);
      this.gateOnAck = true;
      this.needFull = true;
      this.retryAt = localNow + this.backoff;
      this.backoff = Math.min(this.retryMax, this.backoff * 2);
    }
  }

  /** When `handleTimeout` has work: a retry due, or an acknowledgement overdue. */
  pollTimeout(): Millis | undefined {
    let t: Millis | undefined = this.retryAt;
    const first = this.outstanding[0];
    if (first && this.connectedNow) t = t === undefined ? first.sentAt + this.ackTimeout : Math.min(t, first.sentAt + this.ackTimeout);
    return t;
  }

  /** 'reconnect': the server stopped acknowledging; the driver should drop the connection and dial again. */
  handleTimeout(replica: Replica, localNow: Millis): 'reconnect' | undefined {
    const first = this.outstanding[0];
    if (first && this.connectedNow && localNow >= first.sentAt + this.ackTimeout) {
      this.outstanding.length = 0;
      this.needFull = true;
      this.gateOnAck = true;
      this.unprotect(replica, `record ${first.seq} unacknowledged for ${localNow - first.sentAt} ms`);
      return 'reconnect';
    }
    return undefined;
  }

  private say(what: string): void {
    this.why = this.lastFailure === undefined ? what : `${this.lastFailure}; ${what}`;
  }

  private unprotect(replica: Replica, reason: string): void {
    // Never stall: the output goes without the server from now on.
    replica.setExternalGate(false);
    this.outstanding.length = 0;
    this.lastFailure = reason;
    this.why = reason;
    if (this.protection === 'unprotected') return;
    this.protection = 'unprotected';
    this.counters.unprotected++;
    this.notices.push({ protection: 'unprotected', reason });
  }
}
