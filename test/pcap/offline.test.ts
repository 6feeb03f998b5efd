// `hasctp pcap replay --offline`: a side of a captured association re-executed by a fresh core in
// virtual time. Captures of our own stack (two cores in virtual time, and our client against
// usrsctp in captures/) must come out exactly; a changed setting must show where it diverges.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayOffline, type OfflineOptions } from '../../src/pcap/replay/index.js';
import { hmac, hmacSha1, simCapture } from './offline-sim.js';
import { capturesDir } from './helpers.js';
import { cli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'hasctp-offline-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const source = (b: Uint8Array) => async function* (): AsyncGenerator<Uint8Array> {
  yield b;
};

async function offline(b: Uint8Array, o: Partial<OfflineOptions> = {}) {
  const r = await replayOffline(source(b), { side: 'client', hmac, hmacSha1, ...o });
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const asconfCapture = (): Uint8Array => new Uint8Array(readFileSync(join(capturesDir(), 'asconf-usrsctp.pcapng')));
const echo = simCapture({ messages: 20, size: 300, interval: 30, echo: true, seed: 7 });
const bulk = simCapture({ messages: 6, size: 65536, interval: 5, echo: false, seed: 8 });
const aborted = simCapture({ messages: 3, size: 100, interval: 10, echo: true, seed: 9, abort: true });

describe('offline replay of captures made by our own stack', () => {
  for (const [name, cap] of [['echo', echo], ['64 KiB messages (fragmented, cwnd-limited)', bulk], ['abort', aborted]] as const) {
    for (const side of ['client', 'server'] as const) {
      it(`${name}, ${side} side: every chunk reproduced, at its time`, async () => {
        // Captured on the client's host, 1 ms from the server: the server's responses show 2 ms after
        // its input; and the capture does not say when the application handed a message over (the
        // bulk sender's were queued up to 3 ms before the capture shows them leaving).
        const r = await offline(cap, { side, timeTolerance: 5 });
        expect(r.divergences).toEqual([]);
        expect(r.ok).toBe(true);
        expect(r.chunks.matched).toBe(r.chunks.captured);
        expect(r.chunks.replayed).toBe(r.chunks.captured);
        expect(r.chunks.captured).toBeGreaterThan(5);
      });
    }
  }

  it('counts what it compared: messages, packets fed and compared', async () => {
    const r = await offline(echo);
    expect(r.messages).toBe(20);
    expect(r.packets.fed + r.packets.compared).toBe(49);
    expect(r.config).toMatchObject({ receiveWindow: 262144, outboundStreams: 10, auth: true, asconf: true });
  });

  it('our client against usrsctp with AUTH and ASCONF (captures/asconf-usrsctp.pcapng): exact, HMACs re-signed, ASCONFs re-issued', async () => {
    const r = await offline(asconfCapture());
    expect(r.divergences).toEqual([]);
    expect(r.chunks).toEqual({ captured: 509, replayed: 509, matched: 509 });
  });
});

describe('a changed setting shows where our responses diverge', () => {
  it('no delayed SACK (a SACK for every packet): extra SACKs, with the frame they answer', async () => {
    const r = await offline(bulk, { side: 'server', config: { sackFrequency: 1 } });
    expect(r.ok).toBe(false);
    const extra = r.divergences.filter((d) => d.kind === 'extra');
    expect(extra.length).toBeGreaterThan(0);
    expect(extra.every((d) => d.actual!.startsWith('SACK '))).toBe(true);
    expect(extra[0]!.frame).toBeGreaterThan(0);
  });

  it('a shorter delayed-SACK timer: the SACKs leave earlier than captured', async () => {
    const r = await offline(asconfCapture(), { config: { sackDelay: 50 } });
    const late = r.divergences.filter((d) => d.kind === 'time');
    expect(late.length).toBeGreaterThan(0);
    expect(late[0]!.detail).toMatch(/ms earlier than captured/);
    expect(late[0]!.expected).toMatch(/^SACK cum=\+\d+ /);
  });

  it('a smaller receive window: a_rwnd diverges; --ignore-rwnd (tolerance Infinity) hides it', async () => {
    const r = await offline(echo, { side: 'server', config: { receiveWindow: 100_000 } });
    expect(r.divergences.length).toBeGreaterThan(0);
    expect(r.divergences.every((d) => d.kind === 'a_rwnd')).toBe(true);
    const ignored = await offline(echo, { side: 'server', config: { receiveWindow: 100_000 }, rwndTolerance: Infinity });
    expect(ignored.divergences).toEqual([]);
  });

  it('a smaller path MTU: the fragments of the 64 KiB messages differ (missing and extra DATA)', async () => {
    const r = await offline(bulk, { config: { pathMtu: 1280 } });
    expect(r.divergences.some((d) => d.kind === 'missing' && d.expected!.startsWith('DATA '))).toBe(true);
    expect(r.divergences.some((d) => d.kind === 'extra' && d.actual!.startsWith('DATA '))).toBe(true);
  });
});

describe('hasctp pcap replay --offline (command line)', () => {
  const file = join(tmp, 'echo.pcap');
  writeFileSync(file, echo);
  const bulkFile = join(tmp, 'bulk.pcap');
  writeFileSync(bulkFile, bulk);

  it('exact: exit 0, one summary', async () => {
    const r = await cli(['pcap', 'replay', file, '--offline', '--strict']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('ok: our responses reproduced exactly');
    expect(r.out).toContain('chunks: captured 43, re-executed 43, matched 43');
  });

  it('divergence: listed with frame numbers; exit 1 only with --strict', async () => {
    const loose = await cli(['pcap', 'replay', bulkFile, '--offline', '--side', 'server', '--sack-freq', '1']);
    expect(loose.code).toBe(0);
    expect(loose.out).toMatch(/DIVERGENCE extra: after frame \d+ \([\d.]+ s\): our core sent SACK cum=\+\d+/);
    const strict = await cli(['pcap', 'replay', bulkFile, '--offline', '--side', 'server', '--sack-freq', '1', '--strict', '--json']);
    expect(strict.code).toBe(1);
    const rep = JSON.parse(strict.out) as { ok: boolean; divergences: unknown[]; config: Record<string, unknown> };
    expect(rep.ok).toBe(false);
    expect(rep.config.sackFrequency).toBe(1);
    expect(rep.divergences.length).toBeGreaterThan(0);
  });

  it('a capture without the handshake, a side that did not start, --target with --offline: one line each', async () => {
    const noHandshake = await cli(['pcap', 'replay', join(capturesDir(), 'sctp.cap'), '--offline']);
    expect(noHandshake.code).toBe(1);
    expect(noHandshake.err).toMatch(/^hasctp pcap replay: .*sctp\.cap: association 1: the capture does not hold its handshake \(INIT and INIT ACK\)[^\n]*\n$/);
    const both = await cli(['pcap', 'replay', file, '--offline', '--target', '127.0.0.1:5000']);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/^hasctp: --offline runs without a network: drop --target\n$/);
    const needs = await cli(['pcap', 'replay', file, '--sack-freq', '1', '--target', '127.0.0.1:5000']);
    expect(needs.code).toBe(2);
    expect(needs.err).toMatch(/--sack-freq needs --offline/);
  });
});
