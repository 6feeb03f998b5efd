// `hasctp pcap replay` over UDP encapsulation on loopback: against `hasctp server --mode echo`, against a
// server that drops a stream, and playing the captured server for a live client.
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { serverCommand } from '../../src/cli/server.js';
import { replayCommand, type ReplayReport } from '../../src/cli/pcap-replay.js';
import { connect, createServer } from '../../src/api/index.js';
import type { Association, Message } from '../../src/api/association.js';
import { buildScript } from '../../src/pcap/replay/index.js';
import { capturesDir } from '../helpers/env.js';
import { cli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'hasctp-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let t = '';
  stream.on('data', (d: Buffer) => (t += d.toString()));
  return { stream, text: () => t };
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const p = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

/** `hasctp server --mode echo` in process on 127.0.0.1:port over UDP. */
async function echoServer(port: number): Promise<{ udpPort: number; stop: () => Promise<number> }> {
  const ac = new AbortController();
  const out = sink();
  const err = sink();
  const udpPort = await freeUdpPort();
  const done = serverCommand({ localAddresses: ['127.0.0.1'], port, udpEncap: true, udpPort, mode: 'echo', out: out.stream, err: err.stream, signal: ac.signal, logger: pino({ level: 'silent' }) });
  for (let i = 0; i < 200 && !out.text().includes('listening') && err.text() === ''; i++) await new Promise((r) => setTimeout(r, 10));
  expect(out.text(), err.text()).toContain('listening');
  return { udpPort, stop: () => (ac.abort(), done) };
}

describe('hasctp pcap replay --side client', () => {
  it('sctp-www.cap against an echo server: runs its own handshake, sends the captured requests, reports the missing responses', async () => {
    const srv = await echoServer(6301);
    const r = await cli(['pcap', 'replay', join(capturesDir, 'sctp-www.cap'), '--target', '127.0.0.1:6301', '--bind', '127.0.0.1', '--udp-encap', `0:${srv.udpPort}`, '--asap', '--wait', '300', '--json']);
    expect(await srv.stop()).toBe(0);
    expect(r.code, r.err).toBe(1);
    const rep = JSON.parse(r.out) as ReplayReport;
    expect(rep).toMatchObject({
      ok: false,
      association: 1,
      side: 'client',
      captured: { messagesSent: 2, messagesReceived: 4, end: 'shutdown by us', peerErrors: 0 },
      live: { messagesSent: 2, messagesReceived: 2, notSent: 0, end: 'shutdown by us', errors: [] },
      payloadDifferences: 2,
      divergences: ['missing responses on stream 0 PPID 0: captured 4, received 2'],
    });
    expect(rep.messages).toEqual([
      { direction: 'sent', stream: 0, ppid: 0, captured: 2, live: 2 },
      { direction: 'received', stream: 0, ppid: 0, captured: 4, live: 2 },
    ]);
  }, 30_000);

  const recorded = join(tmp, 'echo-session.pcapng');

  it('a session recorded with --pcap replays against an echo server with no divergence', async () => {
    const srv = await echoServer(6302);
    const rec = await cli(['client', '--connect', '127.0.0.1:6302', '--bind', '127.0.0.1', '--udp-encap', `0:${srv.udpPort}`, '--count', '60', '--size', '500', '--streams', '3', '--verify', '--log-level', 'silent', '--pcap', recorded]);
    expect(rec.code, rec.out + rec.err).toBe(0);
    const r = await cli(['pcap', 'replay', recorded, '--target', '127.0.0.1:6302', '--udp-encap', `0:${srv.udpPort}`, '--speed', '4', '--wait', '500']);
    expect(await srv.stop()).toBe(0);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^hasctp pcap replay: ok: no divergence: .*echo-session\.pcapng association 1, playing the client\n/);
    expect(r.out).toContain('captured: sent 60, received 60 messages; shutdown by us');
    expect(r.out).toMatch(/live: {5}sent 60, received 60 messages; shutdown by us; \d+ out \/ \d+ in streams; [\d.]+ s/);
    expect(r.out).toMatch(/received stream +2 +PPID +0 +captured +20 +live +20\n/);
    expect(r.out).toContain('payloads differing from the captured ones: 0');
    expect(r.out).not.toContain('DIVERGENCE');
  }, 30_000);

  it('against a server that drops one stream, the divergence shows', async () => {
    const udpPort = await freeUdpPort();
    const server = await createServer({ localAddresses: ['127.0.0.1'], port: 6303, transport: 'udp', udpPort, outboundStreams: 100 });
    server.on('association', (a: Association) => a.on('message', (m: Message) => void (m.stream !== 2 && a.send(m.data, { stream: m.stream, ppid: m.ppid }))));
    const r = await cli(['pcap', 'replay', recorded, '--target', '127.0.0.1:6303', '--udp-encap', `0:${udpPort}`, '--asap', '--wait', '300', '--json']);
    await server.close();
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.out) as ReplayReport;
    expect(rep.divergences).toEqual(['missing responses on stream 2 PPID 0: captured 20, received 0']);
    expect(rep.live.messagesReceived).toBe(40);
  }, 30_000);
});

describe('hasctp pcap replay --side server', () => {
  it('plays the captured server of sctp-addip.cap for a live client, answering as its messages arrive', async () => {
    const script = buildScript(new Uint8Array(readFileSync(join(capturesDir, 'sctp-addip.cap'))));
    expect(script.ok).toBe(true);
    if (!script.ok) return;
    const [clientSide, serverSide] = script.value.endpoints;
    const out = sink();
    const err = sink();
    let listening: (port: number) => void = () => undefined;
    const bound = new Promise<number>((r) => (listening = r));
    const done = replayCommand(join(capturesDir, 'sctp-addip.cap'), {
      target: { addresses: ['127.0.0.1'], port: 6304 }, side: 'server', speed: Infinity, udpEncap: { local: 0, remote: 9899 },
      udpPorts: [9899], waitMs: 500, timeoutMs: 20_000, json: true, out: out.stream, err: err.stream, onListening: (a) => listening(a.udpPort!),
    });
    const udpPort = await bound;
    expect(err.text()).toMatch(/^hasctp pcap replay: listening on 127\.0\.0\.1 port 6304 udp-encap udp-port \d+\n$/);
    const a = await connect({ remoteAddresses: ['127.0.0.1'], port: 6304, localAddresses: ['127.0.0.1'], transport: 'udp', udpPort: 0, remoteUdpPort: udpPort });
    const got: Message[] = [];
    a.on('message', (m: Message) => got.push(m));
    const closed = new Promise<void>((r) => a.once('close', r));
    for (const m of clientSide.messages) a.send(m.data, { stream: m.stream, ppid: m.ppid });
    await closed; // the captured server shut the association down: so does the replay
    expect(await done, err.text()).toBe(0);
    expect(got.map((m) => Buffer.from(m.data).equals(Buffer.from(serverSide.messages[got.indexOf(m)]!.data)))).toEqual(Array(7).fill(true));
    const rep = JSON.parse(out.text()) as ReplayReport;
    expect(rep).toMatchObject({ ok: true, side: 'server', captured: { messagesSent: 7, messagesReceived: 8, end: 'shutdown by us' }, live: { messagesSent: 7, messagesReceived: 8, end: 'shutdown by us' }, divergences: [] });
  }, 30_000);
});
