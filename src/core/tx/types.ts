/**
 * Shared vocabulary of the send side (RFC 9260 §6.1-§6.3, §7.2.4; RFC 3758).
 * Everything here is plain data so that the state can be cloned, replicated
 * and printed (DESIGN.md §3).
 */
import type { Millis } from '../env.js';

/**
 * A peer transport address as the association names it (e.g. "192.0.2.1").
 * The path module chooses it; this module only records where each chunk went.
 */
export type Destination = string;

/**
 * PR-SCTP policy of a message (RFC 3758 §4.1 timed reliability, RFC 7496 §4.1
 * limited retransmissions). Absent fields mean fully reliable.
 */
export interface PrPolicy {
  /** Enqueue time + lifetime: after it the message is abandoned (TR3/TR4). */
  readonly expiresAt?: Millis;
  /** Retransmissions allowed per chunk; 0 means "send once". */
  readonly maxRetransmits?: number;
}

/** A user message waiting in the send queue (RFC 9260 §10.1 SEND). */
export interface QueuedMessage extends PrPolicy {
  /** Local sequence number, unique per send queue, for outcomes. */
  readonly messageId: number;
  readonly streamId: number;
  readonly ppid: number;
  readonly data: Uint8Array;
  readonly unordered: boolean;
  /** RFC 7053 I bit, set on the message's last fragment. */
  readonly immediate: boolean;
}

/** A DATA chunk produced by the send queue, before it receives a TSN. */
export interface ProducedChunk extends PrPolicy {
  readonly messageId: number;
  readonly streamId: number;
  readonly ssn: number;
  readonly ppid: number;
  readonly userData: Uint8Array;
  readonly unordered: boolean;
  readonly beginning: boolean;
  readonly ending: boolean;
  readonly immediate: boolean;
}

/**
 * Life cycle of a chunk that holds a TSN:
 * - `in-flight`: sent and counted in the flight size of `destination`;
 * - `acked`: reported in a Gap Ack Block (may still be reneged, §6.2.1 D iii);
 * - `to-retransmit`: marked lost (T3 or fast retransmit), out of the flight,
 *   waiting to be sent again (§6.1 C);
 * - `abandoned`: PR-SCTP gave up on it (RFC 3758 §3.5 A2), treated as acked.
 */
export type ChunkState = 'in-flight' | 'acked' | 'to-retransmit' | 'abandoned';

/** A produced chunk once it holds a TSN, with its transmission bookkeeping. */
export interface OutstandingChunk extends ProducedChunk {
  readonly tsn: number;
  /** Where the latest transmission went. */
  destination: Destination;
  /** Time of the latest transmission. */
  sentAt: Millis;
  /** Transmissions after the first (Karn, §6.3.1 C5; RFC 7496 limit). */
  retransmissions: number;
  state: ChunkState;
  /** §7.2.4 miss indications since the latest transmission. */
  missIndications: number;
  /** §7.2.4 step 5: already fast retransmitted, not eligible again. */
  fastRetransmitted: boolean;
  /** §7.2.4 step 3: marked when entering Fast Recovery, goes out ignoring cwnd. */
  fastRetransmitPending: boolean;
}

/** Why a message was not (fully) delivered. */
export type SendFailedReason = 'lifetime-expired' | 'retransmit-limit';

/** RFC 6458 §6.1.11 SCTP_SEND_FAILED_EVENT, as data. */
export interface SendFailed {
  readonly messageId: number;
  readonly streamId: number;
  readonly ppid: number;
  readonly unordered: boolean;
  /** The bytes of the message still held by the sender (all of it if `sent` is false). */
  readonly data: Uint8Array;
  readonly reason: SendFailedReason;
  /** SCTP_DATA_SENT (true: some fragment got a TSN) vs SCTP_DATA_UNSENT. */
  readonly sent: boolean;
}

/** DATA chunk on-wire size: 16-byte header + user data padded to 4 (RFC 9260 §3.3.1). */
export function dataChunkWireSize(userDataLength: number): number {
  return 16 + ((userDataLength + 3) & ~3);
}
