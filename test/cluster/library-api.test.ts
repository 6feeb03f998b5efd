// The cluster node and the relay are reachable from the package's entry point
// (README "High availability": a node with the application's own handler).
import { describe, expect, it } from 'vitest';
import { ClusterNode, createApp, createClusterNode, parseNodeConfig, parseRelayConfig, startRelay, type AppEvent, type ClusterApp } from '../../src/index.js';

describe('library entry point', () => {
  it('exports the cluster node, its config parser and the built-in applications', () => {
    expect(typeof createClusterNode).toBe('function');
    expect(typeof ClusterNode).toBe('function');
    expect(typeof startRelay).toBe('function');
    expect(parseRelayConfig({}).ok).toBe(false);
    expect(() => parseNodeConfig({})).toThrow(/node/);
  });

  it("the README's handler answers a message with a reply and its commit in one record", () => {
    const app: ClusterApp = {
      onEvent(e) {
        if (e.type !== 'message') return [];
        return [
          { op: 'send', assocId: e.assocId, data: e.data, options: { streamId: e.streamId, ppid: e.ppid, unordered: e.unordered } },
          { op: 'commit', assocId: e.assocId, delivery: e.delivery },
        ];
      },
      report: () => ({}),
    };
    const e: AppEvent = { type: 'message', assocId: 3, delivery: 7, streamId: 2, ppid: 46, unordered: false, data: new Uint8Array([1, 2]), redelivered: false };
    expect(app.onEvent(e)).toEqual(createApp('echo').onEvent(e));
  });
});
