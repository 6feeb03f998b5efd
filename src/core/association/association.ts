/**
 * One association's packet dispatcher and ULP calls. The verification tag
 * rules (RFC 9260 §8.5, §8.5.1) are checked per packet, then each chunk goes
 * through the chunk × state table (chunk-table.ts) to its handler. Every input
 * ends with `afterInput`: shutdown progress, then one flush of everything due.
 */
import { chunkType, encodeChunk, encodedChunkLength } from '../../wire/chunk.js';
import { unrecognizedChunkAction } from '../../wire/registry.js';
import type { Chunk, DecodedPacket, ErrorCause, Packet } from '../../wire/types.js';
import { onPacketFrom } from '../path/state.js';
import { enqueue, type EnqueueError } from '../tx/send-queue.js';
import { isSenderDry } from '../tx/transmit.js';
import { abortAssociation, onAbortChunk } from './abort.js';
import { chunkDecision } from './chunk-table.js';
import { onAsconf } from '../asconf/receiver.js';
import { maybeSendAsconf, onAsconfAck, onAsconfUnrecognized } from '../asconf/sender.js';
import { mustBeAuthenticated, verifyAuthChunk } from '../auth/verify.js';
import { onCookieEchoInAssociation, onInitInAssociation } from './collision.js';
import type { AssocContext } from './context.js';
import { onDataChunk, onForwardTsnChunk, onPacketEnd, onSackChunk, type ChunkResult } from './data.js';
import { onCookieAck, onInitAck, onStaleCookie } from './handshake.js';
import { onHeartbeat, onHeartbeatAckChunk } from './multihoming.js';
import { onDataWhileShutdownSent, onShutdown, onShutdownAck, onShutdownComplete, progressShutdown } from './shutdown.js';
import { emitPacket, flushTcb } from './transmit.js';
import { localTagOf, pathOf, tcbOf } from './tcb.js';
import type { Association, Tcb } from './types.js';

export interface Received {
  readonly packet: DecodedPacket | Packet;
  /** The peer address it came from and our address it went to. */
  readonly source: string;
  readonly destination: string;
  /** The packet as received: what an AUTH chunk's HMAC covers (RFC 4895 §6.3). */
  readonly bytes?: Uint8Array;
}

/** The complete bytes of a chunk (header included, unpadded), for Unrecognized Chunk Type (§3.2). */
function chunkBytes(c: Chunk): Uint8Array {
  const out = new Uint8Array(encodedChunkLength(c));
  encodeChunk(c, out, 0);
  const len = (out[2]! << 8) | out[3]!;
  return out.subarray(0, Math.min(len, out.length));
}

/**
 * A packet demultiplexed to this association. `start` skips chunks already
 * handled (the COOKIE ECHO that created it at endpoint level).
 */
