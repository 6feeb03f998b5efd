/**
 * Offline re-execution (`hasctp pcap replay FILE --offline`): one side of a
 * captured association is played by a fresh core (src/core Endpoint) in
 * virtual time, the capture's timestamps being the clock. The captured
 * peer's packets are fed in; what our core sends is compared, chunk by
 * chunk, with what the captured endpoint sent.
 *
 * Our core picks its own verification tag, initial TSN, State Cookie,
 * RANDOM and Heartbeat nonces, so the peer's packets are rewritten to fit
 * it before they go in (RFC 9260 §8.5 tag, §5.1 cookie, §8.3 Heartbeat
 * Info, RFC 4895 §6.3 HMAC), and the chunks are compared with their TSNs as
 * offsets from each run's own initial TSN (normalize.ts).
 *
 * The application of the captured endpoint is reconstructed from its
 * packets: a message is handed to the core when its first fragment was
 * first sent (all messages starting in one packet together, as one flush);
 * SHUTDOWN, ABORT and ASCONF requests when the captured endpoint first sent
 * them. The core's ULP events are drained after every input, as the runtime
 * does.
 */
import { add32, diff32 } from '../../wire/serial.js';
import { decodePacket, encodePacket } from '../../wire/packet.js';
import type { Chunk, Param } from '../../wire/types.js';
import type { Result } from '../../wire/result.js';
import { createEndpoint, type Endpoint } from '../../core/endpoint.js';
import { SeededRng, type HmacSha1, type HmacSha256 } from '../../core/env.js';
import { defaultProtocolConfig, type ProtocolConfig } from '../../core/config.js';
import { associationKey } from '../../core/auth/keys.js';
import { keyVector } from '../../core/auth/params.js';
import { macFunction } from '../../core/auth/mac.js';
import { signPacket } from '../../core/auth/send.js';
import { CaptureReader } from '../reader.js';
import { Inspector, type GroupedPacket } from '../inspect/inspector.js';
import type { AssociationReport, InspectReport } from '../inspect/report.js';
import { pickAssociation } from './script.js';
import { chunkKey, compareChunks, type Divergence, type NormalChunk, type TsnBases } from './normalize.js';

export interface OfflineOptions {
  readonly side: 'client' | 'server';
  /** AssociationReport.id; default: the first association that carries user messages. */
  readonly association?: number;
  readonly udpPorts?: readonly number[];
  /** Protocol settings that override what the capture shows (and the defaults). */
  readonly config?: Partial<ProtocolConfig>;
  /** Bytes a_rwnd may differ by (default 0); Infinity ignores a_rwnd. */
  readonly rwndTolerance?: number;
  /** Milliseconds a chunk may leave earlier or later than captured (default 50). */
  readonly timeTolerance?: number;
  readonly hmac: HmacSha256;
  readonly hmacSha1?: HmacSha1;
  /** Seed of the core's RNG: the result does not depend on it. */
  readonly seed?: number;
  /** Bound on the captured bytes of the association kept in memory (default 256 MiB). */
  readonly maxBytes?: number;
}

export interface OfflineReport {
  readonly ok: boolean;
  readonly association: number;
  readonly side: 'client' | 'server';
  /** Captured packets fed to the core, and captured packets of ours compared. */
  readonly packets: { readonly fed: number; readonly compared: number };
  readonly chunks: { readonly captured: number; readonly replayed: number; readonly matched: number };
  readonly messages: number;
  /** The settings the core ran with that the capture or the flags decided. */
  readonly config: Readonly<Record<string, number | boolean | readonly number[]>>;
  readonly divergences: readonly Divergence[];
  readonly notes: readonly string[];
}

interface Packet {
  readonly frame: number;
  /** ms since the first packet of the association. */
  readonly time: number;
  readonly from: number;
  readonly source: string;
  readonly destination: string;
  readonly chunks: Chunk[];
}

/** A deep copy: the reader's buffers are reused as the capture streams through. */
function copy<T>(v: T): T {
  if (v instanceof Uint8Array) return v.slice() as T;
  if (Array.isArray(v)) return v.map(copy) as T;
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = copy(x);
    return o as T;
  }
  return v;
}

