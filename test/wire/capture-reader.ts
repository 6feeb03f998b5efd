/**
 * Just enough classic-pcap reading to pull SCTP packets out of the reference
 * captures for decode tests: Ethernet (with 802.1Q) and Linux cooked (SLL),
 * IPv4 and IPv6 without extension headers. The real reader is src/pcap.
 */
import { readFileSync } from 'node:fs';

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL = 113;
const IPPROTO_SCTP = 132;

function ipPayload(frame: Uint8Array, o: number, etherType: number): Uint8Array | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (etherType === 0x0800) {
    const ihl = (frame[o]! & 0x0f) * 4;
    if (frame[o + 9] !== IPPROTO_SCTP) return undefined;
    const total = view.getUint16(o + 2);
    return frame.subarray(o + ihl, Math.min(o + total, frame.length));
  }
  if (etherType === 0x86dd) {
    if (frame[o + 6] !== IPPROTO_SCTP) return undefined;
    const payload = view.getUint16(o + 4);
    return frame.subarray(o + 40, Math.min(o + 40 + payload, frame.length));
  }
  return undefined;
}

/** The SCTP packets (common header onwards) of a classic pcap file, in order. */
export function sctpPacketsOf(path: string): Uint8Array[] {
  const file = new Uint8Array(readFileSync(path));
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, false);
  const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  if (!le && magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${path}: not a classic pcap file`);
  const linkType = view.getUint32(20, le);
  const out: Uint8Array[] = [];
  for (let o = 24; o + 16 <= file.length; ) {
    const incl = view.getUint32(o + 8, le);
    const frame = file.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    let p: Uint8Array | undefined;
    if (linkType === LINKTYPE_ETHERNET) {
      let et = (frame[12]! << 8) | frame[13]!;
      let at = 14;
      if (et === 0x8100) {
        et = (frame[16]! << 8) | frame[17]!;
        at = 18;
      }
      p = ipPayload(frame, at, et);
    } else if (linkType === LINKTYPE_LINUX_SLL) {
      p = ipPayload(frame, 16, (frame[14]! << 8) | frame[15]!);
    } else {
      throw new Error(`${path}: link type ${linkType} not handled here`);
    }
    if (p) out.push(p);
  }
  return out;
}
