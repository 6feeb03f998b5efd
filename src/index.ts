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
