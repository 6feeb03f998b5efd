/**
 * What one association knows about dynamic address reconfiguration (RFC
 * 5061), as plain data in the TCB: our ASCONF serial numbers, the one ASCONF
 * outstanding and its T-4 RTO timer, requests waiting behind it, the peer's
 * serial number and the last ASCONF-ACK we sent it, and the local addresses
 * that are being added or deleted.
 */
import type { AsconfAckChunk } from '../../wire/types.js';
import type { Millis } from '../env.js';

export type AsconfRequestKind = 'add-ip-address' | 'delete-ip-address' | 'set-primary-address';

/** One of our requests: add or delete one of our addresses, or ask the peer to make one its primary. */
export interface AsconfRequest {
  readonly kind: AsconfRequestKind;
  readonly address: string;
}

/** A request with the Correlation ID that ties the peer's answer to it (RFC 5061 §4.2). */
export interface QueuedRequest extends AsconfRequest {
  readonly correlationId: number;
}

/** The ASCONF in flight (§5.1.1 R1: one at a time), and its T-4 RTO timer (§5.1 A4). */
export interface OutstandingAsconf {
  readonly serial: number;
  /** The ASCONF's Address Parameter (§4.1: an address of ours the peer knows). */
  readonly lookupAddress: string;
  readonly requests: readonly QueuedRequest[];
  /** Where it went last (§5.1 B4: retransmissions go to an alternate when there is one). */
  destination: string;
  /** T-4 RTO expiry. */
  t4At: Millis;
  retransmits: number;
  /** First transmission (for the RTT-free bookkeeping of the inspection view). */
  readonly sentAt: Millis;
}

export interface AsconfCounters {
  /** ASCONF chunks sent (first transmissions) and retransmitted on T-4 expiry. */
  sent: number;
  retransmitted: number;
  /** ASCONF-ACKs that acknowledged our outstanding ASCONF. */
  acked: number;
  /** Peer ASCONFs processed (new serial), answered again from the cache (retransmitted serial), dropped (stale or out of order). */
  received: number;
  replayed: number;
  dropped: number;
}

export interface AsconfState {
  /** Serial Number of our next ASCONF (§5.1 A2: starts at our Initial TSN). */
  nextSerial: number;
  nextCorrelationId: number;
  outstanding: OutstandingAsconf | undefined;
  /** Requests waiting for the outstanding ASCONF to be acknowledged (§5.1.1 R1). */
  queue: QueuedRequest[];
  /** Peer-Serial-Number (§5.2 C1): the last serial processed, initially the peer's Initial TSN - 1. */
  peerSerial: number;
  /** The ASCONF-ACK sent for `peerSerial`, sent again when that ASCONF is retransmitted (§5.2 C3). */
  lastAck: AsconfAckChunk | undefined;
  /** Our addresses with an Add in progress: no source address until acknowledged (§5.3). */
  pendingAdd: string[];
  /** Our addresses with a Delete in progress: still ours to receive on, never a source again (§5.3). */
  pendingDelete: string[];
  /** A Set Primary from the peer for an address still UNCONFIRMED: it takes effect on confirmation. */
  peerRequestedPrimary: string | undefined;
  /** The peer did not understand Add/Delete (§5.3 F3a) or Set Primary (F3b), or ASCONF at all (§5.1 A9). */
  addDeleteUnsupported: boolean;
  setPrimaryUnsupported: boolean;
  asconfUnsupported: boolean;
  counters: AsconfCounters;
}

export function createAsconfState(localInitialTsn: number, peerInitialTsn: number): AsconfState {
  return {
    nextSerial: localInitialTsn >>> 0,
    nextCorrelationId: 1,
    outstanding: undefined,
    queue: [],
    peerSerial: (peerInitialTsn - 1) >>> 0,
    lastAck: undefined,
    pendingAdd: [],
    pendingDelete: [],
    peerRequestedPrimary: undefined,
    addDeleteUnsupported: false,
    setPrimaryUnsupported: false,
    asconfUnsupported: false,
    counters: { sent: 0, retransmitted: 0, acked: 0, received: 0, replayed: 0, dropped: 0 },
  };
}
