/**
 * `hasctp watch`: a live view of a process's associations, redrawn in place
 * like `top`. Every refresh asks the control socket for `assocs` (and a
 * node's `status`), compares with the previous answer and highlights (a `!`
 * in the first column, reverse video on a terminal) an association whose path
 * changed state, that lost its protection, or that is new; the change stays
 * marked for HIGHLIGHT_MS and is listed under the table. Keys on a terminal:
 * q quits, s cycles the sort key. Without a terminal each frame is printed
 * plainly, one after the other.
 */
import { controlRequest, type ControlReply } from '../ops/control.js';
import { ASSOC_COLUMNS, assocCells, replicationText, table } from '../ops/format.js';
import type { AssocRow } from '../ops/inspect.js';

export const WATCH_SORT_KEYS = ['id', 'state', 'unacked', 'rwnd', 'cwnd', 'srtt', 'rto'] as const;
export type WatchSortKey = (typeof WATCH_SORT_KEYS)[number];

const HIGHLIGHT_MS = 10_000;
const MAX_EVENTS = 8;

export interface WatchOptions {
  readonly path: string;
  readonly intervalMs: number;
  readonly sort: WatchSortKey;
  readonly iterations?: number;
  readonly out?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean; columns?: number };
  readonly input?: NodeJS.ReadStream;
}

export interface WatchEvent {
  readonly at: number;
  readonly assoc: number;
  readonly what: string;
}

/** What changed between two answers (pure: tested directly). */
export function diffRows(prev: ReadonlyMap<number, AssocRow> | undefined, rows: readonly AssocRow[], at: number): WatchEvent[] {
  if (prev === undefined) return [];
  const ev: WatchEvent[] = [];
  for (const a of rows) {
    const p = prev.get(a.id);
    if (p === undefined) {
      ev.push({ at, assoc: a.id, what: `new association (${a.state})` });
      continue;
    }
    if (p.state !== a.state) ev.push({ at, assoc: a.id, what: `state ${p.state} -> ${a.state}` });
    for (const path of a.paths) {
      const before = p.paths.find((x) => x.address === path.address);
      if (before === undefined) ev.push({ at, assoc: a.id, what: `path ${path.address} added (${path.state})` });
      else if (before.state !== path.state) ev.push({ at, assoc: a.id, what: `path ${path.address} ${before.state} -> ${path.state}` });
    }
    if (p.primary !== a.primary) ev.push({ at, assoc: a.id, what: `primary ${p.primary ?? '-'} -> ${a.primary ?? '-'}` });
    if (p.replication.state === 'in-sync' && a.replication.state !== 'in-sync') ev.push({ at, assoc: a.id, what: `LOST PROTECTION (${replicationText(a.replication)})` });
    else if (p.replication.state !== 'in-sync' && a.replication.state === 'in-sync') ev.push({ at, assoc: a.id, what: 'protected again (in sync)' });
  }
  for (const id of prev.keys()) if (!rows.some((a) => a.id === id)) ev.push({ at, assoc: id, what: 'gone' });
  return ev;
}

export function sortRows(rows: readonly AssocRow[], key: WatchSortKey): AssocRow[] {
  const v = (a: AssocRow): number | string => {
    switch (key) {
      case 'id':
        return a.id;
      case 'state':
        return a.state;
      case 'unacked':
        return -a.unackedBytes;
      case 'rwnd':
        return a.peerRwnd ?? 0;
      case 'cwnd':
        return -(a.cwnd ?? 0);
      case 'srtt':
        return -(a.srtt ?? 0);
      case 'rto':
        return -(a.rto ?? 0);
    }
  };
  return [...rows].sort((x, y) => {
    const a = v(x);
    const b = v(y);
    return a < b ? -1 : a > b ? 1 : x.id - y.id;
  });
}

export interface Frame {
  readonly header: string;
  readonly rows: readonly AssocRow[];
  readonly marked: ReadonlySet<number>;
  readonly events: readonly WatchEvent[];
  readonly error?: string;
}

