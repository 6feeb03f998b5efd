/**
 * Inspection and admin commands over a running process's control socket:
 * `hasctp assocs`, `hasctp assoc ID [--set-primary ADDR | --abort]`,
 * `hasctp watch`. Each prints a table, or with --json the control socket's
 * JSON. Without --control, the only socket in the runtime directory is used.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { controlRequest, findControlSocket, RequestError, type ControlReply } from '../ops/control.js';
import { assocDetailText, assocsTable } from '../ops/format.js';
import type { AssocDetail, AssocRow } from '../ops/inspect.js';
import { canonicalAddress } from '../wire/address.js';
import { watchCommand, WATCH_SORT_KEYS, type WatchSortKey } from './ops-watch.js';

export function controlPathOf(opts: { control?: string }): string {
  return opts.control ?? findControlSocket();
}

/** One request; a failed reply or an unreachable socket is one line on stderr and exit 1. */
export async function ask(command: string, path: string, req: Record<string, unknown>, timeoutMs = 5000): Promise<ControlReply | undefined> {
  let r: ControlReply;
  try {
    r = await controlRequest(path, req, timeoutMs);
  } catch (e) {
    process.stderr.write(`hasctp ${command}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
    return undefined;
  }
  if (r['ok'] !== true) {
    process.stderr.write(`hasctp ${command}: ${String(r['error'] ?? 'request failed')}\n`);
    process.exitCode = 1;
    return undefined;
  }
  return r;
}

function assocIdArg(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 2 ** 32) throw new InvalidArgumentError(`not an association id: ${JSON.stringify(v)}`);
  return Number(v);
}

function sortKey(v: string): WatchSortKey {
  if (!(WATCH_SORT_KEYS as readonly string[]).includes(v)) throw new InvalidArgumentError(`--sort must be one of ${WATCH_SORT_KEYS.join(', ')}, got ${JSON.stringify(v)}`);
  return v as WatchSortKey;
}

function interval(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n < 0.05 || n > 3600) throw new InvalidArgumentError(`--interval must be from 0.05 to 3600 seconds, got ${JSON.stringify(v)}`);
  return n;
}

const CONTROL_HELP = 'control socket of the server or node (default: the only one under $XDG_RUNTIME_DIR/hasctp, /run/hasctp or the temp dir)';

export function addOpsCommands(program: Command): void {
  program
    .command('assocs')
    .description('one line per association: id, state, addresses (primary marked *), streams, unacked bytes, peer rwnd, cwnd/srtt/rto on the primary, replication')
    .option('--control <path>', CONTROL_HELP)
    .option('--json', 'print the JSON array')
    .action(async (opts: { control?: string; json?: boolean }) => {
      const r = await ask('assocs', controlPathOf(opts), { cmd: 'assocs' });
      if (r === undefined) return;
      const rows = r['associations'] as AssocRow[];
      process.stdout.write(opts.json === true ? `${JSON.stringify(rows)}\n` : `${assocsTable(rows)}\n`);
    });

  program
    .command('assoc')
    .description('everything about one association: per-path table, streams, extensions, SCTP-MIB counters; or an admin action')
    .argument('<id>', 'association id (see hasctp assocs)', assocIdArg)
    .option('--control <path>', CONTROL_HELP)
    .option('--json', 'print the JSON object')
    .option('--set-primary <addr>', "make ADDR (one of the peer's addresses) the primary path (RFC 9260 SET PRIMARY)", (v: string) => {
      const c = canonicalAddress(v);
      if (c === undefined) throw new InvalidArgumentError(`not an IP address: ${JSON.stringify(v)}`);
      return c;
    })
    .option('--abort', 'abort the association (RFC 9260 ABORT): the peer is told at once, queued data is dropped')
    .action(async (id: number, opts: { control?: string; json?: boolean; setPrimary?: string; abort?: boolean }) => {
      if (opts.setPrimary !== undefined && opts.abort === true) throw new RequestError('--set-primary and --abort do not go together');
      const path = controlPathOf(opts);
      if (opts.setPrimary !== undefined || opts.abort === true) {
        const req = opts.abort === true ? { cmd: 'abort', id } : { cmd: 'set-primary', id, address: opts.setPrimary };
        const r = await ask('assoc', path, req);
        if (r === undefined) return;
        process.stdout.write(opts.json === true ? `${JSON.stringify(r)}\n` : opts.abort === true ? `association ${id} aborted\n` : `association ${id}: primary path now ${opts.setPrimary}\n`);
        return;
      }
      const r = await ask('assoc', path, { cmd: 'assoc', id });
      if (r === undefined) return;
      const a = r['association'] as AssocDetail;
      process.stdout.write(opts.json === true ? `${JSON.stringify(a)}\n` : `${assocDetailText(a)}\n`);
    });

  program
    .command('watch')
    .description('live view of the associations, redrawn in place (q quits, s changes the sort); path state changes and lost protection are highlighted')
    .option('--control <path>', CONTROL_HELP)
    .option('--interval <sec>', 'refresh period in seconds', interval, 1)
    .option('--sort <key>', `sort by ${WATCH_SORT_KEYS.join(', ')}`, sortKey, 'id')
    .option('--iterations <n>', 'stop after N refreshes (default: until q or Ctrl-C)', (v: string) => {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`--iterations must be a positive integer, got ${JSON.stringify(v)}`);
      return Number(v);
    })
    .action(async (opts: { control?: string; interval: number; sort: WatchSortKey; iterations?: number }) => {
      process.exitCode = await watchCommand({ path: controlPathOf(opts), intervalMs: opts.interval * 1000, sort: opts.sort, ...(opts.iterations !== undefined && { iterations: opts.iterations }) });
    });
}
