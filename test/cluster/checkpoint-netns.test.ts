// Acceptance test of issue #7 part 1 in network namespaces (root): an
// unmodified usrsctp peer (/usr/lib/usrsctp/client, fed numbered lines)
// talks over raw IPv4 to a single `hasctp node` (echo application) whose
// checkpoint server (`hasctp checkpointd`) runs beside it. The node is
// SIGKILLed mid-stream and started again: the association continues, the
// peer sees no ABORT, and every line comes back exactly once, in order.
// Negative control: the same without a checkpoint server (configured but not
// running: the node waits its fetchTimeout, then runs unprotected) loses the
// association when the node restarts (the peer gets an ABORT).
//
// Skipped loudly without root, ip, the addon or usrsctp; failed in CI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/cluster/control.js';
import { loadNative, nativeUnavailableReason } from '../../src/transport/native.js';
import { sctpKernelModuleLoaded } from '../../src/transport/raw.js';
import { requireCondition, requireRoot, requireTool } from '../helpers/env.js';
import { buildNoDebugShim, compileSrc, createNsPair, deleteNsPair, killAll, Proc, sleep, waitLinksUp, type NsPair } from '../helpers/netns.js';

const USRSCTP = '/usr/lib/usrsctp';
const addonHasRaw = typeof (loadNative() as { RawSocket?: unknown } | undefined)?.RawSocket === 'function';
const ok =
  requireRoot('the checkpoint restart test needs network namespaces and raw sockets') &&
  requireTool('ip', 'the checkpoint restart test needs ip netns (iproute2)') &&
  requireCondition(addonHasRaw, `the native addon with raw sockets is not built (${nativeUnavailableReason() ?? 'stale build'}): rm -rf native/build && npm install`) &&
  requireTool(`${USRSCTP}/client`, 'the checkpoint restart test needs libusrsctp-examples') &&
  requireCondition(sctpKernelModuleLoaded() !== true, 'the kernel SCTP module is loaded: it would answer our packets (rmmod sctp)');

const KEY = 'a5'.repeat(32);
const CKPT = '127.0.0.1:7700';
/** Nobody listens there (the negative control). */
const NO_CKPT = '127.0.0.1:7701';
const PORT = 5001;
const LINES = 360;
const INTERVAL = 15;
const KILL_AFTER = 120;

