/**
 * Readable tables for the inspection commands (`assocs`, `assoc ID`,
 * `cluster`, `watch`). Pure functions of the JSON the control socket returns,
 * so what the table shows is exactly what --json prints.
 */
import type { AssocDetail, AssocRow, ReplicationView } from './inspect.js';

/** Left-aligned columns, two spaces apart; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number | undefined)[])[]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === undefined || typeof r[i] === 'number'));
  const width = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}

export function ms(v: number | undefined): string | undefined {
  if (v === undefined) return undefined;
  return v >= 100 ? String(Math.round(v)) : v.toFixed(1);
}

export function replicationText(r: ReplicationView): string {
  switch (r.state) {
    case 'none':
      return 'not replicated';
    case 'in-sync':
      return r.role === 'standby' ? 'standby copy (ready)' : `in sync, lag ${r.lagRecords}`;
    case 'joining':
      return r.role === 'standby' ? 'standby copy (joining)' : `joining, lag ${r.lagRecords}`;
    case 'unprotected':
      return r.role === 'standby' ? 'standby copy (not ready)' : 'UNPROTECTED';
  }
}

/** Peer addresses with the primary marked `*` and a path not ACTIVE marked with its state. */
export function peersText(a: AssocRow): string {
  const list = a.paths.length > 0 ? a.paths : a.peerAddresses.map((address) => ({ address, state: 'ACTIVE' as const }));
  const addrs = list.map((p) => `${p.address === a.primary ? '*' : ''}${p.address}${p.state === 'ACTIVE' ? '' : `(${p.state})`}`);
  return `${addrs.join(',')}:${a.peerPort}`;
}

export const ASSOC_COLUMNS = ['ID', 'STATE', 'LOCAL', 'PEER (*primary)', 'STREAMS', 'UNACKED', 'PEER-RWND', 'CWND', 'SRTT', 'RTO', 'REPLICATION'] as const;

export function assocCells(a: AssocRow): (string | number | undefined)[] {
  return [
    a.id,
    a.state,
    `${a.localAddresses.join(',')}:${a.localPort}`,
    peersText(a),
    a.inStreams === undefined ? undefined : `${a.inStreams}/${a.outStreams ?? '-'}`,
    a.unackedBytes,
    a.peerRwnd,
    a.cwnd,
    ms(a.srtt),
    ms(a.rto),
    replicationText(a.replication),
  ];
}

export function assocsTable(rows: readonly AssocRow[]): string {
  if (rows.length === 0) return 'no associations';
  return table(ASSOC_COLUMNS, rows.map(assocCells));
}

const hex = (v: number | undefined): string => (v === undefined ? '-' : `0x${(v >>> 0).toString(16).padStart(8, '0')}`);

export function assocDetailText(a: AssocDetail): string {
  const e = a.extensions;
  const out: string[] = [];
  out.push(
    `association ${a.id}: ${a.state}${a.upForMs === undefined ? '' : `, up ${(a.upForMs / 1000).toFixed(1)} s`}, replication: ${replicationText(a.replication)}`,
    `  local ${a.localAddresses.join(',')}:${a.localPort} tag ${hex(a.localTag)}; peer ${peersText(a)} tag ${hex(a.peerTag)}`,
    `  streams in ${a.inStreams ?? '-'} out ${a.outStreams ?? '-'}; next TSN ${a.nextTsn ?? '-'}, cum TSN ack sent ${a.cumulativeTsnAckSent ?? '-'}, received ${a.cumulativeTsnAckReceived ?? '-'}`,
    `  outstanding ${a.outstandingChunks} chunks (${a.unackedBytes} bytes, ${a.flightSize} in flight); send queue ${a.sendQueueBytes} bytes; receive buffer ${a.receiveBufferBytes} bytes; peer rwnd ${a.peerRwnd ?? '-'}; error count ${a.errorCount}`,
    `  extensions: PR-SCTP ${e.prSctp ? 'yes' : 'no'}, I-DATA ${e.interleaving ? 'yes' : 'no'}, AUTH ${e.auth ? `${e.auth.hmac} key ${e.auth.keyId}` : 'no'}, ADD-IP ${e.addIp ? `yes (${e.asconfPending} pending)` : 'no'}` +
      `${e.peerAdaptation === undefined ? '' : `, adaptation 0x${e.peerAdaptation.toString(16)}`}; peer supports chunk types [${e.peerSupportedChunks.join(', ')}]`,
    '',
    'paths (times in ms):',
    table(
      ['ADDRESS', 'STATE', 'PRI', 'CWND', 'SSTHRESH', 'SRTT', 'RTTVAR', 'RTO', 'ERRORS', 'FLIGHT', 'HB-AGE', 'HEARD', 'PMTU', 'RTX', 'HB-SENT', 'HB-ACKED'],
      a.pathTable.map((p) => [p.address, p.state, p.primary ? '*' : '', p.cwnd, p.ssthresh, ms(p.srtt), ms(p.rttvar), ms(p.rto), p.errorCount, p.flightSize, ms(p.heartbeatAgeMs), ms(p.lastHeardAgeMs), p.pmtu, p.rtxChunks, p.heartbeatsSent, p.heartbeatsAcked]),
    ),
    '',
  );
  if (a.streams.length === 0) out.push('streams: none used yet');
  else {
    out.push(
      'streams:',
      table(
        ['STREAM', 'OUT-NEXT-SSN', 'OUT-QUEUED', 'OUT-BYTES', 'IN-NEXT-SSN', 'IN-PENDING'],
        a.streams.map((s) => [s.stream, s.outNextSsn, s.outQueuedMessages, s.outQueuedBytes, s.inNextSsn, s.inPendingMessages]),
      ),
    );
  }
  out.push('', 'counters (SCTP-MIB, RFC 3873):');
  const entries = Object.entries(a.mib).filter(([k]) => k !== 'sctpAssocStartTime');
  for (let i = 0; i < entries.length; i += 4) out.push(`  ${entries.slice(i, i + 4).map(([k, v]) => `${k} ${String(v)}`.padEnd(30)).join('').trimEnd()}`);
  return out.join('\n');
}

