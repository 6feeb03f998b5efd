/**
 * `hasctp pcap inspect FILE` and `hasctp pcap replay FILE`: the I/O and the
 * formatting around src/pcap/inspect and src/pcap/replay (which hold the
 * logic). The capture is read as a stream, so memory does not grow with it.
 * An unreadable file or one that is not a capture is one line on stderr and
 * exit 1; bad arguments exit 2 (main.ts).
 */
import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { inspectStream, type AnomalyReport, type AssociationReport, type DirectionReport, type InspectReport, type RttReport } from '../pcap/inspect/index.js';
import type { Timestamp } from '../pcap/time.js';
import { offlineReplayCommand, replayCommand } from './pcap-replay.js';
import { installNativeCrc32c } from '../transport/native.js';
import { cliLogger, type LogLevel } from './log.js';

export interface PcapCommandDeps {
  parseEndpoint(value: string): { addresses: string[]; port: number };
  parseAddressList(value: string): string[];
  collectPorts(value: string, previous: number[] | undefined): number[];
  logLevelOption(): Option;
  usageError(message: string): Error;
}

export interface InspectCommandOptions {
  readonly json: boolean;
  readonly udpPorts: readonly number[];
  /** Print this association only. */
  readonly association?: number;
  readonly maxAssociations?: number;
  readonly out: Writable;
  readonly err: Writable;
}

