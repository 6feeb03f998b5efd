/**
 * Association initialization (RFC 9260 §5.1): INIT / INIT ACK building and
 * validation (§3.3.2, §3.3.3, §5.1.2, §3.2.1 unknown parameters), the stateless
 * answer to an INIT, and the initiator's side (COOKIE-WAIT → COOKIE-ECHOED →
 * ESTABLISHED) with T1-init / T1-cookie (§5.1.6) and the Stale Cookie retry
 * (§5.2.6).
 */
import { encodeParam, encodedParamLength, paramType } from '../../wire/param.js';
import { unrecognizedParamAction } from '../../wire/registry.js';
import type { Chunk, ErrorCause, InitAckChunk, InitChunk, Param } from '../../wire/types.js';
import { authOffered, authParamsOf, checkPeerAuthParams, keyVector } from '../auth/params.js';
import type { ProtocolConfig } from '../config.js';
import { onRttMeasurement } from '../path/rto.js';
import { enqueue } from '../tx/send-queue.js';
import type { AssocContext } from './context.js';
import type { CookieContents } from './cookie.js';
import { emitPacket } from './transmit.js';
import { failAllData } from './events.js';
import { extensionParams, negotiateExtensions } from './extensions.js';
import { createTcb, pathOf } from './tcb.js';
import type { Association, AssociationState, PendingSend, Tcb } from './types.js';

// ------------------------------------------------------------ INIT / INIT ACK

export interface InitInfo {
  /** The source of the INIT / INIT ACK first, then the listed addresses (§5.1.2), deduplicated. */
  readonly peerAddresses: string[];
  readonly forwardTsn: boolean;
  readonly cookie: Uint8Array | undefined;
  /** Cookie Preservative increment asked for, ms (§5.1.3). */
  readonly preservative: number;
  /** Unrecognized parameters to report, complete TLVs (§3.2.2). */
  readonly unrecognized: Uint8Array[];
  /** The peer's RFC 4895 key vector (RANDOM ‖ CHUNKS ‖ HMAC-ALGO); empty when it does not offer AUTH or we do not do AUTH. */
  readonly authVector: Uint8Array;
  /** Chunk types of the peer's Supported Extensions (RFC 5061 §4.2.7). */
  readonly extensions: readonly number[];
  /** The peer's Adaptation Layer Indication (RFC 5061 §4.2.5). */
  readonly adaptation: number | undefined;
}

/** What of the extensions this endpoint implements right now (the AUTH parameters are unrecognized without it). */
export interface InitFeatures {
  readonly auth: boolean;
}

/** RFC 9260 §6: the least initial a_rwnd an INIT or INIT ACK may carry. */
export const MIN_INITIAL_RWND = 1500;

export type InitCheck = { readonly ok: true; readonly info: InitInfo } | { readonly ok: false; readonly cause: ErrorCause };

function paramBytes(p: Param): Uint8Array {
  const out = new Uint8Array(encodedParamLength(p));
  const end = encodeParam(p, out, 0);
  const len = ((out[2]! << 8) | out[3]!) || end;
  return out.subarray(0, Math.min(len, end));
}

/**
 * Validates an INIT or INIT ACK (RFC 9260 §3.3.2, §3.3.3, §5.1.2) and
 * collects what the association needs from its parameters.
 */
