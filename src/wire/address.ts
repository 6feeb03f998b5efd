/**
 * IP addresses as canonical strings: dotted quad for IPv4, RFC 5952 text for IPv6
 * (lower case, longest run of two or more zero groups as "::", IPv4-mapped
 * addresses as ::ffff:a.b.c.d). Parsing returns undefined on bad input.
 */

export function formatIPv4(b: Uint8Array, o = 0): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

export function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

export function formatIPv6(b: Uint8Array, o = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!);
  // IPv4-mapped (RFC 5952 §5).
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, o + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

export function parseIPv6(s: string): Uint8Array | undefined {
  let text = s;
  const out = new Uint8Array(16);
  // Trailing embedded IPv4.
  let tailV4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > lastColon) {
    tailV4 = parseIPv4(text.slice(lastColon + 1));
    if (!tailV4) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string): number[] | undefined => {
    if (h === '') return [];
    const gs = h.split(':');
    const nums: number[] = [];
    for (const g of gs) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      nums.push(parseInt(g, 16));
    }
    return nums;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1 && head.length !== 8) return undefined;
  if (halves.length === 2 && head.length + tail.length > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  if (tailV4) out.set(tailV4, 12);
  return out;
}

export type AddressFamily = 4 | 6;

export function addressFamily(address: string): AddressFamily {
  return address.includes(':') ? 6 : 4;
}

/** Raw bytes of an address string (4 or 16 bytes), or undefined if it is not one. */
export function addressBytes(address: string): Uint8Array | undefined {
  return addressFamily(address) === 6 ? parseIPv6(address) : parseIPv4(address);
}

/** The canonical form of an address string, or undefined if it is not one. */
export function canonicalAddress(address: string): string | undefined {
  const b = addressBytes(address);
  if (!b) return undefined;
  return b.length === 4 ? formatIPv4(b) : formatIPv6(b);
}
