/**
 * The control socket of `hasctp server` and `hasctp node`: a Unix domain
 * socket (mode 0600, in a 0700 directory) speaking JSON lines, one request
 * per line, one reply per line. A malformed, unknown or failing request gets
 * `{"ok":false,"error":...}`; the process keeps running. A request longer than
 * `maxRequestBytes` gets an error and the connection is closed (a client
 * cannot make the process buffer without bound).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type ControlRequest = Record<string, unknown>;
export type ControlReply = Record<string, unknown>;
/** A handler returns the reply (or a promise of it); a throw becomes an error reply. */
export type ControlHandler = (request: ControlRequest) => unknown;

export const MAX_REQUEST_BYTES = 64 * 1024;
/** Connections served at once: a local client cannot exhaust descriptors. */
const MAX_CONNECTIONS = 64;

/** A request that cannot be served: its message is the error reply. */
export class RequestError extends Error {}

/**
 * Where control sockets go: $HASCTP_RUN_DIR, else $XDG_RUNTIME_DIR/hasctp,
 * else /run/hasctp as root, else a per-user directory in the temp dir.
 */
export function controlDir(): string {
  const env = process.env;
  if (env['HASCTP_RUN_DIR'] !== undefined && env['HASCTP_RUN_DIR'] !== '') return env['HASCTP_RUN_DIR'];
  if (env['XDG_RUNTIME_DIR'] !== undefined && env['XDG_RUNTIME_DIR'] !== '') return join(env['XDG_RUNTIME_DIR'], 'hasctp');
  const uid = process.getuid?.();
  return uid === 0 ? '/run/hasctp' : join(tmpdir(), `hasctp-${uid ?? 'user'}`);
}

/** The default socket of one process: `server-PORT` for a server, the node's name for a node. */
export function defaultControlPath(name: string): string {
  return join(controlDir(), `${name}.sock`);
}

/**
 * The socket a client command talks to when no --control is given: the only
 * one in the control directory. @throws RequestError naming the choices.
 */
export function findControlSocket(dir = controlDir()): string {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.sock') && statSync(join(dir, n)).isSocket());
  } catch {
    // no directory: nothing runs
  }
  if (names.length === 1) return join(dir, names[0]!);
  if (names.length === 0) throw new RequestError(`no control socket in ${dir}: is a hasctp server or node running? (or give --control PATH)`);
  throw new RequestError(`several control sockets in ${dir} (${names.sort().join(', ')}): pick one with --control PATH`);
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

export interface ControlServerOptions {
  readonly maxRequestBytes?: number;
  /** Called when a handler throws something that is not a RequestError (a bug): logged, answered. */
  readonly onError?: (err: unknown, request: ControlRequest) => void;
}

/** Answers one parsed line. Never throws. */
export async function answer(line: string, handle: ControlHandler, onError?: ControlServerOptions['onError']): Promise<ControlReply> {
  let req: unknown;
  try {
    req = JSON.parse(line);
  } catch (e) {
    return { ok: false, error: `not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (req === null || typeof req !== 'object' || Array.isArray(req) || typeof (req as { cmd?: unknown }).cmd !== 'string') {
    return { ok: false, error: 'a request is a JSON object with a "cmd" string' };
  }
  try {
    const r = (await handle(req as ControlRequest)) as ControlReply | undefined;
    return r ?? { ok: true };
  } catch (e) {
    if (!(e instanceof RequestError)) onError?.(e, req as ControlRequest);
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Listens on `path` (creating its directory 0700); removes a stale socket file nobody answers on. */
export async function startControlServer(path: string, handle: ControlHandler, o: ControlServerOptions = {}): Promise<ControlServer> {
  const max = o.maxRequestBytes ?? MAX_REQUEST_BYTES;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    if (!statSync(path).isSocket()) throw new Error(`control socket ${path}: a file that is not a socket is in the way`);
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
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    if (sockets.size >= MAX_CONNECTIONS) {
      sock.end(`${JSON.stringify({ ok: false, error: 'too many control connections' })}\n`);
      return;
    }
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = '';
    // Requests on one connection are answered in order, one at a time.
    let chain = Promise.resolve();
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        if (Buffer.byteLength(line) > max) {
          tooLong();
          return;
        }
        chain = chain.then(async () => {
          const reply = await answer(line, handle, o.onError);
          if (!sock.destroyed) sock.write(`${JSON.stringify(reply)}\n`);
        });
      }
      if (Buffer.byteLength(buf) > max) tooLong();
    });
    const tooLong = (): void => {
      buf = '';
      sock.pause();
      void chain.then(() => sock.end(`${JSON.stringify({ ok: false, error: `request longer than ${max} bytes` })}\n`));
    };
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
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
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
export async function controlRequest(path: string, request: ControlRequest, timeoutMs = 5000): Promise<ControlReply> {
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
        const r = JSON.parse(buf.slice(0, nl)) as unknown;
        if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Error('not an object');
        resolve(r as ControlReply);
      } catch {
        reject(new Error(`bad reply from ${path}`));
      }
    });
    s.once('end', () => {
      clearTimeout(timer);
      if (buf.indexOf('\n') < 0) reject(new Error(`${path} closed the connection without a reply`));
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the control socket ${path} (${e.code ?? e.message}); is the process running?`));
    });
  });
}
