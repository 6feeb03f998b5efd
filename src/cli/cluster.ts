/**
 * Cluster commands: `hasctp node` runs a cluster node; `failover`, `promote`
 * and `cluster` talk to a running node over its control socket.
 */
import type { Command, Option } from 'commander';
import { openPcapRecorder, type PcapRecorder } from '../transport/pcap-tap.js';
import { parseHostPort } from '../ops/config.js';
import { clusterText } from '../ops/format.js';
import { runNodeOps } from './ops-node.js';
import { findControlSocket } from '../ops/control.js';
import { ConfigError, loadNodeConfig } from '../cluster/config.js';
import { controlRequest, defaultControlPath } from '../cluster/control.js';
import { ClusterNode } from '../cluster/node.js';
import { cliLogger, type LogLevel } from './log.js';
import { demoCommand } from './demo.js';
import { checkpointdCommand, checkpointsCommand } from './checkpoint.js';
import type { FsyncPolicy } from '../cluster/checkpoint/server.js';

export interface ClusterCliHelpers {
  readonly logLevelOption: () => Option;
  readonly usageError: (message: string) => Error;
}

function socketOf(opts: { socket?: string; control?: string; node?: string }): string {
  if (opts.control !== undefined) return opts.control;
  if (opts.socket !== undefined) return opts.socket;
  // Without a name: the only control socket in the runtime directory.
  return opts.node !== undefined ? defaultControlPath(opts.node) : findControlSocket();
}

export async function nodeCommand(o: { config: string; control?: string; logLevel: LogLevel; metrics?: { host: string; port: number }; logLevelFromCli?: boolean; pcap?: string }): Promise<number> {
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
  const logger = cliLogger(o.logLevelFromCli === true || config.logLevel === undefined ? o.logLevel : (config.logLevel as LogLevel)).child({ node: config.node });
  let pcap: PcapRecorder | undefined;
  try {
    if (o.pcap !== undefined) pcap = await openPcapRecorder(o.pcap, { comment: `hasctp node ${config.node}` });
  } catch (e) {
    process.stderr.write(`hasctp node: --pcap ${o.pcap}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const node = new ClusterNode({ config, logger, ...(pcap !== undefined && { pcap }) });
  try {
    await node.start();
  } catch (e) {
    await pcap?.abandon();
    process.stderr.write(`hasctp node: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  // Control socket, metrics, SIGHUP and SIGTERM (planned switchover or graceful shutdown): src/cli/ops-node.ts.
  await runNodeOps({ node, config, configFile: o.config, logger, ...(o.control !== undefined && { control: o.control }), ...(o.metrics !== undefined && { metrics: o.metrics }), logLevelFromCli: o.logLevelFromCli === true });
  process.stdout.write(`${JSON.stringify(node.status())}\n`);
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
    .option('--metrics <addr:port>', 'serve Prometheus metrics on http://ADDR:PORT/metrics (overrides "metrics" in the config)', (v: string) => parseHostPort(v))
    .option('--pcap <file>', 'record every SCTP packet and the cluster link to this pcapng file')
    .action(async (opts: { config: string; control?: string; logLevel: LogLevel; metrics?: { host: string; port: number }; pcap?: string }, cmd: Command) => {
      process.exitCode = await nodeCommand({ ...opts, logLevelFromCli: cmd.getOptionValueSource('logLevel') === 'cli' });
    });

  const remote = (name: string, description: string): Command =>
    program
      .command(name)
      .description(description)
      .option('--node <name>', "the node's name (finds its default control socket)")
      .option('--socket <path>', 'control socket path')
      .option('--control <path>', 'control socket path (as --socket)');

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
      const s = r['status'] as Record<string, unknown>;
      process.stdout.write(opts.json === true ? `${JSON.stringify(s)}\n` : `${clusterText(s)}\n`);
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
    .option('--pcap-dir <dir>', 'record primary.pcapng, standby.pcapng (each with its cluster link) and peer.pcapng in this directory')
    .action(async (opts: { messages: number; json?: boolean; pcapDir?: string }) => {
      process.exitCode = await demoCommand({ messages: opts.messages, json: opts.json === true, ...(opts.pcapDir !== undefined && { pcapDir: opts.pcapDir }) });
    });
}
