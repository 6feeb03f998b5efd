// The cluster node's I/O parts: config validation (every error names its key),
// the control socket (JSON lines; bad requests get an error reply), and the
// authenticated TCP link (a wrong key never gets a message through).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterAddresses, ConfigError, loadNodeConfig, parseNodeConfig } from '../../src/cluster/config.js';
import { controlRequest, startControlServer } from '../../src/cluster/control.js';
import { TcpLink } from '../../src/cluster/link/tcp-link.js';
import type { ClusterMessage } from '../../src/cluster/state/messages.js';
import { messageNumber } from '../../src/cluster/apps.js';
import { waitUntil } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'hasctp-node-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = {
  node: 'b',
  role: 'standby',
  sctp: { addresses: ['10.0.0.2'], port: 2905, transport: 'udp' },
  peers: [{ node: 'a', addresses: ['10.0.0.1'] }],
  cluster: { dial: '127.0.0.1:7000', key: '00112233445566778899aabbccddeeff' },
};

describe('node config', () => {
  it('accepts a minimal config with defaults', () => {
    const c = parseNodeConfig(good);
    expect(c).toMatchObject({ node: 'b', role: 'standby', app: 'echo', cluster: { mode: 'sync', heartbeatInterval: 50, heartbeatMisses: 3, autoPromote: true, unsafeNoHold: false } });
    expect(c.cluster.key).toHaveLength(16);
    // Every node builds the same endpoint: addresses in node-id order.
    expect(clusterAddresses(c)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  const bad: [string, unknown, RegExp][] = [
    ['role', { ...good, role: 'boss' }, /^role: must be "primary" or "standby"/],
    ['address', { ...good, sctp: { ...good.sctp, addresses: ['10.0.0.300'] } }, /^sctp\.addresses\[0\]: "10\.0\.0\.300" is not an IP address/],
    ['port', { ...good, sctp: { ...good.sctp, port: 0 } }, /^sctp\.port: must be an integer in 1\.\.65535/],
    ['transport', { ...good, sctp: { ...good.sctp, transport: 'tcp' } }, /^sctp\.transport:/],
    ['unknown key', { ...good, colour: 'red' }, /^colour: unknown key/],
    ['unknown nested key', { ...good, cluster: { ...good.cluster, kee: 'x' } }, /^cluster\.kee: unknown key/],
    ['short key', { ...good, cluster: { ...good.cluster, key: 'abc' } }, /^cluster\.key: must be at least 16 bytes/],
    ['no link', { ...good, cluster: { key: good.cluster.key } }, /^cluster: needs "listen" and\/or "dial"/],
    ['bad dial', { ...good, cluster: { ...good.cluster, dial: 'localhost' } }, /^cluster\.dial: "localhost" is not ADDRESS:PORT/],
    ['mode', { ...good, cluster: { ...good.cluster, mode: 'eventually' } }, /^cluster\.mode:/],
    ['peers', { ...good, peers: [] }, /^peers: must list/],
    ['self as peer', { ...good, peers: [{ node: 'b', addresses: ['10.0.0.1'] }] }, /^peers: lists this node/],
    ['app', { ...good, app: 'relay' }, /^app: must be/],
    ['stream section without the stream app', { ...good, stream: { messages: 10 } }, /^stream: only for app "stream"/],
    ['stream.messages', { ...good, app: 'stream', stream: { messages: 0 } }, /^stream\.messages: must be an integer in 1\.\.1000000000/],
    ['stream.size', { ...good, app: 'stream', stream: { size: 3 } }, /^stream\.size: must be an integer in 4\.\.65536/],
    ['stream.window', { ...good, app: 'stream', stream: { window: 1.5 } }, /^stream\.window: must be an integer/],
    ['stream.shutdown', { ...good, app: 'stream', stream: { shutdown: 'yes' } }, /^stream\.shutdown: must be true or false/],
    ['stream key', { ...good, app: 'stream', stream: { rate: 5 } }, /^stream\.rate: unknown key/],
    ['stream.streams beyond connect.streams', { ...good, app: 'stream', stream: { streams: 4 }, connect: { addresses: ['10.0.0.9'], port: 7, streams: 2 } }, /^stream\.streams: 4 is more than the 2 outbound streams/],
    ['connect.addresses', { ...good, connect: { addresses: ['peer'], port: 7 } }, /^connect\.addresses\[0\]: "peer" is not an IP address/],
    ['connect.port', { ...good, connect: { addresses: ['10.0.0.9'] } }, /^connect\.port: must be an integer in 1\.\.65535/],
    ['connect.waitForStandby', { ...good, connect: { addresses: ['10.0.0.9'], port: 7, waitForStandby: -1 } }, /^connect\.waitForStandby: must be an integer in 0\.\.600000/],
    ['protocol', { ...good, protocol: { rtoMin: -1 } }, /^protocol: /],
  ];
  for (const [what, cfg, re] of bad) {
    it(`a bad ${what} is one clear error naming the key`, () => {
      expect(() => parseNodeConfig(cfg)).toThrow(ConfigError);
      expect(() => parseNodeConfig(cfg)).toThrow(re);
    });
  }

  it('the stream app: defaults, settings, and the connect section it goes with', () => {
    const c = parseNodeConfig({ ...good, app: 'stream', stream: { messages: 500, window: 4 }, connect: { addresses: ['10.0.0.9', '10.0.1.9'], port: 7, waitForStandby: 3000 } });
    expect(c.stream).toEqual({ messages: 500, size: 100, window: 4, streams: 1, shutdown: true });
    expect(c.connect).toEqual({ addresses: ['10.0.0.9', '10.0.1.9'], port: 7, waitForStandby: 3000 });
    expect(parseNodeConfig({ ...good, app: 'stream' }).stream).toEqual({ messages: 1000, size: 100, window: 16, streams: 1, shutdown: true });
    expect(parseNodeConfig(good).stream).toBeUndefined();
  });

  it('file errors name the file', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, '{ nope');
    expect(() => loadNodeConfig(f)).toThrow(/bad\.json: not valid JSON/);
    expect(() => loadNodeConfig(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot read \(ENOENT\)/);
  });
});

describe('control socket', () => {
  it('answers requests, and errors for malformed or unknown ones without stopping', async () => {
    const path = join(dir, 'ctl.sock');
    const srv = await startControlServer(path, (req) => (req['cmd'] === 'status' ? { ok: true, status: { role: 'primary' } } : { ok: false, error: `unknown command ${String(req['cmd'])}` }));
    try {
      expect(await controlRequest(path, { cmd: 'status' })).toEqual({ ok: true, status: { role: 'primary' } });
      expect(await controlRequest(path, { cmd: 'dance' })).toEqual({ ok: false, error: 'unknown command dance' });
      expect(await controlRequest(path, { nocmd: 1 })).toMatchObject({ ok: false, error: expect.stringMatching(/"cmd"/) });
      // Still serving.
      expect(await controlRequest(path, { cmd: 'status' })).toMatchObject({ ok: true });
      await expect(startControlServer(path, () => ({}))).rejects.toThrow(/in use by another process/);
    } finally {
      await srv.close();
    }
    await expect(controlRequest(path, { cmd: 'status' })).rejects.toThrow(/cannot reach the node's control socket/);
  });
});

describe('cluster link over TCP', () => {
  it('carries messages both ways, and a node with another key never gets one through', async () => {
    const key = new Uint8Array(32).fill(1);
    const gotA: ClusterMessage[] = [];
    const gotB: ClusterMessage[] = [];
    const a = new TcpLink({ listen: { host: '127.0.0.1', port: 0 }, key, onMessage: (m) => gotA.push(m), onState: () => {} });
    await a.start();
    const port = a.listenPort!;
    const b = new TcpLink({ dial: { host: '127.0.0.1', port }, key, onMessage: (m) => gotB.push(m), onState: () => {} });
    await b.start();
    try {
      await waitUntil('link up', 5000, () => a.up && b.up);
      b.send({ t: 'ack', epoch: 1, sync: 1, seq: 42 });
      a.send({ t: 'resync', epoch: 1, reason: 'test' });
      await waitUntil('messages', 5000, () => gotA.length === 1 && gotB.length === 1);
      expect(gotA[0]).toEqual({ t: 'ack', epoch: 1, sync: 1, seq: 42 });
      expect(gotB[0]).toEqual({ t: 'resync', epoch: 1, reason: 'test' });

      const intruder = new TcpLink({ dial: { host: '127.0.0.1', port }, key: new Uint8Array(32).fill(2), onMessage: () => {}, onState: () => {}, reconnectDelay: 10_000 });
      await intruder.start();
      await waitUntil('intruder connected', 5000, () => intruder.up);
      intruder.send({ t: 'handover', epoch: 99, seq: 1 });
      await waitUntil('rejected', 5000, () => a.counters.rejected > 0);
      expect(gotA).toHaveLength(1);
      await intruder.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('sink app numbering', () => {
  it('reads a leading decimal number, else a 32-bit prefix', () => {
    expect(messageNumber(new TextEncoder().encode('1234 hello\n'))).toBe(1234);
    expect(messageNumber(new Uint8Array([0, 0, 1, 0, 9]))).toBe(256);
    expect(messageNumber(new Uint8Array([0xff]))).toBeUndefined();
  });
});