describe.skipIf(!ok)('checkpoint server: SIGKILL a single node mid-stream, start it again (usrsctp peer, raw IPv4, namespaces)', () => {
  let pair: NsPair;
  let dist: string;
  let dir: string;
  let shim: string | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hasctp-ckpt-netns-'));
    // Side A (ka) runs the usrsctp peer; side B (kb) the node and its checkpoint server.
    pair = createNsPair(['ka', 'kb'], 93, 1, 1);
    await waitLinksUp(pair);
    dist = compileSrc('k');
    shim = buildNoDebugShim(dir);
  }, 120_000);

  afterAll(async () => {
    await killAll();
    deleteNsPair(pair);
    if (dist !== undefined) rmSync(dist, { recursive: true, force: true });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const bin = (): string => join(dist, 'cli', 'bin.js');
  const nodeAddr = (): string => pair.addrsB[0]!;

  function writeConfig(name: string, server: string): string {
    const file = join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        node: name,
        sctp: { addresses: [nodeAddr()], port: PORT, transport: 'raw' },
        app: 'echo',
        control: join(dir, `${name}.sock`),
        checkpoint: { server, key: KEY, mode: 'sync', fetchTimeout: 1000 },
      }),
    );
    return file;
  }

  const startNode = (config: string): Proc => new Proc(pair.b, process.execPath, [bin(), 'node', '--config', config, '--log-level', 'info'], { timeoutMs: 90_000 });
  const ready = (p: Proc): Promise<void> => p.until('the node to start', 15_000, () => p.output().includes('"msg":"control socket ready"'));

  /** The usrsctp client fed numbered lines; `echoes` counts each line it printed back, with the time of the first copy. */
  function startPeer(): { proc: Proc; echoes: Map<number, number>; firstAt: Map<number, number>; order: number[] } {
    const echoes = new Map<number, number>();
    const firstAt = new Map<number, number>();
    const order: number[] = [];
    const proc = new Proc(pair.a, 'stdbuf', ['-oL', `${USRSCTP}/client`, nodeAddr(), String(PORT), '0', '0'], {
      timeoutMs: 90_000,
      ...(shim !== undefined && { env: { LD_PRELOAD: shim } }),
      onLine: (line) => {
        const m = /^L(\d{4}):/.exec(line);
        if (m === null) return;
        const i = Number(m[1]);
        echoes.set(i, (echoes.get(i) ?? 0) + 1);
        if (!firstAt.has(i)) {
          firstAt.set(i, performance.now());
          order.push(i);
        }
      },
    });
    // The client exits when it loses the association: later lines go nowhere.
    proc.child.stdin!.on('error', () => {});
    return { proc, echoes, firstAt, order };
  }

  const line = (i: number): string => `L${String(i).padStart(4, '0')}:${'checkpointed-association-'.repeat(2).slice(0, 20 + (i % 40))}\n`;

  /** Writes lines from..to every INTERVAL ms; resolves when written. */
  async function feed(p: Proc, from: number, to: number): Promise<void> {
    for (let i = from; i < to && !p.done; i++) {
      p.write(line(i));
      await sleep(INTERVAL);
    }
  }

  it('with checkpointd: the association survives the SIGKILL, every line is echoed exactly once, in order, no ABORT', async () => {
    const ckptDir = join(dir, 'store');
    const ckpt = new Proc(pair.b, process.execPath, [bin(), 'checkpointd', '--listen', CKPT, '--key', KEY, '--dir', ckptDir, '--max-bytes', String(64 * 1024 * 1024)], { timeoutMs: 90_000 });
    await ckpt.until('checkpointd ready', 15_000, () => ckpt.output().includes('checkpoint server ready'));
    const config = writeConfig('n1', CKPT);
    let node = startNode(config);
    await ready(node);
    const status = async (): Promise<Record<string, unknown>> => ((await controlRequest(join(dir, 'n1.sock'), { cmd: 'status' })).status ?? {}) as Record<string, unknown>;
    await node.until('checkpoint protected', 10_000, () => node.output().includes('"msg":"checkpoint: protected"'));

    const peer = startPeer();
    await peer.proc.until('SCTP_COMM_UP', 10_000, () => peer.proc.output().includes('SCTP_COMM_UP'));
    const feeding = feed(peer.proc, 0, LINES);
    await peer.proc.until(`${KILL_AFTER} echoes`, 20_000, () => peer.echoes.size >= KILL_AFTER);
    const before = await status();
    expect(before['checkpoint']).toMatchObject({ state: 'protected', mode: 'sync' });

    // SIGKILL the node's process group mid-stream, start it again at once.
    const killedAt = performance.now();
    node.kill();
    await node.exited;
    const echoedAtKill = peer.echoes.size;
    const restartAt = performance.now();
    node = startNode(config);
    await ready(node);
    const upAt = performance.now();
    expect(node.output()).toContain('"msg":"checkpoint: associations restored"');
    const after = await status();
    expect(after['associations']).toBe(1);

    await feeding;
    await peer.proc.until('every echo', 40_000, () => peer.echoes.size >= LINES);
    // What the server holds (hasctp checkpoints), while the association lives.
    const listing = spawnSync('ip', ['netns', 'exec', pair.b, process.execPath, bin(), 'checkpoints', '--server', CKPT, '--key', KEY, '--json'], { encoding: 'utf8', timeout: 15_000 });
    expect(listing.status, listing.stderr).toBe(0);
    const held = JSON.parse(listing.stdout) as { nodes: { node: string; connections: { conn: string; portions: { key: string; bytes: number }[] }[] }[] };
    const n1 = held.nodes.find((n) => n.node === 'n1')!;
    const conn = n1.connections.find((c) => c.conn !== 'endpoint')!;
    expect(conn.conn).toMatch(new RegExp(`^${PORT}-${pair.addrsA[0]!.replace(/\./g, '\\.')}:\\d+-[0-9a-f]{8}-[0-9a-f]{8}$`));
    expect(conn.portions.map((p) => p.key.replace(/\/.*/, ''))).toEqual(expect.arrayContaining(['core', 'path', 'stream', 'app']));
    const human = spawnSync('ip', ['netns', 'exec', pair.b, process.execPath, bin(), 'checkpoints', '--server', CKPT, '--key', KEY], { encoding: 'utf8', timeout: 15_000 });

    // Graceful end: stdin EOF makes the client shut the association down.
    peer.proc.child.stdin!.end();
    expect(await peer.proc.wait(20_000), peer.proc.output().slice(-3000)).toBe(0);
    const out = peer.proc.output();
    expect(out).toContain('SCTP_SHUTDOWN_COMP');
    expect(out).not.toContain('SCTP_COMM_LOST');
    for (let i = 0; i < LINES; i++) expect(peer.echoes.get(i), `line ${i}`).toBe(1);
    // One stream, ordered: the echoes came back in order.
    expect(peer.order).toEqual(Array.from({ length: LINES }, (_, i) => i));

    // The longest silence the peer saw from the kill on (echoes already in flight still arrive after it).
    const times = peer.order.map((i) => peer.firstAt.get(i)!);
    let outage = 0;
    for (let k = 1; k < times.length; k++) if (times[k]! > killedAt) outage = Math.max(outage, times[k]! - Math.max(times[k - 1]!, killedAt));
    const firstAfterRestart = times.find((t) => t > upAt);
    const exitStatus = await node.stop('SIGTERM', 5000).then(() => node.output());
    const finalStatus = /\{"node":"n1".*\}/.exec(exitStatus)?.[0];
    const ck = finalStatus ? (JSON.parse(finalStatus) as { checkpoint: { counters: { updates: number; bytesSent: number; portionsSent: number } } }).checkpoint.counters : undefined;
    const echoedByNew = LINES - echoedAtKill;
    process.stdout.write(
      [
        `\ncheckpoint restart (usrsctp client over raw IPv4, echo node, checkpointd on the node's host):`,
        `  node restart: process start to "cluster node started" ${Math.round(upAt - restartAt)} ms (restore ${JSON.stringify((after['checkpoint'] as { restore?: unknown }).restore)})`,
        `  outage at the peer: longest gap between echoes from the SIGKILL on ${Math.round(outage)} ms (SIGKILL to the new process ready ${Math.round(upAt - killedAt)} ms, to its first echo ${firstAfterRestart === undefined ? '?' : Math.round(firstAfterRestart - killedAt)} ms)`,
        `  restarted node: ${ck?.updates} updates, ${ck?.portionsSent} portions, ${ck?.bytesSent} portion bytes for ${echoedByNew} echoed lines (${ck ? Math.round(ck.bytesSent / echoedByNew) : '?'} bytes per message)`,
        human.stdout.trimEnd().replace(/^/gm, '  '),
        '',
      ].join('\n'),
    );
    await ckpt.stop('SIGTERM', 5000);
  }, 110_000);

  it('negative control: without a checkpoint server the restarted node has no association and the peer gets an ABORT', async () => {
    // The config names a checkpoint server, but none runs: the node starts after its
    // fetchTimeout, unprotected, and never stalls; the restarted one knows nothing.
    const config = writeConfig('n2', NO_CKPT);
    let node = startNode(config);
    await ready(node);
    expect(node.output()).toContain('checkpoint: server unreachable at start');
    const peer = startPeer();
    await peer.proc.until('SCTP_COMM_UP', 10_000, () => peer.proc.output().includes('SCTP_COMM_UP'));
    const feeding = feed(peer.proc, 0, 160);
    await peer.proc.until('40 echoes', 20_000, () => peer.echoes.size >= 40);
    const st = (await controlRequest(join(dir, 'n2.sock'), { cmd: 'status' })).status as Record<string, unknown>;
    expect(st['checkpoint']).toMatchObject({ state: 'unprotected' });
    node.kill();
    await node.exited;
    node = startNode(config);
    await ready(node);
    await peer.proc.until('the association lost at the peer', 30_000, () => peer.proc.output().includes('SCTP_COMM_LOST'));
    await feeding;
    expect(peer.echoes.size).toBeLessThan(160);
    await peer.proc.wait(5000);
    await node.stop('SIGTERM', 5000);
  }, 90_000);
});
