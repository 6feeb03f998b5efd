/**
 * Serial number arithmetic (RFC 1982) for TSN (32 bit), SSN (16 bit), MID (32 bit)
 * and the ASCONF / RE-CONFIG sequence numbers (RFC 9260 §1.6). Every comparison or
 * addition of such a number goes through here, never through raw `<` or `+`.
 */

const TWO_32 = 0x1_0000_0000;
const HALF_32 = 0x8000_0000;

/** a + n modulo 2^32 (n may be negative). */
export function add32(a: number, n: number): number {
  return (((a + n) % TWO_32) + TWO_32) % TWO_32;
}

/** Signed distance b - a in 32-bit serial space, in [-2^31, 2^31). */
export function diff32(a: number, b: number): number {
  const d = (b - a + TWO_32) % TWO_32;
  return d >= HALF_32 ? d - TWO_32 : d;
}

/** a < b in 32-bit serial space. Undefined (false) when exactly 2^31 apart. */
export function lt32(a: number, b: number): boolean {
  const d = (b - a + TWO_32) % TWO_32;
  return d !== 0 && d < HALF_32;
}
export function gt32(a: number, b: number): boolean {
  return lt32(b, a);
}
export function lte32(a: number, b: number): boolean {
  return a === b || lt32(a, b);
}
export function gte32(a: number, b: number): boolean {
  return a === b || lt32(b, a);
}

/** a + n modulo 2^16. */
export function add16(a: number, n: number): number {
  return (((a + n) % 0x1_0000) + 0x1_0000) % 0x1_0000;
}
export function diff16(a: number, b: number): number {
  const d = (b - a + 0x1_0000) % 0x1_0000;
  return d >= 0x8000 ? d - 0x1_0000 : d;
}
export function lt16(a: number, b: number): boolean {
  const d = (b - a + 0x1_0000) % 0x1_0000;
  return d !== 0 && d < 0x8000;
}
export function gt16(a: number, b: number): boolean {
  return lt16(b, a);
}
export function lte16(a: number, b: number): boolean {
  return a === b || lt16(a, b);
}
export function gte16(a: number, b: number): boolean {
  return a === b || lt16(b, a);
}

/** The larger of two 32-bit serial numbers. */
export function max32(a: number, b: number): number {
  return lt32(a, b) ? b : a;
}
