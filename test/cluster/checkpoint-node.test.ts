// A single cluster node with a checkpoint server, in this process over UDP
// encapsulation on loopback (no root): the node process "dies" (its sockets
// close, nothing is sent) mid-stream, a new ClusterNode starts from the same
// config, fetches its portions, and the peer's association continues with
// every echo exactly once. Negative control: a new node whose checkpoint
// server holds nothing of it aborts the peer's association. The namespace
// test (checkpoint-netns.test.ts) does the same with real processes, SIGKILL
// and an unmodified usrsctp peer.
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/api/connect.js';
import type { Association, Message } from '../../src/api/association.js';
import { CheckpointServer } from '../../src/cluster/checkpoint/server.js';
import { parseNodeConfig } from '../../src/cluster/config.js';
import { ClusterNode } from '../../src/cluster/node.js';
import { waitUntil } from '../helpers/wait.js';

const key = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const net = `127.${randomInt(64, 250)}.${randomInt(1, 250)}`;
const protocol = { rtoMin: 100, rtoInitial: 300, rtoMax: 1000, hbInterval: 1000 };
const dir = mkdtempSync(join(tmpdir(), 'hasctp-ckpt-node-'));
const silent = pino({ level: 'silent' });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function nodeConfig(nodeAddr: string, serverPort: number, mode: 'sync' | 'async' = 'sync', extra: Record<string, unknown> = {}) {
  return parseNodeConfig({
    node: 'solo',
    sctp: { addresses: [nodeAddr], port: 2905, transport: 'udp' },
    app: 'echo',
    control: join(dir, `solo-${nodeAddr}.sock`),
    protocol,
    checkpoint: { server: `127.0.0.1:${serverPort}`, key, mode, ...extra },
  });
}

interface Peer {
  readonly assoc: Association;
  readonly seen: Map<number, number>;
  readonly down: string[];
  duplicated: number;
  reordered: number;
  arrivals: number[];
}

async function peerTo(nodeAddr: string, peerAddr: string): Promise<Peer> {
  const assoc = await connect({ localAddresses: [peerAddr], remoteAddresses: [nodeAddr], port: 2905, transport: 'udp', config: protocol, timeout: 10_000 });
  const p: Peer = { assoc, seen: new Map(), down: [], duplicated: 0, reordered: 0, arrivals: [] };
  const last = new Map<number, number>();
  assoc.on('message', (m: Message) => {
    const i = m.data.readUInt32BE(0);
    const n = p.seen.get(i) ?? 0;
    p.seen.set(i, n + 1);
    if (n > 0) p.duplicated++;
    else {
      p.arrivals.push(performance.now());
      if ((last.get(m.stream) ?? -1) > i) p.reordered++;
      last.set(m.stream, i);
    }
  });
  assoc.on('down', (reason: string) => p.down.push(reason));
  assoc.on('error', () => {});
  return p;
}

async function send(p: Peer, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const data = Buffer.alloc(64 + (i % 200));
    data.writeUInt32BE(i, 0);
    data.fill(i & 0xff, 4);
    if (!p.assoc.send(data, { stream: i % 3, ppid: 3 })) await new Promise((r) => p.assoc.once('drain', r));
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 4));
  }
}

