/**
 * The SCTP endpoint (RFC 9260 §2.3): one port on a set of local addresses,
 * owning its associations. Sans-IO (DESIGN.md §2): inputs carry `now`
 * (`handlePacket`, `handleTimeout`, the ULP calls), outputs are polled
 * (`pollTransmit`, `pollEvent`, `pollTimeout`). It demultiplexes packets to
 * associations, answers out-of-the-blue packets (§8.4) and INITs without
 * keeping state (§5.1.3 cookie), and creates an association only from a valid
 * COOKIE ECHO. Each association is plain data (`snapshot` is a structured copy).
 *
 * Implements the simulator's SimHost contract (src/sim/host.ts) structurally.
 */
import { decodePacket, encodePacket } from '../wire/packet.js';
import type { Chunk, DecodedPacket, InitChunk } from '../wire/types.js';
import { resolveProtocolConfig, type ProtocolConfig } from './config.js';
import type { HmacSha1, HmacSha256, Millis, Rng } from './env.js';
import { canonicalAddress } from '../wire/address.js';
import { requestAddAddress, requestDeleteAddress, requestSetPeerPrimary, type AsconfRequestError, type AsconfRequestResult } from './asconf/sender.js';
import { macFunction, type MacFunction } from './auth/mac.js';
import { signPacket } from './auth/send.js';
import { extensionParams } from './association/extensions.js';
import { afterInput, handlePacket as assocHandlePacket, send as assocSend, type SendOptions, type SendResult } from './association/association.js';
import { userAbort } from './association/abort.js';
import { releaseHeld, setAckHold, type ReleaseResult } from './association/ack-hold.js';
import { ootbTable } from './association/chunk-table.js';
import type { AssocContext, OutPacket } from './association/context.js';
import { cookieStaleness, createCookieSecrets, maybeRotateSecret, mintCookie, openCookie, rotateSecret, type CookieSecrets } from './association/cookie.js';
import { onCookieEchoInAssociation } from './association/collision.js';
import { abortFor, buildInit, buildInitAck, checkInitParams, enterEstablished, initFeatures, sendInit } from './association/handshake.js';
import { setPrimary as assocSetPrimary, type SetPrimaryResult } from './association/multihoming.js';
import { retransmitOutstanding as assocRetransmitOutstanding } from './association/retransmit-outstanding.js';
import { userShutdown } from './association/shutdown.js';
import { createTcb, localTagOf, tcbOf, tcbParamsFromCookie } from './association/tcb.js';
import { nextDeadline, onTimeout } from './association/timers.js';
import { addCounters, createCounters, type Association, type AssociationCounters, type AssociationEvent, type Tcb } from './association/types.js';
import { needsWindowUpdate } from './rx/window.js';

/** One IP datagram: the SCTP packet and the addresses around it (same shape as src/sim's). */
export interface Datagram {
  readonly source: string;
  readonly destination: string;
  readonly bytes: Uint8Array;
}

export interface EndpointOptions {
  readonly localAddresses: readonly string[];
  readonly port: number;
  readonly config?: Partial<ProtocolConfig>;
  readonly rng: Rng;
  readonly hmac: HmacSha256;
  /** HMAC-SHA1 for AUTH (RFC 4895 §3.3); without it AUTH and ADD-IP are not offered. */
  readonly hmacSha1?: HmacSha1;
  readonly now: Millis;
}

export interface ConnectOptions {
  readonly remoteAddresses: readonly string[];
  readonly remotePort: number;
  /** Outbound streams asked for (default config.outboundStreams). */
  readonly outboundStreams?: number;
}

/** `Endpoint.exportState`: everything an endpoint holds, as plain data. */
export interface EndpointState {
  readonly version: 1;
  readonly localAddresses: readonly string[];
  readonly port: number;
  readonly associations: readonly Association[];
  readonly secrets: CookieSecrets;
  readonly nextId: number;
  readonly counters: EndpointCounters;
  readonly ootbTokens: number;
  readonly ootbRefilledAt: Millis | undefined;
  readonly windowUpdates: readonly number[];
}

export interface EndpointEvent {
  readonly assocId: number;
  readonly event: AssociationEvent;
}

export type ConnectResult = { readonly ok: true; readonly assocId: number } | { readonly ok: false; readonly error: 'no-remote-address' | 'exists' };

/**
 * `addLocalAddress` / `removeLocalAddress` / `requestPeerPrimary` (RFC 5061):
 * the associations an ASCONF request was queued for, or why none was.
 */
export type AddressChangeResult =
  | { readonly ok: true; readonly associations: readonly number[] }
  | { readonly ok: false; readonly error: AsconfRequestError | 'no-such-association' | 'invalid-address' };

