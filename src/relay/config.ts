/**
 * The relay's JSON configuration (`hasctp relay --config FILE`), checked key
 * by key: every problem is reported with its path, as one line.
 */
import { resolveProtocolConfig, type ProtocolConfig } from '../core/config.js';
import { canonicalAddress } from '../wire/address.js';
import type { BackendSpec, RelayOptions, Routing } from './core.js';

export interface RelayConfig extends RelayOptions {
  readonly transport: 'udp' | 'raw';
  readonly listen: { readonly addresses: readonly string[]; readonly port: number; readonly udpPort?: number };
  /** Acknowledge after forward (default true); false: messages are acknowledged on receipt, as by any endpoint. */
  readonly ackAfterForward: boolean;
  /** ms a message may wait for the next hop's acknowledgement before the window closes (default 5000). */
  readonly holdLimitMs: number;
  /** Protocol parameters for both sides (RFC 9260 §16 names, as in the library options). */
  readonly protocol: Partial<ProtocolConfig>;
}

export type ConfigParse = { readonly ok: true; readonly config: RelayConfig } | { readonly ok: false; readonly error: string };

class ConfigError extends Error {}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (!isObj(v)) throw new ConfigError(`${path}: must be an object`);
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw new ConfigError(`${path}.${k}: unknown key (known: ${allowed.join(', ')})`);
  return v;
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${path}: must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${path}: must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(`${path}: must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function addresses(v: unknown, path: string): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new ConfigError(`${path}: must be a non-empty list of IP addresses`);
  return v.map((a, i) => {
    const c = typeof a === 'string' ? canonicalAddress(a) : undefined;
    if (c === undefined) throw new ConfigError(`${path}[${i}]: not an IP address: ${JSON.stringify(a)}`);
    return c;
  });
}

function backend(v: unknown, path: string): BackendSpec {
  const o = obj(v, path, ['name', 'addresses', 'port', 'udpPort']);
  return {
    name: str(o['name'], `${path}.name`),
    addresses: addresses(o['addresses'], `${path}.addresses`),
    port: int(o['port'], `${path}.port`, 1, 65535),
    ...(o['udpPort'] !== undefined && { udpPort: int(o['udpPort'], `${path}.udpPort`, 1, 65535) }),
  };
}

function routing(v: unknown, names: readonly string[]): Routing {
  const base = obj(v, 'routing', ['mode', 'routes', 'default']);
  const mode = base['mode'];
  const known = (n: unknown, path: string): string => {
    const s = str(n, path);
    if (!names.includes(s)) throw new ConfigError(`${path}: no backend named ${JSON.stringify(s)} (backends: ${names.join(', ')})`);
    return s;
  };
  switch (mode) {
    case 'round-robin':
      if (base['routes'] !== undefined || base['default'] !== undefined) throw new ConfigError('routing: round-robin takes no routes or default');
      return { mode };
    case 'ppid':
    case 'stream': {
      const routes = base['routes'] ?? [];
      if (!Array.isArray(routes)) throw new ConfigError('routing.routes: must be a list');
      const dflt = known(base['default'], 'routing.default');
      if (mode === 'ppid') {
        return {
          mode,
          default: dflt,
          routes: routes.map((r, i) => {
            const o = obj(r, `routing.routes[${i}]`, ['ppid', 'backend']);
            return { ppid: int(o['ppid'], `routing.routes[${i}].ppid`, 0, 0xffff_ffff), backend: known(o['backend'], `routing.routes[${i}].backend`) };
          }),
        };
      }
      return {
        mode,
        default: dflt,
        routes: routes.map((r, i) => {
          const o = obj(r, `routing.routes[${i}]`, ['streams', 'backend']);
          const s = o['streams'];
          if (!Array.isArray(s) || s.length !== 2) throw new ConfigError(`routing.routes[${i}].streams: must be [first, last]`);
          const first = int(s[0], `routing.routes[${i}].streams[0]`, 0, 65535);
          const last = int(s[1], `routing.routes[${i}].streams[1]`, first, 65535);
          return { streams: [first, last] as const, backend: known(o['backend'], `routing.routes[${i}].backend`) };
        }),
      };
    }
    default:
      throw new ConfigError(`routing.mode: must be "ppid", "stream" or "round-robin", got ${JSON.stringify(mode)}`);
  }
}

const TOP = ['transport', 'listen', 'backends', 'routing', 'ackAfterForward', 'holdLimitMs', 'm3ua', 'maxReconnects', 'protocol'] as const;

/** Parses and checks a configuration object (already JSON-decoded). */
export function parseRelayConfig(v: unknown): ConfigParse {
  try {
    const o = obj(v, 'config', TOP);
    const transport = o['transport'] ?? 'udp';
    if (transport !== 'udp' && transport !== 'raw') throw new ConfigError(`transport: must be "udp" or "raw", got ${JSON.stringify(transport)}`);
    const l = obj(o['listen'], 'listen', ['addresses', 'port', 'udpPort']);
    const listen = {
      addresses: addresses(l['addresses'], 'listen.addresses'),
      port: int(l['port'], 'listen.port', 1, 65535),
      ...(l['udpPort'] !== undefined && { udpPort: int(l['udpPort'], 'listen.udpPort', 0, 65535) }),
    };
    const bl = o['backends'];
    if (!Array.isArray(bl) || bl.length === 0) throw new ConfigError('backends: must be a non-empty list');
    const backends = bl.map((b, i) => backend(b, `backends[${i}]`));
    const names = backends.map((b) => b.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new ConfigError(`backends: name ${JSON.stringify(dup)} used twice`);
    if (o['routing'] === undefined) throw new ConfigError('routing: missing');
    const route = routing(o['routing'], names);
    let m3ua: RelayConfig['m3ua'];
    if (o['m3ua'] !== undefined) {
      const m = obj(o['m3ua'], 'm3ua', ['enabled', 'routingContexts']);
      const rcs = m['routingContexts'] ?? [];
      if (!Array.isArray(rcs)) throw new ConfigError('m3ua.routingContexts: must be a list of integers');
      m3ua = { enabled: bool(m['enabled'], 'm3ua.enabled'), routingContexts: rcs.map((r, i) => int(r, `m3ua.routingContexts[${i}]`, 0, 0xffff_ffff)) };
    }
    const protocolIn = o['protocol'] ?? {};
    if (!isObj(protocolIn)) throw new ConfigError('protocol: must be an object');
    for (const k of ['holdAcks', 'holdLimit', 'notifyAcked']) if (k in protocolIn) throw new ConfigError(`protocol.${k}: set by the relay (use ackAfterForward / holdLimitMs)`);
    const pr = resolveProtocolConfig(protocolIn);
    if (!pr.ok) throw new ConfigError(`protocol.${pr.errors[0]}`);
    return {
      ok: true,
      config: {
        transport,
        listen,
        backends,
        routing: route,
        ackAfterForward: o['ackAfterForward'] === undefined ? true : bool(o['ackAfterForward'], 'ackAfterForward'),
        holdLimitMs: o['holdLimitMs'] === undefined ? 5000 : int(o['holdLimitMs'], 'holdLimitMs', 1, 3_600_000),
        ...(m3ua && { m3ua }),
        maxReconnects: o['maxReconnects'] === undefined ? 10 : int(o['maxReconnects'], 'maxReconnects', 0, 1_000_000),
        protocol: protocolIn as Partial<ProtocolConfig>,
      },
    };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, error: e.message };
    throw e;
  }
}

/** The protocol options both sides of the relay run with. */
export function relayProtocolConfig(c: Pick<RelayConfig, 'ackAfterForward' | 'holdLimitMs' | 'protocol'>): Partial<ProtocolConfig> {
  return {
    // Replies keep their stream: ask for every stream the peer allows.
    outboundStreams: 65535,
    ...c.protocol,
    holdAcks: c.ackAfterForward,
    holdLimit: c.holdLimitMs,
    notifyAcked: true,
  };
}
