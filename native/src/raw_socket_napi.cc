// JS binding of raw_socket.cc, driven by libuv: a uv_poll_t watches the fd
// and, when it is readable, one recvmmsg per round (at most kRoundsPerTick
// rounds per loop iteration, so a flood cannot starve timers and other I/O)
// hands a batch to the JS callback directly on the loop thread. No thread, no
// busy loop: level-triggered polling calls us again while packets remain.
//
//   new RawSocket(family: 4 | 6, localAddresses: string[], onPackets, options?)
//     onPackets(count, buffer: ArrayBuffer, metaOffset, addresses: string[])
//       buffer holds the SCTP bytes of every packet back to back, then at
//       metaOffset a Uint32Array of [offset, length, ifindex, ttl] per packet;
//       addresses[2i] is the source, addresses[2i + 1] the destination.
//     options: { batch = 64, maxPacket = 65535, rcvbuf = 4 MiB, sndbuf = 4 MiB }
//   .send(packets: Uint8Array[], sources: string[], destinations: string[]): number failed
//   .setLocalAddresses(addresses: string[])   destination filter; [] accepts all
//   .stats(): { packetsIn, bytesIn, ..., lastSendError, lastReceiveError }
//   .fd(): number (-1 once closed)
//   .close()                                   idempotent; stops the callback at once
//   sctpKernelModuleLoaded(): boolean
//
// Errors are thrown as Error with code (errno name, as Node's), errno and syscall.
// Plain C N-API, like crc32c_napi.cc: the wrapper layers cost per-packet calls.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vector>

#include "addon.h"
#include "raw_socket.h"

namespace hasctp {
namespace {

constexpr int kRoundsPerTick = 4;
constexpr uint32_t kMaxBatch = 1024;  // UIO_MAXIOV
constexpr size_t kAddressCache = 8;

struct Binding {
  napi_env env = nullptr;
  RawSocket sock;
  uv_poll_t poll{};
  napi_ref self = nullptr;      // strong while open: an open socket is not collected
  napi_ref callback = nullptr;  // onPackets
  napi_async_context context = nullptr;
  bool open = false;
  bool pollClosed = true;  // no live uv handle (never started, or its close callback ran)
  bool finalized = false;
  bool hookInstalled = false;
  bool inCallback = false;      // inside onPackets: close() defers ReleaseJs
  bool releasePending = false;  // close() ran inside onPackets
  // send() scratch, reused across calls.
  std::vector<const uint8_t*> data;
  std::vector<size_t> length;
  std::vector<IpAddress> source, destination;
};

napi_value Throw(napi_env env, int err, const char* syscall, const char* message) {
  // libuv's error codes are -errno on Unix; uv_err_name gives Node's names.
  const char* name = uv_err_name(-err);
  char text[512];
  snprintf(text, sizeof text, "%s (%s: %s, %s)", message, syscall, name, strerror(err));
  napi_value code, msg, error, errnoValue, syscallValue;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, -err, &errnoValue);  // negative, as in Node's own errors
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscallValue);
  napi_set_named_property(env, error, "errno", errnoValue);
  napi_set_named_property(env, error, "syscall", syscallValue);
  napi_throw(env, error);
  return nullptr;
}

