/**
 * Finds the SCTP packet in a captured frame: link layer, IPv4/IPv6, then
 * either IP protocol 132 or RFC 6951 UDP encapsulation on a configured port.
 *
 * IP fragments are not reassembled: a fragment of an SCTP packet is reported
 * as an error with `fragment` set (SCTP does its own fragmentation and sets
 * DF, so these are rare; a stateful reassembler can be added beside this).
 */
import { decodeIPv4, decodeIPv6, IpProtocol, isIPv4Fragment, isIPv6Fragment } from '../wire/ip.js';
import { DecodeErrorCode, type DecodeError, type Result } from '../wire/result.js';
import { decodeUdp, SCTP_UDP_ENCAPSULATION_PORT, type UdpChecksumStatus } from '../wire/udp.js';
import { decodeLink } from './link.js';

export interface SctpFrame {
  readonly ipVersion: 4 | 6;
  readonly source: string;
  readonly destination: string;
  readonly encapsulation: 'ip' | 'udp';
  readonly udpSourcePort?: number;
  readonly udpDestinationPort?: number;
  /** UDP checksum against the IP pseudo-header (encapsulation 'udp' only). */
  readonly udpChecksum?: UdpChecksumStatus;
  /** IPv4 header checksum verified (IPv4 only). */
  readonly ipChecksumValid?: boolean;
  /** TTL or Hop Limit. */
  readonly ttl: number;
  /** IPv4 Identification: a copy of a frame keeps it, a sender sending the same packet again usually does not. */
  readonly ipIdentification?: number;
  /** The SCTP packet (common header and chunks), aliasing the frame. Not validated here. */
  readonly sctp: Uint8Array;
  /** Offset of `sctp` in the frame. */
  readonly sctpOffset: number;
}

export interface FragmentInfo {
  readonly identification: number;
  /** Byte offset of this fragment in the original payload. */
  readonly offset: number;
  readonly moreFragments: boolean;
}

export interface ExtractError extends DecodeError {
  /** Present when the frame is an IP fragment of an SCTP (or encapsulated) packet. */
  readonly fragment?: FragmentInfo;
}

export interface ExtractOptions {
  /** UDP ports that mean RFC 6951 encapsulation when either port matches. Default [9899]. */
  readonly udpPorts?: readonly number[];
}

/** A view of b[start, end) that is a plain Uint8Array even when b is a Node Buffer (whose subarray is slower). */
function view(b: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset + start, end - start);
}

const defaultPorts: readonly number[] = [SCTP_UDP_ENCAPSULATION_PORT];

function fragmentError(offset: number, f: FragmentInfo, what: string): { readonly ok: false; readonly error: ExtractError } {
  return {
    ok: false,
    error: {
      code: DecodeErrorCode.badValue,
      offset,
      message: `IP fragment of ${what} (id ${f.identification}, offset ${f.offset}${f.moreFragments ? ', more' : ''}): not reassembled`,
      fragment: f,
    },
  };
}

/**
 * The SCTP packet in `frame`, or null when the frame carries no SCTP (not IP,
 * another protocol, UDP on other ports). Errors: cut-short or malformed link,
 * IP or UDP headers, and IP fragments of SCTP.
 */
export function extractSctp(linkType: number, frame: Uint8Array, options: ExtractOptions = {}): Result<SctpFrame | null, ExtractError> {
  const link = decodeLink(linkType, frame);
  if (!link.ok) return link;
  if (link.value === null) return { ok: true, value: null };
  const at = link.value.offset;
  const ports = options.udpPorts ?? defaultPorts;

  let ipVersion: 4 | 6;
  let source: string;
  let destination: string;
  let protocol: number;
  let ttl: number;
  let payloadOffset: number;
  let payloadEnd: number;
  let fragment: FragmentInfo | undefined;
  let ipChecksumValid: boolean | undefined;
  let ipIdentification: number | undefined;
  let firstFragment = true;
  if (link.value.ipVersion === 4) {
    const ip = decodeIPv4(frame, at, frame.length);
    if (!ip.ok) return ip;
    const h = ip.value;
    ipVersion = 4;
    ({ source, destination, protocol, ttl, payloadOffset, payloadEnd } = h);
    ipChecksumValid = h.checksumValid;
    ipIdentification = h.identification;
    if (isIPv4Fragment(h)) {
      fragment = { identification: h.identification, offset: h.fragmentOffset, moreFragments: h.moreFragments };
      firstFragment = h.fragmentOffset === 0;
    }
  } else {
    const ip = decodeIPv6(frame, at, frame.length);
    if (!ip.ok) return ip;
    const h = ip.value;
    ipVersion = 6;
    ({ source, destination, protocol, payloadOffset, payloadEnd } = h);
    ttl = h.hopLimit;
    if (isIPv6Fragment(h) && h.fragment !== undefined) {
      fragment = h.fragment;
      firstFragment = h.fragment.offset === 0;
    }
  }

  if (protocol === IpProtocol.sctp) {
    if (fragment !== undefined) return fragmentError(at, fragment, 'an SCTP packet');
    const sctp = view(frame, payloadOffset, payloadEnd);
    if (ipChecksumValid === undefined) {
      return { ok: true, value: { ipVersion, source, destination, encapsulation: 'ip', ttl, sctp, sctpOffset: payloadOffset } };
    }
    return { ok: true, value: { ipVersion, source, destination, encapsulation: 'ip', ttl, sctp, sctpOffset: payloadOffset, ipChecksumValid, ipIdentification: ipIdentification! } };
  }
  if (protocol !== IpProtocol.udp) return { ok: true, value: null };
  // A later fragment has no UDP header: whether it is encapsulated SCTP cannot be told.
  if (!firstFragment || payloadEnd - payloadOffset < 4) return { ok: true, value: null };
  const sp = (frame[payloadOffset]! << 8) | frame[payloadOffset + 1]!;
  const dp = (frame[payloadOffset + 2]! << 8) | frame[payloadOffset + 3]!;
  // Ports first: other UDP traffic is skipped without judging its header.
  if (!ports.includes(sp) && !ports.includes(dp)) return { ok: true, value: null };
  if (fragment !== undefined) return fragmentError(at, fragment, 'a UDP-encapsulated SCTP packet');
  const pseudo =
    ipVersion === 4
      ? { source: view(frame, at + 12, at + 16), destination: view(frame, at + 16, at + 20) }
      : { source: view(frame, at + 8, at + 24), destination: view(frame, at + 24, at + 40) };
  const udp = decodeUdp(frame, payloadOffset, payloadEnd, pseudo);
  if (!udp.ok) return udp;
  const u = udp.value;
  const base = {
    ipVersion,
    source,
    destination,
    encapsulation: 'udp' as const,
    udpSourcePort: u.sourcePort,
    udpDestinationPort: u.destinationPort,
    udpChecksum: u.checksumStatus,
    ttl,
    sctp: view(frame, u.payloadOffset, u.payloadEnd),
    sctpOffset: u.payloadOffset,
  };
  return { ok: true, value: ipChecksumValid === undefined ? base : { ...base, ipChecksumValid, ipIdentification: ipIdentification! } };
}
