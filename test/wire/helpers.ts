import { writeSctpChecksum } from '../../src/wire/checksum.js';

/** Bytes from hex text; spaces, newlines and `|` separators are ignored. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHexString(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Common header for ports 5000 -> 5001, vtag 0x01020304, then `chunks`, with a correct CRC32c. */
export function packetBytes(chunks: Uint8Array, checksum: 'crc32c' | 'zero' = 'crc32c'): Uint8Array {
  const out = new Uint8Array(12 + chunks.length);
  out.set(hex('1388 1389 01020304 00000000'));
  out.set(chunks, 12);
  if (checksum === 'crc32c') writeSctpChecksum(out);
  return out;
}
