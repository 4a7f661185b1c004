// Emulated ghOSt kernel: construction, the Sys binding of emulated threads, and small state helpers.
// Semantics follow the ghOSt kernel (docs/ghost.md lists where and how they differ).
#include "emu/kernel.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>

#include "emu/internal.h"
#include "ghost/cpulist.h"

namespace ghost::emu {

using namespace ghost::abi;
using namespace ghost::emu::detail;

namespace {

class EmuSys final : public Sys {
 public:
  EmuSys(std::shared_ptr<Kernel> k, int pid, int tid) : k_(std::move(k)), pid_(pid), tid_(tid) {}
  // Every call runs under the kernel lock; ioctl takes it itself because RUN may wait on it.
  int open(const std::string& path, int flags) override {
    auto l = k_->lock();
    return k_->sysOpen(pid_, tid_, path, flags);
  }
  ssize_t pread(int fd, void* buf, size_t n, off_t off) override {
    auto l = k_->lock();
    return k_->sysRead(pid_, fd, buf, n, off);
  }
  ssize_t write(int fd, const void* buf, size_t n) override {
    auto l = k_->lock();
    return k_->sysWrite(pid_, tid_, fd, buf, n);
  }
  int ioctl(int fd, unsigned long req, void* arg) override { return k_->sysIoctl(pid_, tid_, fd, req, arg); }
  MapResult mmap(size_t len, int prot, int fd) override {
    auto l = k_->lock();
    return k_->sysMmap(pid_, len, prot, fd);
  }
  int munmap(void*, size_t) override { return 0; }  // memory lives as long as the Kernel (see Mem)
  int close(int fd) override {
    auto l = k_->lock();
    return k_->sysClose(pid_, fd);
  }
  int64_t fileSize(int fd) override {
    auto l = k_->lock();
    return k_->sysFileSize(pid_, fd);
  }
  bool hasCapSysNice() override { return k_->options().capSysNice; }

