/**
 * `hasctp pcap replay FILE --target ADDR[,ADDR]:PORT`: plays one side of a
 * captured association against a live SCTP endpoint with our own stack, then
 * reports where the live peer behaved differently from the captured one.
 *
 * Our stack runs its own handshake (new tags, TSNs, ports, addresses), takes
 * care of SACKs and retransmissions, and sends the captured user messages
 * (stream, PPID, payload, unordered flag) in their captured order. Each
 * message waits for its captured time (scaled by --speed; --asap: no wait)
 * and, causally, for the peer messages that the captured endpoint had
 * received before it sent it (ScriptMessage.after), at most --wait ms past
 * its time. As the client we connect to --target; as the server (--side
 * server) we listen on --target and play the first association that comes up.
 */
import { createSocket } from 'node:dgram';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { connect } from '../api/connect.js';
import { createServer, type Server, type ServerAddress } from '../api/server.js';
import type { Association, Message } from '../api/association.js';
import { buildScriptStream, replayOffline, type OfflineReport, type ReplayScript, type ScriptMessage } from '../pcap/replay/index.js';
import type { ProtocolConfig } from '../core/config.js';
import { hmacSha1, hmacSha256 } from '../runtime/env.js';
import { ppidLabel } from '../pcap/inspect/index.js';
import { addressFamily } from '../wire/address.js';
import { formatCause } from '../wire/format.js';
import type { ErrorCause } from '../wire/types.js';
import { openCapture } from './pcap.js';

export interface ReplayCommandOptions {
  readonly target: { readonly addresses: readonly string[]; readonly port: number };
  readonly side: 'client' | 'server';
  readonly association?: number;
  /** Timing factor; Infinity: as soon as possible. */
  readonly speed: number;
  /** RFC 6951 UDP encapsulation (without it raw IP). */
  readonly udpEncap?: { readonly local: number; readonly remote: number };
  readonly bind?: readonly string[];
  readonly udpPorts: readonly number[];
  /** Quiet time that ends the wait for the peer, and the most a message waits for its causal predecessors past its time. */
  readonly waitMs: number;
  readonly timeoutMs: number;
  readonly json: boolean;
  readonly logger?: Logger;
  readonly out: Writable;
  readonly err: Writable;
  /** Server side: called once listening (tests read the bound UDP port). */
  readonly onListening?: (address: ServerAddress) => void;
}

export interface MessageCount {
  /** 'sent' by us, or 'received' from the peer. */
  readonly direction: 'sent' | 'received';
  readonly stream: number;
  readonly ppid: number;
  readonly name?: string;
  readonly captured: number;
  readonly live: number;
}

export interface ReplayReport {
  readonly ok: boolean;
  readonly file: string;
  readonly association: number;
  readonly side: 'client' | 'server';
  readonly captured: {
    readonly messagesSent: number;
    readonly messagesReceived: number;
    /** How the captured association ended, from our side's point of view. */
    readonly end: string;
    readonly peerErrors: number;
  };
  readonly live: {
    readonly messagesSent: number;
    readonly messagesReceived: number;
    readonly notSent: number;
    readonly outboundStreams: number;
    readonly inboundStreams: number;
    readonly end: string;
    readonly errors: readonly string[];
    readonly seconds: number;
  };
  readonly messages: readonly MessageCount[];
  /** Received messages whose bytes differ from the captured peer's message at the same position of the same stream (information: many protocols carry ids and times). */
  readonly payloadDifferences: number;
  readonly divergences: readonly string[];
  /** How the replay went where it could not follow the capture exactly (a causal wait that timed out). */
  readonly notes: readonly string[];
}

