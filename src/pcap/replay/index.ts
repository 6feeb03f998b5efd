/** Replay planning: the message script of one captured association (the CLI plays it against a live peer), and its offline re-execution. */
export type { ReplayScript, ScriptEndpoint, ScriptMessage, ScriptOptions } from './script.js';
export { ScriptBuilder, buildScript, buildScriptStream, pickAssociation } from './script.js';
export type { OfflineOptions, OfflineReport } from './offline.js';
export { replayOffline } from './offline.js';
export type { Divergence, DivergenceKind, NormalChunk } from './normalize.js';
export { chunkKey, compareChunks } from './normalize.js';
