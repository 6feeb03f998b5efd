// CRC32c (Castagnoli, reflected polynomial 0x82F63B78), the SCTP checksum.
// No N-API here: plain C++ so it can be tested and reused on its own.
#pragma once
#include <cstddef>
#include <cstdint>

namespace hasctp {

// Continues a *finished* CRC32c (0 for the empty input; the value stored in
// packets) over buf[0, len) and returns the finished CRC, like zlib's crc32():
// crc32c(crc32c(0, a), b) == crc32c(0, a ++ b). Same convention as
// src/wire/crc32c.ts crc32cUpdate.
uint32_t crc32c(uint32_t crc, const uint8_t* buf, size_t len);

// The implementation chosen at load time for this CPU:
// "sse4.2", "armv8-crc" or "slice-by-8".
const char* crc32cImplementation();

}  // namespace hasctp
