#!/usr/bin/env node
// Builds the optional native addon (native/): raw IP sockets and hardware CRC32c.
// hasctp works without it (UDP encapsulation, JS CRC32c), so a failed build is a
// loud warning, not a failed install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
if (!existsSync(join(nativeDir, 'binding.gyp'))) process.exit(0);
if (process.env.HASCTP_SKIP_NATIVE === '1') {
  console.warn('hasctp: HASCTP_SKIP_NATIVE=1, native addon not built (raw IP unavailable, JS CRC32c in use)');
  process.exit(0);
}

function warn(why) {
  console.warn(
    `\nhasctp: WARNING: native addon build failed (${why}); raw IP sockets are unavailable (use --udp-encap) and CRC32c runs in JS\n`,
  );
}

/** node-gyp: the one npm passes to install scripts, else npm's bundled copy next to this node, else npx. */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, [fromNpm, 'rebuild']];
  for (const prefix of [join(dirname(process.execPath), '..', 'lib'), dirname(process.execPath)]) {
    const bundled = join(prefix, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(bundled)) return [process.execPath, [bundled, 'rebuild']];
  }
  return ['npx', ['--no-install', 'node-gyp', 'rebuild']];
}

const [cmd, args] = nodeGyp();
// Run outside npm (no npm_config_nodedir), node-gyp would download headers; use
// this node's own when they are installed next to it (distribution packages).
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const r = spawnSync(cmd, args, { cwd: nativeDir, stdio: 'inherit' });
if (r.error || r.status !== 0) {
  warn(r.error ? r.error.message : `node-gyp exited with ${r.status ?? r.signal}`);
  process.exit(0);
}

// A build that does not load or computes a wrong CRC is as good as none: say so now, not at first use.
try {
  const addon = createRequire(import.meta.url)(join(nativeDir, 'build', 'Release', 'hasctp_native.node'));
  const got = addon.crc32c(new TextEncoder().encode('123456789'), 0, 9, 0);
  if (got !== 0xe3069283) throw new Error(`crc32c("123456789") = 0x${got.toString(16)}, want 0xe3069283`);
  console.log(`hasctp: native addon built (CRC32c: ${addon.crc32cImplementation})`);
} catch (err) {
  warn(`the built addon does not work: ${err instanceof Error ? err.message : String(err)}`);
}
