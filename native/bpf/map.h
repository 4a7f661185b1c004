// BpfMap: one BPF map by its own (dup'd) fd — typed reads/writes/batches from TypeScript.
#pragma once
#include "bpf/common.h"

namespace alpsbpf {

class BpfMap : public Napi::ObjectWrap<BpfMap> {
 public:
  static Napi::Function Init(Napi::Env env);
  // Wraps a dup of `fd` (the caller keeps its own).
  static Napi::Object Create(Napi::Env env, int fd, const std::string& name);
  explicit BpfMap(const Napi::CallbackInfo& info);
  int fd() const { return fd_.get(); }

 private:
  Napi::Value Lookup(const Napi::CallbackInfo& info);
  void Update(const Napi::CallbackInfo& info);
  Napi::Value Delete(const Napi::CallbackInfo& info);
  void UpdateBatch(const Napi::CallbackInfo& info);
  Napi::Value Keys(const Napi::CallbackInfo& info);
  void UpdateTaskStorage(const Napi::CallbackInfo& info);
  Napi::Value DeleteTaskStorage(const Napi::CallbackInfo& info);
  void Pin(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  int checkedFd(Napi::Env env) const;
  size_t valueBytes() const;

  UniqueFd fd_;
  std::string name_;
  uint32_t type_ = 0, keySize_ = 0, valueSize_ = 0, maxEntries_ = 0;
};

}  // namespace alpsbpf
