#!/usr/bin/env node
// Network benchmark (issue #4): real stacks over raw IPv4 between two network
// namespaces joined by a veth pair, side by side in one invocation:
//
//   tsctp → tsctp       usrsctp's tsctp to itself (the anchor)
//   hasctp → hasctp     `hasctp client` to `hasctp server --mode discard`
//   hasctp → tsctp      `hasctp client` to usrsctp's tsctp receiver
//   npm sctp → hasctp   the npm `sctp` package (pure JS on raw-socket) to `hasctp server`
//
// One association, one ordered stream, --seconds per run (default 5), for each
// of --sizes (default 100,1000,1400,8000). The rate is the receiver's own count
// (messages received / time from its first to its last message); CPU is each
// process's user+system time from /proc/PID/stat over the steady part of the
// run, as a share of one core.
//
// Needs root (namespaces, raw sockets), iproute2, libusrsctp-examples
// (/usr/lib/usrsctp/tsctp), a C compiler for the LD_PRELOAD shim that keeps
// Debian's debug-built tsctp quiet, and a built dist/ (npm run bench:net builds
// it). Everything it starts is ended and both namespaces are removed on exit,
// on SIGINT/SIGTERM/SIGHUP and on failure; every wait is bounded.
//
// Every process of a run is started with `nice -n -10` (--nice N; 0 for none),
// so that other work on the machine disturbs the figures less; all pairs alike.
//
// --runs N runs every pair N times per size, taking turns, and reports the
// median run (all of them listed beside it).
//
//   npm run bench:net -- [--seconds N] [--sizes 100,1000] [--pairs tsctp-tsctp,hasctp-hasctp,hasctp-tsctp,sctp-hasctp] [--runs N] [--nice N]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHarness, killPid, run, sleep, waitFor } from './lib/harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const TSCTP = process.env.TSCTP ?? '/usr/lib/usrsctp/tsctp';
const PAIRS = {
  'tsctp-tsctp': 'tsctp → tsctp',
  'hasctp-hasctp': 'hasctp → hasctp',
  'hasctp-tsctp': 'hasctp → tsctp',
  'sctp-hasctp': 'npm sctp → hasctp',
};

// ------------------------------------------------------------------ arguments

function usage(message) {
  console.error(`bench/net.mjs: ${message}`);
  console.error('usage: node bench/net.mjs [--seconds N] [--sizes 100,1000,1400,8000] [--pairs tsctp-tsctp,hasctp-hasctp,hasctp-tsctp,sctp-hasctp] [--runs N] [--nice N]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { seconds: 5, sizes: [100, 1000, 1400, 8000], pairs: Object.keys(PAIRS), nice: -10, runs: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]) ?? usage(`${name} needs a value`);
    if (name === '--seconds') {
      o.seconds = Number(value());
      if (!(o.seconds >= 1 && o.seconds <= 600)) usage('--seconds must be a number from 1 to 600');
    } else if (name === '--sizes') {
      o.sizes = value().split(',').map(Number);
      if (o.sizes.length === 0 || o.sizes.some((s) => !Number.isInteger(s) || s < 8 || s > 65536)) usage('--sizes must be integers from 8 to 65536, comma separated');
    } else if (name === '--pairs') {
      o.pairs = value().split(',');
      const bad = o.pairs.find((p) => !(p in PAIRS));
      if (bad !== undefined) usage(`unknown pair ${JSON.stringify(bad)} (one of ${Object.keys(PAIRS).join(', ')})`);
    } else if (name === '--runs') {
      o.runs = Number(value());
      if (!Number.isInteger(o.runs) || o.runs < 1 || o.runs > 20) usage('--runs must be an integer from 1 to 20');
    } else if (name === '--nice') {
      o.nice = Number(value());
      if (!Number.isInteger(o.nice) || o.nice < -20 || o.nice > 19) usage('--nice must be an integer from -20 to 19');
    } else if (name === '--help' || name === '-h') usage('help');
    else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));

if (process.platform !== 'linux' || typeof process.getuid !== 'function' || process.getuid() !== 0) {
  console.error('bench/net.mjs: needs root on Linux (network namespaces, raw IP sockets): run it as root, e.g. sudo npm run bench:net');
  process.exit(1);
}