napi_value TypeError(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

// Stops the fd and the poll handle; safe from close(), the env cleanup hook
// and the finalizer, in any order.
void CloseNative(Binding* b);

void OnPollClosed(uv_handle_t* handle) {
  Binding* b = static_cast<Binding*>(handle->data);
  b->pollClosed = true;
  if (b->finalized) delete b;
}

void CleanupHook(void* arg) {
  Binding* b = static_cast<Binding*>(arg);
  b->hookInstalled = false;
  CloseNative(b);
}

void CloseNative(Binding* b) {
  if (!b->open) return;
  b->open = false;
  uv_poll_stop(&b->poll);  // the fd must not be polled once closed
  b->sock.Close();
  uv_close(reinterpret_cast<uv_handle_t*>(&b->poll), OnPollClosed);
}

void ReleaseJs(Binding* b) {
  napi_env env = b->env;
  if (b->hookInstalled) {
    napi_remove_env_cleanup_hook(env, CleanupHook, b);
    b->hookInstalled = false;
  }
  if (b->callback != nullptr) napi_delete_reference(env, b->callback);
  b->callback = nullptr;
  if (b->self != nullptr) napi_delete_reference(env, b->self);
  b->self = nullptr;
  if (b->context != nullptr) napi_async_destroy(env, b->context);
  b->context = nullptr;
}

void Finalize(napi_env /*env*/, void* data, void* /*hint*/) {
  Binding* b = static_cast<Binding*>(data);
  // Reached while open only at environment teardown (self is strong while open).
  if (b->hookInstalled) {
    napi_remove_env_cleanup_hook(b->env, CleanupHook, b);
    b->hookInstalled = false;
  }
  CloseNative(b);
  b->finalized = true;
  if (b->pollClosed) delete b;
}

struct AddressCache {
  IpAddress address[kAddressCache];
  napi_value value[kAddressCache];
  size_t used = 0, next = 0;
};

// A batch usually comes from a handful of peers to a handful of local
// addresses: each distinct address becomes one JS string per batch.
napi_value AddressString(napi_env env, AddressCache& cache, const IpAddress& a) {
  for (size_t i = 0; i < cache.used; i++)
    if (cache.address[i] == a) return cache.value[i];
  char text[64];
  size_t n = FormatIpAddress(a, text);
  napi_value v;
  napi_create_string_latin1(env, text, n, &v);
  size_t slot = cache.next;
  cache.next = (cache.next + 1) % kAddressCache;
  if (cache.used < kAddressCache) cache.used++;
  cache.address[slot] = a;
  cache.value[slot] = v;
  return v;
}

// Calls onPackets with the batch now in b->sock.packets(). A throwing callback
// becomes an uncaught exception, as a throwing 'message' listener of dgram.
void Deliver(Binding* b) {
  napi_env env = b->env;
  const std::vector<ReceivedPacket>& packets = b->sock.packets();
  const size_t n = packets.size();
  size_t total = 0;
  for (const ReceivedPacket& p : packets) total += p.length;
  const size_t metaOffset = (total + 3) & ~static_cast<size_t>(3);
  void* memory;
  napi_value buffer;
  if (napi_create_arraybuffer(env, metaOffset + 16 * n, &memory, &buffer) != napi_ok) return;
  uint8_t* out = static_cast<uint8_t*>(memory);
  uint32_t* meta = reinterpret_cast<uint32_t*>(out + metaOffset);
  napi_value addresses;
  napi_create_array_with_length(env, 2 * n, &addresses);
  AddressCache cache;
  size_t offset = 0;
  for (size_t i = 0; i < n; i++) {
    const ReceivedPacket& p = packets[i];
    memcpy(out + offset, p.data, p.length);
    meta[4 * i] = static_cast<uint32_t>(offset);
    meta[4 * i + 1] = p.length;
    meta[4 * i + 2] = p.ifindex;
    meta[4 * i + 3] = p.ttl;
    offset += p.length;
    napi_set_element(env, addresses, static_cast<uint32_t>(2 * i), AddressString(env, cache, p.source));
    napi_set_element(env, addresses, static_cast<uint32_t>(2 * i + 1), AddressString(env, cache, p.destination));
  }
  napi_value argv[4], fn, recv, result;
  napi_create_uint32(env, static_cast<uint32_t>(n), &argv[0]);
  argv[1] = buffer;
  napi_create_uint32(env, static_cast<uint32_t>(metaOffset), &argv[2]);
  argv[3] = addresses;
  if (napi_get_reference_value(env, b->callback, &fn) != napi_ok || fn == nullptr) return;
  if (napi_get_reference_value(env, b->self, &recv) != napi_ok || recv == nullptr) napi_get_undefined(env, &recv);
  // make_callback (not call_function): runs the microtask queue and
  // process.nextTick after the callback, as for any libuv-driven JS callback.
  b->inCallback = true;
  napi_status status = napi_make_callback(env, b->context, recv, fn, 4, argv, &result);
  b->inCallback = false;
  // close() from inside the callback: the async context and references it
  // was using are released only now.
  if (b->releasePending) {
    b->releasePending = false;
    ReleaseJs(b);
  }
  bool pending = false;
  if (status != napi_ok && napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

void OnReadable(uv_poll_t* handle, int /*status*/, int /*events*/) {
  // A poll error (status < 0) is left to recvmmsg, which reports it.
  Binding* b = static_cast<Binding*>(handle->data);
  if (!b->open) return;
  napi_env env = b->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  for (int round = 0; round < kRoundsPerTick && b->open; round++) {
    int n = b->sock.Receive();
    if (n < 0) break;  // drained (-EAGAIN) or an error, counted in stats
    if (n > 0) Deliver(b);  // the callback may close the socket: b->open is rechecked
  }
  napi_close_handle_scope(env, scope);
}

Binding* Unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  void* data = nullptr;
  if (napi_get_cb_info(env, info, argc, argv, &self, nullptr) != napi_ok) return nullptr;
  if (napi_unwrap(env, self, &data) != napi_ok || data == nullptr) {
    TypeError(env, "not a RawSocket");
    return nullptr;
  }
  return static_cast<Binding*>(data);
}

bool AddressList(napi_env env, napi_value list, int family, std::vector<IpAddress>* out) {
  bool isArray = false;
  uint32_t n = 0;
  if (napi_is_array(env, list, &isArray) != napi_ok || !isArray || napi_get_array_length(env, list, &n) != napi_ok) {
    TypeError(env, "localAddresses must be an array of address strings");
    return false;
  }
  out->clear();
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    char text[64];
    size_t len = 0;
    IpAddress a;
    if (napi_get_element(env, list, i, &v) != napi_ok ||
        napi_get_value_string_latin1(env, v, text, sizeof text, &len) != napi_ok || len >= sizeof text - 1 ||
        !ParseIpAddress(text, family, &a)) {
      char message[160];
      snprintf(message, sizeof message, "localAddresses[%u] is not an IPv%d address", i, family);
      TypeError(env, message);
      return false;
    }
    out->push_back(a);
  }
  return true;
}

bool OptionalUint(napi_env env, napi_value options, const char* name, uint32_t min, uint32_t max, uint32_t* value) {
  napi_valuetype type;
  if (napi_typeof(env, options, &type) != napi_ok || type != napi_object) return true;
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, options, name, &has) != napi_ok || !has) return true;
  napi_get_named_property(env, options, name, &v);
  napi_typeof(env, v, &type);
  if (type == napi_undefined) return true;
  double d;
  if (type != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= min && d <= max) ||
      d != static_cast<double>(static_cast<uint32_t>(d))) {
    char message[160];
    snprintf(message, sizeof message, "options.%s must be an integer in [%u, %u]", name, min, max);
    TypeError(env, message);
    return false;
  }
  *value = static_cast<uint32_t>(d);
  return true;
}

