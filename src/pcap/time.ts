/**
 * Capture timestamps as whole seconds plus nanoseconds, and their conversion
 * to and from pcapng's 64-bit tick counts. A nanosecond count since 1970 is
 * past 2^53, so the common decimal resolutions (10^-k, k <= 9) are converted
 * with 16-bit limbs, exactly; the rare others (10^-k for k > 9, 2^-k) use BigInt.
 */

export interface Timestamp {
  /** Whole seconds since 1970-01-01T00:00:00Z (may be negative after if_tsoffset). */
  readonly seconds: number;
  /** 0 <= nanos < 1e9. */
  readonly nanos: number;
}

/** Converts a 64-bit tick count (high and low 32-bit words) to a timestamp. */
export type TickConverter = (hi: number, lo: number, offsetSeconds: number) => Timestamp;

const TWO32 = 4294967296;

function decimalConverter(k: number): TickConverter {
  const d = 10 ** k;
  const scale = 10 ** (9 - k);
  return (hi, lo, offsetSeconds) => {
    const qh = Math.floor(hi / d);
    let r = hi - qh * d;
    let x = r * 65536 + (lo >>> 16);
    const q1 = Math.floor(x / d);
    r = x - q1 * d;
    x = r * 65536 + (lo & 0xffff);
    const q0 = Math.floor(x / d);
    r = x - q0 * d;
    return { seconds: qh * TWO32 + q1 * 65536 + q0 + offsetSeconds, nanos: r * scale };
  };
}

function bigConverter(unitsPerSecond: bigint): TickConverter {
  return (hi, lo, offsetSeconds) => {
    const t = (BigInt(hi) << 32n) | BigInt(lo);
    const s = t / unitsPerSecond;
    const f = t - s * unitsPerSecond;
    return { seconds: Number(s) + offsetSeconds, nanos: Number((f * 1_000_000_000n) / unitsPerSecond) };
  };
}

const converters = new Map<number, TickConverter>();

/**
 * The converter for a pcapng if_tsresol byte: top bit clear means 10^-v
 * seconds per tick, set means 2^-(v & 0x7f). The default (no option) is 6.
 */
export function tickConverter(tsresol: number): TickConverter {
  let c = converters.get(tsresol);
  if (c === undefined) {
    const v = tsresol & 0x7f;
    if ((tsresol & 0x80) === 0) c = v <= 9 ? decimalConverter(v) : bigConverter(10n ** BigInt(v));
    else c = bigConverter(1n << BigInt(v));
    converters.set(tsresol, c);
  }
  return c;
}

/**
 * seconds * unitsPerSecond + floor(nanos * unitsPerSecond / 1e9) as 32-bit words,
 * for unitsPerSecond = 10^k, k <= 9. Negative seconds and counts past 2^64
 * (after the year 2554 in nanoseconds) are not representable and throw.
 */
export function timestampToTicks(ts: Timestamp, unitsPerSecond: number): { readonly hi: number; readonly lo: number } {
  const { seconds, nanos } = ts;
  if (!Number.isSafeInteger(seconds) || seconds < 0 || !Number.isInteger(nanos) || nanos < 0 || nanos >= 1e9) {
    throw new RangeError(`timestamp ${seconds}s ${nanos}ns is not a non-negative integer second with 0 <= nanos < 1e9`);
  }
  const d = unitsPerSecond;
  const frac = Math.floor(nanos / (1e9 / d));
  const sLo = seconds % TWO32;
  const sHi = Math.floor(seconds / TWO32);
  const p0 = (sLo & 0xffff) * d + frac;
  const p1 = Math.floor(sLo / 65536) * d;
  const p2 = sHi * d;
  const t = p0 + (p1 % 65536) * 65536;
  const lo = t % TWO32;
  const hi = Math.floor(p1 / 65536) + p2 + Math.floor(t / TWO32);
  if (hi >= TWO32) throw new RangeError(`timestamp ${seconds}s does not fit 64 bits of ${d} ticks per second`);
  return { hi, lo };
}
