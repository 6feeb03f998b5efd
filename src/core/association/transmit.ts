/**
 * Packet assembly (RFC 9260 §6.1, §6.10): control chunks first, then SACK and
 * FORWARD TSN, then DATA chosen by the tx module, up to Max.Burst packets per
 * transmission opportunity, each within the path MTU. Destination choice per
 * §6.4 via the path module; source address per destination family.
 */
import { encodedChunkLength } from '../../wire/chunk.js';
import type { Chunk, SackChunk } from '../../wire/types.js';
import { applyIdleDecay, sendAllowance } from '../path/congestion.js';
import { selectDestination } from '../path/select.js';
import { selectSource } from '../path/source.js';
import { ipFamilyOf, maxDataPayload } from '../path/state.js';
import { isWithheld } from '../rx/ack-hold.js';
import { buildSack, gapBlocksThatFit, isSackOwed, onSackSent } from '../rx/data-tracker.js';
import { advertisedWindow } from '../rx/window.js';
import { takeForwardTsn } from '../tx/pr-sctp.js';
import { flightSizeOf, hasChunksToRetransmit, totalFlightSize } from '../tx/retransmission-queue.js';
import { isSendQueueEmpty } from '../tx/send-queue.js';
import { nextChunksToSend } from '../tx/transmit.js';
import { withAuth } from '../auth/send.js';
import type { AssocContext } from './context.js';
import { emitSendFailed } from './events.js';
import { pathOf } from './tcb.js';
import type { Association, Tcb } from './types.js';

const COMMON_HEADER = 12;

function ipHeader(address: string): number {
  return ipFamilyOf(address) === 'ipv6' ? 40 : 20;
}

/**
 * Bytes of SCTP packet (common header included) that fit the path MTU towards
 * `destination`, less the room an AUTH chunk takes when the peer wants
 * bundled chunks authenticated (RFC 4895 §6.2, auth/state.ts `reserve`).
 */
export function packetLimit(tcb: Tcb | undefined, destination: string, mtu: number): number {
  const path = tcb ? pathOf(tcb, destination) : undefined;
  return (path?.mtu ?? mtu) - ipHeader(destination) - (tcb?.auth?.reserve ?? 0);
}

/** Sends one packet now, counting it; with an AUTH chunk where RFC 4895 §6.2 asks for one (auth/send.ts). */
export function emitPacket(ctx: AssocContext, a: Association, destination: string, verificationTag: number, chunks: readonly Chunk[], tcb?: Tcb): void {
  if (chunks.length === 0) return;
  const authed = tcb?.auth ? withAuth(tcb.auth, chunks) : undefined;
  const out = authed ? authed.chunks : chunks;
  if (tcb) {
    tcb.counters.outPackets++;
    for (const c of out) {
      if (c.kind === 'data') {
        if (c.unordered) tcb.counters.outUnorderChunks++;
        else tcb.counters.outOrderChunks++;
      } else tcb.counters.outControlChunks++;
    }
  }
  ctx.send({
    // On-link address first, then the one the peer's packets arrive at (path/source.ts).
    source: selectSource(a.localAddresses, destination, a.routes.get(destination)),
    destination,
    packet: { sourcePort: a.localPort, destinationPort: a.peerPort, verificationTag, chunks: authed ? out : chunks },
    ...(authed && { auth: authed.sign }),
  });
}

/** The path module's flight sizes mirror the retransmission queue's, which owns them. */
export function syncFlight(tcb: Tcb): void {
  for (const p of tcb.paths) p.flightSize = flightSizeOf(tcb.rq, p.address);
}

/** Where new DATA goes now (§6.4, RFC 7829 §6). */
export function dataDestination(ctx: AssocContext, tcb: Tcb): string {
  return selectDestination(tcb.paths, tcb.primary, ctx.config, tcb.lastDataDestination)?.address ?? tcb.primary;
}

function currentRwnd(ctx: AssocContext, tcb: Tcb): number {
  const h = tcb.hold;
  if (!h) return advertisedWindow(tcb.reasm.bufferedBytes + tcb.heldBytes, ctx.config, tcb.lastAdvertisedRwnd);
  // rx/ack-hold.ts: withheld bytes are already outstanding for the peer, so
  // only reported bytes still unread count here; overdue: window closed.
  if (h.backPressure) return 0;
  return advertisedWindow(Math.max(0, tcb.heldBytes - h.pendingBytes), ctx.config, tcb.lastAdvertisedRwnd);
}

