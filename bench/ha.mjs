#!/usr/bin/env node
// High-availability benchmark (issue #6), over raw IPv4 between network
// namespaces, in one run:
//
//   peer hp1 10.92.1.9 ─── ha1 10.92.1.1  primary (A)  ha2 10.92.3.1 ─┐ cluster link
//   peer hp2 10.92.2.9 ─── hb1 10.92.2.2  standby (B)  hb2 10.92.3.2 ─┘ (TCP, HMAC frames)
//
// 1. Throughput, `hasctp client` → a discard receiver on A, for each size:
//    replication off (a plain `hasctp server --mode discard`), a cluster node
//    alone (no standby: nothing replicated, nothing held), `sync` (A + B, the
//    default: every datagram held until B acknowledged its record) and
//    `async` (replicated, nothing held). The rate is the receiver's: messages
//    from its first to its last one; --repeat rounds (default 3) of every
//    configuration, interleaved, and the median is reported.
// 2. The SACK delay withholding adds: tshark on A's peer-facing veth during a
//    shorter run per mode; for every SACK that moves the cumulative TSN ack,
//    the time from the arrival of that TSN's DATA to the SACK (p50, p99).
// 3. Outage over --kills SIGKILLs of the primary (default 20): an unmodified
//    usrsctp `client` (RFC 7829 PF on: path_pf_threshold 0, set from an
//    LD_PRELOAD shim that also silences Debian's debug build) sends a numbered
//    line every 10 ms to an echo cluster with the default detection (50 ms x 3);
//    the primary is killed after line 100. Outage: the last echo before the
//    kill to the first one after it. Every run must echo every line exactly
//    once, in order. ASCONF Set Primary (issue #5) is asked for after each
//    takeover; whether the association negotiated ADD-IP is reported. Without
//    PF (usrsctp's default) the first echo comes back after the same RTO, but
//    new data keeps going to the dead address until Path.Max.Retrans doubling
//    timeouts failed it (about a minute): see test/cluster/failover-netns.test.ts.
//    The same kills are run again with the peer's RTO.Min at 200 ms (a usual
//    setting for signaling; usrsctp's default is 1 s): what the peer sent to
//    the dead address in the detection window comes back only by the peer's
//    own T3 timer, because usrsctp never fast-retransmits a chunk whose
//    destination saw no new acknowledgement (its SFR rule), so RTO.Min is the
//    floor of the outage, whatever the cluster does.
//
// Needs root (namespaces, raw sockets), iproute2, tshark, a C compiler,
// libusrsctp-examples and a built dist/ (npm run bench:ha builds it). Every
// child is ended and the namespaces removed on exit, on SIGINT/SIGTERM/SIGHUP
// and on failure; every wait is bounded.
//
// Every process of a run is started with `nice -n -10` (--nice N; 0 for none),
// above other work on the machine, as bench/net.mjs does.
//
//   npm run bench:ha -- [--seconds N] [--sizes 100,1000] [--kills N] [--repeat N] [--nice N]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHarness, exitWithin, killPid, run, sleep, waitFor } from './lib/harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const CLIENT = process.env.USRSCTP_CLIENT ?? '/usr/lib/usrsctp/client';

// ------------------------------------------------------------------ arguments

