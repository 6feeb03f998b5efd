/** The runtime: drives the sans-IO core over a real transport with the real clock. */
export { CryptoRng, hmacSha256, monotonicNow } from './env.js';
export { Runtime } from './runtime.js';
export type { RuntimeOptions } from './runtime.js';
export { openTransport, boundUdpPort } from './transports.js';
export type { OpenTransportOptions, TransportKind } from './transports.js';
