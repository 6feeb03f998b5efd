// Fixture locations and small byte builders shared by the pcap tests.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The capture fixtures: the repo's own captures/ (preferred), else the shared
 * folder beside the repo (../shared/captures). Throws when neither exists, so a
 * missing fixture fails the suite instead of skipping it.
 */
export function capturesDir(): string {
  const candidates = [new URL('../../captures/', import.meta.url), new URL('../../../shared/captures/', import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p) && readdirSync(p).some((f) => /\.(cap|pcap)$/.test(f))) return p;
  }
  throw new Error(`capture fixtures not found; looked in ${candidates.map((c) => fileURLToPath(c)).join(', ')}`);
}

export function readCaptureFile(name: string): Uint8Array {
  return new Uint8Array(readFileSync(capturesDir() + name));
}

export const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturesDir + name));
}

/** [epoch "s.nnnnnnnnn", caplen, len, interface id, ip.src, ip.dst, SCTP bytes, sctp.srcport, sctp.dstport] */
export type TsharkFrame = [string, number, number, number, string, string, number, number, number];

export function expectedFrames(): Record<string, TsharkFrame[]> {
  return JSON.parse(readFileSync(fixturesDir + 'expected.json', 'utf8')) as Record<string, TsharkFrame[]>;
}

/** Packet counts from captures/INDEX.md. */
export const packetCounts: Record<string, number> = {
  'sctp.cap': 4,
  'sctp-test.cap': 74,
  'sctp-addip.cap': 38,
  'sctp-www.cap': 84,
  'sctp_init_collision.cap': 34,
  'sctp001.pcap': 12,
  'forces3.pcap': 154,
};

/** A byte builder with a chosen byte order, independent of the writer under test. */
export class Bytes {
  private readonly parts: number[] = [];
  constructor(private readonly le: boolean) {}
  u8(...v: number[]): this {
    this.parts.push(...v.map((x) => x & 0xff));
    return this;
  }
  u16(v: number): this {
    return this.le ? this.u8(v, v >>> 8) : this.u8(v >>> 8, v);
  }
  u32(v: number): this {
    return this.le ? this.u8(v, v >>> 8, v >>> 16, v >>> 24) : this.u8(v >>> 24, v >>> 16, v >>> 8, v);
  }
  bytes(b: Uint8Array | readonly number[]): this {
    this.parts.push(...b);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A pcapng block: type, length, body (padded), length. */
export function block(le: boolean, type: number, body: Uint8Array, lengthOverride?: number): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const len = lengthOverride ?? 12 + padded;
  return new Bytes(le).u32(type).u32(len).bytes(body).pad4().u32(len).build();
}

export function shb(le: boolean, major = 1): Uint8Array {
  const body = new Bytes(le).u32(0x1a2b3c4d).u16(major).u16(0).u32(0xffffffff).u32(0xffffffff).build();
  return block(le, 0x0a0d0d0a, body);
}

export function option(le: boolean, code: number, value: Uint8Array | readonly number[]): Uint8Array {
  return new Bytes(le).u16(code).u16(value.length).bytes(value).pad4().build();
}

export function idb(le: boolean, linkType: number, snaplen: number, options: Uint8Array[] = []): Uint8Array {
  const b = new Bytes(le).u16(linkType).u16(0).u32(snaplen);
  if (options.length) {
    for (const o of options) b.bytes(o);
    b.u32(0);
  }
  return block(le, 1, b.build());
}

export function epb(le: boolean, iface: number, hi: number, lo: number, data: Uint8Array, origlen = data.length, options: Uint8Array[] = []): Uint8Array {
  const b = new Bytes(le).u32(iface).u32(hi).u32(lo).u32(data.length).u32(origlen).bytes(data).pad4();
  if (options.length) {
    for (const o of options) b.bytes(o);
    b.u32(0);
  }
  return block(le, 6, b.build());
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Splits `bytes` into chunks whose sizes come from `sizes` (cycled). */
export function chunked(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    // Copies, so a test catches records that alias a chunk the reader should have copied.
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}
