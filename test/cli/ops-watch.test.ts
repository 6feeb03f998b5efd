// `hasctp watch` in a pseudo-terminal (tmux): it renders, redraws in place,
// marks a path changing state, sorts on a key press and quits on q. The
// change detection itself (including loss of protection) is tested directly.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/api/connect.js';
import type { Association } from '../../src/api/association.js';
import { diffRows, renderFrame, sortRows } from '../../src/cli/ops-watch.js';
import type { AssocRow } from '../../src/ops/inspect.js';
import type { Transport } from '../../src/transport/transport.js';
import { requireTool } from '../helpers/env.js';
import { cli, compiledBin, freeUdpPort, killAll, loopbackNet, startProc, until } from '../ops/helpers.js';

const row = (id: number, over: Partial<AssocRow> = {}): AssocRow => ({
  id,
  state: 'established',
  localPort: 2905,
  peerPort: 5000,
  localAddresses: ['10.0.0.1'],
  peerAddresses: ['10.0.0.2', '10.0.0.3'],
  primary: '10.0.0.2',
  inStreams: 2,
  outStreams: 2,
  unackedBytes: 0,
  peerRwnd: 1000,
  cwnd: 4000,
  srtt: 1,
  rto: 200,
  paths: [
    { address: '10.0.0.2', state: 'ACTIVE' },
    { address: '10.0.0.3', state: 'ACTIVE' },
  ],
  replication: { state: 'in-sync', lagRecords: 0, role: 'primary' },
  ...over,
});

describe('watch: what counts as a change', () => {
  it('path state, primary, protection lost and regained, new and gone associations', () => {
    const prev = new Map([
      [1, row(1)],
      [2, row(2)],
      [3, row(3)],
    ]);
    const next = [
      row(1, { paths: [{ address: '10.0.0.2', state: 'ACTIVE' }, { address: '10.0.0.3', state: 'PF' }] }),
      row(2, { replication: { state: 'unprotected', lagRecords: 0, role: 'primary' }, primary: '10.0.0.3' }),
      row(4, { state: 'cookie-echoed' }),
    ];
    expect(diffRows(prev, next, 5).map((e) => [e.assoc, e.what])).toEqual([
      [1, 'path 10.0.0.3 ACTIVE -> PF'],
      [2, 'primary 10.0.0.2 -> 10.0.0.3'],
      [2, 'LOST PROTECTION (UNPROTECTED)'],
      [4, 'new association (cookie-echoed)'],
      [3, 'gone'],
    ]);
    expect(diffRows(new Map([[2, next[1]!]]), [row(2)], 6).map((e) => e.what)).toEqual(['primary 10.0.0.3 -> 10.0.0.2', 'protected again (in sync)']);
    // Nothing changed, nothing marked; the first frame has nothing to compare with.
    expect(diffRows(new Map([[1, row(1)]]), [row(1)], 7)).toEqual([]);
    expect(diffRows(undefined, [row(1)], 7)).toEqual([]);
  });

  it('sorts by a key (largest first for sizes and times, id breaks ties) and marks rows', () => {
    const rows = [row(1, { cwnd: 10 }), row(2, { cwnd: 30 }), row(3, { cwnd: 20 }), row(4, { cwnd: 30 })];
    expect(sortRows(rows, 'cwnd').map((r) => r.id)).toEqual([2, 4, 3, 1]);
    expect(sortRows(rows, 'id').map((r) => r.id)).toEqual([1, 2, 3, 4]);
    const text = renderFrame({ header: 'h', rows, marked: new Set([3]), events: [{ at: 0, assoc: 3, what: 'path x ACTIVE -> PF' }] }, true);
    const lines = text.split('\n');
    expect(lines.find((l) => l.includes('\x1b[7m'))?.startsWith('\x1b[7m!')).toBe(true);
    expect(lines.find((l) => l.includes('\x1b[7m'))).toMatch(/!\s+3\s/);
    expect(lines.filter((l) => l.includes('\x1b[7m'))).toHaveLength(1);
    expect(text).toContain('00:00:00  assoc 3: path x ACTIVE -> PF');
    expect(renderFrame({ header: 'h', rows, marked: new Set([3]), events: [] }, false)).not.toContain('\x1b');
  });
});