export function checkInitParams(chunk: InitChunk | InitAckChunk, source: string, localAddresses: readonly string[], features: InitFeatures = { auth: false }): InitCheck {
  // Initiate Tag 0: RFC 4960 §3.3.2 said "treat it as an error and close the
  // association by transmitting an ABORT"; RFC 9260 §3.3.2 now says "MUST
  // silently discard the packet". We answer ABORT (Invalid Mandatory
  // Parameter) as RFC 4960, ETSI TS 102 369 and Linux do and as the project
  // issue asks; switching to a silent discard is one line here. For an INIT
  // ACK, RFC 9260 §3.3.3 lets the receiver send an ABORT. OS and MIS MUST NOT be 0.
  if (chunk.initiateTag === 0 || chunk.outboundStreams === 0 || chunk.inboundStreams === 0) {
    return { ok: false, cause: { kind: 'invalid-mandatory-parameter' } };
  }
  // §6: "An SCTP receiver MUST be able to receive a minimum of 1500 bytes in
  // one SCTP packet. This means that an SCTP endpoint MUST NOT indicate less
  // than 1500 bytes in its initial a_rwnd sent in the INIT or INIT ACK." A
  // smaller a_rwnd is an invalid mandatory parameter (as FreeBSD / usrsctp
  // refuse it, and the ETSI / networktest conformance cases expect).
  if (chunk.aRwnd < MIN_INITIAL_RWND) return { ok: false, cause: { kind: 'invalid-mandatory-parameter' } };
  const v4 = localAddresses.some((a) => !a.includes(':'));
  const v6 = localAddresses.some((a) => a.includes(':'));
  const addresses: string[] = [source];
  let forwardTsn = false;
  let cookie: Uint8Array | undefined;
  let preservative = 0;
  const unrecognized: Uint8Array[] = [];
  let extensions: readonly number[] = [];
  let adaptation: number | undefined;
  const authParams: Param[] = [];
  for (const p of chunk.params) {
    let stop = false;
    switch (p.kind) {
      case 'random':
      case 'chunk-list':
      case 'hmac-algo':
        // RFC 4895 §3: ours to read only while we do AUTH; otherwise unrecognized (below).
        if (features.auth) {
          authParams.push(p);
          break;
        }
        stop = reportUnrecognized(p, unrecognized);
        break;
      case 'supported-extensions':
        extensions = p.chunkTypes;
        break;
      case 'adaptation-layer-indication':
        adaptation = p.indication;
        break;
      case 'ipv4-address':
        if (v4 && !addresses.includes(p.address)) addresses.push(p.address);
        break;
      case 'ipv6-address':
        if (v6 && !addresses.includes(p.address)) addresses.push(p.address);
        break;
      case 'state-cookie':
        if (chunk.kind === 'init-ack') cookie = p.cookie;
        break;
      case 'cookie-preservative':
        preservative = p.lifeSpanIncrement;
        break;
      case 'host-name-address':
        // §5.1.2 B: host names are deprecated; ABORT with Unresolvable Address.
        return { ok: false, cause: { kind: 'unresolvable-address', address: paramBytes(p) } };
      case 'forward-tsn-supported':
        forwardTsn = true;
        break;
      case 'supported-address-types':
      case 'unrecognized-parameter':
        break;
      case 'heartbeat-info':
      case 'ecn-capable':
      case 'padding':
      case 'add-ip-address':
      case 'delete-ip-address':
      case 'set-primary-address':
      case 'error-cause-indication':
      case 'success-indication':
      case 'outgoing-ssn-reset-request':
      case 'incoming-ssn-reset-request':
      case 'ssn-tsn-reset-request':
      case 'reconfig-response':
      case 'add-outgoing-streams-request':
      case 'add-incoming-streams-request':
      case 'unknown':
        // Extensions we do not implement, and ASCONF parameters out of place, are unrecognized.
        stop = reportUnrecognized(p, unrecognized);
        break;
    }
    if (stop) break;
  }
  if (chunk.kind === 'init-ack' && cookie === undefined) {
    // §3.3.3: the State Cookie is mandatory in INIT ACK.
    return { ok: false, cause: { kind: 'missing-mandatory-parameter', missingTypes: [7] } };
  }
  const auth = checkPeerAuthParams(authParams);
  if (!auth.ok) return { ok: false, cause: auth.cause };
  return { ok: true, info: { peerAddresses: addresses, forwardTsn, cookie, preservative, unrecognized, authVector: auth.keyVector, extensions, adaptation } };
}

