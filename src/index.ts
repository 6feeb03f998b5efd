/**
 * hasctp public entry point. The wire codec is also available on its own as
 * `hasctp/wire`.
 */
export * as wire from './wire/index.js';
export * as pcap from './pcap/index.js';
export * as core from './core/index.js';
export * as sim from './sim/index.js';
export * as runtime from './runtime/index.js';
export { Association, connect, createServer, SctpError, Server } from './api/index.js';
export type { CommonOptions, ConnectOptions, Message, SendFailed, SendOptions, ServerAddress, ServerOptions } from './api/index.js';

// High availability (README "High availability"): a cluster node as a library,
// with the built-in applications or the caller's own (ClusterApp: it returns
// the ops to apply for each event, a reply and the commit of what it answers
// in one record).
export { ClusterNode, createClusterNode } from './cluster/node.js';
export type { ClusterNodeOptions, FailoverTimings, NodeStatus } from './cluster/node.js';
export { loadNodeConfig, parseNodeConfig } from './cluster/config.js';
export type { NodeConfig } from './cluster/config.js';
export { createApp } from './cluster/apps.js';
export type { ClusterApp } from './cluster/apps.js';
export type { Op } from './cluster/state/messages.js';
export type { AppEvent } from './cluster/state/replica.js';

// The signaling relay (README "Using hasctp as a signaling gateway").
export { startRelay } from './relay/relay.js';
export type { RelayHandle } from './relay/relay.js';
export { parseRelayConfig } from './relay/config.js';
export type { RelayConfig } from './relay/config.js';
