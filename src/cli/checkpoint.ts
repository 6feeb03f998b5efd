/**
 * `hasctp checkpointd` (the checkpoint server) and `hasctp checkpoints`
 * (what it holds). Registered by addClusterCommands (cluster.ts).
 */
import { checkpointRequest } from '../cluster/checkpoint/client.js';
import { CheckpointServer, type FsyncPolicy } from '../cluster/checkpoint/server.js';
import { ConfigError, hostPort, parseKey } from '../cluster/config.js';
import type { NodeListing } from '../cluster/state/checkpoint-messages.js';
import { cliLogger, type LogLevel } from './log.js';

export interface CheckpointdOptions {
  readonly listen: string;
  readonly key: string;
  readonly dir?: string;
  readonly maxBytes: number;
  readonly fsync: FsyncPolicy;
  readonly logLevel: LogLevel;
}

function usage(cmd: string, e: unknown): number {
  process.stderr.write(`hasctp ${cmd}: ${e instanceof Error ? e.message : String(e)}\n`);
  return 2;
}

export async function checkpointdCommand(o: CheckpointdOptions): Promise<number> {
  let listen;
  let key;
  try {
    listen = hostPort(o.listen, '--listen');
    key = parseKey(o.key, '--key');
  } catch (e) {
    if (e instanceof ConfigError) return usage('checkpointd', e);
    throw e;
  }
  const logger = cliLogger(o.logLevel).child({ component: 'checkpointd' });
  const server = new CheckpointServer({ listen, key, maxBytes: o.maxBytes, fsync: o.fsync, logger, ...(o.dir !== undefined && { dir: o.dir }) });
  try {
    const loaded = await server.start();
    logger.info({ listen: o.listen, port: server.port, dir: o.dir ?? null, maxBytes: o.maxBytes, fsync: o.dir === undefined ? 'no disk' : o.fsync, ...loaded }, 'checkpoint server ready');
  } catch (e) {
    process.stderr.write(`hasctp checkpointd: ${e instanceof Error ? e.message : String(e)}\n`);
    await server.close().catch(() => {});
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  logger.info({ ...server.counters, bytes: server.store.bytes }, 'checkpoint server stopping');
  await server.close();
  return 0;
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function age(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms < 3_600_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 3_600_000).toFixed(1)} h`;
}

/** "core 3.1 KiB, 2 paths 980 B, 4 streams 412 B, app 56 B, 3 data 1.8 KiB" */
function portionSummary(portions: readonly { key: string; bytes: number }[]): string {
  const groups = new Map<string, { n: number; bytes: number }>();
  for (const p of portions) {
    const kind = p.key.includes('/') ? p.key.slice(0, p.key.indexOf('/')) : p.key;
    const g = groups.get(kind) ?? { n: 0, bytes: 0 };
    g.n++;
    g.bytes += p.bytes;
    groups.set(kind, g);
  }
  return [...groups]
    .map(([kind, g]) => (kind === 'core' || kind === 'app' || kind === 'endpoint' ? `${kind} ${size(g.bytes)}` : `${g.n} ${kind}${kind === 'data' || g.n === 1 ? '' : 's'} ${size(g.bytes)}`))
    .join(', ');
}

export function formatListing(server: string, l: { at: number; bytes: number; maxBytes: number; nodes: readonly NodeListing[] }): string {
  const lines = [`checkpoint server ${server}: ${l.nodes.length} node(s), ${size(l.bytes)} of ${size(l.maxBytes)}`];
  for (const n of l.nodes) {
    const conns = n.connections.filter((c) => c.conn !== 'endpoint');
    lines.push(`node ${n.node}: record ${n.seq}, updated ${age(l.at - n.updatedAt)} ago, ${size(n.bytes)}, ${conns.length} connection(s)`);
    for (const c of n.connections) {
      lines.push(`  ${c.conn.padEnd(44)} record ${String(c.seq).padStart(7)}  ${age(l.at - c.updatedAt).padStart(6)} ago  ${size(c.bytes).padStart(9)}  ${portionSummary(c.portions)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function checkpointsCommand(o: { server: string; key: string; json: boolean }): Promise<number> {
  let server;
  let key;
  try {
    server = hostPort(o.server, '--server');
    key = parseKey(o.key, '--key');
  } catch (e) {
    if (e instanceof ConfigError) return usage('checkpoints', e);
    throw e;
  }
  let r;
  try {
    r = await checkpointRequest(server, key, { t: 'list', id: 1 });
  } catch (e) {
    process.stderr.write(`hasctp checkpoints: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  if (r.t !== 'listing') {
    process.stderr.write(`hasctp checkpoints: unexpected answer ${r.t}${r.t === 'error' ? `: ${r.reason}` : ''}\n`);
    return 1;
  }
  if (o.json) {
    const nodes = r.nodes.map((n) => ({
      ...n,
      ageMs: r.at - n.updatedAt,
      connections: n.connections.map((c) => ({ ...c, ageMs: r.at - c.updatedAt })),
    }));
    process.stdout.write(`${JSON.stringify({ server: o.server, bytes: r.bytes, maxBytes: r.maxBytes, nodes })}\n`);
  } else {
    process.stdout.write(formatListing(o.server, r));
  }
  return 0;
}
