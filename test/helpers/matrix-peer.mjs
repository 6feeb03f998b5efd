// One hasctp end of the interop matrix (test/interop/matrix-*.test.ts), run
// inside a network namespace:   node matrix-peer.mjs <compiled-dir> <json-config>
// <compiled-dir> holds src/ compiled by the test (api/index.js, ...).
//
// Talks JSON lines on stdout. Every wait is bounded by config.timeoutMs.
//
// role "client": connects, sends config.plan (sizes x counts, ordered and
// unordered, round robin over config.streams), the PPID of each message is its
// sequence number and its bytes derive from it, so the echo of every message
// (even a 1-byte one) is checked exactly: right size, bytes, stream and
// unordered flag, no loss, no duplicate, and on an ordered stream nothing
// overtakes an earlier ordered message. With config.switchPrimaryAt it moves
// the primary path to remote address #1 after that many messages (multihoming:
// DATA then flows on both paths). Ends with a graceful SHUTDOWN and prints
// {"event":"summary", ...} with the path states seen before the shutdown.
//
// role "server": prints {"event":"ready"}; echoes (or discards) on every
// association and prints {"event":"closed", stats, paths, reason} when one
// ends; "stop" on stdin closes the server, prints {"event":"summary"} and exits.
// With config.fill (a byte value) it counts the messages that are not that byte repeated.
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [dir, configText] = process.argv.slice(2);
const config = JSON.parse(configText);
const api = await import(pathToFileURL(join(dir, 'api', 'index.js')).href);

const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const hardStop = setTimeout(() => {
  say({ event: 'error', message: `${config.role}: no end after ${config.timeoutMs} ms`, ...(state.progress?.() ?? {}) });
  process.exit(3);
}, config.timeoutMs);
const state = {};

/** The bytes of message `seq` (xorshift from the sequence number). */
function payload(seq, size) {
  const b = Buffer.allocUnsafe(size);
  let x = (Math.imul(seq, 2654435761) + 1) >>> 0 || 1;
  for (let k = 0; k < size; k++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[k] = x & 0xff;
  }
  return b;
}

function paths(a) {
  const s = a.summary();
  return s === undefined
    ? undefined
    : { remotePort: s.remotePort, primary: s.primary, paths: s.paths.map((p) => ({ address: p.address, state: p.state, rtxChunks: p.rtxChunks })), counters: s.counters };
}

function transportOptions() {
  return config.transport === 'udp'
    ? { transport: 'udp', udpPort: config.udpPort ?? 0, ...(config.remoteUdpPort !== undefined && { remoteUdpPort: config.remoteUdpPort }) }
    : { transport: 'raw' };
}

async function client() {
  const messages = [];
  for (const step of config.plan) {
    for (let i = 0; i < step.count; i++) {
      const seq = messages.length;
      messages.push({ seq, size: step.size, unordered: step.unordered === true, stream: seq % config.streams });
    }
  }
  const t0 = performance.now();
  const a = await api.connect({
    remoteAddresses: config.remoteAddresses,
    port: config.port,
    localAddresses: config.localAddresses,
    ...(config.localPort !== undefined && { localPort: config.localPort }),
    ...transportOptions(),
    outboundStreams: Math.max(config.streams, 10),
    timeout: 10_000,
    ...(config.options ?? {}),
  });
  const seen = new Uint8Array(messages.length);
  const lastOrdered = new Map();
  const v = { received: 0, receivedBytes: 0, unique: 0, duplicated: 0, reordered: 0, corrupted: 0, badStream: 0, badFlag: 0 };
  const problems = [];
  let downReason;
  let wake = () => undefined;
  const done = new Promise((r) => (wake = r));
  const expectEcho = config.verify === 'echo';
  let sendingDone = false;
  const check = () => {
    if (downReason !== undefined || (sendingDone && (!expectEcho || v.unique + v.corrupted >= messages.length))) wake();
  };
  state.progress = () => ({ sent, ...v, problems: problems.slice(0, 5), paths: paths(a) });
  a.on('message', (m) => {
    v.received++;
    v.receivedBytes += m.data.length;
    const want = messages[m.ppid];
    if (want === undefined || m.data.length !== want.size || !m.data.equals(payload(want.seq, want.size))) {
      v.corrupted++;
      if (problems.length < 20) problems.push(`corrupted ppid ${m.ppid} length ${m.data.length}${want ? ` want ${want.size}` : ''}`);
    } else {
      if (seen[want.seq] === 1) v.duplicated++;
      else {
        seen[want.seq] = 1;
        v.unique++;
      }
      if (m.stream !== want.stream) v.badStream++;
      if (m.unordered !== want.unordered) v.badFlag++;
      if (!want.unordered) {
        const last = lastOrdered.get(m.stream);
        if (last !== undefined && want.seq < last) {
          v.reordered++;
          if (problems.length < 20) problems.push(`ordered ${want.seq} after ${last} on stream ${m.stream}`);
        } else lastOrdered.set(m.stream, want.seq);
      }
    }
    check();
  });
  a.on('down', (reason) => {
    downReason = reason;
    wake();
  });
  const sendFailed = [];
  a.on('send-failed', (f) => sendFailed.push(f.reason));
  let sent = 0;
  let sentBytes = 0;
  let switched;
  for (const m of messages) {
    if (downReason !== undefined) break;
    if (config.switchPrimaryAt !== undefined && sent === config.switchPrimaryAt) {
      // The other address than the primary (which need not be the one connected to: usrsctp
      // answers the INIT from another address).
      const now = paths(a);
      switched = now?.paths.find((p) => p.address !== now.primary)?.address ?? config.remoteAddresses[1];
      // Only a confirmed address can become the primary (RFC 9260 §5.4): wait, bounded, for its HEARTBEAT ACK.
      const confirmed = () => paths(a)?.paths.find((p) => p.address === switched)?.state === 'active';
      for (let i = 0; i < 150 && !confirmed(); i++) await new Promise((r) => setTimeout(r, 20));
      a.setPrimary(switched);
    }
    const ok = a.send(payload(m.seq, m.size), { stream: m.stream, ppid: m.seq, unordered: m.unordered });
    sent++;
    sentBytes += m.size;
    if (!ok) {
      await new Promise((resolve) => {
        const go = () => {
          a.off('drain', go);
          a.off('close', go);
          resolve();
        };
        a.on('drain', go);
        a.on('close', go);
      });
    } else if ((sent & 63) === 0) await new Promise((r) => setImmediate(r));
  }
  sendingDone = true;
  check();
  await done;
  // Multihoming: give the path verification HEARTBEATs (RFC 9260 §5.4) a bounded chance to be answered.
  for (let i = 0; i < (config.waitConfirmedMs ?? 0) / 20 && paths(a)?.paths.some((p) => p.state === 'unconfirmed'); i++) await new Promise((r) => setTimeout(r, 20));
  const before = paths(a);
  // npm `sctp` ignores the cumulative TSN ack of a SHUTDOWN: let our SACK of its last DATA go out first.
  if (config.shutdownDelayMs !== undefined) await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
  if (!a.closed) await a.shutdown();
  const lost = messages.length - v.unique;
  const ok = downReason === undefined && sendFailed.length === 0 && (!expectEcho || lost + v.duplicated + v.reordered + v.corrupted + v.badStream + v.badFlag === 0);
  clearTimeout(hardStop);
  say({
    event: 'summary',
    ok,
    sent,
    sentBytes,
    ...v,
    lost: expectEcho ? lost : undefined,
    downReason,
    sendFailed: sendFailed.length,
    problems,
    switched,
    outboundStreams: a.outboundStreams,
    remoteAddresses: a.remoteAddresses,
    seconds: (performance.now() - t0) / 1000,
    ...before,
  });
}

