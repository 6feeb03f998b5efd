// The generic control socket: permissions, JSON-lines protocol, error replies
// for malformed / unknown / failing requests (the process keeps serving),
// the request size bound, stale-socket handling and socket discovery.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlDir, controlRequest, defaultControlPath, findControlSocket, RequestError, startControlServer } from '../../src/ops/control.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hasctp-ops-control-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Raw exchange: writes `data`, collects every reply line until the server closes or `lines` arrived. */
function raw(path: string, data: string, lines: number): Promise<{ replies: unknown[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    const replies: unknown[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ replies, closed: false });
    }, 2000);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(data));
    s.on('data', (c: string) => {
      buf += c;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        replies.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
      if (replies.length >= lines) {
        clearTimeout(timer);
        s.destroy();
        resolve({ replies, closed: false });
      }
    });
    s.on('end', () => {
      clearTimeout(timer);
      resolve({ replies, closed: true });
    });
    s.on('error', reject);
  });
}

describe('control socket', () => {
  it('is mode 0600 in a 0700 directory and answers JSON lines in order', async () => {
    const path = join(tempDir(), 'run', 'p.sock');
    const srv = await startControlServer(path, (req) => ({ ok: true, echo: req['n'] }));
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
      const r = await raw(path, '{"cmd":"x","n":1}\n{"cmd":"x","n":2}\n\n{"cmd":"x","n":3}\n', 3);
      expect(r.replies).toEqual([
        { ok: true, echo: 1 },
        { ok: true, echo: 2 },
        { ok: true, echo: 3 },
      ]);
    } finally {
      await srv.close();
    }
  });

  it('malformed, non-object, cmd-less, failing and unknown requests get an error reply; the server keeps serving', async () => {
    const path = join(tempDir(), 'p.sock');
    const errors: unknown[] = [];
    const srv = await startControlServer(
      path,
      (req) => {
        if (req['cmd'] === 'boom') throw new TypeError('bug in a handler');
        if (req['cmd'] === 'refuse') throw new RequestError('refused: reason');
        if (req['cmd'] === 'slow') return new Promise((r) => setTimeout(() => r({ ok: true, slow: true }), 50));
        if (req['cmd'] !== 'ok') throw new RequestError(`unknown command ${JSON.stringify(req['cmd'])}`);
        return { ok: true };
      },
      { onError: (e) => errors.push(e) },
    );
    try {
      const r = await raw(path, '{"cmd":\n[1,2]\n"str"\n{"nocmd":1}\n{"cmd":"boom"}\n{"cmd":"refuse"}\n{"cmd":"dance"}\n{"cmd":"slow"}\n{"cmd":"ok"}\n', 9);
      expect(r.replies[0]).toMatchObject({ ok: false, error: expect.stringMatching(/^not JSON/) });
      expect(r.replies[1]).toMatchObject({ ok: false, error: expect.stringMatching(/"cmd" string/) });
      expect(r.replies[2]).toMatchObject({ ok: false, error: expect.stringMatching(/"cmd" string/) });
      expect(r.replies[3]).toMatchObject({ ok: false, error: expect.stringMatching(/"cmd" string/) });
      expect(r.replies[4]).toEqual({ ok: false, error: 'bug in a handler' });
      expect(r.replies[5]).toEqual({ ok: false, error: 'refused: reason' });
      expect(r.replies[6]).toEqual({ ok: false, error: 'unknown command "dance"' });
      // An asynchronous reply keeps its place in the order.
      expect(r.replies[7]).toEqual({ ok: true, slow: true });
      expect(r.replies[8]).toEqual({ ok: true });
      // Only the unexpected throw is reported as a bug.
      expect(errors).toHaveLength(1);
      expect(await controlRequest(path, { cmd: 'ok' })).toEqual({ ok: true });
    } finally {
      await srv.close();
    }
  });

  it('a request over the size bound gets an error and the connection is closed; others are served', async () => {
    const path = join(tempDir(), 'p.sock');
    const srv = await startControlServer(path, () => ({ ok: true }), { maxRequestBytes: 1024 });
    try {
      // Without a newline: the server must not buffer it forever.
      const big = await raw(path, `{"cmd":"x","pad":"${'a'.repeat(5000)}`, 1);
      expect(big.replies).toEqual([{ ok: false, error: 'request longer than 1024 bytes' }]);
      const line = await raw(path, `{"cmd":"x","pad":"${'a'.repeat(2000)}"}\n`, 1);
      expect(line.replies).toEqual([{ ok: false, error: 'request longer than 1024 bytes' }]);
      expect(await controlRequest(path, { cmd: 'x', pad: 'a'.repeat(900) })).toEqual({ ok: true });
    } finally {
      await srv.close();
    }
  });

  it('replaces a stale socket file, refuses one in use and a path that is not a socket', async () => {
    const dir = tempDir();
    const path = join(dir, 'p.sock');
    const first = await startControlServer(path, () => ({ ok: true, who: 'first' }));
    await expect(startControlServer(path, () => ({}))).rejects.toThrow(/in use by another process/);
    await first.close();
    // A killed process leaves its socket file behind with nobody listening on it.
    const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(statSync(path).isSocket()).toBe(true);
    const again = await startControlServer(path, () => ({ ok: true, who: 'second' }));
    expect(await controlRequest(path, { cmd: 'x' })).toEqual({ ok: true, who: 'second' });
    await again.close();
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    await expect(startControlServer(file, () => ({}))).rejects.toThrow(/not a socket/);
  });

  it('a client gets a one-line error when nobody listens', async () => {
    await expect(controlRequest(join(tempDir(), 'none.sock'), { cmd: 'x' })).rejects.toThrow(/cannot reach the control socket .*none\.sock \(ENOENT\)/);
  });

  it('default paths: HASCTP_RUN_DIR, then XDG_RUNTIME_DIR/hasctp; discovery of the only socket', async () => {
    const saved = { run: process.env['HASCTP_RUN_DIR'], xdg: process.env['XDG_RUNTIME_DIR'] };
    const dir = tempDir();
    try {
      delete process.env['HASCTP_RUN_DIR'];
      process.env['XDG_RUNTIME_DIR'] = dir;
      expect(controlDir()).toBe(join(dir, 'hasctp'));
      process.env['HASCTP_RUN_DIR'] = join(dir, 'custom');
      expect(defaultControlPath('server-5000')).toBe(join(dir, 'custom', 'server-5000.sock'));
      expect(() => findControlSocket()).toThrow(/no control socket in .*custom/);
      const a = await startControlServer(defaultControlPath('a'), () => ({ ok: true }));
      expect(findControlSocket()).toBe(join(dir, 'custom', 'a.sock'));
      const b = await startControlServer(defaultControlPath('b'), () => ({ ok: true }));
      expect(() => findControlSocket()).toThrow(/several control sockets .*\(a\.sock, b\.sock\).*--control/);
      await a.close();
      await b.close();
    } finally {
      if (saved.run === undefined) delete process.env['HASCTP_RUN_DIR'];
      else process.env['HASCTP_RUN_DIR'] = saved.run;
      if (saved.xdg === undefined) delete process.env['XDG_RUNTIME_DIR'];
      else process.env['XDG_RUNTIME_DIR'] = saved.xdg;
    }
  });
});
