import { describe, it, expect } from 'vitest';
import { createSimulation } from '../../src/sim/simulation.js';
import { EchoHost, ScriptedHost } from '../../src/sim/test-hosts.js';
import { dataScript } from './util.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

describe('trace', () => {
  it('records every datagram with its fate and renders one line each', () => {
    const sim = createSimulation({ seed: 1 });
    sim.addNode('a', [A], new ScriptedHost(dataScript(A, B, 2, { interval: 1 })));
    sim.addNode('b', [B], new EchoHost(0.5));
    sim.link(A, B, { delay: 2 });
    sim.link(B, A, { up: false }, { oneWay: true });
    sim.run({ untilIdle: true, maxTime: 100 });
    expect(sim.formatTrace()).toBe(
      [
        '      0.000 #1     sent      10.0.0.1 > 10.0.0.2 | 5000 > 5000 vtag=0x00000001 DATA tsn=0 sid=0 ssn=0 ppid=0 len=4 [B E]',
        '      1.000 #2     sent      10.0.0.1 > 10.0.0.2 | 5000 > 5000 vtag=0x00000001 DATA tsn=1 sid=0 ssn=0 ppid=0 len=4 [B E]',
        '      2.000 #1     delivered 10.0.0.1 > 10.0.0.2 | 5000 > 5000 vtag=0x00000001 DATA tsn=0 sid=0 ssn=0 ppid=0 len=4 [B E]',
        '      2.500 #3     sent      10.0.0.2 > 10.0.0.1 | 5000 > 5000 vtag=0x00000001 SACK cum=0 a_rwnd=65535 gaps=[] dups=[]',
        '      2.500 #3     dropped   10.0.0.2 > 10.0.0.1 (link-down) | 5000 > 5000 vtag=0x00000001 SACK cum=0 a_rwnd=65535 gaps=[] dups=[]',
        '      3.000 #2     delivered 10.0.0.1 > 10.0.0.2 | 5000 > 5000 vtag=0x00000001 DATA tsn=1 sid=0 ssn=0 ppid=0 len=4 [B E]',
        '      3.500 #4     sent      10.0.0.2 > 10.0.0.1 | 5000 > 5000 vtag=0x00000001 SACK cum=1 a_rwnd=65535 gaps=[] dups=[]',
        '      3.500 #4     dropped   10.0.0.2 > 10.0.0.1 (link-down) | 5000 > 5000 vtag=0x00000001 SACK cum=1 a_rwnd=65535 gaps=[] dups=[]',
      ].join('\n'),
    );
    expect(sim.trace[2]).toMatchObject({ time: 2, id: 1, copy: 0, fate: 'delivered', fromNode: 'a', toNode: 'b' });
    expect(sim.formatTrace({ last: 1 }).split('\n')).toHaveLength(1);
    expect(sim.formatTrace({ where: (e) => e.fate === 'dropped' }).split('\n')).toHaveLength(2);
    expect(sim.linkStats(B, A)).toMatchObject({ sent: 2, linkDown: 2, delivered: 0 });
    expect(sim.linkStats(A, B)).toMatchObject({ sent: 2, delivered: 2, bytesSent: 64, bytesDelivered: 64 });
    expect(sim.allLinkStats().map((l) => `${l.from}>${l.to}`)).toEqual(['10.0.0.1>10.0.0.2', '10.0.0.2>10.0.0.1']);
  });

  it('traceLimit bounds memory, keeping the latest entries', () => {
    const sim = createSimulation({ seed: 1, traceLimit: 100 });
    sim.addNode('a', [A], new ScriptedHost(dataScript(A, B, 500)));
    sim.addNode('b', [B], new ScriptedHost());
    sim.run({ untilIdle: true, maxTime: 1000 });
    expect(sim.trace.length).toBeLessThan(200);
    expect(sim.trace.length + sim.traceDiscarded).toBe(1000);
    expect(sim.trace.at(-1)?.id).toBe(500);
    expect(sim.formatTrace()).toMatch(/^\(\d+ earlier entries discarded\)\n/);
    const off = createSimulation({ seed: 1, traceLimit: 0 });
    off.addNode('a', [A], new ScriptedHost(dataScript(A, B, 5)));
    off.run({ untilIdle: true, maxTime: 100 });
    expect(off.trace).toEqual([]);
  });
});
