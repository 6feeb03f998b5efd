/**
 * Capture analysis: groups SCTP packets into associations and accounts for
 * them (association.ts), streaming, one record at a time, in memory bounded
 * by the number of associations, never by the size of the file.
 *
 * Grouping (RFC 9260 §8.5: every packet but an INIT carries the verification
 * tag of its receiver):
 * - An INIT starts an association whose initiator owns the INIT's Initiate
 *   Tag; its retransmissions carry the same tag. An INIT between the ports and
 *   addresses of an association still in setup, from the endpoint whose tag is
 *   unknown, is the other half of an initialization collision (§5.2.1); one
 *   for an established association is a restart attempt (§5.2.2).
 * - The INIT ACK gives the responder's tag. From then on a packet belongs to
 *   the association whose endpoint at its destination port owns its tag; a
 *   T-bit ABORT or SHUTDOWN COMPLETE carries its sender's own tag (§8.4).
 * - Tags, not addresses, identify the association, so the HEARTBEATs and DATA
 *   of a multihomed association on every path land in one association; the
 *   address lists of INIT, INIT ACK and ASCONF, and every source and
 *   destination seen, make up each endpoint's address set, which settles the
 *   rare cases where tags alone do not (a second association on the same ports).
 * - A packet of an association whose handshake is not in the capture starts it
 *   mid-stream; the first packet the other way supplies the second tag.
 */
import { chunkFramingError, decodeChunkValue } from '../../wire/chunk.js';
import { verifySctpChecksum } from '../../wire/checksum.js';
import { crc32c } from '../../wire/crc32c.js';
import { pad4, u16, u32 } from '../../wire/bytes.js';
import type { Chunk, ChecksumStatus } from '../../wire/types.js';
import { extractSctp } from '../extract.js';
import type { CaptureItem, CaptureRecord, CaptureFormat } from '../reader.js';
import { CaptureReader } from '../reader.js';
import type { Timestamp } from '../time.js';
import { hexTag, TrackedAssociation, type Limits, type Side } from './association.js';
import { AnomalyKind, type InspectReport } from './report.js';
import { Anomalies } from './stats.js';

export interface InspectOptions {
  /** UDP ports that carry RFC 6951 encapsulated SCTP (default [9899]). */
  readonly udpPorts?: readonly number[];
  /** Associations tracked; packets of further ones are counted as untracked (default 10,000). */
  readonly maxAssociations?: number;
  /** Streams per direction with their own counters (default 256; the rest are summed). */
  readonly maxStreams?: number;
  /** PPIDs per direction (default 64). */
  readonly maxPpids?: number;
  /** Address pairs per association (default 64). */
  readonly maxPaths?: number;
  /** Addresses per endpoint (default 32). */
  readonly maxAddresses?: number;
  /** Timeline events per association (default 500). */
  readonly maxEvents?: number;
  /** Largest TSN ring per direction, a power of 2 (default 16384). */
  readonly tsnWindow?: number;
  /** Examples kept per anomaly kind (default 5). */
  readonly examples?: number;
  /**
   * Seconds within which an identical SCTP packet (same addresses and bytes)
   * is a duplicate frame rather than a retransmission: on another interface
   * of the capture (default 0.05), on the same one (default 0.002). A packet
   * the other way in between makes it a retransmission whatever the delay.
   */
  readonly duplicateWindow?: { readonly otherInterface: number; readonly sameInterface: number };
  /**
   * Called for every packet accounted to an association (duplicates and tag
   * mismatches are not), after the association saw it: replay planning
   * (src/pcap/replay) builds its message script from these. The chunks alias
   * the capture buffer and the array is reused: copy what is kept.
   */
  readonly onPacket?: (p: GroupedPacket) => void;
}

