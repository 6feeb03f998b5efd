/**
 * The control-socket commands every hasctp process answers, over an OpsSource
 * (a `hasctp server` or a cluster node):
 *
 *   {"cmd":"info"}                                  process kind, pid, uptime
 *   {"cmd":"assocs"}                                one row per association
 *   {"cmd":"assoc","id":N}                          everything about one
 *   {"cmd":"set-primary","id":N,"address":"A"}      RFC 9260 §10.1 SET PRIMARY
 *   {"cmd":"abort","id":N}                          RFC 9260 §9.1 ABORT
 *   {"cmd":"metrics"}                               the Prometheus text
 *
 * A process adds its own commands (a node: status, cluster, failover, promote).
 */
import type { Association as CoreAssociation } from '../core/association/types.js';
import type { EndpointCounters } from '../core/endpoint.js';
import { canonicalAddress } from '../wire/address.js';
import { RequestError, type ControlHandler, type ControlRequest } from './control.js';
import { assocDetail, assocRow, endpointMib, mibTotals, type ReplicationView } from './inspect.js';
import { renderMetrics, type ClusterMetrics } from './metrics.js';

export interface OpsSource {
  readonly kind: 'server' | 'node';
  /** A name for the process (the node's name, or `server`). */
  readonly name: string;
  /** The core clock (the time base of the snapshots). */
  now(): number;
  /** Snapshots of every association (plain data). */
  associations(): CoreAssociation[];
  snapshot(id: number): CoreAssociation | undefined;
  endpointCounters(): EndpointCounters;
  replication(): ReplicationView;
  /** @throws RequestError when refused. */
  setPrimary(id: number, address: string): void;
  /** Resolves once the ABORT is out. @throws RequestError when there is no such association. */
  abort(id: number): Promise<void> | void;
  /** Cluster figures for the metrics (nodes only). */
  cluster?(): ClusterMetrics;
}

export class Ops {
  private readonly startedAt = Date.now();

  constructor(readonly source: OpsSource) {}

  assocs(): ReturnType<typeof assocRow>[] {
    const all = this.source.associations();
    const r = this.source.replication();
    return all.map((a) => assocRow(a, r)).sort((x, y) => x.id - y.id);
  }

  assoc(id: number): ReturnType<typeof assocDetail> {
    const s = this.source.snapshot(id);
    if (s === undefined) throw new RequestError(`no association ${id}`);
    return assocDetail(s, this.source.now(), this.source.replication());
  }

  metrics(): string {
    const all = this.source.associations();
    const counters = this.source.endpointCounters();
    return renderMetrics({
      process: this.source.kind,
      name: this.source.name,
      endpoint: endpointMib(counters, all),
      totals: mibTotals(counters, all),
      associations: all.map((a) => assocDetail(a, this.source.now(), this.source.replication())),
      ...(this.source.cluster && { cluster: this.source.cluster() }),
    });
  }

  /** The handler for the control socket; `extra` adds (or overrides) commands. */
  handler(extra: Record<string, ControlHandler> = {}): ControlHandler {
    const builtin: Record<string, ControlHandler> = {
      info: () => ({ ok: true, info: { kind: this.source.kind, name: this.source.name, pid: process.pid, uptimeMs: Date.now() - this.startedAt, associations: this.source.associations().length } }),
      assocs: () => ({ ok: true, associations: this.assocs() }),
      assoc: (req) => ({ ok: true, association: this.assoc(assocId(req)) }),
      'set-primary': (req) => {
        const id = assocId(req);
        const address = typeof req['address'] === 'string' ? canonicalAddress(req['address']) : undefined;
        if (address === undefined) throw new RequestError('"address" must be an IP address');
        if (this.source.snapshot(id) === undefined) throw new RequestError(`no association ${id}`);
        this.source.setPrimary(id, address);
        return { ok: true, id, primary: address };
      },
      abort: async (req) => {
        const id = assocId(req);
        if (this.source.snapshot(id) === undefined) throw new RequestError(`no association ${id}`);
        await this.source.abort(id);
        return { ok: true, id, aborted: true };
      },
      metrics: () => ({ ok: true, text: this.metrics() }),
    };
    const all = { ...builtin, ...extra };
    return (req) => {
      const cmd = req['cmd'] as string;
      const h = Object.hasOwn(all, cmd) ? all[cmd] : undefined;
      if (h === undefined) throw new RequestError(`unknown command ${JSON.stringify(cmd)} (${Object.keys(all).sort().join(', ')})`);
      return h(req);
    };
  }
}

function assocId(req: ControlRequest): number {
  const id = req['id'];
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new RequestError('"id" must be an association id (a non-negative integer)');
  return id;
}
