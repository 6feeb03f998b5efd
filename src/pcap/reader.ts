/**
 * Streaming reader for classic pcap and pcapng captures.
 *
 * Bytes arrive in chunks of any size (`push`); records come out as soon as
 * they are complete. Only the unconsumed tail of the input is kept, so memory
 * does not grow with the file. A record that lies wholly inside one pushed
 * chunk is returned without copying (its `data` is a plain Uint8Array view of
 * that chunk's memory, also when the chunk is a Node Buffer: consume the
 * records before reusing that memory); a record that straddles chunks is
 * assembled in a buffer of its own.
 *
 * Formats: pcap (tcpdump.org "pcap savefile format", both byte orders,
 * microsecond 0xa1b2c3d4 and nanosecond 0xa1b23c4d magic, and the 0xa1b2cd34
 * variant with 24-byte record headers) and pcapng (IETF
 * draft-ietf-opsawg-pcapng: SHB in either byte order, several sections, IDB
 * with if_tsresol / if_tsoffset / if_name / if_description, EPB, SPB and the
 * obsolete PB; every other block is skipped by its length).
 *
 * Errors are values. A fatal error (bad magic, a length that destroys the
 * framing, the input ending inside a record) is the reader's last item; a
 * damaged record whose framing is intact yields a non-fatal error and reading
 * goes on with the next record.
 */
import { DecodeErrorCode, type DecodeError, type Result } from '../wire/result.js';
import { utf8 } from '../wire/bytes.js';
import { tickConverter, type TickConverter, type Timestamp } from './time.js';

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CaptureRecord {
  /** pcapng interface id within the current section; 0 for pcap. */
  readonly interfaceId: number;
  /** LINKTYPE_* value of the interface (link.ts). */
  readonly linkType: number;
  readonly timestamp: Timestamp;
  /** Bytes present in `data`. */
  readonly capturedLength: number;
  /** Length of the packet on the wire (larger than capturedLength when snaplen cut it). */
  readonly originalLength: number;
  /** The captured bytes, aliasing the input where possible. */
  readonly data: Uint8Array;
  /** pcapng: the first opt_comment of the packet block. */
  readonly comment?: string;
  /** pcapng: direction bits of epb_flags, when set. */
  readonly direction?: 'inbound' | 'outbound';
}

export interface CaptureError extends DecodeError {
  /** True when reading cannot go on; nothing follows a fatal error. */
  readonly fatal: boolean;
}

export type CaptureItem = Result<CaptureRecord, CaptureError>;

export interface CaptureInterface {
  /** -1 when the Interface Description Block was damaged (its packets are then reported as errors). */
  readonly linkType: number;
  /** 0 means no limit (pcapng). */
  readonly snaplen: number;
  /** if_tsresol byte: 6 is microseconds, 9 nanoseconds, 0x80 | n is 2^-n. */
  readonly tsresol: number;
  /** if_tsoffset, seconds added to every timestamp. */
  readonly tsoffset: number;
  readonly name?: string;
  readonly description?: string;
}

export interface CaptureReaderOptions {
  /**
   * Largest record (pcap) or block (pcapng) accepted, in bytes. A larger length
   * field is taken as damage: the framing is lost, so the error is fatal.
   * Default 64 MiB.
   */
  readonly maxBlockLength?: number;
}

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const OPT_END = 0;
const OPT_COMMENT = 1;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const EPB_FLAGS = 2;
/** libpcap's MAXIMUM_SNAPLEN: pcap records up to this are accepted whatever the header's snaplen. */
const PCAP_MAX_SNAPLEN = 262144;
const EMPTY = new Uint8Array(0);

type State = 'start' | 'pcap' | 'pcapng' | 'failed';

interface InterfaceState {
  readonly info: CaptureInterface;
  readonly convert: TickConverter;
}

function rd32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
function rd32be(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function rd16le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function rd16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function pad4(n: number): number {
  return (n + 3) & ~3;
}
/** b[start, end) as a plain Uint8Array view, also when b is a Node Buffer (whose subarray is slower). */
function view(b: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset + start, end - start);
}
function hex32(v: number): string {
  return `0x${v.toString(16).padStart(8, '0')}`;
}

