/**
 * OpsSource over the two kinds of hasctp process: a `hasctp server` (the
 * public API's Server) and a cluster node (its Replica). Operator actions go
 * through the same paths as the application's: Association.setPrimary /
 * abort on a server, replicated records (set-primary, abort ops) on a node.
 */
import type { Server } from '../api/server.js';
import type { ClusterNode } from '../cluster/node.js';
import { monotonicNow } from '../runtime/env.js';
import { RequestError } from './control.js';
import type { OpsSource } from './handlers.js';
import type { ClusterMetrics } from './metrics.js';

export function serverSource(server: Server): OpsSource {
  const find = (id: number) => server.associations().find((a) => a.id === id && !a.closed);
  return {
    kind: 'server',
    name: 'server',
    now: () => server.inspect().now,
    associations: () => server.associations().flatMap((a) => a.snapshot() ?? []),
    snapshot: (id) => find(id)?.snapshot(),
    endpointCounters: () => server.inspect().counters,
    replication: () => ({ state: 'none', lagRecords: 0 }),
    setPrimary: (id, address) => {
      const a = find(id);
      if (a === undefined) throw new RequestError(`no association ${id}`);
      try {
        a.setPrimary(address);
      } catch (e) {
        throw new RequestError(e instanceof Error ? e.message : String(e));
      }
    },
    abort: async (id) => {
      const a = find(id);
      if (a === undefined) throw new RequestError(`no association ${id}`);
      await a.abort('operator abort');
    },
  };
}

export function nodeSource(node: ClusterNode): OpsSource {
  const ep = node.replica.endpoint;
  const primaryOnly = (what: string): void => {
    // A standby stays silent (DESIGN.md §4.4): actions go to the primary, which replicates them.
    if (node.replica.currentRole !== 'primary') throw new RequestError(`${what}: this node is a standby; ask the primary`);
  };
  return {
    kind: 'node',
    name: node.config.node,
    now: () => node.replica.coreNow(monotonicNow()),
    associations: () => ep.associationIds().flatMap((id) => ep.snapshot(id) ?? []),
    snapshot: (id) => ep.snapshot(id),
    endpointCounters: () => ({ ...ep.counters }),
    replication: () => {
      const st = node.replica.protectionState;
      return { state: st === 'in-sync' || st === 'joining' ? st : 'unprotected', lagRecords: node.replica.lagRecords, role: node.replica.currentRole };
    },
    setPrimary: (id, address) => {
      primaryOnly('set-primary');
      const tcbPaths = ep.snapshot(id);
      if (tcbPaths !== undefined && !tcbPaths.peerAddresses.includes(address) && !('tcb' in tcbPaths.fsm && tcbPaths.fsm.tcb.paths.some((p) => p.address === address))) {
        throw new RequestError(`set-primary ${address}: not a peer address of association ${id}`);
      }
      node.apply([{ op: 'set-primary', assocId: id, address }]);
    },
    abort: (id) => {
      primaryOnly('abort');
      node.apply([{ op: 'abort', assocId: id }]);
    },
    cluster: (): ClusterMetrics => {
      const s = node.status();
      return {
        role: s.role,
        epoch: s.epoch,
        protection: s.protection,
        lagRecords: s.lagRecords,
        linkUp: s.link.up,
        linkRttMs: s.linkRttMs,
        counters: { ...s.replication },
        lastFailover: s.lastFailover,
      };
    },
  };
}
