// RFC 9260 §6.4, §8.2, §8.3, RFC 7829: multihomed path failure and failover, over src/sim.
import { describe, expect, it } from 'vitest';
import { defaultProtocolConfig, type ProtocolConfig } from '../../../src/core/config.js';
import { createEndpoint } from '../../../src/core/endpoint.js';
import { SeededRng } from '../../../src/core/env.js';
import { failureDetectionTime } from '../../../src/core/path/rto.js';
import { EndpointHost } from '../../../src/sim/scenarios.js';
import { createSimulation } from '../../../src/sim/simulation.js';
import { A, A2, B, B2, PORT_A, PORT_B, hmac, text } from './helpers.js';

function multihomed(config: Partial<ProtocolConfig>) {
  const sim = createSimulation({ seed: 5, defaultLink: { delay: 10 } });
  let next = 0;
  const a = new EndpointHost(createEndpoint({ localAddresses: [A, A2], port: PORT_A, config, rng: new SeededRng(1), hmac, now: 0 }));
  const b = new EndpointHost(createEndpoint({ localAddresses: [B, B2], port: PORT_B, config, rng: new SeededRng(2), hmac, now: 0 }));
  sim.addNode('a', [A, A2], a);
  sim.addNode('b', [B, B2], b);
  const r = a.endpoint.connect(0, { remoteAddresses: [B, B2], remotePort: PORT_B });
  if (!r.ok) throw new Error('connect');
  const id = r.assocId;
  sim.poke('a');
  // The application sends one message every 100 ms.
  const tick = (s: typeof sim): void => {
    if (a.endpoint.snapshot(id)?.fsm.state === 'established') a.endpoint.send(s.now, id, text(`m${next++}`), { streamId: 0, ppid: 0 });
    a.settle(s.now);
    s.after(100, tick);
  };
  sim.after(100, tick);
  return { sim, a, b, id };
}

const received = (b: EndpointHost) => b.events.flatMap((e) => (e.e.event.type === 'message' ? [new TextDecoder().decode(e.e.event.data)] : []));

describe('multihoming', () => {
  it('both peer addresses get confirmed by HEARTBEAT, the primary is the one the handshake used', () => {
    const { sim, a, id } = multihomed({});
    sim.run({ until: 3000 });
    const s = a.endpoint.snapshot(id)!;
    if (s.fsm.state !== 'established') throw new Error('state');
    expect(s.fsm.tcb.paths.map((p) => [p.address, p.state])).toEqual([
      [B, 'active'],
      [B2, 'active'],
    ]);
    expect(s.fsm.tcb.primary).toBe(B);
  });

  for (const pf of [false, true]) {
    it(`primary path failure (PF ${pf ? 'on' : 'off'}): new data moves to the alternate within failureDetectionTime, nothing lost`, () => {
      const config: Partial<ProtocolConfig> = pf ? { pfMaxRetrans: 0 } : {};
      const { sim, a, b, id } = multihomed(config);
      sim.run({ until: 5000 });
      const s0 = a.endpoint.snapshot(id)!;
      if (s0.fsm.state !== 'established') throw new Error('state');
      const rto = s0.fsm.tcb.paths[0]!.rto;
      // Cut every route to B's primary address.
      const cutAt = sim.now;
      sim.setLink(A, B, { up: false });
      sim.setLink(A2, B, { up: false });
      const moved = (): boolean =>
        a.events.some((e) => e.e.event.type === 'peer-address-change' && e.e.event.address === B && (e.e.event.state === (pf ? 'SCTP_ADDR_POTENTIALLY_FAILED' : 'SCTP_ADDR_UNREACHABLE')));
      const t = sim.runUntil(moved, cutAt + 200_000);
      const expected = failureDetectionTime({ ...defaultProtocolConfig, ...config }, { pf, rto });
      // The first message after the cut goes within 100 ms; detection is the backoff sum from there.
      expect(t - cutAt).toBeGreaterThanOrEqual(expected);
      expect(t - cutAt).toBeLessThanOrEqual(expected + 100);
      // New data now goes to B2 and everything sent arrives, once, in order.
      sim.run({ until: sim.now + 10_000 });
      const s1 = a.endpoint.snapshot(id)!;
      if (s1.fsm.state !== 'established') throw new Error(`state ${s1.fsm.state}`);
      expect(s1.fsm.tcb.lastDataDestination).toBe(B2);
      const got = received(b);
      expect(new Set(got).size).toBe(got.length);
      expect(got).toEqual(got.slice().sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))));
      expect(got.length).toBeGreaterThan(100);
    });
  }

  it('transmits use a local source address of the destination family, and SACKs are accepted from any peer address', () => {
    const { sim, a, b, id } = multihomed({});
    sim.run({ until: 3000 });
    for (const e of sim.trace.filter((t) => t.fate === 'delivered' || t.fate === 'sent')) {
      expect([A, A2, B, B2]).toContain(e.source);
    }
    expect(a.endpoint.setPrimary(sim.now, id, B2)).toEqual({ ok: true });
    sim.run({ until: 5000 });
    const s = a.endpoint.snapshot(id)!;
    if (s.fsm.state !== 'established') throw new Error('state');
    expect(s.fsm.tcb.lastDataDestination).toBe(B2);
    expect(received(b).length).toBeGreaterThan(30);
    expect(a.endpoint.setPrimary(sim.now, id, '10.9.9.9')).toEqual({ ok: false, error: 'no-such-address' });
  });
});
