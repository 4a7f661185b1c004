// Emulated ghOSt kernel. Semantics follow docs/facts/ghost-abi.md section by section; comments name
// the section where a rule comes from.
#include "emu/kernel.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "ghost/enclave.h"

namespace ghost::emu {

using namespace ghost::abi;

namespace {

constexpr int kGtidSeqBits = 41;  // pid_max_max 4194304 -> 22 tid bits, 41 seqnum bits (§1)

template <typename T>
std::atomic_ref<T> aref(T& v) {
  return std::atomic_ref<T>(v);
}

bool parseInt(const std::string& s, int64_t& out) {
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(t.c_str(), &end, 0);
  if (errno != 0 || end == t.c_str() || *end != '\0') return false;
  out = v;
  return true;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') i++;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') j++;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

const char* const kTunables[] = {"runnable_timeout",   "commit_at_tick",           "deliver_ticks",
                                 "deliver_cpu_availability", "deliver_agent_runnability", "wake_on_waker_cpu",
                                 "switchto_disabled",  "live_dangerously"};
bool isTunable(const std::string& n) {
  return std::any_of(std::begin(kTunables), std::end(kTunables), [&](const char* t) { return n == t; });
}

class EmuSys final : public Sys {
 public:
  EmuSys(std::shared_ptr<Kernel> k, int pid, int tid) : k_(std::move(k)), pid_(pid), tid_(tid) {}
  int open(const std::string& path, int flags) override { return k_->sysOpen(pid_, tid_, path, flags); }
  ssize_t pread(int fd, void* buf, size_t n, off_t off) override { return k_->sysRead(pid_, fd, buf, n, off); }
  ssize_t write(int fd, const void* buf, size_t n) override { return k_->sysWrite(pid_, tid_, fd, buf, n); }
  int ioctl(int fd, unsigned long req, void* arg) override { return k_->sysIoctl(pid_, tid_, fd, req, arg); }
  MapResult mmap(size_t len, int prot, int fd) override { return k_->sysMmap(pid_, len, prot, fd); }
  int munmap(void*, size_t) override { return 0; }  // memory lives as long as the Kernel (see Mem)
  int close(int fd) override { return k_->sysClose(pid_, fd); }
  int64_t fileSize(int fd) override { return k_->sysFileSize(pid_, fd); }
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

Kernel::Kernel(Options opts) : opts_(std::move(opts)), nextTick_(opts_.tickNs), cpus_(static_cast<size_t>(opts_.ncpus)) {
  if (opts_.ncpus < 1 || opts_.ncpus > 1024) throw std::invalid_argument("emulator: ncpus must be 1..1024");
  if (opts_.tickNs <= 0) throw std::invalid_argument("emulator: tickNs must be > 0");
}
Kernel::~Kernel() = default;

std::shared_ptr<Sys> Kernel::sysFor(int pid, int tid) {
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

void Kernel::syncTaskSw(ETask& t) {
  EEnclave* e = t.enc;
  StatusWord* w = sw(*e, t.swIndex);
  if (!w) return;
  uint32_t f = aref(w->flags).load(std::memory_order_relaxed);
  f &= ~(kSwTaskOnCpu | kSwTaskRunnable);
  if (t.runnable) f |= kSwTaskRunnable;
  if (t.oncpu) f |= kSwTaskOnCpu;
  w->runtime = t.runtime;
  w->switch_time = t.switchTime;  // written before ONCPU is published (§4.4)
  aref(w->flags).store(f, std::memory_order_release);
}

void Kernel::bumpTaskBarrier(ETask& t) {
  EEnclave* e = t.enc;
  if (StatusWord* w = sw(*e, t.swIndex)) aref(w->barrier).fetch_add(1, std::memory_order_release);
}

void Kernel::syncAgentSw(int c) {
  ECpu& C = cpus_[size_t(c)];
  if (!C.agentTid || !C.enclave) return;
  EEnclave* e = C.enc;
  ETask* a = taskByTid(C.agentTid);
  if (!a) return;
  StatusWord* w = sw(*e, a->swIndex);
  uint32_t f = aref(w->flags).load(std::memory_order_relaxed) & ~(kSwCpuAvail | kSwBoostPrio);
  if (!C.busy) f |= kSwCpuAvail;
  if (C.busy && !C.agentBlocked) f |= kSwBoostPrio;
  aref(w->barrier).store(C.agentBarrier, std::memory_order_release);
  aref(w->flags).store(f, std::memory_order_release);
}

int Kernel::agentCpuOf(int tid) const {
  auto it = threads_.find(tid);
  if (it == threads_.end() || !it->second.task || !it->second.task->isAgent) return -1;
  return it->second.task->cpu;
}

// ---- messages (§5) -----------------------------------------------------------------------------

void Kernel::produce(EQueue& q, uint16_t type, uint32_t seq, const void* payload, size_t len) {
  uint8_t* base = q.mem->data();
  auto* ring = reinterpret_cast<Ring*>(base + kQueueRingOffset);
  uint8_t* slots = base + kQueueSlotsOffset;
  const uint32_t total = static_cast<uint32_t>(sizeof(MsgHeader) + len);
  const uint32_t need = (total + 7) / 8;
  const uint32_t tail = aref(ring->tail).load(std::memory_order_acquire);
  const uint32_t used = q.head - tail;
  const uint32_t room = used > q.nelems ? 0 : q.nelems - used;
  const uint32_t idx = q.head & (q.nelems - 1);
  const uint32_t contiguous = q.nelems - idx;
  uint32_t skip = 0;
  if (need > contiguous) skip = contiguous;  // messages never wrap: pad to the end with NOPs
  if (skip + need > room) {
    aref(ring->overflow).fetch_add(1, std::memory_order_relaxed);
    q.dropped++;
    return;
  }
  for (uint32_t s = 0; s < skip;) {
    uint32_t n = std::min<uint32_t>(skip - s, 65528 / 8);  // a NOP's u16 length caps its span
    MsgHeader nop{kMsgNop, static_cast<uint16_t>(n * 8), 0};
    std::memcpy(slots + size_t(idx + s) * kSlotBytes, &nop, sizeof nop);
    s += n;
  }
  const uint32_t at = (q.head + skip) & (q.nelems - 1);
  MsgHeader h{type, static_cast<uint16_t>(total), seq};
  std::memcpy(slots + size_t(at) * kSlotBytes, &h, sizeof h);
  if (len) std::memcpy(slots + size_t(at) * kSlotBytes + sizeof h, payload, len);
  q.head += skip + need;
  aref(ring->head).store(q.head, std::memory_order_release);
  q.produced++;
  produced_++;
}

void Kernel::taskMsg(ETask& t, uint16_t type, const void* payload, size_t len) {
  EEnclave* e = t.enc;
  // The barrier moves for every message generated, delivered or not (§4.4).
  bumpTaskBarrier(t);
  if (!e->alive || (t.gated && type != kMsgTaskDeparted) || !t.q) return;
  StatusWord* w = sw(*e, t.swIndex);
  produce(*t.q, type, w ? aref(w->barrier).load(std::memory_order_relaxed) : 0, payload, len);
  wakeAgentFor(*t.q, t.cpu);
}

void Kernel::cpuMsg(int c, uint16_t type, const void* payload, size_t len) {
  ECpu& C = cpus_[size_t(c)];
  C.agentBarrier++;
  syncAgentSw(c);
  if (!C.agentTid || !C.agentQ) return;
  std::shared_ptr<EQueue> q = C.agentQ;
  produce(*q, type, C.agentBarrier, payload, len);
  wakeAgentFor(*q, c);
}

void Kernel::wakeAgentFor(EQueue& q, int srcCpu) {
  if (q.wakeCpus.empty()) return;  // polling model: nobody is woken (§5.7)
  int target = std::find(q.wakeCpus.begin(), q.wakeCpus.end(), srcCpu) != q.wakeCpus.end() ? srcCpu : q.wakeCpus[0];
  wakeAgent(target);
}

void Kernel::wakeAgent(int c) {
  ECpu& C = cpus_[size_t(c)];
  if (!C.agentTid) return;
  C.agentBarrier++;
  bool wasBlocked = C.agentBlocked;
  C.agentBlocked = false;
  syncAgentSw(c);
  if (wasBlocked) {
    // The agent outranks every ghost task: its CPU's ghost task is preempted while it runs.
    preemptCurrent(c, false);
    EEnclave* e = C.enc;
    if (e->tunables["deliver_agent_runnability"]) {
      PayloadCpu p{c};
      cpuMsg(c, kMsgCpuAgentWakeup, &p, sizeof p);
    }
  }
}

void Kernel::sendTaskNew(ETask& t) {
  EEnclave* e = t.enc;
  if (e->abi < 88) {
    v84::PayloadTaskNew p{};
    p.gtid = t.gtid;
    p.runtime = runtimeOf(t);
    p.runnable = t.runnable;
    p.nice = t.nice;
    p.sw_info = {0, t.swIndex};
    taskMsg(t, kMsgTaskNew, &p, sizeof p);
  } else {
    v90::PayloadTaskNew p{};
    p.gtid = t.gtid;
    p.runtime = runtimeOf(t);
    p.runnable = t.runnable;
    p.nice = t.nice;
    p.sw_info = {0, t.swIndex};
    taskMsg(t, kMsgTaskNew, &p, sizeof p);
  }
}

// ---- scheduling ---------------------------------------------------------------------------------

void Kernel::putOffCpu(ETask& t) {
  if (!t.oncpu) return;
  t.runtime += static_cast<uint64_t>(now_ - t.switchTime);
  t.oncpu = false;
  ECpu& C = cpus_[size_t(t.cpu)];
  if (C.current == &t) C.current = nullptr;
  syncTaskSw(t);
}

// The fields every "task left its CPU" message starts with (TASK_PREEMPT, TASK_BLOCKED,
// TASK_YIELD): the task, its runtime, the CPU's new sequence number and the CPU (facts §5.5).
template <class Payload>
Payload offCpuPayload(const ETask& t, decltype(Payload{}.cpu_seqnum) cpuSeqnum, int cpu) {
  Payload p{};
  p.gtid = t.gtid;
  p.runtime = t.runtime;
  p.cpu_seqnum = cpuSeqnum;
  p.cpu = cpu;
  return p;
}

void Kernel::preemptCurrent(int c, bool elide) {
  ECpu& C = cpus_[size_t(c)];
  ETask* t = C.current;
  if (!t) return;
  putOffCpu(*t);
  t->runnableSince = now_;
  C.cpuSeqnum++;
  if (elide) return;
  auto p = offCpuPayload<PayloadTaskPreempt>(*t, C.cpuSeqnum, c);
  taskMsg(*t, kMsgTaskPreempt, &p, sizeof p);
  if (t->runFlags & kRtlaOnPreempt) wakeAgent(c);
}

void Kernel::preemptLatched(int c) {
  ECpu& C = cpus_[size_t(c)];
  ETask* t = C.latched;
  if (!t) return;
  C.latched = nullptr;
  t->latchedCpu = -1;
  C.cpuSeqnum++;
  auto p = offCpuPayload<PayloadTaskPreempt>(*t, C.cpuSeqnum, c);
  p.was_latched = 1;
  taskMsg(*t, kMsgTaskPreempt, &p, sizeof p);
}

void Kernel::scheduleCpu(int c, bool mayPreempt) {
  ECpu& C = cpus_[size_t(c)];
  if (!C.enclave) return;
  EEnclave* e = C.enc;
  if (!e->alive) return;
  if (C.pendingCommit) {
    C.pendingCommit = false;
    Txn* t = txn(*e, c);
    if (aref(t->state).load(std::memory_order_acquire) == kTxnReady) commitOne(*e, c, c, false);
  }
  if (C.busy || !C.latched) return;
  if (C.agentTid && !C.agentBlocked) return;  // the agent holds its CPU
  if (C.current && !mayPreempt) return;
  if (C.current) preemptCurrent(c, C.elideNext);
  C.elideNext = false;
  ETask* t = C.latched;
  C.latched = nullptr;
  t->latchedCpu = -1;
  t->oncpu = true;
  t->cpu = c;
  t->switchTime = now_;
  C.current = t;
  syncTaskSw(*t);
  if (t->runFlags & kSendTaskOnCpu) {
    C.cpuSeqnum++;
    PayloadTaskOnCpu p{t->gtid, static_cast<uint64_t>(now_), C.cpuSeqnum, c};
    taskMsg(*t, kMsgTaskOnCpu, &p, sizeof p);
  }
}

void Kernel::scheduleAll() {
  for (int c = 0; c < opts_.ncpus; c++) scheduleCpu(c, opts_.autoPreempt);
}

int32_t Kernel::validate(const EEnclave& e, int c, const Txn& t, int callerCpu, bool local, ETask** target) {
  // §6.6, in the kernel's order: the first failure wins.
  *target = nullptr;
  if (t.version != kTxnVersion) return kTxnUnsupportedVersion;
  if (t.cpu != c) return kTxnInvalidCpu;
  const int64_t g = t.gtid;
  const uint16_t rf = t.run_flags;
  const uint8_t cf = t.commit_flags;
  if ((rf & ~kValidRunFlags) || (cf & ~kValidCommitFlags)) return kTxnInvalidFlags;
  if ((cf & kCommitAtSchedule) && (cf & kCommitAtTxnCommit)) return kTxnInvalidFlags;
  if ((cf & kElideAgentBarrierInc) && (cf & kIncAgentBarrierOnFailure)) return kTxnInvalidFlags;
  if ((rf & kNeedCpuNotIdle) && g != kIdleGtid) return kTxnInvalidFlags;
  if ((rf & kRtlaOnIdle) && g < 0) return kTxnInvalidFlags;
  if (g == kAgentGtid && rf != 0) return kTxnInvalidFlags;
  const ECpu& C = cpus_[size_t(c)];
  if (C.offline) return kTxnCpuOffline;
  if (g > 0) {
    ETask* task = taskByGtid(static_cast<uint64_t>(g));
    if (!task) return kTxnTargetNotFound;
    if (task->isAgent) return kTxnInvalidTarget;
    if (task->gated) return kTxnTargetStale;
    if (task->enclave != e.id) return kTxnInvalidTarget;
    StatusWord* w = sw(e, task->swIndex);
    if (!w || aref(w->barrier).load(std::memory_order_acquire) != t.task_barrier) return kTxnTargetStale;
    if (!task->runnable) return kTxnTargetNotRunnable;
    if (task->oncpu && !(task->cpu == c && (cf & kAllowTaskOnCpu))) return kTxnTargetOnCpu;
    *target = task;
  } else if (g < kIdleGtid) {
    return kTxnInvalidTarget;
  }
  if (!C.agentTid) return kTxnNoAgent;
  if (C.enclave != e.id) return kTxnNotPermitted;
  if (callerCpu < 0 && g != kAgentGtid) return kTxnNotPermitted;
  if (callerCpu >= 0 && cpus_[size_t(callerCpu)].enclave != e.id) return kTxnNotPermitted;
  if ((rf & kDoNotPreempt) && (C.current || C.latched)) return kTxnAgentStale;
  if (g > 0 && C.busy) return kTxnCpuUnavail;
  if (local && g != kAgentGtid && t.agent_barrier != C.agentBarrier) return kTxnAgentStale;
  return kTxnComplete;
}

void Kernel::failTxn(EEnclave&, int c, Txn& t, int32_t state) {
  if (t.commit_flags & kIncAgentBarrierOnFailure) {
    cpus_[size_t(c)].agentBarrier++;
    syncAgentSw(c);
  }
  t.commit_time = now_;
  aref(t.state).store(state, std::memory_order_release);
}

void Kernel::applyCommit(EEnclave&, int c, Txn& t, ETask* target, bool local) {
  ECpu& C = cpus_[size_t(c)];
  if (!(t.commit_flags & kElideAgentBarrierInc)) {
    C.agentBarrier++;
    syncAgentSw(c);
  }
  const bool elide = t.run_flags & kElidePreempt;
  if (target) {
    if (!(target->oncpu && target->cpu == c)) {
      if (C.latched && C.latched != target) preemptLatched(c);
      if (target->latchedCpu >= 0 && target->latchedCpu != c) {
        // Re-latching elsewhere: the old latch is dropped silently (the agent asked for the move).
        cpus_[size_t(target->latchedCpu)].latched = nullptr;
      }
      // The running task leaves at the CPU's next scheduling point (the IPI's reschedule), not
      // at commit: until then it may still block or exit on its own.
      if (local) preemptCurrent(c, elide);
      else C.elideNext = elide;
      C.latched = target;
      target->latchedCpu = c;
    }
    target->runFlags = t.run_flags;
    C.idleLatched = false;
  } else if (t.gtid == kAgentGtid) {
    wakeAgent(c);
  } else {  // NULL (unschedule) or IDLE
    preemptCurrent(c, elide);
    preemptLatched(c);
    C.idleLatched = t.gtid == kIdleGtid;
    C.notifyNotIdle = C.idleLatched && (t.run_flags & kNeedCpuNotIdle);
  }
  C.cpuSeqnum++;
  t.cpu_seqnum = C.cpuSeqnum;
  t.commit_time = now_;
  aref(t.state).store(kTxnComplete, std::memory_order_release);
  if (local && t.gtid != kAgentGtid) {
    // A successful local commit context-switches the agent out to the latched task (§6.7).
    C.agentBlocked = true;
    syncAgentSw(c);
    scheduleCpu(c);
  }
}

int32_t Kernel::commitOne(EEnclave& e, int c, int callerCpu, bool local) {
  Txn* t = txn(e, c);
  int32_t expected = kTxnReady;
  const int32_t claimer = callerCpu >= 0 ? callerCpu : c;
  if (!aref(t->state).compare_exchange_strong(expected, claimer, std::memory_order_acq_rel)) return expected;
  ETask* target = nullptr;
  int32_t r = validate(e, c, *t, callerCpu, local, &target);
  if (r != kTxnComplete) {
    failTxn(e, c, *t, r);
    return r;
  }
  applyCommit(e, c, *t, target, local);
  return kTxnComplete;
}

// ---- ioctls ------------------------------------------------------------------------------------

int Kernel::iocCommit(EEnclave& e, int tid, const IocCommitTxn& a, bool sync) {
  if (a.flags != 0) return -EINVAL;
  if (!a.mask_ptr) return -EFAULT;
  const int callerCpu = agentCpuOf(tid);
  const auto* mask = static_cast<const uint8_t*>(a.mask_ptr);
  std::vector<int>& order = commitOrder_;
  order.clear();
  for (int i = 1; i <= opts_.ncpus; i++) {
    // Start after the caller's CPU so the caller's own txn is handled last (§6.7).
    int c = ((callerCpu < 0 ? -1 : callerCpu) + i) % opts_.ncpus;
    if (c < 0) c += opts_.ncpus;
    if (size_t(c) / 8 >= a.mask_len) continue;
    if (mask[c / 8] & (1u << (c % 8))) {
      if (cpus_[size_t(c)].enclave == e.id) order.push_back(c);
    }
  }
  if (!sync) {
    bool anyFailed = false;
    for (int c : order) {
      Txn* t = txn(e, c);
      if (aref(t->state).load(std::memory_order_acquire) != kTxnReady) continue;
      const bool local = c == callerCpu;
      if (local && anyFailed) {
        t->commit_time = now_;
        aref(t->state).store(kTxnPoisoned, std::memory_order_release);
        continue;
      }
      if (local || (t->commit_flags & kCommitAtTxnCommit)) {
        if (commitOne(e, c, callerCpu, local) != kTxnComplete) anyFailed = true;
      } else {
        // Greedy: the target CPU commits it at its next scheduling point (after the IPI);
        // COMMIT_AT_SCHEDULE: likewise, but only when that CPU next schedules.
        cpus_[size_t(c)].pendingCommit = true;
      }
    }
    return 0;
  }
  // Sync group: all READY, all valid, or nothing commits.
  bool ok = !order.empty();
  for (int c : order) ok = ok && aref(txn(e, c)->state).load(std::memory_order_acquire) == kTxnReady;
  int failedAt = -1;
  int32_t failState = kTxnPoisoned;
  if (ok) {
    for (int c : order) {
      ETask* target = nullptr;
      int32_t r = validate(e, c, *txn(e, c), callerCpu, c == callerCpu, &target);
      if (r != kTxnComplete) {
        failedAt = c;
        failState = r;
        break;
      }
    }
  }
  if (!ok || failedAt >= 0) {
    for (int c : order) {
      Txn* t = txn(e, c);
      if (aref(t->state).load(std::memory_order_acquire) != kTxnReady) continue;
      failTxn(e, c, *t, c == failedAt ? failState : kTxnPoisoned);
    }
    return 0;
  }
  for (int c : order) {
    Txn* t = txn(e, c);
    aref(t->state).store(callerCpu >= 0 ? callerCpu : c, std::memory_order_release);
    ETask* target = nullptr;
    validate(e, c, *t, callerCpu, c == callerCpu, &target);
    applyCommit(e, c, *t, target, c == callerCpu);
    aref(t->sync_group_owner).store(-1, std::memory_order_release);
  }
  return 1;
}

int Kernel::iocRun(EEnclave& e, int pid, int tid, const IocRun& a) {
  if (!opts_.capSysNice) return -EPERM;
  if (a.run_flags & ~int32_t{kRtlaOnIdle}) return -EINVAL;
  if (a.run_cpu < 0 || a.run_cpu >= opts_.ncpus) return -EINVAL;
  ECpu& C = cpus_[size_t(a.run_cpu)];
  if (a.gtid == kNullGtid) {
    if (agentCpuOf(tid) != a.run_cpu || C.enclave != e.id) return -EINVAL;
    if (a.agent_barrier != C.agentBarrier) return -ESTALE;
    // Blocks in the real kernel; here the agent is recorded as blocked and the call returns.
    C.agentBlocked = true;
    syncAgentSw(a.run_cpu);
    if (e.tunables["deliver_agent_runnability"]) {
      PayloadCpu p{a.run_cpu};
      cpuMsg(a.run_cpu, kMsgCpuAgentBlocked, &p, sizeof p);
      C.agentBlocked = true;  // its own message must not count as a wakeup of itself
      syncAgentSw(a.run_cpu);
    }
    scheduleCpu(a.run_cpu);
    return 0;
  }
  if (a.gtid == kAgentGtid) {
    if (!C.agentTid) return -EINVAL;
    auto it = threads_.find(C.agentTid);
    if (it == threads_.end() || it->second.pid != pid) return -EINVAL;
    wakeAgent(a.run_cpu);
    return 0;
  }
  return -EINVAL;
}

int Kernel::iocAssoc(int pid, EEnclave& e, const IocAssocQueue& a) {
  if (a.flags != 0 || a.src.type != kSrcTask) return -EINVAL;
  EFile* f = file(pid, a.fd);
  if (!f || f->kind != EFile::kQueue) return -EBADF;
  ETask* t = taskByGtid(a.src.arg);
  if (!t || t->enclave != e.id) return -ENOENT;
  if (t->isAgent) {
    ECpu& C = cpus_[size_t(t->cpu)];
    if (a.barrier != C.agentBarrier) return -ESTALE;
    int r = C.agentQ == f->q ? kAssocAlready : 0;
    C.agentQ = f->q;
    return r;
  }
  StatusWord* w = sw(e, t->swIndex);
  if (!w || aref(w->barrier).load(std::memory_order_acquire) != a.barrier) return -ESTALE;
  int r = (t->q == f->q ? kAssocAlready : 0) | (t->newPending ? kAssocBrandNew : 0);
  t->q = f->q;
  return r;
}

int Kernel::sysIoctl(int pid, int tid, int fd, unsigned long req, void* arg) {
  EFile* f = file(pid, fd);
  if (!f) return -EBADF;
  if (f->kind != EFile::kEnclaveFile || f->name != "ctl") return -ENOTTY;
  if ((f->flags & O_ACCMODE) == O_RDONLY) return -EACCES;
  EEnclave* e = liveEnclave(f->enclave);
  if (!e) return -ENODEV;
  switch (req) {
    case kIocNull: return 0;
    case kIocSwGetInfo: {
      if (!arg) return -EFAULT;
      auto* a = static_cast<IocSwGetInfo*>(arg);
      if (a->request.type == kSrcAgent) {
        int c = static_cast<int>(a->request.arg);
        if (a->request.arg >= uint64_t(opts_.ncpus)) return -EINVAL;
        if (cpus_[size_t(c)].enclave != e->id) return -ENODEV;
        ETask* ag = taskByTid(cpus_[size_t(c)].agentTid);
        if (!cpus_[size_t(c)].agentTid || !ag) return -EINVAL;
        a->response = {0, ag->swIndex};
        return 0;
      }
      if (a->request.type == kSrcTask) {
        ETask* t = taskByGtid(a->request.arg);
        if (!t || t->enclave != e->id) return -ENOENT;
        a->response = {0, t->swIndex};
        return 0;
      }
      return -EINVAL;
    }
    case kIocSwFree: {
      if (!arg) return -EFAULT;
      auto* a = static_cast<SwInfo*>(arg);
      if (a->id != 0 || !e->sw || a->index >= kSwRegionCapacity) return -ENOENT;
      StatusWord* w = sw(*e, a->index);
      uint32_t fl = aref(w->flags).load(std::memory_order_acquire);
      if (!(fl & kSwFAllocated)) return -EALREADY;
      if (!(fl & kSwFCanFree)) return -EINVAL;
      std::memset(static_cast<void*>(w), 0, sizeof *w);
      e->swFree.push_back(a->index);
      reinterpret_cast<SwRegionHeader*>(e->sw->data())->available = static_cast<uint32_t>(e->swFree.size());
      // Freeing a departed task's word acks the departure: a re-entered task is now announced.
      for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
        ETask* t = it->second.get();
        if (!t->gated || t->enclave != e->id || t->swIndex != a->index) continue;
        if (t->newPending) {
          t->gated = false;
          t->newPending = false;
          t->swIndex = allocSw(*e, t->gtid, 0);
          syncTaskSw(*t);
          sendTaskNew(*t);
        } else {
          tasks_.erase(it);
        }
        break;
      }
      return 0;
    }
    case kIocCreateQueue: {
      if (!arg) return -EFAULT;
      auto* a = static_cast<IocCreateQueue*>(arg);
      if (a->elems < 1 || a->elems > kMaxQueueElems || (a->elems & (a->elems - 1)) || a->node != 0 || a->flags)
        return -EINVAL;
      auto q = std::make_shared<EQueue>();
      q->nelems = static_cast<uint32_t>(a->elems);
      q->enclave = e->id;
      q->mem = std::make_unique<Mem>(queueMapSize(q->nelems));
      auto* h = reinterpret_cast<QueueHeader*>(q->mem->data());
      h->version = 0;
      h->start = kQueueRingOffset;
      h->nelems = q->nelems;
      a->mapsize = q->mem->size();
      auto& table = fds_[pid];
      int nfd = table.empty() ? 3 : table.rbegin()->first + 1;
      table.emplace(nfd, EFile{EFile::kQueue, e->id, "queue", O_RDWR, q});
      return nfd;
    }
    case kIocAssocQueue: return arg ? iocAssoc(pid, *e, *static_cast<IocAssocQueue*>(arg)) : -EFAULT;
    case kIocSetDefaultQueue: {
      if (!arg) return -EFAULT;
      EFile* qf = file(pid, static_cast<IocSetDefaultQueue*>(arg)->fd);
      if (!qf || qf->kind != EFile::kQueue) return -EBADF;
      if (qf->q->enclave != e->id) return -EINVAL;
      e->defaultQ = qf->q;
      return 0;
    }
    case kIocConfigQueueWakeup: {
      if (!arg) return -EFAULT;
      auto* a = static_cast<IocConfigQueueWakeup*>(arg);
      EFile* qf = file(pid, a->qfd);
      if (!qf || qf->kind != EFile::kQueue) return -EBADF;
      if (a->flags || a->ninfo < 0 || a->ninfo > kMaxWakeupInfo) return -EINVAL;
      if (a->ninfo > 0 && !a->w) return -EFAULT;
      std::vector<int> cpus;
      for (int i = 0; i < a->ninfo; i++) {
        if (a->w[i].cpu < 0 || a->w[i].cpu >= opts_.ncpus || a->w[i].prio != 0) return -EINVAL;
        cpus.push_back(a->w[i].cpu);
      }
      qf->q->wakeCpus = cpus;
      if (!cpus.empty()) wakeAgent(cpus.back());
      return 0;
    }
    case kIocGetCpuTime: {
      if (!arg) return -EFAULT;
      auto* a = static_cast<IocGetCpuTime*>(arg);
      ETask* t = taskByGtid(static_cast<uint64_t>(a->gtid));
      if (!t) return -ESRCH;
      a->runtime = runtimeOf(*t);
      return 0;
    }
    case kIocCommitTxn:
    case kIocSyncGroupTxn:
      return arg ? iocCommit(*e, tid, *static_cast<IocCommitTxn*>(arg), req == kIocSyncGroupTxn) : -EFAULT;
    case kIocTimerfdSettime: {
      if (!arg) return -EFAULT;
      auto* a = static_cast<IocTimerfdSettime*>(arg);
      if (!a->in_tmr) return -EFAULT;
      if (a->timerfd_ghost.flags & kTimerfdGhostEnabled) {
        int c = a->timerfd_ghost.cpu;
        if (c < 0 || c >= opts_.ncpus || !cpus_[size_t(c)].agentTid) return -EINVAL;
        if (threads_.at(cpus_[size_t(c)].agentTid).pid != pid) return -EINVAL;
        int64_t v = int64_t(a->in_tmr->it_value.tv_sec) * 1'000'000'000 + a->in_tmr->it_value.tv_nsec;
        int64_t at = (a->flags & 1 /* TFD_TIMER_ABSTIME */) ? v : now_ + v;
        if (v != 0) timers_.push_back({at, c, a->timerfd_ghost.type, a->timerfd_ghost.cookie});
      }
      return 0;
    }
    case kIocRun: return arg ? iocRun(*e, pid, tid, *static_cast<IocRun*>(arg)) : -EFAULT;
    default: return -ENOTTY;
  }
}

// ---- enclave lifetime --------------------------------------------------------------------------

void Kernel::detachAgent(int c) {
  ECpu& C = cpus_[size_t(c)];
  if (!C.agentTid) return;
  EEnclave* e = C.enc;
  preemptLatched(c);
  Txn* t = txn(*e, c);
  int32_t ready = kTxnReady;
  if (aref(t->state).compare_exchange_strong(ready, kTxnNoAgent)) t->commit_time = now_;
  C.pendingCommit = false;
  auto th = threads_.find(C.agentTid);
  if (th != threads_.end() && th->second.task) {
    ETask* a = th->second.task;
    if (StatusWord* w = sw(*e, a->swIndex)) aref(w->flags).fetch_or(kSwFCanFree, std::memory_order_release);
    th->second.task = nullptr;
    tasks_.erase(a->gtid);
  }
  C.agentTid = 0;
  C.agentQ.reset();
  C.agentBlocked = false;
}

void Kernel::destroyEnclave(EEnclave& e, const std::string& reason) {
  if (!e.alive) return;
  e.alive = false;
  e.destroyReason = reason;
  // Agents are SIGKILLed (§7.5): their whole processes die.
  std::set<int> agentPids;
  for (int c : e.cpus)
    if (cpus_[size_t(c)].agentTid) agentPids.insert(threads_.at(cpus_[size_t(c)].agentTid).pid);
  for (int c : e.cpus) detachAgent(c);
  // Every task returns to the default class.
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    ETask* t = it->second.get();
    if (t->enclave != e.id) {
      ++it;
      continue;
    }
    auto th = threads_.find(t->tid);
    if (th != threads_.end()) {
      th->second.task = nullptr;
      th->second.runnable = t->runnable;
    }
    it = tasks_.erase(it);
  }
  for (int c : e.cpus) {
    ECpu& C = cpus_[size_t(c)];
    C.enclave = 0;
    C.enc = nullptr;
    C.current = C.latched = nullptr;
    C.idleLatched = C.notifyNotIdle = C.pendingCommit = false;
  }
  e.cpus.clear();
  for (int pid : agentPids) killProcess(pid);
}

void Kernel::killProcess(int pid) {
  std::vector<int> tids;
  for (auto& [tid, th] : threads_)
    if (th.pid == pid && th.alive) tids.push_back(tid);
  for (int tid : tids) {
    int c = agentCpuOf(tid);
    if (c >= 0) detachAgent(c);
    EThread& th = threads_.at(tid);
    // A SIGKILLed ghost task dies (TASK_DEAD); the real kernel would first need it scheduled to
    // act on the signal, the emulator lets it die where it is.
    if (th.task) die(th.task);
    th.alive = false;
  }
  for (int tid : tids) threads_.erase(tid);
  auto it = fds_.find(pid);
  if (it != fds_.end()) {
    std::vector<int> fds;
    for (auto& [fd, f] : it->second) fds.push_back(fd);
    for (int fd : fds) sysClose(pid, fd);
    fds_.erase(pid);
  }
}

void Kernel::removeTask(ETask* t) {
  if (t->oncpu) putOffCpu(*t);
  if (t->latchedCpu >= 0) cpus_[size_t(t->latchedCpu)].latched = nullptr;
  EEnclave* e = t->enc;
  if (StatusWord* w = sw(*e, t->swIndex)) aref(w->flags).fetch_or(kSwFCanFree, std::memory_order_release);
  auto th = threads_.find(t->tid);
  if (th != threads_.end()) th->second.task = nullptr;
  tasks_.erase(t->gtid);
}

void Kernel::tick() {
  for (auto& [id, ep] : enclaves_) {
    EEnclave& e = *ep;
    if (!e.alive) continue;
    for (int c : e.cpus) {
      ECpu& C = cpus_[size_t(c)];
      if (e.tunables["deliver_ticks"]) {
        v90::PayloadCpuTick p{c, C.agentTid && !C.agentBlocked ? 1 : 0};
        cpuMsg(c, kMsgCpuTick, &p, e.abi < 90 ? sizeof(v84::PayloadCpuTick) : sizeof p);
      }
      if (e.tunables["commit_at_tick"] && C.pendingCommit) scheduleCpu(c);
    }
    // runnable_timeout watchdog (§2.3): a runnable task left waiting too long destroys the enclave.
    const int64_t timeoutMs = e.tunables["runnable_timeout"];
    if (timeoutMs > 0) {
      for (auto& [g, t] : tasks_) {
        if (t->enclave != e.id || t->isAgent || t->gated || !t->runnable || t->oncpu) continue;
        if (now_ - t->runnableSince > timeoutMs * 1'000'000) {
          destroyEnclave(e, "runnable_timeout");
          break;
        }
      }
    }
  }
}

void Kernel::advance(int64_t ns) {
  if (ns < 0) throw std::invalid_argument("emulator: advance(ns) needs ns >= 0");
  scheduleAll();
  const int64_t target = now_ + ns;
  while (now_ < target) {
    int64_t next = std::min(target, nextTick_);
    for (const TimerEvent& t : timers_) next = std::min(next, std::max(t.at, now_));
    now_ = next;
    std::vector<TimerEvent> due;
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->at <= now_) {
        due.push_back(*it);
        it = timers_.erase(it);
      } else {
        ++it;
      }
    }
    for (const TimerEvent& t : due) {
      if (!cpus_[size_t(t.cpu)].agentTid) continue;
      PayloadCpuTimerExpired p{};
      p.cpu = t.cpu;
      p.type = t.type;
      p.cookie = t.cookie;
      cpuMsg(t.cpu, kMsgCpuTimerExpired, &p, sizeof p);
    }
    if (now_ == nextTick_) {
      tick();
      nextTick_ += opts_.tickNs;
    }
    scheduleAll();
  }
}

