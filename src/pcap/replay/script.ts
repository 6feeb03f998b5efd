/**
 * Replay planning: the user messages of one captured association, per
 * endpoint, in the order they were sent, with their timing and the causal
 * order between the two endpoints. The CLI driver (src/cli/pcap-replay.ts)
 * plays one side of this script against a live peer with our own stack,
 * which runs its own handshake, so tags, TSNs, ports and addresses are all
 * new and only the user messages and their timing carry over.
 *
 * Packets are grouped by the inspector (src/pcap/inspect), so the association
 * numbers are the ones `pcap inspect` prints. Messages are reassembled from
 * the first transmission of each fragment (RFC 9260 §6.9: the fragments of a
 * message carry consecutive TSNs; RFC 8260 I-DATA: one MID, FSNs from 0).
 */
import { diff32 } from '../../wire/serial.js';
import { formatCause } from '../../wire/format.js';
import type { Chunk, ErrorCause } from '../../wire/types.js';
import type { Result } from '../../wire/result.js';
import { CaptureReader, type CaptureItem } from '../reader.js';
import { Inspector, type GroupedPacket, type InspectOptions } from '../inspect/inspector.js';
import type { AssociationReport, InspectReport } from '../inspect/report.js';
import { TsnTrack } from '../inspect/stats.js';

export interface ScriptMessage {
  /** Position among this endpoint's messages, from 0. */
  readonly index: number;
  readonly stream: number;
  readonly ppid: number;
  readonly unordered: boolean;
  readonly data: Uint8Array;
  /** Seconds after the script's start that the first fragment was first sent. */
  readonly time: number;
  /** Seconds after the script's start that the last fragment was first sent. */
  readonly complete: number;
  /** Messages of the other endpoint complete before this one was sent: what a causal replay waits for. */
  readonly after: number;
  /** Frame of the last fragment. */
  readonly frame: number;
}

export interface ScriptEndpoint {
  readonly port: number;
  readonly addresses: readonly string[];
  readonly initiator: boolean;
  readonly messages: readonly ScriptMessage[];
  /** ERROR chunks it sent, one line each. */
  readonly errors: readonly string[];
  /** The causes of the ABORT it sent, when it sent one. */
  readonly abort?: string;
  /** It sent the first SHUTDOWN. */
  readonly shutdown: boolean;
}

export interface ReplayScript {
  /** AssociationReport.id in the capture. */
  readonly association: number;
  readonly endpoints: readonly [ScriptEndpoint, ScriptEndpoint];
  /** The endpoint that played the client: the initiator (endpoint 0 when the handshake is not in the capture). */
  readonly client: number;
  /** Capture time (seconds since the first record) that script times count from: COOKIE ACK, or the first packet when mid-stream. */
  readonly start: number;
  readonly end: { readonly how: 'shutdown' | 'abort' | 'open'; readonly by?: number };
  /** Messages left out because a fragment was not in the capture. */
  readonly incomplete: number;
  /** What `pcap inspect` says about the association. */
  readonly report: AssociationReport;
}

export interface ScriptOptions {
  /** AssociationReport.id; default: the first association that carries user messages. */
  readonly association?: number;
  readonly udpPorts?: readonly number[];
  /** Bound on the user data kept (default 256 MiB): past it the script is refused. */
  readonly maxBytes?: number;
}

interface Fragment {
  readonly tsn: number;
  readonly stream: number;
  readonly ppid: number;
  readonly unordered: boolean;
  readonly beginning: boolean;
  readonly ending: boolean;
  readonly fsn: number;
  readonly data: Uint8Array;
  readonly time: number;
  readonly frame: number;
}

interface Assembled {
  readonly epoch: number;
  readonly tsn: number;
  readonly stream: number;
  readonly ppid: number;
  readonly unordered: boolean;
  readonly data: Uint8Array;
  readonly time: number;
  readonly complete: number;
  readonly frame: number;
}

const MAX_PENDING = 65536;

function concat(parts: readonly Fragment[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.data.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p.data, o);
    o += p.data.length;
  }
  return out;
}

