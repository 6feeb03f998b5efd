// Builders shared by the send-side tests.
import { expect } from 'vitest';
import type { SackChunk, DataChunk } from '../../../src/wire/types.js';
import {
  checkInvariants,
  createRetransmissionQueue,
  createSendQueue,
  enqueue,
  nextChunksToSend,
  type RetransmissionQueueState,
  type SendQueueState,
  type SendRequest,
  type TransmitRequest,
  type TransmitResult,
} from '../../../src/core/tx/index.js';

export interface Tx {
  sq: SendQueueState;
  rq: RetransmissionQueueState;
}

export function setup(o: {
  initialTsn?: number;
  aRwnd?: number;
  prSctp?: boolean;
  streams?: number;
  maxOutstandingChunks?: number;
  sendBufferSize?: number;
  maxMessageSize?: number;
} = {}): Tx {
  return {
    sq: createSendQueue(o.streams ?? 4, { maxMessageSize: o.maxMessageSize ?? 65536, sendBufferSize: o.sendBufferSize ?? 1 << 20 }),
    rq: createRetransmissionQueue(o.initialTsn ?? 1000, o.aRwnd ?? 100_000, {
      forwardTsnSupported: o.prSctp ?? false,
      maxOutstandingChunks: o.maxOutstandingChunks ?? 1000,
    }),
  };
}

export function bytes(n: number, fill = 0xab): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

type SendArgs = { [K in keyof SendRequest]?: SendRequest[K] | undefined } & { size?: number };

export function send(tx: Tx, req: SendArgs, now = 0): number {
  const r = enqueue(
    tx.sq,
    {
      streamId: req.streamId ?? 0,
      ppid: req.ppid ?? 51,
      data: req.data ?? bytes(req.size ?? 100),
      unordered: req.unordered ?? false,
      ...(req.lifetime !== undefined ? { lifetime: req.lifetime } : {}),
      ...(req.maxRetransmits !== undefined ? { maxRetransmits: req.maxRetransmits } : {}),
      ...(req.immediate !== undefined ? { immediate: req.immediate } : {}),
    },
    now,
  );
  if (!r.ok) throw new Error(`enqueue failed: ${JSON.stringify(r.error)}`);
  return r.messageId;
}

/** One packet to `destination` with generous defaults. */
export function pump(tx: Tx, destination = 'A', now = 0, o: Partial<TransmitRequest> = {}): TransmitResult {
  const r = nextChunksToSend(tx.rq, tx.sq, {
    destination,
    now,
    packetSpace: o.packetSpace ?? 1452,
    maxFragmentPayload: o.maxFragmentPayload ?? 1200,
    cwndBudget: o.cwndBudget ?? 1_000_000,
    allowZeroWindowProbe: o.allowZeroWindowProbe ?? false,
    ...(o.nagle !== undefined && { nagle: o.nagle }),
  });
  expect(checkInvariants(tx.rq)).toEqual([]);
  return r;
}

export function sack(cumulativeTsnAck: number, gaps: [number, number][] = [], aRwnd = 100_000, duplicateTsns: number[] = []): SackChunk {
  return { kind: 'sack', cumulativeTsnAck, aRwnd, gapBlocks: gaps.map(([start, end]) => ({ start, end })), duplicateTsns };
}

export function tsns(chunks: readonly DataChunk[]): number[] {
  return chunks.map((c) => c.tsn);
}

export function states(rq: RetransmissionQueueState): string[] {
  return rq.chunks.map((c) => `${c.tsn}:${c.state}`);
}
