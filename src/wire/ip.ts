/**
 * IPv4 (RFC 791) and IPv6 (RFC 8200) header views and builders. Raw sockets
 * hand us IPv4 headers and captures hold both; SCTP itself (protocol 132) and
 * RFC 6951 UDP encapsulation sit on top.
 *
 * Decoders never throw (DESIGN.md §3). Encoders take values the caller chose,
 * so a bad address string or an oversized payload is a programming error and
 * throws RangeError, like writeSctpChecksum.
 */
import { addressBytes, formatIPv4, formatIPv6 } from './address.js';
import { put16, u16, u32 } from './bytes.js';
import { DecodeErrorCode, fail, ok, type Result } from './result.js';

/** IANA protocol numbers that matter here (also IPv6 Next Header values). */
export const IpProtocol = {
  hopByHop: 0,
  icmp: 1,
  tcp: 6,
  udp: 17,
  ipv6Routing: 43,
  ipv6Fragment: 44,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  ipv6NoNext: 59,
  ipv6DestinationOptions: 60,
  mobility: 135,
  hip: 139,
  shim6: 140,
  sctp: 132,
} as const;
export type IpProtocol = (typeof IpProtocol)[keyof typeof IpProtocol];

// ------------------------------------------------------------------ checksum

/**
 * 16-bit one's-complement sum of b[start, end) added to `sum`, not folded: the
 * accumulator stays a safe integer for any realistic input (< 2^37 bytes).
 * An odd trailing byte is padded with zero (RFC 1071).
 */
export function onesComplementAdd(sum: number, b: Uint8Array, start: number, end: number): number {
  let s = sum;
  let i = start;
  const even = end - ((end - start) & 1);
  for (; i < even; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < end) s += b[i]! << 8;
  return s;
}

/** Folds a sum from onesComplementAdd to 16 bits and complements it (RFC 1071). */
export function finishChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** The Internet checksum of b[start, end) (RFC 1071). */
export function internetChecksum(b: Uint8Array, start = 0, end: number = b.length): number {
  return finishChecksum(onesComplementAdd(0, b, start, end));
}

// ---------------------------------------------------------------------- IPv4

export interface IPv4Header {
  readonly version: 4;
  /** Header length in bytes (IHL x 4), options included. */
  readonly headerLength: number;
  readonly dscp: number;
  readonly ecn: number;
  /**
   * Total Length as carried. 0 means the capturing host filled in nothing (TCP/SCTP
   * segmentation offload on Linux): the decoder then takes the bytes it was given.
   */
  readonly totalLength: number;
  readonly identification: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** Fragment offset in bytes (the field is in units of 8 bytes). */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  /** True when the header checksum verifies; captures of locally sent packets may not. */
  readonly checksumValid: boolean;
  readonly source: string;
  readonly destination: string;
  /** Header options (IHL > 5), aliasing the decoded buffer; empty when none. */
  readonly options: Uint8Array;
}

export interface IPv4View extends IPv4Header {
  /** Start of the payload in the buffer that was decoded. */
  readonly payloadOffset: number;
  /** End of the payload: offset + Total Length (trailing link-layer padding excluded). */
  readonly payloadEnd: number;
}

/** True when the datagram is a fragment (MF set or a non-zero offset): its payload is not a whole upper-layer packet. */
export function isIPv4Fragment(h: Pick<IPv4Header, 'moreFragments' | 'fragmentOffset'>): boolean {
  return h.moreFragments || h.fragmentOffset !== 0;
}

/**
 * Decodes the IPv4 header at b[offset, end). The Total Length field wins over
 * `end` when it is smaller (Ethernet pads short frames); when it is larger the
 * capture was cut short (snaplen) and the result is a 'truncated' error.
 */
