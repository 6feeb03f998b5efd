// Link layers down to IP, and IP/UDP down to the SCTP packet.
import { describe, expect, it } from 'vitest';
import { decodeLink, extractSctp, LinkType, linkTypeName, type SctpFrame } from '../../src/pcap/index.js';
import { encodeIp, encodeIPv4, encodeIPv6 } from '../../src/wire/ip.js';
import { encodeUdp, encodeUdpEncapsulated } from '../../src/wire/udp.js';
import { concat } from './helpers.js';

const sctp = Uint8Array.from([0x0b, 0x59, 0x0b, 0x59, 1, 2, 3, 4, 0, 0, 0, 0, 4, 0, 0, 8, 0, 4, 0, 4]);
const v4 = encodeIPv4({ source: '192.0.2.1', destination: '192.0.2.2', protocol: 132, payload: sctp, ttl: 33 });
const v6 = encodeIPv6({ source: '2001:db8::1', destination: '2001:db8::2', protocol: 132, payload: sctp, hopLimit: 44 });
const mac = new Uint8Array(12);
const be16 = (v: number): Uint8Array => Uint8Array.of(v >> 8, v & 0xff);

function frameOf(r: ReturnType<typeof extractSctp>): SctpFrame {
  if (!r.ok) throw new Error(r.error.message);
  if (r.value === null) throw new Error('not SCTP');
  return r.value;
}

describe('decodeLink', () => {
  const cases: [string, number, Uint8Array, 4 | 6 | null, number?][] = [
    ['Ethernet IPv4', LinkType.ethernet, concat(mac, be16(0x0800), v4), 4, 14],
    ['Ethernet IPv6', LinkType.ethernet, concat(mac, be16(0x86dd), v6), 6, 14],
    ['Ethernet 802.1Q', LinkType.ethernet, concat(mac, be16(0x8100), be16(0x2064), be16(0x0800), v4), 4, 18],
    ['Ethernet QinQ', LinkType.ethernet, concat(mac, be16(0x88a8), be16(10), be16(0x8100), be16(20), be16(0x86dd), v6), 6, 22],
    ['Ethernet ARP', LinkType.ethernet, concat(mac, be16(0x0806), new Uint8Array(28)), null],
    ['Ethernet 802.3 length', LinkType.ethernet, concat(mac, be16(46), new Uint8Array(46)), null],
    ['SLL IPv4', LinkType.linuxSll, concat(new Uint8Array(14), be16(0x0800), v4), 4, 16],
    ['SLL netlink', LinkType.linuxSll, concat(new Uint8Array(14), be16(0x0010), new Uint8Array(16)), null],
    ['SLL2 IPv6', LinkType.linuxSll2, concat(be16(0x86dd), new Uint8Array(18), v6), 6, 20],
    ['RAW v4', LinkType.raw, v4, 4, 0],
    ['RAW v6', LinkType.raw, v6, 6, 0],
    ['RAW other', LinkType.raw, Uint8Array.of(0x50, 0), null],
    ['DLT_RAW 12', 12, v6, 6, 0],
    ['DLT_RAW 14', 14, v4, 4, 0],
    ['IPV4', LinkType.ipv4, v4, 4, 0],
    ['IPV6', LinkType.ipv6, v6, 6, 0],
    ['NULL AF_INET little-endian', LinkType.null, concat(Uint8Array.of(2, 0, 0, 0), v4), 4, 4],
    ['NULL AF_INET big-endian', LinkType.null, concat(Uint8Array.of(0, 0, 0, 2), v4), 4, 4],
    ['NULL AF_INET6 24', LinkType.null, concat(Uint8Array.of(24, 0, 0, 0), v6), 6, 4],
    ['NULL AF_INET6 28 big-endian', LinkType.null, concat(Uint8Array.of(0, 0, 0, 28), v6), 6, 4],
    ['NULL AF_INET6 30', LinkType.null, concat(Uint8Array.of(30, 0, 0, 0), v6), 6, 4],
    ['NULL other family', LinkType.null, concat(Uint8Array.of(7, 0, 0, 0), v4), null],
    ['LOOP AF_INET', LinkType.loop, concat(Uint8Array.of(0, 0, 0, 2), v4), 4, 4],
  ];
  for (const [name, linkType, frame, version, offset] of cases) {
    it(name, () => {
      const r = decodeLink(linkType, frame);
      if (!r.ok) throw new Error(r.error.message);
      if (version === null) expect(r.value).toBeNull();
      else expect(r.value).toMatchObject({ ipVersion: version, offset });
    });
  }

  it('reports VLAN ids and the EtherType', () => {
    const r = decodeLink(LinkType.ethernet, concat(mac, be16(0x88a8), be16(0x300a), be16(0x8100), be16(20), be16(0x0800), v4));
    expect(r).toEqual({ ok: true, value: { ipVersion: 4, offset: 22, etherType: 0x0800, vlans: [10, 20] } });
  });

  it('gives typed errors for cut-short headers and unknown link types', () => {
    const cases: [number, Uint8Array, string][] = [
      [LinkType.ethernet, new Uint8Array(13), 'truncated'],
      [LinkType.ethernet, concat(mac, be16(0x8100), be16(1)), 'truncated'],
      [LinkType.linuxSll, new Uint8Array(15), 'truncated'],
      [LinkType.linuxSll2, new Uint8Array(19), 'truncated'],
      [LinkType.null, new Uint8Array(3), 'truncated'],
      [LinkType.raw, new Uint8Array(0), 'truncated'],
      [147, v4, 'bad-value'],
    ];
    for (const [lt, frame, code] of cases) {
      const r = decodeLink(lt, frame);
      expect(r.ok ? 'ok' : r.error.code).toBe(code);
    }
    expect(linkTypeName(113)).toBe('LINUX_SLL');
    expect(linkTypeName(147)).toBe('LINKTYPE_147');
  });
});

