/**
 * Small SimHost doubles for testing the simulator (and for smoke tests of
 * drivers) without the real association. They speak just enough SCTP-shaped
 * bytes, built with the wire codec, for filters and traces to see real chunks.
 */
import type { Millis } from '../core/env.js';
import { add32, gte32 } from '../wire/serial.js';
import type { Chunk, DecodedPacket } from '../wire/types.js';
import { decodeSctp, encodeSctp } from './codec.js';
import type { Datagram, PacketTooBig, SimHost } from './host.js';

export interface Received {
  readonly time: Millis;
  readonly datagram: Datagram;
  /** Undefined when the bytes did not decode. */
  readonly packet: DecodedPacket | undefined;
}

export interface PacketSpec {
  readonly sourcePort?: number;
  readonly destinationPort?: number;
  readonly verificationTag?: number;
}

/** Encodes one packet carrying `chunks` (default ports 5000 > 5000, vtag 1). */
export function packetBytes(chunks: readonly Chunk[], spec: PacketSpec = {}): Uint8Array {
  return encodeSctp({
    sourcePort: spec.sourcePort ?? 5000,
    destinationPort: spec.destinationPort ?? 5000,
    verificationTag: spec.verificationTag ?? 1,
    chunks,
  });
}

/** A DATA chunk (B and E set) with `size` bytes of user data, the bytes being `tsn`'s low byte. */
export function dataChunk(tsn: number, size = 4, streamId = 0, ssn = 0): Chunk {
  return {
    kind: 'data',
    tsn: tsn >>> 0,
    streamId,
    ssn,
    ppid: 0,
    userData: new Uint8Array(size).fill(tsn & 0xff),
    unordered: false,
    beginning: true,
    ending: true,
    immediate: false,
  };
}

/** Sends a fixed list of datagrams at fixed virtual times; records what it receives. */
export class ScriptedHost implements SimHost {
  readonly received: Received[] = [];
  readonly tooBig: { readonly time: Millis; readonly report: PacketTooBig }[] = [];
  private readonly script: { readonly at: Millis; readonly datagram: Datagram }[];
  private next = 0;
  private readonly immediate: Datagram[] = [];

  constructor(script: readonly { readonly at: Millis; readonly datagram: Datagram }[] = []) {
    this.script = [...script].sort((a, b) => a.at - b.at);
  }

  /** Queues a datagram for now (call `sim.poke(node)` if driven from outside an action). */
  send(datagram: Datagram): void {
    this.immediate.push(datagram);
  }

  handlePacket(now: Millis, packet: Datagram): void {
    const decoded = decodeSctp(packet.bytes);
    this.received.push({ time: now, datagram: packet, packet: decoded.ok ? decoded.packet : undefined });
  }

  handleTimeout(_now: Millis): void {}

  handlePacketTooBig(now: Millis, report: PacketTooBig): void {
    this.tooBig.push({ time: now, report });
  }

  pollTransmit(now: Millis): Datagram | undefined {
    const first = this.immediate.shift();
    if (first !== undefined) return first;
    const item = this.script[this.next];
    if (item === undefined || item.at > now) return undefined;
    this.next += 1;
    return item.datagram;
  }

  pollTimeout(): Millis | undefined {
    return this.script[this.next]?.at;
  }
}

/**
 * Answers, `replyDelay` after it arrives, every DATA/I-DATA with a SACK of its
 * TSN, every HEARTBEAT with a HEARTBEAT-ACK and every COOKIE-ECHO with a
 * COOKIE-ACK, from the address it was sent to, ports swapped. Other chunks get
 * no answer (two echo hosts never loop forever).
 */
export class EchoHost implements SimHost {
  readonly received: Received[] = [];
  /** Times the host's timer fired. */
  readonly timeouts: Millis[] = [];
  private readonly pending: { readonly due: Millis; readonly datagram: Datagram }[] = [];

  constructor(private readonly replyDelay: Millis = 0) {}