/** One SCTP packet as `onPacket` sees it. */
export interface GroupedPacket {
  /** AssociationReport.id. */
  readonly association: number;
  /** Sending endpoint, 0 or 1. */
  readonly from: number;
  readonly source: string;
  readonly destination: string;
  readonly chunks: readonly Chunk[];
  /** The DATA chunk whose user data the capture's snaplen cut (zeros stand in for it), if any. */
  readonly cut: Chunk | undefined;
  readonly time: number;
  readonly frame: number;
}

interface Route {
  readonly a: TrackedAssociation;
  readonly srcPort: number;
  readonly dstPort: number;
  /** The endpoint that owns the tag: the receiver of such packets. */
  readonly to: number;
}

interface Recent {
  hash: number;
  length: number;
  time: number;
  iface: number;
  src: string;
  dst: string;
  frame: number;
  seq: number;
  ipId?: number;
}

const DUP_RING = 32;

/** Chunks that answer something: alone, with no association to belong to, they are out of the blue. */
const answerOnly = new Set<Chunk['kind']>(['abort', 'shutdown-complete', 'cookie-ack']);

export class Inspector {
  private readonly maxAssociations: number;
  private readonly limits: Limits;
  private readonly dupWindow: { readonly otherInterface: number; readonly sameInterface: number };
  private readonly onPacket: ((p: GroupedPacket) => void) | undefined;
  private format: CaptureFormat | null = null;
  private frames = 0;
  private sctpPackets = 0;
  private ungrouped = 0;
  private untrackedAssociations = 0;
  private untrackedPackets = 0;
  private start: Timestamp | null = null;
  private lastTime = 0;
  private fatal: string | undefined;
  private readonly associations: TrackedAssociation[] = [];
  private readonly byTag = new Map<number, Route[]>();
  private readonly openByPorts = new Map<number, TrackedAssociation[]>();
  private readonly anomalies: Anomalies;
  private readonly recent: Recent[] = [];
  private readonly recentByHash = new Map<number, Recent>();
  private recentAt = 0;
  private readonly extractOptions: { readonly udpPorts: readonly number[] };
  private seq = 0;
  /** Chunk types of every SCTP packet, grouped or not. */
  readonly chunkTypes = new Uint32Array(256);
  /** Reused for every packet (fewer allocations on the hot path). */
  private readonly chunkBuf: Chunk[] = [];
  private readonly typeBuf: number[] = [];
  private cutData: Chunk | undefined;

  constructor(options: InspectOptions = {}) {
    this.extractOptions = { udpPorts: options.udpPorts ?? [9899] };
    this.maxAssociations = options.maxAssociations ?? 10_000;
    const tsnWindow = options.tsnWindow ?? 16384;
    if (!Number.isInteger(Math.log2(tsnWindow)) || tsnWindow < 64) throw new RangeError(`tsnWindow ${tsnWindow} is not a power of 2 of at least 64`);
    this.limits = {
      maxStreams: options.maxStreams ?? 256,
      maxPpids: options.maxPpids ?? 64,
      maxPaths: options.maxPaths ?? 64,
      maxAddresses: options.maxAddresses ?? 32,
      maxEvents: options.maxEvents ?? 500,
      maxPendingHeartbeats: 32,
      tsnWindow,
      examples: options.examples ?? 5,
    };
    this.anomalies = new Anomalies(this.limits.examples);
    this.dupWindow = options.duplicateWindow ?? { otherInterface: 0.05, sameInterface: 0.002 };
    this.onPacket = options.onPacket;
  }

  setFormat(format: CaptureFormat | undefined): void {
    if (format !== undefined) this.format = format;
  }

  /** One item of the capture reader. */
  push(item: CaptureItem): void {
    if (item.ok) {
      this.record(item.value);
      return;
    }
    if (item.error.fatal) {
      this.fatal = `${item.error.message} (at byte ${item.error.offset})`;
      return;
    }
    this.anomalies.add(AnomalyKind.captureError, 0, this.lastTime, `${item.error.message} (at byte ${item.error.offset})`);
  }

