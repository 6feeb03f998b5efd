import { resolveProtocolConfig, type ProtocolConfig } from '../../../src/core/config.js';
import { createPathState, type PathState } from '../../../src/core/path/index.js';

/** A validated config with overrides; throws in tests only. */
export function config(overrides: Record<string, unknown> = {}): ProtocolConfig {
  const r = resolveProtocolConfig(overrides);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.config;
}

export function path(
  address = '10.0.0.1',
  opts: { mtu?: number; aRwnd?: number; confirmed?: boolean; now?: number; cfg?: ProtocolConfig } = {},
): PathState {
  return createPathState(
    {
      address,
      mtu: opts.mtu ?? 1500,
      aRwnd: opts.aRwnd ?? 65535,
      confirmed: opts.confirmed ?? true,
      now: opts.now ?? 0,
    },
    opts.cfg ?? config(),
  );
}
