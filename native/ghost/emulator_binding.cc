// N-API surface of the emulated ghOSt kernel (ghost-kernel/emu): the driver side. Every call runs
// under the kernel lock, so agent threads may use the same kernel at the same time.
#include "ghost/emulator_binding.h"

#include <map>
#include <mutex>

#include "emu/kernel.h"
#include "ghost/binding_util.h"

namespace alps_ghost {

namespace {

using K = ghost::emu::Kernel;

// Kernels by id, so a worker thread's Client can reach a kernel built on the main thread.
std::mutex gRegistryMu;
std::map<uint32_t, std::weak_ptr<K>> gRegistry;
uint32_t gNextId = 1;

class Machine final : public EmulatedMachine {
 public:
  explicit Machine(std::shared_ptr<K> k) : k_(std::move(k)) {}
  std::shared_ptr<ghost::Sys> sysFor(int pid, int tid) override { return k_->sysFor(pid, tid); }
  std::string root() const override { return k_->options().root; }
  int64_t now() override {
    auto l = k_->lock();
    return k_->now();
  }

 private:
  std::shared_ptr<K> k_;
};

struct EnvData {
  Napi::FunctionReference ctor;
};

class Emulator : public Napi::ObjectWrap<Emulator> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Emulator",
                       {
                           InstanceMethod("id", &Emulator::Id),
                           InstanceMethod("now", &Emulator::Now),
                           InstanceMethod("advance", &Emulator::Advance),
                           InstanceMethod("spawn", &Emulator::Spawn),
                           InstanceMethod("wake", &Emulator::Wake),
                           InstanceMethod("block", &Emulator::Block),
                           InstanceMethod("yield", &Emulator::Yield),
                           InstanceMethod("exit", &Emulator::Exit),
                           InstanceMethod("depart", &Emulator::Depart),
                           InstanceMethod("setAffinity", &Emulator::SetAffinity),
                           InstanceMethod("setNice", &Emulator::SetNice),
                           InstanceMethod("switchto", &Emulator::Switchto),
                           InstanceMethod("latchFailure", &Emulator::LatchFailure),
                           InstanceMethod("setCpuBusy", &Emulator::SetCpuBusy),
                           InstanceMethod("agentSleep", &Emulator::AgentSleep),
                           InstanceMethod("armTimer", &Emulator::ArmTimer),
                           InstanceMethod("setCpuOffline", &Emulator::SetCpuOffline),
                           InstanceMethod("reschedule", &Emulator::Reschedule),
                           InstanceMethod("evict", &Emulator::Evict),
                           InstanceMethod("killProcess", &Emulator::KillProcess),
                           InstanceMethod("thread", &Emulator::Thread),
                           InstanceMethod("cpu", &Emulator::Cpu),
                           InstanceMethod("enclave", &Emulator::Enclave),
                           InstanceMethod("messagesProduced", &Emulator::MessagesProduced),
                           InstanceMethod("traceStatusWords", &Emulator::TraceStatusWords),
                           InstanceMethod("swTrace", &Emulator::SwTrace),
                       });
  }

  explicit Emulator(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Emulator>(info) {
    ghost::emu::Options o;
    if (info.Length() > 0 && info[0].IsObject()) {
      Napi::Object opts = info[0].As<Napi::Object>();
      if (opts.Has("cpus")) o.ncpus = opts.Get("cpus").As<Napi::Number>().Int32Value();
      if (opts.Has("tickNs")) o.tickNs = opts.Get("tickNs").As<Napi::Number>().Int64Value();
      if (opts.Has("capSysNice")) o.capSysNice = opts.Get("capSysNice").As<Napi::Boolean>().Value();
      if (opts.Has("autoPreempt")) o.autoPreempt = opts.Get("autoPreempt").As<Napi::Boolean>().Value();
      if (opts.Has("versions")) {
        o.versions.clear();
        Napi::Array a = opts.Get("versions").As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) o.versions.push_back(a.Get(i).As<Napi::Number>().Uint32Value());
      }
    }
    kernel_ = guarded(info.Env(), [&] { return std::make_shared<K>(o); });
    std::lock_guard<std::mutex> g(gRegistryMu);
    id_ = gNextId++;
    gRegistry[id_] = kernel_;
  }
  ~Emulator() override {
    std::lock_guard<std::mutex> g(gRegistryMu);
    gRegistry.erase(id_);
  }
  std::shared_ptr<K> kernel() const { return kernel_; }

 private:
  template <typename F>
  Napi::Value Do(const Napi::CallbackInfo& info, F&& fn) {
    guarded(info.Env(), [&] {
      auto l = kernel_->lock();
      fn(*kernel_);
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), id_); }
  Napi::Value Now(const Napi::CallbackInfo& info) {
    auto l = kernel_->lock();
    return Napi::Number::New(info.Env(), double(kernel_->now()));
  }
  Napi::Value Advance(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.advance(argInt64(info, 0, "ns")); });
  }
  Napi::Value Spawn(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) {
      k.spawn(argInt(info, 0, "pid"), argInt(info, 1, "tid"), info.Length() < 3 || info[2].ToBoolean());
    });
  }
  Napi::Value Wake(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.wake(argInt(info, 0, "tid"), info.Length() > 1 ? argInt(info, 1, "wakerCpu") : -1); });
  }
  Napi::Value Block(const Napi::CallbackInfo& info) { return Do(info, [&](K& k) { k.block(argInt(info, 0, "tid")); }); }
  Napi::Value Yield(const Napi::CallbackInfo& info) { return Do(info, [&](K& k) { k.yield(argInt(info, 0, "tid")); }); }
  Napi::Value Exit(const Napi::CallbackInfo& info) { return Do(info, [&](K& k) { k.exit(argInt(info, 0, "tid")); }); }
  Napi::Value Depart(const Napi::CallbackInfo& info) { return Do(info, [&](K& k) { k.depart(argInt(info, 0, "tid")); }); }
  Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.setAffinity(argInt(info, 0, "tid")); });
  }
  Napi::Value SetNice(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.setNice(argInt(info, 0, "tid"), argInt(info, 1, "nice")); });
  }
  Napi::Value Switchto(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.switchto(argInt(info, 0, "tid")); });
  }
  Napi::Value LatchFailure(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.latchFailure(argInt(info, 0, "tid"), argInt(info, 1, "errno")); });
  }
  Napi::Value SetCpuBusy(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) {
      k.setCpuBusy(argInt(info, 0, "cpu"), info[1].ToBoolean(), info.Length() > 2 ? argInt(info, 2, "nextTid") : 0);
    });
  }
  Napi::Value AgentSleep(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.agentSleep(argInt(info, 0, "cpu"), info[1].ToBoolean()); });
  }
  Napi::Value ArmTimer(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) {
      k.armTimer(argInt(info, 0, "cpu"), argInt64(info, 1, "atNs"), uint64_t(argInt64(info, 2, "type")),
                 uint64_t(argInt64(info, 3, "cookie")));
    });
  }
  Napi::Value SetCpuOffline(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.setCpuOffline(argInt(info, 0, "cpu"), info[1].ToBoolean()); });
  }
  Napi::Value Reschedule(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.reschedule(argInt(info, 0, "cpu")); });
  }
  Napi::Value Evict(const Napi::CallbackInfo& info) { return Do(info, [&](K& k) { k.evict(argInt(info, 0, "tid")); }); }
  Napi::Value KillProcess(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.killProcess(argInt(info, 0, "pid")); });
  }
  Napi::Value Thread(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto l = kernel_->lock();
    const ghost::emu::EThread* th = kernel_->thread(argInt(info, 0, "tid"));
    if (!th) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("pid", th->pid);
    o.Set("gtid", std::to_string(th->gtid));
    const ghost::emu::ETask* t = th->task;
    o.Set("cls", t ? (t->isAgent ? "agent" : "ghost") : "cfs");
    o.Set("runnable", t ? t->runnable : th->runnable);
    o.Set("onCpu", t && t->oncpu ? t->cpu : -1);
    o.Set("latchedCpu", t ? t->latchedCpu : -1);
    o.Set("runtimeNs", t ? double(kernel_->runtimeOf(*t)) : 0.0);
    return o;
  }
  Napi::Value Cpu(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto l = kernel_->lock();
    const ghost::emu::ECpu* c = kernel_->cpu(argInt(info, 0, "cpu"));
    if (!c) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("enclave", double(c->enclave));
    o.Set("agentTid", c->agentTid);
    o.Set("blockedInRun", c->blockedInRun);
    o.Set("agentAsleep", c->agentAsleep);
    o.Set("busy", c->busy);
    o.Set("agentBarrier", c->agentBarrier);
    o.Set("current", c->current ? c->current->tid : 0);
    o.Set("latched", c->latched ? c->latched->tid : 0);
    return o;
  }
  Napi::Value Enclave(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto l = kernel_->lock();
    const ghost::emu::EEnclave* e = kernel_->enclave(uint64_t(argInt64(info, 0, "id")));
    if (!e) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("alive", e->alive);
    o.Set("destroyReason", e->destroyReason);
    o.Set("abi", e->abi);
    o.Set("online", e->onlineHolderPid != 0);
    Napi::Array cpus = Napi::Array::New(env, e->cpus.size());
    for (size_t i = 0; i < e->cpus.size(); i++) cpus.Set(uint32_t(i), e->cpus[i]);
    o.Set("cpus", cpus);
    return o;
  }
  Napi::Value MessagesProduced(const Napi::CallbackInfo& info) {
    auto l = kernel_->lock();
    return Napi::Number::New(info.Env(), double(kernel_->messagesProduced()));
  }
  Napi::Value TraceStatusWords(const Napi::CallbackInfo& info) {
    return Do(info, [&](K& k) { k.traceStatusWords(info.Length() > 0 && info[0].ToBoolean()); });
  }
  // swTrace(): [gtid (decimal string), barrier, flags] per status-word publication since tracing began.
  Napi::Value SwTrace(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto l = kernel_->lock();
    const auto& tr = kernel_->swTrace();
    Napi::Array a = Napi::Array::New(env, tr.size());
    for (size_t i = 0; i < tr.size(); i++) {
      Napi::Array e = Napi::Array::New(env, 3);
      e.Set(0u, std::to_string(tr[i].gtid));
      e.Set(1u, tr[i].barrier);
      e.Set(2u, tr[i].flags);
      a.Set(uint32_t(i), e);
    }
    return a;
  }

  std::shared_ptr<K> kernel_;
  uint32_t id_ = 0;
};

}  // namespace

Napi::Function initEmulator(Napi::Env env) {
  Napi::Function ctor = Emulator::Init(env);
  auto* data = new EnvData{Napi::Persistent(ctor)};
  env.SetInstanceData<EnvData>(data);
  return ctor;
}

std::shared_ptr<EmulatedMachine> emulatedMachine(Napi::Env env, Napi::Value v) {
  if (v.IsNumber()) {
    uint32_t id = v.As<Napi::Number>().Uint32Value();
    std::lock_guard<std::mutex> g(gRegistryMu);
    auto it = gRegistry.find(id);
    std::shared_ptr<K> k = it == gRegistry.end() ? nullptr : it->second.lock();
    if (!k) throw Napi::TypeError::New(env, "emulator " + std::to_string(id) + " does not exist (any more)");
    return std::make_shared<Machine>(k);
  }
  EnvData* data = env.GetInstanceData<EnvData>();
  if (!v.IsObject() || !data || !v.As<Napi::Object>().InstanceOf(data->ctor.Value()))
    throw Napi::TypeError::New(env, "emulator must be an Emulator or an emulator id");
  return std::make_shared<Machine>(Napi::ObjectWrap<Emulator>::Unwrap(v.As<Napi::Object>())->kernel());
}

}  // namespace alps_ghost