  /** One captured frame. */
  record(rec: CaptureRecord): void {
    const frame = ++this.frames;
    const ts = rec.timestamp;
    if (this.start === null) this.start = ts;
    const time = ts.seconds - this.start.seconds + (ts.nanos - this.start.nanos) / 1e9;
    if (time > this.lastTime) this.lastTime = time;
    const cut = rec.capturedLength < rec.originalLength;
    let ex = extractSctp(rec.linkType, rec.data, this.extractOptions);
    if (!ex.ok && cut) {
      // Cut by the snaplen: the IP length fields promise more than was captured.
      // Read the headers as if the rest were there, then keep what was captured.
      const whole = new Uint8Array(rec.originalLength);
      whole.set(rec.data);
      const again = extractSctp(rec.linkType, whole, this.extractOptions);
      if (again.ok && again.value !== null) {
        const v = again.value;
        ex = { ok: true, value: { ...v, sctp: v.sctp.subarray(0, Math.max(0, rec.capturedLength - v.sctpOffset)) } };
      }
    }
    if (!ex.ok) {
      this.anomalies.add(AnomalyKind.ipError, frame, time, ex.error.message);
      return;
    }
    const f = ex.value;
    if (f === null) return;
    this.sctpPackets++;
    this.packet(f.sctp, f.source, f.destination, rec.interfaceId, time, frame, cut, f.ipIdentification);
  }

  /** One SCTP packet (common header and chunks) with its IP addresses. */
  packet(bytes: Uint8Array, src: string, dst: string, iface: number, time: number, frame: number, cut = false, ipId?: number): void {
    const n = bytes.length;
    if (n < 12) {
      this.ungrouped++;
      this.anomalies.add(AnomalyKind.malformed, frame, time, `${n} bytes: too short for an SCTP common header${cut ? ' (cut by the capture snaplen)' : ''}`);
      return;
    }
    const sp = u16(bytes, 0);
    const dp = u16(bytes, 2);
    const vtag = u32(bytes, 4);
    // A packet cut by the snaplen cannot be checked; do not call it damaged.
    const status: ChecksumStatus | 'unknown' = cut ? 'unknown' : verifySctpChecksum(bytes, 0, n);
    const hash = status === 'crc32c' ? u32(bytes, 8) : crc32c(bytes, 0, n);

    const dupOf = this.duplicate(hash, n, src, dst, iface, time, frame, ipId);
    if (dupOf !== undefined) {
      const detail = `same SCTP packet as frame ${dupOf.frame} (${(1e6 * (time - dupOf.time)).toFixed(0)} µs later${dupOf.iface !== iface ? `, interface ${dupOf.iface} then ${iface}` : ''})`;
      this.anomalies.add(AnomalyKind.duplicateFrame, frame, time, detail);
      const r = this.lookup(vtag, sp, dp, src, dst);
      r?.a.anomalies.add(AnomalyKind.duplicateFrame, frame, time, detail);
      return;
    }

    // Chunks: keep every one that decodes; a framing error ends the walk.
    const chunks = this.chunkBuf;
    const types = this.typeBuf;
    chunks.length = 0;
    types.length = 0;
    this.cutData = undefined;
    let malformed: string | undefined;
    let o = 12;
    while (o < n) {
      const bad = chunkFramingError(bytes, o, n);
      if (bad !== undefined && !bad.ok) {
        // A chunk cut by the snaplen is not damage: count what its header says.
        if (cut) this.cutChunk(bytes, o, n, chunks, types);
        else malformed = `${bad.error.message} (chunk at byte ${o})`;
        break;
      }
      const type = bytes[o]!;
      const len = u16(bytes, o + 2);
      types.push(type);
      this.chunkTypes[type]!++;
      const r = decodeChunkValue(bytes, type, bytes[o + 1]!, o + 4, o + len, o);
      if (r.ok) chunks.push(r.value);
      else malformed ??= `${r.error.message} (chunk type ${type} at byte ${o})`;
      const next = o + pad4(len);
      o = next < n ? next : n;
    }

    const routed = this.route(src, dst, sp, dp, vtag, chunks, time, frame);
    if (routed === undefined) {
      this.ungrouped++;
      this.checksumAnomaly(status, undefined, frame, time);
      if (malformed !== undefined) this.anomalies.add(AnomalyKind.malformed, frame, time, malformed);
      return;
    }
    const { a, from, mismatch } = routed;
    this.checksumAnomaly(status, a, frame, time);
    if (malformed !== undefined) {
      this.anomalies.add(AnomalyKind.malformed, frame, time, malformed);
      a.anomalies.add(AnomalyKind.malformed, frame, time, malformed);
    }
    const path = a.path(from, src, dst, time);
    if (path.packets === 0) {
      a.addAddress(from, src);
      a.addAddress(1 - from, dst);
    }
    if (mismatch) {
      const detail = `verification tag ${hexTag(vtag)} from endpoint ${from}; endpoint ${1 - from} has ${a.sides[1 - from]!.tags.map(hexTag).join(', ')}`;
      this.anomalies.add(AnomalyKind.tagMismatch, frame, time, detail);
      a.anomalies.add(AnomalyKind.tagMismatch, frame, time, detail);
      a.countPacket(from, path, n, types, time);
      return;
    }
    // Tags the packet announces, for the packets that will answer it.
    const c0 = chunks[0];
    if (c0 !== undefined && c0.kind === 'init-ack') this.addTag(a, from, c0.initiateTag);
    const wasOpen = a.open;
    a.packet(from, path, n, chunks, types, time, frame);
    if (wasOpen && !a.open) this.closeOpen(a);
    this.onPacket?.({ association: a.id, from, source: src, destination: dst, chunks, cut: this.cutData, time, frame });
  }

