// The relay over RFC 6951 UDP encapsulation on loopback (no root): our client
// → relay → our echo server, M3UA ASP management, malformed M3UA.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type Association, type Message, type Server } from '../../src/api/index.js';
import { parseRelayConfig, type RelayConfig } from '../../src/relay/config.js';
import { startRelay, type RelayHandle } from '../../src/relay/relay.js';
import { AspsmType, AsptmType, decodeM3ua, decodeU32, encodeData, encodeM3ua, ErrorCode, findParameter, MessageClass, MgmtType, Tag, u32, type M3uaMessage } from '../../src/relay/m3ua.js';

const CLIENT = '127.0.0.1';
const RELAY = '127.0.0.2';
const SERVER = '127.0.0.3';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

async function echoServer(port: number): Promise<Server> {
  const s = await createServer({ localAddresses: [SERVER], port, udpPort: 0, hbInterval: 3_600_000 });
  s.on('association', (a: Association) => a.on('message', (m: Message) => a.send(m.data, { stream: m.stream, ppid: m.ppid, unordered: m.unordered })));
  cleanup.push(() => s.close(0));
  return s;
}

async function relayTo(server: Server, port: number, extra: Record<string, unknown> = {}): Promise<RelayHandle> {
  const parsed = parseRelayConfig({
    listen: { addresses: [RELAY], port, udpPort: 0 },
    backends: [{ name: 'echo', addresses: [SERVER], port: server.address().port, udpPort: server.address().udpPort }],
    routing: { mode: 'round-robin' },
    protocol: { hbInterval: 3_600_000 },
    ...extra,
  });
  if (!parsed.ok) throw new Error(parsed.error);
  const relay = await startRelay(parsed.config as RelayConfig);
  cleanup.push(() => relay.close(0));
  return relay;
}

async function client(relay: RelayHandle, port: number): Promise<Association> {
  const a = await connect({ localAddresses: [CLIENT], remoteAddresses: [RELAY], port, udpPort: 0, remoteUdpPort: relay.udpPort!, timeout: 5000, hbInterval: 3_600_000, notifyAcked: true });
  cleanup.push(() => a.abort());
  return a;
}

