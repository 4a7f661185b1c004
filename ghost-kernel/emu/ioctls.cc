// Emulated ghOSt kernel: the enclave ctl ioctls (dispatch table) and RUN.
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

// ---- ioctls ------------------------------------------------------------------------------------

int Kernel::iocRun(EEnclave& e, int pid, int tid, const IocRun& a) {
  if (!opts_.capSysNice) return -EPERM;
  if (a.run_flags & ~int32_t{kRtlaOnIdle}) return -EINVAL;
  if (a.run_cpu < 0 || a.run_cpu >= opts_.ncpus) return -EINVAL;
  const int c = a.run_cpu;
  ECpu& C = cpus_[size_t(c)];
  if (a.gtid == kNullGtid) {
    if (agentCpuOf(tid) != c || C.enclave != e.id) return -EINVAL;
    // Park first, then compare with the synced barrier: a wakeup that raced with the caller's
    // drain has bumped the counter, so the call fails instead of sleeping through it.
    C.blockedInRun = true;
    syncAgentSw(c);
    if (a.agent_barrier != C.agentBarrier) {
      C.blockedInRun = false;
      syncAgentFlags(c);
      return -ESTALE;
    }
    // Parked in RUN the agent stays runnable: no CPU_AGENT_BLOCKED. The current latch takes
    // RUN's run_flags (ghost_set_pnt_state), then the CPU picks what is latched.
    C.parkFlags = uint16_t(a.run_flags);
    if (C.latched) C.latched->runFlags = uint16_t(a.run_flags);
    C.cpuSeqnum++;
    syncAgentFlags(c);
    scheduleCpu(c);
    if (C.blockedInRun) parkCpu_ = c;
    return 0;
  }
  if (a.gtid == kAgentGtid) {
    if (!C.agentTid) return -EINVAL;
    auto it = threads_.find(C.agentTid);
    if (it == threads_.end() || it->second.pid != pid) return -EINVAL;
    C.agentBarrier++;  // the explicit increment, then schedule_agent's
    scheduleAgent(c);
    return 0;
  }
  return -EINVAL;
}

int Kernel::parkWait(std::unique_lock<std::recursive_mutex>& lk, int c, int tid) {
  // The driver's own thread runs the machine: waiting there could never end. It returns with the
  // agent parked (its next call acts as the agent after a wakeup).
  if (std::this_thread::get_id() == driverThread_) return 0;
  ECpu& C = cpus_[size_t(c)];
  parked_.wait(lk, [&] { return !(C.agentTid == tid && C.blockedInRun); });
  return C.agentTid == tid ? 0 : -ENODEV;  // detached (killed, enclave destroyed) while parked
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

int Kernel::iocSwGetInfo(EEnclave& e, IocSwGetInfo& a) {
  if (a.request.type == kSrcAgent) {
    if (a.request.arg >= uint64_t(opts_.ncpus)) return -EINVAL;
    const ECpu& C = cpus_[size_t(a.request.arg)];
    if (C.enclave != e.id) return -ENODEV;
    ETask* ag = C.agentTid ? taskByTid(C.agentTid) : nullptr;
    if (!ag) return -EINVAL;
    a.response = {0, ag->swIndex};
    return 0;
  }
  if (a.request.type == kSrcTask) {
    ETask* t = taskByGtid(a.request.arg);
    if (!t || t->enclave != e.id) return -ENOENT;
    a.response = {0, t->swIndex};
    return 0;
  }
  return -EINVAL;
}

int Kernel::iocSwFree(EEnclave& e, const SwInfo& a) {
  if (a.id != 0 || !e.sw || a.index >= kSwRegionCapacity) return -ENOENT;
  StatusWord* w = sw(e, a.index);
  uint32_t fl = aref(w->flags).load(std::memory_order_acquire);
  // CANFREE is checked first: a freed (zeroed) word fails with EINVAL, so does a double free.
  if (!(fl & kSwFCanFree)) return -EINVAL;
  if (!(fl & kSwFAllocated)) return -EALREADY;
  std::memset(static_cast<void*>(w), 0, sizeof *w);
  e.swFree.push_back(a.index);
  reinterpret_cast<SwRegionHeader*>(e.sw->data())->available = static_cast<uint32_t>(e.swFree.size());
  // Freeing a departed task's word acks the departure: a re-entered task is now announced.
  for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
    ETask* t = it->second.get();
    if (!t->gated || t->enclave != e.id || t->swIndex != a.index) continue;
    if (t->newPending) {
      t->gated = false;
      t->newPending = false;
      t->swIndex = allocSw(e, t->gtid, 0);
      syncTaskSw(*t);
      sendTaskNew(*t);
    } else {
      tasks_.erase(it);
    }
    break;
  }
  return 0;
}

