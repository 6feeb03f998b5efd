/** RFC 5061 dynamic address reconfiguration: our requests, the peer's, and the state both keep. */
export * from './state.js';
export * from './sender.js';
export * from './receiver.js';
export * from './peer.js';
