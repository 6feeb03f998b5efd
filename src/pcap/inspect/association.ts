/**
 * One association seen in a capture: its two endpoints, and what each sent.
 * The inspector (inspector.ts) decides which association a packet belongs to
 * and which endpoint sent it; this file accounts for the chunks.
 *
 * State is bounded: TSN rings (stats.ts) are capped, streams, PPIDs, paths,
 * addresses, pending heartbeats and timeline events have limits, and the
 * rings are released when the association ends.
 */
import { chunkTypeName, formatCause } from '../../wire/format.js';
import { toHex } from '../../wire/bytes.js';
import type { Chunk, ErrorCause, Param } from '../../wire/types.js';
import { ppidLabel } from './ppid.js';
import type { AssociationReport, AssociationState, DirectionReport, EndpointReport, PathReport } from './report.js';
import { Anomalies, Rtt, TsnTrack } from './stats.js';

export interface Limits {
  readonly maxStreams: number;
  readonly maxPpids: number;
  readonly maxPaths: number;
  readonly maxAddresses: number;
  readonly maxEvents: number;
  readonly maxPendingHeartbeats: number;
  readonly tsnWindow: number;
  readonly examples: number;
}

export interface Side {
  readonly port: number;
  /** Verification tags of this endpoint (the tag a packet TO it carries); the current one last. */
  readonly tags: number[];
  readonly addresses: string[];
  initiator: boolean;
}

export interface Path {
  readonly source: string;
  readonly destination: string;
  readonly from: number;
  packets: number;
  bytes: number;
  dataChunks: number;
  retransmissions: number;
  heartbeats: number;
  heartbeatAcks: number;
  first: number;
  last: number;
  readonly rtt: Rtt;
}

interface Counter {
  messages: number;
  bytes: number;
  unordered: number;
}

class Direction {
  packets = 0;
  bytes = 0;
  dataChunks = 0;
  messages = 0;
  userBytes = 0;
  unorderedMessages = 0;
  fragments = 0;
  retransmissions = 0;
  retransmittedBytes = 0;
  readonly streams = new Map<number, Counter>();
  readonly otherStreams: Counter = { messages: 0, bytes: 0, unordered: 0 };
  readonly ppids = new Map<number, Counter>();
  readonly otherPpids: Counter = { messages: 0, bytes: 0, unordered: 0 };
  /** I-DATA carries the PPID on the first fragment only. */
  readonly idataPpid = new Map<number, number>();
  sacks = 0;
  sacksWithGaps = 0;
  gapBlocks = 0;
  duplicateTsnsReported = 0;
  forwardTsns = 0;
  heartbeats = 0;
  heartbeatAcks = 0;
  readonly rtt = new Rtt();
  tsn: TsnTrack | undefined;
  /** The path this endpoint last sent new DATA on (its primary, as seen). */
  dataPath: Path | undefined;
  /** Retransmitted chunks since the last new DATA: new DATA on another path after some is a failover. */
  rtxSinceNew = 0;
  /** HEARTBEATs sent and not yet answered, by Heartbeat Info (hex). */
  readonly pendingHeartbeats = new Map<string, { time: number; path: Path }>();

  constructor(private readonly limits: Limits) {}

  stream(id: number): Counter {
    let c = this.streams.get(id);
    if (c === undefined) {
      if (this.streams.size >= this.limits.maxStreams) return this.otherStreams;
      c = { messages: 0, bytes: 0, unordered: 0 };
      this.streams.set(id, c);
    }
    return c;
  }

  ppid(id: number): Counter {
    let c = this.ppids.get(id);
    if (c === undefined) {
      if (this.ppids.size >= this.limits.maxPpids) return this.otherPpids;
      c = { messages: 0, bytes: 0, unordered: 0 };
      this.ppids.set(id, c);
    }
    return c;
  }

  track(): TsnTrack {
    return (this.tsn ??= new TsnTrack(64, this.limits.tsnWindow));
  }