int Kernel::iocCreateQueue(int pid, EEnclave& e, IocCreateQueue& a) {
  if (a.elems < 1 || a.elems > kMaxQueueElems || (a.elems & (a.elems - 1)) || a.node != 0 || a.flags) return -EINVAL;
  auto q = std::make_shared<EQueue>();
  q->nelems = static_cast<uint32_t>(a.elems);
  q->enclave = e.id;
  q->mem = std::make_unique<Mem>(queueMapSize(q->nelems));
  auto* h = reinterpret_cast<QueueHeader*>(q->mem->data());
  h->version = 0;
  h->start = kQueueRingOffset;
  h->nelems = q->nelems;
  a.mapsize = q->mem->size();
  auto& table = fds_[pid];
  int nfd = table.empty() ? 3 : table.rbegin()->first + 1;
  table.emplace(nfd, EFile{EFile::kQueue, e.id, "queue", O_RDWR, q});
  return nfd;
}

int Kernel::iocSetDefaultQueue(int pid, EEnclave& e, const IocSetDefaultQueue& a) {
  EFile* qf = file(pid, a.fd);
  if (!qf || qf->kind != EFile::kQueue) return -EBADF;
  if (qf->q->enclave != e.id) return -EINVAL;
  e.defaultQ = qf->q;
  return 0;
}

int Kernel::iocConfigQueueWakeup(int pid, const IocConfigQueueWakeup& a) {
  EFile* qf = file(pid, a.qfd);
  if (!qf || qf->kind != EFile::kQueue) return -EBADF;
  if (a.flags || a.ninfo < 0 || a.ninfo > kMaxWakeupInfo) return -EINVAL;
  if (a.ninfo > 0 && !a.w) return -EFAULT;
  std::vector<int> cpus;
  for (int i = 0; i < a.ninfo; i++) {
    if (a.w[i].cpu < 0 || a.w[i].cpu >= opts_.ncpus || a.w[i].prio != 0) return -EINVAL;
    cpus.push_back(a.w[i].cpu);
  }
  qf->q->wakeCpus = cpus;
  if (!cpus.empty()) wakeAgentOn(cpus.back());  // pending messages: wake the last listed CPU once
  return 0;
}

int Kernel::iocGetCpuTime(IocGetCpuTime& a) {
  ETask* t = taskByGtid(static_cast<uint64_t>(a.gtid));
  if (!t) return -ESRCH;
  a.runtime = runtimeOf(*t);
  return 0;
}

int Kernel::iocTimerfdSettime(int pid, const IocTimerfdSettime& a) {
  if (!a.in_tmr) return -EFAULT;
  if (a.timerfd_ghost.flags & kTimerfdGhostEnabled) {
    int c = a.timerfd_ghost.cpu;
    if (c < 0 || c >= opts_.ncpus || !cpus_[size_t(c)].agentTid) return -EINVAL;
    if (threads_.at(cpus_[size_t(c)].agentTid).pid != pid) return -EINVAL;
    int64_t v = int64_t(a.in_tmr->it_value.tv_sec) * 1'000'000'000 + a.in_tmr->it_value.tv_nsec;
    int64_t at = (a.flags & 1 /* TFD_TIMER_ABSTIME */) ? v : now_ + v;
    if (v != 0) timers_.push_back({at, c, a.timerfd_ghost.type, a.timerfd_ghost.cookie});
  }
  return 0;
}

