/**
 * `hasctp server --config FILE`: merges the file (src/ops/config.ts) with the
 * command line. A flag given on the command line wins over the file; the
 * file wins over the flags' defaults.
 */
import type { Command } from 'commander';
import { ConfigError, loadServerConfig, type ServerConfig } from '../ops/config.js';
import type { LogLevel } from './log.js';

export interface ServerFlags {
  readonly config?: string;
  readonly listen?: { readonly addresses: string[]; readonly port: number };
  readonly mode: 'echo' | 'discard';
  readonly udpEncap?: number;
  readonly pcap?: string;
  readonly logLevel: LogLevel;
  readonly control?: string | false;
  readonly metrics?: { readonly host: string; readonly port: number };
}

export interface ResolvedServer {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly udpEncap: boolean;
  readonly udpPort?: number;
  readonly remoteUdpPort?: number;
  readonly mode: 'echo' | 'discard';
  readonly pcap?: string;
  readonly logLevel: LogLevel;
  readonly control?: string | false;
  readonly metrics?: { readonly host: string; readonly port: number };
  readonly protocol?: ServerConfig['protocol'];
  readonly configFile?: string;
}

/** @throws ConfigError (one line naming the file and key) or Error for a missing --listen. */
export function resolveServerOptions(f: ServerFlags, cmd: Command): ResolvedServer {
  const fromCli = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
  const file = f.config === undefined ? undefined : loadServerConfig(f.config);
  if (f.listen === undefined && file === undefined) throw new ConfigError("required option '--listen <addr[,addr...]:port>' not specified (or give --config FILE)");
  const addresses = f.listen?.addresses ?? file!.sctp.addresses;
  const port = f.listen?.port ?? file!.sctp.port;
  // UDP encapsulation: --udp-encap PORT, else the file's transport.
  const udpEncap = f.udpEncap !== undefined || file?.sctp.transport === 'udp';
  const udpPort = f.udpEncap ?? file?.sctp.udpPort;
  const control = fromCli('control') ? f.control : (file?.control ?? f.control);
  const metrics = f.metrics ?? file?.metrics;
  const pcap = f.pcap ?? file?.pcap;
  return {
    addresses,
    port,
    udpEncap,
    ...(udpEncap && udpPort !== undefined && { udpPort }),
    ...(udpEncap && file?.sctp.remoteUdpPort !== undefined && { remoteUdpPort: file.sctp.remoteUdpPort }),
    mode: fromCli('mode') || file === undefined ? f.mode : file.app,
    ...(pcap !== undefined && { pcap }),
    logLevel: fromCli('logLevel') || file?.logLevel === undefined ? f.logLevel : file.logLevel,
    ...(control !== undefined && { control }),
    ...(metrics !== undefined && { metrics }),
    ...(file !== undefined && { protocol: file.protocol, configFile: f.config }),
  };
}
