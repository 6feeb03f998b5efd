/**
 * SCTP directly over IP (protocol 132) through the native addon's raw
 * sockets (native/src/raw_socket*.cc): one socket per address family,
 * recvmmsg/sendmmsg batches, the source address of every sent packet chosen
 * per packet (IP_PKTINFO / IPV6_PKTINFO) and the destination of every
 * received packet reported, which multihoming needs (RFC 9260 §6.4).
 *
 * Needs CAP_NET_RAW, and a kernel without its own SCTP module: a loaded
 * module answers our peers' packets with ABORT (it sees associations it does
 * not know), so opening refuses unless told otherwise.
 */
import { canonicalAddress, addressFamily } from '../wire/address.js';
import { loadNative, nativeUnavailableReason } from './native.js';
import type { DatagramHandler, IncomingDatagram, OutgoingDatagram, Transport, TransportCounters } from './transport.js';

/** What native/src/raw_socket_napi.cc exports. */
interface NativeRawSocketStats {
  readonly packetsIn: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly bytesOut: number;
  readonly sendErrors: number;
  readonly receiveErrors: number;
  readonly truncated: number;
  readonly malformed: number;
  readonly kernelDrops: number;
  readonly filtered: number;
  readonly lastSendError: string | undefined;
  readonly lastReceiveError: string | undefined;
}

interface NativeRawSocket {
  /** Returns how many packets failed. */
  send(packets: Uint8Array[], sources: string[], destinations: string[]): number;
  setLocalAddresses(addresses: string[]): void;
  stats(): NativeRawSocketStats;
  fd(): number;
  close(): void;
}

type OnPackets = (count: number, buffer: ArrayBuffer, metaOffset: number, addresses: string[]) => void;

interface NativeRawSocketOptions {
  batch?: number;
  maxPacket?: number;
  rcvbuf?: number;
  sndbuf?: number;
}

interface RawAddon {
  RawSocket: new (family: 4 | 6, localAddresses: string[], onPackets: OnPackets, options?: NativeRawSocketOptions) => NativeRawSocket;
  sctpKernelModuleLoaded(): boolean;
}

function rawAddon(): RawAddon {
  const addon = loadNative() as (Partial<RawAddon> & object) | undefined;
  if (addon === undefined) {
    throw new Error(`raw IP needs the native addon (${nativeUnavailableReason() ?? 'unavailable'}); use --udp-encap`);
  }
  if (typeof addon.RawSocket !== 'function' || typeof addon.sctpKernelModuleLoaded !== 'function') {
    throw new Error('the native addon predates raw sockets: rebuild it (rm -rf native/build && npm install), or use --udp-encap');
  }
  return addon as RawAddon;
}

/**
 * True when the kernel's SCTP module is loaded (or built in). Undefined when
 * the addon is missing and the question cannot be asked this way.
 */
export function sctpKernelModuleLoaded(): boolean | undefined {
  const addon = loadNative() as Partial<RawAddon> | undefined;
  return typeof addon?.sctpKernelModuleLoaded === 'function' ? addon.sctpKernelModuleLoaded() : undefined;
}

export const KERNEL_SCTP_MESSAGE =
  'the kernel SCTP module is loaded and would answer our peers with ABORT: unload it (modprobe -r sctp) and blacklist it, or use --udp-encap';

export interface RawTransportOptions {
  /**
   * Local addresses (IPv4 and/or IPv6). Only packets to these are delivered
   * and they are the sources packets may be sent from. Empty: every address
   * of the host, both families (IPv6 skipped if the host has none).
   */
  readonly localAddresses: readonly string[];
  readonly onDatagrams?: DatagramHandler;
  /** Open even though the kernel SCTP module is loaded (warns instead of refusing). */
  readonly allowKernelSctp?: boolean;
  /** Packets per recvmmsg (default 64, at most 1024). */
  readonly batch?: number;
  /** Socket buffer sizes in bytes (default 4 MiB each). */
  readonly receiveBufferSize?: number;
  readonly sendBufferSize?: number;
}

export interface RawTransportCounters extends TransportCounters {
  /** Packets to addresses that are not ours (the raw socket sees all SCTP of the host). */
  readonly filtered: number;
  /** Of `drops`: what the kernel dropped on a full receive queue (SO_RXQ_OVFL). */
  readonly kernelDrops: number;
}

