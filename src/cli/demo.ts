/**
 * `hasctp demo`: the product in one command, without root. A primary and a
 * standby cluster node run as child processes on loopback addresses (SCTP
 * over UDP, RFC 6951), presenting one endpoint with two addresses; a peer in
 * this process connects, streams numbered messages and checks every echo;
 * halfway through, the primary is killed with SIGKILL. The timeline and the
 * loss / duplicate / reorder counts are printed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, randomInt } from 'node:crypto';
import { createServer as createTcpServer } from 'node:net';
import { connect } from '../api/connect.js';
import type { Association, Message } from '../api/association.js';
import { openPcapRecorder } from '../transport/pcap-tap.js';

/**
 * Not 2905: Wireshark decodes that port as M3UA whatever the PPID, and the
 * demo's numbered messages are not M3UA (a --pcap-dir capture would show
 * every DATA chunk as malformed).
 */
const DEMO_PORT = 5905;

export interface DemoOptions {
  readonly messages: number;
  readonly json: boolean;
  /** Records primary.pcapng, standby.pcapng (each with its cluster link) and peer.pcapng here. */
  readonly pcapDir?: string;
}

interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly lines: { t: number; rec: Record<string, unknown> }[];
}

async function freeTcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createTcpServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = a && typeof a === 'object' ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function startNode(name: string, configFile: string, t0: number, pcap: string | undefined): Child {
  const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
  const args = [bin, 'node', '--config', configFile, '--log-level', 'info', ...(pcap !== undefined ? ['--pcap', pcap] : [])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const child: Child = { name, proc, lines: [] };
  let buf = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (s: string) => {
    buf += s;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        child.lines.push({ t: (typeof rec['time'] === 'number' ? rec['time'] : Date.now()) - t0, rec });
      } catch {
        child.lines.push({ t: Date.now() - t0, rec: { msg: line } });
      }
    }
  });
  proc.stdout!.resume();
  return child;
}