function usage(message) {
  console.error(`bench/ha.mjs: ${message}`);
  console.error('usage: node bench/ha.mjs [--seconds N] [--sizes 100,1000] [--kills N] [--repeat N] [--nice N]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { seconds: 4, sizes: [100, 1000], kills: 20, repeat: 3, nice: -10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]) ?? usage(`${name} needs a value`);
    if (name === '--seconds') {
      o.seconds = Number(value());
      if (!(o.seconds >= 1 && o.seconds <= 120)) usage('--seconds must be a number from 1 to 120');
    } else if (name === '--sizes') {
      o.sizes = value().split(',').map(Number);
      if (o.sizes.length === 0 || o.sizes.some((s) => !Number.isInteger(s) || s < 8 || s > 65536)) usage('--sizes must be integers from 8 to 65536, comma separated');
    } else if (name === '--kills') {
      o.kills = Number(value());
      if (!Number.isInteger(o.kills) || o.kills < 0 || o.kills > 500) usage('--kills must be an integer from 0 to 500');
    } else if (name === '--repeat') {
      o.repeat = Number(value());
      if (!Number.isInteger(o.repeat) || o.repeat < 1 || o.repeat > 20) usage('--repeat must be an integer from 1 to 20');
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
  console.error('bench/ha.mjs: needs root on Linux (network namespaces, raw IP sockets): run it as root, e.g. sudo npm run bench:ha');
  process.exit(1);
}
for (const [file, why] of [
  [BIN, 'dist/ is not built: npm run bench:ha builds it'],
  [CLIENT, 'usrsctp client not found: apt-get install libusrsctp-examples'],
]) {
  if (!existsSync(file)) {
    console.error(`bench/ha.mjs: ${why} (${file})`);
    process.exit(1);
  }
}
for (const tool of ['ip', 'tshark', 'cc']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) {
    console.error(`bench/ha.mjs: ${tool} is not installed (${tool === 'tshark' ? 'apt-get install tshark' : tool === 'cc' ? 'apt-get install build-essential' : 'apt-get install iproute2'})`);
    process.exit(1);
  }
}
const { controlRequest } = await import(pathToFileURL(join(ROOT, 'dist', 'cluster', 'control.js')).href);

// ------------------------------------------------------------------ processes and cleanup

const PID = process.pid;
const NS = { p: `hbh-${PID}-p`, a: `hbh-${PID}-a`, b: `hbh-${PID}-b` };
const IP = { peerA: '10.92.1.9', peerB: '10.92.2.9', a: '10.92.1.1', b: '10.92.2.2', linkA: '10.92.3.1', linkB: '10.92.3.2' };
const { tmp, startIn, quiesce, buildUsrsctpShim } = createHarness({ name: 'bench-ha', prefix: 'hbh', namespaces: Object.values(NS), nice: opts.nice });

/** Sends `signal` unless the child is gone; SIGKILL after `ms`; waits for the exit. */
async function stop(s, signal, ms) {
  if (s.exitCode === undefined) killPid(s.pid, signal);
  const t = setTimeout(() => killPid(s.pid), ms);
  await s.exited;
  clearTimeout(t);
}

// ------------------------------------------------------------------ setup

const shim = buildUsrsctpShim();
if (shim.error !== undefined) throw new Error(`building the usrsctp shim failed: ${shim.error}`);
const peerEnv = { ...process.env, LD_PRELOAD: shim.path, HASCTP_USRSCTP_PF_THRESHOLD: '0' };

for (const ns of Object.values(NS)) {
  run('ip', ['netns', 'add', ns]);
  run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}
run('ip', ['-n', NS.p, 'link', 'add', 'hp1', 'type', 'veth', 'peer', 'name', 'ha1', 'netns', NS.a]);
run('ip', ['-n', NS.p, 'link', 'add', 'hp2', 'type', 'veth', 'peer', 'name', 'hb1', 'netns', NS.b]);
run('ip', ['-n', NS.a, 'link', 'add', 'ha2', 'type', 'veth', 'peer', 'name', 'hb2', 'netns', NS.b]);
for (const [ns, dev, addr] of [
  [NS.p, 'hp1', `${IP.peerA}/24`],
  [NS.p, 'hp2', `${IP.peerB}/24`],
  [NS.a, 'ha1', `${IP.a}/24`],
  [NS.a, 'ha2', `${IP.linkA}/24`],
  [NS.b, 'hb1', `${IP.b}/24`],
  [NS.b, 'hb2', `${IP.linkB}/24`],
]) {
  run('ip', ['-n', ns, 'addr', 'add', addr, 'dev', dev]);
  run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
}
run('ip', ['-n', NS.a, 'route', 'add', 'default', 'via', IP.peerA]);
run('ip', ['-n', NS.b, 'route', 'add', 'default', 'via', IP.peerB]);

// ------------------------------------------------------------------ the receivers

let nextPort = 5200;

/** Starts the cluster (A primary, B standby unless `alone`); resolves once B is in sync. */
async function startCluster({ app, mode = 'sync', alone = false, setPeerPrimary = true }) {
  const port = nextPort++;
  const linkPort = 7000 + port;
  const key = randomBytes(32).toString('hex');
  const config = (node) => ({
    node,
    role: node === 'a' ? 'primary' : 'standby',
    sctp: { addresses: [node === 'a' ? IP.a : IP.b], port, transport: 'raw' },
    peers: [{ node: node === 'a' ? 'b' : 'a', addresses: [node === 'a' ? IP.b : IP.a] }],
    cluster: { ...(node === 'a' ? { listen: `${IP.linkA}:${linkPort}` } : { dial: `${IP.linkA}:${linkPort}` }), key, mode },
    app,
    control: join(tmp, `${node}-${port}.sock`),
    setPeerPrimary,
  });
  const start = (node) => {
    const file = join(tmp, `${node}-${port}.json`);
    writeFileSync(file, JSON.stringify(config(node)));
    return { proc: startIn(node === 'a' ? NS.a : NS.b, process.execPath, [BIN, 'node', '--config', file, '--log-level', 'info'], { limitMs: 600_000 }), control: join(tmp, `${node}-${port}.sock`) };
  };
  const a = start('a');
  const b = alone ? undefined : start('b');
  const ready = alone
    ? await waitFor(() => existsSync(a.control), 15_000)
    : await waitFor(() => a.proc.err.includes('"msg":"associations in-sync"') && existsSync(b.control), 20_000);
  if (!ready) throw new Error(`the cluster did not start: ${a.proc.err.slice(-1500)} ${b?.proc.err.slice(-1500) ?? ''}`);
  return { port, a, b };
}

async function status(n) {
  const r = await controlRequest(n.control, { cmd: 'status' }, 5000);
  if (r.ok !== true) throw new Error(`status: ${JSON.stringify(r)}`);
  return r.status;
}

const SERVER_RESULT = /association \d+ closed: (\d+) messages, (\d+) bytes in ([\d.]+) s/;

/** The receiver on A for `mode`: a plain `hasctp server --mode discard` (off), or a cluster (discard app). */
async function startReceiver(mode, app = 'discard') {
  if (mode === 'off') {
    const port = nextPort++;
    const server = startIn(NS.a, process.execPath, [BIN, 'server', '--listen', `${IP.a}:${port}`, '--mode', app === 'echo' ? 'echo' : 'discard', '--log-level', 'warn'], { limitMs: 600_000 });
    if (!(await waitFor(() => server.out.includes('listening on') || server.err.includes('listening on') || server.exitCode !== undefined, 15_000)) || server.exitCode !== undefined) {
      throw new Error(`hasctp server did not start: ${server.err.slice(-1500)}`);
    }
    return { port, server };
  }
  const c = await startCluster({ app, mode: mode === 'alone' ? 'sync' : mode, alone: mode === 'alone' });
  return { port: c.port, cluster: c };
}

/** One `hasctp client` run against `mode`; the receiver's rate, messages from its first to its last one. */
async function throughputRun(mode, size, seconds) {
  await quiesce();
  const rx = await startReceiver(mode);
  const client = startIn(
    NS.p,
    process.execPath,
    [BIN, 'client', '--connect', `${IP.a}:${rx.port}`, '--bind', IP.peerA, '--size', String(size), '--duration', String(seconds), '--timeout', String((seconds + 60) * 1000), '--json', '--log-level', 'warn'],
    { limitMs: (seconds + 90) * 1000 },
  );
  await client.exited;
  let summary;
  try {
    summary = JSON.parse(client.out.trim().split('\n').pop());
  } catch {
    summary = { ok: false, error: `no summary: ${client.err.slice(-500)}` };
  }
  let result;
  if (rx.server) {
    const got = await waitFor(() => SERVER_RESULT.test(rx.server.out), 10_000);
    const m = got ? SERVER_RESULT.exec(rx.server.out) : null;
    // Older `hasctp server` builds print only totals: fall back to the sender's own rate.
    result = m ? { messages: Number(m[1]), seconds: Number(m[3]) } : { messages: summary.sent?.messages ?? 0, seconds: summary.seconds ?? 0, senderRate: true };
  } else {
    // The association closes after the client's SHUTDOWN.
    await waitFor(async () => (await status(rx.cluster.a)).associations === 0, 15_000, 50);
    const s = await status(rx.cluster.a);
    // A standby that promoted itself beside a live primary (a starved process) spoils the run: say so.
    result = { messages: s.app.messages, seconds: s.app.seconds, protection: s.protection, failover: s.epoch > 0 || s.role !== 'primary' };
  }
  await quiesce();
  return {
    mode,
    size,
    ok: summary.ok === true,
    error: summary.error,
    sent: summary.sent?.messages,
    ...result,
    msgs: result.seconds > 0 ? result.messages / result.seconds : 0,
  };
}

/**
 * The SACK delay at a steady, moderate load (no queueing): an unmodified
 * usrsctp `client` sends a 100-byte line every 2 ms to a discard receiver on
 * A; tshark on A's peer-facing veth; for each SACK that moves the cumulative
 * TSN ack, the time from the arrival of that TSN's DATA to the SACK.
 */
async function sackRun(mode, seconds) {
  await quiesce();
  const rx = await startReceiver(mode);
  const cap = await startCapture(NS.a, 'ha1', `sack-${mode}`);
  const client = startIn(NS.p, CLIENT, [IP.a, String(rx.port), '0', '0', '0'], { env: peerEnv, stdin: true, limitMs: (seconds + 60) * 1000 });
  const until = Date.now() + seconds * 1000;
  for (let i = 1; Date.now() < until; i++) {
    client.child.stdin.write(line(i));
    await sleep(2);
  }
  client.child.stdin.end();
  if ((await exitWithin(client, 15_000)) === 'timeout') await stop(client, 'SIGKILL', 2000);
  const pkts = await cap.stop();
  const failover = rx.cluster ? (await status(rx.cluster.a)).epoch > 0 : false;
  await quiesce();
  return { ...sackDelays(pkts), failover };
}

// ------------------------------------------------------------------ captures

async function startCapture(ns, dev, name) {
  const file = join(tmp, `${name}.pcapng`);
  const p = startIn(ns, 'tshark', ['-i', dev, '-q', '-w', file], { limitMs: 600_000 });
  if (!(await waitFor(() => p.err.includes('Capturing on'), 15_000))) throw new Error(`tshark did not start: ${p.err.slice(-500)}`);
  return {
    async stop() {
      await stop(p, 'SIGINT', 5000);
      const r = spawnSync(
        'tshark',
        ['-r', file, '-Y', 'sctp && !icmp', '-T', 'fields', '-E', 'separator=/t', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'sctp.chunk_type', '-e', 'sctp.data_tsn', '-e', 'sctp.sack_cumulative_tsn_ack'],
        { encoding: 'utf8', timeout: 120_000, maxBuffer: 1024 * 1024 * 1024 },
      );
      rmSync(file, { force: true });
      if (r.status !== 0) throw new Error(`tshark -r: ${r.error?.message ?? r.stderr}`);
      const nums = (s) => (s === undefined || s === '' ? [] : s.split(',').map(Number));
      return r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [t, src, types, tsns, cum] = l.split('\t');
          return { at: Number(t) * 1000, src, chunks: nums(types), tsns: nums(tsns), cum: cum ? Number(cum.split(',')[0]) : undefined };
        });
    },
  };
}