// ---- driver API: task events (§5.6) ------------------------------------------------------------

void Kernel::spawn(int pid, int tid, bool runnable) {
  if (tid <= 0) throw std::invalid_argument("emulator: tid must be > 0");
  if (threads_.count(tid)) throw std::invalid_argument("emulator: thread " + std::to_string(tid) + " exists");
  EThread th;
  th.tid = tid;
  th.pid = pid;
  th.runnable = runnable;
  th.gtid = (uint64_t(tid) << kGtidSeqBits) | (nextGtidSeq_++ & ((uint64_t{1} << kGtidSeqBits) - 1));
  threads_.emplace(tid, th);
}

namespace {
std::invalid_argument bad(const std::string& what, int tid) {
  return std::invalid_argument("emulator: " + what + " (tid " + std::to_string(tid) + ")");
}
}  // namespace

void Kernel::wake(int tid, int wakerCpu) {
  auto it = threads_.find(tid);
  if (it == threads_.end()) throw bad("no such thread", tid);
  ETask* t = it->second.task;
  if (!t) {
    it->second.runnable = true;
    return;
  }
  if (t->runnable) return;  // a "light" wakeup: still on the runqueue, no message
  t->runnable = true;
  t->runnableSince = now_;
  syncTaskSw(*t);
  EEnclave* e = t->enc;
  PayloadTaskWakeup p{};
  p.gtid = t->gtid;
  p.last_ran_cpu = t->cpu;
  p.waker_cpu = wakerCpu;
  p.wake_up_cpu = (e->tunables["wake_on_waker_cpu"] && wakerCpu >= 0) ? wakerCpu
                  : t->cpu >= 0                                       ? t->cpu
                  : e->cpus.empty()                                   ? -1
                                                                      : e->cpus.front();
  taskMsg(*t, kMsgTaskWakeup, &p, sizeof p);
}

