/**
 * What `inspect` reports: plain, JSON-ready data (no Maps, no bytes), so the
 * CLI prints it as text or as JSON and tests compare it directly.
 *
 * Times are seconds since the first record of the capture (a double: the
 * capture's own resolution, micro- or nanoseconds, survives for hours of
 * capture). Endpoints are numbered 0 and 1; a direction is named by its sender.
 */
import type { Timestamp } from '../time.js';

export const AnomalyKind = {
  /** The checksum field is neither CRC32c, Adler-32 nor zero. */
  badChecksum: 'bad-checksum',
  /** RFC 2960 Adler-32: a pre-2006 stack; RFC 9260 receivers drop these. */
  adler32: 'adler32-checksum',
  /** Zero checksum: captured before checksum offload filled it in, or RFC 9653. */
  zeroChecksum: 'zero-checksum',
  /** A packet its receiver held no association for (answered with a T-bit ABORT / SHUTDOWN COMPLETE, or a lone closing chunk). */
  outOfTheBlue: 'out-of-the-blue',
  /** A packet between the ports and addresses of an open association whose verification tag is neither of its tags. */
  tagMismatch: 'tag-mismatch',
  /** A chunk (or a whole SCTP header) that does not decode. */
  malformed: 'malformed',
  /** The same SCTP packet seen again at once (a capture on several interfaces, or a mirror port). */
  duplicateFrame: 'duplicate-frame',
  /** A damaged capture record (the file goes on). */
  captureError: 'capture-error',
  /** An IP packet that does not decode, or an IP fragment of an SCTP packet (not reassembled). */
  ipError: 'ip-error',
  /** A non-INIT packet with verification tag 0 (RFC 9260 §8.5 never allows it). */
  zeroTag: 'zero-tag',
} as const;
export type AnomalyKind = (typeof AnomalyKind)[keyof typeof AnomalyKind];

export interface AnomalyExample {
  /** Frame number (1-based, as Wireshark counts), 0 when not a frame. */
  readonly frame: number;
  readonly time: number;
  readonly detail: string;
}

export interface AnomalyReport {
  readonly kind: AnomalyKind;
  readonly count: number;
  /** The first few occurrences. */
  readonly examples: readonly AnomalyExample[];
}