/** §3.2.1: the upper two bits of an unrecognized parameter's type; true when processing stops. */
function reportUnrecognized(p: Param, unrecognized: Uint8Array[]): boolean {
  const action = unrecognizedParamAction(paramType(p));
  if (action === 'stop-and-report' || action === 'skip-and-report') unrecognized.push(paramBytes(p));
  return action === 'stop' || action === 'stop-and-report';
}

function addressParams(localAddresses: readonly string[]): Param[] {
  // §3.3.2: with a single address the source address of the packet suffices.
  if (localAddresses.length <= 1) return [];
  return localAddresses.map((address) => (address.includes(':') ? { kind: 'ipv6-address', address } : { kind: 'ipv4-address', address }));
}

export function buildInit(
  config: ProtocolConfig,
  localAddresses: readonly string[],
  localTag: number,
  initialTsn: number,
  outboundStreams: number,
  preservative?: number,
  extensions: readonly Param[] = [],
): InitChunk {
  // RFC 3758 §3.3.1: Forward-TSN-Supported only when PR-SCTP is enabled.
  const params: Param[] = [...addressParams(localAddresses), ...(config.prSctp ? [{ kind: 'forward-tsn-supported' } as const] : []), ...extensions];
  if (preservative !== undefined) params.push({ kind: 'cookie-preservative', lifeSpanIncrement: preservative });
  return {
    kind: 'init',
    initiateTag: localTag,
    aRwnd: config.receiveWindow,
    outboundStreams,
    inboundStreams: config.maxInboundStreams,
    initialTsn,
    params,
  };
}

export interface InitAnswer {
  readonly localTag: number;
  readonly localInitialTsn: number;
  readonly localTieTag: number;
  readonly peerTieTag: number;
  /** Our OS as offered in our own INIT (§5.2.1: the same parameters), else the config's. */
  readonly outboundStreams: number;
}

/**
 * The INIT ACK answering `init` (RFC 9260 §5.1 B), with a State Cookie that
 * holds the TCB to be (§5.1.3). Unknown parameters of the INIT reported per
 * §3.2.2. Lifespan: Valid.Cookie.Life plus the peer's Cookie Preservative,
 * granted up to one more Valid.Cookie.Life.
 */
export function buildInitAck(
  ctx: AssocContext,
  init: InitChunk,
  info: InitInfo,
  answer: InitAnswer,
  ports: { readonly localPort: number; readonly peerPort: number },
  localAddresses: readonly string[],
  authParams?: readonly Param[],
): InitAckChunk {
  const config = ctx.config;
  const extensions = extensionParams(config, ctx.hasSha1 ?? false, ctx.rng, authParams);
  const contents: CookieContents = {
    createdAt: ctx.now,
    lifespan: config.validCookieLife + Math.min(Math.max(0, info.preservative), config.validCookieLife),
    localTag: answer.localTag,
    localInitialTsn: answer.localInitialTsn,
    peerTag: init.initiateTag,
    peerInitialTsn: init.initialTsn,
    peerARwnd: init.aRwnd,
    // §5.1.1: streams are the minimum of what each side offers.
    outboundStreams: Math.min(answer.outboundStreams, init.inboundStreams),
    inboundStreams: Math.min(init.outboundStreams, config.maxInboundStreams),
    localTieTag: answer.localTieTag,
    peerTieTag: answer.peerTieTag,
    peerForwardTsn: info.forwardTsn,
    localPort: ports.localPort,
    peerPort: ports.peerPort,
    peerAddresses: info.peerAddresses,
    localAddresses,
    localAuth: keyVector(extensions),
    peerAuth: info.authVector,
    peerExtensions: info.extensions,
    peerAdaptation: info.adaptation,
  };
  const params: Param[] = [
    { kind: 'state-cookie', cookie: ctx.mintCookie(contents) },
    ...addressParams(localAddresses),
    ...(config.prSctp ? [{ kind: 'forward-tsn-supported' } as const] : []),
    ...extensions,
    ...info.unrecognized.map((param): Param => ({ kind: 'unrecognized-parameter', param })),
  ];
  return {
    kind: 'init-ack',
    initiateTag: answer.localTag,
    aRwnd: config.receiveWindow,
    outboundStreams: Math.min(answer.outboundStreams, init.inboundStreams),
    inboundStreams: config.maxInboundStreams,
    initialTsn: answer.localInitialTsn,
    params,
  };
}

