// N-API surface of alps_ghost: a thin, batch-oriented boundary. Hot paths (drain, commit) move
// many messages/transactions per call through caller-provided buffers; status words and txn slots
// are exposed as zero-copy ArrayBuffers over the shared mappings. The typed wrapper is
// src/native/ghost.ts; the layouts it mirrors are Decoded (queue.h) and the commit op format
// (enclave.h op::). The emulator's JS class lives in emulator_binding.cc, the satellite threads in
// satellites.cc.
#include <napi.h>
#include <time.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "ghost/abi.h"
#include "ghost/binding_util.h"
#include "ghost/emulator_binding.h"
#include "ghost/enclave.h"
#include "ghost/fifo_baseline.h"
#include "ghost/queue.h"
#include "ghost/satellites.h"
#include "ghost/sys_scx.h"
#include "ghost/tasks.h"

namespace {

using alps_ghost::argInt;
using alps_ghost::argInt64;
using alps_ghost::argIntList;
using alps_ghost::guarded;
using alps_ghost::statsObject;
using alps_ghost::toJs;
using ghost::SysError;
namespace abi = ghost::abi;
namespace op = ghost::op;

// Shared state behind a Client: the zero-copy views keep it alive until the JS GC drops them.
struct ClientState {
  std::shared_ptr<ghost::Sys> sys;
  std::string root;
  std::unique_ptr<ghost::Enclave> enclave;
  ghost::TaskTable tasks;
  std::shared_ptr<alps_ghost::EmulatedMachine> machine;  // null on a real kernel
  int pid = 0, tid = 0;                                  // emulated process and thread
  std::unique_ptr<ghost::Satellites> satellites;
  // Under the emulator each satellite thread is its own emulated thread with its own handle.
  std::vector<std::unique_ptr<ghost::Enclave>> satelliteEnclaves;
  std::unique_ptr<ghost::FifoBaseline> fifo;  // the benchmark's native baseline agent
  ~ClientState() {
    if (satellites && enclave) satellites->stop(*enclave);
  }
};

class Client : public Napi::ObjectWrap<Client> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "Client",
        {
            InstanceMethod("present", &Client::Present),
            InstanceMethod("versions", &Client::Versions),
            InstanceMethod("hasCapSysNice", &Client::HasCapSysNice),
            InstanceMethod("createEnclave", &Client::CreateEnclave),
            InstanceMethod("attach", &Client::Attach),
            InstanceMethod("abiVersion", &Client::AbiVersion),
            InstanceMethod("enclaveId", &Client::EnclaveId),
            InstanceMethod("cpus", &Client::Cpus),
            InstanceMethod("setCpus", &Client::SetCpus),
            InstanceMethod("status", &Client::Status),
            InstanceMethod("tunable", &Client::Tunable),
            InstanceMethod("setTunable", &Client::SetTunable),
            InstanceMethod("enterTask", &Client::EnterTask),
            InstanceMethod("destroy", &Client::Destroy),
            InstanceMethod("discoverTasks", &Client::DiscoverTasks),
            InstanceMethod("createSwRegion", &Client::CreateSwRegion),
            InstanceMethod("createQueue", &Client::CreateQueue),
            InstanceMethod("setDefaultQueue", &Client::SetDefaultQueue),
            InstanceMethod("configQueueWakeup", &Client::ConfigQueueWakeup),
            InstanceMethod("assocQueue", &Client::AssocQueue),
            InstanceMethod("becomeAgent", &Client::BecomeAgent),
            InstanceMethod("agentSwIndex", &Client::AgentSwIndex),
            InstanceMethod("taskSwIndex", &Client::TaskSwIndex),
            InstanceMethod("setOnline", &Client::SetOnline),
            InstanceMethod("run", &Client::Run),
            InstanceMethod("cpuTime", &Client::CpuTime),
            InstanceMethod("swFree", &Client::SwFree),
            InstanceMethod("null", &Client::Null),
            InstanceMethod("drain", &Client::Drain),
            InstanceMethod("pending", &Client::Pending),
            InstanceMethod("drainStats", &Client::DrainStats),
            InstanceMethod("commit", &Client::Commit),
            InstanceMethod("bindBuffers", &Client::BindBuffers),
            InstanceMethod("drainBound", &Client::DrainBound),
            InstanceMethod("commitBound", &Client::CommitBound),
            InstanceMethod("resolveBound", &Client::ResolveBound),
            InstanceMethod("hotCalls", &Client::HotCalls),
            InstanceMethod("actAs", &Client::ActAs),
            InstanceMethod("txnState", &Client::TxnState),
            InstanceMethod("abortTxn", &Client::AbortTxn),
            InstanceMethod("cpuDataView", &Client::CpuDataView),
            InstanceMethod("queueView", &Client::QueueView),
            InstanceMethod("gtidOf", &Client::GtidOf),
            InstanceMethod("internGtid", &Client::InternGtid),
            InstanceMethod("taskCount", &Client::TaskCount),
            InstanceMethod("close", &Client::Close),
            InstanceMethod("startSatellites", &Client::StartSatellites),
            InstanceMethod("satelliteStatus", &Client::SatelliteStatus),
            InstanceMethod("stopSatellites", &Client::StopSatellites),
            InstanceMethod("clockNs", &Client::ClockNs),
            InstanceMethod("fifoBaselineStart", &Client::FifoBaselineStart),
            InstanceMethod("fifoBaselineStep", &Client::FifoBaselineStep),
            InstanceMethod("fifoBaselineStepFn", &Client::FifoBaselineStepFn),
        });
  }

  // new Client({ emulator?, pid?, tid?, root? }): without an emulator it talks to the real kernel.
  explicit Client(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Client>(info) {
    st_ = std::make_shared<ClientState>();
    st_->root = "/sys/fs/ghost";
    Napi::Object opts = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>()
                                                                 : Napi::Object::New(info.Env());
    if (opts.Has("root")) st_->root = opts.Get("root").As<Napi::String>().Utf8Value();
    if (opts.Has("emulator") && !opts.Get("emulator").IsUndefined()) {
      st_->machine = alps_ghost::emulatedMachine(info.Env(), opts.Get("emulator"));
      st_->pid = opts.Has("pid") ? opts.Get("pid").As<Napi::Number>().Int32Value() : 1000;
      st_->tid = opts.Has("tid") ? opts.Get("tid").As<Napi::Number>().Int32Value() : st_->pid;
      st_->sys = st_->machine->sysFor(st_->pid, st_->tid);
      st_->root = st_->machine->root();
    } else if (opts.Has("scx") && opts.Get("scx").IsObject()) {
      // ghOSt ABI on sched_ext (sys_scx.h): {loader, object[, pinDir]}; ghostfs paths are virtual.
      Napi::Object so = opts.Get("scx").As<Napi::Object>();
      ghost::ScxOptions o;
      o.loader = so.Get("loader").As<Napi::String>().Utf8Value();
      o.object = so.Get("object").As<Napi::String>().Utf8Value();
      if (so.Has("pinDir")) o.pinDir = so.Get("pinDir").As<Napi::String>().Utf8Value();
      o.root = st_->root;
      st_->sys = ghost::scxSys(o);
    } else {
      st_->sys = ghost::linuxSys();
    }
  }

 private:
  ghost::Enclave& enc(Napi::Env env) {
    if (!st_ || !st_->enclave) throw Napi::Error::New(env, "alps_ghost: client is not attached to an enclave");
    return *st_->enclave;
  }
  ghost::Queue& queue(const Napi::CallbackInfo& info, size_t i) {
    int qi = argInt(info, i, "queue");
    ghost::Queue* q = enc(info.Env()).queue(size_t(qi < 0 ? 1u << 30 : qi));
    if (!q) throw Napi::RangeError::New(info.Env(), "no queue " + std::to_string(qi));
    return *q;
  }
  uint64_t gtidOf(Napi::Env env, int32_t handle) {
    if (handle <= 0) return uint64_t(int64_t(handle));
    ghost::TaskEntry* e = st_->tasks.get(uint32_t(handle));
    if (!e) throw Napi::RangeError::New(env, "unknown task handle " + std::to_string(handle));
    return e->gtid;
  }
  // Wraps `len` bytes at `data` as an external ArrayBuffer that keeps the client state alive.
  Napi::Value view(Napi::Env env, uint8_t* data, size_t len) {
    auto* keep = new std::shared_ptr<ClientState>(st_);
    return Napi::ArrayBuffer::New(env, data, len, [](Napi::Env, void*, std::shared_ptr<ClientState>* k) { delete k; },
                                  keep);
  }

  Napi::Value Present(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), ghost::Ghostfs(st_->sys, st_->root).present());
  }
  Napi::Value Versions(const Napi::CallbackInfo& info) {
    auto v = guarded(info.Env(), [&] { return ghost::Ghostfs(st_->sys, st_->root).versions(); });
    Napi::Array a = Napi::Array::New(info.Env(), v.size());
    for (size_t i = 0; i < v.size(); i++) a.Set(uint32_t(i), v[i]);
    return a;
  }
  Napi::Value HasCapSysNice(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), st_->sys->hasCapSysNice());
  }
  Napi::Value CreateEnclave(const Napi::CallbackInfo& info) {
    uint32_t abiV = uint32_t(argInt(info, 0, "abi"));
    std::string extra = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    uint64_t id = guarded(info.Env(), [&] { return ghost::Ghostfs(st_->sys, st_->root).createEnclave(abiV, extra); });
    return Napi::Number::New(info.Env(), double(id));
  }
  Napi::Value Attach(const Napi::CallbackInfo& info) {
    uint64_t id = uint64_t(argInt64(info, 0, "id"));
    uint32_t abiV = info.Length() > 1 ? uint32_t(argInt(info, 1, "abi")) : 0;
    if (st_->satellites && st_->satellites->running())
      throw Napi::Error::New(info.Env(), "attach: stop the satellites of the current enclave first");
    boundQueue_ = nullptr;
    out_ = nullptr;
    ops_ = nullptr;
    lookups_ = nullptr;
    frees_ = nullptr;
    pool_.reset();
    guarded(info.Env(), [&] {
      st_->enclave = ghost::Enclave::attach(st_->sys, st_->root, id, abiV);
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value AbiVersion(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), enc(info.Env()).abiVersion()); }
  Napi::Value EnclaveId(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(enc(info.Env()).id()));
  }
  Napi::Value Cpus(const Napi::CallbackInfo& info) {
    auto v = guarded(info.Env(), [&] { return enc(info.Env()).cpus(); });
    Napi::Array a = Napi::Array::New(info.Env(), v.size());
    for (size_t i = 0; i < v.size(); i++) a.Set(uint32_t(i), v[i]);
    return a;
  }
  Napi::Value SetCpus(const Napi::CallbackInfo& info) {
    auto cpus = argIntList(info, 0, "cpus");
    guarded(info.Env(), [&] {
      enc(info.Env()).setCpus(cpus);
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value Status(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), guarded(info.Env(), [&] { return enc(info.Env()).status(); }));
  }
  Napi::Value Tunable(const Napi::CallbackInfo& info) {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    return Napi::Number::New(info.Env(), double(guarded(info.Env(), [&] { return enc(info.Env()).tunable(name); })));
  }
  Napi::Value SetTunable(const Napi::CallbackInfo& info) {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    int64_t v = argInt64(info, 1, "value");
    guarded(info.Env(), [&] {
      enc(info.Env()).setTunable(name, v);
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value EnterTask(const Napi::CallbackInfo& info) {
    int64_t tid = argInt64(info, 0, "tid");
    guarded(info.Env(), [&] {
      enc(info.Env()).enterTask(tid);
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    enc(info.Env()).destroy();
    return info.Env().Undefined();
  }
  Napi::Value DiscoverTasks(const Napi::CallbackInfo& info) {
    guarded(info.Env(), [&] {
      enc(info.Env()).discoverTasks();
      return 0;
    });
    return info.Env().Undefined();
  }
  // Returns a zero-copy (read-only by contract) view of the whole status-word region.
  Napi::Value CreateSwRegion(const Napi::CallbackInfo& info) {
    uint32_t rid = info.Length() > 0 ? uint32_t(argInt(info, 0, "rid")) : 0;
    int node = info.Length() > 1 ? argInt(info, 1, "node") : 0;
    ghost::SwRegion& r = guarded(info.Env(), [&]() -> ghost::SwRegion& { return enc(info.Env()).createSwRegion(rid, node); });
    return view(info.Env(), r.base(), r.size());
  }
  Napi::Value CreateQueue(const Napi::CallbackInfo& info) {
    int elems = argInt(info, 0, "elems");
    int node = info.Length() > 1 ? argInt(info, 1, "node") : 0;
    guarded(info.Env(), [&] {
      enc(info.Env()).createQueue(elems, node);
      return 0;
    });
    return Napi::Number::New(info.Env(), double(enc(info.Env()).queueCount() - 1));
  }
  Napi::Value SetDefaultQueue(const Napi::CallbackInfo& info) {
    ghost::Queue& q = queue(info, 0);
    guarded(info.Env(), [&] {
      enc(info.Env()).setDefaultQueue(q);
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value ConfigQueueWakeup(const Napi::CallbackInfo& info) {
    ghost::Queue& q = queue(info, 0);
    auto cpus = argIntList(info, 1, "cpus");
    guarded(info.Env(), [&] {
      enc(info.Env()).configQueueWakeup(q, cpus);
      return 0;
    });
    return info.Env().Undefined();
  }
  // assocQueue(queue, handle, barrier): status bits, or -errno (ESTALE/ENOENT are races to handle).
  Napi::Value AssocQueue(const Napi::CallbackInfo& info) {
    ghost::Queue& q = queue(info, 0);
    uint64_t g = gtidOf(info.Env(), argInt(info, 1, "task"));
    return Napi::Number::New(info.Env(), enc(info.Env()).assocQueue(q, g, uint32_t(argInt64(info, 2, "barrier"))));
  }
  // becomeAgent(cpu, queue | -1): 0 or -errno (EBUSY: retry).
  Napi::Value BecomeAgent(const Napi::CallbackInfo& info) {
    int cpu = argInt(info, 0, "cpu");
    int qi = argInt(info, 1, "queue");
    int qfd = qi < 0 ? -1 : queue(info, 1).fd();
    return Napi::Number::New(info.Env(), enc(info.Env()).becomeAgent(cpu, qfd));
  }
  Napi::Value AgentSwIndex(const Napi::CallbackInfo& info) {
    int cpu = argInt(info, 0, "cpu");
    auto sw = guarded(info.Env(), [&] { return enc(info.Env()).swGetInfo(abi::kSrcAgent, uint64_t(cpu)); });
    return Napi::Number::New(info.Env(), sw.index);
  }
  Napi::Value TaskSwIndex(const Napi::CallbackInfo& info) {
    uint64_t g = gtidOf(info.Env(), argInt(info, 0, "task"));
    auto sw = guarded(info.Env(), [&] { return enc(info.Env()).swGetInfo(abi::kSrcTask, g); });
    return Napi::Number::New(info.Env(), sw.index);
  }
  Napi::Value SetOnline(const Napi::CallbackInfo& info) {
    bool on = info.Length() > 0 && info[0].ToBoolean();
    guarded(info.Env(), [&] {
      enc(info.Env()).setOnline(on);
      return 0;
    });
    return info.Env().Undefined();
  }
  // run(gtid 0 | -1, agentBarrier, cpu, runFlags, taskBarrier): 0 or -errno. taskBarrier is 0 on
  // ghOSt for these gtids; the sched_ext backend reads it in RUN(0) as a timeout in µs.
  Napi::Value Run(const Napi::CallbackInfo& info) {
    int64_t g = argInt64(info, 0, "gtid");
    uint32_t barrier = uint32_t(argInt64(info, 1, "agentBarrier"));
    int cpu = argInt(info, 2, "cpu");
    int flags = info.Length() > 3 ? argInt(info, 3, "runFlags") : 0;
    uint32_t taskBarrier = info.Length() > 4 ? uint32_t(argInt64(info, 4, "taskBarrier")) : 0;
    return Napi::Number::New(info.Env(), enc(info.Env()).run(g, barrier, taskBarrier, cpu, flags));
  }
  Napi::Value CpuTime(const Napi::CallbackInfo& info) {
    uint64_t g = gtidOf(info.Env(), argInt(info, 0, "task"));
    return Napi::Number::New(info.Env(), double(enc(info.Env()).cpuTime(g)));
  }
  // swFree(handle): SW_FREE of the task's word and release of the handle. 0 or -errno.
  Napi::Value SwFree(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), freeTask(info.Env(), argInt(info, 0, "task")));
  }
  int freeTask(Napi::Env env, int32_t h) {
    ghost::TaskEntry* e = st_->tasks.get(uint32_t(h));
    if (!e) return -ENOENT;
    ghost::Enclave& en = enc(env);
    int rc = en.swFree(e->sw);
    // The kernel answers EINVAL both for "not CANFREE yet" and for a word that is already free (a
    // double free). Keep the handle only in the first case — the word is still this task's and
    // allocated — so the agent may retry after the next message; otherwise it would leak.
    bool stillOurs = false;
    if (rc == -EINVAL && en.swRegion()) {
      if (const abi::StatusWord* w = en.swRegion()->word(e->sw)) {
        ghost::SwSnapshot s = ghost::readSw(w);
        stillOurs = (s.flags & abi::kSwFAllocated) && s.gtid == e->gtid;
      }
    }
    if (!stillOurs) st_->tasks.release(uint32_t(h));
    return rc;
  }
  Napi::Value Null(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), enc(info.Env()).null()); }

  // drain(queue, out ArrayBuffer, max?): number of 64-byte records written.
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    ghost::Queue& q = queue(info, 0);
    if (info.Length() < 2 || !info[1].IsArrayBuffer())
      throw Napi::TypeError::New(info.Env(), "drain: out must be an ArrayBuffer");
    Napi::ArrayBuffer ab = info[1].As<Napi::ArrayBuffer>();
    size_t max = ab.ByteLength() / sizeof(ghost::Decoded);
    if (info.Length() > 2) max = std::min<size_t>(max, size_t(std::max(0, argInt(info, 2, "max"))));
    if (reinterpret_cast<uintptr_t>(ab.Data()) % alignof(ghost::Decoded) != 0)
      throw Napi::Error::New(info.Env(), "drain: out buffer is not 8-byte aligned");
    size_t n = q.view().drain(enc(info.Env()).abiVersion(), st_->tasks, static_cast<ghost::Decoded*>(ab.Data()), max);
    return Napi::Number::New(info.Env(), double(n));
  }
  Napi::Value Pending(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), queue(info, 0).view().pending());
  }
  Napi::Value DrainStats(const Napi::CallbackInfo& info) { return statsObject(info.Env(), queue(info, 0).view().stats()); }

  // commit(ops Int32Array, count, sync?): opens every op's txn, submits them with one ioctl, and
  // writes each txn's state back into the op. Returns the ioctl's result (sync: 1 = group committed).
  Napi::Value Commit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "commit: ops must be an Int32Array");
    Napi::Int32Array ops = info[0].As<Napi::Int32Array>();
    size_t n = size_t(std::max(0, argInt(info, 1, "count")));
    bool sync = info.Length() > 2 && info[2].ToBoolean();
    if (n * op::kStride > ops.ElementLength()) throw Napi::RangeError::New(env, "commit: count exceeds ops");
    return Napi::Number::New(env, commitOps(env, ops.Data(), n, sync));
  }
  int commitOps(Napi::Env env, int32_t* o, size_t n, bool sync) {
    ghost::Enclave& e = enc(env);
    try {
      return e.commitOps(st_->tasks, o, n, sync);
    } catch (const SysError& err) {
      throw toJs(env, err);
    }
  }
  // bindBuffers(queue, out ArrayBuffer, ops Int32Array[, lookups Uint32Array, frees Int32Array
  // [, pool Int32Array, binds Uint32Array]]): the hot-loop buffers, bound once so
  // drainBound()/commitBound(n)/resolveBound(k) marshal no buffers. The buffers must stay attached
  // (not transferred) while bound; references keep them alive. `lookups` (kLookupStride u32 per
  // entry) and `frees` serve an agent that decodes the queue itself over queueView(): it only asks
  // the task table about gtids it has not seen. `pool` / `binds` (tasks.h) let it name a new task
  // without asking at all.
  Napi::Value BindBuffers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    boundQueue_ = &queue(info, 0);
    if (info.Length() < 3 || !info[1].IsArrayBuffer() || !info[2].IsTypedArray())
      throw Napi::TypeError::New(env, "bindBuffers(queue, out: ArrayBuffer, ops: Int32Array[, lookups, frees])");
    Napi::ArrayBuffer ab = info[1].As<Napi::ArrayBuffer>();
    Napi::Int32Array ops = info[2].As<Napi::Int32Array>();
    if (reinterpret_cast<uintptr_t>(ab.Data()) % alignof(ghost::Decoded) != 0)
      throw Napi::Error::New(env, "bindBuffers: out buffer is not 8-byte aligned");
    outRef_ = Napi::Persistent(ab);
    opsRef_ = Napi::Persistent(ops);
    out_ = static_cast<ghost::Decoded*>(ab.Data());
    outCap_ = ab.ByteLength() / sizeof(ghost::Decoded);
    ops_ = ops.Data();
    opsCap_ = ops.ElementLength() / op::kStride;
    lookups_ = nullptr;
    lookupsCap_ = 0;
    frees_ = nullptr;
    freesCap_ = 0;
    pool_.reset();
    if (info.Length() > 4) {
      if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
          !info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
        throw Napi::TypeError::New(env, "bindBuffers: lookups must be a Uint32Array and frees an Int32Array");
      Napi::Uint32Array lk = info[3].As<Napi::Uint32Array>();
      Napi::Int32Array fr = info[4].As<Napi::Int32Array>();
      lookupsRef_ = Napi::Persistent(lk);
      freesRef_ = Napi::Persistent(fr);
      lookups_ = lk.Data();
      lookupsCap_ = lk.ElementLength() / kLookupStride;
      frees_ = fr.Data();
      freesCap_ = fr.ElementLength();
    }
    if (info.Length() > 6) {
      if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
          !info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
        throw Napi::TypeError::New(env, "bindBuffers: pool must be an Int32Array and binds a Uint32Array");
      Napi::Int32Array pl = info[5].As<Napi::Int32Array>();
      Napi::Uint32Array bd = info[6].As<Napi::Uint32Array>();
      if (pl.ElementLength() < 2 || bd.ElementLength() < 1 + ghost::kBindStride)
        throw Napi::RangeError::New(env, "bindBuffers: pool needs room for one handle and binds for one entry");
      pool_ = std::make_unique<PoolBinding>();
      pool_->st = st_;
      pool_->pool = Napi::Persistent(pl);
      pool_->binds = Napi::Persistent(bd);
      st_->tasks.attachPool(pl.Data(), pl.ElementLength() - 1, bd.Data(), (bd.ElementLength() - 1) / ghost::kBindStride);
    }
    return env.Undefined();
  }
  Napi::Value DrainBound(const Napi::CallbackInfo& info) {
    if (!boundQueue_ || !out_) throw Napi::Error::New(info.Env(), "drainBound: call bindBuffers first");
    size_t n = boundQueue_->view().drain(enc(info.Env()).abiVersion(), st_->tasks, out_, outCap_);
    return Napi::Number::New(info.Env(), double(n));
  }
  // commitBound(count, sync?, nfree?): first SW_FREE (and release) the first `nfree` handles of the
  // bound frees, then open and commit `count` ops. Returns the commit's result (0 when count = 0).
  Napi::Value CommitBound(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ops_) throw Napi::Error::New(env, "commitBound: call bindBuffers first");
    size_t n = size_t(std::max(0, argInt(info, 0, "count")));
    if (n > opsCap_) throw Napi::RangeError::New(env, "commitBound: count exceeds ops");
    size_t nfree = info.Length() > 2 ? size_t(std::max(0, argInt(info, 2, "nfree"))) : 0;
    if (nfree > freesCap_) throw Napi::RangeError::New(env, "commitBound: nfree exceeds the bound frees");
    for (size_t i = 0; i < nfree; i++) freeTask(env, frees_[i]);
    if (n == 0) return Napi::Number::New(env, 0);
    return Napi::Number::New(env, commitOps(env, ops_, n, info.Length() > 1 && info[1].ToBoolean()));
  }
  // resolveBound(k): for each of the first k lookups {gtidLo, gtidHi, isNew, swId, swIndex, out}:
  // out = the task's handle (TASK_NEW interns it and records its status word; otherwise 0 when
  // the gtid is unknown), exactly what drain() would have put in the record's `task`.
  Napi::Value ResolveBound(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!lookups_) throw Napi::Error::New(env, "resolveBound: bind lookups with bindBuffers first");
    size_t k = size_t(std::max(0, argInt(info, 0, "count")));
    if (k > lookupsCap_) throw Napi::RangeError::New(env, "resolveBound: count exceeds the bound lookups");
    resolveLookups(k);
    return env.Undefined();
  }
  void resolveLookups(size_t k) {
    for (size_t i = 0; i < k; i++) {
      uint32_t* l = lookups_ + i * kLookupStride;
      const uint64_t g = uint64_t(l[0]) | (uint64_t(l[1]) << 32);
      uint32_t h = l[2] ? st_->tasks.intern(g) : st_->tasks.find(g);
      if (l[2]) st_->tasks.get(h)->sw = abi::SwInfo{l[3], l[4]};
      l[5] = h;
    }
  }
  // hotCalls(ctl Int32Array[4]) -> { commit(), resolve() }: commitBound/resolveBound as plain
  // functions bound to this client, for the agent's loop. An instance method pays napi_unwrap on
  // every call (a private-symbol property lookup in the V8 runtime) and converts its arguments;
  // these take their operands from ctl — [0] ops count, [1] frees count, [2] lookups count — and
  // put commit's result in ctl[3]. Each function keeps the client alive (its `client` property).
  Napi::Value HotCalls(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[0].As<Napi::Int32Array>().ElementLength() < 4)
      throw Napi::TypeError::New(env, "hotCalls(ctl: Int32Array of at least 4)");
    Napi::Int32Array ctl = info[0].As<Napi::Int32Array>();
    ctlRef_ = Napi::Persistent(ctl);
    ctl_ = ctl.Data();
    Napi::Object out = Napi::Object::New(env);
    Napi::Function commit = Napi::Function::New(env, &Client::HotCommit, "commit", this);
    Napi::Function resolve = Napi::Function::New(env, &Client::HotResolve, "resolve", this);
    commit.Set("client", info.This());
    resolve.Set("client", info.This());
    out.Set("commit", commit);
    out.Set("resolve", resolve);
    return out;
  }
  static Napi::Value HotCommit(const Napi::CallbackInfo& info) {
    Client* self = static_cast<Client*>(info.Data());
    Napi::Env env = info.Env();
    if (!self->ops_ || !self->ctl_) throw Napi::Error::New(env, "commit: call bindBuffers and hotCalls first");
    int32_t* ctl = self->ctl_;
    size_t n = size_t(std::max(0, ctl[0]));
    size_t nfree = size_t(std::max(0, ctl[1]));
    if (n > self->opsCap_) throw Napi::RangeError::New(env, "commit: count exceeds ops");
    if (nfree > self->freesCap_) throw Napi::RangeError::New(env, "commit: nfree exceeds the bound frees");
    for (size_t i = 0; i < nfree; i++) self->freeTask(env, self->frees_[i]);
    ctl[3] = n == 0 ? 0 : self->commitOps(env, self->ops_, n, false);
    return env.Undefined();
  }
  static Napi::Value HotResolve(const Napi::CallbackInfo& info) {
    Client* self = static_cast<Client*>(info.Data());
    Napi::Env env = info.Env();
    if (!self->lookups_ || !self->ctl_) throw Napi::Error::New(env, "resolve: bind lookups with bindBuffers, and call hotCalls, first");
    size_t k = size_t(std::max(0, self->ctl_[2]));
    if (k > self->lookupsCap_) throw Napi::RangeError::New(env, "resolve: count exceeds the bound lookups");
    self->resolveLookups(k);
    return env.Undefined();
  }
  // actAs(tid): emulator only. Later calls of this client are made by emulated thread `tid` of
  // the same process (its fds and mappings stay valid): how the global agent's loop continues on
  // another CPU's agent thread when it moves (ghost-userspace PickNextGlobalCPU).
  Napi::Value ActAs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!st_->machine) throw Napi::Error::New(env, "actAs: only under the emulator (a real process changes threads)");
    int tid = argInt(info, 0, "tid");
    st_->sys = st_->machine->sysFor(st_->pid, tid);
    st_->tid = tid;
    if (st_->enclave) st_->enclave->setSys(st_->sys);
    return env.Undefined();
  }
  Napi::Value TxnState(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), enc(info.Env()).txns().state(argInt(info, 0, "cpu")));
  }
  Napi::Value AbortTxn(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), enc(info.Env()).txns().abort(argInt(info, 0, "cpu")));
  }
  Napi::Value CpuDataView(const Napi::CallbackInfo& info) {
    ghost::TxnArea& t = enc(info.Env()).txns();
    return view(info.Env(), t.base(), t.size());
  }
  // Zero-copy view of a queue mapping (header, ring indices, slots); read-only by contract.
  Napi::Value QueueView(const Napi::CallbackInfo& info) {
    ghost::Queue& q = queue(info, 0);
    return view(info.Env(), q.base(), q.size());
  }
  Napi::Value GtidOf(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), std::to_string(gtidOf(info.Env(), argInt(info, 0, "task"))));
  }
  // internGtid(decimal gtid): a handle for a task learnt elsewhere (another agent thread, /proc).
  Napi::Value InternGtid(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "internGtid(gtid: string)");
    std::string s = info[0].As<Napi::String>().Utf8Value();
    uint64_t g = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), g);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || g == 0 || (g >> 63))
      throw Napi::RangeError::New(info.Env(), "internGtid: bad gtid '" + s + "'");
    uint32_t h = st_->tasks.intern(g);
    try {
      st_->tasks.get(h)->sw = enc(info.Env()).swGetInfo(abi::kSrcTask, g);
    } catch (const SysError&) {
      // Unknown to the kernel right now: the handle still names it; SW_FREE will report ENOENT.
    }
    return Napi::Number::New(info.Env(), h);
  }
  Napi::Value TaskCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(st_->tasks.size())); }
  // Drops agent_online, stops satellites and this client's reference to the enclave; mappings go
  // when the views do.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (st_->enclave) {
      if (st_->satellites) st_->satellites->stop(*st_->enclave);
      st_->enclave->setOnline(false);
    }
    boundQueue_ = nullptr;
    out_ = nullptr;
    ops_ = nullptr;
    lookups_ = nullptr;
    frees_ = nullptr;
    pool_.reset();
    auto next = std::make_shared<ClientState>();
    next->sys = st_->sys;
    next->root = st_->root;
    next->machine = st_->machine;
    next->pid = st_->pid;
    next->tid = st_->tid;
    st_ = next;
    return info.Env().Undefined();
  }
  // startSatellites(cpus, queue, tidBase?): native satellite agent threads. Under the emulator
  // satellite c is emulated thread tidBase + c of this client's process (default tid * 1000).
  Napi::Value StartSatellites(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ghost::Enclave& e = enc(env);
    auto cpus = argIntList(info, 0, "cpus");
    int qfd = queue(info, 1).fd();
    if (st_->satellites && st_->satellites->running()) throw Napi::Error::New(env, "startSatellites: already running");
    st_->satellites = std::make_unique<ghost::Satellites>();
    if (!st_->machine) {
      st_->satellites->start(cpus, qfd, [&e](int) -> ghost::Enclave& { return e; });
      return env.Undefined();
    }
    const int tidBase = info.Length() > 2 ? argInt(info, 2, "tidBase") : st_->tid * 1000;
    std::map<int, ghost::Enclave*> byCpu;
    guarded(env, [&] {
      // Files are opened here, on the JS thread, before each thread becomes an agent.
      for (int c : cpus) {
        auto se = ghost::Enclave::attach(st_->machine->sysFor(st_->pid, tidBase + c), st_->root, e.id(), e.abiVersion());
        se->createSwRegion(0, 0);
        byCpu[c] = se.get();
        st_->satelliteEnclaves.push_back(std::move(se));
      }
      return 0;
    });
    st_->satellites->start(cpus, qfd, [byCpu](int c) -> ghost::Enclave& { return *byCpu.at(c); });
    return env.Undefined();
  }
  // satelliteStatus(): [[cpu, state, wakeups, stale]]: state 0 starting, 1 agent, < 0 -errno;
  // wakeups = RUN(0) returns with 0, stale = RUN(0) returns with ESTALE.
  Napi::Value SatelliteStatus(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto st = st_->satellites ? st_->satellites->status() : std::vector<ghost::Satellites::Status>{};
    Napi::Array a = Napi::Array::New(env, st.size());
    for (size_t i = 0; i < st.size(); i++) {
      Napi::Array p = Napi::Array::New(env, 4);
      p.Set(0u, st[i].cpu);
      p.Set(1u, st[i].state);
      p.Set(2u, double(st[i].wakeups));
      p.Set(3u, double(st[i].stale));
      a.Set(uint32_t(i), p);
    }
    return a;
  }
  // fifoBaselineStart(queue, cpus): the native centralized FIFO loop (fifo_baseline.h) over this
  // client's queue and tasks, placing on `cpus`; fifoBaselineStep(): one pass, returns placements.
  Napi::Value FifoBaselineStart(const Napi::CallbackInfo& info) {
    ghost::Queue& q = queue(info, 0);
    auto cpus = argIntList(info, 1, "cpus");
    // The baseline owns the task table from now on: no agent's handle pool rides along.
    pool_.reset();
    st_->fifo = std::make_unique<ghost::FifoBaseline>(enc(info.Env()), q, st_->tasks, cpus);
    return info.Env().Undefined();
  }
  Napi::Value FifoBaselineStep(const Napi::CallbackInfo& info) {
    if (!st_->fifo) throw Napi::Error::New(info.Env(), "fifoBaselineStep: call fifoBaselineStart first");
    int n = guarded(info.Env(), [&] { return st_->fifo->step(); });
    return Napi::Number::New(info.Env(), n);
  }
  // fifoBaselineStepFn(): fifoBaselineStep as a plain function bound to this client, entered the
  // way the agent enters its hot calls (hotCalls: no napi_unwrap per call), so the benchmark times
  // both loops behind the same JS -> native entry.
  Napi::Value FifoBaselineStepFn(const Napi::CallbackInfo& info) {
    Napi::Function f = Napi::Function::New(info.Env(), &Client::FifoBaselineHotStep, "fifoStep", this);
    f.Set("client", info.This());
    return f;
  }
  static Napi::Value FifoBaselineHotStep(const Napi::CallbackInfo& info) {
    Client* self = static_cast<Client*>(info.Data());
    if (!self->st_->fifo) throw Napi::Error::New(info.Env(), "fifoStep: call fifoBaselineStart first");
    int n = guarded(info.Env(), [&] { return self->st_->fifo->step(); });
    return Napi::Number::New(info.Env(), n);
  }
  // clockNs(): the clock agents time records with: the emulator's virtual time, else CLOCK_MONOTONIC.
  Napi::Value ClockNs(const Napi::CallbackInfo& info) {
    if (st_->machine) return Napi::Number::New(info.Env(), double(st_->machine->now()));
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return Napi::Number::New(info.Env(), double(ts.tv_sec) * 1e9 + double(ts.tv_nsec));
  }
  Napi::Value StopSatellites(const Napi::CallbackInfo& info) {
    if (st_->satellites && st_->enclave) st_->satellites->stop(*st_->enclave);
    return info.Env().Undefined();
  }

  std::shared_ptr<ClientState> st_;
  std::vector<int> cpus_;
  ghost::Queue* boundQueue_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> outRef_;
  Napi::Reference<Napi::Int32Array> opsRef_;
  ghost::Decoded* out_ = nullptr;
  size_t outCap_ = 0;
  int32_t* ops_ = nullptr;
  size_t opsCap_ = 0;
  static constexpr size_t kLookupStride = 6;  // mirrored by src/native/ghost-queue.ts LOOKUP_STRIDE
  Napi::Reference<Napi::Uint32Array> lookupsRef_;
  Napi::Reference<Napi::Int32Array> freesRef_;
  uint32_t* lookups_ = nullptr;
  size_t lookupsCap_ = 0;
  int32_t* frees_ = nullptr;
  size_t freesCap_ = 0;
  Napi::Reference<Napi::Int32Array> ctlRef_;
  int32_t* ctl_ = nullptr;
  // Keeps an agent's handle-pool buffers alive while the task table serves them, and detaches them
  // when it goes (rebinding, attach, close, the baseline taking over, or this Client's collection):
  // the table, which the client state's views may keep alive longer, never holds a stale pointer.
  struct PoolBinding {
    std::shared_ptr<ClientState> st;
    Napi::Reference<Napi::Int32Array> pool;
    Napi::Reference<Napi::Uint32Array> binds;
    PoolBinding() = default;
    PoolBinding(const PoolBinding&) = delete;
    PoolBinding& operator=(const PoolBinding&) = delete;
    ~PoolBinding() {
      if (st) st->tasks.detachPool();
    }
  };
  std::unique_ptr<PoolBinding> pool_;
};

