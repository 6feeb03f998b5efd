/**
 * Suites that need something outside Node (tshark, root, usrsctp) run when it is
 * there and are skipped with a loud message when it is not. In CI (CI=true) the
 * tool must be there: a missing one fails the run instead of skipping.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const inCi = process.env.CI === 'true';

function hasCommand(cmd: string): boolean {
  if (cmd.startsWith('/')) return existsSync(cmd);
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * True when `cmd` exists. Otherwise prints a loud warning and returns false, or
 * throws in CI so that the suite fails rather than silently skipping.
 */
export function requireTool(cmd: string, why: string): boolean {
  if (hasCommand(cmd)) return true;
  const msg = `${cmd} is not installed: ${why} (install it: apt-get install -y ${cmd === 'tshark' ? 'tshark' : cmd})`;
  if (inCi) throw new Error(`CI: ${msg}`);
  process.stderr.write(`\n!!!! SKIPPING: ${msg} !!!!\n\n`);
  return false;
}

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const capturesDir = fileURLToPath(new URL('../../captures/', import.meta.url));
/** The workplace's shared public captures, beside the repository (present in CI). */
export const sharedCapturesDir = fileURLToPath(new URL('../../../shared/captures/', import.meta.url));

/**
 * True when running as root. Otherwise prints a loud warning and returns false,
 * or throws in CI (where the root-only suites must run).
 */
export function requireRoot(why: string): boolean {
  if (process.getuid?.() === 0) return true;
  const msg = `not running as root: ${why} (run as root, e.g. sudo npm test)`;
  if (inCi) throw new Error(`CI: ${msg}`);
  process.stderr.write(`\n!!!! SKIPPING: ${msg} !!!!\n\n`);
  return false;
}

/** As requireTool, for a reason other than a missing command (the same loud skip, or a CI failure). */
export function requireCondition(ok: boolean, msg: string): boolean {
  if (ok) return true;
  if (inCi) throw new Error(`CI: ${msg}`);
  process.stderr.write(`\n!!!! SKIPPING: ${msg} !!!!\n\n`);
  return false;
}
