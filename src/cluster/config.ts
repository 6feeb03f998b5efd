/**
 * `hasctp node --config FILE`: the cluster node's configuration (JSON),
 * validated key by key: every error names the key and what is wrong.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolveProtocolConfig, type ProtocolConfig } from '../core/config.js';
import type { Role } from './state/messages.js';
import type { ReplicationMode } from './state/replica.js';
import { defaultStreamOptions, type StreamOptions } from './apps.js';

export type AppKind = 'echo' | 'discard' | 'sink' | 'stream';

export interface NodeConfig {
  readonly node: string;
  readonly role: Role;
  readonly sctp: {
    readonly addresses: readonly string[];
    readonly port: number;
    readonly transport: 'raw' | 'udp';
    readonly udpPort?: number;
    readonly remoteUdpPort?: number;
  };
  /** The other cluster nodes and their SCTP addresses (listed as ours in INIT / INIT ACK). */
  readonly peers: readonly { readonly node: string; readonly addresses: readonly string[] }[];
  readonly cluster: {
    readonly listen?: { readonly host: string; readonly port: number };
    readonly dial?: { readonly host: string; readonly port: number };
    readonly key: Uint8Array;
    readonly mode: ReplicationMode;
    readonly heartbeatInterval: number;
    readonly heartbeatMisses: number;
    readonly autoPromote: boolean;
    readonly unsafeNoHold: boolean;
  };
  readonly app: AppKind;
  /** The `stream` app's settings (defaults filled in; present only with app "stream"). */
  readonly stream?: StreamOptions;
  /** The cluster initiates an association to this peer once it is primary. */
  readonly connect?: {
    readonly addresses: readonly string[];
    readonly port: number;
    readonly streams?: number;
    /** Initiate once a standby is in sync, or alone after this many ms (0: at once). */
    readonly waitForStandby?: number;
  };
  readonly control?: string;
  /** Prometheus exposition on this ADDRESS:PORT (src/ops/metrics.ts). */
  readonly metrics?: { readonly host: string; readonly port: number };
  /** pino level; reloaded on SIGHUP. */
  readonly logLevel?: string;
  readonly protocol: Partial<ProtocolConfig>;
  /** After a takeover, ask the peer (ASCONF, when it supports ADD-IP) to use this node's address as primary. */
  readonly setPeerPrimary: boolean;
  /**
   * `hasctp checkpointd` keeps this node's portions so a restarted process
   * continues its associations. With it, `cluster` and `peers` may be left
   * out (a single node, no standby).
   */
  readonly checkpoint?: CheckpointConfig;
}

export interface CheckpointConfig {
  readonly server: { readonly host: string; readonly port: number };
  readonly key: Uint8Array;
  /** `sync`: no output leaves before the server holds the state that produced it. */
  readonly mode: 'sync' | 'async';
  /** How long a starting node waits for its portions before it starts without them (ms). */
  readonly fetchTimeout: number;
  /** An update unacknowledged this long makes the node unprotected (ms). */
  readonly ackTimeout: number;
}

