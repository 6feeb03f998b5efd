/**
 * What the control socket answers about associations, as plain JSON: one row
 * per association (`hasctp assocs`) and the detail of one (`hasctp assoc ID`),
 * built from the core snapshot (the same data replication ships). Names of
 * counters follow SCTP-MIB (RFC 3873); the per-path table follows Linux
 * /proc/net/sctp/remaddr. Times are milliseconds; ages are relative to the
 * core clock at the time of the query.
 */
import { summarize } from '../core/association/snapshot.js';
import { tcbOf } from '../core/association/tcb.js';
import type { Association as CoreAssociation, AssociationCounters } from '../core/association/types.js';
import type { EndpointCounters } from '../core/endpoint.js';
import type { PathStatus } from '../core/path/state.js';

/** How the process protects its associations: a cluster node's replication, or none (`hasctp server`). */
export interface ReplicationView {
  /** `none`: not replicated at all (a plain server). */
  readonly state: 'in-sync' | 'joining' | 'unprotected' | 'none';
  /** Records the standby has not acknowledged yet. */
  readonly lagRecords: number;
  /** The node's role (absent on a server). */
  readonly role?: string;
}

export type PathStateName = 'ACTIVE' | 'PF' | 'INACTIVE' | 'UNCONFIRMED';

const PATH_STATE: Record<PathStatus, PathStateName> = { active: 'ACTIVE', pf: 'PF', inactive: 'INACTIVE', unconfirmed: 'UNCONFIRMED' };

export interface AssocRow {
  readonly id: number;
  readonly state: string;
  readonly localPort: number;
  readonly peerPort: number;
  readonly localAddresses: readonly string[];
  readonly peerAddresses: readonly string[];
  readonly primary: string | undefined;
  readonly inStreams: number | undefined;
  readonly outStreams: number | undefined;
  /** Bytes sent and not cumulatively acknowledged (outstanding DATA). */
  readonly unackedBytes: number;
  readonly peerRwnd: number | undefined;
  /** On the primary path. */
  readonly cwnd: number | undefined;
  readonly srtt: number | undefined;
  readonly rto: number | undefined;
  /** Every path's state, for the one-line view and `watch`. */
  readonly paths: readonly { readonly address: string; readonly state: PathStateName }[];
  readonly replication: ReplicationView;
}

export interface PathView {
  readonly address: string;
  readonly state: PathStateName;
  readonly primary: boolean;
  readonly cwnd: number;
  readonly ssthresh: number;
  readonly srtt: number | undefined;
  readonly rttvar: number | undefined;
  readonly rto: number;
  /** RFC 9260 §8.2 error counter. */
  readonly errorCount: number;
  readonly flightSize: number;
  readonly pmtu: number;
  /** Since the last HEARTBEAT sent on this path (undefined: none yet). */
  readonly heartbeatAgeMs: number | undefined;
  /** Since the last packet from this address. */
  readonly lastHeardAgeMs: number | undefined;
  /** sctpAssocRemAddrRtx. */
  readonly rtxChunks: number;
  readonly heartbeatsSent: number;
  readonly heartbeatsAcked: number;
  readonly t3Expiries: number;
  /** sctpAssocRemAddrStartTime, as an age. */
  readonly ageMs: number;
}

export interface StreamView {
  readonly stream: number;
  /** Next SSN to send on this outbound stream (ordered messages). */
  readonly outNextSsn: number | undefined;
  /** Messages and bytes waiting in the send queue on this stream. */
  readonly outQueuedMessages: number;
  readonly outQueuedBytes: number;
  /** Next SSN expected on this inbound stream. */
  readonly inNextSsn: number | undefined;
  /** Ordered messages held for reassembly or ordering on this inbound stream. */
  readonly inPendingMessages: number;
}

/** SCTP-MIB (RFC 3873) sctpAssocTable counters and the per-association chunk counters. */
export interface AssocMib {
  readonly sctpAssocT1expireds: number;
  readonly sctpAssocT2expireds: number;
  readonly sctpAssocRtxChunks: number;
  readonly sctpAssocStartTime: number | undefined;
  readonly sctpOutCtrlChunks: number;
  readonly sctpOutOrderChunks: number;
  readonly sctpOutUnorderChunks: number;
  readonly sctpInCtrlChunks: number;
  readonly sctpInOrderChunks: number;
  readonly sctpInUnorderChunks: number;
  readonly sctpReasmUsrMsgs: number;
  readonly sctpOutSCTPPacks: number;
  readonly sctpInSCTPPacks: number;
  /** Not in the MIB. */
  readonly t3Expireds: number;
  readonly inDuplicateChunks: number;
  readonly sacksSent: number;
  readonly sacksReceived: number;
}

