/**
 * Child processes and network namespaces for the raw IP transport tests.
 * Every wait is bounded; everything started here is tracked so that afterAll
 * can end it even when a test failed half-way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../helpers/env.js';

export function run(cmd: string, args: string[], allowFailure = false): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (!allowFailure && (r.error !== undefined || r.status !== 0)) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`);
  }
  return r.stdout ?? '';
}

/**
 * Compiles src/transport and src/wire (only what they import) into a
 * directory of its own under node_modules/.cache, for the child processes:
 * Node 20 cannot run TypeScript, and dist/ may be stale or belong to a build
 * of other work in progress. Inside the repository so that native.ts finds
 * the package root (and the addon) from there.
 */
let compiledDir: string | undefined;

export function compileForChildren(): string {
  if (compiledDir !== undefined) return compiledDir;
  const cache = join(repoRoot, 'node_modules', '.cache');
  // Left by runs that were killed before their afterAll.
  for (const name of existsSync(cache) ? readdirSync(cache) : []) {
    const m = /^hasctp-transport-test-(\d+)$/.exec(name);
    if (m !== null && !alive(Number(m[1]))) rmSync(join(cache, name), { recursive: true, force: true });
  }
  const out = join(cache, `hasctp-transport-test-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true, mode: 0o755 });
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [
    tsc, '--outDir', out, '--rootDir', join(repoRoot, 'src'), '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
    '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node', '--sourceMap', 'false',
    join(repoRoot, 'src', 'transport', 'raw.ts'), join(repoRoot, 'src', 'transport', 'udp.ts'), join(repoRoot, 'src', 'wire', 'packet.ts'),
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`compiling src/transport for the child processes failed:\n${r.stdout}${r.stderr}`);
  compiledDir = out;
  return out;
}

/** Removes what compileForChildren made. */
export function removeCompiled(): void {
  if (compiledDir !== undefined) rmSync(compiledDir, { recursive: true, force: true });
  compiledDir = undefined;
}

export interface Child {
  readonly process: ChildProcess;
  /** The next JSON line the child prints, within timeoutMs. */
  next(timeoutMs: number): Promise<Record<string, unknown>>;
  readonly stderr: () => string;
}

const started: ChildProcess[] = [];

export function startChild(cmd: string, args: string[]): Child {
  const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  started.push(p);
  const lines: string[] = [];
  const waiters: ((line: string | undefined) => void)[] = [];
  let err = '';
  let ended = false;
  p.stderr?.on('data', (d: Buffer) => {
    if (err.length < 20_000) err += d.toString();
  });
  createInterface({ input: p.stdout! }).on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else lines.push(line);
  });
  p.on('exit', () => {
    ended = true;
    for (const w of waiters.splice(0)) w(undefined);
  });
  return {
    process: p,
    stderr: () => err,
    next(timeoutMs) {
      const ready = lines.shift();
      if (ready !== undefined) return Promise.resolve(JSON.parse(ready) as Record<string, unknown>);
      if (ended) return Promise.reject(new Error(`${args.join(' ')} exited (code ${p.exitCode}): ${err}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(got);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`no line from the child within ${timeoutMs} ms; stderr: ${err}`));
        }, timeoutMs);
        const got = (line: string | undefined): void => {
          clearTimeout(timer);
          if (line === undefined) reject(new Error(`child exited (code ${p.exitCode}) before answering; stderr: ${err}`));
          else resolve(JSON.parse(line) as Record<string, unknown>);
        };
        waiters.push(got);
      });
    },
  };
}

/** Waits for a child to exit, then kills its process group if it did not within timeoutMs. */
export function waitExit(p: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      killGroup(p);
      resolve(null);
    }, timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function killGroup(p: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(-p.pid, signal); // detached: the child leads its own group (tshark + dumpcap)
  } catch {
    try {
      p.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Ends every child this module started that is still running. */
export async function killAllChildren(): Promise<void> {
  for (const p of started.splice(0)) {
    killGroup(p);
    await waitExit(p, 2000);
  }
}

// ---------------------------------------------------------------- namespaces

export const NETNS_PREFIX = 'hasctp-t-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces left by earlier runs whose test process is gone (and ends what still runs in them). */
export function removeStaleNamespaces(): void {
  for (const line of run('ip', ['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^hasctp-t-(\d+)-[a-z]{1,2}$/.exec(name);
    if (m === null || alive(Number(m[1]))) continue;
    deleteNamespace(name);
  }
}

export function deleteNamespace(name: string): void {
  for (const pid of run('ip', ['netns', 'pids', name], true).split('\n')) {
    if (/^\d+$/.test(pid.trim())) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  run('ip', ['netns', 'del', name], true);
}
