/**
 * Prometheus text exposition (format 0.0.4) of a hasctp process, served by
 * `--metrics ADDR:PORT` on GET /metrics: SCTP-MIB (RFC 3873) counters as
 * totals and per association, per-path gauges, and on a cluster node the
 * role, epoch, replication lag and failover counts. Times are in seconds.
 */
import { createServer, type Server } from 'node:http';
import type { AssocDetail, EndpointMib } from './inspect.js';

export interface ClusterMetrics {
  readonly role: string;
  readonly epoch: number;
  readonly protection: string;
  readonly lagRecords: number;
  readonly linkUp: boolean;
  readonly linkRttMs: number | undefined;
  readonly counters: Readonly<Record<string, number>>;
  readonly lastFailover: { readonly detectionMs: number | undefined; readonly firstPacketOutMs: number | undefined; readonly firstSackInMs: number | undefined } | undefined;
}

export interface MetricsInput {
  readonly process: string;
  readonly name: string;
  readonly endpoint: EndpointMib;
  readonly totals: Readonly<Record<string, number>>;
  readonly associations: readonly AssocDetail[];
  readonly cluster?: ClusterMetrics;
}

type Labels = Readonly<Record<string, string | number>>;

/** Builds the text: one HELP/TYPE per family, samples grouped under it. */
class Exposition {
  private readonly families = new Map<string, { help: string; type: string; samples: string[] }>();