export class ConfigError extends Error {}

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
function bool(v: unknown, key: string): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${key}: must be true or false`);
  return v;
}
function addresses(v: unknown, key: string): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new ConfigError(`${key}: must be a non-empty list of IP addresses`);
  return v.map((a, i) => {
    if (typeof a !== 'string' || isIP(a) === 0) throw new ConfigError(`${key}[${i}]: "${String(a)}" is not an IP address`);
    return a;
  });
}
export function hostPort(v: unknown, key: string): { host: string; port: number } {
  const s = str(v, key);
  const m = /^(.*):(\d+)$/.exec(s);
  const host = m?.[1]?.replace(/^\[(.*)\]$/, '$1') ?? '';
  if (!m || isIP(host) === 0) throw new ConfigError(`${key}: "${s}" is not ADDRESS:PORT`);
  return { host, port: int(Number(m[2]), key, 0, 65535) };
}
function onlyKeys(o: Obj, key: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ConfigError(`${key ? `${key}.` : ''}${k}: unknown key (expected one of ${allowed.join(', ')})`);
}

export function parseKey(v: unknown, key: string): Uint8Array {
  const s = str(v, key);
  const bytes = /^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0 ? Buffer.from(s, 'hex') : Buffer.from(s, 'utf8');
  if (bytes.length < 16) throw new ConfigError(`${key}: must be at least 16 bytes (32 hex digits or a 16-character passphrase)`);
  return new Uint8Array(bytes);
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
function logLevel(v: unknown): string {
  if (typeof v !== 'string' || !LEVELS.includes(v)) throw new ConfigError(`logLevel: must be one of ${LEVELS.join(', ')}`);
  return v;
}

export function parseNodeConfig(raw: unknown): NodeConfig {
  const o = obj(raw, 'config');
  onlyKeys(o, '', ['node', 'role', 'sctp', 'peers', 'cluster', 'app', 'stream', 'connect', 'control', 'metrics', 'logLevel', 'protocol', 'setPeerPrimary', 'checkpoint']);
  const node = str(o.node, 'node');
  const checkpoint = o.checkpoint === undefined ? undefined : parseCheckpoint(o.checkpoint);
  // A single node with a checkpoint server: no cluster link, no peers, primary.
  const solo = checkpoint !== undefined && o.cluster === undefined;
  const role = solo && o.role === undefined ? 'primary' : str(o.role, 'role');
  if (role !== 'primary' && role !== 'standby') throw new ConfigError(`role: must be "primary" or "standby"`);
  if (solo && role !== 'primary') throw new ConfigError('role: a node without a "cluster" section is the primary');
  const s = obj(o.sctp, 'sctp');
  onlyKeys(s, 'sctp', ['addresses', 'port', 'transport', 'udpPort', 'remoteUdpPort']);
  const transport = s.transport === undefined ? 'raw' : str(s.transport, 'sctp.transport');
  if (transport !== 'raw' && transport !== 'udp') throw new ConfigError(`sctp.transport: must be "raw" or "udp"`);
  const sctp = {
    addresses: addresses(s.addresses, 'sctp.addresses'),
    port: int(s.port, 'sctp.port', 1, 65535),
    transport: transport as 'raw' | 'udp',
    ...(s.udpPort !== undefined && { udpPort: int(s.udpPort, 'sctp.udpPort', 0, 65535) }),
    ...(s.remoteUdpPort !== undefined && { remoteUdpPort: int(s.remoteUdpPort, 'sctp.remoteUdpPort', 1, 65535) }),
  };
  if (!(solo && o.peers === undefined) && (!Array.isArray(o.peers) || o.peers.length === 0)) throw new ConfigError('peers: must list the other cluster node(s)');
  const peers = (solo && o.peers === undefined ? [] : (o.peers as unknown[])).map((p, i) => {
    const x = obj(p, `peers[${i}]`);
    onlyKeys(x, `peers[${i}]`, ['node', 'addresses']);
    return { node: str(x.node, `peers[${i}].node`), addresses: addresses(x.addresses, `peers[${i}].addresses`) };
  });
  if (peers.some((p) => p.node === node)) throw new ConfigError(`peers: lists this node ("${node}") itself`);
  const c = solo ? { key: '00000000000000000000000000000000', mode: checkpoint.mode, heartbeatInterval: 1000, autoPromote: false, listen: undefined } : obj(o.cluster, 'cluster');
  onlyKeys(c, 'cluster', ['listen', 'dial', 'key', 'mode', 'heartbeatInterval', 'heartbeatMisses', 'autoPromote', 'unsafeNoHold']);
  if (!solo && c.listen === undefined && c.dial === undefined) throw new ConfigError('cluster: needs "listen" and/or "dial" (ADDRESS:PORT)');
  const mode = c.mode === undefined ? 'sync' : str(c.mode, 'cluster.mode');
  if (mode !== 'sync' && mode !== 'async') throw new ConfigError('cluster.mode: must be "sync" or "async"');
  const cluster = {
    ...(c.listen !== undefined && { listen: hostPort(c.listen, 'cluster.listen') }),
    ...(c.dial !== undefined && { dial: hostPort(c.dial, 'cluster.dial') }),
    key: parseKey(c.key, 'cluster.key'),
    mode: mode as ReplicationMode,
    heartbeatInterval: c.heartbeatInterval === undefined ? 50 : int(c.heartbeatInterval, 'cluster.heartbeatInterval', 1, 60_000),
    heartbeatMisses: c.heartbeatMisses === undefined ? 3 : int(c.heartbeatMisses, 'cluster.heartbeatMisses', 1, 1000),
    autoPromote: c.autoPromote === undefined ? true : bool(c.autoPromote, 'cluster.autoPromote'),
    unsafeNoHold: c.unsafeNoHold === undefined ? false : bool(c.unsafeNoHold, 'cluster.unsafeNoHold'),
  };
  if (checkpoint?.mode === 'sync' && cluster.mode !== 'sync') throw new ConfigError('checkpoint.mode: "sync" needs cluster.mode "sync" (one output hold serves both)');
  const app = o.app === undefined ? 'echo' : str(o.app, 'app');
  if (app !== 'echo' && app !== 'discard' && app !== 'sink' && app !== 'stream') throw new ConfigError('app: must be "echo", "discard", "sink" or "stream"');
  let connect: NodeConfig['connect'];
  if (o.connect !== undefined) {
    const x = obj(o.connect, 'connect');
    onlyKeys(x, 'connect', ['addresses', 'port', 'streams', 'waitForStandby']);
    connect = {
      addresses: addresses(x.addresses, 'connect.addresses'),
      port: int(x.port, 'connect.port', 1, 65535),
      ...(x.streams !== undefined && { streams: int(x.streams, 'connect.streams', 1, 65535) }),
      ...(x.waitForStandby !== undefined && { waitForStandby: int(x.waitForStandby, 'connect.waitForStandby', 0, 600_000) }),
    };
  }
  const stream = parseStream(o.stream, app, connect);
  const protocol = o.protocol === undefined ? {} : (obj(o.protocol, 'protocol') as Partial<ProtocolConfig>);
  const r = resolveProtocolConfig(protocol);
  if (!r.ok) throw new ConfigError(`protocol: ${r.errors.join('; ')}`);
  return {
    node,
    role,
    sctp,
    peers,
    cluster,
    app,
    ...(stream && { stream }),
    ...(connect && { connect }),
    ...(o.control !== undefined && { control: str(o.control, 'control') }),
    ...(o.metrics !== undefined && { metrics: hostPort(o.metrics, 'metrics') }),
    ...(o.logLevel !== undefined && { logLevel: logLevel(o.logLevel) }),
    protocol,
    setPeerPrimary: o.setPeerPrimary === undefined ? true : bool(o.setPeerPrimary, 'setPeerPrimary'),
    ...(checkpoint && { checkpoint }),
  };
}

/** The `stream` section: only beside app "stream"; its streams must exist on an association the node initiates. */
function parseStream(v: unknown, app: string, connect: NodeConfig['connect']): StreamOptions | undefined {
  if (v !== undefined && app !== 'stream') throw new ConfigError('stream: only for app "stream"');
  if (app !== 'stream') return undefined;
  const x = v === undefined ? {} : obj(v, 'stream');
  onlyKeys(x, 'stream', ['messages', 'size', 'window', 'streams', 'shutdown']);
  const d = defaultStreamOptions;
  const s: StreamOptions = {
    messages: x.messages === undefined ? d.messages : int(x.messages, 'stream.messages', 1, 1_000_000_000),
    size: x.size === undefined ? d.size : int(x.size, 'stream.size', 4, 65_536),
    window: x.window === undefined ? d.window : int(x.window, 'stream.window', 1, 10_000),
    streams: x.streams === undefined ? d.streams : int(x.streams, 'stream.streams', 1, 65_535),
    shutdown: x.shutdown === undefined ? d.shutdown : bool(x.shutdown, 'stream.shutdown'),
  };
  if (connect?.streams !== undefined && s.streams > connect.streams) throw new ConfigError(`stream.streams: ${s.streams} is more than the ${connect.streams} outbound streams connect.streams asks for`);
  return s;
}

function parseCheckpoint(v: unknown): CheckpointConfig {
  const x = obj(v, 'checkpoint');
  onlyKeys(x, 'checkpoint', ['server', 'key', 'mode', 'fetchTimeout', 'ackTimeout']);
  const mode = x.mode === undefined ? 'sync' : str(x.mode, 'checkpoint.mode');
  if (mode !== 'sync' && mode !== 'async') throw new ConfigError('checkpoint.mode: must be "sync" or "async"');
  return {
    server: hostPort(x.server, 'checkpoint.server'),
    key: parseKey(x.key, 'checkpoint.key'),
    mode,
    fetchTimeout: x.fetchTimeout === undefined ? 3000 : int(x.fetchTimeout, 'checkpoint.fetchTimeout', 0, 600_000),
    ackTimeout: x.ackTimeout === undefined ? 2000 : int(x.ackTimeout, 'checkpoint.ackTimeout', 1, 600_000),
  };
}

/** @throws ConfigError with a one-line message naming the file and the key. */
export function loadNodeConfig(file: string): NodeConfig {
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
    return parseNodeConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${file}: ${e.message}`);
    throw e;
  }
}

/**
 * The endpoint every node presents: all nodes' SCTP addresses, in node-id
 * order, so that every node builds the same endpoint (the replicated state
 * must not depend on who built it).
 */
export function clusterAddresses(c: NodeConfig): string[] {
  const all = [{ node: c.node, addresses: c.sctp.addresses }, ...c.peers].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return all.flatMap((n) => n.addresses);
}
