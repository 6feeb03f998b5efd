/**
 * hasctp public entry point. The wire codec is also available on its own as
 * `hasctp/wire`.
 */
export * as wire from './wire/index.js';
export * as pcap from './pcap/index.js';
export * as core from './core/index.js';
export * as sim from './sim/index.js';
