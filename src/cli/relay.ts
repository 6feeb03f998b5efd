/**
 * `hasctp relay --config FILE`: the signaling relay (src/relay) until
 * SIGINT / SIGTERM; a status line (JSON with --json) every --report seconds
 * and at the end. A bad config gives one line on stderr and exit code 2.
 */
import { readFile } from 'node:fs/promises';
import type { Command, Option } from 'commander';
import { parseRelayConfig } from '../relay/config.js';
import { startRelay } from '../relay/relay.js';
import { cliLogger, type LogLevel } from './log.js';

export interface RelayCliHelpers {
  readonly logLevelOption: () => Option;
  readonly usageError: (message: string) => Error;
}

export function addRelayCommand(program: Command, h: RelayCliHelpers): void {
  program
    .command('relay')
    .description('relay SCTP messages between front associations and back-side servers, acknowledging only what the next hop acknowledged (M3UA-aware)')
    .requiredOption('--config <file>', 'relay configuration (JSON: listen, backends, routing, ackAfterForward, holdLimitMs, m3ua, protocol)')
    .option('--report <sec>', 'print counters every this many seconds (0: only at exit)', '0')
    .option('--json', 'print counters as JSON')
    .addOption(h.logLevelOption())
    .action(async (opts: { config: string; report: string; json?: boolean; logLevel: LogLevel }) => {
      const every = Number(opts.report);
      if (!/^\d+(\.\d+)?$/.test(opts.report) || every > 86_400) throw h.usageError(`--report must be seconds from 0 to 86400, got ${JSON.stringify(opts.report)}`);
      let text: string;
      try {
        text = await readFile(opts.config, 'utf8');
      } catch (e) {
        throw h.usageError(`relay: cannot read ${opts.config}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw h.usageError(`relay: ${opts.config} is not JSON: ${(e as Error).message}`);
      }
      const parsed = parseRelayConfig(json);
      if (!parsed.ok) throw h.usageError(`relay: ${opts.config}: ${parsed.error}`);
      const relay = await startRelay(parsed.config, cliLogger(opts.logLevel));
      const print = (): void => {
        const r = relay.core.report();
        if (opts.json === true) process.stdout.write(`${JSON.stringify(r)}\n`);
        else {
          const c = relay.core.counters;
          process.stdout.write(
            `relay: front ${c.frontAssociations} back ${c.backAssociations} to-back ${c.forwardedToBack} to-front ${c.forwardedToFront} released ${c.released} waiting ${relay.core.waiting()} resent ${c.resent} refused ${c.refused} m3ua-local ${c.m3uaLocal}\n`,
          );
        }
      };
      const timer = every > 0 ? setInterval(print, every * 1000) : undefined;
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      if (timer) clearInterval(timer);
      await relay.close(1000);
      print();
      process.exitCode = 0;
    });
}
