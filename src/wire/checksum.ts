/**
 * The SCTP common-header checksum (RFC 9260 §6.8, Appendix A; RFC 3309).
 *
 * The CRC32c covers the whole packet (common header and chunks) with the
 * checksum field taken as zero. It is stored least significant byte first in
 * bytes 8..11: the reflected CRC's natural byte order, as Appendix A's sample
 * code, Linux (`cpu_to_le32`), usrsctp and Wireshark have it. Read as a
 * big-endian u32 (bytes.ts `u32`), the field is therefore the byte-swapped CRC.
 *
 * RFC 2960 stacks used Adler-32 instead (Appendix B), stored big-endian; it is
 * recognised only so old captures can be labelled.
 */
import { adler32Update } from './adler32.js';
import { crc32cRaw } from './crc32c.js';
import type { ChecksumStatus } from './types.js';

/**
 * A CRC32c implementation with the crc32c.ts convention: `init` is a finished
 * CRC of the preceding bytes (0 for none) and the result is finished too.
 */
export type Crc32cFn = (data: Uint8Array, start: number, end: number, init: number) => number;

let backend: Crc32cFn | undefined;
let backendMinBytes = Infinity;

/**
 * Installs a faster CRC32c (the native addon) used for inputs of at least
 * `minBytes` bytes; smaller inputs stay in JS, where a call is cheaper than an
 * N-API crossing. `undefined` restores pure JS. Both give the same results.
 */
export function setCrc32cBackend(fn: Crc32cFn | undefined, minBytes: number): void {
  backend = fn;
  backendMinBytes = fn === undefined ? Infinity : Math.max(0, minBytes);
}

const zero4 = new Uint8Array(4);

/** CRC32c of packet[offset, offset + length) with bytes 8..11 read as zero; length >= 12. */
function sctpCrc32c(packet: Uint8Array, offset: number, length: number): number {
  const end = offset + length;
  let reg = crc32cRaw(-1, packet, offset, offset + 8);
  reg = crc32cRaw(reg, zero4, 0, 4);
  if (backend !== undefined && length - 12 >= backendMinBytes) {
    return backend(packet, offset + 12, end, ~reg >>> 0) >>> 0;
  }
  return ~crc32cRaw(reg, packet, offset + 12, end) >>> 0;
}

function adler32Zeroed(packet: Uint8Array, offset: number, length: number): number {
  let a = adler32Update(1, packet, offset, offset + 8);
  a = adler32Update(a, zero4, 0, 4);
  return adler32Update(a, packet, offset + 12, offset + length);
}

function checkRange(packet: Uint8Array, offset: number, length: number): boolean {
  return (
    Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 12 && offset + length <= packet.length
  );
}

/**
 * Computes the CRC32c of the SCTP packet at packet[offset, offset + length) and
 * stores it in its checksum field (bytes 8..11), in place.
 * @throws RangeError when the range is not inside `packet` or shorter than a common header.
 */
export function writeSctpChecksum(packet: Uint8Array, offset = 0, length: number = packet.length - offset): void {
  if (!checkRange(packet, offset, length)) {
    throw new RangeError(`writeSctpChecksum: bad range offset=${offset} length=${length} of ${packet.length}`);
  }
  const crc = sctpCrc32c(packet, offset, length);
  packet[offset + 8] = crc;
  packet[offset + 9] = crc >>> 8;
  packet[offset + 10] = crc >>> 16;
  packet[offset + 11] = crc >>> 24;
}

/**
 * Classifies the checksum field of the SCTP packet at packet[offset, offset + length):
 * 'crc32c' if it is right, else 'zero' if it is 0 (RFC 9653 zero checksum, or a
 * capture taken before checksum offload filled it in), else 'adler32' if it is
 * an RFC 2960 Adler-32, else 'bad'. A range that cannot hold a common header is 'bad'.
 */
export function verifySctpChecksum(
  packet: Uint8Array,
  offset = 0,
  length: number = packet.length - offset,
): ChecksumStatus {
  if (!checkRange(packet, offset, length)) return 'bad';
  const o = offset + 8;
  const le = (packet[o]! | (packet[o + 1]! << 8) | (packet[o + 2]! << 16) | (packet[o + 3]! << 24)) >>> 0;
  if (sctpCrc32c(packet, offset, length) === le) return 'crc32c';
  if (le === 0) return 'zero';
  const be = ((le & 0xff) << 24) | ((le & 0xff00) << 8) | ((le >>> 8) & 0xff00) | (le >>> 24);
  if (adler32Zeroed(packet, offset, length) === be >>> 0) return 'adler32';
  return 'bad';
}