/** The address the kernel would send from towards `remote` (a connected UDP socket; nothing is sent). */
async function sourceAddressFor(remote: string): Promise<string> {
  const s = createSocket(addressFamily(remote) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(9, remote, () => resolve());
    });
    return s.address().address;
  } finally {
    s.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function causesText(c: readonly ErrorCause[]): string {
  return c.length === 0 ? 'no cause' : c.map(formatCause).join(', ');
}

function capturedEnd(script: ReplayScript, us: number): string {
  const e = script.end;
  if (e.how === 'open') return 'open at end of capture';
  const who = e.by === us ? 'us' : 'peer';
  return e.how === 'shutdown' ? `shutdown by ${who}` : `abort by ${who}`;
}

/** What happened on the live association, as the replay saw it. */
class Live {
  readonly received: Message[] = [];
  readonly sentList: ScriptMessage[] = [];
  readonly errors: string[] = [];
  sent = 0;
  notSent = 0;
  down: string | undefined;
  peerShutdown = false;
  closed = false;
  lastActivity = performance.now();
  private waiters: (() => void)[] = [];

  constructor(readonly a: Association) {
    a.on('message', (m: Message) => {
      this.received.push(m);
      this.poke();
    });
    a.on('remote-error', (c: readonly ErrorCause[]) => {
      this.errors.push(causesText(c));
      this.poke();
    });
    a.on('down', (reason: string) => {
      this.down = reason;
      this.poke();
    });
    a.on('shutdown', () => {
      this.peerShutdown = true;
      this.poke();
    });
    a.on('send-failed', () => {
      this.notSent++;
    });
    a.on('close', () => {
      this.closed = true;
      this.poke();
    });
  }

  private poke(): void {
    this.lastActivity = performance.now();
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves at the next event or after `ms`. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      const t = setTimeout(done, Math.max(1, ms));
      this.waiters.push(done);
    });
  }
}

