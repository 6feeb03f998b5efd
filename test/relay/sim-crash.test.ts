// The relay in the deterministic simulator: the guarantee acknowledge after
// forward gives when the relay crashes, and its negative control. A single
// relay without a standby loses its associations when it crashes; what the
// front sender can rely on is that nothing it saw acknowledged was lost, so
// it can send the rest again. Without the hold, messages acknowledged to it
// die inside the relay, and this test shows that they do.
import { describe, expect, it } from 'vitest';
import { createEndpoint, type Endpoint } from '../../src/core/endpoint.js';
import { SeededRng, type Millis } from '../../src/core/env.js';
import type { ProtocolConfig } from '../../src/core/config.js';
import { createSimulation, type Simulation } from '../../src/sim/simulation.js';
import { relayProtocolConfig } from '../../src/relay/config.js';
import { RelaySimHost } from '../../src/relay/sim-host.js';
import { hmac, hmacSha1, ReaderHost } from '../core/assoc/helpers.js';

const C = '10.0.0.1';
const R = '10.0.0.2';
const S = '10.0.0.3';
const PORT_C = 5000;
const PORT_R = 2905;
const PORT_S = 3000;
const N = 200;
const quiet: Partial<ProtocolConfig> = { hbInterval: 3_600_000 };

function ep(address: string, port: number, seed: number, config: Partial<ProtocolConfig>): Endpoint {
  return createEndpoint({ localAddresses: [address], port, config, rng: new SeededRng(seed), hmac, hmacSha1, now: 0 });
}

function relayHost(hold: boolean, seed: number): RelaySimHost {
  const config = relayProtocolConfig({ ackAfterForward: hold, holdLimitMs: 5000, protocol: quiet });
  return new RelaySimHost(ep(R, PORT_R, seed, config), { backends: [{ name: 's', addresses: [S], port: PORT_S }], routing: { mode: 'round-robin' } });
}

const num = (d: Uint8Array): number => Number(new TextDecoder().decode(d));

interface Run {
  sim: Simulation;
  client: ReaderHost;
  server: ReaderHost;
  /** Message number per client message id, per client association. */
  ids: Map<string, number>;
  assoc: number;
  next: number;
  /** Bytes per message (the number, padded with spaces). */
  size: number;
}

/** Client → relay → server; the client sends message i every 5 ms from t=10. */
function setup(hold: boolean, seed: number, size = 8): Run {
  const sim = createSimulation({ seed, defaultLink: { delay: 1 } });
  // The back side is far and lossy: the relay's SACK to the client comes long
  // before the server's to the relay, and some forwarded copies exist only in
  // the relay's retransmission queue when it crashes.
  sim.link(R, S, { delay: 40 });
  sim.link(R, S, { delay: 40, loss: 0.1 }, { oneWay: true });
  const client = new ReaderHost(ep(C, PORT_C, seed + 1, { ...quiet, notifyAcked: true }));
  const server = new ReaderHost(ep(S, PORT_S, seed + 2, quiet));
  sim.addNode('c', [C], client);
  sim.addNode('r', [R], relayHost(hold, seed + 3));
  sim.addNode('s', [S], server);
  const r = client.endpoint.connect(0, { remoteAddresses: [R], remotePort: PORT_R });
  if (!r.ok) throw new Error('connect');
  sim.poke('c');
  const run: Run = { sim, client, server, ids: new Map(), assoc: r.assocId, next: 0, size };
  for (let i = 0; i < N; i++) sim.at(10 + 5 * i, () => sendNext(run), `send ${i}`);
  return run;
}

function sendNext(run: Run, data?: Uint8Array): void {
  const n = data ? num(data) : run.next++;
  const r = run.client.endpoint.send(run.sim.now, run.assoc, data ?? new TextEncoder().encode(String(n).padEnd(run.size)), { streamId: 0, ppid: 0 });
  if (r.ok) run.ids.set(`${run.assoc}/${r.messageId}`, n);
}

/** Numbers the client saw covered by the relay's cumulative ack. */
function ackedAtClient(run: Run): Set<number> {
  const out = new Set<number>();
  for (const x of run.client.events) if (x.e.event.type === 'message-acked') out.add(run.ids.get(`${x.e.assocId}/${x.e.event.messageId}`)!);
  return out;
}

function atServer(run: Run): number[] {
  return run.server.events.flatMap((x) => (x.e.event.type === 'message' ? [num(x.e.event.data)] : []));
}

const CRASH: Millis = 500;

