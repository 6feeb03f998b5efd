/**
 * Capture writers. They produce byte pieces for the caller to write in order
 * (no I/O here): the file header first, then one piece per packet.
 *
 * Inputs are values the program chose, so misuse (an unknown interface, a
 * negative timestamp) throws RangeError rather than returning an error.
 */
import { fromUtf8 } from '../wire/bytes.js';
import { timestampToTicks, type Timestamp } from './time.js';

export type TimestampResolution = 'us' | 'ns';
export type ByteOrder = 'little' | 'big';

class Out {
  readonly b: Uint8Array;
  private readonly le: boolean;
  p = 0;
  constructor(length: number, order: ByteOrder) {
    this.b = new Uint8Array(length);
    this.le = order === 'little';
  }
  u16(v: number): void {
    const b = this.b;
    if (this.le) {
      b[this.p] = v;
      b[this.p + 1] = v >>> 8;
    } else {
      b[this.p] = v >>> 8;
      b[this.p + 1] = v;
    }
    this.p += 2;
  }
  u32(v: number): void {
    const b = this.b;
    if (this.le) {
      b[this.p] = v;
      b[this.p + 1] = v >>> 8;
      b[this.p + 2] = v >>> 16;
      b[this.p + 3] = v >>> 24;
    } else {
      b[this.p] = v >>> 24;
      b[this.p + 1] = v >>> 16;
      b[this.p + 2] = v >>> 8;
      b[this.p + 3] = v;
    }
    this.p += 4;
  }
  bytes(d: Uint8Array): void {
    this.b.set(d, this.p);
    this.p += d.length;
  }
  /** Skips to the next multiple of 4 (the buffer is zero-filled). */
  align(): void {
    this.p = (this.p + 3) & ~3;
  }
}