/** Canonical, deduplicated, and split by family. */
function splitAddresses(addresses: readonly string[]): { local: string[]; byFamily: { 4: string[]; 6: string[] } } {
  const byFamily: { 4: string[]; 6: string[] } = { 4: [], 6: [] };
  const local: string[] = [];
  for (const a of addresses) {
    const c = canonicalAddress(a);
    if (c === undefined) throw new TypeError(`not an IP address: ${a}`);
    if (local.includes(c)) continue;
    local.push(c);
    byFamily[addressFamily(c)].push(c);
  }
  return { local, byFamily };
}

class RawTransport implements Transport {
  readonly kind = 'raw-ip';
  onDatagrams: DatagramHandler | undefined;
  private readonly sockets: { 4?: NativeRawSocket; 6?: NativeRawSocket } = {};
  private local: readonly string[];
  private closed = false;
  /** Received while no handler was set. */
  private unhandled = 0;
  /** Sends to a family with no socket, or after close. */
  private unsendable = 0;
  private sendLastError: string | undefined;
  // send() scratch, per family, reused.
  private readonly out = {
    4: { bytes: [] as Uint8Array[], sources: [] as string[], destinations: [] as string[] },
    6: { bytes: [] as Uint8Array[], sources: [] as string[], destinations: [] as string[] },
  };

  constructor(addon: RawAddon, options: RawTransportOptions) {
    this.onDatagrams = options.onDatagrams;
    const { local, byFamily } = splitAddresses(options.localAddresses);
    this.local = local;
    const wildcard = local.length === 0;
    const nativeOptions: NativeRawSocketOptions = {};
    if (options.batch !== undefined) nativeOptions.batch = options.batch;
    if (options.receiveBufferSize !== undefined) nativeOptions.rcvbuf = options.receiveBufferSize;
    if (options.sendBufferSize !== undefined) nativeOptions.sndbuf = options.sendBufferSize;
    try {
      for (const family of [4, 6] as const) {
        if (!wildcard && byFamily[family].length === 0) continue;
        try {
          this.sockets[family] = new addon.RawSocket(family, byFamily[family], this.receiver(), nativeOptions);
        } catch (err) {
          // A host without IPv6 is fine when IPv6 was not asked for.
          if (wildcard && family === 6 && (err as { code?: string }).code === 'EAFNOSUPPORT') continue;
          throw err;
        }
      }
    } catch (err) {
      for (const s of Object.values(this.sockets)) s.close();
      throw err;
    }
  }

  get localAddresses(): readonly string[] {
    return this.local;
  }

  private receiver(): OnPackets {
    return (count, buffer, metaOffset, addresses) => {
      if (this.closed) return;
      const handler = this.onDatagrams;
      if (handler === undefined) {
        this.unhandled += count;
        return;
      }
      const meta = new Uint32Array(buffer, metaOffset, 4 * count);
      const batch = new Array<IncomingDatagram>(count);
      for (let i = 0, m = 0; i < count; i++, m += 4) {
        batch[i] = {
          source: addresses[2 * i]!,
          destination: addresses[2 * i + 1]!,
          bytes: new Uint8Array(buffer, meta[m]!, meta[m + 1]!),
          ifindex: meta[m + 2]!,
          ttl: meta[m + 3]!,
        };
      }
      handler(batch);
    };
  }