/** Seconds. */
export interface RttReport {
  readonly samples: number;
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

export interface EndpointReport {
  readonly port: number;
  /** Every address seen for this endpoint: INIT / INIT ACK address lists, packet sources and destinations, ASCONF additions. */
  readonly addresses: readonly string[];
  /** Its verification tags (0x-prefixed hex), the current one last (a restart adds one). */
  readonly tags: readonly string[];
  /** Sent the INIT that set the association up. */
  readonly initiator: boolean;
}

export interface StreamReport {
  readonly stream: number;
  readonly messages: number;
  readonly bytes: number;
  readonly unordered: number;
}

export interface PpidReport {
  readonly ppid: number;
  readonly name?: string;
  readonly messages: number;
  readonly bytes: number;
}

export interface DirectionReport {
  /** Sending endpoint (0 or 1). */
  readonly from: number;
  readonly packets: number;
  /** SCTP bytes (common header and chunks). */
  readonly bytes: number;
  /** DATA and I-DATA chunks, retransmissions included. */
  readonly dataChunks: number;
  /** Complete user messages (E bit), first transmissions only. */
  readonly messages: number;
  /** User data bytes of first transmissions. */
  readonly userBytes: number;
  readonly unorderedMessages: number;
  /** DATA chunks that carry part of a message only (not both B and E). */
  readonly fragments: number;
  /** DATA chunks whose TSN was seen before (RFC 9260 §6.3.3, §7.2.4) or was already acknowledged. */
  readonly retransmissions: number;
  readonly retransmittedBytes: number;
  readonly streams: readonly StreamReport[];
  /** Messages on streams beyond the tracked count (see InspectOptions.maxStreams). */
  readonly otherStreams?: { readonly messages: number; readonly bytes: number };
  readonly ppids: readonly PpidReport[];
  /** SACKs (and NR-SACKs) this endpoint sent. */
  readonly sacks: number;
  /** Of those, SACKs that reported gaps (lost or reordered DATA). */
  readonly sacksWithGaps: number;
  readonly gapBlocks: number;
  /** Duplicate TSNs this endpoint reported (it received DATA twice). */
  readonly duplicateTsnsReported: number;
  readonly forwardTsns: number;
  readonly heartbeats: number;
  readonly heartbeatAcks: number;
  /**
   * DATA of this endpoint to the SACK that first acknowledged it cumulatively,
   * first transmissions only (Karn, RFC 9260 §6.3.1 C5). Includes the peer's
   * SACK delay, and only the part of the path behind the capture point.
   */
  readonly rttDataToSack: RttReport | null;
}

export interface PathReport {
  readonly source: string;
  readonly destination: string;
  /** Sending endpoint (0 or 1). */
  readonly from: number;
  readonly packets: number;
  readonly bytes: number;
  readonly dataChunks: number;
  readonly retransmissions: number;
  readonly heartbeats: number;
  readonly heartbeatAcks: number;
  readonly first: number;
  readonly last: number;
  /** HEARTBEAT on this path to its HEARTBEAT ACK (matched by Heartbeat Info). */
  readonly rttHeartbeat: RttReport | null;
}

export interface TimelineEvent {
  readonly time: number;
  readonly frame: number;
  /**
   * init, init-retransmitted, init-ack, cookie-echo, established, init-collision,
   * restart, first-seen (mid-stream), shutdown, shutdown-ack, shutdown-complete,
   * abort, error, asconf, asconf-ack, path-switch, failover, stream-reset,
   * ootb-response.
   */
  readonly event: string;
  /** Endpoint that sent the chunk, when one did. */
  readonly from?: number;
  readonly detail?: string;
}

export type AssociationState =
  | 'cookie-wait'
  | 'cookie-echoed'
  | 'established'
  | 'shutdown'
  | 'closed'
  | 'aborted';

export interface AssociationReport {
  /** 1-based, in order of first packet; `pcap replay --assoc N` takes it. */
  readonly id: number;
  /** State at the end of the capture. */
  readonly state: AssociationState;
  /** One line: "closed by shutdown", "aborted by 1", "open at end of capture", "setup failed: no INIT ACK", ... */
  readonly outcome: string;
  /** The handshake was not in the capture: the association was found by its tags and ports. */
  readonly midStream: boolean;
  readonly first: number;
  readonly last: number;
  readonly packets: number;
  readonly bytes: number;
  readonly endpoints: readonly [EndpointReport, EndpointReport];
  /** INIT to COOKIE ACK, seconds. */
  readonly setupTime?: number;
  readonly restarts: number;
  readonly timeline: readonly TimelineEvent[];
  /** Events left out after the per-association limit. */
  readonly eventsDropped: number;
  readonly directions: readonly [DirectionReport, DirectionReport];
  readonly paths: readonly PathReport[];
  readonly pathSwitches: number;
  readonly failovers: number;
  /** Chunk counts by chunk type name (DATA, SACK, ...). */
  readonly chunks: Readonly<Record<string, number>>;
  readonly anomalies: readonly AnomalyReport[];
}

export interface InspectReport {
  readonly format: 'pcap' | 'pcapng' | null;
  /** Capture records read (packets of any protocol). */
  readonly frames: number;
  /** Frames that carry SCTP (over IP or UDP). */
  readonly sctpPackets: number;
  /** Absolute time of the first record, or null for an empty capture. */
  readonly start: Timestamp | null;
  /** Seconds from the first to the last record. */
  readonly duration: number;
  readonly associations: readonly AssociationReport[];
  /** SCTP packets that belong to no association (out of the blue, undecodable headers). */
  readonly ungroupedPackets: number;
  /** All anomalies of the file, those inside associations included. */
  readonly anomalies: readonly AnomalyReport[];
  /** A fatal capture error that ended reading early (the report covers what came before). */
  readonly fatalError?: string;
  /** Associations not tracked because of InspectOptions.maxAssociations, and their packets. */
  readonly untracked?: { readonly associations: number; readonly packets: number };
}
