/**
 * Packets a peer would send with an AUTH chunk (RFC 4895 §6.2), built from the
 * receiving association's snapshot (the association shared key is the same in
 * both directions), for scripted packet-in tests of AUTH and ASCONF.
 */
import { associationKeyFor } from '../../../src/core/auth/keys.js';
import { macFunction } from '../../../src/core/auth/mac.js';
import { authOffset, signPacket } from '../../../src/core/auth/send.js';
import { macLength } from '../../../src/core/auth/state.js';
import type { Endpoint } from '../../../src/core/endpoint.js';
import type { Tcb } from '../../../src/core/association/types.js';
import { writeSctpChecksum } from '../../../src/wire/checksum.js';
import { encodePacket } from '../../../src/wire/packet.js';
import type { Chunk } from '../../../src/wire/types.js';
import { hmac, hmacSha1 } from '../assoc/helpers.js';

export const mac = macFunction(hmac, hmacSha1);

export function tcbOf(ep: Endpoint, id: number): Tcb {
  const s = ep.snapshot(id);
  if (!s || !('tcb' in s.fsm)) throw new Error('no TCB');
  return s.fsm.tcb;
}

export interface SignOptions {
  readonly hmacId?: number;
  readonly keyId?: number;
  /** Use this key instead of the association's (a peer with another shared key). */
  readonly key?: Uint8Array;
  /** Flip a bit of the HMAC after signing. */
  readonly corrupt?: boolean;
  /** HMAC field length (default: the identifier's). */
  readonly hmacLength?: number;
}

/**
 * The bytes of a packet from the peer of association `id` of `ep` (tag: the
 * association's local tag) carrying `before`, then an AUTH, then `after`.
 */
export function signedPacket(ep: Endpoint, id: number, ports: { readonly source: number; readonly destination: number }, before: Chunk[], after: Chunk[], o: SignOptions = {}): Uint8Array {
  const tcb = tcbOf(ep, id);
  const hmacId = o.hmacId ?? tcb.auth!.hmacId;
  const keyId = o.keyId ?? 0;
  const len = o.hmacLength ?? macLength(hmacId) ?? 20;
  const bytes = encodePacket({
    sourcePort: ports.source,
    destinationPort: ports.destination,
    verificationTag: tcb.localTag,
    chunks: [...before, { kind: 'auth', sharedKeyId: keyId, hmacId, hmac: new Uint8Array(len) }, ...after],
  }).slice();
  const key = o.key ?? associationKeyFor(tcb.auth!, keyId) ?? new Uint8Array(0);
  if (macLength(hmacId) !== undefined && len === macLength(hmacId)) signPacket(bytes, { hmacId, key }, mac);
  if (o.corrupt === true) {
    const at = authOffset(bytes) + 8;
    bytes[at] = bytes[at]! ^ 0x01;
    writeSctpChecksum(bytes);
  }
  return bytes;
}
