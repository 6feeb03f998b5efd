// A primary and a standby `hasctp node` (child processes, SCTP over UDP on
// 127.x.y.1 and .2, no root) and a peer in this process at .10, inspected
// through their control sockets with `hasctp cluster`, `assocs`, `assoc ID`
// and the metrics, before, during and after a planned switchover; then
// SIGTERM on a primary with a standby in sync (switchover first) and on a
// primary alone (graceful shutdown of its associations).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/api/connect.js';
import type { Association } from '../../src/api/association.js';
import type { NodeStatus } from '../../src/cluster/node.js';
import type { AssocDetail, AssocRow } from '../../src/ops/inspect.js';
import { cli, cliJson, compiledBin, freeTcpPort, killAll, loopbackNet, parsePrometheus, sample, startProc, until, type Proc } from '../ops/helpers.js';

let bin: string;
let dir: string;
beforeAll(() => {
  bin = compiledBin('node');
  dir = mkdtempSync(join(tmpdir(), 'hasctp-ops-node-'));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let peer: Association | undefined;
afterEach(async () => {
  if (peer && !peer.closed) await peer.abort();
  peer = undefined;
  await killAll();
});

const protocol = { rtoMin: 100, rtoInitial: 300, rtoMax: 1000, hbInterval: 300, pfMaxRetrans: 0 };

async function pair(): Promise<{ net: string; a: Proc; b: Proc; ctl: { a: string; b: string }; metrics: { a: string; b: string } }> {
  const net = loopbackNet();
  const key = randomBytes(32).toString('hex');
  const linkPort = await freeTcpPort();
  const ctl = { a: join(dir, `a-${net}.sock`), b: join(dir, `b-${net}.sock`) };
  for (const n of ['a', 'b'] as const) {
    const other = n === 'a' ? 'b' : 'a';
    writeFileSync(
      join(dir, `${n}.json`),
      JSON.stringify({
        node: n,
        role: n === 'a' ? 'primary' : 'standby',
        sctp: { addresses: [`${net}.${n === 'a' ? 1 : 2}`], port: 2905, transport: 'udp' },
        peers: [{ node: other, addresses: [`${net}.${n === 'a' ? 2 : 1}`] }],
        cluster: n === 'a' ? { listen: `127.0.0.1:${linkPort}`, key, heartbeatInterval: 50, heartbeatMisses: 6 } : { dial: `127.0.0.1:${linkPort}`, key, heartbeatInterval: 50, heartbeatMisses: 6 },
        app: 'echo',
        control: ctl[n],
        metrics: '127.0.0.1:0',
        protocol,
      }),
    );
  }
  const a = startProc(bin, ['node', '--config', join(dir, 'a.json')]);
  const b = startProc(bin, ['node', '--config', join(dir, 'b.json')]);
  const ma = await a.waitFor(/"metrics":"([\d.]+:\d+)"/);
  const mb = await b.waitFor(/"metrics":"([\d.]+:\d+)"/);
  await a.waitFor(/"msg":"control socket ready"/);
  await b.waitFor(/"msg":"control socket ready"/);
  return { net, a, b, ctl, metrics: { a: `http://${ma[1]}/metrics`, b: `http://${mb[1]}/metrics` } };
}

const status = (control: string): Promise<NodeStatus> => cliJson<NodeStatus>(['cluster', '--json', '--control', control]);
const assocs = (control: string): Promise<AssocRow[]> => cliJson<AssocRow[]>(['assocs', '--json', '--control', control]);

/** Sends n numbered messages (paced), resolves with the echoes' numbers. */
async function stream(a: Association, from: number, n: number, during?: () => Promise<void>): Promise<number[]> {
  const got: number[] = [];
  const on = (m: { data: Buffer }): void => void got.push(m.data.readUInt32BE(0));
  a.on('message', on);
  const side = during?.();
  for (let i = from; i < from + n; i++) {
    const d = Buffer.alloc(64);
    d.writeUInt32BE(i, 0);
    a.send(d, { stream: i % 2 });
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
  }
  await side;
  await until(`${n} echoes`, () => got.length >= n, 15_000);
  a.off('message', on);
  return got;
}

describe('hasctp node: cluster inspection, switchover, lifecycle', () => {
  it('cluster / assocs / assoc on both nodes before, during and after a planned switchover; SIGTERM hands over, then shuts down', async () => {
    const { net, a, b, ctl, metrics } = await pair();
    await until('the standby in sync', async () => (await status(ctl.a)).protection === 'in-sync' && (await status(ctl.b)).protection === 'in-sync', 15_000);

    peer = await connect({ localAddresses: [`${net}.10`], remoteAddresses: [`${net}.1`, `${net}.2`], port: 2905, transport: 'udp', config: protocol, timeout: 5000 });
    expect((await stream(peer, 0, 40)).sort((x, y) => x - y)).toEqual([...Array(40).keys()]);

    // The primary's view.
    const sa = await status(ctl.a);
    expect(sa).toMatchObject({ node: 'a', role: 'primary', epoch: 0, protection: 'in-sync', associations: 1, link: { up: true }, peer: { node: 'b', role: 'standby', epoch: 0 } });
    expect(sa.linkRttMs).toBeGreaterThanOrEqual(0);
    expect(sa.peer!.ageMs).toBeLessThan(1000);
    const ra = await assocs(ctl.a);
    expect(ra).toHaveLength(1);
    expect(ra[0]).toMatchObject({ state: 'established', peerAddresses: [`${net}.10`], localAddresses: [`${net}.1`, `${net}.2`], replication: { state: 'in-sync', role: 'primary' } });
    const id = ra[0]!.id;
    // pino lines about the association carry its id and the peer's address.
    await a.waitFor(new RegExp(`"assocId":${id},"peer":"${net.replace(/\./g, '\\.')}\\.10".*"msg":"association communication-up"`));
    // The standby holds the same association (its copy), ready to take over.
    const rb = await assocs(ctl.b);
    expect(rb.map((r) => [r.id, r.state, r.replication.role, r.replication.state])).toEqual([[id, 'established', 'standby', 'in-sync']]);
    const da = await cliJson<AssocDetail>(['assoc', String(id), '--json', '--control', ctl.a]);
    // Chunks received count the peer's retransmissions too (a loaded host may trigger some); distinct ones are exact.
    expect(da.mib.sctpInOrderChunks - da.mib.inDuplicateChunks).toBe(40);
    expect(da.mib.sctpReasmUsrMsgs).toBe(40);
    expect(da.streams.map((s) => [s.stream, s.inNextSsn])).toEqual([
      [0, 20],
      [1, 20],
    ]);
    const text = (await cli(['cluster', '--control', ctl.a])).out;
    expect(text).toMatch(/^NODE\s+SEEN\s+ROLE\s+EPOCH\s+APPLIED-RECORD\s+PROTECTION\n/);
    expect(text).toMatch(/\na\s+this node\s+primary\s+0\s+\d+\s+in-sync\n/);
    expect(text).toMatch(/\nb\s+heard \d+ ms ago\s+standby\s+0\s+\d+/);
    expect(text).toMatch(/cluster link: up, heartbeat round trip [\d.]+ ms/);
    expect(text).toContain('associations: 1, 1 in sync on the standby');
    expect(text).toContain('last failover: none on this node');
    // A standby stays silent: admin actions go to the primary.
    expect(await cli(['assoc', String(id), '--abort', '--control', ctl.b])).toMatchObject({ code: 1, err: 'hasctp assoc: abort: this node is a standby; ask the primary\n' });
    const m0 = parsePrometheus(await (await fetch(metrics.a)).text());
    expect(sample(m0, 'hasctp_cluster_role', { role: 'primary' })).toBe(1);
    expect(sample(m0, 'hasctp_cluster_protected')).toBe(1);
    expect(sample(m0, 'hasctp_failovers_total')).toBe(0);
    expect(sample(m0, 'hasctp_replication_lag_records')).toBeGreaterThanOrEqual(0);
    expect(sample(m0, 'hasctp_replication_records_sent_total')).toBeGreaterThan(0);
    expect(sample(m0, 'hasctp_assoc_protected', { assoc: String(id) })).toBe(1);

    // A planned switchover while traffic flows; both nodes answer throughout.
    const views: { a: NodeStatus; b: NodeStatus; ra: AssocRow[]; rb: AssocRow[] }[] = [];
    const got = await stream(peer, 1000, 200, async () => {
      await new Promise((r) => setTimeout(r, 30));
      expect(await cli(['failover', '--control', ctl.a])).toMatchObject({ code: 0, out: '{"ok":true}\n' });
      for (let i = 0; i < 10; i++) {
        views.push({ a: await status(ctl.a), b: await status(ctl.b), ra: await assocs(ctl.a), rb: await assocs(ctl.b) });
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    expect(got.sort((x, y) => x - y)).toEqual([...Array(200).keys()].map((i) => i + 1000));
    // Every answer during the switchover names the same association, and at most one node is primary.
    for (const v of views) {
      expect([...v.ra, ...v.rb].every((r) => r.id === id)).toBe(true);
      // Asked one after the other, both may say primary, but never in the same epoch.
      expect(v.a.role === 'primary' && v.b.role === 'primary' && v.a.epoch === v.b.epoch).toBe(false);
    }
    await until('b primary and a standby in sync', async () => (await status(ctl.b)).protection === 'in-sync' && (await status(ctl.a)).role === 'standby', 10_000);
    const sb = await status(ctl.b);
    expect(sb).toMatchObject({ role: 'primary', epoch: 1, peer: { node: 'a', role: 'standby', epoch: 1 } });
    expect(sb.lastFailover).toMatchObject({ reason: expect.stringMatching(/handover|switchover|planned/i) });
    expect((await assocs(ctl.b))[0]).toMatchObject({ id, state: 'established', replication: { state: 'in-sync', role: 'primary' } });
    expect((await cli(['cluster', '--control', ctl.b])).out).toMatch(/last failover: .* first packet out \+[\d.]+ ms/);
    const m1 = parsePrometheus(await (await fetch(metrics.b)).text());
    expect(sample(m1, 'hasctp_failovers_total')).toBe(1);
    expect(sample(m1, 'hasctp_cluster_epoch')).toBe(1);
    expect(sample(m1, 'hasctp_cluster_role', { role: 'primary' })).toBe(1);

    // SIGTERM on the primary with a standby in sync: switchover first, no loss.
    b.proc.kill('SIGTERM');
    await b.waitFor(/"handedOver":true.*"msg":"planned switchover done"/);
    expect(await b.exit()).toBe(0);
    await until('a primary again', async () => (await status(ctl.a)).role === 'primary');
    expect((await stream(peer, 5000, 30)).sort((x, y) => x - y)).toEqual([...Array(30).keys()].map((i) => i + 5000));
    expect((await assocs(ctl.a))[0]).toMatchObject({ id, replication: { state: 'unprotected', role: 'primary' } });
    expect((await cli(['assocs', '--control', ctl.a])).out).toContain('UNPROTECTED');

    // SIGTERM on a primary alone: its associations are shut down (SHUTDOWN, not ABORT).
    let down = '';
    let shutdown = false;
    peer.on('down', (r: string) => (down = r));
    peer.on('shutdown', () => (shutdown = true));
    const closed = new Promise<void>((r) => peer!.once('close', () => r()));
    a.proc.kill('SIGTERM');
    await closed;
    expect(shutdown).toBe(true);
    expect(down).toBe('');
    expect(await a.exit()).toBe(0);
    await a.waitFor(/"graceful":true.*"msg":"associations shut down"/);
  }, 90_000);

  it('an unplanned failover (SIGKILL of the primary): the standby reports the takeover and its timings, the association unprotected', async () => {
    const { net, a, b, ctl, metrics } = await pair();
    await until('the standby in sync', async () => (await status(ctl.b)).protection === 'in-sync', 15_000);
    peer = await connect({ localAddresses: [`${net}.10`], remoteAddresses: [`${net}.1`, `${net}.2`], port: 2905, transport: 'udp', config: protocol, timeout: 5000 });
    await stream(peer, 0, 20);
    const id = (await assocs(ctl.a))[0]!.id;
    const got = await stream(peer, 100, 100, async () => {
      await new Promise((r) => setTimeout(r, 50));
      a.proc.kill('SIGKILL');
    });
    expect(got.sort((x, y) => x - y)).toEqual([...Array(100).keys()].map((i) => i + 100));
    await until('b primary', async () => (await status(ctl.b)).role === 'primary', 10_000);
    // And traffic after the takeover, through the new primary.
    expect((await stream(peer, 300, 30)).sort((x, y) => x - y)).toEqual([...Array(30).keys()].map((i) => i + 300));
    const sb = await status(ctl.b);
    expect(sb).toMatchObject({ role: 'primary', epoch: 1, protection: 'unprotected', link: { up: false } });
    expect(sb.lastFailover!.detectionMs).toBeGreaterThan(0);
    expect(sb.lastFailover!.firstPacketOutMs).toBeGreaterThanOrEqual(0);
    expect((await assocs(ctl.b)).map((r) => [r.id, r.state, r.replication.state])).toEqual([[id, 'established', 'unprotected']]);
    const text = (await cli(['cluster', '--control', ctl.b])).out;
    expect(text).toMatch(/cluster link: DOWN/);
    expect(text).toMatch(/associations: 1, UNPROTECTED/);
    expect(text).toMatch(/last failover: .* detection [\d.]+ ms, first packet out \+[\d.]+ ms, first SACK in (\+[\d.]+ ms|not yet)\n/);
    const m = parsePrometheus(await (await fetch(metrics.b)).text());
    expect(sample(m, 'hasctp_failovers_total')).toBe(1);
    expect(sample(m, 'hasctp_cluster_link_up')).toBe(0);
    expect(sample(m, 'hasctp_last_failover_detection_seconds')).toBeGreaterThan(0);
    expect(sample(m, 'hasctp_assoc_protected', { assoc: String(id) })).toBe(0);
    // SIGHUP: the log level is read again from the config file.
    const file = join(dir, 'b.json');
    writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), logLevel: 'debug' }));
    b.proc.kill('SIGHUP');
    await b.waitFor(/"logLevel":"debug".*"msg":"configuration reloaded/);
    expect(b.proc.exitCode).toBeNull();
  }, 60_000);

  it('bad node config: one line naming the key, exit 2', async () => {
    const file = join(dir, 'badnode.json');
    writeFileSync(file, JSON.stringify({ node: 'a', role: 'primary', sctp: { addresses: ['127.0.0.1'], port: 1 }, peers: [{ node: 'b', addresses: ['127.0.0.2'] }], cluster: { listen: '127.0.0.1:1', key: 'x'.repeat(32) }, metrics: 'nowhere' }));
    expect(await cli(['node', '--config', file])).toMatchObject({ code: 2, err: expect.stringMatching(/^hasctp node: .*badnode\.json: metrics: "nowhere" is not ADDRESS:PORT\n$/) });
    writeFileSync(file, JSON.stringify({ node: 'a', role: 'primary', sctp: { addresses: ['127.0.0.1'], port: 1 }, peers: [{ node: 'b', addresses: ['127.0.0.2'] }], cluster: { listen: '127.0.0.1:1', key: 'x'.repeat(32) }, logLevel: 'chatty' }));
    expect(await cli(['node', '--config', file])).toMatchObject({ code: 2, err: expect.stringMatching(/^hasctp node: .*badnode\.json: logLevel: must be one of trace, .*\n$/) });
  });
});
