/**
 * Duplicate and colliding handshake chunks for an association that exists
 * (RFC 9260 §5.2): INIT in any state (§5.2.1, §5.2.2, §9.2), COOKIE ECHO and
 * its Table 2 cases A-D (§5.2.4), restart with new addresses (§5.2.2).
 * INIT ACK outside COOKIE-WAIT (§5.2.3) and COOKIE ACK outside COOKIE-ECHOED
 * (§5.2.5) are `discard` cells of the chunk table.
 */
import type { InitChunk } from '../../wire/types.js';
import { createDataTracker } from '../rx/data-tracker.js';
import { createReassembly } from '../rx/reassembly.js';
import type { AssocContext } from './context.js';
import { cookieStaleness, type CookieContents } from './cookie.js';
import { failAllData } from './events.js';
import { abortFor, buildInitAck, checkInitParams, drainPending, enterEstablished, initFeatures } from './handshake.js';
import { emitPacket } from './transmit.js';
import { createTcb, restartTcb, tcbOf, tcbParamsFromCookie, type TcbParams } from './tcb.js';
import { createAsconfState } from '../asconf/state.js';
import { authParamsOf } from '../auth/params.js';
import type { Association, Tcb } from './types.js';
import { encodeParams, encodedParamsLength } from '../../wire/param.js';

/** An INIT for an association that exists. `source` / `destination` are the packet's. */
export function onInitInAssociation(ctx: AssocContext, a: Association, init: InitChunk, source: string): void {
  const s = a.fsm;
  const check = checkInitParams(init, source, a.localAddresses, initFeatures(ctx));
  if (!check.ok) {
    emitPacket(ctx, a, source, init.initiateTag, [abortFor(check.cause)]);
    return;
  }
  const info = check.info;
  const known = tcbOf(s)?.paths.map((p) => p.address) ?? a.peerAddresses;
  const added = info.peerAddresses.filter((x) => !known.includes(x));
  switch (s.state) {
    case 'closed':
      return;
    case 'cookie-wait':
      // §5.2.1: INIT ACK with our original Initiate Tag and parameters; no state change.
      emitPacket(ctx, a, source, init.initiateTag, [
        buildInitAck(
          ctx,
          init,
          info,
          { localTag: s.init.initiateTag, localInitialTsn: s.init.initialTsn, localTieTag: s.init.initiateTag, peerTieTag: 0, outboundStreams: s.init.outboundStreams },
          a,
          a.localAddresses,
          authParamsOf(s.init.params),
        ),
      ]);
      return;
    case 'cookie-echoed':
      // §5.2.1: an INIT adding a new address to the forming association is discarded.
      if (added.length > 0) return;
      emitPacket(ctx, a, source, init.initiateTag, [
        buildInitAck(
          ctx,
          init,
          info,
          { localTag: s.tcb.localTag, localInitialTsn: s.tcb.localInitialTsn, localTieTag: s.tcb.localTag, peerTieTag: s.tcb.peerTag, outboundStreams: s.init.outboundStreams },
          a,
          a.localAddresses,
          authParamsOf(s.init.params),
        ),
      ]);
      return;
    case 'shutdown-ack-sent':
      // §9.2: "it SHOULD discard the INIT chunk and retransmit the SHUTDOWN ACK chunk".
      s.tcb.control.push({ chunk: { kind: 'shutdown-ack' }, destination: undefined });
      return;
    case 'established':
    case 'shutdown-pending':
    case 'shutdown-sent':
    case 'shutdown-received': {
      if (added.length > 0) {
        // §5.2.2: a restart may not add addresses: ABORT listing them, state unchanged.
        const addrParams = added.map((address) => (address.includes(':') ? { kind: 'ipv6-address' as const, address } : { kind: 'ipv4-address' as const, address }));
        const bytes = new Uint8Array(encodedParamsLength(addrParams));
        encodeParams(addrParams, bytes, 0);
        emitPacket(ctx, a, source, init.initiateTag, [abortFor({ kind: 'restart-with-new-addresses', addresses: bytes })]);
        return;
      }
      // §5.2.2: INIT ACK with a new Initiate Tag and the current tags as tie-tags.
      emitPacket(ctx, a, source, init.initiateTag, [
        buildInitAck(
          ctx,
          init,
          info,
          { localTag: ctx.nonZeroTag(), localInitialTsn: ctx.rng.nextU32(), localTieTag: s.tcb.localTag, peerTieTag: s.tcb.peerTag, outboundStreams: ctx.config.outboundStreams },
          a,
          a.localAddresses,
        ),
      ]);
      return;
    }
  }
}

export type CookieCase = 'A' | 'B' | 'C' | 'D' | 'none';

/** RFC 9260 §5.2.4 Table 2. `peerTag` undefined in COOKIE-WAIT (no TCB yet). */
export function classifyCookie(c: CookieContents, localTag: number, peerTag: number | undefined): CookieCase {
  const localMatch = c.localTag === localTag;
  const peerMatch = peerTag !== undefined && c.peerTag === peerTag;
  if (!localMatch && !peerMatch && peerTag !== undefined && c.localTieTag === localTag && c.peerTieTag === peerTag) return 'A';
  if (localMatch && !peerMatch) return 'B';
  if (!localMatch && peerMatch && c.localTieTag === 0 && c.peerTieTag === 0) return 'C';
  if (localMatch && peerMatch) return 'D';
  return 'none';
}