  /**
   * The last chunk of a packet the capture cut short: its type counts, and a
   * DATA chunk whose 16-byte header is there counts with its declared length
   * (the user data itself is not in the capture: zeros stand in for it).
   */
  private cutChunk(bytes: Uint8Array, o: number, n: number, chunks: Chunk[], types: number[]): void {
    if (n - o < 4) return;
    const type = bytes[o]!;
    types.push(type);
    this.chunkTypes[type]!++;
    const len = u16(bytes, o + 2);
    if (type !== 0 || n - o < 16 || len < 16) return;
    const flags = bytes[o + 1]!;
    chunks.push((this.cutData = {
      kind: 'data',
      tsn: u32(bytes, o + 4),
      streamId: u16(bytes, o + 8),
      ssn: u16(bytes, o + 10),
      ppid: u32(bytes, o + 12),
      userData: new Uint8Array(len - 16),
      unordered: (flags & 4) !== 0,
      beginning: (flags & 2) !== 0,
      ending: (flags & 1) !== 0,
      immediate: (flags & 8) !== 0,
    }));
  }

  // ------------------------------------------------------------- grouping

  private route(
    src: string,
    dst: string,
    sp: number,
    dp: number,
    vtag: number,
    chunks: readonly Chunk[],
    time: number,
    frame: number,
  ): { a: TrackedAssociation; from: number; mismatch?: boolean } | undefined {
    const c0 = chunks[0];
    if (c0 !== undefined && c0.kind === 'init') return this.routeInit(src, dst, sp, dp, c0.initiateTag, time, frame);

    // RFC 9260 §8.4: a T-bit ABORT or SHUTDOWN COMPLETE reflects the tag of the packet it answers.
    if (c0 !== undefined && (c0.kind === 'abort' || c0.kind === 'shutdown-complete') && c0.tBit) {
      const r = this.lookup(vtag, dp, sp, dst, src);
      const what = c0.kind === 'abort' ? 'ABORT' : 'SHUTDOWN COMPLETE';
      if (r === undefined) {
        this.anomalies.add(AnomalyKind.outOfTheBlue, frame, time, `${what} with T bit for an unknown association (tag ${hexTag(vtag)})`);
        return undefined;
      }
      const detail = `endpoint ${r.to} answered with ${what} (T bit): it holds no association for that packet`;
      this.anomalies.add(AnomalyKind.outOfTheBlue, frame, time, detail);
      r.a.anomalies.add(AnomalyKind.outOfTheBlue, frame, time, detail);
      return { a: r.a, from: r.to };
    }

    if (vtag === 0) {
      this.anomalies.add(AnomalyKind.zeroTag, frame, time, `${c0 === undefined ? 'packet without chunks' : c0.kind.toUpperCase()} with verification tag 0`);
      return undefined;
    }

    const r = this.lookup(vtag, sp, dp, src, dst);
    if (r !== undefined) return { a: r.a, from: 1 - r.to };

    // Unknown tag. The other half of a mid-stream association, a tag mismatch, or a new one.
    const candidates = this.openByPorts.get(portKey(sp, dp));
    if (candidates !== undefined) {
      for (let i = candidates.length - 1; i >= 0; i--) {
        const a = candidates[i]!;
        if (!a.open) continue;
        const to = sideFor(a, dp, dst, sp, src);
        if (to === undefined) continue;
        if (a.sides[to]!.tags.length === 0) {
          this.addTag(a, to, vtag);
          return { a, from: 1 - to };
        }
        return { a, from: 1 - to, mismatch: true };
      }
    }
    if (c0 === undefined || chunks.every((c) => answerOnly.has(c.kind))) {
      const what = c0 === undefined ? 'packet without chunks' : chunks.map((c) => c.kind.toUpperCase()).join(' + ');
      this.anomalies.add(AnomalyKind.outOfTheBlue, frame, time, `${what} (tag ${hexTag(vtag)}) for no association in the capture`);
      return undefined;
    }
    const a = this.create(
      [
        { port: sp, tags: [], addresses: [src], initiator: false },
        { port: dp, tags: [], addresses: [dst], initiator: false },
      ],
      { midStream: true, time, state: 'established' },
    );
    if (a === undefined) return undefined;
    this.addTag(a, 1, vtag);
    a.assumeEstablished();
    a.event(time, frame, 'first-seen', 0, 'handshake not in the capture: grouped by verification tags and ports');
    return { a, from: 0 };
  }