/** The frame as lines; `tty` adds reverse video on marked rows. */
export function renderFrame(f: Frame, tty: boolean): string {
  const lines = [f.header];
  if (f.error !== undefined) lines.push(`!! ${f.error}`);
  lines.push('');
  if (f.rows.length === 0) lines.push('no associations');
  else {
    const t = table(['!', ...ASSOC_COLUMNS], f.rows.map((a) => [f.marked.has(a.id) ? '!' : '', ...assocCells(a)])).split('\n');
    lines.push(t[0]!);
    f.rows.forEach((a, i) => {
      const l = t[i + 1]!;
      lines.push(tty && f.marked.has(a.id) ? `\x1b[7m${l}\x1b[0m` : l);
    });
  }
  lines.push('', f.events.length === 0 ? 'recent changes: none' : 'recent changes:');
  for (const e of f.events) lines.push(`  ${new Date(e.at).toISOString().slice(11, 19)}  assoc ${e.assoc}: ${e.what}`);
  return `${lines.join('\n')}\n`;
}

async function poll(path: string): Promise<{ rows: AssocRow[]; who: string }> {
  const r: ControlReply = await controlRequest(path, { cmd: 'assocs' }, 3000);
  if (r['ok'] !== true) throw new Error(String(r['error']));
  const info = await controlRequest(path, { cmd: 'info' }, 3000);
  const i = (info['info'] ?? {}) as { kind?: string; name?: string };
  let who = `${i.kind ?? '?'} ${i.name ?? ''}`.trim();
  if (i.kind === 'node') {
    const s = await controlRequest(path, { cmd: 'status' }, 3000);
    const st = (s['status'] ?? {}) as Record<string, unknown>;
    who += `: ${String(st['role'])}, epoch ${String(st['epoch'])}, ${String(st['protection'])}, lag ${String(st['lagRecords'])}`;
  }
  return { rows: r['associations'] as AssocRow[], who };
}

export async function watchCommand(o: WatchOptions): Promise<number> {
  const out = o.out ?? process.stdout;
  const tty = out.isTTY === true;
  const input = o.input ?? process.stdin;
  let sort = o.sort;
  let stop = false;
  let wake: (() => void) | undefined;
  const onKey = (k: Buffer): void => {
    const c = k.toString();
    if (c === 'q' || c === '\x03') stop = true;
    else if (c === 's') sort = WATCH_SORT_KEYS[(WATCH_SORT_KEYS.indexOf(sort) + 1) % WATCH_SORT_KEYS.length]!;
    else return;
    wake?.();
  };
  const interactive = tty && input.isTTY === true;
  if (interactive) {
    input.setRawMode(true);
    input.resume();
    input.on('data', onKey);
    out.write('\x1b[?1049h\x1b[?25l');
  }
  const onSignal = (): void => {
    stop = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let prev: Map<number, AssocRow> | undefined;
  const events: WatchEvent[] = [];
  const markedUntil = new Map<number, number>();
  let failures = 0;
  try {
    for (let n = 0; !stop && (o.iterations === undefined || n < o.iterations); n++) {
      const now = Date.now();
      let frame: Frame;
      try {
        const { rows, who } = await poll(o.path);
        failures = 0;
        for (const e of diffRows(prev, rows, now)) {
          events.unshift(e);
          markedUntil.set(e.assoc, now + HIGHLIGHT_MS);
        }
        events.splice(MAX_EVENTS);
        prev = new Map(rows.map((a) => [a.id, a]));
        const marked = new Set([...markedUntil].filter(([, t]) => t > now).map(([id]) => id));
        const header = `hasctp watch  ${who}  ${new Date(now).toISOString().slice(11, 19)}  ${rows.length} association(s)  sort: ${sort}${interactive ? '  (s: sort, q: quit)' : ''}`;
        frame = { header, rows: sortRows(rows, sort), marked, events };
      } catch (e) {
        failures++;
        frame = { header: `hasctp watch  ${o.path}  ${new Date(now).toISOString().slice(11, 19)}`, rows: [], marked: new Set(), events, error: `${e instanceof Error ? e.message : String(e)} (retrying)` };
      }
      out.write(tty ? `\x1b[H\x1b[2J${renderFrame(frame, true)}` : `${renderFrame(frame, false)}\n`);
      if (o.iterations !== undefined && n + 1 >= o.iterations) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.intervalMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (interactive) {
      input.off('data', onKey);
      input.setRawMode(false);
      input.pause();
      out.write('\x1b[?25h\x1b[?1049l');
    }
  }
  return failures > 0 ? 1 : 0;
}