  add(name: string, type: 'counter' | 'gauge', help: string, value: number | undefined, labels: Labels = {}): void {
    if (value === undefined || !Number.isFinite(value)) return;
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { help, type, samples: [] }));
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabel(String(v))}"`)
      .join(',');
    f.samples.push(`${name}${l === '' ? '' : `{${l}}`} ${formatValue(value)}`);
  }

  text(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${f.type}`, ...f.samples);
    }
    return `${out.join('\n')}\n`;
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '');
}

const sec = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

/** Per-association and total chunk/packet counters: [metric suffix, MIB key, help, extra labels]. */
const CHUNK_COUNTERS: readonly (readonly [string, string, string, Labels])[] = [
  ['out_packets_total', 'sctpOutSCTPPacks', 'SCTP packets sent (sctpOutSCTPPacks)', {}],
  ['in_packets_total', 'sctpInSCTPPacks', 'SCTP packets received (sctpInSCTPPacks)', {}],
  ['out_chunks_total', 'sctpOutCtrlChunks', 'chunks sent by kind (sctpOutCtrlChunks, sctpOutOrderChunks, sctpOutUnorderChunks)', { kind: 'control' }],
  ['out_chunks_total', 'sctpOutOrderChunks', '', { kind: 'ordered' }],
  ['out_chunks_total', 'sctpOutUnorderChunks', '', { kind: 'unordered' }],
  ['in_chunks_total', 'sctpInCtrlChunks', 'chunks received by kind (sctpInCtrlChunks, sctpInOrderChunks, sctpInUnorderChunks)', { kind: 'control' }],
  ['in_chunks_total', 'sctpInOrderChunks', '', { kind: 'ordered' }],
  ['in_chunks_total', 'sctpInUnorderChunks', '', { kind: 'unordered' }],
  ['retransmitted_chunks_total', 'sctpAssocRtxChunks', 'DATA chunks retransmitted (sctpAssocRtxChunks)', {}],
  ['t1_expired_total', 'sctpAssocT1expireds', 'T1-init and T1-cookie expiries (sctpAssocT1expireds)', {}],
  ['t2_expired_total', 'sctpAssocT2expireds', 'T2-shutdown expiries (sctpAssocT2expireds)', {}],
  ['t3_expired_total', 't3Expireds', 'T3-rtx expiries', {}],
  ['delivered_messages_total', 'sctpReasmUsrMsgs', 'messages delivered to the application (sctpReasmUsrMsgs)', {}],
  ['duplicate_chunks_total', 'inDuplicateChunks', 'DATA chunks received more than once', {}],
  ['sacks_sent_total', 'sacksSent', 'SACK chunks sent', {}],
  ['sacks_received_total', 'sacksReceived', 'SACK chunks received', {}],
];

export function renderMetrics(m: MetricsInput): string {
  const x = new Exposition();
  x.add('hasctp_info', 'gauge', 'the process: kind (server or node) and name', 1, { process: m.process, name: m.name });
  const e = m.endpoint;
  x.add('hasctp_current_established', 'gauge', 'associations in ESTABLISHED, SHUTDOWN-PENDING or SHUTDOWN-RECEIVED (sctpCurrEstab)', e.sctpCurrEstab);
  x.add('hasctp_associations', 'gauge', 'associations in any state', m.associations.length);
  x.add('hasctp_active_establishments_total', 'counter', 'COOKIE-ECHOED to ESTABLISHED (sctpActiveEstabs)', e.sctpActiveEstabs);
  x.add('hasctp_passive_establishments_total', 'counter', 'CLOSED to ESTABLISHED (sctpPassiveEstabs)', e.sctpPassiveEstabs);
  x.add('hasctp_aborted_total', 'counter', 'associations closed by an ABORT sent or received (sctpAborteds)', e.sctpAborteds);
  x.add('hasctp_shutdowns_total', 'counter', 'associations closed by the shutdown procedure (sctpShutdowns)', e.sctpShutdowns);
  x.add('hasctp_out_of_blue_packets_total', 'counter', 'out-of-the-blue packets received (sctpOutOfBlues)', e.sctpOutOfBlues);
  x.add('hasctp_checksum_errors_total', 'counter', 'packets with a bad CRC32c (sctpChecksumErrors)', e.sctpChecksumErrors);
  x.add('hasctp_discarded_packets_total', 'counter', 'packets discarded for another decode error or a wrong port', e.discardedPackets);
  for (const [suffix, key, help, labels] of CHUNK_COUNTERS) x.add(`hasctp_${suffix}`, 'counter', `${help || 'see above'}, all associations of this process`, m.totals[key], labels);

  for (const a of m.associations) {
    // Only the id labels the series: a primary that moves must not start new ones.
    const L = { assoc: a.id };
    x.add('hasctp_assoc_state', 'gauge', 'the association state and primary peer address (1 for the current ones)', 1, { ...L, state: a.state, peer: a.primary ?? '' });
    x.add('hasctp_assoc_protected', 'gauge', '1 when a standby holds an in-sync copy of the association', a.replication.state === 'in-sync' ? 1 : 0, L);
    x.add('hasctp_assoc_unacked_bytes', 'gauge', 'user bytes sent and not acknowledged', a.unackedBytes, L);
    x.add('hasctp_assoc_peer_rwnd_bytes', 'gauge', "the peer's receive window as estimated", a.peerRwnd, L);
    x.add('hasctp_assoc_send_queue_bytes', 'gauge', 'user bytes queued, not yet sent', a.sendQueueBytes, L);
    x.add('hasctp_assoc_receive_buffer_bytes', 'gauge', 'user bytes received, not yet delivered or read', a.receiveBufferBytes, L);
    x.add('hasctp_assoc_error_count', 'gauge', 'association error counter (RFC 9260 8.1)', a.errorCount, L);
    x.add('hasctp_assoc_start_time_seconds', 'gauge', 'seconds since the association became ESTABLISHED (sctpAssocStartTime as an age)', sec(a.upForMs), L);
    for (const [suffix, key, help, labels] of CHUNK_COUNTERS) x.add(`hasctp_assoc_${suffix}`, 'counter', `${help || 'see above'}, per association`, a.mib[key as keyof typeof a.mib] ?? undefined, { ...L, ...labels });
    for (const p of a.pathTable) {
      const P = { assoc: a.id, address: p.address };
      x.add('hasctp_path_state', 'gauge', 'path state (1 for the current one): ACTIVE, PF, INACTIVE, UNCONFIRMED', 1, { ...P, state: p.state });
      x.add('hasctp_path_primary', 'gauge', '1 on the primary path', p.primary ? 1 : 0, P);
      x.add('hasctp_path_cwnd_bytes', 'gauge', 'congestion window', p.cwnd, P);
      x.add('hasctp_path_ssthresh_bytes', 'gauge', 'slow start threshold', p.ssthresh, P);
      x.add('hasctp_path_srtt_seconds', 'gauge', 'smoothed round trip time', sec(p.srtt), P);
      x.add('hasctp_path_rttvar_seconds', 'gauge', 'round trip time variation', sec(p.rttvar), P);
      x.add('hasctp_path_rto_seconds', 'gauge', 'retransmission timeout (sctpAssocRemAddrRTO)', sec(p.rto), P);
      x.add('hasctp_path_error_count', 'gauge', 'path error counter (RFC 9260 8.2)', p.errorCount, P);
      x.add('hasctp_path_flight_bytes', 'gauge', 'bytes in flight on the path', p.flightSize, P);
      x.add('hasctp_path_mtu_bytes', 'gauge', 'path MTU', p.pmtu, P);
      x.add('hasctp_path_retransmitted_chunks_total', 'counter', 'DATA chunks retransmitted to the address (sctpAssocRemAddrRtx)', p.rtxChunks, P);
      x.add('hasctp_path_heartbeats_sent_total', 'counter', 'HEARTBEATs sent', p.heartbeatsSent, P);
      x.add('hasctp_path_heartbeats_acked_total', 'counter', 'HEARTBEAT ACKs received', p.heartbeatsAcked, P);
    }
  }

  const c = m.cluster;
  if (c) {
    x.add('hasctp_cluster_role', 'gauge', "the node's role (1 for the current one)", 1, { role: c.role });
    x.add('hasctp_cluster_epoch', 'gauge', 'the cluster epoch (bumped by every takeover)', c.epoch);
    x.add('hasctp_cluster_protected', 'gauge', '1 when the associations are in sync on a standby (primary) or this standby could take over', c.protection === 'in-sync' ? 1 : 0);
    x.add('hasctp_cluster_link_up', 'gauge', '1 when the cluster link is connected', c.linkUp ? 1 : 0);
    x.add('hasctp_cluster_link_rtt_seconds', 'gauge', 'round trip of the last cluster heartbeat', sec(c.linkRttMs));
    x.add('hasctp_replication_lag_records', 'gauge', 'replication records the standby has not acknowledged', c.lagRecords);
    x.add('hasctp_failovers_total', 'counter', 'times this node took over as primary (promotions)', c.counters['promotions']);
    x.add('hasctp_demotions_total', 'counter', 'times this node stepped down to standby', c.counters['demotions']);
    x.add('hasctp_replication_records_sent_total', 'counter', 'replication records sent', c.counters['recordsSent']);
    x.add('hasctp_replication_records_applied_total', 'counter', 'replication records applied', c.counters['recordsApplied']);
    x.add('hasctp_replication_record_retransmits_total', 'counter', 'replication records sent again', c.counters['recordRetransmits']);
    x.add('hasctp_replication_full_syncs_sent_total', 'counter', 'full syncs sent', c.counters['fullSyncsSent']);
    x.add('hasctp_replication_unprotected_total', 'counter', 'times the associations became unprotected', c.counters['unprotected']);
    x.add('hasctp_replication_digest_mismatches_total', 'counter', 'state digests that did not match', c.counters['digestMismatches']);
    x.add('hasctp_standby_packets_forwarded_total', 'counter', 'packets a standby forwarded to the primary', c.counters['packetsForwarded']);
    if (c.lastFailover) {
      x.add('hasctp_last_failover_detection_seconds', 'gauge', 'last takeover: from the last word of the old primary to the promotion', sec(c.lastFailover.detectionMs));
      x.add('hasctp_last_failover_first_packet_seconds', 'gauge', 'last takeover: promotion to the first packet sent', sec(c.lastFailover.firstPacketOutMs));
      x.add('hasctp_last_failover_first_sack_seconds', 'gauge', 'last takeover: promotion to the first SACK received', sec(c.lastFailover.firstSackInMs));
    }
  }
  return x.text();
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Serves GET /metrics (and /) on host:port. @throws Error when it cannot bind. */
export async function startMetricsServer(host: string, port: number, render: () => string): Promise<{ readonly port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/metrics' && path !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    let body: string;
    try {
      body = render();
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e instanceof Error ? e.message : String(e)}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`metrics on ${host}:${port}: ${e.code ?? e.message}`)));
    server.listen(port, host, () => resolve());
  });
  const a = server.address();
  return {
    port: typeof a === 'object' && a !== null ? a.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
