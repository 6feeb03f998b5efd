/**
 * Loads the optional native addon (native/, built by `npm install` through
 * scripts/build-native.mjs) and installs its CRC32c as the checksum backend.
 * Everything here degrades to "not available": hasctp runs without the addon
 * (JS CRC32c, UDP encapsulation instead of raw IP).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setCrc32cBackend } from '../wire/checksum.js';

/** What native/src/addon.cc exports (abiVersion 1). */
export interface NativeAddon {
  /** CRC32c of buf[start, end) continuing the finished CRC `init` (0 to start); see wire/checksum.ts Crc32cFn. */
  crc32c(buf: Uint8Array, start: number, end: number, init: number): number;
  /** 'sse4.2' | 'armv8-crc' | 'slice-by-8': what the addon picked for this CPU. */
  readonly crc32cImplementation: string;
  readonly abiVersion: number;
}

const ADDON_ABI_VERSION = 1;
const ADDON_PATH = ['native', 'build', 'Release', 'hasctp_native.node'] as const;

/**
 * The hasctp package root: the nearest directory above this file whose
 * package.json is named "hasctp". Works from src/transport (vitest, tsx) and
 * from dist/transport (after tsc) alike.
 */
export function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'hasctp') return dir;
      } catch {
        // an unreadable package.json is not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

type LoadResult = { addon: NativeAddon } | { addon: undefined; reason: string };
let loaded: LoadResult | undefined;

function load(): LoadResult {
  if (process.env.HASCTP_NO_NATIVE === '1') return { addon: undefined, reason: 'HASCTP_NO_NATIVE=1' };
  const root = packageRoot();
  if (root === undefined) return { addon: undefined, reason: 'hasctp package root not found' };
  const path = join(root, ...ADDON_PATH);
  if (!existsSync(path)) return { addon: undefined, reason: `${path} not built (npm install builds it)` };
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<NativeAddon>;
    if (addon.abiVersion !== ADDON_ABI_VERSION || typeof addon.crc32c !== 'function') {
      return {
        addon: undefined,
        reason: `${path} is stale (abiVersion ${String(addon.abiVersion)}, want ${ADDON_ABI_VERSION}): rebuild with npm install`,
      };
    }
    return { addon: addon as NativeAddon };
  } catch (err) {
    return { addon: undefined, reason: `${path} failed to load: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The addon, loaded once; undefined when it is missing or unusable (see nativeUnavailableReason). */
export function loadNative(): NativeAddon | undefined {
  loaded ??= load();
  return loaded.addon;
}

/** Why loadNative() returned undefined, or undefined if it did not. */
export function nativeUnavailableReason(): string | undefined {
  loaded ??= load();
  return loaded.addon === undefined ? loaded.reason : undefined;
}

/**
 * From how many bytes (of the span the backend is asked for: the packet minus
 * its 12-byte common header) a native call beats JS. Measured by
 * `npm run bench:wire` on x86-64 / Node 20: an N-API call costs about 100 ns
 * before any work, JS slice-by-16 runs at 0.85 ns/byte and SSE4.2 at under
 * 0.1 ns/byte, so they cross near 140 bytes; 192 leaves a margin. Without a
 * CRC instruction the addon is a C slice-by-8 at roughly twice the JS speed,
 * so the crossing moves past 512 bytes.
 */
export const NATIVE_CRC32C_MIN_BYTES: Readonly<Record<string, number>> = {
  'sse4.2': 192,
  'armv8-crc': 192,
  'slice-by-8': 1024,
};

export interface InstallNativeCrc32cResult {
  readonly installed: boolean;
  /** Inputs of at least this many bytes go to the addon (Infinity when not installed). */
  readonly minBytes: number;
  /** The addon's CRC32c implementation, when installed. */
  readonly implementation?: string;
  /** Why it was not installed. */
  readonly reason?: string;
}

/**
 * Installs the addon's CRC32c as the wire checksum backend (setCrc32cBackend)
 * for inputs of at least `minBytes` (default: NATIVE_CRC32C_MIN_BYTES for the
 * addon's implementation). A fixed threshold rather than a start-up
 * measurement keeps runs comparable; results are identical either way.
 */
export function installNativeCrc32c(options: { minBytes?: number } = {}): InstallNativeCrc32cResult {
  const addon = loadNative();
  if (addon === undefined) {
    setCrc32cBackend(undefined, Infinity);
    return { installed: false, minBytes: Infinity, reason: nativeUnavailableReason() ?? 'addon unavailable' };
  }
  const implementation = addon.crc32cImplementation;
  const minBytes = options.minBytes ?? NATIVE_CRC32C_MIN_BYTES[implementation] ?? 1024;
  setCrc32cBackend(addon.crc32c, minBytes);
  return { installed: true, minBytes, implementation };
}

/** Back to pure-JS CRC32c. */
export function uninstallNativeCrc32c(): void {
  setCrc32cBackend(undefined, Infinity);
}
