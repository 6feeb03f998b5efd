/**
 * The `hasctp` command. It formats and queries; it owns no protocol logic.
 * Bad arguments give one line on stderr and a non-zero exit.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { decodeCommand } from './decode.js';
import { serverCommand } from './server.js';
import { clientCommand } from './client.js';
import { canonicalAddress } from '../wire/address.js';

export class UsageError extends Error {}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError(`not a UDP port: ${value}`);
  return n;
}

function sctpPort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError(`not a port: ${value}`);
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 1e9) throw new InvalidArgumentError(`not a count: ${value}`);
  return n;
}

function addresses(value: string): string[] {
  const list = value.split(',').filter((s) => s !== '');
  if (list.length === 0) throw new InvalidArgumentError(`no address in ${JSON.stringify(value)}`);
  return list.map((a) => {
    const c = canonicalAddress(a);
    if (c === undefined) throw new InvalidArgumentError(`not an IP address: ${a}`);
    return c;
  });
}

interface NetOpts {
  udpEncap?: boolean;
  udpPort?: number;
  remoteUdpPort?: number;
}

function udpOpts(opts: NetOpts): { udpEncap: boolean; udpPort?: number; remoteUdpPort?: number } {
  if (opts.udpEncap !== true && (opts.udpPort !== undefined || opts.remoteUdpPort !== undefined)) {
    throw new UsageError('--udp-port and --remote-udp-port need --udp-encap');
  }
  return {
    udpEncap: opts.udpEncap === true,
    ...(opts.udpPort !== undefined && { udpPort: opts.udpPort }),
    ...(opts.remoteUdpPort !== undefined && { remoteUdpPort: opts.remoteUdpPort }),
  };
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

  program
    .command('server')
    .description('accept SCTP associations and echo or discard what arrives (until SIGINT/SIGTERM)')
    .requiredOption('--local <addr,...>', 'local address(es), comma separated', addresses)
    .requiredOption('--port <n>', 'SCTP port', sctpPort)
    .option('--udp-encap', 'SCTP over UDP (RFC 6951), no root needed; without it raw IP (root)')
    .option('--udp-port <n>', 'local UDP encapsulation port (default 9899)', port)
    .option('--remote-udp-port <n>', "peer's UDP encapsulation port until learned (default 9899)", port)
    .option('--echo', 'send every message back (on its stream, with its PPID)')
    .option('--discard', 'drop what arrives (the default)')
    .action(async (opts: NetOpts & { local: string[]; port: number; echo?: boolean; discard?: boolean }) => {
      if (opts.echo === true && opts.discard === true) throw new UsageError('--echo and --discard exclude each other');
      process.exitCode = await serverCommand({
        localAddresses: opts.local,
        port: opts.port,
        ...udpOpts(opts),
        mode: opts.echo === true ? 'echo' : 'discard',
        out: process.stdout,
        err: process.stderr,
      });
    });

  program
    .command('client')
    .description('connect, send messages, wait for their echoes (--echo), shut down, print a summary')
    .requiredOption('--remote <addr,...>', 'peer address(es), comma separated', addresses)
    .requiredOption('--port <n>', "peer's SCTP port", sctpPort)
    .requiredOption('--local <addr,...>', 'local address(es), comma separated', addresses)
    .option('--udp-encap', 'SCTP over UDP (RFC 6951), no root needed; without it raw IP (root)')
    .option('--udp-port <n>', 'local UDP encapsulation port (default: ephemeral)', port)
    .option('--remote-udp-port <n>', "peer's UDP encapsulation port (default 9899)", port)
    .option('--count <n>', 'messages to send', count, 10)
    .option('--size <n>', 'bytes per message', count, 100)
    .option('--echo', 'expect every message back, in order, and check it')
    .option('--timeout <ms>', 'give up after this long', count, 30_000)
    .action(async (opts: NetOpts & { remote: string[]; port: number; local: string[]; count: number; size: number; echo?: boolean; timeout: number }) => {
      if (opts.size < 1) throw new UsageError('--size must be at least 1');
      process.exitCode = await clientCommand({
        remoteAddresses: opts.remote,
        port: opts.port,
        localAddresses: opts.local,
        ...udpOpts(opts),
        count: opts.count,
        size: opts.size,
        echo: opts.echo === true,
        timeout: opts.timeout,
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
