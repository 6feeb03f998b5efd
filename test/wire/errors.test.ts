/** Every typed error the codec produces, with the offset it points at. */
import { describe, it, expect } from 'vitest';
import { decodePacket } from '../../src/wire/packet.js';
import { decodeChunk } from '../../src/wire/chunk.js';
import { decodeParams } from '../../src/wire/param.js';
import { decodeCauses } from '../../src/wire/cause.js';
import { DecodeErrorCode, type DecodeError, type Result } from '../../src/wire/result.js';
import { hex, packetBytes } from './helpers.js';

function errorOf<T>(r: Result<T>): DecodeError {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

function chunkError(bytesHex: string): DecodeError {
  const b = hex(bytesHex);
  return errorOf(decodeChunk(b, 0, b.length));
}

function expectError(e: DecodeError, code: DecodeErrorCode, offset: number): void {
  expect({ code: e.code, offset: e.offset }).toEqual({ code, offset });
  expect(e.message.length).toBeGreaterThan(0);
}

describe('packet framing', () => {
  it('a common header shorter than 12 bytes is truncated at 0', () => {
    expectError(errorOf(decodePacket(new Uint8Array(11))), DecodeErrorCode.truncated, 0);
    expectError(errorOf(decodePacket(new Uint8Array(0), { checksum: 'skip' })), DecodeErrorCode.truncated, 0);
  });

  it('a 12-byte packet decodes with no chunks', () => {
    const r = decodePacket(packetBytes(new Uint8Array(0)));
    expect(r.ok && r.value.chunks).toEqual([]);
  });

  it('chunk length below 4 is length-too-short at the length field', () => {
    expectError(errorOf(decodePacket(packetBytes(hex('00 00 0002')))), DecodeErrorCode.lengthTooShort, 14);
  });

  it('a chunk running past the packet is beyond-end at its length field', () => {
    const p = packetBytes(hex('0b 00 0004 | 00 00 0020 00000000'));
    expectError(errorOf(decodePacket(p)), DecodeErrorCode.beyondEnd, 18);
  });

  it('1 to 3 stray bytes after the last chunk are truncated at their offset', () => {
    expectError(errorOf(decodePacket(packetBytes(hex('0b 00 0004 | 0b00')))), DecodeErrorCode.truncated, 16);
  });

  it('strict mode refuses a wrong or zero checksum with bad-checksum at 8', () => {
    const p = packetBytes(hex('0b 00 0004'));
    p[8]! ^= 1;
    expectError(errorOf(decodePacket(p)), DecodeErrorCode.badChecksum, 8);
    expectError(errorOf(decodePacket(packetBytes(hex('0b 00 0004'), 'zero'))), DecodeErrorCode.badChecksum, 8);
  });

  it('chunk errors inside a packet carry packet offsets', () => {
    // Second chunk is a DATA of length 15.
    const p = packetBytes(hex('0b 00 0004 | 00 00 000f 00000001 0001 0000 000000'));
    expectError(errorOf(decodePacket(p)), DecodeErrorCode.lengthTooShort, 18);
  });
});

describe('chunk values', () => {
  it('DATA shorter than 16 and I-DATA shorter than 20 are length-too-short', () => {
    expectError(chunkError('00 03 000c 00000001 00010000'), DecodeErrorCode.lengthTooShort, 2);
    expectError(chunkError('40 03 0010 00000001 00010000 00000001'), DecodeErrorCode.lengthTooShort, 2);
  });

  it('INIT shorter than 20 is length-too-short; a broken parameter fails the INIT', () => {
    expectError(chunkError('01 00 0010 00000001 00000001 00010001'), DecodeErrorCode.lengthTooShort, 2);
    // Parameter length 12 overflows the 8 bytes left in the chunk.
    expectError(
      chunkError('01 00 001c 00000001 00000001 0001 0001 00000001 | 0005 000c 0a000001'),
      DecodeErrorCode.beyondEnd,
      22,
    );
    expectError(
      chunkError('01 00 001c 00000001 00000001 0001 0001 00000001 | 0005 0002 0a000001'),
      DecodeErrorCode.lengthTooShort,
      22,
    );
    expectError(
      chunkError('01 00 001c 00000001 00000001 0001 0001 00000001 | 0005 0007 0a000000'),
      DecodeErrorCode.badValue,
      22,
    );
  });

  it('SACK and NR-SACK whose counts overflow the chunk are bad-value at the counts', () => {
    expectError(chunkError('03 00 0014 00000001 00001000 0001 0001 00010002'), DecodeErrorCode.badValue, 12);
    expectError(chunkError('03 00 000c 00000001 00001000'), DecodeErrorCode.lengthTooShort, 2);
    expectError(chunkError('10 00 0018 00000001 00001000 0001 0001 0000 0000 00010002'), DecodeErrorCode.badValue, 12);
  });

  it('HEARTBEAT without a Heartbeat Info parameter is missing', () => {
    expectError(chunkError('04 00 0004'), DecodeErrorCode.missing, 4);
    expectError(chunkError('05 00 0008 0005 0004'), DecodeErrorCode.missing, 4);
    expectError(chunkError('04 00 0008 0001 0010'), DecodeErrorCode.beyondEnd, 6);
  });

  it('ASCONF without its Address Parameter is missing; ASCONF-ACK needs a serial', () => {
    expectError(chunkError('c1 00 0008 00000001'), DecodeErrorCode.missing, 8);
    expectError(chunkError('c1 00 0010 00000001 c005 0008 00000001'), DecodeErrorCode.missing, 8);
    expectError(chunkError('80 00 0006 0000'), DecodeErrorCode.lengthTooShort, 2);
    expectError(chunkError('c1 00 0004'), DecodeErrorCode.lengthTooShort, 2);
  });

  it('fixed TSN chunks shorter than 8 are length-too-short', () => {
    for (const t of ['07', '0c', '0d', 'c0', 'c2']) expectError(chunkError(`${t} 00 0004`), DecodeErrorCode.lengthTooShort, 2);
    expectError(chunkError('0f 00 0006 0001'), DecodeErrorCode.lengthTooShort, 2);
  });

  it('FORWARD TSN and I-FORWARD-TSN with a partial entry are bad-value', () => {
    expectError(chunkError('c0 00 000a 00000001 0001 0000'), DecodeErrorCode.badValue, 2);
    expectError(chunkError('c2 00 000c 00000001 00010000'), DecodeErrorCode.badValue, 2);
  });

  it('ABORT with a broken cause fails with the cause offset', () => {
    expectError(chunkError('06 00 0008 0001 0002'), DecodeErrorCode.lengthTooShort, 6);
    expectError(chunkError('06 00 0008 000c 0010'), DecodeErrorCode.beyondEnd, 6);
  });

  it('decodeChunk with fewer than 4 bytes is truncated', () => {
    expectError(errorOf(decodeChunk(hex('0000'), 0, 2)), DecodeErrorCode.truncated, 0);
  });
});

describe('parameter and cause values', () => {
  function paramError(bytesHex: string): DecodeError {
    const b = hex(bytesHex);
    return errorOf(decodeParams(b, 0, b.length));
  }
  function causeError(bytesHex: string): DecodeError {
    const b = hex(bytesHex);
    return errorOf(decodeCauses(b, 0, b.length));
  }

  it('known parameters with a wrong fixed length are bad-value at the length field', () => {
    for (const p of [
      '0006 0010 00000000 00000000 00000000',
      '0009 000c 00000000 00000000',
      '8000 0008 00000000',
      'c000 0008 00000000',
      'c005 000c 00000000 00000000',
      'c006 0004',
      '000f 000c 00000001 00000000',
      '0010 0010 00000001 00000000 00000000',
      '0011 0008 00000001',
      '000d 000c 00000001 00000000',
      '000e 000b 00000001 000100',
      '000c 0007 000500',
      '8004 0005 00 000000',
    ]) {
      expectError(paramError(p), DecodeErrorCode.badValue, 2);
    }
  });

  it('ADD IP with a nested parameter that is not an address is bad-value at the nested TLV', () => {
    expectError(paramError('c001 0010 00000001 000b 0008 61620000'), DecodeErrorCode.badValue, 8);
    expectError(paramError('c001 0010 00000001 0005 000c 0a000001'), DecodeErrorCode.badValue, 8);
    expectError(paramError('c002 0004'), DecodeErrorCode.badValue, 2);
  });

  it('parameter framing: short header, short length, overflow', () => {
    expectError(paramError('8000 0004 0001 00'), DecodeErrorCode.truncated, 4);
    expectError(paramError('0001 0003 00000000'), DecodeErrorCode.lengthTooShort, 2);
    expectError(paramError('0001 0009 00000000'), DecodeErrorCode.beyondEnd, 2);
  });

  it('trailing zero bytes shorter than a header are taken as padding', () => {
    const b = hex('8000 0004 0000');
    expect(decodeParams(b, 0, b.length).ok).toBe(true);
  });

  it('causes: framing errors and wrong fixed lengths', () => {
    expectError(causeError('0001 0003 00000000'), DecodeErrorCode.lengthTooShort, 2);
    expectError(causeError('0001 000c 00000000'), DecodeErrorCode.beyondEnd, 2);
    expectError(causeError('0004 0004 0102'), DecodeErrorCode.truncated, 4);
    expectError(causeError('0001 0006 0001 0000'), DecodeErrorCode.badValue, 2);
    expectError(causeError('0003 0004'), DecodeErrorCode.badValue, 2);
    expectError(causeError('0009 000c 00000001 00000000'), DecodeErrorCode.badValue, 2);
    expectError(causeError('0004 0008 00000000'), DecodeErrorCode.badValue, 2);
    expectError(causeError('0105 0004'), DecodeErrorCode.badValue, 2);
    expectError(causeError('0002 0006 0000'), DecodeErrorCode.badValue, 2);
    // Count of missing parameters larger than the cause holds.
    expectError(causeError('0002 000c 00000003 00010002'), DecodeErrorCode.badValue, 4);
  });

  it('Error Cause Indication with a broken cause fails', () => {
    expectError(paramError('c003 000c 00000001 0001 0002'), DecodeErrorCode.lengthTooShort, 10);
  });
});
