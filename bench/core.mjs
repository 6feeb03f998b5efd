#!/usr/bin/env node
// Core benchmark: the pure SCTP core (src/core) driven in memory, against
// anchors measured in the same run. Run with `npm run bench:core` (builds
// dist/ first; needs --expose-gc, which the npm script passes).
//
// 1. Throughput: two endpoints, one association, one ordered stream. A tight
//    pump moves every pollTransmit of one endpoint into handlePacket of the
//    other; the virtual clock moves only when both are idle, to the next
//    pollTimeout. Anchor: usrsctp's tsctp on loopback over UDP encapsulation.
// 2. Memory: V8 heap per idle association with 10,000 associations on one
//    server endpoint, and the size of one association's snapshot. Anchor:
//    V8 heap per idle TCP connection (node:net) on loopback.
//
// Overrides: BENCH_RUNS (3), BENCH_MSGS_100 (200000), BENCH_MSGS_1000 (100000),
// BENCH_ASSOCS (10000), BENCH_TCP_CONNS (1000), BENCH_TSCTP_SECONDS (2),
// TSCTP (path of the tsctp binary), BENCH_ONLY=throughput|memory.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { createEndpoint, SeededRng, summarize } from '../dist/core/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MSGS = { 100: Number(process.env.BENCH_MSGS_100 ?? 200_000), 1000: Number(process.env.BENCH_MSGS_1000 ?? 100_000) };
const ASSOCS = Number(process.env.BENCH_ASSOCS ?? 10_000);
const TCP_CONNS = Number(process.env.BENCH_TCP_CONNS ?? 1000);
const TSCTP_SECONDS = Number(process.env.BENCH_TSCTP_SECONDS ?? 2);
const TSCTP = process.env.TSCTP ?? '/usr/lib/usrsctp/tsctp';
const ONLY = process.env.BENCH_ONLY;
const SEED = 0x5c7b;

if (typeof globalThis.gc !== 'function') {
  console.error('bench/core.mjs needs --expose-gc (npm run bench:core passes it)');
  process.exit(2);
}

const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
const clock = () => performance.now();

/** Every child process we start, so none outlives the bench. */
const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function fail(message) {
  console.error(`\nBENCH FAILURE: ${message}`);
  process.exit(1);
}

function heapAfterGc() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

// ------------------------------------------------------------------ in-memory link

/**
 * Two endpoints wired back to back. `received` counts messages the receiver
 * took from pollEvent (taking them is what frees its window); every one is
 * checked: stream 0, the right length, the next sequence number.
 */
class Link {
  constructor(seed, size) {
    this.now = 0;
    this.a = createEndpoint({ localAddresses: ['10.0.0.1'], port: 5000, rng: new SeededRng(seed), hmac, now: 0 });
    this.b = createEndpoint({ localAddresses: ['10.0.0.2'], port: 6000, rng: new SeededRng(seed + 1), hmac, now: 0 });
    this.size = size;
    this.seed = seed;
    this.assocA = undefined;
    this.assocB = undefined;
    this.sent = 0;
    this.received = 0;
    this.packetsAB = 0;
    this.packetsBA = 0;
    this.timerWaits = 0;
    this.idleSpins = 0;
    this.problems = [];
  }

  drainA() {
    for (let e = this.a.pollEvent(); e !== undefined; e = this.a.pollEvent()) {
      const t = e.event.type;
      if (t === 'communication-up') this.assocA = e.assocId;
      else if (t !== 'sender-dry') this.problems.push(`sender event ${t}${e.event.reason ? ` (${e.event.reason})` : ''}`);
    }
  }

  drainB() {
    for (let e = this.b.pollEvent(); e !== undefined; e = this.b.pollEvent()) {
      const ev = e.event;
      if (ev.type === 'message') {
        const d = ev.data;
        const seq = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
        if (ev.streamId !== 0 || ev.unordered || d.length !== this.size || seq !== this.received) {
          fail(`seed ${this.seed}, ${this.size} B: message #${this.received} expected, got seq ${seq} (${d.length} B, stream ${ev.streamId}, unordered ${ev.unordered})`);
        }
        this.received++;
      } else if (ev.type === 'communication-up') this.assocB = e.assocId;
      else if (ev.type !== 'sender-dry') this.problems.push(`receiver event ${ev.type}`);
    }
  }

