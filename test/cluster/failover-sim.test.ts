import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runFailoverSimulation } from '../../src/sim/cluster.js';

const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => createHmac('sha256', key).update(data).digest();

describe('failover simulation', () => {
  it('no kill: every message echoed once', () => {
    const r = runFailoverSimulation({ seed: 1, hmac, messages: 100, killAt: undefined });
    expect(r).toMatchObject({ echoed: 100, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, failures: [] });
  });
  it('kill mid-stream: the standby carries on', () => {
    const r = runFailoverSimulation({ seed: 2, hmac, messages: 200, killAt: 150 });
    console.log(r);
    expect(r).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, corrupted: 0, failures: [], promoted: true });
  });
});
