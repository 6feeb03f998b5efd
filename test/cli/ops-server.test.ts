// A running `hasctp server` (child process, SCTP over UDP on 127.x.y.1, no
// root) with a multihomed peer in this process (127.x.y.2 and .3), driven
// through its control socket by `hasctp assocs`, `assoc ID`, `--set-primary`,
// `--abort`; bad requests and bad config files; SIGHUP and SIGTERM.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/api/connect.js';
import type { Association } from '../../src/api/association.js';
import { controlRequest } from '../../src/ops/control.js';
import type { AssocDetail, AssocRow } from '../../src/ops/inspect.js';
import { cli, cliJson, compiledBin, freeUdpPort, killAll, loopbackNet, parsePrometheus, sample, startProc, until } from '../ops/helpers.js';

let bin: string;
let dir: string;
beforeAll(() => {
  bin = compiledBin('server');
  dir = mkdtempSync(join(tmpdir(), 'hasctp-ops-server-'));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const peers: Association[] = [];
afterEach(async () => {
  for (const a of peers.splice(0)) if (!a.closed) await a.abort();
  await killAll();
});

interface Setup {
  readonly net: string;
  readonly udpPort: number;
  readonly control: string;
  readonly config: string;
  readonly server: ReturnType<typeof startProc>;
  readonly metricsUrl: string;
}

async function startServer(name: string, extra: Record<string, unknown> = {}): Promise<Setup> {
  const net = loopbackNet();
  const udpPort = await freeUdpPort(`${net}.1`);
  const control = join(dir, `${name}.sock`);
  const config = join(dir, `${name}.json`);
  // The peer binds the same UDP port on its own addresses: the server reaches
  // both of them at sctp.remoteUdpPort (heartbeats to an address it has not heard from yet).
  writeFileSync(config, JSON.stringify({ sctp: { addresses: [`${net}.1`], port: 2905, transport: 'udp', udpPort, remoteUdpPort: udpPort }, app: 'echo', control, metrics: '127.0.0.1:0', logLevel: 'info', protocol: { hbInterval: 200, rtoInitial: 300, rtoMin: 100 }, ...extra }));
  const server = startProc(bin, ['server', '--config', config]);
  const m = await server.waitFor(/metrics on (http:\S+)/);
  await server.waitFor(/listening on/);
  return { net, udpPort, control, config, server, metricsUrl: m[1]! };
}

async function peer(s: Setup): Promise<Association> {
  const a = await connect({ localAddresses: [`${s.net}.2`, `${s.net}.3`], remoteAddresses: [`${s.net}.1`], port: 2905, transport: 'udp', udpPort: s.udpPort, remoteUdpPort: s.udpPort, outboundStreams: 4, config: { hbInterval: 200 }, timeout: 5000 });
  peers.push(a);
  return a;
}

async function echoes(a: Association, n: number, streams: number): Promise<void> {
  let got = 0;
  const on = (): void => void got++;
  a.on('message', on);
  for (let i = 0; i < n; i++) a.send(Buffer.alloc(64, i), { stream: i % streams, ppid: 7 });
  await until(`${n} echoes`, () => got >= n);
  a.off('message', on);
}

describe('hasctp server: inspection and admin over the control socket', () => {
  it('assocs, assoc ID (JSON and table), set-primary, abort, and the errors', async () => {
    const s = await startServer('inspect');
    expect(await cliJson(['assocs', '--json', '--control', s.control])).toEqual([]);
    expect((await cli(['assocs', '--control', s.control])).out).toBe('no associations\n');

    const a = await peer(s);
    await echoes(a, 30, 3);
    // Both peer addresses confirmed by heartbeats (RFC 9260 §5.4) before the primary can move.
    await until('both paths ACTIVE', async () => (await cliJson<AssocRow[]>(['assocs', '--json', '--control', s.control]))[0]?.paths.every((p) => p.state === 'ACTIVE') === true);
    const rows = await cliJson<AssocRow[]>(['assocs', '--json', '--control', s.control]);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({
      state: 'established',
      localPort: 2905,
      localAddresses: [`${s.net}.1`],
      peerAddresses: [`${s.net}.2`, `${s.net}.3`],
      primary: `${s.net}.2`,
      inStreams: 4,
      replication: { state: 'none', lagRecords: 0 },
      paths: [
        { address: `${s.net}.2`, state: 'ACTIVE' },
        { address: `${s.net}.3`, state: 'ACTIVE' },
      ],
    });
    expect(row.cwnd).toBeGreaterThan(0);
    expect(row.srtt).toBeGreaterThanOrEqual(0);

    const table = (await cli(['assocs', '--control', s.control])).out.split('\n');
    expect(table[0]).toMatch(/^ID\s+STATE\s+LOCAL\s+PEER \(\*primary\)\s+STREAMS\s+UNACKED\s+PEER-RWND\s+CWND\s+SRTT\s+RTO\s+REPLICATION$/);
    expect(table[1]).toContain(`*${s.net}.2,${s.net}.3:`);
    expect(table[1]).toContain('not replicated');

    const d = (await cliJson<AssocDetail>(['assoc', String(row.id), '--json', '--control', s.control]))!;
    expect(d.pathTable.map((p) => [p.address, p.state, p.primary])).toEqual([
      [`${s.net}.2`, 'ACTIVE', true],
      [`${s.net}.3`, 'ACTIVE', false],
    ]);
    for (const p of d.pathTable) expect(p).toMatchObject({ errorCount: 0, pmtu: expect.any(Number), rto: expect.any(Number), cwnd: expect.any(Number), ssthresh: expect.any(Number) });
    // The second address was confirmed by a HEARTBEAT ACK.
    expect(d.pathTable[1]!.heartbeatsAcked).toBeGreaterThan(0);
    expect(d.pathTable[1]!.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
    // The echo server answers on the stream each message came on: 10 + 10 + 10.
    expect(d.streams.map((x) => [x.stream, x.outNextSsn, x.inNextSsn, x.outQueuedMessages])).toEqual([
      [0, 10, 10, 0],
      [1, 10, 10, 0],
      [2, 10, 10, 0],
    ]);
    // Chunk counters include retransmissions (either way); distinct received chunks and messages are exact.
    expect(d.mib).toMatchObject({ sctpReasmUsrMsgs: 30, sctpAssocT1expireds: 0 });
    expect(d.mib.sctpInOrderChunks - d.mib.inDuplicateChunks).toBe(30);
    expect(d.mib.sctpOutOrderChunks).toBeGreaterThanOrEqual(30);
    expect(d.extensions).toMatchObject({ prSctp: true, addIp: true, auth: { hmac: expect.any(String) } });

    const text = (await cli(['assoc', String(row.id), '--control', s.control])).out;
    expect(text).toMatch(new RegExp(`^association ${row.id}: established, up \\d+\\.\\d s, replication: not replicated`));
    expect(text).toMatch(/ADDRESS\s+STATE\s+PRI\s+CWND\s+SSTHRESH\s+SRTT\s+RTTVAR\s+RTO\s+ERRORS\s+FLIGHT\s+HB-AGE\s+HEARD\s+PMTU/);
    expect(text).toContain(`sctpInOrderChunks ${d.mib.sctpInOrderChunks}`);

    // SET PRIMARY: refused for an address that is not the peer's, done for its second one.
    const bad = await cli(['assoc', String(row.id), '--set-primary', '10.99.99.99', '--control', s.control]);
    expect(bad).toMatchObject({ code: 1, out: '' });
    expect(bad.err).toMatch(/^hasctp assoc: setPrimary 10\.99\.99\.99: no-such-address\n$/);
    expect(await cliJson(['assoc', String(row.id), '--set-primary', `${s.net}.3`, '--json', '--control', s.control])).toEqual({ ok: true, id: row.id, primary: `${s.net}.3` });
    expect((await cliJson<AssocRow[]>(['assocs', '--json', '--control', s.control]))[0]!.primary).toBe(`${s.net}.3`);
    await echoes(a, 8, 1);

    // Bad requests: one line, non-zero exit, the server keeps serving.
    expect(await cli(['assoc', '999', '--control', s.control])).toMatchObject({ code: 1, err: 'hasctp assoc: no association 999\n' });
    expect((await cli(['assoc', 'x1', '--control', s.control])).code).toBe(2);
    expect(await cli(['assocs', '--control', join(dir, 'nothing.sock')])).toMatchObject({ code: 1, err: expect.stringMatching(/^hasctp assocs: cannot reach the control socket .*nothing\.sock \(ENOENT\).*\n$/) });
    expect(await controlRequest(s.control, { cmd: 'set-primary', id: row.id, address: 'not-an-ip' })).toEqual({ ok: false, error: '"address" must be an IP address' });
    expect(await controlRequest(s.control, { cmd: 'assoc', id: -1 })).toMatchObject({ ok: false, error: expect.stringMatching(/"id"/) });
    expect(await controlRequest(s.control, { cmd: 'reboot' })).toMatchObject({ ok: false, error: expect.stringMatching(/^unknown command "reboot" \(abort, assoc, assocs, info, metrics, set-primary\)$/) });

    // ABORT: the peer learns at once; the association is gone; the server lives on.
    let down = '';
    a.on('down', (r: string) => (down = r));
    expect((await cli(['assoc', String(row.id), '--abort', '--control', s.control])).out).toBe(`association ${row.id} aborted\n`);
    await until('the peer to see the ABORT', () => down === 'peer-abort');
    expect(await cliJson(['assocs', '--json', '--control', s.control])).toEqual([]);
    const m = parsePrometheus(await (await fetch(s.metricsUrl)).text());
    expect(sample(m, 'hasctp_aborted_total')).toBe(1);
    expect(sample(m, 'hasctp_delivered_messages_total')).toBe(38);
    expect(sample(m, 'hasctp_in_chunks_total', { kind: 'ordered' })! - sample(m, 'hasctp_duplicate_chunks_total')!).toBe(38);
    expect(s.server.proc.exitCode).toBeNull();
    // pino lines about the association carry its id and the peer's address.
    const lines = s.server.err().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'association down', assocId: row.id, peer: `${s.net}.2`, reason: 'local-abort' }));
  }, 60_000);

  it('SIGHUP reloads the log level from the file (a bad file is reported, nothing changes); SIGTERM shuts associations down gracefully', async () => {
    const s = await startServer('life');
    const a = await peer(s);
    await echoes(a, 5, 1);
    writeFileSync(s.config, JSON.stringify({ sctp: { addresses: [`${s.net}.1`], port: 2905, transport: 'udp', udpPort: s.udpPort }, logLevel: 'debug' }));
    s.server.proc.kill('SIGHUP');
    await s.server.waitFor(/"logLevel":"debug".*"msg":"configuration reloaded"/);
    writeFileSync(s.config, JSON.stringify({ sctp: { addresses: [`${s.net}.1`], port: 2905 }, logLevel: 'loud' }));
    s.server.proc.kill('SIGHUP');
    await s.server.waitFor(/logLevel: must be one of .*trace.*"msg":"configuration not reloaded"/);
    expect(await controlRequest(s.control, { cmd: 'info' })).toMatchObject({ ok: true, info: { kind: 'server', associations: 1 } });

    let down = '';
    let shutdown = false;
    a.on('down', (r: string) => (down = r));
    a.on('shutdown', () => (shutdown = true));
    const closed = new Promise<void>((r) => a.once('close', () => r()));
    s.server.proc.kill('SIGTERM');
    await closed;
    // The peer got SHUTDOWN (RFC 9260 §9.2), not ABORT.
    expect(shutdown).toBe(true);
    expect(down).toBe('');
    expect(await s.server.exit()).toBe(0);
    expect(s.server.out()).toMatch(/association \d+ closed: 5 messages/);
  }, 60_000);
});

