/**
 * Reading an address change out of a capture (RFC 5061 against a real peer):
 * every SCTP packet with its time and addresses, and the facts the ADD-IP
 * interop tests assert: when the Set Primary went and was acknowledged, when
 * the peer's DATA and SACKs reached the new address, whether anything was
 * retransmitted, what used the old address after its deletion.
 */
import { readFileSync } from 'node:fs';
import { extractSctp, readCapture } from '../../src/pcap/index.js';
import { decodePacket } from '../../src/wire/packet.js';
import type { Chunk } from '../../src/wire/types.js';

export interface CapturedPacket {
  /** Seconds since the first record. */
  readonly t: number;
  readonly src: string;
  readonly dst: string;
  readonly chunks: readonly Chunk[];
}

export function readSctpPackets(file: string): CapturedPacket[] {
  const cap = readCapture(new Uint8Array(readFileSync(file)));
  if (!cap.ok) throw new Error(`${file}: ${cap.error.message}`);
  const out: CapturedPacket[] = [];
  let t0: number | undefined;
  for (const rec of cap.value.records) {
    if (!rec.ok) continue;
    const x = extractSctp(rec.value.linkType, rec.value.data);
    if (!x.ok || x.value === null) continue;
    const p = decodePacket(x.value.sctp, { checksum: 'classify' });
    if (!p.ok) throw new Error(`${file}: undecodable SCTP packet: ${p.error.message}`);
    const t = rec.value.timestamp.seconds + rec.value.timestamp.nanos / 1e9;
    t0 ??= t;
    out.push({ t: t - t0, src: x.value.source, dst: x.value.destination, chunks: p.value.chunks });
  }
  return out;
}

const has = (p: CapturedPacket, kind: Chunk['kind']): boolean => p.chunks.some((c) => c.kind === kind);

/** TSNs sent more than once by `from` (a retransmission: T3-rtx or fast retransmit). */
export function retransmittedTsns(pkts: readonly CapturedPacket[], from: (p: CapturedPacket) => boolean): number[] {
  const seen = new Set<number>();
  const again = new Set<number>();
  for (const p of pkts) {
    if (!from(p)) continue;
    for (const c of p.chunks) if (c.kind === 'data') (seen.has(c.tsn) ? again : seen).add(c.tsn);
  }
  return [...again];
}

/** Every ASCONF and ASCONF-ACK goes after an AUTH chunk in its packet (RFC 5061 §4.1). */
export function unauthenticatedAsconf(pkts: readonly CapturedPacket[]): CapturedPacket[] {
  return pkts.filter((p) => {
    const i = p.chunks.findIndex((c) => c.kind === 'asconf' || c.kind === 'asconf-ack');
    if (i < 0) return false;
    const auth = p.chunks.findIndex((c) => c.kind === 'auth');
    return auth < 0 || auth > i;
  });
}

export interface MoveFacts {
  /** Our Add IP Address / Set Primary / Delete IP Address ASCONFs (first transmission) and their ASCONF-ACKs. */
  readonly addAt: number | undefined;
  readonly setPrimaryAt: number | undefined;
  readonly setPrimaryAckAt: number | undefined;
  readonly deleteAt: number | undefined;
  readonly deleteAckAt: number | undefined;
  /** The peer's first DATA and first SACK to the new address. */
  readonly firstDataToNew: number | undefined;
  readonly firstSackToNew: number | undefined;
  /** Peer DATA packets to the old address after the Set Primary was acknowledged. */
  readonly dataToOldAfterSetPrimary: number;
  /** Peer SACKs to the old address after its first DATA to the new one and one RTT of ours (100 ms) more. */
  readonly sacksToOldAfterMove: number;
  /** Packets from or to the old address once its deletion was acknowledged. */
  readonly oldAddressAfterDelete: number;
  /** Peer DATA packets after the deletion was acknowledged (the traffic went on). */
  readonly dataAfterDelete: number;
}

/**
 * What happened when `self` (the endpoint that changes its addresses, from
 * `oldLocal` to `newLocal`) asked `peer` to move: times in seconds from the
 * start of the capture.
 */
export function moveFacts(pkts: readonly CapturedPacket[], o: { readonly peer: string; readonly oldLocal: string; readonly newLocal: string }): MoveFacts {
  const fromSelf = (p: CapturedPacket): boolean => p.dst === o.peer;
  const fromPeer = (p: CapturedPacket): boolean => p.src === o.peer;
  const asconfWith = (kind: string): { t: number; serial: number } | undefined => {
    for (const p of pkts) {
      if (!fromSelf(p)) continue;
      for (const c of p.chunks) if (c.kind === 'asconf' && c.params.some((x) => x.kind === kind)) return { t: p.t, serial: c.serial };
    }
    return undefined;
  };
  const ackOf = (serial: number | undefined): number | undefined =>
    serial === undefined ? undefined : pkts.find((p) => fromPeer(p) && p.chunks.some((c) => c.kind === 'asconf-ack' && c.serial === serial))?.t;
  const add = asconfWith('add-ip-address');
  const sp = asconfWith('set-primary-address');
  const del = asconfWith('delete-ip-address');
  const setPrimaryAckAt = ackOf(sp?.serial);
  const deleteAckAt = ackOf(del?.serial);
  const firstDataToNew = pkts.find((p) => fromPeer(p) && p.dst === o.newLocal && has(p, 'data'))?.t;
  const firstSackToNew = pkts.find((p) => fromPeer(p) && p.dst === o.newLocal && has(p, 'sack'))?.t;
  const after = (t: number | undefined, p: CapturedPacket): boolean => t !== undefined && p.t > t;
  return {
    addAt: add?.t,
    setPrimaryAt: sp?.t,
    setPrimaryAckAt,
    deleteAt: del?.t,
    deleteAckAt,
    firstDataToNew,
    firstSackToNew,
    dataToOldAfterSetPrimary: pkts.filter((p) => fromPeer(p) && p.dst === o.oldLocal && has(p, 'data') && after(setPrimaryAckAt, p)).length,
    sacksToOldAfterMove: pkts.filter((p) => fromPeer(p) && p.dst === o.oldLocal && has(p, 'sack') && firstDataToNew !== undefined && p.t > firstDataToNew + 0.1).length,
    oldAddressAfterDelete: pkts.filter((p) => (p.src === o.oldLocal || p.dst === o.oldLocal) && after(deleteAckAt, p)).length,
    dataAfterDelete: pkts.filter((p) => fromPeer(p) && has(p, 'data') && after(deleteAckAt, p)).length,
  };
}
