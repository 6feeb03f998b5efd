/**
 * One realistic example of every chunk kind the codec supports, each as it
 * would appear on the wire between two RFC-conforming stacks. Shared by the
 * tshark cross-check and by anything that wants "every kind".
 */
import type { Chunk, ChunkKind, ErrorCause } from '../../src/wire/types.js';

const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

const causes: ErrorCause[] = [
  { kind: 'invalid-stream-identifier', streamId: 7 },
  { kind: 'missing-mandatory-parameter', missingTypes: [7] },
  { kind: 'stale-cookie', staleness: 1500 },
  { kind: 'out-of-resource' },
  { kind: 'unrecognized-chunk-type', chunk: Uint8Array.of(0x4f, 0, 0, 4) },
  { kind: 'invalid-mandatory-parameter' },
  { kind: 'no-user-data', tsn: 1001 },
  { kind: 'cookie-received-while-shutting-down' },
  { kind: 'protocol-violation', info: text('bad sack') },
];

export const sampleChunks: { readonly [K in Exclude<ChunkKind, 'unknown'>]: Extract<Chunk, { kind: K }> } = {
  data: { kind: 'data', tsn: 1000, streamId: 1, ssn: 5, ppid: 0, userData: bytes(100), unordered: false, beginning: true, ending: true, immediate: false },
  idata: { kind: 'idata', tsn: 1001, streamId: 2, mid: 9, ppid: 0, fsn: 0, userData: bytes(40), unordered: true, beginning: true, ending: false, immediate: true },
  init: {
    kind: 'init', initiateTag: 0x1234_5678, aRwnd: 131072, outboundStreams: 10, inboundStreams: 65535, initialTsn: 0xffff_fff0,
    params: [
      { kind: 'ipv4-address', address: '10.0.0.1' },
      { kind: 'ipv4-address', address: '10.0.1.1' },
      { kind: 'ipv6-address', address: 'fd00::1' },
      { kind: 'supported-address-types', addressTypes: [5, 6] },
      { kind: 'ecn-capable' },
      { kind: 'forward-tsn-supported' },
      { kind: 'supported-extensions', chunkTypes: [0xc0, 0xc1, 0x80, 0x82, 0x0f, 0x40, 0xc2] },
      { kind: 'random', random: bytes(32, 7) },
      { kind: 'chunk-list', chunkTypes: [0xc1, 0x80] },
      { kind: 'hmac-algo', hmacIds: [3, 1] },
      { kind: 'adaptation-layer-indication', indication: 0xdead_beef },
      { kind: 'cookie-preservative', lifeSpanIncrement: 5000 },
    ],
  },
  'init-ack': {
    kind: 'init-ack', initiateTag: 0x8765_4321, aRwnd: 65536, outboundStreams: 10, inboundStreams: 10, initialTsn: 42,
    params: [
      { kind: 'state-cookie', cookie: bytes(64, 3) },
      { kind: 'ipv4-address', address: '10.0.0.2' },
      { kind: 'unrecognized-parameter', param: Uint8Array.of(0x80, 0x0a, 0, 4) },
      { kind: 'forward-tsn-supported' },
    ],
  },
  sack: {
    kind: 'sack', cumulativeTsnAck: 999, aRwnd: 120000,
    gapBlocks: [{ start: 2, end: 3 }, { start: 5, end: 9 }], duplicateTsns: [997, 998],
  },
  'nr-sack': {
    kind: 'nr-sack', allNonRenegable: false, cumulativeTsnAck: 999, aRwnd: 120000,
    gapBlocks: [{ start: 2, end: 3 }], nrGapBlocks: [{ start: 5, end: 6 }], duplicateTsns: [],
  },
  heartbeat: { kind: 'heartbeat', info: bytes(24, 9) },
  'heartbeat-ack': { kind: 'heartbeat-ack', info: bytes(24, 9) },
  abort: { kind: 'abort', tBit: false, causes: [{ kind: 'user-initiated-abort', reason: text('operator request') }] },
  shutdown: { kind: 'shutdown', cumulativeTsnAck: 1234 },
  'shutdown-ack': { kind: 'shutdown-ack' },
  error: { kind: 'error', causes },
  'cookie-echo': { kind: 'cookie-echo', cookie: bytes(64, 3) },
  'cookie-ack': { kind: 'cookie-ack' },
  ecne: { kind: 'ecne', lowestTsn: 1003 },
  cwr: { kind: 'cwr', lowestTsn: 1003 },
  'shutdown-complete': { kind: 'shutdown-complete', tBit: true },
  auth: { kind: 'auth', sharedKeyId: 0, hmacId: 3, hmac: bytes(32, 5) },
  'asconf-ack': {
    kind: 'asconf-ack', serial: 77,
    params: [
      { kind: 'success-indication', correlationId: 1 },
      { kind: 'error-cause-indication', correlationId: 2, causes: [{ kind: 'request-to-delete-last-address', request: Uint8Array.of(0xc0, 0x02, 0, 16, 0, 0, 0, 2, 0, 5, 0, 8, 10, 0, 0, 1) }] },
    ],
  },
  're-config': {
    kind: 're-config',
    params: [
      { kind: 'outgoing-ssn-reset-request', requestSeq: 10, responseSeq: 20, senderLastTsn: 999, streams: [1, 2, 3] },
      { kind: 'incoming-ssn-reset-request', requestSeq: 11, streams: [4] },
    ],
  },
  pad: { kind: 'pad', length: 100 },
  'forward-tsn': { kind: 'forward-tsn', newCumulativeTsn: 1005, streams: [{ streamId: 1, ssn: 6 }, { streamId: 3, ssn: 0 }] },
  asconf: {
    kind: 'asconf', serial: 77, address: '10.0.0.1',
    params: [
      { kind: 'add-ip-address', correlationId: 1, address: '10.0.2.1' },
      { kind: 'delete-ip-address', correlationId: 2, address: '10.0.1.1' },
      { kind: 'set-primary-address', correlationId: 3, address: '10.0.2.1' },
    ],
  },
  'i-forward-tsn': { kind: 'i-forward-tsn', newCumulativeTsn: 1005, streams: [{ streamId: 2, unordered: true, mid: 9 }] },
};

