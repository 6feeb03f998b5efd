/**
 * Cluster commands: `hasctp node` runs a cluster node; `failover`, `promote`
 * and `cluster` talk to a running node over its control socket.
 */
import type { Command, Option } from 'commander';
import { ConfigError, loadNodeConfig } from '../cluster/config.js';
import { controlRequest, defaultControlPath, startControlServer } from '../cluster/control.js';
import { ClusterNode } from '../cluster/node.js';
import { cliLogger, type LogLevel } from './log.js';
import { demoCommand } from './demo.js';
import { checkpointdCommand, checkpointsCommand } from './checkpoint.js';
import type { FsyncPolicy } from '../cluster/checkpoint/server.js';

export interface ClusterCliHelpers {
  readonly logLevelOption: () => Option;
  readonly usageError: (message: string) => Error;
}

function socketOf(opts: { socket?: string; node?: string }): string {
  if (opts.socket !== undefined) return opts.socket;
  return defaultControlPath(opts.node ?? 'node');
}

export async function nodeCommand(o: { config: string; control?: string; logLevel: LogLevel }): Promise<number> {
  let config;
  try {
    config = loadNodeConfig(o.config);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hasctp node: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = cliLogger(o.logLevel).child({ node: config.node });
  const node = new ClusterNode({ config, logger });
  try {
    await node.start();
  } catch (e) {
    process.stderr.write(`hasctp node: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const controlPath = o.control ?? config.control ?? defaultControlPath(config.node);
  let control: { close(): Promise<void> } | undefined;
  try {
    control = await startControlServer(controlPath, (req) => {
      switch (req['cmd']) {
        case 'status':
          return { ok: true, status: node.status() };
        case 'failover':
          return node.handOver() ? { ok: true } : { ok: false, error: 'not a primary with a standby in sync' };
        case 'promote':
          return node.promote(req['force'] === true) ? { ok: true } : { ok: false, error: 'cannot promote (already primary, or no in-sync copy: use --force)' };
        default:
          return { ok: false, error: `unknown command ${JSON.stringify(req['cmd'])} (status, failover, promote)` };
      }
    });
    logger.info({ control: controlPath }, 'control socket ready');
  } catch (e) {
    logger.warn({ control: controlPath, err: e instanceof Error ? e.message : String(e) }, 'no control socket');
  }
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      logger.info({ signal: sig }, 'stopping');
      // A primary with a standby in sync hands over first (planned switchover).
      if (sig === 'SIGTERM' && node.handOver()) setTimeout(resolve, 200);
      else resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  process.stdout.write(`${JSON.stringify(node.status())}\n`);
  await control?.close();
  await node.close();
  return 0;
}

export function addClusterCommands(program: Command, h: ClusterCliHelpers): void {
  program
    .command('node')
    .description('run a cluster node (primary or standby) from a JSON config file')
    .requiredOption('--config <file>', 'node configuration (JSON)')
    .option('--control <path>', 'control socket path (default /run/hasctp/NODE.sock as root, else under $XDG_RUNTIME_DIR)')
    .addOption(h.logLevelOption())
    .action(async (opts: { config: string; control?: string; logLevel: LogLevel }) => {
      process.exitCode = await nodeCommand(opts);
    });

  const remote = (name: string, description: string): Command =>
    program
      .command(name)
      .description(description)
      .option('--node <name>', "the node's name (finds its default control socket)")
      .option('--socket <path>', 'control socket path');

  remote('failover', 'planned switchover: the primary hands its associations to the standby, with no loss').action(async (opts: { node?: string; socket?: string }) => {
    const r = await controlRequest(socketOf(opts), { cmd: 'failover' });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exitCode = r['ok'] === true ? 0 : 1;
  });
  remote('promote', 'make this standby the primary now (use --force when it holds no in-sync copy)')
    .option('--force', 'promote even without an in-sync copy (its associations are dropped)')
    .action(async (opts: { node?: string; socket?: string; force?: boolean }) => {
      const r = await controlRequest(socketOf(opts), { cmd: 'promote', force: opts.force === true });
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exitCode = r['ok'] === true ? 0 : 1;
    });
  remote('cluster', "a node's view of the cluster: role, epoch, protection, link, replication counters, last failover")
    .option('--json', 'print the JSON status')
    .action(async (opts: { node?: string; socket?: string; json?: boolean }) => {
      const r = await controlRequest(socketOf(opts), { cmd: 'status' });
      if (r['ok'] !== true) {
        process.stderr.write(`hasctp cluster: ${String(r['error'])}\n`);
        process.exitCode = 1;
        return;
      }
      const s = r['status'] as Record<string, unknown> & { link: Record<string, unknown>; lastFailover?: Record<string, unknown> };
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(s)}\n`);
        return;
      }
      const f = s.lastFailover;
      const ck = s['checkpoint'] as { state: string; reason: string; server: string; acknowledgedSeq: number; counters: { updates: number; bytesSent: number; unprotected: number } } | undefined;
      process.stdout.write(
        [
          `node ${String(s['node'])}: ${String(s['role'])}, epoch ${String(s['epoch'])}, associations ${String(s['associations'])} ${String(s['protection'])}, applied record ${String(s['appliedSeq'])}, lag ${String(s['lagRecords'])} records`,
          `cluster link: ${s.link['up'] === true ? 'up' : 'DOWN'}, ${String(s.link['framesOut'])} frames out, ${String(s.link['framesIn'])} in, ${String(s.link['rejected'])} rejected`,
          f ? `last failover: ${String(f['reason'])}; detection ${String(f['detectionMs'])} ms, first packet out +${String(f['firstPacketOutMs'])} ms, first SACK in +${String(f['firstSackInMs'])} ms` : 'last failover: none',
          ...(ck ? [`checkpoint: ${ck.state} (${ck.reason}); server ${ck.server}, acknowledged record ${ck.acknowledgedSeq}, ${ck.counters.updates} updates, ${ck.counters.bytesSent} portion bytes, unprotected ${ck.counters.unprotected} time(s)`] : []),
        ].join('\n') + '\n',
      );
    });

  program
    .command('checkpointd')
    .description('checkpoint server: keeps the portions of each node\'s associations so a restarted node process continues them')
    .requiredOption('--listen <addr:port>', 'where nodes connect (e.g. 127.0.0.1:7700)')
    .requiredOption('--key <key>', 'shared key (32 hex digits or more, or a passphrase of 16 characters or more), as the nodes\' checkpoint.key')
    .option('--dir <dir>', 'persist to this directory (append-only log and snapshot) so the server survives its own restart')
    .option('--max-bytes <n>', 'memory bound: updates beyond it are refused', (v: string) => {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < 4096 || n > 2 ** 31) throw h.usageError(`--max-bytes must be an integer from 4096 to ${2 ** 31}, got ${JSON.stringify(v)}`);
      return n;
    }, 256 * 1024 * 1024)
    .option('--fsync <policy>', 'always (before each acknowledgement), interval (once a second) or never', (v: string) => {
      if (v !== 'always' && v !== 'interval' && v !== 'never') throw h.usageError(`--fsync must be always, interval or never, got ${JSON.stringify(v)}`);
      return v;
    }, 'interval')
    .addOption(h.logLevelOption())
    .action(async (opts: { listen: string; key: string; dir?: string; maxBytes: number; fsync: FsyncPolicy; logLevel: LogLevel }) => {
      process.exitCode = await checkpointdCommand(opts);
    });

  program
    .command('checkpoints')
    .description('what a checkpoint server holds: node, connection id, portions, sizes, record seq, age')
    .requiredOption('--server <addr:port>', 'the checkpoint server')
    .requiredOption('--key <key>', 'its key')
    .option('--json', 'print JSON')
    .action(async (opts: { server: string; key: string; json?: boolean }) => {
      process.exitCode = await checkpointsCommand({ server: opts.server, key: opts.key, json: opts.json === true });
    });

  program
    .command('demo')
    .description('no root needed: a peer, a primary and a standby on loopback (UDP encapsulation); stream numbered messages, SIGKILL the primary, print the timeline and the loss/duplicate counts')
    .option('--messages <n>', 'messages the peer sends', (v: string) => {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < 10 || n > 1_000_000) throw h.usageError(`--messages must be an integer from 10 to 1000000, got ${JSON.stringify(v)}`);
      return n;
    }, 2000)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { messages: number; json?: boolean }) => {
      process.exitCode = await demoCommand({ messages: opts.messages, json: opts.json === true });
    });
}