function chunkBytes(c: Chunk): number {
  switch (c.kind) {
    case 'data':
    case 'idata':
      return c.userData.length + 16;
    case 'cookie-echo':
      return c.cookie.length + 4;
    default:
      return 64;
  }
}

interface Collected {
  readonly report: AssociationReport;
  readonly packets: Packet[];
}

class Collector {
  readonly inspector: Inspector;
  readonly packets: Packet[] = [];
  private first: number | undefined;
  bytes = 0;
  tooBig = false;

  constructor(
    private readonly association: number,
    udpPorts: readonly number[] | undefined,
    private readonly maxBytes: number,
  ) {
    this.inspector = new Inspector({ ...(udpPorts !== undefined && { udpPorts }), onPacket: (p) => this.onPacket(p) });
  }

  private onPacket(p: GroupedPacket): void {
    if (p.association !== this.association || this.tooBig) return;
    this.first ??= p.time;
    for (const c of p.chunks) this.bytes += chunkBytes(c);
    if (this.bytes > this.maxBytes) {
      this.tooBig = true;
      return;
    }
    this.packets.push({ frame: p.frame, time: (p.time - this.first) * 1000, from: p.from, source: p.source, destination: p.destination, chunks: copy(p.chunks.slice()) });
  }
}

async function collect(open: () => AsyncIterable<Uint8Array>, o: OfflineOptions): Promise<Result<Collected, string>> {
  const maxBytes = o.maxBytes ?? 256 * 1024 * 1024;
  const pass = async (assoc: number): Promise<{ c: Collector; report: InspectReport }> => {
    const reader = new CaptureReader();
    const c = new Collector(assoc, o.udpPorts, maxBytes);
    for await (const chunk of open()) {
      const items = reader.push(chunk);
      for (let i = 0; i < items.length; i++) c.inspector.push(items[i]!);
      if (reader.failed) break;
    }
    for (const item of reader.end()) c.inspector.push(item);
    c.inspector.setFormat(reader.format);
    return { c, report: c.inspector.finish() };
  };
  let assoc = o.association;
  if (assoc === undefined) {
    const { report } = await pass(0);
    if (report.format === null) return { ok: false, error: `not a readable capture${report.fatalError !== undefined ? `: ${report.fatalError}` : ''}` };
    assoc = pickAssociation(report);
    if (assoc === undefined) return { ok: false, error: 'the capture holds no SCTP association' };
  }
  const { c, report } = await pass(assoc);
  if (report.format === null) return { ok: false, error: `not a readable capture${report.fatalError !== undefined ? `: ${report.fatalError}` : ''}` };
  const a = report.associations.find((x) => x.id === assoc);
  if (a === undefined) return { ok: false, error: `association ${assoc} is not in the capture (it has ${report.associations.length})` };
  if (c.tooBig) return { ok: false, error: `association ${assoc} holds more than ${maxBytes} bytes: too big to re-execute` };
  // A capture on several interfaces is written per interface buffer: put it back in time order (stable).
  const packets = c.packets.map((p, i) => ({ p, i })).sort((x, y) => x.p.time - y.p.time || x.i - y.i).map((x) => x.p);
  return { ok: true, value: { report: a, packets } };
}

interface OurMessage {
  readonly stream: number;
  readonly ppid: number;
  readonly unordered: boolean;
  readonly parts: Uint8Array[];
  complete: boolean;
}

/**
 * The messages our endpoint sent, by the frame of their first fragment's
 * first transmission (RFC 9260 §6.9: consecutive TSNs, B to E).
 */
