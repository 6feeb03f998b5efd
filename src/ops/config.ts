/**
 * `hasctp server --config FILE`: the server's configuration, JSON with the
 * same sections and conventions as the node's (src/cluster/config.ts):
 *
 *   {
 *     "sctp": { "addresses": ["10.0.0.1"], "port": 2905, "transport": "udp", "udpPort": 9899 },
 *     "app": "echo",
 *     "control": "/run/hasctp/server.sock",
 *     "metrics": "127.0.0.1:9464",
 *     "logLevel": "info",
 *     "pcap": "server.pcapng",
 *     "protocol": { "hbInterval": 5000 }
 *   }
 *
 * Validated key by key: every error names the key and what is wrong.
 * Command-line flags override the file.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolveProtocolConfig, type ProtocolConfig } from '../core/config.js';
import { ConfigError, hostPort } from '../cluster/config.js';

export { ConfigError };

export const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export interface ServerConfig {
  readonly sctp: {
    readonly addresses: readonly string[];
    readonly port: number;
    readonly transport: 'raw' | 'udp';
    readonly udpPort?: number;
    readonly remoteUdpPort?: number;
  };
  readonly app: 'echo' | 'discard';
  readonly control?: string;
  readonly metrics?: { readonly host: string; readonly port: number };
  readonly logLevel?: (typeof LOG_LEVEL_NAMES)[number];
  readonly pcap?: string;
  readonly protocol: Partial<ProtocolConfig>;
}

type Obj = Record<string, unknown>;

function obj(v: unknown, key: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${key}: must be an object`);
  return v as Obj;
}
function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${key}: must be a non-empty string`);
  return v;
}
function int(v: unknown, key: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${key}: must be an integer in ${min}..${max}`);
  return v;
}
function oneOf<T extends string>(v: unknown, key: string, choices: readonly T[]): T {
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new ConfigError(`${key}: must be one of ${choices.map((c) => `"${c}"`).join(', ')}`);
  return v as T;
}
function onlyKeys(o: Obj, key: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ConfigError(`${key ? `${key}.` : ''}${k}: unknown key (expected one of ${allowed.join(', ')})`);
}

export function parseServerConfig(raw: unknown): ServerConfig {
  const o = obj(raw, 'config');
  onlyKeys(o, '', ['sctp', 'app', 'control', 'metrics', 'logLevel', 'pcap', 'protocol']);
  const s = obj(o.sctp, 'sctp');
  onlyKeys(s, 'sctp', ['addresses', 'port', 'transport', 'udpPort', 'remoteUdpPort']);
  if (!Array.isArray(s.addresses) || s.addresses.length === 0) throw new ConfigError('sctp.addresses: must be a non-empty list of IP addresses');
  const addresses = s.addresses.map((a, i) => {
    if (typeof a !== 'string' || isIP(a) === 0) throw new ConfigError(`sctp.addresses[${i}]: "${String(a)}" is not an IP address`);
    return a;
  });
  const protocol = o.protocol === undefined ? {} : (obj(o.protocol, 'protocol') as Partial<ProtocolConfig>);
  const r = resolveProtocolConfig(protocol);
  if (!r.ok) throw new ConfigError(`protocol: ${r.errors.join('; ')}`);
  return {
    sctp: {
      addresses,
      port: int(s.port, 'sctp.port', 1, 65535),
      transport: s.transport === undefined ? 'raw' : oneOf(s.transport, 'sctp.transport', ['raw', 'udp'] as const),
      ...(s.udpPort !== undefined && { udpPort: int(s.udpPort, 'sctp.udpPort', 0, 65535) }),
      ...(s.remoteUdpPort !== undefined && { remoteUdpPort: int(s.remoteUdpPort, 'sctp.remoteUdpPort', 1, 65535) }),
    },
    app: o.app === undefined ? 'echo' : oneOf(o.app, 'app', ['echo', 'discard'] as const),
    ...(o.control !== undefined && { control: str(o.control, 'control') }),
    ...(o.metrics !== undefined && { metrics: hostPort(o.metrics, 'metrics') }),
    ...(o.logLevel !== undefined && { logLevel: oneOf(o.logLevel, 'logLevel', LOG_LEVEL_NAMES) }),
    ...(o.pcap !== undefined && { pcap: str(o.pcap, 'pcap') }),
    protocol,
  };
}

/** Reads and validates a JSON config file. @throws ConfigError with one line naming the file and the key. */
export function loadJsonConfig<T>(file: string, parse: (raw: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    return parse(raw);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${file}: ${e.message}`);
    throw e;
  }
}

export function loadServerConfig(file: string): ServerConfig {
  return loadJsonConfig(file, parseServerConfig);
}

/** `ADDRESS:PORT` from the command line (IPv6 in brackets). */
export function parseHostPort(value: string, key = '--metrics'): { host: string; port: number } {
  return hostPort(value, key);
}
