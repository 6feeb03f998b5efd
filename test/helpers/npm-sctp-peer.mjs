// The npm `sctp` package (pure JS on `raw-socket`) as one end of an interop
// test (test/interop/npm-sctp.test.ts), run inside a network namespace:
//   node npm-sctp-peer.mjs <json-config>
// JSON lines on stdout; every wait is bounded by config.timeoutMs.
//
// role "server": echoes every message back with its PPID; prints
// {"event":"ready"}, then {"event":"closed", messages, bytes, sizes} when an
// association ends; "stop" on stdin ends the process.
// role "client": connects, sends config.sizes one after the other on stream 0
// (PPID = sequence number, bytes derived from it), checks that every echo comes
// back intact and in order, then ends the association gracefully (SHUTDOWN)
// and prints {"event":"summary", ...}.
import { createInterface } from 'node:readline';
import sctp from 'sctp';

const config = JSON.parse(process.argv[2]);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
let progress = () => ({});
const hardStop = setTimeout(() => {
  say({ event: 'error', message: `npm sctp ${config.role}: no end after ${config.timeoutMs} ms`, ...progress() });
  process.exit(3);
}, config.timeoutMs);

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

if (config.role === 'server') {
  const server = sctp.createServer((socket) => {
    // intact: the bytes are what a matrix-peer / npm-sctp-peer client sends with that PPID.
    const stats = { messages: 0, bytes: 0, sizes: {}, intact: 0, notIntact: [] };
    socket.on('data', (buf) => {
      stats.messages++;
      if (buf.equals(payload(buf.ppid, buf.length))) stats.intact++;
      else if (stats.notIntact.length < 20) stats.notIntact.push(buf.ppid);
      stats.bytes += buf.length;
      stats.sizes[buf.length] = (stats.sizes[buf.length] ?? 0) + 1;
      const out = Buffer.from(buf);
      out.ppid = buf.ppid;
      socket.write(out);
    });
    socket.on('error', (e) => say({ event: 'socket-error', message: String(e) }));
    socket.on('end', () => say({ event: 'closed', ...stats }));
  });
  server.on('error', (e) => say({ event: 'error', message: String(e) }));
  server.listen({ port: config.port, host: config.localAddress }, () => say({ event: 'ready' }));
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (l) => {
    if (l.trim() === 'stop') {
      clearTimeout(hardStop);
      say({ event: 'summary' });
      process.exit(0);
    }
  });
} else {
  const sizes = config.sizes;
  const socket = sctp.connect({ host: config.remoteAddress, port: config.port, localAddress: config.localAddress, localPort: config.localPort });
  let next = 0;
  let received = 0;
  let receivedBytes = 0;
  const problems = [];
  progress = () => ({ sent: next, received, problems });
  let up = false;
  socket.on('error', (e) => problems.push(`error ${String(e)}`));
  socket.on('data', (buf) => {
    const seq = received;
    received++;
    receivedBytes += buf.length;
    if (buf.ppid !== seq) problems.push(`echo #${seq} has PPID ${buf.ppid}`);
    const want = sizes[seq];
    if (want === undefined || !buf.equals(payload(seq, want))) problems.push(`echo #${seq} (${buf.length} bytes) is not message ${seq} (${want} bytes)`);
    if (received === sizes.length) finish();
    else sendNext();
  });
  // One message in flight at a time: the package has no back-pressure beyond its
  // stream's buffer, and an echo test should not depend on it.
  function sendNext() {
    if (next >= sizes.length) return;
    const b = payload(next, sizes[next]);
    b.ppid = next;
    next++;
    socket.write(b);
  }
  let ended = false;
  function finish() {
    const summary = { event: 'summary', ok: problems.length === 0 && received === sizes.length, sent: next, received, receivedBytes, problems: problems.slice(0, 20) };
    socket.on('end', () => {
      if (ended) return;
      ended = true;
      clearTimeout(hardStop);
      say({ ...summary, shutdown: 'complete' });
      setTimeout(() => process.exit(0), 100);
    });
    socket.end();
  }
  socket.on('connect', () => {
    up = true;
    sendNext();
  });
  setTimeout(() => {
    if (!up) problems.push('not up after 5 s');
  }, 5000).unref();
}
