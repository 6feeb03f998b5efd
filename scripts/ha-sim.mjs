#!/usr/bin/env node
// HA failover on the deterministic simulator (src/sim/cluster.ts): a peer and
// a primary + standby cluster; the primary is killed at a different moment in
// every seed, with loss, duplication and reordering on the peer's paths and on
// the cluster link. Scenarios (src/sim/cluster.ts scenarioOptions):
//   anytime     a time in [0, kill-span): handshake, transfer, retransmission, shutdown
//   shutdown    0-39 ms into the graceful shutdown
//   t3-backoff  after the primary's 1st or 2nd T3-rtx expiry (the peer hears nothing for 250 ms)
//   joining     0-4.75 ms after the standby's cluster link came up (full sync in flight);
//               an explicit association failure is the correct outcome when it was not in sync yet
//   reverse     the cluster initiates and streams (app stream), the peer echoes
//   npm run sim:ha -- --seeds 1000 [--scenario anytime|shutdown|t3-backoff|joining|reverse|all] [--messages 60]
//                     [--loss 0.03] [--link-loss 0.03] [--kill-span 350] [--mode sync|async] [--no-hold]
//                     [--no-commit] [--cluster-initiates] [--no-takeover-retransmit]
// Prints one table row per scenario; exits 1 if a protected run lost, duplicated
// or reordered a message or saw the association fail (failing seeds are listed).
import { parseArgs } from 'node:util';
import { createHmac } from 'node:crypto';
import { runFailoverSimulation, scenarioOptions, SCENARIOS } from '../dist/sim/cluster.js';

const usage = `usage: npm run sim:ha -- --seeds N [--scenario ${SCENARIOS.join('|')}|all] [--messages N] [--loss P] [--link-loss P] [--kill-span MS] [--mode sync|async] [--no-hold] [--no-commit] [--cluster-initiates] [--no-takeover-retransmit]`;
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      seeds: { type: 'string', default: '1000' },
      scenario: { type: 'string', default: 'anytime' },
      'no-takeover-retransmit': { type: 'boolean', default: false },
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
if (args.scenario !== 'all' && !SCENARIOS.includes(args.scenario)) {
  console.error(`sim:ha: --scenario must be one of ${SCENARIOS.join(', ')} or all\n${usage}`);
  process.exit(2);
}
const scenarios = args.scenario === 'all' ? [...SCENARIOS] : [args.scenario];
const seeds = num('seeds', 1, 1e6);
const messages = num('messages', 1, 100_000);
const loss = num('loss', 0, 0.5);
const linkLoss = num('link-loss', 0, 0.5);
const killSpan = num('kill-span', 1, 1e7);
const hmac = (key, data) => new Uint8Array(createHmac('sha256', key).update(data).digest());

const variant = `${args.mode}${args['no-hold'] ? ', no hold' : ''}${args['no-commit'] ? ', no commit' : ''}${args['cluster-initiates'] ? ', cluster initiates' : ''}${args['no-takeover-retransmit'] ? ', no takeover retransmission' : ''}`;
console.log(`variant: ${variant}; ${seeds} seeds x ${messages} messages per scenario; loss/reorder ${loss} on the peer paths, ${linkLoss} on the cluster link`);
console.log('| scenario | runs | takeovers | re-delivered | lost | duplicated | reordered | corrupted | failed assocs | explicit failures (joining) | virtual echo gap p50 / p99 (ms) | wall (s) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const bad = [];
for (const scenario of scenarios) {
  const t0 = performance.now();
  const total = { runs: 0, promoted: 0, redelivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, failed: 0, explicit: 0 };
  const outages = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const so = scenarioOptions(scenario, seed, killSpan);
    const r = runFailoverSimulation({
      seed, hmac, messages, shutdown: true,
      loss, reorder: loss, duplicate: loss / 2, linkLoss, linkReorder: linkLoss,
      mode: args.mode, unsafeNoHold: args['no-hold'], commit: !args['no-commit'],
      retransmitOnTakeover: !args['no-takeover-retransmit'],
      ...so,
      ...(args['cluster-initiates'] ? { clusterInitiates: true } : {}),
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
    const broken = r.lost || r.duplicated || r.reordered || r.corrupted || r.failures.length || r.error;
    // A standby killed into before it held an in-sync copy cannot continue the association: the
    // correct outcome is an explicit failure at the peer, with nothing duplicated or reordered.
    const explicit = scenario === 'joining' && r.failures.length > 0 && !r.duplicated && !r.reordered && !r.corrupted && !r.error;
    if (explicit) total.explicit++;
    if (broken && !explicit) bad.push(`${scenario} seed ${seed} (kill ${so.killAt !== undefined ? `at ${so.killAt} ms` : JSON.stringify(so.killOn)}): lost ${r.lost}, dup ${r.duplicated}, reordered ${r.reordered}${r.failures.length ? `, ${r.failures.join('; ')}` : ''}${r.error ? `, ${r.error.split('\n')[0]}` : ''}`);
  }
  outages.sort((a, b) => a - b);
  const pct = (p) => (outages.length ? outages[Math.min(outages.length - 1, Math.floor(p * outages.length))].toFixed(0) : '-');
  console.log(`| ${scenario} | ${total.runs} | ${total.promoted} | ${total.redelivered} | ${total.lost} | ${total.duplicated} | ${total.reordered} | ${total.corrupted} | ${total.failed} | ${scenario === 'joining' ? total.explicit : '-'} | ${pct(0.5)} / ${pct(0.99)} | ${((performance.now() - t0) / 1000).toFixed(1)} |`);
}
if (bad.length > 0) {
  console.log(`\n${bad.length} run(s) broke the guarantee:`);
  for (const b of bad.slice(0, 20)) console.log(`  ${b}`);
  process.exit(1);
}