/** Counters of packets that reached no association (SCTP-MIB sctpOutOfBlues, sctpChecksumErrors). */
export interface EndpointCounters {
  outOfBlues: number;
  checksumErrors: number;
  /** Decode failures other than the checksum, wrong port. */
  discarded: number;
  cookiesBadMac: number;
  cookiesStale: number;
  /** RFC 3873 sctpActiveEstabs: COOKIE-ECHOED → ESTABLISHED (we initiated). */
  activeEstabs: number;
  /** RFC 3873 sctpPassiveEstabs: CLOSED → ESTABLISHED (a valid COOKIE ECHO). */
  passiveEstabs: number;
  /** RFC 3873 sctpAborteds: to CLOSED by an ABORT sent or received. */
  aborteds: number;
  /** RFC 3873 sctpShutdowns: to CLOSED from SHUTDOWN-SENT or SHUTDOWN-ACK-SENT. */
  shutdowns: number;
  /**
   * The per-association counters of every association that has closed, summed
   * when it closes: with the live ones they give the endpoint's totals
   * (sctpOutSCTPPacks, sctpInOrderChunks, ... are endpoint scalars in RFC 3873).
   */
  closedAssociations: AssociationCounters;
}

/**
 * What the endpoint keeps beside each association to avoid walking all of
 * them: its cached next deadline (valid until the association is touched by
 * an input, which recomputes it) and the `byPeer` keys it holds.
 */
interface AssocIndex {
  /** Position in `assocs` insertion order: due associations time out in that order. */
  readonly rank: number;
  /** `nextDeadline` when last computed; undefined also while its heap entry is being handled. */
  deadline: Millis | undefined;
  /** The `byPeer` keys set for it by the last `reindex`. */
  peerKeys: string[];
}

/** Out-of-the-blue replies sent at most in one burst, and per second after it. */
const OOTB_REPLY_BURST = 50;
const OOTB_REPLIES_PER_SECOND = 100;

function isNonUnicast(address: string): boolean {
  if (address.includes(':')) return address.toLowerCase().startsWith('ff');
  const first = Number(address.split('.')[0]);
  return (first >= 224 && first <= 239) || address === '255.255.255.255' || address === '0.0.0.0';
}

export function createEndpoint(options: EndpointOptions): Endpoint {
  return new Endpoint(options);
}

export class Endpoint {
  readonly config: ProtocolConfig;
  /** The endpoint's addresses; `addLocalAddress` / `removeLocalAddress` replace the list. */
  localAddresses: readonly string[];
  readonly port: number;
  readonly counters: EndpointCounters = { outOfBlues: 0, checksumErrors: 0, discarded: 0, cookiesBadMac: 0, cookiesStale: 0, activeEstabs: 0, passiveEstabs: 0, aborteds: 0, shutdowns: 0, closedAssociations: createCounters() };
  /** Set while a COOKIE ECHO creates an association: its communication up is a passive establishment. */
  private accepting = false;
  private readonly rng: Rng;
  private readonly hmac: HmacSha256;
  /** HMAC-SHA256 and, when given, HMAC-SHA1: what AUTH signs and verifies with. */
  private readonly mac: MacFunction;
  private readonly hasSha1: boolean;
  private readonly secrets: CookieSecrets;
  private readonly assocs = new Map<number, Association>();
  private readonly byPeer = new Map<string, number>();
  private nextId = 1;
  private readonly outbox: Datagram[] = [];
  private readonly events: EndpointEvent[] = [];
  /** Associations whose window opened when the application polled messages. */
  private readonly windowUpdates = new Set<number>();
  private readonly index = new Map<number, AssocIndex>();
  private nextRank = 0;
  /**
   * Binary min-heap of (deadline, association id), as two parallel arrays.
   * Lazy invalidation: an entry counts only while it equals the association's
   * cached deadline; stale ones are dropped when met, or by `compactHeap`.
   */
  /**
   * §8.4 replies (ABORT, SHUTDOWN COMPLETE) to out-of-the-blue packets: a
   * token bucket so a flood of forged packets cannot turn the endpoint into
   * a reflector (RFC 9260 §8.4 answers each such packet; the budget keeps
   * that bounded, as BSD's badport_bandlim does for its SCTP stack).
   */
  private ootbTokens = OOTB_REPLY_BURST;
  private ootbRefilledAt: Millis | undefined;
  private heapAt: Millis[] = [];
  private heapId: number[] = [];

  /** @throws RangeError on an invalid configuration or no local address (local misuse, never peer input). */
  constructor(options: EndpointOptions) {
    const r = resolveProtocolConfig(options.config ?? {});
    if (!r.ok) throw new RangeError(`createEndpoint: ${r.errors.join('; ')}`);
    if (options.localAddresses.length === 0) throw new RangeError('createEndpoint: at least one local address is needed');
    this.config = r.config;
    this.localAddresses = options.localAddresses.slice();
    this.port = options.port;
    this.rng = options.rng;
    this.hmac = options.hmac;
    this.hasSha1 = options.hmacSha1 !== undefined;
    this.mac = macFunction(options.hmac, options.hmacSha1);
    this.secrets = createCookieSecrets(options.rng, options.now);
  }

  // ---------------------------------------------------------------- inputs

