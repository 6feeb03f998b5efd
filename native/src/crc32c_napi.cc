// JS binding of crc32c.cc: crc32c(buf, start, end, init) -> number, with the
// same convention as src/wire/checksum.ts Crc32cFn. Written against the C
// N-API rather than node-addon-api's wrappers: each wrapper step is another
// engine call, and the call overhead (not the CRC) is what decides from which
// packet size the native path pays (src/transport/native.ts).
#include <napi.h>

#include "addon.h"
#include "crc32c.h"

namespace hasctp {
namespace {

napi_value Fail(napi_env env, bool range, const char* message) {
  if (range)
    napi_throw_range_error(env, nullptr, message);
  else
    napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

napi_value Crc32c(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 4)
    return Fail(env, false, "crc32c(buf: Uint8Array, start: number, end: number, init: number)");
  napi_typedarray_type type;
  size_t length;
  void* data;
  // napi_get_typedarray_info fails (napi_invalid_arg) on anything but a typed array.
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array)
    return Fail(env, false, "crc32c: buf must be a Uint8Array");
  double start, end;
  uint32_t init;
  if (napi_get_value_double(env, argv[1], &start) != napi_ok || napi_get_value_double(env, argv[2], &end) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &init) != napi_ok)
    return Fail(env, false, "crc32c: start, end and init must be numbers");
  // Written so that NaN fails too.
  if (!(start >= 0 && start <= end && end <= static_cast<double>(length)) ||
      start != static_cast<double>(static_cast<size_t>(start)) || end != static_cast<double>(static_cast<size_t>(end)))
    return Fail(env, true, "crc32c: need integers 0 <= start <= end <= buf.length");
  size_t s = static_cast<size_t>(start);
  uint32_t crc = hasctp::crc32c(init, static_cast<const uint8_t*>(data) + s, static_cast<size_t>(end) - s);
  napi_value result;
  napi_create_uint32(env, crc, &result);
  return result;
}

}  // namespace

void RegisterCrc32c(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, Crc32c, nullptr, &fn));
  exports.Set("crc32c", fn);
  exports.Set("crc32cImplementation", Napi::String::New(env, crc32cImplementation()));
}

}  // namespace hasctp
