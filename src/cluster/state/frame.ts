/**
 * Cluster-link framing: every message is authenticated with HMAC-SHA256 over
 * the cluster's shared key and carries a protocol version.
 *
 *   u32 length (of what follows) | u8 version | 32-byte MAC | payload
 *
 * MAC = HMAC-SHA256(key, version || payload). A frame with a bad MAC, an
 * unknown version or an impossible length is reported, never acted on; the
 * link driver then drops the connection (a stream that lost its framing
 * cannot be trusted further).
 */
import type { HmacSha256 } from '../../core/env.js';

export const CLUSTER_PROTOCOL_VERSION = 1;
const HEADER = 4 + 1 + 32;
/** A full sync of many associations can be large; anything beyond this is refused. */
export const MAX_FRAME = 256 * 1024 * 1024;

function mac(hmac: HmacSha256, key: Uint8Array, version: number, payload: Uint8Array): Uint8Array {
  const data = new Uint8Array(1 + payload.length);
  data[0] = version;
  data.set(payload, 1);
  return hmac(key, data);
}

export function encodeFrame(payload: Uint8Array, key: Uint8Array, hmac: HmacSha256): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  const len = out.length - 4;
  out[0] = len >>> 24;
  out[1] = (len >>> 16) & 0xff;
  out[2] = (len >>> 8) & 0xff;
  out[3] = len & 0xff;
  out[4] = CLUSTER_PROTOCOL_VERSION;
  out.set(mac(hmac, key, CLUSTER_PROTOCOL_VERSION, payload).subarray(0, 32), 5);
  out.set(payload, HEADER);
  return out;
}

export type FrameEvent = { readonly ok: true; readonly payload: Uint8Array } | { readonly ok: false; readonly error: 'bad-mac' | 'bad-version' | 'too-large' | 'too-short' };

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Reassembles frames from a byte stream (TCP) and verifies each. */
export class FrameDecoder {
  private buf = new Uint8Array(0);
  private failed = false;

  constructor(
    private readonly key: Uint8Array,
    private readonly hmac: HmacSha256,
    /** Frames longer than this are refused as soon as their length is read (the checkpoint server's memory bound). */
    private readonly maxFrame: number = MAX_FRAME,
  ) {}

  /** Feeds received bytes; returns the frames they completed. After an error nothing more is decoded. */
  push(chunk: Uint8Array): FrameEvent[] {
    if (this.failed) return [];
    if (this.buf.length === 0) this.buf = chunk.slice();
    else {
      const next = new Uint8Array(this.buf.length + chunk.length);
      next.set(this.buf);
      next.set(chunk, this.buf.length);
      this.buf = next;
    }
    const out: FrameEvent[] = [];
    let off = 0;
    while (this.buf.length - off >= 4) {
      const b = this.buf;
      const len = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
      if (len > this.maxFrame) return this.fail(out, 'too-large');
      if (len < HEADER - 4) return this.fail(out, 'too-short');
      if (b.length - off - 4 < len) break;
      const version = b[off + 4]!;
      const tag = b.subarray(off + 5, off + HEADER);
      const payload = b.slice(off + HEADER, off + 4 + len);
      off += 4 + len;
      if (version !== CLUSTER_PROTOCOL_VERSION) return this.fail(out, 'bad-version');
      if (!equal(tag, mac(this.hmac, this.key, version, payload).subarray(0, 32))) return this.fail(out, 'bad-mac');
      out.push({ ok: true, payload });
    }
    this.buf = off === 0 ? this.buf : this.buf.slice(off);
    return out;
  }

  private fail(out: FrameEvent[], error: 'bad-mac' | 'bad-version' | 'too-large' | 'too-short'): FrameEvent[] {
    this.failed = true;
    this.buf = new Uint8Array(0);
    out.push({ ok: false, error });
    return out;
  }
}
