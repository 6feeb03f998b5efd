// Same-process echo over RFC 6951 UDP encapsulation on loopback. Both sockets
// share one event loop, so the kernel drops datagrams when a receive buffer
// overflows; a TSN lost below a full receive buffer left the sender with a
// sliver of peer window (a_rwnd < one chunk) and, before the fix in
// src/core/association/transmit.ts, no zero window probe ever went: the echo
// stopped for good (7000 × 100 B at 3411 echoes).
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type Association, type Server } from '../../src/api/index.js';

let server: Server | undefined;
let client: Association | undefined;

afterEach(async () => {
  await client?.abort();
  await server?.close(0);
  client = undefined;
  server = undefined;
});

async function echo(count: number, size: number, port: number): Promise<number> {
  server = await createServer({ localAddresses: ['127.0.0.1'], port, udpPort: 0 });
  server.on('association', (a: Association) => a.on('message', (m: { data: Buffer; stream: number }) => a.send(m.data, { stream: m.stream })));
  const c = await connect({ localAddresses: ['127.0.0.1'], port, udpPort: 0, remoteAddresses: ['127.0.0.1'], remoteUdpPort: server.address().udpPort! });
  client = c;
  const payload = new Uint8Array(size).fill(7);
  let sent = 0;
  let got = 0;
  let bytes = 0;
  await new Promise<void>((resolve) => {
    c.on('message', (m: { data: Buffer }) => {
      got++;
      bytes += m.data.length;
      if (got === count) resolve();
    });
    const go = (): void => {
      while (sent < count) {
        sent++;
        if (!c.send(payload)) {
          c.once('drain', go);
          return;
        }
      }
    };
    go();
  });
  return bytes;
}

describe('same-process echo over UDP encapsulation (loopback)', () => {
  it('7000 × 100 B all come back', async () => {
    expect(await echo(7000, 100, 5101)).toBe(700_000);
  }, 30_000);

  it('2000 × 1000 B all come back', async () => {
    expect(await echo(2000, 1000, 5102)).toBe(2_000_000);
  }, 30_000);
});
