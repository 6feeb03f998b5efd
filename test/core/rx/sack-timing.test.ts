/** RFC 9260 §5.1, §6.2, §6.7, RFC 7053, RFC 3758 §3.6: when a SACK goes out. */
import { describe, it, expect } from 'vitest';
import {
  createDataTracker,
  isSackOwed,
  onData,
  onDelayedSackTimeout,
  onForwardTsn,
  onPacketEnd,
  onSackSent,
  type DataTracker,
  type SackDecision,
} from '../../../src/core/rx/data-tracker.js';
import { defaultProtocolConfig } from '../../../src/core/config.js';

const config = { sackFrequency: 2, sackDelay: 200 };

/** One packet carrying `tsns`; sends the SACK when told to. Returns the decision and its reason. */
function packet(t: DataTracker, tsns: number[], immediate = false, cfg = config): [SackDecision, string | undefined] {
  for (const tsn of tsns) onData(t, tsn, { immediate });
  const decision = onPacketEnd(t, cfg);
  const reason = t.immediateReason;
  if (decision === 'send-now') onSackSent(t);
  return [decision, reason];
}

/** A tracker past its first DATA chunk, with nothing owed. */
function started(initialTsn = 1): DataTracker {
  const t = createDataTracker(initialTsn);
  packet(t, [initialTsn]);
  return t;
}

describe('SACK timing', () => {
  it('uses the §16 defaults from ProtocolConfig', () => {
    expect(defaultProtocolConfig.sackFrequency).toBe(2);
    expect(defaultProtocolConfig.sackDelay).toBe(200);
  });

  it('acknowledges the first DATA chunk of the association at once (§5.1)', () => {
    const t = createDataTracker(1);
    expect(packet(t, [1])).toEqual(['send-now', 'first-data']);
  });

  it('delays the SACK for one packet and sends it on the second (§6.2, sackFrequency 2)', () => {
    const t = started();
    expect(packet(t, [2, 3])).toEqual(['delay', undefined]);
    expect(isSackOwed(t)).toBe(true);
    expect(packet(t, [4])).toEqual(['send-now', 'sack-frequency']);
    expect(isSackOwed(t)).toBe(false);
    expect(packet(t, [5])).toEqual(['delay', undefined]);
  });

  it('honours a larger sackFrequency', () => {
    const t = started();
    const cfg = { sackFrequency: 3, sackDelay: 200 };
    expect(packet(t, [2], false, cfg)[0]).toBe('delay');
    expect(packet(t, [3], false, cfg)[0]).toBe('delay');
    expect(packet(t, [4], false, cfg)[0]).toBe('send-now');
  });

  it('sends every SACK at once when sackDelay is 0', () => {
    const t = started();
    expect(packet(t, [2], false, { sackFrequency: 2, sackDelay: 0 })[0]).toBe('send-now');
  });

  it('a packet without DATA changes nothing', () => {
    const t = started();
    expect(onPacketEnd(t, config)).toBe('nothing');
    packet(t, [2]);
    expect(onPacketEnd(t, config)).toBe('nothing');
    expect(isSackOwed(t)).toBe(true);
  });

  it('sends at once on a gap, after every packet that leaves it open, and when it is filled (§6.7)', () => {
    const t = started();
    expect(packet(t, [3])).toEqual(['send-now', 'gap']);
    expect(packet(t, [4])).toEqual(['send-now', 'gap']);
    expect(packet(t, [2])).toEqual(['send-now', 'gap-filled']);
    expect(packet(t, [5])).toEqual(['delay', undefined]);
  });

  it('a partial fill is also sent at once', () => {
    const t = started();
    packet(t, [4]);
    expect(packet(t, [2])).toEqual(['send-now', 'gap-filled']);
  });

  it('sends at once on a duplicate (§6.2)', () => {
    const t = started();
    expect(packet(t, [1])).toEqual(['send-now', 'duplicate']);
    expect(packet(t, [2, 2])).toEqual(['send-now', 'duplicate']);
  });

  it('sends at once when the I bit is set (RFC 7053)', () => {
    const t = started();
    expect(packet(t, [2], true)).toEqual(['send-now', 'immediate-bit']);
  });

  it('sends at once after dropping DATA (§6.2)', () => {
    const t = started();
    onData(t, 5, { immediate: false, bufferedBytes: 10, receiveWindow: 10 });
    expect(onPacketEnd(t, config)).toBe('send-now');
    expect(t.immediateReason).toBe('dropped');
  });

  it('the delayed-SACK timer sends only when a SACK is owed', () => {
    const t = started();
    expect(onDelayedSackTimeout(t)).toBe('nothing');
    packet(t, [2]);
    expect(onDelayedSackTimeout(t)).toBe('send-now');
    onSackSent(t);
    expect(onDelayedSackTimeout(t)).toBe('nothing');
  });

  it('keeps asking to send a SACK that was held back until it is sent', () => {
    const t = started();
    onData(t, 3, { immediate: false });
    expect(onPacketEnd(t, config)).toBe('send-now');
    // The association could not send yet (e.g. waiting for the standby): the next
    // packet without DATA still says send-now.
    expect(onPacketEnd(t, config)).toBe('send-now');
  });

  it('FORWARD TSN follows the DATA rules; an out-of-date one is answered at once (RFC 3758 §3.6)', () => {
    const t = started();
    onForwardTsn(t, 5);
    expect(onPacketEnd(t, config)).toBe('delay');
    onForwardTsn(t, 6);
    expect(onPacketEnd(t, config)).toBe('send-now');
    onSackSent(t);
    expect(onForwardTsn(t, 4)).toBe('stale');
    expect(onPacketEnd(t, config)).toBe('send-now');
    expect(t.immediateReason).toBe('stale-forward-tsn');
  });
});