const serialGt = (a, b) => a !== b && ((a - b) >>> 0) < 0x80000000;

/**
 * For each SACK from the receiver that moves the cumulative TSN ack: the time
 * from the arrival of the DATA chunk with that TSN to the SACK. The snap
 * length keeps the first chunks of each packet: TSNs whose DATA header fell
 * outside it are skipped.
 */
function sackDelays(pkts) {
  const arrived = new Map();
  const delays = [];
  let cum;
  for (const p of pkts) {
    if (p.src !== IP.a && p.src !== IP.b) {
      for (const t of p.tsns) if (!arrived.has(t)) arrived.set(t, p.at);
    } else if (p.chunks.includes(3) && p.cum !== undefined) {
      if (cum !== undefined && !serialGt(p.cum, cum)) continue;
      cum = p.cum;
      const t = arrived.get(p.cum);
      if (t !== undefined) delays.push(p.at - t);
    }
  }
  delays.sort((x, y) => x - y);
  const q = (f) => (delays.length === 0 ? NaN : delays[Math.min(delays.length - 1, Math.floor(f * delays.length))]);
  return { n: delays.length, p50: q(0.5), p99: q(0.99) };
}

// ------------------------------------------------------------------ kills

const LINE_RE = /L(\d{6})E hasctp/g;
const line = (n) => `L${String(n).padStart(6, '0')}E hasctp ha bench ${'x'.repeat(40)}\n`;

