// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * Layering (DESIGN.md §2): each pure folder may import only the folders listed
 * here. A pure folder never touches node:*, the clock, timers, randomness,
 * process or the console: those reach it through arguments.
 */
const pureLayers = {
  'src/wire': [],
  'src/core': ['wire'],
  'src/sim': ['wire', 'core', 'cluster'],
  'src/pcap': ['wire', 'core'],
  'src/cluster/state': ['wire', 'core'],
};
const allLayers = ['wire', 'core', 'sim', 'pcap', 'cluster', 'transport', 'runtime', 'cli'];

const impureGlobals = [
  'Date', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval',
  'clearImmediate', 'queueMicrotask', 'process', 'console', 'Buffer', 'require',
  'performance', 'crypto', 'fetch', '__dirname', '__filename',
].map((name) => ({ name, message: 'Pure folders get time, entropy and I/O through arguments (DESIGN.md §2).' }));

function layerConfig(folder, allowed) {
  const own = folder.replace(/^src\//, '');
  const forbidden = allLayers.filter((l) => !allowed.includes(l) && !own.startsWith(l));
  const groups = forbidden.flatMap((l) => [`**/${l}`, `**/${l}/**`, `**/${l}/*.js`]);
  // cluster/state is pure but cluster/link is not: forbid the impure siblings explicitly.
  if (own === 'cluster/state' || own === 'sim') groups.push('**/cluster/link', '**/cluster/link/**', '../link', '../link/*', '../link/**');
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          // Relative imports are never Node built-ins: without the negations the 'path'
          // entry would also forbid src/core/path/ ('../path/state.js').
          { group: ['node:*', 'fs', 'net', 'dgram', 'os', 'crypto', 'child_process', 'path', 'util', 'events', 'stream', 'pino', 'commander', '!./**', '!../**'],
            message: `${folder} is pure: no Node built-ins or I/O libraries (DESIGN.md §2).` },
          ...(groups.length ? [{ group: groups, message: `${folder} may import only: ${allowed.join(', ') || 'nothing outside itself'}.` }] : []),
        ],
      }],
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'Entropy comes from the injected RNG.' },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'dist-check/**', 'node_modules/**', 'native/build/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      // Numeric registries are `as const` objects (DESIGN.md §3).
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use an `as const` object, not enum.' }],
    },
  },
  ...Object.entries(pureLayers).map(([folder, allowed]) => layerConfig(folder, allowed)),
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
