// Configuration checked through the public API: createEndpoint throws a
// RangeError naming the offending key (local misuse, never peer input).
import { describe, expect, it } from 'vitest';
import { createEndpoint } from '../../../src/core/endpoint.js';
import { SeededRng } from '../../../src/core/env.js';
import { A, PORT_A, hmac } from './helpers.js';

function create(config: Record<string, unknown>) {
  return () => createEndpoint({ localAddresses: [A], port: PORT_A, config: config as never, rng: new SeededRng(1), hmac, now: 0 });
}

function rangeError(config: Record<string, unknown>): RangeError {
  try {
    create(config)();
  } catch (e) {
    expect(e).toBeInstanceOf(RangeError);
    return e as RangeError;
  }
  throw new Error(`no error for ${JSON.stringify(config)}`);
}

describe('createEndpoint config validation', () => {
  it.each([
    [{ rtoMin: 5000, rtoMax: 2000, rtoInitial: 3000 }, 'rtoMin'],
    [{ pathMtu: 100 }, 'pathMtu'],
    [{ bogusSetting: 1 }, 'bogusSetting'],
    [{ sackDelay: 501 }, 'sackDelay'],
    [{ maxBurst: 1.5 }, 'maxBurst'],
    [{ receiveWindow: 'big' }, 'receiveWindow'],
    [{ rtoAlpha: Number.NaN }, 'rtoAlpha'],
    [{ prSctp: 1 }, 'prSctp'],
    [{ rtoInitial: 100 }, 'rtoInitial'],
  ])('%j → RangeError naming %s', (config, key) => {
    const e = rangeError(config);
    expect(e.message).toMatch(new RegExp(`\\b${key}\\b`));
  });

  it('every invalid key is reported, not only the first', () => {
    const e = rangeError({ pathMtu: 100, unknownThing: true });
    expect(e.message).toContain('pathMtu');
    expect(e.message).toContain('unknownThing');
  });

  it('valid settings are accepted and applied; prSctp defaults to true', () => {
    const ep = create({ rtoMin: 200, rtoMax: 2000, rtoInitial: 500, pathMtu: 1280, prSctp: false })();
    expect(ep.config).toMatchObject({ rtoMin: 200, rtoMax: 2000, rtoInitial: 500, pathMtu: 1280, prSctp: false });
    expect(create({})().config.prSctp).toBe(true);
  });
});