  private routeInit(src: string, dst: string, sp: number, dp: number, tag: number, time: number, frame: number): { a: TrackedAssociation; from: number } | undefined {
    // A retransmitted INIT carries the same Initiate Tag (RFC 9260 §5.1, T1-init).
    const again = this.lookup(tag, dp, sp, dst, src);
    if (again !== undefined && again.a.sides[again.to]!.initiator) {
      again.a.event(time, frame, 'init-retransmitted', again.to);
      return { a: again.a, from: again.to };
    }
    const candidates = this.openByPorts.get(portKey(sp, dp));
    if (candidates !== undefined) {
      for (let i = candidates.length - 1; i >= 0; i--) {
        const a = candidates[i]!;
        if (!a.open) continue;
        const from = sideFor(a, sp, src, dp, dst);
        if (from === undefined) continue;
        if (!a.handshakeDone) {
          if (a.sides[from]!.tags.length === 0) {
            // RFC 9260 §5.2.1: both ends sent INIT.
            this.addTag(a, from, tag);
            a.event(time, frame, 'init-collision', from, 'both endpoints sent INIT (RFC 9260 §5.2.1)');
            return { a, from };
          }
          if (again !== undefined && again.a === a) return { a, from };
          break; // a new attempt with a new tag: a new association
        }
        // RFC 9260 §5.2.2: INIT for an established association (a restart, if a COOKIE ACK follows).
        this.addTag(a, from, tag);
        a.restartPending = true;
        a.event(time, frame, 'init', from, 'INIT for an established association: restart attempt (RFC 9260 §5.2.2)');
        return { a, from };
      }
    }
    const a = this.create(
      [
        { port: sp, tags: [], addresses: [src], initiator: true },
        { port: dp, tags: [], addresses: [dst], initiator: false },
      ],
      { midStream: false, time, state: 'cookie-wait' },
    );
    if (a === undefined) return undefined;
    this.addTag(a, 0, tag);
    a.initTime = time;
    a.event(time, frame, 'init', 0);
    return { a, from: 0 };
  }

