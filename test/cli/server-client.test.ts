// `hasctp server` and `hasctp client` over UDP encapsulation on loopback, in process.
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/main.js';
import { serverCommand } from '../../src/cli/server.js';
import { clientCommand } from '../../src/cli/client.js';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let t = '';
  stream.on('data', (d: Buffer) => (t += d.toString()));
  return { stream, text: () => t };
}

/** Runs the CLI in process, capturing stdout and stderr; restores process.exitCode. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const saved = process.exitCode;
  try {
    const code = await run(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = saved;
  }
}

async function startServer(mode: 'echo' | 'discard', port: number, udpPort: number): Promise<{ stop: () => Promise<number>; out: () => string }> {
  const ac = new AbortController();
  const out = sink();
  const err = sink();
  const done = serverCommand({ localAddresses: ['127.0.0.2'], port, udpEncap: true, udpPort, mode, out: out.stream, err: err.stream, signal: ac.signal, logger: pino({ level: 'silent' }) });
  for (let i = 0; i < 200 && !out.text().includes('listening'); i++) await new Promise((r) => setTimeout(r, 10));
  expect(out.text(), err.text()).toContain('listening on 127.0.0.2 port');
  return {
    stop: async () => {
      ac.abort();
      return done;
    },
    out: out.text,
  };
}

describe('hasctp server / client', () => {
  const BASE = 40_000 + Math.floor(Math.random() * 10_000);
  afterEach(() => vi.restoreAllMocks());

  it('client sends N messages to an echo server, checks the echoes, exits 0 with a one-line summary', async () => {
    const srv = await startServer('echo', 6001, BASE);
    const r = await cli(['client', '--remote', '127.0.0.2', '--port', '6001', '--local', '127.0.0.1', '--udp-encap', '--remote-udp-port', String(BASE), '--count', '200', '--size', '300', '--echo', '--timeout', '10000']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(r.out).toMatch(/ok: 200 messages of 300 bytes sent, 200 echoes received in order/);
    expect(await srv.stop()).toBe(0);
    expect(srv.out()).toMatch(/200 messages, 60000 bytes received/);
  }, 20_000);

  it('client to a discard server succeeds without echoes', async () => {
    const srv = await startServer('discard', 6002, BASE + 1);
    const out = sink();
    const code = await clientCommand({
      remoteAddresses: ['127.0.0.2'], port: 6002, localAddresses: ['127.0.0.1'], udpEncap: true, remoteUdpPort: BASE + 1,
      count: 50, size: 1000, echo: false, timeout: 10_000, out: out.stream, err: out.stream,
    });
    expect(code, out.text()).toBe(0);
    expect(await srv.stop()).toBe(0);
    expect(srv.out()).toMatch(/50 messages, 50000 bytes received/);
  }, 20_000);

  it('client exits 1 with one line when nobody answers', async () => {
    const r = await cli(['client', '--remote', '127.0.0.2', '--port', '6003', '--local', '127.0.0.1', '--udp-encap', '--remote-udp-port', String(BASE + 2), '--count', '1', '--timeout', '500']);
    expect(r.code).toBe(1);
    expect((r.out + r.err).trim().split('\n')).toHaveLength(1);
  }, 20_000);

  it('bad arguments: one line on stderr, exit 2', async () => {
    for (const args of [
      ['server'],
      ['server', '--local', '127.0.0.1', '--port', 'x'],
      ['server', '--local', 'nope', '--port', '5'],
      ['server', '--local', '127.0.0.1', '--port', '5', '--udp-port', '9'],
      ['server', '--local', '127.0.0.1', '--port', '5', '--echo', '--discard'],
      ['client', '--remote', '127.0.0.1', '--port', '5'],
      ['client', '--remote', '127.0.0.1', '--port', '5', '--local', '127.0.0.1', '--count', '-1'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ') + r.err).toHaveLength(1);
    }
  });
});
