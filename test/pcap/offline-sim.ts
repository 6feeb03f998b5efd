// A capture made by two of our cores in virtual time (no root, no network):
// the input of the offline replay tests, whose exact outcome is known.
import { createHmac } from 'node:crypto';
import { createEndpoint, type Endpoint } from '../../src/core/endpoint.js';
import { SeededRng } from '../../src/core/env.js';
import type { ProtocolConfig } from '../../src/core/config.js';
import { encodeIp } from '../../src/wire/ip.js';
import { PcapWriter } from '../../src/pcap/writer.js';

export const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', key).update(data).digest());
export const hmacSha1 = (key: Uint8Array, data: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha1', key).update(data).digest());

export interface SimCaptureOptions {
  readonly client?: Partial<ProtocolConfig>;
  readonly server?: Partial<ProtocolConfig>;
  /** Messages the client sends, one every `interval` ms. */
  readonly messages: number;
  readonly size: number;
  readonly interval: number;
  /** The server echoes every message. */
  readonly echo: boolean;
  readonly seed: number;
  /** One-way delay, ms. */
  readonly delay?: number;
  /** Close with ABORT instead of SHUTDOWN. */
  readonly abort?: boolean;
}

const C = '10.77.0.1';
const S = '10.77.0.2';

/** Runs the association and returns it as a pcap (LINKTYPE_RAW, µs). */
export function simCapture(o: SimCaptureOptions): Uint8Array {
  const delay = o.delay ?? 1;
  const rng = new SeededRng(o.seed);
  const mk = (addr: string, port: number, config: Partial<ProtocolConfig> | undefined): Endpoint =>
    createEndpoint({ localAddresses: [addr], port, config: config ?? {}, rng: new SeededRng(rng.nextU32()), hmac, hmacSha1, now: 0 });
  const client = mk(C, 40000, o.client);
  const server = mk(S, 5000, o.server);
  const w = new PcapWriter({ linkType: 101 });
  const records: { us: number; record: Uint8Array }[] = [];
  const inFlight: { at: number; to: Endpoint; source: string; destination: string; bytes: Uint8Array }[] = [];
  const base = 1_700_000_000;
  let now = 0;
  // As the runtime does (src/runtime/runtime.ts): what the input calls for leaves first, then the
  // application gets the events; what it queued is flushed and leaves.
  const transmit = (ep: Endpoint, self: string): void => {
    for (let d = ep.pollTransmit(now); d !== undefined; d = ep.pollTransmit(now)) {
      const source = d.source || self;
      // Captured on the client's host: its packets when they leave, the server's when they arrive.
      const ip = encodeIp({ source, destination: d.destination, protocol: 132, payload: d.bytes });
      const us = Math.round((ep === client ? now : now + delay) * 1000);
      records.push({ us, record: w.packet({ seconds: base + Math.floor(us / 1e6), nanos: (us % 1e6) * 1000 }, ip) });
      inFlight.push({ at: now + delay, to: ep === client ? server : client, source, destination: d.destination, bytes: d.bytes });
    }
  };
  const pump = (ep: Endpoint, self: string): void => {
    transmit(ep, self);
    const flush = new Set<number>();
    for (let e = ep.pollEvent(); e !== undefined; e = ep.pollEvent()) {
      if (ep === server && o.echo && e.event.type === 'message') {
        server.queue(now, e.assocId, e.event.data, { streamId: e.event.streamId, ppid: e.event.ppid });
        flush.add(e.assocId);
      }
    }
    for (const id of flush) ep.flush(now, id);
    transmit(ep, self);
  };
  const r = client.connect(0, { remoteAddresses: [S], remotePort: 5000 });
  if (!r.ok) throw new Error(r.error);
  pump(client, C);
  let sent = 0;
  let nextSend = 50;
  let closed = false;
  for (let step = 0; step < 200_000 && now < 120_000; step++) {
    const times = [inFlight.reduce((m, x) => Math.min(m, x.at), Infinity), client.pollTimeout() ?? Infinity, server.pollTimeout() ?? Infinity];
    if (!closed) times.push(nextSend);
    const t = Math.min(...times);
    if (t === Infinity) break;
    now = t;
    for (let i = 0; i < inFlight.length; ) {
      const p = inFlight[i]!;
      if (p.at <= now) {
        inFlight.splice(i, 1);
        p.to.handlePacket(now, { source: p.source, destination: p.destination, bytes: p.bytes });
        pump(p.to, p.to === client ? C : S);
      } else i++;
    }
    for (const [ep, self] of [[client, C], [server, S]] as const) {
      const at = ep.pollTimeout();
      if (at !== undefined && at <= now) {
        ep.handleTimeout(now);
        pump(ep, self);
      }
    }
    if (!closed && now >= nextSend) {
      if (sent < o.messages) {
        const data = new Uint8Array(o.size).map((_, i) => (i + sent) & 0xff);
        client.send(now, r.assocId, data, { streamId: sent % 2, ppid: 46 });
        sent++;
        nextSend = now + o.interval;
      } else {
        closed = true;
        if (o.abort === true) client.abort(now, r.assocId);
        else client.shutdown(now, r.assocId);
      }
      pump(client, C);
    }
  }
  const out = [w.header(), ...records.map((r, i) => ({ ...r, i })).sort((a, b) => a.us - b.us || a.i - b.i).map((r) => r.record)];
  const total = out.reduce((n, x) => n + x.length, 0);
  const file = new Uint8Array(total);
  let off = 0;
  for (const x of out) {
    file.set(x, off);
    off += x.length;
  }
  return file;
}
