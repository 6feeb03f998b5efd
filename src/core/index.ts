/**
 * The public core API: `import { createEndpoint } from 'hasctp/core'`.
 * Pure, synchronous, sans-IO (DESIGN.md §2).
 */
export * from './env.js';
export * from './config.js';
export { createEndpoint, Endpoint } from './endpoint.js';
export type { AddressChangeResult, ConnectOptions, ConnectResult, Datagram, EndpointCounters, EndpointEvent, EndpointOptions } from './endpoint.js';
export type { AsconfRequest, AsconfRequestKind, AsconfState } from './asconf/state.js';
export type { AsconfRequestError } from './asconf/sender.js';
export type { AuthState } from './auth/state.js';
export type { SendError, SendOptions, SendResult } from './association/association.js';
export type { SetPrimaryResult } from './association/multihoming.js';
export type {
  Association,
  AssociationCounters,
  AssociationEvent,
  AssociationState,
  AssociationStateName,
  AsconfResult,
  CannotStartReason,
  LostReason,
  PeerAddrState,
  Tcb,
} from './association/types.js';
export { chunkTable, ootbTable } from './association/chunk-table.js';
export type { ChunkDecision, OotbDecision } from './association/chunk-table.js';
export { summarize } from './association/snapshot.js';
export type { AssociationSummary, ExtensionsSummary, PathSummary } from './association/snapshot.js';
