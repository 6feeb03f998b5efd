// --metrics: a scrape parses as Prometheus text format and the counters move
// with traffic (a `hasctp server` in this process, a peer over UDP
// encapsulation on loopback).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/api/connect.js';
import type { Association } from '../../src/api/association.js';
import { serverCommand } from '../../src/cli/server.js';
import { renderMetrics } from '../../src/ops/metrics.js';
import { controlRequest } from '../../src/ops/control.js';
import { freeUdpPort, loopbackNet, parsePrometheus, sample, until } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function scrape(url: string): Promise<ReturnType<typeof parsePrometheus>> {
  const r = await fetch(url);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(await r.text());
}

describe('the Prometheus parser used by these tests', () => {
  it('rejects what Prometheus rejects (so a passing parse means something)', () => {
    expect(() => parsePrometheus('# TYPE a counter\na 1\n')).toThrow(/_total/);
    expect(() => parsePrometheus('a_total 1\n')).toThrow(/before its TYPE/);
    expect(() => parsePrometheus('# TYPE a gauge\na{x="1} 1\n')).toThrow(/bad labels/);
    expect(() => parsePrometheus('# TYPE a gauge\na 1\na 2\n')).toThrow(/duplicate series/);
    expect(() => parsePrometheus('# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x="y"} 1\n')).toThrow(/contiguous/);
    expect(() => parsePrometheus('# TYPE a gauge\na one\n')).toThrow(/bad value|bad sample/);
    expect(() => parsePrometheus('# TYPE a gauge\na 1')).toThrow(/newline/);
    expect(parsePrometheus('# HELP a x\n# TYPE a gauge\na{x="q\\"\\n"} 1.5e3\n')).toEqual([{ name: 'a', labels: { x: 'q"\n' }, value: 1500 }]);
  });

  it('label values from the outside are escaped', () => {
    const text = renderMetrics({ process: 'node', name: 'we"ird\\name\n', endpoint: { sctpCurrEstab: 0, sctpActiveEstabs: 0, sctpPassiveEstabs: 0, sctpAborteds: 0, sctpShutdowns: 0, sctpOutOfBlues: 0, sctpChecksumErrors: 0, discardedPackets: 0 }, totals: {}, associations: [] });
    expect(sample(parsePrometheus(text), 'hasctp_info', { name: 'we"ird\\name\n' })).toBe(1);
  });
});

