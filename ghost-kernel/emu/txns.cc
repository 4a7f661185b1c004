// Emulated ghOSt kernel: transaction validation and commit (COMMIT_TXN, SYNC_GROUP_TXN, greedy commits).
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

int32_t Kernel::validate(const EEnclave& e, int c, const Txn& t, int callerCpu, bool local, ETask** target) {
  // _ghost_commit_txn's order: the first failure wins.
  *target = nullptr;
  if (t.version != kTxnVersion) return kTxnUnsupportedVersion;
  if (t.cpu != c) return kTxnInvalidCpu;
  const int64_t g = t.gtid;
  const uint16_t rf = t.run_flags;
  const uint8_t cf = t.commit_flags;
  if ((rf & ~kValidRunFlags) || (cf & ~kValidCommitFlags)) return kTxnInvalidFlags;
  if ((rf & kRtlaOnIdle) && g < 0) return kTxnInvalidFlags;
  if ((rf & kNeedCpuNotIdle) && g != kIdleGtid) return kTxnInvalidFlags;
  if (g == kAgentGtid && rf != 0) return kTxnInvalidFlags;
  if ((cf & kCommitAtSchedule) && (cf & kCommitAtTxnCommit)) return kTxnInvalidFlags;
  if ((cf & kElideAgentBarrierInc) && (cf & kIncAgentBarrierOnFailure)) return kTxnInvalidFlags;
  ECpu& C = cpus_[size_t(c)];
  if (C.offline) return kTxnCpuOffline;
  const bool realTarget = g > 0 || g == kIdleGtid;
  if (g > 0) {
    ETask* task = taskByGtid(static_cast<uint64_t>(g));
    if (!task) return kTxnTargetNotFound;
    if (task->isAgent) return kTxnInvalidTarget;
    if (task->gated) return kTxnTargetStale;
    StatusWord* w = sw(*task->enc, task->swIndex);
    if (!w || aref(w->barrier).load(std::memory_order_acquire) != t.task_barrier) return kTxnTargetStale;
    if (!task->runnable) return kTxnTargetNotRunnable;
    if (task->oncpu && !(task->cpu == c && (cf & kAllowTaskOnCpu))) return kTxnTargetOnCpu;
    *target = task;
  } else if (g < kIdleGtid) {
    return kTxnInvalidTarget;
  } else if (g == kIdleGtid && !(cf & kAllowTaskOnCpu)) {
    // The idle task is already "running" on an idle CPU.
    const bool idle = !C.current && !C.latched && !higherClass(C) && !agentOnCpu(C);
    if (idle) return kTxnTargetOnCpu;
  }
  if (!C.agentTid) return kTxnNoAgent;
  if (C.enclave != e.id) return kTxnNotPermitted;
  if (callerCpu < 0 && g != kAgentGtid) return kTxnNotPermitted;
  if (callerCpu >= 0 && cpus_[size_t(callerCpu)].enclave != e.id) return kTxnNotPermitted;
  // DO_NOT_PREEMPT: any ghost-policy task current there (the agent itself included) or a latch.
  if (realTarget && (rf & kDoNotPreempt) && (C.current || C.latched || agentOnCpu(C))) return kTxnAgentStale;
  if (realTarget && higherClass(C)) return kTxnCpuUnavail;
  if (local && g != kAgentGtid) {
    // The local blocking commit parks the agent, then checks the synced agent barrier.
    syncAgentSw(c);
    if (t.agent_barrier != C.agentBarrier) return kTxnAgentStale;
  }
  return kTxnComplete;
}

void Kernel::failTxn(EEnclave&, int c, Txn& t, int32_t state) {
  if (t.commit_flags & kIncAgentBarrierOnFailure) agentBarrierInc(c);
  t.commit_time = now_;
  aref(t.state).store(state, std::memory_order_release);
}

void Kernel::applyCommit(EEnclave&, int c, Txn& t, ETask* target, bool local) {
  ECpu& C = cpus_[size_t(c)];
  const bool elide = t.run_flags & kElidePreempt;
  const bool alreadyOn = target && target->oncpu && target->cpu == c;
  // The agent barrier moves on success unless elided; not for a task that simply keeps running.
  if (!(t.commit_flags & kElideAgentBarrierInc) && !alreadyOn) agentBarrierInc(c);
  if (target) {
    if (C.latched && C.latched != target) preemptLatched(c);
    if (!alreadyOn) {
      if (target->latchedCpu >= 0 && target->latchedCpu != c) {
        // ghost_move_task: re-committing a latched task silently moves its latch.
        cpus_[size_t(target->latchedCpu)].latched = nullptr;
      }
      if (target->rqCpu != c) target->runnableSince = now_;  // migration re-enqueues it
      target->rqCpu = c;
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
    scheduleAgent(c);
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
    // A successful local commit parks the agent and switches to what it latched; the ioctl
    // returns when the agent is next woken (sysIoctl waits).
    C.blockedInRun = true;
    C.parkFlags = 0;
    syncAgentFlags(c);
    scheduleCpu(c);
    if (C.blockedInRun) parkCpu_ = c;
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

int Kernel::iocCommit(EEnclave& e, int tid, const IocCommitTxn& a, bool sync) {
  if (a.flags != 0) return -EINVAL;
  if (!a.mask_ptr) return -EFAULT;
  const int callerCpu = agentCpuOf(tid);
  const auto* mask = static_cast<const uint8_t*>(a.mask_ptr);
  std::vector<int>& order = commitOrder_;
  order.clear();
  for (int i = 1; i <= opts_.ncpus; i++) {
    // Start after the caller's CPU so the caller's own txn is handled last.
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
        int32_t ready = kTxnReady;
        if (aref(t->state).compare_exchange_strong(ready, callerCpu)) {
          t->commit_time = now_;
          aref(t->state).store(kTxnPoisoned, std::memory_order_release);
        }
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
  // Sync group (ghost_sync_group): claim every txn; a claim failure fails the group (that slot is
  // left alone). Then commit in order; after the first failure every remaining txn is POISONED,
  // while members that already committed stay COMPLETE and their tasks are kicked off as soon as
  // they switch in (poisoned rendezvous).
  bool failed = order.empty();
  std::vector<int> claimed;
  claimed.reserve(order.size());
  for (int c : order) {
    Txn* t = txn(e, c);
    int32_t ready = kTxnReady;
    if (aref(t->state).compare_exchange_strong(ready, callerCpu >= 0 ? callerCpu : c, std::memory_order_acq_rel))
      claimed.push_back(c);
    else
      failed = true;
  }
  std::vector<int> committed;
  for (int c : claimed) {
    Txn* t = txn(e, c);
    if (failed) {
      failTxn(e, c, *t, kTxnPoisoned);
      continue;
    }
    ETask* target = nullptr;
    int32_t r = validate(e, c, *t, callerCpu, c == callerCpu, &target);
    if (r != kTxnComplete) {
      failTxn(e, c, *t, r);
      failed = true;
      continue;
    }
    applyCommit(e, c, *t, target, c == callerCpu);
    committed.push_back(c);
  }
  if (failed) {
    for (int c : committed)
      if (cpus_[size_t(c)].latched) cpus_[size_t(c)].rendezvousPoisoned = true;
    return 0;
  }
  for (int c : claimed) aref(txn(e, c)->sync_group_owner).store(-1, std::memory_order_release);
  return 1;
}

}  // namespace ghost::emu
