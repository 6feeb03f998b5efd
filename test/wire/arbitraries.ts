/**
 * fast-check arbitraries for every chunk, parameter and error cause, producing
 * values in the canonical form the decoder returns (so decode(encode(x)) = x):
 * canonical address strings, host names without NUL, I-DATA with FSN 0 when B
 * is set and PPID 0 otherwise, RE-CONFIG responses with both TSNs or neither.
 */
import fc from 'fast-check';
import type { Chunk, ChunkKind, ErrorCause, ErrorCauseKind, GapBlock, Param, ParamKind, Packet } from '../../src/wire/types.js';
import { CauseCode, ChunkType, ParamType } from '../../src/wire/registry.js';
import { formatIPv4, formatIPv6 } from '../../src/wire/address.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (maxLength = 24): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });
const list = <T>(a: fc.Arbitrary<T>, maxLength = 6): fc.Arbitrary<T[]> => fc.array(a, { maxLength });

const knownCauseCodes = new Set<number>(Object.values(CauseCode));
const knownParamTypes = new Set<number>(Object.values(ParamType));
const knownChunkTypes = new Set<number>(Object.values(ChunkType));

export const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIPv4(b));
export const ipv6 = fc
  .oneof(
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
    // Zero runs and IPv4-mapped forms exercise RFC 5952 compression.
    fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 16 })).map(
      ([b, from, n]) => b.fill(0, from, Math.min(16, from + n)),
    ),
    fc.uint8Array({ minLength: 4, maxLength: 4 }).map((v4) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4])),
  )
  .map((b) => formatIPv6(b));
export const address = fc.oneof(ipv4, ipv6);

export const causeArbs: { [K in ErrorCauseKind]: fc.Arbitrary<Extract<ErrorCause, { kind: K }>> } = {
  'invalid-stream-identifier': fc.record({ kind: fc.constant('invalid-stream-identifier'), streamId: u16 }),
  'missing-mandatory-parameter': fc.record({ kind: fc.constant('missing-mandatory-parameter'), missingTypes: list(u16) }),
  'stale-cookie': fc.record({ kind: fc.constant('stale-cookie'), staleness: u32 }),
  'out-of-resource': fc.constant({ kind: 'out-of-resource' }),
  'unresolvable-address': fc.record({ kind: fc.constant('unresolvable-address'), address: bytes() }),
  'unrecognized-chunk-type': fc.record({ kind: fc.constant('unrecognized-chunk-type'), chunk: bytes() }),
  'invalid-mandatory-parameter': fc.constant({ kind: 'invalid-mandatory-parameter' }),
  'unrecognized-parameters': fc.record({ kind: fc.constant('unrecognized-parameters'), params: bytes() }),
  'no-user-data': fc.record({ kind: fc.constant('no-user-data'), tsn: u32 }),
  'cookie-received-while-shutting-down': fc.constant({ kind: 'cookie-received-while-shutting-down' }),
  'restart-with-new-addresses': fc.record({ kind: fc.constant('restart-with-new-addresses'), addresses: bytes() }),
  'user-initiated-abort': fc.record({ kind: fc.constant('user-initiated-abort'), reason: bytes() }),
  'protocol-violation': fc.record({ kind: fc.constant('protocol-violation'), info: bytes() }),
  'request-to-delete-last-address': fc.record({ kind: fc.constant('request-to-delete-last-address'), request: bytes() }),
  'operation-refused-resource-shortage': fc.record({ kind: fc.constant('operation-refused-resource-shortage'), request: bytes() }),
  'request-to-delete-source-address': fc.record({ kind: fc.constant('request-to-delete-source-address'), request: bytes() }),
  'illegal-asconf-ack': fc.constant({ kind: 'illegal-asconf-ack' }),
  'request-refused-no-authorization': fc.record({ kind: fc.constant('request-refused-no-authorization'), request: bytes() }),
  'unsupported-hmac-identifier': fc.record({ kind: fc.constant('unsupported-hmac-identifier'), hmacId: u16 }),
  unknown: fc.record({ kind: fc.constant('unknown'), code: u16.filter((c) => !knownCauseCodes.has(c)), value: bytes() }),
};
export const cause: fc.Arbitrary<ErrorCause> = fc.oneof(...Object.values(causeArbs));
const causes = list(cause, 4);

