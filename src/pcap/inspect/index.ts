/** `pcap inspect`: associations, their timelines, traffic, paths and anomalies, from a capture. */
export type {
  AnomalyExample,
  AnomalyReport,
  AssociationReport,
  AssociationState,
  DirectionReport,
  EndpointReport,
  InspectReport,
  PathReport,
  PpidReport,
  RttReport,
  StreamReport,
  TimelineEvent,
} from './report.js';
export { AnomalyKind } from './report.js';
export type { InspectOptions, GroupedPacket } from './inspector.js';
export { Inspector, inspectCapture, inspectStream } from './inspector.js';
export { ppidLabel } from './ppid.js';
