/**
 * The `hasctp` command. It formats and queries; it owns no protocol logic.
 * Bad arguments give one line on stderr and a non-zero exit.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { decodeCommand } from './decode.js';

export class UsageError extends Error {}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError(`not a UDP port: ${value}`);
  return n;
}

function collectPorts(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), port(value)];
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('hasctp')
    .description('userspace SCTP (RFC 9260) with a replicated TCB')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('decode')
    .description('print every SCTP packet of a pcap or pcapng capture, one line each')
    .argument('<file>', 'capture file (pcap or pcapng; Ethernet, Linux cooked v1/v2, raw IP, BSD loopback)')
    .option('--json', 'one JSON object per packet')
    .option('--udp-port <port>', 'UDP port carrying RFC 6951 encapsulated SCTP (repeatable; default 9899)', collectPorts)
    .option('--time <mode>', 'timestamps: rel (seconds since the first packet) or abs (ISO 8601)', 'rel')
    .action(async (file: string, opts: { json?: boolean; udpPort?: number[]; time: string }) => {
      if (opts.time !== 'rel' && opts.time !== 'abs') throw new UsageError(`--time must be rel or abs, got ${opts.time}`);
      process.exitCode = await decodeCommand(file, {
        json: opts.json === true,
        udpPorts: opts.udpPort ?? [9899],
        time: opts.time,
        out: process.stdout,
        err: process.stderr,
      });
    });

  return program;
}

/** Runs the command line; resolves to the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    // commander has already printed its one-line message.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      process.stderr.write(`hasctp: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`hasctp: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
