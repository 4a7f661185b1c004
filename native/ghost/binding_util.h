// Helpers shared by the N-API bindings of alps_ghost (addon.cc, emulator_binding.cc): argument
// checks, and C++ exceptions turned into JS errors that carry the errno's symbolic name.
#pragma once

#include <napi.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "ghost/queue.h"
#include "ghost/sys.h"

namespace alps_ghost {

// The errno's symbolic name ("EBUSY"), which the TypeScript side matches on. glibc >= 2.32
// knows every name; an errno it does not know (never seen in practice) is reported as such.
inline const char* errnoName(int e) {
  const char* name = strerrorname_np(e);
  return name ? name : "EUNKNOWN";
}

inline Napi::Error toJs(Napi::Env env, const ghost::SysError& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  err.Set("code", Napi::String::New(env, errnoName(e.err)));
  err.Set("errno", Napi::Number::New(env, e.err));
  err.Set("syscall", Napi::String::New(env, e.op));
  err.Set("path", Napi::String::New(env, e.target));
  return err;
}

// Runs `fn`, converting C++ exceptions into JS exceptions with errno codes.
template <typename F>
auto guarded(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const ghost::SysError& e) {
    throw toJs(env, e);
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "alps_ghost: out of memory");
  }
}

inline int32_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string("argument ") + name + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}
inline int64_t argInt64(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string("argument ") + name + " must be a number");
  return info[i].As<Napi::Number>().Int64Value();
}
inline std::vector<int> argIntList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsArray())
    throw Napi::TypeError::New(info.Env(), std::string("argument ") + name + " must be an array of numbers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int> out;
  for (uint32_t k = 0; k < a.Length(); k++) out.push_back(a.Get(k).As<Napi::Number>().Int32Value());
  return out;
}

inline Napi::Object statsObject(Napi::Env env, const ghost::DrainStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("messages", double(s.messages));
  o.Set("nops", double(s.nops));
  o.Set("bad", double(s.bad));
  o.Set("staleSeq", double(s.staleSeq));
  o.Set("unknownTask", double(s.unknownTask));
  o.Set("corrupt", double(s.corrupt));
  o.Set("overflow", double(s.overflow));
  return o;
}

}  // namespace alps_ghost
