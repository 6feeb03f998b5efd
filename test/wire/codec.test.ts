/**
 * Hand-made byte vectors laid out from the RFC figures: each is decoded to the
 * expected value and that value is encoded back to exactly the same bytes.
 */
import { describe, it, expect } from 'vitest';
import type { Chunk, ErrorCause, Param } from '../../src/wire/types.js';
import { decodeChunk, encodeChunk, encodedChunkLength, chunkType, chunkFlags } from '../../src/wire/chunk.js';
import { decodeParams, encodeParams, encodedParamsLength } from '../../src/wire/param.js';
import { decodeCauses, encodeCauses, encodedCausesLength } from '../../src/wire/cause.js';
import { ChunkType } from '../../src/wire/registry.js';
import { hex, toHexString } from './helpers.js';

function encode(c: Chunk): Uint8Array {
  const out = new Uint8Array(encodedChunkLength(c)).fill(0xee);
  expect(encodeChunk(c, out, 0)).toBe(out.length);
  return out;
}

/** decode(bytes) equals `chunk`, and encode(chunk) is `bytes` byte for byte. */
function vector(bytesHex: string, chunk: Chunk): void {
  const bytes = hex(bytesHex);
  const r = decodeChunk(bytes, 0, bytes.length);
  if (!r.ok) throw new Error(`decode failed: ${JSON.stringify(r.error)}`);
  expect(r.value.chunk).toEqual(chunk);
  expect(r.value.next).toBe(bytes.length);
  expect(toHexString(encode(chunk))).toBe(toHexString(bytes));
  expect(chunkType(chunk)).toBe(bytes[0]);
  expect(chunkFlags(chunk)).toBe(bytes[1]);
}

