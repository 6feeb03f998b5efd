/**
 * RFC 6951 UDP encapsulation on loopback (127.0.0.0/8 and ::1 when the host
 * has it): batches both ways between two multihomed transports, addresses
 * and UDP source ports reported per datagram, garbage delivered as bytes,
 * ports released on close. Ephemeral ports (port 0) except where the default
 * port 9899 itself is under test, on an address no other test uses.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { openUdpTransport, type UdpTransport } from '../../src/transport/udp.js';
import type { IncomingDatagram, OutgoingDatagram } from '../../src/transport/transport.js';
import { decodePacket, encodePacket } from '../../src/wire/packet.js';
import { SCTP_UDP_ENCAPSULATION_PORT } from '../../src/wire/udp.js';

const haveIPv6Loopback = Object.values(networkInterfaces()).some((list) =>
  (list ?? []).some((i) => i.family === 'IPv6' && i.address === '::1'),
);
if (!haveIPv6Loopback) process.stderr.write('\n!!!! SKIPPING the IPv6 parts of the UDP transport test: no ::1 on this host !!!!\n\n');

const open: UdpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function transport(localAddresses: string[], port = 0): Promise<UdpTransport> {
  const t = await openUdpTransport({ localAddresses, port });
  open.push(t);
  return t;
}

/** Collects delivered batches; `until` waits (bounded) for `n` datagrams. */
function collector(t: UdpTransport): { batches: IncomingDatagram[][]; all: () => IncomingDatagram[]; until: (n: number) => Promise<void> } {
  const batches: IncomingDatagram[][] = [];
  t.onDatagrams = (b) => batches.push(b);
  const all = (): IncomingDatagram[] => batches.flat();
  return {
    batches,
    all,
    async until(n) {
      for (let i = 0; i < 200 && all().length < n; i++) await new Promise((r) => setTimeout(r, 10));
      expect(all().length, `datagrams received within 2 s`).toBe(n);
    },
  };
}

function init(tag: number): Uint8Array {
  return encodePacket({
    sourcePort: 5000,
    destinationPort: 5001,
    verificationTag: 0,
    chunks: [{ kind: 'init', initiateTag: tag, aRwnd: 65536, outboundStreams: 1, inboundStreams: 1, initialTsn: tag, params: [] }],
  });
}

function bindPlain(address: string, port: number): Promise<Socket> {
  const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind({ address, port, exclusive: true }, () => resolve(s));
  });
}

function closePlain(s: Socket): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}

