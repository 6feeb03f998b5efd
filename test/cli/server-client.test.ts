// `hasctp server` and `hasctp client` over UDP encapsulation on loopback, in process.
import { createSocket } from 'node:dgram';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseEndpoint } from '../../src/cli/main.js';
import { serverCommand } from '../../src/cli/server.js';
import { checkMessage, clientCommand, makeMessage, type ClientSummary } from '../../src/cli/client.js';
import { humanLine } from '../../src/cli/log.js';
import { cli } from '../helpers/cli.js';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let t = '';
  stream.on('data', (d: Buffer) => (t += d.toString()));
  return { stream, text: () => t };
}

/** A UDP port free on 127.0.0.1 right now. */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const p = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

async function startServer(mode: 'echo' | 'discard', port: number): Promise<{ udpPort: number; stop: () => Promise<number>; out: () => string }> {
  const ac = new AbortController();
  const out = sink();
  const err = sink();
  const udpPort = await freeUdpPort();
  const done = serverCommand({ localAddresses: ['127.0.0.1'], port, udpEncap: true, udpPort, mode, out: out.stream, err: err.stream, signal: ac.signal, logger: pino({ level: process.env['HASCTP_TEST_LOG'] ?? 'silent' }) });
  for (let i = 0; i < 200 && !out.text().includes('listening') && err.text() === ''; i++) await new Promise((r) => setTimeout(r, 10));
  expect(out.text(), err.text()).toContain('listening on 127.0.0.1 port');
  return {
    udpPort,
    stop: async () => {
      ac.abort();
      return done;
    },
    out: out.text,
  };
}

describe('argument parsing', () => {
  it('ADDR[,ADDR...]:PORT with bracketed IPv6', () => {
    expect(parseEndpoint('127.0.0.1:5000')).toEqual({ addresses: ['127.0.0.1'], port: 5000 });
    expect(parseEndpoint('10.0.0.1,10.0.0.2:7')).toEqual({ addresses: ['10.0.0.1', '10.0.0.2'], port: 7 });
    expect(parseEndpoint('[fd00::1]:5000')).toEqual({ addresses: ['fd00::1'], port: 5000 });
    expect(parseEndpoint('[fd00::1],[fd00::2]:5000')).toEqual({ addresses: ['fd00::1', 'fd00::2'], port: 5000 });
    expect(parseEndpoint('[FD00:0::1],10.1.1.1:65535')).toEqual({ addresses: ['fd00::1', '10.1.1.1'], port: 65535 });
    for (const bad of ['127.0.0.1', '[fd00::1]', 'fd00::1:5000', ':5000', '127.0.0.1:', '127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:x', '[fd00::1:5000', '[127.0.0.1]:5', '1.2.3.4,,1.2.3.5:5', 'host:5']) {
      expect(() => parseEndpoint(bad), bad).toThrow();
    }
  });

  it('messages carry a sequence number and a CRC32c', () => {
    const m = makeMessage(12345, 100);
    expect(checkMessage(m)).toBe(12345);
    m[50]! ^= 1;
    expect(checkMessage(m)).toBeUndefined();
    expect(checkMessage(makeMessage(7, 8))).toBe(7);
  });

  it('a compact human line for terminals', () => {
    const line = humanLine(JSON.stringify({ level: 30, time: Date.UTC(2024, 0, 1, 12, 0, 0, 5), msg: 'association up', assocId: 3 }));
    expect(line).toBe('12:00:00.005 INFO  association up assocId=3\n');
  });
});

