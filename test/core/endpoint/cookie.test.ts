// RFC 9260 §5.1.3, §5.1.5, §5.2.6: the State Cookie: MAC, lifetime, rotation with grace.
import { describe, expect, it } from 'vitest';
import type { Packet } from '../../../src/wire/types.js';
import { A, B, PORT_A, PORT_B, deliver, drain, endpoint, events, forward, kinds, only, type Sent } from '../assoc/helpers.js';

/** A's INIT answered by B: the COOKIE ECHO packet A would send, not yet sent. */
function cookieEcho(config = {}) {
  const a = endpoint([A], PORT_A, 1);
  const b = endpoint([B], PORT_B, 2, config);
  a.connect(0, { remoteAddresses: [B], remotePort: PORT_B });
  forward(b, 0, drain(a, 0));
  const initAck = drain(b, 0);
  forward(a, 0, initAck);
  const echo = drain(a, 0);
  expect(kinds(echo)).toEqual([['cookie-echo']]);
  return { a, b, echo: echo[0]!, initAck: initAck[0]! };
}

function withCookie(s: Sent, mutate: (c: Uint8Array) => Uint8Array): Packet {
  const c = only([s], 'cookie-echo');
  return { ...s.packet, chunks: [{ kind: 'cookie-echo', cookie: mutate(c.cookie.slice()) }] };
}

describe('State Cookie', () => {
  it('a cookie with a flipped bit anywhere is silently discarded (MAC, §5.1.5 step 2)', () => {
    const { b, echo } = cookieEcho();
    const len = only([echo], 'cookie-echo').cookie.length;
    for (const at of [0, 5, 20, len - 33, len - 1]) {
      deliver(b, 1, A, B, withCookie(echo, (c) => ((c[at] = c[at]! ^ 1), c)));
      expect(drain(b, 1)).toEqual([]);
      expect(b.associationIds()).toEqual([]);
    }
    expect(b.counters.cookiesBadMac).toBe(5);
    // The untouched cookie still works.
    deliver(b, 1, A, B, echo.packet);
    expect(kinds(drain(b, 1))).toEqual([['cookie-ack']]);
  });

  it('a truncated cookie is discarded', () => {
    const { b, echo } = cookieEcho();
    deliver(b, 1, A, B, withCookie(echo, (c) => c.subarray(0, 20)));
    expect(drain(b, 1)).toEqual([]);
  });

  it('a cookie echoed with the wrong verification tag or port is discarded (§5.1.5 step 3)', () => {
    const { b, echo } = cookieEcho();
    deliver(b, 1, A, B, { ...echo.packet, verificationTag: (echo.packet.verificationTag + 1) >>> 0 });
    deliver(b, 1, A, B, { ...echo.packet, sourcePort: PORT_A + 1 });
    expect(drain(b, 1)).toEqual([]);
    expect(b.associationIds()).toEqual([]);
  });

  it('a cookie past Valid.Cookie.Life gets ERROR Stale Cookie with the staleness in µs (§5.1.5 step 3)', () => {
    const { b, echo } = cookieEcho({ validCookieLife: 10_000 });
    forward(b, 10_250, [echo]);
    const out = drain(b, 10_250);
    expect(kinds(out)).toEqual([['error']]);
    expect(only(out, 'error').causes).toEqual([{ kind: 'stale-cookie', staleness: 250_000 }]);
    expect(b.associationIds()).toEqual([]);
  });

  it('the initiator answers Stale Cookie with a new INIT carrying a Cookie Preservative (§5.2.6), and the retry succeeds', () => {
    const { a, b, echo } = cookieEcho({ validCookieLife: 10_000 });
    forward(b, 10_250, [echo]);
    forward(a, 10_300, drain(b, 10_250));
    const init = drain(a, 10_300);
    expect(kinds(init)).toEqual([['init']]);
    const pres = only(init, 'init').params.find((p) => p.kind === 'cookie-preservative');
    expect(pres).toEqual({ kind: 'cookie-preservative', lifeSpanIncrement: 10_300 + 1000 });
    forward(b, 10_301, init);
    forward(a, 10_302, drain(b, 10_301));
    forward(b, 10_303, drain(a, 10_302));
    forward(a, 10_304, drain(b, 10_303));
    expect(events(a).map((e) => e.event.type)).toEqual(['communication-up']);
  });

  it('after a secret rotation, an old cookie is valid within cookieSecretGrace and discarded after it', () => {
    const within = cookieEcho({ cookieSecretGrace: 5000 });
    within.b.rotateCookieSecret(100);
    forward(within.b, 5000, [within.echo]);
    expect(kinds(drain(within.b, 5000))).toEqual([['cookie-ack']]);

    const after = cookieEcho({ cookieSecretGrace: 5000 });
    after.b.rotateCookieSecret(100);
    forward(after.b, 5101, [after.echo]);
    expect(drain(after.b, 5101)).toEqual([]);
    expect(after.b.associationIds()).toEqual([]);

    const twice = cookieEcho({ cookieSecretGrace: 5000 });
    twice.b.rotateCookieSecret(100);
    twice.b.rotateCookieSecret(200);
    forward(twice.b, 300, [twice.echo]);
    expect(drain(twice.b, 300)).toEqual([]); // two rotations: the signing secret is gone
  });

  it('rotates the secret on its own after cookieSecretLifetime', () => {
    const { b, echo } = cookieEcho({ cookieSecretLifetime: 1000, cookieSecretGrace: 0, validCookieLife: 60_000 });
    // The first input after the lifetime rotates; with a grace of 0 the old secret ends then.
    b.handleTimeout(1200);
    forward(b, 1500, [echo]);
    expect(drain(b, 1500)).toEqual([]);
  });
});
