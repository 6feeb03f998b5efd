/**
 * The SGP side of M3UA ASP management (RFC 4666 §4.3), per front
 * association: ASP Up / Down, ASP Active / Inactive and BEAT are answered
 * here and never forwarded; Transfer DATA from an active ASP is forwarded;
 * anything malformed or out of place is answered with an Error (§3.8.1).
 * Pure: returns the replies (to send on stream 0 with PPID 3) and whether to
 * forward; counts everything.
 */
import {
  AspsmType,
  AsptmType,
  decodeM3ua,
  decodeProtocolData,
  decodeU32,
  decodeU32List,
  encodeError,
  encodeM3ua,
  ErrorCode,
  errorCodeName,
  findParameter,
  MessageClass,
  MgmtType,
  Tag,
  TransferType,
  u32,
  type M3uaMessage,
  type Parameter,
} from './m3ua.js';

/** §4.3.1 ASP states as seen by the SGP. */
export type AspState = 'down' | 'inactive' | 'active';

export interface SgpOptions {
  /** Routing contexts this SGP serves (§3.3.1: an ASP Active naming another gets Invalid Routing Context). */
  readonly routingContexts: readonly number[];
}

export interface M3uaCounters {
  /** Messages received, by name (e.g. "ASPSM.UP", "TRANSFER.DATA"). */
  received: Record<string, number>;
  /** Messages sent by the SGP, by name. */
  sent: Record<string, number>;
  /** Error messages sent, by error code name. */
  errors: Record<string, number>;
  /** DATA messages forwarded to the back side. */
  forwarded: number;
}

export function createM3uaCounters(): M3uaCounters {
  return { received: {}, sent: {}, errors: {}, forwarded: 0 };
}

export interface SgpOutcome {
  readonly replies: readonly Uint8Array[];
  readonly forward: boolean;
}

const NAMES: Readonly<Record<number, readonly [string, Readonly<Record<number, string>>]>> = {
  [MessageClass.MGMT]: ['MGMT', { 0: 'ERR', 1: 'NTFY' }],
  [MessageClass.TRANSFER]: ['TRANSFER', { 1: 'DATA' }],
  [MessageClass.SSNM]: ['SSNM', { 1: 'DUNA', 2: 'DAVA', 3: 'DAUD', 4: 'SCON', 5: 'DUPU', 6: 'DRST' }],
  [MessageClass.ASPSM]: ['ASPSM', { 1: 'UP', 2: 'DOWN', 3: 'BEAT', 4: 'UP_ACK', 5: 'DOWN_ACK', 6: 'BEAT_ACK' }],
  [MessageClass.ASPTM]: ['ASPTM', { 1: 'ACTIVE', 2: 'INACTIVE', 3: 'ACTIVE_ACK', 4: 'INACTIVE_ACK' }],
  [MessageClass.RKM]: ['RKM', { 1: 'REG_REQ', 2: 'REG_RSP', 3: 'DEREG_REQ', 4: 'DEREG_RSP' }],
};

export function messageName(messageClass: number, messageType: number): string {
  const c = NAMES[messageClass];
  return c ? `${c[0]}.${c[1][messageType] ?? messageType}` : `${messageClass}.${messageType}`;
}

function bump(r: Record<string, number>, k: string): void {
  r[k] = (r[k] ?? 0) + 1;
}

export class SgpAsp {
  state: AspState = 'down';
  /** Routing contexts the ASP activated (§4.3.4.3). */
  activeContexts: number[] = [];

  constructor(
    private readonly options: SgpOptions,
    readonly counters: M3uaCounters = createM3uaCounters(),
  ) {}

  /** One M3UA message received from the ASP on `streamId`. */
  handle(bytes: Uint8Array, streamId: number): SgpOutcome {
    const d = decodeM3ua(bytes);
    if (!d.ok) {
      bump(this.counters.received, 'malformed');
      return this.error(d.errorCode, bytes);
    }
    const m = d.message;
    bump(this.counters.received, messageName(m.messageClass, m.messageType));
    // §3.8.1 Invalid Stream Identifier: "a Management message was received on a stream other than 0" (likewise ASPSM / ASPTM, §4.3.4).
    const management = m.messageClass === MessageClass.MGMT || m.messageClass === MessageClass.ASPSM || m.messageClass === MessageClass.ASPTM;
    if (management && streamId !== 0) return this.error(ErrorCode.INVALID_STREAM_IDENTIFIER, bytes);
    switch (m.messageClass) {
      case MessageClass.MGMT:
        // NTFY and ERR from an ASP are only counted (an SGP does not answer an Error with an Error).
        return { replies: [], forward: false };
      case MessageClass.ASPSM:
        return this.onAspsm(m, bytes);
      case MessageClass.ASPTM:
        return this.onAsptm(m, bytes);
      case MessageClass.TRANSFER:
        return this.onData(m, bytes);
      case MessageClass.SSNM:
        // The relay keeps no SS7 destination state to answer DAUD with.
        return this.error(ErrorCode.UNSUPPORTED_MESSAGE_TYPE, bytes);
      case MessageClass.RKM:
        // §4.4.1: an SGP without dynamic registration answers Unsupported Message Class.
        return this.error(ErrorCode.UNSUPPORTED_MESSAGE_CLASS, bytes);
      default:
        return this.error(ErrorCode.UNSUPPORTED_MESSAGE_CLASS, bytes);
    }
  }

