// The captures this project made of itself (captures/INDEX.md, "Captures this project made";
// scripts/make-captures.mjs regenerates them): what each holds, and `replay --offline` of our side
// reproducing every chunk our stack sent. (Their inspect counts are checked against tshark with
// every other capture in inspect.test.ts.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectCapture, type AssociationReport } from '../../src/pcap/inspect/index.js';
import { replayOffline } from '../../src/pcap/replay/index.js';
import { capturesDir } from '../helpers/env.js';
import { hmac, hmacSha1 } from './offline-sim.js';

const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(capturesDir, name)));

interface Known {
  readonly outcome: string;
  /** Messages each way, endpoint 0 (our client) first. */
  readonly messages: [number, number];
  /** Chunks our client sent. */
  readonly chunks: number;
  readonly check?: (a: AssociationReport) => void;
}

const own: Record<string, Known> = {
  'echo-usrsctp.pcapng': { outcome: 'closed by shutdown', messages: [100, 100], chunks: 203 },
  'bulk-usrsctp.pcapng': { outcome: 'closed by shutdown', messages: [150, 0], chunks: 154 },
  'fragmentation-usrsctp.pcapng': {
    outcome: 'closed by shutdown',
    messages: [2, 0],
    chunks: 96,
    check: (a) => expect(a.directions[0]).toMatchObject({ userBytes: 131072, fragments: 92 }),
  },
  'multihoming-usrsctp.pcapng': {
    outcome: 'aborted by endpoint 0',
    messages: [95, 47],
    chunks: 199,
    check: (a) => {
      expect(a.endpoints.map((e) => e.addresses)).toEqual([['10.86.1.1', '10.86.2.1'], ['10.86.1.2', '10.86.2.2']]);
      // After link 1 was cut our retransmissions went to the alternate address (RFC 9260 §6.4.1), and only them.
      const alt = a.paths.find((p) => p.from === 0 && p.source === '10.86.1.1' && p.destination === '10.86.1.2')!;
      expect(alt.dataChunks).toBeGreaterThan(0);
      expect(alt.retransmissions).toBe(alt.dataChunks);
    },
  },
  'abort-usrsctp.pcapng': { outcome: 'aborted by endpoint 0', messages: [0, 0], chunks: 3 },
  'asconf-usrsctp.pcapng': { outcome: 'closed by shutdown', messages: [250, 250], chunks: 509 },
};

describe('captures made by this project', () => {
  for (const [name, k] of Object.entries(own)) {
    describe(name, () => {
      const bytes = read(name);

      it(`one association, ${k.outcome}, ${k.messages.join(' / ')} messages`, () => {
        const r = inspectCapture(bytes);
        expect(r.associations).toHaveLength(1);
        expect(r.anomalies).toEqual([]);
        const a = r.associations[0]!;
        expect(a.outcome).toBe(k.outcome);
        expect(a.endpoints[0].initiator).toBe(true);
        expect(a.directions.map((d) => d.messages)).toEqual(k.messages);
        k.check?.(a);
      });

      it('replay --offline of our client reproduces every chunk it sent', async () => {
        const r = await replayOffline(async function* () {
          yield bytes;
        }, { side: 'client', hmac, hmacSha1 });
        if (!r.ok) throw new Error(r.error);
        expect(r.value.divergences).toEqual([]);
        expect(r.value.chunks).toEqual({ captured: k.chunks, replayed: k.chunks, matched: k.chunks });
      });
    });
  }
});

// `hasctp demo --messages 600 --pcap-dir DIR` (SCTP over UDP on loopback, shown as IP/SCTP):
// the peer's capture and the standby's (which also records the cluster link).
describe('captures of a failover (hasctp demo --pcap-dir)', () => {
  it('the peer sees one association move to the standby: failover, ASCONF Set Primary, 600 messages each way, shutdown', () => {
    const r = inspectCapture(read('failover-demo-peer.pcapng'));
    expect(r.associations).toHaveLength(1);
    expect(r.anomalies).toEqual([]);
    const a = r.associations[0]!;
    expect(a.outcome).toBe('closed by shutdown');
    expect(a.directions.map((d) => d.messages)).toEqual([600, 600]);
    expect(a.endpoints[1].addresses).toHaveLength(2); // the primary's and the standby's address, one endpoint
    const events = a.timeline.map((e) => e.event);
    expect(events).toContain('failover');
    const setPrimary = a.timeline.find((e) => e.event === 'asconf' && e.from === 1);
    expect(setPrimary?.detail).toMatch(/set-primary/);
    expect(a.failovers).toBeGreaterThanOrEqual(1);
    expect(events).not.toContain('abort');
  });

  it("the standby's capture holds its SCTP packets and the cluster link's frames on an interface of their own", () => {
    const bytes = read('failover-demo-standby.pcapng');
    const r = inspectCapture(bytes);
    expect(r.associations).toHaveLength(1);
    expect(r.anomalies).toEqual([]);
    // The demo stops the nodes as the association closes: the last packet may not be in it.
    expect(r.associations[0]!.timeline.map((e) => e.event)).toContain('shutdown');
    // Every frame that is not SCTP is a cluster-link frame (IP/UDP).
    expect(r.frames - r.sctpPackets).toBeGreaterThan(0);
  });
});
