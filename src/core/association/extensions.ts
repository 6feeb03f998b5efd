/**
 * The extensions an association uses, decided from what both sides listed in
 * INIT / INIT ACK: AUTH (RFC 4895 §6.1: both sent RANDOM and HMAC-ALGO, with
 * an HMAC in common), ADD-IP (RFC 5061 §4.2.7: both listed ASCONF and
 * ASCONF-ACK in Supported Extensions, and AUTH is in use, §4.1), and the
 * parameters we put in our own INIT / INIT ACK to offer them.
 */
import { ChunkType } from '../../wire/registry.js';
import type { Param } from '../../wire/types.js';
import { asconfOffered, authOffered, buildAuthParams, createAuthState } from '../auth/params.js';
import type { AuthState } from '../auth/state.js';
import type { ProtocolConfig } from '../config.js';
import type { Rng } from '../env.js';

export interface Negotiated {
  readonly auth: AuthState | undefined;
  readonly asconf: boolean;
}

export function negotiateExtensions(
  config: ProtocolConfig,
  hasSha1: boolean,
  localAuth: Uint8Array,
  peerAuth: Uint8Array,
  peerExtensions: readonly number[],
): Negotiated {
  const auth = createAuthState(localAuth, peerAuth, config, hasSha1);
  const asconf = auth !== undefined && asconfOffered(config, hasSha1) && peerExtensions.includes(ChunkType.ASCONF) && peerExtensions.includes(ChunkType.ASCONF_ACK);
  return { auth, asconf };
}

/**
 * Our extension parameters for an INIT or INIT ACK: Supported Extensions
 * (RFC 5061 §4.2.7, listing FORWARD TSN, AUTH, ASCONF and ASCONF-ACK as
 * enabled), RANDOM / CHUNK LIST / HMAC-ALGO (RFC 4895 §3), the Adaptation
 * Layer Indication (RFC 5061 §4.2.5). `authParams` reuses those of an earlier
 * INIT (RFC 9260 §5.2.1: an INIT ACK in COOKIE-WAIT repeats the INIT's).
 */
export function extensionParams(config: ProtocolConfig, hasSha1: boolean, rng: Rng, authParams?: readonly Param[]): Param[] {
  const types: number[] = [];
  if (config.prSctp) types.push(ChunkType.FORWARD_TSN);
  if (authOffered(config, hasSha1)) types.push(ChunkType.AUTH);
  if (asconfOffered(config, hasSha1)) types.push(ChunkType.ASCONF, ChunkType.ASCONF_ACK);
  const out: Param[] = [];
  if (types.length > 0) out.push({ kind: 'supported-extensions', chunkTypes: types });
  out.push(...(authParams ?? buildAuthParams(config, hasSha1, rng)));
  if (config.adaptationIndication !== undefined) out.push({ kind: 'adaptation-layer-indication', indication: config.adaptationIndication });
  return out;
}
