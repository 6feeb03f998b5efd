/**
 * The SCTP wire format as plain data. Chunks, parameters and error causes are
 * discriminated unions on `kind`, each with an `unknown` member that keeps type,
 * flags and bytes so the core can apply the upper-two-bit rules (RFC 9260 §3.2).
 *
 * Byte fields (`userData`, `cookie`, `info`, ...) returned by a decoder alias the
 * buffer that was decoded: copy them if that buffer is reused.
 *
 * Addresses are strings: dotted quad for IPv4, RFC 5952 text for IPv6 (see
 * address.ts). They are the same strings everywhere in hasctp, so they serve as
 * Map keys, in snapshots and in logs.
 */

// ---------------------------------------------------------------- error causes

/** RFC 9260 §3.3.10, RFC 5061 §4.3, RFC 4895 §4.1. */
export type ErrorCause =
  | { readonly kind: 'invalid-stream-identifier'; readonly streamId: number }
  | { readonly kind: 'missing-mandatory-parameter'; readonly missingTypes: readonly number[] }
  /** Measure of Staleness in microseconds. */
  | { readonly kind: 'stale-cookie'; readonly staleness: number }
  | { readonly kind: 'out-of-resource' }
  /** The unresolvable address parameter, complete TLV. */
  | { readonly kind: 'unresolvable-address'; readonly address: Uint8Array }
  /** The unrecognized chunk, complete (header included). */
  | { readonly kind: 'unrecognized-chunk-type'; readonly chunk: Uint8Array }
  | { readonly kind: 'invalid-mandatory-parameter' }
  /** The unrecognized parameters, complete TLVs back to back (each padded). */
  | { readonly kind: 'unrecognized-parameters'; readonly params: Uint8Array }
  | { readonly kind: 'no-user-data'; readonly tsn: number }
  | { readonly kind: 'cookie-received-while-shutting-down' }
  /** The new address parameters, complete TLVs back to back. */
  | { readonly kind: 'restart-with-new-addresses'; readonly addresses: Uint8Array }
  | { readonly kind: 'user-initiated-abort'; readonly reason: Uint8Array }
  | { readonly kind: 'protocol-violation'; readonly info: Uint8Array }
  /** RFC 5061 causes that carry the TLV of the ASCONF request they answer. */
  | { readonly kind: 'request-to-delete-last-address'; readonly request: Uint8Array }
  | { readonly kind: 'operation-refused-resource-shortage'; readonly request: Uint8Array }
  | { readonly kind: 'request-to-delete-source-address'; readonly request: Uint8Array }
  | { readonly kind: 'illegal-asconf-ack' }
  | { readonly kind: 'request-refused-no-authorization'; readonly request: Uint8Array }
  | { readonly kind: 'unsupported-hmac-identifier'; readonly hmacId: number }
  | { readonly kind: 'unknown'; readonly code: number; readonly value: Uint8Array };

export type ErrorCauseKind = ErrorCause['kind'];

// ------------------------------------------------------------------ parameters

