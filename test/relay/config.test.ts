// The relay configuration, checked key by key, and `hasctp relay` on bad input.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseRelayConfig } from '../../src/relay/config.js';
import { addRelayCommand } from '../../src/cli/relay.js';
import { run } from '../../src/cli/main.js';

const good = {
  listen: { addresses: ['127.0.0.2'], port: 2905 },
  backends: [
    { name: 'a', addresses: ['127.0.0.3'], port: 2905, udpPort: 9900 },
    { name: 'b', addresses: ['127.0.0.4'], port: 2905 },
  ],
  routing: { mode: 'ppid', routes: [{ ppid: 46, backend: 'b' }], default: 'a' },
  m3ua: { enabled: true, routingContexts: [1, 2] },
};

describe('relay config', () => {
  it('accepts a good config with defaults filled in', () => {
    const r = parseRelayConfig(good);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.ackAfterForward).toBe(true);
    expect(r.config.holdLimitMs).toBe(5000);
    expect(r.config.transport).toBe('udp');
    expect(parseRelayConfig({ ...good, routing: { mode: 'stream', routes: [{ streams: [0, 9], backend: 'b' }], default: 'a' } }).ok).toBe(true);
    expect(parseRelayConfig({ ...good, routing: { mode: 'round-robin' } }).ok).toBe(true);
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', [], /^config: must be an object$/],
    ['an unknown top-level key', { ...good, colour: 'red' }, /^config\.colour: unknown key/],
    ['no backends', { ...good, backends: [] }, /^backends: must be a non-empty list$/],
    ['a bad address', { ...good, listen: { addresses: ['300.1.1.1'], port: 1 } }, /^listen\.addresses\[0\]: not an IP address/],
    ['port 0', { ...good, listen: { addresses: ['127.0.0.1'], port: 0 } }, /^listen\.port: must be an integer from 1 to 65535/],
    ['a duplicate backend name', { ...good, backends: [good.backends[0], good.backends[0]] }, /name "a" used twice/],
    ['a route to an unknown backend', { ...good, routing: { mode: 'ppid', routes: [{ ppid: 3, backend: 'zz' }], default: 'a' } }, /^routing\.routes\[0\]\.backend: no backend named "zz"/],
    ['no default', { ...good, routing: { mode: 'ppid', routes: [] } }, /^routing\.default: must be a non-empty string/],
    ['an unknown mode', { ...good, routing: { mode: 'random' } }, /^routing\.mode: must be/],
    ['reversed stream range', { ...good, routing: { mode: 'stream', routes: [{ streams: [5, 1], backend: 'a' }], default: 'a' } }, /streams\[1\]: must be an integer from 5/],
    ['a bad protocol setting', { ...good, protocol: { sackDelay: 900 } }, /^protocol\.sackDelay: /],
    ['holdAcks in protocol', { ...good, protocol: { holdAcks: false } }, /^protocol\.holdAcks: set by the relay/],
    ['ackAfterForward not boolean', { ...good, ackAfterForward: 'yes' }, /^ackAfterForward: must be true or false/],
    ['m3ua without enabled', { ...good, m3ua: { routingContexts: [1] } }, /^m3ua\.enabled: must be true or false/],
  ];
  for (const [what, cfg, msg] of bad) {
    it(`refuses ${what} with one line naming the key`, () => {
      const r = parseRelayConfig(cfg);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error).toMatch(msg);
      expect(r.error).not.toContain('\n');
    });
  }
});

describe('hasctp relay on bad input', () => {
  class UsageError extends Error {}
  function program(): Command {
    const p = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    addRelayCommand(p, { logLevelOption: () => new Option('--log-level <level>').default('silent'), usageError: (m) => new UsageError(m) });
    return p;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hasctp-relay-'));

  const files: [string, string, RegExp][] = [
    ['missing file', join(dir, 'nope.json'), /^relay: cannot read .*ENOENT$/],
    ['not JSON', (writeFileSync(join(dir, 'bad.json'), '{ listen: '), join(dir, 'bad.json')), /is not JSON/],
    ['a bad key', (writeFileSync(join(dir, 'key.json'), JSON.stringify({ ...good, routing: { mode: 'ppid', default: 'x' } })), join(dir, 'key.json')), /routing\.default: no backend named "x"/],
  ];
  for (const [what, file, msg] of files) {
    it(`${what}: a usage error of one line, the relay never starts`, async () => {
      const err = await program().parseAsync(['relay', '--config', file], { from: 'user' }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('\n');
    });
  }

  it('through the hasctp command: one line on stderr, exit code 2', async () => {
    const file = join(dir, 'cli.json');
    writeFileSync(file, JSON.stringify({ ...good, holdLimitMs: -1 }));
    const lines: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
    let code: number;
    try {
      code = await run(['relay', '--config', file]);
    } finally {
      process.stderr.write = orig;
    }
    expect(code).toBe(2);
    expect(lines.join('')).toMatch(/^hasctp: relay: .*cli\.json: holdLimitMs: must be an integer from 1 to 3600000, got -1\n$/);
  });
});
