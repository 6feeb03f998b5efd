/**
 * The peer's ASCONF (RFC 5061 §5.2): serial number checks (C1-C4), the
 * parameters processed in order (V1-V5), and the ASCONF-ACK that answers it,
 * kept to be sent again when the same ASCONF comes back (C3). The dispatcher
 * only hands over an ASCONF that an AUTH chunk vouched for (§4.1, RFC 4895 §6.3).
 */
import { add32 } from '../../wire/serial.js';
import { paramType } from '../../wire/param.js';
import { unrecognizedParamAction } from '../../wire/registry.js';
import type { AsconfAckChunk, AsconfChunk, ErrorCause, Param } from '../../wire/types.js';
import type { AssocContext } from '../association/context.js';
import type { Association, Tcb } from '../association/types.js';
import { peerAddAddress, peerDeleteAddress, peerSetPrimary, requestTlv } from './peer.js';

/** The Correlation ID of a parameter we do not know: its first four value bytes, as every ASCONF parameter starts (§4.2). */
function unknownCorrelationId(p: Param): number {
  if (p.kind !== 'unknown' || p.value.length < 4) return 0;
  return ((p.value[0]! << 24) | (p.value[1]! << 16) | (p.value[2]! << 8) | p.value[3]!) >>> 0;
}

/**
 * An authenticated ASCONF from `source`. Returns the ASCONF-ACK to send back
 * to `source`, or undefined when the chunk is dropped (§5.2 C4).
 */
export function onAsconf(ctx: AssocContext, a: Association, tcb: Tcb, chunk: AsconfChunk, source: string): AsconfAckChunk | undefined {
  const st = tcb.asconf;
  if (st === undefined) return undefined;
  // C3: the ASCONF we processed last, again (our ASCONF-ACK was lost): the same answer, nothing redone.
  if (chunk.serial === st.peerSerial) {
    st.counters.replayed++;
    return st.lastAck;
  }
  // C4: neither the next serial nor the last one: stale, or from an attacker.
  if (chunk.serial !== add32(st.peerSerial, 1)) {
    st.counters.dropped++;
    return undefined;
  }
  st.counters.received++;
  // V1-V4: in order; after the first failure every parameter is answered (as Linux and usrsctp do,
  // so the sender need not apply §5.1 A7's guesses), before it a success is implied (A8).
  const responses: Param[] = [];
  let failed = false;
  const answer = (correlationId: number, cause: ErrorCause | undefined): void => {
    if (cause !== undefined) failed = true;
    if (cause !== undefined) responses.push({ kind: 'error-cause-indication', correlationId, causes: [cause] });
    else if (failed) responses.push({ kind: 'success-indication', correlationId });
  };
  for (const p of chunk.params) {
    let stop = false;
    switch (p.kind) {
      case 'add-ip-address':
        answer(p.correlationId, peerAddAddress(ctx, a, tcb, p, source));
        break;
      case 'delete-ip-address':
        answer(p.correlationId, peerDeleteAddress(ctx, a, tcb, p, source));
        break;
      case 'set-primary-address':
        answer(p.correlationId, peerSetPrimary(ctx, a, tcb, p, source));
        break;
      case 'adaptation-layer-indication':
        // §4.2.5 allows it in an ASCONF; nothing to do but note it.
        tcb.peerAdaptation = p.indication;
        break;
      case 'error-cause-indication':
      case 'success-indication':
        // Response parameters have no place in a request: ignored (as usrsctp).
        break;
      case 'heartbeat-info':
      case 'ipv4-address':
      case 'ipv6-address':
      case 'state-cookie':
      case 'unrecognized-parameter':
      case 'cookie-preservative':
      case 'host-name-address':
      case 'supported-address-types':
      case 'ecn-capable':
      case 'forward-tsn-supported':
      case 'random':
      case 'chunk-list':
      case 'hmac-algo':
      case 'padding':
      case 'supported-extensions':
      case 'outgoing-ssn-reset-request':
      case 'incoming-ssn-reset-request':
      case 'ssn-tsn-reset-request':
      case 'reconfig-response':
      case 'add-outgoing-streams-request':
      case 'add-incoming-streams-request':
      case 'unknown': {
        // V2 / RFC 9260 §3.2.1: the parameter type's upper two bits; reported as Unrecognized Parameters.
        const action = unrecognizedParamAction(paramType(p));
        if (action === 'stop-and-report' || action === 'skip-and-report') answer(unknownCorrelationId(p), { kind: 'unrecognized-parameters', params: requestTlv(p) });
        stop = action === 'stop' || action === 'stop-and-report';
        break;
      }
    }
    if (stop) break;
  }
  // V5.
  st.peerSerial = chunk.serial;
  st.lastAck = { kind: 'asconf-ack', serial: chunk.serial, params: responses };
  return st.lastAck;
}
