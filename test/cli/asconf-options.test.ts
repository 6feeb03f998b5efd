// `hasctp client` / `hasctp server` --add-address, --set-peer-primary,
// --remove-address (RFC 5061) and --rate: one-line errors (exit 2) for bad
// values, and an in-process run over UDP encapsulation on loopback.
import { createSocket } from 'node:dgram';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { serverCommand } from '../../src/cli/server.js';
import { clientCommand, type ClientSummary } from '../../src/cli/client.js';
import { cli } from '../helpers/cli.js';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let t = '';
  stream.on('data', (d: Buffer) => (t += d.toString()));
  return { stream, text: () => t };
}

async function freeUdpPort(address: string): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  const p = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

describe('ADD-IP options of hasctp client and server', () => {
  for (const [args, message] of [
    [['client', '--connect', '127.0.0.1:5000', '--add-address', '10.0.0.300@1'], /not an IP address: "10\.0\.0\.300"/],
    [['client', '--connect', '127.0.0.1:5000', '--set-peer-primary', '10.0.0.1@soon'], /not a time in seconds after establishment: "soon"/],
    [['client', '--connect', '127.0.0.1:5000', '--remove-address', '10.0.0.1'], /expected ADDR@SECONDS, got "10\.0\.0\.1"/],
    [['client', '--connect', '127.0.0.1:5000', '--rate', '0'], /--rate must be an integer from 1/],
    [['server', '--listen', '127.0.0.1:5000', '--add-address', '0.0.0.0@1'], /not an IP address/],
    [['server', '--listen', '127.0.0.1:5000', '--remove-address', '[::1@1'], /not an IP address/],
  ] as const) {
    it(`${args.slice(3).join(' ')}: one line, exit 2`, async () => {
      const r = await cli([...args]);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(message);
    });
  }

  it('a client adds an address, makes it the server\'s primary, drops its first one; the server adds its own and reports each change', async () => {
    const ac = new AbortController();
    const sout = sink();
    const serr = sink();
    const udpPort = await freeUdpPort('127.0.0.1');
    const done = serverCommand({
      localAddresses: ['127.0.0.1'],
      port: 5021,
      udpEncap: true,
      udpPort,
      mode: 'echo',
      out: sout.stream,
      err: serr.stream,
      signal: ac.signal,
      logger: pino({ level: 'silent' }),
      addressChanges: [{ kind: 'add', address: '127.0.0.6', at: 0.2 }],
    });
    for (let i = 0; i < 200 && !sout.text().includes('listening'); i++) await new Promise((r) => setTimeout(r, 10));
    const out = sink();
    const err = sink();
    const code = await clientCommand({
      remoteAddresses: ['127.0.0.1'],
      port: 5021,
      localAddresses: ['127.0.0.4'],
      udpEncap: true,
      udpPort: 0,
      remoteUdpPort: udpPort,
      count: Infinity,
      duration: 1.5,
      rate: 200,
      size: 64,
      verify: true,
      json: true,
      timeout: 10_000,
      logger: pino({ level: 'silent' }),
      out: out.stream,
      err: err.stream,
      addressChanges: [
        { kind: 'add', address: '127.0.0.5', at: 0.3 },
        { kind: 'set-peer-primary', address: '127.0.0.5', at: 0.6 },
        { kind: 'remove', address: '127.0.0.4', at: 0.9 },
      ],
    });
    const summary = JSON.parse(out.text()) as ClientSummary;
    expect(code, out.text() + err.text()).toBe(0);
    expect(summary.verify).toEqual({ lost: 0, duplicated: 0, reordered: 0, corrupted: 0 });
    expect(summary.sent.messages).toBeGreaterThan(200);
    expect(summary.sent.messages).toBeLessThan(400); // --rate 200 for 1.5 s
    expect(summary.asconf!.map((r) => `${r.kind} ${r.address} ${r.result}`)).toEqual(['add 127.0.0.5 success', 'set-peer-primary 127.0.0.5 success', 'remove 127.0.0.4 success']);
    ac.abort();
    expect(await done).toBe(0);
    const lines = sout.text();
    expect(lines).toMatch(/association \d+ asconf add 127\.0\.0\.6 success \(at 0\.\d{3} s, answered 0\.\d{3} s\)/);
    expect(lines).toMatch(/association \d+ peer 127\.0\.0\.5 SCTP_ADDR_ADDED/);
    expect(lines).toMatch(/association \d+ peer 127\.0\.0\.5 SCTP_ADDR_MADE_PRIM/);
    expect(lines).toMatch(/association \d+ peer 127\.0\.0\.4 SCTP_ADDR_REMOVED/);
  }, 20_000);
});
