/**
 * A compact, deterministic binary encoding of plain data: the values a TCB is
 * made of (DESIGN.md §3: numbers, strings, booleans, undefined/null, arrays,
 * plain objects, Maps, Sets, Uint8Arrays). It is what full-sync snapshots and
 * checkpoint portions travel as.
 *
 * Pure (no node:v8): the same bytes on every Node version and host, and the
 * same value encodes to the same bytes (object keys in insertion order, Map
 * and Set in iteration order), so a digest of the encoding detects drift.
 * Decoding never throws on bad input: it returns an error.
 */
const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_INT32 = 4;
const T_FLOAT64 = 5;
const T_STRING = 6;
const T_BYTES = 7;
const T_ARRAY = 8;
const T_OBJECT = 9;
const T_MAP = 10;
const T_SET = 11;

/** Nesting deeper than this is refused on decode (a forged record cannot exhaust the stack). */
const MAX_DEPTH = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

class Writer {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }
  /** LEB128 unsigned varint (lengths, counts). */
  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }
  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.length, v, false);
    this.length += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, v, false);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export class PlainCodecError extends Error {}

function write(w: Writer, v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new PlainCodecError('value nested too deeply');
  if (v === undefined) return w.u8(T_UNDEFINED);
  if (v === null) return w.u8(T_NULL);
  switch (typeof v) {
    case 'boolean':
      return w.u8(v ? T_TRUE : T_FALSE);
    case 'number':
      if (Number.isInteger(v) && v >= -0x8000_0000 && v <= 0x7fff_ffff && !Object.is(v, -0)) {
        w.u8(T_INT32);
        return w.i32(v);
      }
      w.u8(T_FLOAT64);
      return w.f64(v);
    case 'string':
      w.u8(T_STRING);
      return w.bytes(encoder.encode(v));
    case 'object':
      break;
    default:
      throw new PlainCodecError(`cannot encode a ${typeof v}`);
  }
  if (v instanceof Uint8Array) {
    w.u8(T_BYTES);
    return w.bytes(v);
  }
  if (Array.isArray(v)) {
    w.u8(T_ARRAY);
    w.varint(v.length);
    for (const x of v) write(w, x, depth + 1);
    return;
  }
  if (v instanceof Map) {
    w.u8(T_MAP);
    w.varint(v.size);
    for (const [k, x] of v) {
      write(w, k, depth + 1);
      write(w, x, depth + 1);
    }
    return;
  }
  if (v instanceof Set) {
    w.u8(T_SET);
    w.varint(v.size);
    for (const x of v) write(w, x, depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new PlainCodecError('only plain objects, arrays, Maps, Sets and Uint8Arrays can be encoded');
  const keys = Object.keys(v);
  w.u8(T_OBJECT);
  w.varint(keys.length);
  for (const k of keys) {
    w.bytes(encoder.encode(k));
    write(w, (v as Record<string, unknown>)[k], depth + 1);
  }
}

/** @throws PlainCodecError on a value that is not plain data (a local bug, never peer input). */
export function encodePlain(value: unknown): Uint8Array {
  const w = new Writer();
  write(w, value, 0);
  return w.result();
}

class Reader {
  offset = 0;
  private readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number): void {
    if (this.offset + n > this.buf.length) throw new PlainCodecError('truncated');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }
  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return v;
      scale *= 0x80;
    }
    throw new PlainCodecError('varint too long');
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.offset, false);
    this.offset += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.offset, false);
    this.offset += 8;
    return v;
  }
  bytes(): Uint8Array {
    const n = this.varint();
    this.need(n);
    const b = this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
  count(): number {
    const n = this.varint();
    // Every element takes at least one byte: a count beyond the rest is forged.
    if (n > this.buf.length - this.offset) throw new PlainCodecError('count beyond the end');
    return n;
  }
}

function read(r: Reader, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new PlainCodecError('nested too deeply');
  const t = r.u8();
  switch (t) {
    case T_UNDEFINED:
      return undefined;
    case T_NULL:
      return null;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_INT32:
      return r.i32();
    case T_FLOAT64:
      return r.f64();
    case T_STRING:
      return decoder.decode(r.bytes());
    case T_BYTES:
      return r.bytes();
    case T_ARRAY: {
      const n = r.count();
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(read(r, depth + 1));
      return out;
    }
    case T_MAP: {
      const n = r.count();
      const out = new Map<unknown, unknown>();
      for (let i = 0; i < n; i++) {
        const k = read(r, depth + 1);
        out.set(k, read(r, depth + 1));
      }
      return out;
    }
    case T_SET: {
      const n = r.count();
      const out = new Set<unknown>();
      for (let i = 0; i < n; i++) out.add(read(r, depth + 1));
      return out;
    }
    case T_OBJECT: {
      const n = r.count();
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = decoder.decode(r.bytes());
        if (k === '__proto__') throw new PlainCodecError('forbidden key');
        out[k] = read(r, depth + 1);
      }
      return out;
    }
    default:
      throw new PlainCodecError(`unknown tag ${t}`);
  }
}

export type PlainDecodeResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** Never throws: malformed input gives `{ ok: false }`. */
export function decodePlain(bytes: Uint8Array): PlainDecodeResult {
  const r = new Reader(bytes);
  try {
    const value = read(r, 0);
    if (r.offset !== bytes.length) return { ok: false, error: `${bytes.length - r.offset} trailing bytes` };
    return { ok: true, value };
  } catch (e) {
    if (e instanceof PlainCodecError || e instanceof TypeError || e instanceof RangeError) return { ok: false, error: e.message };
    throw e;
  }
}
