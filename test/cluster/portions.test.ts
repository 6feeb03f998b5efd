// Checkpoint portions (issue #7 part 1): a checkpoint split into one portion
// per module (association core, each path, each stream, the application's
// ledger, the endpoint) recombines into the same endpoint state, byte for
// byte, and a recombined endpoint replays identically; the diff names
// exactly the modules that changed; forged portions never crash recombine.
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEndpoint, type Endpoint, type EndpointState } from '../../src/core/endpoint.js';
import type { Millis } from '../../src/core/env.js';
import type { AppLedger } from '../../src/cluster/state/messages.js';
import { encodePlain } from '../../src/cluster/state/plain-codec.js';
import {
  APP,
  CORE,
  connectionId,
  diffPortions,
  ENDPOINT_CONN,
  recombine,
  splitCheckpoint,
  type Checkpoint,
  type Portion,
  type PortionDigests,
} from '../../src/cluster/state/portions.js';
import { EndpointHost, NearWrapRng, simulationConfig } from '../../src/sim/scenarios.js';
import { CheckpointSession } from '../../src/cluster/state/checkpoint-session.js';
import { Replica } from '../../src/cluster/state/replica.js';
import { SeededRng } from '../../src/core/env.js';
import { createSimulation, type Simulation } from '../../src/sim/simulation.js';

const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => createHmac('sha256', key).update(data).digest();
const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('base64');

const A = ['10.5.1.1', '10.5.2.1'];
const B = ['10.5.1.2', '10.5.2.2'];
const C = ['10.5.1.3'];
const STREAMS = 4;

interface World {
  readonly sim: Simulation;
  readonly hosts: Record<'A' | 'B' | 'C', EndpointHost>;
  /** Every event every host saw, in order: the trace two runs are compared by. */
  readonly log: string[];
}

function bytesFor(from: string, i: number): Uint8Array {
  const size = 1 + ((i * 977) % 2600); // some fragment (two packets and more)
  const out = new Uint8Array(Math.max(8, size));
  out[0] = from.charCodeAt(0);
  new DataView(out.buffer).setUint32(4, i);
  for (let k = 8; k < out.length; k++) out[k] = (i + k) & 0xff;
  return out;
}

/**
 * A (two addresses) connects to B (two addresses) and to C; everyone sends
 * `messages` numbered messages on 4 streams (every fifth unordered) over a
 * lossy, reordering network, then A shuts both associations down.
 */
function world(seed: number, messages = 40, shutdownAt: Millis | null = 2500): World {
  const sim = createSimulation({ seed, traceLimit: 0, defaultLink: { delay: 8, jitter: 3, loss: 0.06, duplicate: 0.01, reorder: 0.03, reorderDelay: 20 } });
  const log: string[] = [];
  const config = { ...simulationConfig, sackDelay: 20 };
  const app = (name: string) => {
    const sent = new Map<number, number>();
    let seen = 0;
    return (now: Millis, host: EndpointHost): void => {
      for (; seen < host.events.length; seen++) {
        const { e } = host.events[seen]!;
        const x = e.event;
        log.push(`${now.toFixed(3)} ${name} ${e.assocId} ${x.type}${x.type === 'message' ? ` ${x.streamId} ${x.data.length} ${x.data[0]}:${new DataView(x.data.buffer, x.data.byteOffset).getUint32(4)}` : ''}`);
      }
      for (const id of host.endpoint.associationIds()) {
        const a = host.endpoint.snapshot(id);
        if (!a || a.fsm.state !== 'established') continue;
        for (let i = sent.get(id) ?? 0; i < messages; i++) {
          const r = host.endpoint.send(now, id, bytesFor(name, i), { streamId: i % STREAMS, ppid: 7, unordered: i % 5 === 4 });
          if (!r.ok) break;
          sent.set(id, i + 1);
        }
      }
    };
  };
  const mk = (name: string, addrs: string[], port: number): EndpointHost =>
    new EndpointHost(createEndpoint({ localAddresses: addrs, port, config, rng: new NearWrapRng(sim.forkRng()), hmac, now: 0 }), app(name));
  const hosts = { A: mk('A', A, 5000), B: mk('B', B, 6000), C: mk('C', C, 7000) };
  sim.addNode('A', A, hosts.A);
  sim.addNode('B', B, hosts.B);
  sim.addNode('C', C, hosts.C);
  sim.at(1, (s) => {
    hosts.A.endpoint.connect(s.now, { remoteAddresses: B, remotePort: 6000, outboundStreams: STREAMS });
    hosts.A.endpoint.connect(s.now, { remoteAddresses: C, remotePort: 7000, outboundStreams: STREAMS });
  });
  if (shutdownAt !== null) {
    sim.at(shutdownAt, (s) => {
      for (const id of hosts.A.endpoint.associationIds()) hosts.A.endpoint.shutdown(s.now, id);
    });
  }
  return { sim, hosts, log };
}

