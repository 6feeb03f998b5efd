/**
 * The operations side of `hasctp node`: the control socket (the common
 * inspection commands plus status, failover, promote), the metrics endpoint,
 * SIGHUP (reload the log level from the config file) and SIGTERM:
 *
 * - a primary with a standby in sync hands its associations over first
 *   (planned switchover, nothing lost) and waits, bounded, until it is standby;
 * - a primary without one shuts its associations down gracefully (SHUTDOWN,
 *   RFC 9260 §9.2), bounded, before it closes, unless a checkpoint server
 *   holds them (the node's next process continues them);
 * - a standby just leaves (it holds copies, not associations).
 */
import type { Logger } from 'pino';
import { loadNodeConfig, type NodeConfig } from '../cluster/config.js';
import type { ClusterNode } from '../cluster/node.js';
import { defaultControlPath, RequestError, startControlServer, type ControlServer } from '../ops/control.js';
import { Ops } from '../ops/handlers.js';
import { startMetricsServer } from '../ops/metrics.js';
import { nodeSource } from '../ops/sources.js';

export interface NodeOpsOptions {
  readonly node: ClusterNode;
  readonly config: NodeConfig;
  readonly configFile: string;
  readonly logger: Logger;
  readonly control?: string;
  readonly metrics?: { readonly host: string; readonly port: number };
  /** The log level came from the command line: SIGHUP does not change it. */
  readonly logLevelFromCli: boolean;
}

/** Bounds of the SIGTERM steps. */
const HANDOVER_WAIT_MS = 3000;
const SHUTDOWN_WAIT_MS = 3000;

async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Runs until SIGINT/SIGTERM; returns after the node's associations were handed over or shut down. */
export async function runNodeOps(o: NodeOpsOptions): Promise<void> {
  const { node, logger } = o;
  const ops = new Ops(nodeSource(node));
  const handler = ops.handler({
    status: () => ({ ok: true, status: node.status() }),
    cluster: () => ({ ok: true, status: node.status() }),
    failover: () => {
      if (!node.handOver()) throw new RequestError('not a primary with a standby in sync');
      return { ok: true };
    },
    promote: (req) => {
      if (!node.promote(req['force'] === true)) throw new RequestError('cannot promote (already primary, or no in-sync copy: use --force)');
      return { ok: true };
    },
  });
  const controlPath = o.control ?? o.config.control ?? defaultControlPath(o.config.node);
  let control: ControlServer | undefined;
  try {
    control = await startControlServer(controlPath, handler, { onError: (err, req) => logger.error({ err: String(err), cmd: req['cmd'] }, 'control request failed') });
    logger.info({ control: controlPath }, 'control socket ready');
  } catch (e) {
    logger.warn({ control: controlPath, err: e instanceof Error ? e.message : String(e) }, 'no control socket');
  }
  const m = o.metrics ?? o.config.metrics;
  let metrics: { port: number; close(): Promise<void> } | undefined;
  if (m !== undefined) {
    try {
      metrics = await startMetricsServer(m.host, m.port, () => ops.metrics());
      logger.info({ metrics: `${m.host}:${metrics.port}` }, 'metrics ready');
    } catch (e) {
      logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'no metrics endpoint');
    }
  }
  const reload = (): void => {
    try {
      const c = loadNodeConfig(o.configFile);
      if (c.logLevel !== undefined && !o.logLevelFromCli) logger.level = c.logLevel;
      logger.warn({ logLevel: logger.level, file: o.configFile }, 'configuration reloaded (log level; the rest needs a restart)');
    } catch (e) {
      logger.error({ err: e instanceof Error ? e.message : String(e) }, 'configuration not reloaded');
    }
  };
  process.on('SIGHUP', reload);
  const sig = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.off('SIGHUP', reload);
  logger.info({ signal: sig }, 'stopping');
  if (sig === 'SIGTERM' && node.replica.currentRole === 'primary') {
    const t0 = Date.now();
    const epoch = node.replica.currentEpoch;
    if (node.handOver()) {
      // Done when the other node says it is primary in a newer epoch: leaving earlier could
      // take the cluster link down before the standby has taken the role.
      const done = await until(() => {
        const p = node.status().peer;
        return p !== undefined && p.role === 'primary' && p.epoch > epoch;
      }, HANDOVER_WAIT_MS);
      logger.warn({ handedOver: done, ms: Date.now() - t0 }, done ? 'planned switchover done' : 'planned switchover did not complete');
    } else if (node.status().checkpoint?.state === 'protected') {
      // A checkpoint server holds them: the next process of this node continues them (a restart, not an end).
      logger.info({ associations: node.replica.endpoint.associationIds().length }, 'associations left to the checkpoint server');
    } else {
      const ids = node.replica.endpoint.associationIds();
      if (ids.length > 0) {
        node.apply(ids.map((assocId) => ({ op: 'shutdown' as const, assocId })));
        const done = await until(() => node.replica.endpoint.associationIds().length === 0, SHUTDOWN_WAIT_MS);
        logger.info({ associations: ids.length, graceful: done, ms: Date.now() - t0 }, done ? 'associations shut down' : 'associations still closing; leaving');
      }
    }
  }
  await control?.close();
  await metrics?.close();
}