  /** Moves everything either side has to send; the number of packets moved. */
  step() {
    let n = 0;
    for (let d = this.a.pollTransmit(this.now); d !== undefined; d = this.a.pollTransmit(this.now)) {
      this.b.handlePacket(this.now, d);
      this.drainB();
      n++;
    }
    this.packetsAB += n;
    let m = 0;
    for (let d = this.b.pollTransmit(this.now); d !== undefined; d = this.b.pollTransmit(this.now)) {
      this.a.handlePacket(this.now, d);
      this.drainA();
      m++;
    }
    this.packetsBA += m;
    return n + m;
  }

  /** Both idle: jump the clock to the next deadline and fire it. False if no timer is running. */
  advance(why) {
    const ta = this.a.pollTimeout();
    const tb = this.b.pollTimeout();
    const t = ta === undefined ? tb : tb === undefined ? ta : Math.min(ta, tb);
    if (t === undefined) return false;
    if (++this.idleSpins > 1000) {
      fail(`seed ${this.seed}, ${this.size} B: pump stalled while ${why}: no packet moves, yet a timer is due at ${t} (now ${this.now}); sent ${this.sent}, received ${this.received}`);
    }
    if (t > this.now) {
      this.now = t;
      this.timerWaits++;
    }
    this.a.handleTimeout(this.now);
    this.b.handleTimeout(this.now);
    this.drainA();
    this.drainB();
    return true;
  }

  pump(why) {
    if (this.step() > 0) {
      this.idleSpins = 0;
      return;
    }
    if (!this.advance(why)) {
      fail(`seed ${this.seed}, ${this.size} B: pump stalled while ${why}: no packet to move and no timer running; sent ${this.sent}, received ${this.received}, virtual time ${this.now} ms`);
    }
  }

  connect() {
    const r = this.a.connect(this.now, { remoteAddresses: ['10.0.0.2'], remotePort: 6000 });
    if (!r.ok) fail(`connect: ${r.error}`);
    this.idleSpins = 0;
    while (this.assocA === undefined || this.assocB === undefined) this.pump('connecting');
  }

  /** Sends `count` more messages as fast as back-pressure allows, then waits until all arrived. */
  transfer(count) {
    const buf = new Uint8Array(this.size).fill(0x61);
    const opts = { streamId: 0, ppid: 0 };
    const target = this.sent + count;
    this.idleSpins = 0;
    while (this.sent < target) {
      const s = this.sent;
      buf[0] = s >>> 24;
      buf[1] = s >>> 16;
      buf[2] = s >>> 8;
      buf[3] = s;
      const r = this.a.send(this.now, this.assocA, buf, opts);
      if (r.ok) {
        this.sent++;
        continue;
      }
      if (r.error.kind !== 'queue-full') fail(`seed ${this.seed}, ${this.size} B: send #${s} failed: ${JSON.stringify(r.error)}`);
      this.pump('sending (queue full)');
    }
    while (this.received < target) this.pump('draining');
    if (this.problems.length > 0) fail(`seed ${this.seed}, ${this.size} B: unexpected events: ${this.problems.slice(0, 5).join(', ')}`);
  }
}

