/**
 * `hasctp client`: connects, sends messages round robin over --streams until
 * --count or --duration, with --verify checks the echoes (each message starts
 * with a sequence number and a CRC32c), shuts down and prints one summary
 * (a line, or a JSON object with --json). Exit 0 on success, 1 on failure.
 */
import { createSocket } from 'node:dgram';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { connect } from '../api/connect.js';
import type { Association, Message } from '../api/association.js';
import { crc32c, crc32cUpdate } from '../wire/crc32c.js';
import { addressFamily } from '../wire/address.js';
import { cliLogger } from './log.js';
import { formatAddressChange, scheduleAddressChanges, type AddressChange, type AddressChangeReport } from './address-changes.js';
import { openPcapRecorder, type PcapRecorder } from '../transport/pcap-tap.js';

/** Sequence number (4 bytes) and CRC32c of the rest of the message (4 bytes). */
export const HEADER_SIZE = 8;

export interface ClientCommandOptions {
  readonly remoteAddresses: readonly string[];
  readonly port: number;
  /** Default: the source address the kernel picks for the first remote address. */
  readonly localAddresses?: readonly string[];
  readonly udpEncap: boolean;
  readonly udpPort?: number;
  readonly remoteUdpPort?: number;
  /** Messages to send (Infinity: until `duration`). */
  readonly count: number;
  /** Seconds of sending. */
  readonly duration?: number;
  readonly size: number;
  readonly streams?: number;
  readonly unordered?: boolean;
  readonly verify: boolean;
  readonly json?: boolean;
  /** Overall bound in ms. */
  readonly timeout: number;
  readonly logger?: Logger;
  readonly out: Writable;
  readonly err: Writable;
  /** Records every SCTP packet sent and received to this pcapng file. */
  readonly pcap?: string;
  /** RFC 5061 requests (--add-address, --remove-address, --set-peer-primary), timed from establishment. */
  readonly addressChanges?: readonly AddressChange[];
  /** At most this many messages per second (default: as fast as the association takes them). */
  readonly rate?: number;
}

export interface ClientSummary {
  ok: boolean;
  error?: string;
  sent: { messages: number; bytes: number };
  received: { messages: number; bytes: number };
  seconds: number;
  msgsPerSec: number;
  mbitPerSec: number;
  streams: number;
  unordered: boolean;
  verify?: { lost: number; duplicated: number; reordered: number; corrupted: number };
  /** What became of the --add-address / --remove-address / --set-peer-primary requests. */
  asconf?: AddressChangeReport[];
}

/** Message `seq`: header, then bytes derived from seq; CRC32c over the seq field and the body. */
export function makeMessage(seq: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = (seq * 2654435761 + 1) >>> 0;
  for (let k = Math.min(size, HEADER_SIZE); k < size; k++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    b[k] = x & 0xff;
  }
  if (size >= HEADER_SIZE) {
    const v = new DataView(b.buffer);
    v.setUint32(0, seq);
    v.setUint32(4, crc32cUpdate(crc32c(b, 0, 4), b, HEADER_SIZE, size) >>> 0);
  }
  return b;
}

/** The sequence number of an intact message, or undefined. */
export function checkMessage(data: Uint8Array): number | undefined {
  if (data.length < HEADER_SIZE) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const crc = crc32cUpdate(crc32c(data, 0, 4), data, HEADER_SIZE, data.length) >>> 0;
  return crc === v.getUint32(4) ? v.getUint32(0) : undefined;
}

/** The address the kernel would send from towards `remote` (a connected UDP socket; nothing is sent). */
async function sourceAddressFor(remote: string): Promise<string> {
  const s = createSocket(addressFamily(remote) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(9, remote, () => resolve());
    });
    return s.address().address;
  } finally {
    s.close();
  }
}

/**
 * Resolves true at the association's next 'drain' or 'close', false once
 * `until` has settled (then at once for every later wait: the sender must
 * stop, not spin). One reaction on `until` for all the waits (a reaction per
 * wait piled up a closure for every 'drain' of a long run).
 */
