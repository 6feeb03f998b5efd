// The runtime's contract with the transport and the clock, over an in-memory
// transport pair: one transport.send per input batch, exactly one timer armed
// for the endpoint's next deadline, the peer's UDP port learned per address,
// and nothing left behind by close().
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createEndpoint } from '../../src/core/endpoint.js';
import { CryptoRng, hmacSha256, monotonicNow } from '../../src/runtime/env.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { DatagramHandler, IncomingDatagram, OutgoingDatagram, Transport, TransportCounters } from '../../src/transport/transport.js';

class MemoryTransport implements Transport {
  readonly kind = 'memory';
  onDatagrams: DatagramHandler | undefined;
  peer: MemoryTransport | undefined;
  sends: OutgoingDatagram[][] = [];
  closed = false;
  constructor(
    readonly localAddresses: readonly string[],
    readonly udpPort: number,
  ) {}
  send(packets: readonly OutgoingDatagram[]): void {
    this.sends.push([...packets]);
    const peer = this.peer!;
    const batch: IncomingDatagram[] = packets.map((p) => ({ source: p.source, destination: p.destination, bytes: p.bytes, udpSourcePort: this.udpPort }));
    // Like a socket, what was sent is on its way even if this side closes now.
    setImmediate(() => {
      if (!peer.closed) peer.onDatagrams?.(batch);
    });
  }
  counters(): TransportCounters {
    return { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, sendErrors: 0, receiveErrors: 0, drops: 0 };
  }
  lastError = undefined;
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function makeRuntime(address: string, port: number, udpPort: number, events: string[]): { rt: Runtime; t: MemoryTransport } {
  const t = new MemoryTransport([address], udpPort);
  const endpoint = createEndpoint({ localAddresses: [address], port, rng: new CryptoRng(), hmac: hmacSha256, now: monotonicNow() });
  const rt = new Runtime({ endpoint, transport: t, logger: pino({ level: 'silent' }), onEvent: (e) => events.push(e.event.type) });
  return { rt, t };
}

describe('runtime loop', () => {
  it('one send per input, one timer at the next deadline, learned UDP ports, clean close', async () => {
    const aEvents: string[] = [];
    const bEvents: string[] = [];
    const a = makeRuntime('10.0.0.1', 1000, 40001, aEvents);
    const b = makeRuntime('10.0.0.2', 2000, 40002, bEvents);
    a.t.peer = b.t;
    b.t.peer = a.t;

    let batchesIn = 0;
    let sendsBefore = 0;
    const wrapped = b.t.onDatagrams!;
    b.t.onDatagrams = (batch) => {
      batchesIn++;
      sendsBefore = b.t.sends.length;
      wrapped(batch);
      // At most one transport.send for the whole batch.
      expect(b.t.sends.length - sendsBefore).toBeLessThanOrEqual(1);
      expect(b.rt.armedDeadline).toBe(b.rt.endpoint.pollTimeout());
    };

    const r = a.rt.input((now) => a.rt.endpoint.connect(now, { remoteAddresses: ['10.0.0.2'], remotePort: 2000 }));
    expect(r.ok).toBe(true);
    expect(a.t.sends).toHaveLength(1); // the INIT
    expect(a.rt.armedDeadline).toBe(a.rt.endpoint.pollTimeout()); // T1-init
    for (let i = 0; i < 200 && !(aEvents.includes('communication-up') && bEvents.includes('communication-up')); i++) await new Promise((res) => setTimeout(res, 5));
    expect(aEvents).toContain('communication-up');
    expect(bEvents).toContain('communication-up');
    expect(batchesIn).toBeGreaterThan(0);
    expect(b.rt.remoteUdpPort('10.0.0.1')).toBe(40001);
    expect(a.rt.remoteUdpPort('10.0.0.2')).toBe(40002);
    // Sent packets carry the learned port (RFC 6951 §5.4).
    expect(b.t.sends.flat().every((p) => p.remoteUdpPort === 40001)).toBe(true);

    // A ULP send from outside the loop is one input: one transport send.
    const before = a.t.sends.length;
    const id = a.rt.endpoint.associationIds()[0]!;
    a.rt.input((now) => a.rt.endpoint.send(now, id, new Uint8Array([1, 2, 3]), { streamId: 0, ppid: 0 }));
    expect(a.t.sends.length).toBe(before + 1);

    await Promise.all([a.rt.close(1000), b.rt.close(1000)]);
    expect(aEvents).toContain('shutdown-complete');
    expect(a.rt.armedDeadline).toBeUndefined();
    expect(b.rt.armedDeadline).toBeUndefined();
    expect(a.t.closed && b.t.closed).toBe(true);
  });
});