describe('UDP encapsulation transport (RFC 6951) on loopback', () => {
  it('exchanges batches between multihomed transports with the right addresses and ports', async () => {
    const aAddrs = ['127.0.0.1', '127.0.0.3', ...(haveIPv6Loopback ? ['::1'] : [])];
    const bAddrs = ['127.0.0.2', '127.0.0.4', ...(haveIPv6Loopback ? ['::1'] : [])];
    const a = await transport(aAddrs);
    const b = await transport(bAddrs);
    expect(a.kind).toBe('udp-encap');
    expect(a.localAddresses).toEqual(aAddrs);
    const paths = aAddrs.map((source, i) => ({ source, destination: bAddrs[i]! }));
    const atB = collector(b);
    const atA = collector(a);

    const out: OutgoingDatagram[] = [];
    for (let i = 0; i < 100; i++) {
      for (const p of paths) out.push({ ...p, bytes: init(i + 1), remoteUdpPort: b.localPort(p.destination)! });
    }
    a.send(out);
    await atB.until(out.length);

    for (const p of paths) {
      const got = atB.all().filter((d) => d.source === p.source);
      expect(got.length).toBe(100);
      for (const d of got) {
        expect(d.destination).toBe(p.destination);
        expect(d.udpSourcePort).toBe(a.localPort(p.source));
        expect(Object.getPrototypeOf(d.bytes)).toBe(Uint8Array.prototype); // not a Buffer
        const r = decodePacket(d.bytes);
        expect(r.ok).toBe(true);
      }
    }
    // Per-tick batching: far fewer handler calls than datagrams.
    expect(atB.batches.length).toBeLessThan(out.length / 4);

    // Answer each on its own path, to the UDP source port it came from (RFC 6951 §5.4).
    b.send(atB.all().map((d) => ({ source: d.destination, destination: d.source, bytes: d.bytes, remoteUdpPort: d.udpSourcePort! })));
    await atA.until(out.length);
    for (const p of paths) {
      const got = atA.all().filter((d) => d.source === p.destination);
      expect(got.length).toBe(100);
      for (const d of got) {
        expect(d.destination).toBe(p.source);
        expect(d.udpSourcePort).toBe(b.localPort(p.destination));
      }
    }
    expect(a.counters()).toMatchObject({ packetsOut: out.length, packetsIn: out.length, sendErrors: 0, receiveErrors: 0, drops: 0 });
    expect(b.counters()).toMatchObject({ packetsOut: out.length, packetsIn: out.length, sendErrors: 0, receiveErrors: 0, drops: 0 });
    expect(a.counters().bytesOut).toBe(out.reduce((n, d) => n + d.bytes.length, 0));
  });

  it('delivers garbage and empty datagrams as bytes for the decoder to judge', async () => {
    const b = await transport(['127.0.0.2']);
    const atB = collector(b);
    const sender = await bindPlain('127.0.0.1', 0);
    try {
      const port = b.localPort('127.0.0.2')!;
      for (const g of [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(200).fill(0xff)]) {
        await new Promise<void>((r, j) => sender.send(g, port, '127.0.0.2', (e) => (e ? j(e) : r())));
      }
      await atB.until(3);
      expect(atB.all().map((d) => d.bytes.length).sort((x, y) => x - y)).toEqual([0, 3, 200]);
      for (const d of atB.all()) {
        expect(d.udpSourcePort).toBe(sender.address().port);
        expect(decodePacket(d.bytes).ok).toBe(false);
      }
    } finally {
      await closePlain(sender);
    }
  });

  it('defaults the remote encapsulation port to 9899', async () => {
    // 127.0.0.9 on the standard port: no other test binds it.
    const b = await transport(['127.0.0.9'], SCTP_UDP_ENCAPSULATION_PORT);
    expect(b.localPort('127.0.0.9')).toBe(9899);
    const a = await transport(['127.0.0.1']);
    const atB = collector(b);
    a.send([{ source: '127.0.0.1', destination: '127.0.0.9', bytes: init(7) }]);
    await atB.until(1);
    expect(atB.all()[0]).toMatchObject({ source: '127.0.0.1', destination: '127.0.0.9', udpSourcePort: a.localPort('127.0.0.1') });
  });

  it('counts a send from an address it does not own, or across families, instead of throwing', async () => {
    const a = await transport(['127.0.0.1']);
    a.send([
      { source: '127.0.0.7', destination: '127.0.0.2', bytes: init(1) },
      { source: '127.0.0.1', destination: '::1', bytes: init(1) },
    ]);
    expect(a.counters().sendErrors).toBe(2);
    expect(a.lastError).toMatch(/families differ/);
  });

  it('drops (and counts) datagrams that arrive while no handler is set', async () => {
    const a = await transport(['127.0.0.1']);
    const b = await transport(['127.0.0.2']);
    a.send([{ source: '127.0.0.1', destination: '127.0.0.2', bytes: init(1), remoteUdpPort: b.localPort('127.0.0.2')! }]);
    for (let i = 0; i < 200 && b.counters().drops < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(b.counters()).toMatchObject({ packetsIn: 1, drops: 1 });
  });

  it('releases its ports on close, and close is idempotent', async () => {
    const t = await openUdpTransport({ localAddresses: ['127.0.0.1', ...(haveIPv6Loopback ? ['::1'] : [])], port: 0 });
    const p4 = t.localPort('127.0.0.1')!;
    const p6 = haveIPv6Loopback ? t.localPort('::1')! : undefined;
    let late = 0;
    t.onDatagrams = () => late++;
    await t.close();
    await t.close();
    const s4 = await bindPlain('127.0.0.1', p4);
    await closePlain(s4);
    if (p6 !== undefined) await closePlain(await bindPlain('::1', p6));
    t.send([{ source: '127.0.0.1', destination: '127.0.0.1', bytes: init(1) }]);
    expect(t.counters().sendErrors).toBe(1);
    expect(late).toBe(0);
  });

  it('fails to open in one line, and releases what it bound, when an address cannot be bound', async () => {
    const taken = await bindPlain('127.0.0.1', 0);
    const port = taken.address().port;
    try {
      // 127.0.0.2 binds, 127.0.0.1 on the same port is taken: the open fails as a whole.
      const err = await openUdpTransport({ localAddresses: ['127.0.0.2', '127.0.0.1'], port }).catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/^UDP encapsulation cannot bind 127\.0\.0\.1:\d+: address in use/);
      expect((err as Error).message).not.toMatch(/\n/);
      await closePlain(await bindPlain('127.0.0.2', port)); // released
    } finally {
      await closePlain(taken);
    }
    await expect(openUdpTransport({ localAddresses: ['192.0.2.1'], port: 0 })).rejects.toThrow(/not an address of this host/);
    await expect(openUdpTransport({ localAddresses: [] })).rejects.toThrow(/at least one local address/);
    await expect(openUdpTransport({ localAddresses: ['nonsense'] })).rejects.toThrow(/not an IP address/);
  });
});