/** Sends our captured messages (timing and causal order), then waits for the peer to go quiet. */
async function play(live: Live, ours: readonly ScriptMessage[], theirs: number, o: ReplayCommandOptions, deadline: number, problems: string[], notes: string[]): Promise<void> {
  const a = live.a;
  const t0 = performance.now();
  const unavailable = new Map<number, number>();
  let stalledAt: number | undefined;
  for (const m of ours) {
    if (live.closed || performance.now() > deadline) break;
    const due = Number.isFinite(o.speed) ? t0 + (m.time * 1000) / o.speed : performance.now();
    // Causal order: the captured endpoint had this many peer messages before sending m.
    // After one wait timed out, wait again only once the peer has sent something new.
    if (stalledAt !== undefined && live.received.length > stalledAt) stalledAt = undefined;
    if (stalledAt === undefined) {
      const giveUp = Math.min(deadline, Math.max(due, performance.now()) + o.waitMs);
      while (!live.closed && live.received.length < m.after && performance.now() < giveUp) await live.next(giveUp - performance.now());
      if (live.received.length < m.after && !live.closed) {
        stalledAt = live.received.length;
        notes.push(`message ${m.index} sent without the peer's message ${m.after}: not received ${o.waitMs} ms past its time`);
      }
    }
    if (performance.now() < due) await sleep(due - performance.now());
    if (live.closed) break;
    if (m.stream >= a.outboundStreams) {
      unavailable.set(m.stream, (unavailable.get(m.stream) ?? 0) + 1);
      live.notSent++;
      continue;
    }
    try {
      const ok = a.send(m.data, { stream: m.stream, ppid: m.ppid, unordered: m.unordered });
      live.sent++;
      live.sentList.push(m);
      if (!ok) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            a.off('drain', done);
            a.off('close', done);
            resolve();
          };
          a.on('drain', done);
          a.on('close', done);
        });
      }
    } catch (e) {
      live.notSent++;
      problems.push(`message ${m.index} not sent: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  for (const [stream, n] of unavailable) problems.push(`${n} message(s) on stream ${stream} not sent: the peer allows ${a.outboundStreams} outbound stream(s)`);
  // The peer's answers: until all the captured ones came, or it is quiet for --wait.
  live.lastActivity = performance.now();
  while (!live.closed && live.received.length < theirs && performance.now() < deadline) {
    const quietFor = performance.now() - live.lastActivity;
    if (quietFor >= o.waitMs) break;
    await live.next(o.waitMs - quietFor);
  }
}

/** Ends the association the way the captured one ended, as far as our side decides. */
async function finish(live: Live, script: ReplayScript, us: number, o: ReplayCommandOptions, deadline: number): Promise<void> {
  const a = live.a;
  const e = script.end;
  if (!live.closed && e.by !== undefined && e.by !== us) {
    // The captured peer ended it: give the live one --wait to do the same.
    const until = Math.min(deadline, performance.now() + o.waitMs);
    while (!live.closed && !live.peerShutdown && performance.now() < until) await live.next(until - performance.now());
  }
  if (live.closed) return;
  if (e.how === 'abort' && e.by === us) {
    await a.abort(script.endpoints[us]!.abort);
    return;
  }
  const closed = a.shutdown();
  const t = setTimeout(() => void a.abort('replay: shutdown timed out'), Math.max(1000, Math.min(5000, deadline - performance.now())));
  await closed;
  clearTimeout(t);
}

function compare(file: string, script: ReplayScript, us: number, live: Live, o: ReplayCommandOptions, seconds: number, problems: readonly string[], notes: readonly string[], liveEnd: string): ReplayReport {
  const peer = 1 - us;
  const ours = script.endpoints[us]!.messages;
  const theirs = script.endpoints[peer]!.messages;
  const divergences: string[] = [...problems];
  const counts = new Map<string, { direction: 'sent' | 'received'; stream: number; ppid: number; captured: number; live: number }>();
  const bump = (direction: 'sent' | 'received', stream: number, ppid: number, field: 'captured' | 'live'): void => {
    const k = `${direction}/${stream}/${ppid}`;
    let c = counts.get(k);
    if (c === undefined) counts.set(k, (c = { direction, stream, ppid, captured: 0, live: 0 }));
    c[field]++;
  };
  for (const m of ours) bump('sent', m.stream, m.ppid, 'captured');
  for (const m of theirs) bump('received', m.stream, m.ppid, 'captured');
  for (const m of live.sentList) bump('sent', m.stream, m.ppid, 'live');
  for (const m of live.received) bump('received', m.stream, m.ppid, 'live');
  const messages: MessageCount[] = [...counts.values()]
    .sort((x, y) => (x.direction === y.direction ? 0 : x.direction === 'sent' ? -1 : 1) || x.stream - y.stream || x.ppid - y.ppid)
    .map((c) => {
      const name = ppidLabel(c.ppid);
      return name === undefined ? c : { ...c, name };
    });
  for (const c of messages) {
    if (c.direction !== 'received' || c.captured === c.live) continue;
    const what = `stream ${c.stream} PPID ${c.ppid}${c.name ? ` (${c.name})` : ''}`;
    if (c.live < c.captured) divergences.push(`missing responses on ${what}: captured ${c.captured}, received ${c.live}`);
    else divergences.push(`extra messages on ${what}: captured ${c.captured}, received ${c.live}`);
  }
  if (live.sent + live.notSent < ours.length) divergences.push(`sent ${live.sent} of the ${ours.length} captured messages before the association ended`);
  // Payloads, position by position per stream.
  const byStream = (list: readonly { stream: number; data: Uint8Array }[]): Map<number, Uint8Array[]> => {
    const m = new Map<number, Uint8Array[]>();
    for (const x of list) {
      let l = m.get(x.stream);
      if (l === undefined) m.set(x.stream, (l = []));
      l.push(x.data);
    }
    return m;
  };
  const want = byStream(theirs);
  const got = byStream(live.received);
  let payloadDifferences = 0;
  for (const [stream, list] of got) {
    const w = want.get(stream) ?? [];
    for (let i = 0; i < list.length && i < w.length; i++) if (!sameBytes(list[i]!, w[i]!)) payloadDifferences++;
  }
  const capturedPeerErrors = script.endpoints[peer]!.errors.length;
  if (live.errors.length !== capturedPeerErrors) {
    divergences.push(`peer sent ${live.errors.length} ERROR chunk(s), captured ${capturedPeerErrors}${live.errors.length ? `: ${live.errors.slice(0, 3).join('; ')}` : ''}`);
  }
  const capEnd = capturedEnd(script, us);
  if (live.down === 'peer-abort' && !(script.end.how === 'abort' && script.end.by === peer)) divergences.push(`peer aborted the association (captured: ${capEnd})`);
  else if (live.down !== undefined && live.down !== 'peer-abort' && live.down !== 'local-abort') divergences.push(`association lost: ${live.down} (captured: ${capEnd})`);
  if (script.end.how === 'shutdown' && script.end.by === peer && !live.peerShutdown && live.down === undefined) divergences.push('the peer did not shut the association down (captured: it did)');
  return {
    ok: divergences.length === 0,
    file,
    association: script.association,
    side: o.side,
    captured: { messagesSent: ours.length, messagesReceived: theirs.length, end: capEnd, peerErrors: capturedPeerErrors },
    live: {
      messagesSent: live.sent,
      messagesReceived: live.received.length,
      notSent: live.notSent,
      outboundStreams: live.a.outboundStreams,
      inboundStreams: live.a.inboundStreams,
      end: liveEnd,
      errors: live.errors,
      seconds: Number(seconds.toFixed(3)),
    },
    messages,
    payloadDifferences,
    divergences,
    notes,
  };
}

function liveEndText(live: Live): string {
  if (live.down === 'peer-abort') return 'abort by peer';
  if (live.down !== undefined) return live.down === 'local-abort' ? 'abort by us' : `lost: ${live.down}`;
  if (live.peerShutdown) return 'shutdown by peer';
  return live.closed ? 'shutdown by us' : 'open';
}

export function formatReplayReport(r: ReplayReport): string {
  let s =
    `hasctp pcap replay: ${r.ok ? 'ok: no divergence' : `${r.divergences.length} divergence(s)`}: ${r.file} association ${r.association}, playing the ${r.side}\n` +
    `  captured: sent ${r.captured.messagesSent}, received ${r.captured.messagesReceived} messages; ${r.captured.end}\n` +
    `  live:     sent ${r.live.messagesSent}, received ${r.live.messagesReceived} messages${r.live.notSent ? `, ${r.live.notSent} not sent` : ''}; ${r.live.end}; ` +
    `${r.live.outboundStreams} out / ${r.live.inboundStreams} in streams; ${r.live.seconds} s\n`;
  const rows = r.messages.map((m) => `    ${m.direction.padEnd(8)} stream ${String(m.stream).padStart(5)}  PPID ${String(m.ppid).padStart(10)} ${(m.name ?? '').padEnd(14)} captured ${String(m.captured).padStart(6)}  live ${String(m.live).padStart(6)}${m.captured !== m.live ? '  <--' : ''}`);
  if (rows.length) s += `  messages\n${rows.join('\n')}\n`;
  if (r.live.errors.length) s += `  ERROR chunks from the peer: ${r.live.errors.join('; ')}\n`;
  s += `  payloads differing from the captured ones: ${r.payloadDifferences}\n`;
  for (const n of r.notes.slice(0, 10)) s += `  note: ${n}\n`;
  if (r.notes.length > 10) s += `  note: ... ${r.notes.length - 10} more\n`;
  for (const d of r.divergences) s += `  DIVERGENCE: ${d}\n`;
  return s;
}

/** Returns the exit code: 0 no divergence, 1 divergence or failure. */
export async function replayCommand(file: string, o: ReplayCommandOptions): Promise<number> {
  const fail = (msg: string): number => {
    o.err.write(`hasctp pcap replay: ${msg}\n`);
    return 1;
  };
  const cap = await openCapture(file);
  if (!cap.ok) return fail(cap.error);
  let built;
  try {
    built = await buildScriptStream(cap.open, { udpPorts: o.udpPorts, ...(o.association !== undefined && { association: o.association }) });
  } catch (e) {
    return fail(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!built.ok) return fail(`${file}: ${built.error}`);
  const script = built.value;
  const us = o.side === 'client' ? script.client : 1 - script.client;
  const ours = script.endpoints[us]!.messages;
  const theirs = script.endpoints[1 - us]!.messages;
  const started = performance.now();
  const deadline = started + o.timeoutMs;
  const transport = o.udpEncap !== undefined ? ('udp' as const) : ('raw' as const);
  const streamsNeeded = Math.max(1, ...ours.map((m) => m.stream + 1));
  const problems: string[] = [];
  const notes: string[] = [];
  if (script.incomplete > 0) notes.push(`${script.incomplete} captured message(s) left out: not whole in the capture (cut by its snaplen, or a fragment missing)`);

  let a: Association;
  let server: Server | undefined;
  try {
    if (o.side === 'client') {
      const localAddresses = o.bind ?? [await sourceAddressFor(o.target.addresses[0]!)];
      a = await connect({
        remoteAddresses: o.target.addresses,
        port: o.target.port,
        localAddresses,
        transport,
        ...(o.udpEncap !== undefined && { udpPort: o.udpEncap.local, remoteUdpPort: o.udpEncap.remote }),
        outboundStreams: Math.min(65535, Math.max(streamsNeeded, 10)),
        timeout: Math.min(o.timeoutMs, 10_000),
        ...(o.logger !== undefined && { logger: o.logger }),
      });
    } else {
      server = await createServer({
        localAddresses: o.target.addresses,
        port: o.target.port,
        transport,
        ...(o.udpEncap !== undefined && { udpPort: o.udpEncap.local, remoteUdpPort: o.udpEncap.remote }),
        outboundStreams: Math.min(65535, Math.max(streamsNeeded, 10)),
        ...(o.logger !== undefined && { logger: o.logger }),
      });
      const addr = server.address();
      o.err.write(`hasctp pcap replay: listening on ${addr.localAddresses.join(',')} port ${addr.port} ${addr.transport}${addr.udpPort !== undefined ? ` udp-port ${addr.udpPort}` : ''}\n`);
      o.onListening?.(addr);
      const s = server;
      a = await new Promise<Association>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no association came up within ${o.timeoutMs} ms`)), Math.max(1, deadline - performance.now()));
        s.once('association', (x: Association) => {
          clearTimeout(t);
          resolve(x);
        });
      });
    }
  } catch (e) {
    await server?.close(0);
    return fail(e instanceof Error ? e.message : String(e));
  }
  const live = new Live(a);
  try {
    await play(live, ours, theirs.length, o, deadline, problems, notes);
    await finish(live, script, us, o, deadline);
  } catch (e) {
    problems.push(`replay failed: ${e instanceof Error ? e.message : String(e)}`);
    if (!a.closed) await a.abort('replay failed');
  }
  const seconds = (performance.now() - started) / 1000;
  await server?.close(1000);
  const report = compare(file, script, us, live, o, seconds, problems, notes, liveEndText(live));
  if (o.json) o.out.write(`${JSON.stringify(report)}\n`);
  else o.out.write(formatReplayReport(report));
  return report.ok ? 0 : 1;
}