function checkUint(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name} ${v} is not an integer in 0..${max}`);
  return v;
}

// ---------------------------------------------------------------------- pcap

export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet in the file. */
  readonly linkType: number;
  /** Default 262144. Longer packets are cut, with their original length kept. */
  readonly snaplen?: number;
  /** Default 'us'; 'ns' writes the 0xa1b23c4d magic. */
  readonly resolution?: TimestampResolution;
  /** Default 'little'. */
  readonly byteOrder?: ByteOrder;
}

/** Classic pcap: one link type, 24-byte file header, 16-byte record headers. */
export class PcapWriter {
  readonly linkType: number;
  readonly snaplen: number;
  readonly resolution: TimestampResolution;
  readonly byteOrder: ByteOrder;

  constructor(options: PcapWriterOptions) {
    this.linkType = checkUint('linkType', options.linkType, 0x03ffffff);
    this.snaplen = checkUint('snaplen', options.snaplen ?? 262144, 0xffffffff);
    this.resolution = options.resolution ?? 'us';
    this.byteOrder = options.byteOrder ?? 'little';
  }

  /** The 24-byte file header. */
  header(): Uint8Array {
    const o = new Out(24, this.byteOrder);
    o.u32(this.resolution === 'ns' ? 0xa1b23c4d : 0xa1b2c3d4);
    o.u16(2);
    o.u16(4);
    o.u32(0); // thiszone
    o.u32(0); // sigfigs
    o.u32(this.snaplen);
    o.u32(this.linkType);
    return o.b;
  }

  /** One record: header and data (cut to snaplen). */
  packet(timestamp: Timestamp, data: Uint8Array, originalLength: number = data.length): Uint8Array {
    const { seconds, nanos } = timestamp;
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 0xffffffff || !Number.isInteger(nanos) || nanos < 0 || nanos >= 1e9) {
      throw new RangeError(`pcap timestamp ${seconds}s ${nanos}ns out of range`);
    }
    checkUint('originalLength', originalLength, 0xffffffff);
    const caplen = Math.min(data.length, this.snaplen, originalLength);
    const o = new Out(16 + caplen, this.byteOrder);
    o.u32(seconds);
    o.u32(this.resolution === 'ns' ? nanos : Math.floor(nanos / 1000));
    o.u32(caplen);
    o.u32(originalLength);
    o.bytes(caplen === data.length ? data : data.subarray(0, caplen));
    return o.b;
  }
}

// -------------------------------------------------------------------- pcapng

export interface PcapngWriterOptions {
  /** shb_userappl. */
  readonly application?: string;
  /** shb_os. */
  readonly os?: string;
  /** shb_hardware. */
  readonly hardware?: string;
  /** opt_comment of the section. */
  readonly comment?: string;
  /** Default 'little'. */
  readonly byteOrder?: ByteOrder;
}

export interface PcapngInterfaceOptions {
  readonly linkType: number;
  /** if_name, for example "eth0" or "cluster". */
  readonly name?: string;
  /** if_description. */
  readonly description?: string;
  /** Default 0 (no limit). */
  readonly snaplen?: number;
  /** Default 'ns' (if_tsresol = 9); 'us' writes if_tsresol = 6. */
  readonly resolution?: TimestampResolution;
}

export interface PcapngPacketOptions {
  /** Default data.length. */
  readonly originalLength?: number;
  /** opt_comment. */
  readonly comment?: string;
  /** epb_flags direction bits. */
  readonly direction?: 'inbound' | 'outbound';
}

interface Option {
  readonly code: number;
  readonly value: Uint8Array;
}

function optionsLength(opts: readonly Option[]): number {
  if (opts.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const o of opts) n += 4 + ((o.value.length + 3) & ~3);
  return n;
}

function writeOptions(o: Out, opts: readonly Option[]): void {
  if (opts.length === 0) return;
  for (const opt of opts) {
    if (opt.value.length > 0xffff) throw new RangeError(`pcapng option ${opt.code} value of ${opt.value.length} bytes is too long`);
    o.u16(opt.code);
    o.u16(opt.value.length);
    o.bytes(opt.value);
    o.align();
  }
  o.u32(0);
}

function textOption(opts: Option[], code: number, s: string | undefined): void {
  if (s !== undefined) opts.push({ code, value: fromUtf8(s) });
}

interface WriterInterface {
  readonly snaplen: number;
  readonly unitsPerSecond: number;
}

/**
 * pcapng: one section, any number of interfaces (each with its own link type
 * and timestamp resolution), Enhanced Packet Blocks. Interfaces may be added
 * at any time; write each one's block before its first packet.
 */
export class PcapngWriter {
  readonly byteOrder: ByteOrder;
  private readonly shbOptions: Option[] = [];
  private readonly ifaces: WriterInterface[] = [];

  constructor(options: PcapngWriterOptions = {}) {
    this.byteOrder = options.byteOrder ?? 'little';
    textOption(this.shbOptions, 1, options.comment);
    textOption(this.shbOptions, 2, options.hardware);
    textOption(this.shbOptions, 3, options.os);
    textOption(this.shbOptions, 4, options.application);
  }

  get interfaceCount(): number {
    return this.ifaces.length;
  }

  /** The Section Header Block (section length unspecified, so the file can grow). */
  header(): Uint8Array {
    const len = 28 + optionsLength(this.shbOptions);
    const o = new Out(len, this.byteOrder);
    o.u32(0x0a0d0d0a);
    o.u32(len);
    o.u32(0x1a2b3c4d);
    o.u16(1);
    o.u16(0);
    o.u32(0xffffffff); // section length -1: not specified
    o.u32(0xffffffff);
    writeOptions(o, this.shbOptions);
    o.u32(len);
    return o.b;
  }

  /** Registers an interface; returns its id and the Interface Description Block to write. */
  addInterface(options: PcapngInterfaceOptions): { readonly id: number; readonly block: Uint8Array } {
    const linkType = checkUint('linkType', options.linkType, 0xffff);
    const snaplen = checkUint('snaplen', options.snaplen ?? 0, 0xffffffff);
    const ns = (options.resolution ?? 'ns') === 'ns';
    const opts: Option[] = [];
    textOption(opts, 2, options.name);
    textOption(opts, 3, options.description);
    opts.push({ code: 9, value: Uint8Array.of(ns ? 9 : 6) });
    const len = 20 + optionsLength(opts);
    const o = new Out(len, this.byteOrder);
    o.u32(1);
    o.u32(len);
    o.u16(linkType);
    o.u16(0);
    o.u32(snaplen);
    writeOptions(o, opts);
    o.u32(len);
    const id = this.ifaces.length;
    this.ifaces.push({ snaplen, unitsPerSecond: ns ? 1e9 : 1e6 });
    return { id, block: o.b };
  }

  /** An Enhanced Packet Block for interface `interfaceId`. */
  packet(interfaceId: number, timestamp: Timestamp, data: Uint8Array, options: PcapngPacketOptions = {}): Uint8Array {
    const iface = this.ifaces[interfaceId];
    if (iface === undefined) throw new RangeError(`pcapng interface ${interfaceId} was not added (have ${this.ifaces.length})`);
    const originalLength = checkUint('originalLength', options.originalLength ?? data.length, 0xffffffff);
    let caplen = Math.min(data.length, originalLength);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    const opts: Option[] = [];
    textOption(opts, 1, options.comment);
    if (options.direction !== undefined) {
      const v = new Uint8Array(4);
      const flags = options.direction === 'inbound' ? 1 : 2;
      if (this.byteOrder === 'little') v[0] = flags;
      else v[3] = flags;
      opts.push({ code: 2, value: v });
    }
    const { hi, lo } = timestampToTicks(timestamp, iface.unitsPerSecond);
    const len = 32 + ((caplen + 3) & ~3) + optionsLength(opts);
    const o = new Out(len, this.byteOrder);
    o.u32(6);
    o.u32(len);
    o.u32(interfaceId);
    o.u32(hi);
    o.u32(lo);
    o.u32(caplen);
    o.u32(originalLength);
    o.bytes(caplen === data.length ? data : data.subarray(0, caplen));
    o.align();
    writeOptions(o, opts);
    o.u32(len);
    return o.b;
  }
}
