/**
 * The checkpoint server's store (issue #7 part 1), sans-IO: per node, per
 * connection, per portion, each stored apart; updates apply atomically (all
 * of an update or nothing of it), so what the store holds is always one
 * node's state at one record seq, which recombines.
 *
 * Bounded: every portion, connection and node is charged its bytes plus a
 * fixed overhead; an update that would take the total beyond `maxBytes` is
 * refused whole (the node logs it and says its associations are unprotected).
 * A delta update must be based on the seq the store holds for that node
 * (`base`); otherwise it is refused and the node sends its whole state.
 *
 * The server (src/cluster/checkpoint/server.ts) adds the network and the
 * disk; `exportPlain` / `importPlain` are what its snapshot file holds.
 */
import type { CheckpointUpdate, NodeListing, PortionTuple, RefusalCode } from './checkpoint-messages.js';

const PORTION_OVERHEAD = 48;
const CONN_OVERHEAD = 64;
const NODE_OVERHEAD = 128;

interface StoredPortion {
  readonly bytes: Uint8Array;
  readonly seq: number;
}

interface StoredConn {
  readonly portions: Map<string, StoredPortion>;
  seq: number;
  updatedAt: number;
  bytes: number;
}

interface StoredNode {
  seq: number;
  now: number;
  updatedAt: number;
  conns: Map<string, StoredConn>;
  bytes: number;
}

export type ApplyResult = { readonly ok: true } | { readonly ok: false; readonly code: RefusalCode; readonly reason: string };

function portionCost(conn: string, key: string, bytes: Uint8Array): number {
  return bytes.length + conn.length + key.length + PORTION_OVERHEAD;
}

export class CheckpointStore {
  private readonly nodes = new Map<string, StoredNode>();
  private total = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes charged (data and overheads). */
  get bytes(): number {
    return this.total;
  }

  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  /** The record seq stored for `node` (0: nothing). */
  seqOf(node: string): number {
    return this.nodes.get(node)?.seq ?? 0;
  }

  /**
   * Applies one update, or nothing of it. `at` is the server's wall clock
   * (for the listing's ages); `enforceBound` false on replay from disk.
   */
  apply(u: CheckpointUpdate, at: number, enforceBound = true): ApplyResult {
    const old = this.nodes.get(u.node);
    const oldSeq = old?.seq ?? 0;
    if (!u.full) {
      if (u.base !== oldSeq) return { ok: false, code: 'base-mismatch', reason: `update based on record ${u.base}, the server holds record ${oldSeq} for node ${u.node}` };
      if (u.seq < u.base) return { ok: false, code: 'bad-update', reason: `update seq ${u.seq} is behind its base ${u.base}` };
    }
    const node: StoredNode = {
      seq: u.seq,
      now: u.now,
      updatedAt: at,
      conns: u.full || !old ? new Map() : new Map(old.conns),
      bytes: 0,
    };
    const touched = new Set<string>();
    const writable = (conn: string): StoredConn => {
      let c = node.conns.get(conn);
      if (c && !touched.has(conn)) {
        c = { portions: new Map(c.portions), seq: c.seq, updatedAt: c.updatedAt, bytes: c.bytes };
        node.conns.set(conn, c);
      }
      if (!c) {
        c = { portions: new Map(), seq: u.seq, updatedAt: at, bytes: conn.length + CONN_OVERHEAD };
        node.conns.set(conn, c);
      }
      touched.add(conn);
      c.seq = u.seq;
      c.updatedAt = at;
      return c;
    };
    for (const conn of u.dropConns) node.conns.delete(conn);
    for (const [conn, key] of u.drop) {
      const c = node.conns.get(conn);
      const p = c?.portions.get(key);
      if (!c || !p) continue;
      const w = writable(conn);
      w.portions.delete(key);
      w.bytes -= portionCost(conn, key, p.bytes);
      if (w.portions.size === 0) node.conns.delete(conn);
    }
    for (const [conn, key, bytes] of u.put) {
      const w = writable(conn);
      const p = w.portions.get(key);
      if (p) w.bytes -= portionCost(conn, key, p.bytes);
      w.portions.set(key, { bytes, seq: u.seq });
      w.bytes += portionCost(conn, key, bytes);
    }
    node.bytes = u.node.length + NODE_OVERHEAD;
    for (const c of node.conns.values()) node.bytes += c.bytes;
    const total = this.total - (old?.bytes ?? 0) + node.bytes;
    if (enforceBound && total > this.maxBytes && total > this.total) {
      return { ok: false, code: 'over-limit', reason: `storing record ${u.seq} of node ${u.node} would take the server to ${total} bytes, over its bound of ${this.maxBytes} (--max-bytes)` };
    }
    this.nodes.set(u.node, node);
    this.total = total;
    return { ok: true };
  }

