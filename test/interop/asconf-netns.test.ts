// RFC 5061 ADD-IP and RFC 4895 AUTH against usrsctp over raw IP, between
// network namespaces (root), each direction checked in a capture taken on the
// link:
//
// 1. hasctp client -> usrsctp echo_server: mid-association our client adds a
//    second address, asks usrsctp to make it primary, then deletes its first
//    address. usrsctp verifies our AUTH (every ASCONF), we verify its (every
//    ASCONF-ACK); its DATA and SACKs move to the new address with no
//    retransmission; the traffic goes on after the deletion.
// 2. usrsctp (test/interop/fixtures/asconf-peer.c, on libusrsctp) ->
//    hasctp server: the reverse, usrsctp's bindx / SCTP_SET_PEER_PRIMARY_ADDR
//    ASCONFs, our DATA moving to its new address.
//
// With HASCTP_UPDATE_CAPTURES=1 the first capture replaces
// captures/asconf-usrsctp.pcapng (described in captures/INDEX.md).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, nativeUnavailableReason } from '../../src/transport/native.js';
import { sctpKernelModuleLoaded } from '../../src/transport/raw.js';
import { capturesDir, repoRoot, requireCondition, requireRoot, requireTool } from '../helpers/env.js';
import { waitUntil } from '../helpers/wait.js';
import { deleteNamespace, NETNS_PREFIX, removeStaleNamespaces, run } from '../transport/children.js';
import { moveFacts, readSctpPackets, retransmittedTsns, unauthenticatedAsconf } from './asconf-capture.js';

const DIR = '/usr/lib/usrsctp';
const LIBUSRSCTP = '/usr/lib/x86_64-linux-gnu/libusrsctp.so.2';
const addonHasRaw = typeof (loadNative() as { RawSocket?: unknown } | undefined)?.RawSocket === 'function';
const ok =
  requireCondition(addonHasRaw, `the native addon with raw sockets is not built (${nativeUnavailableReason() ?? 'stale build'}): rm -rf native/build && npm install`) &&
  requireRoot('the ADD-IP interop test needs network namespaces and CAP_NET_RAW') &&
  requireTool('ip', 'the ADD-IP interop test needs ip netns (iproute2)') &&
  requireTool('dumpcap', 'the ADD-IP interop test captures the link (apt-get install tshark)') &&
  requireTool('gcc', 'the reverse ADD-IP test builds a small usrsctp program') &&
  requireTool(`${DIR}/echo_server`, 'ADD-IP interop needs libusrsctp-examples') &&
  requireCondition(existsSync(LIBUSRSCTP), `ADD-IP interop needs ${LIBUSRSCTP} (libusrsctp2)`) &&
  requireCondition(sctpKernelModuleLoaded() !== true, 'the kernel SCTP module is loaded: it would answer our packets (rmmod sctp)');

// Ours / usrsctp's, forward; ours / usrsctp's, reverse. Addresses 10.85.x.x.
const NS = {
  ours: `${NETNS_PREFIX}${process.pid}-xa`,
  peer: `${NETNS_PREFIX}${process.pid}-xb`,
  ours2: `${NETNS_PREFIX}${process.pid}-xc`,
  peer2: `${NETNS_PREFIX}${process.pid}-xd`,
};
// Forward: our two addresses on two subnets, usrsctp on a third, all on one veth (on-link routes),
// so no address of ours is "the" on-link one and our source follows the peer (src/core/path/source.ts).
const F = { old: '10.85.1.1', new: '10.85.2.1', peer: '10.85.9.2' };
// Reverse: usrsctp's two addresses, ours.
const R = { ours: '10.85.3.1', old: '10.85.3.2', new: '10.85.3.4' };

let work = '';
let compiled = '';
const children = new Set<ChildProcess>();

