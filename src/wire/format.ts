/**
 * One-line text for packets, chunks, parameters and causes: what `hasctp decode`
 * prints, what logs carry, what test failures show. Compact and stable, in the
 * spirit of tcpdump: `DATA tsn=… sid=… ssn=… ppid=… len=… [B E]`.
 */
import type { Chunk, DecodedPacket, ErrorCause, GapBlock, Param } from './types.js';
import { ChunkType, ppidName } from './registry.js';
import { toHex, utf8 } from './bytes.js';

const chunkNames = new Map<number, string>(
  Object.entries(ChunkType).map(([name, n]) => [n, name.replace(/_/g, '-')]),
);

/** Registry name of a chunk type (`FORWARD-TSN`), or `0xNN`. */
export function chunkTypeName(type: number): string {
  return chunkNames.get(type) ?? `0x${type.toString(16).padStart(2, '0')}`;
}

const hmacNames: Record<number, string> = { 1: 'sha1', 3: 'sha256' };
const addrTypeNames: Record<number, string> = { 5: 'v4', 6: 'v6', 11: 'host' };

function bytesBrief(label: string, b: Uint8Array): string {
  return `${label}(${b.length}B)`;
}

function gaps(blocks: readonly GapBlock[]): string {
  return `[${blocks.map((g) => `${g.start}-${g.end}`).join(',')}]`;
}

function flagList(flags: readonly [boolean, string][]): string {
  const on = flags.filter(([set]) => set).map(([, name]) => name);
  return on.length ? ` [${on.join(' ')}]` : '';
}

function ppidText(ppid: number): string {
  const name = ppidName(ppid);
  return name ? `${ppid}(${name})` : `${ppid}`;
}

export function formatCause(c: ErrorCause): string {
  switch (c.kind) {
    case 'invalid-stream-identifier':
      return `invalid-stream sid=${c.streamId}`;
    case 'missing-mandatory-parameter':
      return `missing-param [${c.missingTypes.join(',')}]`;
    case 'stale-cookie':
      return `stale-cookie staleness=${c.staleness}us`;
    case 'unresolvable-address':
      return bytesBrief('unresolvable-address', c.address);
    case 'unrecognized-chunk-type':
      return c.chunk.length ? `unrecognized-chunk ${chunkTypeName(c.chunk[0]!)}` : 'unrecognized-chunk';
    case 'unrecognized-parameters':
      return bytesBrief('unrecognized-params', c.params);
    case 'no-user-data':
      return `no-user-data tsn=${c.tsn}`;
    case 'restart-with-new-addresses':
      return bytesBrief('restart-new-addresses', c.addresses);
    case 'user-initiated-abort':
      return c.reason.length ? `user-abort "${printable(c.reason)}"` : 'user-abort';
    case 'protocol-violation':
      return c.info.length ? `protocol-violation "${printable(c.info)}"` : 'protocol-violation';
    case 'request-to-delete-last-address':
    case 'operation-refused-resource-shortage':
    case 'request-to-delete-source-address':
    case 'request-refused-no-authorization':
      return c.kind;
    case 'unsupported-hmac-identifier':
      return `unsupported-hmac id=${c.hmacId}`;
    case 'out-of-resource':
    case 'invalid-mandatory-parameter':
    case 'cookie-received-while-shutting-down':
    case 'illegal-asconf-ack':
      return c.kind;
    case 'unknown':
      return `cause-0x${c.code.toString(16)}(${c.value.length}B)`;
  }
}

function printable(b: Uint8Array): string {
  const s = utf8(b.subarray(0, 64));
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f"\\\u007f-\u009f]/g, '.');
}

export function formatParam(p: Param): string {
  switch (p.kind) {
    case 'heartbeat-info':
      return bytesBrief('hb-info', p.info);
    case 'ipv4-address':
      return p.address;
    case 'ipv6-address':
      return p.address;
    case 'state-cookie':
      return bytesBrief('cookie', p.cookie);
    case 'unrecognized-parameter':
      return bytesBrief('unrecognized', p.param);
    case 'cookie-preservative':
      return `preserve+${p.lifeSpanIncrement}ms`;
    case 'host-name-address':
      return `host=${p.hostName}`;
    case 'supported-address-types':
      return `addr-types=[${p.addressTypes.map((t) => addrTypeNames[t] ?? t).join(',')}]`;
    case 'ecn-capable':
      return 'ecn';
    case 'forward-tsn-supported':
      return 'fwd-tsn';
    case 'random':
      return bytesBrief('random', p.random);
    case 'chunk-list':
      return `auth-chunks=[${p.chunkTypes.map(chunkTypeName).join(',')}]`;
    case 'hmac-algo':
      return `hmac=[${p.hmacIds.map((h) => hmacNames[h] ?? h).join(',')}]`;
    case 'padding':
      return `padding(${p.length}B)`;
    case 'supported-extensions':
      return `ext=[${p.chunkTypes.map(chunkTypeName).join(',')}]`;
    case 'add-ip-address':
      return `add ${p.address}`;
    case 'delete-ip-address':
      return `delete ${p.address}`;
    case 'set-primary-address':
      return `set-primary ${p.address}`;
    case 'error-cause-indication':
      return `error#${p.correlationId} (${p.causes.map(formatCause).join('; ')})`;
    case 'success-indication':
      return `success#${p.correlationId}`;
    case 'adaptation-layer-indication':
      return `adaptation=0x${p.indication.toString(16)}`;
    case 'outgoing-ssn-reset-request':
      return `out-reset req=${p.requestSeq} resp=${p.responseSeq} last-tsn=${p.senderLastTsn} sids=[${p.streams.join(',')}]`;
    case 'incoming-ssn-reset-request':
      return `in-reset req=${p.requestSeq} sids=[${p.streams.join(',')}]`;
    case 'ssn-tsn-reset-request':
      return `ssn-tsn-reset req=${p.requestSeq}`;
    case 'reconfig-response':
      return p.senderNextTsn === undefined
        ? `reconfig-resp seq=${p.responseSeq} result=${p.result}`
        : `reconfig-resp seq=${p.responseSeq} result=${p.result} snd-next=${p.senderNextTsn} rcv-next=${p.receiverNextTsn}`;
    case 'add-outgoing-streams-request':
      return `add-out-streams req=${p.requestSeq} n=${p.newStreams}`;
    case 'add-incoming-streams-request':
      return `add-in-streams req=${p.requestSeq} n=${p.newStreams}`;
    case 'unknown':
      return `param-0x${p.type.toString(16).padStart(4, '0')}(${p.value.length}B)`;
  }
}