function throughput(size) {
  const n = MSGS[size];
  const link = new Link(SEED + size, size);
  link.connect();
  link.transfer(Math.max(1000, Math.floor(n / 4))); // warm-up
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    const p0 = link.packetsAB + link.packetsBA;
    const pab0 = link.packetsAB;
    const w0 = link.timerWaits;
    const v0 = link.now;
    const t0 = clock();
    link.transfer(n);
    const s = (clock() - t0) / 1000;
    runs.push({
      msgs: n / s,
      pkts: (link.packetsAB + link.packetsBA - p0) / s,
      mbs: (n * size) / s / 1e6,
      dataPackets: link.packetsAB - pab0,
      packets: link.packetsAB + link.packetsBA - p0,
      timerWaits: link.timerWaits - w0,
      virtualMs: link.now - v0,
      seconds: s,
    });
  }
  if (link.received !== link.sent) fail(`${size} B: sent ${link.sent}, received ${link.received}`);
  runs.sort((x, y) => x.msgs - y.msgs);
  const med = runs[runs.length >> 1];
  const snap = link.a.snapshot(link.assocA);
  const c = snap ? summarize(snap).counters : undefined;
  return { size, n, ...med, total: link.received, rtx: c?.rtxChunks ?? 0, t3: c?.t3Expireds ?? 0, spread: [runs[0].msgs, runs[runs.length - 1].msgs] };
}

// ------------------------------------------------------------------ tsctp anchor

/** A no-op usrsctp_sysctl_set_sctp_debug_on, LD_PRELOADed so tsctp does not switch on debug logging. */
function buildNoDebugShim(dir) {
  const src = join(dir, 'nodebug.c');
  const so = join(dir, 'nodebug.so');
  writeFileSync(src, 'int usrsctp_sysctl_set_sctp_debug_on(unsigned int v) { (void)v; return 0; }\n');
  const r = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', so, src], { timeout: 20_000, encoding: 'utf8' });
  if (r.error) return { error: `cc: ${r.error.code ?? r.error.message}` };
  if (r.status !== 0) return { error: `cc exit ${r.status}: ${(r.stderr ?? '').trim().split('\n')[0]}` };
  return { so };
}

/** A UDP port nothing is bound to on 127.0.0.1 (bound and released at once). */
async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((res, rej) => {
    s.once('error', rej);
    s.bind(0, '127.0.0.1', res);
  });
  const port = s.address().port;
  await new Promise((res) => s.close(res));
  return port;
}

function udpPortBound(port) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  try {
    return readFileSync('/proc/net/udp', 'utf8').split('\n').some((l) => l.slice(0, 40).includes(hex));
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts a child; its stdout lines go to `onLine`, the tail of stderr is kept. Killed at `limitMs`. */
function startChild(file, args, env, limitMs, onLine) {
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    if (rest.length > 4096) rest = '';
    for (const l of lines) onLine(l);
  });
  child.stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    child.stderrTail = (child.stderrTail + d).slice(-2000);
  });
  child.spawnError = undefined;
  child.on('error', (e) => {
    child.spawnError = e;
  });
  child.limit = setTimeout(() => child.kill('SIGKILL'), limitMs);
  child.on('exit', () => clearTimeout(child.limit));
  return child;
}

async function stopChild(child) {
  if (child.exitCode === null && child.signalCode === null && !child.spawnError) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(500)]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await Promise.race([gone, sleep(1000)]);
    }
  }
  clearTimeout(child.limit);
  children.delete(child);
}

/** The server's result line: length, messages, recv calls, bytes, seconds, bytes/s, notifications. */
const TSCTP_RESULT = /^(\d+), (\d+), (\d+), (\d+), ([\d.]+), ([\d.]+), (\d+)\s*$/;

