/**
 * The Wireshark cross-check (as tshark.test.ts does for every chunk kind) for
 * the packets two of our endpoints really exchange while negotiating AUTH and
 * using ADD-IP: INIT / INIT ACK with RANDOM, CHUNK LIST, HMAC-ALGO, Supported
 * Extensions and Adaptation Layer Indication, AUTH + ASCONF (Add IP, Set
 * Primary, Delete IP), AUTH + ASCONF-ACK with Success and Error Cause
 * Indications, an ERROR with Unsupported HMAC Identifier. Every one dissects
 * with the chunk types we put in, no malformed mark, no bad checksum.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datagram, Endpoint } from '../../src/core/endpoint.js';
import { LinkType, PcapWriter } from '../../src/pcap/index.js';
import { chunkType } from '../../src/wire/chunk.js';
import { encodeIPv4 } from '../../src/wire/ip.js';
import { decodePacket } from '../../src/wire/packet.js';
import { A, A2, B, PORT_A, PORT_B, endpoint, events } from '../core/assoc/helpers.js';
import { signedPacket, tcbOf } from '../core/auth/helpers.js';
import { requireTool } from '../helpers/env.js';

const haveTshark = requireTool('tshark', 'the Wireshark cross-check of AUTH and ASCONF cannot run');

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Moves every datagram between the two endpoints until both are quiet, recording each. */
function exchange(a: Endpoint, b: Endpoint, now: number, log: Datagram[]): void {
  for (let round = 0; round < 100; round++) {
    let moved = false;
    for (const [from, to] of [[a, b], [b, a]] as const) {
      for (let d = from.pollTransmit(now); d; d = from.pollTransmit(now)) {
        log.push({ source: d.source, destination: d.destination, bytes: d.bytes.slice() });
        to.handlePacket(now, d);
        moved = true;
      }
    }
    events(a);
    events(b);
    if (!moved) return;
  }
  throw new Error('no quiescence');
}

describe.skipIf(!haveTshark)('AUTH and ASCONF as we send them dissect cleanly in tshark', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hasctp-tshark-auth-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const hmacIdentifiers of [[3, 1], [1]]) {
    it(`handshake, Add IP, Set Primary, Delete IP, error indications (HMAC ${hmacIdentifiers.join(',')})`, () => {
      const log: Datagram[] = [];
      const a = endpoint([A], PORT_A, 1, { hmacIdentifiers, adaptationIndication: 0xabcd });
      const b = endpoint([B], PORT_B, 2, { hmacIdentifiers });
      const r = a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
      if (!r.ok) throw new Error('connect');
      exchange(a, b, 0, log);
      const idB = b.associationIds()[0]!;
      a.addLocalAddress(10, A2, r.assocId);
      a.requestPeerPrimary(10, r.assocId, A2);
      exchange(a, b, 10, log);
      for (let t = 11; t < 100; t += 10) {
        a.handleTimeout(t);
        b.handleTimeout(t);
        exchange(a, b, t, log);
      }
      a.removeLocalAddress(200, A, r.assocId);
      exchange(a, b, 200, log);
      // B answers an ASCONF with an error (deleting its source address) and success indications,
      // and an AUTH with an HMAC Identifier it did not offer with an ERROR.
      const serial = (tcbOf(b, idB).asconf!.peerSerial + 1) >>> 0;
      const forged = [
        signedPacket(b, idB, { source: PORT_A, destination: PORT_B }, [], [
          { kind: 'asconf', serial, address: A2, params: [{ kind: 'delete-ip-address', correlationId: 70, address: A2 }, { kind: 'set-primary-address', correlationId: 71, address: A2 }] },
        ]),
        signedPacket(b, idB, { source: PORT_A, destination: PORT_B }, [], [{ kind: 'asconf', serial: serial + 1, address: A2, params: [] }], { hmacId: 2, hmacLength: 20 }),
      ];
      for (const bytes of forged) {
        log.push({ source: A2, destination: B, bytes });
        b.handlePacket(300, { source: A2, destination: B, bytes });
        for (let d = b.pollTransmit(300); d; d = b.pollTransmit(300)) log.push({ source: d.source, destination: d.destination, bytes: d.bytes.slice() });
      }

      const kinds = log.flatMap((d) => {
        const p = decodePacket(d.bytes);
        return p.ok ? p.value.chunks.map((c) => c.kind) : ['undecodable'];
      });
      for (const k of ['auth', 'asconf', 'asconf-ack', 'error', 'heartbeat']) expect(kinds, k).toContain(k);

      const w = new PcapWriter({ linkType: LinkType.raw });
      const parts: Uint8Array[] = [w.header()];
      log.forEach((d, i) => parts.push(w.packet({ seconds: 1_700_000_000 + i, nanos: 0 }, encodeIPv4({ source: d.source, destination: d.destination, protocol: 132, payload: d.bytes }))));
      const file = join(dir, `auth-asconf-${hmacIdentifiers.join('')}.pcap`);
      writeFileSync(file, Buffer.concat(parts));
      const rows = tshark([
        '-r', file, '-o', 'sctp.checksum:CRC-32C',
        '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,',
        '-e', 'frame.number', '-e', 'sctp.chunk_type', '-e', '_ws.malformed', '-e', '_ws.expert.message', '-e', 'sctp.checksum.status',
      ])
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => l.split('\t'));
      expect(rows).toHaveLength(log.length);
      rows.forEach((row, i) => {
        const [, types = '', malformed = '', expert = '', status = ''] = row;
        const p = decodePacket(log[i]!.bytes);
        if (!p.ok) throw new Error('undecodable');
        const label = `frame ${i + 1} (${p.value.chunks.map((c) => c.kind).join(',')})`;
        expect(types.split(',').filter(Boolean).map(Number), label).toEqual(p.value.chunks.map(chunkType));
        expect(malformed, `${label} malformed`).toBe('');
        expect(expert, `${label} expert info`).not.toMatch(/malformed|bad checksum|incorrect|wrong|error/i);
        expect(status, `${label} checksum status`).toBe('1');
      });
      // tshark's reading of the fields we care about.
      const auth = tshark(['-r', file, '-Y', 'sctp.chunk_type == 15', '-T', 'fields', '-e', 'sctp.hmac_id', '-e', 'sctp.shared_key_id']).trim().split('\n');
      expect(auth.length).toBeGreaterThanOrEqual(4);
      const expected = hmacIdentifiers[0]!;
      expect(auth.slice(0, -1).every((l) => l.startsWith(`${expected}\t0`))).toBe(true);
      const causes = tshark(['-r', file, '-T', 'fields', '-e', 'sctp.cause_code']).split('\n').flatMap((l) => l.split(',')).filter(Boolean).map(Number);
      expect(causes).toContain(0x00a2); // Request to Delete Source IP Address
      expect(causes).toContain(0x0105); // Unsupported HMAC Identifier
      const params = tshark(['-r', file, '-T', 'fields', '-e', 'sctp.parameter_type']).split('\n').flatMap((l) => l.split(',')).filter(Boolean).map(Number);
      for (const t of [0x8002, 0x8003, 0x8004, 0x8008, 0xc006, 0xc001, 0xc002, 0xc004, 0xc003, 0xc005]) expect(params, t.toString(16)).toContain(t);
    });
  }
});
