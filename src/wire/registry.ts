/**
 * IANA numbers for SCTP chunk types, parameter types and error causes.
 * Registries are `as const` objects (DESIGN.md §3), not enums.
 */

/** Chunk types: RFC 9260 §3.2 and the extensions named beside each. */
export const ChunkType = {
  DATA: 0,
  INIT: 1,
  INIT_ACK: 2,
  SACK: 3,
  HEARTBEAT: 4,
  HEARTBEAT_ACK: 5,
  ABORT: 6,
  SHUTDOWN: 7,
  SHUTDOWN_ACK: 8,
  ERROR: 9,
  COOKIE_ECHO: 10,
  COOKIE_ACK: 11,
  ECNE: 12, // RFC 9260 Appendix A
  CWR: 13, // RFC 9260 Appendix A
  SHUTDOWN_COMPLETE: 14,
  AUTH: 15, // RFC 4895
  NR_SACK: 16, // draft-tuexen-tsvwg-sctp-multipath / FreeBSD NR-SACK
  I_DATA: 64, // RFC 8260
  ASCONF_ACK: 0x80, // RFC 5061
  RE_CONFIG: 0x82, // RFC 6525
  PAD: 0x84, // RFC 4820
  FORWARD_TSN: 0xc0, // RFC 3758
  ASCONF: 0xc1, // RFC 5061
  I_FORWARD_TSN: 0xc2, // RFC 8260
} as const;
export type ChunkTypeNumber = (typeof ChunkType)[keyof typeof ChunkType];

/** Parameter types (INIT, INIT ACK, HEARTBEAT, ASCONF, RE-CONFIG). */
export const ParamType = {
  HEARTBEAT_INFO: 1,
  IPV4_ADDRESS: 5,
  IPV6_ADDRESS: 6,
  STATE_COOKIE: 7,
  UNRECOGNIZED_PARAMETER: 8,
  COOKIE_PRESERVATIVE: 9,
  HOST_NAME_ADDRESS: 11,
  SUPPORTED_ADDRESS_TYPES: 12,
  OUTGOING_SSN_RESET_REQUEST: 13, // RFC 6525
  INCOMING_SSN_RESET_REQUEST: 14,
  SSN_TSN_RESET_REQUEST: 15,
  RECONFIG_RESPONSE: 16,
  ADD_OUTGOING_STREAMS_REQUEST: 17,
  ADD_INCOMING_STREAMS_REQUEST: 18,
  ECN_CAPABLE: 0x8000, // RFC 9260 Appendix A
  RANDOM: 0x8002, // RFC 4895
  CHUNK_LIST: 0x8003,
  HMAC_ALGO: 0x8004,
  PADDING: 0x8005, // RFC 4820
  SUPPORTED_EXTENSIONS: 0x8008, // RFC 5061
  FORWARD_TSN_SUPPORTED: 0xc000, // RFC 3758
  ADD_IP_ADDRESS: 0xc001, // RFC 5061
  DELETE_IP_ADDRESS: 0xc002,
  ERROR_CAUSE_INDICATION: 0xc003,
  SET_PRIMARY_ADDRESS: 0xc004,
  SUCCESS_INDICATION: 0xc005,
  ADAPTATION_LAYER_INDICATION: 0xc006,
} as const;
export type ParamTypeNumber = (typeof ParamType)[keyof typeof ParamType];

