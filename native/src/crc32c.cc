// CRC32c with the CPU's CRC instruction when there is one (x86-64 SSE4.2
// crc32, ARMv8 CRC32C*), else portable slice-by-8. The instruction has a
// latency of three cycles and a throughput of one per cycle, so the long loop
// runs three independent streams over adjacent blocks and joins them with a
// "shift the CRC over n zero bytes" table (Mark Adler's crc32c.c layout).
#include "crc32c.h"

#include <cstring>
#include <initializer_list>

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>
#define HASCTP_X86 1
#endif
#if defined(__aarch64__) && defined(__GNUC__)
#include <arm_acle.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif
#define HASCTP_ARM 1
#endif

namespace hasctp {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;

// Interleaved block sizes: three LONG blocks at a time, then three SHORT ones.
constexpr size_t kLong = 8192;
constexpr size_t kShort = 256;

uint32_t table[8][256];       // slice-by-8
uint32_t shiftLong[4][256];   // CRC register advanced over kLong zero bytes
uint32_t shiftShort[4][256];  // ... over kShort zero bytes

enum class Impl { kTable, kSse42, kArm };
Impl impl = Impl::kTable;

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // little-endian hosts only use this (x86-64, aarch64 little-endian)
}

// The register after `n` zero bytes, as four byte-indexed tables (the map is
// linear over GF(2), so it is the XOR of its values on each set bit).
void buildShift(uint32_t out[4][256], size_t n) {
  uint32_t basis[32];
  for (int bit = 0; bit < 32; bit++) {
    uint32_t c = 1u << bit;
    for (size_t i = 0; i < n; i++) c = (c >> 8) ^ table[0][c & 0xff];
    basis[bit] = c;
  }
  for (int k = 0; k < 4; k++) {
    for (uint32_t v = 0; v < 256; v++) {
      uint32_t x = v << (8 * k), r = 0;
      for (int bit = 0; x != 0; bit++, x >>= 1)
        if (x & 1) r ^= basis[bit];
      out[k][v] = r;
    }
  }
}

inline uint32_t shift(const uint32_t z[4][256], uint32_t c) {
  return z[0][c & 0xff] ^ z[1][(c >> 8) & 0xff] ^ z[2][(c >> 16) & 0xff] ^ z[3][c >> 24];
}

uint32_t rawTable(uint32_t c, const uint8_t* p, size_t len) {
  while (len > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    len--;
  }
  while (len >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    lo = __builtin_bswap32(lo);
    hi = __builtin_bswap32(hi);
#endif
    lo ^= c;
    c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
        table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
    p += 8;
    len -= 8;
  }
  while (len-- > 0) c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
  return c;
}

#if HASCTP_X86
__attribute__((target("sse4.2"))) uint32_t rawSse42(uint32_t c32, const uint8_t* p, size_t len) {
  uint64_t c0 = c32;
  while (len > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c0 = _mm_crc32_u8(static_cast<uint32_t>(c0), *p++);
    len--;
  }
  for (size_t block : {kLong, kShort}) {
    const uint32_t(*z)[256] = block == kLong ? shiftLong : shiftShort;
    while (len >= 3 * block) {
      uint64_t c1 = 0, c2 = 0;
      const uint8_t* end = p + block;
      do {
        c0 = _mm_crc32_u64(c0, load64(p));
        c1 = _mm_crc32_u64(c1, load64(p + block));
        c2 = _mm_crc32_u64(c2, load64(p + 2 * block));
        p += 8;
      } while (p < end);
      c0 = shift(z, static_cast<uint32_t>(c0)) ^ c1;
      c0 = shift(z, static_cast<uint32_t>(c0)) ^ c2;
      p += 2 * block;
      len -= 3 * block;
    }
  }
  while (len >= 8) {
    c0 = _mm_crc32_u64(c0, load64(p));
    p += 8;
    len -= 8;
  }
  while (len-- > 0) c0 = _mm_crc32_u8(static_cast<uint32_t>(c0), *p++);
  return static_cast<uint32_t>(c0);
}
#endif

#if HASCTP_ARM
__attribute__((target("+crc"))) uint32_t rawArm(uint32_t c0, const uint8_t* p, size_t len) {
  while (len > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c0 = __crc32cb(c0, *p++);
    len--;
  }
  for (size_t block : {kLong, kShort}) {
    const uint32_t(*z)[256] = block == kLong ? shiftLong : shiftShort;
    while (len >= 3 * block) {
      uint32_t c1 = 0, c2 = 0;
      const uint8_t* end = p + block;
      do {
        c0 = __crc32cd(c0, load64(p));
        c1 = __crc32cd(c1, load64(p + block));
        c2 = __crc32cd(c2, load64(p + 2 * block));
        p += 8;
      } while (p < end);
      c0 = shift(z, c0) ^ c1;
      c0 = shift(z, c0) ^ c2;
      p += 2 * block;
      len -= 3 * block;
    }
  }
  while (len >= 8) {
    c0 = __crc32cd(c0, load64(p));
    p += 8;
    len -= 8;
  }
  while (len-- > 0) c0 = __crc32cb(c0, *p++);
  return c0;
}
#endif

// Tables and CPU detection, once, when the shared object is loaded.
struct Init {
  Init() {
    for (uint32_t n = 0; n < 256; n++) {
      uint32_t c = n;
      for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ kPoly : c >> 1;
      table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
      uint32_t c = table[0][n];
      for (int k = 1; k < 8; k++) {
        c = (c >> 8) ^ table[0][c & 0xff];
        table[k][n] = c;
      }
    }
    buildShift(shiftLong, kLong);
    buildShift(shiftShort, kShort);
#if HASCTP_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) impl = Impl::kSse42;
#elif HASCTP_ARM
#if defined(__ARM_FEATURE_CRC32)
    impl = Impl::kArm;
#elif defined(__linux__)
    if (getauxval(AT_HWCAP) & HWCAP_CRC32) impl = Impl::kArm;
#endif
#endif
  }
} init;

}  // namespace

uint32_t crc32c(uint32_t crc, const uint8_t* buf, size_t len) {
  uint32_t c = ~crc;
  switch (impl) {
#if HASCTP_X86
    case Impl::kSse42:
      c = rawSse42(c, buf, len);
      break;
#endif
#if HASCTP_ARM
    case Impl::kArm:
      c = rawArm(c, buf, len);
      break;
#endif
    default:
      c = rawTable(c, buf, len);
  }
  return ~c;
}

const char* crc32cImplementation() {
  switch (impl) {
    case Impl::kSse42:
      return "sse4.2";
    case Impl::kArm:
      return "armv8-crc";
    default:
      return "slice-by-8";
  }
}

}  // namespace hasctp
