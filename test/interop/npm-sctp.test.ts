// Interop with the npm `sctp` package (pure JavaScript on `raw-socket`, a
// devDependency used only here) over raw IPv4 between two network namespaces:
// its client against our echo server and our client against its echo server,
// every echo checked, a clean SHUTDOWN, and every frame dissected by tshark.
// Root only: skipped loudly without root / ip / tshark / the raw-socket addon,
// failed under CI=true.
//
// Limitations of the package found here (so the sizes stay at 1400 B and below):
// - It fragments at PMTU - 52 = 1448 bytes and assigns TSNs to the fragments of
//   a message out of order and twice (DATA with B/E bits and TSNs that do not
//   match, one TSN used for two chunks); its 'flightsize >= cwnd' check drops a
//   write instead of queueing it. Messages above 1448 bytes from it stall or
//   arrive corrupted.
// - It bundles a SACK with a DATA chunk without checking the MTU: a 1448-byte
//   message plus a SACK is 1512 bytes of IP, sendto() fails with EMSGSIZE and
//   the chunk waits for its T3 timer (seconds per message).
// - It ignores the Cumulative TSN Ack of a SHUTDOWN (a TODO in its onShutdown):
//   when SHUTDOWN arrives while it has DATA in flight it enters
//   SHUTDOWN-RECEIVED and never sends SHUTDOWN ACK, and drops the
//   retransmitted SHUTDOWNs. Our client therefore lets its SACK of the last
//   echo go out (delayed SACK, 200 ms) before it shuts down.
// - It advertises a_rwnd 16384 as a client (its stream highWaterMark), IPv4 only,
//   single-homed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, nativeUnavailableReason } from '../../src/transport/native.js';
import { sctpKernelModuleLoaded } from '../../src/transport/raw.js';
import { repoRoot, requireCondition, requireRoot, requireTool } from '../helpers/env.js';
import {
  compileSrc,
  createNsPair,
  CT,
  deleteNsPair,
  describeRow,
  dissect,
  frameProblems,
  killAll,
  Proc,
  startCapture,
  stopCapture,
  waitLinksUp,
  type NsPair,
} from '../helpers/netns.js';

const rawSocketAddon = join(repoRoot, 'node_modules', 'raw-socket', 'build', 'Release', 'raw.node');
const addonHasRaw = typeof (loadNative() as { RawSocket?: unknown } | undefined)?.RawSocket === 'function';
const ok =
  requireCondition(addonHasRaw, `the native addon with raw sockets is not built (${nativeUnavailableReason() ?? 'stale build'}): rm -rf native/build && npm install`) &&
  requireCondition(
    existsSync(join(repoRoot, 'node_modules', 'sctp', 'lib', 'index.js')) && existsSync(rawSocketAddon),
    `the npm sctp package or its raw-socket addon is missing (${rawSocketAddon}): npm ci builds it (package.json allowScripts lets its node-gyp install script run); by hand: npm rebuild raw-socket`,
  ) &&
  requireRoot('the npm sctp interop test needs network namespaces and raw sockets') &&
  requireTool('ip', 'the npm sctp interop test needs ip netns (iproute2)') &&
  requireTool('tshark', 'the npm sctp interop test dissects every packet with tshark') &&
  requireTool('dumpcap', 'the npm sctp interop test captures with dumpcap (apt-get install -y tshark)') &&
  requireCondition(sctpKernelModuleLoaded() !== true, 'the kernel SCTP module is loaded: it would answer our packets (rmmod sctp)');

const SIZES = [1, 100, 1000, 1400];

