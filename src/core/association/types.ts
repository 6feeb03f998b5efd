/**
 * The association as plain data (DESIGN.md §3): a union of states whose
 * variants carry their own data. The TCB (RFC 9260 §14.2) exists only in the
 * states that have one; T1 lives in COOKIE-WAIT / COOKIE-ECHOED, T2 and T5 in
 * the shutdown states. `structuredClone(association)` is the snapshot HA
 * replication ships, and what `Endpoint.restore` takes back.
 */
import type { Chunk, ErrorCause, InitChunk } from '../../wire/types.js';
import type { AsconfRequest, AsconfState } from '../asconf/state.js';
import type { AuthState } from '../auth/state.js';
import type { Millis } from '../env.js';
import type { PathState } from '../path/state.js';
import type { AckHold } from '../rx/ack-hold.js';
import type { DataTracker } from '../rx/data-tracker.js';
import type { Reassembly } from '../rx/reassembly.js';
import type { RetransmissionQueueState } from '../tx/retransmission-queue.js';
import type { SendQueueState } from '../tx/send-queue.js';

/** A timer that retransmits something with exponential backoff (T1-init, T1-cookie, T2-shutdown). */
export interface RetransmitTimer {
  at: Millis;
  /** Retransmissions done so far (Max.Init.Retransmits, Association.Max.Retrans). */
  retransmits: number;
  /** The current (backed-off) timeout. */
  rto: Millis;
}

/** A message accepted by `send` before the TCB exists (COOKIE-WAIT). */
export interface PendingSend {
  readonly messageId: number;
  readonly streamId: number;
  readonly ppid: number;
  readonly data: Uint8Array;
  readonly unordered: boolean;
  readonly lifetime: Millis | undefined;
  readonly maxRetransmits: number | undefined;
  readonly queuedAt: Millis;
}

/** A control chunk waiting for the next packet, with its destination (§6.4: replies go where the request came from). */
export interface ControlItem {
  readonly chunk: Chunk;
  /** Undefined: wherever the next packet goes (the DATA destination). */
  readonly destination: string | undefined;
}

/**
 * Counters. Names follow RFC 3873 (SCTP-MIB) where one exists: sctpAssocT1expireds
 * → t1Expireds, sctpOutCtrlChunks → outControlChunks, and so on.
 */
export interface AssociationCounters {
  /** sctpAssocT1expireds (T1-init and T1-cookie). */
  t1Expireds: number;
  /** sctpAssocT2expireds. */
  t2Expireds: number;
  /** T3-rtx expiries, all paths. */
  t3Expireds: number;
  /** sctpAssocRtxChunks. */
  rtxChunks: number;
  /** sctpOutCtrlChunks / sctpOutOrderChunks / sctpOutUnorderChunks. */
  outControlChunks: number;
  outOrderChunks: number;
  outUnorderChunks: number;
  /** sctpInCtrlChunks / sctpInOrderChunks / sctpInUnorderChunks. */
  inControlChunks: number;
  inOrderChunks: number;
  inUnorderChunks: number;
  /** sctpOutSCTPPacks / sctpInSCTPPacks. */
  outPackets: number;
  inPackets: number;
  /** sctpReasmUsrMsgs: messages delivered to the application. */
  deliveredMessages: number;
  /** DATA chunks received again (SACK duplicate list). */
  inDuplicateChunks: number;
  sacksSent: number;
  sacksReceived: number;
}

export function createCounters(): AssociationCounters {
  return {
    t1Expireds: 0,
    t2Expireds: 0,
    t3Expireds: 0,
    rtxChunks: 0,
    outControlChunks: 0,
    outOrderChunks: 0,
    outUnorderChunks: 0,
    inControlChunks: 0,
    inOrderChunks: 0,
    inUnorderChunks: 0,
    outPackets: 0,
    inPackets: 0,
    deliveredMessages: 0,
    inDuplicateChunks: 0,
    sacksSent: 0,
    sacksReceived: 0,
  };
}

/** Adds every counter of `from` to `into`. */
export function addCounters(into: AssociationCounters, from: AssociationCounters): void {
  for (const k of Object.keys(into) as (keyof AssociationCounters)[]) into[k] += from[k] ?? 0;
}

