/**
 * Building and resetting the TCB (RFC 9260 §14.2), and small accessors every
 * procedure uses.
 */
import type { CookieContents } from './cookie.js';
import { createAsconfState } from '../asconf/state.js';
import type { AuthState } from '../auth/state.js';
import type { ProtocolConfig } from '../config.js';
import type { Millis } from '../env.js';
import { createPathState, resetPathForRestart, type PathState } from '../path/state.js';
import { createAckHold } from '../rx/ack-hold.js';
import { createDataTracker } from '../rx/data-tracker.js';
import { createReassembly } from '../rx/reassembly.js';
import { createRetransmissionQueue } from '../tx/retransmission-queue.js';
import { createSendQueue } from '../tx/send-queue.js';
import { negotiateExtensions } from './extensions.js';
import { createCounters, type Association, type AssociationState, type Tcb } from './types.js';

export interface TcbParams {
  readonly localTag: number;
  readonly peerTag: number;
  readonly localInitialTsn: number;
  readonly peerInitialTsn: number;
  readonly peerARwnd: number;
  readonly outboundStreams: number;
  readonly inboundStreams: number;
  readonly peerForwardTsn: boolean;
  readonly peerAddresses: readonly string[];
  /** Addresses confirmed from the start (§5.4): where the handshake ran. */
  readonly confirmed: readonly string[];
  /** Chunk types of the peer's Supported Extensions (RFC 5061 §4.2.7). */
  readonly peerExtensions: readonly number[];
  readonly peerAdaptation: number | undefined;
  /** RFC 4895 state when AUTH was negotiated. */
  readonly auth: AuthState | undefined;
  /** RFC 5061 ADD-IP was negotiated. */
  readonly asconf: boolean;
}

export function createTcb(p: TcbParams, config: ProtocolConfig, now: Millis): Tcb {
  const paths: PathState[] = p.peerAddresses.map((address) =>
    createPathState({ address, mtu: config.pathMtu, aRwnd: p.peerARwnd, confirmed: p.confirmed.includes(address), now }, config),
  );
  return {
    localTag: p.localTag,
    peerTag: p.peerTag,
    localInitialTsn: p.localInitialTsn,
    peerInitialTsn: p.peerInitialTsn,
    outboundStreams: p.outboundStreams,
    inboundStreams: p.inboundStreams,
    peerForwardTsn: p.peerForwardTsn,
    peerExtensions: p.peerExtensions.slice(),
    peerAdaptation: p.peerAdaptation,
    auth: p.auth,
    asconf: p.asconf ? createAsconfState(p.localInitialTsn, p.peerInitialTsn) : undefined,
    paths,
    primary: p.confirmed[0] ?? p.peerAddresses[0] ?? '',
    lastDataDestination: undefined,
    rq: createRetransmissionQueue(p.localInitialTsn, p.peerARwnd, {
      // RFC 3758 §3.3.1: PR-SCTP only when both sides advertised it.
      forwardTsnSupported: p.peerForwardTsn && config.prSctp,
      maxOutstandingChunks: config.maxOutstandingChunks,
    }),
    sq: createSendQueue(p.outboundStreams, config),
    tracker: createDataTracker(p.peerInitialTsn),
    reasm: createReassembly(p.inboundStreams),
    lastAdvertisedRwnd: config.receiveWindow,
    heldBytes: 0,
    ...(config.holdAcks && { hold: createAckHold(createDataTracker(p.peerInitialTsn), config.holdLimit) }),
    errorCount: 0,
    t3: new Map(),
    delayedSackAt: undefined,
    sackNow: false,
    sackDestination: undefined,
    zeroWindowSince: undefined,
    control: [],
    dryReported: true,
    t3BurstLimit: false,
    counters: createCounters(),
  };
}

/**
 * RFC 9260 §5.2.4 case A (peer restart): new tags and TSNs, congestion state
 * back to initial values, queues empty. Paths that still exist keep their
 * confirmation and counters (resetPathForRestart).
 */
export function restartTcb(old: Tcb, p: TcbParams, config: ProtocolConfig, now: Millis): Tcb {
  const fresh = createTcb(p, config, now);
  fresh.paths = fresh.paths.map((np) => {
    const op = old.paths.find((x) => x.address === np.address);
    if (!op) return np;
    resetPathForRestart(op, p.peerARwnd, config);
    return op;
  });
  fresh.primary = old.paths.some((x) => x.address === old.primary) && p.peerAddresses.includes(old.primary) ? old.primary : fresh.primary;
  fresh.counters = old.counters;
  // Hold tokens of the old incarnation must never name a new message.
  if (fresh.hold && old.hold) fresh.hold.nextToken = old.hold.nextToken;
  return fresh;
}

export function tcbOf(s: AssociationState): Tcb | undefined {
  switch (s.state) {
    case 'cookie-echoed':
    case 'established':
    case 'shutdown-pending':
    case 'shutdown-sent':
    case 'shutdown-received':
    case 'shutdown-ack-sent':
      return s.tcb;
    case 'cookie-wait':
    case 'closed':
      return undefined;
  }
}

/** Our verification tag in any state that has one. */
export function localTagOf(a: Association): number | undefined {
  const s = a.fsm;
  if (s.state === 'cookie-wait') return s.init.initiateTag;
  return tcbOf(s)?.localTag;
}

export function pathOf(tcb: Tcb, address: string): PathState | undefined {
  return tcb.paths.find((p) => p.address === address);
}

/**
 * TCB parameters from a valid cookie that arrived from `source`. The source of
 * the COOKIE ECHO is a peer address (it may be new to the INIT's list) and is
 * confirmed (RFC 9260 §5.4). The extensions are negotiated again from the
 * cookie's key vectors and Supported Extensions, so the AUTH keys of the
 * association come from the cookie (RFC 4895 §6.3, COOKIE ECHO bundled with AUTH).
 */
export function tcbParamsFromCookie(c: CookieContents, source: string, config: ProtocolConfig, hasSha1: boolean): TcbParams {
  const ext = negotiateExtensions(config, hasSha1, c.localAuth, c.peerAuth, c.peerExtensions);
  return {
    localTag: c.localTag,
    peerTag: c.peerTag,
    localInitialTsn: c.localInitialTsn,
    peerInitialTsn: c.peerInitialTsn,
    peerARwnd: c.peerARwnd,
    outboundStreams: c.outboundStreams,
    inboundStreams: c.inboundStreams,
    peerForwardTsn: c.peerForwardTsn,
    peerAddresses: c.peerAddresses.includes(source) ? c.peerAddresses.slice() : [source, ...c.peerAddresses],
    confirmed: [source],
    peerExtensions: c.peerExtensions,
    peerAdaptation: c.peerAdaptation,
    auth: ext.auth,
    asconf: ext.asconf,
  };
}