describe('hasctp server / client', () => {
  afterEach(() => vi.restoreAllMocks());

  it('--verify against an echo server: every message back intact, exit 0 with a one-line summary', async () => {
    const srv = await startServer('echo', 6001);
    const r = await cli(['client', '--connect', '127.0.0.1:6001', '--bind', '127.0.0.1', '--udp-encap', `0:${srv.udpPort}`, '--count', '200', '--size', '300', '--verify', '--log-level', 'warn']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(r.out).toMatch(/^hasctp client: ok: sent 200 msgs 60000 bytes, received 200 msgs 60000 bytes in [\d.]+ s, \d+ msgs\/s, [\d.]+ Mbit\/s; lost 0, duplicated 0, reordered 0, corrupted 0\n$/);
    expect(await srv.stop()).toBe(0);
    expect(srv.out()).toMatch(/200 messages, 60000 bytes received/);
  }, 20_000);

  it('--json prints one JSON object', async () => {
    const srv = await startServer('echo', 6002);
    const r = await cli(['client', '--connect', '127.0.0.1:6002', '--udp-encap', `0:${srv.udpPort}`, '--count', '50', '--size', '1000', '--verify', '--json', '--log-level', 'silent']);
    expect(r.code, r.out + r.err).toBe(0);
    const s = JSON.parse(r.out) as ClientSummary;
    expect(s).toMatchObject({ ok: true, sent: { messages: 50, bytes: 50_000 }, received: { messages: 50, bytes: 50_000 }, verify: { lost: 0, duplicated: 0, reordered: 0, corrupted: 0 } });
    expect(s.msgsPerSec).toBeGreaterThan(0);
    expect(s.mbitPerSec).toBeGreaterThan(0);
    expect(await srv.stop()).toBe(0);
  }, 20_000);

  it('multi-stream and unordered with --verify', async () => {
    const srv = await startServer('echo', 6003);
    for (const extra of [[], ['--unordered']]) {
      const r = await cli(['client', '--connect', '127.0.0.1:6003', '--udp-encap', `0:${srv.udpPort}`, '--count', '300', '--size', '200', '--streams', '7', '--verify', '--json', '--log-level', 'silent', ...extra]);
      expect(r.code, r.out + r.err).toBe(0);
      const s = JSON.parse(r.out) as ClientSummary;
      expect(s).toMatchObject({ ok: true, streams: 7, unordered: extra.length > 0, received: { messages: 300 }, verify: { lost: 0, duplicated: 0, reordered: 0, corrupted: 0 } });
    }
    expect(await srv.stop()).toBe(0);
    expect(srv.out()).toMatch(/600 messages, 120000 bytes received/);
  }, 30_000);

  it('--duration stops sending', async () => {
    const srv = await startServer('echo', 6004);
    const t0 = Date.now();
    const r = await cli(['client', '--connect', '127.0.0.1:6004', '--udp-encap', `0:${srv.udpPort}`, '--duration', '0.5', '--size', '20', '--verify', '--json', '--timeout', '5000', '--log-level', 'silent']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8000);
    const s = JSON.parse(r.out) as ClientSummary;
    expect(s.sent.messages).toBeGreaterThan(0);
    expect(s.received.messages).toBe(s.sent.messages);
    expect(s.seconds).toBeGreaterThanOrEqual(0.45);
    expect(await srv.stop()).toBe(0);
  }, 20_000);

  it('client to a discard server succeeds without echoes', async () => {
    const srv = await startServer('discard', 6005);
    const out = sink();
    const code = await clientCommand({
      remoteAddresses: ['127.0.0.1'], port: 6005, udpEncap: true, remoteUdpPort: srv.udpPort,
      count: 50, size: 1000, verify: false, timeout: 10_000, out: out.stream, err: out.stream,
    });
    expect(code, out.text()).toBe(0);
    expect(out.text()).toMatch(/ok: sent 50 msgs 50000 bytes, received 0 msgs 0 bytes/);
    expect(await srv.stop()).toBe(0);
    expect(srv.out()).toMatch(/50 messages, 50000 bytes received/);
  }, 20_000);

  it('the server ends the association gracefully mid-run: the client stops at once and says so (exit 1)', async () => {
    const srv = await startServer('echo', 6006);
    const out = sink();
    const t0 = Date.now();
    const running = clientCommand({
      remoteAddresses: ['127.0.0.1'], port: 6006, udpEncap: true, remoteUdpPort: srv.udpPort,
      count: 1_000_000, size: 100, rate: 200, verify: true, timeout: 20_000, out: out.stream, err: out.stream,
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await srv.stop()).toBe(0); // SHUTDOWN to every association, no ABORT
    const code = await running;
    expect(code, out.text()).toBe(1);
    expect(out.text()).toMatch(/FAILED: the peer closed the association/);
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 20_000);

  it('client exits 1 with one line when nobody answers', async () => {
    const r = await cli(['client', '--connect', '127.0.0.1:6006', '--udp-encap', `0:${await freeUdpPort()}`, '--count', '1', '--timeout', '500', '--log-level', 'silent']);
    expect(r.code).toBe(1);
    expect((r.out + r.err).trim().split('\n')).toHaveLength(1);
  }, 20_000);

  it('bad arguments: one line on stderr, exit 2', async () => {
    const C = ['client', '--connect', '127.0.0.1:5000'];
    const S = ['server', '--listen', '127.0.0.1:5000'];
    for (const args of [
      ['server'],
      [...S, '--bogus'],
      ['server', '--listen', '127.0.0.1:x'],
      ['server', '--listen', '127.0.0.1:0'],
      ['server', '--listen', '127.0.0.1:70000'],
      ['server', '--listen', '127.0.0.1'],
      ['server', '--listen', 'nope:5'],
      ['server', '--listen', 'fd00::1:5'],
      ['server', '--listen', '[fd00::1:5'],
      [...S, '--mode', 'mirror'],
      [...S, '--udp-encap', 'x'],
      [...S, '--udp-encap', '0'],
      [...S, '--udp-encap', '1:2'],
      [...S, '--log-level', 'loud'],
      [...S, 'extra'],
      ['client'],
      ['client', '--bogus'],
      ['client', '--connect', '127.0.0.1:99999'],
      ['client', '--connect', '300.0.0.1:5'],
      [...C, '--bind', 'nope'],
      [...C, '--bind', '127.0.0.1:5'],
      [...C, '--size', '0'],
      [...C, '--size', 'x'],
      [...C, '--streams', '0'],
      [...C, '--streams', '65536'],
      [...C, '--count', '-1'],
      [...C, '--count', '0'],
      [...C, '--duration', '0'],
      [...C, '--duration', 'soon'],
      [...C, '--verify', '--size', '7'],
      [...C, '--udp-encap', '9899'],
      [...C, '--udp-encap', '1:2:3'],
      [...C, '--udp-encap', 'a:2'],
      [...C, '--udp-encap', '1:0'],
      [...C, '--udp-encap', '70000:1'],
      [...C, '--log-level', 'loud'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ') + r.err).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ') + r.err).toHaveLength(1);
      expect(r.out, args.join(' ')).toBe('');
    }
  });
});