  private create(sides: [Side, Side], opts: { midStream: boolean; time: number; state: 'established' | 'cookie-wait' }): TrackedAssociation | undefined {
    if (this.associations.length >= this.maxAssociations) {
      this.untrackedAssociations++;
      this.untrackedPackets++;
      return undefined;
    }
    const a = new TrackedAssociation(this.associations.length + 1, sides, opts, this.limits);
    this.associations.push(a);
    const key = portKey(sides[0].port, sides[1].port);
    let list = this.openByPorts.get(key);
    if (list === undefined) this.openByPorts.set(key, (list = []));
    list.push(a);
    return a;
  }

  private closeOpen(a: TrackedAssociation): void {
    const key = portKey(a.sides[0].port, a.sides[1].port);
    const list = this.openByPorts.get(key);
    if (list === undefined) return;
    const at = list.indexOf(a);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.openByPorts.delete(key);
  }

  /** Registers `tag` as endpoint `side`'s: packets to it with that tag will find the association. */
  private addTag(a: TrackedAssociation, side: number, tag: number): void {
    a.addTag(side, tag);
    let routes = this.byTag.get(tag);
    if (routes === undefined) this.byTag.set(tag, (routes = []));
    const srcPort = a.sides[1 - side]!.port;
    const dstPort = a.sides[side]!.port;
    for (const r of routes) if (r.a === a && r.to === side) return;
    routes.push({ a, srcPort, dstPort, to: side });
  }

