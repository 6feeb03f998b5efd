/** RFC 4895 chunk authentication: parameters, keys, AUTH placement and verification. */
export * from './state.js';
export * from './params.js';
export * from './keys.js';
export * from './mac.js';
export * from './send.js';
export * from './verify.js';