// ------------------------------------------------------------ initiator side

export function sendInit(ctx: AssocContext, a: Association, init: InitChunk, destination: string): void {
  emitPacket(ctx, a, destination, 0, [init]);
}

/** Moves the messages accepted in COOKIE-WAIT into the send queue, keeping their ids. */
export function drainPending(ctx: AssocContext, a: Association, tcb: Tcb, pending: readonly PendingSend[]): void {
  for (const p of pending) {
    tcb.sq.nextMessageId = p.messageId;
    const lifetime = p.lifetime !== undefined ? Math.max(0, p.lifetime - (ctx.now - p.queuedAt)) : undefined;
    const r = enqueue(
      tcb.sq,
      {
        streamId: p.streamId,
        ppid: p.ppid,
        data: p.data,
        unordered: p.unordered,
        ...(lifetime !== undefined ? { lifetime } : {}),
        ...(p.maxRetransmits !== undefined ? { maxRetransmits: p.maxRetransmits } : {}),
      },
      ctx.now,
    );
    if (!r.ok) {
      ctx.event(a.id, { type: 'send-failed', messageId: p.messageId, streamId: p.streamId, ppid: p.ppid, unordered: p.unordered, data: p.data, reason: 'invalid-stream', sent: false });
    }
  }
  tcb.sq.nextMessageId = Math.max(tcb.sq.nextMessageId, ...pending.map((p) => p.messageId + 1));
  if (pending.length > 0) tcb.dryReported = false;
}

/** The ABORT that refuses an INIT / INIT ACK: tag of the offending chunk (§5.1, §8.4 rule 3). */
export function abortFor(cause: ErrorCause): Chunk {
  return { kind: 'abort', tBit: false, causes: [cause] };
}

/** RFC 9260 §5.1 C: INIT ACK in COOKIE-WAIT. */
export function onInitAck(ctx: AssocContext, a: Association, s: Extract<AssociationState, { state: 'cookie-wait' }>, ack: InitAckChunk, source: string): void {
  const check = checkInitParams(ack, source, a.localAddresses, initFeatures(ctx));
  if (!check.ok) {
    // §5.1.2 / §3.3.3: ABORT and report the failure to the ULP. With an
    // Initiate Tag of 0 ("the receiver MAY send an ABORT for debugging
    // purpose", §3.3.3) there is no peer tag: the packet's own tag (ours) is
    // reflected with the T bit set (§3.3.7).
    if (ack.initiateTag !== 0) emitPacket(ctx, a, source, ack.initiateTag, [abortFor(check.cause)]);
    else emitPacket(ctx, a, source, s.init.initiateTag, [{ kind: 'abort', tBit: true, causes: [check.cause] }]);
    ctx.event(a.id, { type: 'cannot-start', reason: 'invalid-init-ack', causes: [check.cause] });
    a.fsm = { state: 'closed' };
    return;
  }
  const info = check.info;
  const ext = negotiateExtensions(ctx.config, ctx.hasSha1 ?? false, keyVector(authParamsOf(s.init.params)), info.authVector, info.extensions);
  const tcb = createTcb(
    {
      localTag: s.init.initiateTag,
      peerTag: ack.initiateTag,
      localInitialTsn: s.init.initialTsn,
      peerInitialTsn: ack.initialTsn,
      peerARwnd: ack.aRwnd,
      outboundStreams: Math.min(s.init.outboundStreams, ack.inboundStreams),
      inboundStreams: Math.min(ack.outboundStreams, s.init.inboundStreams),
      peerForwardTsn: info.forwardTsn,
      peerAddresses: info.peerAddresses,
      // §5.4: the COOKIE ECHO goes to the INIT ACK's source, which the COOKIE ACK then confirms.
      confirmed: [source],
      peerExtensions: info.extensions,
      peerAdaptation: info.adaptation,
      auth: ext.auth,
      asconf: ext.asconf,
    },
    ctx.config,
    ctx.now,
  );
  a.peerAddresses = info.peerAddresses.slice();
  drainPending(ctx, a, tcb, s.pendingSends);
  const unrecognizedParams = info.unrecognized.length > 0 ? concatPadded(info.unrecognized) : undefined;
  const rto = pathOf(tcb, source)?.rto ?? ctx.config.rtoInitial;
  a.fsm = {
    state: 'cookie-echoed',
    tcb,
    cookie: info.cookie!,
    unrecognizedParams,
    t1: { at: ctx.now + rto, retransmits: 0, rto },
    cookieDestination: source,
    cookieSentAt: ctx.now,
    init: s.init,
    shutdownRequested: s.shutdownRequested,
  };
  sendCookieEcho(ctx, a, a.fsm);
}