// ------------------------------------------------------------------ processes and cleanup

const PID = process.pid;
const NS = { a: `hbn-${PID}-a`, b: `hbn-${PID}-b` };
const DEV = { a: `hbn${PID}a`, b: `hbn${PID}b` };
const ADDR = { a: '10.83.1.1', b: '10.83.1.2' };
const { startIn, stop, buildUsrsctpShim } = createHarness({ name: 'bench-net', prefix: 'hbn', namespaces: [NS.a, NS.b], nice: opts.nice });

// ------------------------------------------------------------------ CPU sampling

const CLK_TCK = Number(run('getconf', ['CLK_TCK'], true).trim()) || 100;

/** utime + stime of a process (all its threads), in seconds; undefined once gone. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * Samples the CPU time of some processes every 100 ms. `share(pid, from, to)`:
 * CPU seconds per wall second between the first sample at or after `from` and
 * the last one at or before `to` (performance.now() times).
 */
function cpuSampler(pids) {
  const samples = new Map(pids.map((p) => [p, []]));
  const take = () => {
    const t = performance.now();
    for (const [pid, list] of samples) {
      const c = cpuSeconds(pid);
      if (c !== undefined) list.push([t, c]);
    }
  };
  take();
  const timer = setInterval(take, 100);
  return {
    stop() {
      take();
      clearInterval(timer);
    },
    share(pid, from, to) {
      const list = (samples.get(pid) ?? []).filter(([t]) => t >= from && t <= to);
      if (list.length < 2) return undefined;
      const [t0, c0] = list[0];
      const [t1, c1] = list[list.length - 1];
      return t1 > t0 ? (c1 - c0) / ((t1 - t0) / 1000) : undefined;
    },
  };
}

// ------------------------------------------------------------------ preflight

const problems = [];
if (spawnSync('ip', ['-V']).error) problems.push('iproute2 `ip` not found (apt-get install iproute2)');
if (!existsSync(BIN)) problems.push(`${BIN} missing: build first (npm run bench:net does)`);
let sctpKernelLoaded;
try {
  const raw = await import('../dist/transport/raw.js');
  const native = await import('../dist/transport/native.js');
  if (typeof native.loadNative()?.RawSocket !== 'function') problems.push(`the native addon with raw sockets is not built (${native.nativeUnavailableReason() ?? 'stale build'}): rm -rf native/build && npm install`);
  sctpKernelLoaded = raw.sctpKernelModuleLoaded();
} catch (err) {
  problems.push(`cannot load dist/transport: ${err.message}`);
}
if (sctpKernelLoaded === true) problems.push('the kernel SCTP module is loaded and would answer raw SCTP with ABORT (modprobe -r sctp)');
if (problems.length > 0) {
  for (const p of problems) console.error(`bench/net.mjs: ${p}`);
  process.exit(1);
}

const notes = [];
const skip = {};
if (!existsSync(TSCTP)) {
  skip['tsctp-tsctp'] = skip['hasctp-tsctp'] = `${TSCTP} not found (apt-get install libusrsctp-examples)`;
}
const require = createRequire(join(ROOT, 'package.json'));
let sctpVersion;
try {
  sctpVersion = require('sctp/package.json').version;
  require('raw-socket');
} catch (err) {
  skip['sctp-hasctp'] = `npm sctp or its raw-socket addon is not available (${err.code ?? err.message}): npm install (raw-socket must be allowed to build)`;
}

const shim = buildUsrsctpShim();
if (shim.error !== undefined) notes.push(`! no LD_PRELOAD shim (cc: ${shim.error}): tsctp runs with its debug output, which it writes to a pipe here`);
const tsctpEnv = shim.path !== undefined ? { ...process.env, LD_PRELOAD: shim.path } : process.env;

