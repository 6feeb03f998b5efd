/**
 * `hasctp decode FILE`: one line per SCTP packet of a capture, streaming, so
 * memory does not grow with the file. A damaged packet gets a line of its own
 * and decoding goes on; only an unreadable file or file header fails the command.
 */
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { readCaptureStream, extractSctp, type Timestamp } from '../pcap/index.js';
import { decodePacket } from '../wire/packet.js';
import { formatChunk } from '../wire/format.js';
import { toHex } from '../wire/bytes.js';
import type { Chunk, DecodedPacket } from '../wire/types.js';

export interface DecodeCommandOptions {
  readonly json: boolean;
  readonly udpPorts: readonly number[];
  readonly time: 'rel' | 'abs';
  readonly out: Writable;
  readonly err: Writable;
}

interface Tally {
  frames: number;
  sctp: number;
  malformed: number;
  badChecksum: number;
}

/** Returns the process exit code. */
export async function decodeCommand(file: string, o: DecodeCommandOptions): Promise<number> {
  try {
    await access(file, constants.R_OK);
  } catch (e) {
    o.err.write(`hasctp decode: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    return 1;
  }
  const tally: Tally = { frames: 0, sctp: 0, malformed: 0, badChecksum: 0 };
  let first: Timestamp | undefined;
  const stamp = (t: Timestamp): string => {
    if (o.time === 'abs') return new Date(t.seconds * 1000 + Math.floor(t.nanos / 1e6)).toISOString().replace('Z', `${String(t.nanos % 1e6).padStart(6, '0').slice(0, 3)}Z`);
    first ??= t;
    const ns = (t.seconds - first.seconds) * 1e9 + (t.nanos - first.nanos);
    return (ns / 1e9).toFixed(6);
  };

  let buffered = '';
  const emit = (line: string): void => {
    buffered += line + '\n';
    if (buffered.length > 64 * 1024) {
      o.out.write(buffered);
      buffered = '';
    }
  };

  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    for await (const item of readCaptureStream(stream as AsyncIterable<Uint8Array>)) {
      if (!item.ok) {
        if (item.error.fatal && tally.frames === 0) {
          o.out.write(buffered);
          o.err.write(`hasctp decode: ${file}: not a readable capture: ${item.error.message}\n`);
          return 1;
        }
        tally.malformed++;
        emit(o.json ? JSON.stringify({ frame: tally.frames + 1, error: item.error }) : `#${tally.frames + 1} CAPTURE ERROR ${item.error.code}: ${item.error.message}`);
        if (item.error.fatal) break;
        continue;
      }
      const rec = item.value;
      const n = ++tally.frames;
      const ex = extractSctp(rec.linkType, rec.data, { udpPorts: o.udpPorts });
      if (ex.ok && ex.value === null) continue; // not SCTP
      const time = stamp(rec.timestamp);
      if (!ex.ok) {
        tally.malformed++;
        emit(o.json ? JSON.stringify({ frame: n, time, error: ex.error }) : `#${n} ${time} MALFORMED ${ex.error.code} at ${ex.error.offset}: ${ex.error.message}`);
        continue;
      }
      const f = ex.value;
      if (f === null) continue;
      tally.sctp++;
      const udp = f.encapsulation === 'udp' ? ` udp ${f.udpSourcePort}>${f.udpDestinationPort}` : '';
      const pkt = decodePacket(f.sctp, { checksum: 'classify' });
      if (!pkt.ok) {
        tally.malformed++;
        emit(
          o.json
            ? JSON.stringify({ frame: n, time, source: f.source, destination: f.destination, error: pkt.error })
            : `#${n} ${time} ${f.source} > ${f.destination}${udp} MALFORMED SCTP ${pkt.error.code} at ${pkt.error.offset}: ${pkt.error.message}`,
        );
        continue;
      }
      const p = pkt.value;
      if (p.checksumStatus === 'bad') tally.badChecksum++;
      emit(o.json ? jsonLine(n, time, f.source, f.destination, f.encapsulation, p) : textLine(n, time, f.source, f.destination, udp, p));
    }
  } catch (e) {
    o.out.write(buffered);
    o.err.write(`hasctp decode: ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  o.out.write(buffered);
  o.err.write(
    `${file}: ${tally.frames} frames, ${tally.sctp} SCTP packets, ${tally.malformed} malformed, ${tally.badChecksum} with a bad checksum\n`,
  );
  return 0;
}

const checksumLabel: Record<DecodedPacket['checksumStatus'], string> = {
  crc32c: 'crc32c-ok',
  adler32: 'adler32',
  zero: 'cksum-zero',
  bad: 'CHECKSUM-BAD',
};

function textLine(n: number, time: string, src: string, dst: string, udp: string, p: DecodedPacket): string {
  const host = (a: string, port: number): string => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  return (
    `#${n} ${time} ${host(src, p.sourcePort)} > ${host(dst, p.destinationPort)}${udp} ` +
    `vtag=0x${p.verificationTag.toString(16).padStart(8, '0')} ${checksumLabel[p.checksumStatus]} ` +
    p.chunks.map(formatChunk).join(' | ')
  );
}

function jsonLine(n: number, time: string, src: string, dst: string, encapsulation: string, p: DecodedPacket): string {
  return JSON.stringify(
    {
      frame: n,
      time,
      source: src,
      destination: dst,
      encapsulation,
      sourcePort: p.sourcePort,
      destinationPort: p.destinationPort,
      verificationTag: p.verificationTag,
      checksum: p.checksum,
      checksumStatus: p.checksumStatus,
      chunks: p.chunks.map((c: Chunk) => ({ ...c, text: formatChunk(c) })),
    },
    (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v),
  );
}
