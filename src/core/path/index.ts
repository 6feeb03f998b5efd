/** Per-destination transport state and its procedures (RFC 9260 §14.3, RFC 7829). */

export * from './state.js';
export * from './rto.js';
export * from './congestion.js';
export * from './fault.js';
export * from './heartbeat.js';
export * from './select.js';
export * from './source.js';