// The npm sctp sender: writes `size`-byte messages for `seconds`, honouring
// back-pressure ('drain'), then ends the association gracefully.
const SCTP_CLIENT = `
const { createRequire } = require('node:module');
const req = createRequire(${JSON.stringify(join(ROOT, 'package.json'))});
const sctp = req('sctp');
const [host, port, localAddress, size, seconds] = process.argv.slice(1);
const payload = Buffer.alloc(Number(size), 0x61);
const socket = sctp.connect({ host, port: Number(port), localAddress });
let sent = 0, stopAt = 0, ended = false;
const finish = (code) => { if (ended) return; ended = true; console.log(JSON.stringify({ sent })); setTimeout(() => process.exit(code), 50); };
socket.on('error', (e) => { console.error('npm sctp client: ' + e); finish(1); });
socket.on('end', () => finish(0));
const pump = () => {
  while (performance.now() < stopAt) {
    const b = Buffer.from(payload); b.ppid = 0; sent++;
    if (!socket.write(b)) { socket.once('drain', pump); return; }
  }
  socket.end();
  setTimeout(() => finish(0), 10000).unref();
};
socket.on('connect', () => { stopAt = performance.now() + Number(seconds) * 1000; pump(); });
setTimeout(() => { console.error('npm sctp client: not done in time'); finish(3); }, (Number(seconds) + 30) * 1000).unref();
`;

// ------------------------------------------------------------------ namespaces

run('ip', ['netns', 'add', NS.a]);
run('ip', ['netns', 'add', NS.b]);
for (const k of ['a', 'b']) run('ip', ['-n', NS[k], 'link', 'set', 'lo', 'up']);
run('ip', ['-n', NS.a, 'link', 'add', DEV.a, 'type', 'veth', 'peer', 'name', DEV.b, 'netns', NS.b]);
for (const k of ['a', 'b']) {
  run('ip', ['-n', NS[k], 'addr', 'add', `${ADDR[k]}/24`, 'dev', DEV[k]]);
  run('ip', ['-n', NS[k], 'link', 'set', DEV[k], 'up']);
}

// ------------------------------------------------------------------ one run

const TSCTP_RESULT = /^(\d+), (\d+), (\d+), (\d+), ([\d.]+), ([\d.]+), (\d+)\s*$/;
const HASCTP_RESULT = /association \d+ closed: (\d+) messages, (\d+) bytes in ([\d.]+) s/;
let nextPort = 5000;

/** Is a raw SCTP socket (protocol 132) open in the namespace? */
function rawSctpSocketOpen(ns) {
  return /:0084 /.test(run('ip', ['netns', 'exec', ns, 'cat', '/proc/net/raw'], true));
}

function startReceiver(kind, port, seconds, onResult) {
  if (kind === 'tsctp') {
    return startIn(NS.b, TSCTP, ['-E', '0', '-p', String(port)], {
      env: tsctpEnv,
      limitMs: (seconds + 60) * 1000,
      onLine: (l) => {
        const m = TSCTP_RESULT.exec(l);
        if (m) onResult({ messages: Number(m[2]), bytes: Number(m[4]), seconds: Number(m[5]) });
      },
    });
  }
  return startIn(NS.b, process.execPath, [BIN, 'server', '--listen', `${ADDR.b}:${port}`, '--mode', 'discard', '--log-level', 'warn'], {
    limitMs: (seconds + 60) * 1000,
    onLine: (l) => {
      const m = HASCTP_RESULT.exec(l);
      if (m) onResult({ messages: Number(m[1]), bytes: Number(m[2]), seconds: Number(m[3]) });
    },
  });
}

function startSender(kind, port, size, seconds) {
  const limitMs = (seconds + 40) * 1000;
  switch (kind) {
    case 'tsctp':
      return startIn(NS.a, TSCTP, ['-E', '0', '-p', String(port), '-l', String(size), '-T', String(seconds), ADDR.b], { env: tsctpEnv, limitMs });
    case 'hasctp':
      return startIn(
        NS.a,
        process.execPath,
        [BIN, 'client', '--connect', `${ADDR.b}:${port}`, '--bind', ADDR.a, '--size', String(size), '--duration', String(seconds), '--timeout', String((seconds + 30) * 1000), '--json', '--log-level', 'warn'],
        { limitMs },
      );
    case 'sctp':
      return startIn(NS.a, process.execPath, ['-e', SCTP_CLIENT, ADDR.b, String(port), ADDR.a, String(size), String(seconds)], { limitMs });
  }
  throw new Error(kind);
}

