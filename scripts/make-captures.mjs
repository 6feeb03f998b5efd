#!/usr/bin/env node
// Regenerates the captures this project makes of itself (captures/INDEX.md,
// "Captures this project made"): `hasctp client` against usrsctp's example
// servers over raw IPv4, between two network namespaces joined by two veth
// pairs, captured by dumpcap on our side of the links.
//
//   sudo node scripts/make-captures.mjs [--only NAME[,NAME]] [--out DIR]
//
// Needs root, iproute2 (ip, tc), dumpcap, a C compiler, libusrsctp-examples
// (/usr/lib/usrsctp) and no kernel SCTP module (it would answer our packets).
// Creates namespaces hasctp-cap-PID-{o,w,p}; removes them, and every process it
// started, when it ends (also on an error or SIGINT).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const USRSCTP = '/usr/lib/usrsctp';
const NS = { ours: `hasctp-cap-${process.pid}-o`, wire: `hasctp-cap-${process.pid}-w`, peer: `hasctp-cap-${process.pid}-p` };
// Two links, ours .1 and usrsctp .2 on each, through a bridge in a third namespace: a link is cut
// there, so our end keeps its carrier and the capture still sees what we send on a dead path.
const L = [
  { ours: '10.86.1.1', peer: '10.86.1.2', devO: 'hco0', devP: 'hcp0', wireO: 'hcwo0', wireP: 'hcwp0', br: 'hcbr0' },
  { ours: '10.86.2.1', peer: '10.86.2.2', devO: 'hco1', devP: 'hcp1', wireO: 'hcwo1', wireP: 'hcwp1', br: 'hcbr1' },
];
const MAX_BYTES = 300 * 1024;

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const outDir = opt('--out') ?? join(repo, 'captures');
const only = opt('--only')?.split(',');

function die(msg) {
  process.stderr.write(`make-captures: ${msg}\n`);
  process.exit(1);
}

function run(cmd, argv, allowFailure = false) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0 && !allowFailure) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr || r.stdout || r.error}`);
  return r.stdout;
}

const children = new Set();

/** A command in a namespace; resolves `exited` with its exit code. Killed after `timeoutMs`. */
function inNs(ns, cmd, argv, timeoutMs, env = {}) {
  const envArgs = Object.keys(env).length ? ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)] : [];
  const child = spawn('ip', ['netns', 'exec', ns, ...envArgs, cmd, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const keep = (d) => {
    out += d.toString('latin1');
    if (out.length > 100_000) out = out.slice(-50_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve(code);
    });
    child.once('error', () => resolve(null));
  });
  return { child, exited, output: () => out };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function stop(p, signal = 'SIGTERM', ms = 3000) {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  const t = setTimeout(() => p.child.kill('SIGKILL'), ms);
  const code = await p.exited;
  clearTimeout(t);
  return code;
}

function deleteNamespaces() {
  for (const ns of Object.values(NS)) run('ip', ['netns', 'delete', ns], true);
}

function cleanup() {
  for (const c of children) c.kill('SIGKILL');
  deleteNamespaces();
}

/** The two namespaces and `links` veth pairs between them (a capture's own: no other path to stray onto). */
function setup(links) {
  for (const ns of Object.values(NS)) {
    run('ip', ['netns', 'add', ns]);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // IPv4 only: no IPv6 neighbour discovery or MLD in the captures.
    run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }
  for (const i of links) {
    const l = L[i];
    run('ip', ['-n', NS.ours, 'link', 'add', l.devO, 'type', 'veth', 'peer', 'name', l.wireO, 'netns', NS.wire]);
    run('ip', ['-n', NS.peer, 'link', 'add', l.devP, 'type', 'veth', 'peer', 'name', l.wireP, 'netns', NS.wire]);
    run('ip', ['-n', NS.wire, 'link', 'add', l.br, 'type', 'bridge']);
    for (const dev of [l.wireO, l.wireP]) {
      run('ip', ['-n', NS.wire, 'link', 'set', dev, 'master', l.br]);
      run('ip', ['-n', NS.wire, 'link', 'set', dev, 'up']);
    }
    run('ip', ['-n', NS.wire, 'link', 'set', l.br, 'up']);
    run('ip', ['-n', NS.ours, 'addr', 'add', `${l.ours}/24`, 'dev', l.devO]);
    run('ip', ['-n', NS.peer, 'addr', 'add', `${l.peer}/24`, 'dev', l.devP]);
    run('ip', ['-n', NS.ours, 'link', 'set', l.devO, 'up']);
    run('ip', ['-n', NS.peer, 'link', 'set', l.devP, 'up']);
  }
}

/** Cuts link `i` in the middle: the bridge port towards usrsctp goes down; nothing crosses either way. */
function cutPath(i) {
  run('ip', ['-n', NS.wire, 'link', 'set', L[i].wireP, 'down']);
}

function compile() {
  const out = join(repo, 'node_modules', '.cache', `hasctp-make-captures-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // Type errors elsewhere in the tree do not stop the emit; a missing CLI does.
  spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repo, 'tsconfig.build.json'), '--outDir', out], { encoding: 'utf8', timeout: 300_000 });
  if (!existsSync(join(out, 'cli', 'bin.js'))) die('compiling src/ failed');
  return out;
}

function shim(dir) {
  const src = join(dir, 'nodebug.c');
  const so = join(dir, 'nodebug.so');
  writeFileSync(src, 'int usrsctp_sysctl_set_sctp_debug_on(unsigned int v) { (void)v; return 0; }\n');
  return spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', so, src], { timeout: 30_000 }).status === 0 ? so : undefined;
}

