/**
 * What the endpoint hands an association procedure for one input: the time,
 * configuration, entropy, the cookie functions (the secret stays in the
 * endpoint) and the output sinks. Not state: built per call, never stored.
 */
import type { Packet } from '../../wire/types.js';
import type { MacFunction } from '../auth/mac.js';
import type { AuthSign } from '../auth/send.js';
import type { ProtocolConfig } from '../config.js';
import type { Millis, Rng } from '../env.js';
import type { CookieContents, OpenCookieOutcome } from './cookie.js';
import type { AssociationEvent } from './types.js';

export interface OutPacket {
  readonly source: string;
  readonly destination: string;
  readonly packet: Packet;
  /** The packet holds an AUTH chunk whose HMAC the endpoint fills in once it is encoded (RFC 4895 §6.2). */
  readonly auth?: AuthSign;
}

export interface AssocContext {
  readonly now: Millis;
  readonly config: ProtocolConfig;
  readonly rng: Rng;
  mintCookie(contents: CookieContents): Uint8Array;
  openCookie(cookie: Uint8Array): OpenCookieOutcome;
  /** A packet to send (the endpoint encodes it). */
  send(p: OutPacket): void;
  event(assocId: number, event: AssociationEvent): void;
  /** A nonzero random 32-bit value (verification tags, RFC 9260 §5.3.1). */
  nonZeroTag(): number;
  /** The HMACs AUTH verifies with (RFC 4895); absent: no AUTH chunk can be verified. */
  readonly mac?: MacFunction;
  /** HMAC-SHA1 can be computed, so AUTH may be offered (RFC 4895 §3.3). */
  readonly hasSha1?: boolean;
}

/** The source for a destination: a local address of the same family (IPv4 / IPv6), else the first. */
export function sourceFor(localAddresses: readonly string[], destination: string): string {
  const v6 = destination.includes(':');
  return localAddresses.find((a) => a.includes(':') === v6) ?? localAddresses[0] ?? '';
}