export interface OfflineCommandOptions {
  readonly side: 'client' | 'server';
  readonly association?: number;
  readonly udpPorts: readonly number[];
  readonly config: Partial<ProtocolConfig>;
  readonly rwndTolerance: number;
  readonly timeTolerance: number;
  readonly strict: boolean;
  readonly json: boolean;
  readonly out: Writable;
  readonly err: Writable;
}

/** Divergences printed in the text report (JSON has all). */
const SHOWN_DIVERGENCES = 40;

export function formatOfflineReport(file: string, r: OfflineReport): string {
  const cfg = Object.entries(r.config).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('.') : String(v)}`).join(' ');
  let s =
    `hasctp pcap replay --offline: ${r.ok ? 'ok: our responses reproduced exactly' : `${r.divergences.length} divergence(s)`}: ${file} association ${r.association}, the ${r.side} re-executed\n` +
    `  fed ${r.packets.fed} captured peer packets; compared ${r.packets.compared} captured packets of ours (${r.messages} messages)\n` +
    `  chunks: captured ${r.chunks.captured}, re-executed ${r.chunks.replayed}, matched ${r.chunks.matched}\n` +
    `  core settings: ${cfg}\n`;
  for (const n of r.notes.slice(0, 10)) s += `  note: ${n}\n`;
  for (const d of r.divergences.slice(0, SHOWN_DIVERGENCES)) {
    const at = `${d.kind === 'extra' ? 'after frame' : 'frame'} ${d.frame} (${(d.time / 1000).toFixed(3)} s)`;
    const what =
      d.kind === 'missing' ? `captured ${d.expected}; not sent by our core`
      : d.kind === 'extra' ? `our core sent ${d.actual}; not in the capture`
      : `${d.expected}: ${d.detail ?? d.actual ?? ''}`;
    s += `  DIVERGENCE ${d.kind}: ${at}: ${what}\n`;
  }
  if (r.divergences.length > SHOWN_DIVERGENCES) s += `  ... ${r.divergences.length - SHOWN_DIVERGENCES} more (--json lists all)\n`;
  return s;
}

/** Returns the exit code: 1 when the capture cannot be re-executed, or on divergence with --strict. */
export async function offlineReplayCommand(file: string, o: OfflineCommandOptions): Promise<number> {
  const fail = (msg: string): number => {
    o.err.write(`hasctp pcap replay: ${msg}\n`);
    return 1;
  };
  const cap = await openCapture(file);
  if (!cap.ok) return fail(cap.error);
  let r;
  try {
    r = await replayOffline(cap.open, {
      side: o.side,
      ...(o.association !== undefined && { association: o.association }),
      udpPorts: o.udpPorts,
      config: o.config,
      rwndTolerance: o.rwndTolerance,
      timeTolerance: o.timeTolerance,
      hmac: hmacSha256,
      hmacSha1,
    });
  } catch (e) {
    return fail(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!r.ok) return fail(`${file}: ${r.error}`);
  if (o.json) o.out.write(`${JSON.stringify({ file, ...r.value })}\n`);
  else o.out.write(formatOfflineReport(file, r.value));
  return o.strict && !r.value.ok ? 1 : 0;
}