/** One endpoint's messages, reassembled from its DATA / I-DATA. */
class Sender {
  readonly track = new TsnTrack(64, 65536);
  private readonly byTsn = new Map<number, Fragment>();
  private readonly byMid = new Map<string, Map<number, Fragment>>();
  readonly done: Assembled[] = [];
  readonly errors: string[] = [];
  abort: string | undefined;
  shutdown = false;
  epoch = 0;
  /** First TSN of each epoch: the sort base. */
  readonly base: number[] = [];
  bytes = 0;
  dropped = 0;

  data(c: Extract<Chunk, { kind: 'data' | 'idata' }>, time: number, frame: number): void {
    if (this.track.isRetransmission(c.tsn)) return;
    this.track.sent(c.tsn, time);
    if (this.base[this.epoch] === undefined) this.base[this.epoch] = c.tsn;
    const f: Fragment = {
      tsn: c.tsn,
      stream: c.streamId,
      ppid: c.ppid,
      unordered: c.unordered,
      beginning: c.beginning,
      ending: c.ending,
      fsn: c.kind === 'idata' && !c.beginning ? c.fsn : 0,
      data: c.userData.slice(),
      time,
      frame,
    };
    this.bytes += f.data.length;
    if (c.beginning && c.ending) {
      this.finish([f]);
      return;
    }
    if (c.kind === 'idata') this.idata(f, c.mid);
    else this.fragment(f);
  }

  private finish(parts: readonly Fragment[]): void {
    const first = parts[0]!;
    const last = parts[parts.length - 1]!;
    let time = first.time;
    let complete = first.time;
    for (const p of parts) {
      if (p.time < time) time = p.time;
      if (p.time > complete) complete = p.time;
    }
    this.done.push({
      epoch: this.epoch,
      tsn: first.tsn,
      stream: first.stream,
      ppid: first.ppid,
      unordered: first.unordered,
      data: parts.length === 1 ? first.data : concat(parts),
      time,
      complete,
      frame: last.frame,
    });
  }

  private fragment(f: Fragment): void {
    if (this.byTsn.size >= MAX_PENDING) {
      this.dropped += this.byTsn.size;
      this.byTsn.clear();
    }
    this.byTsn.set(f.tsn, f);
    // Find B at or before, E at or after, over consecutive TSNs.
    let b = f;
    while (!b.beginning) {
      const prev = this.byTsn.get((b.tsn - 1) >>> 0);
      if (prev === undefined || prev.stream !== f.stream || prev.unordered !== f.unordered) return;
      b = prev;
    }
    let e = f;
    while (!e.ending) {
      const next = this.byTsn.get((e.tsn + 1) >>> 0);
      if (next === undefined || next.stream !== f.stream || next.unordered !== f.unordered || next.beginning) return;
      e = next;
    }
    const parts: Fragment[] = [];
    for (let t = b.tsn; ; t = (t + 1) >>> 0) {
      parts.push(this.byTsn.get(t)!);
      this.byTsn.delete(t);
      if (t === e.tsn) break;
    }
    this.finish(parts);
  }

  private idata(f: Fragment, mid: number): void {
    const key = `${f.stream}/${f.unordered ? 1 : 0}/${mid}`;
    let m = this.byMid.get(key);
    if (m === undefined) {
      if (this.byMid.size >= MAX_PENDING) {
        this.dropped += this.byMid.size;
        this.byMid.clear();
      }
      this.byMid.set(key, (m = new Map()));
    }
    m.set(f.fsn, f);
    let last: number | undefined;
    for (const p of m.values()) if (p.ending) last = p.fsn;
    if (last === undefined || m.size !== last + 1) return;
    const parts: Fragment[] = [];
    for (let i = 0; i <= last; i++) {
      const p = m.get(i);
      if (p === undefined) return;
      parts.push(p);
    }
    this.byMid.delete(key);
    // The PPID is on the first fragment only (RFC 8260 §2.1).
    this.finish(parts);
  }