export function sendCookieEcho(ctx: AssocContext, a: Association, s: Extract<AssociationState, { state: 'cookie-echoed' }>): void {
  const chunks: Chunk[] = [{ kind: 'cookie-echo', cookie: s.cookie }];
  // §3.2.2: unrecognized INIT ACK parameters are reported in an ERROR bundled after the COOKIE ECHO.
  if (s.unrecognizedParams) chunks.push({ kind: 'error', causes: [{ kind: 'unrecognized-parameters', params: s.unrecognizedParams }] });
  emitPacket(ctx, a, s.cookieDestination, s.tcb.peerTag, chunks, s.tcb);
}

/** §5.1 E: COOKIE ACK in COOKIE-ECHOED. */
export function onCookieAck(ctx: AssocContext, a: Association, s: Extract<AssociationState, { state: 'cookie-echoed' }>): void {
  const path = pathOf(s.tcb, s.cookieDestination);
  // Karn: only an unretransmitted COOKIE ECHO gives an unambiguous RTT.
  if (path && s.t1.retransmits === 0) onRttMeasurement(path, ctx.now - s.cookieSentAt, ctx.config);
  enterEstablished(ctx, a, s.tcb, s.shutdownRequested);
}

export function enterEstablished(ctx: AssocContext, a: Association, tcb: Tcb, shutdownRequested: boolean): void {
  a.fsm = shutdownRequested ? { state: 'shutdown-pending', tcb } : { state: 'established', tcb };
  a.establishedAt = ctx.now;
  ctx.event(a.id, { type: 'communication-up', outboundStreams: tcb.outboundStreams, inboundStreams: tcb.inboundStreams, peerAddresses: tcb.paths.map((p) => p.address) });
  // RFC 6458 §6.1.6: SCTP_ADAPTATION_INDICATION follows the communication up.
  if (tcb.peerAdaptation !== undefined) ctx.event(a.id, { type: 'adaptation-indication', indication: tcb.peerAdaptation });
}

/** The extensions this endpoint reads in an INIT / INIT ACK now. */
export function initFeatures(ctx: Pick<AssocContext, 'config' | 'hasSha1'>): InitFeatures {
  return { auth: authOffered(ctx.config, ctx.hasSha1 ?? false) };
}

