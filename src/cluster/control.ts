/**
 * The node's control socket: the generic one of src/ops/control.ts (Unix
 * domain socket, mode 0600, JSON lines; malformed or unknown requests get an
 * error reply and the node keeps running). The node registers:
 *
 *   {"cmd":"status"}            → {"ok":true,"status":{...}}
 *   {"cmd":"failover"}          → planned switchover to the standby
 *   {"cmd":"promote","force":b} → take over now (standby)
 *
 * besides the inspection commands every process has (src/ops/handlers.ts).
 */
import { controlRequest as request, type ControlReply, type ControlRequest } from '../ops/control.js';

export { defaultControlPath, startControlServer, type ControlHandler } from '../ops/control.js';

/** Sends one request to a node and returns the reply. @throws Error with a one-line message. */
export async function controlRequest(path: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlReply> {
  try {
    return await request(path, req, timeoutMs);
  } catch (e) {
    throw new Error(e instanceof Error ? e.message.replace('cannot reach the control socket', "cannot reach the node's control socket") : String(e), { cause: e });
  }
}
