/**
 * A Transport that records every SCTP packet it sends and receives to a
 * pcapng capture, then hands it on to the transport it wraps: the runtime
 * and the core do not know it is there.
 *
 * Layout of the capture, so a failover can be read in Wireshark:
 * - one interface per local address (if_name = the address), link type raw
 *   IP; each packet is written as an IPv4/IPv6 packet carrying SCTP (IP
 *   protocol 132) whatever the transport (raw IP or RFC 6951 UDP), with the
 *   pcapng direction flag (inbound / outbound) set;
 * - any number of extra named interfaces for other traffic, created on first
 *   use: `writeOther(name, frame)` for frames the caller builds, and
 *   `writeOtherUdp(name, ...)` for datagrams (e.g. the HA cluster link,
 *   src/cluster), written as IP/UDP.
 *
 * Packets are written in batches (one clock read per batch). The file is
 * complete after close().
 */
import { createWriteStream } from 'node:fs';
import { PcapngWriter } from '../pcap/writer.js';
import { LinkType } from '../pcap/link.js';
import type { Timestamp } from '../pcap/time.js';
import { encodeIp, IpProtocol } from '../wire/ip.js';
import { encodeUdp } from '../wire/udp.js';
import type { DatagramHandler, IncomingDatagram, OutgoingDatagram, Transport, TransportCounters } from './transport.js';

/** Where the capture bytes go, in order. */
export interface PcapSink {
  write(bytes: Uint8Array): void;
  /** Flushes and releases; resolves when everything written is stored. */
  close(): Promise<void>;
}

export interface PcapTapOptions {
  readonly sink: PcapSink;
  /** Wall-clock time of a batch (default: performance.timeOrigin + performance.now(), microsecond resolution). */
  readonly clock?: () => Timestamp;
  /** shb_userappl (default "hasctp"). */
  readonly application?: string;
  /** opt_comment of the section, e.g. the command line. */
  readonly comment?: string;
}

export interface OtherFrameOptions {
  /** LINKTYPE_* of the interface, fixed when it is created (default raw IP). */
  readonly linkType?: number;
  readonly direction?: 'inbound' | 'outbound';
  readonly comment?: string;
}

export interface OtherDatagram {
  readonly source: string;
  readonly destination: string;
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly payload: Uint8Array;
  readonly direction?: 'inbound' | 'outbound';
}

function wallClock(): Timestamp {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.max(0, Math.round((ms - seconds * 1000) * 1e6)));
  return { seconds, nanos };
}

export class PcapTap implements Transport {
  private readonly inner: Transport;
  private readonly sink: PcapSink;
  private readonly clock: () => Timestamp;
  private readonly writer: PcapngWriter;
  /** Interface id by local address (SCTP) or by name (others). */
  private readonly sctpIfaces = new Map<string, number>();
  private readonly otherIfaces = new Map<string, { id: number; linkType: number }>();
  private handler: DatagramHandler | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Packets written to the capture. */
  packetsWritten = 0;

  constructor(inner: Transport, options: PcapTapOptions) {
    this.inner = inner;
    this.sink = options.sink;
    this.clock = options.clock ?? wallClock;
    this.writer = new PcapngWriter({ application: options.application ?? 'hasctp', ...(options.comment !== undefined && { comment: options.comment }) });
    this.sink.write(this.writer.header());
    // One interface per local address from the start, in order, so interface ids are stable.
    for (const a of inner.localAddresses) this.sctpInterface(a, undefined);
    // Take over a handler already set on the inner transport.
    if (inner.onDatagrams !== undefined) this.onDatagrams = inner.onDatagrams;
    // RFC 5061 ADD-IP: offered only when the wrapped driver offers it; a new address gets its interface at its first packet.
    if (inner.addLocalAddress !== undefined) this.addLocalAddress = (a) => inner.addLocalAddress!(a);
    if (inner.removeLocalAddress !== undefined) this.removeLocalAddress = (a) => inner.removeLocalAddress!(a);
  }

  addLocalAddress?: (address: string) => Promise<void>;
  removeLocalAddress?: (address: string) => Promise<void>;

  get kind(): string {
    return this.inner.kind;
  }

  get localAddresses(): readonly string[] {
    return this.inner.localAddresses;
  }

  get lastError(): string | undefined {
    return this.inner.lastError;
  }

  get onDatagrams(): DatagramHandler | undefined {
    return this.handler;
  }

  set onDatagrams(h: DatagramHandler | undefined) {
    this.handler = h;
    this.inner.onDatagrams =
      h === undefined
        ? undefined
        : (batch: IncomingDatagram[]) => {
            this.recordIncoming(batch);
            h(batch);
          };
  }

  send(packets: readonly OutgoingDatagram[]): void {
    if (!this.closed && packets.length > 0) {
      const ts = this.clock();
      const out: Uint8Array[] = [];
      for (const p of packets) this.sctpPacket(out, ts, p.source, p.destination, p.bytes, 'outbound');
      this.flush(out);
    }
    this.inner.send(packets);
  }

  counters(): TransportCounters {
    return this.inner.counters();
  }

  /** UDP encapsulation: the bound local port of an address (what runtime/transports.ts boundUdpPort asks). */
  localPort(address: string): number | undefined {
    const lp = (this.inner as { localPort?: (a: string) => number | undefined }).localPort;
    return typeof lp === 'function' ? lp.call(this.inner, address) : undefined;
  }