/** Error cause codes: RFC 9260 §3.3.10, RFC 5061 §4.3, RFC 4895 §4.1. */
export const CauseCode = {
  INVALID_STREAM_IDENTIFIER: 1,
  MISSING_MANDATORY_PARAMETER: 2,
  STALE_COOKIE: 3,
  OUT_OF_RESOURCE: 4,
  UNRESOLVABLE_ADDRESS: 5,
  UNRECOGNIZED_CHUNK_TYPE: 6,
  INVALID_MANDATORY_PARAMETER: 7,
  UNRECOGNIZED_PARAMETERS: 8,
  NO_USER_DATA: 9,
  COOKIE_RECEIVED_WHILE_SHUTTING_DOWN: 10,
  RESTART_WITH_NEW_ADDRESSES: 11,
  USER_INITIATED_ABORT: 12,
  PROTOCOL_VIOLATION: 13,
  REQUEST_TO_DELETE_LAST_ADDRESS: 0x00a0,
  OPERATION_REFUSED_RESOURCE_SHORTAGE: 0x00a1,
  REQUEST_TO_DELETE_SOURCE_ADDRESS: 0x00a2,
  ILLEGAL_ASCONF_ACK: 0x00a3,
  REQUEST_REFUSED_NO_AUTHORIZATION: 0x00a4,
  UNSUPPORTED_HMAC_IDENTIFIER: 0x0105,
} as const;
export type CauseCodeNumber = (typeof CauseCode)[keyof typeof CauseCode];

/** HMAC identifiers (RFC 4895 §3.3). */
export const HmacId = { SHA1: 1, SHA256: 3 } as const;

/** RE-CONFIG response results (RFC 6525 §4.4). */
export const ReconfigResult = {
  SUCCESS_NOTHING_TO_DO: 0,
  SUCCESS_PERFORMED: 1,
  DENIED: 2,
  ERROR_WRONG_SSN: 3,
  ERROR_REQUEST_ALREADY_IN_PROGRESS: 4,
  ERROR_BAD_SEQUENCE_NUMBER: 5,
  IN_PROGRESS: 6,
} as const;

/**
 * What an endpoint does with an unrecognized chunk or parameter, from the two
 * highest bits of its type (RFC 9260 §3.2 and §3.2.1).
 */
export type UnrecognizedAction = 'stop' | 'stop-and-report' | 'skip' | 'skip-and-report';
export function unrecognizedChunkAction(type: number): UnrecognizedAction {
  return (['stop', 'stop-and-report', 'skip', 'skip-and-report'] as const)[(type >> 6) & 3]!;
}
export function unrecognizedParamAction(type: number): UnrecognizedAction {
  return (['stop', 'stop-and-report', 'skip', 'skip-and-report'] as const)[(type >> 14) & 3]!;
}

/** Well-known payload protocol identifiers (IANA "SCTP Payload Protocol Identifiers"). */
export const Ppid = {
  IUA: 1, M2UA: 2, M3UA: 3, SUA: 4, M2PA: 5, V5UA: 6, H248: 7, BICC: 8, TALI: 9, DUA: 10,
  ASAP: 11, ENRP: 12, H323: 13, QIPC: 14, SIMCO: 15, DDP_SEGMENT: 16, DDP_STREAM: 17, S1AP: 18,
  RUA: 19, HNBAP: 20, FORCES_HP: 21, FORCES_MP: 22, FORCES_LP: 23, SBC_AP: 24, NBAP: 25,
  X2AP: 27, IRCP: 28, LCS_AP: 29, MPICH2: 30, SABP: 31, FGP: 32, PPP: 33, CALCAPP: 34,
  SSP: 35, NPMP_CONTROL: 36, NPMP_DATA: 37, ECHO: 38, DISCARD: 39, DAYTIME: 40, CHARGEN: 41,
  RNA: 42, M2AP: 43, M3AP: 44, SSH: 45, DIAMETER: 46, DIAMETER_DTLS: 47, R14P: 48,
  WEBRTC_DCEP: 50, WEBRTC_STRING: 51, WEBRTC_BINARY_PARTIAL: 52, WEBRTC_BINARY: 53,
  WEBRTC_STRING_PARTIAL: 54, WEBRTC_STRING_EMPTY: 56, WEBRTC_BINARY_EMPTY: 57,
  XWAP: 58, XWCP: 59, NGAP: 60, XNAP: 61, F1AP: 62, ELEMENTARY_PROCEDURE: 63, E1AP: 64,
} as const;

const ppidNames = new Map<number, string>(Object.entries(Ppid).map(([name, n]) => [n, name]));
/** The registry name of a PPID, or undefined. */
export function ppidName(ppid: number): string | undefined {
  return ppidNames.get(ppid);
}