async function killRun(setPeerPrimary, rtoMin) {
  await quiesce();
  const c = await startCluster({ app: 'echo', setPeerPrimary });
  const arrivals = [];
  let carry = '';
  const client = startIn(NS.p, CLIENT, [IP.a, String(c.port), '0', '0', '0'], {
    env: rtoMin === undefined ? peerEnv : { ...peerEnv, HASCTP_USRSCTP_RTO_MIN: String(rtoMin) },
    stdin: true,
    limitMs: 60_000,
    onStdout: (chunk, at) => {
      carry += chunk;
      const nl = carry.lastIndexOf('\n');
      if (nl < 0) return;
      for (const m of carry.slice(0, nl + 1).matchAll(LINE_RE)) arrivals.push({ at, n: Number(m[1]) });
      carry = carry.slice(nl + 1);
    },
  });
  const total = 250;
  let killAt;
  let standbyRole;
  for (let i = 1; i <= total; i++) {
    client.child.stdin.write(line(i));
    if (i === 1 && !(await waitFor(() => arrivals.length > 0, 10_000))) throw new Error(`no echo: ${client.out.slice(-1000)}`);
    if (i === 100) {
      standbyRole = (await status(c.b)).role;
      killAt = Date.now();
      killPid(c.a.proc.pid);
    }
    await sleep(10);
  }
  client.child.stdin.end();
  const code = await exitWithin(client, 20_000);
  if (code === 'timeout') await stop(client, 'SIGKILL', 2000);
  const got = arrivals.map((x) => x.n);
  const exact = got.length === total && got.every((n, i) => n === i + 1);
  // The stall: the longest gap between consecutive echoes that ends after the kill (echoes already
  // in flight at the kill still arrive just after it).
  let gap = { from: NaN, to: NaN };
  for (let k = 1; k < arrivals.length; k++) {
    const a = arrivals[k - 1].at;
    const b = arrivals[k].at;
    if (b > killAt && a < killAt + 10_000 && !(b - a <= gap.to - gap.from)) gap = { from: a, to: b };
  }
  const s = await status(c.b).catch(() => undefined);
  const out = client.out;
  await quiesce();
  return {
    // A standby that had already taken over before the kill (a starved process missed heartbeats) makes the run meaningless, not failed.
    valid: standbyRole === 'standby',
    ok: code === 0 && exact && /SCTP_SHUTDOWN_COMP/.test(out) && !/SCTP_COMM_LOST/.test(out),
    exact,
    aborted: /SCTP_COMM_LOST/.test(out),
    asconf: /SCTP_COMM_UP[^\n]*ASCONF/.test(out),
    outageMs: gap.to - gap.from,
    killToFirstEchoMs: gap.to - killAt,
    detectionMs: s?.lastFailover?.detectionMs,
    received: got.length,
  };
}