  report(from: number): DirectionReport {
    const streams = [...this.streams].sort((a, b) => a[0] - b[0]).map(([stream, c]) => ({ stream, messages: c.messages, bytes: c.bytes, unordered: c.unordered }));
    const ppids = [...this.ppids].sort((a, b) => a[0] - b[0]).map(([ppid, c]) => {
      const name = ppidLabel(ppid);
      return name === undefined ? { ppid, messages: c.messages, bytes: c.bytes } : { ppid, name, messages: c.messages, bytes: c.bytes };
    });
    const base: DirectionReport = {
      from,
      packets: this.packets,
      bytes: this.bytes,
      dataChunks: this.dataChunks,
      messages: this.messages,
      userBytes: this.userBytes,
      unorderedMessages: this.unorderedMessages,
      fragments: this.fragments,
      retransmissions: this.retransmissions,
      retransmittedBytes: this.retransmittedBytes,
      streams,
      ppids,
      sacks: this.sacks,
      sacksWithGaps: this.sacksWithGaps,
      gapBlocks: this.gapBlocks,
      duplicateTsnsReported: this.duplicateTsnsReported,
      forwardTsns: this.forwardTsns,
      heartbeats: this.heartbeats,
      heartbeatAcks: this.heartbeatAcks,
      rttDataToSack: this.rtt.report(),
    };
    if (this.otherStreams.messages === 0 && this.otherStreams.bytes === 0) return base;
    return { ...base, otherStreams: { messages: this.otherStreams.messages, bytes: this.otherStreams.bytes } };
  }
}

export function hexTag(t: number): string {
  return `0x${t.toString(16).padStart(8, '0')}`;
}

function addressOf(p: Param): string | undefined {
  if (p.kind === 'ipv4-address' || p.kind === 'ipv6-address') return p.address;
  return undefined;
}

function causes(list: readonly ErrorCause[]): string {
  return list.length === 0 ? '' : list.map(formatCause).join(', ');
}

export class TrackedAssociation {
  readonly sides: [Side, Side];
  readonly dirs: [Direction, Direction];
  state: AssociationState;
  /** The capture did not show how it started. */
  readonly midStream: boolean;
  readonly first: number;
  last: number;
  packets = 0;
  bytes = 0;
  initTime: number | undefined;
  setupTime: number | undefined;
  restarts = 0;
  /** An INIT arrived for the established association: a COOKIE ACK that follows completes a restart (RFC 9260 §5.2.2). */
  restartPending = false;
  /** Who ended it, for the outcome line. */
  private endedBy: string | undefined;
  private everEstablished = false;
  private readonly chunkCounts = new Uint32Array(256);
  readonly paths = new Map<string, Path>();
  private otherPath: Path | undefined;
  private lastPath: Path | undefined;
  pathSwitches = 0;
  failovers = 0;
  private readonly events: { time: number; frame: number; event: string; from?: number; detail?: string }[] = [];
  private eventsDropped = 0;
  readonly anomalies: Anomalies;

  constructor(
    readonly id: number,
    sides: [Side, Side],
    opts: { midStream: boolean; time: number; state: AssociationState },
    private readonly limits: Limits,
  ) {
    this.sides = sides;
    this.dirs = [new Direction(limits), new Direction(limits)];
    this.midStream = opts.midStream;
    this.first = opts.time;
    this.last = opts.time;
    this.state = opts.state;
    this.anomalies = new Anomalies(limits.examples);
    if (opts.state === 'established') this.everEstablished = true;
  }

  get open(): boolean {
    return this.state !== 'closed' && this.state !== 'aborted';
  }

  get handshakeDone(): boolean {
    return this.everEstablished;
  }

  event(time: number, frame: number, event: string, from?: number, detail?: string): void {
    if (this.events.length >= this.limits.maxEvents) {
      this.eventsDropped++;
      return;
    }
    const e: { time: number; frame: number; event: string; from?: number; detail?: string } = { time, frame, event };
    if (from !== undefined) e.from = from;
    if (detail !== undefined && detail !== '') e.detail = detail;
    this.events.push(e);
  }

  addAddress(side: number, address: string): void {
    const list = this.sides[side]!.addresses;
    if (!list.includes(address) && list.length < this.limits.maxAddresses) list.push(address);
  }

  addTag(side: number, tag: number): boolean {
    const tags = this.sides[side]!.tags;
    const at = tags.indexOf(tag);
    if (at === tags.length - 1 && at >= 0) return false;
    if (at >= 0) tags.splice(at, 1);
    else if (tags.length >= 8) tags.shift();
    tags.push(tag);
    return at < 0;
  }