void Kernel::block(int tid) {
  ETask* t = taskByTid(tid);
  if (!t) {
    auto it = threads_.find(tid);
    if (it == threads_.end()) throw bad("no such thread", tid);
    it->second.runnable = false;
    return;
  }
  if (!t->oncpu) throw bad("only a running ghost task can block", tid);
  const int c = t->cpu;
  putOffCpu(*t);
  t->runnable = false;
  syncTaskSw(*t);
  ECpu& C = cpus_[size_t(c)];
  C.cpuSeqnum++;
  auto p = offCpuPayload<PayloadTaskBlocked>(*t, C.cpuSeqnum, c);
  taskMsg(*t, kMsgTaskBlocked, &p, sizeof p);
  if (t->runFlags & kRtlaOnBlocked) wakeAgent(c);
}

void Kernel::yield(int tid) {
  ETask* t = taskByTid(tid);
  if (!t || !t->oncpu) throw bad("only a running ghost task can yield", tid);
  const int c = t->cpu;
  putOffCpu(*t);
  t->runnableSince = now_;
  ECpu& C = cpus_[size_t(c)];
  C.cpuSeqnum++;
  auto p = offCpuPayload<PayloadTaskYield>(*t, C.cpuSeqnum, c);
  taskMsg(*t, kMsgTaskYield, &p, sizeof p);
  if (t->runFlags & kRtlaOnYield) wakeAgent(c);
}