export interface AssocDetail extends AssocRow {
  readonly localTag: number | undefined;
  readonly peerTag: number | undefined;
  readonly nextTsn: number | undefined;
  readonly cumulativeTsnAckSent: number | undefined;
  readonly cumulativeTsnAckReceived: number | undefined;
  readonly outstandingChunks: number;
  readonly flightSize: number;
  readonly sendQueueBytes: number;
  readonly receiveBufferBytes: number;
  /** RFC 9260 §8.1 association error counter. */
  readonly errorCount: number;
  readonly upForMs: number | undefined;
  readonly pathTable: readonly PathView[];
  readonly streams: readonly StreamView[];
  readonly extensions: {
    readonly prSctp: boolean;
    readonly interleaving: boolean;
    readonly auth: { readonly hmac: string; readonly keyId: number } | undefined;
    readonly addIp: boolean;
    readonly asconfPending: number;
    readonly peerAdaptation: number | undefined;
    readonly peerSupportedChunks: readonly number[];
  };
  readonly mib: AssocMib;
}

export function mibOf(c: AssociationCounters | undefined, startTime: number | undefined): AssocMib {
  const z = c ?? ({} as Partial<AssociationCounters>);
  return {
    sctpAssocT1expireds: z.t1Expireds ?? 0,
    sctpAssocT2expireds: z.t2Expireds ?? 0,
    sctpAssocRtxChunks: z.rtxChunks ?? 0,
    sctpAssocStartTime: startTime,
    sctpOutCtrlChunks: z.outControlChunks ?? 0,
    sctpOutOrderChunks: z.outOrderChunks ?? 0,
    sctpOutUnorderChunks: z.outUnorderChunks ?? 0,
    sctpInCtrlChunks: z.inControlChunks ?? 0,
    sctpInOrderChunks: z.inOrderChunks ?? 0,
    sctpInUnorderChunks: z.inUnorderChunks ?? 0,
    sctpReasmUsrMsgs: z.deliveredMessages ?? 0,
    sctpOutSCTPPacks: z.outPackets ?? 0,
    sctpInSCTPPacks: z.inPackets ?? 0,
    t3Expireds: z.t3Expireds ?? 0,
    inDuplicateChunks: z.inDuplicateChunks ?? 0,
    sacksSent: z.sacksSent ?? 0,
    sacksReceived: z.sacksReceived ?? 0,
  };
}

export function assocRow(a: CoreAssociation, replication: ReplicationView): AssocRow {
  const tcb = tcbOf(a.fsm);
  const primary = tcb?.paths.find((p) => p.address === tcb.primary);
  let unacked = 0;
  if (tcb) for (const c of tcb.rq.chunks) if (c.state !== 'acked' && c.state !== 'abandoned') unacked += c.userData.length;
  return {
    id: a.id,
    state: a.fsm.state,
    localPort: a.localPort,
    peerPort: a.peerPort,
    localAddresses: a.localAddresses.slice(),
    peerAddresses: tcb ? tcb.paths.map((p) => p.address) : a.peerAddresses.slice(),
    primary: tcb?.primary,
    inStreams: tcb?.inboundStreams,
    outStreams: tcb?.outboundStreams,
    unackedBytes: unacked,
    peerRwnd: tcb?.rq.peerRwnd,
    cwnd: primary?.cwnd,
    srtt: primary?.srtt,
    rto: primary?.rto,
    paths: (tcb?.paths ?? []).map((p) => ({ address: p.address, state: PATH_STATE[p.state] })),
    replication,
  };
}

