// The relay logic against a scripted driver: routing, release on the next
// hop's acknowledgement, replies, and a lost back association.
import { describe, expect, it } from 'vitest';
import { RelayCore, type RelayIo, type RelayOptions, type SendOpts } from '../../src/relay/core.js';

class FakeIo implements RelayIo {
  nextAssoc = 100;
  nextMsg = 0;
  readonly connects: { id: number; backend: string }[] = [];
  readonly sent: { assoc: number; messageId: number; data: string; opts: SendOpts }[] = [];
  readonly released: { assoc: number; token: number }[] = [];
  readonly shutdowns: number[] = [];
  full = new Set<number>();
  now(): number {
    return 0;
  }
  connect(b: { name: string }): number {
    const id = this.nextAssoc++;
    this.connects.push({ id, backend: b.name });
    return id;
  }
  send(assoc: number, data: Uint8Array, opts: SendOpts) {
    if (this.full.has(assoc)) return { ok: false as const, error: 'queue-full' };
    const messageId = this.nextMsg++;
    this.sent.push({ assoc, messageId, data: new TextDecoder().decode(data), opts });
    return { ok: true as const, messageId };
  }
  release(assoc: number, token: number): void {
    this.released.push({ assoc, token });
  }
  shutdown(assoc: number): void {
    this.shutdowns.push(assoc);
  }
}

const backends = [
  { name: 'a', addresses: ['10.0.0.1'], port: 1 },
  { name: 'b', addresses: ['10.0.0.2'], port: 1 },
];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const FRONT = 1;

function relay(routing: RelayOptions['routing']) {
  const io = new FakeIo();
  const core = new RelayCore(io, { backends, routing });
  core.onEvent(FRONT, { type: 'communication-up', outboundStreams: 10, inboundStreams: 10, peerAddresses: [] });
  return { io, core };
}

let token = 0;
function frontMessage(core: RelayCore, data: string, streamId: number, ppid = 0): number {
  const t = ++token;
  core.onEvent(FRONT, { type: 'message', streamId, ppid, unordered: false, data: bytes(data), holdToken: t });
  return t;
}

function up(core: RelayCore, id: number): void {
  core.onEvent(id, { type: 'communication-up', outboundStreams: 10, inboundStreams: 10, peerAddresses: [] });
}

