// Shared by the operations tests: the CLI compiled for child processes (Node
// 20 cannot run TypeScript; dist/ may be stale), child process handling, free
// ports, in-process CLI runs and a strict Prometheus text-format parser.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { compileSrc } from '../helpers/netns.js';
import { cli } from '../helpers/cli.js';

/**
 * src/ transpiled for the child processes (test/helpers/netns.ts compileSrc:
 * file by file, no type check, seconds; Node 20 cannot run TypeScript and
 * dist/ may be stale). `tag` names the test file. Returns the path of bin.js.
 */
export function compiledBin(tag: string): string {
  return join(compileSrc(`ops-${tag}`), 'cli', 'bin.js');
}

/** A random 127.x.y network (three hosts .1 .2 .3 on loopback, no root needed). */
export function loopbackNet(): string {
  return `127.${randomInt(64, 250)}.${randomInt(1, 250)}`;
}

export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  const p = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

export interface Proc {
  readonly proc: ChildProcess;
  readonly out: () => string;
  readonly err: () => string;
  /** Resolves when stdout+stderr match, rejects after ms (with the output). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (SIGKILL after ms). */
  exit(ms?: number): Promise<number | null>;
}

const procs: Proc[] = [];

export function startProc(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const p: Proc = {
    proc,
    out: () => out,
    err: () => err,
    async waitFor(re, ms = 10_000) {
      const end = Date.now() + ms;
      for (;;) {
        const m = (out + err).match(re);
        if (m) return m;
        if (Date.now() > end || proc.exitCode !== null) throw new Error(`waiting for ${re}: ${proc.exitCode !== null ? `exited ${proc.exitCode}` : 'timed out'}\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async exit(ms = 10_000) {
      const t = setTimeout(() => proc.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  procs.push(p);
  return p;
}

/** SIGKILLs every child still running (afterEach / afterAll). */
export async function killAll(): Promise<void> {
  for (const p of procs.splice(0)) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      p.proc.kill('SIGKILL');
      await p.exit(2000);
    }
  }
}

export { cli };

/** `cli` expecting success and one JSON value on stdout. */
export async function cliJson<T = unknown>(args: string[]): Promise<T> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`hasctp ${args.join(' ')}: exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as T;
}

export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Parses Prometheus text exposition format 0.0.4 strictly: HELP/TYPE lines,
 * one TYPE per family before its samples, samples of a family contiguous,
 * metric and label names valid, label values escaped, values numeric, no
 * duplicate series, counters named *_total. @throws Error naming the line.
 */
export function parsePrometheus(text: string): Sample[] {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const types = new Map<string, string>();
  const done = new Set<string>();
  const seen = new Set<string>();
  const samples: Sample[] = [];
  let current: string | undefined;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (!m) throw new Error(`bad comment, ${where}`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!)) throw new Error(`bad type, ${where}`);
        if (types.has(m[2]!)) throw new Error(`second TYPE, ${where}`);
        types.set(m[2]!, m[3]!);
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad sample, ${where}`);
    const name = m[1]!;
    if (!types.has(name)) throw new Error(`sample before its TYPE, ${where}`);
    if (types.get(name) === 'counter' && !name.endsWith('_total')) throw new Error(`counter not named *_total, ${where}`);
    if (current !== name) {
      if (done.has(name)) throw new Error(`family not contiguous, ${where}`);
      if (current !== undefined) done.add(current);
      current = name;
    }
    const labels: Record<string, string> = {};
    let rest = m[3] ?? '';
    while (rest !== '') {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
      if (!l) throw new Error(`bad labels, ${where}`);
      if (l[1]! in labels) throw new Error(`duplicate label, ${where}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(l[0].length);
    }
    const v = m[4]!;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : v === 'NaN' ? NaN : Number(v);
    if (!/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+|Inf|NaN)$/.test(v) || (Number.isNaN(value) && v !== 'NaN')) throw new Error(`bad value, ${where}`);
    const key = `${name}{${Object.entries(labels).sort().map(([k, x]) => `${k}=${x}`).join(',')}}`;
    if (seen.has(key)) throw new Error(`duplicate series, ${where}`);
    seen.add(key);
    samples.push({ name, labels, value });
  });
  return samples;
}

/** The value of one series (labels must match exactly the given subset); undefined if absent. */
export function sample(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
