// IPv4 / IPv6 header views and builders, and UDP with RFC 6951 framing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeIp,
  decodeIPv4,
  decodeIPv6,
  encodeIp,
  encodeIPv4,
  encodeIPv6,
  internetChecksum,
  IpProtocol,
  isIPv4Fragment,
  isIPv6Fragment,
} from '../../src/wire/ip.js';
import {
  decodeUdp,
  encodeUdp,
  encodeUdpEncapsulated,
  SCTP_UDP_ENCAPSULATION_PORT,
  udpChecksum,
} from '../../src/wire/udp.js';
import { addressBytes, formatIPv4, formatIPv6 } from '../../src/wire/address.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((h) => parseInt(h, 16)));

function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('IPv4', () => {
  // The worked example of the IPv4 header checksum (RFC 1071 style): checksum 0xb861.
  const known = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');

  it('verifies a known header checksum and computes the same value', () => {
    const zeroed = known.slice();
    zeroed[10] = 0;
    zeroed[11] = 0;
    expect(internetChecksum(zeroed, 0, 20)).toBe(0xb861);
    expect(internetChecksum(known, 0, 20)).toBe(0);
    const packet = new Uint8Array(0x73);
    packet.set(known);
    const h = must(decodeIPv4(packet));
    expect(h).toMatchObject({
      version: 4,
      headerLength: 20,
      totalLength: 0x73,
      identification: 0,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IpProtocol.udp,
      checksum: 0xb861,
      checksumValid: true,
      source: '192.168.0.1',
      destination: '192.168.0.199',
      payloadOffset: 20,
      payloadEnd: 0x73,
    });
    packet[8] = 63;
    expect(must(decodeIPv4(packet)).checksumValid).toBe(false);
  });

  it('encodes what it decodes (round trip, checksum valid)', () => {
    const addr = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
    fc.assert(
      fc.property(addr, addr, fc.nat(255), fc.nat(255), fc.nat(0xffff), fc.uint8Array({ maxLength: 300 }), (source, destination, protocol, ttl, id, payload) => {
        const b = encodeIPv4({ source, destination, protocol, ttl, id, payload });
        const h = must(decodeIPv4(b));
        expect(h).toMatchObject({ source, destination, protocol, ttl, identification: id, totalLength: 20 + payload.length, checksumValid: true, dontFragment: true });
        expect(b.subarray(h.payloadOffset, h.payloadEnd)).toEqual(payload);
        expect(isIPv4Fragment(h)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('trusts Total Length over trailing padding, and rejects one larger than the bytes', () => {
    const b = encodeIPv4({ source: '10.0.0.1', destination: '10.0.0.2', protocol: 132, payload: new Uint8Array(12) });
    const padded = new Uint8Array(60);
    padded.set(b);
    expect(must(decodeIPv4(padded)).payloadEnd).toBe(32);
    const cut = decodeIPv4(b.subarray(0, 30));
    expect(cut.ok).toBe(false);
    if (!cut.ok) expect(cut.error.code).toBe('truncated');
  });

  it('takes the captured bytes when Total Length is 0 (segmentation offload)', () => {
    const b = encodeIPv4({ source: '10.0.0.1', destination: '10.0.0.2', protocol: 132, payload: new Uint8Array(100) });
    b[2] = 0;
    b[3] = 0;
    expect(must(decodeIPv4(b)).payloadEnd).toBe(120);
  });

  it('reads options, flags and fragment offsets', () => {
    const b = new Uint8Array(32);
    b.set(hex('4600 0020 1234 3fff 0184 0000 0a000001 0a000002 01010100'));
    b[10] = internetChecksum(b, 0, 24) >> 8;
    b[11] = internetChecksum(b, 0, 24) & 0xff;
    const h = must(decodeIPv4(b));
    expect(h).toMatchObject({ headerLength: 24, moreFragments: true, dontFragment: false, fragmentOffset: 0x1fff * 8, ttl: 1, protocol: 132, checksumValid: true, payloadOffset: 24, payloadEnd: 32 });
    expect(Array.from(h.options)).toEqual([1, 1, 1, 0]);
    expect(isIPv4Fragment(h)).toBe(true);
  });

  it('gives typed errors for bad headers', () => {
    const ok = encodeIPv4({ source: '1.2.3.4', destination: '5.6.7.8', protocol: 6, payload: new Uint8Array(8) });
    const cases: [Uint8Array, string][] = [
      [ok.subarray(0, 19), 'truncated'],
      [Uint8Array.from(ok, (x, i) => (i === 0 ? 0x65 : x)), 'bad-header'],
      [Uint8Array.from(ok, (x, i) => (i === 0 ? 0x44 : x)), 'length-too-short'],
      [Uint8Array.from(ok, (x, i) => (i === 0 ? 0x4f : x)), 'truncated'],
      [Uint8Array.from(ok, (x, i) => (i === 3 ? 10 : i === 2 ? 0 : x)), 'length-too-short'],
    ];
    for (const [b, code] of cases) {
      const r = decodeIPv4(b);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe(code);
    }
  });

  it('throws RangeError on values that cannot be encoded', () => {
    expect(() => encodeIPv4({ source: '::1', destination: '1.2.3.4', protocol: 1, payload: new Uint8Array() })).toThrow(RangeError);
    expect(() => encodeIPv4({ source: '1.2.3.4', destination: '1.2.3.4', protocol: 256, payload: new Uint8Array() })).toThrow(RangeError);
    expect(() => encodeIPv4({ source: '1.2.3.4', destination: '1.2.3.4', protocol: 1, payload: new Uint8Array(65516) })).toThrow(RangeError);
  });
});

describe('IPv6', () => {
  const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b));

  it('encodes what it decodes (round trip)', () => {
    fc.assert(
      fc.property(v6, v6, fc.nat(255), fc.nat(255), fc.nat(0xfffff), fc.nat(255), fc.uint8Array({ maxLength: 300 }), (source, destination, protocol, hopLimit, flowLabel, trafficClass, payload) => {
        fc.pre(![0, 43, 44, 60, 51, 135, 139, 140].includes(protocol));
        const b = encodeIPv6({ source, destination, protocol, hopLimit, flowLabel, trafficClass, payload });
        const h = must(decodeIPv6(b));
        expect(h).toMatchObject({ source, destination, protocol, nextHeader: protocol, hopLimit, flowLabel, trafficClass, payloadLength: payload.length, extensionHeaders: [] });
        expect(b.subarray(h.payloadOffset, h.payloadEnd)).toEqual(payload);
      }),
      { numRuns: 300 },
    );
  });

  function withExtensions(chain: Uint8Array, first: number): Uint8Array {
    const payload = new Uint8Array(chain.length + 12);
    payload.set(chain);
    return encodeIPv6({ source: '2001:db8::1', destination: '2001:db8::2', protocol: first, payload });
  }

  it('walks hop-by-hop, routing, destination options and fragment headers to SCTP', () => {
    const chain = hex(
      '2b00 0000 0000 0000' + // hop-by-hop (8), next routing
        '3c01 0000 0000 0000 0000 0000 0000 0000' + // routing (16), next dest opts
        '2c00 0000 0000 0000' + // destination options (8), next fragment
        '8400 0000 dead beef', // fragment, next SCTP, offset 0, M clear (atomic)
    );
    const b = withExtensions(chain, 0);
    const h = must(decodeIPv6(b));
    expect(h.extensionHeaders).toEqual([0, 43, 60, 44]);
    expect(h.protocol).toBe(132);
    expect(h.payloadOffset).toBe(40 + chain.length);
    expect(h.payloadEnd).toBe(b.length);
    expect(h.fragment).toEqual({ offset: 0, moreFragments: false, identification: 0xdeadbeef });
    expect(isIPv6Fragment(h)).toBe(false);
  });

  it('stops at a non-first fragment and reports it', () => {
    const b = withExtensions(hex('8400 0029 0000 0001'), 44); // offset 5*8 = 40, M set
    const h = must(decodeIPv6(b));
    expect(h.fragment).toEqual({ offset: 40, moreFragments: true, identification: 1 });
    expect(isIPv6Fragment(h)).toBe(true);
    expect(h.protocol).toBe(132);
  });

  it('gives typed errors for extension headers that run past the payload', () => {
    const b = withExtensions(hex('3c05 0000 0000 0000'), 0); // hop-by-hop claims 48 bytes
    const r = decodeIPv6(b);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('beyond-end');
    const cut = decodeIPv6(b.subarray(0, 50));
    expect(!cut.ok && cut.error.code).toBe('truncated');
    const v4 = decodeIPv6(Uint8Array.from(b, (x, i) => (i === 0 ? 0x40 : x)));
    expect(!v4.ok && v4.error.code).toBe('bad-header');
  });

  it('decodeIp picks the version; encodeIp picks the family', () => {
    const a = encodeIp({ source: '10.1.1.1', destination: '10.1.1.2', protocol: 132, payload: new Uint8Array(4), ttl: 9 });
    const b = encodeIp({ source: 'fe80::1', destination: 'fe80::2', protocol: 132, payload: new Uint8Array(4), ttl: 9 });
    expect(must(decodeIp(a))).toMatchObject({ version: 4, ttl: 9 });
    expect(must(decodeIp(b))).toMatchObject({ version: 6, hopLimit: 9 });
    expect(() => encodeIp({ source: 'fe80::1', destination: '10.1.1.2', protocol: 132, payload: new Uint8Array() })).toThrow(RangeError);
    expect(decodeIp(new Uint8Array([0x50])).ok).toBe(false);
  });
});

describe('UDP and RFC 6951 framing', () => {
  const payload = Uint8Array.from({ length: 13 }, (_, i) => i + 1);

  it('computes hand-checked checksums over the IPv4 and IPv6 pseudo-headers', () => {
    // Vectors computed independently (RFC 768 / RFC 8200 §8.1 by hand, in Python).
    const v4 = encodeUdpEncapsulated({ source: '192.0.2.1', destination: '198.51.100.7', sctp: payload });
    expect(Array.from(v4.subarray(0, 8))).toEqual([0x26, 0xab, 0x26, 0xab, 0x00, 0x15, 0x95, 0x07]);
    const v6 = encodeUdpEncapsulated({ source: '2001:db8::1', destination: '2001:db8::2', sctp: payload });
    expect((v6[6]! << 8) | v6[7]!).toBe(0x25cf);
    const pseudo = { source: addressBytes('192.0.2.1')!, destination: addressBytes('198.51.100.7')! };
    const d = must(decodeUdp(v4, 0, v4.length, pseudo));
    expect(d).toMatchObject({ sourcePort: SCTP_UDP_ENCAPSULATION_PORT, destinationPort: 9899, length: 21, checksum: 0x9507, checksumStatus: 'valid', payloadOffset: 8, payloadEnd: 21 });
    v4[10]! ^= 1;
    expect(must(decodeUdp(v4, 0, v4.length, pseudo)).checksumStatus).toBe('invalid');
    expect(must(decodeUdp(v4)).checksumStatus).toBe('unverified');
    v4[6] = 0;
    v4[7] = 0;
    expect(must(decodeUdp(v4, 0, v4.length, pseudo)).checksumStatus).toBe('absent');
  });

  it('sends a computed zero checksum as 0xffff, which verifies', () => {
    const p = new Uint8Array(10);
    const src = '10.0.0.1';
    const dst = '10.0.0.2';
    const first = encodeUdp({ source: src, destination: dst, sourcePort: 1, destinationPort: 2, payload: p });
    // Put the checksum into the last payload word: the sum is then 0xffff and the checksum 0.
    const c = (first[6]! << 8) | first[7]!;
    p[8] = c >> 8;
    p[9] = c & 0xff;
    const b = encodeUdp({ source: src, destination: dst, sourcePort: 1, destinationPort: 2, payload: p });
    expect((b[6]! << 8) | b[7]!).toBe(0xffff);
    const pseudo = { source: addressBytes(src)!, destination: addressBytes(dst)! };
    expect(must(decodeUdp(b, 0, b.length, pseudo)).checksumStatus).toBe('valid');
    expect(udpChecksum(pseudo, Uint8Array.from(b, (x, i) => (i === 6 || i === 7 ? 0 : x)))).toBe(0xffff);
  });

  it('round-trips through IPv4 and IPv6 with valid checksums', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.nat(0xffff), fc.nat(0xffff), fc.uint8Array({ maxLength: 200 }), (six, sp, dp, sctp) => {
        const [source, destination] = six ? ['2001:db8::a', '2001:db8::b'] : ['192.0.2.10', '192.0.2.11'];
        const udp = encodeUdpEncapsulated({ source, destination, sourcePort: sp, destinationPort: dp, sctp });
        const ip = encodeIp({ source, destination, protocol: IpProtocol.udp, payload: udp });
        const h = must(decodeIp(ip));
        const at = six ? 8 : 12;
        const n = six ? 16 : 4;
        const pseudo = { source: ip.subarray(at, at + n), destination: ip.subarray(at + n, at + 2 * n) };
        const u = must(decodeUdp(ip, h.payloadOffset, h.payloadEnd, pseudo));
        expect(u).toMatchObject({ sourcePort: sp, destinationPort: dp, checksumStatus: 'valid' });
        expect(ip.subarray(u.payloadOffset, u.payloadEnd)).toEqual(sctp);
      }),
      { numRuns: 300 },
    );
  });

  it('gives typed errors for short or overlong datagrams', () => {
    const b = encodeUdp({ source: '1.1.1.1', destination: '2.2.2.2', sourcePort: 1, destinationPort: 2, payload: new Uint8Array(4) });
    expect(!decodeUdp(b.subarray(0, 7)).ok).toBe(true);
    const long = decodeUdp(b.subarray(0, 10));
    expect(!long.ok && long.error.code).toBe('truncated');
    const short = decodeUdp(Uint8Array.from(b, (x, i) => (i === 5 ? 4 : x)));
    expect(!short.ok && short.error.code).toBe('length-too-short');
    // A Length smaller than the bytes given wins.
    expect(must(decodeUdp(Uint8Array.from(b, (x, i) => (i === 5 ? 9 : x)))).payloadEnd).toBe(9);
    expect(() => encodeUdp({ source: '1.1.1.1', destination: '::1', sourcePort: 1, destinationPort: 2, payload: new Uint8Array() })).toThrow(RangeError);
    expect(() => encodeUdp({ source: '1.1.1.1', destination: '1.1.1.1', sourcePort: 65536, destinationPort: 2, payload: new Uint8Array() })).toThrow(RangeError);
  });

  it('decoders never throw on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(130), fc.nat(130), (b, o, e) => {
        decodeIPv4(b, o, e);
        decodeIPv6(b, o, e);
        decodeIp(b, o, e);
        decodeUdp(b, o, e, { source: new Uint8Array(4), destination: new Uint8Array(4) });
      }),
      { numRuns: 2000 },
    );
    expect(formatIPv4(new Uint8Array([1, 2, 3, 4]))).toBe('1.2.3.4');
  });
});
