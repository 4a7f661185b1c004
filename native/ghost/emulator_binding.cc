// N-API surface of the emulated ghOSt kernel (ghost-kernel/emu): the driver side. Every call runs
// under the kernel lock, so agent threads may use the same kernel at the same time.
#include "ghost/emulator_binding.h"

#include <cmath>
#include <map>
#include <mutex>
#include <vector>

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
                           InstanceMethod("setProgram", &Emulator::SetProgram),
                           InstanceMethod("nextProgramEvent", &Emulator::NextProgramEvent),
                           InstanceMethod("takeCompletions", &Emulator::TakeCompletions),
                           InstanceMethod("accounting", &Emulator::Accounting),
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
    o.Set("cpuNs", double(kernel_->threadCpu(*th)));
    o.Set("fairCpu", th->fairCpu);
    o.Set("programmed", th->programmed);
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
    o.Set("fairTid", c->fairTid);
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

  // setProgram(tid, [{kind: 'cpu' | 'block', ns}]): fractional ns round up (a Workload's phases).
  Napi::Value SetProgram(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int tid = argInt(info, 0, "tid");
    if (info.Length() < 2 || !info[1].IsArray()) throw Napi::TypeError::New(env, "argument phases must be an array");
    Napi::Array a = info[1].As<Napi::Array>();
    std::vector<ghost::emu::Phase> phases;
    phases.reserve(a.Length());
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value v = a.Get(i);
      if (!v.IsObject()) throw Napi::TypeError::New(env, "phase " + std::to_string(i) + " must be {kind, ns}");
      Napi::Object p = v.As<Napi::Object>();
      const std::string kind = p.Get("kind").ToString().Utf8Value();
      const double ns = p.Get("ns").ToNumber().DoubleValue();
      if (kind != "cpu" && kind != "block")
        throw Napi::RangeError::New(env, "phase " + std::to_string(i) + ": kind must be 'cpu' or 'block'");
      if (!std::isfinite(ns) || ns < 0 || ns > 9.0e15)
        throw Napi::RangeError::New(env, "phase " + std::to_string(i) + ": ns must be in 0..9e15");
      phases.push_back({kind == "cpu", int64_t(std::ceil(ns))});
    }
    return Do(info, [&](K& k) { k.setProgram(tid, std::move(phases)); });
  }
  // nextProgramEvent(): virtual ns of the next program event, or Infinity when none.
  Napi::Value NextProgramEvent(const Napi::CallbackInfo& info) {
    auto l = kernel_->lock();
    const int64_t at = kernel_->nextProgramEvent();
    return Napi::Number::New(info.Env(), at == INT64_MAX ? INFINITY : double(at));
  }
  Napi::Value TakeCompletions(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<ghost::emu::Completion> cs;
    {
      auto l = kernel_->lock();
      cs = kernel_->takeCompletions();
    }
    Napi::Array a = Napi::Array::New(env, cs.size());
    for (size_t i = 0; i < cs.size(); i++) {
      const auto& c = cs[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("tid", c.tid);
      o.Set("pid", c.pid);
      o.Set("startNs", double(c.startNs));
      o.Set("endNs", double(c.endNs));
      o.Set("cpuNs", double(c.cpuNs));
      o.Set("ghostNs", double(c.ghostNs));
      o.Set("fairNs", double(c.fairNs));
      o.Set("underFair", c.underFair);
      a.Set(uint32_t(i), o);
    }
    return a;
  }
  Napi::Value Accounting(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ghost::emu::Accounting acc;
    {
      auto l = kernel_->lock();
      acc = kernel_->accounting();
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("started", double(acc.started));
    o.Set("completed", double(acc.completed));
    o.Set("completedUnderFair", double(acc.completedUnderFair));
    o.Set("killed", double(acc.killed));
    o.Set("live", double(acc.live));
    o.Set("liveInGhost", double(acc.liveInGhost));
    o.Set("liveInFair", double(acc.liveInFair));
    o.Set("cpuNs", double(acc.cpuNs));
    o.Set("ghostNs", double(acc.ghostNs));
    o.Set("fairNs", double(acc.fairNs));
    o.Set("remainingCpuNs", double(acc.remainingCpuNs));
    return o;
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