napi_value Construct(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self, newTarget;
  if (napi_get_cb_info(env, info, &argc, argv, &self, nullptr) != napi_ok) return nullptr;
  if (napi_get_new_target(env, info, &newTarget) != napi_ok || newTarget == nullptr)
    return TypeError(env, "RawSocket must be called with new");
  if (argc < 3) return TypeError(env, "new RawSocket(family: 4 | 6, localAddresses: string[], onPackets, options?)");
  int32_t family = 0;
  if (napi_get_value_int32(env, argv[0], &family) != napi_ok || (family != 4 && family != 6))
    return TypeError(env, "RawSocket: family must be 4 or 6");
  std::vector<IpAddress> local;
  if (!AddressList(env, argv[1], family, &local)) return nullptr;
  napi_valuetype type;
  napi_typeof(env, argv[2], &type);
  if (type != napi_function) return TypeError(env, "RawSocket: onPackets must be a function");
  uint32_t batch = 64, maxPacket = 65535, rcvbuf = 4 << 20, sndbuf = 4 << 20;
  if (argc >= 4 && (!OptionalUint(env, argv[3], "batch", 1, kMaxBatch, &batch) ||
                    !OptionalUint(env, argv[3], "maxPacket", 576, 65535, &maxPacket) ||
                    !OptionalUint(env, argv[3], "rcvbuf", 0, 1u << 30, &rcvbuf) ||
                    !OptionalUint(env, argv[3], "sndbuf", 0, 1u << 30, &sndbuf)))
    return nullptr;

  Binding* b = new Binding();
  b->env = env;
  const char* syscall = "socket";
  int err = b->sock.Open(family, batch, maxPacket, static_cast<int>(rcvbuf), static_cast<int>(sndbuf), &syscall);
  if (err != 0) {
    delete b;
    if (err == EPERM || err == EACCES)
      return Throw(env, err, syscall,
                   "raw IP sockets need CAP_NET_RAW: run as root or grant it to node (setcap cap_net_raw+ep "
                   "\"$(command -v node)\"), or use --udp-encap (RFC 6951 UDP encapsulation, no privileges needed)");
    if (err == EPROTONOSUPPORT || err == EAFNOSUPPORT)
      return Throw(env, err, syscall,
                   family == 6 ? "IPv6 raw sockets are not available on this host" : "raw IPv4 sockets are not available");
    return Throw(env, err, syscall, "cannot open a raw SCTP socket");
  }
  b->sock.SetLocalAddresses(std::move(local));
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    delete b;
    return TypeError(env, "RawSocket: no libuv loop");
  }
  int uvErr = uv_poll_init(loop, &b->poll, b->sock.fd());
  if (uvErr != 0) {
    delete b;
    return Throw(env, -uvErr, "uv_poll_init", "cannot poll the raw socket");
  }
  b->poll.data = b;
  b->pollClosed = false;
  b->open = true;
  if (napi_wrap(env, self, b, Finalize, nullptr, nullptr) != napi_ok) {
    CloseNative(b);
    b->finalized = true;  // OnPollClosed deletes it
    return TypeError(env, "RawSocket: cannot wrap");
  }
  napi_create_reference(env, self, 1, &b->self);
  napi_create_reference(env, argv[2], 1, &b->callback);
  napi_value resource, resourceName;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "hasctp.RawSocket", NAPI_AUTO_LENGTH, &resourceName);
  napi_async_init(env, resource, resourceName, &b->context);
  napi_add_env_cleanup_hook(env, CleanupHook, b);
  b->hookInstalled = true;
  uvErr = uv_poll_start(&b->poll, UV_READABLE, OnReadable);
  if (uvErr != 0) {
    CloseNative(b);
    ReleaseJs(b);
    return Throw(env, -uvErr, "uv_poll_start", "cannot poll the raw socket");
  }
  return self;
}

napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  Binding* b = Unwrap(env, info, &argc, argv);
  if (b == nullptr) return nullptr;
  uint32_t n = 0, ns = 0, nd = 0;
  bool a0 = false, a1 = false, a2 = false;
  if (argc < 3 || napi_is_array(env, argv[0], &a0) != napi_ok || napi_is_array(env, argv[1], &a1) != napi_ok ||
      napi_is_array(env, argv[2], &a2) != napi_ok || !a0 || !a1 || !a2)
    return TypeError(env, "send(packets: Uint8Array[], sources: string[], destinations: string[])");
  napi_get_array_length(env, argv[0], &n);
  napi_get_array_length(env, argv[1], &ns);
  napi_get_array_length(env, argv[2], &nd);
  if (ns != n || nd != n) return TypeError(env, "send: packets, sources and destinations differ in length");
  b->data.resize(n);
  b->length.resize(n);
  b->source.resize(n);
  b->destination.resize(n);
  const int family = b->sock.family();
  size_t count = 0, invalid = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value packet, src, dst;
    napi_typedarray_type type;
    size_t len;
    void* data;
    napi_get_element(env, argv[0], i, &packet);
    napi_get_element(env, argv[1], i, &src);
    napi_get_element(env, argv[2], i, &dst);
    if (napi_get_typedarray_info(env, packet, &type, &len, &data, nullptr, nullptr) != napi_ok ||
        type != napi_uint8_array)
      return TypeError(env, "send: packets must be Uint8Arrays");
    char text[64];
    size_t tlen = 0;
    IpAddress& s = b->source[count];
    IpAddress& d = b->destination[count];
    bool ok = napi_get_value_string_latin1(env, dst, text, sizeof text, &tlen) == napi_ok &&
              tlen < sizeof text - 1 && ParseIpAddress(text, family, &d);
    if (ok) {
      ok = napi_get_value_string_latin1(env, src, text, sizeof text, &tlen) == napi_ok && tlen < sizeof text - 1;
      if (ok && tlen == 0)
        memset(&s, 0, sizeof s);  // kernel's choice
      else if (ok)
        ok = ParseIpAddress(text, family, &s);
    }
    if (!ok) {
      invalid++;
      continue;
    }
    b->data[count] = static_cast<const uint8_t*>(data);
    b->length[count] = len;
    count++;
  }
  if (invalid > 0) b->sock.CountSendFailures(invalid, EINVAL);
  size_t failed = invalid + b->sock.Send(count, b->data.data(), b->length.data(), b->source.data(),
                                         b->destination.data());
  napi_value result;
  napi_create_uint32(env, static_cast<uint32_t>(failed), &result);
  return result;
}

