/** RFC 9260 §6.2: a_rwnd with receiver-side SWS avoidance (RFC 1122 §4.2.3.3). */
import { describe, it, expect } from 'vitest';
import { advertisedWindow, needsWindowUpdate, swsThreshold } from '../../../src/core/rx/window.js';

const config = { receiveWindow: 10_000, pathMtu: 1500 };

describe('advertised window', () => {
  it('the threshold is min(receiveWindow / 2, MTU)', () => {
    expect(swsThreshold(config)).toBe(1500);
    expect(swsThreshold({ receiveWindow: 2000, pathMtu: 1500 })).toBe(1000);
  });

  it('advertises a shrinking free space as it is', () => {
    expect(advertisedWindow(0, config, 10_000)).toBe(10_000);
    expect(advertisedWindow(4000, config, 10_000)).toBe(6000);
    expect(advertisedWindow(12_000, config, 6000)).toBe(0);
  });

  it('opens the window only by at least the threshold', () => {
    expect(advertisedWindow(9000, config, 0)).toBe(0);
    expect(advertisedWindow(8501, config, 0)).toBe(0);
    expect(advertisedWindow(8500, config, 0)).toBe(1500);
    expect(advertisedWindow(3000, config, 6000)).toBe(6000);
    expect(advertisedWindow(2500, config, 6000)).toBe(7500);
  });

  it('asks for a window update once the opening is worth advertising', () => {
    expect(needsWindowUpdate(9000, config, 0)).toBe(false);
    expect(needsWindowUpdate(8500, config, 0)).toBe(true);
    expect(needsWindowUpdate(0, config, 10_000)).toBe(false);
  });
});