/** The SACK for now, fitted into `room` bytes; records it as sent. */
function takeSack(ctx: AssocContext, tcb: Tcb, room: number): SackChunk {
  const rwnd = currentRwnd(ctx, tcb);
  const h = tcb.hold;
  // Under hold, what is reported comes from the hold's own tracker, and a
  // duplicate of a withheld TSN is not listed (it was never reported).
  const report = h ? h.report : tcb.tracker;
  const dups = h ? tcb.tracker.duplicateTsns.filter((t) => !isWithheld(h, t)) : tcb.tracker.duplicateTsns;
  const built = buildSack(report, rwnd, gapBlocksThatFit(room, Math.min(dups.length, 16)));
  const sack = h ? { ...built, duplicateTsns: dups } : built;
  const fitted = sack.duplicateTsns.length > 16 ? { ...sack, duplicateTsns: sack.duplicateTsns.slice(0, 16) } : sack;
  onSackSent(tcb.tracker);
  if (h) h.releasesSinceSack = 0;
  tcb.lastAdvertisedRwnd = rwnd;
  tcb.sackNow = false;
  tcb.delayedSackAt = undefined;
  tcb.counters.sacksSent++;
  return fitted;
}

function sackDestinationOf(tcb: Tcb, fallback: string): string {
  const d = tcb.sackDestination;
  const p = d !== undefined ? pathOf(tcb, d) : undefined;
  return p && p.state !== 'inactive' && p.state !== 'unconfirmed' ? p.address : fallback;
}

export interface FlushOptions {
  /** New DATA may be sent in this state (ESTABLISHED, SHUTDOWN-PENDING, SHUTDOWN-RECEIVED). */
  readonly data: boolean;
  /** Send DATA (retransmissions first) to this destination instead of the §6.4 choice. */
  readonly destination?: string;
  /** At most this many packets carrying DATA (§6.3.3 E3: one after a T3-rtx expiry). */
  readonly maxDataPackets?: number;
}

/** Sends everything that is due: control chunks, SACK, FORWARD TSN, DATA. */
export function flushTcb(ctx: AssocContext, a: Association, tcb: Tcb, opts: FlushOptions): void {
  const dataDest = opts.destination ?? dataDestination(ctx, tcb);
  const sackDue = tcb.sackNow;
  const sackDest = sackDue ? sackDestinationOf(tcb, dataDest) : dataDest;

  // Control chunks, grouped by destination in first-seen order.
  const groups = new Map<string, Chunk[]>();
  for (const item of tcb.control) {
    const d = item.destination ?? dataDest;
    let g = groups.get(d);
    if (!g) groups.set(d, (g = []));
    g.push(item.chunk);
  }
  tcb.control = [];
  if (sackDue && !groups.has(sackDest)) groups.set(sackDest, []);
  if (!groups.has(dataDest)) groups.set(dataDest, []);

  for (const [dest, chunks] of groups) {
    const limit = packetLimit(tcb, dest, ctx.config.pathMtu);
    let packet: Chunk[] = [];
    let size = COMMON_HEADER;
    const push = (c: Chunk): void => {
      const len = encodedChunkLength(c);
      if (packet.length > 0 && size + len > limit) {
        emitPacket(ctx, a, dest, tcb.peerTag, packet, tcb);
        packet = [];
        size = COMMON_HEADER;
      }
      packet.push(c);
      size += len;
    };
    for (const c of chunks) push(c);
    if (tcb.sackNow && dest === sackDest) push(takeSack(ctx, tcb, limit - size));
    if (dest === dataDest) {
      const fwd = tcb.rq.forwardTsnPending ? takeForwardTsn(tcb.rq, limit - COMMON_HEADER) : undefined;
      if (fwd) {
        push(fwd);
        // RFC 3758 §3.5 C5: "If the T3-rtx timer is not running, start it"
        // after sending a FORWARD TSN, so that a lost one is sent again at
        // its expiry (A5) even when no DATA is outstanding.
        if (!tcb.t3.has(dest)) tcb.t3.set(dest, ctx.now + (pathOf(tcb, dest)?.rto ?? ctx.config.rtoInitial));
      }
      if (opts.data || hasChunksToRetransmit(tcb.rq)) {
        sendData(ctx, a, tcb, dest, packet, size, limit, opts.maxDataPackets ?? ctx.config.maxBurst);
        continue;
      }
    }
    emitPacket(ctx, a, dest, tcb.peerTag, packet, tcb);
  }
}