/**
 * Incremental capture reader. Feed it with `push`, finish with `end`; both
 * return the items completed by that call, in file order.
 */
export class CaptureReader {
  /** Known once the file header was read. */
  format: CaptureFormat | undefined;
  /** Byte order of the pcap file or the current pcapng section. */
  byteOrder: 'little' | 'big' = 'little';
  /** pcapng section number (0 for the first SHB); 0 for pcap. */
  section = 0;
  /** Records and errors emitted so far. */
  itemCount = 0;

  private state: State = 'start';
  private le = true;
  private rd32: (b: Uint8Array, o: number) => number = rd32le;
  private rd16: (b: Uint8Array, o: number) => number = rd16le;
  private readonly maxBlock: number;
  // pcap
  private pcapNanos = false;
  private pcapRecordHeader = 16;
  private pcapLinkType = 0;
  private pcapMaxRecord = 0;
  private ifaces: InterfaceState[] = [];
  // Unconsumed input carried between pushes: tail[0, tailLen) starts at file offset `abs`.
  private tail: Uint8Array = EMPTY;
  private tailLen = 0;
  private need = 0;
  private abs = 0;
  private out: CaptureItem[] = [];

  constructor(options: CaptureReaderOptions = {}) {
    this.maxBlock = options.maxBlockLength ?? 64 * 1024 * 1024;
  }

  /** Interfaces of the pcap file or of the current pcapng section. */
  get interfaces(): readonly CaptureInterface[] {
    return this.ifaces.map((i) => i.info);
  }

  /** True after a fatal error: further input is ignored. */
  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Consumes a chunk; returns the items it completed. */
  push(chunk: Uint8Array): CaptureItem[] {
    const out: CaptureItem[] = [];
    this.out = out;
    const n = chunk.length;
    let pos = 0;
    // Finish the record that straddles the previous chunk, taking only the bytes it needs.
    while (this.tailLen > 0 && this.state !== 'failed') {
      if (this.need > this.tailLen) {
        const take = Math.min(this.need - this.tailLen, n - pos);
        this.appendTail(chunk, pos, take);
        pos += take;
        if (this.tailLen < this.need) return out;
      }
      const r = this.step(this.tail, 0, this.tailLen);
      if (r < 0) {
        this.need = -r;
        continue;
      }
      if (r === 0) return out;
      this.abs += r;
      // Records just emitted alias `tail`: never write into it again.
      if (r === this.tailLen) {
        this.tail = EMPTY;
        this.tailLen = 0;
      } else {
        this.tail = this.tail.slice(r, this.tailLen);
        this.tailLen -= r;
        this.need = 0;
      }
    }
    while (this.state !== 'failed') {
      const r = this.step(chunk, pos, n);
      if (r === 0) return out;
      if (r < 0) {
        this.need = -r;
        if (pos < n) {
          this.tail = new Uint8Array(Math.max(this.need, n - pos));
          this.tail.set(chunk.subarray(pos, n));
          this.tailLen = n - pos;
        }
        return out;
      }
      pos += r;
      this.abs += r;
    }
    return out;
  }

  /** Signals the end of input; reports a truncated file header or final record. */
  end(): CaptureItem[] {
    const out: CaptureItem[] = [];
    this.out = out;
    if (this.state === 'failed') return out;
    if (this.state === 'start') {
      this.fatal(DecodeErrorCode.truncated, this.abs, `file too short for a capture header: ${this.tailLen} bytes`);
    } else if (this.tailLen > 0) {
      const what = this.state === 'pcap' ? 'record' : 'block';
      this.fatal(DecodeErrorCode.truncated, this.abs, `file ends inside a ${what}: have ${this.tailLen} of ${this.need} bytes`);
    }
    return out;
  }

  // ------------------------------------------------------------------ framing

  /** > 0: bytes consumed; < 0: minus the bytes needed from `pos`; 0: failed. */
  private step(b: Uint8Array, pos: number, end: number): number {
    switch (this.state) {
      case 'pcap':
        return this.stepPcapRecord(b, pos, end);
      case 'pcapng':
        return this.stepPcapngBlock(b, pos, end);
      case 'start':
        return this.stepStart(b, pos, end);
      case 'failed':
        return 0;
    }
  }

