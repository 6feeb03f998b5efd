/**
 * Decoders never throw (DESIGN.md §3): every failure is a typed value that says
 * what was wrong and where, so the core can count and drop, and tools can print.
 */
export const DecodeErrorCode = {
  /** Fewer bytes than a fixed header needs. */
  truncated: 'truncated',
  /** A length field below the minimum for its type. */
  lengthTooShort: 'length-too-short',
  /** A chunk, parameter or cause that runs past the end of its container. */
  beyondEnd: 'beyond-end',
  /** Padding bytes that are missing or not zero. */
  badPadding: 'bad-padding',
  /** A fixed-size field has the wrong size, or a field holds a value the RFC forbids. */
  badValue: 'bad-value',
  /** The CRC32c does not match. */
  badChecksum: 'bad-checksum',
  /** A mandatory part is absent (for example HEARTBEAT without Heartbeat Info). */
  missing: 'missing',
  /** IP or link-layer header that is not what it claims to be. */
  badHeader: 'bad-header',
} as const;
export type DecodeErrorCode = (typeof DecodeErrorCode)[keyof typeof DecodeErrorCode];

export interface DecodeError {
  readonly code: DecodeErrorCode;
  /** Byte offset of the offending field, relative to the buffer that was handed in. */
  readonly offset: number;
  /** One line for humans: what was expected and what was found. */
  readonly message: string;
}

export type Result<T, E = DecodeError> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail(code: DecodeErrorCode, offset: number, message: string): { readonly ok: false; readonly error: DecodeError } {
  return { ok: false, error: { code, offset, message } };
}