/**
 * DATA packets to `dest`, the first one completing `first` (control chunks
 * already in it). Budget per §6.1 B/D: the path's allowance, Max.Burst.
 */
function sendData(ctx: AssocContext, a: Association, tcb: Tcb, dest: string, first: Chunk[], firstSize: number, limit: number, maxPackets: number): void {
  const now = ctx.now;
  const path = pathOf(tcb, dest);
  syncFlight(tcb);
  let budget = path ? sendAllowance(path, ctx.config, now) : 0;
  const family = ipFamilyOf(dest);
  const maxFragment = maxDataPayload((path?.mtu ?? ctx.config.pathMtu) - (tcb.auth?.reserve ?? 0), family);
  // The window is open only when it takes a whole fragment: a sliver smaller
  // than the next chunk (e.g. a_rwnd 44 with 100 B messages) stops data just
  // as a zero window does, so it must not restart the probe clock, or the
  // probe (§6.1 A) never becomes due and the association stalls for good
  // (a lost TSN below a full receive buffer is then never retransmitted).
  if (tcb.rq.peerRwnd >= maxFragment) tcb.zeroWindowSince = undefined;
  const probeDue = tcb.zeroWindowSince !== undefined && now >= tcb.zeroWindowSince + (path?.rto ?? ctx.config.rtoInitial);
  // Sender-side SWS avoidance (Nagle, see TransmitRequest.nagle) only while the
  // application may still add data: once a SHUTDOWN is pending or received no
  // more will come, so a held runt would only wait.
  const nagle = !ctx.config.nodelay && a.fsm.state === 'established';
  let packet = first;
  let size = firstSize;
  for (let n = 0; n < maxPackets; n++) {
    // Piggyback a SACK that is owed but not yet due (§6.2 "bundled with outgoing DATA").
    const owed = (isSackOwed(tcb.tracker) || (tcb.hold?.releasesSinceSack ?? 0) > 0) && !packet.some((c) => c.kind === 'sack');
    const sackReserve = owed ? 16 + 4 * Math.min(tcb.tracker.gapRanges.length, 16) + 4 * Math.min(tcb.tracker.duplicateTsns.length, 16) : 0;
    const space = limit - size - sackReserve;
    const r = nextChunksToSend(tcb.rq, tcb.sq, {
      destination: dest,
      now,
      packetSpace: space,
      maxFragmentPayload: maxFragment,
      cwndBudget: budget,
      allowZeroWindowProbe: probeDue,
      nagle,
    });
    emitSendFailed(ctx, a.id, r.sendFailed);
    if (r.chunks.length > 0) {
      if (owed) packet.push(takeSack(ctx, tcb, sackReserve));
      for (const c of r.chunks) packet.push(c);
      budget -= r.bytes;
      tcb.counters.rtxChunks += r.retransmittedTsns.length;
      tcb.lastDataDestination = dest;
      if (path) {
        applyIdleDecay(path, now);
        path.lastDataSentAt = now;
        path.cwndIdleSince = now;
        path.counters.rtxChunks += r.retransmittedTsns.length;
      }
      // §6.3.2 R1: start T3-rtx for the destination if it is not running.
      if (!tcb.t3.has(dest)) tcb.t3.set(dest, now + (path?.rto ?? ctx.config.rtoInitial));
      // Data went (a probe, or chunks small enough for the window): not closed.
      tcb.zeroWindowSince = undefined;
    }
    emitPacket(ctx, a, dest, tcb.peerTag, packet, tcb);
    packet = [];
    size = COMMON_HEADER;
    if (r.chunks.length === 0 || r.stoppedBy !== 'packet-full' || budget <= 0) {
      if (r.stoppedBy === 'rwnd' && totalFlightSize(tcb.rq) === 0 && tcb.zeroWindowSince === undefined) tcb.zeroWindowSince = now;
      break;
    }
  }
  syncFlight(tcb);
  if (isSendQueueEmpty(tcb.sq) && tcb.rq.chunks.length === 0) tcb.zeroWindowSince = undefined;
}