  private emit(item: CaptureItem): void {
    this.itemCount++;
    this.out.push(item);
  }

  private error(code: DecodeErrorCode, offset: number, message: string): void {
    this.emit({ ok: false, error: { code, offset, message, fatal: false } });
  }

  private fatal(code: DecodeErrorCode, offset: number, message: string): 0 {
    this.state = 'failed';
    this.tail = EMPTY;
    this.tailLen = 0;
    this.emit({ ok: false, error: { code, offset, message, fatal: true } });
    return 0;
  }

  private appendTail(chunk: Uint8Array, from: number, count: number): void {
    if (this.tailLen + count > this.tail.length) {
      const grown = new Uint8Array(Math.max(this.need, this.tailLen + count));
      grown.set(this.tail.subarray(0, this.tailLen));
      this.tail = grown;
    }
    this.tail.set(chunk.subarray(from, from + count), this.tailLen);
    this.tailLen += count;
  }

  private setOrder(le: boolean): void {
    this.le = le;
    this.byteOrder = le ? 'little' : 'big';
    this.rd32 = le ? rd32le : rd32be;
    this.rd16 = le ? rd16le : rd16be;
  }

  private stepStart(b: Uint8Array, pos: number, end: number): number {
    const avail = end - pos;
    if (avail < 4) return -4;
    const be = rd32be(b, pos);
    if (be === PCAPNG_SHB) {
      this.state = 'pcapng';
      this.format = 'pcapng';
      this.section = -1;
      return this.stepPcapngBlock(b, pos, end);
    }
    let le: boolean;
    let nanos = false;
    let recordHeader = 16;
    const le32 = rd32le(b, pos);
    if (le32 === 0xa1b2c3d4 || le32 === 0xa1b23c4d || le32 === 0xa1b2cd34) le = true;
    else if (be === 0xa1b2c3d4 || be === 0xa1b23c4d || be === 0xa1b2cd34) le = false;
    else if (b[pos] === 0x1f && b[pos + 1] === 0x8b) {
      return this.fatal(DecodeErrorCode.badHeader, this.abs, 'gzip-compressed file: decompress it first');
    } else {
      return this.fatal(DecodeErrorCode.badHeader, this.abs, `not a pcap or pcapng file: magic ${hex32(be)}`);
    }
    const magic = le ? le32 : be;
    if (magic === 0xa1b23c4d) nanos = true;
    if (magic === 0xa1b2cd34) recordHeader = 24;
    if (avail < 24) return -24;
    this.setOrder(le);
    const major = this.rd16(b, pos + 4);
    const minor = this.rd16(b, pos + 6);
    if (major !== 2) {
      return this.fatal(DecodeErrorCode.badHeader, this.abs + 4, `unsupported pcap version ${major}.${minor}`);
    }
    const snaplen = this.rd32(b, pos + 16);
    // Upper bits of the link-type field carry FCS information (libpcap LT_LINKTYPE).
    const linkType = this.rd32(b, pos + 20) & 0x03ffffff;
    this.format = 'pcap';
    this.state = 'pcap';
    this.pcapNanos = nanos;
    this.pcapRecordHeader = recordHeader;
    this.pcapLinkType = linkType;
    this.pcapMaxRecord = Math.min(this.maxBlock, Math.max(snaplen, PCAP_MAX_SNAPLEN));
    const tsresol = nanos ? 9 : 6;
    this.ifaces = [{ info: { linkType, snaplen, tsresol, tsoffset: 0 }, convert: tickConverter(tsresol) }];
    return 24;
  }

