// Interoperability with usrsctp (Debian libusrsctp-examples) over RFC 6951 UDP
// encapsulation on loopback: our client against usrsctp's echo_server, and
// usrsctp's client and tsctp against our server. Every child is bounded by a
// timeout and killed in afterAll.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, createServer, type Association, type Message, type Server } from '../../src/index.js';
import { requireTool } from '../helpers/env.js';
import { waitUntil } from '../helpers/wait.js';

const DIR = '/usr/lib/usrsctp';
const have = ['echo_server', 'client', 'tsctp'].every((p) => requireTool(`${DIR}/${p}`, `usrsctp interop needs ${DIR}/${p} (apt-get install -y libusrsctp-examples)`));
// usrsctp binds its encapsulation port on the wildcard address: keep clear of other suites' ports.
const BASE = 20_000 + Math.floor(Math.random() * 20_000);
const children = new Set<ChildProcess>();

interface Spawned {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function start(program: string, args: string[], timeoutMs: number): Spawned {
  const child = spawn(`${DIR}/${program}`, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.once('error', () => resolve(null));
  });
  return { child, output: () => out, exited };
}

async function stop(s: Spawned): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await s.exited;
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});


describe.skipIf(!have)('usrsctp interop over UDP encapsulation (loopback)', () => {
  it('our client -> usrsctp echo_server: every message echoed exactly once, in order', async () => {
    const ours = BASE;
    const theirs = BASE + 1;
    const echo = start('echo_server', [String(theirs), String(ours)], 30_000);
    let a: Association | undefined;
    try {
      // echo_server is up once it listens; retry the association a few times in case it is slow to start.
      for (let attempt = 0; attempt < 5 && a === undefined; attempt++) {
        try {
          a = await connect({ remoteAddresses: ['127.0.0.1'], port: 7, localAddresses: ['127.0.0.1'], udpPort: ours, remoteUdpPort: theirs, timeout: 3000 });
        } catch (e) {
          if (attempt === 4) throw new Error(`${String(e)}\n${echo.output().slice(-2000)}`, { cause: e });
        }
      }
      const assoc = a!;
      const N = 200;
      const got: string[] = [];
      assoc.on('message', (m: Message) => got.push(`${m.stream}/${m.ppid}/${m.data.toString('latin1')}`));
      const want: string[] = [];
      for (let i = 0; i < N; i++) {
        const text = `message ${i} ${'x'.repeat(i % 50)}`;
        const stream = i % 3;
        want.push(`${stream}/${1000 + i}/${text}`);
        if (!assoc.send(text, { stream, ppid: 1000 + i })) await new Promise<void>((r) => assoc.once('drain', () => r()));
      }
      await waitUntil(`${N} echoes`, 15_000, () => got.length >= N, echo.output);
      // Exactly once and in order on each stream (streams are independent).
      for (const s of [0, 1, 2]) expect(got.filter((g) => g.startsWith(`${s}/`))).toEqual(want.filter((w) => w.startsWith(`${s}/`)));
      expect(got).toHaveLength(N);
      await assoc.shutdown();
      expect(assoc.closed).toBe(true);
    } finally {
      await a?.abort();
      await stop(echo);
    }
  }, 40_000);

  describe('usrsctp programs -> our server', () => {
    let server: Server | undefined;
    afterAll(async () => {
      await server?.close(500);
    });

    it('usrsctp client -> our echo server: lines come back, graceful shutdown', async () => {
      const ours = BASE + 2;
      const theirs = BASE + 3;
      server = await createServer({ localAddresses: ['127.0.0.1'], port: 5555, udpPort: ours, remoteUdpPort: theirs });
      const received: string[] = [];
      const closed: Association[] = [];
      server.on('association', (a: Association) => {
        a.on('message', (m: Message) => {
          received.push(m.data.toString('latin1'));
          a.send(m.data, { stream: m.stream, ppid: m.ppid });
        });
        a.on('close', () => closed.push(a));
      });
      const c = start('client', ['127.0.0.1', '5555', '0', String(theirs), String(ours)], 30_000);
      const lines = Array.from({ length: 20 }, (_, i) => `line ${i} from usrsctp\n`);
      await waitUntil('client association', 10_000, () => server!.associations().length > 0 || received.length > 0, c.output);
      for (const l of lines) c.child.stdin!.write(l);
      await waitUntil('20 lines', 10_000, () => received.length >= lines.length, c.output);
      c.child.stdin!.end();
      // stdin EOF: the client shuts the association down and exits.
      const code = await Promise.race([c.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
      expect(received).toEqual(lines);
      expect(code, c.output()).toBe(0);
      for (const l of lines) expect(c.output()).toContain(l.trim());
      await waitUntil('our side closed', 5000, () => closed.length === 1);
      await server.close(500);
      server = undefined;
    }, 40_000);

    it('tsctp -> our discard server: every message of the bulk transfer arrives', async () => {
      const ours = BASE + 4;
      const theirs = BASE + 5;
      server = await createServer({ localAddresses: ['127.0.0.1'], port: 5556, udpPort: ours, remoteUdpPort: theirs });
      let messages = 0;
      let bytes = 0;
      let closedCount = 0;
      server.on('association', (a: Association) => {
        a.on('message', (m: Message) => {
          messages++;
          bytes += m.data.length;
        });
        a.on('close', () => closedCount++);
      });
      const N = 500;
      const L = 1200;
      const t = start('tsctp', ['-n', String(N), '-l', String(L), '-p', '5556', '-E', String(theirs), '-U', String(ours), '127.0.0.1'], 30_000);
      const code = await Promise.race([t.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 25_000))]);
      expect(code, t.output()).toBe(0);
      await waitUntil(`${N} messages`, 10_000, () => messages >= N, t.output);
      expect(messages).toBe(N);
      expect(bytes).toBe(N * L);
      await waitUntil('association closed', 5000, () => closedCount === 1, t.output);
      await server.close(500);
      server = undefined;
    }, 40_000);
  });
});