async function waitFor(what: string, ok: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function demoCommand(o: DemoOptions): Promise<number> {
  const net = `127.${randomInt(64, 250)}.${randomInt(1, 250)}`;
  const peerAddr = `${net}.10`;
  const addrs = { a: `${net}.1`, b: `${net}.2` };
  const dir = mkdtempSync(join(tmpdir(), 'hasctp-demo-'));
  const key = randomBytes(32).toString('hex');
  const linkPort = await freeTcpPort('127.0.0.1');
  const protocol = { rtoMin: 100, rtoInitial: 300, rtoMax: 1000, hbInterval: 500, pfMaxRetrans: 0 };
  const config = (node: 'a' | 'b') => ({
    node,
    role: node === 'a' ? 'primary' : 'standby',
    sctp: { addresses: [addrs[node]], port: DEMO_PORT, transport: 'udp' },
    peers: [{ node: node === 'a' ? 'b' : 'a', addresses: [addrs[node === 'a' ? 'b' : 'a']] }],
    cluster: node === 'a' ? { listen: `127.0.0.1:${linkPort}`, key } : { dial: `127.0.0.1:${linkPort}`, key },
    app: 'echo',
    control: join(dir, `${node}.sock`),
    protocol,
  });
  writeFileSync(join(dir, 'a.json'), JSON.stringify(config('a')));
  writeFileSync(join(dir, 'b.json'), JSON.stringify(config('b')));
  const t0 = Date.now();
  const at = (): number => Date.now() - t0;
  const timeline: { t: number; what: string }[] = [];
  const children: Child[] = [];
  let assoc: Association | undefined;
  const say = (what: string): void => {
    timeline.push({ t: at(), what });
    if (!o.json) process.stdout.write(`${String(at()).padStart(6)} ms  ${what}\n`);
  };
  try {
    const capture = (name: string): string | undefined => (o.pcapDir !== undefined ? join(o.pcapDir, `${name}.pcapng`) : undefined);
    const primary = startNode('primary', join(dir, 'a.json'), t0, capture('primary'));
    const standby = startNode('standby', join(dir, 'b.json'), t0, capture('standby'));
    const peerCapture = capture('peer');
    const recorder = peerCapture !== undefined ? await openPcapRecorder(peerCapture, { comment: 'hasctp demo peer' }) : undefined;
    children.push(primary, standby);
    say(`primary ${addrs.a} and standby ${addrs.b} started (one endpoint, port ${DEMO_PORT}, SCTP over UDP); peer at ${peerAddr}`);
    await waitFor('the standby to be in sync', () => primary.lines.some((l) => l.rec['msg'] === 'associations in-sync'), 10_000);
    say('standby in sync (full sync acknowledged)');

    assoc = await connect({ localAddresses: [peerAddr], remoteAddresses: [addrs.a, addrs.b], port: DEMO_PORT, transport: 'udp', config: protocol, timeout: 10_000, ...(recorder !== undefined && { wrapTransport: recorder.wrap }) });
    say(`association up; peer sees ${addrs.a} and ${addrs.b} as one multihomed endpoint`);

    const n = o.messages;
    const seen = new Map<number, number>();
    const lastPerStream = new Map<number, number>();
    let duplicated = 0;
    let reordered = 0;
    let corrupted = 0;
    const arrivals: number[] = [];
    let killedAt: number | undefined;
    assoc.on('message', (m: Message) => {
      if (m.data.length < 4) {
        corrupted++;
        return;
      }
      const i = m.data.readUInt32BE(0);
      const c = seen.get(i) ?? 0;
      seen.set(i, c + 1);
      if (c > 0) {
        duplicated++;
        return;
      }
      arrivals.push(at());
      const last = lastPerStream.get(m.stream);
      if (last !== undefined && last > i) reordered++;
      lastPerStream.set(m.stream, i);
      if (killedAt === undefined && seen.size >= n / 2) {
        killedAt = at();
        primary.proc.kill('SIGKILL');
        say(`SIGKILL to the primary after ${seen.size} echoes`);
      }
    });
    // Numbered messages on 4 streams (PPID 0: unspecified, so Wireshark does not
    // take them for M3UA), paced so that traffic is continuous across the kill.
    const sendAll = async (): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const data = Buffer.alloc(100);
        data.writeUInt32BE(i, 0);
        data.fill(i & 0xff, 4);
        if (!assoc!.send(data, { stream: i % 4, ppid: 0 })) await new Promise((r) => assoc!.once('drain', r));
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      }
    };
    await sendAll();
    await waitFor('every echo', () => seen.size >= n, 60_000).catch(() => undefined);
    const promotedLine = standby.lines.find((l) => l.rec['msg'] === 'now primary');
    if (promotedLine) timeline.push({ t: promotedLine.t, what: `standby promoted itself (${String(promotedLine.rec['reason'])}), epoch ${String(promotedLine.rec['epoch'])}` });
    let outage = 0;
    if (killedAt !== undefined) {
      for (let i = 1; i < arrivals.length; i++) if (arrivals[i]! >= killedAt && arrivals[i - 1]! <= killedAt + outage) outage = Math.max(outage, arrivals[i]! - arrivals[i - 1]!);
    }
    const firstAfter = killedAt === undefined ? undefined : arrivals.find((t) => t > killedAt!);
    if (firstAfter !== undefined) timeline.push({ t: firstAfter, what: 'first echo after the kill' });
    await assoc.shutdown().catch(() => undefined);
    say('association shut down by the peer (no ABORT)');
    const result = {
      sent: n,
      echoed: seen.size,
      lost: n - seen.size,
      duplicated,
      reordered,
      corrupted,
      killedAtMs: killedAt,
      promotedAtMs: promotedLine?.t,
      longestGapAcrossKillMs: Math.round(outage),
      timeline: timeline.sort((x, y) => x.t - y.t),
    };
    if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      process.stdout.write('\ntimeline (ms since start):\n');
      for (const e of result.timeline) process.stdout.write(`${String(e.t).padStart(6)}  ${e.what}\n`);
      process.stdout.write(
        `\nresult: ${result.echoed}/${n} messages echoed, ${result.lost} lost, ${duplicated} duplicated, ${reordered} reordered, ${corrupted} corrupted; longest gap between echoes across the kill ${result.longestGapAcrossKillMs} ms\n`,
      );
    }
    return result.lost === 0 && duplicated === 0 && reordered === 0 && corrupted === 0 ? 0 : 1;
  } catch (e) {
    process.stderr.write(`hasctp demo: ${e instanceof Error ? e.message : String(e)}\n`);
    for (const c of children) for (const l of c.lines.slice(-5)) process.stderr.write(`  [${c.name}] ${JSON.stringify(l.rec)}\n`);
    return 1;
  } finally {
    assoc?.abort('demo over');
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
