// The API over RFC 6951 UDP encapsulation on loopback (no root): a client's
// last packet (its ABORT) leaves before the client releases its socket, so the
// server side ends at once instead of by its own timers; and a multihomed
// peer's second address is reached on the encapsulation port its packets came
// from, not the well-known 9899.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type Association, type Server } from '../../src/index.js';

const SERVER = '127.0.0.2';
const CLIENT = '127.0.0.1';

function until<T>(what: string, ms: number, fn: (done: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    fn((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

describe('closing from the client over UDP encapsulation', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await server?.close(200);
    server = undefined;
  });

  async function pair(port: number): Promise<{ client: Association; serverSide: Association }> {
    server = await createServer({ localAddresses: [SERVER], port, transport: 'udp', udpPort: 0 });
    const udpPort = server.address().udpPort!;
    const serverSide = until<Association>('server association', 5000, (done) => server!.once('association', done));
    const client = await connect({ remoteAddresses: [SERVER], port, localAddresses: [CLIENT], transport: 'udp', udpPort: 0, remoteUdpPort: udpPort, timeout: 5000 });
    return { client, serverSide: await serverSide };
  }

  it('abort(): the server sees the peer abort within a second', async () => {
    const { client, serverSide } = await pair(5021);
    const down = until<string>('server down', 1000, (done) => serverSide.once('down', (reason: string) => done(reason)));
    await client.abort('bye');
    expect(await down).toMatch(/abort/);
  });

  it('shutdown(): the server side closes within a second', async () => {
    const { client, serverSide } = await pair(5022);
    const closed = until<void>('server close', 1000, (done) => serverSide.once('close', () => done()));
    await client.shutdown();
    await closed;
    expect(serverSide.closed).toBe(true);
  });
});

describe('RFC 6951 ports of a multihomed peer over UDP encapsulation', () => {
  it("the server reaches the client's second address on the port the client's packets came from, not 9899", async () => {
    const server = await createServer({ localAddresses: [SERVER], port: 5023, transport: 'udp', udpPort: 0, config: { hbInterval: 100 } });
    try {
      const udpPort = server.address().udpPort!;
      const serverSide = until<Association>('server association', 5000, (done) => server.once('association', done));
      // One encapsulation port on both client addresses, not 9899.
      const clientUdpPort = 20000 + Math.floor(Math.random() * 20000);
      const client = await connect({ remoteAddresses: [SERVER], port: 5023, localAddresses: [CLIENT, '127.0.0.3'], transport: 'udp', udpPort: clientUdpPort, remoteUdpPort: udpPort, timeout: 5000 });
      const sa = await serverSide;
      // The address the handshake did not come from starts UNCONFIRMED; the
      // server's HEARTBEAT must reach it there.
      const second = sa.summary()!.paths.find((p) => p.state === 'unconfirmed')?.address;
      expect(second).toBeDefined();
      const confirmed = until<string>('second client address confirmed', 4000, (done) =>
        sa.on('path', (address: string, state: string) => {
          if (address === second && state === 'SCTP_ADDR_CONFIRMED') done(address);
        }),
      );
      expect(await confirmed).toBe(second);
      await client.abort();
    } finally {
      await server.close(200);
    }
  });
});
