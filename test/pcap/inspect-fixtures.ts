// Builders for synthetic captures: chunks, packets and pcapng files made with our own writer.
import { PcapngWriter, LinkType } from '../../src/pcap/index.js';
import { encodePacket } from '../../src/wire/packet.js';
import { writeSctpChecksum } from '../../src/wire/checksum.js';
import { encodeIp } from '../../src/wire/ip.js';
import { adler32 } from '../../src/wire/adler32.js';
import { encodeUdpEncapsulated } from '../../src/wire/udp.js';
import type { Chunk, DataChunk, Param } from '../../src/wire/types.js';
import type { InspectReport } from '../../src/pcap/inspect/index.js';
import { spawnSync } from 'node:child_process';

export type Checksum = 'crc32c' | 'zero' | 'adler32' | 'bad';

export interface AddOptions {
  readonly iface?: number;
  readonly checksum?: Checksum;
  /** Changes the SCTP bytes after encoding (the checksum is then computed again). */
  readonly mutate?: (sctp: Uint8Array) => void;
  /** RFC 6951: carry the packet in UDP with these ports. */
  readonly udp?: { readonly sourcePort: number; readonly destinationPort: number };
}

/** A pcapng capture built packet by packet; times in seconds from `base`. */
export class SyntheticCapture {
  private readonly w = new PcapngWriter({ application: 'hasctp tests' });
  private readonly parts: Uint8Array[] = [];
  readonly base = 1_700_000_000;

  constructor(interfaces = 1, snaplen = 0) {
    this.parts.push(this.w.header());
    for (let i = 0; i < interfaces; i++) this.parts.push(this.w.addInterface({ linkType: LinkType.raw, name: `if${i}`, snaplen }).block);
  }

  add(time: number, src: string, dst: string, sport: number, dport: number, vtag: number, chunks: readonly Chunk[], o: AddOptions = {}): this {
    const sctp = encodePacket({ sourcePort: sport, destinationPort: dport, verificationTag: vtag, chunks }, { checksum: o.checksum === 'zero' ? 'zero' : 'crc32c' });
    if (o.mutate !== undefined) {
      o.mutate(sctp);
      if (o.checksum !== 'zero') writeSctpChecksum(sctp);
    }
    if (o.checksum === 'adler32') {
      sctp.fill(0, 8, 12);
      const a = adler32(sctp);
      new DataView(sctp.buffer, sctp.byteOffset).setUint32(8, a);
    } else if (o.checksum === 'bad') sctp[8] = sctp[8]! ^ 0x5a;
    const payload = o.udp === undefined ? sctp : encodeUdpEncapsulated({ source: src, destination: dst, ...o.udp, sctp });
    const frame = encodeIp({ source: src, destination: dst, protocol: o.udp === undefined ? 132 : 17, payload });
    const seconds = Math.floor(time);
    this.parts.push(this.w.packet(o.iface ?? 0, { seconds: this.base + seconds, nanos: Math.round((time - seconds) * 1e9) }, frame));
    return this;
  }

  /** A raw frame (already an IP packet). */
  addFrame(time: number, frame: Uint8Array, iface = 0): this {
    const seconds = Math.floor(time);
    this.parts.push(this.w.packet(iface, { seconds: this.base + seconds, nanos: Math.round((time - seconds) * 1e9) }, frame));
    return this;
  }