  handlePacket(now: Millis, datagram: Datagram): void {
    const decoded = decodePacket(datagram.bytes);
    if (!decoded.ok) {
      if (decoded.error.code === 'bad-checksum') this.counters.checksumErrors++;
      else this.counters.discarded++;
      return;
    }
    const packet = decoded.value;
    if (packet.destinationPort !== this.port || packet.chunks.length === 0) {
      this.counters.discarded++;
      return;
    }
    const ctx = this.context(now);
    const a = this.demux(packet, datagram.source);
    const rx = { packet, source: datagram.source, destination: datagram.destination, bytes: datagram.bytes };
    if (a) {
      assocHandlePacket(ctx, a, rx);
      this.settle(ctx, a);
      return;
    }
    this.onOutOfTheBlue(ctx, packet, datagram);
  }

  handleTimeout(now: Millis): void {
    const ctx = this.context(now);
    // Only the associations whose deadline is due, in `assocs` order.
    const due: { a: Association; rank: number }[] = [];
    while (this.heapAt.length > 0 && this.heapAt[0]! <= now) {
      const at = this.heapAt[0]!;
      const id = this.heapId[0]!;
      this.heapPop();
      const x = this.index.get(id);
      const a = this.assocs.get(id);
      if (!x || !a || x.deadline !== at) continue;
      // Taken out of the heap: the next `track` pushes it again whatever the deadline.
      x.deadline = undefined;
      due.push({ a, rank: x.rank });
    }
    if (due.length > 1) due.sort((p, q) => p.rank - q.rank);
    for (const { a } of due) {
      onTimeout(ctx, a);
      this.settle(ctx, a);
    }
  }

  // ---------------------------------------------------------------- outputs

  pollTransmit(now: Millis): Datagram | undefined {
    if (this.windowUpdates.size > 0) {
      const ctx = this.context(now);
      for (const id of this.windowUpdates) {
        const a = this.assocs.get(id);
        if (a) this.settle(ctx, a);
      }
      this.windowUpdates.clear();
    }
    return this.outbox.shift();
  }

  pollTimeout(): Millis | undefined {
    const min = this.earliestDeadline();
    if (this.windowUpdates.size > 0) return min === undefined ? 0 : Math.min(min, 0);
    return min;
  }

  /**
   * The next notification. Taking a 'message' is the application reading it:
   * its bytes leave the receive window (RFC 9260 §6.2), which may call for a
   * window update SACK at the next `pollTransmit`.
   */
  pollEvent(): EndpointEvent | undefined {
    const e = this.events.shift();
    if (e && e.event.type === 'message') {
      const a = this.assocs.get(e.assocId);
      const tcb = a ? tcbOf(a.fsm) : undefined;
      if (tcb) {
        tcb.heldBytes = Math.max(0, tcb.heldBytes - e.event.data.length);
        // Under acknowledge-after-forward the window follows releases instead (association/ack-hold.ts).
        if (!tcb.hold && needsWindowUpdate(tcb.reasm.bufferedBytes + tcb.heldBytes, this.config, tcb.lastAdvertisedRwnd)) {
          tcb.sackNow = true;
          this.windowUpdates.add(e.assocId);
        }
      }
    }
    return e;
  }

  // ---------------------------------------------------------------- ULP

  /** RFC 9260 §10.1 ASSOCIATE: sends INIT, enters COOKIE-WAIT (§5.1 A). */
  connect(now: Millis, options: ConnectOptions): ConnectResult {
    const remote = options.remoteAddresses.slice();
    if (remote.length === 0) return { ok: false, error: 'no-remote-address' };
    if (remote.some((r) => this.byPeer.has(`${r}|${options.remotePort}`))) return { ok: false, error: 'exists' };
    const ctx = this.context(now);
    const localTag = ctx.nonZeroTag();
    const initialTsn = this.rng.nextU32();
    const init = buildInit(
      this.config,
      this.localAddresses,
      localTag,
      initialTsn,
      options.outboundStreams ?? this.config.outboundStreams,
      undefined,
      extensionParams(this.config, this.hasSha1, this.rng),
    );
    const a: Association = {
      id: this.nextId++,
      localPort: this.port,
      peerPort: options.remotePort,
      localAddresses: this.localAddresses.slice(),
      peerAddresses: remote,
      routes: new Map(),
      createdAt: now,
      establishedAt: undefined,
      fsm: {
        state: 'cookie-wait',
        init,
        t1: { at: now + this.config.rtoInitial, retransmits: 0, rto: this.config.rtoInitial },
        initDestination: 0,
        pendingSends: [],
        shutdownRequested: false,
      },
    };
    this.addAssoc(a);
    this.reindex(a);
    sendInit(ctx, a, init, remote[0]!);
    this.track(a);
    return { ok: true, assocId: a.id };
  }

  send(now: Millis, assocId: number, data: Uint8Array, options: SendOptions): SendResult {
    const a = this.assocs.get(assocId);
    if (!a) return { ok: false, error: { kind: 'no-such-association' } };
    const ctx = this.context(now);
    const r = assocSend(ctx, a, data, options);
    this.settle(ctx, a);
    return r;
  }