  hasAddress(side: number, address: string): boolean {
    const list = this.sides[side]!.addresses;
    return list.length === 0 || list.includes(address);
  }

  path(from: number, source: string, destination: string, time: number): Path {
    const last = this.lastPath;
    if (last !== undefined && last.from === from && last.source === source && last.destination === destination) return last;
    const key = `${from}|${source}|${destination}`;
    let p = this.paths.get(key);
    if (p === undefined) {
      if (this.paths.size >= this.limits.maxPaths) {
        p = this.otherPath ??= newPath('*', '*', from, time);
      } else {
        p = newPath(source, destination, from, time);
        this.paths.set(key, p);
      }
    }
    this.lastPath = p;
    return p;
  }

  /** Accounts for one packet sent by endpoint `from`. */
  packet(from: number, path: Path, length: number, chunks: readonly Chunk[], types: readonly number[], time: number, frame: number): void {
    this.countPacket(from, path, length, types, time);
    for (let i = 0; i < chunks.length; i++) this.chunk(from, path, chunks[i]!, time, frame);
  }

  /** Counts a packet without looking into its chunks (a tag mismatch: its receiver drops it, RFC 9260 §8.5). */
  countPacket(from: number, path: Path, length: number, types: readonly number[], time: number): void {
    for (let i = 0; i < types.length; i++) this.chunkCounts[types[i]!]!++;
    this.packets++;
    this.bytes += length;
    if (time > this.last) this.last = time;
    const d = this.dirs[from]!;
    d.packets++;
    d.bytes += length;
    path.packets++;
    path.bytes += length;
    if (time < path.first) path.first = time;
    if (time > path.last) path.last = time;
  }

  private chunk(from: number, path: Path, c: Chunk, time: number, frame: number): void {
    const to = 1 - from;
    const d = this.dirs[from]!;
    switch (c.kind) {
      case 'data':
        this.data(from, d, path, c.tsn, c.streamId, c.ppid, c.userData.length, c.beginning, c.ending, c.unordered, time, frame);
        return;
      case 'idata': {
        const key = c.streamId * 2 + (c.unordered ? 1 : 0);
        let ppid = c.ppid;
        if (c.beginning) {
          if (d.idataPpid.size < this.limits.maxStreams || d.idataPpid.has(key)) d.idataPpid.set(key, c.ppid);
        } else ppid = d.idataPpid.get(key) ?? 0;
        this.data(from, d, path, c.tsn, c.streamId, ppid, c.userData.length, c.beginning, c.ending, c.unordered, time, frame);
        return;
      }
      case 'sack':
      case 'nr-sack':
        d.sacks++;
        if (c.gapBlocks.length > 0) d.sacksWithGaps++;
        d.gapBlocks += c.gapBlocks.length;
        d.duplicateTsnsReported += c.duplicateTsns.length;
        this.sack(to, c.cumulativeTsnAck, time);
        return;
      case 'forward-tsn':
      case 'i-forward-tsn':
        d.forwardTsns++;
        return;
      case 'heartbeat': {
        d.heartbeats++;
        path.heartbeats++;
        const hb = d.pendingHeartbeats;
        if (hb.size >= this.limits.maxPendingHeartbeats) hb.delete(hb.keys().next().value!);
        hb.set(toHex(c.info), { time, path });
        return;
      }
      case 'heartbeat-ack': {
        d.heartbeatAcks++;
        path.heartbeatAcks++;
        const hb = this.dirs[to]!.pendingHeartbeats;
        const key = toHex(c.info);
        const sent = hb.get(key);
        if (sent !== undefined) {
          hb.delete(key);
          sent.path.rtt.add(time - sent.time);
        }
        return;
      }
      case 'init':
        this.onInit(from, c.params);
        return;
      case 'init-ack':
        this.onInitAck(from, c.params, time, frame);
        return;
      case 'cookie-echo':
        if (this.state === 'cookie-wait') this.state = 'cookie-echoed';
        if (!this.everEstablished || this.restartPending) this.event(time, frame, 'cookie-echo', from);
        return;
      case 'cookie-ack':
        this.onCookieAck(from, time, frame);
        return;
      case 'shutdown':
        if (this.state !== 'shutdown') this.event(time, frame, 'shutdown', from);
        if (this.open) this.state = 'shutdown';
        return;
      case 'shutdown-ack':
        if (this.state !== 'closed') this.event(time, frame, 'shutdown-ack', from);
        if (this.open) this.state = 'shutdown';
        return;
      case 'shutdown-complete':
        if (c.tBit) {
          this.event(time, frame, 'ootb-response', from, 'SHUTDOWN COMPLETE with T bit');
          if (this.state === 'shutdown') this.end('closed', 'closed by shutdown', time, frame);
          return;
        }
        if (this.state !== 'closed') {
          this.event(time, frame, 'shutdown-complete', from);
          this.end('closed', this.everEstablished ? 'closed by shutdown' : 'closed', time, frame);
        }
        return;
      case 'abort': {
        const why = causes(c.causes);
        this.event(time, frame, 'abort', from, `${c.tBit ? 'T bit' : ''}${c.tBit && why ? '; ' : ''}${why}`);
        if (this.state !== 'aborted' && this.state !== 'closed') {
          this.end('aborted', this.everEstablished ? `aborted by endpoint ${from}` : `setup refused: ABORT from endpoint ${from}`, time, frame);
        }
        return;
      }
      case 'error':
        this.event(time, frame, 'error', from, causes(c.causes));
        return;
      case 'asconf': {
        const ops: string[] = [];
        for (const p of c.params) {
          if (p.kind === 'add-ip-address') {
            ops.push(`add ${p.address}`);
            this.addAddress(from, p.address);
          } else if (p.kind === 'delete-ip-address') ops.push(`delete ${p.address}`);
          else if (p.kind === 'set-primary-address') ops.push(`set-primary ${p.address}`);
          else if (p.kind !== 'unknown') ops.push(p.kind);
        }
        this.event(time, frame, 'asconf', from, `serial ${c.serial}: ${ops.join(', ')}`);
        return;
      }
      case 'asconf-ack': {
        const errs = c.params.filter((p) => p.kind === 'error-cause-indication');
        this.event(time, frame, 'asconf-ack', from, `serial ${c.serial}${errs.length ? `: ${errs.length} refused` : ''}`);
        return;
      }
      case 're-config':
        this.event(time, frame, 'stream-reset', from, c.params.map((p) => p.kind).join(', '));
        return;
      case 'ecne':
      case 'cwr':
      case 'auth':
      case 'pad':
      case 'unknown':
        return;
    }
  }