// ------------------------------------------------------------------ run

const fmt = (x, d = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

console.log(`hasctp HA benchmark: raw IPv4 between network namespaces (veth), Linux ${release()}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log(`throughput: hasctp client → discard on A, ${opts.seconds} s per run, sizes ${opts.sizes.join(', ')} B; outage: ${opts.kills} SIGKILLs, usrsctp client (PF on) at 100 lines/s`);

const modes = [
  ['off', 'replication off (hasctp server)'],
  ['alone', 'cluster node, no standby'],
  ['sync', 'sync (A + B, default)'],
  ['async', 'async (A + B, no hold)'],
];
const tp = {};
const notes = [];
const samples = {};
for (let round = 0; round < opts.repeat; round++) {
  for (const size of opts.sizes) {
    for (const [mode] of modes) {
      const r = await throughputRun(mode, size, opts.seconds);
      (samples[`${mode}/${size}`] ??= []).push(r);
      process.stderr.write(`  round ${round + 1}/${opts.repeat} ${mode} ${size} B: ${fmt(r.msgs)} msgs/s (${r.messages} messages in ${fmt(r.seconds, 2)} s)${r.ok ? '' : ` (client: ${r.error})`}${r.failover ? ' FAILOVER DURING THE RUN' : ''}\n`);
      if (r.failover) notes.push(`! ${mode} ${size} B, round ${round + 1}: the standby took over during the run (a starved process missed heartbeats): left out`);
      if (!r.ok && !notes.some((n) => n.includes('overflow queue'))) notes.push(`! the client sometimes says "${r.error}": its shutdown() with messages still in the API's overflow queue fails them; the receiver's count is what is reported`);
    }
  }
}
for (const [k, list] of Object.entries(samples)) {
  const clean = list.filter((r) => !r.failover);
  const rates = clean.map((r) => r.msgs);
  tp[k] = { msgs: median(rates), min: Math.min(...rates), max: Math.max(...rates), n: rates.length, senderRate: clean.some((r) => r.senderRate) };
}

const sack = {};
for (const mode of ['off', 'sync', 'async']) {
  const r = await sackRun(mode, 6);
  sack[mode] = r;
  process.stderr.write(`  SACK delay ${mode}: p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms (${r.n} SACKs)${r.failover ? ' FAILOVER DURING THE RUN' : ''}\n`);
  if (r.failover) notes.push(`! SACK delay ${mode}: the standby took over during the run: the figure is not clean`);
}

const kills = [];
for (let i = 0; i < opts.kills; i++) {
  const r = await killRun(true);
  kills.push(r);
  process.stderr.write(`  kill ${i + 1}/${opts.kills}: outage ${fmt(r.outageMs)} ms, kill → echoes again ${fmt(r.killToFirstEchoMs)} ms, detection ${fmt(r.detectionMs)} ms${r.valid ? '' : ', DISCARDED (the standby had taken over before the kill)'}${r.ok ? '' : `, FAILED (exactly once in order ${r.exact}, aborted ${r.aborted}, ${r.received} echoes)`}\n`);
}
const kills200 = [];
for (let i = 0; i < opts.kills; i++) {
  const r = await killRun(true, 200);
  kills200.push(r);
  process.stderr.write(`  kill ${i + 1}/${opts.kills}, peer RTO.Min 200 ms: outage ${fmt(r.outageMs)} ms, detection ${fmt(r.detectionMs)} ms${r.valid ? '' : ', DISCARDED'}${r.ok ? '' : ', FAILED'}\n`);
}
const asconf = kills.some((k) => k.asconf);
const killsWithout = [];
if (asconf) {
  for (let i = 0; i < opts.kills; i++) {
    const r = await killRun(false);
    killsWithout.push(r);
    process.stderr.write(`  kill ${i + 1}/${opts.kills} without Set Primary: outage ${fmt(r.outageMs)} ms${r.valid ? '' : ', DISCARDED'}${r.ok ? '' : ', FAILED'}\n`);
  }
}

// ------------------------------------------------------------------ the table

const rows = [];
rows.push([`throughput (receiver, msgs/s, median of ${opts.repeat} [min-max])`, ...opts.sizes.map((s) => `${s} B`)]);
for (const [mode, label] of modes) {
  rows.push([label, ...opts.sizes.map((s) => { const t = tp[`${mode}/${s}`]; return `${fmt(t.msgs)}${t.senderRate ? '*' : ''}${t.n > 1 ? ` [${fmt(t.min)}-${fmt(t.max)}]` : ''}`; })]);
}
rows.push(['sync / off', ...opts.sizes.map((s) => `${fmt(tp[`sync/${s}`].msgs / tp[`off/${s}`].msgs, 2)}x`)]);
rows.push(['sync / cluster node alone', ...opts.sizes.map((s) => `${fmt(tp[`sync/${s}`].msgs / tp[`alone/${s}`].msgs, 2)}x`)]);
rows.push(['async / off', ...opts.sizes.map((s) => `${fmt(tp[`async/${s}`].msgs / tp[`off/${s}`].msgs, 2)}x`)]);
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
console.log('');
for (const r of rows) console.log(`  ${r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')}`);
if (Object.values(tp).some((r) => r.senderRate)) console.log('  * the sender\'s rate: this hasctp server prints no per-association receive rate');
for (const n of notes) console.log(`  ${n}`);

console.log('');
console.log("  SACK delay, DATA in → SACK out on the primary's veth (usrsctp client, a 100-byte message every 2 ms):");
for (const mode of ['off', 'sync', 'async']) console.log(`    ${mode.padEnd(5)}  p50 ${fmt(sack[mode].p50, 2).padStart(7)} ms   p99 ${fmt(sack[mode].p99, 2).padStart(7)} ms   (${sack[mode].n} SACKs)`);
console.log(`    added by withholding (sync - off): p50 ${fmt(sack.sync.p50 - sack.off.p50, 2)} ms, p99 ${fmt(sack.sync.p99 - sack.off.p99, 2)} ms`);

const summarize = (list, label) => {
  const discarded = list.filter((k) => !k.valid).length;
  list = list.filter((k) => k.valid);
  const good = list.filter((k) => k.ok);
  const o = good.map((k) => k.outageMs);
  const f = good.map((k) => k.killToFirstEchoMs);
  console.log(
    `    ${label}: ${list.length} kills${discarded > 0 ? ` (${discarded} more discarded: the standby had taken over before the kill)` : ''}, ${good.length} exactly-once and not aborted; outage min ${fmt(Math.min(...o))} / median ${fmt(median(o))} / max ${fmt(Math.max(...o))} ms` +
      ` (kill → echoes again min ${fmt(Math.min(...f))} / median ${fmt(median(f))} / max ${fmt(Math.max(...f))} ms; detection median ${fmt(median(good.map((k) => k.detectionMs ?? NaN)))} ms)`,
  );
  const bad = list.filter((k) => !k.ok);
  if (bad.length > 0) console.log(`      ! ${bad.length} run(s) failed: ${bad.map((k) => `${k.received} echoes, exactly once in order ${k.exact}, aborted ${k.aborted}`).join('; ')}`);
};
if (opts.kills > 0) {
  console.log('');
  console.log('  Outage after SIGKILL of the primary, usrsctp client with PF (the longest gap between echoes across the kill):');
  if (asconf) {
    summarize(kills, 'with ASCONF Set Primary');
    summarize(kills200, 'with ASCONF Set Primary, peer RTO.Min 200 ms');
    summarize(killsWithout, 'without Set Primary');
  } else {
    summarize(kills, 'Set Primary not negotiated (the peer moves on its own RTO)');
    summarize(kills200, 'Set Primary not negotiated, peer RTO.Min 200 ms');
  }
}
const failed = [...kills, ...kills200, ...killsWithout].filter((k) => !k.ok).length;
process.exitCode = failed > 0 ? 1 : 0;