  /**
   * RFC 9260 §10.1 SEND, queued only: the same checks and result as `send`,
   * but nothing is transmitted until `flush` (or any other input to the
   * association). A runtime that batches the application's sends of one
   * event-loop tick queues each and flushes once, so they leave in full
   * packets rather than one packet per message (and the association's
   * transmit path runs once, not per message).
   */
  queue(now: Millis, assocId: number, data: Uint8Array, options: SendOptions): SendResult {
    const a = this.assocs.get(assocId);
    if (!a) return { ok: false, error: { kind: 'no-such-association' } };
    return assocSend(this.context(now), a, data, options);
  }

  /** Transmits what is due for the association now (what `queue` left). False if there is no such association. */
  flush(now: Millis, assocId: number): boolean {
    const a = this.assocs.get(assocId);
    if (!a) return false;
    this.settle(this.context(now), a);
    return true;
  }

  /**
   * Acknowledge after forward: the message delivered with `holdToken` may be
   * acknowledged now (rx/ack-hold.ts). With `deferFlush`, as `queue`: the
   * SACK it calls for goes at the next `flush` (a relay releasing many
   * messages in one tick transmits once).
   */
  release(now: Millis, assocId: number, holdToken: number, deferFlush = false): ReleaseResult | 'no-such-association' {
    const a = this.assocs.get(assocId);
    if (!a) return 'no-such-association';
    const ctx = this.context(now);
    const r = releaseHeld(ctx, a, holdToken);
    if (!deferFlush) this.settle(ctx, a);
    return r;
  }

  /** Turns acknowledge-after-forward on or off for one association. False without such an association (or TCB). */
  setAckHold(now: Millis, assocId: number, enabled: boolean): boolean {
    const a = this.assocs.get(assocId);
    if (!a) return false;
    const ctx = this.context(now);
    const ok = setAckHold(ctx, a, enabled);
    this.settle(ctx, a);
    return ok;
  }

  /** RFC 9260 §10.1 SHUTDOWN (graceful, §9.2). False if there is no such association. */
  shutdown(now: Millis, assocId: number): boolean {
    const a = this.assocs.get(assocId);
    if (!a) return false;
    const ctx = this.context(now);
    userShutdown(ctx, a);
    this.settle(ctx, a);
    return true;
  }

  /** RFC 9260 §10.1 ABORT, with an optional reason sent in a User-Initiated Abort cause. */
  abort(now: Millis, assocId: number, reason?: Uint8Array): boolean {
    const a = this.assocs.get(assocId);
    if (!a) return false;
    const ctx = this.context(now);
    userAbort(ctx, a, reason);
    this.settle(ctx, a);
    return true;
  }

  setPrimary(now: Millis, assocId: number, address: string): SetPrimaryResult {
    const a = this.assocs.get(assocId);
    const r = assocSetPrimary(a ? tcbOf(a.fsm) : undefined, address);
    if (a) this.settle(this.context(now), a);
    return r;
  }

  /**
   * Every DATA chunk in flight is retransmitted now, as cwnd allows, instead
   * of at T3-rtx expiry (association/retransmit-outstanding.ts): for a host
   * that continues an association whose DATA left from another host (HA
   * takeover), whose SACKs went there. Returns the TSNs marked (0: none, or
   * no such association).
   */
  retransmitOutstanding(now: Millis, assocId: number): number {
    const a = this.assocs.get(assocId);
    if (!a) return 0;
    const ctx = this.context(now);
    const n = assocRetransmitOutstanding(ctx, a);
    this.settle(ctx, a);
    return n;
  }

  /**
   * RFC 5061 ADD-IP: `address` becomes one of ours. With `assocId`, for that
   * association only; without, for the endpoint (new associations list it)
   * and every association that negotiated ADD-IP. Each association sends an
   * authenticated ASCONF Add IP Address and uses the address as a source once
   * the peer acknowledged it; the outcome is an 'asconf' event.
   */
  addLocalAddress(now: Millis, address: string, assocId?: number): AddressChangeResult {
    const c = canonicalAddress(address);
    if (c === undefined || c === '0.0.0.0' || c === '::') return { ok: false, error: 'invalid-address' };
    if (assocId === undefined) {
      if (this.localAddresses.includes(c)) return { ok: false, error: 'already-present' };
      this.localAddresses = [...this.localAddresses, c];
    }
    return this.asconfRequest(now, assocId, (a, tcb) => requestAddAddress(a, tcb, c));
  }

  /**
   * RFC 5061 ADD-IP: `address` stops being one of ours (for one association,
   * or for the endpoint and all of them). It is no source address from now
   * on and still receives until the peer acknowledged the ASCONF Delete IP
   * Address. The last address cannot be deleted (§5.3).
   */
  removeLocalAddress(now: Millis, address: string, assocId?: number): AddressChangeResult {
    const c = canonicalAddress(address);
    if (c === undefined) return { ok: false, error: 'invalid-address' };
    if (assocId === undefined) {
      if (!this.localAddresses.includes(c)) return { ok: false, error: 'not-present' };
      if (this.localAddresses.length <= 1) return { ok: false, error: 'last-address' };
      this.localAddresses = this.localAddresses.filter((x) => x !== c);
    }
    return this.asconfRequest(now, assocId, (a, tcb) => requestDeleteAddress(a, tcb, c));
  }

