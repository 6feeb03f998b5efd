// Issue #4's interop matrix over raw IPv4 between two network namespaces,
// single-homed and multihomed (two veth pairs, two addresses per side): hasctp
// against usrsctp's echo_server, discard_server, client and tsctp, and against
// itself; 1 B to 64 KiB, ordered and unordered, several streams; every frame
// checked by tshark. See test/helpers/matrix.ts. Root only: skipped loudly
// without root / ip / tshark / the addon / usrsctp, failed under CI=true.
import { afterAll } from 'vitest';
import { loadNative, nativeUnavailableReason } from '../../src/transport/native.js';
import { sctpKernelModuleLoaded } from '../../src/transport/raw.js';
import { requireCondition, requireRoot, requireTool } from '../helpers/env.js';
import { defineMatrix, removeMatrixBuild, USRSCTP } from '../helpers/matrix.js';

const addonHasRaw = typeof (loadNative() as { RawSocket?: unknown } | undefined)?.RawSocket === 'function';
const ok =
  requireCondition(addonHasRaw, `the native addon with raw sockets is not built (${nativeUnavailableReason() ?? 'stale build'}): rm -rf native/build && npm install`) &&
  requireRoot('the raw IPv4 interop matrix needs network namespaces and CAP_NET_RAW') &&
  requireTool('ip', 'the interop matrix needs ip netns (iproute2)') &&
  requireTool('tshark', 'the interop matrix dissects every packet with tshark') &&
  requireTool('dumpcap', 'the interop matrix captures with dumpcap (apt-get install -y tshark)') &&
  requireTool('stdbuf', 'the interop matrix reads usrsctp output line by line (coreutils)') &&
  ['echo_server', 'discard_server', 'client', 'tsctp'].every((p) => requireTool(`${USRSCTP}/${p}`, 'the interop matrix needs libusrsctp-examples')) &&
  requireCondition(sctpKernelModuleLoaded() !== true, 'the kernel SCTP module is loaded: it would answer our packets (rmmod sctp)');

afterAll(() => removeMatrixBuild());

defineMatrix({ transport: 'raw', multihomed: false, letters: ['ma', 'mb'], net: 81, firstSubnet: 1 }, ok);
defineMatrix({ transport: 'raw', multihomed: true, letters: ['mc', 'md'], net: 81, firstSubnet: 11 }, ok);
