/** Chunk builders for the receive-side tests. */
import type { DataChunk, IDataChunk } from '../../../src/wire/types.js';

export interface DataOpts {
  streamId?: number;
  ssn?: number;
  ppid?: number;
  unordered?: boolean;
  beginning?: boolean;
  ending?: boolean;
  immediate?: boolean;
  data?: Uint8Array | string;
}

function bytes(d: Uint8Array | string | undefined, fallback: string): Uint8Array {
  if (d instanceof Uint8Array) return d;
  return new TextEncoder().encode(d ?? fallback);
}

/** A DATA chunk; unfragmented (B and E) unless told otherwise. */
export function data(tsn: number, o: DataOpts = {}): DataChunk {
  return {
    kind: 'data',
    tsn,
    streamId: o.streamId ?? 0,
    ssn: o.ssn ?? 0,
    ppid: o.ppid ?? 0,
    userData: bytes(o.data, `m${tsn}`),
    unordered: o.unordered ?? false,
    beginning: o.beginning ?? true,
    ending: o.ending ?? true,
    immediate: o.immediate ?? false,
  };
}

export interface IDataOpts extends Omit<DataOpts, 'ssn'> {
  mid?: number;
  fsn?: number;
}

export function idata(tsn: number, o: IDataOpts = {}): IDataChunk {
  return {
    kind: 'idata',
    tsn,
    streamId: o.streamId ?? 0,
    mid: o.mid ?? 0,
    ppid: o.ppid ?? 0,
    fsn: o.fsn ?? 0,
    userData: bytes(o.data, `m${tsn}`),
    unordered: o.unordered ?? false,
    beginning: o.beginning ?? true,
    ending: o.ending ?? true,
    immediate: o.immediate ?? false,
  };
}

export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}