// decodeRing(abi, ring Uint8Array, out ArrayBuffer): the decoder over arbitrary bytes (fuzzing).
Napi::Value DecodeRing(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t abiV = uint32_t(argInt(info, 0, "abi"));
  if (info.Length() < 3 || !info[1].IsTypedArray() || !info[2].IsArrayBuffer())
    throw Napi::TypeError::New(env, "decodeRing(abi, ring: Uint8Array, out: ArrayBuffer)");
  Napi::Uint8Array ring = info[1].As<Napi::Uint8Array>();
  Napi::ArrayBuffer out = info[2].As<Napi::ArrayBuffer>();
  // Work on an 8-aligned private copy, exactly as big as the input: reads past it would be caught
  // by ASan and, without it, land in memory the decoder must never touch.
  std::vector<uint64_t> copy((ring.ByteLength() + 7) / 8 + 1);
  std::memcpy(copy.data(), ring.Data(), ring.ByteLength());
  ghost::QueueView v;
  Napi::Object res = Napi::Object::New(env);
  int err = v.attach(reinterpret_cast<uint8_t*>(copy.data()), ring.ByteLength(), 0);
  res.Set("attachErrno", err);
  size_t n = 0;
  ghost::TaskTable table;
  if (err == 0) {
    size_t max = out.ByteLength() / sizeof(ghost::Decoded);
    // Drain until empty, as an agent would (each call consumes at least one slot or stops).
    for (int round = 0; round < 1 << 17; round++) {
      size_t got = v.drain(abiV, table, static_cast<ghost::Decoded*>(out.Data()), max);
      n += got;
      if (v.pending() == 0 || max == 0) break;
    }
  }
  res.Set("count", double(n));
  res.Set("stats", statsObject(env, v.stats()));
  res.Set("tail", err == 0 ? Napi::Number::New(env, reinterpret_cast<const abi::Ring*>(
                                                        reinterpret_cast<uint8_t*>(copy.data()) + 64)->tail)
                           : env.Null());
  return res;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Emulator", alps_ghost::initEmulator(env));
  exports.Set("Client", Client::Init(env));
  exports.Set("decodeRing", Napi::Function::New(env, DecodeRing));
  Napi::Array versions = Napi::Array::New(env);
  for (uint32_t i = 0; i < std::size(abi::kAbiVersions); i++) versions.Set(i, abi::kAbiVersions[i]);
  exports.Set("abiVersions", versions);
  exports.Set("recordBytes", uint32_t(sizeof(ghost::Decoded)));
  exports.Set("bindStride", uint32_t(ghost::kBindStride));
  return exports;
}

}  // namespace

NODE_API_MODULE(alps_ghost, Init)
