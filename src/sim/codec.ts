/**
 * The simulator's only contact with the packet codec (src/wire/packet.ts), so
 * filters, tracing and the test hosts agree on one decode/encode path.
 */
import { decodePacket, encodePacket } from '../wire/packet.js';
import type { DecodedPacket, Packet } from '../wire/types.js';

export type DecodeOutcome = { readonly ok: true; readonly packet: DecodedPacket } | { readonly ok: false; readonly message: string };

/** Decodes an SCTP packet, classifying (not rejecting) its checksum. Never throws. */
export function decodeSctp(bytes: Uint8Array): DecodeOutcome {
  const r = decodePacket(bytes, { checksum: 'classify' });
  return r.ok ? { ok: true, packet: r.value } : { ok: false, message: `${r.error.code} at ${r.error.offset}: ${r.error.message}` };
}

/** Encodes an SCTP packet with a correct CRC32c. */
export function encodeSctp(packet: Packet): Uint8Array {
  return encodePacket(packet);
}