/** A capture file as a stream of chunks, or one line saying why it cannot be read. */
export async function openCapture(file: string): Promise<{ ok: true; open: () => AsyncIterable<Uint8Array> } | { ok: false; error: string }> {
  try {
    await access(file, constants.R_OK);
    if ((await stat(file)).isDirectory()) return { ok: false, error: `cannot read ${file}: EISDIR` };
  } catch (e) {
    return { ok: false, error: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  return { ok: true, open: () => createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array> };
}

/** Returns the exit code. */
export async function inspectCommand(file: string, o: InspectCommandOptions): Promise<number> {
  const cap = await openCapture(file);
  if (!cap.ok) {
    o.err.write(`hasctp pcap inspect: ${cap.error}\n`);
    return 1;
  }
  // Every packet's checksum is verified: with the CPU's CRC32c instruction when the addon has it.
  installNativeCrc32c();
  let report: InspectReport;
  try {
    report = await inspectStream(cap.open(), {
      udpPorts: o.udpPorts,
      ...(o.maxAssociations !== undefined && { maxAssociations: o.maxAssociations }),
    });
  } catch (e) {
    o.err.write(`hasctp pcap inspect: ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  if (report.format === null || (report.frames === 0 && report.fatalError !== undefined)) {
    o.err.write(`hasctp pcap inspect: ${file}: not a readable capture: ${report.fatalError ?? 'no capture header'}\n`);
    return 1;
  }
  if (o.association !== undefined && !report.associations.some((a) => a.id === o.association)) {
    o.err.write(`hasctp pcap inspect: ${file}: no association ${o.association} (the capture has ${report.associations.length})\n`);
    return 1;
  }
  if (o.json) {
    const shown = o.association === undefined ? report : { ...report, associations: report.associations.filter((a) => a.id === o.association) };
    o.out.write(`${JSON.stringify({ file, ...shown })}\n`);
  } else o.out.write(formatInspectReport(file, report, o.association));
  if (report.fatalError !== undefined) o.err.write(`hasctp pcap inspect: ${file}: reading stopped early: ${report.fatalError}\n`);
  return 0;
}

// ------------------------------------------------------------------ text

function isoTime(t: Timestamp): string {
  const ms = t.seconds * 1000 + Math.floor(t.nanos / 1e6);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${t.seconds}s` : d.toISOString().replace(/\.\d+Z$/, `.${String(t.nanos).padStart(9, '0').slice(0, 6)}Z`);
}

function sec(t: number): string {
  return t.toFixed(6);
}

function ms(s: number): string {
  const v = s * 1000;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(3);
}

function rtt(r: RttReport | null): string {
  return r === null ? '-' : `${ms(r.min)}/${ms(r.avg)}/${ms(r.max)} ms (${r.samples})`;
}

function host(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** Columns aligned by `align` ('l' or 'r' per column; default: the first left, the rest right). */
function table(header: readonly string[], rows: readonly (readonly string[])[], indent: string, align = 'l'): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    indent +
    cells
      .map((c, i) => ((align[i] ?? 'r') === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd() +
    '\n';
  return line(header) + rows.map(line).join('');
}

function anomaliesText(list: readonly AnomalyReport[], indent: string): string {
  if (list.length === 0) return `${indent}anomalies: none\n`;
  let s = `${indent}anomalies:\n`;
  for (const a of list) {
    const frames = a.examples.filter((e) => e.frame > 0).map((e) => `#${e.frame}`);
    const more = a.count > a.examples.length ? ', ...' : '';
    s += `${indent}  ${a.kind} x${a.count}${frames.length ? ` (${frames.join(', ')}${more})` : ''}: ${a.examples[0]?.detail ?? ''}\n`;
  }
  return s;
}

function dirName(d: number): string {
  return d === 0 ? '0->1' : '1->0';
}

function traffic(dirs: readonly DirectionReport[]): string {
  const rows = dirs.map((d) => [
    dirName(d.from),
    String(d.packets),
    String(d.bytes),
    String(d.dataChunks),
    String(d.retransmissions),
    String(d.messages),
    String(d.userBytes),
    String(d.unorderedMessages),
    String(d.fragments),
    String(d.sacks),
    String(d.sacksWithGaps),
    String(d.gapBlocks),
    String(d.duplicateTsnsReported),
    `${d.heartbeats}/${d.heartbeatAcks}`,
    rtt(d.rttDataToSack),
  ]);
  return table(['traffic', 'packets', 'bytes', 'DATA', 'rtx', 'msgs', 'user bytes', 'unord', 'frags', 'SACKs', 'gap SACKs', 'gaps', 'dup TSNs', 'HB/ACK', 'RTT DATA->SACK min/avg/max'], rows, '  ');
}

function formatAssociation(a: AssociationReport): string {
  const e0 = a.endpoints[0];
  const e1 = a.endpoints[1];
  let s =
    `association ${a.id}: ${host(e0.addresses[0] ?? '?', e0.port)} <-> ${host(e1.addresses[0] ?? '?', e1.port)}, ${a.outcome}` +
    `${a.midStream ? ' (handshake not in capture)' : ''}\n` +
    `  ${sec(a.first)} - ${sec(a.last)} (${(a.last - a.first).toFixed(3)} s), ${plural(a.packets, 'packet')}, ${a.bytes} bytes` +
    `${a.setupTime !== undefined ? `, setup ${ms(a.setupTime)} ms` : ''}${a.restarts > 0 ? `, ${plural(a.restarts, 'restart')}` : ''}\n`;
  s += table(
    ['endpoint', 'port', 'tag', 'addresses'],
    a.endpoints.map((e, i) => [`${i}${e.initiator ? ' (initiator)' : ''}`, String(e.port), e.tags.join(',') || '-', e.addresses.join(', ')]),
    '  ',
    'lrll',
  );
  s += '  timeline\n';
  const tw = Math.max(0, ...a.timeline.map((ev) => sec(ev.time).length));
  for (const ev of a.timeline) {
    s += `    ${sec(ev.time).padStart(tw)}  #${String(ev.frame).padEnd(6)} ${ev.event.padEnd(18)}${ev.from !== undefined ? ` ${dirName(ev.from)}` : '     '}${ev.detail !== undefined ? `  ${ev.detail}` : ''}\n`;
  }
  if (a.eventsDropped > 0) s += `    ... ${plural(a.eventsDropped, 'more event')} not kept\n`;
  s += traffic(a.directions);
  const streamRows: string[][] = [];
  const ppidRows: string[][] = [];
  for (const d of a.directions) {
    for (const st of d.streams) streamRows.push([dirName(d.from), String(st.stream), String(st.messages), String(st.bytes), String(st.unordered)]);
    if (d.otherStreams !== undefined) streamRows.push([dirName(d.from), 'other', String(d.otherStreams.messages), String(d.otherStreams.bytes), '']);
    for (const p of d.ppids) ppidRows.push([dirName(d.from), String(p.ppid), p.name ?? (p.ppid === 0 ? 'unspecified' : ''), String(p.messages), String(p.bytes)]);
  }
  if (streamRows.length > 0) s += table(['streams', 'stream', 'msgs', 'bytes', 'unordered'], streamRows, '  ');
  if (ppidRows.length > 0) s += table(['PPIDs', 'ppid', 'name', 'msgs', 'bytes'], ppidRows, '  ', 'lrl');
  const pathRows = a.paths.map((p) => [
    dirName(p.from),
    `${p.source} > ${p.destination}`,
    String(p.packets),
    String(p.bytes),
    String(p.dataChunks),
    String(p.retransmissions),
    `${p.heartbeats}/${p.heartbeatAcks}`,
    rtt(p.rttHeartbeat),
    `${sec(p.first)}-${sec(p.last)}`,
  ]);
  s += table(['paths', 'source > destination', 'packets', 'bytes', 'DATA', 'rtx', 'HB/ACK', 'RTT HB->ACK min/avg/max', 'first-last'], pathRows, '  ', 'll');
  if (a.pathSwitches + a.failovers > 0) s += `  path switches: ${a.pathSwitches}, failovers: ${a.failovers}\n`;
  s += `  chunks: ${Object.entries(a.chunks).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}\n`;
  s += anomaliesText(a.anomalies, '  ');
  return s;
}

/** The report as text; `only` prints that association alone (the header still counts them all). */
export function formatInspectReport(file: string, r: InspectReport, only?: number): string {
  let s =
    `${file}: ${r.format ?? '?'}, ${plural(r.frames, 'frame')}, ${plural(r.sctpPackets, 'SCTP packet')}` +
    `${r.start !== null ? `, ${r.duration.toFixed(3)} s from ${isoTime(r.start)}` : ''}; ${plural(r.associations.length, 'association')}` +
    `${r.ungroupedPackets > 0 ? `, ${plural(r.ungroupedPackets, 'packet')} in none` : ''}\n`;
  if (r.untracked !== undefined) s += `limit: ${plural(r.untracked.associations, 'more association')} (${plural(r.untracked.packets, 'packet')}) not tracked\n`;
  if (r.fatalError !== undefined) s += `reading stopped early: ${r.fatalError}\n`;
  s += anomaliesText(r.anomalies, '');
  for (const a of r.associations) if (only === undefined || a.id === only) s += `\n${formatAssociation(a)}`;
  return s;
}

// ---------------------------------------------------------------- commands

function positiveInt(what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > 1e9) throw new InvalidArgumentError(`${what} must be an integer from 1 to 1e9, got ${JSON.stringify(value)}`);
    return n;
  };
}

function nonNegativeInt(what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > 1e9) throw new InvalidArgumentError(`${what} must be an integer from 0 to 1e9, got ${JSON.stringify(value)}`);
    return n;
  };
}

function speed(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > 1e6) throw new InvalidArgumentError(`--speed must be a positive factor (2 = twice as fast), got ${JSON.stringify(value)}`);
  return n;
}

function udpPair(value: string): { local: number; remote: number } {
  const m = /^(\d+):(\d+)$/.exec(value);
  const local = Number(m?.[1]);
  const remote = Number(m?.[2]);
  if (m === null || local > 65535 || remote < 1 || remote > 65535) throw new InvalidArgumentError(`expected LOCALPORT:REMOTEPORT (LOCALPORT 0: ephemeral), got ${JSON.stringify(value)}`);
  return { local, remote };
}

export function addPcapCommand(program: Command, deps: PcapCommandDeps): void {
  const pcap = program.command('pcap').description('inspect captures and replay captured associations against live peers');

  pcap
    .command('inspect')
    .description('group the SCTP packets of a capture into associations: endpoints, timeline, traffic per stream and PPID, retransmissions, RTTs, paths, anomalies')
    .argument('<file>', 'capture file (pcap or pcapng)')
    .option('--json', 'one JSON object (the whole report)')
    .option('--udp-port <port>', 'UDP port carrying RFC 6951 encapsulated SCTP (repeatable; default 9899)', deps.collectPorts)
    .option('--assoc <n>', 'show association N only', positiveInt('--assoc'))
    .option('--max-associations <n>', 'associations tracked (memory bound; default 10000)', positiveInt('--max-associations'))
    .action(async (file: string, opts: { json?: boolean; udpPort?: number[]; assoc?: number; maxAssociations?: number }) => {
      process.exitCode = await inspectCommand(file, {
        json: opts.json === true,
        udpPorts: opts.udpPort ?? [9899],
        ...(opts.assoc !== undefined && { association: opts.assoc }),
        ...(opts.maxAssociations !== undefined && { maxAssociations: opts.maxAssociations }),
        out: process.stdout,
        err: process.stderr,
      });
    });

  pcap
    .command('replay')
    .description('replay one side of a captured association against a live SCTP endpoint with our own stack and report where the peer behaves differently; with --offline, re-execute that side in our core in virtual time and report where our responses differ from the captured ones')
    .argument('<file>', 'capture file (pcap or pcapng)')
    .option('--target <addr[,addr...]:port>', 'client side: the live peer to connect to; server side: the address(es) and port to listen on (required unless --offline)', deps.parseEndpoint)
    .option('--offline', 're-execute the side in our core in virtual time (capture timestamps as the clock) and compare its chunks with the captured ones; no network')
    .option('--strict', 'with --offline: exit 1 on any divergence')
    .option('--rwnd-tolerance <bytes>', 'with --offline: bytes a_rwnd may differ by (default 0)', nonNegativeInt('--rwnd-tolerance'))
    .option('--ignore-rwnd', 'with --offline: do not compare a_rwnd')
    .option('--time-tolerance <ms>', 'with --offline: how much earlier or later than captured a chunk may leave (default 50)', nonNegativeInt('--time-tolerance'))
    .option('--sack-delay <ms>', 'with --offline: delayed SACK timer of our core (RFC 9260 §6.2; default 200)', nonNegativeInt('--sack-delay'))
    .option('--sack-freq <n>', 'with --offline: SACK at least every N packets with DATA (default 2)', positiveInt('--sack-freq'))
    .option('--rwnd <bytes>', 'with --offline: our receive window (default: the a_rwnd of our captured INIT / INIT ACK)', positiveInt('--rwnd'))
    .option('--path-mtu <bytes>', 'with --offline: path MTU of our core (default 1500)', positiveInt('--path-mtu'))
    .option('--hb-interval <ms>', 'with --offline: HB.interval of our core (default 30000)', positiveInt('--hb-interval'))
    .option('--nodelay', 'with --offline: our core sends without the Nagle-like bundling delay')
    .addOption(new Option('--side <side>', 'the captured endpoint to play').choices(['client', 'server']).default('client'))
    .option('--assoc <n>', 'association number as `pcap inspect` prints it (default: the first with user messages)', positiveInt('--assoc'))
    .addOption(new Option('--speed <x>', 'scale the captured timing (2 = twice as fast)').argParser(speed).conflicts('asap'))
    .addOption(new Option('--asap', 'send without the captured pauses').conflicts('speed'))
    .option('--udp-encap <localport:remoteport>', 'SCTP over UDP (RFC 6951): local UDP port (0: ephemeral) and the peer\'s; without it raw IP (needs root)', udpPair)
    .option('--bind <addr[,addr...]>', 'client side: local address(es) (default: the source address the kernel routes to the target)', deps.parseAddressList)
    .option('--udp-port <port>', 'UDP port carrying RFC 6951 encapsulated SCTP in the capture (repeatable; default 9899)', deps.collectPorts)
    .option('--wait <ms>', 'after the last captured message: how long to wait for the peer to go quiet', positiveInt('--wait'), 2000)
    .option('--timeout <ms>', 'give up after this long overall', positiveInt('--timeout'), 60_000)
    .option('--json', 'print one JSON report')
    .addOption(deps.logLevelOption().default('warn'))
    .action(
      async (
        file: string,
        opts: {
          target?: { addresses: string[]; port: number };
          offline?: boolean;
          strict?: boolean;
          rwndTolerance?: number;
          ignoreRwnd?: boolean;
          timeTolerance?: number;
          sackDelay?: number;
          sackFreq?: number;
          rwnd?: number;
          pathMtu?: number;
          hbInterval?: number;
          nodelay?: boolean;
          side: 'client' | 'server';
          assoc?: number;
          speed?: number;
          asap?: boolean;
          udpEncap?: { local: number; remote: number };
          bind?: string[];
          udpPort?: number[];
          wait: number;
          timeout: number;
          json?: boolean;
          logLevel: LogLevel;
        },
      ) => {
        if (opts.offline === true) {
          if (opts.target !== undefined) throw deps.usageError('--offline runs without a network: drop --target');
          process.exitCode = await offlineReplayCommand(file, {
            side: opts.side,
            ...(opts.assoc !== undefined && { association: opts.assoc }),
            udpPorts: opts.udpPort ?? [9899],
            config: {
              ...(opts.sackDelay !== undefined && { sackDelay: opts.sackDelay }),
              ...(opts.sackFreq !== undefined && { sackFrequency: opts.sackFreq }),
              ...(opts.rwnd !== undefined && { receiveWindow: opts.rwnd }),
              ...(opts.pathMtu !== undefined && { pathMtu: opts.pathMtu }),
              ...(opts.hbInterval !== undefined && { hbInterval: opts.hbInterval }),
              ...(opts.nodelay === true && { nodelay: true }),
            },
            rwndTolerance: opts.ignoreRwnd === true ? Infinity : (opts.rwndTolerance ?? 0),
            timeTolerance: opts.timeTolerance ?? 50,
            strict: opts.strict === true,
            json: opts.json === true,
            out: process.stdout,
            err: process.stderr,
          });
          return;
        }
        const offlineOnly = (['strict', 'rwndTolerance', 'ignoreRwnd', 'timeTolerance', 'sackDelay', 'sackFreq', 'rwnd', 'pathMtu', 'hbInterval', 'nodelay'] as const).filter((k) => opts[k] !== undefined);
        if (offlineOnly.length > 0) throw deps.usageError(`--${offlineOnly[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --offline`);
        if (opts.target === undefined) throw deps.usageError('pcap replay needs --target ADDR:PORT (or --offline)');
        const bind = opts.bind;
        process.exitCode = await replayCommand(file, {
          target: opts.target,
          side: opts.side,
          ...(opts.assoc !== undefined && { association: opts.assoc }),
          speed: opts.asap === true ? Infinity : (opts.speed ?? 1),
          ...(opts.udpEncap !== undefined && { udpEncap: opts.udpEncap }),
          ...(bind !== undefined && { bind }),
          udpPorts: opts.udpPort ?? [9899],
          waitMs: opts.wait,
          timeoutMs: opts.timeout,
          json: opts.json === true,
          logger: cliLogger(opts.logLevel),
          out: process.stdout,
          err: process.stderr,
        });
      },
    );

  for (const c of [pcap, ...pcap.commands]) c.showSuggestionAfterError(false).exitOverride();
}