export function decodeIPv4(b: Uint8Array, offset = 0, end: number = b.length): Result<IPv4View> {
  const avail = end - offset;
  if (offset < 0 || end > b.length || avail < 20) {
    return fail(DecodeErrorCode.truncated, offset, `IPv4 header needs 20 bytes, have ${Math.max(0, Math.min(avail, b.length - offset))}`);
  }
  const vihl = b[offset]!;
  if (vihl >> 4 !== 4) return fail(DecodeErrorCode.badHeader, offset, `IPv4 version field is ${vihl >> 4}, expected 4`);
  const headerLength = (vihl & 15) * 4;
  if (headerLength < 20) return fail(DecodeErrorCode.lengthTooShort, offset, `IPv4 IHL ${vihl & 15} is below the minimum 5`);
  if (avail < headerLength) {
    return fail(DecodeErrorCode.truncated, offset, `IPv4 header with options needs ${headerLength} bytes, have ${avail}`);
  }
  const totalLength = u16(b, offset + 2);
  let payloadEnd: number;
  if (totalLength === 0) {
    payloadEnd = end;
  } else {
    if (totalLength < headerLength) {
      return fail(DecodeErrorCode.lengthTooShort, offset + 2, `IPv4 Total Length ${totalLength} is less than the header length ${headerLength}`);
    }
    if (totalLength > avail) {
      return fail(DecodeErrorCode.truncated, offset + 2, `IPv4 Total Length ${totalLength} but only ${avail} bytes captured`);
    }
    payloadEnd = offset + totalLength;
  }
  const flagsFrag = u16(b, offset + 6);
  return ok({
    version: 4,
    headerLength,
    dscp: b[offset + 1]! >> 2,
    ecn: b[offset + 1]! & 3,
    totalLength,
    identification: u16(b, offset + 4),
    dontFragment: (flagsFrag & 0x4000) !== 0,
    moreFragments: (flagsFrag & 0x2000) !== 0,
    fragmentOffset: (flagsFrag & 0x1fff) * 8,
    ttl: b[offset + 8]!,
    protocol: b[offset + 9]!,
    checksum: u16(b, offset + 10),
    checksumValid: finishChecksum(onesComplementAdd(0, b, offset, offset + headerLength)) === 0,
    source: formatIPv4(b, offset + 12),
    destination: formatIPv4(b, offset + 16),
    options: new Uint8Array(b.buffer, b.byteOffset + offset + 20, headerLength - 20),
    payloadOffset: offset + headerLength,
    payloadEnd,
  });
}

export interface IPv4EncodeOptions {
  readonly source: string;
  readonly destination: string;
  readonly protocol: number;
  readonly payload: Uint8Array;
  /** Default 64. */
  readonly ttl?: number;
  /** Default 0. */
  readonly id?: number;
  /** Default true: SCTP does its own PMTU discovery (RFC 9260 §7.3). */
  readonly dontFragment?: boolean;
  readonly dscp?: number;
  readonly ecn?: number;
}

function addressOf(family: 4 | 6, s: string, what: string): Uint8Array {
  const a = addressBytes(s);
  if (a === undefined || a.length !== (family === 4 ? 4 : 16)) {
    throw new RangeError(`IPv${family} ${what} address is not an IPv${family} address: ${JSON.stringify(s)}`);
  }
  return a;
}