  private onAspsm(m: M3uaMessage, bytes: Uint8Array): SgpOutcome {
    switch (m.messageType) {
      case AspsmType.UP: {
        const id = findParameter(m, Tag.ASP_IDENTIFIER);
        if (id && decodeU32(id.value) === undefined) return this.error(ErrorCode.PARAMETER_FIELD_ERROR, bytes);
        // §4.3.4.1: ASP Up in any state: the ASP is ASP-INACTIVE, the SGP answers ASP Up Ack.
        this.state = 'inactive';
        this.activeContexts = [];
        return this.reply(MessageClass.ASPSM, AspsmType.UP_ACK, id ? [id] : []);
      }
      case AspsmType.DOWN:
        this.state = 'down';
        this.activeContexts = [];
        return this.reply(MessageClass.ASPSM, AspsmType.DOWN_ACK, []);
      case AspsmType.BEAT: {
        // §3.5.5 / §3.5.6: the BEAT Ack carries the Heartbeat Data unchanged.
        const hb = findParameter(m, Tag.HEARTBEAT_DATA);
        return this.reply(MessageClass.ASPSM, AspsmType.BEAT_ACK, hb ? [hb] : []);
      }
      case AspsmType.BEAT_ACK:
        return { replies: [], forward: false };
      default:
        // Up Ack / Down Ack are what an SGP sends, never receives.
        return this.error(ErrorCode.UNEXPECTED_MESSAGE, bytes);
    }
  }

  private onAsptm(m: M3uaMessage, bytes: Uint8Array): SgpOutcome {
    switch (m.messageType) {
      case AsptmType.ACTIVE: {
        // §4.3.4.3: ASP Active from an ASP that is down is unexpected.
        if (this.state === 'down') return this.error(ErrorCode.UNEXPECTED_MESSAGE, bytes);
        const params: Parameter[] = [];
        const tm = findParameter(m, Tag.TRAFFIC_MODE_TYPE);
        if (tm) {
          const mode = decodeU32(tm.value);
          if (mode === undefined) return this.error(ErrorCode.PARAMETER_FIELD_ERROR, bytes);
          // §3.5.1: 1 Override, 2 Loadshare, 3 Broadcast.
          if (mode < 1 || mode > 3) return this.error(ErrorCode.UNSUPPORTED_TRAFFIC_MODE_TYPE, bytes);
          params.push(tm);
        }
        const rcParam = findParameter(m, Tag.ROUTING_CONTEXT);
        let contexts = this.options.routingContexts.slice();
        if (rcParam) {
          const rcs = decodeU32List(rcParam.value);
          if (rcs === undefined) return this.error(ErrorCode.PARAMETER_FIELD_ERROR, bytes);
          const unknown = rcs.filter((rc) => !this.options.routingContexts.includes(rc));
          if (unknown.length > 0) return this.error(ErrorCode.INVALID_ROUTING_CONTEXT, bytes, unknown);
          contexts = rcs;
        }
        this.state = 'active';
        this.activeContexts = contexts;
        // §3.7.2: the ASP Active Ack names the routing contexts now active.
        if (contexts.length > 0) params.push({ tag: Tag.ROUTING_CONTEXT, value: u32(...contexts) });
        return this.reply(MessageClass.ASPTM, AsptmType.ACTIVE_ACK, params);
      }
      case AsptmType.INACTIVE: {
        if (this.state === 'down') return this.error(ErrorCode.UNEXPECTED_MESSAGE, bytes);
        const rc = findParameter(m, Tag.ROUTING_CONTEXT);
        this.state = 'inactive';
        this.activeContexts = [];
        return this.reply(MessageClass.ASPTM, AsptmType.INACTIVE_ACK, rc ? [rc] : []);
      }
      default:
        return this.error(ErrorCode.UNEXPECTED_MESSAGE, bytes);
    }
  }

  private onData(m: M3uaMessage, bytes: Uint8Array): SgpOutcome {
    if (m.messageType !== TransferType.DATA) return this.error(ErrorCode.UNSUPPORTED_MESSAGE_TYPE, bytes);
    // §4.3.4.3 / §3.8.1: DATA from an ASP that is not active is unexpected.
    if (this.state !== 'active') return this.error(ErrorCode.UNEXPECTED_MESSAGE, bytes);
    const pd = findParameter(m, Tag.PROTOCOL_DATA);
    if (!pd) return this.error(ErrorCode.MISSING_PARAMETER, bytes);
    if (decodeProtocolData(pd.value) === undefined) return this.error(ErrorCode.PARAMETER_FIELD_ERROR, bytes);
    const rc = findParameter(m, Tag.ROUTING_CONTEXT);
    if (rc) {
      const v = decodeU32(rc.value);
      if (v === undefined) return this.error(ErrorCode.PARAMETER_FIELD_ERROR, bytes);
      if (!this.activeContexts.includes(v)) return this.error(ErrorCode.INVALID_ROUTING_CONTEXT, bytes, [v]);
    }
    this.counters.forwarded++;
    return { replies: [], forward: true };
  }

  private reply(messageClass: number, messageType: number, params: readonly Parameter[]): SgpOutcome {
    bump(this.counters.sent, messageName(messageClass, messageType));
    return { replies: [encodeM3ua(messageClass, messageType, params)], forward: false };
  }

  private error(code: number, offending: Uint8Array, routingContexts?: readonly number[]): SgpOutcome {
    bump(this.counters.errors, errorCodeName(code));
    bump(this.counters.sent, messageName(MessageClass.MGMT, MgmtType.ERR));
    return { replies: [encodeError(code, offending, routingContexts)], forward: false };
  }
}
