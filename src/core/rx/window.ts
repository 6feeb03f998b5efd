/**
 * The receiver window we advertise (a_rwnd, RFC 9260 §6.2) with receiver-side
 * silly window syndrome avoidance. The tracker never shrinks or computes it:
 * the association does, from the bytes reassembly holds (`bufferedBytes`).
 */
import type { ProtocolConfig } from '../config.js';

/** min(receiveWindow / 2, path MTU): the smallest opening worth advertising. */
export function swsThreshold(config: Pick<ProtocolConfig, 'receiveWindow' | 'pathMtu'>): number {
  return Math.min(Math.floor(config.receiveWindow / 2), config.pathMtu);
}

/**
 * a_rwnd for the next SACK. RFC 9260 §6.2: "The receiver MUST also have an
 * algorithm for advertising its receive window to avoid receiver silly window
 * syndrome (SWS), as described in [RFC1122]" (§4.2.3.3 there). The free space
 * is `receiveWindow - bufferBytes`. A decrease is advertised as is (we must not
 * offer space we lack); an increase only once it reaches `swsThreshold`, so the
 * peer is not invited to send a stream of small packets into a window that
 * opens a few bytes at a time.
 */
export function advertisedWindow(
  bufferBytes: number,
  config: Pick<ProtocolConfig, 'receiveWindow' | 'pathMtu'>,
  lastAdvertised: number,
): number {
  const free = Math.max(0, config.receiveWindow - bufferBytes);
  if (free <= lastAdvertised) return free;
  return free - lastAdvertised >= swsThreshold(config) ? free : lastAdvertised;
}

/**
 * The application read data and the window opened by at least the SWS
 * threshold since `lastAdvertised`: send a window-update SACK (RFC 9260 §6.2
 * allows a SACK beyond one per packet "to update the offered window as the
 * receiving application consumes new data").
 */
export function needsWindowUpdate(
  bufferBytes: number,
  config: Pick<ProtocolConfig, 'receiveWindow' | 'pathMtu'>,
  lastAdvertised: number,
): boolean {
  return advertisedWindow(bufferBytes, config, lastAdvertised) > lastAdvertised;
}