  send(packets: readonly OutgoingDatagram[]): void {
    if (this.closed) {
      this.unsendable += packets.length;
      this.sendLastError = 'send: transport closed';
      return;
    }
    const v4 = this.out[4];
    const v6 = this.out[6];
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      const o = p.destination.includes(':') ? v6 : v4;
      o.bytes.push(p.bytes);
      o.sources.push(p.source);
      o.destinations.push(p.destination);
    }
    try {
      this.flush(4);
    } finally {
      this.flush(6);
    }
  }

  private flush(family: 4 | 6): void {
    const o = this.out[family];
    if (o.bytes.length === 0) return;
    const socket = this.sockets[family];
    try {
      if (socket === undefined) {
        this.unsendable += o.bytes.length;
        this.sendLastError = `send to ${o.destinations[0]!}: no IPv${family} local address`;
      } else if (socket.send(o.bytes, o.sources, o.destinations) > 0) {
        this.sendLastError = `send (IPv${family}): ${socket.stats().lastSendError ?? 'failed'}`;
      }
    } finally {
      // Also when the addon threw (bytes not a Uint8Array): never resend a stale batch.
      o.bytes.length = 0;
      o.sources.length = 0;
      o.destinations.length = 0;
    }
  }

  counters(): RawTransportCounters {
    let packetsIn = 0;
    let bytesIn = 0;
    let packetsOut = 0;
    let bytesOut = 0;
    let sendErrors = this.unsendable;
    let receiveErrors = 0;
    let drops = this.unhandled;
    let filtered = 0;
    let kernelDrops = 0;
    for (const s of Object.values(this.sockets)) {
      const n = s.stats();
      packetsIn += n.packetsIn;
      bytesIn += n.bytesIn;
      packetsOut += n.packetsOut;
      bytesOut += n.bytesOut;
      sendErrors += n.sendErrors;
      receiveErrors += n.receiveErrors;
      drops += n.truncated + n.malformed + n.kernelDrops;
      filtered += n.filtered;
      kernelDrops += n.kernelDrops;
    }
    return { packetsIn, bytesIn, packetsOut, bytesOut, sendErrors, receiveErrors, drops, filtered, kernelDrops };
  }

  get lastError(): string | undefined {
    if (this.sendLastError !== undefined) return this.sendLastError;
    for (const [family, s] of Object.entries(this.sockets)) {
      const e = s.stats().lastReceiveError;
      if (e !== undefined) return `receive (IPv${family}): ${e}`;
    }
    return undefined;
  }

  /**
   * Replaces the local addresses (RFC 5061 ADD-IP, or a standby taking over
   * an address): a filter update, no socket is reopened. A family that had no
   * socket at open time cannot be added.
   */
  setLocalAddresses(addresses: readonly string[]): void {
    const { local, byFamily } = splitAddresses(addresses);
    for (const family of [4, 6] as const) {
      if (byFamily[family].length > 0 && this.sockets[family] === undefined) {
        throw new Error(`no IPv${family} raw socket: open the transport with an IPv${family} address`);
      }
    }
    for (const family of [4, 6] as const) this.sockets[family]?.setLocalAddresses(byFamily[family]);
    this.local = local;
  }

  /** Transport.addLocalAddress (RFC 5061 ADD-IP): a filter update. A wildcard transport already has every address. */
  addLocalAddress(address: string): Promise<void> {
    try {
      const c = canonicalAddress(address);
      if (c === undefined) throw new TypeError(`not an IP address: ${address}`);
      if (this.local.length > 0 && !this.local.includes(c)) this.setLocalAddresses([...this.local, c]);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** Transport.removeLocalAddress: the last address stays (an empty list would mean every address). */
  removeLocalAddress(address: string): Promise<void> {
    try {
      const c = canonicalAddress(address);
      if (c !== undefined && this.local.includes(c) && this.local.length > 1) this.setLocalAddresses(this.local.filter((x) => x !== c));
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** The native file descriptors (-1 once closed); for tests and diagnostics. */
  fds(): number[] {
    return Object.values(this.sockets).map((s) => s.fd());
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const s of Object.values(this.sockets)) s.close();
    }
    return Promise.resolve();
  }
}

export type { RawTransport };

/**
 * Opens the raw IP transport.
 * @throws Error with code EPERM and a one-line message naming CAP_NET_RAW and
 *   --udp-encap when the process may not open raw sockets; Error with code
 *   HASCTP_KERNEL_SCTP when the kernel SCTP module is loaded (unless
 *   allowKernelSctp); Error when the addon is unavailable.
 */
export function openRawTransport(options: RawTransportOptions): Promise<RawTransport> {
  try {
    const addon = rawAddon();
    if (addon.sctpKernelModuleLoaded()) {
      if (options.allowKernelSctp !== true) {
        throw Object.assign(new Error(`${KERNEL_SCTP_MESSAGE} (allowKernelSctp overrides)`), { code: 'HASCTP_KERNEL_SCTP' });
      }
      process.emitWarning(KERNEL_SCTP_MESSAGE, { code: 'HASCTP_KERNEL_SCTP' });
    }
    return Promise.resolve(new RawTransport(addon, options));
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