const streams16 = list(u16, 8);
const hostName = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0'));
const reconfigResponse = fc.oneof(
  fc.record({ kind: fc.constant('reconfig-response'), responseSeq: u32, result: u32 }),
  fc.record({ kind: fc.constant('reconfig-response'), responseSeq: u32, result: u32, senderNextTsn: u32, receiverNextTsn: u32 }),
);

export const paramArbs: { [K in ParamKind]: fc.Arbitrary<Extract<Param, { kind: K }>> } = {
  'heartbeat-info': fc.record({ kind: fc.constant('heartbeat-info'), info: bytes() }),
  'ipv4-address': fc.record({ kind: fc.constant('ipv4-address'), address: ipv4 }),
  'ipv6-address': fc.record({ kind: fc.constant('ipv6-address'), address: ipv6 }),
  'state-cookie': fc.record({ kind: fc.constant('state-cookie'), cookie: bytes(40) }),
  'unrecognized-parameter': fc.record({ kind: fc.constant('unrecognized-parameter'), param: bytes() }),
  'cookie-preservative': fc.record({ kind: fc.constant('cookie-preservative'), lifeSpanIncrement: u32 }),
  'host-name-address': fc.record({ kind: fc.constant('host-name-address'), hostName }),
  'supported-address-types': fc.record({ kind: fc.constant('supported-address-types'), addressTypes: list(u16) }),
  'ecn-capable': fc.constant({ kind: 'ecn-capable' }),
  'forward-tsn-supported': fc.constant({ kind: 'forward-tsn-supported' }),
  random: fc.record({ kind: fc.constant('random'), random: bytes(32) }),
  'chunk-list': fc.record({ kind: fc.constant('chunk-list'), chunkTypes: list(u8) }),
  'hmac-algo': fc.record({ kind: fc.constant('hmac-algo'), hmacIds: list(u16) }),
  padding: fc.record({ kind: fc.constant('padding'), length: fc.integer({ min: 0, max: 40 }) }),
  'supported-extensions': fc.record({ kind: fc.constant('supported-extensions'), chunkTypes: list(u8) }),
  'add-ip-address': fc.record({ kind: fc.constant('add-ip-address'), correlationId: u32, address }),
  'delete-ip-address': fc.record({ kind: fc.constant('delete-ip-address'), correlationId: u32, address }),
  'set-primary-address': fc.record({ kind: fc.constant('set-primary-address'), correlationId: u32, address }),
  'error-cause-indication': fc.record({ kind: fc.constant('error-cause-indication'), correlationId: u32, causes }),
  'success-indication': fc.record({ kind: fc.constant('success-indication'), correlationId: u32 }),
  'adaptation-layer-indication': fc.record({ kind: fc.constant('adaptation-layer-indication'), indication: u32 }),
  'outgoing-ssn-reset-request': fc.record({
    kind: fc.constant('outgoing-ssn-reset-request'),
    requestSeq: u32,
    responseSeq: u32,
    senderLastTsn: u32,
    streams: streams16,
  }),
  'incoming-ssn-reset-request': fc.record({ kind: fc.constant('incoming-ssn-reset-request'), requestSeq: u32, streams: streams16 }),
  'ssn-tsn-reset-request': fc.record({ kind: fc.constant('ssn-tsn-reset-request'), requestSeq: u32 }),
  'reconfig-response': reconfigResponse,
  'add-outgoing-streams-request': fc.record({ kind: fc.constant('add-outgoing-streams-request'), requestSeq: u32, newStreams: u16 }),
  'add-incoming-streams-request': fc.record({ kind: fc.constant('add-incoming-streams-request'), requestSeq: u32, newStreams: u16 }),
  unknown: fc.record({ kind: fc.constant('unknown'), type: u16.filter((t) => !knownParamTypes.has(t)), value: bytes() }),
};
export const param: fc.Arbitrary<Param> = fc.oneof(...Object.values(paramArbs));
const params = list(param, 5);

