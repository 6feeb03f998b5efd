#!/usr/bin/env node
// Wire benchmark: packet decode/encode rates and CRC32c throughput, hasctp
// against anchors measured in the same run (npm `sctp`, node:zlib, textbook
// CRC32c). Run with `npm run bench:wire` (builds dist/ first).
//
// Every figure: warm-up, then RUNS timed runs of RUN_MS each, median reported.
// BENCH_RUN_MS / BENCH_RUNS override the defaults (450 ms, 3 runs, after 100 ms of warm-up).
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import zlib from 'node:zlib';
import { crc32c, decodePacket, encodePacket, encodePacketInto } from '../dist/wire/index.js';
import { installNativeCrc32c, loadNative, nativeUnavailableReason, uninstallNativeCrc32c } from '../dist/transport/native.js';

const RUN_MS = Number(process.env.BENCH_RUN_MS ?? 450);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARM_MS = Math.min(100, RUN_MS);
/** BENCH_ONLY=codec or crc runs one half. */
const ONLY = process.env.BENCH_ONLY;

let sink = 0;
const now = () => performance.now();

/** Operations per second of `op` (median of RUNS). `op` returns a number folded into `sink`. */
function rate(op) {
  let batch = 1;
  const tw = now();
  while (now() - tw < WARM_MS) {
    const t0 = now();
    for (let i = 0; i < batch; i++) sink ^= op();
    if (now() - t0 < 1) batch *= 2;
  }
  const rates = [];
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const t0 = now();
    let t;
    do {
      for (let i = 0; i < batch; i++) sink ^= op();
      n += batch;
      t = now();
    } while (t - t0 < RUN_MS);
    rates.push(n / ((t - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1];
}

// ------------------------------------------------------------------ anchors

const require = createRequire(import.meta.url);
/** npm `sctp` (pure JS on raw-socket): its packet and chunk codec, if installed. */
let sctp;
try {
  sctp = { Packet: require('sctp/lib/packet.js'), Chunk: require('sctp/lib/chunk.js'), version: require('sctp/package.json').version };
} catch (err) {
  sctp = undefined;
  console.warn(`npm sctp not installed (${err.code ?? err.message}): its columns are left out`);
}
let polycrc;
try {
  polycrc = require('polycrc').crc32c;
} catch {
  polycrc = undefined;
}

/** The textbook byte-at-a-time table CRC32c. */
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[n] = c >>> 0;
}
function crc32cBytewise(data) {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ------------------------------------------------------------------ inputs

let seed = 0x9e3779b9;
function random(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    b[i] = seed;
  }
  return b;
}

const userData = random(100);
/** The same bytes as a Buffer, which npm sctp needs; shared like userData, not copied per encode. */
const userDataBuffer = Buffer.from(userData);
const header = { sourcePort: 2905, destinationPort: 2905, verificationTag: 0x1a2b3c4d };
/** A packet literal as a sender builds it (an object spread here would make V8 go megamorphic and time the spread). */
const packet = (chunks) => ({ sourcePort: 2905, destinationPort: 2905, verificationTag: 0x1a2b3c4d, chunks });
const dataChunk = (i) => ({
  kind: 'data', tsn: 1000 + i, streamId: 1, ssn: 7 + i, ppid: 3, userData,
  unordered: false, beginning: true, ending: true, immediate: false,
});
const gaps = Array.from({ length: 20 }, (_, i) => ({ start: 2 + 4 * i, end: 3 + 4 * i }));
const dups = [990, 991, 995, 999];

/** Each case builds fresh packet objects for every encode, as a sender does. */
const cases = [
  {
    name: 'DATA x1 (100 B)',
    hasctp: () => packet([dataChunk(0)]),
    sctp: () => [new sctp.Chunk('data', { tsn: 1000, stream_id: 1, ssn: 7, ppid: 3, user_data: userDataBuffer, flags: { B: 1, E: 1 } })],
  },
  {
    name: 'DATA x10 bundled',
    hasctp: () => packet(Array.from({ length: 10 }, (_, i) => dataChunk(i))),
    sctp: () =>
      Array.from({ length: 10 }, (_, i) =>
        new sctp.Chunk('data', { tsn: 1000 + i, stream_id: 1, ssn: 7 + i, ppid: 3, user_data: userDataBuffer, flags: { B: 1, E: 1 } })),
  },
  {
    name: 'SACK 20 gaps + 4 dups',
    hasctp: () =>
      packet([{ kind: 'sack', cumulativeTsnAck: 1000, aRwnd: 106496, gapBlocks: gaps.map((g) => ({ start: g.start, end: g.end })), duplicateTsns: dups.slice() }]),
    sctp: () => [
      new sctp.Chunk('sack', {
        c_tsn_ack: 1000, a_rwnd: 106496,
        sack_info: { gap_blocks: gaps.map((g) => ({ start: g.start, finish: g.end })), duplicate_tsn: dups.slice() },
      }),
    ],
  },
];


function sctpEncode(c) {
  const chunks = c.sctp().map((ch) => ch.toBuffer());
  return new sctp.Packet({ src_port: header.sourcePort, dst_port: header.destinationPort, v_tag: header.verificationTag }, chunks).toBuffer();
}
function sctpDecode(buf) {
  const p = sctp.Packet.fromBuffer(buf);
  if (p.checksum_error) throw new Error('sctp: checksum error');
  let n = 0;
  for (const raw of p.chunks) n += sctp.Chunk.fromBuffer(raw).chunkId + 1;
  return n;
}

// ------------------------------------------------------------------ checks

const addon = loadNative();
const install = installNativeCrc32c();
uninstallNativeCrc32c();

for (const c of cases) {
  c.bytes = encodePacket(c.hasctp());
  const d = decodePacket(c.bytes, { checksum: 'strict' });
  if (!d.ok) throw new Error(`${c.name}: ${d.error.message}`);
  if (sctp) {
    const theirs = sctpEncode(c);
    const back = decodePacket(theirs, { checksum: 'strict' });
    if (!back.ok) throw new Error(`${c.name}: sctp-encoded packet does not decode: ${back.error.message}`);
    if (Buffer.compare(theirs, Buffer.from(c.bytes)) !== 0) console.warn(`note: ${c.name}: sctp and hasctp encodings differ`);
    c.buffer = Buffer.from(c.bytes);
    if (sctpDecode(c.buffer) === 0) throw new Error('sctp decoded nothing');
  }
}

// ------------------------------------------------------------------ codec

const fmtRate = (r) => (r === undefined ? '-' : r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(0)} k`);
const pad = (s, n) => String(s).padStart(n);

console.log(`hasctp wire bench — Node ${process.version}, ${cpus()[0]?.model ?? '?'}, ${RUNS} x ${RUN_MS} ms per figure (median)`);
console.log(
  addon
    ? `native addon: ${addon.crc32cImplementation}, used for CRC spans >= ${install.minBytes} B`
    : `native addon: NOT AVAILABLE (${nativeUnavailableReason()})`,
);
console.log('');
console.log('Codec, packets/s (checksum included unless "skip"; encode builds fresh chunk objects each time)');
const cols = ['packet', 'bytes', 'decode', 'dec+native', 'dec skip', 'encode', 'enc+native', 'enc into', 'sctp dec', 'sctp enc'];
const widths = [22, 6, 9, 11, 9, 9, 11, 9, 9, 9];
console.log(cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : pad(c, widths[i]))).join(' '));

for (const c of ONLY === 'crc' ? [] : cases) {
  const b = c.bytes;
  const native = addon && b.length - 12 >= install.minBytes;
  const row = {};
  row.decode = rate(() => (decodePacket(b, { checksum: 'strict' }).ok ? 1 : 0));
  row.skip = rate(() => (decodePacket(b, { checksum: 'skip' }).ok ? 1 : 0));
  row.encode = rate(() => encodePacket(c.hasctp()).length);
  const out = new Uint8Array(b.length);
  row.into = rate(() => encodePacketInto(c.hasctp(), out, 0));
  if (native) {
    installNativeCrc32c();
    row.decodeN = rate(() => (decodePacket(b, { checksum: 'strict' }).ok ? 1 : 0));
    row.encodeN = rate(() => encodePacket(c.hasctp()).length);
    uninstallNativeCrc32c();
  }
  if (sctp) {
    row.sctpDec = rate(() => sctpDecode(c.buffer));
    row.sctpEnc = rate(() => sctpEncode(c).length);
  }
  const nat = (x) => (addon ? (native ? fmtRate(x) : '= JS') : 'n/a');
  const cells = [c.name, b.length, fmtRate(row.decode), nat(row.decodeN), fmtRate(row.skip), fmtRate(row.encode), nat(row.encodeN), fmtRate(row.into), fmtRate(row.sctpDec), fmtRate(row.sctpEnc)];
  console.log(cells.map((x, i) => (i === 0 ? String(x).padEnd(widths[i]) : pad(x, widths[i]))).join(' '));
}
console.log('decode: decodePacket strict (CRC32c verified), dec skip: checksum not computed (parse cost alone);');
console.log('encode: encodePacket (fresh packet, slab-carved output, CRC32c), enc into: encodePacketInto a reused buffer (+ CRC32c);');
console.log('+native: the same with installNativeCrc32c(); "= JS": below its threshold, so the JS CRC runs either way.');
console.log(`sctp: npm sctp ${sctp?.version ?? '(absent)'} Packet.fromBuffer + Chunk.fromBuffer / new Chunk().toBuffer + Packet.toBuffer (CRC by polycrc, never skipped).`);

// ------------------------------------------------------------------ CRC

console.log('');
console.log('CRC, MB/s (1 MB = 10^6 bytes)');
const sizes = [128, 1024, 65536];
const impls = [
  ['hasctp JS crc32c (slice-by-16)', (d) => crc32c(d)],
  ...(addon ? [[`hasctp native crc32c (${addon.crc32cImplementation})`, (d) => addon.crc32c(d, 0, d.length, 0)]] : []),
  ...(typeof zlib.crc32 === 'function' ? [['node:zlib crc32 (CRC-32, not 32c) *', (d) => zlib.crc32(d)]] : []),
  ['textbook crc32c, byte table', crc32cBytewise],
  ...(polycrc ? [['polycrc crc32c (used by npm sctp)', (d) => polycrc(Buffer.from(d.buffer, d.byteOffset, d.length))]] : []),
];
// Uint8Array, as the codec hands over; a Buffer here would make the JS loops see two array maps.
const inputs = sizes.map((n) => random(n));
const check = crc32cBytewise(inputs[1]);
for (const [name, f] of impls) if (!name.startsWith('node:zlib') && f(inputs[1]) >>> 0 !== check) throw new Error(`${name} is wrong`);
console.log(['implementation'.padEnd(40), ...sizes.map((n) => pad(n >= 1024 ? `${n / 1024} KiB` : `${n} B`, 10))].join(' '));
for (const [name, f] of ONLY === 'codec' ? [] : impls) {
  const cells = inputs.map((d) => pad((rate(() => f(d)) * d.length / 1e6).toFixed(0), 10));
  console.log([name.padEnd(40), ...cells].join(' '));
}
console.log('* node:zlib crc32 is zlib\'s native CRC-32 (polynomial 0x04C11DB7, reflected): a different CRC, the same work.');
if (!addon) console.log(`native addon absent: ${nativeUnavailableReason()}`);
if (sink === 0.5) console.log(sink);