/**
 * A valid COOKIE ECHO (MAC, ports and tag checked) for an association that
 * exists. Returns false when the packet is to be discarded.
 */
export function onCookieEchoInAssociation(ctx: AssocContext, a: Association, c: CookieContents, source: string): boolean {
  const s = a.fsm;
  if (s.state === 'closed') return false;
  const tcb = tcbOf(s);
  const localTag = s.state === 'cookie-wait' ? s.init.initiateTag : tcb!.localTag;
  const kase = classifyCookie(c, localTag, tcb?.peerTag);
  if (kase === 'none' || kase === 'C') return false; // Table 2: silently discard.
  // §5.1.5 step 3, applied before acting on A or B; D only confirms what exists.
  if (kase !== 'D') {
    const staleness = cookieStaleness(c, ctx.now);
    if (staleness > 0) {
      emitPacket(ctx, a, source, c.peerTag, [{ kind: 'error', causes: [{ kind: 'stale-cookie', staleness }] }]);
      return false;
    }
  }
  const params = tcbParamsFromCookie(c, source, ctx.config, ctx.hasSha1 ?? false);
  switch (kase) {
    case 'A': {
      const t = tcb!;
      if (s.state === 'shutdown-ack-sent') {
        // §5.2.4 A: no restart while shutting down; repeat the SHUTDOWN ACK with the error.
        emitPacket(ctx, a, source, t.peerTag, [{ kind: 'shutdown-ack' }, { kind: 'error', causes: [{ kind: 'cookie-received-while-shutting-down' }] }], t);
        return false;
      }
      // Peer restart: everything unacknowledged is lost with the peer's old state.
      // §5.2.4 A: the restart is treated "as if it received an ABORT followed
      // by a new COOKIE ECHO", except that "Any SCTP DATA chunks MAY be
      // retained (this is an implementation-specific option)". We do not
      // retain them (as Linux purges its out queue): queued and unacknowledged
      // messages alike are reported send-failed, then the restart event.
      failAllData(ctx, a.id, t);
      const fresh = restartTcb(t, params, ctx.config, ctx.now);
      a.peerAddresses = fresh.paths.map((p) => p.address);
      a.fsm = { state: 'established', tcb: fresh };
      fresh.control.push({ chunk: { kind: 'cookie-ack' }, destination: source });
      ctx.event(a.id, { type: 'restart', outboundStreams: fresh.outboundStreams, inboundStreams: fresh.inboundStreams });
      return true;
    }
    case 'B': {
      // Collision: enter (or stay in) ESTABLISHED with the peer's tag from the cookie.
      switch (s.state) {
        case 'cookie-wait': {
          const fresh = createTcb(params, ctx.config, ctx.now);
          a.peerAddresses = fresh.paths.map((p) => p.address);
          drainPending(ctx, a, fresh, s.pendingSends);
          fresh.control.push({ chunk: { kind: 'cookie-ack' }, destination: source });
          enterEstablished(ctx, a, fresh, s.shutdownRequested);
          return true;
        }
        case 'cookie-echoed':
          adoptPeer(s.tcb, c, params);
          s.tcb.control.push({ chunk: { kind: 'cookie-ack' }, destination: source });
          enterEstablished(ctx, a, s.tcb, s.shutdownRequested);
          return true;
        case 'established':
        case 'shutdown-pending':
        case 'shutdown-sent':
        case 'shutdown-received':
        case 'shutdown-ack-sent':
          s.tcb.peerTag = c.peerTag;
          s.tcb.control.push({ chunk: { kind: 'cookie-ack' }, destination: source });
          return true;
      }
      return false;
    }
    case 'D': {
      const t = tcb!;
      t.control.push({ chunk: { kind: 'cookie-ack' }, destination: source });
      if (s.state === 'cookie-echoed') enterEstablished(ctx, a, t, s.shutdownRequested);
      return true;
    }
  }
}

/**
 * Case B in COOKIE-ECHOED: the peer's side of the TCB comes from its INIT, as
 * the cookie carries it, its extensions and AUTH key vector included (the
 * peer's INIT ACK may have carried another RANDOM than its INIT).
 */
function adoptPeer(tcb: Tcb, c: CookieContents, params: TcbParams): void {
  tcb.peerTag = c.peerTag;
  tcb.peerExtensions = params.peerExtensions.slice();
  tcb.peerAdaptation = params.peerAdaptation;
  tcb.auth = params.auth;
  tcb.asconf = params.asconf ? createAsconfState(tcb.localInitialTsn, c.peerInitialTsn) : undefined;
  if (tcb.peerInitialTsn !== c.peerInitialTsn && !tcb.tracker.firstDataSeen) {
    tcb.peerInitialTsn = c.peerInitialTsn;
    tcb.tracker = createDataTracker(c.peerInitialTsn);
    tcb.reasm = createReassembly(tcb.inboundStreams);
  }
}
