/** Capture files (pcap, pcapng) and the layers between a captured frame and its SCTP packet. */
export type { Timestamp, TickConverter } from './time.js';
export { tickConverter, timestampToTicks } from './time.js';
export type {
  CaptureFormat,
  CaptureRecord,
  CaptureError,
  CaptureItem,
  CaptureInterface,
  CaptureReaderOptions,
  CaptureFile,
} from './reader.js';
export { CaptureReader, readCapture, readCaptureStream } from './reader.js';
export type {
  TimestampResolution,
  ByteOrder,
  PcapWriterOptions,
  PcapngWriterOptions,
  PcapngInterfaceOptions,
  PcapngPacketOptions,
} from './writer.js';
export { PcapWriter, PcapngWriter } from './writer.js';
export type { LinkPayload } from './link.js';
export { LinkType, EtherType, decodeLink, linkTypeName } from './link.js';
export type { SctpFrame, FragmentInfo, ExtractError, ExtractOptions } from './extract.js';
export { extractSctp } from './extract.js';