function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`timeout waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

describe('relay over UDP encapsulation', () => {
  it('client → relay → echo server: numbered messages on 4 streams come back exactly once, in order per stream, stream and PPID kept', async () => {
    const server = await echoServer(3101);
    const relay = await relayTo(server, 2911);
    const a = await client(relay, 2911);
    const N = 2000;
    const got = new Map<number, number[]>();
    const ppids = new Set<number>();
    a.on('message', (m: Message) => {
      const list = got.get(m.stream) ?? [];
      list.push(m.data.readUInt32BE(0));
      got.set(m.stream, list);
      ppids.add(m.ppid - m.stream);
    });
    for (let i = 0; i < N; i++) {
      const b = Buffer.alloc(64);
      b.writeUInt32BE(i, 0);
      a.send(b, { stream: i % 4, ppid: 100 + (i % 4) });
    }
    await waitFor(() => [...got.values()].reduce((n, l) => n + l.length, 0) >= N, 20_000, 'echoes');
    await new Promise((r) => setTimeout(r, 200));
    for (let s = 0; s < 4; s++) expect(got.get(s)).toEqual(Array.from({ length: N / 4 }, (_, k) => 4 * k + s));
    expect([...ppids]).toEqual([100]);
    // Every message was released on both sides once the next hop acknowledged its copy.
    await waitFor(() => relay.core.waiting() === 0, 5000, 'relay drained');
    expect(relay.core.counters.forwardedToBack).toBe(N);
    expect(relay.core.counters.forwardedToFront).toBe(N);
    expect(relay.core.counters.released).toBe(2 * N);
    const pairs = relay.core.pairs();
    expect(pairs).toHaveLength(1);
    expect(pairs[0]!.backs.map((b) => b.backend)).toEqual(['echo']);
  });

  for (const hold of [true, false]) {
    it(hold ? 'a message whose server is gone is never acknowledged to the client (acknowledge after forward)' : 'negative control: without the hold the relay acknowledges a message it cannot forward', async () => {
      const server = await echoServer(hold ? 3102 : 3104);
      const relay = await relayTo(server, hold ? 2912 : 2914, { holdLimitMs: 300, ackAfterForward: hold });
      const a = await client(relay, hold ? 2912 : 2914);
      const echoed = new Promise<void>((r) => a.once('message', () => r()));
      await a.sendAcked('first');
      await echoed;
      await server.close(500);
      let acked = false;
      void a.sendAcked('second').then(() => (acked = true), () => undefined);
      await new Promise((r) => setTimeout(r, 1500));
      expect(acked).toBe(!hold);
      expect(relay.core.waiting()).toBe(1);
    });
  }

  it('M3UA: a scripted ASP completes ASP Up / ASP Active, exchanges DATA through the relay, gets BEAT Ack, and an Error for malformed M3UA', async () => {
    const server = await echoServer(3103);
    const relay = await relayTo(server, 2913, { m3ua: { enabled: true, routingContexts: [7] } });
    const a = await client(relay, 2913);
    const inbox: { m: M3uaMessage; stream: number }[] = [];
    a.on('message', (msg: Message) => {
      const d = decodeM3ua(new Uint8Array(msg.data));
      if (d.ok && msg.ppid === 3) inbox.push({ m: d.message, stream: msg.stream });
    });
    const expectNext = async (cls: number, type: number): Promise<M3uaMessage> => {
      await waitFor(() => inbox.length > 0, 5000, `M3UA ${cls}.${type}`);
      const { m } = inbox.shift()!;
      expect([m.messageClass, m.messageType]).toEqual([cls, type]);
      return m;
    };
    a.send(encodeM3ua(MessageClass.ASPSM, AspsmType.UP), { stream: 0, ppid: 3 });
    await expectNext(MessageClass.ASPSM, AspsmType.UP_ACK);
    a.send(encodeM3ua(MessageClass.ASPTM, AsptmType.ACTIVE, [{ tag: Tag.ROUTING_CONTEXT, value: u32(7) }]), { stream: 0, ppid: 3 });
    const ack = await expectNext(MessageClass.ASPTM, AsptmType.ACTIVE_ACK);
    expect(decodeU32(findParameter(ack, Tag.ROUTING_CONTEXT)!.value)).toBe(7);
    // DATA goes to the server (which echoes it) and comes back on its stream.
    const data = encodeData({ opc: 1, dpc: 2, si: 3, ni: 2, mp: 0, sls: 5, userData: new Uint8Array([1, 2, 3]) }, 7);
    a.send(data, { stream: 5, ppid: 3 });
    const back = await expectNext(MessageClass.TRANSFER, 1);
    expect(decodeU32(findParameter(back, Tag.ROUTING_CONTEXT)!.value)).toBe(7);
    a.send(encodeM3ua(MessageClass.ASPSM, AspsmType.BEAT, [{ tag: Tag.HEARTBEAT_DATA, value: new Uint8Array([4, 4, 4, 4]) }]), { stream: 0, ppid: 3 });
    await expectNext(MessageClass.ASPSM, AspsmType.BEAT_ACK);
    // Malformed: a version 9 header, and a parameter whose length overruns the message.
    a.send(Buffer.from([9, 0, 3, 1, 0, 0, 0, 8]), { stream: 0, ppid: 3 });
    const e1 = await expectNext(MessageClass.MGMT, MgmtType.ERR);
    expect(decodeU32(findParameter(e1, Tag.ERROR_CODE)!.value)).toBe(ErrorCode.INVALID_VERSION);
    a.send(Buffer.from([1, 0, 3, 1, 0, 0, 0, 12, 0, 4, 0, 40]), { stream: 0, ppid: 3 });
    const e2 = await expectNext(MessageClass.MGMT, MgmtType.ERR);
    expect(decodeU32(findParameter(e2, Tag.ERROR_CODE)!.value)).toBe(ErrorCode.PARAMETER_FIELD_ERROR);
    // Other PPIDs pass opaquely, even bytes that would be malformed M3UA.
    a.send(Buffer.from([9, 0, 3, 1]), { stream: 2, ppid: 46 });
    await waitFor(() => relay.core.counters.forwardedToFront >= 2, 5000, 'opaque echo');
    const c = relay.core.m3uaCounters;
    expect(c.received).toMatchObject({ 'ASPSM.UP': 1, 'ASPTM.ACTIVE': 1, 'TRANSFER.DATA': 1, 'ASPSM.BEAT': 1, malformed: 2 });
    expect(c.errors).toEqual({ INVALID_VERSION: 1, PARAMETER_FIELD_ERROR: 1 });
    expect(c.forwarded).toBe(1);
    expect(relay.core.counters.forwardedToBack).toBe(2);
  });
});
