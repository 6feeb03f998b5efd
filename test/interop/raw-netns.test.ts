// The runtime over raw IP between two network namespaces joined by a veth pair
// (root): `hasctp client` against `hasctp server`, our client against
// usrsctp's echo_server, and usrsctp's tsctp against our discard server, all
// with usrsctp's own raw IP sockets (encapsulation port 0). Skipped loudly
// without root / ip / the addon / usrsctp; failed in CI.
//
// The children run code this test compiles from src/ (Node 20 cannot run
// TypeScript and dist/ may be stale), in node_modules/.cache so that the addon
// is found from there.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, nativeUnavailableReason } from '../../src/transport/native.js';
import { sctpKernelModuleLoaded } from '../../src/transport/raw.js';
import { repoRoot, requireCondition, requireRoot, requireTool } from '../helpers/env.js';
import { waitUntil } from '../helpers/wait.js';
import { deleteNamespace, NETNS_PREFIX, removeStaleNamespaces, run } from '../transport/children.js';

const DIR = '/usr/lib/usrsctp';
const addonHasRaw = typeof (loadNative() as { RawSocket?: unknown } | undefined)?.RawSocket === 'function';
const ok =
  requireCondition(addonHasRaw, `the native addon with raw sockets is not built (${nativeUnavailableReason() ?? 'stale build'}): rm -rf native/build && npm install`) &&
  requireRoot('the raw IP runtime test needs network namespaces and CAP_NET_RAW') &&
  requireTool('ip', 'the raw IP runtime test needs ip netns (iproute2)') &&
  requireTool(`${DIR}/echo_server`, 'raw IP interop needs libusrsctp-examples') &&
  requireTool(`${DIR}/tsctp`, 'raw IP interop needs libusrsctp-examples') &&
  requireCondition(sctpKernelModuleLoaded() !== true, 'the kernel SCTP module is loaded: it would answer our packets (rmmod sctp)');

// Distinct from test/transport/raw.test.ts's namespaces (-a, -b) in case both run under one pid.
const A = { ns: `${NETNS_PREFIX}${process.pid}-r`, dev: 'vr', addr: '10.79.1.1' };
const B = { ns: `${NETNS_PREFIX}${process.pid}-s`, dev: 'vs', addr: '10.79.1.2' };
let compiled: string | undefined;
const children = new Set<ChildProcess>();

function compile(): string {
  const cache = join(repoRoot, 'node_modules', '.cache');
  for (const name of existsSync(cache) ? readdirSync(cache) : []) {
    const m = /^hasctp-runtime-test-(\d+)$/.exec(name);
    if (m !== null && spawnSync('kill', ['-0', m[1]!]).status !== 0) rmSync(join(cache, name), { recursive: true, force: true });
  }
  const out = join(cache, `hasctp-runtime-test-${process.pid}`);
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

describe.skipIf(!ok)('runtime over raw IP between two namespaces', () => {
  beforeAll(() => {
    removeStaleNamespaces();
    run('ip', ['netns', 'add', A.ns]);
    run('ip', ['netns', 'add', B.ns]);
    for (const n of [A, B]) run('ip', ['-n', n.ns, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', A.ns, 'link', 'add', A.dev, 'type', 'veth', 'peer', 'name', B.dev, 'netns', B.ns]);
    for (const n of [A, B]) {
      run('ip', ['-n', n.ns, 'addr', 'add', `${n.addr}/24`, 'dev', n.dev]);
      run('ip', ['-n', n.ns, 'link', 'set', n.dev, 'up']);
    }
    compiled = compile();
  }, 120_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    deleteNamespace(A.ns);
    deleteNamespace(B.ns);
    if (compiled !== undefined) rmSync(compiled, { recursive: true, force: true });
  });

  const bin = (): string => join(compiled!, 'cli', 'bin.js');

  it('hasctp client --verify -> hasctp server --mode echo', async () => {
    const srv = inNs(B.ns, process.execPath, [bin(), 'server', '--listen', `${B.addr}:5000`, '--mode', 'echo'], 30_000);
    await waitUntil('server listening', 10_000, () => srv.output().includes('listening on'), srv.output);
    const cl = inNs(A.ns, process.execPath, [bin(), 'client', '--connect', `${B.addr}:5000`, '--bind', A.addr, '--count', '300', '--size', '1000', '--verify', '--timeout', '15000'], 30_000);
    expect(await cl.exited, cl.output()).toBe(0);
    expect(cl.output()).toMatch(/ok: sent 300 msgs 300000 bytes, received 300 msgs 300000 bytes .*; lost 0, duplicated 0, reordered 0, corrupted 0/);
    expect(await finish(srv, 'SIGTERM', 5000), srv.output()).toBe(0);
    expect(srv.output()).toMatch(/300 messages, 300000 bytes received/);
  }, 60_000);

  it('hasctp client -> usrsctp echo_server (raw IP)', async () => {
    const echo = inNs(B.ns, `${DIR}/echo_server`, ['0'], 30_000);
    await new Promise((r) => setTimeout(r, 300));
    const cl = inNs(A.ns, process.execPath, [bin(), 'client', '--connect', `${B.addr}:7`, '--bind', A.addr, '--count', '300', '--size', '700', '--verify', '--timeout', '15000'], 30_000);
    const code = await cl.exited;
    expect(code, `${cl.output()}\n--- echo_server:\n${echo.output().slice(-3000)}`).toBe(0);
    expect(cl.output()).toMatch(/ok: sent 300 msgs 210000 bytes, received 300 msgs 210000 bytes .*; lost 0, duplicated 0, reordered 0, corrupted 0/);
    await finish(echo, 'SIGKILL', 2000);
  }, 60_000);

  it('usrsctp tsctp -> hasctp server --mode discard (raw IP)', async () => {
    const srv = inNs(B.ns, process.execPath, [bin(), 'server', '--listen', `${B.addr}:5001`, '--mode', 'discard'], 30_000);
    await waitUntil('server listening', 10_000, () => srv.output().includes('listening on'), srv.output);
    const t = inNs(A.ns, `${DIR}/tsctp`, ['-E', '0', '-n', '2000', '-l', '1400', '-p', '5001', B.addr], 30_000);
    expect(await t.exited, t.output().slice(-3000)).toBe(0);
    await waitUntil('association closed on our side', 10_000, () => srv.output().includes('association closed'), srv.output);
    expect(await finish(srv, 'SIGTERM', 5000), srv.output()).toBe(0);
    expect(srv.output()).toMatch(/2000 messages, 2800000 bytes received/);
  }, 60_000);
});
