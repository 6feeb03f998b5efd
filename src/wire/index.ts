/**
 * The public wire API: `import { decodePacket, ... } from 'hasctp/wire'`.
 * Pure code only (DESIGN.md §2); keep one section per concern.
 */

// ------------------------------------------------------------ data model and registries
export type * from './types.js';
export * from './registry.js';
export * from './result.js';

// ---------------------------------------------------------------- arithmetic and addresses
export * from './serial.js';
export * from './address.js';

// ----------------------------------------------------------------------------- SCTP codec
export {
  causeCode,
  decodeCauses,
  encodeCause,
  encodeCauses,
  encodedCauseLength,
  encodedCausesLength,
  unpaddedCausesLength,
} from './cause.js';
export {
  addressParamLength,
  decodeParam,
  decodeParams,
  encodeAddressParam,
  encodeParam,
  encodeParams,
  encodedParamLength,
  encodedParamsLength,
  paramType,
  unpaddedParamsLength,
} from './param.js';
export {
  chunkFlags,
  chunkFramingError,
  chunkType,
  decodeChunk,
  decodeChunkValue,
  encodeChunk,
  encodedChunkLength,
} from './chunk.js';
export { DataFlag } from './chunks/data.js';
export { NR_SACK_ALL } from './chunks/sack.js';
export { T_BIT } from './chunks/control.js';
export {
  COMMON_HEADER_LENGTH,
  decodePacket,
  encodePacket,
  encodePacketInto,
  encodedPacketLength,
  forEachChunkHeader,
  type DecodePacketOptions,
  type EncodePacketOptions,
} from './packet.js';

// ------------------------------------------------------------------------------ checksums
export { setCrc32cBackend, verifySctpChecksum, writeSctpChecksum, type Crc32cFn } from './checksum.js';
export { crc32c, crc32cUpdate } from './crc32c.js';
export { adler32 } from './adler32.js';

// -------------------------------------------------------------------------------- display
export * from './format.js';

// ------------------------------------------------------ IP and UDP framing (ip.ts, udp.ts)
export {
  IpProtocol,
  onesComplementAdd,
  finishChecksum,
  internetChecksum,
  pseudoHeaderSum,
  decodeIPv4,
  encodeIPv4,
  isIPv4Fragment,
  decodeIPv6,
  encodeIPv6,
  isIPv6Fragment,
  decodeIp,
  encodeIp,
  type IPv4Header,
  type IPv4View,
  type IPv4EncodeOptions,
  type IPv6Header,
  type IPv6View,
  type IPv6Fragment,
  type IPv6EncodeOptions,
  type IpEncodeOptions,
  type IpView,
} from './ip.js';
export {
  SCTP_UDP_ENCAPSULATION_PORT,
  UDP_HEADER_LENGTH,
  decodeUdp,
  encodeUdp,
  encodeUdpEncapsulated,
  udpChecksum,
  type UdpHeader,
  type UdpView,
  type UdpChecksumStatus,
  type UdpPseudoHeader,
  type UdpEncodeOptions,
  type UdpEncapsulationOptions,
} from './udp.js';