void Kernel::exit(int tid) {
  auto it = threads_.find(tid);
  if (it == threads_.end()) throw bad("no such thread", tid);
  ETask* t = it->second.task;
  if (t) {
    if (t->isAgent) throw bad("agents leave through killProcess", tid);
    if (t->runnable && !t->oncpu) throw bad("a runnable task that is not running cannot exit", tid);
    die(t);
  }
  threads_.erase(tid);
}

void Kernel::die(ETask* t) {
  if (t->oncpu) block(t->tid);  // TASK_BLOCKED first: TASK_DEAD is only sent for an off-CPU task
  if (t->latchedCpu >= 0) {
    cpus_[size_t(t->latchedCpu)].latched = nullptr;
    t->latchedCpu = -1;
  }
  t->runnable = false;
  v90::PayloadTaskDead p{t->gtid, t->cpu};
  taskMsg(*t, kMsgTaskDead, &p, t->enc->abi < 89 ? sizeof(v84::PayloadTaskDead) : sizeof p);
  removeTask(t);
}

void Kernel::depart(int tid) {
  ETask* t = taskByTid(tid);
  if (!t) throw bad("not a ghost task", tid);
  if (t->isAgent) throw bad("agents cannot leave ghOSt (EPERM)", tid);
  const bool wasCurrent = t->oncpu;
  if (t->oncpu) putOffCpu(*t);
  if (t->latchedCpu >= 0) {
    cpus_[size_t(t->latchedCpu)].latched = nullptr;
    t->latchedCpu = -1;
  }
  uint64_t seq = 0;
  if (t->cpu >= 0) seq = ++cpus_[size_t(t->cpu)].cpuSeqnum;
  PayloadTaskDeparted p{};
  p.gtid = t->gtid;
  p.cpu_seqnum = seq;
  p.cpu = t->cpu;
  p.was_current = wasCurrent;
  taskMsg(*t, kMsgTaskDeparted, &p, sizeof p);
  t->gated = true;
  t->runnable = false;
  EEnclave* e = t->enc;
  if (StatusWord* w = sw(*e, t->swIndex))
    aref(w->flags).fetch_or(kSwFCanFree | kSwTaskMsgGated, std::memory_order_release);
  auto th = threads_.find(tid);
  th->second.task = nullptr;
  th->second.runnable = true;
}

