/**
 * Every (chunk kind × state) cell as an explicit decision, the way Linux's
 * sm_statetable.c does it. The association's dispatcher reads this table before
 * it calls a handler; a test walks every cell.
 *
 * - `process`: the state's handler for the chunk runs.
 * - `discard`: the chunk is dropped silently, the rest of the packet goes on.
 * - `ootb`: the packet is handled as out of the blue (§8.5.1 E: SHUTDOWN ACK
 *   before the association is up).
 * - `unrecognized`: a chunk type we do not implement (extensions not
 *   negotiated): its upper two bits decide (§3.2): stop / stop and report /
 *   skip / skip and report.
 *
 * The `closed` row is the out-of-the-blue packet (§8.4): `ootb-discard-packet`
 * (rule 2, ABORT: the whole packet is dropped), `process` (rule 3, INIT and
 * COOKIE ECHO start the handshake), `ootb-shutdown-complete` (rule 4),
 * `discard` (rules 5, 6, 7), `ootb-abort` (rule 8, ABORT with the T bit),
 * `ootb-ignored` (AUTH: RFC 4895 §6.3, the rules apply to the other chunks).
 */
import type { ChunkKind } from '../../wire/types.js';
import type { AssociationStateName } from './types.js';

export type ChunkDecision = 'process' | 'discard' | 'ootb' | 'unrecognized';
export type OotbDecision = 'process' | 'discard' | 'ootb-discard-packet' | 'ootb-shutdown-complete' | 'ootb-abort' | 'ootb-error' | 'ootb-ignored';

type Row<D> = Record<ChunkKind, D>;

/** Extensions we do not implement (not offered in INIT / INIT ACK): the upper-two-bit rules apply. */
const unimplemented = {
  ecne: 'unrecognized', // RFC 9260 App. A: we never offer ECN
  cwr: 'unrecognized',
  'nr-sack': 'unrecognized',
  idata: 'unrecognized', // RFC 8260 not negotiated
  're-config': 'unrecognized', // RFC 6525 not negotiated
  pad: 'unrecognized', // RFC 4820: type 0x84, skipped silently by its bits
  'i-forward-tsn': 'unrecognized',
  unknown: 'unrecognized',
} as const satisfies Partial<Row<ChunkDecision>>;

/**
 * Extension chunks whose cells apply only where the association negotiated
 * the extension in INIT / INIT ACK; elsewhere the chunk type is one we do not
 * know (`extensionDecision`): AUTH (RFC 4895), ASCONF and ASCONF-ACK (RFC 5061).
 */
export const negotiated = { auth: 'auth', asconf: 'asconf', 'asconf-ack': 'asconf' } as const satisfies Partial<Record<ChunkKind, 'auth' | 'asconf'>>;

export const ootbTable: Row<OotbDecision> = {
  data: 'ootb-abort', // §8.4 rule 8
  init: 'process', // rule 3, §5.1
  'init-ack': 'ootb-abort', // rule 8
  sack: 'ootb-abort',
  heartbeat: 'ootb-abort',
  'heartbeat-ack': 'ootb-abort',
  abort: 'ootb-discard-packet', // rule 2
  shutdown: 'ootb-abort',
  'shutdown-ack': 'ootb-shutdown-complete', // rule 4
  error: 'ootb-error', // rule 6 (Stale Cookie: discard) else rule 8
  'cookie-echo': 'process', // rule 3, §5.1.5
  'cookie-ack': 'discard', // rule 7
  ecne: 'ootb-abort',
  cwr: 'ootb-abort',
  'shutdown-complete': 'discard', // rule 5
  auth: 'ootb-ignored', // RFC 4895 §6.3: out-of-the-blue handling does not take the AUTH chunk into account
  'nr-sack': 'ootb-abort',
  idata: 'ootb-abort',
  'asconf-ack': 'ootb-abort',
  're-config': 'ootb-abort',
  pad: 'ootb-abort',
  'forward-tsn': 'ootb-abort',
  asconf: 'ootb-abort',
  'i-forward-tsn': 'ootb-abort',
  unknown: 'ootb-abort',
};

