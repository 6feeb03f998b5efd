#!/usr/bin/env node
// Seeded end-to-end simulations: two hasctp endpoints over the deterministic
// simulated network (src/sim), many seeds, and a report of what arrived.
//   npm run sim -- --seeds 1000 --loss 0.1 [--dup 0.02] [--reorder 0.02] [--messages 50] [--multihomed] [--first-seed 1]
// Exits 1 if any message was lost, duplicated or reordered, or an association failed;
// the failing seeds are printed so that each can become a permanent test.
import { parseArgs } from 'node:util';
import { createHmac } from 'node:crypto';
import { runTransferSimulation } from '../dist/sim/scenarios.js';

const usage = 'usage: npm run sim -- --seeds N --loss P [--dup P] [--reorder P] [--messages N] [--multihomed] [--first-seed N]';
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      seeds: { type: 'string', default: '100' },
      'first-seed': { type: 'string', default: '1' },
      loss: { type: 'string', default: '0.1' },
      dup: { type: 'string', default: '0.01' },
      reorder: { type: 'string', default: '0.01' },
      messages: { type: 'string', default: '50' },
      multihomed: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (e) {
  console.error(`sim: ${e.message}\n${usage}`);
  process.exit(2);
}
const num = (name, min, max, integer) => {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    console.error(`sim: --${name} must be ${integer ? 'a whole number' : 'a number'} in ${min}..${max}, got ${args[name]}`);
    process.exit(2);
  }
  return v;
};
const seeds = num('seeds', 1, 1e6, true);
const firstSeed = num('first-seed', 0, 2 ** 31, true);
const loss = num('loss', 0, 0.5, false);
const duplicate = num('dup', 0, 0.5, false);
const reorder = num('reorder', 0, 0.5, false);
const messages = num('messages', 1, 100_000, true);
const multihomed = args.multihomed;

const hmac = (key, data) => new Uint8Array(createHmac('sha256', key).update(data).digest());
// With HMAC-SHA1 the endpoints negotiate AUTH and ADD-IP (RFC 4895, RFC 5061), as the runtime's do.
const hmacSha1 = (key, data) => new Uint8Array(createHmac('sha1', key).update(data).digest());

const total = { sent: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, failed: 0 };
const bad = [];
let maxVirtual = 0;
let sumVirtual = 0;
const t0 = performance.now();
for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
  const r = runTransferSimulation({ seed, loss, duplicate, reorder, messages, multihomed, hmac, hmacSha1 });
  total.sent += 2 * messages;
  total.delivered += r.delivered;
  total.lost += r.lost;
  total.duplicated += r.duplicated;
  total.reordered += r.reordered;
  total.corrupted += r.corrupted;
  if (r.failures.length) total.failed++;
  maxVirtual = Math.max(maxVirtual, r.virtualMs);
  sumVirtual += r.virtualMs;
  if (r.lost || r.duplicated || r.reordered || r.corrupted || r.failures.length) bad.push({ seed, ...r });
}
const wall = (performance.now() - t0) / 1000;

console.log(`hasctp simulation: ${seeds} seeds from ${firstSeed}, ${messages} messages each way, loss ${loss}, duplication ${duplicate}, reordering ${reorder}, ${multihomed ? 'multihomed (2x2 addresses)' : 'single-homed'}`);
console.log(`messages sent       ${total.sent}`);
console.log(`delivered           ${total.delivered}`);
console.log(`lost                ${total.lost}`);
console.log(`duplicated          ${total.duplicated}`);
console.log(`reordered           ${total.reordered}`);
console.log(`corrupted           ${total.corrupted}`);
console.log(`failed assocs       ${total.failed}`);
console.log(`virtual time        mean ${(sumVirtual / seeds / 1000).toFixed(2)} s, max ${(maxVirtual / 1000).toFixed(2)} s per run`);
console.log(`wall time           ${wall.toFixed(1)} s`);
for (const b of bad.slice(0, 20)) {
  console.log(`FAILING SEED ${b.seed}: lost ${b.lost}, duplicated ${b.duplicated}, reordered ${b.reordered}, corrupted ${b.corrupted}, failures [${b.failures.join('; ')}]`);
}
process.exit(bad.length ? 1 : 0);
