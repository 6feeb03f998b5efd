// `--pcap FILE` on `hasctp server` and `hasctp client` over UDP encapsulation on loopback, then `pcap inspect` of both files.
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { serverCommand } from '../../src/cli/server.js';
import { readCapture } from '../../src/pcap/index.js';
import { inspectCapture } from '../../src/pcap/inspect/index.js';
import { PcapTap, type PcapSink } from '../../src/transport/pcap-tap.js';
import type { Transport, TransportCounters } from '../../src/transport/transport.js';
import { cli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'hasctp-record-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let t = '';
  stream.on('data', (d: Buffer) => (t += d.toString()));
  return { stream, text: () => t };
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const p = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

describe('hasctp server / client --pcap', () => {
  it('records every packet both ways: one association, the same message counts on both sides', async () => {
    const serverFile = join(tmp, 'server.pcapng');
    const clientFile = join(tmp, 'client.pcapng');
    const udpPort = await freeUdpPort();
    const ac = new AbortController();
    const out = sink();
    const err = sink();
    const done = serverCommand({
      localAddresses: ['127.0.0.1', '127.0.0.2'], port: 6101, udpEncap: true, udpPort, mode: 'echo', pcap: serverFile,
      out: out.stream, err: err.stream, signal: ac.signal, logger: pino({ level: 'silent' }),
    });
    for (let i = 0; i < 200 && !out.text().includes('listening') && err.text() === ''; i++) await new Promise((r) => setTimeout(r, 10));
    expect(out.text(), err.text()).toContain('listening');

    const r = await cli(['client', '--connect', '127.0.0.1,127.0.0.2:6101', '--bind', '127.0.0.1', '--udp-encap', `0:${udpPort}`,
      '--count', '120', '--size', '300', '--streams', '3', '--verify', '--json', '--log-level', 'silent', '--pcap', clientFile]);
    expect(r.code, r.out + r.err).toBe(0);
    ac.abort();
    expect(await done).toBe(0);

    // The server's file: one interface per local address, named by it.
    const cap = readCapture(new Uint8Array(readFileSync(serverFile)));
    expect(cap.ok).toBe(true);
    if (!cap.ok) return;
    expect(cap.value.format).toBe('pcapng');
    expect(cap.value.interfaces.map((i) => i.name)).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(cap.value.records.every((x) => x.ok && x.value.direction !== undefined)).toBe(true);

    for (const [file, us] of [[clientFile, 0], [serverFile, 1]] as const) {
      const report = inspectCapture(new Uint8Array(readFileSync(file)));
      expect(report.anomalies, file).toEqual([]);
      expect(report.associations, file).toHaveLength(1);
      const a = report.associations[0]!;
      expect(a).toMatchObject({ state: 'closed', outcome: 'closed by shutdown', midStream: false });
      expect(a.endpoints[0].initiator).toBe(true);
      // The client's INIT ACK lists both server addresses; HEARTBEATs confirm them (RFC 9260 §5.4).
      expect(a.endpoints[1].addresses).toEqual(['127.0.0.1', '127.0.0.2']);
      for (const d of a.directions) {
        expect(d, `${file} ${us}`).toMatchObject({ messages: 120, userBytes: 36_000, retransmissions: 0 });
        expect(d.streams.map((s) => [s.stream, s.messages])).toEqual([[0, 40], [1, 40], [2, 40]]);
      }
    }
  }, 30_000);
});

describe('PcapTap', () => {
  it('passes everything through, and records other traffic on named interfaces (the HA cluster link)', async () => {
    const chunks: Uint8Array[] = [];
    const fileSink: PcapSink = { write: (b) => chunks.push(b.slice()), close: async () => undefined };
    const sent: unknown[] = [];
    let closed = false;
    const inner: Transport & { localPort(a: string): number } = {
      kind: 'udp-encap',
      localAddresses: ['10.0.0.1'],
      onDatagrams: undefined,
      send: (p) => void sent.push(...p),
      counters: (): TransportCounters => ({ packetsIn: 1, bytesIn: 2, packetsOut: 3, bytesOut: 4, sendErrors: 0, receiveErrors: 0, drops: 0 }),
      lastError: undefined,
      close: async () => void (closed = true),
      localPort: () => 4242,
    };
    let t = 0;
    const tap = new PcapTap(inner, { sink: fileSink, clock: () => ({ seconds: 1_700_000_000 + t++, nanos: 0 }) });
    const got: unknown[] = [];
    tap.onDatagrams = (b) => void got.push(...b);
    const sctp = Uint8Array.of(0, 1, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0);
    tap.send([{ source: '10.0.0.1', destination: '10.0.0.9', bytes: sctp }]);
    inner.onDatagrams!([{ source: '10.0.0.9', destination: '10.0.0.1', bytes: sctp }]);
    tap.writeOtherUdp('cluster', { source: '192.168.9.1', destination: '192.168.9.2', sourcePort: 7000, destinationPort: 7001, payload: Uint8Array.of(1, 2, 3), direction: 'outbound' });
    expect(sent).toHaveLength(1);
    expect(got).toHaveLength(1);
    expect(tap.counters().packetsOut).toBe(3);
    expect(tap.localPort('10.0.0.1')).toBe(4242);
    expect(tap.kind).toBe('udp-encap');
    await tap.close();
    expect(closed).toBe(true);
    const file = new Uint8Array(Buffer.concat(chunks));
    const cap = readCapture(file);
    expect(cap.ok).toBe(true);
    if (!cap.ok) return;
    expect(cap.value.interfaces.map((i) => i.name)).toEqual(['10.0.0.1', 'cluster']);
    const recs = cap.value.records.map((r) => (r.ok ? [r.value.interfaceId, r.value.direction, r.value.timestamp.seconds - 1_700_000_000] : r.error.message));
    expect(recs).toEqual([[0, 'outbound', 0], [0, 'inbound', 1], [1, 'outbound', 2]]);
    expect(tap.packetsWritten).toBe(3);
  });
});