void Kernel::setAffinity(int tid) {
  ETask* t = taskByTid(tid);
  if (!t) throw bad("not a ghost task", tid);
  if (t->oncpu) preemptCurrent(t->cpu, false);  // a running task is kicked off so the agent re-decides
  PayloadTaskAffinityChanged p{t->gtid};
  taskMsg(*t, kMsgTaskAffinityChanged, &p, sizeof p);
}

void Kernel::setNice(int tid, int nice) {
  ETask* t = taskByTid(tid);
  if (!t) throw bad("not a ghost task", tid);
  t->nice = nice;
  PayloadTaskPriorityChanged p{t->gtid, nice};
  taskMsg(*t, kMsgTaskPriorityChanged, &p, sizeof p);
}

void Kernel::switchto(int tid) {
  ETask* t = taskByTid(tid);
  if (!t || !t->oncpu) throw bad("only a running ghost task can switchto", tid);
  const int c = t->cpu;
  putOffCpu(*t);
  t->runnable = false;
  syncTaskSw(*t);
  ECpu& C = cpus_[size_t(c)];
  C.cpuSeqnum++;
  PayloadTaskSwitchto p{t->gtid, t->runtime, C.cpuSeqnum, c};
  taskMsg(*t, kMsgTaskSwitchto, &p, sizeof p);
}