const u8 = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('chunk vectors', () => {
  it('DATA (RFC 9260 §3.3.1) with U, B, E and 3 bytes of user data', () => {
    vector('00 07 0013 | 12345678 | 0001 0002 | 00000033 | 616263 00', {
      kind: 'data',
      tsn: 0x12345678,
      streamId: 1,
      ssn: 2,
      ppid: 0x33,
      userData: ascii('abc'),
      unordered: true,
      beginning: true,
      ending: true,
      immediate: false,
    });
  });

  it('DATA with the I bit (RFC 7053) and no flags otherwise', () => {
    vector('00 08 0014 | ffffffff | ffff ffff | 00000000 | 01020304', {
      kind: 'data',
      tsn: 0xffffffff,
      streamId: 0xffff,
      ssn: 0xffff,
      ppid: 0,
      userData: u8(1, 2, 3, 4),
      unordered: false,
      beginning: false,
      ending: false,
      immediate: true,
    });
  });

  it('INIT (§3.3.2) with IPv4, Supported Address Types, Forward-TSN, Host Name, Supported Extensions', () => {
    // The last parameter's padding is not in the chunk length (§3.2), the others' is.
    vector(
      `01 00 0036 | deadbeef | 00010000 | 000a ffff | fffffff0
       0005 0008 0a000001
       000c 0006 0005 0000
       c000 0004
       000b 0007 6162 00 00
       8008 0006 82 c1 0000`,
      {
        kind: 'init',
        initiateTag: 0xdeadbeef,
        aRwnd: 0x10000,
        outboundStreams: 10,
        inboundStreams: 0xffff,
        initialTsn: 0xfffffff0,
        params: [
          { kind: 'ipv4-address', address: '10.0.0.1' },
          { kind: 'supported-address-types', addressTypes: [5] },
          { kind: 'forward-tsn-supported' },
          { kind: 'host-name-address', hostName: 'ab' },
          { kind: 'supported-extensions', chunkTypes: [0x82, 0xc1] },
        ],
      },
    );
  });

  it('INIT ACK (§3.3.3) with State Cookie, IPv6 and an unknown parameter', () => {
    vector(
      `02 00 0035 | 00000001 | 0000ffff | 0001 0001 | 00000000
       0007 0007 a1a2a3 00
       0006 0014 20010db8 00000000 00000000 00000001
       8123 0005 7f 000000`,
      {
        kind: 'init-ack',
        initiateTag: 1,
        aRwnd: 0xffff,
        outboundStreams: 1,
        inboundStreams: 1,
        initialTsn: 0,
        params: [
          { kind: 'state-cookie', cookie: u8(0xa1, 0xa2, 0xa3) },
          { kind: 'ipv6-address', address: '2001:db8::1' },
          { kind: 'unknown', type: 0x8123, value: u8(0x7f) },
        ],
      },
    );
  });

  it('SACK (§3.3.4) with two gap blocks and one duplicate', () => {
    vector('03 00 001c | 00000100 | 0000ffff | 0002 0001 | 0002 0003 | 0005 0005 | 000000fe', {
      kind: 'sack',
      cumulativeTsnAck: 0x100,
      aRwnd: 0xffff,
      gapBlocks: [
        { start: 2, end: 3 },
        { start: 5, end: 5 },
      ],
      duplicateTsns: [0xfe],
    });
  });

  it('NR-SACK (type 16) with the A bit, one gap, one NR gap and one duplicate', () => {
    vector('10 01 0020 | 00000010 | 00001000 | 0001 0001 | 0001 0000 | 0001 0002 | 0004 0004 | 00000099', {
      kind: 'nr-sack',
      allNonRenegable: true,
      cumulativeTsnAck: 0x10,
      aRwnd: 0x1000,
      gapBlocks: [{ start: 1, end: 2 }],
      nrGapBlocks: [{ start: 4, end: 4 }],
      duplicateTsns: [0x99],
    });
  });

  it('HEARTBEAT and HEARTBEAT ACK (§3.3.5-6) carry one Heartbeat Info parameter', () => {
    vector('04 00 000c | 0001 0008 | deadbeef', { kind: 'heartbeat', info: u8(0xde, 0xad, 0xbe, 0xef) });
    vector('05 00 000b | 0001 0007 | 010203 00', { kind: 'heartbeat-ack', info: u8(1, 2, 3) });
  });

  it('ABORT (§3.3.7) with the T bit, Invalid Stream Identifier and User-Initiated Abort', () => {
    vector('06 01 0013 | 0001 0008 0007 0000 | 000c 0007 627965 00', {
      kind: 'abort',
      tBit: true,
      causes: [
        { kind: 'invalid-stream-identifier', streamId: 7 },
        { kind: 'user-initiated-abort', reason: ascii('bye') },
      ],
    });
    vector('06 00 0004', { kind: 'abort', tBit: false, causes: [] });
  });

  it('SHUTDOWN, SHUTDOWN ACK, SHUTDOWN COMPLETE with T (§3.3.8, 3.3.9, 3.3.13)', () => {
    vector('07 00 0008 | 00000005', { kind: 'shutdown', cumulativeTsnAck: 5 });
    vector('08 00 0004', { kind: 'shutdown-ack' });
    vector('0e 01 0004', { kind: 'shutdown-complete', tBit: true });
    vector('0e 00 0004', { kind: 'shutdown-complete', tBit: false });
  });

  it('ERROR (§3.3.10) with Stale Cookie; COOKIE ECHO and COOKIE ACK (§3.3.11-12)', () => {
    vector('09 00 000c | 0003 0008 000003e8', { kind: 'error', causes: [{ kind: 'stale-cookie', staleness: 1000 }] });
    vector('0a 00 0007 | 010203 00', { kind: 'cookie-echo', cookie: u8(1, 2, 3) });
    vector('0b 00 0004', { kind: 'cookie-ack' });
  });

  it('ECNE and CWR (Appendix A), AUTH (RFC 4895 §4.2)', () => {
    vector('0c 00 0008 | 00000042', { kind: 'ecne', lowestTsn: 0x42 });
    vector('0d 00 0008 | 80000000', { kind: 'cwr', lowestTsn: 0x80000000 });
    vector('0f 00 000e | 0001 0003 | aabbccdd eeff 0000', {
      kind: 'auth',
      sharedKeyId: 1,
      hmacId: 3,
      hmac: u8(0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff),
    });
  });

  it('I-DATA (RFC 8260 §2.1): PPID on the first fragment, FSN on the others', () => {
    vector('40 02 0019 | 00000001 | 0102 0000 | 0a0b0c0d | 00000035 | 0102030405 000000', {
      kind: 'idata',
      tsn: 1,
      streamId: 0x0102,
      mid: 0x0a0b0c0d,
      ppid: 0x35,
      fsn: 0,
      userData: u8(1, 2, 3, 4, 5),
      unordered: false,
      beginning: true,
      ending: false,
      immediate: false,
    });
    vector('40 0d 0015 | 00000002 | 0003 0000 | 00000009 | 00000007 | ff 000000', {
      kind: 'idata',
      tsn: 2,
      streamId: 3,
      mid: 9,
      ppid: 0,
      fsn: 7,
      userData: u8(0xff),
      unordered: true,
      beginning: false,
      ending: true,
      immediate: true,
    });
  });

  it('ASCONF (RFC 5061 §3.1.1): address parameter first, then Add IP (IPv6) and Set Primary (IPv4)', () => {
    vector(
      `c1 00 003c | 00000001 | 0005 0008 c0000201
       c001 001c 00000011 0006 0014 20010db8 00000000 00000000 00000001
       c004 0010 00000012 0005 0008 c0000202`,
      {
        kind: 'asconf',
        serial: 1,
        address: '192.0.2.1',
        params: [
          { kind: 'add-ip-address', correlationId: 0x11, address: '2001:db8::1' },
          { kind: 'set-primary-address', correlationId: 0x12, address: '192.0.2.2' },
        ],
      },
    );
  });

  it('ASCONF-ACK (RFC 5061 §3.1.2) with Success and Error Cause Indication', () => {
    vector(
      `80 00 0024 | 00000001
       c005 0008 00000011
       c003 0014 00000012 00a0 000c 0005 0008 c0000201`,
      {
        kind: 'asconf-ack',
        serial: 1,
        params: [
          { kind: 'success-indication', correlationId: 0x11 },
          {
            kind: 'error-cause-indication',
            correlationId: 0x12,
            causes: [{ kind: 'request-to-delete-last-address', request: hex('0005 0008 c0000201') }],
          },
        ],
      },
    );
  });

  it('RE-CONFIG (RFC 6525 §3.1): Outgoing SSN Reset Request and Re-configuration Response with TSNs', () => {
    vector(
      `82 00 0030
       000d 0016 00000010 00000020 00000030 0001 0002 0003 0000
       0010 0014 00000020 00000001 00000100 00000200`,
      {
        kind: 're-config',
        params: [
          { kind: 'outgoing-ssn-reset-request', requestSeq: 0x10, responseSeq: 0x20, senderLastTsn: 0x30, streams: [1, 2, 3] },
          { kind: 'reconfig-response', responseSeq: 0x20, result: 1, senderNextTsn: 0x100, receiverNextTsn: 0x200 },
        ],
      },
    );
    vector(
      `82 00 001c
       000e 000a 00000005 0007 0000
       0010 000c 00000005 00000002`,
      {
        kind: 're-config',
        params: [
          { kind: 'incoming-ssn-reset-request', requestSeq: 5, streams: [7] },
          { kind: 'reconfig-response', responseSeq: 5, result: 2 },
        ],
      },
    );
    vector('82 00 0024 | 000f 0008 00000001 | 0011 000c 00000002 0010 0000 | 0012 000c 00000003 ffff 0000', {
      kind: 're-config',
      params: [
        { kind: 'ssn-tsn-reset-request', requestSeq: 1 },
        { kind: 'add-outgoing-streams-request', requestSeq: 2, newStreams: 16 },
        { kind: 'add-incoming-streams-request', requestSeq: 3, newStreams: 0xffff },
      ],
    });
  });

  it('PAD (RFC 4820): value bytes are ignored on decode and zero on encode', () => {
    vector('84 00 000a | 000000000000 0000', { kind: 'pad', length: 6 });
    const r = decodeChunk(hex('84 00 0006 | abcd 0000'), 0, 8);
    expect(r.ok && r.value.chunk).toEqual({ kind: 'pad', length: 2 });
  });

  it('FORWARD TSN (RFC 3758 §3.2) and I-FORWARD-TSN (RFC 8260 §2.3.1)', () => {
    vector('c0 00 0010 | fffffffe | 0001 0005 | 0002 ffff', {
      kind: 'forward-tsn',
      newCumulativeTsn: 0xfffffffe,
      streams: [
        { streamId: 1, ssn: 5 },
        { streamId: 2, ssn: 0xffff },
      ],
    });
    vector('c2 00 0018 | 00000005 | 0003 0001 00000009 | 0004 0000 0000000a', {
      kind: 'i-forward-tsn',
      newCumulativeTsn: 5,
      streams: [
        { streamId: 3, unordered: true, mid: 9 },
        { streamId: 4, unordered: false, mid: 10 },
      ],
    });
  });

  it('unknown chunk types keep type, flags and value (RFC 9260 §3.2)', () => {
    vector('3f 5a 0006 | 0102 0000', { kind: 'unknown', type: 0x3f, flags: 0x5a, value: u8(1, 2) });
    vector('ff ff 0004', { kind: 'unknown', type: 0xff, flags: 0xff, value: u8() });
  });
});

