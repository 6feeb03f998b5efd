#!/usr/bin/env node
// Signaling relay benchmark (issue #10) over RFC 6951 UDP encapsulation on
// loopback (no root), in one run:
//
//   bench client 127.0.0.1 ──────────────────────────────── echo server 127.0.0.3   (direct: the anchor)
//   bench client 127.0.0.1 ── relay 127.0.0.2 (hold on) ──── echo server 127.0.0.3
//   bench client 127.0.0.1 ── relay 127.0.0.4 (hold off) ─── echo server 127.0.0.3
//
// The echo server is `hasctp server --mode echo`, each relay a `hasctp relay`
// process (separate processes, as deployed); the client runs here on the
// library API. Per path:
//   1. latency: one message of --size bytes outstanding at a time, --pings
//      round trips; p50 / p99 of the echo time, and what the relay adds over
//      the direct path's p50 / p99 measured in the same run;
//   2. throughput: --count messages of --size bytes sent as fast as the
//      association takes them; echoed messages per second, first send to
//      last echo, every echo checked (number, exactly once, in order).
// --repeat rounds, paths interleaved; the median of each figure is reported.
// Every child is ended on exit, SIGINT and failure; every wait is bounded.
//
//   npm run bench:relay -- [--count N] [--size B] [--pings N] [--repeat N]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const { connect } = await import(pathToFileURL(join(ROOT, 'dist', 'api', 'index.js')).href);

function usage(message) {
  console.error(`bench/relay.mjs: ${message}`);
  console.error('usage: node bench/relay.mjs [--count N] [--size B] [--pings N] [--repeat N]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { count: 20000, size: 100, pings: 2000, repeat: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '');
    const v = Number(argv[i + 1]);
    if (!(key in o)) usage(`unknown option ${argv[i]}`);
    if (!Number.isInteger(v) || v < 1 || v > 10_000_000) usage(`--${key} must be a positive integer, got ${argv[i + 1]}`);
    o[key] = v;
  }
  if (o.size < 8) usage('--size must be at least 8 (the message number)');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const children = [];
const dir = mkdtempSync(join(tmpdir(), 'hasctp-bench-relay-'));

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => process.exit(130));

function start(args) {
  const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
  c.on('exit', (code) => {
    if (code !== 0 && code !== null && !stopping) {
      console.error(`bench/relay.mjs: ${args[0]} exited with ${code}: ${err.trim()}`);
      process.exit(1);
    }
  });
  children.push(c);
  return c;
}
let stopping = false;

const SERVER = { address: '127.0.0.3', port: 3000, udp: 39101 };
const RELAY_HOLD = { address: '127.0.0.2', port: 2905, udp: 39102 };
const RELAY_PLAIN = { address: '127.0.0.4', port: 2905, udp: 39103 };

start(['server', '--listen', `${SERVER.address}:${SERVER.port}`, '--mode', 'echo', '--udp-encap', String(SERVER.udp), '--no-control', '--log-level', 'warn']);
for (const [r, hold] of [[RELAY_HOLD, true], [RELAY_PLAIN, false]]) {
  const file = join(dir, `relay-${r.udp}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      listen: { addresses: [r.address], port: r.port, udpPort: r.udp },
      backends: [{ name: 'echo', addresses: [SERVER.address], port: SERVER.port, udpPort: SERVER.udp }],
      routing: { mode: 'round-robin' },
      ackAfterForward: hold,
    }),
  );
  start(['relay', '--config', file, '--log-level', 'warn']);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function open(target) {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      return await connect({ localAddresses: ['127.0.0.1'], remoteAddresses: [target.address], port: target.port, udpPort: 0, remoteUdpPort: target.udp, timeout: 1000, hbInterval: 3_600_000 });
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`cannot connect to ${target.address}:${target.port}`);
}

function message(i) {
  const b = Buffer.alloc(opts.size);
  b.writeUInt32BE(i, 0);
  return b;
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measure(target) {
  const a = await open(target);
  // 1. Latency, one message outstanding.
  const rtts = [];
  for (let i = 0; i < opts.pings; i++) {
    const t0 = performance.now();
    const echoed = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('echo timeout')), 5000);
      a.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    a.send(message(i));
    await echoed;
    rtts.push(performance.now() - t0);
  }
  rtts.sort((x, y) => x - y);
  // 2. Throughput, as fast as the association takes it.
  let next = 0;
  let bad = 0;
  let last = 0;
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`throughput: ${next} of ${opts.count} echoes after 120 s`)), 120_000);
    a.on('message', (m) => {
      if (m.data.readUInt32BE(0) !== next) bad++;
      next++;
      if (next === opts.count) {
        last = performance.now();
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const t0 = performance.now();
  for (let i = 0; i < opts.count; i++) if (!a.send(message(i))) await new Promise((r) => a.once('drain', r));
  await done;
  await a.shutdown();
  if (bad > 0) throw new Error(`${bad} echoes out of order, lost or duplicated`);
  return { p50: quantile(rtts, 0.5), p99: quantile(rtts, 0.99), rate: opts.count / ((last - t0) / 1000) };
}

const paths = [
  ['direct (anchor)', SERVER],
  ['relay, ack after forward', RELAY_HOLD],
  ['relay, ack on receipt', RELAY_PLAIN],
];
const results = new Map(paths.map(([name]) => [name, []]));
for (let round = 0; round < opts.repeat; round++) {
  for (const [name, target] of paths) results.get(name).push(await measure(target));
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const rows = paths.map(([name]) => {
  const rs = results.get(name);
  return { name, rate: median(rs.map((r) => r.rate)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)) };
});
const anchor = rows[0];
console.log(`relay benchmark: ${opts.size} B messages, ${opts.count} per throughput run, ${opts.pings} round trips, median of ${opts.repeat} rounds, UDP encapsulation on loopback`);
console.log('path                        echoed msg/s   vs direct   rtt p50 ms   rtt p99 ms   added p50 ms   added p99 ms');
for (const r of rows) {
  console.log(
    `${r.name.padEnd(26)} ${r.rate.toFixed(0).padStart(13)} ${`${((100 * r.rate) / anchor.rate).toFixed(0)}%`.padStart(11)} ${r.p50.toFixed(3).padStart(12)} ${r.p99.toFixed(3).padStart(12)} ${(r.p50 - anchor.p50).toFixed(3).padStart(14)} ${(r.p99 - anchor.p99).toFixed(3).padStart(14)}`,
  );
}
stopping = true;
for (const c of children) c.kill('SIGTERM');
await sleep(300);
process.exit(0);
