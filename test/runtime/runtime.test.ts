// Two runtimes over RFC 6951 UDP encapsulation on loopback (127.0.0.1 and
// 127.0.0.2, no root): the public API end to end, with real sockets and timers.
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type Association, type Message, type Server } from '../../src/index.js';

const SERVER = '127.0.0.2';
const CLIENT = '127.0.0.1';

function resources(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

function seq(i: number, size = 16): Uint8Array {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, i);
  for (let k = 4; k < size; k++) b[k] = (i + k) & 0xff;
  return b;
}

function seqOf(m: Message): number {
  return m.data.readUInt32BE(0);
}

function until<T>(what: string, ms: number, fn: (done: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    fn((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

describe('runtime over UDP encapsulation on loopback', () => {
  let server: Server | undefined;
  let client: Association | undefined;

  afterEach(async () => {
    await client?.abort();
    await server?.close(500);
    client = undefined;
    server = undefined;
  });

  it('connects, carries 1000 messages each way exactly once and in order, shuts down gracefully', async () => {
    const timersBefore = resources('Timeout');
    const udpBefore = resources('UDPWRAP');
    const N = 1000;
    server = await createServer({ localAddresses: [SERVER], port: 5001, transport: 'udp', udpPort: 0 });
    const udpPort = server.address().udpPort!;
    expect(udpPort).toBeGreaterThan(0);

    const serverGot: number[] = [];
    const serverSide = until<Association>('server association', 5000, (done) => server!.once('association', done));
    client = await connect({ remoteAddresses: [SERVER], port: 5001, localAddresses: [CLIENT], transport: 'udp', udpPort: 0, remoteUdpPort: udpPort, timeout: 5000 });
    expect(client.up).toBe(true);
    expect(client.remoteAddresses).toEqual([SERVER]);
    const sa = await serverSide;
    sa.on('message', (m: Message) => serverGot.push(seqOf(m)));

    const clientGot: number[] = [];
    client.on('message', (m: Message) => clientGot.push(seqOf(m)));
    const bothDone = until<void>('1000 messages each way', 20_000, (done) => {
      const check = (): void => {
        if (serverGot.length >= N && clientGot.length >= N) done();
      };
      sa.on('message', check);
      client!.on('message', check);
    });
    await sendAll(client, N, 2);
    await sendAll(sa, N, 3);
    await bothDone;
    expect(serverGot).toEqual([...Array(N).keys()]);
    expect(clientGot).toEqual([...Array(N).keys()]);

    const serverClosed = until<void>('server side close', 5000, (done) => sa.once('close', () => done()));
    await client.shutdown();
    await serverClosed;
    expect(client.closed).toBe(true);
    expect(server.associations()).toHaveLength(0);
    client = undefined;

    await server.close();
    server = undefined;
    // The ports are free again, and no timer or socket of ours is left.
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address: SERVER, port: udpPort, exclusive: true }, () => resolve());
    });
    await new Promise<void>((resolve) => s.close(() => resolve()));
    expect(resources('UDPWRAP')).toBe(udpBefore);
    expect(resources('Timeout')).toBeLessThanOrEqual(timersBefore);
  });

  it("applies back-pressure: send() returns false, queues the message, and 'drain' follows", async () => {
    server = await createServer({ localAddresses: [SERVER], port: 5002, udpPort: 0 });
    const got: number[] = [];
    server.on('association', (a: Association) => a.on('message', (m: Message) => got.push(seqOf(m))));
    client = await connect({
      remoteAddresses: [SERVER],
      port: 5002,
      localAddresses: [CLIENT],
      udpPort: 0,
      remoteUdpPort: server.address().udpPort!,
      sendBufferSize: 16_384,
      maxBufferedBytes: 8192,
      timeout: 5000,
    });
    const N = 300;
    let falses = 0;
    let drains = 0;
    client.on('drain', () => drains++);
    for (let i = 0; i < N; i++) {
      if (!client.send(seq(i, 1000), { stream: 1, ppid: 7 })) {
        falses++;
        await until<void>('drain', 10_000, (done) => client!.once('drain', () => done()));
      }
    }
    expect(falses).toBeGreaterThan(0);
    expect(drains).toBe(falses);
    await until<void>('all delivered', 10_000, (done) => {
      const t = setInterval(() => {
        if (got.length >= N) {
          clearInterval(t);
          done();
        }
      }, 5);
    });
    expect(got).toEqual([...Array(N).keys()]);
  });

  it('rejects connect when nobody answers (cannot-start, bounded by timeout)', async () => {
    await expect(
      connect({ remoteAddresses: [SERVER], port: 5003, localAddresses: [CLIENT], udpPort: 0, remoteUdpPort: 9, timeout: 300, rtoInitial: 100, rtoMin: 50 }),
    ).rejects.toThrow(/cannot start/);
  });
});

describe('multihoming over UDP encapsulation', () => {
  it("reports paths, moves the primary with setPrimary, and keeps delivering", async () => {
    const udpPort = 30_000 + Math.floor(Math.random() * 20_000);
    const server = await createServer({ localAddresses: ['127.0.0.2', '127.0.0.3'], port: 5010, udpPort, hbInterval: 50 });
    const got: number[] = [];
    server.on('association', (a: Association) => a.on('message', (m: Message) => got.push(seqOf(m))));
    const paths: string[] = [];
    const client = await connect({ remoteAddresses: ['127.0.0.2'], port: 5010, localAddresses: [CLIENT], udpPort: 0, remoteUdpPort: udpPort, hbInterval: 50, timeout: 5000 });
    try {
      client.on('path', (address: string, state: string) => paths.push(`${address} ${state}`));
      expect([...client.remoteAddresses].sort()).toEqual(['127.0.0.2', '127.0.0.3']);
      await until<void>('127.0.0.3 confirmed', 5000, (done) => {
        const t = setInterval(() => {
          if (paths.some((p) => p.startsWith('127.0.0.3 SCTP_ADDR_CONFIRMED'))) {
            clearInterval(t);
            done();
          }
        }, 5);
      });
      client.setPrimary('127.0.0.3');
      expect(client.summary()?.primary).toBe('127.0.0.3');
      expect(() => client.setPrimary('127.0.0.9')).toThrow(/no-such-address/);
      await sendAll(client, 100, 0);
      await until<void>('100 messages', 5000, (done) => {
        const t = setInterval(() => {
          if (got.length >= 100) {
            clearInterval(t);
            done();
          }
        }, 5);
      });
      expect(got).toEqual([...Array(100).keys()]);
    } finally {
      await client.abort();
      await server.close(200);
    }
  });
});

/** Sends n numbered messages, honouring back-pressure. */
async function sendAll(a: Association, n: number, stream: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (!a.send(seq(i), { stream, ppid: 51 })) await new Promise<void>((resolve) => a.once('drain', () => resolve()));
  }
}