 private:
  std::shared_ptr<Kernel> k_;
  int pid_, tid_;
};

}  // namespace

// ---- Mem -------------------------------------------------------------------------------------

Mem::Mem(size_t len) : len_(len) {
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  p_ = static_cast<uint8_t*>(p);
}
Mem::~Mem() { ::munmap(p_, len_); }

// ---- construction ------------------------------------------------------------------------------

Kernel::Kernel(Options opts)
    : opts_(std::move(opts)),
      nextTick_(opts_.tickNs),
      cpus_(static_cast<size_t>(opts_.ncpus)),
      driverThread_(std::this_thread::get_id()) {
  if (opts_.ncpus < 1 || opts_.ncpus > 1024) throw std::invalid_argument("emulator: ncpus must be 1..1024");
  if (opts_.tickNs <= 0) throw std::invalid_argument("emulator: tickNs must be > 0");
}
Kernel::~Kernel() = default;

std::shared_ptr<Sys> Kernel::sysFor(int pid, int tid) {
  auto l = lock();
  auto it = threads_.find(tid);
  if (it == threads_.end()) {
    EThread th;
    th.tid = tid;
    th.pid = pid;
    th.runnable = true;
    th.gtid = (uint64_t(tid) << kGtidSeqBits) | (nextGtidSeq_++ & ((uint64_t{1} << kGtidSeqBits) - 1));
    threads_.emplace(tid, th);
  }
  return std::make_shared<EmuSys>(shared_from_this(), pid, tid);
}

// ---- small helpers -----------------------------------------------------------------------------

EFile* Kernel::file(int pid, int fd) {
  auto p = fds_.find(pid);
  if (p == fds_.end()) return nullptr;
  auto f = p->second.find(fd);
  return f == p->second.end() ? nullptr : &f->second;
}

EEnclave* Kernel::liveEnclave(uint64_t id) {
  auto it = enclaves_.find(id);
  return it != enclaves_.end() && it->second->alive ? it->second.get() : nullptr;
}

const EThread* Kernel::thread(int tid) const {
  auto it = threads_.find(tid);
  return it == threads_.end() ? nullptr : &it->second;
}
const ECpu* Kernel::cpu(int c) const {
  return c >= 0 && c < opts_.ncpus ? &cpus_[static_cast<size_t>(c)] : nullptr;
}
const EEnclave* Kernel::enclave(uint64_t id) const {
  auto it = enclaves_.find(id);
  return it == enclaves_.end() ? nullptr : it->second.get();
}

ETask* Kernel::taskByTid(int tid) {
  auto it = threads_.find(tid);
  return it == threads_.end() ? nullptr : it->second.task;
}
ETask* Kernel::taskByGtid(uint64_t gtid) {
  auto it = tasks_.find(gtid);
  return it == tasks_.end() ? nullptr : it->second.get();
}

uint64_t Kernel::runtimeOf(const ETask& t) const {
  return t.runtime + (t.oncpu ? static_cast<uint64_t>(now_ - t.switchTime) : 0);
}

StatusWord* Kernel::sw(const EEnclave& e, uint32_t index) {
  if (!e.sw || index >= kSwRegionCapacity) return nullptr;
  return reinterpret_cast<StatusWord*>(e.sw->data() + 64 + size_t{index} * sizeof(StatusWord));
}

Txn* Kernel::txn(const EEnclave& e, int c) {
  return reinterpret_cast<Txn*>(e.cpuData->data() + size_t(c) * kCpuDataStride);
}

uint32_t Kernel::allocSw(EEnclave& e, uint64_t gtid, uint32_t flags) {
  if (!e.sw || e.swFree.empty()) return UINT32_MAX;
  uint32_t idx = e.swFree.back();
  e.swFree.pop_back();
  StatusWord* w = sw(e, idx);
  w->gtid = gtid;
  w->switch_time = 0;
  w->runtime = 0;
  aref(w->barrier).store(0, std::memory_order_release);
  aref(w->flags).store(flags | kSwFAllocated | kSwFInUse, std::memory_order_release);
  auto* h = reinterpret_cast<SwRegionHeader*>(e.sw->data());
  h->available = static_cast<uint32_t>(e.swFree.size());
  return idx;
}

void Kernel::publishSw(StatusWord* w, uint32_t flags) {
  aref(w->flags).store(flags, std::memory_order_release);
  if (tracing_) swTrace_.push_back({w->gtid, aref(w->barrier).load(std::memory_order_relaxed), flags});
}

void Kernel::traceStatusWords(bool on) {
  tracing_ = on;
  swTrace_.clear();
}

void Kernel::syncTaskSw(ETask& t) {
  EEnclave* e = t.enc;
  StatusWord* w = sw(*e, t.swIndex);
  if (!w) return;
  uint32_t f = aref(w->flags).load(std::memory_order_relaxed);
  f &= ~(kSwTaskOnCpu | kSwTaskRunnable);
  if (t.runnable) f |= kSwTaskRunnable;
  if (t.oncpu) f |= kSwTaskOnCpu;
  w->runtime = t.runtime;
  w->switch_time = t.switchTime;  // written before ONCPU is published
  publishSw(w, f);
}

void Kernel::bumpTaskBarrier(ETask& t) {
  EEnclave* e = t.enc;
  StatusWord* w = sw(*e, t.swIndex);
  if (!w) return;
  aref(w->barrier).fetch_add(1, std::memory_order_release);
  if (tracing_) swTrace_.push_back({w->gtid, aref(w->barrier).load(std::memory_order_relaxed), aref(w->flags).load(std::memory_order_relaxed)});
}

StatusWord* Kernel::agentSw(int c) {
  const ECpu& C = cpus_[size_t(c)];
  if (!C.agentTid || !C.enclave) return nullptr;
  ETask* a = taskByTid(C.agentTid);
  return a ? sw(*C.enc, a->swIndex) : nullptr;
}

void Kernel::syncAgentFlags(int c) {
  const ECpu& C = cpus_[size_t(c)];
  StatusWord* w = agentSw(c);
  if (!w) return;
  uint32_t f = aref(w->flags).load(std::memory_order_relaxed) & ~(kSwCpuAvail | kSwBoostPrio | kSwTaskRunnable | kSwTaskOnCpu);
  // Available: no non-ghost task wants the CPU. BOOST_PRIO: the agent holds the CPU while one does
  // (ghost_update_boost_prio at the agent's pick); it is expected to give the CPU back.
  if (!higherClass(C)) f |= kSwCpuAvail;
  if (higherClass(C) && agentOnCpu(C)) f |= kSwBoostPrio;
  if (!C.agentAsleep) f |= kSwTaskRunnable;  // parked in RUN still counts as runnable
  if (agentOnCpu(C)) f |= kSwTaskOnCpu;
  publishSw(w, f);
}

void Kernel::syncAgentSw(int c) {
  StatusWord* w = agentSw(c);
  if (!w) return;
  aref(w->barrier).store(cpus_[size_t(c)].agentBarrier, std::memory_order_release);
  syncAgentFlags(c);
}

void Kernel::agentBarrierInc(int c) {
  cpus_[size_t(c)].agentBarrier++;
  syncAgentSw(c);
}

int Kernel::agentCpuOf(int tid) const {
  auto it = threads_.find(tid);
  if (it == threads_.end() || !it->second.task || !it->second.task->isAgent) return -1;
  return it->second.task->cpu;
}

}  // namespace ghost::emu