namespace {

// One row per enclave-ctl ioctl: the handler gets the caller's ids, the enclave and `arg` (checked
// non-null when the ioctl takes an argument).
struct IoctlCall {
  Kernel* k;
  int pid;
  int tid;
  EEnclave* e;
  void* arg;
};
using IoctlFn = int (*)(const IoctlCall&);
struct IoctlRow {
  unsigned long req;
  bool needsArg;
  IoctlFn fn;
};

}  // namespace

// The dispatch table lives inside the member so its lambdas may call the private handlers.
int Kernel::sysIoctl(int pid, int tid, int fd, unsigned long req, void* arg) {
  std::unique_lock<std::recursive_mutex> lk(mu_);
  EFile* f = file(pid, fd);
  if (!f) return -EBADF;
  if (f->kind != EFile::kEnclaveFile || f->name != "ctl") return -ENOTTY;
  if ((f->flags & O_ACCMODE) == O_RDONLY) return -EACCES;
  EEnclave* e = liveEnclave(f->enclave);
  if (!e) return -ENODEV;
  static const IoctlRow kTable[] = {
      {kIocNull, false, [](const IoctlCall&) { return 0; }},
      {kIocSwGetInfo, true, [](const IoctlCall& c) { return c.k->iocSwGetInfo(*c.e, *static_cast<IocSwGetInfo*>(c.arg)); }},
      {kIocSwFree, true, [](const IoctlCall& c) { return c.k->iocSwFree(*c.e, *static_cast<SwInfo*>(c.arg)); }},
      {kIocCreateQueue, true,
       [](const IoctlCall& c) { return c.k->iocCreateQueue(c.pid, *c.e, *static_cast<IocCreateQueue*>(c.arg)); }},
      {kIocAssocQueue, true,
       [](const IoctlCall& c) { return c.k->iocAssoc(c.pid, *c.e, *static_cast<IocAssocQueue*>(c.arg)); }},
      {kIocSetDefaultQueue, true,
       [](const IoctlCall& c) { return c.k->iocSetDefaultQueue(c.pid, *c.e, *static_cast<IocSetDefaultQueue*>(c.arg)); }},
      {kIocConfigQueueWakeup, true,
       [](const IoctlCall& c) { return c.k->iocConfigQueueWakeup(c.pid, *static_cast<IocConfigQueueWakeup*>(c.arg)); }},
      {kIocGetCpuTime, true, [](const IoctlCall& c) { return c.k->iocGetCpuTime(*static_cast<IocGetCpuTime*>(c.arg)); }},
      {kIocCommitTxn, true,
       [](const IoctlCall& c) { return c.k->iocCommit(*c.e, c.tid, *static_cast<IocCommitTxn*>(c.arg), false); }},
      {kIocSyncGroupTxn, true,
       [](const IoctlCall& c) { return c.k->iocCommit(*c.e, c.tid, *static_cast<IocCommitTxn*>(c.arg), true); }},
      {kIocTimerfdSettime, true,
       [](const IoctlCall& c) { return c.k->iocTimerfdSettime(c.pid, *static_cast<IocTimerfdSettime*>(c.arg)); }},
      {kIocRun, true, [](const IoctlCall& c) { return c.k->iocRun(*c.e, c.pid, c.tid, *static_cast<IocRun*>(c.arg)); }},
  };
  for (const IoctlRow& row : kTable) {
    if (row.req != req) continue;
    if (row.needsArg && !arg) return -EFAULT;
    parkCpu_ = -1;
    int rc = row.fn(IoctlCall{this, pid, tid, e, arg});
    // RUN(0) and a successful local commit parked the caller: block until it is un-parked.
    if (parkCpu_ >= 0) {
      const int c = parkCpu_;
      parkCpu_ = -1;
      int w = parkWait(lk, c, tid);
      if (w < 0) return w;
    }
    return rc;
  }
  return -ENOTTY;
}

}  // namespace ghost::emu