describe('parameter and cause vectors', () => {
  function params(bytesHex: string, expected: Param[]): void {
    const b = hex(bytesHex);
    const r = decodeParams(b, 0, b.length);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    expect(r.value).toEqual(expected);
    const out = new Uint8Array(encodedParamsLength(expected)).fill(0xee);
    expect(encodeParams(expected, out, 0)).toBe(out.length);
    expect(toHexString(out)).toBe(toHexString(b));
  }

  function causes(bytesHex: string, expected: ErrorCause[]): void {
    const b = hex(bytesHex);
    const r = decodeCauses(b, 0, b.length);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    expect(r.value).toEqual(expected);
    const out = new Uint8Array(encodedCausesLength(expected)).fill(0xee);
    expect(encodeCauses(expected, out, 0)).toBe(out.length);
    expect(toHexString(out)).toBe(toHexString(b));
  }

  it('INIT parameters of RFC 9260 §3.3.2.1 and the extensions', () => {
    params(
      `0009 0008 00001388 | 8000 0004 | 8002 0008 01020304 | 8003 0006 0f80 0000
       8004 000a 0003 0001 0002 0000 | 8005 0008 00000000 | c006 0008 00000bad
       0008 000c 8123 0006 7f000000`,
      [
        { kind: 'cookie-preservative', lifeSpanIncrement: 5000 },
        { kind: 'ecn-capable' },
        { kind: 'random', random: u8(1, 2, 3, 4) },
        { kind: 'chunk-list', chunkTypes: [0x0f, 0x80] },
        { kind: 'hmac-algo', hmacIds: [3, 1, 2] },
        { kind: 'padding', length: 4 },
        { kind: 'adaptation-layer-indication', indication: 0xbad },
        { kind: 'unrecognized-parameter', param: hex('8123 0006 7f00 0000') },
      ],
    );
  });

  it('Delete IP Address with an IPv4 address (RFC 5061 §4.2.2)', () => {
    params('c002 0010 00000001 0005 0008 0a000002', [{ kind: 'delete-ip-address', correlationId: 1, address: '10.0.0.2' }]);
  });

  it('host name: trailing NULs stripped on decode, one NUL on encode', () => {
    const b = hex('000b 000c 686f7374 00000000');
    const r = decodeParams(b, 0, b.length);
    expect(r.ok && r.value).toEqual([{ kind: 'host-name-address', hostName: 'host' }]);
  });

  it('every cause of RFC 9260 §3.3.10, RFC 5061 §4.3 and RFC 4895', () => {
    causes(
      `0001 0008 0005 0000 | 0002 000c 00000002 0007 0009 | 0003 0008 0001e240 | 0004 0004
       0005 000c 0005 0008 0a000001 | 0006 0008 3f000004 | 0007 0004 | 0008 0008 c123 0004
       0009 0008 00000063 | 000a 0004 | 000b 000c 0005 0008 0a000003 | 000c 0004
       000d 0006 7878 0000 | 00a1 0008 01020304 | 00a2 0008 05060708 | 00a3 0004
       00a4 0005 09 000000 | 0105 0006 0002 0000 | 7777 0007 616263 00`,
      [
        { kind: 'invalid-stream-identifier', streamId: 5 },
        { kind: 'missing-mandatory-parameter', missingTypes: [7, 9] },
        { kind: 'stale-cookie', staleness: 123456 },
        { kind: 'out-of-resource' },
        { kind: 'unresolvable-address', address: hex('0005 0008 0a000001') },
        { kind: 'unrecognized-chunk-type', chunk: hex('3f000004') },
        { kind: 'invalid-mandatory-parameter' },
        { kind: 'unrecognized-parameters', params: hex('c123 0004') },
        { kind: 'no-user-data', tsn: 0x63 },
        { kind: 'cookie-received-while-shutting-down' },
        { kind: 'restart-with-new-addresses', addresses: hex('0005 0008 0a000003') },
        { kind: 'user-initiated-abort', reason: u8() },
        { kind: 'protocol-violation', info: ascii('xx') },
        { kind: 'operation-refused-resource-shortage', request: u8(1, 2, 3, 4) },
        { kind: 'request-to-delete-source-address', request: u8(5, 6, 7, 8) },
        { kind: 'illegal-asconf-ack' },
        { kind: 'request-refused-no-authorization', request: u8(9) },
        { kind: 'unsupported-hmac-identifier', hmacId: 2 },
        { kind: 'unknown', code: 0x7777, value: ascii('abc') },
      ],
    );
  });

  it('Unsupported HMAC Identifier with length 8 (padding counted) is accepted', () => {
    const b = hex('0105 0008 0003 0000');
    const r = decodeCauses(b, 0, b.length);
    expect(r.ok && r.value).toEqual([{ kind: 'unsupported-hmac-identifier', hmacId: 3 }]);
  });
});

