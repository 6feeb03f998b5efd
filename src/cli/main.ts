/**
 * The `hasctp` command. It formats and queries; it owns no protocol logic.
 * Bad arguments give one line on stderr and a non-zero exit.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { decodeCommand } from './decode.js';
import { serverCommand } from './server.js';
import { clientCommand, HEADER_SIZE } from './client.js';
import { ADDRESS_CHANGE_OPTIONS, addressChangesOf, parseAddressChange, type AddressChangeOpts } from './address-changes.js';
import { cliLogger, LOG_LEVELS, type LogLevel } from './log.js';
import { addPcapCommand } from './pcap.js';
import { addClusterCommands } from './cluster.js';
import { addRelayCommand } from './relay.js';
import { canonicalAddress } from '../wire/address.js';
import { resolveServerOptions, type ServerFlags } from './ops-config.js';
import { addOpsCommands } from './ops.js';
import { ConfigError, parseHostPort } from '../ops/config.js';

export class UsageError extends Error {}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError(`not a UDP port: ${value}`);
  return n;
}

function portIn(value: string, what: string, min = 1): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > 65535) throw new InvalidArgumentError(`not a ${what}: ${JSON.stringify(value)}`);
  return n;
}

function positiveInt(what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > 1e9) throw new InvalidArgumentError(`${what} must be an integer from 1 to 1e9, got ${JSON.stringify(value)}`);
    return n;
  };
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > 1e6) throw new InvalidArgumentError(`not a duration in seconds: ${JSON.stringify(value)}`);
  return n;
}

/** `a,b,[v6],...` (IPv6 in brackets; bare IPv6 also accepted where no port follows) to canonical addresses. */
export function parseAddressList(value: string, bareV6 = true): string[] {
  const items = value.split(',');
  if (items.some((s) => s.trim() === '')) throw new InvalidArgumentError(`empty address in ${JSON.stringify(value)}`);
  return items.map((raw) => {
    let a = raw.trim();
    if (a.startsWith('[') || a.endsWith(']')) {
      if (!a.startsWith('[') || !a.endsWith(']')) throw new InvalidArgumentError(`unbalanced brackets in ${JSON.stringify(raw)}`);
      a = a.slice(1, -1);
      if (!a.includes(':')) throw new InvalidArgumentError(`brackets are for IPv6 addresses: ${JSON.stringify(raw)}`);
    } else if (a.includes(':') && !bareV6) throw new InvalidArgumentError(`IPv6 address needs brackets: [${a}]`);
    const c = canonicalAddress(a);
    if (c === undefined) throw new InvalidArgumentError(`not an IP address: ${JSON.stringify(raw)}`);
    return c;
  });
}

export interface Endpoint {
  readonly addresses: string[];
  readonly port: number;
}

/** `ADDR[,ADDR...]:PORT`, IPv6 in brackets: `[fd00::1],[fd00::2]:5000`. */
export function parseEndpoint(value: string): Endpoint {
  const m = /^(.*):([^:\]]*)$/.exec(value);
  if (m === null || m[1] === '') throw new InvalidArgumentError(`expected ADDR[,ADDR...]:PORT (IPv6 in brackets), got ${JSON.stringify(value)}`);
  return { addresses: parseAddressList(m[1]!, false), port: portIn(m[2]!, 'port') };
}

/** `LOCALPORT:REMOTEPORT` (LOCALPORT 0: ephemeral). */
function udpPair(value: string): { local: number; remote: number } {
  const m = /^([^:]*):([^:]*)$/.exec(value);
  if (m === null) throw new InvalidArgumentError(`expected LOCALPORT:REMOTEPORT, got ${JSON.stringify(value)}`);
  return { local: portIn(m[1]!, 'local UDP port', 0), remote: portIn(m[2]!, 'remote UDP port') };
}

function collectPorts(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), port(value)];
}