  handlePacket(now: Millis, packet: Datagram): void {
    const decoded = decodeSctp(packet.bytes);
    this.received.push({ time: now, datagram: packet, packet: decoded.ok ? decoded.packet : undefined });
    if (!decoded.ok) return;
    const reply: Chunk[] = [];
    for (const c of decoded.packet.chunks) {
      if (c.kind === 'data' || c.kind === 'idata') reply.push({ kind: 'sack', cumulativeTsnAck: c.tsn, aRwnd: 65535, gapBlocks: [], duplicateTsns: [] });
      else if (c.kind === 'heartbeat') reply.push({ kind: 'heartbeat-ack', info: c.info });
      else if (c.kind === 'cookie-echo') reply.push({ kind: 'cookie-ack' });
    }
    if (reply.length === 0) return;
    const p = decoded.packet;
    const bytes = packetBytes(reply, { sourcePort: p.destinationPort, destinationPort: p.sourcePort, verificationTag: p.verificationTag });
    // Stable insertion keeps replies with equal due times in arrival order.
    const due = now + this.replyDelay;
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.due > due) i--;
    this.pending.splice(i, 0, { due, datagram: { source: packet.destination, destination: packet.source, bytes } });
  }

  handleTimeout(now: Millis): void {
    this.timeouts.push(now);
  }

  pollTransmit(now: Millis): Datagram | undefined {
    const first = this.pending[0];
    if (first === undefined || first.due > now) return undefined;
    this.pending.shift();
    return first.datagram;
  }

  pollTimeout(): Millis | undefined {
    return this.pending[0]?.due;
  }
}

export interface ReliableSenderOptions {
  readonly source: string;
  readonly destination: string;
  /** First TSN (serial arithmetic: may wrap). */
  readonly initialTsn: number;
  /** Number of DATA chunks to deliver, one at a time. */
  readonly count: number;
  /** Fixed retransmission timeout. */
  readonly rto: Millis;
  /** When to start (default 0). */
  readonly start?: Millis;
  /** Send a COOKIE-ECHO first and wait for the COOKIE-ACK. */
  readonly handshake?: boolean;
  readonly payloadSize?: number;
}

/**
 * Stop-and-wait: sends one DATA (after an optional COOKIE-ECHO), retransmits
 * it every `rto` until a SACK covers it, then the next. Re-arms its timeout on
 * every transmission, so it exercises the simulator's timer replacement.
 */
export class ReliableSender implements SimHost {
  /** Every transmission: what and when. */
  readonly transmissions: { readonly time: Millis; readonly what: 'cookie-echo' | number }[] = [];
  /** TSN -> time its SACK arrived. */
  readonly acked = new Map<number, Millis>();
  readonly received: Received[] = [];
  private phase: 'waiting' | 'cookie' | 'data' | 'done';
  private current: number;
  private sent = 0;
  private deadline: Millis | undefined;
  private outbox: Datagram[] = [];

  constructor(private readonly options: ReliableSenderOptions) {
    this.phase = 'waiting';
    this.current = options.initialTsn >>> 0;
    this.deadline = options.start ?? 0;
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  handlePacket(now: Millis, packet: Datagram): void {
    const decoded = decodeSctp(packet.bytes);
    this.received.push({ time: now, datagram: packet, packet: decoded.ok ? decoded.packet : undefined });
    if (!decoded.ok) return;
    for (const c of decoded.packet.chunks) {
      if (this.phase === 'cookie' && c.kind === 'cookie-ack') {
        this.phase = 'data';
        this.transmit(now);
      } else if (this.phase === 'data' && c.kind === 'sack' && gte32(c.cumulativeTsnAck, this.current)) {
        this.acked.set(this.current, now);
        this.current = add32(this.current, 1);
        this.sent += 1;
        if (this.sent >= this.options.count) {
          this.phase = 'done';
          this.deadline = undefined;
        } else {
          this.transmit(now);
        }
      }
    }
  }

  handleTimeout(now: Millis): void {
    if (this.phase === 'waiting') this.phase = this.options.handshake ? 'cookie' : 'data';
    if (this.phase === 'done') return;
    this.transmit(now);
  }

  pollTransmit(_now: Millis): Datagram | undefined {
    return this.outbox.shift();
  }

  pollTimeout(): Millis | undefined {
    return this.deadline;
  }

  private transmit(now: Millis): void {
    const chunk: Chunk =
      this.phase === 'cookie' ? { kind: 'cookie-echo', cookie: new Uint8Array(16).fill(0xc0) } : dataChunk(this.current, this.options.payloadSize ?? 4);
    this.transmissions.push({ time: now, what: this.phase === 'cookie' ? 'cookie-echo' : this.current });
    this.outbox.push({ source: this.options.source, destination: this.options.destination, bytes: packetBytes([chunk]) });
    this.deadline = now + this.options.rto;
  }
}