function checkpointOf(ep: Endpoint, now: Millis, ledgers: [number, AppLedger][] = []): Checkpoint {
  return { seq: Math.floor(now), now, endpoint: ep.exportState(), ledgers };
}

function roundTrip(c: Checkpoint, withDigest: boolean): { state: EndpointState; portions: readonly Portion[] } {
  const split = splitCheckpoint(c, withDigest ? digest : undefined);
  const r = recombine(split.seq, split.now, split.portions);
  if (!r.ok) throw new Error(r.error);
  expect(r.ignored).toEqual([]);
  return { state: r.checkpoint.endpoint, portions: split.portions };
}

describe('checkpoint portions: split and recombine', () => {
  it('recombine gives the same endpoint state, byte for byte, at every moment of a lossy multi-stream, multihomed transfer', () => {
    const w = world(3);
    const seenStates = new Set<string>();
    const kinds = new Set<string>();
    let maxPaths = 0;
    let maxStreams = 0;
    let dataPortions = 0;
    let step = 0;
    for (let t = 0; t <= 3200; t += t < 300 ? 7 : 31, step++) {
      w.sim.run({ until: t });
      for (const h of Object.values(w.hosts)) {
        const c = checkpointOf(h.endpoint, w.sim.now);
        for (const withDigest of [false, true]) {
          const { state, portions } = roundTrip(c, withDigest);
          expect(Buffer.from(encodePlain(state)).equals(Buffer.from(encodePlain(c.endpoint)))).toBe(true);
          for (const p of portions) {
            kinds.add(p.key.replace(/\/.*/, ''));
            if (p.key.startsWith('data/')) dataPortions++;
          }
          const byConn = new Map<string, string[]>();
          for (const p of portions) byConn.set(p.conn, [...(byConn.get(p.conn) ?? []), p.key]);
          for (const keys of byConn.values()) {
            maxPaths = Math.max(maxPaths, keys.filter((k) => k.startsWith('path/')).length);
            maxStreams = Math.max(maxStreams, keys.filter((k) => k.startsWith('stream/')).length);
          }
        }
        // The byte comparison above is the strict one; a structural one now and then names a difference.
        if (step % 15 === 3) expect(roundTrip(c, true).state).toEqual(c.endpoint);
        for (const a of c.endpoint.associations) seenStates.add(a.fsm.state);
      }
    }
    // The run went through the handshake, the transfer and the shutdown, and the portions
    // held every kind of module: two paths, four streams, payloads stored apart.
    expect([...seenStates]).toEqual(expect.arrayContaining(['cookie-wait', 'established', 'shutdown-sent']));
    expect([...kinds].sort()).toEqual(['core', 'data', 'endpoint', 'path', 'stream']);
    expect(maxPaths).toBe(2);
    expect(maxStreams).toBe(STREAMS);
    expect(dataPortions).toBeGreaterThan(100);
  });

  it('a recombined endpoint replays identically (same events, same final state) wherever the swap happens', () => {
    const reference = world(11);
    reference.sim.run({ until: 4000 });
    const finalOf = (x: World): string[] => Object.values(x.hosts).map((h) => Buffer.from(encodePlain(h.endpoint.exportState())).toString('base64'));
    expect(reference.log.filter((l) => l.includes(' message ')).length).toBeGreaterThan(150);
    for (const swapAt of [3, 40, 333, 2520]) {
      const w = world(11);
      w.sim.at(swapAt, () => {
        for (const h of Object.values(w.hosts)) {
          const { state } = roundTrip(checkpointOf(h.endpoint, w.sim.now), true);
          expect(h.endpoint.importState(state)).toBe(true);
        }
      });
      w.sim.run({ until: 4000 });
      expect(w.log).toEqual(reference.log);
      expect(finalOf(w)).toEqual(finalOf(reference));
    }
  });

  it('carries the ledgers of live associations in their app portion, in order, and drops those of closed ones', () => {
    const w = world(5, 10);
    w.sim.run({ until: 300 });
    const ep = w.hosts.A.endpoint;
    const [first, second] = ep.associationIds();
    const ledger = (n: number): AppLedger => ({
      delivered: n,
      committed: n - 2,
      uncommitted: [
        { delivery: n - 1, streamId: 1, ppid: 3, unordered: false, data: new Uint8Array(300).fill(n) },
        { delivery: n, streamId: 2, ppid: 3, unordered: true, data: new Uint8Array([1, 2, 3]) },
      ],
      appState: new Uint8Array([9, 9]),
    });
    const ledgers: [number, AppLedger][] = [[second!, ledger(7)], [999, ledger(3)], [first!, ledger(5)]];
    const c = checkpointOf(ep, w.sim.now, ledgers);
    const split = splitCheckpoint(c, digest);
    expect(split.portions.filter((p) => p.key === APP)).toHaveLength(2);
    const r = recombine(split.seq, split.now, split.portions);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.checkpoint.ledgers).toEqual([[second, ledger(7)], [first, ledger(5)]]);
    expect(r.checkpoint.seq).toBe(c.seq);
    expect(r.checkpoint.now).toBe(c.now);
  });

  it('connection ids carry the ports, the first peer address and both verification tags', () => {
    const w = world(5, 1);
    w.sim.run({ until: 300 });
    for (const id of w.hosts.A.endpoint.associationIds()) {
      const a = w.hosts.A.endpoint.snapshot(id)!;
      const tcb = 'tcb' in a.fsm ? a.fsm.tcb : undefined;
      expect(connectionId(a)).toBe(`5000-${a.peerAddresses[0]}:${a.peerPort}-${tcb!.localTag.toString(16).padStart(8, '0')}-${tcb!.peerTag.toString(16).padStart(8, '0')}`);
    }
  });
});

