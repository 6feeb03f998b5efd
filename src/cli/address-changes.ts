/**
 * `--add-address ADDR@T`, `--remove-address ADDR@T`, `--set-peer-primary
 * ADDR@T` of `hasctp client` and `hasctp server`: RFC 5061 requests made T
 * seconds after the association came up, and what became of them.
 */
import { InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import type { AsconfOutcome, Association } from '../api/association.js';
import { canonicalAddress } from '../wire/address.js';

export type AddressChangeKind = 'add' | 'remove' | 'set-peer-primary';

export interface AddressChange {
  readonly kind: AddressChangeKind;
  readonly address: string;
  /** Seconds after the association came up. */
  readonly at: number;
}

export interface AddressChangeReport {
  readonly kind: AddressChangeKind;
  readonly address: string;
  /** 'success', 'error', 'unsupported', 'closed', or why the request could not be made. */
  readonly result: string;
  /** Seconds after the association came up: when asked, when answered. */
  readonly requestedAt: number;
  readonly answeredAt: number;
}

/** `ADDR@SECONDS` (IPv6 with or without brackets) for one option; one-line errors. */
export function parseAddressChange(kind: AddressChangeKind): (value: string, previous: AddressChange[] | undefined) => AddressChange[] {
  return (value, previous) => {
    const at = value.lastIndexOf('@');
    if (at <= 0) throw new InvalidArgumentError(`expected ADDR@SECONDS, got ${JSON.stringify(value)}`);
    let addr = value.slice(0, at);
    const t = value.slice(at + 1);
    if (addr.startsWith('[') && addr.endsWith(']')) addr = addr.slice(1, -1);
    const address = canonicalAddress(addr);
    if (address === undefined || address === '0.0.0.0' || address === '::') throw new InvalidArgumentError(`not an IP address: ${JSON.stringify(value.slice(0, at))}`);
    const seconds = Number(t);
    if (!/^\d+(\.\d+)?$/.test(t) || !(seconds <= 86_400)) throw new InvalidArgumentError(`not a time in seconds after establishment: ${JSON.stringify(t)}`);
    return [...(previous ?? []), { kind, address, at: seconds }];
  };
}

function request(a: Association, c: AddressChange): Promise<AsconfOutcome> {
  switch (c.kind) {
    case 'add':
      return a.addLocalAddress(c.address);
    case 'remove':
      return a.removeLocalAddress(c.address);
    case 'set-peer-primary':
      return a.requestPeerPrimary(c.address);
  }
}

/** One line for a report: `add 10.0.0.3 success (at 1.000 s, answered 1.003 s)`. */
export function formatAddressChange(r: AddressChangeReport): string {
  return `${r.kind} ${r.address} ${r.result} (at ${r.requestedAt.toFixed(3)} s, answered ${r.answeredAt.toFixed(3)} s)`;
}

/**
 * Schedules `changes` on `a` (T counted from now, which is when it came up).
 * `onReport` gets each outcome as it comes; `cancel` drops those not yet made.
 */
export function scheduleAddressChanges(
  a: Association,
  changes: readonly AddressChange[],
  logger: Logger,
  onReport: (r: AddressChangeReport) => void,
): { readonly cancel: () => void } {
  const t0 = performance.now();
  const since = (): number => (performance.now() - t0) / 1000;
  const timers = changes.map((c) =>
    setTimeout(() => {
      if (a.closed) return;
      const requestedAt = since();
      request(a, c).then(
        (o) => {
          const r = { kind: c.kind, address: c.address, result: o.result, requestedAt, answeredAt: since() };
          logger.info({ assocId: a.id, ...r, causes: o.causes.map((x) => x.kind) }, 'asconf');
          onReport(r);
        },
        (e: unknown) => {
          const r = { kind: c.kind, address: c.address, result: e instanceof Error ? e.message : String(e), requestedAt, answeredAt: since() };
          logger.warn({ assocId: a.id, ...r }, 'asconf request refused');
          onReport(r);
        },
      );
    }, c.at * 1000),
  );
  return { cancel: () => timers.forEach((t) => clearTimeout(t)) };
}

/** The three options, on `hasctp client` and `hasctp server`. */
export const ADDRESS_CHANGE_OPTIONS = [
  ['--add-address <addr@sec>', 'RFC 5061: add this local address SEC seconds after the association is up (ASCONF; repeatable)', 'add'],
  ['--remove-address <addr@sec>', 'RFC 5061: delete this local address SEC seconds after the association is up (repeatable)', 'remove'],
  ['--set-peer-primary <addr@sec>', 'RFC 5061: ask the peer to make this local address its primary path SEC seconds after the association is up (repeatable)', 'set-peer-primary'],
] as const;

export interface AddressChangeOpts {
  readonly addAddress?: AddressChange[];
  readonly removeAddress?: AddressChange[];
  readonly setPeerPrimary?: AddressChange[];
}

/** The changes the three options asked for, in time order (ties: add, set primary, remove). */
export function addressChangesOf(o: AddressChangeOpts): { addressChanges?: AddressChange[] } {
  const rank: Record<AddressChangeKind, number> = { add: 0, 'set-peer-primary': 1, remove: 2 };
  const all = [...(o.addAddress ?? []), ...(o.setPeerPrimary ?? []), ...(o.removeAddress ?? [])].sort((x, y) => x.at - y.at || rank[x.kind] - rank[y.kind]);
  return all.length > 0 ? { addressChanges: all } : {};
}