export function handlePacket(ctx: AssocContext, a: Association, rx: Received, start = 0): void {
  const { packet, source } = rx;
  const chunks = packet.chunks;
  const first = chunks[start];
  if (!first) return;
  const vtag = packet.verificationTag;
  const localTag = localTagOf(a);
  // Our address the peer sends its DATA to is where its traffic lives: packets
  // without DATA (a HEARTBEAT probing another address, a SACK that answers
  // our own choice of source) do not move it, or source and destination
  // could chase each other between two addresses.
  if (a.localAddresses.includes(rx.destination) && (!a.routes.has(source) || carriesData(rx.packet))) a.routes.set(source, rx.destination);
  const tcb0 = tcbOf(a.fsm);
  if (tcb0) {
    tcb0.counters.inPackets++;
    const p = pathOf(tcb0, source);
    if (p) onPacketFrom(p, ctx.now);
  }

  if (start === 0) {
    // §8.5.1 A / §6.10: INIT alone in its packet, with tag 0.
    if (first.kind === 'init') {
      if (chunks.length === 1 && vtag === 0) onInitInAssociation(ctx, a, first, source);
      return;
    }
    // §6.10: "INIT ACK, and SHUTDOWN COMPLETE chunks MUST NOT be bundled with
    // any other chunk": such a packet is malformed and dropped whole (as
    // FreeBSD does; Linux ABORTs), so no chunk bundled with it is acted on.
    if (chunks.length > 1 && chunks.some((c) => c.kind === 'init-ack' || c.kind === 'shutdown-complete')) return;
    // §8.5.1 D: COOKIE ECHO (first in its packet) is checked against the tag in the cookie.
    if (first.kind === 'cookie-echo') {
      if (!onCookieEcho(ctx, a, first.cookie, vtag, packet.sourcePort, source)) return;
      processChunks(ctx, a, rx, 1);
      return;
    }
    // §8.5.1 B / C: ABORT and SHUTDOWN COMPLETE carry our tag, or the peer's with the T bit.
    const special = chunks.find((c) => c.kind === 'abort' || c.kind === 'shutdown-complete');
    if (special && (special.kind === 'abort' || special.kind === 'shutdown-complete')) {
      const peerTag = tcbOf(a.fsm)?.peerTag;
      const ok = special.tBit ? peerTag !== undefined && vtag === peerTag : vtag === localTag;
      if (!ok) return;
      if (special.tBit) {
        // §8.5.1 B / C: a reflected tag vouches for the ABORT / SHUTDOWN COMPLETE
        // only, never for the chunks bundled with it.
        processChunks(ctx, a, { source: rx.source, destination: rx.destination, packet: { ...packet, chunks: [special] } }, 0);
        return;
      }
      // With our own tag the packet is read in order: an unrecognized chunk
      // whose type says "stop" before the ABORT (§3.2: "discard ... all further
      // chunks") means the ABORT is never read.
    } else if (vtag !== localTag) {
      // §8.5.1 E: SHUTDOWN ACK before the association is up is out of the blue.
      if ((a.fsm.state === 'cookie-wait' || a.fsm.state === 'cookie-echoed') && chunks.some((c) => c.kind === 'shutdown-ack')) {
        replyShutdownComplete(ctx, a, rx);
      }
      // §8.5: "the receiver MUST silently discard the packet".
      return;
    }
  }
  processChunks(ctx, a, rx, start);
}

function carriesData(packet: Received['packet']): boolean {
  for (const c of packet.chunks) if (c.kind === 'data' || c.kind === 'idata') return true;
  return false;
}

function replyShutdownComplete(ctx: AssocContext, a: Association, rx: Received): void {
  ctx.send({
    source: rx.destination,
    destination: rx.source,
    packet: { sourcePort: a.localPort, destinationPort: a.peerPort, verificationTag: rx.packet.verificationTag, chunks: [{ kind: 'shutdown-complete', tBit: true }] },
  });
}

function onCookieEcho(ctx: AssocContext, a: Association, cookie: Uint8Array, vtag: number, sourcePort: number, source: string): boolean {
  const opened = ctx.openCookie(cookie);
  if (opened.kind !== 'valid') return false; // §5.1.5 step 2: silently discard.
  const c = opened.contents;
  // §5.1.5 step 3: ports and tag in the cookie must be those of the packet.
  if (c.localPort !== a.localPort || c.peerPort !== sourcePort || c.localTag !== vtag) return false;
  return onCookieEchoInAssociation(ctx, a, c, source);
}