  /** The association a packet from sp to dp carrying `tag` goes to, preferring one whose addresses match and that is open. */
  private lookup(tag: number, sp: number, dp: number, src: string, dst: string): Route | undefined {
    const routes = this.byTag.get(tag);
    if (routes === undefined) return undefined;
    let best: Route | undefined;
    let bestScore = -1;
    for (let i = routes.length - 1; i >= 0; i--) {
      const r = routes[i]!;
      if (r.srcPort !== sp || r.dstPort !== dp) continue;
      if (routes.length === 1) return r;
      const score = (r.a.open ? 4 : 0) + (r.a.hasAddress(r.to, dst) ? 2 : 0) + (r.a.hasAddress(1 - r.to, src) ? 1 : 0);
      if (score > bestScore) {
        best = r;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * The earlier frame this one duplicates, if any: the same SCTP bytes between
   * the same addresses within the window, with no packet the other way in
   * between (an answer would make it a retransmission). Recent packets are
   * kept in a ring of DUP_RING, indexed by hash.
   */
  private duplicate(hash: number, length: number, src: string, dst: string, iface: number, time: number, frame: number, ipId: number | undefined): Recent | undefined {
    const seq = ++this.seq;
    const e = this.recentByHash.get(hash);
    // Two IPv4 packets with different non-zero Identifications were sent twice (usrsctp sends
    // identical SACKs back to back), not captured twice.
    const resent = ipId !== undefined && e?.ipId !== undefined && ipId !== 0 && e.ipId !== 0 && ipId !== e.ipId;
    if (e !== undefined && !resent && e.length === length && e.src === src && e.dst === dst && seq - e.seq <= DUP_RING) {
      const dt = time - e.time;
      const window = e.iface === iface ? this.dupWindow.sameInterface : this.dupWindow.otherInterface;
      if (dt <= window && dt >= -window) {
        let answered = false;
        for (const x of this.recent) {
          if (x.seq > e.seq && x.src === dst && x.dst === src) {
            answered = true;
            break;
          }
        }
        if (!answered) return e;
      }
    }
    const ring = this.recent;
    const entry: Recent = ipId === undefined ? { hash, length, time, iface, src, dst, frame, seq } : { hash, length, time, iface, src, dst, frame, seq, ipId };
    if (ring.length < DUP_RING) ring.push(entry);
    else {
      const old = ring[this.recentAt]!;
      if (this.recentByHash.get(old.hash) === old) this.recentByHash.delete(old.hash);
      ring[this.recentAt] = entry;
    }
    this.recentByHash.set(hash, entry);
    this.recentAt = (this.recentAt + 1) % DUP_RING;
    return undefined;
  }

  private checksumAnomaly(status: ChecksumStatus | 'unknown', a: TrackedAssociation | undefined, frame: number, time: number): void {
    let kind: AnomalyKind;
    let detail: string;
    switch (status) {
      case 'crc32c':
      case 'unknown':
        return;
      case 'bad':
        kind = AnomalyKind.badChecksum;
        detail = 'checksum is neither CRC32c, Adler-32 nor zero: a receiver drops the packet (RFC 9260 §6.8)';
        break;
      case 'adler32':
        kind = AnomalyKind.adler32;
        detail = 'Adler-32 checksum (RFC 2960); RFC 9260 receivers drop it';
        break;
      case 'zero':
        kind = AnomalyKind.zeroChecksum;
        detail = 'zero checksum: captured before offload filled it in, or RFC 9653';
        break;
    }
    this.anomalies.add(kind, frame, time, detail);
    a?.anomalies.add(kind, frame, time, detail);
  }

  // --------------------------------------------------------------- report

  finish(): InspectReport {
    const base: InspectReport = {
      format: this.format,
      frames: this.frames,
      sctpPackets: this.sctpPackets,
      start: this.start,
      duration: this.lastTime,
      associations: this.associations.map((a) => a.report()),
      ungroupedPackets: this.ungrouped,
      anomalies: this.anomalies.report(),
    };
    let r: InspectReport = base;
    if (this.fatal !== undefined) r = { ...r, fatalError: this.fatal };
    if (this.untrackedAssociations > 0) r = { ...r, untracked: { associations: this.untrackedAssociations, packets: this.untrackedPackets } };
    return r;
  }
}

function portKey(a: number, b: number): number {
  return a < b ? a * 65536 + b : b * 65536 + a;
}

/**
 * Which endpoint of `a` a packet to port `port` at `address` (from `otherPort`
 * at `otherAddress`) is for, or undefined when the ports or addresses do not
 * fit. With equal ports on both sides, the addresses decide.
 */
function sideFor(a: TrackedAssociation, port: number, address: string, otherPort: number, otherAddress: string): number | undefined {
  for (const s of [0, 1]) {
    const side = a.sides[s]!;
    const other = a.sides[1 - s]!;
    if (side.port !== port || other.port !== otherPort) continue;
    if (!side.addresses.includes(address) || !other.addresses.includes(otherAddress)) continue;
    return s;
  }
  return undefined;
}

/** Analyses a whole capture held in memory. */
export function inspectCapture(bytes: Uint8Array, options: InspectOptions = {}): InspectReport {
  const reader = new CaptureReader();
  const inspector = new Inspector(options);
  for (const item of reader.push(bytes)) inspector.push(item);
  for (const item of reader.end()) inspector.push(item);
  inspector.setFormat(reader.format);
  return inspector.finish();
}

/**
 * Analyses a capture from a stream of chunks (a Node readable stream is one),
 * each chunk's records consumed before the next is read: memory does not grow
 * with the file. Resolves with undefined `format` when the file is not a
 * capture at all (its report then carries the fatal error).
 */
export async function inspectStream(source: AsyncIterable<Uint8Array>, options: InspectOptions = {}): Promise<InspectReport> {
  const reader = new CaptureReader();
  const inspector = new Inspector(options);
  for await (const chunk of source) {
    const items = reader.push(chunk);
    for (let i = 0; i < items.length; i++) inspector.push(items[i]!);
    if (reader.failed) break;
  }
  for (const item of reader.end()) inspector.push(item);
  inspector.setFormat(reader.format);
  return inspector.finish();
}