async function tsctpRun(size, env) {
  const encapServer = await freeUdpPort();
  let encapClient = await freeUdpPort();
  if (encapClient === encapServer) encapClient = await freeUdpPort();
  const sctpPort = 15001;
  let result;
  const server = startChild(TSCTP, ['-E', String(encapServer), '-p', String(sctpPort)], env, (TSCTP_SECONDS + 15) * 1000, (l) => {
    const m = TSCTP_RESULT.exec(l);
    if (m && Number(m[1]) === size) result = { messages: Number(m[2]), bytes: Number(m[4]), seconds: Number(m[5]) };
  });
  let client;
  try {
    // Ready when its UDP encapsulation socket is bound.
    for (let i = 0; i < 100 && server.exitCode === null && !server.spawnError && udpPortBound(encapServer) === false; i++) await sleep(20);
    if (udpPortBound(encapServer) === undefined) await sleep(500);
    if (server.spawnError) return { error: `cannot start ${TSCTP}: ${server.spawnError.code ?? server.spawnError.message}` };
    if (server.exitCode !== null) return { error: `tsctp server exited (${server.exitCode}): ${server.stderrTail.trim().split('\n').pop() ?? ''}` };
    client = startChild(
      TSCTP,
      ['-E', String(encapClient), '-U', String(encapServer), '-p', String(sctpPort), '-l', String(size), '-T', String(TSCTP_SECONDS), '127.0.0.1'],
      env,
      (TSCTP_SECONDS + 10) * 1000,
      () => {},
    );
    const deadline = Date.now() + (TSCTP_SECONDS + 8) * 1000;
    while (result === undefined && Date.now() < deadline && server.exitCode === null) {
      if (client.spawnError) return { error: `cannot start tsctp client: ${client.spawnError.code}` };
      await sleep(25);
    }
    if (result === undefined) {
      const why = client.exitCode !== null ? `client exited ${client.exitCode}: ${client.stderrTail.trim().split('\n').pop() ?? ''}` : 'timed out';
      return { error: `no result line from the tsctp server (${why})` };
    }
    return { msgs: result.messages / result.seconds, mbs: result.bytes / result.seconds / 1e6, messages: result.messages, seconds: result.seconds };
  } finally {
    if (client) await stopChild(client);
    await stopChild(server);
  }
}

async function tsctpAnchor(sizes) {
  if (process.platform !== 'linux') return { error: 'tsctp anchor runs on Linux only', rows: {} };
  if (!existsSync(TSCTP)) return { error: `${TSCTP} not found (Debian/Ubuntu: apt-get install libusrsctp-examples)`, rows: {} };
  const dir = mkdtempSync(join(tmpdir(), 'hasctp-bench-'));
  try {
    const shim = buildNoDebugShim(dir);
    const env = { ...process.env };
    if (shim.so) env.LD_PRELOAD = shim.so;
    const rows = {};
    for (const size of sizes) rows[size] = await tsctpRun(size, env);
    return { rows, debugOff: Boolean(shim.so), shimError: shim.error };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ idle associations

/** Moves packets between one client and the server until both are quiet. */
function handshake(server, client, now) {
  for (let rounds = 0; rounds < 100; rounds++) {
    let moved = 0;
    for (let d = client.pollTransmit(now); d !== undefined; d = client.pollTransmit(now)) {
      server.handlePacket(now, d);
      moved++;
    }
    for (let d = server.pollTransmit(now); d !== undefined; d = server.pollTransmit(now)) {
      const port = (d.bytes[2] << 8) | d.bytes[3];
      if (port !== client.port) fail(`server sent a packet to port ${port} during the handshake of port ${client.port}`);
      client.handlePacket(now, d);
      moved++;
    }
    if (moved === 0) return;
  }
  fail(`handshake of client port ${client.port} did not settle`);
}

function establish(server, count, firstPort, seed) {
  const clients = [];
  let up = 0;
  const rates = [];
  let t0 = clock();
  for (let i = 0; i < count; i++) {
    const c = createEndpoint({ localAddresses: ['10.8.0.1'], port: firstPort + i, rng: new SeededRng(seed + i), hmac, now: 0 });
    const r = c.connect(0, { remoteAddresses: ['10.9.0.1'], remotePort: 2905 });
    if (!r.ok) fail(`client ${i}: connect ${r.error}`);
    handshake(server, c, 0);
    let clientUp = false;
    for (let e = c.pollEvent(); e !== undefined; e = c.pollEvent()) if (e.event.type === 'communication-up') clientUp = true;
    for (let e = server.pollEvent(); e !== undefined; e = server.pollEvent()) {
      if (e.event.type === 'communication-up') up++;
      else fail(`server event ${e.event.type} while establishing association ${i}`);
    }
    if (!clientUp) fail(`seed ${seed + i}: client port ${firstPort + i} never saw communication-up (${c.associationIds().length} associations)`);
    clients.push(c);
    if ((i + 1) % 1000 === 0) {
      const t = clock();
      rates.push(1000 / ((t - t0) / 1000));
      t0 = t;
    }
  }
  if (up !== count) fail(`server reported ${up} communication-up events for ${count} handshakes`);
  return { clients, rates };
}

function idleAssociations() {
  // Warm-up on a throwaway server so JIT code is not counted as association state.
  {
    const warm = createEndpoint({ localAddresses: ['10.9.0.1'], port: 2905, rng: new SeededRng(SEED + 7), hmac, now: 0 });
    establish(warm, 500, 40_000, SEED + 50_000);
  }
  const server = createEndpoint({ localAddresses: ['10.9.0.1'], port: 2905, rng: new SeededRng(SEED + 9), hmac, now: 0 });
  const h0 = heapAfterGc();
  const t0 = clock();
  const { clients, rates } = establish(server, ASSOCS, 10_000, SEED + 100_000);
  const setupSeconds = (clock() - t0) / 1000;
  const hWithClients = heapAfterGc();
  clients.length = 0; // the last references to the client endpoints
  const h1 = heapAfterGc();
  const ids = server.associationIds();
  if (ids.length !== ASSOCS) fail(`server holds ${ids.length} associations, expected ${ASSOCS}`);
  const snap = server.snapshot(ids[ids.length >> 1]);
  const snapBytes = v8.serialize(snap).length;
  // What a driver pays per pollTimeout() (it asks after every input) with this many associations.
  let sink = 0;
  const tp = clock();
  let k = 0;
  for (; clock() - tp < 200; k++) sink += server.pollTimeout() ?? 0;
  const pollTimeoutUs = ((clock() - tp) * 1000) / k;
  return {
    perAssoc: (h1 - h0) / ASSOCS,
    perClient: (hWithClients - h1) / ASSOCS,
    snapBytes,
    setupSeconds,
    firstRate: rates[0],
    lastRate: rates[rates.length - 1],
    pollTimeoutUs,
    sink,
  };
}

// ------------------------------------------------------------------ TCP anchor

const listen = (srv) =>
  new Promise((res, rej) => {
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => res(srv.address().port));
  });

async function openTcp(port, n) {
  const out = [];
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 100); j++) {
      batch.push(
        new Promise((res, rej) => {
          const s = net.connect(port, '127.0.0.1', () => res(s));
          s.once('error', rej);
        }),
      );
    }
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

