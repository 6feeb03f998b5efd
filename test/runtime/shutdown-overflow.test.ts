// shutdown() right after send() returned false: the messages waiting in the
// API's overflow queue are queued data too (RFC 9260 §9.2: delivered before
// the SHUTDOWN), not failed; send() after shutdown() throws.
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

describe('shutdown with a full send buffer', () => {
  it('delivers everything send() took, overflow included, then closes', async () => {
    server = await createServer({ localAddresses: ['127.0.0.1'], port: 5111, udpPort: 0 });
    let got = 0;
    server.on('association', (a: Association) => a.on('message', () => got++));
    // A small send buffer, so that the overflow queue is used at once.
    const c = await connect({ localAddresses: ['127.0.0.1'], port: 5111, udpPort: 0, remoteAddresses: ['127.0.0.1'], remoteUdpPort: server.address().udpPort!, sendBufferSize: 4000, maxBufferedBytes: 1 << 20 });
    client = c;
    const failed: unknown[] = [];
    c.on('send-failed', (f) => failed.push(f));
    let sent = 0;
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      if (!c.send(new Uint8Array(1000).fill(i))) refused++;
      sent++;
    }
    expect(refused).toBeGreaterThan(100);
    expect(c.bufferedAmount).toBeGreaterThan(100_000);
    const closed = c.shutdown();
    expect(() => c.send(new Uint8Array(10))).toThrow(/shutting down/);
    await closed;
    expect(failed).toEqual([]);
    for (let i = 0; i < 200 && got < sent; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toBe(sent);
  }, 20_000);
});