/** RFC 9260 §14.2 Transmission Control Block. */
export interface Tcb {
  readonly localTag: number;
  peerTag: number;
  readonly localInitialTsn: number;
  peerInitialTsn: number;
  /** Streams negotiated (RFC 9260 §5.1.1: min of our OS and the peer's MIS, and the reverse). */
  outboundStreams: number;
  inboundStreams: number;
  /** The peer listed Forward-TSN-Supported (RFC 3758 §3.3.1); we always do. */
  peerForwardTsn: boolean;
  /** Chunk types of the peer's Supported Extensions parameter (RFC 5061 §4.2.7). */
  peerExtensions: number[];
  /** The peer's Adaptation Layer Indication (RFC 5061 §4.2.5), if it sent one. */
  peerAdaptation: number | undefined;
  /** RFC 4895 AUTH, when both sides offered it; undefined otherwise. */
  auth: AuthState | undefined;
  /** RFC 5061 ADD-IP, when both sides offered it (with AUTH); undefined otherwise. */
  asconf: AsconfState | undefined;
  /** Peer transport addresses, in the peer's order (RFC 9260 §14.3). */
  paths: PathState[];
  primary: string;
  /** Where new DATA went last (RFC 7829 §6 Primary Path Switchover). */
  lastDataDestination: string | undefined;
  rq: RetransmissionQueueState;
  sq: SendQueueState;
  tracker: DataTracker;
  reasm: Reassembly;
  /** The a_rwnd in our last SACK (RFC 9260 §6.2 SWS avoidance). */
  lastAdvertisedRwnd: number;
  /** Bytes of delivered messages the application has not polled yet: they still occupy the receive window. */
  heldBytes: number;
  /** Acknowledge after forward (rx/ack-hold.ts), when enabled for this association. */
  hold?: AckHold;
  /** RFC 9260 §8.1 association error counter. */
  errorCount: number;
  /** T3-rtx per destination (RFC 9260 §6.3.2): address → deadline. */
  t3: Map<string, Millis>;
  /** Delayed SACK timer (RFC 9260 §6.2). */
  delayedSackAt: Millis | undefined;
  /** A SACK must go in the next packet. */
  sackNow: boolean;
  /** Where the last packet with DATA came from: SACKs go there (§6.4). */
  sackDestination: string | undefined;
  /** §6.1 A: the peer's window closed with nothing in flight at this time; a probe goes one RTO later. */
  zeroWindowSince: Millis | undefined;
  /** Control chunks for the next packet(s). */
  control: ControlItem[];
  /** SCTP_SENDER_DRY_EVENT already reported for the current idle period. */
  dryReported: boolean;
  /** After a T3-rtx expiry only one packet of retransmissions goes (§6.3.3 E3). */
  t3BurstLimit: boolean;
  counters: AssociationCounters;
}

export type AssociationState =
  | {
      readonly state: 'cookie-wait';
      /** The INIT as sent, for T1-init retransmission (RFC 9260 §5.1 A). */
      init: InitChunk;
      t1: RetransmitTimer;
      /** Index in `peerAddresses` the INIT went to last (§5.1.6: alternate on retransmission). */
      initDestination: number;
      pendingSends: PendingSend[];
      shutdownRequested: boolean;
    }
  | {
      readonly state: 'cookie-echoed';
      tcb: Tcb;
      cookie: Uint8Array;
      /** ERROR (Unrecognized Parameters) bundled after the COOKIE ECHO (RFC 9260 §3.2.2). */
      unrecognizedParams: Uint8Array | undefined;
      t1: RetransmitTimer;
      cookieDestination: string;
      cookieSentAt: Millis;
      /** The INIT, kept for the §5.2.6 stale-cookie retry. */
      init: InitChunk;
      shutdownRequested: boolean;
    }
  | { readonly state: 'established'; tcb: Tcb }
  | { readonly state: 'shutdown-pending'; tcb: Tcb }
  | { readonly state: 'shutdown-sent'; tcb: Tcb; t2: RetransmitTimer; t5At: Millis }
  | { readonly state: 'shutdown-received'; tcb: Tcb }
  | { readonly state: 'shutdown-ack-sent'; tcb: Tcb; t2: RetransmitTimer; t5At: Millis | undefined }
  | { readonly state: 'closed' };

export type AssociationStateName = AssociationState['state'];
export type TcbState = Extract<AssociationState, { tcb: Tcb }>;

