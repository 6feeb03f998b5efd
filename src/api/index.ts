/** The public, Node-idiomatic API: createServer(), connect(), Association. */
export { Association, SctpError } from './association.js';
export type { AsconfOutcome, Message, SendFailed, SendOptions } from './association.js';
export { connect } from './connect.js';
export type { ConnectOptions } from './connect.js';
export { createServer, Server } from './server.js';
export type { ServerAddress, ServerOptions } from './server.js';
export type { CommonOptions } from './host.js';
