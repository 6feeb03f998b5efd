/**
 * The node's control socket: a Unix domain socket (mode 0600) speaking JSON
 * lines. One request per line, one reply per line. A malformed or unknown
 * request gets an error reply; the node keeps running.
 *
 *   {"cmd":"status"}            → {"ok":true,"status":{...}}
 *   {"cmd":"failover"}          → planned switchover to the standby
 *   {"cmd":"promote","force":b} → take over now (standby)
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type ControlHandler = (request: Record<string, unknown>) => unknown;

/** /run/hasctp/NODE.sock as root, else under $XDG_RUNTIME_DIR (or the temp dir). */
export function defaultControlPath(node: string): string {
  const dir = process.env['HASCTP_RUN_DIR'] ?? (process.getuid?.() === 0 ? '/run/hasctp' : join(process.env['XDG_RUNTIME_DIR'] ?? tmpdir(), `hasctp-${process.getuid?.() ?? 'user'}`));
  return join(dir, `${node}.sock`);
}

export async function startControlServer(path: string, handle: ControlHandler): Promise<{ close(): Promise<void> }> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // A socket file left by a killed process: remove it only if nobody answers on it.
  if (existsSync(path)) {
    const alive = await new Promise<boolean>((resolve) => {
      const s = createConnection(path);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (alive) throw new Error(`control socket ${path} is in use by another process`);
    unlinkSync(path);
  }
  const server: Server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 1 << 20) {
        sock.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
        return;
      }
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        let reply: unknown;
        try {
          const req = JSON.parse(line) as unknown;
          if (req === null || typeof req !== 'object' || Array.isArray(req) || typeof (req as { cmd?: unknown }).cmd !== 'string') reply = { ok: false, error: 'a request is a JSON object with a "cmd" string' };
          else reply = handle(req as Record<string, unknown>);
        } catch (e) {
          reply = { ok: false, error: e instanceof SyntaxError ? `not JSON: ${e.message}` : String(e) };
        }
        sock.write(`${JSON.stringify(reply)}\n`);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }),
  };
}

/** Sends one request and returns the reply. @throws Error with a one-line message. */
export async function controlRequest(path: string, request: Record<string, unknown>, timeoutMs = 5000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no reply from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.once('connect', () => s.write(`${JSON.stringify(request)}\n`));
    s.on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      s.destroy();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      } catch {
        reject(new Error(`bad reply from ${path}`));
      }
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the node's control socket ${path} (${e.code ?? e.message}); is the node running?`));
    });
  });
}
