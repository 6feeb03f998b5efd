// ClusterNode's timer against Node's event loop: a standby whose process did
// not run for longer than the failure-detection time (a long batch, GC, a
// loaded host) must read what the primary sent meanwhile before it judges the
// primary silent. Node runs expired timers before it polls for I/O, so a
// handler that decided at once would promote the standby beside a live
// primary (seen in the namespace failover test on a loaded 2-core host).
//
// The "primary" is a worker thread (its own event loop, so it keeps sending
// while the main thread is blocked) that replays one authenticated hello
// frame every 10 ms on the cluster link. No root, loopback only.
import { createHmac, randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseNodeConfig } from '../../src/cluster/config.js';
import { ClusterNode } from '../../src/cluster/node.js';
import { encodeFrame } from '../../src/cluster/state/frame.js';
import { encodeMessage } from '../../src/cluster/state/messages.js';
import type { Notice } from '../../src/cluster/state/replica.js';

const PRIMARY = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const frame = Buffer.from(workerData.frame);
const server = net.createServer((s) => {
  s.on('error', () => {});
  s.resume();
  const t = setInterval(() => s.write(frame), 10);
  s.on('close', () => clearInterval(t));
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let worker: Worker | undefined;
let node: ClusterNode | undefined;

afterEach(async () => {
  await node?.close();
  await worker?.terminate();
  node = undefined;
  worker = undefined;
});

describe('ClusterNode failure detection', () => {
  it('a standby that did not run for 400 ms reads the primary before judging it silent', async () => {
    const key = randomBytes(32);
    const hello = encodeMessage({ t: 'hello', epoch: 0, node: 'a', role: 'primary', appliedSeq: 0, sentAt: 0, protection: 'unprotected' });
    const frame = encodeFrame(hello, key, (k, d) => createHmac('sha256', k).update(d).digest());
    worker = new Worker(PRIMARY, { eval: true, workerData: { frame } });
    const port = await new Promise<number>((resolve, reject) => {
      worker!.once('message', resolve);
      worker!.once('error', reject);
    });
    const config = parseNodeConfig({
      node: 'b',
      role: 'standby',
      sctp: { addresses: ['127.0.0.1'], port: 5999, transport: 'udp', udpPort: 0 },
      peers: [{ node: 'a', addresses: ['127.0.0.2'] }],
      cluster: { dial: `127.0.0.1:${port}`, key: key.toString('hex'), heartbeatInterval: 50, heartbeatMisses: 3 },
      app: 'discard',
    });
    const notices: Notice[] = [];
    node = new ClusterNode({ config, logger: pino({ level: 'silent' }), onNotice: (n) => notices.push(n) });
    await node.start();
    await sleep(300);
    expect(node.status().link.framesIn).toBeGreaterThan(5);

    // This process stops running for 400 ms (> 150 ms detection) while the primary keeps talking.
    const until = performance.now() + 400;
    while (performance.now() < until) {
      // busy: no timer, no I/O
    }
    await sleep(150);

    expect(notices.filter((n) => n.type === 'role')).toEqual([]);
    expect(node.replica.currentRole).toBe('standby');
  });
});
