/**
 * Turning module outcomes into RFC 6458 notifications.
 */
import { concatBytes } from '../../wire/bytes.js';
import { peerAddrChangeState, type PathEvent } from '../path/state.js';
import { queuedMessages } from '../tx/send-queue.js';
import type { SendFailed } from '../tx/types.js';
import type { AssocContext } from './context.js';
import type { PendingSend, Tcb } from './types.js';

/** SCTP_SEND_FAILED_EVENT (RFC 6458 §6.1.11) for each abandoned message. */
export function emitSendFailed(ctx: AssocContext, assocId: number, failed: readonly SendFailed[]): void {
  for (const f of failed) {
    ctx.event(assocId, {
      type: 'send-failed',
      messageId: f.messageId,
      streamId: f.streamId,
      ppid: f.ppid,
      unordered: f.unordered,
      data: f.data,
      reason: f.reason,
      sent: f.sent,
    });
  }
}

/** SCTP_PEER_ADDR_CHANGE (RFC 6458 §6.1.2). */
export function emitPathEvent(ctx: AssocContext, assocId: number, e: PathEvent | undefined): void {
  if (!e) return;
  ctx.event(assocId, { type: 'peer-address-change', address: e.address, state: peerAddrChangeState(e), from: e.from, to: e.to });
}

/**
 * The association ends with data unsent or unacknowledged: each message is
 * reported back (RFC 9260 §8.1 "optionally report back all outstanding user
 * data"; RFC 6458 SCTP_SEND_FAILED_EVENT). Fragments of one message are joined.
 */
export function failAllData(ctx: AssocContext, assocId: number, tcb: Tcb): void {
  const byMessage = new Map<number, { streamId: number; ppid: number; unordered: boolean; parts: Uint8Array[]; sent: boolean }>();
  for (const c of tcb.rq.chunks) {
    if (c.state === 'abandoned') continue;
    let m = byMessage.get(c.messageId);
    if (!m) byMessage.set(c.messageId, (m = { streamId: c.streamId, ppid: c.ppid, unordered: c.unordered, parts: [], sent: true }));
    m.parts.push(c.userData);
  }
  const cur = tcb.sq.current;
  if (cur) {
    let m = byMessage.get(cur.message.messageId);
    if (!m) byMessage.set(cur.message.messageId, (m = { streamId: cur.message.streamId, ppid: cur.message.ppid, unordered: cur.message.unordered, parts: [], sent: cur.offset > 0 }));
    m.parts.push(cur.message.data.subarray(cur.offset));
  }
  for (const msg of queuedMessages(tcb.sq)) {
    if (byMessage.has(msg.messageId)) continue;
    byMessage.set(msg.messageId, { streamId: msg.streamId, ppid: msg.ppid, unordered: msg.unordered, parts: [msg.data], sent: false });
  }
  for (const [messageId, m] of byMessage) {
    ctx.event(assocId, { type: 'send-failed', messageId, streamId: m.streamId, ppid: m.ppid, unordered: m.unordered, data: concatBytes(m.parts), reason: 'association-closed', sent: m.sent });
  }
}

export function failPending(ctx: AssocContext, assocId: number, pending: readonly PendingSend[]): void {
  for (const p of pending) {
    ctx.event(assocId, { type: 'send-failed', messageId: p.messageId, streamId: p.streamId, ppid: p.ppid, unordered: p.unordered, data: p.data, reason: 'association-closed', sent: false });
  }
}

