/**
 * Link-layer headers of captures, down to the IP packet they carry
 * (tcpdump.org LINKTYPE_* registry). A frame that carries no IP (ARP, LLDP,
 * a netlink message, another loopback family) is not an error: the result
 * is null and the caller skips it.
 */
import { u16 } from '../wire/bytes.js';
import { DecodeErrorCode, fail, ok, type Result } from '../wire/result.js';

/** LINKTYPE_* values understood by decodeLink. */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  null: 0,
  ethernet: 1,
  /** DLT_RAW as BSD defined it; some old files carry it as the link type. */
  rawBsd12: 12,
  /** DLT_RAW as OpenBSD defined it. */
  rawBsd14: 14,
  /** Raw IPv4 or IPv6, told apart by the version nibble. */
  raw: 101,
  /** OpenBSD loopback: 4-byte address family in network byte order. */
  loop: 108,
  linuxSll: 113,
  ipv4: 228,
  ipv6: 229,
  linuxSll2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

export const EtherType = {
  ipv4: 0x0800,
  ipv6: 0x86dd,
  vlan: 0x8100,
  qinq: 0x88a8,
  /** Pre-standard QinQ tag, still seen. */
  qinqOld: 0x9100,
} as const;

export interface LinkPayload {
  readonly ipVersion: 4 | 6;
  /** Where the IP header starts in the frame. */
  readonly offset: number;
  /** The EtherType or SLL protocol that said "IP", when the link type has one. */
  readonly etherType?: number;
  /** 802.1Q / 802.1ad VLAN IDs, outermost first, when tagged. */
  readonly vlans?: readonly number[];
}

/** BSD AF_INET6 values: NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30 (Wireshark's list). */
const AF_INET = 2;
const BSD_AF_INET6 = [24, 28, 30] as const;

function fromEtherType(etherType: number, offset: number, vlans: readonly number[] | undefined): LinkPayload | null {
  let v: 4 | 6;
  if (etherType === EtherType.ipv4) v = 4;
  else if (etherType === EtherType.ipv6) v = 6;
  else return null;
  const base = { ipVersion: v, offset, etherType };
  return vlans === undefined ? base : { ...base, vlans };
}

/** Follows EtherType `type` at `at` (pointing just past it) through VLAN tags. */
function throughVlans(frame: Uint8Array, type: number, at: number, what: string): Result<LinkPayload | null> {
  let etherType = type;
  let p = at;
  let vlans: number[] | undefined;
  while (etherType === EtherType.vlan || etherType === EtherType.qinq || etherType === EtherType.qinqOld) {
    if (frame.length < p + 4) return fail(DecodeErrorCode.truncated, p, `${what}: VLAN tag needs 4 bytes, have ${frame.length - p}`);
    (vlans ??= []).push(u16(frame, p) & 0x0fff);
    etherType = u16(frame, p + 2);
    p += 4;
  }
  return ok(fromEtherType(etherType, p, vlans));
}

function fromVersionNibble(frame: Uint8Array, offset: number): Result<LinkPayload | null> {
  if (frame.length <= offset) return fail(DecodeErrorCode.truncated, offset, 'raw IP frame is empty');
  const v = frame[offset]! >> 4;
  if (v === 4 || v === 6) return ok({ ipVersion: v, offset });
  return ok(null);
}

function loopbackFamily(frame: Uint8Array, bothOrders: boolean): Result<LinkPayload | null> {
  if (frame.length < 4) return fail(DecodeErrorCode.truncated, 0, `loopback header needs 4 bytes, have ${frame.length}`);
  const be = ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) >>> 0;
  const le = ((frame[3]! << 24) | (frame[2]! << 16) | (frame[1]! << 8) | frame[0]!) >>> 0;
  const family = (af: number): 4 | 6 | undefined => (af === AF_INET ? 4 : (BSD_AF_INET6 as readonly number[]).includes(af) ? 6 : undefined);
  const v = family(be) ?? (bothOrders ? family(le) : undefined);
  return ok(v === undefined ? null : { ipVersion: v, offset: 4 });
}

/**
 * Finds the IP packet in a frame of link type `linkType`. null: the frame
 * carries something other than IP. An error: the link header is cut short,
 * or the link type is not one of LinkType.
 */
export function decodeLink(linkType: number, frame: Uint8Array): Result<LinkPayload | null> {
  switch (linkType) {
    case LinkType.ethernet: {
      if (frame.length < 14) return fail(DecodeErrorCode.truncated, 0, `Ethernet header needs 14 bytes, have ${frame.length}`);
      // A value <= 1500 is an 802.3 length (LLC follows), not an EtherType: not IP for us.
      return throughVlans(frame, u16(frame, 12), 14, 'Ethernet');
    }
    case LinkType.linuxSll: {
      if (frame.length < 16) return fail(DecodeErrorCode.truncated, 0, `Linux cooked header needs 16 bytes, have ${frame.length}`);
      return throughVlans(frame, u16(frame, 14), 16, 'Linux cooked');
    }
    case LinkType.linuxSll2: {
      if (frame.length < 20) return fail(DecodeErrorCode.truncated, 0, `Linux cooked v2 header needs 20 bytes, have ${frame.length}`);
      return throughVlans(frame, u16(frame, 0), 20, 'Linux cooked v2');
    }
    case LinkType.raw:
    case LinkType.rawBsd12:
    case LinkType.rawBsd14:
      return fromVersionNibble(frame, 0);
    case LinkType.ipv4:
      return ok({ ipVersion: 4, offset: 0 });
    case LinkType.ipv6:
      return ok({ ipVersion: 6, offset: 0 });
    case LinkType.null:
      return loopbackFamily(frame, true);
    case LinkType.loop:
      // Network byte order by definition; some writers got it wrong, and the values cannot collide.
      return loopbackFamily(frame, true);
    default:
      return fail(DecodeErrorCode.badValue, 0, `unsupported link type ${linkType}`);
  }
}

/** A short name for a link type, for listings. */
export function linkTypeName(linkType: number): string {
  switch (linkType) {
    case LinkType.null:
      return 'NULL';
    case LinkType.ethernet:
      return 'EN10MB';
    case LinkType.rawBsd12:
    case LinkType.rawBsd14:
    case LinkType.raw:
      return 'RAW';
    case LinkType.loop:
      return 'LOOP';
    case LinkType.linuxSll:
      return 'LINUX_SLL';
    case LinkType.ipv4:
      return 'IPV4';
    case LinkType.ipv6:
      return 'IPV6';
    case LinkType.linuxSll2:
      return 'LINUX_SLL2';
    default:
      return `LINKTYPE_${linkType}`;
  }
}
