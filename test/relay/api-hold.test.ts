// The public API of acknowledge after forward: Message.token, release(),
// sendAcked(), over UDP encapsulation on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, SctpError, type Association, type Message } from '../../src/api/index.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

async function pair(port: number, serverOptions: Record<string, unknown>): Promise<{ client: Association; server: Association }> {
  const s = await createServer({ localAddresses: ['127.0.0.1'], port, udpPort: 0, hbInterval: 3_600_000, ...serverOptions });
  cleanup.push(() => s.close(0));
  const accepted = new Promise<Association>((r) => s.once('association', r));
  const client = await connect({ localAddresses: ['127.0.0.1'], remoteAddresses: ['127.0.0.1'], port, udpPort: 0, remoteUdpPort: s.address().udpPort!, notifyAcked: true, hbInterval: 3_600_000 });
  cleanup.push(() => client.abort());
  return { client, server: await accepted };
}

describe('acknowledge after forward in the API', () => {
  it('sendAcked resolves only once the receiving application released the message', async () => {
    const { client, server } = await pair(5311, { holdAcks: true });
    const received: Message[] = [];
    server.on('message', (m: Message) => received.push(m));
    let acked = false;
    const p = client.sendAcked('hold me').then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 600));
    expect(received).toHaveLength(1);
    expect(typeof received[0]!.token).toBe('number');
    // Delivered, but not acknowledged: well past the 200 ms delayed SACK.
    expect(acked).toBe(false);
    expect(server.release(received[0]!.token!)).toBe(true);
    expect(server.release(received[0]!.token!)).toBe(false);
    await p;
    expect(acked).toBe(true);
  });

  it('without holdAcks (control) messages carry no token and sendAcked resolves on its own', async () => {
    const { client, server } = await pair(5312, {});
    const received: Message[] = [];
    server.on('message', (m: Message) => received.push(m));
    await client.sendAcked('plain');
    expect(received[0]!.token).toBeUndefined();
  });

  it('sendAcked without notifyAcked is refused; a message failing at close rejects', async () => {
    const s = await createServer({ localAddresses: ['127.0.0.1'], port: 5313, udpPort: 0, holdAcks: true, hbInterval: 3_600_000 });
    cleanup.push(() => s.close(0));
    const plain = await connect({ localAddresses: ['127.0.0.1'], remoteAddresses: ['127.0.0.1'], port: 5313, udpPort: 0, remoteUdpPort: s.address().udpPort!, hbInterval: 3_600_000 });
    cleanup.push(() => plain.abort());
    expect(() => plain.sendAcked('x')).toThrow(SctpError);
    const { client } = await pair(5314, { holdAcks: true });
    const p = client.sendAcked('never released');
    await new Promise((r) => setTimeout(r, 100));
    await client.abort();
    await expect(p).rejects.toThrow(/association-closed/);
  });
});