describe('bad configuration', () => {
  it.each([
    ['{"sctp":{"addresses":["127.0.0.1"],"port":70000}}', /^hasctp: .*bad\.json: sctp\.port: must be an integer in 1\.\.65535\n$/],
    ['{"sctp":{"addresses":["nope"],"port":5}}', /^hasctp: .*bad\.json: sctp\.addresses\[0\]: "nope" is not an IP address\n$/],
    ['{"sctp":{"addresses":["127.0.0.1"],"port":5},"colour":1}', /^hasctp: .*bad\.json: colour: unknown key \(expected one of sctp, app, control, metrics, logLevel, pcap, protocol\)\n$/],
    ['{"sctp":{"addresses":["127.0.0.1"],"port":5},"metrics":"localhost"}', /^hasctp: .*bad\.json: metrics: "localhost" is not ADDRESS:PORT\n$/],
    ['{"sctp":{"addresses":["127.0.0.1"],"port":5},"app":"mirror"}', /^hasctp: .*bad\.json: app: must be one of "echo", "discard"\n$/],
    ['{"sctp":{"addresses":["127.0.0.1"],"port":5},"protocol":{"rtoMin":-1}}', /^hasctp: .*bad\.json: protocol: .*rtoMin.*\n$/],
    ['{"sctp":', /^hasctp: .*bad\.json: not valid JSON \(.*\)\n$/],
  ])('%s', async (text, err) => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, text);
    const r = await cli(['server', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(err);
    expect(r.err.split('\n')).toHaveLength(2);
  });

  it('a missing file, a missing --listen and a bad --metrics are one line each', async () => {
    expect(await cli(['server', '--config', join(dir, 'absent.json')])).toMatchObject({ code: 2, err: expect.stringMatching(/^hasctp: .*absent\.json: cannot read \(ENOENT\)\n$/) });
    expect(await cli(['server'])).toMatchObject({ code: 2, err: expect.stringMatching(/^hasctp: required option '--listen .*' not specified \(or give --config FILE\)\n$/) });
    expect(await cli(['server', '--listen', '127.0.0.1:5', '--metrics', 'x'])).toMatchObject({ code: 2, err: 'hasctp: --metrics: "x" is not ADDRESS:PORT\n' });
  });

  it('flags override the file', async () => {
    const { resolveServerOptions } = await import('../../src/cli/ops-config.js');
    const { buildProgram } = await import('../../src/cli/main.js');
    const file = join(dir, 'ovr.json');
    writeFileSync(file, JSON.stringify({ sctp: { addresses: ['127.0.0.1'], port: 5000, transport: 'udp', udpPort: 9000 }, app: 'discard', logLevel: 'warn', control: '/x.sock', metrics: '127.0.0.1:9100' }));
    let resolved: unknown;
    const program = buildProgram();
    const server = program.commands.find((c) => c.name() === 'server')!;
    server.action((opts: Parameters<typeof resolveServerOptions>[0], cmd: Parameters<typeof resolveServerOptions>[1]) => void (resolved = resolveServerOptions(opts, cmd)));
    await program.parseAsync(['server', '--config', file, '--mode', 'echo', '--udp-encap', '9001', '--metrics', '127.0.0.1:9200'], { from: 'user' });
    expect(resolved).toMatchObject({ addresses: ['127.0.0.1'], port: 5000, udpEncap: true, udpPort: 9001, mode: 'echo', logLevel: 'warn', control: '/x.sock', metrics: { host: '127.0.0.1', port: 9200 } });
    await program.parseAsync(['server', '--config', file, '--log-level', 'error', '--no-control'], { from: 'user' });
    expect(resolved).toMatchObject({ mode: 'discard', logLevel: 'error', control: false, udpPort: 9000, metrics: { port: 9100 } });
  });
});