describe('extractSctp', () => {
  it('finds SCTP directly over IPv4 and IPv6', () => {
    const a = frameOf(extractSctp(LinkType.ethernet, concat(mac, be16(0x0800), v4, new Uint8Array(6))));
    expect(a).toMatchObject({ ipVersion: 4, source: '192.0.2.1', destination: '192.0.2.2', encapsulation: 'ip', ttl: 33, ipChecksumValid: true, sctpOffset: 34 });
    expect(a.sctp).toEqual(sctp);
    expect('udpSourcePort' in a).toBe(false);
    const b = frameOf(extractSctp(LinkType.raw, v6));
    expect(b).toMatchObject({ ipVersion: 6, source: '2001:db8::1', destination: '2001:db8::2', encapsulation: 'ip', ttl: 44 });
    expect('ipChecksumValid' in b).toBe(false);
    expect(b.sctp).toEqual(sctp);
  });

  it('finds RFC 6951 UDP-encapsulated SCTP on port 9899 by default, or on the ports given', () => {
    for (const [source, destination] of [
      ['192.0.2.1', '192.0.2.2'],
      ['2001:db8::1', '2001:db8::2'],
    ] as const) {
      const udp = encodeUdpEncapsulated({ source, destination, sourcePort: 40000, sctp });
      const ip = encodeIp({ source, destination, protocol: 17, payload: udp });
      const f = frameOf(extractSctp(LinkType.raw, ip));
      expect(f).toMatchObject({ source, destination, encapsulation: 'udp', udpSourcePort: 40000, udpDestinationPort: 9899, udpChecksum: 'valid' });
      expect(f.sctp).toEqual(sctp);
      expect(extractSctp(LinkType.raw, ip, { udpPorts: [5000] })).toEqual({ ok: true, value: null });
      const other = encodeIp({ source, destination, protocol: 17, payload: encodeUdp({ source, destination, sourcePort: 5000, destinationPort: 5001, payload: sctp }) });
      expect(extractSctp(LinkType.raw, other)).toEqual({ ok: true, value: null });
      expect(frameOf(extractSctp(LinkType.raw, other, { udpPorts: [5001] })).udpDestinationPort).toBe(5001);
      // A wrong checksum is reported, not enforced (captures of offloaded sends carry them).
      const bad = ip.slice();
      bad[bad.length - 1]! ^= 0xff;
      expect(frameOf(extractSctp(LinkType.raw, bad)).udpChecksum).toBe('invalid');
    }
  });

  it('skips other protocols', () => {
    const tcp = encodeIPv4({ source: '1.1.1.1', destination: '2.2.2.2', protocol: 6, payload: new Uint8Array(20) });
    expect(extractSctp(LinkType.raw, tcp)).toEqual({ ok: true, value: null });
    expect(extractSctp(LinkType.ethernet, concat(mac, be16(0x0806), new Uint8Array(28)))).toEqual({ ok: true, value: null });
    // Broken UDP that is not ours is skipped before its header is judged.
    const udpShort = encodeIPv4({ source: '1.1.1.1', destination: '2.2.2.2', protocol: 17, payload: Uint8Array.of(0, 53, 0, 53, 0, 99, 0, 0) });
    expect(extractSctp(LinkType.raw, udpShort)).toEqual({ ok: true, value: null });
  });

  it('reports IPv4 and IPv6 fragments of SCTP as typed errors, not reassembled', () => {
    const first = v4.slice();
    first[6] = 0x20; // MF, offset 0
    first[10] = 0;
    first[11] = 0;
    const r = extractSctp(LinkType.raw, first);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('bad-value');
      expect(r.error.fragment).toEqual({ identification: 0, offset: 0, moreFragments: true });
      expect(r.error.message).toMatch(/fragment/);
    }
    const later = v4.slice();
    later[6] = 0x00;
    later[7] = 0x10; // offset 128
    const r2 = extractSctp(LinkType.raw, later);
    expect(!r2.ok && r2.error.fragment).toEqual({ identification: 0, offset: 128, moreFragments: false });

    const frag6 = encodeIPv6({ source: '2001:db8::1', destination: '2001:db8::2', protocol: 44, payload: concat(Uint8Array.of(132, 0, 0, 1, 0, 0, 0, 9), sctp) });
    const r3 = extractSctp(LinkType.raw, frag6);
    expect(!r3.ok && r3.error.fragment).toEqual({ identification: 9, offset: 0, moreFragments: true });

    // UDP: a first fragment on our port is an error; a later one cannot be told apart and is skipped.
    const udp = encodeUdpEncapsulated({ source: '192.0.2.1', destination: '192.0.2.2', sctp });
    const u1 = encodeIPv4({ source: '192.0.2.1', destination: '192.0.2.2', protocol: 17, payload: udp, dontFragment: false });
    u1[6] = 0x20;
    expect(extractSctp(LinkType.raw, u1).ok).toBe(false);
    u1[6] = 0x00;
    u1[7] = 0x01;
    expect(extractSctp(LinkType.raw, u1)).toEqual({ ok: true, value: null });
  });

  it('walks IPv6 extension headers to SCTP', () => {
    const ext = Uint8Array.of(60, 0, 1, 4, 0, 0, 0, 0, 132, 0, 1, 4, 0, 0, 0, 0);
    const p = encodeIPv6({ source: 'fe80::1', destination: 'ff02::5', protocol: 0, payload: concat(ext, sctp) });
    const f = frameOf(extractSctp(LinkType.raw, p));
    expect(f.sctpOffset).toBe(56);
    expect(f.sctp).toEqual(sctp);
  });

  it('gives a truncated error when the capture cut the IP packet (snaplen)', () => {
    const r = extractSctp(LinkType.ethernet, concat(mac, be16(0x0800), v4).subarray(0, 40));
    expect(!r.ok && r.error.code).toBe('truncated');
  });
});