  private stepPcapRecord(b: Uint8Array, pos: number, end: number): number {
    const hl = this.pcapRecordHeader;
    const avail = end - pos;
    if (avail < hl) return -hl;
    const rd32 = this.rd32;
    const caplen = rd32(b, pos + 8);
    if (caplen > this.pcapMaxRecord) {
      return this.fatal(DecodeErrorCode.badValue, this.abs + 8, `pcap record captured length ${caplen} exceeds ${this.pcapMaxRecord}: file damaged`);
    }
    const total = hl + caplen;
    if (avail < total) return -total;
    const origlen = rd32(b, pos + 12);
    if (caplen > origlen) {
      this.error(DecodeErrorCode.badValue, this.abs + 8, `pcap record captured length ${caplen} exceeds original length ${origlen}`);
      return total;
    }
    let seconds = rd32(b, pos);
    let nanos = rd32(b, pos + 4);
    if (!this.pcapNanos) nanos *= 1000;
    if (nanos >= 1e9) {
      const carry = Math.floor(nanos / 1e9);
      seconds += carry;
      nanos -= carry * 1e9;
    }
    this.emit({
      ok: true,
      value: {
        interfaceId: 0,
        linkType: this.pcapLinkType,
        timestamp: { seconds, nanos },
        capturedLength: caplen,
        originalLength: origlen,
        data: view(b, pos + hl, pos + total),
      },
    });
    return total;
  }

  private stepPcapngBlock(b: Uint8Array, pos: number, end: number): number {
    const avail = end - pos;
    if (avail < 8) return -8;
    const type = this.rd32(b, pos);
    if (type === PCAPNG_SHB) return this.sectionHeader(b, pos, end);
    const len = this.rd32(b, pos + 4);
    if (len < 12 || (len & 3) !== 0) {
      return this.fatal(DecodeErrorCode.lengthTooShort, this.abs + 4, `pcapng block type ${hex32(type)} has length ${len}: not a multiple of 4 of at least 12`);
    }
    if (len > this.maxBlock) {
      return this.fatal(DecodeErrorCode.badValue, this.abs + 4, `pcapng block length ${len} exceeds ${this.maxBlock}: file damaged`);
    }
    if (avail < len) return -len;
    const trailer = this.rd32(b, pos + len - 4);
    if (trailer !== len) {
      this.error(DecodeErrorCode.badValue, this.abs + len - 4, `pcapng block type ${hex32(type)}: trailing length ${trailer} differs from leading ${len}`);
      return len;
    }
    switch (type) {
      case BLOCK_EPB:
        this.enhancedPacket(b, pos, len);
        break;
      case BLOCK_IDB:
        this.interfaceDescription(b, pos, len);
        break;
      case BLOCK_SPB:
        this.simplePacket(b, pos, len);
        break;
      case BLOCK_PB:
        this.obsoletePacket(b, pos, len);
        break;
      default:
        break; // NRB, ISB, DSB, custom, local and unknown blocks carry no packets
    }
    return len;
  }

  private sectionHeader(b: Uint8Array, pos: number, end: number): number {
    const avail = end - pos;
    if (avail < 12) return -12;
    let le: boolean;
    if (rd32le(b, pos + 8) === PCAPNG_BOM) le = true;
    else if (rd32be(b, pos + 8) === PCAPNG_BOM) le = false;
    else {
      return this.fatal(DecodeErrorCode.badHeader, this.abs + 8, `pcapng section header with bad byte-order magic ${hex32(rd32be(b, pos + 8))}`);
    }
    const len = le ? rd32le(b, pos + 4) : rd32be(b, pos + 4);
    if (len < 28 || (len & 3) !== 0) {
      return this.fatal(DecodeErrorCode.lengthTooShort, this.abs + 4, `pcapng section header length ${len}: not a multiple of 4 of at least 28`);
    }
    if (len > this.maxBlock) {
      return this.fatal(DecodeErrorCode.badValue, this.abs + 4, `pcapng section header length ${len} exceeds ${this.maxBlock}`);
    }
    if (avail < len) return -len;
    this.setOrder(le);
    const trailer = this.rd32(b, pos + len - 4);
    if (trailer !== len) {
      return this.fatal(DecodeErrorCode.badValue, this.abs + len - 4, `pcapng section header: trailing length ${trailer} differs from leading ${len}`);
    }
    const major = this.rd16(b, pos + 12);
    if (major !== 1) {
      return this.fatal(DecodeErrorCode.badHeader, this.abs + 12, `unsupported pcapng version ${major}.${this.rd16(b, pos + 14)}`);
    }
    this.section++;
    this.ifaces = [];
    return len;
  }