describe.skipIf(!ok)('interop with the npm sctp package (raw IPv4, namespaces)', () => {
  let pair: NsPair;
  let dist = '';
  let dir = '';
  let capture: Proc | undefined;
  let captureFile = '';
  const ports: number[] = [];

  beforeAll(async () => {
    pair = createNsPair(['mi', 'mj'], 81, 21, 1);
    dir = mkdtempSync(join(tmpdir(), 'hasctp-npm-sctp-'));
    dist = compileSrc('n');
    await waitLinksUp(pair);
    captureFile = join(dir, 'npm-sctp.pcapng');
    capture = await startCapture(pair.a, pair.links.map((l) => l.devA), captureFile);
  }, 120_000);

  afterEach(async () => {
    await killAll(capture);
  });

  afterAll(async () => {
    await killAll();
    deleteNsPair(pair);
    if (dist !== '') rmSync(dist, { recursive: true, force: true });
    if (dir !== '' && process.env.HASCTP_KEEP_CAPTURES !== '1') rmSync(dir, { recursive: true, force: true });
    else if (dir !== '') process.stderr.write(`capture kept: ${captureFile}\n`);
  }, 30_000);

  const matrixPeer = (): string => join(repoRoot, 'test', 'helpers', 'matrix-peer.mjs');
  const npmPeer = (): string => join(repoRoot, 'test', 'helpers', 'npm-sctp-peer.mjs');

  it(`npm sctp client -> hasctp server (echo): ${SIZES.join(', ')} B, every echo intact and in order, SHUTDOWN`, async () => {
    const port = 6001;
    const srv = new Proc(
      pair.b,
      process.execPath,
      [matrixPeer(), dist, JSON.stringify({ role: 'server', transport: 'raw', localAddresses: pair.addrsB, port, mode: 'echo', ppidIsSequence: true, timeoutMs: 30_000 })],
      { timeoutMs: 40_000 },
    );
    await srv.event('ready', 10_000);
    const sizes = SIZES.flatMap((s) => Array.from({ length: 10 }, () => s));
    const cl = new Proc(
      pair.a,
      process.execPath,
      [npmPeer(), JSON.stringify({ role: 'client', remoteAddress: pair.addrsB[0], localAddress: pair.addrsA[0], port, sizes, timeoutMs: 20_000 })],
      { timeoutMs: 25_000 },
    );
    const s = await cl.event('summary', 25_000);
    expect(s, cl.output().slice(-3000)).toMatchObject({ ok: true, sent: sizes.length, received: sizes.length, problems: [], shutdown: 'complete' });
    const closed = await srv.event('closed', 10_000);
    expect(closed.reason).toBe('shutdown-complete');
    const stats = closed.stats as { messages: number; sizes: Record<string, number>; ppidOrderViolations: number };
    expect(stats.messages).toBe(sizes.length);
    expect(stats.sizes).toEqual(Object.fromEntries(SIZES.map((z) => [String(z), 10])));
    expect(stats.ppidOrderViolations).toBe(0);
    srv.write('stop\n');
    await srv.wait(5000);
    ports.push(port);
  }, 40_000);

  it(`hasctp client -> npm sctp server (echo): ${SIZES.join(', ')} B, every echo intact and in order, SHUTDOWN`, async () => {
    const port = 6002;
    const srv = new Proc(pair.b, process.execPath, [npmPeer(), JSON.stringify({ role: 'server', port, localAddress: pair.addrsB[0], timeoutMs: 30_000 })], { timeoutMs: 40_000 });
    await srv.event('ready', 10_000);
    const cfg = {
      role: 'client',
      transport: 'raw',
      localAddresses: pair.addrsA,
      remoteAddresses: pair.addrsB,
      port,
      plan: SIZES.map((size) => ({ size, count: 20 })),
      // Its echo goes back on stream 0, ordered: one ordered stream.
      streams: 1,
      verify: 'echo',
      shutdownDelayMs: 400,
      timeoutMs: 20_000,
    };
    const cl = new Proc(pair.a, process.execPath, [matrixPeer(), dist, JSON.stringify(cfg)], { timeoutMs: 25_000 });
    const s = await cl.event('summary', 25_000);
    expect(s.ok, JSON.stringify(s)).toBe(true);
    expect(s.unique).toBe(SIZES.length * 20);
    const closed = await srv.event('closed', 10_000);
    expect(closed).toMatchObject({ messages: SIZES.length * 20, intact: SIZES.length * 20, notIntact: [] });
    ports.push(port);
  }, 40_000);

  it('the capture: every frame dissects cleanly in tshark, no ABORT, both associations shut down', async () => {
    const stats = await stopCapture(capture!);
    expect(stats.dropped, `dumpcap dropped packets:\n${stats.report}`).toBe(0);
    const rows = dissect(captureFile);
    expect(rows.length, 'frames in the file = frames dumpcap received').toBe(stats.received);
    const bad = rows.flatMap((r) => frameProblems(r).map((p) => `${describeRow(r)}: ${p}`));
    expect(bad, `frames tshark objects to (of ${rows.length})`).toEqual([]);
    expect(rows.filter((r) => r.chunks.includes(CT.abort)).map(describeRow), 'ABORT chunks').toEqual([]);
    expect(ports).toHaveLength(2);
    for (const port of ports) {
      const mine = rows.filter((r) => r.sport === port || r.dport === port);
      for (const ct of [CT.init, CT.initAck, CT.cookieEcho, CT.cookieAck, CT.shutdown, CT.shutdownAck, CT.shutdownComplete]) {
        expect(mine.some((r) => r.chunks.includes(ct)), `port ${port}: chunk type ${ct}`).toBe(true);
      }
    }
    process.stdout.write(`npm sctp interop: ${rows.length} frames dissected by tshark, 0 malformed, 0 bad checksums, 0 ABORT\n`);
  }, 30_000);
});