describe('relay crash in the simulation', () => {
  for (const seed of [1, 2, 3]) {
    it(`without acknowledge after forward, a crash loses messages the client saw acknowledged (negative control, seed ${seed})`, () => {
      const run = setup(false, seed);
      run.sim.at(CRASH, (s) => s.killNode('r'), 'crash relay');
      run.sim.run({ until: 3000 });
      const acked = ackedAtClient(run);
      const got = new Set(atServer(run));
      const lost = [...acked].filter((n) => !got.has(n));
      expect(acked.size).toBeGreaterThan(0);
      expect(lost.length).toBeGreaterThan(0);
    });

    it(`with it, nothing the client saw acknowledged is lost; the rest is reported back to it (seed ${seed})`, () => {
      const run = setup(true, seed);
      run.sim.at(CRASH, (s) => s.killNode('r'), 'crash relay');
      run.sim.run({ until: 3000 });
      const acked = ackedAtClient(run);
      const got = new Set(atServer(run));
      expect(acked.size).toBeGreaterThan(0);
      expect([...acked].filter((n) => !got.has(n))).toEqual([]);
      // Messages the server got but whose acknowledgement died with the relay are not acked at the client.
      expect(acked.size).toBeLessThanOrEqual(got.size);
    });
  }

  it('relay restart: the client learns which messages were not acknowledged, sends them again, and every message arrives (duplicates counted)', () => {
    const run = setup(true, 7);
    run.sim.at(CRASH, (s) => s.killNode('r'), 'crash relay');
    run.sim.at(CRASH + 200, (s) => s.replaceHost('r', relayHost(true, 99)), 'restart relay');
    const failed: Uint8Array[] = [];
    run.sim.runUntil(() => run.client.events.some((x) => x.e.event.type === 'communication-lost'), 60_000);
    for (const x of run.client.events) if (x.e.event.type === 'send-failed') failed.push(x.e.event.data);
    // The client application reconnects and sends what was not acknowledged, in order, then goes on.
    const r = run.client.endpoint.connect(run.sim.now, { remoteAddresses: [R], remotePort: PORT_R });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    run.assoc = r.assocId;
    run.sim.poke('c');
    run.sim.runUntil(() => run.client.events.filter((x) => x.e.event.type === 'communication-up').length === 2, run.sim.now + 5000);
    const resentFrom = run.sim.now;
    for (const d of failed) sendNext(run, d);
    run.sim.poke('c');
    run.sim.runUntil(() => run.next >= N && new Set(atServer(run)).size === N, resentFrom + 30_000);
    run.sim.run({ until: run.sim.now + 2000 });
    const got = atServer(run);
    expect(new Set(got).size).toBe(N);
    // At least once: a message that reached the server just before the crash, unacknowledged at the client, arrives twice.
    const duplicates = got.length - N;
    expect(duplicates).toBeLessThanOrEqual(failed.length);
    expect(failed.length).toBeGreaterThan(0);
  });

  it('back-side drop: the server restarts mid-stream; the relay sends what it had not acknowledged over a new association, the client never notices', () => {
    // 1200-byte messages: the back association's window keeps many of them in flight at once.
    const run = setup(true, 11, 1200);
    const restarted = new ReaderHost(ep(S, PORT_S, 555, quiet));
    // Restart the server once it has taken some messages, while more are in flight.
    run.sim.runUntil(() => atServer(run).length >= 40, 5000);
    const before = atServer(run).length;
    const relayHost0 = run.sim.host('r') as RelaySimHost;
    expect(relayHost0.core.waiting()).toBeGreaterThan(0);
    run.sim.replaceHost('s', restarted);
    run.sim.runUntil(() => run.next >= N && ackedAtClient(run).size === N, 60_000);
    const relay = run.sim.host('r') as RelaySimHost;
    expect(before).toBeLessThan(N);
    expect(relay.core.counters.backLost).toBe(1);
    expect(relay.core.counters.resent).toBeGreaterThan(0);
    // Every message the client sent is acknowledged, over its one association.
    expect(ackedAtClient(run).size).toBe(N);
    expect(run.client.events.some((x) => x.e.event.type === 'communication-lost' || x.e.event.type === 'send-failed')).toBe(false);
    // Between them the two server incarnations received every message, the new one in order.
    const second = restarted.events.flatMap((x) => (x.e.event.type === 'message' ? [num(x.e.event.data)] : []));
    const all = new Set([...atServer(run), ...second]);
    expect(all.size).toBe(N);
    expect(second).toEqual([...second].sort((x, y) => x - y));
  });
});
