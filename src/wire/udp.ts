/**
 * UDP (RFC 768) and the SCTP-over-UDP framing of RFC 6951: the SCTP packet is
 * the whole UDP payload, the SCTP common header follows the UDP header, and
 * the IANA-registered port is 9899 ('sctp-tunneling').
 *
 * A node `dgram` socket adds and strips the UDP header itself; these functions
 * exist for raw sockets, captures and the pcap writer. The checksum is always
 * computed on send: UDP over IPv4 may send zero (RFC 768), but a computed checksum
 * costs little and IPv6 requires it (RFC 8200 §8.1).
 */
import { addressBytes } from './address.js';
import { put16, u16 } from './bytes.js';
import { finishChecksum, IpProtocol, onesComplementAdd, pseudoHeaderSum } from './ip.js';
import { DecodeErrorCode, fail, ok, type Result } from './result.js';

/** RFC 6951 / IANA service name 'sctp-tunneling'. */
export const SCTP_UDP_ENCAPSULATION_PORT = 9899;
export const UDP_HEADER_LENGTH = 8;

/**
 * 'valid' / 'invalid' against the pseudo-header; 'absent' when the field is 0
 * (allowed for IPv4, a violation for IPv6 outside RFC 6936 tunnels: the caller
 * knows the family); 'unverified' when no pseudo-header was supplied.
 */
export type UdpChecksumStatus = 'valid' | 'invalid' | 'absent' | 'unverified';

export interface UdpHeader {
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** Length field: header plus payload. */
  readonly length: number;
  readonly checksum: number;
}

export interface UdpView extends UdpHeader {
  readonly checksumStatus: UdpChecksumStatus;
  readonly payloadOffset: number;
  readonly payloadEnd: number;
}

/** Raw address bytes of the enclosing IP header (4 + 4 or 16 + 16). */
export interface UdpPseudoHeader {
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
}

/**
 * Decodes the UDP header at b[offset, end). The Length field wins when smaller
 * than the bytes given; larger is a 'truncated' error. With `pseudo` the
 * checksum is verified, never enforced: captures of locally sent datagrams
 * carry unfilled checksums (offload), so the caller decides.
 */
export function decodeUdp(b: Uint8Array, offset = 0, end: number = b.length, pseudo?: UdpPseudoHeader): Result<UdpView> {
  const avail = end - offset;
  if (offset < 0 || end > b.length || avail < UDP_HEADER_LENGTH) {
    return fail(DecodeErrorCode.truncated, offset, `UDP header needs 8 bytes, have ${Math.max(0, Math.min(avail, b.length - offset))}`);
  }
  const length = u16(b, offset + 4);
  if (length < UDP_HEADER_LENGTH) {
    return fail(DecodeErrorCode.lengthTooShort, offset + 4, `UDP Length ${length} is below the header size 8`);
  }
  if (length > avail) return fail(DecodeErrorCode.truncated, offset + 4, `UDP Length ${length} but only ${avail} bytes captured`);
  const checksum = u16(b, offset + 6);
  let checksumStatus: UdpChecksumStatus;
  if (checksum === 0) checksumStatus = 'absent';
  else if (pseudo === undefined) checksumStatus = 'unverified';
  else {
    const sum = onesComplementAdd(pseudoHeaderSum(pseudo.source, pseudo.destination, IpProtocol.udp, length), b, offset, offset + length);
    checksumStatus = finishChecksum(sum) === 0 ? 'valid' : 'invalid';
  }
  return ok({
    sourcePort: u16(b, offset),
    destinationPort: u16(b, offset + 2),
    length,
    checksum,
    checksumStatus,
    payloadOffset: offset + UDP_HEADER_LENGTH,
    payloadEnd: offset + length,
  });
}

/**
 * The checksum to put in a UDP header over `segment` (header with a zero
 * checksum field, then payload). A computed 0 is sent as 0xffff (RFC 768).
 */
export function udpChecksum(pseudo: UdpPseudoHeader, segment: Uint8Array, start = 0, end: number = segment.length): number {
  const sum = onesComplementAdd(pseudoHeaderSum(pseudo.source, pseudo.destination, IpProtocol.udp, end - start), segment, start, end);
  const c = finishChecksum(sum);
  return c === 0 ? 0xffff : c;
}

export interface UdpEncodeOptions {
  /** IP addresses for the pseudo-header; both of one family. */
  readonly source: string;
  readonly destination: string;
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly payload: Uint8Array;
}

function port(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`UDP ${name} ${v} is not a port number`);
  return v;
}

function pseudoOf(source: string, destination: string): UdpPseudoHeader {
  const s = addressBytes(source);
  const d = addressBytes(destination);
  if (s === undefined || d === undefined || s.length !== d.length) {
    throw new RangeError(`UDP pseudo-header needs two addresses of one family: ${JSON.stringify(source)}, ${JSON.stringify(destination)}`);
  }
  return { source: s, destination: d };
}

/** A UDP datagram (header with checksum, then payload), without the IP header. */
export function encodeUdp(o: UdpEncodeOptions): Uint8Array {
  const length = UDP_HEADER_LENGTH + o.payload.length;
  if (length > 0xffff) throw new RangeError(`UDP payload of ${o.payload.length} bytes does not fit the Length field`);
  const out = new Uint8Array(length);
  put16(out, 0, port('source port', o.sourcePort));
  put16(out, 2, port('destination port', o.destinationPort));
  put16(out, 4, length);
  out.set(o.payload, UDP_HEADER_LENGTH);
  put16(out, 6, udpChecksum(pseudoOf(o.source, o.destination), out));
  return out;
}

export interface UdpEncapsulationOptions {
  readonly source: string;
  readonly destination: string;
  /** Default 9899. */
  readonly sourcePort?: number;
  /** Default 9899. */
  readonly destinationPort?: number;
  /** The complete SCTP packet (common header and chunks, checksum filled in). */
  readonly sctp: Uint8Array;
}

/** RFC 6951: the SCTP packet as the payload of a UDP datagram (no IP header). */
export function encodeUdpEncapsulated(o: UdpEncapsulationOptions): Uint8Array {
  return encodeUdp({
    source: o.source,
    destination: o.destination,
    sourcePort: o.sourcePort ?? SCTP_UDP_ENCAPSULATION_PORT,
    destinationPort: o.destinationPort ?? SCTP_UDP_ENCAPSULATION_PORT,
    payload: o.sctp,
  });
}
