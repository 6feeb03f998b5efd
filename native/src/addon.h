// One Register* per feature file; addon.cc calls them all.
#pragma once
#include <napi.h>

namespace hasctp {

void RegisterCrc32c(Napi::Env env, Napi::Object exports);     // crc32c_napi.cc
void RegisterRawSocket(Napi::Env env, Napi::Object exports);  // raw_socket_napi.cc

}  // namespace hasctp
