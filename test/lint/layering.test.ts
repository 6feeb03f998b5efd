// The purity and layering rules of DESIGN.md §2 are enforced by ESLint. This test
// proves the rules fire: a pure folder that reaches for I/O, the clock,
// randomness or an impure layer must fail lint, and clean code must pass.
import { describe, it, expect } from 'vitest';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('purity and layering lint', () => {
  const violations: [string, string, string][] = [
    ['src/wire/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", 'no-restricted-imports'],
    ['src/wire/probe.ts', "import { y } from '../core/assoc.js';\nexport const x = y;\n", 'no-restricted-imports'],
    ['src/core/probe.ts', "import { y } from '../runtime/loop.js';\nexport const x = y;\n", 'no-restricted-imports'],
    ['src/core/probe.ts', "import { y } from '../transport/raw.js';\nexport const x = y;\n", 'no-restricted-imports'],
    ['src/sim/probe.ts', "import { y } from '../cli/main.js';\nexport const x = y;\n", 'no-restricted-imports'],
    ['src/cluster/state/probe.ts', "import { y } from '../link/peer.js';\nexport const x = y;\n", 'no-restricted-imports'],
    ['src/core/path/probe.ts', "import { y } from '../../runtime/loop.js';\nexport const x = y;\n", 'no-restricted-imports'],
    ['src/core/probe.ts', "import { y } from '../cluster/link/peer.js';\nexport const x = y;\n", 'no-restricted-imports'],
    ['src/core/probe.ts', 'export const now = Date.now();\n', 'no-restricted-globals'],
    ['src/core/probe.ts', 'export const t = setTimeout(() => 0, 1);\n', 'no-restricted-globals'],
    ['src/wire/probe.ts', 'export const r = Math.random();\n', 'no-restricted-properties'],
    ['src/pcap/probe.ts', "export function f(): void { console.log('x'); }\n", 'no-restricted-globals'],
    ['src/core/probe.ts', 'export const pid = process.pid;\n', 'no-restricted-globals'],
    ['src/wire/probe.ts', 'export enum Kind { A }\n', 'no-restricted-syntax'],
  ];
  for (const [file, code, rule] of violations) {
    it(`${file} fails with ${rule}: ${code.split('\n')[0]}`, async () => {
      expect(await ruleIds(file, code)).toContain(rule);
    });
  }

  it('allowed imports pass: core may use wire, sim may use core', async () => {
    expect(await ruleIds('src/core/probe.ts', "import { add32 } from '../wire/serial.js';\nexport const x = add32(1, 2);\n")).toEqual([]);
    // 'path' is a Node built-in name and also our src/core/path folder.
    expect(await ruleIds('src/core/association/probe.ts', "import { x as y } from '../path/state.js';\nexport const x = y;\n")).toEqual([]);
    expect(await ruleIds('src/sim/probe.ts', "import { add32 } from '../wire/serial.js';\nexport const x = add32;\n")).toEqual([]);
  });

  it('impure folders may use Node and the clock', async () => {
    expect(await ruleIds('src/runtime/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = [readFileSync, Date.now()];\n")).toEqual([]);
  });
});