describe('hasctp server --metrics', () => {
  it('scrapes parse and the counters follow the traffic, per association and in total', async () => {
    const net = loopbackNet();
    const udpPort = await freeUdpPort(`${net}.1`);
    const dir = mkdtempSync(join(tmpdir(), 'hasctp-metrics-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const control = join(dir, 'c.sock');
    const ac = new AbortController();
    let out = '';
    const outStream = new PassThrough().on('data', (d: Buffer) => (out += d.toString()));
    const done = serverCommand({
      localAddresses: [`${net}.1`],
      port: 2905,
      udpEncap: true,
      udpPort,
      mode: 'echo',
      out: outStream,
      err: new PassThrough(),
      signal: ac.signal,
      control,
      metrics: { host: '127.0.0.1', port: 0 },
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(async () => {
      ac.abort();
      await done;
    });
    await until('the metrics line', () => /metrics on (http:\S+)/.test(out));
    const url = /metrics on (http:\S+)/.exec(out)![1]!;
    const idle = await scrape(url);
    expect(sample(idle, 'hasctp_info', { process: 'server' })).toBe(1);
    expect(sample(idle, 'hasctp_current_established')).toBe(0);
    expect(sample(idle, 'hasctp_in_chunks_total', { kind: 'ordered' })).toBe(0);

    const a: Association = await connect({ localAddresses: [`${net}.2`], remoteAddresses: [`${net}.1`], port: 2905, transport: 'udp', udpPort: 0, remoteUdpPort: udpPort, timeout: 5000 });
    cleanups.push(() => a.abort());
    let echoed = 0;
    a.on('message', () => echoed++);
    for (let i = 0; i < 50; i++) a.send(Buffer.alloc(100, i), { stream: i % 2 });
    await until('50 echoes', () => echoed === 50);
    const s1 = await scrape(url);
    expect(sample(s1, 'hasctp_current_established')).toBe(1);
    expect(sample(s1, 'hasctp_passive_establishments_total')).toBe(1);
    // The handshake's INIT and COOKIE ECHO are not out of the blue.
    expect(sample(s1, 'hasctp_out_of_blue_packets_total')).toBe(0);
    // Chunk counters include retransmissions; distinct received chunks are exact.
    const dup1 = sample(s1, 'hasctp_duplicate_chunks_total')!;
    expect(sample(s1, 'hasctp_in_chunks_total', { kind: 'ordered' })! - dup1).toBe(50);
    expect(sample(s1, 'hasctp_out_chunks_total', { kind: 'ordered' })).toBeGreaterThanOrEqual(50);
    expect(sample(s1, 'hasctp_delivered_messages_total')).toBe(50);
    const id = s1.find((x) => x.name === 'hasctp_assoc_state')!.labels['assoc']!;
    expect(sample(s1, 'hasctp_assoc_state', { assoc: id, state: 'established', peer: `${net}.2` })).toBe(1);
    expect(sample(s1, 'hasctp_assoc_in_chunks_total', { assoc: id, kind: 'ordered' })! - sample(s1, 'hasctp_assoc_duplicate_chunks_total', { assoc: id })!).toBe(50);
    expect(sample(s1, 'hasctp_path_state', { assoc: id, address: `${net}.2`, state: 'ACTIVE' })).toBe(1);
    expect(sample(s1, 'hasctp_path_cwnd_bytes', { assoc: id, address: `${net}.2` })).toBeGreaterThan(0);
    expect(sample(s1, 'hasctp_path_srtt_seconds', { assoc: id, address: `${net}.2` })).toBeGreaterThan(0);
    expect(sample(s1, 'hasctp_assoc_protected', { assoc: id })).toBe(0);

    for (let i = 0; i < 30; i++) a.send(Buffer.alloc(10, i), { stream: 0, unordered: true });
    await until('30 more echoes', () => echoed === 80);
    const s2 = await scrape(url);
    expect(sample(s2, 'hasctp_delivered_messages_total')).toBe(80);
    expect(sample(s2, 'hasctp_in_chunks_total', { kind: 'unordered' })).toBeGreaterThanOrEqual(30);
    expect(sample(s2, 'hasctp_in_packets_total')!).toBeGreaterThan(sample(s1, 'hasctp_in_packets_total')!);
    expect(sample(s2, 'hasctp_sacks_sent_total')!).toBeGreaterThanOrEqual(sample(s1, 'hasctp_sacks_sent_total')!);

    // An operator aborts it (control socket): it leaves the per-association series, the totals stay.
    let down = '';
    a.on('down', (r: string) => (down = r));
    expect(await controlRequest(control, { cmd: 'abort', id: Number(id) })).toEqual({ ok: true, id: Number(id), aborted: true });
    await until('the peer to see the ABORT', () => down === 'peer-abort');
    const s3 = await scrape(url);
    expect(sample(s3, 'hasctp_associations')).toBe(0);
    expect(sample(s3, 'hasctp_aborted_total')).toBe(1);
    expect(sample(s3, 'hasctp_delivered_messages_total')).toBe(80);
    expect(sample(s3, 'hasctp_in_chunks_total', { kind: 'ordered' })).toBeGreaterThanOrEqual(sample(s2, 'hasctp_in_chunks_total', { kind: 'ordered' })!);
    expect(s3.some((x) => x.name === 'hasctp_assoc_state')).toBe(false);
    expect((await fetch(url.replace('/metrics', '/nope'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
  });
});
