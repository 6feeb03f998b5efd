/**
 * A flat, printable view of an association snapshot (for the CLI and tests):
 * state, tags, TSNs, per-path transport state, per-stream sequence numbers,
 * queue sizes and counters, named after SCTP-MIB (RFC 3873) where one exists.
 * The snapshot itself is `structuredClone(association)` (Endpoint.snapshot).
 */
import type { AsconfRequest } from '../asconf/state.js';
import { hmacName } from '../auth/state.js';
import { totalFlightSize } from '../tx/retransmission-queue.js';
import { tcbOf } from './tcb.js';
import type { Association, AssociationCounters, AssociationStateName } from './types.js';

export interface PathSummary {
  /** sctpAssocRemAddr. */
  readonly address: string;
  /** sctpAssocRemAddrActive / UNCONFIRMED / PF. */
  readonly state: string;
  readonly primary: boolean;
  readonly cwnd: number;
  readonly ssthresh: number;
  /** sctpAssocRemAddrRTO. */
  readonly rto: number;
  readonly srtt: number | undefined;
  readonly rttvar: number | undefined;
  /** sctpAssocRemAddrErrCounter... (RFC 9260 §8.2 error count). */
  readonly errorCount: number;
  readonly flightSize: number;
  /** sctpAssocRemAddrRtx. */
  readonly rtxChunks: number;
}

/** The extensions in use (negotiated in INIT / INIT ACK) and their state. */
export interface ExtensionsSummary {
  /** RFC 3758 PR-SCTP. */
  readonly prSctp: boolean;
  /** RFC 4895 AUTH: the HMAC our AUTH chunks use, the chunk types each side must authenticate. */
  readonly auth: { readonly hmac: string; readonly keyId: number; readonly localChunks: readonly number[]; readonly peerChunks: readonly number[] } | undefined;
  /** RFC 5061 ADD-IP: the ASCONF in flight and the requests behind it. */
  readonly asconf:
    | {
        readonly pending: { readonly serial: number; readonly requests: readonly AsconfRequest[]; readonly retransmits: number; readonly destination: string } | undefined;
        readonly queued: readonly AsconfRequest[];
        readonly addingLocal: readonly string[];
        readonly deletingLocal: readonly string[];
      }
    | undefined;
  /** The peer's Adaptation Layer Indication (RFC 5061 §4.2.5). */
  readonly peerAdaptation: number | undefined;
  /** The peer's Supported Extensions chunk types (RFC 5061 §4.2.7). */
  readonly peerSupported: readonly number[];
}

export interface AssociationSummary {
  /** sctpAssocId. */
  readonly id: number;
  /** sctpAssocState. */
  readonly state: AssociationStateName;
  /** sctpAssocLocalPort / sctpAssocRemPort. */
  readonly localPort: number;
  readonly remotePort: number;
  readonly localTag: number | undefined;
  readonly peerTag: number | undefined;
  /** sctpAssocInStreams / sctpAssocOutStreams. */
  readonly inStreams: number | undefined;
  readonly outStreams: number | undefined;
  /** sctpAssocPrimProcess-like: the primary destination. */
  readonly primary: string | undefined;
  readonly nextTsn: number | undefined;
  readonly cumulativeTsnAckSent: number | undefined;
  readonly cumulativeTsnAckReceived: number | undefined;
  readonly peerRwnd: number | undefined;
  readonly outstandingChunks: number;
  readonly flightSize: number;
  readonly sendQueueBytes: number;
  readonly receiveBufferBytes: number;
  /** RFC 9260 §8.1 association error counter. */
  readonly errorCount: number;
  /** Next SSN per outbound ordered stream that has sent something. */
  readonly outboundSsn: Readonly<Record<number, number>>;
  /** Next SSN expected per inbound stream that has received something. */
  readonly inboundSsn: Readonly<Record<number, number>>;
  readonly paths: readonly PathSummary[];
  /** sctpAssocStartTime. */
  readonly startTime: number | undefined;
  readonly counters: AssociationCounters | undefined;
  /** Our addresses the association uses as sources. */
  readonly localAddresses: readonly string[];
  readonly extensions: ExtensionsSummary | undefined;
}

export function summarize(a: Association): AssociationSummary {
  const tcb = tcbOf(a.fsm);
  const outboundSsn: Record<number, number> = {};
  const inboundSsn: Record<number, number> = {};
  if (tcb) {
    for (const [sid, ssn] of tcb.sq.nextSsn) outboundSsn[sid] = ssn;
    for (const [sid, st] of tcb.reasm.streams) inboundSsn[sid] = st.nextSequence;
  }
  return {
    id: a.id,
    state: a.fsm.state,
    localPort: a.localPort,
    remotePort: a.peerPort,
    localTag: a.fsm.state === 'cookie-wait' ? a.fsm.init.initiateTag : tcb?.localTag,
    peerTag: tcb?.peerTag,
    inStreams: tcb?.inboundStreams,
    outStreams: tcb?.outboundStreams,
    primary: tcb?.primary,
    nextTsn: tcb?.rq.nextTsn,
    cumulativeTsnAckSent: tcb?.tracker.cumulativeTsnAck,
    cumulativeTsnAckReceived: tcb?.rq.cumulativeTsnAck,
    peerRwnd: tcb?.rq.peerRwnd,
    outstandingChunks: tcb?.rq.chunks.length ?? 0,
    flightSize: tcb ? totalFlightSize(tcb.rq) : 0,
    sendQueueBytes: tcb?.sq.bufferedAmount ?? 0,
    receiveBufferBytes: tcb ? tcb.reasm.bufferedBytes + tcb.heldBytes : 0,
    errorCount: tcb?.errorCount ?? 0,
    outboundSsn,
    inboundSsn,
    paths: (tcb?.paths ?? []).map((p) => ({
      address: p.address,
      state: p.state,
      primary: p.address === tcb?.primary,
      cwnd: p.cwnd,
      ssthresh: p.ssthresh,
      rto: p.rto,
      srtt: p.srtt,
      rttvar: p.rttvar,
      errorCount: p.errorCount,
      flightSize: p.flightSize,
      rtxChunks: p.counters.rtxChunks,
    })),
    startTime: a.establishedAt,
    counters: tcb?.counters,
    localAddresses: a.localAddresses.slice(),
    extensions: tcb
      ? {
          prSctp: tcb.rq.forwardTsnSupported,
          auth: tcb.auth
            ? { hmac: hmacName(tcb.auth.hmacId), keyId: tcb.auth.activeKeyId, localChunks: tcb.auth.localChunks, peerChunks: tcb.auth.peerChunks }
            : undefined,
          asconf: tcb.asconf
            ? {
                pending: tcb.asconf.outstanding
                  ? {
                      serial: tcb.asconf.outstanding.serial,
                      requests: tcb.asconf.outstanding.requests.map((r) => ({ kind: r.kind, address: r.address })),
                      retransmits: tcb.asconf.outstanding.retransmits,
                      destination: tcb.asconf.outstanding.destination,
                    }
                  : undefined,
                queued: tcb.asconf.queue.map((r) => ({ kind: r.kind, address: r.address })),
                addingLocal: tcb.asconf.pendingAdd.slice(),
                deletingLocal: tcb.asconf.pendingDelete.slice(),
              }
            : undefined,
          peerAdaptation: tcb.peerAdaptation,
          peerSupported: tcb.peerExtensions.slice(),
        }
      : undefined,
  };
}
