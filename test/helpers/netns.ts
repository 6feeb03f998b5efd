/**
 * Namespace pairs, bounded child processes, captures and tshark verdicts for
 * the root-only interop suites (test/interop/matrix-*.test.ts,
 * npm-sctp.test.ts).
 *
 * - A namespace pair is two network namespaces joined by one or two veth
 *   pairs (two: each side has an address on each link, so an association can
 *   be multihomed with two disjoint paths). IPv6 is off in both namespaces and
 *   the neighbours are static: the links carry nothing but the test's traffic.
 * - Every child runs under `ip netns exec`, in a process group of its own, with
 *   a hard timeout; killAll() ends what is left (afterAll, also after a failure).
 * - Captures are dumpcap on every link of one side; dissect() asks tshark for
 *   one row per frame, with the payload dissectors above SCTP disabled (test
 *   payloads are random bytes, not M3UA or S1AP, which would otherwise be
 *   "malformed" by PPID or port).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import ts from 'typescript';
import { repoRoot } from './env.js';
import { deleteNamespace, NETNS_PREFIX, removeStaleNamespaces, run } from '../transport/children.js';

// ---------------------------------------------------------------- namespaces

export interface Link {
  readonly devA: string;
  readonly devB: string;
  readonly addrA: string;
  readonly addrB: string;
}

export interface NsPair {
  readonly a: string;
  readonly b: string;
  readonly links: readonly Link[];
  /** Side A's addresses, one per link. */
  readonly addrsA: readonly string[];
  readonly addrsB: readonly string[];
}

/**
 * Creates `${NETNS_PREFIX}${pid}-${letters[0]}` and `-${letters[1]}` joined by
 * `links` veth pairs; link i gets 10.`net`.`firstSubnet + i`.1 (side A) and .2 (side B).
 */
export function createNsPair(letters: readonly [string, string], net: number, firstSubnet: number, links: 1 | 2): NsPair {
  removeStaleNamespaces();
  const a = `${NETNS_PREFIX}${process.pid}-${letters[0]}`;
  const b = `${NETNS_PREFIX}${process.pid}-${letters[1]}`;
  for (const ns of [a, b]) {
    deleteNamespace(ns);
    run('ip', ['netns', 'add', ns]);
    // Before the veths exist, so that they get no IPv6 link-local address either.
    for (const scope of ['all', 'default']) run('ip', ['netns', 'exec', ns, 'sh', '-c', `echo 1 > /proc/sys/net/ipv6/conf/${scope}/disable_ipv6`]);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  const made: Link[] = [];
  for (let i = 0; i < links; i++) {
    const subnet = firstSubnet + i;
    const l: Link = { devA: `v${letters[0]}${i}`, devB: `v${letters[1]}${i}`, addrA: `10.${net}.${subnet}.1`, addrB: `10.${net}.${subnet}.2` };
    const macA = `02:${net.toString(16).padStart(2, '0')}:${subnet.toString(16).padStart(2, '0')}:00:00:01`;
    const macB = `02:${net.toString(16).padStart(2, '0')}:${subnet.toString(16).padStart(2, '0')}:00:00:02`;
    run('ip', ['-n', a, 'link', 'add', l.devA, 'address', macA, 'type', 'veth', 'peer', 'name', l.devB, 'address', macB, 'netns', b]);
    run('ip', ['-n', a, 'addr', 'add', `${l.addrA}/24`, 'dev', l.devA]);
    run('ip', ['-n', b, 'addr', 'add', `${l.addrB}/24`, 'dev', l.devB]);
    run('ip', ['-n', a, 'link', 'set', l.devA, 'up']);
    run('ip', ['-n', b, 'link', 'set', l.devB, 'up']);
    run('ip', ['-n', a, 'neigh', 'replace', l.addrB, 'lladdr', macB, 'dev', l.devA, 'nud', 'permanent']);
    run('ip', ['-n', b, 'neigh', 'replace', l.addrA, 'lladdr', macA, 'dev', l.devB, 'nud', 'permanent']);
    made.push(l);
  }
  return { a, b, links: made, addrsA: made.map((l) => l.addrA), addrsB: made.map((l) => l.addrB) };
}

export async function waitLinksUp(p: NsPair): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = p.links.every(
      (l) => run('ip', ['-n', p.a, 'link', 'show', l.devA]).includes('LOWER_UP') && run('ip', ['-n', p.b, 'link', 'show', l.devB]).includes('LOWER_UP'),
    );
    if (up) return;
    await sleep(50);
  }
  throw new Error(`the veth pairs of ${p.a}/${p.b} did not come up within 5 s`);
}

