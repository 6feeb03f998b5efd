#!/usr/bin/env node
// HA failover on the deterministic simulator (src/sim/cluster.ts): a peer and
// a primary + standby cluster; the primary is killed at a different moment in
// every seed (handshake, transfer, retransmission, shutdown), with loss,
// duplication and reordering on the peer's paths and on the cluster link.
//   npm run sim:ha -- --seeds 1000 [--messages 60] [--loss 0.03] [--link-loss 0.03]
//                     [--kill-span 700] [--mode sync|async] [--no-hold] [--no-commit] [--cluster-initiates]
// Prints one table row per variant; exits 1 if a protected run lost, duplicated
// or reordered a message or saw the association fail (failing seeds are listed).
import { parseArgs } from 'node:util';
import { createHmac } from 'node:crypto';
import { runFailoverSimulation } from '../dist/sim/cluster.js';

const usage = 'usage: npm run sim:ha -- --seeds N [--messages N] [--loss P] [--link-loss P] [--kill-span MS] [--mode sync|async] [--no-hold] [--no-commit] [--cluster-initiates]';
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      seeds: { type: 'string', default: '1000' },
      messages: { type: 'string', default: '60' },
      loss: { type: 'string', default: '0.03' },
      'link-loss': { type: 'string', default: '0.03' },
      'kill-span': { type: 'string', default: '350' },
      mode: { type: 'string', default: 'sync' },
      'no-hold': { type: 'boolean', default: false },
      'no-commit': { type: 'boolean', default: false },
      'cluster-initiates': { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (e) {
  console.error(`sim:ha: ${e.message}\n${usage}`);
  process.exit(2);
}
const num = (name, min, max) => {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < min || v > max) {
    console.error(`sim:ha: --${name} must be a number in ${min}..${max}, got ${args[name]}\n${usage}`);
    process.exit(2);
  }
  return v;
};
if (args.mode !== 'sync' && args.mode !== 'async') {
  console.error(`sim:ha: --mode must be sync or async\n${usage}`);
  process.exit(2);
}
const seeds = num('seeds', 1, 1e6);
const messages = num('messages', 1, 100_000);
const loss = num('loss', 0, 0.5);
const linkLoss = num('link-loss', 0, 0.5);
const killSpan = num('kill-span', 1, 1e7);
const hmac = (key, data) => new Uint8Array(createHmac('sha256', key).update(data).digest());

const t0 = performance.now();
const total = { runs: 0, promoted: 0, redelivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, failed: 0 };
const bad = [];
const outages = [];
for (let seed = 1; seed <= seeds; seed++) {
  const killAt = (seed * 7919) % killSpan;
  const r = runFailoverSimulation({
    seed, hmac, messages, killAt, shutdown: true,
    loss, reorder: loss, duplicate: loss / 2, linkLoss, linkReorder: linkLoss,
    mode: args.mode, unsafeNoHold: args['no-hold'], commit: !args['no-commit'], clusterInitiates: args['cluster-initiates'],
  });
  total.runs++;
  if (r.promoted) total.promoted++;
  total.redelivered += r.redelivered;
  total.lost += r.lost;
  total.duplicated += r.duplicated;
  total.reordered += r.reordered;
  total.corrupted += r.corrupted;
  if (r.failures.length > 0 || r.error) total.failed++;
  if (r.promoted && r.outage !== undefined) outages.push(r.outage);
  if (r.lost || r.duplicated || r.reordered || r.corrupted || r.failures.length || r.error) bad.push(`seed ${seed} (kill at ${killAt} ms): lost ${r.lost}, dup ${r.duplicated}, reordered ${r.reordered}${r.failures.length ? `, ${r.failures.join('; ')}` : ''}${r.error ? `, ${r.error.split('\n')[0]}` : ''}`);
}
outages.sort((a, b) => a - b);
const pct = (p) => (outages.length ? outages[Math.min(outages.length - 1, Math.floor(p * outages.length))].toFixed(0) : '-');
const variant = `${args.mode}${args['no-hold'] ? ', no hold' : ''}${args['no-commit'] ? ', no commit' : ''}${args['cluster-initiates'] ? ', cluster initiates' : ''}`;
console.log(`variant: ${variant}; ${seeds} seeds x ${messages} echoed messages; loss/reorder ${loss} on the peer paths, ${linkLoss} on the cluster link; kill in [0, ${killSpan}) ms`);
console.log('| runs | takeovers | re-delivered | lost | duplicated | reordered | corrupted | failed assocs | virtual echo gap p50 / p99 (ms) | wall (s) |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
console.log(`| ${total.runs} | ${total.promoted} | ${total.redelivered} | ${total.lost} | ${total.duplicated} | ${total.reordered} | ${total.corrupted} | ${total.failed} | ${pct(0.5)} / ${pct(0.99)} | ${((performance.now() - t0) / 1000).toFixed(1)} |`);
if (bad.length > 0) {
  console.log(`\n${bad.length} run(s) broke the guarantee:`);
  for (const b of bad.slice(0, 20)) console.log(`  ${b}`);
  process.exit(1);
}