/** Ends anything left in the namespaces from an earlier run (never more than one stack per namespace). */
async function quiesce() {
  for (const ns of [NS.a, NS.b]) {
    for (const line of run('ip', ['netns', 'pids', ns], true).split('\n')) if (/^\d+$/.test(line.trim())) killPid(Number(line.trim()));
  }
  await waitFor(() => run('ip', ['netns', 'pids', NS.a], true).trim() === '' && run('ip', ['netns', 'pids', NS.b], true).trim() === '', 3000);
}

async function runPair(pair, size, seconds) {
  const [senderKind, receiverKind] = pair.split('-');
  await quiesce();
  const port = nextPort++;
  let result;
  const receiver = startReceiver(receiverKind, port, seconds, (r) => (result ??= r));
  let sender;
  try {
    const ready =
      receiverKind === 'hasctp'
        ? await waitFor(() => receiver.all.includes('listening on') || receiver.exitCode !== undefined, 10_000)
        : await waitFor(() => rawSctpSocketOpen(NS.b) || receiver.exitCode !== undefined, 5000, 50);
    if (receiver.spawnError) return { error: `cannot start the ${receiverKind} receiver: ${receiver.spawnError.message}` };
    if (receiver.exitCode !== undefined) return { error: `the ${receiverKind} receiver exited (${receiver.exitCode}): ${lastLine(receiver.all)}` };
    if (!ready) return { error: `the ${receiverKind} receiver did not get ready` };
    if (receiverKind === 'tsctp') await sleep(200);
    const t0 = performance.now();
    sender = startSender(senderKind, port, size, seconds);
    const cpu = cpuSampler([sender.pid, receiver.pid]);
    await sender.exited;
    const tEnd = performance.now();
    // The receiver reports when the association ends (SHUTDOWN after the sender's last message).
    await waitFor(() => result !== undefined || receiver.exitCode !== undefined, 15_000);
    cpu.stop();
    if (sender.spawnError) return { error: `cannot start the ${senderKind} sender: ${sender.spawnError.message}` };
    if (result === undefined) {
      return { error: `no result from the ${receiverKind} receiver (sender exit ${sender.exitCode}: ${lastLine(sender.all)})` };
    }
    if (sender.exitCode !== 0) notes.push(`! ${PAIRS[pair]} ${size} B: the sender exited with ${sender.exitCode}: ${lastLine(sender.all)}`);
    // Steady state: from 1 s after the sender started (JIT warm-up, slow start) to its end.
    const from = t0 + Math.min(1000, (seconds * 1000) / 4);
    const to = tEnd - 100;
    return {
      messages: result.messages,
      msgs: result.seconds > 0 ? result.messages / result.seconds : 0,
      mbit: result.seconds > 0 ? (result.bytes * 8) / result.seconds / 1e6 : 0,
      seconds: result.seconds,
      cpuSender: cpu.share(sender.pid, from, to),
      cpuReceiver: cpu.share(receiver.pid, from, to),
    };
  } finally {
    if (sender) await stop(sender, 'SIGKILL', 2000);
    await stop(receiver, receiverKind === 'hasctp' ? 'SIGTERM' : 'SIGKILL', 3000);
  }
}

function lastLine(text) {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .pop() ?? '(no output)'
  ).slice(0, 300);
}

// ------------------------------------------------------------------ the runs