describe('relay core', () => {
  it('round robin with stream affinity: each stream keeps its server; order and PPID are kept', () => {
    const { io, core } = relay({ mode: 'round-robin' });
    for (let i = 0; i < 8; i++) frontMessage(core, `m${i}`, i % 4, 40 + i);
    expect(io.connects.map((c) => c.backend)).toEqual(['a', 'b']);
    for (const c of io.connects) up(core, c.id);
    const byAssoc = (id: number) => io.sent.filter((s) => s.assoc === id).map((s) => `${s.data}/${s.opts.streamId}/${s.opts.ppid}`);
    expect(byAssoc(io.connects[0]!.id)).toEqual(['m0/0/40', 'm2/2/42', 'm4/0/44', 'm6/2/46']);
    expect(byAssoc(io.connects[1]!.id)).toEqual(['m1/1/41', 'm3/3/43', 'm5/1/45', 'm7/3/47']);
  });

  it('by PPID and by stream range, with a default', () => {
    const p = relay({ mode: 'ppid', routes: [{ ppid: 46, backend: 'b' }], default: 'a' });
    frontMessage(p.core, 'diameter', 0, 46);
    frontMessage(p.core, 'other', 0, 3);
    expect(p.io.connects.map((c) => c.backend)).toEqual(['b', 'a']);
    const s = relay({ mode: 'stream', routes: [{ streams: [5, 9], backend: 'b' }], default: 'a' });
    frontMessage(s.core, 'x', 7);
    frontMessage(s.core, 'y', 4);
    expect(s.io.connects.map((c) => c.backend)).toEqual(['b', 'a']);
  });

  it('releases a front message only when the back association acknowledged its copy; replies go back and are released likewise', () => {
    const { io, core } = relay({ mode: 'round-robin' });
    const t1 = frontMessage(core, 'req', 2);
    const back = io.connects[0]!.id;
    expect(io.sent).toEqual([]);
    up(core, back);
    const fwd = io.sent[0]!;
    expect(io.released).toEqual([]);
    expect(core.waiting()).toBe(1);
    core.onEvent(back, { type: 'message-acked', messageId: fwd.messageId });
    expect(io.released).toEqual([{ assoc: FRONT, token: t1 }]);
    // The reply.
    core.onEvent(back, { type: 'message', streamId: 2, ppid: 0, unordered: false, data: bytes('resp'), holdToken: 9 });
    const reply = io.sent.find((s) => s.assoc === FRONT)!;
    expect(reply.data).toBe('resp');
    expect(reply.opts.streamId).toBe(2);
    core.onEvent(FRONT, { type: 'message-acked', messageId: reply.messageId });
    expect(io.released.at(-1)).toEqual({ assoc: back, token: 9 });
    expect(core.counters.released).toBe(2);
    expect(core.pairs()).toEqual([{ front: FRONT, backs: [{ backend: 'a', assocId: back, up: true, waiting: 0, queued: 0 }], waitingFront: 0 }]);
  });

  it('a full send buffer queues in order; a lost back association sends the unacknowledged again first, in order, on a new one', () => {
    const { io, core } = relay({ mode: 'round-robin' });
    frontMessage(core, 'm0', 0);
    const back = io.connects[0]!.id;
    up(core, back);
    frontMessage(core, 'm1', 0);
    io.full.add(back);
    frontMessage(core, 'm2', 0);
    frontMessage(core, 'm3', 0);
    expect(io.sent.map((s) => s.data)).toEqual(['m0', 'm1']);
    core.onEvent(back, { type: 'message-acked', messageId: io.sent[0]!.messageId });
    core.onEvent(back, { type: 'communication-lost', reason: 'peer-abort', causes: [] });
    const again = io.connects[1]!.id;
    io.full.clear();
    up(core, again);
    expect(io.sent.filter((s) => s.assoc === again).map((s) => s.data)).toEqual(['m1', 'm2', 'm3']);
    expect(core.counters.resent).toBe(1);
    expect(io.released).toHaveLength(1);
  });

  it('the front association closing shuts its back associations down; late replies are released as undeliverable', () => {
    const { io, core } = relay({ mode: 'round-robin' });
    frontMessage(core, 'm0', 0);
    const back = io.connects[0]!.id;
    up(core, back);
    core.onEvent(FRONT, { type: 'communication-lost', reason: 'peer-abort', causes: [] });
    expect(io.shutdowns).toEqual([back]);
    core.onEvent(back, { type: 'message', streamId: 0, ppid: 0, unordered: false, data: bytes('late'), holdToken: 4 });
    expect(io.released.at(-1)).toEqual({ assoc: back, token: 4 });
    expect(core.counters.undeliverable).toBe(1);
  });

  it('exportState / importState: a fresh relay given the state carries on (releases what the old one forwarded, keeps affinity and ASP state)', () => {
    const io = new FakeIo();
    const core = new RelayCore(io, { backends, routing: { mode: 'round-robin' }, m3ua: { enabled: true, routingContexts: [1] } });
    core.onEvent(FRONT, { type: 'communication-up', outboundStreams: 10, inboundStreams: 10, peerAddresses: [] });
    const t = frontMessage(core, 'm0', 3);
    const back = io.connects[0]!.id;
    up(core, back);
    const state = structuredClone(core.exportState());
    const io2 = new FakeIo();
    const next = new RelayCore(io2, { backends, routing: { mode: 'round-robin' }, m3ua: { enabled: true, routingContexts: [1] } });
    next.importState(state);
    expect(next.exportState()).toEqual(state);
    next.onEvent(back, { type: 'message-acked', messageId: io.sent[0]!.messageId });
    expect(io2.released).toEqual([{ assoc: FRONT, token: t }]);
    // Stream 3 stays with its server: no new association.
    frontMessage(next, 'm1', 3);
    expect(io2.connects).toEqual([]);
    expect(io2.sent.map((x) => x.assoc)).toEqual([back]);
  });
});