function params(ps: readonly Param[]): string {
  return `[${ps.map(formatParam).join(', ')}]`;
}

export function formatChunk(c: Chunk): string {
  switch (c.kind) {
    case 'data':
      return (
        `DATA tsn=${c.tsn} sid=${c.streamId} ssn=${c.ssn} ppid=${ppidText(c.ppid)} len=${c.userData.length}` +
        flagList([[c.beginning, 'B'], [c.ending, 'E'], [c.unordered, 'U'], [c.immediate, 'I']])
      );
    case 'idata':
      return (
        `I-DATA tsn=${c.tsn} sid=${c.streamId} mid=${c.mid} ` +
        (c.beginning ? `ppid=${ppidText(c.ppid)}` : `fsn=${c.fsn}`) +
        ` len=${c.userData.length}` +
        flagList([[c.beginning, 'B'], [c.ending, 'E'], [c.unordered, 'U'], [c.immediate, 'I']])
      );
    case 'init':
    case 'init-ack':
      return (
        `${c.kind === 'init' ? 'INIT' : 'INIT-ACK'} tag=0x${c.initiateTag.toString(16).padStart(8, '0')} ` +
        `a_rwnd=${c.aRwnd} os=${c.outboundStreams} mis=${c.inboundStreams} itsn=${c.initialTsn} params=${params(c.params)}`
      );
    case 'sack':
      return `SACK cum=${c.cumulativeTsnAck} a_rwnd=${c.aRwnd} gaps=${gaps(c.gapBlocks)} dups=[${c.duplicateTsns.join(',')}]`;
    case 'nr-sack':
      return (
        `NR-SACK cum=${c.cumulativeTsnAck} a_rwnd=${c.aRwnd} gaps=${gaps(c.gapBlocks)} ` +
        `nr-gaps=${gaps(c.nrGapBlocks)} dups=[${c.duplicateTsns.join(',')}]` + flagList([[c.allNonRenegable, 'A']])
      );
    case 'heartbeat':
      return `HEARTBEAT info=${c.info.length}B`;
    case 'heartbeat-ack':
      return `HEARTBEAT-ACK info=${c.info.length}B`;
    case 'abort':
      return `ABORT${flagList([[c.tBit, 'T']])}${c.causes.length ? ` (${c.causes.map(formatCause).join('; ')})` : ''}`;
    case 'shutdown':
      return `SHUTDOWN cum=${c.cumulativeTsnAck}`;
    case 'shutdown-ack':
      return 'SHUTDOWN-ACK';
    case 'shutdown-complete':
      return `SHUTDOWN-COMPLETE${flagList([[c.tBit, 'T']])}`;
    case 'error':
      return `ERROR (${c.causes.map(formatCause).join('; ')})`;
    case 'cookie-echo':
      return `COOKIE-ECHO cookie=${c.cookie.length}B`;
    case 'cookie-ack':
      return 'COOKIE-ACK';
    case 'ecne':
      return `ECNE lowest-tsn=${c.lowestTsn}`;
    case 'cwr':
      return `CWR lowest-tsn=${c.lowestTsn}`;
    case 'auth':
      return `AUTH key=${c.sharedKeyId} hmac=${hmacNames[c.hmacId] ?? c.hmacId} mac=${toHex(c.hmac.subarray(0, 4))}…`;
    case 'asconf':
      return `ASCONF serial=${c.serial} addr=${c.address} ${params(c.params)}`;
    case 'asconf-ack':
      return `ASCONF-ACK serial=${c.serial} ${params(c.params)}`;
    case 're-config':
      return `RE-CONFIG ${params(c.params)}`;
    case 'pad':
      return `PAD len=${c.length}`;
    case 'forward-tsn':
      return `FORWARD-TSN new-cum=${c.newCumulativeTsn} [${c.streams.map((s) => `${s.streamId}:${s.ssn}`).join(',')}]`;
    case 'i-forward-tsn':
      return (
        `I-FORWARD-TSN new-cum=${c.newCumulativeTsn} ` +
        `[${c.streams.map((s) => `${s.streamId}${s.unordered ? 'u' : ''}:${s.mid}`).join(',')}]`
      );
    case 'unknown':
      return `${chunkTypeName(c.type)} flags=0x${c.flags.toString(16).padStart(2, '0')} len=${c.value.length}`;
  }
}

/** `sport > dport vtag=0x… [crc32c] CHUNK; CHUNK`. */
export function formatPacket(p: DecodedPacket): string {
  const check = p.checksumStatus === 'crc32c' ? '' : ` [checksum ${p.checksumStatus}]`;
  return (
    `${p.sourcePort} > ${p.destinationPort} vtag=0x${p.verificationTag.toString(16).padStart(8, '0')}${check} ` +
    p.chunks.map(formatChunk).join('; ')
  );
}