async function waitFor(pred, ms, what) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** V8 heap per TCP connection, both ends in this process. */
async function tcpBothEnds(n) {
  const accepted = [];
  const srv = net.createServer((s) => accepted.push(s));
  const port = await listen(srv);
  // Warm-up: the first connections pay for lazily created code and handles.
  const warm = await openTcp(port, 50);
  await waitFor(() => accepted.length === 50, 5000, 'warm-up connections');
  for (const s of warm) s.destroy();
  for (const s of accepted) s.destroy();
  accepted.length = 0;
  warm.length = 0;
  await sleep(100);
  const h0 = heapAfterGc();
  const clients = await openTcp(port, n);
  await waitFor(() => accepted.length === n, 10_000, `${n} accepted connections`);
  await sleep(50);
  const h1 = heapAfterGc();
  const per = (h1 - h0) / n;
  for (const s of clients) s.destroy();
  for (const s of accepted) s.destroy();
  await new Promise((r) => srv.close(r));
  return per;
}

/** V8 heap per TCP connection, server end only: the clients live in a child process. */
async function tcpServerEnd(n) {
  const accepted = [];
  const srv = net.createServer((s) => accepted.push(s));
  const port = await listen(srv);
  const script = `
    const net = require('node:net');
    const [port, n] = process.argv.slice(1).map(Number);
    const socks = [];
    let open = 0;
    for (let i = 0; i < n; i++) {
      const s = net.connect(port, '127.0.0.1', () => { if (++open === n) process.stdout.write('ready\\n'); });
      s.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
      socks.push(s);
    }
    setTimeout(() => process.exit(0), 30000);
  `;
  // Warm-up connections from this process.
  const warm = await openTcp(port, 50);
  await waitFor(() => accepted.length === 50, 5000, 'warm-up connections');
  for (const s of warm) s.destroy();
  for (const s of accepted) s.destroy();
  accepted.length = 0;
  await sleep(100);
  const h0 = heapAfterGc();
  let ready = false;
  const child = startChild(process.execPath, ['-e', script, String(port), String(n)], process.env, 30_000, (l) => {
    if (l === 'ready') ready = true;
  });
  try {
    await waitFor(() => (ready && accepted.length === n) || child.exitCode !== null || child.spawnError, 15_000, `${n} connections from the child`);
    if (!ready || accepted.length !== n) throw new Error(`client process failed: ${child.spawnError?.message ?? child.stderrTail.trim()}`);
    await sleep(50);
    const h1 = heapAfterGc();
    return (h1 - h0) / n;
  } finally {
    await stopChild(child);
    for (const s of accepted) s.destroy();
    await new Promise((r) => srv.close(r));
  }
}