function processChunks(ctx: AssocContext, a: Association, rx: Received, start: number): void {
  const { packet, source } = rx;
  const reports: ErrorCause[] = [];
  const asconfAcks: Chunk[] = [];
  let hadData = false;
  // RFC 4895 §6.3: the chunks after a verified AUTH chunk are authenticated.
  let authenticated = false;
  for (let i = start; i < packet.chunks.length; i++) {
    const chunk = packet.chunks[i]!;
    const s = a.fsm;
    if (s.state === 'closed') return;
    const tcb = tcbOf(s);
    if (tcb && chunk.kind !== 'data') tcb.counters.inControlChunks++;
    const decision = chunkDecision(s.state, chunk.kind, tcb?.auth !== undefined, tcb?.asconf !== undefined);
    let result: ChunkResult = { kind: 'continue' };
    switch (decision) {
      case 'discard':
        continue;
      case 'ootb':
        replyShutdownComplete(ctx, a, rx);
        return;
      case 'unrecognized': {
        // §3.2: the two high bits of the type say stop or skip, report or not.
        const action = unrecognizedChunkAction(chunkType(chunk));
        if (action === 'stop-and-report' || action === 'skip-and-report') reports.push({ kind: 'unrecognized-chunk-type', chunk: chunkBytes(chunk) });
        if (action === 'stop' || action === 'stop-and-report') i = packet.chunks.length;
        continue;
      }
      case 'process':
        break;
    }
    // RFC 4895 §6.3: a chunk of our CHUNK LIST without a valid AUTH before it is silently dropped.
    if (tcb?.auth && !authenticated && mustBeAuthenticated(tcb.auth, chunk)) {
      tcb.auth.counters.unauthenticated++;
      continue;
    }
    switch (chunk.kind) {
      case 'data':
        if (!tcb) break;
        hadData = true;
        result = onDataChunk(ctx, a, tcb, chunk, source);
        break;
      case 'init':
      case 'cookie-echo':
        // §6.10: INIT must be alone and COOKIE ECHO first; anywhere else they are ignored.
        break;
      case 'init-ack':
        if (s.state === 'cookie-wait') onInitAck(ctx, a, s, chunk, source);
        break;
      case 'sack':
        if (tcb) result = onSackChunk(ctx, a, tcb, chunk);
        break;
      case 'heartbeat':
        if (tcb) onHeartbeat(tcb, chunk, source);
        break;
      case 'heartbeat-ack':
        if (tcb) onHeartbeatAckChunk(ctx, a, tcb, chunk);
        break;
      case 'abort':
        // RFC 5061 §5.3: an ABORT sent to an address we are deleting is ignored.
        if (tcb?.asconf?.pendingDelete.includes(rx.destination)) break;
        onAbortChunk(ctx, a, chunk);
        return;
      case 'shutdown':
        if (s.state !== 'cookie-wait') result = onShutdown(ctx, a, s, chunk, source);
        break;
      case 'shutdown-ack':
        if (tcb) onShutdownAck(ctx, a, tcb, source);
        return;
      case 'shutdown-complete':
        onShutdownComplete(ctx, a);
        return;
      case 'error':
        if (s.state === 'cookie-echoed' && chunk.causes.some((c) => c.kind === 'stale-cookie')) {
          onStaleCookie(ctx, a, s); // §5.2.6
          return;
        }
        // RFC 5061 §5.1 A9: the peer does not know ASCONF (0xC1): no more of them.
        if (tcb && chunk.causes.some((c) => c.kind === 'unrecognized-chunk-type' && c.chunk[0] === 0xc1)) onAsconfUnrecognized(ctx, a, tcb);
        ctx.event(a.id, { type: 'remote-error', causes: chunk.causes });
        break;
      case 'cookie-ack':
        if (s.state === 'cookie-echoed') onCookieAck(ctx, a, s);
        break;
      case 'forward-tsn':
        if (tcb) {
          hadData = true;
          result = onForwardTsnChunk(ctx, a, tcb, chunk, source);
        }
        break;
      case 'auth': {
        if (!tcb?.auth) break;
        const verdict = verifyAuthChunk(tcb.auth, chunk, rx.bytes, i, ctx.mac);
        if (verdict === 'ok') {
          authenticated = true;
          break;
        }
        // RFC 4895 §6.3: an HMAC Identifier we did not offer is answered with an ERROR (Unsupported HMAC Identifier).
        if (verdict === 'unsupported-hmac') reports.push({ kind: 'unsupported-hmac-identifier', hmacId: chunk.hmacId });
        // RFC 4895 §6.3: the AUTH chunk and every chunk after it are discarded.
        i = packet.chunks.length;
        break;
      }
      case 'asconf':
        if (tcb) {
          const ack = onAsconf(ctx, a, tcb, chunk, source);
          if (ack) asconfAcks.push(ack);
        }
        break;
      case 'asconf-ack':
        if (tcb) result = onAsconfAck(ctx, a, tcb, chunk);
        break;
      case 'ecne':
      case 'cwr':
      case 'nr-sack':
      case 'idata':
      case 're-config':
      case 'pad':
      case 'i-forward-tsn':
      case 'unknown':
        // Never 'process' in the table (test/core/assoc/chunk-table.test.ts checks it).
        break;
    }
    if (result.kind === 'abort') {
      abortAssociation(ctx, a, result.cause, 'protocol-violation');
      return;
    }
  }
  const s = a.fsm;
  const tcb = tcbOf(s);
  if (!tcb) return;
  // RFC 5061 §5.2: the ASCONF-ACKs of one packet go back together, to where the ASCONFs came from.
  if (asconfAcks.length > 0) emitPacket(ctx, a, source, tcb.peerTag, asconfAcks, tcb);
  if (reports.length > 0) tcb.control.push({ chunk: { kind: 'error', causes: reports }, destination: source });
  onPacketEnd(ctx, tcb);
  if (hadData && s.state === 'shutdown-sent') onDataWhileShutdownSent(ctx, s);
}

