/**
 * RFC 4895 §6.1: the association shared key, "computed by concatenating the
 * endpoint pair shared key with the key vectors": the key vectors are compared
 * as unsigned numbers in network byte order and the smaller one comes first;
 * when they are equal as numbers, the shorter one does. usrsctp
 * (sctp_compute_hashkey) and Linux (sctp_auth_asoc_create_secret) do exactly
 * this, and both refuse an AUTH whose HMAC used another order.
 */
import type { AuthState } from './state.js';

/**
 * Compares two key vectors as numbers (the shorter left-padded with zeros),
 * then by length: < 0 when `a` comes first.
 */
export function compareKeyVectors(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  const padA = n - a.length;
  const padB = n - b.length;
  for (let i = 0; i < n; i++) {
    const x = i < padA ? 0 : a[i - padA]!;
    const y = i < padB ? 0 : b[i - padB]!;
    if (x !== y) return x - y;
  }
  return a.length - b.length;
}

/** The endpoint pair shared key `id` (RFC 4895 §6.1: key 0 is the empty key unless one was configured). */
export function sharedKey(auth: Pick<AuthState, 'sharedKeys'>, id: number): Uint8Array | undefined {
  const k = auth.sharedKeys.find((x) => x.id === id);
  if (k) return k.key;
  return id === 0 ? new Uint8Array(0) : undefined;
}

/** Endpoint pair shared key ‖ smaller key vector ‖ larger key vector (RFC 4895 §6.1). */
export function associationKey(shared: Uint8Array, localKeyVector: Uint8Array, peerKeyVector: Uint8Array): Uint8Array {
  const [first, second] = compareKeyVectors(localKeyVector, peerKeyVector) <= 0 ? [localKeyVector, peerKeyVector] : [peerKeyVector, localKeyVector];
  const out = new Uint8Array(shared.length + first.length + second.length);
  out.set(shared, 0);
  out.set(first, shared.length);
  out.set(second, shared.length + first.length);
  return out;
}

/** The association shared key for Shared Key Identifier `id`, or undefined if there is no such key. */
export function associationKeyFor(auth: AuthState, id: number): Uint8Array | undefined {
  const shared = sharedKey(auth, id);
  return shared === undefined ? undefined : associationKey(shared, auth.localKeyVector, auth.peerKeyVector);
}