  /** Every portion of `node` (none: seq 0). */
  fetch(node: string): { readonly seq: number; readonly now: number; readonly portions: PortionTuple[] } {
    const n = this.nodes.get(node);
    if (!n) return { seq: 0, now: 0, portions: [] };
    const portions: PortionTuple[] = [];
    for (const [conn, c] of n.conns) for (const [key, p] of c.portions) portions.push([conn, key, p.bytes]);
    return { seq: n.seq, now: n.now, portions };
  }

  /** Forgets a node (nothing of it is kept). */
  remove(node: string): boolean {
    const n = this.nodes.get(node);
    if (!n) return false;
    this.total -= n.bytes;
    this.nodes.delete(node);
    return true;
  }

  list(): NodeListing[] {
    return [...this.nodes].map(([node, n]) => ({
      node,
      seq: n.seq,
      updatedAt: n.updatedAt,
      bytes: n.bytes,
      connections: [...n.conns].map(([conn, c]) => ({
        conn,
        seq: c.seq,
        updatedAt: c.updatedAt,
        bytes: c.bytes,
        portions: [...c.portions].map(([key, p]) => ({ key, bytes: p.bytes.length, seq: p.seq })),
      })),
    }));
  }

  /** Everything, as plain data (the server's snapshot file). */
  exportPlain(): unknown {
    return {
      v: 1,
      nodes: [...this.nodes].map(([node, n]) => [
        node,
        n.seq,
        n.now,
        n.updatedAt,
        [...n.conns].map(([conn, c]) => [conn, c.seq, c.updatedAt, [...c.portions].map(([key, p]) => [key, p.seq, p.bytes])]),
      ]),
    };
  }

  /** Replaces the contents with a snapshot; false (nothing changed) when it is not one. */
  importPlain(v: unknown): boolean {
    const x = v as { v?: unknown; nodes?: unknown };
    if (x === null || typeof x !== 'object' || x.v !== 1 || !Array.isArray(x.nodes)) return false;
    const nodes = new Map<string, StoredNode>();
    let total = 0;
    for (const entry of x.nodes as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 5) return false;
      const [node, seq, now, updatedAt, conns] = entry as [unknown, unknown, unknown, unknown, unknown];
      if (typeof node !== 'string' || typeof seq !== 'number' || typeof now !== 'number' || typeof updatedAt !== 'number' || !Array.isArray(conns)) return false;
      const n: StoredNode = { seq, now, updatedAt, conns: new Map(), bytes: node.length + NODE_OVERHEAD };
      for (const ce of conns as unknown[]) {
        if (!Array.isArray(ce) || ce.length !== 4) return false;
        const [conn, cseq, cat, portions] = ce as [unknown, unknown, unknown, unknown];
        if (typeof conn !== 'string' || typeof cseq !== 'number' || typeof cat !== 'number' || !Array.isArray(portions)) return false;
        const c: StoredConn = { portions: new Map(), seq: cseq, updatedAt: cat, bytes: conn.length + CONN_OVERHEAD };
        for (const pe of portions as unknown[]) {
          if (!Array.isArray(pe) || pe.length !== 3) return false;
          const [key, pseq, bytes] = pe as [unknown, unknown, unknown];
          if (typeof key !== 'string' || typeof pseq !== 'number' || !(bytes instanceof Uint8Array)) return false;
          c.portions.set(key, { bytes, seq: pseq });
          c.bytes += portionCost(conn, key, bytes);
        }
        n.conns.set(conn, c);
        n.bytes += c.bytes;
      }
      nodes.set(node, n);
      total += n.bytes;
    }
    this.nodes.clear();
    for (const [k, n] of nodes) this.nodes.set(k, n);
    this.total = total;
    return true;
  }
}