export function assocDetail(a: CoreAssociation, now: number, replication: ReplicationView): AssocDetail {
  const s = summarize(a);
  const tcb = tcbOf(a.fsm);
  const age = (t: number | undefined): number | undefined => (t === undefined ? undefined : Math.max(0, now - t));
  const streams = new Map<number, { outNextSsn?: number; outQueuedMessages: number; outQueuedBytes: number; inNextSsn?: number; inPendingMessages: number }>();
  const stream = (id: number): { outNextSsn?: number; outQueuedMessages: number; outQueuedBytes: number; inNextSsn?: number; inPendingMessages: number } => {
    let v = streams.get(id);
    if (!v) streams.set(id, (v = { outQueuedMessages: 0, outQueuedBytes: 0, inPendingMessages: 0 }));
    return v;
  };
  if (tcb) {
    for (const [sid, ssn] of tcb.sq.nextSsn) stream(sid).outNextSsn = ssn;
    for (const [sid, list] of tcb.sq.streams) {
      const head = tcb.sq.streamHeads.get(sid) ?? 0;
      const v = stream(sid);
      for (let i = head; i < list.length; i++) {
        v.outQueuedMessages++;
        v.outQueuedBytes += list[i]!.data.length;
      }
    }
    for (const [sid, st] of tcb.reasm.streams) {
      const v = stream(sid);
      v.inNextSsn = st.nextSequence;
      v.inPendingMessages = st.ordered.size;
    }
  }
  return {
    ...assocRow(a, replication),
    localTag: s.localTag,
    peerTag: s.peerTag,
    nextTsn: s.nextTsn,
    cumulativeTsnAckSent: s.cumulativeTsnAckSent,
    cumulativeTsnAckReceived: s.cumulativeTsnAckReceived,
    outstandingChunks: s.outstandingChunks,
    flightSize: s.flightSize,
    sendQueueBytes: s.sendQueueBytes,
    receiveBufferBytes: s.receiveBufferBytes,
    errorCount: s.errorCount,
    upForMs: age(a.establishedAt),
    pathTable: (tcb?.paths ?? []).map((p) => ({
      address: p.address,
      state: PATH_STATE[p.state],
      primary: p.address === tcb?.primary,
      cwnd: p.cwnd,
      ssthresh: p.ssthresh,
      srtt: p.srtt,
      rttvar: p.rttvar,
      rto: p.rto,
      errorCount: p.errorCount,
      flightSize: p.flightSize,
      pmtu: p.mtu,
      heartbeatAgeMs: age(p.lastHeartbeatSentAt),
      lastHeardAgeMs: age(p.lastHeardAt),
      rtxChunks: p.counters.rtxChunks,
      heartbeatsSent: p.counters.hbSent,
      heartbeatsAcked: p.counters.hbAcked,
      t3Expiries: p.counters.t3Expiries,
      ageMs: Math.max(0, now - p.createdAt),
    })),
    streams: [...streams.entries()].sort((x, y) => x[0] - y[0]).map(([sid, v]) => ({
      stream: sid,
      outNextSsn: v.outNextSsn,
      outQueuedMessages: v.outQueuedMessages,
      outQueuedBytes: v.outQueuedBytes,
      inNextSsn: v.inNextSsn,
      inPendingMessages: v.inPendingMessages,
    })),
    extensions: {
      prSctp: s.extensions?.prSctp ?? false,
      interleaving: tcb?.reasm.interleaving ?? false,
      auth: s.extensions?.auth && { hmac: s.extensions.auth.hmac, keyId: s.extensions.auth.keyId },
      addIp: s.extensions?.asconf !== undefined,
      asconfPending: (s.extensions?.asconf?.pending?.requests.length ?? 0) + (s.extensions?.asconf?.queued.length ?? 0),
      peerAdaptation: s.extensions?.peerAdaptation,
      peerSupportedChunks: s.extensions?.peerSupported ?? [],
    },
    mib: mibOf(s.counters, a.establishedAt),
  };
}

/** RFC 3873 scalars of the process (sctpCurrEstab and the transition counters of the endpoint). */
export interface EndpointMib {
  readonly sctpCurrEstab: number;
  readonly sctpActiveEstabs: number;
  readonly sctpPassiveEstabs: number;
  readonly sctpAborteds: number;
  readonly sctpShutdowns: number;
  readonly sctpOutOfBlues: number;
  readonly sctpChecksumErrors: number;
  readonly discardedPackets: number;
}

/** sctpCurrEstab counts ESTABLISHED, SHUTDOWN-RECEIVED and SHUTDOWN-PENDING (RFC 3873). */
export function endpointMib(c: EndpointCounters, assocs: readonly CoreAssociation[]): EndpointMib {
  return {
    sctpCurrEstab: assocs.filter((a) => a.fsm.state === 'established' || a.fsm.state === 'shutdown-received' || a.fsm.state === 'shutdown-pending').length,
    sctpActiveEstabs: c.activeEstabs,
    sctpPassiveEstabs: c.passiveEstabs,
    sctpAborteds: c.aborteds,
    sctpShutdowns: c.shutdowns,
    sctpOutOfBlues: c.outOfBlues,
    sctpChecksumErrors: c.checksumErrors,
    discardedPackets: c.discarded,
  };
}

const MIB_KEYS = Object.keys(mibOf(undefined, undefined)).filter((k) => k !== 'sctpAssocStartTime') as (keyof Omit<AssocMib, 'sctpAssocStartTime'>)[];
export type MibTotals = Record<(typeof MIB_KEYS)[number], number>;

/**
 * The per-association counters summed over the life of the process: those of
 * the associations that closed (the endpoint adds them up as they close) plus
 * the live ones. Monotonic while associations come and go.
 */
export function mibTotals(c: EndpointCounters, assocs: readonly CoreAssociation[]): MibTotals {
  const t = mibOf(c.closedAssociations, undefined) as unknown as MibTotals;
  const sum = { ...t };
  for (const a of assocs) {
    const m = mibOf(tcbOf(a.fsm)?.counters, undefined);
    for (const k of MIB_KEYS) sum[k] += m[k];
  }
  return sum;
}
