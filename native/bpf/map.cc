#include "bpf/map.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include <vector>

namespace alpsbpf {

Napi::Function BpfMap::Init(Napi::Env env) {
  return DefineClass(env, "BpfMap",
                     {InstanceMethod("lookup", &BpfMap::Lookup), InstanceMethod("update", &BpfMap::Update),
                      InstanceMethod("delete", &BpfMap::Delete), InstanceMethod("updateBatch", &BpfMap::UpdateBatch),
                      InstanceMethod("keys", &BpfMap::Keys),
                      InstanceMethod("updateTaskStorage", &BpfMap::UpdateTaskStorage),
                      InstanceMethod("deleteTaskStorage", &BpfMap::DeleteTaskStorage),
                      InstanceMethod("pin", &BpfMap::Pin), InstanceMethod("close", &BpfMap::Close), InstanceMethod("info", &BpfMap::Info)});
}

Napi::Object BpfMap::Create(Napi::Env env, int fd, const std::string& name) {
  auto* data = env.GetInstanceData<AddonData>();
  return data->mapCtor.New({Napi::Number::New(env, fd), Napi::String::New(env, name)});
}

// new BpfMap(fd, name): dup's fd; JS code gets maps from BpfObject.map() or BpfMap.fromPin().
BpfMap::BpfMap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfMap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "BpfMap(fd, name)");
  int src = info[0].As<Napi::Number>().Int32Value();
  name_ = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  int d = fcntl(src, F_DUPFD_CLOEXEC, 3);
  if (d < 0) throwErr(env, "BpfMap " + name_ + ": dup", errno);
  fd_ = UniqueFd(d);
  struct bpf_map_info mi = {};
  __u32 len = sizeof(mi);
  if (bpf_map_get_info_by_fd(fd_.get(), &mi, &len) != 0) throwErr(env, "BpfMap " + name_ + ": info", errno);
  type_ = mi.type;
  keySize_ = mi.key_size;
  valueSize_ = mi.value_size;
  maxEntries_ = mi.max_entries;
  if (name_.empty()) name_ = mi.name;
}

int BpfMap::checkedFd(Napi::Env env) const {
  if (!fd_.valid()) throw Napi::Error::New(env, "BpfMap " + name_ + ": closed");
  return fd_.get();
}

// Per-CPU maps return one 8-byte-aligned value per possible CPU.
size_t BpfMap::valueBytes() const {
  bool percpu = type_ == BPF_MAP_TYPE_PERCPU_ARRAY || type_ == BPF_MAP_TYPE_PERCPU_HASH ||
                type_ == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  if (!percpu) return valueSize_;
  int n = libbpf_num_possible_cpus();
  return static_cast<size_t>((valueSize_ + 7) / 8 * 8) * static_cast<size_t>(n > 0 ? n : 1);
}

Napi::Value BpfMap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", name_);
  o.Set("type", type_);
  o.Set("keySize", keySize_);
  o.Set("valueSize", valueSize_);
  o.Set("maxEntries", maxEntries_);
  o.Set("valueBytes", static_cast<double>(valueBytes()));
  o.Set("fd", fd_.get());
  return o;
}

Napi::Value BpfMap::Lookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = checkedFd(env);
  auto [k, kn] = bytesArg(info[0], "key", keySize_);
  (void)kn;
  auto out = Napi::Buffer<uint8_t>::New(env, valueBytes());
  if (bpf_map_lookup_elem(fd, k, out.Data()) != 0) {
    if (errno == ENOENT) return env.Null();
    throwErr(env, "map " + name_ + ": lookup", errno);
  }
  return out;
}

void BpfMap::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = checkedFd(env);
  auto [k, kn] = bytesArg(info[0], "key", keySize_);
  auto [v, vn] = bytesArg(info[1], "value", valueBytes());
  (void)kn;
  (void)vn;
  uint64_t flags = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int64Value() : static_cast<int64_t>(BPF_ANY);
  if (bpf_map_update_elem(fd, k, v, flags) != 0) throwErr(env, "map " + name_ + ": update", errno);
}

Napi::Value BpfMap::Delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = checkedFd(env);
  auto [k, kn] = bytesArg(info[0], "key", keySize_);
  (void)kn;
  if (bpf_map_delete_elem(fd, k) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    throwErr(env, "map " + name_ + ": delete", errno);
  }
  return Napi::Boolean::New(env, true);
}

// updateBatch(keys, values, count[, flags]): one BPF_MAP_UPDATE_BATCH syscall for `count`
// packed keys/values. Kernels or map types without batch support get a per-element loop.
void BpfMap::UpdateBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = checkedFd(env);
  uint32_t count = info[2].As<Napi::Number>().Uint32Value();
  auto [k, kn] = bytesArg(info[0], "keys", static_cast<size_t>(keySize_) * count);
  auto [v, vn] = bytesArg(info[1], "values", valueBytes() * count);
  (void)kn;
  (void)vn;
  uint64_t flags = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int64Value() : static_cast<int64_t>(BPF_ANY);
  if (count == 0) return;
  LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
  __u32 n = count;
  if (bpf_map_update_batch(fd, k, v, &n, &opts) == 0) return;
  if (errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP)
    throwErr(env, "map " + name_ + ": update batch (" + std::to_string(n) + "/" + std::to_string(count) + " applied)", errno);
  for (uint32_t i = 0; i < count; i++)
    if (bpf_map_update_elem(fd, k + static_cast<size_t>(i) * keySize_, v + i * valueBytes(), flags) != 0)
      throwErr(env, "map " + name_ + ": update element " + std::to_string(i), errno);
}

Napi::Value BpfMap::Keys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = checkedFd(env);
  Napi::Array out = Napi::Array::New(env);
  std::vector<uint8_t> cur(keySize_), next(keySize_);
  const void* prev = nullptr;
  uint32_t i = 0;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    out.Set(i++, Napi::Buffer<uint8_t>::Copy(env, next.data(), next.size()));
    cur.swap(next);
    prev = cur.data();
    if (i > maxEntries_ + 1) break;  // a concurrently changing hash can restart iteration
  }
  return out;
}

// Task-storage maps are keyed by a pidfd: open one for `pid`, write, close.
void BpfMap::UpdateTaskStorage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = checkedFd(env);
  int pid = info[0].As<Napi::Number>().Int32Value();
  auto [v, vn] = bytesArg(info[1], "value", valueSize_);
  (void)vn;
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) throwErr(env, "pidfd_open(" + std::to_string(pid) + ")", errno);
  int key = pidfd.get();
  if (bpf_map_update_elem(fd, &key, v, BPF_ANY) != 0)
    throwErr(env, "map " + name_ + ": tag pid " + std::to_string(pid), errno);
}

Napi::Value BpfMap::DeleteTaskStorage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = checkedFd(env);
  int pid = info[0].As<Napi::Number>().Int32Value();
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) throwErr(env, "pidfd_open(" + std::to_string(pid) + ")", errno);
  int key = pidfd.get();
  if (bpf_map_delete_elem(fd, &key) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    throwErr(env, "map " + name_ + ": untag pid " + std::to_string(pid), errno);
  }
  return Napi::Boolean::New(env, true);
}

// pin(path): make the map reachable from bpffs (e.g. for `alps-exec --pin`).
void BpfMap::Pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (bpf_obj_pin(checkedFd(env), path.c_str()) != 0) throwErr(env, "pin map " + name_ + " at " + path, errno);
}

void BpfMap::Close(const Napi::CallbackInfo&) { fd_.reset(); }

}  // namespace alpsbpf
