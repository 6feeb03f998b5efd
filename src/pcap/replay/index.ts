/** Replay planning: the message script of one captured association (the CLI plays it against a live peer). */
export type { ReplayScript, ScriptEndpoint, ScriptMessage, ScriptOptions } from './script.js';
export { ScriptBuilder, buildScript, buildScriptStream, pickAssociation } from './script.js';