/** Shutdown progress, one flush, sender-dry. After every input to the association. */
export function afterInput(ctx: AssocContext, a: Association): void {
  progressShutdown(ctx, a);
  const s = a.fsm;
  switch (s.state) {
    case 'closed':
    case 'cookie-wait':
      return;
    case 'cookie-echoed':
      // Only control chunks (HEARTBEAT ACK, SACK) until the COOKIE ACK; DATA waits.
      flushTcb(ctx, a, s.tcb, { data: false });
      return;
    case 'established':
    case 'shutdown-pending':
    case 'shutdown-received':
      // RFC 5061 §5.1 A3: the next ASCONF goes once none is outstanding.
      if (s.state !== 'shutdown-received') maybeSendAsconf(ctx, a, s.tcb);
      flushTcb(ctx, a, s.tcb, { data: true });
      reportDry(ctx, a, s.tcb);
      return;
    case 'shutdown-sent':
    case 'shutdown-ack-sent':
      flushTcb(ctx, a, s.tcb, { data: false });
      return;
  }
}

function reportDry(ctx: AssocContext, a: Association, tcb: Tcb): void {
  if (!tcb.dryReported && isSenderDry(tcb.rq, tcb.sq)) {
    tcb.dryReported = true;
    ctx.event(a.id, { type: 'sender-dry' });
  }
}

// ------------------------------------------------------------------ ULP calls

export interface SendOptions {
  readonly streamId: number;
  readonly ppid: number;
  readonly unordered?: boolean;
  /** PR-SCTP timed reliability (RFC 3758) / RFC 9260 §10.1 lifetime, ms. */
  readonly lifetime?: number;
  /** PR-SCTP limited retransmissions (RFC 7496). */
  readonly maxRetransmits?: number;
  /** RFC 7053: ask the peer to SACK the last fragment at once. */
  readonly immediate?: boolean;
}

export type SendError =
  | EnqueueError
  | { readonly kind: 'no-such-association' }
  /** §9.2: no new data after SHUTDOWN was requested or received. */
  | { readonly kind: 'shutting-down' };

export type SendResult = { readonly ok: true; readonly messageId: number } | { readonly ok: false; readonly error: SendError };

/** RFC 9260 §10.1 SEND. `queue-full` is back-pressure: wait for sender-dry or retry later. */
export function send(ctx: AssocContext, a: Association, data: Uint8Array, opts: SendOptions): SendResult {
  const s = a.fsm;
  switch (s.state) {
    case 'closed':
      return { ok: false, error: { kind: 'no-such-association' } };
    case 'cookie-wait': {
      if (data.length === 0) return { ok: false, error: { kind: 'empty-message' } };
      if (data.length > ctx.config.maxMessageSize) return { ok: false, error: { kind: 'message-too-big', size: data.length, maxMessageSize: ctx.config.maxMessageSize } };
      const queued = s.pendingSends.reduce((n, p) => n + p.data.length, 0);
      if (queued > 0 && queued + data.length > ctx.config.sendBufferSize) {
        return { ok: false, error: { kind: 'queue-full', bufferedAmount: queued, sendBufferSize: ctx.config.sendBufferSize } };
      }
      const messageId = s.pendingSends.length;
      s.pendingSends.push({
        messageId,
        streamId: opts.streamId,
        ppid: opts.ppid,
        data: data.slice(),
        unordered: opts.unordered ?? false,
        lifetime: opts.lifetime,
        maxRetransmits: opts.maxRetransmits,
        queuedAt: ctx.now,
      });
      return { ok: true, messageId };
    }
    case 'cookie-echoed':
    case 'established': {
      if (s.state === 'cookie-echoed' && s.shutdownRequested) return { ok: false, error: { kind: 'shutting-down' } };
      const r = enqueue(
        s.tcb.sq,
        {
          streamId: opts.streamId,
          ppid: opts.ppid,
          data,
          copy: true,
          unordered: opts.unordered ?? false,
          ...(opts.lifetime !== undefined ? { lifetime: opts.lifetime } : {}),
          ...(opts.maxRetransmits !== undefined ? { maxRetransmits: opts.maxRetransmits } : {}),
          ...(opts.immediate !== undefined ? { immediate: opts.immediate } : {}),
        },
        ctx.now,
      );
      if (r.ok) s.tcb.dryReported = false;
      return r;
    }
    case 'shutdown-pending':
    case 'shutdown-sent':
    case 'shutdown-received':
    case 'shutdown-ack-sent':
      return { ok: false, error: { kind: 'shutting-down' } };
  }
}