describe('checkpoint portions: diff', () => {
  const kinds = (ps: readonly { key: string }[]): string[] => [...new Set(ps.map((p) => p.key.replace(/^data\/.*/, 'data')))].sort();

  it('names only the modules that changed: one message on stream 2 changes the core, stream 2, a path and a payload, not the other streams', () => {
    const w = world(21, 12, null);
    w.sim.run({ until: 2400 }); // transfer done
    const ep = w.hosts.A.endpoint;
    const snap = (): readonly Portion[] => splitCheckpoint(checkpointOf(ep, w.sim.now), digest).portions;
    let prev: PortionDigests = diffPortions(new Map(), snap(), digest).next;
    // Nothing happened in between: nothing to send.
    const idle = diffPortions(prev, snap(), digest);
    expect(idle.put).toEqual([]);
    expect(idle.drop).toEqual([]);
    expect(idle.dropConns).toEqual([]);
    prev = idle.next;

    const toB = ep.associationIds()[0]!;
    const connB = connectionId(ep.snapshot(toB)!);
    w.sim.at(w.sim.now + 1, (s) => {
      expect(ep.send(s.now, toB, new Uint8Array(500).fill(0x42), { streamId: 2, ppid: 1 }).ok).toBe(true);
    });
    w.sim.run({ until: w.sim.now + 2 }); // sent, not acknowledged yet
    const sent = diffPortions(prev, snap(), digest);
    expect(sent.put.every((p) => p.conn === connB)).toBe(true);
    expect(kinds(sent.put)).toEqual(['core', 'data', 'path/10.5.1.2', 'stream/2']);
    prev = sent.next;

    w.sim.run({ until: w.sim.now + 300 }); // acknowledged: the payload is no longer held
    const acked = diffPortions(prev, snap(), digest);
    expect(acked.drop.map((d) => d.key.replace(/^data\/.*/, 'data'))).toEqual(['data']);
    expect(kinds(acked.put)).not.toContain('stream/0');
    prev = acked.next;

    // The association to C closes: its connection disappears.
    const toC = ep.associationIds()[1]!;
    const connC = connectionId(ep.snapshot(toC)!);
    w.sim.at(w.sim.now + 1, (s) => ep.abort(s.now, toC));
    w.sim.run({ until: w.sim.now + 50 });
    const closed = diffPortions(prev, snap(), digest);
    expect(closed.dropConns).toEqual([connC]);
    expect(closed.put.map((p) => p.conn)).toContain(ENDPOINT_CONN);
  });
});