export interface Association {
  readonly id: number;
  readonly localPort: number;
  readonly peerPort: number;
  /** Our addresses this association uses (listed in INIT / INIT ACK). */
  localAddresses: string[];
  /** Peer addresses known: from connect() before the INIT ACK, then from the INIT / INIT ACK. */
  peerAddresses: string[];
  /**
   * Peer address → our address its last packet arrived at: the source we answer
   * it from, so replies follow the path the peer uses (§6.4 "to the same
   * destination transport address from which it received").
   */
  routes: Map<string, string>;
  readonly createdAt: Millis;
  /** sctpAssocStartTime: when it became ESTABLISHED. */
  establishedAt: Millis | undefined;
  fsm: AssociationState;
}

// ------------------------------------------------------------------- events

/** RFC 6458 §6.1.2 spc_state. */
export type PeerAddrState =
  | 'SCTP_ADDR_AVAILABLE'
  | 'SCTP_ADDR_UNREACHABLE'
  | 'SCTP_ADDR_CONFIRMED'
  | 'SCTP_ADDR_POTENTIALLY_FAILED'
  /** RFC 5061: the peer added this address (ASCONF Add IP Address). */
  | 'SCTP_ADDR_ADDED'
  /** RFC 5061: the peer deleted this address (ASCONF Delete IP Address). */
  | 'SCTP_ADDR_REMOVED'
  /** RFC 5061: the peer asked us to make this address our primary (ASCONF Set Primary Address), and it now is. */
  | 'SCTP_ADDR_MADE_PRIM';

/**
 * How one of our ASCONF requests ended (RFC 5061 §5.1 A5-A9): acknowledged
 * ('success'), refused with an Error Cause ('error'), not understood by the
 * peer ('unsupported', §5.3 F3a / F3b, or ASCONF itself, A9), or dropped
 * with the association ('closed').
 */
export type AsconfResult = 'success' | 'error' | 'unsupported' | 'closed';

export type LostReason = 'peer-abort' | 'local-abort' | 'max-retransmits' | 'shutdown-guard' | 'protocol-violation';
export type CannotStartReason = 'init-timeout' | 'cookie-timeout' | 'peer-abort' | 'invalid-init-ack' | 'local-abort';

/** Notifications modelled on RFC 6458 §6.1, plus received messages. */
export type AssociationEvent =
  | { readonly type: 'communication-up'; readonly outboundStreams: number; readonly inboundStreams: number; readonly peerAddresses: readonly string[] }
  | { readonly type: 'communication-lost'; readonly reason: LostReason; readonly causes: readonly ErrorCause[] }
  | { readonly type: 'restart'; readonly outboundStreams: number; readonly inboundStreams: number }
  | { readonly type: 'shutdown-complete' }
  /** SCTP_SHUTDOWN_EVENT: the peer sent SHUTDOWN, no more data will arrive. */
  | { readonly type: 'shutdown-received' }
  | { readonly type: 'cannot-start'; readonly reason: CannotStartReason; readonly causes: readonly ErrorCause[] }
  | { readonly type: 'peer-address-change'; readonly address: string; readonly state: PeerAddrState; readonly from: string; readonly to: string }
  | {
      readonly type: 'send-failed';
      readonly messageId: number;
      readonly streamId: number;
      readonly ppid: number;
      readonly unordered: boolean;
      readonly data: Uint8Array;
      readonly reason: 'lifetime-expired' | 'retransmit-limit' | 'association-closed' | 'invalid-stream';
      readonly sent: boolean;
    }
  | { readonly type: 'remote-error'; readonly causes: readonly ErrorCause[] }
  | { readonly type: 'sender-dry' }
  /** The outcome of one of our ASCONF requests (RFC 5061; RFC 6458 has no notification for it). */
  | { readonly type: 'asconf'; readonly request: AsconfRequest; readonly result: AsconfResult; readonly causes: readonly ErrorCause[] }
  /** SCTP_ADAPTATION_INDICATION (RFC 6458 §6.1.6): the peer's Adaptation Layer Indication (RFC 5061 §4.2.5). */
  | { readonly type: 'adaptation-indication'; readonly indication: number }
  /**
   * A received message. `holdToken` is set when acknowledge-after-forward is on:
   * its TSNs are not reported in a SACK until `release(holdToken)`.
   */
  | { readonly type: 'message'; readonly streamId: number; readonly ppid: number; readonly unordered: boolean; readonly data: Uint8Array; readonly holdToken?: number }
  /** With `notifyAcked`: every fragment of message `messageId` (the `send` result) is covered by the peer's Cumulative TSN Ack. */
  | { readonly type: 'message-acked'; readonly messageId: number };
