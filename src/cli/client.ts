/**
 * `hasctp client`: connects, sends --count messages of --size bytes, waits
 * for the echoes when asked (--echo), shuts down and prints one summary line.
 * Exit 0 on success, 1 on failure.
 */
import type { Writable } from 'node:stream';
import { pino } from 'pino';
import { connect } from '../api/connect.js';
import type { Association, Message } from '../api/association.js';

export interface ClientCommandOptions {
  readonly remoteAddresses: readonly string[];
  readonly port: number;
  readonly localAddresses: readonly string[];
  readonly udpEncap: boolean;
  readonly udpPort?: number;
  readonly remoteUdpPort?: number;
  readonly count: number;
  readonly size: number;
  readonly echo: boolean;
  /** Overall bound in ms. */
  readonly timeout: number;
  readonly out: Writable;
  readonly err: Writable;
}

function payload(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k) & 0xff;
  if (size >= 4) new DataView(b.buffer).setUint32(0, i);
  return b;
}

export async function clientCommand(o: ClientCommandOptions): Promise<number> {
  const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
  const started = performance.now();
  let a: Association;
  try {
    a = await connect({
      remoteAddresses: o.remoteAddresses,
      port: o.port,
      localAddresses: o.localAddresses,
      transport: o.udpEncap ? 'udp' : 'raw',
      udpPort: o.udpPort ?? 0,
      ...(o.remoteUdpPort !== undefined && { remoteUdpPort: o.remoteUdpPort }),
      timeout: Math.min(o.timeout, 10_000),
      logger,
    });
  } catch (e) {
    o.err.write(`hasctp client: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  let received = 0;
  let mismatches = 0;
  let failure: string | undefined;
  let finished: () => void = () => undefined;
  const allEchoed = new Promise<void>((resolve) => (finished = resolve));
  a.on('message', (m: Message) => {
    const want = payload(received, o.size);
    if (!Buffer.from(want).equals(m.data)) mismatches++;
    received++;
    if (received >= o.count) finished();
  });
  a.on('down', (reason: string) => {
    failure ??= `association down: ${reason}`;
    finished();
  });
  a.on('send-failed', () => (failure ??= 'a message could not be delivered'));
  const deadline = setTimeout(() => {
    failure ??= `timed out after ${o.timeout} ms (${received}/${o.count} echoes)`;
    finished();
  }, o.timeout);
  try {
    for (let i = 0; i < o.count && failure === undefined && !a.closed; i++) {
      if (!a.send(payload(i, o.size), { stream: 0, ppid: 0 })) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            a.off('drain', done);
            a.off('close', done);
            resolve();
          };
          a.on('drain', done);
          a.on('close', done);
        });
      }
    }
    if (o.echo && o.count > 0) await allEchoed;
  } catch (e) {
    failure ??= e instanceof Error ? e.message : String(e);
  }
  clearTimeout(deadline);
  if (!a.closed) {
    if (failure === undefined) {
      const closed = a.shutdown();
      const t = setTimeout(() => void a.abort('shutdown timeout'), 5000);
      await closed;
      clearTimeout(t);
    } else await a.abort(failure);
  }
  if (failure === undefined && o.echo && mismatches > 0) failure = `${mismatches} echoes differ from what was sent`;
  const secs = ((performance.now() - started) / 1000).toFixed(3);
  const echoed = o.echo ? `, ${received} echoes received` : '';
  if (failure !== undefined) {
    o.out.write(`hasctp client: FAILED: ${failure}; ${o.count} messages of ${o.size} bytes${echoed}, ${secs} s\n`);
    return 1;
  }
  o.out.write(`hasctp client: ok: ${o.count} messages of ${o.size} bytes sent${echoed} in order, ${secs} s\n`);
  return 0;
}
