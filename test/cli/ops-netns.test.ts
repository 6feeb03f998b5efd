// The control socket during a real failover in network namespaces: a primary
// and a standby `hasctp node` in one namespace (one address each, on two veth
// links), a multihomed `hasctp client --verify` in the other, SCTP over UDP.
// The test asks both nodes through their control sockets (Unix sockets are
// files: reachable across network namespaces) before, while and after the
// primary is SIGKILLed, and checks what the commands print against what the
// peer saw. Root and iproute2: skipped loudly without them, failed under CI=true.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeStatus } from '../../src/cluster/node.js';
import type { AssocDetail, AssocRow } from '../../src/ops/inspect.js';
import { requireRoot, requireTool } from '../helpers/env.js';
import { createNsPair, deleteNsPair, killAll, Proc, waitLinksUp, type NsPair } from '../helpers/netns.js';
import { cli, cliJson, compiledBin, until } from '../ops/helpers.js';

const ok = requireRoot('the operations namespace test needs network namespaces') && requireTool('ip', 'the operations namespace test needs ip netns (iproute2)');

describe.skipIf(!ok)('control socket during a failover in namespaces', () => {
  let bin: string;
  let dir: string;
  let ns: NsPair | undefined;
  beforeAll(async () => {
    bin = compiledBin('netns');
    dir = mkdtempSync(join(tmpdir(), 'hasctp-ops-netns-'));
    ns = createNsPair(['o', 'q'], randomInt(100, 200), 10, 2);
    await waitLinksUp(ns);
  }, 180_000);
  afterAll(async () => {
    await killAll();
    deleteNsPair(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  it('cluster / assocs / assoc on both nodes across a SIGKILL of the primary; the peer loses nothing', async () => {
    const n = ns!;
    const key = randomBytes(32).toString('hex');
    const protocol = { rtoMin: 100, rtoInitial: 300, rtoMax: 1000, hbInterval: 300, pfMaxRetrans: 0 };
    const ctl = { a: join(dir, 'a.sock'), b: join(dir, 'b.sock') };
    const addr = { a: n.addrsA[0]!, b: n.addrsA[1]! };
    for (const node of ['a', 'b'] as const) {
      const other = node === 'a' ? 'b' : 'a';
      writeFileSync(
        join(dir, `${node}.json`),
        JSON.stringify({
          node,
          role: node === 'a' ? 'primary' : 'standby',
          sctp: { addresses: [addr[node]], port: 2905, transport: 'udp' },
          peers: [{ node: other, addresses: [addr[other]] }],
          cluster: { ...(node === 'a' ? { listen: '127.0.0.1:7911' } : { dial: '127.0.0.1:7911' }), key, heartbeatInterval: 50, heartbeatMisses: 6 },
          app: 'echo',
          control: ctl[node],
          protocol,
        }),
      );
    }
    const start = (node: 'a' | 'b'): Proc => new Proc(n.a, process.execPath, [bin, 'node', '--config', join(dir, `${node}.json`)], { timeoutMs: 60_000 });
    const a = start('a');
    const b = start('b');
    const status = (c: string): Promise<NodeStatus> => cliJson<NodeStatus>(['cluster', '--json', '--control', c]);
    const assocs = (c: string): Promise<AssocRow[]> => cliJson<AssocRow[]>(['assocs', '--json', '--control', c]);
    await until('both control sockets', async () => (await cli(['cluster', '--json', '--control', ctl.a])).code === 0 && (await cli(['cluster', '--json', '--control', ctl.b])).code === 0, 15_000);
    await until('the standby in sync', async () => (await status(ctl.a)).protection === 'in-sync' && (await status(ctl.b)).protection === 'in-sync', 15_000);

    // The peer: two addresses, numbered messages at 200/s, every echo checked.
    const client = new Proc(n.b, process.execPath, [bin, 'client', '--bind', n.addrsB.join(','), '--connect', `${addr.a},${addr.b}:2905`, '--udp-encap', '9899:9899', '--count', '800', '--rate', '200', '--streams', '2', '--verify', '--json', '--timeout', '30000'], { timeoutMs: 40_000 });
    await until('the association on both nodes', async () => (await assocs(ctl.a)).length === 1 && (await assocs(ctl.b)).length === 1, 10_000);
    const before = (await assocs(ctl.a))[0]!;
    expect(before).toMatchObject({ state: 'established', peerAddresses: n.addrsB, localAddresses: [addr.a, addr.b], replication: { state: 'in-sync', role: 'primary' } });
    expect((await assocs(ctl.b))[0]).toMatchObject({ id: before.id, state: 'established', replication: { state: 'in-sync', role: 'standby' } });
    await until('some traffic', async () => (await cliJson<AssocDetail>(['assoc', String(before.id), '--json', '--control', ctl.a])).mib.sctpReasmUsrMsgs >= 200, 10_000);
    const st = await status(ctl.a);
    expect(st).toMatchObject({ role: 'primary', epoch: 0, link: { up: true }, peer: { node: 'b', role: 'standby' } });

    a.kill();
    await a.exited;
    await until('b primary', async () => (await status(ctl.b)).role === 'primary', 10_000);
    const sb = await status(ctl.b);
    expect(sb).toMatchObject({ role: 'primary', epoch: 1, protection: 'unprotected', link: { up: false } });
    expect(sb.lastFailover!.detectionMs).toBeGreaterThan(200);
    const after = (await assocs(ctl.b))[0]!;
    expect(after).toMatchObject({ id: before.id, state: 'established', peerAddresses: n.addrsB, replication: { state: 'unprotected', role: 'primary' } });
    expect((await cli(['cluster', '--control', ctl.b])).out).toMatch(/associations: 1, UNPROTECTED/);
    expect(await cli(['cluster', '--control', ctl.a])).toMatchObject({ code: 1, err: expect.stringMatching(/^hasctp: cannot reach the node's control socket .*a\.sock \(ECONNREFUSED\); is the process running\?\n$/) });

    expect(await client.wait(35_000)).toBe(0);
    const summary = JSON.parse(client.output().split('\n').find((l) => l.startsWith('{"ok"'))!) as { verify: { lost: number; duplicated: number; reordered: number } };
    expect(summary.verify).toMatchObject({ lost: 0, duplicated: 0, reordered: 0 });
    // The peer shut the association down at the end: gone from the new primary too.
    await until('the association gone', async () => (await assocs(ctl.b)).length === 0, 5000);
    await b.stop('SIGTERM', 5000);
  }, 60_000);
});