const after = (v: unknown, sign = ''): string => (typeof v === 'number' ? `${sign}${ms(v)} ms` : 'not yet');

/** What `hasctp cluster` prints from a node's status. */
export function clusterText(s: Record<string, unknown>): string {
  const link = (s['link'] ?? {}) as Record<string, unknown>;
  const peer = s['peer'] as { node: string; role: string; epoch: number; appliedSeq: number; ageMs: number } | undefined;
  const f = s['lastFailover'] as Record<string, unknown> | undefined;
  const rep = (s['replication'] ?? {}) as Record<string, number>;
  const rows: (string | number | undefined)[][] = [
    [String(s['node']), 'this node', String(s['role']), s['epoch'] as number, s['appliedSeq'] as number, String(s['protection'])],
  ];
  if (peer) rows.push([peer.node, `heard ${peer.ageMs} ms ago`, peer.role, peer.epoch, peer.appliedSeq, '']);
  const ck = s['checkpoint'] as { state: string; reason: string; server: string; acknowledgedSeq: number } | undefined;
  const nAssoc = s['associations'] as number;
  const prot = String(s['protection']);
  return [
    table(['NODE', 'SEEN', 'ROLE', 'EPOCH', 'APPLIED-RECORD', 'PROTECTION'], rows),
    '',
    `cluster link: ${link['up'] === true ? 'up' : 'DOWN'}${s['linkRttMs'] === undefined ? '' : `, heartbeat round trip ${ms(s['linkRttMs'] as number)} ms`}; ${String(link['framesOut'] ?? 0)} frames out, ${String(link['framesIn'] ?? 0)} in, ${String(link['rejected'] ?? 0)} rejected, ${String(link['disconnects'] ?? 0)} disconnects`,
    `associations: ${nAssoc}, ${s['role'] === 'primary' ? (prot === 'in-sync' ? `${nAssoc} in sync on the standby` : `${prot === 'joining' ? 'standby joining' : 'UNPROTECTED'}`) : prot === 'in-sync' ? `${nAssoc} in sync (ready to take over)` : 'copy not ready'}; replication lag ${String(s['lagRecords'])} records`,
    `replication: ${rep['recordsSent'] ?? 0} records sent, ${rep['recordsApplied'] ?? 0} applied, ${rep['fullSyncsSent'] ?? 0} full syncs sent, ${rep['promotions'] ?? 0} promotions, ${rep['demotions'] ?? 0} demotions, unprotected ${rep['unprotected'] ?? 0} time(s)`,
    f
      ? `last failover: ${String(f['reason'])} at ${new Date(f['at'] as number).toISOString()}; detection ${after(f['detectionMs'])}, first packet out ${after(f['firstPacketOutMs'], '+')}, first SACK in ${after(f['firstSackInMs'], '+')}`
      : 'last failover: none on this node',
    ...(ck ? [`checkpoint: ${ck.state} (${ck.reason}); server ${ck.server}, acknowledged record ${ck.acknowledgedSeq}`] : []),
  ].join('\n');
}
