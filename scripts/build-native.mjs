#!/usr/bin/env node
// Builds the optional native addon (native/): raw IP sockets and hardware CRC32c.
// hasctp works without it (UDP encapsulation, JS CRC32c), so a failed build is a
// loud warning, not a failed install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
if (!existsSync(join(nativeDir, 'binding.gyp'))) process.exit(0);
if (process.env.HASCTP_SKIP_NATIVE === '1') {
  console.warn('hasctp: HASCTP_SKIP_NATIVE=1, native addon not built (raw IP unavailable, JS CRC32c in use)');
  process.exit(0);
}
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['npx', ['--no-install', 'node-gyp', 'rebuild']];
const r = spawnSync(cmd, args, { cwd: nativeDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.warn('hasctp: WARNING: native addon build failed; raw IP sockets are unavailable (use --udp-encap) and CRC32c runs in JS');
}
