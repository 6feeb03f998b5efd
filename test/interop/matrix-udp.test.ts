// Issue #4's interop matrix over RFC 6951 UDP encapsulation (port 9899 on both
// sides) between two network namespaces, single-homed and multihomed: the same
// cells as matrix-raw.test.ts (see test/helpers/matrix.ts). Root only (the
// namespaces): skipped loudly without root / ip / tshark / usrsctp, failed
// under CI=true.
import { afterAll } from 'vitest';
import { requireRoot, requireTool } from '../helpers/env.js';
import { defineMatrix, removeMatrixBuild, USRSCTP } from '../helpers/matrix.js';

const ok =
  requireRoot('the UDP encapsulation interop matrix runs in network namespaces') &&
  requireTool('ip', 'the interop matrix needs ip netns (iproute2)') &&
  requireTool('tshark', 'the interop matrix dissects every packet with tshark') &&
  requireTool('dumpcap', 'the interop matrix captures with dumpcap (apt-get install -y tshark)') &&
  requireTool('stdbuf', 'the interop matrix reads usrsctp output line by line (coreutils)') &&
  ['echo_server', 'discard_server', 'client', 'tsctp'].every((p) => requireTool(`${USRSCTP}/${p}`, 'the interop matrix needs libusrsctp-examples'));

afterAll(() => removeMatrixBuild());

defineMatrix({ transport: 'udp', multihomed: false, letters: ['me', 'mf'], net: 82, firstSubnet: 1 }, ok);
defineMatrix({ transport: 'udp', multihomed: true, letters: ['mg', 'mh'], net: 82, firstSubnet: 11 }, ok);