napi_value SetLocalAddresses(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Binding* b = Unwrap(env, info, &argc, argv);
  if (b == nullptr) return nullptr;
  if (argc < 1) return TypeError(env, "setLocalAddresses(addresses: string[])");
  std::vector<IpAddress> local;
  if (!AddressList(env, argv[0], b->sock.family(), &local)) return nullptr;
  b->sock.SetLocalAddresses(std::move(local));
  return nullptr;
}

void SetNumber(napi_env env, napi_value obj, const char* name, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, name, v);
}

void SetErrno(napi_env env, napi_value obj, const char* name, int err) {
  napi_value v;
  if (err == 0)
    napi_get_undefined(env, &v);
  else
    napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, name, v);
}

napi_value Stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Binding* b = Unwrap(env, info, &argc, nullptr);
  if (b == nullptr) return nullptr;
  const RawSocketStats& s = b->sock.stats();
  napi_value obj;
  napi_create_object(env, &obj);
  SetNumber(env, obj, "packetsIn", s.packetsIn);
  SetNumber(env, obj, "bytesIn", s.bytesIn);
  SetNumber(env, obj, "packetsOut", s.packetsOut);
  SetNumber(env, obj, "bytesOut", s.bytesOut);
  SetNumber(env, obj, "sendErrors", s.sendErrors);
  SetNumber(env, obj, "receiveErrors", s.receiveErrors);
  SetNumber(env, obj, "truncated", s.truncated);
  SetNumber(env, obj, "malformed", s.malformed);
  SetNumber(env, obj, "kernelDrops", s.kernelDrops);
  SetNumber(env, obj, "filtered", s.filtered);
  SetErrno(env, obj, "lastSendError", s.lastSendErrno);
  SetErrno(env, obj, "lastReceiveError", s.lastReceiveErrno);
  return obj;
}

napi_value Fd(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Binding* b = Unwrap(env, info, &argc, nullptr);
  if (b == nullptr) return nullptr;
  napi_value v;
  napi_create_int32(env, b->sock.fd(), &v);
  return v;
}

napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Binding* b = Unwrap(env, info, &argc, nullptr);
  if (b == nullptr) return nullptr;
  if (b->open) {
    CloseNative(b);
    if (b->inCallback)
      b->releasePending = true;
    else
      ReleaseJs(b);
  }
  return nullptr;
}

napi_value KernelModuleLoaded(napi_env env, napi_callback_info /*info*/) {
  napi_value v;
  napi_get_boolean(env, SctpKernelModuleLoaded(), &v);
  return v;
}

}  // namespace

void RegisterRawSocket(Napi::Env env, Napi::Object exports) {
  napi_property_descriptor methods[] = {
      {"send", nullptr, Send, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"setLocalAddresses", nullptr, SetLocalAddresses, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"fd", nullptr, Fd, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default_method, nullptr},
  };
  napi_value cls;
  NAPI_THROW_IF_FAILED_VOID(env, napi_define_class(env, "RawSocket", NAPI_AUTO_LENGTH, Construct, nullptr,
                                                   sizeof methods / sizeof methods[0], methods, &cls));
  exports.Set("RawSocket", cls);
  napi_value fn;
  NAPI_THROW_IF_FAILED_VOID(
      env, napi_create_function(env, "sctpKernelModuleLoaded", NAPI_AUTO_LENGTH, KernelModuleLoaded, nullptr, &fn));
  exports.Set("sctpKernelModuleLoaded", fn);
}

}  // namespace hasctp