  /**
   * Walks the options in b[from, to), calling `visit` for each; false when they
   * run past the block (the caller reports it).
   */
  private options(b: Uint8Array, from: number, to: number, visit: (code: number, at: number, length: number) => void): boolean {
    let p = from;
    while (p + 4 <= to) {
      const code = this.rd16(b, p);
      const length = this.rd16(b, p + 2);
      if (code === OPT_END) return true;
      if (p + 4 + length > to) return false;
      visit(code, p + 4, length);
      p += 4 + pad4(length);
    }
    return true;
  }

  private interfaceDescription(b: Uint8Array, pos: number, len: number): void {
    const base = this.abs;
    if (len < 20) {
      // Still counts as an interface, or every later interface id would shift.
      this.ifaces.push({ info: { linkType: -1, snaplen: 0, tsresol: 6, tsoffset: 0 }, convert: tickConverter(6) });
      this.error(DecodeErrorCode.lengthTooShort, base + 4, `pcapng interface description block of ${len} bytes, need 20`);
      return;
    }
    const linkType = this.rd16(b, pos + 8);
    const snaplen = this.rd32(b, pos + 12);
    let tsresol = 6;
    let tsoffset = 0;
    let name: string | undefined;
    let description: string | undefined;
    const good = this.options(b, pos + 16, pos + len - 4, (code, at, length) => {
      if (code === IF_TSRESOL && length >= 1) tsresol = b[at]!;
      else if (code === IF_TSOFFSET && length >= 8) {
        const hi = this.le ? this.rd32(b, at + 4) : this.rd32(b, at);
        const lo = this.le ? this.rd32(b, at) : this.rd32(b, at + 4);
        tsoffset = (hi | 0) * 4294967296 + lo;
      } else if (code === IF_NAME) name = utf8(b.subarray(at, at + length));
      else if (code === IF_DESCRIPTION) description = utf8(b.subarray(at, at + length));
    });
    let info: CaptureInterface = { linkType, snaplen, tsresol, tsoffset };
    if (name !== undefined) info = { ...info, name };
    if (description !== undefined) info = { ...info, description };
    this.ifaces.push({ info, convert: tickConverter(tsresol) });
    if (!good) this.error(DecodeErrorCode.beyondEnd, base + 16, `pcapng interface ${this.ifaces.length - 1}: an option runs past the block`);
  }

  private packet(
    b: Uint8Array,
    pos: number,
    interfaceId: number,
    tsHi: number,
    tsLo: number,
    dataAt: number,
    caplen: number,
    origlen: number,
    optFrom: number,
    optTo: number,
  ): void {
    const iface = this.ifaces[interfaceId];
    if (iface === undefined || iface.info.linkType < 0) {
      this.error(DecodeErrorCode.badValue, this.abs + 8, `pcapng packet for interface ${interfaceId}, but the section has ${this.ifaces.length} usable interface(s)`);
      return;
    }
    let comment: string | undefined;
    let direction: 'inbound' | 'outbound' | undefined;
    if (optFrom + 4 <= optTo) {
      const good = this.options(b, optFrom, optTo, (code, at, length) => {
        if (code === OPT_COMMENT && comment === undefined) comment = utf8(b.subarray(at, at + length));
        else if (code === EPB_FLAGS && length >= 4) {
          const d = this.rd32(b, at) & 3;
          if (d === 1) direction = 'inbound';
          else if (d === 2) direction = 'outbound';
        }
      });
      if (!good) {
        this.error(DecodeErrorCode.beyondEnd, this.abs + (optFrom - pos), 'pcapng packet block: an option runs past the block');
        return;
      }
    }
    let record: CaptureRecord = {
      interfaceId,
      linkType: iface.info.linkType,
      timestamp: iface.convert(tsHi, tsLo, iface.info.tsoffset),
      capturedLength: caplen,
      originalLength: origlen,
      data: view(b, dataAt, dataAt + caplen),
    };
    if (comment !== undefined) record = { ...record, comment };
    if (direction !== undefined) record = { ...record, direction };
    this.emit({ ok: true, value: record });
  }