const gap: fc.Arbitrary<GapBlock> = fc.record({ start: u16, end: u16 });
const dataFlags = { unordered: fc.boolean(), beginning: fc.boolean(), ending: fc.boolean(), immediate: fc.boolean() };
const initFields = { initiateTag: u32, aRwnd: u32, outboundStreams: u16, inboundStreams: u16, initialTsn: u32, params };

export const chunkArbs: { [K in ChunkKind]: fc.Arbitrary<Extract<Chunk, { kind: K }>> } = {
  data: fc.record({ kind: fc.constant('data'), tsn: u32, streamId: u16, ssn: u16, ppid: u32, userData: bytes(64), ...dataFlags }),
  idata: fc
    .record({ kind: fc.constant('idata'), tsn: u32, streamId: u16, mid: u32, ppid: u32, fsn: u32, userData: bytes(64), ...dataFlags })
    .map((c) => (c.beginning ? { ...c, fsn: 0 } : { ...c, ppid: 0 })),
  init: fc.record({ kind: fc.constant('init'), ...initFields }),
  'init-ack': fc.record({ kind: fc.constant('init-ack'), ...initFields }),
  sack: fc.record({ kind: fc.constant('sack'), cumulativeTsnAck: u32, aRwnd: u32, gapBlocks: list(gap, 8), duplicateTsns: list(u32) }),
  'nr-sack': fc.record({
    kind: fc.constant('nr-sack'),
    allNonRenegable: fc.boolean(),
    cumulativeTsnAck: u32,
    aRwnd: u32,
    gapBlocks: list(gap),
    nrGapBlocks: list(gap),
    duplicateTsns: list(u32),
  }),
  heartbeat: fc.record({ kind: fc.constant('heartbeat'), info: bytes(40) }),
  'heartbeat-ack': fc.record({ kind: fc.constant('heartbeat-ack'), info: bytes(40) }),
  abort: fc.record({ kind: fc.constant('abort'), tBit: fc.boolean(), causes }),
  shutdown: fc.record({ kind: fc.constant('shutdown'), cumulativeTsnAck: u32 }),
  'shutdown-ack': fc.constant({ kind: 'shutdown-ack' }),
  error: fc.record({ kind: fc.constant('error'), causes }),
  'cookie-echo': fc.record({ kind: fc.constant('cookie-echo'), cookie: bytes(64) }),
  'cookie-ack': fc.constant({ kind: 'cookie-ack' }),
  ecne: fc.record({ kind: fc.constant('ecne'), lowestTsn: u32 }),
  cwr: fc.record({ kind: fc.constant('cwr'), lowestTsn: u32 }),
  'shutdown-complete': fc.record({ kind: fc.constant('shutdown-complete'), tBit: fc.boolean() }),
  auth: fc.record({ kind: fc.constant('auth'), sharedKeyId: u16, hmacId: u16, hmac: bytes(32) }),
  'asconf-ack': fc.record({ kind: fc.constant('asconf-ack'), serial: u32, params }),
  're-config': fc.record({ kind: fc.constant('re-config'), params }),
  pad: fc.record({ kind: fc.constant('pad'), length: fc.integer({ min: 0, max: 64 }) }),
  'forward-tsn': fc.record({
    kind: fc.constant('forward-tsn'),
    newCumulativeTsn: u32,
    streams: list(fc.record({ streamId: u16, ssn: u16 })),
  }),
  asconf: fc.record({ kind: fc.constant('asconf'), serial: u32, address, params }),
  'i-forward-tsn': fc.record({
    kind: fc.constant('i-forward-tsn'),
    newCumulativeTsn: u32,
    streams: list(fc.record({ streamId: u16, unordered: fc.boolean(), mid: u32 })),
  }),
  unknown: fc.record({
    kind: fc.constant('unknown'),
    type: u8.filter((t) => !knownChunkTypes.has(t)),
    flags: u8,
    value: bytes(),
  }),
};
export const chunk: fc.Arbitrary<Chunk> = fc.oneof(...Object.values(chunkArbs));

export const packet: fc.Arbitrary<Packet> = fc.record({
  sourcePort: u16,
  destinationPort: u16,
  verificationTag: u32,
  chunks: list(chunk, 4),
});