  private data(
    from: number,
    d: Direction,
    path: Path,
    tsn: number,
    stream: number,
    ppid: number,
    length: number,
    beginning: boolean,
    ending: boolean,
    unordered: boolean,
    time: number,
    frame: number,
  ): void {
    d.dataChunks++;
    path.dataChunks++;
    const track = d.track();
    if (track.isRetransmission(tsn)) {
      d.retransmissions++;
      d.retransmittedBytes += length;
      path.retransmissions++;
      d.rtxSinceNew++;
      track.retransmitted(tsn);
      return;
    }
    track.sent(tsn, time);
    d.userBytes += length;
    if (!(beginning && ending)) d.fragments++;
    const s = d.stream(stream);
    const p = d.ppid(ppid);
    s.bytes += length;
    p.bytes += length;
    if (ending) {
      d.messages++;
      s.messages++;
      p.messages++;
      if (unordered) {
        d.unorderedMessages++;
        s.unordered++;
        p.unordered++;
      }
    }
    if (d.dataPath !== path) {
      const old = d.dataPath;
      d.dataPath = path;
      if (old !== undefined) {
        const failover = d.rtxSinceNew > 0;
        if (failover) this.failovers++;
        else this.pathSwitches++;
        this.event(
          time,
          frame,
          failover ? 'failover' : 'path-switch',
          from,
          `${old.source} > ${old.destination}  ->  ${path.source} > ${path.destination}${failover ? ` (after ${d.rtxSinceNew} retransmitted chunk${d.rtxSinceNew === 1 ? '' : 's'})` : ''}`,
        );
      }
    }
    d.rtxSinceNew = 0;
  }

  /** A SACK from `1 - owner` acknowledging the DATA of endpoint `owner`. */
  private sack(owner: number, cum: number, time: number): void {
    const d = this.dirs[owner]!;
    const track = d.track();
    const sentAt = track.ack(cum);
    if (sentAt !== undefined) d.rtt.add(time - sentAt);
  }