function ourMessages(packets: readonly Packet[], us: number): { byFrame: Map<number, OurMessage[]>; count: number; incomplete: number } {
  const byFrame = new Map<number, OurMessage[]>();
  const seen = new Set<number>();
  let open: OurMessage | undefined;
  let next = 0;
  let count = 0;
  let incomplete = 0;
  for (const p of packets) {
    if (p.from !== us) continue;
    for (const c of p.chunks) {
      if (c.kind !== 'data' || seen.has(c.tsn)) continue;
      seen.add(c.tsn);
      if (c.beginning) {
        if (open !== undefined && !open.complete) incomplete++;
        open = { stream: c.streamId, ppid: c.ppid, unordered: c.unordered, parts: [c.userData], complete: c.ending };
        const list = byFrame.get(p.frame) ?? [];
        list.push(open);
        byFrame.set(p.frame, list);
        count++;
      } else if (open !== undefined && !open.complete && c.tsn === next) {
        open.parts.push(c.userData);
        open.complete = c.ending;
      }
      next = add32(c.tsn, 1);
    }
  }
  if (open !== undefined && !open.complete) incomplete++;
  return { byFrame, count, incomplete };
}

function joined(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/** ms between a peer packet and our next packet within which a message may have waited for that packet. */
const HOLD_MS = 1;

/** What our side's INIT / INIT ACK says about its settings (RFC 9260 §3.3.2, RFC 3758, RFC 4895, RFC 5061). */
function configFromInit(c: Chunk | undefined): Partial<ProtocolConfig> {
  if (c === undefined || (c.kind !== 'init' && c.kind !== 'init-ack')) return {};
  const has = (k: Param['kind']): boolean => c.params.some((p) => p.kind === k);
  const ext = c.params.find((p) => p.kind === 'supported-extensions');
  const algo = c.params.find((p) => p.kind === 'hmac-algo');
  const list = c.params.find((p) => p.kind === 'chunk-list');
  const adaptation = c.params.find((p) => p.kind === 'adaptation-layer-indication');
  const asconf = ext?.kind === 'supported-extensions' && ext.chunkTypes.includes(0xc1);
  return {
    receiveWindow: c.aRwnd,
    outboundStreams: c.outboundStreams,
    maxInboundStreams: c.inboundStreams,
    prSctp: has('forward-tsn-supported'),
    auth: has('random'),
    asconf,
    ...(algo?.kind === 'hmac-algo' && { hmacIdentifiers: algo.hmacIds }),
    ...(list?.kind === 'chunk-list' && { authChunks: list.chunkTypes.filter((t) => t !== 0xc1 && t !== 0x80) }),
    adaptationIndication: adaptation?.kind === 'adaptation-layer-indication' ? adaptation.indication : undefined,
  };
}

const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Re-executes one side of a captured association and compares. */
export async function replayOffline(open: () => AsyncIterable<Uint8Array>, o: OfflineOptions): Promise<Result<OfflineReport, string>> {
  const got = await collect(open, o);
  if (!got.ok) return got;
  const { report, packets } = got.value;
  const client = report.endpoints[1].initiator && !report.endpoints[0].initiator ? 1 : 0;
  const us = o.side === 'client' ? client : 1 - client;
  const peer = 1 - us;
  const ourEnd = report.endpoints[us]!;
  const peerEnd = report.endpoints[peer]!;
  const notes: string[] = [];

  // The captured handshake: both initial TSNs and our settings.
  let ourInit: Chunk | undefined;
  let peerInit: Chunk | undefined;
  for (const p of packets) {
    for (const c of p.chunks) {
      if (c.kind !== 'init' && c.kind !== 'init-ack') continue;
      if (p.from === us) ourInit ??= c;
      else peerInit ??= c;
    }
  }
  if (ourInit === undefined || peerInit === undefined || (ourInit.kind !== 'init' && ourInit.kind !== 'init-ack') || (peerInit.kind !== 'init' && peerInit.kind !== 'init-ack')) {
    return { ok: false, error: `association ${report.id}: the capture does not hold its handshake (INIT and INIT ACK): offline replay starts from it` };
  }
  if ((ourInit.kind === 'init') !== (o.side === 'client')) return { ok: false, error: `association ${report.id}: the ${o.side} side did not send the ${o.side === 'client' ? 'INIT' : 'INIT ACK'}` };
  const captured: TsnBases = { ours: ourInit.initialTsn, peer: peerInit.initialTsn };
  const derived = configFromInit(ourInit);
  const config: Partial<ProtocolConfig> = { ...derived, ...o.config };

  // The addresses our endpoint started with: its INIT / INIT ACK list (RFC 9260 §3.3.2: none means
  // the packet's source only); later ones came by ASCONF, which the re-execution sends itself.
  const handshakeSource = packets.find((p) => p.from === us && p.chunks.includes(ourInit))?.source ?? ourEnd.addresses[0]!;
  const listed = ourInit.params.flatMap((p) => (p.kind === 'ipv4-address' || p.kind === 'ipv6-address' ? [p.address] : []));
  const localAddresses = [...new Set([handshakeSource, ...listed])];
  const firstPeerDest = packets.find((p) => p.from === us && p.chunks.some((c) => c.kind === 'init'))?.destination;
  const remoteAddresses = firstPeerDest !== undefined ? [firstPeerDest] : peerEnd.addresses.slice(0, 1);

  const t0 = packets[0]?.time ?? 0;
  let ep: Endpoint;
  try {
    ep = createEndpoint({ localAddresses, port: ourEnd.port, config, rng: new SeededRng(o.seed ?? 1), hmac: o.hmac, ...(o.hmacSha1 !== undefined && { hmacSha1: o.hmacSha1 }), now: t0 });
  } catch (err) {
    return { ok: false, error: `cannot build an endpoint with the capture's settings: ${err instanceof Error ? err.message : String(err)}` };
  }
  const mac = macFunction(o.hmac, o.hmacSha1);

  // What the core chose, learnt from what it sent.
  let coreTag: number | undefined;
  let coreInitTsn: number | undefined;
  let coreParams: readonly Param[] = [];
  let coreCookie: Uint8Array | undefined;
  const coreHb: Uint8Array[] = [];
  const capturedHb = new Map<string, number>();
  let capturedHbCount = 0;
  let assocId: number | undefined;

  const expected: NormalChunk[] = [];
  const actual: NormalChunk[] = [];
  let lastFed = 0;
  let fed = 0;
  let compared = 0;
  let decodeErrors = 0;

  const drain = (now: number): void => {
    for (let round = 0; round < 2; round++) {
      for (let d = ep.pollTransmit(now); d !== undefined; d = ep.pollTransmit(now)) {
        const r = decodePacket(d.bytes, { checksum: 'skip' });
        if (!r.ok) {
          decodeErrors++;
          continue;
        }
        for (const c of r.value.chunks) {
          if (c.kind === 'init' || c.kind === 'init-ack') {
            coreTag = c.initiateTag;
            coreInitTsn = c.initialTsn;
            coreParams = c.params;
            if (c.kind === 'init-ack') {
              const sc = c.params.find((x) => x.kind === 'state-cookie');
              if (sc?.kind === 'state-cookie') coreCookie = sc.cookie;
            }
          }
          if (c.kind === 'heartbeat') coreHb.push(c.info);
        }
        for (const c of r.value.chunks) {
          const k = chunkKey(c, { ours: coreInitTsn ?? 0, peer: captured.peer });
          actual.push({ key: `${k.key} to ${d.destination}`, ...(k.aRwnd !== undefined && { aRwnd: k.aRwnd }), time: now, frame: lastFed });
        }
      }
      // The runtime hands events over after the input's transmits (runtime.ts onDatagrams).
      for (let ev = ep.pollEvent(); ev !== undefined; ev = ep.pollEvent()) if (ev.event.type === 'communication-up') assocId ??= ev.assocId;
    }
  };

  const runTimers = (until: number): void => {
    for (let n = 0; n < 100_000; n++) {
      const at = ep.pollTimeout();
      if (at === undefined || at > until) return;
      ep.handleTimeout(at);
      drain(at);
    }
  };

  /** The peer's packet, rewritten for our core. */
  const rewrite = (p: Packet): Uint8Array => {
    const coreBases = coreInitTsn;
    const mapOurs = (x: number): number => (coreBases === undefined ? x : add32(coreBases, diff32(captured.ours, x)));
    let tag = coreTag ?? 0;
    let auth: { hmacId: number; sharedKeyId: number } | undefined;
    const chunks: Chunk[] = p.chunks.map((c): Chunk => {
      switch (c.kind) {
        case 'init':
          tag = 0;
          return c;
        case 'abort':
        case 'shutdown-complete':
          // RFC 9260 §8.5.1: with the T bit the tag is the sender's own.
          if (c.tBit) tag = peerInit.initiateTag;
          return c;
        case 'sack':
          return { ...c, cumulativeTsnAck: mapOurs(c.cumulativeTsnAck), duplicateTsns: c.duplicateTsns.map(mapOurs) };
        case 'nr-sack':
          return { ...c, cumulativeTsnAck: mapOurs(c.cumulativeTsnAck), duplicateTsns: c.duplicateTsns.map(mapOurs) };
        case 'shutdown':
          return { ...c, cumulativeTsnAck: mapOurs(c.cumulativeTsnAck) };
        case 'ecne':
          return { ...c, lowestTsn: mapOurs(c.lowestTsn) };
        case 'asconf-ack':
          return { ...c, serial: mapOurs(c.serial) };
        case 'cookie-echo':
          return coreCookie === undefined ? c : { ...c, cookie: coreCookie };
        case 'heartbeat-ack': {
          const i = capturedHb.get(hexOf(c.info));
          const mine = i === undefined ? undefined : coreHb[i];
          return mine === undefined ? c : { ...c, info: mine };
        }
        case 'auth':
          auth = { hmacId: c.hmacId, sharedKeyId: c.sharedKeyId };
          return { ...c, hmac: new Uint8Array(c.hmac.length) };
        default:
          return c;
      }
    });
    const bytes = encodePacket({ sourcePort: peerEnd.port, destinationPort: ourEnd.port, verificationTag: tag, chunks });
    if (auth !== undefined) {
      // RFC 4895 §6.1 / §6.3: the association key comes from both key vectors; ours is the core's now.
      const shared = ep.config.sharedKeys.find((k) => k.id === auth!.sharedKeyId)?.key ?? new Uint8Array(0);
      const key = associationKey(shared, keyVector(coreParams), keyVector(peerInit.params));
      if (!signPacket(bytes, { hmacId: auth.hmacId, key }, mac)) notes.push(`frame ${p.frame}: could not re-sign the peer's AUTH (HMAC ${auth.hmacId})`);
    }
    return bytes;
  };

  const msgs = ourMessages(packets, us);
  if (msgs.incomplete > 0) notes.push(`${msgs.incomplete} message(s) of ours are not whole in the capture: sent as far as captured`);
  // When the application handed each message over is not in the capture. A message whose first
  // fragment left within HOLD_MS of peer packets may have waited in the send queue for them
  // (cwnd, rwnd, Nagle): it is queued before the earliest of them goes in (the runtime flushes
  // after each input); otherwise at its own frame. Never before an earlier message.
  const queueAt = new Map<number, OurMessage[]>();
  {
    const index = new Map<number, number>();
    packets.forEach((p, i) => index.set(p.frame, i));
    const frames = [...msgs.byFrame.keys()].sort((x, y) => index.get(x)! - index.get(y)!);
    let floor = 0;
    for (const f of frames) {
      const at = index.get(f)!;
      const t = packets[at]!.time;
      let pos = at;
      for (let k = at - 1; k >= floor && packets[k]!.time >= t - HOLD_MS; k--) if (packets[k]!.from === peer) pos = k;
      floor = pos;
      queueAt.set(pos, [...(queueAt.get(pos) ?? []), ...msgs.byFrame.get(f)!]);
    }
  }
  let shutdownAsked = false;
  let abortAsked = false;
  const asconfSeen = new Set<number>();
  let connected = false;
  const queue = (now: number, frame: number, list: readonly OurMessage[]): void => {
    if (assocId === undefined) {
      notes.push(`frame ${frame}: ${list.length} message(s) sent before the association was up: left out`);
      return;
    }
    for (const m of list) {
      const r = ep.queue(now, assocId, joined(m.parts), { streamId: m.stream, ppid: m.ppid, unordered: m.unordered });
      if (!r.ok) notes.push(`frame ${frame}: the core refused a message (${r.error.kind})`);
    }
  };

  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    runTimers(p.time);
    const waiting = queueAt.get(i);
    if (p.from === peer) {
      if (waiting !== undefined) queue(p.time, p.frame, waiting);
      const bytes = rewrite(p);
      lastFed = p.frame;
      fed++;
      ep.handlePacket(p.time, { source: p.source, destination: p.destination, bytes });
      drain(p.time);
      if (assocId === undefined) assocId = ep.associationIds()[0];
      if (waiting !== undefined && assocId !== undefined) {
        ep.flush(p.time, assocId);
        drain(p.time);
      }
      continue;
    }
    // A packet our endpoint sent: first what its application must have asked for, then the comparison.
    compared++;
    for (const c of p.chunks) {
      if (c.kind === 'init' && !connected) {
        connected = true;
        const r = ep.connect(p.time, { remoteAddresses, remotePort: peerEnd.port, outboundStreams: c.outboundStreams });
        if (r.ok) assocId = r.assocId;
        else notes.push(`frame ${p.frame}: connect failed: ${r.error}`);
      }
    }
    if (waiting !== undefined && assocId !== undefined) {
      queue(p.time, p.frame, waiting);
      ep.flush(p.time, assocId);
    }
    for (const c of p.chunks) {
      if (assocId === undefined) break;
      if (c.kind === 'shutdown' && !shutdownAsked) {
        shutdownAsked = true;
        ep.shutdown(p.time, assocId);
      } else if (c.kind === 'abort' && !c.tBit && !abortAsked) {
        abortAsked = true;
        const user = c.causes.find((x) => x.kind === 'user-initiated-abort');
        ep.abort(p.time, assocId, user?.kind === 'user-initiated-abort' ? user.reason : undefined);
      } else if (c.kind === 'asconf' && !asconfSeen.has(c.serial)) {
        asconfSeen.add(c.serial);
        for (const q of c.params) {
          if (q.kind === 'add-ip-address') ep.addLocalAddress(p.time, q.address, assocId);
          else if (q.kind === 'delete-ip-address') ep.removeLocalAddress(p.time, q.address, assocId);
          else if (q.kind === 'set-primary-address') ep.requestPeerPrimary(p.time, assocId, q.address);
        }
      }
    }
    drain(p.time);
    for (const c of p.chunks) {
      if (c.kind === 'heartbeat') {
        const k = hexOf(c.info);
        if (!capturedHb.has(k)) capturedHb.set(k, capturedHbCount++);
      }
      const k = chunkKey(c, captured);
      expected.push({ key: `${k.key} to ${p.destination}`, ...(k.aRwnd !== undefined && { aRwnd: k.aRwnd }), time: p.time, frame: p.frame });
    }
  }
  const timeTolerance = o.timeTolerance ?? 50;
  // What the core would still send before the capture ends, give or take the tolerance.
  runTimers((packets[packets.length - 1]?.time ?? 0) + timeTolerance);
  if (decodeErrors > 0) notes.push(`${decodeErrors} packet(s) of the core did not decode`);

  const cmp = compareChunks(expected, actual, { rwndTolerance: o.rwndTolerance ?? 0, timeTolerance });
  const shown: Record<string, number | boolean | readonly number[]> = {};
  const full = ep.config;
  for (const k of ['receiveWindow', 'outboundStreams', 'maxInboundStreams', 'sackDelay', 'sackFrequency', 'pathMtu', 'hbInterval', 'rtoInitial', 'rtoMin', 'nodelay', 'prSctp', 'auth', 'asconf'] as const) {
    const v = full[k];
    if (v !== defaultProtocolConfig[k] || k in derived || (o.config !== undefined && k in o.config)) shown[k] = v;
  }
  return {
    ok: true,
    value: {
      ok: cmp.divergences.length === 0,
      association: report.id,
      side: o.side,
      packets: { fed, compared },
      chunks: { captured: expected.length, replayed: actual.length, matched: cmp.matched },
      messages: msgs.count,
      config: shown,
      divergences: cmp.divergences,
      notes,
    },
  };
}