/** The transport, with every packet to or from a local address `dark` says is cut dropped. */
function cut(t: Transport, dark: (address: string) => boolean): Transport {
  let handler: Transport['onDatagrams'];
  t.onDatagrams = (batch) => handler?.(batch.filter((d) => !dark(d.destination)));
  return {
    kind: t.kind,
    get localAddresses() {
      return t.localAddresses;
    },
    get onDatagrams() {
      return handler;
    },
    set onDatagrams(h) {
      handler = h;
    },
    send: (packets) => t.send(packets.filter((p) => !dark(p.source))),
    counters: () => t.counters(),
    get lastError() {
      return t.lastError;
    },
    close: () => t.close(),
  };
}

const esc = (net: string): string => net.replace(/\./g, '\\.');

/**
 * A server (child process) with heartbeats every 200 ms to the port its peer
 * binds on each address, and a multihomed peer in this process whose second
 * address goes dark when `darken()` is called.
 */
async function serverAndPeer(bin: string, dir: string): Promise<{ net: string; control: string; connectPeer: () => Promise<Association>; darken: () => void }> {
  const net = loopbackNet();
  const udpPort = await freeUdpPort(`${net}.1`);
  const control = join(dir, `w-${net}.sock`);
  const config = join(dir, `w-${net}.json`);
  writeFileSync(config, JSON.stringify({ sctp: { addresses: [`${net}.1`], port: 2905, transport: 'udp', udpPort, remoteUdpPort: udpPort }, protocol: { hbInterval: 200, rtoInitial: 200, rtoMin: 100, rtoMax: 400, pathMaxRetrans: 2 } }));
  startProc(bin, ['server', '--config', config, '--control', control, '--log-level', 'warn']);
  await until('the control socket', async () => (await cli(['assocs', '--json', '--control', control])).code === 0);
  let dark = false;
  return {
    net,
    control,
    connectPeer: () => connect({ localAddresses: [`${net}.2`, `${net}.3`], remoteAddresses: [`${net}.1`], port: 2905, transport: 'udp', udpPort, remoteUdpPort: udpPort, timeout: 5000, wrapTransport: (t) => cut(t, (a) => dark && a === `${net}.3`) }),
    darken: () => void (dark = true),
  };
}

// tmux shows the screen as a terminal would; `script` (util-linux) gives the
// raw byte stream of a pseudo-terminal. Both variants run (CI installs tmux);
// without tmux its variant is skipped loudly, and under CI=true that fails.
const hasTmux = requireTool('tmux', 'hasctp watch is shown on a tmux screen (tmux capture-pane)');
const hasScript = requireTool('script', 'hasctp watch is tested in a pseudo-terminal made by script(1) (util-linux)');

