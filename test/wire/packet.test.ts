import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Chunk, Packet } from '../../src/wire/types.js';
import {
  decodePacket,
  encodePacket,
  encodePacketInto,
  encodedPacketLength,
  forEachChunkHeader,
} from '../../src/wire/packet.js';
import { verifySctpChecksum } from '../../src/wire/checksum.js';
import { DecodeErrorCode } from '../../src/wire/result.js';
import { hex, packetBytes, toHexString } from './helpers.js';
import { sctpPacketsOf } from './capture-reader.js';

const data: Chunk = {
  kind: 'data',
  tsn: 0xfffffffe,
  streamId: 1,
  ssn: 0xffff,
  ppid: 51,
  userData: Uint8Array.from([104, 105]),
  unordered: false,
  beginning: true,
  ending: true,
  immediate: false,
};
const packet: Packet = {
  sourcePort: 5000,
  destinationPort: 5001,
  verificationTag: 0x01020304,
  chunks: [data, { kind: 'sack', cumulativeTsnAck: 7, aRwnd: 1000, gapBlocks: [], duplicateTsns: [] }],
};

describe('packet codec (RFC 9260 §3)', () => {
  it('encodes the common header and chunks with a CRC32c, and decodes back', () => {
    const bytes = encodePacket(packet);
    expect(bytes.length).toBe(encodedPacketLength(packet));
    expect(toHexString(bytes.subarray(0, 8))).toBe('1388138901020304');
    expect(toHexString(bytes.subarray(12))).toBe(
      toHexString(hex('00 03 0012 fffffffe 0001 ffff 00000033 6869 0000 | 03 00 0010 00000007 000003e8 0000 0000')),
    );
    expect(verifySctpChecksum(bytes)).toBe('crc32c');
    const r = decodePacket(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual({
      ...packet,
      checksum: ((bytes[8]! << 24) | (bytes[9]! << 16) | (bytes[10]! << 8) | bytes[11]!) >>> 0,
      checksumStatus: 'crc32c',
    });
  });

  it("checksum 'zero' leaves the field 0; classify labels it, skip does not look", () => {
    const bytes = encodePacket(packet, { checksum: 'zero' });
    expect(toHexString(bytes.subarray(8, 12))).toBe('00000000');
    expect(decodePacket(bytes).ok).toBe(false);
    const c = decodePacket(bytes, { checksum: 'classify' });
    expect(c.ok && c.value.checksumStatus).toBe('zero');
    bytes[9] = 0x55;
    const bad = decodePacket(bytes, { checksum: 'classify' });
    expect(bad.ok && bad.value.checksumStatus).toBe('bad');
    const skip = decodePacket(bytes, { checksum: 'skip' });
    expect(skip.ok && skip.value.checksumStatus).toBe('crc32c');
    expect(skip.ok && skip.value.chunks).toEqual(packet.chunks);
  });

  it('encodePacketInto batches packets into one buffer, each with its own checksum', () => {
    const n = encodedPacketLength(packet);
    const out = new Uint8Array(3 + 2 * n).fill(0xaa);
    const end1 = encodePacketInto(packet, out, 3);
    const end2 = encodePacketInto(packet, out, end1);
    expect([end1, end2]).toEqual([3 + n, 3 + 2 * n]);
    expect(out.subarray(3, end1)).toEqual(encodePacket(packet));
    expect(out.subarray(end1, end2)).toEqual(encodePacket(packet));
    expect(() => encodePacketInto(packet, new Uint8Array(n - 1), 0)).toThrow(RangeError);
  });

  it('a final chunk without its padding at the end of the packet decodes', () => {
    const bytes = packetBytes(hex('0b 00 0004 | 0a 00 0005 01'));
    const r = decodePacket(bytes);
    expect(r.ok && r.value.chunks).toEqual([{ kind: 'cookie-ack' }, { kind: 'cookie-echo', cookie: Uint8Array.of(1) }]);
  });

  it('encoders refuse values that cannot be put on the wire', () => {
    const bad: Packet = { ...packet, chunks: [{ kind: 'cookie-echo', cookie: new Uint8Array(70000) }] };
    expect(() => encodePacket(bad)).toThrow(RangeError);
    const addr: Packet = { ...packet, chunks: [{ kind: 'asconf', serial: 1, address: 'nope', params: [] }] };
    expect(() => encodePacket(addr)).toThrow(RangeError);
  });
});

describe('forEachChunkHeader', () => {
  it('visits type, flags, length and offset of every chunk without decoding values', () => {
    // The DATA value is too short to decode, but its framing is fine.
    const bytes = packetBytes(hex('00 03 0008 00000001 | 06 01 0004 | 84 00 0005 00 000000'));
    const seen: number[][] = [];
    const r = forEachChunkHeader(bytes, (type, flags, length, offset) => {
      seen.push([type, flags, length, offset]);
    });
    expect(r.ok).toBe(true);
    expect(seen).toEqual([
      [0, 3, 8, 12],
      [6, 1, 4, 20],
      [0x84, 0, 5, 24],
    ]);
  });

  it('stops when the callback returns false, and reports framing errors', () => {
    const bytes = packetBytes(hex('0b 00 0004 | 0b 00 0004 | 0b 00 0003'));
    let count = 0;
    expect(forEachChunkHeader(bytes, () => ++count < 2).ok).toBe(true);
    expect(count).toBe(2);
    const r = forEachChunkHeader(bytes, () => undefined);
    expect(!r.ok && r.error).toMatchObject({ code: DecodeErrorCode.lengthTooShort, offset: 22 });
    const short = forEachChunkHeader(new Uint8Array(5), () => undefined);
    expect(!short.ok && short.error.code).toBe(DecodeErrorCode.truncated);
  });
});

describe('reference captures (captures/INDEX.md)', () => {
  const dir = fileURLToPath(new URL('../../captures/', import.meta.url));
  const files = existsSync(dir) ? readdirSync(dir).filter((n) => /\.(cap|pcap)$/.test(n)) : [];
  const expected: Record<string, { status: string; reencodeDiffers: number }> = {
    // Its first DATA has a nonzero padding byte, which the encoder writes as 0.
    'sctp.cap': { status: 'adler32', reencodeDiffers: 1 },
    'sctp001.pcap': { status: 'zero', reencodeDiffers: 0 },
    // Its INIT does not count the last parameter's padding in the chunk length.
    'sctp-test.cap': { status: 'crc32c', reencodeDiffers: 1 },
  };

  it.skipIf(files.length === 0).each(files)('%s: every packet decodes and re-encodes to an equal packet', (name) => {
    const packets = sctpPacketsOf(dir + name);
    expect(packets.length).toBeGreaterThan(0);
    const want = expected[name] ?? { status: 'crc32c', reencodeDiffers: 0 };
    let differs = 0;
    for (const bytes of packets) {
      const r = decodePacket(bytes, { checksum: 'classify' });
      if (!r.ok) throw new Error(`${name}: ${JSON.stringify(r.error)}`);
      expect(r.value.checksumStatus).toBe(want.status);
      const again = encodePacket(r.value, { checksum: 'zero' });
      const original = bytes.slice();
      original.fill(0, 8, 12);
      if (toHexString(again) !== toHexString(original)) differs++;
      const back = decodePacket(again, { checksum: 'skip' });
      expect(back.ok && back.value.chunks).toEqual(r.value.chunks);
    }
    expect(differs).toBe(want.reencodeDiffers);
  });
});
