#include "bpf/common.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace alpsbpf {
namespace {
std::string g_log;
bool g_capture = false;
constexpr size_t kMaxLog = 16384;  // keep the tail: the verifier's verdict is at the end

int printFn(enum libbpf_print_level level, const char* fmt, va_list ap) {
  if (!g_capture && level == LIBBPF_DEBUG) return 0;
  char buf[4096];
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  if (n <= 0) return 0;
  if (g_capture) {
    g_log.append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
    if (g_log.size() > kMaxLog) g_log.erase(0, g_log.size() - kMaxLog);
  }
  return 0;
}
}  // namespace

void installLogger() { libbpf_set_print(printFn); }
void logBegin() {
  g_log.clear();
  g_capture = true;
}
std::string logTake() {
  g_capture = false;
  return std::exchange(g_log, std::string());
}

// The errno's symbolic name ("EBUSY"), which the TypeScript side matches on. glibc >= 2.32
// knows every name; an errno it does not know (never seen in practice) is reported as such.
const char* errnoName(int e) {
  const char* name = strerrorname_np(e);
  return name ? name : "EUNKNOWN";
}

Napi::Error makeError(Napi::Env env, const std::string& what, int err, const std::string& log) {
  if (err < 0) err = -err;
  std::string msg = what + ": " + std::strerror(err) + " (" + errnoName(err) + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, errnoName(err)));
  e.Set("errno", Napi::Number::New(env, err));
  if (!log.empty()) e.Set("log", Napi::String::New(env, log));
  return e;
}

std::pair<const uint8_t*, size_t> bytesArg(const Napi::Value& v, const char* name, size_t expect) {
  Napi::Env env = v.Env();
  const uint8_t* p = nullptr;
  size_t n = 0;
  if (v.IsBuffer()) {
    auto b = v.As<Napi::Buffer<uint8_t>>();
    p = b.Data();
    n = b.Length();
  } else if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    p = static_cast<const uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
    n = t.ByteLength();
  } else {
    throw Napi::TypeError::New(env, std::string(name) + ": expected a Buffer");
  }
  if (expect && n != expect)
    throw Napi::RangeError::New(env, std::string(name) + ": expected " + std::to_string(expect) + " bytes, got " + std::to_string(n));
  return {p, n};
}

}  // namespace alpsbpf
