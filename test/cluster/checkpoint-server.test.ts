// hasctp checkpointd (issue #7 part 1): the store (atomic updates, bounds,
// base checks), the server over TCP with authenticated frames (another key
// is refused), its memory bound (refusal replies, oversized frames), and
// persistence across its own restart (log replay, torn tail, compaction).
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointRequest } from '../../src/cluster/checkpoint/client.js';
import { CheckpointServer } from '../../src/cluster/checkpoint/server.js';
import { decodeCheckpointReply, decodeCheckpointRequest, encodeCheckpointMessage, type CheckpointReply, type CheckpointUpdate } from '../../src/cluster/state/checkpoint-messages.js';
import { CheckpointStore } from '../../src/cluster/state/checkpoint-store.js';
import { encodeFrame, FrameDecoder } from '../../src/cluster/state/frame.js';

const key = new Uint8Array(32).fill(3);
const otherKey = new Uint8Array(32).fill(4);
const hmac = (k: Uint8Array, d: Uint8Array): Uint8Array => createHmac('sha256', k).update(d).digest();
const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

function update(o: Partial<CheckpointUpdate> & Pick<CheckpointUpdate, 'seq'>): CheckpointUpdate {
  return { t: 'update', node: 'a', gen: 1, base: 0, now: o.seq * 10, full: false, put: [], drop: [], dropConns: [], ...o };
}

describe('checkpoint store', () => {
  it('stores portions per node and connection, applies deltas on their base, drops connections and portions', () => {
    const s = new CheckpointStore(1 << 20);
    expect(s.apply(update({ seq: 5, full: true, put: [['endpoint', 'endpoint', bytes(10, 1)], ['c1', 'core', bytes(100, 2)], ['c1', 'path/x', bytes(20, 3)], ['c2', 'core', bytes(50, 4)]] }), 1)).toEqual({ ok: true });
    expect(s.apply(update({ base: 5, seq: 9, put: [['c1', 'core', bytes(101, 5)]], drop: [['c1', 'path/x']], dropConns: ['c2'] }), 2)).toEqual({ ok: true });
    const f = s.fetch('a');
    expect(f.seq).toBe(9);
    expect(f.now).toBe(90);
    expect(f.portions.map(([c, k, b]) => [c, k, b.length])).toEqual([['endpoint', 'endpoint', 10], ['c1', 'core', 101]]);
    const l = s.list();
    expect(l[0]!.connections.map((c) => [c.conn, c.seq, c.portions.map((p) => [p.key, p.seq])])).toEqual([['endpoint', 5, [['endpoint', 5]]], ['c1', 9, [['core', 9]]]]);
    // Another node is apart.
    expect(s.apply(update({ node: 'b', seq: 1, full: true, put: [['c1', 'core', bytes(7, 1)]] }), 3)).toEqual({ ok: true });
    expect(s.fetch('a').portions).toHaveLength(2);
    expect(s.fetch('b').portions).toHaveLength(1);
    expect(s.fetch('nobody')).toEqual({ seq: 0, now: 0, portions: [] });
  });

  it('refuses a delta not based on what it holds, and anything over its bound, changing nothing', () => {
    const s = new CheckpointStore(2000);
    expect(s.apply(update({ seq: 3, full: true, put: [['c1', 'core', bytes(500, 1)]] }), 1).ok).toBe(true);
    const before = s.bytes;
    expect(s.apply(update({ base: 2, seq: 4, put: [['c1', 'core', bytes(10, 1)]] }), 2)).toMatchObject({ ok: false, code: 'base-mismatch' });
    expect(s.apply(update({ base: 3, seq: 4, put: [['c2', 'core', bytes(1600, 1)]] }), 2)).toMatchObject({ ok: false, code: 'over-limit' });
    expect(s.bytes).toBe(before);
    expect(s.fetch('a').seq).toBe(3);
    // A full update that fits replaces everything.
    expect(s.apply(update({ seq: 4, full: true, put: [['c3', 'core', bytes(100, 1)]] }), 3).ok).toBe(true);
    expect(s.fetch('a').portions.map((p) => p[0])).toEqual(['c3']);
    expect(s.bytes).toBeLessThan(before);
  });

  it('snapshot export / import round-trips', () => {
    const s = new CheckpointStore(1 << 20);
    s.apply(update({ seq: 3, full: true, put: [['c1', 'core', bytes(50, 1)], ['c1', 'stream/0', bytes(5, 2)]] }), 11);
    s.apply(update({ node: 'b', seq: 8, full: true, put: [['endpoint', 'endpoint', bytes(9, 1)]] }), 12);
    const t = new CheckpointStore(1 << 20);
    expect(t.importPlain(s.exportPlain())).toBe(true);
    expect(t.list()).toEqual(s.list());
    expect(t.bytes).toBe(s.bytes);
    expect(t.importPlain({ v: 2 })).toBe(false);
  });
});