  /** EPB (32-bit interface id) and the obsolete PB (16-bit interface id, 16-bit drop count): same layout otherwise. */
  private enhancedPacket(b: Uint8Array, pos: number, len: number): void {
    this.packetBlock(b, pos, len, 'enhanced packet block', this.rd32(b, pos + 8));
  }

  private obsoletePacket(b: Uint8Array, pos: number, len: number): void {
    this.packetBlock(b, pos, len, 'packet block', this.rd16(b, pos + 8));
  }

  private packetBlock(b: Uint8Array, pos: number, len: number, what: string, interfaceId: number): void {
    if (len < 32) {
      this.error(DecodeErrorCode.lengthTooShort, this.abs + 4, `pcapng ${what} of ${len} bytes, need 32`);
      return;
    }
    const rd32 = this.rd32;
    const caplen = rd32(b, pos + 20);
    const origlen = rd32(b, pos + 24);
    const room = len - 32;
    if (caplen > room) {
      this.error(DecodeErrorCode.beyondEnd, this.abs + 20, `pcapng ${what}: captured length ${caplen} exceeds the ${room} bytes of the block`);
      return;
    }
    if (caplen > origlen) {
      this.error(DecodeErrorCode.badValue, this.abs + 20, `pcapng ${what}: captured length ${caplen} exceeds original length ${origlen}`);
      return;
    }
    const optFrom = pos + 28 + pad4(caplen);
    this.packet(b, pos, interfaceId, rd32(b, pos + 12), rd32(b, pos + 16), pos + 28, caplen, origlen, optFrom, pos + len - 4);
  }

  private simplePacket(b: Uint8Array, pos: number, len: number): void {
    if (len < 16) {
      this.error(DecodeErrorCode.lengthTooShort, this.abs + 4, `pcapng simple packet block of ${len} bytes, need 16`);
      return;
    }
    const iface = this.ifaces[0];
    if (iface === undefined || iface.info.linkType < 0) {
      this.error(DecodeErrorCode.badValue, this.abs, 'pcapng simple packet block before any interface description');
      return;
    }
    const origlen = this.rd32(b, pos + 8);
    // The captured length is implicit: the original length cut by snaplen and by the block (§4.4).
    let caplen = Math.min(origlen, len - 16);
    if (iface.info.snaplen > 0) caplen = Math.min(caplen, iface.info.snaplen);
    this.emit({
      ok: true,
      value: {
        interfaceId: 0,
        linkType: iface.info.linkType,
        timestamp: { seconds: 0, nanos: 0 },
        capturedLength: caplen,
        originalLength: origlen,
        data: view(b, pos + 12, pos + 12 + caplen),
      },
    });
  }
}

// -------------------------------------------------------------- conveniences

export interface CaptureFile {
  readonly format: CaptureFormat;
  /** Interfaces of the last section (pcap: the single pseudo-interface). */
  readonly interfaces: readonly CaptureInterface[];
  /** Every record and error, in order; a fatal error can only be last. */
  readonly records: CaptureItem[];
}

/**
 * Reads a whole capture held in memory. A file whose header cannot be read is
 * an error; damaged records are errors inside `records`.
 */
export function readCapture(bytes: Uint8Array, options: CaptureReaderOptions = {}): Result<CaptureFile, CaptureError> {
  const reader = new CaptureReader(options);
  const records = reader.push(bytes);
  for (const item of reader.end()) records.push(item);
  if (reader.format === undefined) {
    const first = records[0];
    if (first !== undefined && !first.ok) return first;
    return { ok: false, error: { code: DecodeErrorCode.truncated, offset: 0, message: 'no capture header', fatal: true } };
  }
  return { ok: true, value: { format: reader.format, interfaces: reader.interfaces, records } };
}

/**
 * Reads a capture from an async sequence of chunks (a Node readable stream is
 * one), yielding items as they complete. Each yielded record aliases its chunk.
 */
export async function* readCaptureStream(
  source: AsyncIterable<Uint8Array>,
  options: CaptureReaderOptions = {},
): AsyncGenerator<CaptureItem, void, undefined> {
  const reader = new CaptureReader(options);
  for await (const chunk of source) {
    for (const item of reader.push(chunk)) yield item;
    if (reader.failed) return;
  }
  for (const item of reader.end()) yield item;
}
