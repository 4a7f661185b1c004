// N-API surface of alps_bpf: a thin libbpf wrapper. Classes own every kernel handle (RAII);
// bulk data crosses as Buffers whose layouts src/native/bpf.ts encodes/decodes. Entry points:
//   BpfObject(path, {pinRoot})  open/load/attach (tracing and struct_ops), map(name)
//   BpfMap                      lookup/update/delete/updateBatch/keys, task storage by pid
//   RingBuffer(map, cb)         records delivered on the event loop (epoll fd + uv_poll)
//   enableStats()/progStats(fd) BPF run-time statistics
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>

#include "bpf/common.h"
#include "bpf/map.h"

namespace alpsbpf {
Napi::Function initObject(Napi::Env env);
Napi::Function initLink(Napi::Env env);
Napi::Function initRingBuffer(Napi::Env env);

namespace {

// Holds the BPF_ENABLE_STATS fd: run_time_ns/run_cnt are counted while it is open.
class StatsHandle : public Napi::ObjectWrap<StatsHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "StatsHandle", {InstanceMethod("close", &StatsHandle::Close)});
  }
  explicit StatsHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StatsHandle>(info) {
    int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (fd < 0) throwErr(info.Env(), "bpf_enable_stats(BPF_STATS_RUN_TIME)", errno);
    fd_ = UniqueFd(fd);
  }

 private:
  void Close(const Napi::CallbackInfo&) { fd_.reset(); }
  UniqueFd fd_;
};

// progStats(progFd) -> {id, name, runTimeNs, runCnt, recursionMisses}
Napi::Value ProgStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct bpf_prog_info pi = {};
  __u32 len = sizeof(pi);
  if (bpf_prog_get_info_by_fd(fd, &pi, &len) != 0) throwErr(env, "prog info", errno);
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", pi.id);
  o.Set("name", pi.name);
  o.Set("runTimeNs", static_cast<double>(pi.run_time_ns));
  o.Set("runCnt", static_cast<double>(pi.run_cnt));
  o.Set("recursionMisses", static_cast<double>(pi.recursion_misses));
  return o;
}

// mapFromPin(path) -> BpfMap for a map pinned in bpffs.
Napi::Value MapFromPin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd.valid()) throwErr(env, "bpf_obj_get " + path, errno);
  return BpfMap::Create(env, fd.get(), "");
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), std::to_string(libbpf_major_version()) + "." +
                                           std::to_string(libbpf_minor_version()));
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), libbpf_num_possible_cpus());
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  installLogger();
  auto* data = new AddonData();
  env.SetInstanceData(data);
  Napi::Function map = BpfMap::Init(env);
  Napi::Function link = initLink(env);
  data->mapCtor = Napi::Persistent(map);
  data->linkCtor = Napi::Persistent(link);
  exports.Set("BpfObject", initObject(env));
  exports.Set("BpfMap", map);
  exports.Set("BpfLink", link);
  exports.Set("RingBuffer", initRingBuffer(env));
  exports.Set("StatsHandle", StatsHandle::Init(env));
  exports.Set("progStats", Napi::Function::New(env, ProgStats));
  exports.Set("mapFromPin", Napi::Function::New(env, MapFromPin));
  exports.Set("libbpfVersion", Napi::Function::New(env, Version));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus));
  return exports;
}

}  // namespace alpsbpf

static Napi::Object InitAlpsBpf(Napi::Env env, Napi::Object exports) { return alpsbpf::Init(env, exports); }

NODE_API_MODULE(alps_bpf, InitAlpsBpf)