const fills = new Map();
function filled(size) {
  let b = fills.get(size);
  if (b === undefined) fills.set(size, (b = Buffer.alloc(size, config.fill)));
  return b;
}

async function server() {
  const server = await api.createServer({
    localAddresses: config.localAddresses,
    port: config.port,
    ...transportOptions(),
    outboundStreams: 65535,
    maxBufferedBytes: 64 * 1024 * 1024,
    ...(config.options ?? {}),
  });
  let associations = 0;
  server.on('association', (a) => {
    associations++;
    // notFilled: messages that are not config.fill repeated (tsctp sends memset(buffer, 'b', length)).
    const stats = { messages: 0, bytes: 0, unordered: 0, sizes: {}, streams: {}, ppidOrderViolations: 0, notFilled: 0 };
    const lastPpid = new Map();
    let reason = 'shutdown-complete';
    let lastPaths;
    const refresh = () => (lastPaths = paths(a) ?? lastPaths);
    a.on('message', (m) => {
      stats.messages++;
      stats.bytes += m.data.length;
      if (m.unordered) stats.unordered++;
      stats.sizes[m.data.length] = (stats.sizes[m.data.length] ?? 0) + 1;
      stats.streams[m.stream] = (stats.streams[m.stream] ?? 0) + 1;
      if (config.fill !== undefined && !m.data.equals(filled(m.data.length))) stats.notFilled++;
      if (!m.unordered && config.ppidIsSequence === true) {
        const last = lastPpid.get(m.stream);
        if (last !== undefined && m.ppid < last) stats.ppidOrderViolations++;
        lastPpid.set(m.stream, m.ppid);
      }
      if ((stats.messages & 31) === 1) refresh();
      if (config.mode === 'echo' && !a.closed) a.send(m.data, { stream: m.stream < a.outboundStreams ? m.stream : 0, ppid: m.ppid, unordered: m.unordered });
    });
    a.on('path', refresh);
    a.on('shutdown', refresh);
    a.on('down', (r) => (reason = r));
    const remotePort = a.summary()?.remotePort;
    a.on('close', () => say({ event: 'closed', reason, stats, ...(lastPaths ?? {}), remotePort }));
  });
  say({ event: 'ready', ...server.address() });
  const rl = createInterface({ input: process.stdin });
  await new Promise((resolve) => {
    rl.on('line', (l) => {
      if (l.trim() === 'stop') resolve();
    });
    rl.on('close', resolve);
  });
  rl.close();
  await server.close(1000);
  clearTimeout(hardStop);
  say({ event: 'summary', associations });
}

try {
  await (config.role === 'client' ? client() : server());
  process.exit(0);
} catch (e) {
  say({ event: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) });
  process.exit(1);
}