  /**
   * RFC 5061 §4.2.4 Set Primary Address: asks the peer to send to our
   * `localAddress` (added, or being added) from now on (an HA standby that
   * took over asks this so the peer moves at once).
   */
  requestPeerPrimary(now: Millis, assocId: number, localAddress: string): AddressChangeResult {
    const c = canonicalAddress(localAddress);
    if (c === undefined) return { ok: false, error: 'invalid-address' };
    return this.asconfRequest(now, assocId, (a, tcb) => requestSetPeerPrimary(a, tcb, c));
  }

  /** Queues an ASCONF request on one association, or on every one that takes it. */
  private asconfRequest(now: Millis, assocId: number | undefined, request: (a: Association, tcb: Tcb) => AsconfRequestResult): AddressChangeResult {
    const ctx = this.context(now);
    const targets = assocId === undefined ? [...this.assocs.values()] : [this.assocs.get(assocId)];
    if (targets[0] === undefined && assocId !== undefined) return { ok: false, error: 'no-such-association' };
    const queued: number[] = [];
    let error: AsconfRequestError | undefined;
    for (const a of targets) {
      if (a === undefined) continue;
      const s = a.fsm;
      // §5.1: ASCONFs go while the association is up (not once a SHUTDOWN was received or sent).
      if (s.state !== 'established' && s.state !== 'shutdown-pending') {
        error ??= 'wrong-state';
        continue;
      }
      const r = request(a, s.tcb);
      if (!r.ok) {
        error ??= r.error;
        continue;
      }
      queued.push(a.id);
      this.settle(ctx, a);
    }
    if (assocId !== undefined && error !== undefined) return { ok: false, error };
    return { ok: true, associations: queued };
  }

  /** A structured copy of the association: plain data, what HA replication ships. */
  snapshot(assocId: number): Association | undefined {
    const a = this.assocs.get(assocId);
    return a ? structuredClone(a) : undefined;
  }

  /** Takes over an association from a snapshot (HA standby promotion). False if its id is in use. */
  restore(snapshot: Association): boolean {
    if (this.assocs.has(snapshot.id) || snapshot.fsm.state === 'closed') return false;
    const a = structuredClone(snapshot);
    this.addAssoc(a);
    this.nextId = Math.max(this.nextId, a.id + 1);
    this.reindex(a);
    this.track(a);
    return true;
  }

  associationIds(): number[] {
    return [...this.assocs.keys()];
  }

  /** Rotates the cookie secret now; the old one stays valid for cookieSecretGrace. */
  rotateCookieSecret(now: Millis): void {
    rotateSecret(this.secrets, this.rng, now);
  }

  /**
   * The whole endpoint as plain data (HA full sync, checkpoints): every
   * association in arrival order (timeouts of due associations run in that
   * order, so a copy replays identically), the cookie secrets, the id counter,
   * the out-of-the-blue reply budget. Take it between inputs, once
   * `pollTransmit` and `pollEvent` are drained: those queues are not part of it.
   */
  exportState(): EndpointState {
    return structuredClone({
      version: 1 as const,
      localAddresses: this.localAddresses.slice(),
      port: this.port,
      associations: [...this.assocs.values()],
      secrets: this.secrets,
      nextId: this.nextId,
      counters: this.counters,
      ootbTokens: this.ootbTokens,
      ootbRefilledAt: this.ootbRefilledAt,
      windowUpdates: [...this.windowUpdates],
    });
  }

  /**
   * Replaces everything this endpoint holds with `state` (a standby applying
   * a full sync, a process restoring its checkpoints). False, and nothing
   * changed, if the state is for another port or version.
   */
  importState(state: EndpointState): boolean {
    if (state.version !== 1 || state.port !== this.port || state.localAddresses.length === 0) return false;
    const s = structuredClone(state);
    // ADD-IP may have changed the endpoint's addresses since it was built.
    this.localAddresses = s.localAddresses.slice();
    this.assocs.clear();
    this.byPeer.clear();
    this.index.clear();
    this.windowUpdates.clear();
    this.heapAt = [];
    this.heapId = [];
    this.outbox.length = 0;
    this.events.length = 0;
    this.secrets.current = s.secrets.current;
    this.secrets.previous = s.secrets.previous;
    this.nextId = s.nextId;
    Object.assign(this.counters, s.counters);
    this.ootbTokens = s.ootbTokens;
    this.ootbRefilledAt = s.ootbRefilledAt;
    for (const a of s.associations) {
      this.addAssoc(a);
      this.reindex(a);
      this.track(a);
    }
    for (const id of s.windowUpdates) if (this.assocs.has(id)) this.windowUpdates.add(id);
    return true;
  }