describe('padding leniency (RFC 9260 §3.2)', () => {
  it('a chunk length that counts the last parameter padding decodes the same', () => {
    const without = hex('01 00 001a | 00000001 00000002 0001 0001 00000003 | 000c 0006 0005 0000');
    const withPad = hex('01 00 001c | 00000001 00000002 0001 0001 00000003 | 000c 0006 0005 0000');
    const a = decodeChunk(without, 0, without.length);
    const b = decodeChunk(withPad, 0, withPad.length);
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) expect(a.value.chunk).toEqual(b.value.chunk);
  });

  it('nonzero padding bytes are ignored in chunks and parameters', () => {
    const b = hex('0a 00 0005 | 01 ffffff');
    const r = decodeChunk(b, 0, b.length);
    expect(r.ok && r.value).toEqual({ chunk: { kind: 'cookie-echo', cookie: u8(1) }, next: 8 });
    const p = hex('0007 0005 01 ffffff | 8000 0004');
    const rp = decodeParams(p, 0, p.length);
    expect(rp.ok && rp.value).toEqual([{ kind: 'state-cookie', cookie: u8(1) }, { kind: 'ecn-capable' }]);
  });

  it('a chunk whose padding is cut off by the end of the buffer decodes, next = end', () => {
    const b = hex('0a 00 0005 | 01');
    const r = decodeChunk(b, 0, b.length);
    expect(r.ok && r.value.next).toBe(5);
  });

  it('fixed-size chunks longer than their layout are accepted', () => {
    const b = hex('07 00 000c | 00000005 | 00000000');
    const r = decodeChunk(b, 0, b.length);
    expect(r.ok && r.value.chunk).toEqual({ kind: 'shutdown', cumulativeTsnAck: 5 });
    expect(chunkType({ kind: 'shutdown', cumulativeTsnAck: 5 })).toBe(ChunkType.SHUTDOWN);
  });
});