async function guard(f) {
  try {
    return await f();
  } catch (e) {
    return { error: e.message };
  }
}

// ------------------------------------------------------------------ report

const pad = (s, n) => String(s).padStart(n);
const si = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e4 ? `${(x / 1e3).toFixed(0)} k` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));
const int = (x) => Math.round(x).toLocaleString('en-US');
const row = (cells, widths) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : pad(c, widths[i]))).join(' ');

const started = clock();
let sinkAll = 0;
console.log(`hasctp core bench — Node ${process.version}, ${cpus()[0]?.model?.trim() ?? '?'}, ${cpus().length} CPUs, median of ${RUNS} runs`);

if (ONLY !== 'memory') {
  const results = [100, 1000].map(throughput);
  const anchor = await tsctpAnchor([100, 1000]);
  console.log('');
  console.log('Throughput, one association, one ordered stream (1 MB = 10^6 B of user data)');
  const w = [8, 9, 10, 9, 8, 7, 8, 3, 12, 8];
  console.log(row(['message', 'count', 'msgs/s', 'pkts/s', 'MB/s', 'msg/pkt', 'waits', '|', 'tsctp msg/s', 'MB/s'], w));
  for (const r of results) {
    const t = anchor.rows[r.size];
    const tc = !t ? ['-', '-'] : t.error ? ['n/a', 'n/a'] : [si(t.msgs), t.mbs.toFixed(1)];
    console.log(row([`${r.size} B`, si(r.n), si(r.msgs), si(r.pkts), r.mbs.toFixed(1), (r.n / r.dataPackets).toFixed(1), String(r.timerWaits), '|', ...tc], w));
  }
  console.log('hasctp: the core alone, in memory: two endpoints in this process, every pollTransmit of one handed to handlePacket of');
  console.log('  the other, CRC32c computed and checked (JS), no sockets, no syscalls, one thread. Sender calls send() until queue-full,');
  console.log('  then pumps; the receiver takes every message from pollEvent (which reopens its window). Each run sends `count` messages');
  console.log(`  after a warm-up of count/4; every message is checked to arrive exactly once, in order (sequence number in the payload).`);
  console.log('  pkts/s counts packets both ways (DATA one way, SACK the other); msg/pkt = messages per DATA-carrying packet;');
  console.log('  waits = times both sides were idle and the virtual clock jumped to the next timer (e.g. a delayed SACK), per run.');
  for (const r of results) {
    console.log(
      `  ${r.size} B: runs ${si(r.spread[0])}–${si(r.spread[1])} msgs/s; ${int(r.total)} messages checked; ${r.timerWaits} clock jumps (${r.virtualMs} ms virtual) in the median run;` +
        ` retransmitted chunks ${r.rtx}, T3 expiries ${r.t3}.`,
    );
  }
  if (anchor.error) {
    console.log(`tsctp: not run: ${anchor.error}`);
  } else {
    console.log(`tsctp: usrsctp ${TSCTP} -l SIZE -T ${TSCTP_SECONDS} to a tsctp server on 127.0.0.1, SCTP over UDP encapsulation (-E/-U), one stream,`);
    console.log(`  ordered, Nagle on (tsctp default), one ${TSCTP_SECONDS} s run per size; the figure is the server's own count (messages received / its receive time).`);
    console.log('  It includes real UDP sockets, the kernel loopback, two processes and usrsctp\'s threads; the hasctp figure is the');
    console.log('  core alone, in memory — the two are not the same work: tsctp is the bar a real stack reaches with I/O included.');
    console.log(
      anchor.debugOff
        ? '  Debian builds usrsctp with SCTP_DEBUG and tsctp switches all debug output on; a no-op usrsctp_sysctl_set_sctp_debug_on was LD_PRELOADed to keep it off.'
        : `  Debug logging ON (Debian build, shim not built: ${anchor.shimError}): tsctp formats debug lines per packet, so its figure is low.`,
    );
    for (const [size, t] of Object.entries(anchor.rows)) {
      if (t.error) console.log(`  tsctp ${size} B: ${t.error}`);
    }
  }
}