void Kernel::latchFailure(int tid, int err) {
  ETask* t = taskByTid(tid);
  if (!t) throw bad("not a ghost task", tid);
  PayloadTaskLatchFailure p{t->gtid, err};
  taskMsg(*t, kMsgTaskLatchFailure, &p, sizeof p);
}

void Kernel::setCpuBusy(int c, bool busy, int nextTid) {
  if (c < 0 || c >= opts_.ncpus) throw std::invalid_argument("emulator: no CPU " + std::to_string(c));
  ECpu& C = cpus_[size_t(c)];
  if (C.busy == busy) return;
  C.busy = busy;
  if (busy) {
    preemptCurrent(c, false);
    preemptLatched(c);
    if (C.idleLatched && C.notifyNotIdle && C.agentTid) {
      auto th = threads_.find(nextTid);
      PayloadCpuNotIdle p{};
      p.cpu = c;
      p.next_gtid = th == threads_.end() ? 0 : th->second.gtid;
      cpuMsg(c, kMsgCpuNotIdle, &p, sizeof p);
    }
    C.idleLatched = C.notifyNotIdle = false;
  }
  syncAgentSw(c);
  if (!C.enclave) return;
  EEnclave* e = C.enc;
  if (e->alive && e->tunables["deliver_cpu_availability"]) {
    PayloadCpu p{c};
    cpuMsg(c, busy ? kMsgCpuBusy : kMsgCpuAvailable, &p, sizeof p);
  }
}

void Kernel::setCpuOffline(int c, bool offline) {
  if (c < 0 || c >= opts_.ncpus) throw std::invalid_argument("emulator: no CPU " + std::to_string(c));
  ECpu& C = cpus_[size_t(c)];
  if (offline) {
    preemptCurrent(c, false);
    preemptLatched(c);
  }
  C.offline = offline;
}

void Kernel::reschedule(int c) {
  if (c < 0 || c >= opts_.ncpus) throw std::invalid_argument("emulator: no CPU " + std::to_string(c));
  scheduleCpu(c);
}

void Kernel::evict(int tid) {
  ETask* t = taskByTid(tid);
  if (!t) throw bad("not a ghost task", tid);
  if (t->latchedCpu >= 0) preemptLatched(t->latchedCpu);
  else if (t->oncpu) preemptCurrent(t->cpu, false);
}

void Kernel::armTimer(int c, int64_t atNs, uint64_t type, uint64_t cookie) {
  if (c < 0 || c >= opts_.ncpus) throw std::invalid_argument("emulator: no CPU " + std::to_string(c));
  timers_.push_back({atNs, c, type, cookie});
}

// ---- ghostfs files (§2) ------------------------------------------------------------------------

void Kernel::enterGhost(EEnclave& e, EThread& th) {
  auto existing = tasks_.find(th.gtid);
  if (existing != tasks_.end() && existing->second->gated) {
    // Re-entry before the agent freed the old status word: TASK_NEW is held until SW_FREE (§7.6).
    ETask* t = existing->second.get();
    t->newPending = true;
    t->runnable = th.runnable;
    t->runnableSince = now_;
    t->q = e.defaultQ.lock();
    th.task = t;
    return;
  }
  auto t = std::make_unique<ETask>();
  t->tid = th.tid;
  t->gtid = th.gtid;
  t->enclave = e.id;
  t->enc = &e;
  t->runnable = th.runnable;
  t->runnableSince = now_;
  t->q = e.defaultQ.lock();
  t->swIndex = allocSw(e, th.gtid, 0);
  ETask* raw = t.get();
  tasks_[th.gtid] = std::move(t);
  th.task = raw;
  syncTaskSw(*raw);
  sendTaskNew(*raw);
}

