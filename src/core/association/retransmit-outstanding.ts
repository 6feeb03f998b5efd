/**
 * Retransmit everything outstanding now, for an association whose DATA left
 * from a source address that is gone: an HA standby that took over from a
 * dead primary host, or a host that lost the interface the data left from.
 *
 * The peer sends its SACKs to the address the DATA came from (RFC 9260 §6.4),
 * so the SACKs for what the old source sent never arrive; waiting for T3-rtx
 * only adds up to one RTO (more after backoff) to the outage. What is done is
 * §6.3.3 E3 for every destination: each chunk in flight is marked for
 * retransmission and leaves the flight, and they go out lowest TSN first as
 * cwnd and rwnd allow (§6.1), the peer reporting as duplicates what it already
 * had. E1 and E2 are not applied: no timer expired and the network signalled
 * no loss, so neither ssthresh nor the RTO is touched and no error is counted
 * (§8.1, §8.2). The packets take a new network path, though, so cwnd starts
 * over from no more than the initial window (§7.2.1), and T3-rtx restarts for
 * every destination that had chunks outstanding (§6.3.2 R1). An outstanding
 * ASCONF (RFC 5061) goes again first, for the same reason: when it adds the
 * address the packets will now come from, the peer learns it (the ASCONF is
 * found by its Address Parameter, §5.2) before the DATA arrives from there.
 */
import { resendOutstandingAsconf } from '../asconf/sender.js';
import { initialCwnd } from '../path/state.js';
import { onT3RtxExpiry as markDestination } from '../tx/t3.js';
import type { AssocContext } from './context.js';
import { emitSendFailed } from './events.js';
import { flushTcb, syncFlight } from './transmit.js';
import type { Association } from './types.js';

/** Returns the number of TSNs marked for retransmission (0 outside the states that carry DATA). */
export function retransmitOutstanding(ctx: AssocContext, a: Association): number {
  const s = a.fsm;
  switch (s.state) {
    case 'closed':
    case 'cookie-wait':
    case 'cookie-echoed':
      return 0;
    case 'shutdown-sent':
    case 'shutdown-ack-sent':
      // SHUTDOWN and SHUTDOWN ACK are sent only once nothing is outstanding (§9.2).
      return 0;
    case 'established':
    case 'shutdown-pending':
    case 'shutdown-received':
      break;
  }
  const tcb = s.tcb;
  resendOutstandingAsconf(ctx, a, tcb);
  let marked = 0;
  for (const destination of [...tcb.rq.flightSize.keys()]) {
    const out = markDestination(tcb.rq, tcb.sq, destination, ctx.now);
    emitSendFailed(ctx, a.id, out.sendFailed);
    marked += out.markedTsns.length;
    if (out.markedTsns.length > 0) {
      const path = tcb.paths.find((p) => p.address === destination);
      tcb.t3.set(destination, ctx.now + (path?.rto ?? ctx.config.rtoInitial));
    }
  }
  syncFlight(tcb);
  if (marked === 0) return 0;
  for (const p of tcb.paths) {
    p.cwnd = Math.min(p.cwnd, initialCwnd(p.mtu));
    p.partialBytesAcked = 0;
  }
  flushTcb(ctx, a, tcb, { data: true });
  return marked;
}