/** Extra samples for parameters and causes that the chunks above do not carry. */
export const extraChunks: readonly Chunk[] = [
  {
    kind: 're-config',
    params: [
      { kind: 'ssn-tsn-reset-request', requestSeq: 12 },
    ],
  },
  {
    kind: 're-config',
    params: [{ kind: 'reconfig-response', responseSeq: 10, result: 1, senderNextTsn: 2000, receiverNextTsn: 3000 }],
  },
  { kind: 're-config', params: [{ kind: 'add-outgoing-streams-request', requestSeq: 13, newStreams: 5 }] },
  { kind: 're-config', params: [{ kind: 'add-incoming-streams-request', requestSeq: 14, newStreams: 5 }] },
  { kind: 'abort', tBit: true, causes: [{ kind: 'unsupported-hmac-identifier', hmacId: 2 }] },
  {
    kind: 'init', initiateTag: 1, aRwnd: 1500, outboundStreams: 1, inboundStreams: 1, initialTsn: 1,
    params: [{ kind: 'host-name-address', hostName: 'sgw1.example.net' }, { kind: 'padding', length: 16 }],
  },
  { kind: 'error', causes: [{ kind: 'restart-with-new-addresses', addresses: Uint8Array.of(0, 5, 0, 8, 10, 9, 9, 9) }] },
  { kind: 'error', causes: [{ kind: 'unresolvable-address', address: Uint8Array.of(0, 11, 0, 8, 0x61, 0x62, 0x63, 0) }] },
  { kind: 'error', causes: [{ kind: 'unrecognized-parameters', params: Uint8Array.of(0x80, 0x0a, 0, 4) }] },
  { kind: 'heartbeat', info: new Uint8Array(0) },
  { kind: 'unknown', type: 0x4f, flags: 0x05, value: Uint8Array.of(1, 2, 3, 4, 5) },
];
