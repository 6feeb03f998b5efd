/** The deterministic simulated network (DESIGN.md §2, §5). */
export type { Datagram, PacketTooBig, SimHost } from './host.js';
export { createSimulation, Simulation } from './simulation.js';
export type { RunOptions, SimulationOptions } from './simulation.js';
export { defaultLinkProperties } from './link.js';
export type { LinkProperties, LinkSettings, LinkStats } from './link.js';
export { allOf, anyOf, chunkIs, dataWithTsn, fromAddress, not, toAddress } from './filters.js';
export type { ChunkPredicate, DropFilter, DropOptions, FilterContext, FilterHit } from './filters.js';
export { formatTraceEntry } from './trace.js';
export type { DropReason, FormatTraceOptions, TraceEntry, TraceFate } from './trace.js';
export { EchoHost, ReliableSender, ScriptedHost, dataChunk, packetBytes } from './test-hosts.js';
export type { Received, ReliableSenderOptions } from './test-hosts.js';
export { EndpointHost, NearWrapRng, runTransferSimulation, simulationConfig } from './scenarios.js';
export type { TransferOptions, TransferResult } from './scenarios.js';