export const chunkTable: Record<Exclude<AssociationStateName, 'closed'>, Row<ChunkDecision>> = {
  'cookie-wait': {
    data: 'discard', // no TCB yet; the peer cannot have sent DATA before our INIT was answered
    init: 'process', // §5.2.1 INIT collision
    'init-ack': 'process', // §5.1 C
    sack: 'discard',
    heartbeat: 'discard',
    'heartbeat-ack': 'discard',
    abort: 'process', // §5.1: INIT refused
    shutdown: 'discard',
    'shutdown-ack': 'ootb', // §8.5.1 E
    error: 'process', // reported to the ULP
    'cookie-echo': 'process', // §5.2.4 case B (collision)
    'cookie-ack': 'discard', // §5.2.5
    'shutdown-complete': 'discard',
    'forward-tsn': 'discard',
    // No TCB, so nothing negotiated: these follow the upper-two-bit rules whatever the cell says.
    auth: 'unrecognized',
    asconf: 'unrecognized',
    'asconf-ack': 'unrecognized',
    // No peer tag yet: the "report" half of the bits cannot be honoured, stop/skip still applies.
    ...unimplemented,
  },
  'cookie-echoed': {
    data: 'process', // may follow a COOKIE ACK that was lost (§5.1 D: the peer is ESTABLISHED)
    init: 'process', // §5.2.1
    'init-ack': 'discard', // §5.2.3
    sack: 'process',
    heartbeat: 'process',
    'heartbeat-ack': 'process',
    abort: 'process',
    shutdown: 'discard',
    'shutdown-ack': 'ootb', // §8.5.1 E
    error: 'process', // §5.2.6 Stale Cookie
    'cookie-echo': 'process', // §5.2.4
    'cookie-ack': 'process', // §5.1 E
    'shutdown-complete': 'discard',
    'forward-tsn': 'process',
    auth: 'process', // RFC 4895 §6.3: the peer is ESTABLISHED and may authenticate what it sends
    asconf: 'discard', // RFC 5061: no address change before the association is up (as Linux)
    'asconf-ack': 'discard', // we sent no ASCONF yet
    ...unimplemented,
  },
  established: {
    data: 'process',
    init: 'process', // §5.2.2
    'init-ack': 'discard', // §5.2.3
    sack: 'process',
    heartbeat: 'process',
    'heartbeat-ack': 'process',
    abort: 'process',
    shutdown: 'process', // §9.2
    'shutdown-ack': 'discard',
    error: 'process',
    'cookie-echo': 'process', // §5.2.4
    'cookie-ack': 'discard', // §5.2.5
    'shutdown-complete': 'discard',
    'forward-tsn': 'process', // RFC 3758 §3.6
    auth: 'process', // RFC 4895 §6.3
    asconf: 'process', // RFC 5061 §5.2
    'asconf-ack': 'process', // RFC 5061 §5.1
    ...unimplemented,
  },
  'shutdown-pending': {
    data: 'process', // §9.2: the peer may still send
    init: 'process',
    'init-ack': 'discard',
    sack: 'process',
    heartbeat: 'process',
    'heartbeat-ack': 'process',
    abort: 'process',
    shutdown: 'process', // §9.2: to SHUTDOWN-RECEIVED
    'shutdown-ack': 'discard',
    error: 'process',
    'cookie-echo': 'process',
    'cookie-ack': 'discard',
    'shutdown-complete': 'discard',
    'forward-tsn': 'process',
    auth: 'process',
    asconf: 'process', // the peer may still reconfigure while our data drains
    'asconf-ack': 'process',
    ...unimplemented,
  },
  'shutdown-sent': {
    data: 'process', // §9.2: acknowledged at once, SHUTDOWN repeated
    init: 'process',
    'init-ack': 'discard',
    sack: 'process',
    heartbeat: 'process',
    'heartbeat-ack': 'process',
    abort: 'process',
    shutdown: 'process', // §9.2 collision: SHUTDOWN ACK
    'shutdown-ack': 'process', // §9.2: SHUTDOWN COMPLETE
    error: 'process',
    'cookie-echo': 'process',
    'cookie-ack': 'discard',
    'shutdown-complete': 'discard',
    'forward-tsn': 'process',
    auth: 'process',
    asconf: 'process', // the peer still sends until it answers the SHUTDOWN (as Linux)
    'asconf-ack': 'process',
    ...unimplemented,
  },
  'shutdown-received': {
    data: 'discard', // §9.2: the SHUTDOWN sender has no new data
    init: 'process',
    'init-ack': 'discard',
    sack: 'process', // our outstanding data is still being acknowledged
    heartbeat: 'process',
    'heartbeat-ack': 'process',
    abort: 'process',
    shutdown: 'process', // cumulative TSN ack
    'shutdown-ack': 'discard',
    error: 'process',
    'cookie-echo': 'process',
    'cookie-ack': 'discard',
    'shutdown-complete': 'discard',
    'forward-tsn': 'discard',
    auth: 'process',
    asconf: 'process',
    'asconf-ack': 'process',
    ...unimplemented,
  },
  'shutdown-ack-sent': {
    data: 'discard',
    init: 'process', // §9.2: discard it and repeat the SHUTDOWN ACK
    'init-ack': 'discard',
    sack: 'discard',
    heartbeat: 'process',
    'heartbeat-ack': 'process',
    abort: 'process',
    shutdown: 'process', // repeat the SHUTDOWN ACK
    'shutdown-ack': 'process', // §9.2 collision: SHUTDOWN COMPLETE
    error: 'process',
    'cookie-echo': 'process', // §5.2.4 A: Cookie Received While Shutting Down
    'cookie-ack': 'discard',
    'shutdown-complete': 'process', // §9.2
    'forward-tsn': 'discard',
    auth: 'process',
    asconf: 'discard', // the association is going: no more reconfiguration (as Linux)
    'asconf-ack': 'discard',
    ...unimplemented,
  },
};

/**
 * The cell for `kind` in `state`, with the negotiation rule applied: an
 * extension chunk of an extension this association did not negotiate is one
 * we do not know (RFC 9260 §3.2), whatever the table says.
 */
export function chunkDecision(state: Exclude<AssociationStateName, 'closed'>, kind: ChunkKind, auth: boolean, asconf: boolean): ChunkDecision {
  const ext = (negotiated as Partial<Record<ChunkKind, 'auth' | 'asconf'>>)[kind];
  if (ext !== undefined && !(ext === 'auth' ? auth : asconf)) return 'unrecognized';
  return chunkTable[state][kind];
}