  /**
   * The association a packet from `source` belongs to, by the same demux as
   * `handlePacket`, without processing it (an HA standby deciding whether a
   * packet is for an association it holds).
   */
  lookup(source: string, bytes: Uint8Array): { readonly assocId: number; readonly localTag: number; readonly peerTag: number } | undefined {
    const decoded = decodePacket(bytes);
    if (!decoded.ok || decoded.value.destinationPort !== this.port || decoded.value.chunks.length === 0) return undefined;
    const a = this.demux(decoded.value, source);
    const tcb = a ? tcbOf(a.fsm) : undefined;
    if (!a || !tcb) return undefined;
    return { assocId: a.id, localTag: tcb.localTag, peerTag: tcb.peerTag };
  }

  // ---------------------------------------------------------------- internals

  /** RFC 3873 scalars that follow state transitions (the association reports them as events). */
  private countEvent(assocId: number, event: AssociationEvent): void {
    if (event.type === 'communication-lost' || event.type === 'cannot-start' || event.type === 'shutdown-complete') {
      // The association closes right after this event, and its TCB (with its counters) goes.
      const tcb = tcbOf(this.assocs.get(assocId)?.fsm ?? { state: 'closed' });
      if (tcb) addCounters(this.counters.closedAssociations, tcb.counters);
    }
    switch (event.type) {
      case 'communication-up':
        if (this.accepting) this.counters.passiveEstabs++;
        else this.counters.activeEstabs++;
        return;
      case 'communication-lost':
      case 'cannot-start':
        if (event.reason === 'peer-abort' || event.reason === 'local-abort') this.counters.aborteds++;
        return;
      case 'shutdown-complete': {
        // Emitted before the state becomes CLOSED; a SHUTDOWN in COOKIE-WAIT is not one (nothing was established).
        const st = this.assocs.get(assocId)?.fsm.state;
        if (st === 'shutdown-sent' || st === 'shutdown-ack-sent') this.counters.shutdowns++;
        return;
      }
      default:
        return;
    }
  }

  private context(now: Millis): AssocContext {
    maybeRotateSecret(this.secrets, this.rng, now, this.config);
    return {
      now,
      config: this.config,
      rng: this.rng,
      mintCookie: (c) => mintCookie(this.secrets, this.hmac, c),
      openCookie: (cookie) => openCookie(this.secrets, this.hmac, cookie, now, this.config),
      send: (p: OutPacket) => {
        const bytes = encodePacket(p.packet);
        // RFC 4895 §6.2: the AUTH chunk's HMAC covers the encoded chunks after it.
        if (p.auth !== undefined) signPacket(bytes, p.auth, this.mac);
        this.outbox.push({ source: p.source, destination: p.destination, bytes });
      },
      event: (assocId, event) => {
        this.countEvent(assocId, event);
        this.events.push({ assocId, event });
      },
      nonZeroTag: () => {
        for (let i = 0; i < 64; i++) {
          const t = this.rng.nextU32() >>> 0;
          if (t !== 0) return t;
        }
        return 1;
      },
      mac: this.mac,
      hasSha1: this.hasSha1,
    };
  }

  /** After an input: flush, re-index, forget a closed association. */
  private settle(ctx: AssocContext, a: Association): void {
    afterInput(ctx, a);
    if (a.fsm.state === 'closed') {
      this.assocs.delete(a.id);
      this.windowUpdates.delete(a.id);
      const x = this.index.get(a.id);
      if (x) for (const k of x.peerKeys) if (this.byPeer.get(k) === a.id) this.byPeer.delete(k);
      this.index.delete(a.id);
      return;
    }
    this.reindex(a);
    this.track(a);
  }

  private addAssoc(a: Association): void {
    this.assocs.set(a.id, a);
    this.index.set(a.id, { rank: this.nextRank++, deadline: undefined, peerKeys: [] });
  }

  /** Points `byPeer` at `a` for its peer addresses; a no-op when they did not change. */
  private reindex(a: Association): void {
    const x = this.index.get(a.id);
    if (!x) return;
    const tcb = tcbOf(a.fsm);
    const addrs = tcb ? tcb.paths.map((p) => p.address) : a.peerAddresses;
    const keys = x.peerKeys;
    let same = keys.length === addrs.length;
    for (let i = 0; same && i < addrs.length; i++) same = keys[i] === `${addrs[i]}|${a.peerPort}` && this.byPeer.get(keys[i]!) === a.id;
    if (same) return;
    for (const k of keys) if (this.byPeer.get(k) === a.id) this.byPeer.delete(k);
    x.peerKeys = addrs.map((addr) => `${addr}|${a.peerPort}`);
    for (const k of x.peerKeys) this.byPeer.set(k, a.id);
  }

  /** Recomputes the cached deadline of `a` (after it was touched) and files it in the heap. */
  private track(a: Association): void {
    const x = this.index.get(a.id);
    if (!x) return;
    const d = nextDeadline(a, this);
    if (d === x.deadline) return;
    x.deadline = d;
    if (d === undefined) return;
    if (this.heapAt.length >= 2 * this.index.size + 2) this.compactHeap();
    this.heapPush(d, a.id);
  }

  /** The earliest deadline of all associations (stale heap entries dropped on the way). */
  private earliestDeadline(): Millis | undefined {
    while (this.heapAt.length > 0) {
      const at = this.heapAt[0]!;
      if (this.index.get(this.heapId[0]!)?.deadline === at) return at;
      this.heapPop();
    }
    return undefined;
  }