describe('watch in a pseudo-terminal', () => {
  let bin: string;
  let dir: string;
  const session = `hasctp-watch-${process.pid}`;
  let peer: Association | undefined;
  beforeAll(() => {
    bin = compiledBin('watch');
    dir = mkdtempSync(join(tmpdir(), 'hasctp-ops-watch-'));
  }, 180_000);
  afterEach(async () => {
    if (hasTmux) spawnSync('tmux', ['kill-session', '-t', session]);
    if (peer && !peer.closed) await peer.abort();
    await killAll();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const capture = (escapes = false): string => spawnSync('tmux', ['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session], { encoding: 'utf8' }).stdout;
  const alive = (): boolean => spawnSync('tmux', ['has-session', '-t', session]).status === 0;

  it.skipIf(!hasTmux)('tmux: renders, redraws in place, highlights a path that changes state, sorts on s, quits on q', async () => {
    const s = await serverAndPeer(bin, dir);
    const r = spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '220', '-y', '40', `TERM=xterm ${process.execPath} ${bin} watch --control ${s.control} --interval 0.2`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    await until('the first frame', () => capture().includes('no associations'));
    expect(capture()).toMatch(/hasctp watch {2}server server {2}\d\d:\d\d:\d\d {2}0 association\(s\) {2}sort: id {2}\(s: sort, q: quit\)/);

    peer = await s.connectPeer();
    await until('the association and both paths', () => new RegExp(`\\*${esc(s.net)}\\.2,${esc(s.net)}\\.3:\\d+`).test(capture()), 10_000);
    expect(capture()).toMatch(/assoc \d+: new association \(established\)/);
    s.darken();
    await until('the path change listed', () => new RegExp(`path ${esc(s.net)}\\.3 ACTIVE -> (PF|INACTIVE)`).test(capture()), 15_000);
    const screen = capture();
    // Redrawn in place: one header on the screen, not a scroll of frames.
    expect(screen.match(/hasctp watch/g)).toHaveLength(1);
    expect(screen).toMatch(new RegExp(`\\n!\\s+\\d+\\s+established\\s+${esc(s.net)}\\.1:2905\\s+\\*${esc(s.net)}\\.2,${esc(s.net)}\\.3\\((PF|INACTIVE)\\):\\d+`));
    expect(screen).toContain('not replicated');
    // The marked row is in reverse video on the terminal.
    const marked = capture(true).split('\n').find((l) => l.includes('\x1b[7m'));
    expect(marked).toMatch(/\[7m!\s+\d+\s+established/);

    spawnSync('tmux', ['send-keys', '-t', session, 's']);
    await until('sort by state', () => capture().includes('sort: state'));
    spawnSync('tmux', ['send-keys', '-t', session, 'q']);
    await until('watch to quit', () => !alive(), 5000);
  }, 60_000);

  it.skipIf(!hasScript)('script(1): frames drawn in place on the alternate screen, the change marked, q restores the terminal', async () => {
    const s = await serverAndPeer(bin, dir);
    const p = spawn('script', ['-qfec', `stty cols 200 rows 40; TERM=xterm exec ${process.execPath} ${bin} watch --control ${s.control} --interval 0.2`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let raw = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (raw += d));
    const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    try {
      await until('the first frame', () => raw.includes('no associations'));
      peer = await s.connectPeer();
      await until('the association', () => raw.includes('new association (established)'), 10_000);
      s.darken();
      await until('the path change listed', () => new RegExp(`path ${esc(s.net)}\\.3 ACTIVE -> (PF|INACTIVE)`).test(raw), 15_000);
      p.stdin.write('s');
      await until('sort by state', () => raw.includes('sort: state'));
      p.stdin.write('q');
      expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 5000))])).toBe(0);
    } finally {
      p.kill('SIGKILL');
    }
    // The alternate screen and a hidden cursor while it runs, both restored at the end.
    expect(raw.startsWith('\x1b[?1049h\x1b[?25l')).toBe(true);
    expect(raw.trimEnd().endsWith('\x1b[?25h\x1b[?1049l')).toBe(true);
    // Every frame: cursor home and clear, then the whole frame.
    const frames = raw.split('\x1b[H\x1b[2J').slice(1);
    expect(frames.length).toBeGreaterThan(5);
    for (const f of frames.slice(0, -1)) expect(f.match(/hasctp watch/g)).toHaveLength(1);
    // The frame with the change: its row in reverse video, the change listed.
    const changed = frames.find((f) => /ACTIVE -> (PF|INACTIVE)/.test(f))!;
    expect(changed.split('\n').find((l) => l.startsWith('\x1b[7m!'))).toMatch(/!\s+\d+\s+established/);
  }, 60_000);
});