int Kernel::topCtlCommand(const std::string& cmd) {
  auto w = words(cmd);
  if (w.size() < 3 || w[0] != "create") return -EINVAL;
  int64_t id = 0, abiV = 0;
  if (!parseInt(w[1], id) || id < 0 || !parseInt(w[2], abiV) || abiV < 0) return -EINVAL;
  if (std::find(opts_.versions.begin(), opts_.versions.end(), uint32_t(abiV)) == opts_.versions.end()) return -ESRCH;
  if (("enclave_" + w[1]).size() >= 31) return -ENOSPC;
  for (size_t i = 3; i < w.size(); i++) {
    int64_t gid = 0;
    if (w[i] == "ephemeral") continue;
    if (w[i].rfind("gid=", 0) == 0) {
      if (!parseInt(w[i].substr(4), gid)) return -EINVAL;
      continue;
    }
    return -ENOENT;
  }
  if (enclaves_.count(uint64_t(id))) return -EEXIST;
  auto e = std::make_unique<EEnclave>();
  e->id = uint64_t(id);
  e->abi = uint32_t(abiV);
  e->cpuData = std::make_unique<Mem>(kCpuDataStride * size_t(opts_.ncpus));
  for (const char* t : kTunables) e->tunables[t] = 0;
  enclaves_[e->id] = std::move(e);
  return 0;
}

int Kernel::ctlCommand(int pid, int tid, EEnclave& e, const std::string& cmd) {
  auto w = words(cmd);
  if (w.size() == 1 && w[0] == "destroy") {
    destroyEnclave(e, "destroy");
    return 0;
  }
  if (w.size() == 4 && w[0] == "create" && w[1] == "sw_region") {
    int64_t rid = 0, node = 0;
    if (!parseInt(w[2], rid) || !parseInt(w[3], node)) return -EINVAL;
    if (node != 0) return -ENODEV;
    if (rid != 0) return -ENOSPC;  // one region per enclave is all the client uses
    if (e.sw) return -EEXIST;
    e.sw = std::make_unique<Mem>(kSwRegionSize);
    auto* h = reinterpret_cast<SwRegionHeader*>(e.sw->data());
    h->version = kSwRegionVersion;
    h->id = 0;
    h->numa_node = 0;
    h->start = 64;
    h->capacity = kSwRegionCapacity;
    for (uint32_t i = kSwRegionCapacity; i-- > 0;) e.swFree.push_back(i);
    h->available = kSwRegionCapacity;
    return 0;
  }
  if (w.size() == 4 && w[0] == "become" && w[1] == "agent") {
    int64_t c = 0, qfd = 0;
    if (!parseInt(w[2], c) || !parseInt(w[3], qfd)) return -EINVAL;
    if (!opts_.capSysNice) return -EPERM;
    if (c < 0 || c >= opts_.ncpus) return -EINVAL;
    ECpu& C = cpus_[size_t(c)];
    if (C.enclave != e.id) return -ENODEV;
    std::shared_ptr<EQueue> q;
    if (qfd < -1) return -EBADF;
    if (qfd >= 0) {
      EFile* f = file(pid, int(qfd));
      if (!f || f->kind != EFile::kQueue) return -EBADF;
      q = f->q;
    } else {
      q = e.defaultQ.lock();
      if (!q) return -ENXIO;
    }
    if (C.agentTid) return -EBUSY;
    EThread& th = threads_.at(tid);
    if (th.task) return -EINVAL;  // already an agent (or a ghost task)
    if (!e.sw) return -ENOMEM;
    auto a = std::make_unique<ETask>();
    a->tid = tid;
    a->gtid = th.gtid;
    a->enclave = e.id;
    a->enc = &e;
    a->isAgent = true;
    a->cpu = int(c);
    a->swIndex = allocSw(e, th.gtid, kSwTaskIsAgent);
    if (a->swIndex == UINT32_MAX) return -ENOMEM;
    th.task = a.get();
    tasks_[th.gtid] = std::move(a);
    C.agentTid = tid;
    C.agentQ = q;
    C.agentBlocked = false;
    // Becoming the agent kills stale transactions left on this CPU.
    Txn* t = txn(e, int(c));
    int32_t ready = kTxnReady;
    aref(t->state).compare_exchange_strong(ready, kTxnNoAgent);
    syncAgentSw(int(c));
    return 0;
  }
  if (w.size() == 2 && w[0] == "discover" && w[1] == "tasks") {
    for (auto& [g, t] : tasks_)
      if (t->enclave == e.id && !t->isAgent && !t->gated) sendTaskNew(*t);
    return 0;
  }
  if (w.size() == 3 && w[0] == "disable" && w[1] == "my" && w[2] == "bpf_prog_load") return 0;
  return -EINVAL;
}

std::string Kernel::readEnclaveFile(EEnclave& e, const std::string& name) {
  if (name == "ctl") return std::to_string(e.id);
  if (name == "abi_version") return std::to_string(e.abi) + "\n";
  if (name == "status") {
    size_t n = 0;
    for (auto& [g, t] : tasks_) n += t->enclave == e.id && !t->isAgent && !t->gated;
    return "version " + std::to_string(e.abi) + "\nactive " + (e.onlineHolderPid ? "yes" : "no") + "\nnr_tasks " +
           std::to_string(n) + "\n";
  }
  if (name == "cpulist") return formatCpuList(e.cpus) + "\n";
  if (name == "cpumask") {
    std::vector<uint32_t> wordsv(size_t(opts_.ncpus + 31) / 32, 0);
    for (int c : e.cpus) wordsv[size_t(c) / 32] |= 1u << (c % 32);
    std::string s;
    char buf[16];
    for (size_t i = wordsv.size(); i-- > 0;) {
      std::snprintf(buf, sizeof buf, i + 1 == wordsv.size() ? "%x" : "%08x", wordsv[i]);
      s += buf;
      if (i) s += ",";
    }
    return s + "\n";
  }
  if (name == "tasks") {
    std::string s;
    for (auto& [g, t] : tasks_)
      if (t->enclave == e.id && !t->isAgent && !t->gated) s += std::to_string(t->tid) + "\n";
    return s;
  }
  if (name == "agent_online") return e.onlineHolderPid ? "1" : "0";
  if (isTunable(name)) return std::to_string(e.tunables[name]) + "\n";
  return "";
}

int Kernel::writeEnclaveFile(int pid, int tid, EEnclave& e, const std::string& name, const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '\n') t.pop_back();
  if (name == "ctl") return ctlCommand(pid, tid, e, t);
  if (name == "cpulist" || name == "cpumask") {
    std::vector<int> want;
    if (name == "cpulist") {
      try {
        want = parseCpuList(t);
      } catch (const std::invalid_argument&) {
        return -EINVAL;
      }
    } else {
      std::string hex;
      for (char ch : t)
        if (ch != ',') hex += ch;
      int bit = 0;
      for (size_t i = hex.size(); i-- > 0; bit += 4) {
        int v = std::isxdigit(static_cast<unsigned char>(hex[i])) ? std::stoi(std::string(1, hex[i]), nullptr, 16) : -1;
        if (v < 0) return -EINVAL;
        for (int b = 0; b < 4; b++)
          if (v & (1 << b)) want.push_back(bit + b);
      }
      std::sort(want.begin(), want.end());
    }
    for (int c : want) {
      if (c >= opts_.ncpus) return -EINVAL;
      if (cpus_[size_t(c)].enclave && cpus_[size_t(c)].enclave != e.id) return -EBUSY;
    }
    for (int c : e.cpus)
      if (std::find(want.begin(), want.end(), c) == want.end() && cpus_[size_t(c)].agentTid) return -EEXIST;
    for (int c : e.cpus)
      if (std::find(want.begin(), want.end(), c) == want.end()) {
        cpus_[size_t(c)].enclave = 0;
        cpus_[size_t(c)].enc = nullptr;
        std::memset(static_cast<void*>(txn(e, c)), 0, sizeof(Txn));
      }
    for (int c : want) {
      if (cpus_[size_t(c)].enclave == e.id) continue;
      cpus_[size_t(c)].enclave = e.id;
      cpus_[size_t(c)].enc = &e;
      Txn* x = txn(e, c);
      x->version = kTxnVersion;
      x->cpu = c;
      x->sync_group_owner = -1;
      aref(x->state).store(kTxnComplete, std::memory_order_release);
    }
    e.cpus = want;
    return 0;
  }
  if (name == "tasks") {
    int64_t v = 0;
    if (!parseInt(t, v) || v < 0) return -EINVAL;
    int target = v == 0 ? tid : int(v);
    auto it = threads_.find(target);
    if (it == threads_.end()) return -ESRCH;
    EThread& th = it->second;
    if (target != tid && !opts_.capSysNice) return -EPERM;
    if (th.task && th.task->enclave == e.id) return -EALREADY;
    if (th.task) return -EINVAL;
    if (!e.sw || e.swFree.empty()) return -ENOMEM;
    enterGhost(e, th);
    return 0;
  }
  if (name == "agent_online") return -EINVAL;
  if (isTunable(name)) {
    int64_t v = 0;
    if (!parseInt(t, v)) return -EINVAL;
    e.tunables[name] = v;
    return 0;
  }
  return -EACCES;
}