/** RFC 9260 §3.3.2.1, RFC 3758, RFC 4895, RFC 4820, RFC 5061, RFC 6525. */
export type Param =
  | { readonly kind: 'heartbeat-info'; readonly info: Uint8Array }
  | { readonly kind: 'ipv4-address'; readonly address: string }
  | { readonly kind: 'ipv6-address'; readonly address: string }
  | { readonly kind: 'state-cookie'; readonly cookie: Uint8Array }
  /** The unrecognized parameter, complete TLV as received. */
  | { readonly kind: 'unrecognized-parameter'; readonly param: Uint8Array }
  /** Suggested cookie life-span increment in milliseconds. */
  | { readonly kind: 'cookie-preservative'; readonly lifeSpanIncrement: number }
  | { readonly kind: 'host-name-address'; readonly hostName: string }
  | { readonly kind: 'supported-address-types'; readonly addressTypes: readonly number[] }
  | { readonly kind: 'ecn-capable' }
  | { readonly kind: 'forward-tsn-supported' }
  | { readonly kind: 'random'; readonly random: Uint8Array }
  | { readonly kind: 'chunk-list'; readonly chunkTypes: readonly number[] }
  | { readonly kind: 'hmac-algo'; readonly hmacIds: readonly number[] }
  /** RFC 4820 padding parameter: `length` zero bytes of value. */
  | { readonly kind: 'padding'; readonly length: number }
  | { readonly kind: 'supported-extensions'; readonly chunkTypes: readonly number[] }
  | { readonly kind: 'add-ip-address'; readonly correlationId: number; readonly address: string }
  | { readonly kind: 'delete-ip-address'; readonly correlationId: number; readonly address: string }
  | { readonly kind: 'set-primary-address'; readonly correlationId: number; readonly address: string }
  | { readonly kind: 'error-cause-indication'; readonly correlationId: number; readonly causes: readonly ErrorCause[] }
  | { readonly kind: 'success-indication'; readonly correlationId: number }
  | { readonly kind: 'adaptation-layer-indication'; readonly indication: number }
  | {
      readonly kind: 'outgoing-ssn-reset-request';
      readonly requestSeq: number;
      readonly responseSeq: number;
      readonly senderLastTsn: number;
      readonly streams: readonly number[];
    }
  | { readonly kind: 'incoming-ssn-reset-request'; readonly requestSeq: number; readonly streams: readonly number[] }
  | { readonly kind: 'ssn-tsn-reset-request'; readonly requestSeq: number }
  | {
      readonly kind: 'reconfig-response';
      readonly responseSeq: number;
      readonly result: number;
      /** Present together with receiverNextTsn, or not at all (RFC 6525 §4.4). */
      readonly senderNextTsn?: number;
      readonly receiverNextTsn?: number;
    }
  | { readonly kind: 'add-outgoing-streams-request'; readonly requestSeq: number; readonly newStreams: number }
  | { readonly kind: 'add-incoming-streams-request'; readonly requestSeq: number; readonly newStreams: number }
  | { readonly kind: 'unknown'; readonly type: number; readonly value: Uint8Array };

export type ParamKind = Param['kind'];

// ---------------------------------------------------------------------- chunks

export interface GapBlock {
  /** Offset from the Cumulative TSN Ack of the first TSN of the block (1..65535). */
  readonly start: number;
  readonly end: number;
}

export interface DataChunk {
  readonly kind: 'data';
  readonly tsn: number;
  readonly streamId: number;
  readonly ssn: number;
  readonly ppid: number;
  readonly userData: Uint8Array;
  /** U bit. */
  readonly unordered: boolean;
  /** B bit. */
  readonly beginning: boolean;
  /** E bit. */
  readonly ending: boolean;
  /** I bit, SACK-IMMEDIATELY (RFC 7053). */
  readonly immediate: boolean;
}

/** RFC 8260 I-DATA. `ppid` is on the wire only when `beginning`; otherwise `fsn` is. */
export interface IDataChunk {
  readonly kind: 'idata';
  readonly tsn: number;
  readonly streamId: number;
  readonly mid: number;
  /** Meaningful when `beginning` (the FSN is then 0 by definition). */
  readonly ppid: number;
  /** Fragment Sequence Number; meaningful when not `beginning`. */
  readonly fsn: number;
  readonly userData: Uint8Array;
  readonly unordered: boolean;
  readonly beginning: boolean;
  readonly ending: boolean;
  readonly immediate: boolean;
}

interface InitFields {
  readonly initiateTag: number;
  readonly aRwnd: number;
  readonly outboundStreams: number;
  readonly inboundStreams: number;
  readonly initialTsn: number;
  readonly params: readonly Param[];
}
export interface InitChunk extends InitFields {
  readonly kind: 'init';
}
export interface InitAckChunk extends InitFields {
  readonly kind: 'init-ack';
}

export interface SackChunk {
  readonly kind: 'sack';
  readonly cumulativeTsnAck: number;
  readonly aRwnd: number;
  readonly gapBlocks: readonly GapBlock[];
  readonly duplicateTsns: readonly number[];
}

export interface NrSackChunk {
  readonly kind: 'nr-sack';
  /** A bit: all out-of-order blocks are non-renegable. */
  readonly allNonRenegable: boolean;
  readonly cumulativeTsnAck: number;
  readonly aRwnd: number;
  readonly gapBlocks: readonly GapBlock[];
  readonly nrGapBlocks: readonly GapBlock[];
  readonly duplicateTsns: readonly number[];
}

export interface HeartbeatChunk {
  readonly kind: 'heartbeat';
  /** Value of the Heartbeat Info parameter (opaque to the receiver). */
  readonly info: Uint8Array;
}
export interface HeartbeatAckChunk {
  readonly kind: 'heartbeat-ack';
  readonly info: Uint8Array;
}

export interface AbortChunk {
  readonly kind: 'abort';
  /** T bit: the verification tag is the sender's own (reflected). */
  readonly tBit: boolean;
  readonly causes: readonly ErrorCause[];
}

