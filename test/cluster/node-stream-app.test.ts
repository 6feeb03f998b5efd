// The `stream` application (src/cluster/apps.ts): a cluster that initiates
// towards an echo server streams numbered messages with a window in flight,
// checks every echo, and commits its counters with every send so that a
// promoted standby continues the numbering (neither repeating nor skipping).
import { describe, expect, it } from 'vitest';
import { createApp, streamPayload } from '../../src/cluster/apps.js';
import type { Op } from '../../src/cluster/state/messages.js';
import type { AppEvent } from '../../src/cluster/state/replica.js';

const opts = { messages: 10, size: 20, window: 3, streams: 2, shutdown: true };
const up: AppEvent = { type: 'core', assocId: 1, event: { type: 'communication-up' } as never };
let delivery = 0;
const echo = (n: number, o: { redelivered?: boolean; data?: Uint8Array } = {}): AppEvent => ({
  type: 'message',
  assocId: 1,
  delivery: ++delivery,
  streamId: (n - 1) % opts.streams,
  ppid: 0,
  unordered: false,
  data: o.data ?? streamPayload(n, opts.size),
  redelivered: o.redelivered ?? false,
});
const sends = (ops: Op[]): number[] => ops.flatMap((op) => (op.op === 'send' ? [new DataView(op.data.buffer, op.data.byteOffset).getUint32(0)] : []));
const commit = (ops: Op[]): Extract<Op, { op: 'commit' }> => ops.find((op): op is Extract<Op, { op: 'commit' }> => op.op === 'commit')!;

describe('stream app', () => {
  it('keeps a window in flight, one new message per echo, on streams by number, and shuts down after the last echo', () => {
    const app = createApp('stream', opts);
    const first = app.onEvent(up);
    expect(sends(first)).toEqual([1, 2, 3]);
    expect(first.filter((op) => op.op === 'send').map((op) => (op as Extract<Op, { op: 'send' }>).options.streamId)).toEqual([0, 1, 0]);
    // The counters go with the sends, in the same record.
    expect(commit(first)).toMatchObject({ op: 'commit', assocId: 1, delivery: 0 });
    const all: number[] = [...sends(first)];
    let last: Op[] = [];
    for (let n = 1; n <= 10; n++) {
      last = app.onEvent(echo(n));
      all.push(...sends(last));
    }
    expect(all).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(last.map((op) => op.op)).toEqual(['shutdown', 'commit']);
    expect(app.report()).toMatchObject({ sent: 10, echoed: 10, duplicates: 0, gaps: 0, corrupted: 0, done: 1 });
  });

  it('counts duplicates, gaps and corrupted echoes', () => {
    delivery = 0;
    const app = createApp('stream', opts);
    app.onEvent(up);
    app.onEvent(echo(1));
    app.onEvent(echo(1)); // again
    app.onEvent(echo(3)); // stream 0 skipped nothing: 1 then 3
    app.onEvent(echo(4)); // stream 1 expected 2: a gap of one
    const bad = streamPayload(5, opts.size);
    bad[10] = 0xff - (bad[10] ?? 0);
    app.onEvent(echo(5, { data: bad }));
    app.onEvent(echo(99)); // never sent
    expect(app.report()).toMatchObject({ echoed: 3, duplicates: 1, gaps: 1, corrupted: 2 });
  });

  it('a promoted standby continues from the committed counters: no number repeated or skipped; without state it starts an established association', () => {
    delivery = 0;
    const a = createApp('stream', opts);
    a.onEvent(up);
    const r1 = a.onEvent(echo(1));
    const r2 = a.onEvent(echo(2));
    const state = commit(r2).appState!;
    expect(sends(r1)).toEqual([4]);
    expect(sends(r2)).toEqual([5]);
    // The standby's application: state as of the last commit, then the uncommitted echo 3 re-delivered.
    const b = createApp('stream', opts);
    const resumed = b.onEvent({ type: 'app-state', assocId: 1, appState: state, committed: 2, established: true });
    expect(sends(resumed)).toEqual([]);
    expect(sends(b.onEvent(echo(3, { redelivered: true })))).toEqual([6]);
    expect(b.report()).toMatchObject({ sent: 6, echoed: 3, redelivered: 1, duplicates: 0, gaps: 0 });

    const fresh = createApp('stream', opts);
    expect(sends(fresh.onEvent({ type: 'app-state', assocId: 7, appState: undefined, committed: 0, established: true }))).toEqual([1, 2, 3]);
    expect(fresh.onEvent({ type: 'app-state', assocId: 8, appState: undefined, committed: 0, established: false })).toEqual([]);
  });
});
