// Source address selection for multihomed associations (src/core/path/source.ts).
//
// Regression (found by the namespace interop matrix, test/interop/matrix-*):
// the path-verification HEARTBEAT to the peer's second address left from our
// FIRST address, i.e. across links. On two disjoint networks (or with strict
// reverse path filtering) such a packet is dropped, so neither side ever
// confirmed its second path. The simulation below has no cross routes at all.
import { describe, expect, it } from 'vitest';
import { createEndpoint } from '../../../src/core/endpoint.js';
import { SeededRng } from '../../../src/core/env.js';
import { commonPrefixBits, selectSource } from '../../../src/core/path/source.js';
import { parseIPv4, parseIPv6 } from '../../../src/wire/address.js';
import { decodePacket } from '../../../src/wire/packet.js';
import { EndpointHost } from '../../../src/sim/scenarios.js';
import { createSimulation } from '../../../src/sim/simulation.js';
import { hmac, PORT_A, PORT_B, text } from '../assoc/helpers.js';

describe('selectSource', () => {
  it('counts common leading bits', () => {
    expect(commonPrefixBits(parseIPv4('10.82.12.1')!, parseIPv4('10.82.12.2')!)).toBe(30);
    expect(commonPrefixBits(parseIPv4('10.82.12.1')!, parseIPv4('10.82.11.2')!)).toBe(21);
    expect(commonPrefixBits(parseIPv4('10.0.0.1')!, parseIPv4('10.0.0.1')!)).toBe(32);
    expect(commonPrefixBits(parseIPv4('128.0.0.0')!, parseIPv4('0.0.0.0')!)).toBe(0);
    expect(commonPrefixBits(parseIPv6('fd00:1::1')!, parseIPv6('fd00:1::2')!)).toBe(126);
  });

  it('a single address of the family is the answer, whatever was learned', () => {
    expect(selectSource(['10.0.0.1'], '10.1.0.2', '10.0.0.1')).toBe('10.0.0.1');
    expect(selectSource(['fd00::1', '10.0.0.1'], '10.1.0.2')).toBe('10.0.0.1');
    expect(selectSource(['10.0.0.1', 'fd00::1'], 'fd00:9::2')).toBe('fd00::1');
  });

  it('on-link first: the local address in the destination subnet, even against a learned cross-link route', () => {
    const local = ['10.82.11.2', '10.82.12.2'];
    expect(selectSource(local, '10.82.12.1')).toBe('10.82.12.2');
    expect(selectSource(local, '10.82.11.1')).toBe('10.82.11.2');
    // The peer sent from 10.82.12.1 to our 10.82.11.2 (usrsctp does): still answer from the on-link address.
    expect(selectSource(local, '10.82.12.1', '10.82.11.2')).toBe('10.82.12.2');
    expect(selectSource(['fd00:1::1', 'fd00:2::1'], 'fd00:2::9', 'fd00:1::1')).toBe('fd00:2::1');
  });

  it('no on-link address: the learned route, else the first address of the family', () => {
    const local = ['192.168.1.10', '172.16.1.10'];
    expect(selectSource(local, '10.2.1.1', '172.16.1.10')).toBe('172.16.1.10');
    expect(selectSource(local, '10.2.1.1')).toBe('192.168.1.10');
    // Two addresses equally close (a tie) are not "on-link" evidence either.
    expect(selectSource(['10.0.0.1', '10.0.0.2'], '10.0.0.3', '10.0.0.1')).toBe('10.0.0.2');
    expect(selectSource(['10.0.0.5', '10.0.0.6'], '10.0.0.0', '10.0.0.6')).toBe('10.0.0.6');
    // A learned address that is no longer ours (ASCONF deleted it) is ignored.
    expect(selectSource(local, '10.2.1.1', '10.9.9.9')).toBe('192.168.1.10');
  });
});

describe('multihoming over two disjoint networks (no route between them)', () => {
  const A1 = '10.81.1.1';
  const A2 = '10.81.2.1';
  const B1 = '10.81.1.2';
  const B2 = '10.81.2.2';

  it('both sides confirm both paths, every packet stays on its network, and data moves to the second path', () => {
    // defaultLink null: only the links set up below route; 10.81.1.x and 10.81.2.x never meet.
    const sim = createSimulation({ seed: 7, defaultLink: null });
    sim.setLink(A1, B1, { delay: 5 });
    sim.setLink(A2, B2, { delay: 5 });
    const a = new EndpointHost(createEndpoint({ localAddresses: [A1, A2], port: PORT_A, rng: new SeededRng(1), hmac, now: 0 }));
    const b = new EndpointHost(createEndpoint({ localAddresses: [B1, B2], port: PORT_B, rng: new SeededRng(2), hmac, now: 0 }));
    sim.addNode('a', [A1, A2], a);
    sim.addNode('b', [B1, B2], b);
    const r = a.endpoint.connect(0, { remoteAddresses: [B1, B2], remotePort: PORT_B });
    if (!r.ok) throw new Error('connect');
    sim.poke('a');
    sim.run({ until: 2000 });

    const pathsOf = (h: EndpointHost, id: number) => {
      const s = h.endpoint.snapshot(id);
      if (s?.fsm.state !== 'established') throw new Error(`state ${s?.fsm.state}`);
      return s.fsm.tcb.paths.map((p) => [p.address, p.state]);
    };
    const idB = b.events.find((e) => e.e.event.type === 'communication-up')!.e.assocId;
    expect(pathsOf(a, r.assocId)).toEqual([
      [B1, 'active'],
      [B2, 'active'],
    ]);
    expect(pathsOf(b, idB)).toEqual([
      [A1, 'active'],
      [A2, 'active'],
    ]);

    expect(a.endpoint.setPrimary(sim.now, r.assocId, B2)).toEqual({ ok: true });
    for (let i = 0; i < 20; i++) a.endpoint.send(sim.now, r.assocId, text(`m${i}`), { streamId: 0, ppid: 0 });
    sim.poke('a');
    sim.run({ until: 4000 });
    const got = b.events.flatMap((e) => (e.e.event.type === 'message' ? [new TextDecoder().decode(e.e.event.data)] : []));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));

    const noRoute = sim.trace.filter((t) => t.fate === 'dropped' && t.reason === 'no-route');
    expect(noRoute.map((t) => `${t.source}>${t.destination}`)).toEqual([]);
    const dataOn2 = sim.trace.filter((t) => t.fate === 'delivered' && t.source === A2 && t.destination === B2).some((t) => {
      const p = decodePacket(t.bytes);
      return p.ok && p.value.chunks.some((c) => c.kind === 'data');
    });
    expect(dataOn2).toBe(true);
  });
});
