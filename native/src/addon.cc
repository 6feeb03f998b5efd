// hasctp_native: the optional native half of hasctp (DESIGN.md §2, native/).
// No SCTP logic lives here, only what JS cannot do or does slowly: the CPU's
// CRC32c instruction now, raw IP sockets later (their own .cc file and
// Register* function, declared in addon.h).
#include <napi.h>

#include "addon.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  hasctp::RegisterCrc32c(env, exports);
  hasctp::RegisterRawSocket(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(hasctp_native, Init)
