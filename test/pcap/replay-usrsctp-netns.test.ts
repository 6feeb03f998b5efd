// `hasctp pcap replay` of a captured echo session (captures/echo-usrsctp.pcapng) against live
// peers over raw IPv4 between two network namespaces (root): usrsctp's echo_server answers like the
// captured one did (no divergence); our own server in discard mode drops every message, and the
// replay reports the missing responses per stream.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, nativeUnavailableReason } from '../../src/transport/native.js';
import { sctpKernelModuleLoaded } from '../../src/transport/raw.js';
import type { ReplayReport } from '../../src/cli/pcap-replay.js';
import { capturesDir, requireCondition, requireRoot, requireTool } from '../helpers/env.js';
import { Proc, buildNoDebugShim, compileSrc, createNsPair, deleteNsPair, killAll, sleep, waitLinksUp, type NsPair } from '../helpers/netns.js';

const DIR = '/usr/lib/usrsctp';
const addonHasRaw = typeof (loadNative() as { RawSocket?: unknown } | undefined)?.RawSocket === 'function';
const ok =
  requireCondition(addonHasRaw, `the native addon with raw sockets is not built (${nativeUnavailableReason() ?? 'stale build'}): rm -rf native/build && npm install`) &&
  requireRoot('the live replay test needs network namespaces and CAP_NET_RAW') &&
  requireTool('ip', 'the live replay test needs ip netns (iproute2)') &&
  requireTool(`${DIR}/echo_server`, 'the live replay test needs libusrsctp-examples') &&
  requireCondition(sctpKernelModuleLoaded() !== true, 'the kernel SCTP module is loaded: it would answer our packets (rmmod sctp)');

const capture = join(capturesDir, 'echo-usrsctp.pcapng');

describe.skipIf(!ok)('pcap replay of a captured echo session against live peers (raw IPv4, namespaces)', () => {
  let pair: NsPair;
  let dist = '';
  let work = '';
  let shim: string | undefined;

  beforeAll(async () => {
    pair = createNsPair(['ra', 'rb'], 87, 1, 1);
    work = mkdtempSync(join(tmpdir(), 'hasctp-replay-netns-'));
    shim = buildNoDebugShim(work);
    dist = compileSrc('replay');
    await waitLinksUp(pair);
  }, 120_000);

  afterAll(async () => {
    await killAll();
    deleteNsPair(pair);
    if (work !== '') rmSync(work, { recursive: true, force: true });
    if (dist !== '' && existsSync(dist)) rmSync(dist, { recursive: true, force: true });
  }, 30_000);

  async function replay(port: number): Promise<{ code: number | null; report: ReplayReport; output: string }> {
    const p = new Proc(
      pair.a,
      process.execPath,
      [join(dist, 'cli', 'bin.js'), 'pcap', 'replay', capture, '--target', `${pair.addrsB[0]}:${port}`, '--bind', pair.addrsA[0]!, '--asap', '--wait', '500', '--timeout', '20000', '--json'],
      { timeoutMs: 30_000 },
    );
    const code = await p.wait(30_000);
    const line = p.output().split('\n').find((l) => l.startsWith('{'));
    if (line === undefined) throw new Error(`no report from the replay (exit ${code}):\n${p.output().slice(-3000)}`);
    return { code, report: JSON.parse(line) as ReplayReport, output: p.output() };
  }

  it('against usrsctp echo_server: every captured message sent and echoed, no divergence', async () => {
    const srv = new Proc(pair.b, `${DIR}/echo_server`, ['0'], { timeoutMs: 40_000, ...(shim !== undefined && { env: { LD_PRELOAD: shim } }) });
    await sleep(500);
    const r = await replay(7);
    await srv.stop('SIGKILL');
    expect(r.report.divergences, r.output.slice(-3000)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.report).toMatchObject({
      ok: true,
      captured: { messagesSent: 100, messagesReceived: 100 },
      live: { messagesSent: 100, messagesReceived: 100, notSent: 0, errors: [] },
      payloadDifferences: 0,
    });
  }, 45_000);

  it('against our server in discard mode: the missing echoes show as a divergence per stream, exit 1', async () => {
    const srv = new Proc(pair.b, process.execPath, [join(dist, 'cli', 'bin.js'), 'server', '--listen', `${pair.addrsB[0]}:7`, '--mode', 'discard', '--no-control', '--log-level', 'warn'], { timeoutMs: 40_000 });
    await srv.until('listening', 10_000, () => srv.output().includes('listening'));
    const r = await replay(7);
    await srv.stop('SIGTERM');
    expect(r.code).toBe(1);
    expect(r.report.ok).toBe(false);
    expect(r.report.live).toMatchObject({ messagesSent: 100, messagesReceived: 0 });
    expect(r.report.divergences).toEqual([
      'missing responses on stream 0 PPID 0: captured 50, received 0',
      'missing responses on stream 1 PPID 0: captured 50, received 0',
    ]);
  }, 45_000);
});