describe('checkpoint portions: forged input', () => {
  const w = world(8, 40);
  w.sim.run({ until: 90 }); // mid-transfer
  const real = splitCheckpoint(checkpointOf(w.hosts.A.endpoint, w.sim.now, []), digest).portions;

  it('recombine never throws on mutated, truncated, dropped or foreign portions', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            which: fc.nat(),
            op: fc.constantFrom('flip', 'truncate', 'drop', 'random', 'rekey', 'reconn'),
            at: fc.nat(),
            bytes: fc.uint8Array({ maxLength: 64 }),
            key: fc.constantFrom(CORE, APP, 'path/10.5.1.2', 'stream/0', 'data/x', 'endpoint', 'zzz'),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (muts) => {
          let ps: Portion[] = real.slice();
          for (const m of muts) {
            const i = m.which % ps.length;
            const p = ps[i]!;
            const b = p.bytes.slice();
            switch (m.op) {
              case 'flip':
                if (b.length > 0) b[m.at % b.length] = b[m.at % b.length]! ^ (1 << m.at % 8);
                ps[i] = { ...p, bytes: b };
                break;
              case 'truncate':
                ps[i] = { ...p, bytes: b.subarray(0, m.at % (b.length + 1)) };
                break;
              case 'drop':
                ps = ps.filter((_, k) => k !== i);
                break;
              case 'random':
                ps[i] = { ...p, bytes: m.bytes };
                break;
              case 'rekey':
                ps[i] = { ...p, key: m.key };
                break;
              case 'reconn':
                ps[i] = { ...p, conn: ENDPOINT_CONN };
                break;
            }
            if (ps.length === 0) return;
          }
          const r = recombine(1, 1, ps);
          expect(typeof r.ok).toBe('boolean');
          if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 800 },
    );
  });

  it('a session restoring forged portions into a Replica reports an error or succeeds, never throws', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), (which, at, bit) => {
        const ps = real.map((p) => ({ ...p }));
        const i = which % ps.length;
        const b = ps[i]!.bytes.slice();
        if (b.length > 0) b[at % b.length] = b[at % b.length]! ^ (1 << bit % 8);
        ps[i] = { ...ps[i]!, bytes: b };
        const replica = new Replica({ node: 'x', role: 'primary', endpoint: { localAddresses: A, port: 5000, config: simulationConfig, hmac }, ownAddresses: A, rng: new SeededRng(1), now: 0 });
        const session = new CheckpointSession({ node: 'x', mode: 'sync', digest });
        const r = session.restore(replica, 0, { seq: 5, now: 1, portions: ps.map((p) => [p.conn, p.key, p.bytes] as const) });
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 400 },
    );
  });

  it('says what is missing', () => {
    const noPath = real.filter((p) => !p.key.startsWith('path/'));
    expect(recombine(1, 1, noPath)).toMatchObject({ ok: false, error: expect.stringMatching(/path portion path\/10\.5\.\d\.\d missing/) });
    expect(recombine(1, 1, real.filter((p) => p.conn !== ENDPOINT_CONN))).toMatchObject({ ok: false, error: 'no endpoint portion' });
    expect(recombine(1, 1, real.filter((p) => !p.key.startsWith('data/')))).toMatchObject({ ok: false, error: expect.stringMatching(/data portion data\/\S+ missing/) });
  });
});