  private onInit(from: number, params: readonly Param[]): void {
    for (const p of params) {
      const a = addressOf(p);
      if (a !== undefined) this.addAddress(from, a);
    }
  }

  private onInitAck(from: number, params: readonly Param[], time: number, frame: number): void {
    for (const p of params) {
      const a = addressOf(p);
      if (a !== undefined) this.addAddress(from, a);
    }
    if (!this.everEstablished || this.restartPending) this.event(time, frame, 'init-ack', from);
  }

  private onCookieAck(from: number, time: number, frame: number): void {
    if (this.restartPending && this.everEstablished) {
      this.restartPending = false;
      this.restarts++;
      this.state = 'established';
      this.event(time, frame, 'restart', from, 'new verification tags and TSNs (RFC 9260 §5.2.2)');
      this.dirs[0].tsn?.reset();
      this.dirs[1].tsn?.reset();
      return;
    }
    if (this.everEstablished) return; // a duplicate COOKIE ACK
    this.everEstablished = true;
    this.state = 'established';
    if (this.initTime !== undefined) this.setupTime = time - this.initTime;
    this.event(time, frame, 'established', from, this.setupTime !== undefined ? `setup ${(this.setupTime * 1000).toFixed(3)} ms` : undefined);
  }

  private end(state: 'closed' | 'aborted', why: string, _time: number, _frame: number): void {
    this.state = state;
    this.endedBy = why;
    // Nothing more will be measured: give the per-TSN memory back.
    for (const d of this.dirs) {
      d.tsn = undefined;
      d.pendingHeartbeats.clear();
      d.idataPpid.clear();
    }
  }

  /** Marks the association established without a handshake (found mid-stream). */
  assumeEstablished(): void {
    this.everEstablished = true;
  }

  private outcome(): string {
    if (this.endedBy !== undefined) return this.endedBy;
    switch (this.state) {
      case 'cookie-wait':
        return this.dirs[1].packets === 0 && this.dirs[0].packets > 0 ? 'setup failed: INIT not answered' : 'setup incomplete';
      case 'cookie-echoed':
        return 'setup incomplete: no COOKIE ACK';
      case 'established':
        return 'open at end of capture';
      case 'shutdown':
        return 'shutting down at end of capture';
      case 'closed':
        return 'closed';
      case 'aborted':
        return 'aborted';
    }
  }

  report(): AssociationReport {
    const chunks: Record<string, number> = {};
    for (let t = 0; t < 256; t++) if (this.chunkCounts[t]! > 0) chunks[chunkTypeName(t)] = this.chunkCounts[t]!;
    const paths = [...this.paths.values()];
    if (this.otherPath !== undefined) paths.push(this.otherPath);
    const base: AssociationReport = {
      id: this.id,
      state: this.state,
      outcome: this.outcome(),
      midStream: this.midStream,
      first: this.first,
      last: this.last,
      packets: this.packets,
      bytes: this.bytes,
      endpoints: [endpointReport(this.sides[0]), endpointReport(this.sides[1])],
      restarts: this.restarts,
      timeline: this.events.slice(),
      eventsDropped: this.eventsDropped,
      directions: [this.dirs[0].report(0), this.dirs[1].report(1)],
      paths: paths.map(pathReport),
      pathSwitches: this.pathSwitches,
      failovers: this.failovers,
      chunks,
      anomalies: this.anomalies.report(),
    };
    return this.setupTime === undefined ? base : { ...base, setupTime: this.setupTime };
  }
}

function newPath(source: string, destination: string, from: number, time: number): Path {
  return { source, destination, from, packets: 0, bytes: 0, dataChunks: 0, retransmissions: 0, heartbeats: 0, heartbeatAcks: 0, first: time, last: time, rtt: new Rtt() };
}

function endpointReport(s: Side): EndpointReport {
  return { port: s.port, addresses: s.addresses.slice(), tags: s.tags.map(hexTag), initiator: s.initiator };
}

function pathReport(p: Path): PathReport {
  return {
    source: p.source,
    destination: p.destination,
    from: p.from,
    packets: p.packets,
    bytes: p.bytes,
    dataChunks: p.dataChunks,
    retransmissions: p.retransmissions,
    heartbeats: p.heartbeats,
    heartbeatAcks: p.heartbeatAcks,
    first: p.first,
    last: p.last,
    rttHeartbeat: p.rtt.report(),
  };
}