function checkField(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name} ${v} is not an integer in 0..${max}`);
  return v;
}

/** A 20-byte IPv4 header (no options) with its checksum, followed by the payload. */
export function encodeIPv4(o: IPv4EncodeOptions): Uint8Array {
  const src = addressOf(4, o.source, 'source');
  const dst = addressOf(4, o.destination, 'destination');
  const total = 20 + o.payload.length;
  if (total > 0xffff) throw new RangeError(`IPv4 payload of ${o.payload.length} bytes does not fit Total Length`);
  const out = new Uint8Array(total);
  out[0] = 0x45;
  out[1] = (checkField('dscp', o.dscp ?? 0, 63) << 2) | checkField('ecn', o.ecn ?? 0, 3);
  put16(out, 2, total);
  put16(out, 4, checkField('id', o.id ?? 0, 0xffff));
  put16(out, 6, (o.dontFragment ?? true) ? 0x4000 : 0);
  out[8] = checkField('ttl', o.ttl ?? 64, 255);
  out[9] = checkField('protocol', o.protocol, 255);
  out.set(src, 12);
  out.set(dst, 16);
  put16(out, 10, internetChecksum(out, 0, 20));
  out.set(o.payload, 20);
  return out;
}

// ---------------------------------------------------------------------- IPv6

export interface IPv6Fragment {
  /** Fragment offset in bytes. */
  readonly offset: number;
  readonly moreFragments: boolean;
  readonly identification: number;
}

export interface IPv6Header {
  readonly version: 6;
  readonly trafficClass: number;
  readonly flowLabel: number;
  /** Payload Length as carried (0 for a jumbogram: the decoder then takes the bytes it was given). */
  readonly payloadLength: number;
  /** Next Header of the fixed header. */
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly source: string;
  readonly destination: string;
  /** The extension header types walked, in order. */
  readonly extensionHeaders: readonly number[];
  /** Upper-layer protocol after the extension headers (59 when there is none). */
  readonly protocol: number;
  /** Present when a Fragment header was found. */
  readonly fragment?: IPv6Fragment;
}

export interface IPv6View extends IPv6Header {
  /** Start of the upper-layer payload (after extension headers) in the decoded buffer. */
  readonly payloadOffset: number;
  readonly payloadEnd: number;
}

/** True when the packet carries a Fragment header other than an atomic one (offset 0, M clear, RFC 6946). */
export function isIPv6Fragment(h: Pick<IPv6Header, 'fragment'>): boolean {
  return h.fragment !== undefined && (h.fragment.moreFragments || h.fragment.offset !== 0);
}

/**
 * Decodes the IPv6 header at b[offset, end) and walks the extension headers
 * (hop-by-hop, routing, destination options, fragment, AH, mobility, HIP, shim6)
 * to the upper-layer protocol. After a non-first fragment the walk stops: what
 * follows is the middle of the original payload.
 */
export function decodeIPv6(b: Uint8Array, offset = 0, end: number = b.length): Result<IPv6View> {
  const avail = end - offset;
  if (offset < 0 || end > b.length || avail < 40) {
    return fail(DecodeErrorCode.truncated, offset, `IPv6 header needs 40 bytes, have ${Math.max(0, Math.min(avail, b.length - offset))}`);
  }
  const w0 = u32(b, offset);
  if (w0 >>> 28 !== 6) return fail(DecodeErrorCode.badHeader, offset, `IPv6 version field is ${w0 >>> 28}, expected 6`);
  const payloadLength = u16(b, offset + 4);
  const nextHeader = b[offset + 6]!;
  let payloadEnd: number;
  if (payloadLength === 0 && nextHeader === IpProtocol.hopByHop) {
    payloadEnd = end; // RFC 2675 jumbogram: the length is in a hop-by-hop option
  } else {
    if (40 + payloadLength > avail) {
      return fail(DecodeErrorCode.truncated, offset + 4, `IPv6 Payload Length ${payloadLength} but only ${avail - 40} bytes captured`);
    }
    payloadEnd = offset + 40 + payloadLength;
  }
  const extensionHeaders: number[] = [];
  let fragment: IPv6Fragment | undefined;
  let protocol = nextHeader;
  let p = offset + 40;
  walk: while (true) {
    switch (protocol) {
      case IpProtocol.hopByHop:
      case IpProtocol.ipv6Routing:
      case IpProtocol.ipv6DestinationOptions:
      case IpProtocol.mobility:
      case IpProtocol.hip:
      case IpProtocol.shim6:
      case IpProtocol.ah: {
        if (protocol === IpProtocol.hopByHop && p !== offset + 40) {
          return fail(DecodeErrorCode.badHeader, p, 'IPv6 hop-by-hop header not directly after the fixed header (RFC 8200 §4.1)');
        }
        if (payloadEnd - p < 8) return fail(DecodeErrorCode.truncated, p, `IPv6 extension header ${protocol} needs 8 bytes, have ${payloadEnd - p}`);
        const len = protocol === IpProtocol.ah ? (b[p + 1]! + 2) * 4 : (b[p + 1]! + 1) * 8;
        if (payloadEnd - p < len) {
          return fail(DecodeErrorCode.beyondEnd, p + 1, `IPv6 extension header ${protocol} of ${len} bytes runs past the payload (${payloadEnd - p} left)`);
        }
        extensionHeaders.push(protocol);
        protocol = b[p]!;
        p += len;
        break;
      }
      case IpProtocol.ipv6Fragment: {
        if (payloadEnd - p < 8) return fail(DecodeErrorCode.truncated, p, `IPv6 fragment header needs 8 bytes, have ${payloadEnd - p}`);
        if (fragment !== undefined) return fail(DecodeErrorCode.badHeader, p, 'IPv6 packet with two fragment headers');
        extensionHeaders.push(protocol);
        const offM = u16(b, p + 2);
        fragment = { offset: offM & 0xfff8, moreFragments: (offM & 1) !== 0, identification: u32(b, p + 4) };
        protocol = b[p]!;
        p += 8;
        if (fragment.offset !== 0) break walk;
        break;
      }
      default:
        break walk;
    }
  }
  const base = {
    version: 6 as const,
    trafficClass: (w0 >>> 20) & 0xff,
    flowLabel: w0 & 0xfffff,
    payloadLength,
    nextHeader,
    hopLimit: b[offset + 7]!,
    source: formatIPv6(b, offset + 8),
    destination: formatIPv6(b, offset + 24),
    extensionHeaders,
    protocol,
    payloadOffset: p,
    payloadEnd,
  };
  return ok(fragment === undefined ? base : { ...base, fragment });
}

export interface IPv6EncodeOptions {
  readonly source: string;
  readonly destination: string;
  /** Next Header; no extension headers are written. */
  readonly protocol: number;
  readonly payload: Uint8Array;
  /** Default 64. */
  readonly hopLimit?: number;
  readonly trafficClass?: number;
  readonly flowLabel?: number;
}

/** A 40-byte IPv6 header (no extension headers) followed by the payload. */
export function encodeIPv6(o: IPv6EncodeOptions): Uint8Array {
  const src = addressOf(6, o.source, 'source');
  const dst = addressOf(6, o.destination, 'destination');
  if (o.payload.length > 0xffff) throw new RangeError(`IPv6 payload of ${o.payload.length} bytes needs a jumbogram`);
  const out = new Uint8Array(40 + o.payload.length);
  const tc = checkField('trafficClass', o.trafficClass ?? 0, 255);
  const fl = checkField('flowLabel', o.flowLabel ?? 0, 0xfffff);
  out[0] = 0x60 | (tc >> 4);
  out[1] = ((tc & 15) << 4) | (fl >> 16);
  put16(out, 2, fl & 0xffff);
  put16(out, 4, o.payload.length);
  out[6] = checkField('protocol', o.protocol, 255);
  out[7] = checkField('hopLimit', o.hopLimit ?? 64, 255);
  out.set(src, 8);
  out.set(dst, 24);
  out.set(o.payload, 40);
  return out;
}

// ------------------------------------------------------------------- either

export interface IpEncodeOptions {
  readonly source: string;
  readonly destination: string;
  readonly protocol: number;
  readonly payload: Uint8Array;
  /** TTL (IPv4) or Hop Limit (IPv6); default 64. */
  readonly ttl?: number;
}

/** An IPv4 or IPv6 packet, picked by the address family of `source` (both must match). */
export function encodeIp(o: IpEncodeOptions): Uint8Array {
  const v6 = o.source.includes(':');
  if (v6 !== o.destination.includes(':')) {
    throw new RangeError(`source ${o.source} and destination ${o.destination} are of different address families`);
  }
  const base = { source: o.source, destination: o.destination, protocol: o.protocol, payload: o.payload };
  if (v6) return encodeIPv6(o.ttl === undefined ? base : { ...base, hopLimit: o.ttl });
  return encodeIPv4(o.ttl === undefined ? base : { ...base, ttl: o.ttl });
}

export type IpView = IPv4View | IPv6View;

/** Decodes an IPv4 or IPv6 packet by its version nibble. */
export function decodeIp(b: Uint8Array, offset = 0, end: number = b.length): Result<IpView> {
  if (offset < 0 || end > b.length || end - offset < 1) return fail(DecodeErrorCode.truncated, offset, 'empty IP packet');
  const v = b[offset]! >> 4;
  if (v === 4) return decodeIPv4(b, offset, end);
  if (v === 6) return decodeIPv6(b, offset, end);
  return fail(DecodeErrorCode.badHeader, offset, `IP version field is ${v}, expected 4 or 6`);
}

/**
 * The pseudo-header sum used by UDP, TCP and ICMPv6 checksums (RFC 768, RFC 8200
 * §8.1) over raw source/destination address bytes (4 or 16 each), not folded.
 */
export function pseudoHeaderSum(source: Uint8Array, destination: Uint8Array, protocol: number, length: number): number {
  let s = onesComplementAdd(0, source, 0, source.length);
  s = onesComplementAdd(s, destination, 0, destination.length);
  // IPv4: zero, protocol, 16-bit length; IPv6: 32-bit length, 3 zero bytes, next header. Same sum.
  return s + protocol + (length >>> 16) + (length & 0xffff);
}