function compile(): string {
  const cache = join(repoRoot, 'node_modules', '.cache');
  for (const name of existsSync(cache) ? readdirSync(cache) : []) {
    const m = /^hasctp-asconf-test-(\d+)$/.exec(name);
    if (m !== null && spawnSync('kill', ['-0', m[1]!]).status !== 0) rmSync(join(cache, name), { recursive: true, force: true });
  }
  const out = join(cache, `hasctp-asconf-test-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true, mode: 0o755 });
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(
    process.execPath,
    [tsc, '--outDir', out, '--rootDir', join(repoRoot, 'src'), '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node', '--sourceMap', 'false', join(repoRoot, 'src', 'cli', 'bin.ts')],
    { encoding: 'utf8', timeout: 90_000 },
  );
  if (r.status !== 0) throw new Error(`compiling src/cli for the child processes failed:\n${r.stdout}${r.stderr}`);
  return out;
}

interface Spawned {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
}

function inNs(ns: string, cmd: string, args: string[], timeoutMs: number): Spawned {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
  children.add(child);
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString('latin1');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.once('error', () => resolve(null));
  });
  return { child, output: () => out, exited };
}

async function finish(s: Spawned, signal: NodeJS.Signals, ms: number): Promise<number | null> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
  const t = setTimeout(() => s.child.kill('SIGKILL'), ms);
  const code = await s.exited;
  clearTimeout(t);
  return code;
}

/** dumpcap on `dev` in `ns` (pcapng, full packets); resolves once it reports capturing. */
async function capture(ns: string, dev: string, file: string): Promise<Spawned> {
  const d = inNs(ns, 'dumpcap', ['-i', dev, '-w', file], 60_000);
  await waitUntil('dumpcap capturing', 10_000, () => d.output().includes('Capturing on'), d.output);
  return d;
}

function veth(a: string, devA: string, b: string, devB: string): void {
  run('ip', ['-n', a, 'link', 'add', devA, 'type', 'veth', 'peer', 'name', devB, 'netns', b]);
  for (const [ns, dev] of [[a, devA], [b, devB]] as const) run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
}

describe.skipIf(!ok)('ADD-IP and AUTH against usrsctp (raw IP, namespaces)', () => {
  beforeAll(() => {
    removeStaleNamespaces();
    for (const ns of Object.values(NS)) {
      run('ip', ['netns', 'add', ns]);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    veth(NS.ours, 'xa0', NS.peer, 'xb0');
    run('ip', ['-n', NS.ours, 'addr', 'add', `${F.old}/24`, 'dev', 'xa0']);
    run('ip', ['-n', NS.ours, 'addr', 'add', `${F.new}/24`, 'dev', 'xa0']);
    run('ip', ['-n', NS.ours, 'route', 'add', '10.85.9.0/24', 'dev', 'xa0']);
    run('ip', ['-n', NS.peer, 'addr', 'add', `${F.peer}/24`, 'dev', 'xb0']);
    run('ip', ['-n', NS.peer, 'route', 'add', '10.85.1.0/24', 'dev', 'xb0']);
    run('ip', ['-n', NS.peer, 'route', 'add', '10.85.2.0/24', 'dev', 'xb0']);
    veth(NS.ours2, 'xc0', NS.peer2, 'xd0');
    run('ip', ['-n', NS.ours2, 'addr', 'add', `${R.ours}/24`, 'dev', 'xc0']);
    run('ip', ['-n', NS.peer2, 'addr', 'add', `${R.old}/24`, 'dev', 'xd0']);
    run('ip', ['-n', NS.peer2, 'addr', 'add', `${R.new}/24`, 'dev', 'xd0']);
    work = mkdtempSync(join(tmpdir(), 'hasctp-asconf-'));
    compiled = compile();
    const gcc = spawnSync('gcc', ['-O1', '-Wall', '-o', join(work, 'asconf-peer'), join(repoRoot, 'test', 'interop', 'fixtures', 'asconf-peer.c'), LIBUSRSCTP, '-lpthread'], { encoding: 'utf8', timeout: 60_000 });
    if (gcc.status !== 0) throw new Error(`building asconf-peer failed:\n${gcc.stderr}`);
  }, 150_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    for (const ns of Object.values(NS)) deleteNamespace(ns);
    if (compiled) rmSync(compiled, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const bin = (): string => join(compiled, 'cli', 'bin.js');

  it('our client adds an address, makes it usrsctp\'s primary, deletes the old one: usrsctp moves with no retransmission', async () => {
    const pcap = join(work, 'forward.pcapng');
    const cap = await capture(NS.peer, 'xb0', pcap);
    const echo = inNs(NS.peer, `${DIR}/echo_server`, ['0'], 40_000);
    await new Promise((r) => setTimeout(r, 300));
    const cl = inNs(
      NS.ours,
      process.execPath,
      [
        bin(), 'client', '--connect', `${F.peer}:7`, '--bind', F.old, '--duration', '5', '--rate', '50', '--size', '100', '--verify', '--timeout', '20000',
        '--add-address', `${F.new}@1`, '--set-peer-primary', `${F.new}@1.5`, '--remove-address', `${F.old}@3`, '--json', '--log-level', 'warn',
      ],
      40_000,
    );
    const code = await cl.exited;
    await new Promise((r) => setTimeout(r, 300));
    await finish(cap, 'SIGINT', 5000);
    await finish(echo, 'SIGKILL', 2000);
    expect(code, `${cl.output()}\n--- echo_server:\n${echo.output().slice(-2000)}`).toBe(0);
    const summary = JSON.parse(cl.output().trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as {
      verify: Record<string, number>;
      sent: { messages: number };
      asconf: { kind: string; result: string; requestedAt: number; answeredAt: number }[];
    };
    expect(summary.verify).toEqual({ lost: 0, duplicated: 0, reordered: 0, corrupted: 0 });
    expect(summary.asconf.map((x) => `${x.kind} ${x.result}`)).toEqual(['add success', 'set-peer-primary success', 'remove success']);

    const pkts = readSctpPackets(pcap);
    const f = moveFacts(pkts, { peer: F.peer, oldLocal: F.old, newLocal: F.new });
    const facts = JSON.stringify(f);
    if (process.env.HASCTP_KEEP_CAPTURE !== undefined) copyFileSync(pcap, process.env.HASCTP_KEEP_CAPTURE);
    // AUTH both ways (usrsctp checks our HMAC, we check its), on every ASCONF and ASCONF-ACK.
    expect(unauthenticatedAsconf(pkts)).toEqual([]);
    const auths = pkts.flatMap((p) => p.chunks.flatMap((c) => (c.kind === 'auth' ? [{ from: p.src === F.peer ? 'peer' : 'us', hmacId: c.hmacId }] : [])));
    expect(auths.filter((x) => x.from === 'us').length).toBeGreaterThanOrEqual(3);
    expect(auths.filter((x) => x.from === 'peer').length).toBeGreaterThanOrEqual(3);
    // The peer moved: its DATA and SACKs to the new address, none of its DATA to the old one after it acknowledged.
    expect(f.setPrimaryAckAt, facts).toBeDefined();
    expect(f.firstDataToNew, facts).toBeDefined();
    expect(f.firstSackToNew, facts).toBeDefined();
    expect(f.dataToOldAfterSetPrimary, facts).toBe(0);
    expect(f.sacksToOldAfterMove, facts).toBe(0);
    // No retransmission timeout (nor any retransmission), either side.
    expect(retransmittedTsns(pkts, (p) => p.src === F.peer)).toEqual([]);
    expect(retransmittedTsns(pkts, (p) => p.dst === F.peer)).toEqual([]);
    // The old address is gone once the deletion was acknowledged; the traffic went on.
    expect(f.deleteAckAt, facts).toBeDefined();
    expect(f.oldAddressAfterDelete, facts).toBe(0);
    expect(f.dataAfterDelete).toBeGreaterThan(20);
    process.stderr.write(
      `ADD-IP vs usrsctp: Set Primary sent at ${f.setPrimaryAt!.toFixed(4)} s, acknowledged ${((f.setPrimaryAckAt! - f.setPrimaryAt!) * 1000).toFixed(2)} ms later; ` +
        `usrsctp's first DATA to ${F.new} ${((f.firstDataToNew! - f.setPrimaryAt!) * 1000).toFixed(2)} ms and first SACK there ${((f.firstSackToNew! - f.setPrimaryAt!) * 1000).toFixed(2)} ms after the Set Primary; ` +
        `Delete acknowledged ${((f.deleteAckAt! - f.deleteAt!) * 1000).toFixed(2)} ms after it went; ${f.dataAfterDelete} DATA packets from usrsctp afterwards; ${pkts.length} packets\n`,
    );
    if (process.env.HASCTP_UPDATE_CAPTURES === '1') copyFileSync(pcap, join(capturesDir, 'asconf-usrsctp.pcapng'));
  }, 60_000);

  it('usrsctp adds an address, makes it our primary, deletes the old one: we move our DATA to it', async () => {
    const pcap = join(work, 'reverse.pcapng');
    const cap = await capture(NS.ours2, 'xc0', pcap);
    const srv = inNs(NS.ours2, process.execPath, [bin(), 'server', '--listen', `${R.ours}:5000`, '--mode', 'echo', '--log-level', 'warn'], 40_000);
    await waitUntil('server listening', 10_000, () => srv.output().includes('listening on'), srv.output);
    const peer = inNs(NS.peer2, join(work, 'asconf-peer'), [R.old, R.new, R.ours, '5000', '5'], 40_000);
    const code = await peer.exited;
    await waitUntil('association closed on our side', 10_000, () => srv.output().includes('closed:'), srv.output);
    await finish(cap, 'SIGINT', 5000);
    expect(await finish(srv, 'SIGTERM', 5000), srv.output()).toBe(0);
    expect(code, peer.output()).toBe(0);
    expect(peer.output()).toMatch(/bindx add 10\.85\.3\.4: 0\nset peer primary 10\.85\.3\.4: 0\nbindx remove 10\.85\.3\.2: 0\n/);
    const done = /done sent=(\d+) received=(\d+)/.exec(peer.output());
    expect(done, peer.output()).not.toBeNull();
    expect(done![2]).toBe(done![1]);
    // usrsctp's AUTH verified by us: we acted on each of its ASCONFs.
    for (const line of [`peer ${R.new} SCTP_ADDR_ADDED`, `peer ${R.new} SCTP_ADDR_MADE_PRIM`, `peer ${R.old} SCTP_ADDR_REMOVED`]) expect(srv.output()).toContain(line);

    const pkts = readSctpPackets(pcap);
    expect(unauthenticatedAsconf(pkts)).toEqual([]);
    const f = moveFacts(pkts, { peer: R.ours, oldLocal: R.old, newLocal: R.new });
    expect(f.dataToOldAfterSetPrimary).toBe(0); // "peer" here is us: our DATA stopped going to the old address
    expect(f.firstDataToNew).toBeDefined();
    expect(retransmittedTsns(pkts, (p) => p.src === R.ours)).toEqual([]);
    expect(retransmittedTsns(pkts, (p) => p.dst === R.ours)).toEqual([]);
    expect(f.oldAddressAfterDelete).toBe(0);
    expect(f.dataAfterDelete).toBeGreaterThan(20);
    process.stderr.write(
      `ADD-IP from usrsctp: its Set Primary acknowledged ${((f.setPrimaryAckAt! - f.setPrimaryAt!) * 1000).toFixed(2)} ms after it went; our first DATA to ${R.new} ` +
        `${((f.firstDataToNew! - f.setPrimaryAt!) * 1000).toFixed(2)} ms after it; ${pkts.length} packets\n`,
    );
  }, 60_000);
});
