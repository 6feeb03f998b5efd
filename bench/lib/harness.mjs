// What the namespace benchmarks (bench/net.mjs, bench/ha.mjs) share: child
// processes started inside network namespaces and always reaped, namespaces
// always removed (on exit, on SIGINT/SIGTERM/SIGHUP and on failure), bounded
// waits, and the LD_PRELOAD shim that keeps Debian's debug-built usrsctp
// programs quiet.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a command to completion (20 s at most); throws on failure unless `allowFailure`. */
export function run(cmd, args, allowFailure = false) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (!allowFailure && (r.error !== undefined || r.status !== 0)) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? (r.stderr || '').trim()}`);
  }
  return r.stdout ?? '';
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

export function killPid(pid, signal = 'SIGKILL') {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Ends whatever runs in the namespace (only ever our own children), then removes it. */
export function deleteNamespace(name) {
  for (const line of run('ip', ['netns', 'pids', name], true).split('\n')) if (/^\d+$/.test(line.trim())) killPid(Number(line.trim()));
  run('ip', ['netns', 'del', name], true);
}

/** Polls `predicate` (may be async) every `every` ms for at most `ms`. */
export async function waitFor(predicate, ms, every = 25) {
  const until = Date.now() + ms;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() > until) return false;
    await sleep(every);
  }
}

/** Resolves with the child's exit code, or 'timeout' after `ms`. */
export async function exitWithin(s, ms) {
  let timer;
  const r = await Promise.race([s.exited, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  clearTimeout(timer);
  return r;
}

const keepTail = (text, max) => (text.length > max ? text.slice(-max / 2) : text);

/**
 * One benchmark's processes and namespaces. `name` labels messages and the
 * temporary directory; `namespaces` are removed at the end (and, left over
 * from an earlier run whose process is gone, at the start: they are named
 * `${prefix}-${pid}-...`); every child runs under `nice -n nice` (0: not).
 */
export function createHarness({ name, prefix, namespaces, nice }) {
  const children = new Map();
  const tmp = mkdtempSync(join(tmpdir(), `hasctp-${name}-`));
  let cleaned = false;

  function cleanup() {
    if (cleaned) return;
    cleaned = true;
    for (const pid of children.keys()) killPid(pid);
    for (const ns of namespaces) deleteNamespace(ns);
    rmSync(tmp, { recursive: true, force: true });
  }
  process.on('exit', cleanup);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(signal, () => {
      console.error(`\n${name}: ${signal}, cleaning up`);
      cleanup();
      process.exit(code);
    });
  }
  for (const event of ['uncaughtException', 'unhandledRejection']) {
    process.on(event, (err) => {
      console.error(`${name}: ${err?.stack ?? err}`);
      cleanup();
      process.exit(1);
    });
  }

  const stale = new RegExp(`^${prefix}-(\\d+)-\\S+`);
  for (const line of run('ip', ['netns', 'list'], true).split('\n')) {
    const m = stale.exec(line);
    if (m !== null && !alive(Number(m[1]))) deleteNamespace(m[0]);
  }

  /**
   * Starts `cmd` inside namespace `ns`, killed with SIGKILL after `limitMs`.
   * Output is kept, bounded: `out` (stdout), `err` (stderr), `all` (both);
   * `onLine` gets every complete line of either, `onStdout` every stdout
   * chunk with its arrival time.
   */
  function startIn(ns, cmd, args, { env, limitMs, stdin = false, onLine, onStdout }) {
    const niced = nice !== 0 ? ['nice', '-n', String(nice), cmd, ...args] : [cmd, ...args];
    const child = spawn('ip', ['netns', 'exec', ns, ...niced], { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const pid = child.pid;
    const s = { child, pid, out: '', err: '', all: '', exitCode: undefined, spawnError: undefined };
    if (pid !== undefined) children.set(pid, s);
    let partial = '';
    const take = (text) => {
      s.all = keepTail(s.all + text, 400_000);
      partial += text;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        onLine?.(line);
      }
      partial = keepTail(partial, 10_000);
    };
    child.stdout.on('data', (d) => {
      const text = d.toString('latin1');
      onStdout?.(text, Date.now());
      s.out = keepTail(s.out + text, 400_000);
      take(text);
    });
    child.stderr.on('data', (d) => {
      const text = d.toString('latin1');
      s.err = keepTail(s.err + text, 200_000);
      take(text);
    });
    child.stdin?.on('error', () => undefined);
    const limit = setTimeout(() => killPid(pid), limitMs);
    s.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        s.spawnError = err;
        clearTimeout(limit);
        children.delete(pid);
        resolve(null);
      });
      child.once('exit', (code, signal) => {
        s.exitCode = code ?? signal;
        clearTimeout(limit);
        children.delete(pid);
        resolve(code);
      });
    });
    return s;
  }

  /** Sends `signal` (if any), waits at most `ms` for the exit, then SIGKILL and a short wait. */
  async function stop(s, signal, ms) {
    if (s.exitCode !== undefined || s.spawnError) return;
    if (signal) killPid(s.pid, signal);
    const t = setTimeout(() => killPid(s.pid), ms);
    await Promise.race([s.exited, sleep(ms + 2000)]);
    clearTimeout(t);
  }

  /** Ends every child still running (the previous step's), waiting at most 5 s. */
  async function quiesce() {
    for (const s of children.values()) killPid(s.pid);
    await waitFor(() => children.size === 0, 5000);
  }

  /**
   * Builds the usrsctp LD_PRELOAD shim in `tmp`: usrsctp_sysctl_set_sctp_debug_on
   * becomes a no-op (Debian builds the examples with debug tracing on), and,
   * when HASCTP_USRSCTP_PF_THRESHOLD / HASCTP_USRSCTP_RTO_MIN are set, it sets
   * RFC 7829 PF and RTO.Min (ms) through the library's own sysctl API: the
   * peer's configuration, the program unmodified. Returns the path, or an
   * error message.
   */
  function buildUsrsctpShim() {
    const src = join(tmp, 'usrsctp-shim.c');
    const so = join(tmp, 'usrsctp-shim.so');
    writeFileSync(
      src,
      [
        '#include <stdint.h>',
        '#include <stdlib.h>',
        'extern void usrsctp_sysctl_set_sctp_path_pf_threshold(uint32_t);',
        'extern void usrsctp_sysctl_set_sctp_rto_min_default(uint32_t);',
        'int usrsctp_sysctl_set_sctp_debug_on(uint32_t v) {',
        '  (void)v;',
        '  const char *pf = getenv("HASCTP_USRSCTP_PF_THRESHOLD");',
        '  if (pf != NULL && *pf != 0) usrsctp_sysctl_set_sctp_path_pf_threshold((uint32_t)atoi(pf));',
        '  const char *rto = getenv("HASCTP_USRSCTP_RTO_MIN");',
        '  if (rto != NULL && *rto != 0) usrsctp_sysctl_set_sctp_rto_min_default((uint32_t)atoi(rto));',
        '  return 0;',
        '}',
        '',
      ].join('\n'),
    );
    const r = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', so, src], { encoding: 'utf8', timeout: 30_000 });
    if (r.error || r.status !== 0) return { error: r.error?.code ?? (r.stderr || '').trim().split('\n')[0] };
    return { path: so };
  }

  return { tmp, children, startIn, stop, quiesce, buildUsrsctpShim };
}