const fmtRate = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)} k` : n >= 1e3 ? `${(n / 1e3).toFixed(2)} k` : n.toFixed(0));
const fmtCpu = (c) => (c === undefined ? '-' : `${Math.round(c * 100)}%`);
const cpuModel = (cpus()[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
const started = Date.now();

console.log(`hasctp net bench — Node ${process.version}, ${cpuModel}, ${cpus().length} CPUs, Linux ${release()}`);
console.log(`raw IPv4 between two network namespaces (veth), one association, one ordered stream, ${opts.seconds} s per run, ${opts.runs === 1 ? 'one run' : `median of ${opts.runs} runs`} per figure, nice ${opts.nice}`);
console.log('');
const header = `${'size'.padEnd(8)}${'pair'.padEnd(20)}${'msgs/s'.padStart(10)}${'Mbit/s'.padStart(10)}${'CPU send'.padStart(10)}${'CPU recv'.padStart(10)}${'vs tsctp'.padStart(10)}`;
console.log(header);

const results = {};
for (const size of opts.sizes) {
  // The anchor first, so the ratio of every other row has it; with --runs the
  // pairs take turns, so a burst of other load on the machine hits them alike.
  const order = ['tsctp-tsctp', 'hasctp-hasctp', 'hasctp-tsctp', 'sctp-hasctp'].filter((p) => opts.pairs.includes(p));
  const runs = Object.fromEntries(order.map((p) => [p, []]));
  for (let k = 0; k < opts.runs; k++) {
    for (const pair of order) {
      let r;
      if (skip[pair]) r = { error: `skipped: ${skip[pair]}` };
      else {
        try {
          r = await runPair(pair, size, opts.seconds);
        } catch (err) {
          r = { error: err.message };
        }
      }
      runs[pair].push(r);
    }
  }
  // The median run of each pair (by msgs/s); a pair that failed every run shows its last error.
  const median = (list) => {
    const ok = list.filter((r) => r.error === undefined).sort((a, b) => a.msgs - b.msgs);
    return ok.length > 0 ? { ...ok[(ok.length - 1) >> 1], all: ok.map((r) => r.msgs), failed: list.length - ok.length } : list[list.length - 1];
  };
  const anchor = runs['tsctp-tsctp'] ? median(runs['tsctp-tsctp']) : undefined;
  let firstRow = true;
  for (const pair of order) {
    const r = median(runs[pair]);
    results[`${pair}/${size}`] = r;
    const label = (firstRow ? `${size} B` : '').padEnd(8);
    firstRow = false;
    if (r.error !== undefined) {
      console.log(`${label}${PAIRS[pair].padEnd(20)}  ${r.error}`);
      continue;
    }
    const ratio = anchor?.msgs > 0 ? `${(r.msgs / anchor.msgs).toFixed(2)}x` : '-';
    const spread = opts.runs > 1 ? `   ${r.all.map((m) => fmtRate(m)).join(' / ')}${r.failed > 0 ? `, ${r.failed} failed` : ''}` : '';
    console.log(`${label}${PAIRS[pair].padEnd(20)}${fmtRate(r.msgs).padStart(10)}${r.mbit.toFixed(1).padStart(10)}${fmtCpu(r.cpuSender).padStart(10)}${fmtCpu(r.cpuReceiver).padStart(10)}${ratio.padStart(10)}${spread}`);
  }
}

console.log('');
console.log('msgs/s, Mbit/s: the receiver\'s own count (messages and user bytes received, from its first to its last message);');
console.log('  tsctp prints it per association, `hasctp server` prints it when the association closes. 1 Mbit = 10^6 bit.');
console.log(`CPU: user+system time of the sending and receiving process (all threads, /proc/PID/stat) per wall second, from`);
console.log(`  ${Math.min(1, opts.seconds / 4)} s after the sender started to its end; 100% = one core. Kernel work of the veth`);
console.log('  (the peer\'s receive path runs in the sender\'s softirq) lands where the kernel accounts it.');
console.log(`vs tsctp: msgs/s divided by tsctp → tsctp's msgs/s at the same size, same invocation.`);
console.log(`tsctp: ${TSCTP} -E 0 (raw IP, no UDP encapsulation), receiver \`tsctp -E 0 -p PORT\`, sender \`-l SIZE -T ${opts.seconds}\`;`);
console.log('  Nagle on (its default); Debian builds usrsctp with SCTP_DEBUG and tsctp switches debug output on, so a');
console.log('  no-op usrsctp_sysctl_set_sctp_debug_on is LD_PRELOADed.');
console.log(`hasctp: dist/cli/bin.js client --size SIZE --duration ${opts.seconds} to \`server --mode discard\`, defaults (Nagle on).`);
console.log(`npm sctp${sctpVersion ? ` ${sctpVersion}` : ''}: sctp.connect() on raw-socket, socket.write() of SIZE-byte messages while it returns true, then 'drain'.`);
for (const n of notes) console.log(n);
console.log(`total ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(0);