export function deleteNsPair(p: NsPair | undefined): void {
  if (p === undefined) return;
  deleteNamespace(p.a);
  deleteNamespace(p.b);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------- compiled src/ for the children

/**
 * Transpiles every TypeScript file of src/ to JavaScript in
 * node_modules/.cache/hasctp-matrix-test-<pid>-<tag>, for the child processes:
 * Node 20 cannot run TypeScript and dist/ may be stale. File by file
 * (ts.transpileModule, no type check: that is `npm run typecheck`'s job), which
 * takes seconds where a full tsc run over the growing src/ takes tens. Inside
 * the repository so that the addon is found from there (package root lookup).
 */
export function compileSrc(tag: string): string {
  const cache = join(repoRoot, 'node_modules', '.cache');
  for (const name of existsSync(cache) ? readdirSync(cache) : []) {
    const m = /^hasctp-matrix-test-(\d+)-/.exec(name);
    if (m !== null && !alive(Number(m[1]))) rmSync(join(cache, name), { recursive: true, force: true });
  }
  const out = join(cache, `hasctp-matrix-test-${process.pid}-${tag}`);
  rmSync(out, { recursive: true, force: true });
  const src = join(repoRoot, 'src');
  const options: ts.CompilerOptions = { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true };
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const r = ts.transpileModule(readFileSync(path, 'utf8'), { fileName: path, compilerOptions: options, reportDiagnostics: true });
        const errors = (r.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
        if (errors.length > 0) throw new Error(`${path}: ${ts.flattenDiagnosticMessageText(errors[0]!.messageText, '\n')}`);
        const target = join(out, relative(src, path)).replace(/\.ts$/, '.js');
        mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
        writeFileSync(target, r.outputText);
      }
    }
  };
  walk(src);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A no-op usrsctp_sysctl_set_sctp_debug_on to LD_PRELOAD: the Debian usrsctp
 * programs are built with SCTP_DEBUG and some switch every trace on. Undefined
 * when there is no C compiler (the programs then just print more).
 */
export function buildNoDebugShim(dir: string): string | undefined {
  const src = join(dir, 'nodebug.c');
  const so = join(dir, 'nodebug.so');
  writeFileSync(src, 'int usrsctp_sysctl_set_sctp_debug_on(unsigned int v) { (void)v; return 0; }\n');
  const r = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', so, src], { timeout: 30_000, encoding: 'utf8' });
  return r.status === 0 ? so : undefined;
}

// ---------------------------------------------------------------- bounded children

const running = new Set<Proc>();

export interface ProcOptions {
  /** Killed (the whole process group) after this long. */
  readonly timeoutMs: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Every stdout line, as it comes (for outputs too big to keep). */
  readonly onLine?: (line: string) => void;
}