/**
 * The captures. `server`: the usrsctp program (raw IP: its argument 0 is no UDP
 * encapsulation port); `client`: `hasctp client` flags; `during`: what happens
 * to the network while the client runs.
 */
const SCENARIOS = [
  {
    name: 'echo-usrsctp.pcapng',
    server: 'echo_server',
    client: ['--connect', `${L[0].peer}:7`, '--bind', L[0].ours, '--count', '100', '--size', '200', '--rate', '50', '--streams', '2', '--verify'],
  },
  {
    name: 'bulk-usrsctp.pcapng',
    server: 'discard_server',
    client: ['--connect', `${L[0].peer}:9`, '--bind', L[0].ours, '--count', '150', '--size', '1000'],
  },
  {
    name: 'fragmentation-usrsctp.pcapng',
    server: 'discard_server',
    client: ['--connect', `${L[0].peer}:9`, '--bind', L[0].ours, '--count', '2', '--size', '65536'],
  },
  {
    name: 'multihoming-usrsctp.pcapng',
    server: 'echo_server',
    links: [0, 1],
    client: ['--connect', `${L[0].peer},${L[1].peer}:7`, '--bind', `${L[0].ours},${L[1].ours}`, '--duration', '5', '--rate', '20', '--size', '100', '--verify', '--timeout', '9000'],
    // usrsctp answers from 10.86.2.2 whatever the link, so our client's primary is 10.86.2.2:
    // cutting link 1 makes our DATA fail over to 10.86.1.2 (RFC 9260 §6.4.1). usrsctp's echoes
    // still arrive (on link 0, from 10.86.2.2), but our SACKs for them go to their source,
    // 10.86.2.2, over the cut link: usrsctp retransmits them and our client ends with lost echoes.
    expectFailure: true,
    during: async () => {
      await sleep(2000);
      cutPath(1);
    },
  },
  {
    name: 'abort-usrsctp.pcapng',
    server: 'echo_server',
    // More streams than usrsctp accepts (its MIS is 2048): our client gives up with an ABORT.
    client: ['--connect', `${L[0].peer}:7`, '--bind', L[0].ours, '--count', '5', '--size', '100', '--streams', '4000', '--verify'],
    expectFailure: true,
  },
];

async function capture(s, bin, env, work) {
  const file = join(work, s.name);
  const links = s.links ?? [0];
  setup(links);
  await sleep(300);
  const cap = inNs(NS.ours, 'dumpcap', [...links.flatMap((i) => ['-i', L[i].devO]), '-w', file], 60_000);
  for (let i = 0; i < 100 && !cap.output().includes('Capturing on'); i++) await sleep(100);
  if (!cap.output().includes('Capturing on')) throw new Error(`dumpcap did not start: ${cap.output()}`);
  const srv = inNs(NS.peer, join(USRSCTP, s.server), ['0'], 60_000, env);
  await sleep(500);
  const cl = inNs(NS.ours, process.execPath, [bin, 'client', ...s.client, '--json', '--log-level', 'warn'], 60_000);
  await s.during?.();
  const code = await cl.exited;
  await sleep(500);
  await stop(cap, 'SIGINT', 5000);
  await stop(srv, 'SIGKILL');
  const summary = cl.output().trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if ((code === 0) === (s.expectFailure === true)) {
    if (args.includes('--keep-failed')) copyFileSync(file, join(outDir, `${s.name}.failed`));
    throw new Error(`${s.name}: hasctp client exited ${code}${s.expectFailure ? ' (a failure was expected)' : ''}:\n${cl.output().slice(-3000)}`);
  }
  const size = statSync(file).size;
  if (size > MAX_BYTES) throw new Error(`${s.name}: ${size} bytes, over the ${MAX_BYTES} bytes a capture may take`);
  copyFileSync(file, join(outDir, s.name));
  chmodSync(join(outDir, s.name), 0o644);
  process.stdout.write(`${s.name}: ${size} bytes; client: ${summary ?? cl.output().trim().split('\n').pop()}\n`);
}

async function main() {
  if (process.getuid?.() !== 0) die('needs root (network namespaces, raw sockets)');
  for (const tool of ['ip', 'tc', 'dumpcap', 'cc']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) die(`needs ${tool}`);
  for (const s of ['echo_server', 'discard_server']) if (!existsSync(join(USRSCTP, s))) die(`needs ${USRSCTP}/${s} (libusrsctp-examples)`);
  if (existsSync('/sys/module/sctp')) die('the kernel SCTP module is loaded: it would answer our packets (rmmod sctp)');
  const chosen = SCENARIOS.filter((s) => only === undefined || only.includes(s.name) || only.includes(s.name.replace(/\.pcapng$/, '')));
  if (chosen.length === 0) die(`no capture named ${only.join(', ')}; there are ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const work = mkdtempSync(join(tmpdir(), 'hasctp-captures-'));
  let compiled;
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    compiled = compile();
    const so = shim(work);
    for (const s of chosen) {
      try {
        await capture(s, join(compiled, 'cli', 'bin.js'), so === undefined ? {} : { LD_PRELOAD: so }, work);
      } finally {
        for (const c of children) c.kill('SIGKILL');
        deleteNamespaces();
      }
    }
  } finally {
    cleanup();
    rmSync(work, { recursive: true, force: true });
    if (compiled !== undefined) rmSync(compiled, { recursive: true, force: true });
  }
}

main().catch((e) => {
  cleanup();
  die(e instanceof Error ? e.message : String(e));
});