function logLevelOption(): Option {
  return new Option('--log-level <level>', 'pino log level on stderr (JSON; a compact line on a terminal)').choices(LOG_LEVELS).default('info');
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
    .option('--listen <addr[,addr...]:port>', 'local address(es) and SCTP port; IPv6 in brackets: [fd00::1],[fd00::2]:5000 (required unless --config gives sctp)', parseEndpoint)
    .option('--config <file>', 'JSON config file (sctp, app, control, metrics, logLevel, pcap, protocol); flags override it; SIGHUP reloads logLevel')
    .addOption(new Option('--mode <mode>', 'echo: send every message back on its stream with its PPID; discard: drop it').choices(['echo', 'discard']).default('echo'))
    .option('--udp-encap <port>', 'SCTP over UDP (RFC 6951) on this local UDP port; without it raw IP (needs root)', port)
    .option('--pcap <file>', 'record every SCTP packet sent and received to this pcapng file (one interface per local address)')
    .option(ADDRESS_CHANGE_OPTIONS[0][0], ADDRESS_CHANGE_OPTIONS[0][1], parseAddressChange('add'))
    .option(ADDRESS_CHANGE_OPTIONS[1][0], ADDRESS_CHANGE_OPTIONS[1][1], parseAddressChange('remove'))
    .option(ADDRESS_CHANGE_OPTIONS[2][0], ADDRESS_CHANGE_OPTIONS[2][1], parseAddressChange('set-peer-primary'))
    .addOption(logLevelOption())
    .option('--control <path>', 'control socket (default: server-PORT.sock under $XDG_RUNTIME_DIR/hasctp, /run/hasctp or the temp dir)')
    .option('--no-control', 'no control socket')
    .option('--metrics <addr:port>', 'serve Prometheus metrics on http://ADDR:PORT/metrics', (v: string) => parseHostPort(v))
    .action(async (opts: ServerFlags & AddressChangeOpts, cmd: Command) => {
      const r = resolveServerOptions(opts, cmd);
      process.exitCode = await serverCommand({
        ...addressChangesOf(opts),
        localAddresses: r.addresses,
        port: r.port,
        udpEncap: r.udpEncap,
        ...(r.udpPort !== undefined && { udpPort: r.udpPort }),
        ...(r.remoteUdpPort !== undefined && { remoteUdpPort: r.remoteUdpPort }),
        mode: r.mode,
        ...(r.pcap !== undefined && { pcap: r.pcap }),
        ...(r.control !== undefined && { control: r.control }),
        ...(r.metrics !== undefined && { metrics: r.metrics }),
        ...(r.protocol !== undefined && { protocol: r.protocol }),
        ...(r.configFile !== undefined && { configFile: r.configFile }),
        logger: cliLogger(r.logLevel),
        out: process.stdout,
        err: process.stderr,
      });
    });

  program
    .command('client')
    .description('connect, send messages (round robin over --streams), check the echoes (--verify), shut down, print a summary')
    .requiredOption('--connect <addr[,addr...]:port>', "peer address(es) and SCTP port; IPv6 in brackets: [fd00::1],[fd00::2]:5000", parseEndpoint)
    .option('--bind <addr[,addr...]>', 'local address(es) (default: the source address the kernel routes to the first peer address)', (v: string) => parseAddressList(v))
    .option('--count <n>', 'messages to send (default 1000 unless --duration is given)', positiveInt('--count'))
    .option('--size <bytes>', `bytes per message (with --verify at least ${HEADER_SIZE})`, positiveInt('--size'), 100)
    .option('--duration <sec>', 'stop sending after this many seconds (with --count: whichever comes first)', seconds)
    .option('--streams <n>', 'spread the messages round robin over this many streams', positiveInt('--streams'), 1)
    .option('--rate <msgs>', 'send at most this many messages per second (default: as fast as the association takes them)', positiveInt('--rate'))
    .option('--unordered', 'send unordered messages')
    .option('--udp-encap <localport:remoteport>', 'SCTP over UDP (RFC 6951); local UDP port (0: ephemeral) and the peer\'s; without it raw IP (needs root)', udpPair)
    .option('--verify', `expect an echo server: check every echo (sequence number and CRC32c in the first ${HEADER_SIZE} bytes) and count lost, duplicated, reordered (per stream) and corrupted messages`)
    .option('--json', 'print one JSON object instead of the summary line')
    .option('--timeout <ms>', 'give up after this long overall', positiveInt('--timeout'), 30_000)
    .option('--pcap <file>', 'record every SCTP packet sent and received to this pcapng file (one interface per local address)')
    .option(ADDRESS_CHANGE_OPTIONS[0][0], ADDRESS_CHANGE_OPTIONS[0][1], parseAddressChange('add'))
    .option(ADDRESS_CHANGE_OPTIONS[1][0], ADDRESS_CHANGE_OPTIONS[1][1], parseAddressChange('remove'))
    .option(ADDRESS_CHANGE_OPTIONS[2][0], ADDRESS_CHANGE_OPTIONS[2][1], parseAddressChange('set-peer-primary'))
    .addOption(logLevelOption())
    .action(
      async (opts: AddressChangeOpts & {
        connect: Endpoint;
        bind?: string[];
        count?: number;
        size: number;
        duration?: number;
        streams: number;
        rate?: number;
        unordered?: boolean;
        udpEncap?: { local: number; remote: number };
        verify?: boolean;
        json?: boolean;
        timeout: number;
        pcap?: string;
        logLevel: LogLevel;
      }) => {
        if (opts.verify === true && opts.size < HEADER_SIZE) throw new UsageError(`--size must be at least ${HEADER_SIZE} with --verify (sequence number and checksum header)`);
        if (opts.streams > 65535) throw new UsageError(`--streams must be at most 65535, got ${opts.streams}`);
        process.exitCode = await clientCommand({
          ...addressChangesOf(opts),
          remoteAddresses: opts.connect.addresses,
          port: opts.connect.port,
          ...(opts.bind !== undefined && { localAddresses: opts.bind }),
          udpEncap: opts.udpEncap !== undefined,
          ...(opts.udpEncap !== undefined && { udpPort: opts.udpEncap.local, remoteUdpPort: opts.udpEncap.remote }),
          count: opts.count ?? (opts.duration === undefined ? 1000 : Infinity),
          ...(opts.duration !== undefined && { duration: opts.duration }),
          size: opts.size,
          streams: opts.streams,
          ...(opts.rate !== undefined && { rate: opts.rate }),
          unordered: opts.unordered === true,
          verify: opts.verify === true,
          json: opts.json === true,
          timeout: opts.timeout,
          ...(opts.pcap !== undefined && { pcap: opts.pcap }),
          logger: cliLogger(opts.logLevel),
          out: process.stdout,
          err: process.stderr,
        });
      },
    );

  addPcapCommand(program, { parseEndpoint, parseAddressList: (v) => parseAddressList(v), collectPorts, logLevelOption, usageError: (m) => new UsageError(m) });

  addClusterCommands(program, { logLevelOption, usageError: (m) => new UsageError(m) });

  addRelayCommand(program, { logLevelOption, usageError: (m) => new UsageError(m) });

  addOpsCommands(program);

  for (const c of [program, ...program.commands]) c.showSuggestionAfterError(false).exitOverride();
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
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`hasctp: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`hasctp: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