  restart(): void {
    this.epoch++;
    this.track.reset();
    this.dropped += this.byTsn.size + this.byMid.size;
    this.byTsn.clear();
    this.byMid.clear();
  }

  pending(): number {
    return this.dropped + this.byTsn.size + this.byMid.size;
  }

  sorted(): Assembled[] {
    return this.done.slice().sort((x, y) => x.epoch - y.epoch || diff32(this.base[x.epoch] ?? x.tsn, x.tsn) - diff32(this.base[y.epoch] ?? y.tsn, y.tsn));
  }
}

/** How many of the sorted `values` are below `x`. */
function countBelow(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function causes(list: readonly ErrorCause[]): string {
  return list.map(formatCause).join(', ');
}

/**
 * Collects the script of one association while the capture streams through
 * (a second Inspector pass when the association is not known in advance).
 */
export class ScriptBuilder {
  readonly inspector: Inspector;
  private readonly senders: [Sender, Sender] = [new Sender(), new Sender()];
  private established: number | undefined;
  private firstSeen: number | undefined;
  private endHow: 'shutdown' | 'abort' | 'open' = 'open';
  private endBy: number | undefined;
  private tooBig = false;
  private format: 'pcap' | 'pcapng' | undefined;
  private readonly maxBytes: number;

  constructor(
    private readonly association: number,
    options: Omit<InspectOptions, 'onPacket'> & { readonly maxBytes?: number } = {},
  ) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.inspector = new Inspector({ ...options, onPacket: (p) => this.onPacket(p) });
  }

  push(item: CaptureItem): void {
    this.inspector.push(item);
  }

  setFormat(f: 'pcap' | 'pcapng' | undefined): void {
    this.format = f;
    this.inspector.setFormat(f);
  }

  private onPacket(p: GroupedPacket): void {
    if (p.association !== this.association || this.tooBig) return;
    this.firstSeen ??= p.time;
    const s = this.senders[p.from]!;
    const peer = this.senders[1 - p.from]!;
    for (const c of p.chunks) {
      switch (c.kind) {
        case 'data':
        case 'idata':
          // A payload cut by the snaplen cannot be replayed: its message stays incomplete.
          if (c === p.cut) {
            s.dropped++;
            break;
          }
          s.data(c, p.time, p.frame);
          if (s.bytes + peer.bytes > this.maxBytes) this.tooBig = true;
          break;
        case 'sack':
        case 'nr-sack':
          peer.track.ack(c.cumulativeTsnAck);
          break;
        case 'cookie-ack':
          if (this.established === undefined) this.established = p.time;
          else {
            // RFC 9260 §5.2.2 restart: new TSN spaces on both sides.
            s.restart();
            peer.restart();
          }
          break;
        case 'error':
          if (s.errors.length < 100) s.errors.push(causes(c.causes));
          break;
        case 'abort':
          s.abort ??= causes(c.causes);
          if (this.endHow === 'open' || this.endHow === 'shutdown') {
            this.endHow = 'abort';
            this.endBy = p.from;
          }
          break;
        case 'shutdown':
          if (!peer.shutdown && !s.shutdown) s.shutdown = true;
          if (this.endHow === 'open') {
            this.endHow = 'shutdown';
            this.endBy = p.from;
          }
          break;
        default:
          break;
      }
    }
  }

  finish(): Result<ReplayScript, string> {
    const report = this.inspector.finish();
    if (this.format === undefined && report.frames === 0) return { ok: false, error: `not a readable capture${report.fatalError ? `: ${report.fatalError}` : ''}` };
    const a = report.associations.find((x) => x.id === this.association);
    if (a === undefined) {
      return { ok: false, error: `association ${this.association} is not in the capture (it has ${report.associations.length})` };
    }
    if (this.tooBig) return { ok: false, error: `association ${this.association} carries more than ${this.maxBytes} bytes of user data: too big to replay` };
    const start = this.established ?? this.firstSeen ?? a.first;
    const lists = this.senders.map((s) => s.sorted()) as [Assembled[], Assembled[]];
    const endpoints = [0, 1].map((i) => {
      const s = this.senders[i]!;
      const other = lists[1 - i]!.map((m) => m.complete - start).sort((x, y) => x - y);
      const messages: ScriptMessage[] = lists[i]!.map((m, index) => {
        const time = Math.max(0, m.time - start);
        const after = countBelow(other, m.time - start);
        return { index, stream: m.stream, ppid: m.ppid, unordered: m.unordered, data: m.data, time, complete: Math.max(time, m.complete - start), after, frame: m.frame };
      });
      const e = a.endpoints[i]!;
      const base: ScriptEndpoint = { port: e.port, addresses: e.addresses, initiator: e.initiator, messages, errors: s.errors, shutdown: s.shutdown };
      return s.abort === undefined ? base : { ...base, abort: s.abort };
    }) as [ScriptEndpoint, ScriptEndpoint];
    const client = endpoints[1].initiator && !endpoints[0].initiator ? 1 : 0;
    const end = this.endBy === undefined ? { how: this.endHow } : { how: this.endHow, by: this.endBy };
    return {
      ok: true,
      value: { association: this.association, endpoints, client, start, end, incomplete: this.senders[0].pending() + this.senders[1].pending(), report: a },
    };
  }
}