  /**
   * Writes a frame of other traffic on the interface `name` (created on first
   * use with `linkType`, default raw IP: `frame` is then an IPv4/IPv6 packet).
   */
  writeOther(name: string, frame: Uint8Array, options: OtherFrameOptions = {}): void {
    if (this.closed) return;
    const out: Uint8Array[] = [];
    const id = this.otherInterface(name, options.linkType ?? LinkType.raw, out);
    out.push(
      this.writer.packet(id, this.clock(), frame, {
        ...(options.direction !== undefined && { direction: options.direction }),
        ...(options.comment !== undefined && { comment: options.comment }),
      }),
    );
    this.packetsWritten++;
    this.flush(out);
  }

  /** Writes a UDP datagram of other traffic (e.g. the cluster link) as IP/UDP on the raw-IP interface `name`. */
  writeOtherUdp(name: string, d: OtherDatagram): void {
    const udp = encodeUdp({ source: d.source, destination: d.destination, sourcePort: d.sourcePort, destinationPort: d.destinationPort, payload: d.payload });
    const ip = encodeIp({ source: d.source, destination: d.destination, protocol: IpProtocol.udp, payload: udp });
    this.writeOther(name, ip, d.direction === undefined ? {} : { direction: d.direction });
  }

  /** Closes the wrapped transport, then completes the capture. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.inner.close();
      } finally {
        this.closed = true;
        await this.sink.close();
      }
    })();
    return this.closing;
  }

  private recordIncoming(batch: readonly IncomingDatagram[]): void {
    if (this.closed || batch.length === 0) return;
    const ts = this.clock();
    const out: Uint8Array[] = [];
    for (const d of batch) this.sctpPacket(out, ts, d.source, d.destination, d.bytes, 'inbound');
    this.flush(out);
  }

  private sctpPacket(out: Uint8Array[], ts: Timestamp, source: string, destination: string, sctp: Uint8Array, direction: 'inbound' | 'outbound'): void {
    let frame: Uint8Array;
    try {
      frame = encodeIp({ source, destination, protocol: IpProtocol.sctp, payload: sctp });
    } catch {
      return; // mixed families or an oversized packet: nothing sane to record
    }
    const id = this.sctpInterface(direction === 'outbound' ? source : destination, out);
    out.push(this.writer.packet(id, ts, frame, { direction }));
    this.packetsWritten++;
  }

  /** The interface of a local address, its block written at once (`out` undefined) or queued in `out`. */
  private sctpInterface(address: string, out: Uint8Array[] | undefined): number {
    let id = this.sctpIfaces.get(address);
    if (id === undefined) {
      const r = this.writer.addInterface({ linkType: LinkType.raw, name: address, description: `hasctp ${this.inner.kind} ${address}` });
      id = r.id;
      this.sctpIfaces.set(address, id);
      if (out === undefined) this.sink.write(r.block);
      else out.push(r.block);
    }
    return id;
  }

  private otherInterface(name: string, linkType: number, out: Uint8Array[]): number {
    const have = this.otherIfaces.get(name);
    if (have !== undefined) {
      if (have.linkType !== linkType) throw new RangeError(`pcap tap interface ${name} has link type ${have.linkType}, not ${linkType}`);
      return have.id;
    }
    const r = this.writer.addInterface({ linkType, name, description: `hasctp ${name}` });
    this.otherIfaces.set(name, { id: r.id, linkType });
    out.push(r.block);
    return r.id;
  }

  private flush(out: Uint8Array[]): void {
    if (out.length === 0) return;
    if (out.length === 1) {
      this.sink.write(out[0]!);
      return;
    }
    let n = 0;
    for (const b of out) n += b.length;
    const all = new Uint8Array(n);
    let o = 0;
    for (const b of out) {
      all.set(b, o);
      o += b.length;
    }
    this.sink.write(all);
  }
}

/**
 * A sink writing to `path` (created or truncated). Resolves once the file is
 * open, so a bad path fails here rather than later; a write error after that
 * is reported by close().
 */
export async function openPcapFile(path: string): Promise<PcapSink> {
  const stream = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  let failure: Error | undefined;
  stream.on('error', (e) => (failure ??= e));
  return {
    write(bytes: Uint8Array): void {
      if (failure === undefined) stream.write(bytes);
    },
    close(): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        if (stream.closed || stream.destroyed) {
          if (failure) reject(failure);
          else resolve();
          return;
        }
        stream.end(() => (failure ? reject(failure) : resolve()));
      });
    },
  };
}

/** Wraps `inner` in a tap writing to `path`. */
export async function openPcapTap(inner: Transport, path: string, options: Omit<PcapTapOptions, 'sink'> = {}): Promise<PcapTap> {
  return new PcapTap(inner, { ...options, sink: await openPcapFile(path) });
}

/**
 * What `--pcap FILE` needs: the file opened up front (a bad path fails
 * before any socket is opened), and the wrapper to hand to createServer() /
 * connect() as `wrapTransport`. `abandon()` closes the file when the
 * transport was never opened (the tap closes it otherwise).
 */
export interface PcapRecorder {
  readonly wrap: (t: Transport) => Transport;
  /** The tap, once wrap() was called (for writeOther on extra interfaces). */
  readonly tap: () => PcapTap | undefined;
  abandon(): Promise<void>;
}

export async function openPcapRecorder(path: string, options: Omit<PcapTapOptions, 'sink'> = {}): Promise<PcapRecorder> {
  const sink = await openPcapFile(path);
  let tap: PcapTap | undefined;
  return {
    wrap: (t) => (tap = new PcapTap(t, { ...options, sink })),
    tap: () => tap,
    abandon: async () => {
      if (tap === undefined) await sink.close();
    },
  };
}
