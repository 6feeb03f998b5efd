/**
 * The receive side of data transfer: which TSNs arrived and when to SACK them
 * (`dataTracker`), reassembly and delivery order (`reassembly`), and the
 * advertised window (`advertisedWindow`, `needsWindowUpdate`).
 */
export * as dataTracker from './data-tracker.js';
export * as reassembly from './reassembly.js';
export * from './window.js';