/** The first association that carries user messages, else the first one. */
export function pickAssociation(report: InspectReport): number | undefined {
  const withData = report.associations.find((a) => a.directions[0].messages + a.directions[1].messages > 0);
  return (withData ?? report.associations[0])?.id;
}

function builderOptions(options: ScriptOptions): Omit<InspectOptions, 'onPacket'> & { readonly maxBytes?: number } {
  return { ...(options.udpPorts !== undefined && { udpPorts: options.udpPorts }), ...(options.maxBytes !== undefined && { maxBytes: options.maxBytes }) };
}

function unreadable(report: InspectReport): string {
  return `not a readable capture${report.fatalError !== undefined ? `: ${report.fatalError}` : ''}`;
}

/** The script of a capture held in memory (two passes when no association is named). */
export function buildScript(bytes: Uint8Array, options: ScriptOptions = {}): Result<ReplayScript, string> {
  const pass = (assoc: number): ScriptBuilder => {
    const reader = new CaptureReader();
    const b = new ScriptBuilder(assoc, builderOptions(options));
    for (const item of reader.push(bytes)) b.push(item);
    for (const item of reader.end()) b.push(item);
    b.setFormat(reader.format);
    return b;
  };
  let assoc = options.association;
  if (assoc === undefined) {
    // Association 0 does not exist: this pass is a plain inspection.
    const report = pass(0).inspector.finish();
    if (report.format === null) return { ok: false, error: unreadable(report) };
    assoc = pickAssociation(report);
    if (assoc === undefined) return { ok: false, error: 'the capture holds no SCTP association' };
  }
  return pass(assoc).finish();
}

/**
 * The script of a capture read as a stream; `open` is called once per pass
 * (twice when no association is named), so the file is never held whole.
 */
export async function buildScriptStream(open: () => AsyncIterable<Uint8Array>, options: ScriptOptions = {}): Promise<Result<ReplayScript, string>> {
  const pass = async (assoc: number): Promise<ScriptBuilder> => {
    const reader = new CaptureReader();
    const b = new ScriptBuilder(assoc, builderOptions(options));
    for await (const chunk of open()) {
      const items = reader.push(chunk);
      for (let i = 0; i < items.length; i++) b.push(items[i]!);
      if (reader.failed) break;
    }
    for (const item of reader.end()) b.push(item);
    b.setFormat(reader.format);
    return b;
  };
  let assoc = options.association;
  if (assoc === undefined) {
    const report = (await pass(0)).inspector.finish();
    if (report.format === null) return { ok: false, error: unreadable(report) };
    assoc = pickAssociation(report);
    if (assoc === undefined) return { ok: false, error: 'the capture holds no SCTP association' };
  }
  return (await pass(assoc)).finish();
}