  bytes(): Uint8Array {
    let n = 0;
    for (const p of this.parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export const payload = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

export function init(tag: number, tsn: number, addresses: readonly string[] = []): Chunk {
  const params: Param[] = addresses.map((a) => (a.includes(':') ? { kind: 'ipv6-address', address: a } : { kind: 'ipv4-address', address: a }));
  return { kind: 'init', initiateTag: tag, aRwnd: 65536, outboundStreams: 10, inboundStreams: 10, initialTsn: tsn, params };
}

export function initAck(tag: number, tsn: number, addresses: readonly string[] = []): Chunk {
  const params: Param[] = [{ kind: 'state-cookie', cookie: payload(32, 3) }, ...addresses.map((a): Param => ({ kind: 'ipv4-address', address: a }))];
  return { kind: 'init-ack', initiateTag: tag, aRwnd: 65536, outboundStreams: 10, inboundStreams: 10, initialTsn: tsn, params };
}

export const cookieEcho: Chunk = { kind: 'cookie-echo', cookie: payload(32, 3) };
export const cookieAck: Chunk = { kind: 'cookie-ack' };

export function data(tsn: number, o: Partial<Omit<DataChunk, 'kind' | 'tsn'>> & { size?: number } = {}): Chunk {
  return {
    kind: 'data',
    tsn,
    streamId: o.streamId ?? 0,
    ssn: o.ssn ?? 0,
    ppid: o.ppid ?? 0,
    userData: o.userData ?? payload(o.size ?? 100, tsn & 0xff),
    unordered: o.unordered ?? false,
    beginning: o.beginning ?? true,
    ending: o.ending ?? true,
    immediate: false,
  };
}

export function sack(cum: number, gaps: readonly { start: number; end: number }[] = [], dups: readonly number[] = []): Chunk {
  return { kind: 'sack', cumulativeTsnAck: cum, aRwnd: 65536, gapBlocks: gaps, duplicateTsns: dups };
}

export const heartbeat = (n: number): Chunk => ({ kind: 'heartbeat', info: payload(16, n) });
export const heartbeatAck = (n: number): Chunk => ({ kind: 'heartbeat-ack', info: payload(16, n) });

/** Client A (tag TA, port 5000) and server B (tag TB, port 2905): the usual handshake at t = 0..0.003. */
export const TA = 0x1111_1111;
export const TB = 0x2222_2222;
export const A = '10.0.0.1';
export const B = '10.0.0.2';

export function handshake(c: SyntheticCapture, o: { a?: string; b?: string; aList?: string[]; bList?: string[]; tsnA?: number; tsnB?: number } = {}): SyntheticCapture {
  const a = o.a ?? A;
  const b = o.b ?? B;
  return c
    .add(0, a, b, 5000, 2905, 0, [init(TA, o.tsnA ?? 100, o.aList)])
    .add(0.001, b, a, 2905, 5000, TA, [initAck(TB, o.tsnB ?? 9000, o.bList)])
    .add(0.002, a, b, 5000, 2905, TB, [cookieEcho])
    .add(0.003, b, a, 2905, 5000, TA, [cookieAck]);
}

// ------------------------------------------------------------ tshark view

export interface Tally {
  packets: number;
  data: number;
  messages: number;
  userBytes: number;
  sacks: number;
  heartbeats: number;
  heartbeatAcks: number;
}

export function tally(): Tally {
  return { packets: 0, data: 0, messages: 0, userBytes: 0, sacks: 0, heartbeats: 0, heartbeatAcks: 0 };
}

/** tshark's view, per direction "srcport>dstport", plus chunk-type counts, retransmissions and association indexes. */
export function tsharkView(path: string): { dirs: Map<string, Tally>; types: Record<string, number>; retransmissions: number; associations: number } {
  const r = spawnSync(
    'tshark',
    ['-r', path, '-Y', 'sctp', '-o', 'sctp.tsn_analysis:TRUE', '-o', 'sctp.association_index:TRUE', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,',
      '-e', 'sctp.srcport', '-e', 'sctp.dstport', '-e', 'sctp.chunk_type', '-e', 'sctp.chunk_length', '-e', 'sctp.data_e_bit', '-e', 'sctp.retransmission', '-e', 'sctp.assoc_index', '-e', 'sctp.data_tsn_raw'],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  const dirs = new Map<string, Tally>();
  const types: Record<string, number> = {};
  const assocs = new Set<string>();
  const seenTsns = new Map<string, Set<string>>();
  let retransmissions = 0;
  for (const line of r.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [sp, dp, typeList, lenList, eList, rtxList, assoc, tsnList] = line.split('|');
    const key = `${sp}>${dp}`;
    let t = dirs.get(key);
    if (t === undefined) dirs.set(key, (t = tally()));
    t.packets++;
    const ts = typeList!.split(',').map(Number);
    const lens = lenList!.split(',').map(Number);
    const es = eList ? eList.split(',').map((x) => x === '1' || x === 'True') : [];
    const tsns = tsnList ? tsnList.split(',') : [];
    let seen = seenTsns.get(key);
    if (seen === undefined) seenTsns.set(key, (seen = new Set()));
    let k = 0;
    ts.forEach((type, i) => {
      types[type] = (types[type] ?? 0) + 1;
      if (type === 0) {
        t.data++;
        t.userBytes += lens[i]! - 16;
        // A message once: the first time its last fragment's TSN appears.
        const tsn = tsns[k]!;
        if (es[k++] && !seen.has(tsn)) t.messages++;
        seen.add(tsn);
      } else if (type === 3) t.sacks++;
      else if (type === 4) t.heartbeats++;
      else if (type === 5) t.heartbeatAcks++;
    });
    if (rtxList) retransmissions += rtxList.split(',').length;
    if (assoc) for (const x of assoc.split(',')) assocs.add(x);
  }
  return { dirs, types, retransmissions, associations: assocs.size };
}

/** Our report folded the same way. */
export function ourView(r: InspectReport): { dirs: Map<string, Tally>; types: Record<string, number>; retransmissions: number } {
  const dirs = new Map<string, Tally>();
  const types: Record<string, number> = {};
  let retransmissions = 0;
  const names: Record<string, number> = { DATA: 0, INIT: 1, 'INIT-ACK': 2, SACK: 3, HEARTBEAT: 4, 'HEARTBEAT-ACK': 5, ABORT: 6, SHUTDOWN: 7, 'SHUTDOWN-ACK': 8, ERROR: 9, 'COOKIE-ECHO': 10, 'COOKIE-ACK': 11, 'SHUTDOWN-COMPLETE': 14, AUTH: 15, 'ASCONF-ACK': 128, ASCONF: 193 };
  for (const a of r.associations) {
    for (const [name, n] of Object.entries(a.chunks)) {
      const type = names[name] ?? name;
      types[type] = (types[type] ?? 0) + n;
    }
    for (const d of a.directions) {
      const key = `${a.endpoints[d.from]!.port}>${a.endpoints[1 - d.from]!.port}`;
      let t = dirs.get(key);
      if (t === undefined) dirs.set(key, (t = tally()));
      t.packets += d.packets;
      t.data += d.dataChunks;
      t.messages += d.messages;
      t.userBytes += d.userBytes + d.retransmittedBytes;
      t.sacks += d.sacks;
      t.heartbeats += d.heartbeats;
      t.heartbeatAcks += d.heartbeatAcks;
      retransmissions += d.retransmissions;
    }
  }
  for (const [k, t] of [...dirs]) if (t.packets === 0) dirs.delete(k);
  return { dirs, types, retransmissions };
}