function drainWaiter(a: Association, until: Promise<void>): () => Promise<boolean> {
  let over = false;
  let wake: (() => void) | undefined;
  void until.then(() => {
    over = true;
    wake?.();
  });
  return () =>
    new Promise<boolean>((resolve) => {
      if (over) {
        resolve(false);
        return;
      }
      const done = (): void => {
        a.off('drain', done);
        a.off('close', done);
        wake = undefined;
        resolve(!over);
      };
      wake = done;
      a.on('drain', done);
      a.on('close', done);
    });
}

export async function clientCommand(o: ClientCommandOptions): Promise<number> {
  const logger = o.logger ?? cliLogger('warn');
  const streams = o.streams ?? 1;
  const unordered = o.unordered === true;
  const started = performance.now();
  let a: Association;
  let recorder: PcapRecorder | undefined;
  try {
    if (o.pcap !== undefined) recorder = await openPcapRecorder(o.pcap, { comment: 'hasctp client' });
    const localAddresses = o.localAddresses ?? [await sourceAddressFor(o.remoteAddresses[0]!)];
    a = await connect({
      remoteAddresses: o.remoteAddresses,
      port: o.port,
      localAddresses,
      transport: o.udpEncap ? 'udp' : 'raw',
      udpPort: o.udpPort ?? 0,
      ...(o.remoteUdpPort !== undefined && { remoteUdpPort: o.remoteUdpPort }),
      outboundStreams: Math.max(streams, 10),
      timeout: Math.min(o.timeout, 10_000),
      logger,
      ...(recorder !== undefined && { wrapTransport: recorder.wrap }),
    });
  } catch (e) {
    await recorder?.abandon();
    o.err.write(`hasctp client: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  let failure: string | undefined;
  if (a.outboundStreams < streams) failure = `the peer allows ${a.outboundStreams} streams, ${streams} asked for`;

  let sent = 0;
  let sentBytes = 0;
  let received = 0;
  let receivedBytes = 0;
  let unique = 0;
  let duplicated = 0;
  let reordered = 0;
  let corrupted = 0;
  let seen = new Uint8Array(1024);
  const lastOnStream = new Map<number, number>();
  let sendingDone = false;
  let wake: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (wake = resolve));
  const maybeDone = (): void => {
    if (failure !== undefined || (sendingDone && (!o.verify || unique + corrupted >= sent))) wake();
  };
  a.on('message', (m: Message) => {
    received++;
    receivedBytes += m.data.length;
    if (!o.verify) return;
    const seq = checkMessage(m.data);
    if (seq === undefined || seq >= sent || m.data.length !== o.size) corrupted++;
    else {
      if (seq >= seen.length) {
        const bigger = new Uint8Array(Math.max(seen.length * 2, seq + 1));
        bigger.set(seen);
        seen = bigger;
      }
      if (seen[seq] === 1) duplicated++;
      else {
        seen[seq] = 1;
        unique++;
      }
      if (!unordered) {
        const stream = seq % streams;
        const last = lastOnStream.get(stream);
        if (last !== undefined && seq < last) reordered++;
        else lastOnStream.set(stream, seq);
      }
    }
    maybeDone();
  });
  a.on('down', (reason: string) => {
    failure ??= `association down: ${reason}`;
    wake();
  });
  a.on('send-failed', () => (failure ??= 'a message could not be delivered'));
  // The peer may end the association gracefully (SHUTDOWN): no 'down' then,
  // only 'close'. Ours comes after `finished`, when `closing` is set.
  let closing = false;
  a.on('close', () => {
    if (closing) return;
    if (!(sendingDone && (!o.verify || unique + corrupted >= sent))) failure ??= 'the peer closed the association';
    wake();
  });
  const asconf: AddressChangeReport[] = [];
  const changes =
    o.addressChanges === undefined
      ? undefined
      : scheduleAddressChanges(a, o.addressChanges, logger, (r) => {
          asconf.push(r);
          if (r.result !== 'success') {
            failure ??= `asconf ${formatAddressChange(r)}`;
            wake();
          }
        });
  const deadline = setTimeout(() => {
    failure ??= `timed out after ${o.timeout} ms`;
    wake();
  }, o.timeout);
  const t0 = performance.now();
  const stopAt = o.duration !== undefined ? t0 + o.duration * 1000 : Infinity;
  let durationTimer: NodeJS.Timeout | undefined;
  const durationOver = o.duration === undefined ? new Promise<void>(() => undefined) : new Promise<void>((r) => (durationTimer = setTimeout(r, o.duration! * 1000)));
  const stopWaiting = Promise.race([finished, durationOver]);
  const waitDrain = drainWaiter(a, stopWaiting);
  let fixed: Uint8Array | undefined;
  try {
    while (sent < o.count && performance.now() < stopAt && failure === undefined && !a.closed) {
      if (o.rate !== undefined) {
        const wait = t0 + (sent / o.rate) * 1000 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (performance.now() >= stopAt || failure !== undefined || a.closed) break;
      }
      // Without --verify nothing reads the contents: one buffer for every message
      // (the stack copies what it queues), so the figure measures SCTP, not the generator.
      const msg = o.verify ? makeMessage(sent, o.size) : (fixed ??= makeMessage(0, o.size));
      const ok = a.send(msg, { stream: sent % streams, ppid: 0, unordered });
      sent++;
      sentBytes += msg.length;
      // The duration's timer may fire a little before performance.now() reaches stopAt.
      if (!ok && !(await waitDrain())) break;
      else if ((sent & 255) === 0) await new Promise((r) => setImmediate(r));
    }
  } catch (e) {
    failure ??= e instanceof Error ? e.message : String(e);
  }
  if (durationTimer !== undefined) clearTimeout(durationTimer);
  sendingDone = true;
  maybeDone();
  await finished;
  closing = true;
  changes?.cancel();
  const elapsed = (performance.now() - t0) / 1000;
  clearTimeout(deadline);
  if (!a.closed) {
    if (failure === undefined) {
      const closed = a.shutdown();
      const t = setTimeout(() => void a.abort('shutdown timeout'), 5000);
      await closed;
      clearTimeout(t);
    } else await a.abort(failure);
  }
  const lost = sent - unique;
  if (failure === undefined && o.verify && lost + duplicated + reordered + corrupted > 0) failure = 'verification failed';
  const summary: ClientSummary = {
    ok: failure === undefined,
    ...(failure !== undefined && { error: failure }),
    sent: { messages: sent, bytes: sentBytes },
    received: { messages: received, bytes: receivedBytes },
    seconds: Number(elapsed.toFixed(3)),
    msgsPerSec: elapsed > 0 ? Math.round(sent / elapsed) : 0,
    mbitPerSec: elapsed > 0 ? Number(((sentBytes * 8) / elapsed / 1e6).toFixed(3)) : 0,
    streams,
    unordered,
    ...(o.verify && { verify: { lost, duplicated, reordered, corrupted } }),
    ...(asconf.length > 0 && { asconf }),
  };
  logger.debug({ totalSeconds: (performance.now() - started) / 1000 }, 'client done');
  if (o.json === true) o.out.write(`${JSON.stringify(summary)}\n`);
  else {
    const v = summary.verify;
    o.out.write(
      `hasctp client: ${failure === undefined ? 'ok' : `FAILED: ${failure}`}: sent ${sent} msgs ${sentBytes} bytes, received ${received} msgs ${receivedBytes} bytes` +
        ` in ${elapsed.toFixed(3)} s, ${summary.msgsPerSec} msgs/s, ${summary.mbitPerSec.toFixed(2)} Mbit/s` +
        `${v !== undefined ? `; lost ${v.lost}, duplicated ${v.duplicated}, reordered ${v.reordered}, corrupted ${v.corrupted}` : ''}` +
        `${asconf.length > 0 ? `; asconf: ${asconf.map(formatAddressChange).join(', ')}` : ''}\n`,
    );
  }
  return failure === undefined ? 0 : 1;
}