if (ONLY !== 'throughput') {
  const mem = idleAssociations();
  sinkAll += mem.sink;
  const tcpBoth = await guard(() => tcpBothEnds(TCP_CONNS));
  const tcpServer = await guard(() => tcpServerEnd(TCP_CONNS));
  const tcpCell = (x) => (typeof x === 'number' ? int(x) : 'n/a');
  console.log('');
  console.log(`Memory, V8 heap bytes (heapUsed delta after gc) | anchor: Node net, TCP on loopback, ${int(TCP_CONNS)} connections`);
  const w = [44, 10, 3, 12];
  console.log(row(['figure', 'hasctp', '|', 'Node TCP'], w));
  console.log(row([`per idle association, server end (${int(ASSOCS)})`, int(mem.perAssoc), '|', tcpCell(tcpServer)], w));
  console.log(row(['per association, both ends', int(mem.perAssoc + mem.perClient), '|', tcpCell(tcpBoth)], w));
  console.log(row(['one association snapshot, v8.serialize', int(mem.snapBytes), '|', '-'], w));
  console.log(`hasctp server end: one server endpoint; ${int(ASSOCS)} associations established to it from ${int(ASSOCS)} client endpoints (the API keeps one`);
  console.log('  association per endpoint and peer address), all at virtual time 0, no data sent; then every client dropped and gc() run:');
  console.log('  (heapUsed − heapUsed of the same server before any association) / associations. Both ends adds the client side (one');
  console.log('  Endpoint plus its association each), measured as the heap freed by dropping the clients.');
  console.log('snapshot: Endpoint.snapshot (structuredClone of the association: plain data, what HA replication ships), then');
  console.log('  v8.serialize; an idle ESTABLISHED association with one path each way.');
  console.log('Node TCP server end: net.createServer in this process, the clients in a child process, so only server-side net.Socket');
  console.log('  objects are in this heap; both ends: clients and server here (two net.Socket per connection). V8 heap only: kernel');
  console.log('  socket buffers and libuv handles live outside it (hasctp has no kernel side: its association is all there is).');
  if (typeof tcpServer !== 'number') console.log(`  Node TCP server end not measured: ${tcpServer.error}`);
  if (typeof tcpBoth !== 'number') console.log(`  Node TCP both ends not measured: ${tcpBoth.error}`);
  console.log(
    `setup: ${int(ASSOCS)} handshakes in ${mem.setupSeconds.toFixed(1)} s (first 1,000 at ${si(mem.firstRate)}/s, last 1,000 at ${si(mem.lastRate)}/s);` +
      ` server.pollTimeout() with ${int(ASSOCS)} associations: ${mem.pollTimeoutUs.toFixed(0)} µs per call.`,
  );
}
console.log('');
if (sinkAll === -1) console.log(sinkAll);
console.log(`total ${((clock() - started) / 1000).toFixed(0)} s`);
