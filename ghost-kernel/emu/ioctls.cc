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

}  // namespace ghost::emu
