// The public API of RFC 5061 ADD-IP, end to end over RFC 6951 UDP
// encapsulation on loopback (127.0.0.x, no root): addLocalAddress opens a
// socket on the new address, requestPeerPrimary moves the peer, and
// removeLocalAddress closes the old one once the peer acknowledged; the
// peer's application sees 'path' and 'peer-set-primary'.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type Association, type Message, type Server } from '../../src/index.js';
import type { AsconfOutcome } from '../../src/api/index.js';

const SERVER = '127.0.0.2';
const CLIENT = '127.0.0.1';
const CLIENT2 = '127.0.0.3';

function until<T>(what: string, ms: number, fn: (done: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    fn((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

describe('ADD-IP through the API (UDP encapsulation on loopback)', () => {
  let server: Server | undefined;
  let client: Association | undefined;

  afterEach(async () => {
    await client?.abort();
    await server?.close(500);
    client = undefined;
    server = undefined;
  });

  it('add an address, make it the peer\'s primary, delete the old one; messages keep flowing', async () => {
    server = await createServer({ localAddresses: [SERVER], port: 5011, transport: 'udp', udpPort: 0 });
    const udpPort = server.address().udpPort!;
    const serverSide = until<Association>('server association', 5000, (done) => server!.once('association', done));
    client = await connect({ remoteAddresses: [SERVER], port: 5011, localAddresses: [CLIENT], transport: 'udp', udpPort: 0, remoteUdpPort: udpPort, timeout: 5000 });
    const sa = await serverSide;
    const paths: string[] = [];
    sa.on('path', (address: string, state: string) => paths.push(`${address} ${state}`));
    const madePrimary = until<string>('peer-set-primary', 5000, (done) => sa.once('peer-set-primary', done));
    sa.on('message', (m: Message) => sa.send(m.data, { stream: m.stream }));
    const echoes: string[] = [];
    client.on('message', (m: Message) => echoes.push(m.data.toString()));
    const outcomes: AsconfOutcome[] = [];
    client.on('asconf', (o: AsconfOutcome) => outcomes.push(o));

    client.send('before');
    await until('echo before', 5000, (done) => client!.once('message', done));

    const s0 = client.summary()!;
    expect(s0.extensions).toMatchObject({ auth: { hmac: 'hmac-sha256' }, asconf: { pending: undefined } });

    await expect(client.addLocalAddress(CLIENT2)).resolves.toEqual({ request: { kind: 'add-ip-address', address: CLIENT2 }, result: 'success', causes: [] });
    await expect(client.requestPeerPrimary(CLIENT2)).resolves.toMatchObject({ result: 'success' });
    expect(await madePrimary).toBe(CLIENT2);
    expect(sa.summary()!.primary).toBe(CLIENT2);
    await expect(client.removeLocalAddress(CLIENT)).resolves.toMatchObject({ request: { kind: 'delete-ip-address', address: CLIENT }, result: 'success' });
    expect(client.summary()!.localAddresses).toEqual([CLIENT2]);
    expect(sa.remoteAddresses).toEqual([CLIENT2]);
    expect(paths).toEqual([`${CLIENT2} SCTP_ADDR_ADDED`, `${CLIENT2} SCTP_ADDR_CONFIRMED`, `${CLIENT2} SCTP_ADDR_MADE_PRIM`, `${CLIENT} SCTP_ADDR_REMOVED`]);
    expect(outcomes.map((o) => `${o.request.kind} ${o.result}`)).toEqual(['add-ip-address success', 'set-primary-address success', 'delete-ip-address success']);

    for (let i = 0; i < 20; i++) client.send(`after ${i}`);
    await until('20 echoes after', 5000, (done) => {
      const check = (): void => {
        if (echoes.filter((e) => e.startsWith('after')).length === 20) done(undefined);
      };
      client!.on('message', check);
    });
    expect(echoes.filter((e) => e.startsWith('after'))).toEqual(Array.from({ length: 20 }, (_, i) => `after ${i}`));
    await client.shutdown();
  }, 20_000);

  it('refuses what cannot be asked: not an address, the last address, one that is not ours', async () => {
    server = await createServer({ localAddresses: [SERVER], port: 5012, transport: 'udp', udpPort: 0 });
    client = await connect({ remoteAddresses: [SERVER], port: 5012, localAddresses: [CLIENT], transport: 'udp', udpPort: 0, remoteUdpPort: server.address().udpPort!, timeout: 5000 });
    await expect(client.addLocalAddress('not-an-address')).rejects.toMatchObject({ code: 'ERR_SCTP_INVALID_ADDRESS' });
    await expect(client.removeLocalAddress(CLIENT)).rejects.toMatchObject({ code: 'ERR_SCTP_LAST_ADDRESS' });
    await expect(client.requestPeerPrimary(CLIENT2)).rejects.toMatchObject({ code: 'ERR_SCTP_NOT_PRESENT' });
  }, 20_000);

  it('without ADD-IP on the peer the request is refused at once', async () => {
    server = await createServer({ localAddresses: [SERVER], port: 5013, transport: 'udp', udpPort: 0, asconf: false });
    client = await connect({ remoteAddresses: [SERVER], port: 5013, localAddresses: [CLIENT], transport: 'udp', udpPort: 0, remoteUdpPort: server.address().udpPort!, timeout: 5000 });
    await expect(client.addLocalAddress(CLIENT2)).rejects.toMatchObject({ code: 'ERR_SCTP_NOT_NEGOTIATED' });
    expect(client.summary()!.extensions).toMatchObject({ auth: { hmac: 'hmac-sha256' }, asconf: undefined });
  }, 20_000);
});