// ---- the Sys entry points ----------------------------------------------------------------------

int Kernel::sysOpen(int pid, int tid, const std::string& path, int flags) {
  const std::string& root = opts_.root;
  if (path.rfind(root + "/", 0) != 0) return -ENOENT;
  std::string rest = path.substr(root.size() + 1);
  const int acc = flags & O_ACCMODE;
  EFile f{};
  if (rest == "version") {
    if (acc != O_RDONLY) return -EACCES;
    f = {EFile::kVersion, 0, rest, flags, nullptr};
  } else if (rest == "ctl") {
    f = {EFile::kTopCtl, 0, rest, flags, nullptr};
  } else if (rest.rfind("enclave_", 0) == 0) {
    size_t slash = rest.find('/');
    if (slash == std::string::npos) return -EISDIR;
    int64_t id = 0;
    if (!parseInt(rest.substr(8, slash - 8), id)) return -ENOENT;
    EEnclave* e = liveEnclave(uint64_t(id));
    if (!e) return -ENOENT;
    std::string name = rest.substr(slash + 1);
    static const char* const kFiles[] = {"ctl", "abi_version", "status", "cpumask", "cpulist", "cpu_data",
                                         "agent_online", "tasks"};
    bool known = isTunable(name) ||
                 std::any_of(std::begin(kFiles), std::end(kFiles), [&](const char* n) { return name == n; }) ||
                 (name == "sw_regions/sw_0" && e->sw);
    if (!known) return -ENOENT;
    if ((name == "abi_version" || name == "status" || name == "sw_regions/sw_0") && acc != O_RDONLY) return -EACCES;
    // An agent opening enclave files could deadlock in kernfs (§2.3 live_dangerously).
    if (agentCpuOf(tid) >= 0 && !e->tunables["live_dangerously"]) return -EDEADLK;
    if (name == "agent_online" && acc != O_RDONLY) {
      if (e->onlineHolderPid) return -EBUSY;
      e->onlineHolderPid = pid;
    }
    f = {EFile::kEnclaveFile, e->id, name, flags, nullptr};
  } else {
    return -ENOENT;
  }
  auto& table = fds_[pid];
  int fd = table.empty() ? 3 : table.rbegin()->first + 1;
  table.emplace(fd, f);
  return fd;
}

ssize_t Kernel::sysRead(int pid, int fd, void* buf, size_t n, off_t off) {
  EFile* f = file(pid, fd);
  if (!f) return -EBADF;
  if ((f->flags & O_ACCMODE) == O_WRONLY) return -EBADF;
  std::string content;
  switch (f->kind) {
    case EFile::kVersion:
      for (uint32_t v : opts_.versions) content += std::to_string(v) + "\n";
      break;
    case EFile::kTopCtl: return -EINVAL;
    case EFile::kQueue: return -EINVAL;
    case EFile::kEnclaveFile: {
      EEnclave* e = liveEnclave(f->enclave);
      if (!e) return -ENODEV;
      if (f->name == "cpu_data" || f->name.rfind("sw_regions/", 0) == 0) return -EINVAL;
      content = readEnclaveFile(*e, f->name);
      break;
    }
  }
  if (off < 0) return -EINVAL;
  if (size_t(off) >= content.size()) return 0;
  size_t m = std::min(n, content.size() - size_t(off));
  std::memcpy(buf, content.data() + off, m);
  return ssize_t(m);
}

ssize_t Kernel::sysWrite(int pid, int tid, int fd, const void* buf, size_t n) {
  EFile* f = file(pid, fd);
  if (!f) return -EBADF;
  if ((f->flags & O_ACCMODE) == O_RDONLY) return -EBADF;
  std::string text(static_cast<const char*>(buf), n);
  int r = 0;
  if (f->kind == EFile::kTopCtl) {
    std::string t = text;
    if (!t.empty() && t.back() == '\n') t.pop_back();
    r = topCtlCommand(t);
  } else if (f->kind == EFile::kEnclaveFile) {
    EEnclave* e = liveEnclave(f->enclave);
    if (!e) return -ENODEV;
    r = writeEnclaveFile(pid, tid, *e, f->name, text);
  } else {
    r = -EINVAL;
  }
  return r < 0 ? r : ssize_t(n);
}

MapResult Kernel::sysMmap(int pid, size_t len, int prot, int fd) {
  EFile* f = file(pid, fd);
  if (!f) return {nullptr, EBADF};
  if (prot & PROT_EXEC) return {nullptr, EPERM};
  Mem* mem = nullptr;
  if (f->kind == EFile::kQueue) {
    mem = f->q->mem.get();
  } else if (f->kind == EFile::kEnclaveFile) {
    EEnclave* e = liveEnclave(f->enclave);
    if (!e) return {nullptr, ENODEV};
    if (f->name == "cpu_data") {
      mem = e->cpuData.get();
    } else if (f->name == "sw_regions/sw_0") {
      if (prot & PROT_WRITE) return {nullptr, EACCES};  // status words are read-only to agents
      mem = e->sw.get();
    }
  }
  if (!mem) return {nullptr, ENODEV};
  if (len != mem->size()) return {nullptr, EINVAL};  // the whole object, exactly (§3.3)
  return {mem->data(), 0};
}

int Kernel::sysClose(int pid, int fd) {
  EFile* f = file(pid, fd);
  if (!f) return -EBADF;
  if (f->kind == EFile::kEnclaveFile && f->name == "agent_online" && (f->flags & O_ACCMODE) != O_RDONLY) {
    auto it = enclaves_.find(f->enclave);
    if (it != enclaves_.end() && it->second->onlineHolderPid == pid) it->second->onlineHolderPid = 0;
  }
  if (f->kind == EFile::kQueue) {
    // Closing the last fd of the default queue clears it as the default (§3.3).
    std::shared_ptr<EQueue> q = f->q;
    bool other = false;
    for (auto& [p, table] : fds_)
      for (auto& [n, g] : table)
        if (g.q == q && !(p == pid && n == fd)) other = true;
    auto it = enclaves_.find(q->enclave);
    if (!other && it != enclaves_.end() && it->second->defaultQ.lock() == q) it->second->defaultQ.reset();
  }
  fds_[pid].erase(fd);
  return 0;
}

int64_t Kernel::sysFileSize(int pid, int fd) {
  EFile* f = file(pid, fd);
  if (!f) return -EBADF;
  if (f->kind == EFile::kQueue) return int64_t(f->q->mem->size());
  if (f->kind != EFile::kEnclaveFile) return 4096;
  EEnclave* e = liveEnclave(f->enclave);
  if (!e) return -ENODEV;
  if (f->name == "cpu_data") return int64_t(e->cpuData->size());
  if (f->name == "sw_regions/sw_0") return int64_t(kSwRegionSize);
  return 4096;
}

}  // namespace ghost::emu