describe('checkpoint messages', () => {
  it('decoders never throw and check every field', () => {
    const u = update({ seq: 1, put: [['c', 'core', bytes(3, 1)]] });
    expect(decodeCheckpointRequest(encodeCheckpointMessage(u))).toEqual({ ok: true, message: u });
    expect(decodeCheckpointRequest(encodeCheckpointMessage({ ...u, seq: -1 }))).toMatchObject({ ok: false });
    expect(decodeCheckpointRequest(encodeCheckpointMessage({ ...u, put: [['c', 'core', 'not bytes']] } as unknown as CheckpointUpdate))).toMatchObject({ ok: false });
    expect(decodeCheckpointReply(encodeCheckpointMessage(u))).toMatchObject({ ok: false, error: 'not a checkpoint reply' });
    for (let i = 0; i < 2000; i++) {
      const junk = new Uint8Array(i % 64).map((_, k) => (k * 31 + i * 7) & 0xff);
      expect(typeof decodeCheckpointRequest(junk).ok).toBe('boolean');
      expect(typeof decodeCheckpointReply(junk).ok).toBe('boolean');
    }
  });
});

describe('checkpoint server', () => {
  const servers: CheckpointServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function start(o: { maxBytes?: number; dir?: string; compactMinBytes?: number } = {}): Promise<{ server: CheckpointServer; at: { host: string; port: number } }> {
    const server = new CheckpointServer({ listen: { host: '127.0.0.1', port: 0 }, key, maxBytes: o.maxBytes ?? 1 << 20, fsync: 'always', ...(o.dir && { dir: o.dir }), ...(o.compactMinBytes !== undefined && { compactMinBytes: o.compactMinBytes }) });
    await server.start();
    servers.push(server);
    return { server, at: { host: '127.0.0.1', port: server.port! } };
  }
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'hasctp-ckpt-test-'));
    dirs.push(d);
    return d;
  };

  it('acknowledges updates with their seq, answers fetch and list', async () => {
    const { at } = await start();
    expect(await checkpointRequest(at, key, update({ seq: 4, full: true, put: [['endpoint', 'endpoint', bytes(8, 1)], ['c1', 'core', bytes(300, 2)]] }))).toEqual({ t: 'ack', node: 'a', gen: 1, seq: 4 });
    expect(await checkpointRequest(at, key, update({ base: 4, seq: 6, put: [['c1', 'path/10.0.0.1', bytes(40, 3)]] }))).toEqual({ t: 'ack', node: 'a', gen: 1, seq: 6 });
    const f = (await checkpointRequest(at, key, { t: 'fetch', id: 7, node: 'a' })) as Extract<CheckpointReply, { t: 'state' }>;
    expect(f).toMatchObject({ t: 'state', id: 7, node: 'a', seq: 6, now: 60 });
    expect(f.portions.map(([c, k]) => `${c} ${k}`)).toEqual(['endpoint endpoint', 'c1 core', 'c1 path/10.0.0.1']);
    const l = (await checkpointRequest(at, key, { t: 'list', id: 1 })) as Extract<CheckpointReply, { t: 'listing' }>;
    expect(l.nodes[0]!.connections[1]).toMatchObject({ conn: 'c1', seq: 6, portions: [{ key: 'core', bytes: 300, seq: 4 }, { key: 'path/10.0.0.1', bytes: 40, seq: 6 }] });
  });

  it('refuses a client with another key: the connection is dropped and counted, nothing is stored', async () => {
    const { server, at } = await start();
    await expect(checkpointRequest(at, otherKey, update({ seq: 1, full: true, put: [['c', 'core', bytes(5, 1)]] }), 2000)).rejects.toThrow(/closed the connection|another --key/);
    expect(server.counters.rejectedFrames).toBe(1);
    expect(server.store.fetch('a').portions).toEqual([]);
    // The server goes on serving clients with the right key.
    expect(await checkpointRequest(at, key, { t: 'list', id: 1 })).toMatchObject({ t: 'listing', nodes: [] });
  });

  it('stays within --max-bytes: refuses an update beyond it with a reply, drops an oversized frame, keeps serving', async () => {
    const { server, at } = await start({ maxBytes: 8192 });
    expect(await checkpointRequest(at, key, update({ seq: 1, full: true, put: [['c1', 'core', bytes(3000, 1)]] }))).toMatchObject({ t: 'ack', seq: 1 });
    const r = await checkpointRequest(at, key, update({ base: 1, seq: 2, put: [['c2', 'core', bytes(6000, 1)]] }));
    expect(r).toMatchObject({ t: 'refused', seq: 2, code: 'over-limit', reason: expect.stringMatching(/over its bound of 8192/) });
    // A frame longer than the bound is refused on its length alone (its bytes are never buffered).
    const big = await new Promise<CheckpointReply>((resolve, reject) => {
      const s = connect(at.port, at.host);
      const d = new FrameDecoder(key, hmac);
      s.on('connect', () => s.write(encodeFrame(encodeCheckpointMessage(update({ seq: 9, full: true, put: [['c', 'core', bytes(200_000, 1)]] })), key, hmac)));
      s.on('data', (c: Buffer) => {
        for (const f of d.push(new Uint8Array(c))) if (f.ok) {
          const m = decodeCheckpointReply(f.payload);
          if (m.ok) resolve(m.message);
        }
      });
      s.on('error', reject);
      setTimeout(() => reject(new Error('no reply')), 3000);
    });
    expect(big).toMatchObject({ t: 'error', reason: expect.stringMatching(/frame over the server's bound/) });
    expect(server.store.bytes).toBeLessThanOrEqual(8192);
    expect(server.store.fetch('a').seq).toBe(1);
    expect(await checkpointRequest(at, key, update({ base: 1, seq: 3, put: [['c1', 'core', bytes(10, 1)]] }))).toMatchObject({ t: 'ack', seq: 3 });
  });

  it('survives its own restart: the log is replayed, a torn last record is cut off', async () => {
    const dir = tmp();
    let { server, at } = await start({ dir });
    await checkpointRequest(at, key, update({ seq: 2, full: true, put: [['endpoint', 'endpoint', bytes(8, 1)], ['c1', 'core', bytes(100, 2)], ['c2', 'core', bytes(100, 3)]] }));
    await checkpointRequest(at, key, update({ base: 2, seq: 3, put: [['c1', 'stream/0', bytes(30, 4)]], dropConns: ['c2'] }));
    await checkpointRequest(at, key, update({ node: 'b', seq: 1, full: true, put: [['endpoint', 'endpoint', bytes(8, 9)]] }));
    const before = server.store.list();
    const fetched = server.store.fetch('a');
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    // A crash in the middle of a write leaves half a record behind.
    appendFileSync(join(dir, 'log.0'), Buffer.from([0, 0, 1, 0, 9, 9]));
    ({ server, at } = await start({ dir }));
    expect(server.store.list()).toEqual(before);
    expect(server.store.fetch('a')).toEqual(fetched);
    // And it goes on from there.
    expect(await checkpointRequest(at, key, update({ base: 3, seq: 4, put: [['c1', 'core', bytes(5, 5)]] }))).toMatchObject({ t: 'ack', seq: 4 });
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    ({ server } = await start({ dir }));
    expect(server.store.fetch('a').seq).toBe(4);
  });

  it('compacts its log into a snapshot and restarts from the snapshot plus the new log', async () => {
    const dir = tmp();
    const first = await start({ dir, compactMinBytes: 2000 });
    let server = first.server;
    const at = first.at;
    await checkpointRequest(at, key, update({ seq: 1, full: true, put: [['c1', 'core', bytes(400, 1)]] }));
    for (let seq = 2; seq <= 30; seq++) await checkpointRequest(at, key, update({ base: seq - 1, seq, put: [['c1', 'core', bytes(400, seq)]] }));
    expect(server.counters.compactions).toBeGreaterThan(0);
    expect(readdirSync(dir).sort()).toEqual([`log.${server.counters.compactions}`, 'snapshot']);
    const fetched = server.store.fetch('a');
    expect(fetched.seq).toBe(30);
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    server = (await start({ dir, compactMinBytes: 2000 })).server;
    expect(server.store.fetch('a')).toEqual(fetched);
  });
});