describe('node config: the checkpoint section', () => {
  const base = { node: 'x', sctp: { addresses: ['10.0.0.1'], port: 2905 }, checkpoint: { server: '127.0.0.1:7700', key } };
  it('makes cluster and peers optional (a single primary node, no cluster link)', () => {
    const c = parseNodeConfig(base);
    expect(c).toMatchObject({ role: 'primary', peers: [], checkpoint: { server: { host: '127.0.0.1', port: 7700 }, mode: 'sync', fetchTimeout: 3000, ackTimeout: 2000 } });
    expect(c.cluster.listen).toBeUndefined();
    expect(c.cluster.dial).toBeUndefined();
    expect(c.cluster.mode).toBe('sync');
  });
  it('names the key in every error', () => {
    const bad = (patch: Record<string, unknown>): string => {
      try {
        parseNodeConfig({ ...base, ...patch });
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad({ checkpoint: { ...base.checkpoint, server: 'nowhere' } })).toMatch(/^checkpoint\.server: "nowhere" is not ADDRESS:PORT/);
    expect(bad({ checkpoint: { ...base.checkpoint, key: 'short' } })).toMatch(/^checkpoint\.key: must be at least 16 bytes/);
    expect(bad({ checkpoint: { ...base.checkpoint, mode: 'maybe' } })).toMatch(/^checkpoint\.mode: must be "sync" or "async"/);
    expect(bad({ checkpoint: { ...base.checkpoint, other: 1 } })).toMatch(/^checkpoint\.other: unknown key/);
    expect(bad({ role: 'standby' })).toMatch(/^role: a node without a "cluster" section is the primary/);
    expect(bad({ checkpoint: undefined })).toMatch(/^role: must be a non-empty string|^peers:/);
    expect(bad({ role: 'primary', peers: [{ node: 'y', addresses: ['10.0.0.2'] }], cluster: { listen: '127.0.0.1:7000', key, mode: 'async' } })).toMatch(/^checkpoint\.mode: "sync" needs cluster\.mode "sync"/);
  });
});

describe('a single node with a checkpoint server (in process, UDP on loopback)', () => {
  it('the node process dies mid-stream and a new one continues the association: every echo exactly once', async () => {
    const server = new CheckpointServer({ listen: { host: '127.0.0.1', port: 0 }, key: Buffer.from(key, 'hex'), maxBytes: 1 << 24 });
    await server.start();
    const nodeAddr = `${net}.1`;
    const config = nodeConfig(nodeAddr, server.port!);
    let node = new ClusterNode({ config, logger: silent });
    let peer: Peer | undefined;
    try {
      await node.start();
      await waitUntil('protected', 5000, () => node.status().checkpoint?.state === 'protected');
      peer = await peerTo(nodeAddr, `${net}.10`);
      await send(peer, 0, 150);
      await waitUntil('150 echoes', 10_000, () => peer!.seen.size >= 150);
      const sending = send(peer, 150, 300);
      await waitUntil('a few more echoes', 10_000, () => peer!.seen.size >= 170);
      // The process dies: its sockets close, nothing is said to the peer.
      const before = node.status();
      expect(before.checkpoint).toMatchObject({ state: 'protected', mode: 'sync' });
      const killedAt = performance.now();
      await node.close();
      node = new ClusterNode({ config, logger: silent });
      await node.start();
      const restored = node.status().checkpoint!;
      expect(restored.restore).toMatchObject({ associations: 1 });
      expect(node.status().associations).toBe(1);
      await sending;
      await waitUntil('every echo', 20_000, () => peer!.seen.size >= 300);
      expect(peer.duplicated).toBe(0);
      expect(peer.reordered).toBe(0);
      expect(peer.down).toEqual([]);
      const gap = Math.max(...peer.arrivals.map((t, i) => (i > 0 && t > killedAt ? t - peer!.arrivals[i - 1]! : 0)));
      process.stdout.write(`restart outage (in process, UDP loopback): longest gap between echoes across the restart ${Math.round(gap)} ms; checkpoint ${JSON.stringify(before.checkpoint!.counters)}\n`);
      await peer.assoc.shutdown();
      expect(peer.down).toEqual([]);
    } finally {
      peer?.assoc.abort('test over');
      await node.close();
      await server.close();
    }
  }, 60_000);

  it('negative control: a new process whose checkpoint server holds nothing of it aborts the peer', async () => {
    const server = new CheckpointServer({ listen: { host: '127.0.0.1', port: 0 }, key: Buffer.from(key, 'hex'), maxBytes: 1 << 24 });
    await server.start();
    const empty = new CheckpointServer({ listen: { host: '127.0.0.1', port: 0 }, key: Buffer.from(key, 'hex'), maxBytes: 1 << 24 });
    await empty.start();
    const nodeAddr = `${net}.2`;
    let node = new ClusterNode({ config: nodeConfig(nodeAddr, server.port!), logger: silent });
    let peer: Peer | undefined;
    try {
      await node.start();
      peer = await peerTo(nodeAddr, `${net}.11`);
      await send(peer, 0, 50);
      await waitUntil('50 echoes', 10_000, () => peer!.seen.size >= 50);
      await node.close();
      node = new ClusterNode({ config: nodeConfig(nodeAddr, empty.port!), logger: silent });
      await node.start();
      expect(node.status().associations).toBe(0);
      void send(peer, 50, 60).catch(() => undefined);
      await waitUntil('the peer loses the association', 10_000, () => peer!.down.length > 0);
      expect(peer.down[0]).toMatch(/abort/);
    } finally {
      peer?.assoc.abort('test over');
      await node.close();
      await server.close();
      await empty.close();
    }
  }, 60_000);

  it('the checkpoint server restarts mid-stream: the node says unprotected, never stalls, and is protected again', async () => {
    const store = join(dir, 'store-restart');
    let server = new CheckpointServer({ listen: { host: '127.0.0.1', port: 0 }, key: Buffer.from(key, 'hex'), maxBytes: 1 << 24, dir: store });
    await server.start();
    const port = server.port!;
    const nodeAddr = `${net}.3`;
    const node = new ClusterNode({ config: nodeConfig(nodeAddr, port), logger: silent });
    let peer: Peer | undefined;
    try {
      await node.start();
      await waitUntil('protected', 5000, () => node.status().checkpoint?.state === 'protected');
      peer = await peerTo(nodeAddr, `${net}.12`);
      await send(peer, 0, 50);
      await waitUntil('50 echoes', 10_000, () => peer!.seen.size >= 50);
      await server.close();
      await waitUntil('unprotected', 5000, () => node.status().checkpoint?.state === 'unprotected');
      // Nothing waits for the absent server.
      await send(peer, 50, 100);
      await waitUntil('100 echoes without the server', 10_000, () => peer!.seen.size >= 100);
      server = new CheckpointServer({ listen: { host: '127.0.0.1', port }, key: Buffer.from(key, 'hex'), maxBytes: 1 << 24, dir: store });
      await server.start();
      await waitUntil('protected again', 10_000, () => node.status().checkpoint?.state === 'protected');
      await send(peer, 100, 150);
      await waitUntil('150 echoes', 10_000, () => peer!.seen.size >= 150);
      const st = node.status().checkpoint!;
      expect(st.counters.unprotected).toBe(1);
      expect(st.counters.fullUpdates).toBe(2);
      expect(peer.duplicated).toBe(0);
      expect(peer.down).toEqual([]);
      // The new server holds this node's association.
      expect(server.store.fetch('solo').portions.some(([, k]) => k === 'core')).toBe(true);
    } finally {
      peer?.assoc.abort('test over');
      await node.close();
      await server.close();
    }
  }, 60_000);

  it('a server that accepts but never answers holds the output once (ackTimeout), then the node runs unprotected', async () => {
    const sockets: Socket[] = [];
    const mute = createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    const port = (mute.address() as { port: number }).port;
    const nodeAddr = `${net}.4`;
    const node = new ClusterNode({ config: nodeConfig(nodeAddr, port, 'sync', { fetchTimeout: 300, ackTimeout: 400 }), logger: silent });
    let peer: Peer | undefined;
    try {
      const t0 = performance.now();
      await node.start();
      expect(node.status().checkpoint?.restore).toMatchObject({ error: expect.stringMatching(/no answer/) });
      peer = await peerTo(nodeAddr, `${net}.13`);
      await send(peer, 0, 100);
      await waitUntil('100 echoes', 10_000, () => peer!.seen.size >= 100);
      expect(performance.now() - t0).toBeLessThan(6000);
      const st = node.status().checkpoint!;
      expect(st.state).toBe('unprotected');
      expect(st.reason).toMatch(/unacknowledged/);
      expect(peer.duplicated).toBe(0);
    } finally {
      peer?.assoc.abort('test over');
      await node.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => mute.close(() => r()));
    }
  }, 60_000);
});