  /** Rebuilds the heap from the cached deadlines: one entry per association that has one. */
  private compactHeap(): void {
    const entries: [Millis, number][] = [];
    for (const [id, x] of this.index) if (x.deadline !== undefined) entries.push([x.deadline, id]);
    entries.sort((p, q) => p[0] - q[0]);
    this.heapAt = entries.map((e) => e[0]);
    this.heapId = entries.map((e) => e[1]);
  }

  private heapPush(at: Millis, id: number): void {
    let i = this.heapAt.length;
    if (i < 8) {
      // Small heaps (most endpoints hold few associations) stay exactly sized: push would reserve 17 slots.
      this.heapAt = this.heapAt.concat(at);
      this.heapId = this.heapId.concat(id);
    } else {
      this.heapAt.push(at);
      this.heapId.push(id);
    }
    const hAt = this.heapAt;
    const hId = this.heapId;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (hAt[parent]! <= at) break;
      hAt[i] = hAt[parent]!;
      hId[i] = hId[parent]!;
      i = parent;
    }
    hAt[i] = at;
    hId[i] = id;
  }

  private heapPop(): void {
    const hAt = this.heapAt;
    const hId = this.heapId;
    const lastAt = hAt.pop()!;
    const lastId = hId.pop()!;
    const n = hAt.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && hAt[r]! < hAt[l]! ? r : l;
      if (hAt[c]! >= lastAt) break;
      hAt[i] = hAt[c]!;
      hId[i] = hId[c]!;
      i = c;
    }
    hAt[i] = lastAt;
    hId[i] = lastId;
  }

  private demux(packet: DecodedPacket, source: string): Association | undefined {
    const id = this.byPeer.get(`${source}|${packet.sourcePort}`);
    if (id !== undefined) return this.assocs.get(id);
    const first = packet.chunks[0]!;
    // An INIT ACK may come from a peer address we did not know (§5.1.2): match our tag.
    if (first.kind === 'init-ack') {
      for (const a of this.assocs.values()) {
        if (a.fsm.state === 'cookie-wait' && a.peerPort === packet.sourcePort && localTagOf(a) === packet.verificationTag) return a;
      }
    }
    // §5.2.2: an INIT from a new source that lists an address of an existing association.
    if (first.kind === 'init') return this.findByListedAddresses(first, packet.sourcePort);
    // RFC 5061 §5.2 (L2): an ASCONF from a source we do not know yet is found by its
    // Address Parameter, the verification tag vouching for it.
    if (first.kind === 'auth' || first.kind === 'asconf') {
      const asconf = packet.chunks.find((c) => c.kind === 'asconf');
      if (asconf !== undefined && asconf.kind === 'asconf') {
        const id2 = this.byPeer.get(`${asconf.address}|${packet.sourcePort}`);
        const a = id2 !== undefined ? this.assocs.get(id2) : undefined;
        if (a !== undefined && localTagOf(a) === packet.verificationTag) return a;
      }
    }
    return undefined;
  }

  private findByListedAddresses(init: InitChunk, port: number): Association | undefined {
    for (const p of init.params) {
      if (p.kind !== 'ipv4-address' && p.kind !== 'ipv6-address') continue;
      const id = this.byPeer.get(`${p.address}|${port}`);
      if (id !== undefined) return this.assocs.get(id);
    }
    return undefined;
  }

  /** RFC 9260 §8.4, driven by the `closed` row of the chunk table. */
  private onOutOfTheBlue(ctx: AssocContext, packet: DecodedPacket, d: Datagram): void {
    const first = packet.chunks[0]!;
    // RFC 3873 sctpOutOfBlues counts packets for which no association could be found; an INIT
    // or a COOKIE ECHO that a listening endpoint takes is how associations start, not one of them.
    if (first.kind !== 'init' && first.kind !== 'cookie-echo') this.counters.outOfBlues++;
    if (isNonUnicast(d.source) || isNonUnicast(d.destination)) return; // rule 1
    // RFC 4895 §6.3: the handling "MUST be based on the packet without taking the AUTH chunk into account".
    const chunks = packet.chunks.filter((c) => ootbTable[c.kind] !== 'ootb-ignored');
    if (chunks.length === 0) return;
    const decisions = chunks.map((c) => ootbTable[c.kind]);
    if (decisions.includes('ootb-discard-packet')) return; // rule 2
    if (first.kind === 'init') {
      // Rule 3, §8.5.1 A, §6.10: tag 0, INIT alone.
      if (packet.verificationTag === 0 && packet.chunks.length === 1) this.onInit(ctx, packet, first, d);
      return;
    }
    if (first.kind === 'cookie-echo') {
      this.onCookieEcho(ctx, packet, first.cookie, d);
      return;
    }
    if (decisions.includes('ootb-shutdown-complete')) {
      // Rule 4: SHUTDOWN COMPLETE, tag reflected, T bit set.
      if (this.takeOotbReplyToken(ctx.now)) this.reply(d, packet, packet.verificationTag, [{ kind: 'shutdown-complete', tBit: true }]);
      return;
    }
    if (decisions.includes('discard')) return; // rules 5 and 7
    // Rule 6: an ERROR with Stale Cookie is dropped.
    if (packet.chunks.some((c) => c.kind === 'error' && c.causes.some((x) => x.kind === 'stale-cookie'))) return;
    // Rule 8: ABORT, tag reflected, T bit set.
    if (this.takeOotbReplyToken(ctx.now)) this.reply(d, packet, packet.verificationTag, [{ kind: 'abort', tBit: true, causes: [] }]);
  }

  /** One token of the OOTB reply budget, refilled with time; false when the budget is spent. */
  private takeOotbReplyToken(now: Millis): boolean {
    if (this.ootbRefilledAt !== undefined && now > this.ootbRefilledAt) {
      this.ootbTokens = Math.min(OOTB_REPLY_BURST, this.ootbTokens + ((now - this.ootbRefilledAt) * OOTB_REPLIES_PER_SECOND) / 1000);
    }
    this.ootbRefilledAt = Math.max(now, this.ootbRefilledAt ?? now);
    if (this.ootbTokens < 1) return false;
    this.ootbTokens -= 1;
    return true;
  }

  private reply(d: Datagram, packet: DecodedPacket, verificationTag: number, chunks: Chunk[]): void {
    this.outbox.push({
      source: d.destination,
      destination: d.source,
      bytes: encodePacket({ sourcePort: this.port, destinationPort: packet.sourcePort, verificationTag, chunks }),
    });
  }

  /** §5.1 B: answer with INIT ACK and a State Cookie, keeping no state. */
  private onInit(ctx: AssocContext, packet: DecodedPacket, init: InitChunk, d: Datagram): void {
    const check = checkInitParams(init, d.source, this.localAddresses, initFeatures(ctx));
    if (!check.ok) {
      // §3.3.2 / §5.1.2: ABORT with the cause; its tag is the INIT's Initiate Tag.
      this.reply(d, packet, init.initiateTag, [abortFor(check.cause)]);
      return;
    }
    const ack = buildInitAck(
      ctx,
      init,
      check.info,
      { localTag: ctx.nonZeroTag(), localInitialTsn: this.rng.nextU32(), localTieTag: 0, peerTieTag: 0, outboundStreams: this.config.outboundStreams },
      { localPort: this.port, peerPort: packet.sourcePort },
      this.localAddresses,
    );
    this.reply(d, packet, init.initiateTag, [ack]);
  }

  /** §5.1.5: a COOKIE ECHO with no association: validate, then create it ESTABLISHED. */
  private onCookieEcho(ctx: AssocContext, packet: DecodedPacket, cookie: Uint8Array, d: Datagram): void {
    const opened = ctx.openCookie(cookie);
    if (opened.kind !== 'valid') {
      this.counters.cookiesBadMac++;
      return;
    }
    const c = opened.contents;
    if (c.localPort !== this.port || c.peerPort !== packet.sourcePort || c.localTag !== packet.verificationTag) return;
    // The peer may answer from another of its addresses: find an association by the cookie's list.
    for (const addr of c.peerAddresses) {
      const id = this.byPeer.get(`${addr}|${packet.sourcePort}`);
      const existing = id !== undefined ? this.assocs.get(id) : undefined;
      if (existing) {
        if (onCookieEchoInAssociation(ctx, existing, c, d.source)) assocHandlePacket(ctx, existing, { packet, source: d.source, destination: d.destination, bytes: d.bytes }, 1);
        this.settle(ctx, existing);
        return;
      }
    }
    const staleness = cookieStaleness(c, ctx.now);
    if (staleness > 0) {
      // §5.1.5 step 3 / §3.3.10.3: ERROR with Stale Cookie and the measure of staleness.
      this.counters.cookiesStale++;
      this.reply(d, packet, c.peerTag, [{ kind: 'error', causes: [{ kind: 'stale-cookie', staleness }] }]);
      return;
    }
    const params = tcbParamsFromCookie(c, d.source, this.config, this.hasSha1);
    const tcb = createTcb(params, this.config, ctx.now);
    const a: Association = {
      id: this.nextId++,
      localPort: this.port,
      peerPort: packet.sourcePort,
      localAddresses: c.localAddresses.slice(),
      peerAddresses: params.peerAddresses.slice(),
      routes: new Map([[d.source, d.destination]]),
      createdAt: ctx.now,
      establishedAt: undefined,
      fsm: { state: 'established', tcb },
    };
    this.addAssoc(a);
    // §5.1 D: COOKIE ACK first in its packet; DATA bundled after the cookie is processed next,
    // an AUTH among it verified with the keys the cookie brought (RFC 4895 §6.3).
    tcb.control.push({ chunk: { kind: 'cookie-ack' }, destination: d.source });
    this.accepting = true;
    enterEstablished(ctx, a, tcb, false);
    this.accepting = false;
    assocHandlePacket(ctx, a, { packet, source: d.source, destination: d.destination, bytes: d.bytes }, 1);
    this.settle(ctx, a);
  }
}