/** T1-init or T1-cookie expired (§5.1.6): retransmit with backoff, or give up after Max.Init.Retransmits. */
export function onT1Expiry(ctx: AssocContext, a: Association): void {
  const s = a.fsm;
  const config = ctx.config;
  switch (s.state) {
    case 'cookie-wait': {
      if (s.t1.retransmits >= config.maxInitRetransmits) {
        ctx.event(a.id, { type: 'cannot-start', reason: 'init-timeout', causes: [] });
        failPendingLocal(ctx, a, s.pendingSends);
        a.fsm = { state: 'closed' };
        return;
      }
      s.t1.retransmits++;
      s.t1.rto = Math.min(s.t1.rto * 2, config.rtoMax);
      s.t1.at = ctx.now + s.t1.rto;
      // §5.1.6: the INIT may go to another of the peer's addresses.
      s.initDestination = (s.initDestination + 1) % Math.max(1, a.peerAddresses.length);
      sendInit(ctx, a, s.init, a.peerAddresses[s.initDestination] ?? a.peerAddresses[0]!);
      return;
    }
    case 'cookie-echoed': {
      s.tcb.counters.t1Expireds++;
      if (s.t1.retransmits >= config.maxInitRetransmits) {
        ctx.event(a.id, { type: 'cannot-start', reason: 'cookie-timeout', causes: [] });
        failAllData(ctx, a.id, s.tcb);
        a.fsm = { state: 'closed' };
        return;
      }
      s.t1.retransmits++;
      s.t1.rto = Math.min(s.t1.rto * 2, config.rtoMax);
      s.t1.at = ctx.now + s.t1.rto;
      // §6.4: a chunk that timed out goes to another of the peer's addresses when it has several
      // (the one the INIT ACK came from may be the host that just failed).
      const paths = s.tcb.paths;
      if (paths.length > 1) {
        const i = paths.findIndex((p) => p.address === s.cookieDestination);
        s.cookieDestination = paths[(i + 1) % paths.length]!.address;
      }
      sendCookieEcho(ctx, a, s);
      return;
    }
    case 'established':
    case 'shutdown-pending':
    case 'shutdown-sent':
    case 'shutdown-received':
    case 'shutdown-ack-sent':
    case 'closed':
      return;
  }
}

function failPendingLocal(ctx: AssocContext, a: Association, pending: readonly PendingSend[]): void {
  for (const p of pending) {
    ctx.event(a.id, { type: 'send-failed', messageId: p.messageId, streamId: p.streamId, ppid: p.ppid, unordered: p.unordered, data: p.data, reason: 'association-closed', sent: false });
  }
}

/**
 * §5.2.6: ERROR with Stale Cookie in COOKIE-ECHOED. We take option 1: back to
 * COOKIE-WAIT with a new INIT carrying a Cookie Preservative of the measured
 * round trip plus 1 s (the RFC's bound), counted against Max.Init.Retransmits.
 */
export function onStaleCookie(ctx: AssocContext, a: Association, s: Extract<AssociationState, { state: 'cookie-echoed' }>): void {
  if (s.t1.retransmits >= ctx.config.maxInitRetransmits) {
    ctx.event(a.id, { type: 'cannot-start', reason: 'cookie-timeout', causes: [{ kind: 'stale-cookie', staleness: 0 }] });
    failAllData(ctx, a.id, s.tcb);
    a.fsm = { state: 'closed' };
    return;
  }
  // The TCB is discarded (§5.2.6); its queued messages go back to the ULP.
  failAllData(ctx, a.id, s.tcb);
  const rtt = Math.max(0, ctx.now - s.cookieSentAt);
  const init: InitChunk = { ...s.init, params: [...s.init.params.filter((p) => p.kind !== 'cookie-preservative'), { kind: 'cookie-preservative', lifeSpanIncrement: Math.ceil(rtt + 1000) }] };
  const rto = ctx.config.rtoInitial;
  const dest = s.cookieDestination;
  a.fsm = {
    state: 'cookie-wait',
    init,
    t1: { at: ctx.now + rto, retransmits: s.t1.retransmits + 1, rto },
    initDestination: Math.max(0, a.peerAddresses.indexOf(dest)),
    pendingSends: [],
    shutdownRequested: s.shutdownRequested,
  };
  sendInit(ctx, a, init, dest);
}

/** Parameter TLVs back to back, each padded to 4 bytes (RFC 9260 §3.2.1). */
function concatPadded(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += (p.length + 3) & ~3;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += (p.length + 3) & ~3;
  }
  return out;
}
