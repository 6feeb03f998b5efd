/** The send side of SCTP data transfer: send queue, retransmission queue, PR-SCTP. */
export * from './types.js';
export * from './send-queue.js';
export * from './retransmission-queue.js';
export * from './sack.js';
export * from './t3.js';
export * from './pr-sctp.js';
export * from './transmit.js';