/** A command under `ip netns exec`, with its output kept (bounded) and its JSON lines queued. */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly label: string;
  private tail = '';
  private readonly json: Record<string, unknown>[] = [];
  private readonly waiters = new Set<() => void>();
  private ended = false;

  constructor(ns: string, cmd: string, args: readonly string[], o: ProcOptions) {
    this.label = `${cmd.split('/').pop()} ${args.join(' ')}`.slice(0, 200);
    const envArgs = o.env === undefined ? [] : ['env', ...Object.entries(o.env).map(([k, v]) => `${k}=${v}`)];
    this.child = spawn('ip', ['netns', 'exec', ns, ...envArgs, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    running.add(this);
    const timer = setTimeout(() => this.kill(), o.timeoutMs);
    this.child.stderr!.on('data', (d: Buffer) => {
      this.keep(d.toString('latin1'));
      this.wake();
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.keep(`${line}\n`);
      o.onLine?.(line);
      if (line.startsWith('{')) {
        try {
          this.json.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not one of ours
        }
      }
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        this.ended = true;
        running.delete(this);
        this.wake();
        resolve(code);
      });
      this.child.once('error', (e) => {
        this.keep(`spawn error: ${e.message}\n`);
        clearTimeout(timer);
        this.ended = true;
        running.delete(this);
        this.wake();
        resolve(null);
      });
    });
  }

  private keep(s: string): void {
    this.tail += s;
    if (this.tail.length > 400_000) this.tail = this.tail.slice(-200_000);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  output(): string {
    return this.tail;
  }

  get done(): boolean {
    return this.ended;
  }

  /** Resolves once `cond` holds (checked at every output line and at exit); rejects after ms or at exit without it. */
  until(what: string, ms: number, cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (cond()) finish();
        else if (this.ended) finish(new Error(`${this.label} exited (code ${this.child.exitCode}, signal ${this.child.signalCode}) before ${what}:\n${this.tail.slice(-4000)}`));
      };
      const finish = (err?: Error): void => {
        clearTimeout(t);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const t = setTimeout(() => finish(new Error(`no ${what} from ${this.label} within ${ms} ms:\n${this.tail.slice(-4000)}`)), ms);
      this.waiters.add(check);
    });
  }

  /** The first queued JSON line whose `event` is one of `events` (removed from the queue). */
  async event(events: string | readonly string[], ms: number): Promise<Record<string, unknown>> {
    const want = typeof events === 'string' ? [events, 'error'] : [...events, 'error'];
    let found: Record<string, unknown> | undefined;
    const take = (): boolean => {
      const i = this.json.findIndex((j) => want.includes(String(j.event)));
      if (i < 0) return false;
      found = this.json.splice(i, 1)[0];
      return true;
    };
    await this.until(`a ${want.join('/')} line`, ms, take);
    if (found!.event === 'error' && !want.slice(0, -1).includes('error')) throw new Error(`${this.label}: ${String(found!.message)}\n${this.tail.slice(-3000)}`);
    return found!;
  }

  write(s: string): void {
    if (!this.ended) this.child.stdin!.write(s);
  }

  /** Sends `signal` (to the process group), then SIGKILL after ms; resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', ms = 3000): Promise<number | null> {
    if (!this.ended) this.signal(signal);
    const t = setTimeout(() => this.kill(), ms);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  /** Waits at most ms for the exit, then kills; the exit code (null when killed). */
  async wait(ms: number): Promise<number | null> {
    const t = setTimeout(() => this.kill(), ms);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.child.pid === undefined || this.ended) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        // gone
      }
    }
  }

  kill(): void {
    this.signal('SIGKILL');
  }
}

/** Ends every child started here that still runs (the whole process group of each), but `keep`. */
export async function killAll(keep?: Proc): Promise<void> {
  const left = [...running].filter((p) => p !== keep);
  for (const p of left) p.kill();
  await Promise.all(left.map((p) => Promise.race([p.exited, sleep(3000)])));
}

// ---------------------------------------------------------------- capture and dissection

/** dumpcap on the given links of namespace `ns`; resolves once it captures. */
export async function startCapture(ns: string, devs: readonly string[], file: string): Promise<Proc> {
  // -B: kernel buffer (MiB); -N / -C: dumpcap's own queue between its per-interface
  // threads and the writer (limited by default in some versions: a burst drops).
  const p = new Proc(ns, 'dumpcap', [...devs.flatMap((d) => ['-i', d]), '-B', '64', '-N', '10000000', '-C', '1000000000', '-w', file, '-q'], { timeoutMs: 300_000 });
  await p.until('"Capturing on"', 10_000, () => p.output().includes('Capturing on'));
  return p;
}

/**
 * Stops dumpcap cleanly and returns what it says it dropped per interface
 * (kernel, dumpcap, interface drops: all must be 0 for "every packet captured").
 */
export async function stopCapture(p: Proc): Promise<{ received: number; dropped: number; report: string }> {
  // libpcap hands packets over in blocks retired on a timeout: give the last
  // block time to reach dumpcap before the stop (dumpcap finishes the file on SIGINT).
  await sleep(1000);
  await p.stop('SIGINT', 10_000);
  let received = 0;
  let dropped = 0;
  const lines = p.output().split('\n').filter((l) => l.startsWith('Packets received/dropped'));
  for (const l of lines) {
    const m = /: (\d+)\/(\d+) \(pcap:(\d+)\/dumpcap:(\d+)\/flushed:\d+\/ps_ifdrop:(\d+)\)/.exec(l);
    if (m === null) throw new Error(`unexpected dumpcap statistics line: ${l}`);
    received += Number(m[1]);
    dropped += Number(m[2]) + Number(m[3]) + Number(m[4]) + Number(m[5]);
  }
  if (lines.length === 0) throw new Error(`dumpcap printed no statistics:\n${p.output().slice(-2000)}`);
  return { received, dropped, report: lines.join('\n') };
}