export interface ShutdownChunk {
  readonly kind: 'shutdown';
  readonly cumulativeTsnAck: number;
}
export interface ShutdownAckChunk {
  readonly kind: 'shutdown-ack';
}
export interface ShutdownCompleteChunk {
  readonly kind: 'shutdown-complete';
  readonly tBit: boolean;
}

export interface ErrorChunk {
  readonly kind: 'error';
  readonly causes: readonly ErrorCause[];
}

export interface CookieEchoChunk {
  readonly kind: 'cookie-echo';
  readonly cookie: Uint8Array;
}
export interface CookieAckChunk {
  readonly kind: 'cookie-ack';
}

/** RFC 9260 Appendix A. */
export interface EcneChunk {
  readonly kind: 'ecne';
  readonly lowestTsn: number;
}
export interface CwrChunk {
  readonly kind: 'cwr';
  readonly lowestTsn: number;
}

/** RFC 4895 §4.1. */
export interface AuthChunk {
  readonly kind: 'auth';
  readonly sharedKeyId: number;
  readonly hmacId: number;
  readonly hmac: Uint8Array;
}

/** RFC 5061 §3.1.1: the first parameter is the Address Parameter (mandatory). */
export interface AsconfChunk {
  readonly kind: 'asconf';
  readonly serial: number;
  readonly address: string;
  readonly params: readonly Param[];
}
/** RFC 5061 §3.1.2. */
export interface AsconfAckChunk {
  readonly kind: 'asconf-ack';
  readonly serial: number;
  readonly params: readonly Param[];
}

/** RFC 6525 §3.1: one or two request/response parameters. */
export interface ReconfigChunk {
  readonly kind: 're-config';
  readonly params: readonly Param[];
}

/** RFC 4820: `length` bytes of padding data after the chunk header. */
export interface PadChunk {
  readonly kind: 'pad';
  readonly length: number;
}

/** RFC 3758 §3.2. */
export interface ForwardTsnChunk {
  readonly kind: 'forward-tsn';
  readonly newCumulativeTsn: number;
  readonly streams: readonly { readonly streamId: number; readonly ssn: number }[];
}

/** RFC 8260 §2.3.1. */
export interface IForwardTsnChunk {
  readonly kind: 'i-forward-tsn';
  readonly newCumulativeTsn: number;
  readonly streams: readonly { readonly streamId: number; readonly unordered: boolean; readonly mid: number }[];
}

/** A chunk type this codec does not know: kept whole for the upper-two-bit rules. */
export interface UnknownChunk {
  readonly kind: 'unknown';
  readonly type: number;
  readonly flags: number;
  /** The chunk value (after the 4-byte header, before padding). */
  readonly value: Uint8Array;
}

export type Chunk =
  | DataChunk
  | InitChunk
  | InitAckChunk
  | SackChunk
  | HeartbeatChunk
  | HeartbeatAckChunk
  | AbortChunk
  | ShutdownChunk
  | ShutdownAckChunk
  | ErrorChunk
  | CookieEchoChunk
  | CookieAckChunk
  | EcneChunk
  | CwrChunk
  | ShutdownCompleteChunk
  | AuthChunk
  | NrSackChunk
  | IDataChunk
  | AsconfAckChunk
  | ReconfigChunk
  | PadChunk
  | ForwardTsnChunk
  | AsconfChunk
  | IForwardTsnChunk
  | UnknownChunk;

export type ChunkKind = Chunk['kind'];
export type ChunkOfKind<K extends ChunkKind> = Extract<Chunk, { kind: K }>;

// ---------------------------------------------------------------------- packet

/** RFC 9260 §3.1 common header. */
export interface CommonHeader {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly verificationTag: number;
  /** As found on the wire (decode) or computed (encode). */
  readonly checksum: number;
}

/**
 * What the checksum field held: a correct CRC32c; Adler-32 of pre-2006 stacks
 * (RFC 2960); zero (common in captures of checksum-offloading senders); or none
 * of these. A live endpoint accepts only `crc32c` (RFC 9260 §6.8).
 */
export type ChecksumStatus = 'crc32c' | 'adler32' | 'zero' | 'bad';

export interface Packet {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly verificationTag: number;
  readonly chunks: readonly Chunk[];
}

export interface DecodedPacket extends Packet {
  readonly checksum: number;
  readonly checksumStatus: ChecksumStatus;
}