export interface WireRow {
  readonly frame: number;
  readonly iface: string;
  readonly src: string;
  readonly dst: string;
  readonly udp: boolean;
  readonly sport: number;
  readonly dport: number;
  readonly chunks: readonly number[];
  /** Wireshark's sctp.checksum.status: '1' good, '0' bad, '' unverified (not SCTP). */
  readonly checksum: string;
  readonly malformed: boolean;
  readonly expert: readonly string[];
  readonly expertSeverities: readonly number[];
}

/** Expert info severity "error" (Wireshark's PI_ERROR). */
export const EXPERT_ERROR = 0x00800000;

let disabledPayloadDissectors: string[] | undefined;

/** `--disable-protocol X` for everything Wireshark would hand an SCTP payload to (by PPID, by port, heuristically). */
function payloadDissectorsOff(): string[] {
  if (disabledPayloadDissectors !== undefined) return disabledPayloadDissectors;
  const protos = new Set<string>();
  const decodes = spawnSync('tshark', ['-G', 'decodes'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '';
  for (const line of decodes.split('\n')) {
    const [table, , proto] = line.split('\t');
    if ((table === 'sctp.ppi' || table === 'sctp.port') && proto) protos.add(proto.trim());
  }
  const heur = spawnSync('tshark', ['-G', 'heuristic-decodes'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '';
  for (const line of heur.split('\n')) {
    const [under, proto] = line.split('\t');
    if (under === 'sctp' && proto) protos.add(proto.trim());
  }
  disabledPayloadDissectors = [...protos].sort().flatMap((p) => ['--disable-protocol', p]);
  return disabledPayloadDissectors;
}

/** One row per frame of the capture, as tshark dissects it (CRC32c checked; UDP `udpPorts` decoded as SCTP). */
export function dissect(file: string, udpPorts: readonly number[] = []): WireRow[] {
  const fields = [
    'frame.number', 'frame.interface_name', 'ip.src', 'ip.dst', 'udp.srcport', 'sctp.srcport', 'sctp.dstport', 'sctp.chunk_type',
    'sctp.checksum.status', '_ws.malformed', '_ws.expert.message', '_ws.expert.severity',
  ];
  const r = spawnSync(
    'tshark',
    [
      '-r', file, '-n', '-o', 'sctp.checksum:CRC-32C', ...udpPorts.flatMap((p) => ['-d', `udp.port==${p},sctp`]), ...payloadDissectorsOff(),
      '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=|', ...fields.flatMap((f) => ['-e', f]),
    ],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 << 20 },
  );
  if (r.status !== 0) throw new Error(`tshark -r ${file} failed: ${r.stderr}${r.error?.message ?? ''}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [frame = '', iface = '', src = '', dst = '', udpSport = '', sport = '', dport = '', chunks = '', checksum = '', malformed = '', expert = '', sev = ''] = l.split('\t');
      return {
        frame: Number(frame),
        iface,
        src,
        dst,
        udp: udpSport !== '',
        sport: Number(sport.split('|')[0]),
        dport: Number(dport.split('|')[0]),
        chunks: chunks === '' ? [] : chunks.split('|').map(Number),
        checksum,
        malformed: malformed !== '',
        expert: expert === '' ? [] : expert.split('|'),
        expertSeverities: sev === '' ? [] : sev.split('|').map(Number),
      };
    });
}

/** What is wrong with a dissected frame (empty: nothing). */
export function frameProblems(r: WireRow): string[] {
  const p: string[] = [];
  if (r.chunks.length === 0) p.push('not SCTP');
  if (r.malformed) p.push('malformed');
  if (r.chunks.length > 0 && r.checksum !== '1') p.push(`checksum status ${JSON.stringify(r.checksum)}`);
  r.expert.forEach((m, i) => {
    if ((r.expertSeverities[i] ?? 0) >= EXPERT_ERROR || /malformed|bad checksum|incorrect|wrong/i.test(m)) p.push(`expert: ${m}`);
  });
  return p;
}

export function describeRow(r: WireRow): string {
  return `#${r.frame} ${r.iface} ${r.src}:${r.sport} > ${r.dst}:${r.dport}${r.udp ? ' (udp)' : ''} chunks ${r.chunks.join(',')}`;
}

/** SCTP chunk type numbers used by the checks. */
export const CT = { data: 0, init: 1, initAck: 2, sack: 3, heartbeat: 4, heartbeatAck: 5, abort: 6, shutdown: 7, shutdownAck: 8, error: 9, cookieEcho: 10, cookieAck: 11, shutdownComplete: 14 } as const;
