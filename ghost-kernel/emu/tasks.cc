// Emulated ghOSt kernel: the driver API for task and CPU events.
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


void Kernel::wake(int tid, int wakerCpu) {
  auto it = threads_.find(tid);
  if (it == threads_.end()) throw bad("no such thread", tid);
  ETask* t = it->second.task;
  if (!t) {
    EThread& th = it->second;
    // A fair-class thread joins the runqueue no earlier than its minimum vruntime.
    if (!th.runnable) th.vruntime = std::max(th.vruntime, fairMinVruntime_);
    th.runnable = true;
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
  t->rqCpu = p.wake_up_cpu;
  taskMsg(*t, kMsgTaskWakeup, &p, sizeof p);
}

void Kernel::block(int tid) {
  ETask* t = taskByTid(tid);
  if (!t) {
    auto it = threads_.find(tid);
    if (it == threads_.end()) throw bad("no such thread", tid);
    fairOff(it->second);
    it->second.runnable = false;
    return;
  }
  if (!t->oncpu) throw bad("only a running ghost task can block", tid);
  const int c = t->cpu;
  // Kernel order: RUNNABLE cleared, TASK_BLOCKED produced (barrier bumped), then ONCPU cleared.
  chargeRuntime(*t);
  t->runnable = false;
  syncTaskSw(*t);
  leaveCpu<PayloadTaskBlocked>(*t, c, kMsgTaskBlocked, kRtlaOnBlocked);
}

void Kernel::yield(int tid) {
  ETask* t = taskByTid(tid);
  if (!t || !t->oncpu) throw bad("only a running ghost task can yield", tid);
  const int c = t->cpu;
  // TASK_YIELD is produced while the task is still current; ONCPU is cleared after it.
  chargeRuntime(*t);
  t->runnableSince = now_;
  t->rqCpu = c;
  leaveCpu<PayloadTaskYield>(*t, c, kMsgTaskYield, kRtlaOnYield);
}

void Kernel::exit(int tid) {
  auto it = threads_.find(tid);
  if (it == threads_.end()) throw bad("no such thread", tid);
  ETask* t = it->second.task;
  if (t) {
    if (t->isAgent) throw bad("agents leave through killProcess", tid);
    if (t->runnable && !t->oncpu) throw bad("a runnable task that is not running cannot exit", tid);
    it->second.alive = false;
    die(t);
  }
  auto left = threads_.find(tid);  // die() may have removed it already
  if (left == threads_.end()) return;
  forgetThread(left->second);
  threads_.erase(left);
}

void Kernel::die(ETask* t) {
  if (t->oncpu) block(t->tid);  // the final schedule: TASK_BLOCKED first, TASK_DEAD only off CPU
  if (t->latchedCpu >= 0) {
    cpus_[size_t(t->latchedCpu)].latched = nullptr;
    t->latchedCpu = -1;
  }
  t->runnable = false;
  // CANFREE is set before TASK_DEAD is produced.
  if (StatusWord* w = sw(*t->enc, t->swIndex)) publishSw(w, aref(w->flags).load(std::memory_order_relaxed) | kSwFCanFree);
  v90::PayloadTaskDead p{t->gtid, t->cpu};
  taskMsg(*t, kMsgTaskDead, &p, t->enc->abi < 89 ? sizeof(v84::PayloadTaskDead) : sizeof p);
  removeTask(t);
}

void Kernel::depart(int tid) {
  ETask* t = taskByTid(tid);
  if (!t) throw bad("not a ghost task", tid);
  if (t->isAgent) throw bad("agents cannot leave ghOSt (EPERM)", tid);
  const bool wasCurrent = t->oncpu;
  // A pending latch is preempted (was_latched) before the departure is reported.
  if (t->latchedCpu >= 0) preemptLatched(t->latchedCpu);
  chargeRuntime(*t);
  uint64_t seq = 0;
  if (t->cpu >= 0) seq = ++cpus_[size_t(t->cpu)].cpuSeqnum;
  EEnclave* e = t->enc;
  if (StatusWord* w = sw(*e, t->swIndex))
    publishSw(w, aref(w->flags).load(std::memory_order_relaxed) | kSwFCanFree | kSwTaskMsgGated);
  PayloadTaskDeparted p{};
  p.gtid = t->gtid;
  p.cpu_seqnum = seq;
  p.cpu = t->cpu;
  p.was_current = wasCurrent;
  taskMsg(*t, kMsgTaskDeparted, &p, sizeof p);
  t->gated = true;
  clearOnCpu(*t);  // no PREEMPT/BLOCKED for a departing running task
  t->runnable = false;
  auto th = threads_.find(tid);
  leaveGhost(th->second, *t);
  th->second.task = nullptr;
  // Back in the default class; a thread with a program keeps the state its program gives it.
  th->second.runnable = !th->second.programmed || th->second.wakeAt < 0;
}

void Kernel::setAffinity(int tid) {
  ETask* t = taskByTid(tid);
  if (!t) throw bad("not a ghost task", tid);
  if (t->newPending) return;  // nothing is reported before TASK_NEW
  // TASK_AFFINITY_CHANGED comes first (before the mask is applied); then the core's set_next
  // path forces a running task off (TASK_PREEMPT) and a latch on a CPU now disallowed is
  // withdrawn (PREEMPT was_latched). The re-enqueue restarts the watchdog clock.
  PayloadTaskAffinityChanged p{t->gtid};
  taskMsg(*t, kMsgTaskAffinityChanged, &p, sizeof p);
  if (t->oncpu) preemptCurrent(t->cpu, false);
  else if (t->latchedCpu >= 0) preemptLatched(t->latchedCpu);
  if (t->runnable) t->runnableSince = now_;
}

void Kernel::setNice(int tid, int nice) {
  ETask* t = taskByTid(tid);
  if (!t) throw bad("not a ghost task", tid);
  t->nice = nice;
  if (t->newPending) return;
  PayloadTaskPriorityChanged p{t->gtid, nice};
  taskMsg(*t, kMsgTaskPriorityChanged, &p, sizeof p);
  // A running task is forced off CPU via the set_next path (TASK_PREEMPT after the change).
  if (t->oncpu) preemptCurrent(t->cpu, false);
  if (t->runnable) t->runnableSince = now_;
}

void Kernel::switchto(int tid) {
  ETask* t = taskByTid(tid);
  if (!t || !t->oncpu) throw bad("only a running ghost task can switchto", tid);
  const int c = t->cpu;
  chargeRuntime(*t);
  t->runnable = false;
  syncTaskSw(*t);
  ECpu& C = cpus_[size_t(c)];
  C.cpuSeqnum++;
  PayloadTaskSwitchto p{t->gtid, t->runtime, C.cpuSeqnum, c};
  taskMsg(*t, kMsgTaskSwitchto, &p, sizeof p);
  clearOnCpu(*t);
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
  const bool was = higherClass(C);
  C.busy = busy;
  if (higherClass(C) != was) higherClassChanged(c, nextTid);
}

// The CPU's "a class above ghOSt holds it" state changed: a driver-declared task (setCpuBusy) or
// the modelled fair class (fair.cc).
void Kernel::higherClassChanged(int c, int nextTid) {
  ECpu& C = cpus_[size_t(c)];
  const bool busy = higherClass(C);
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
  // CPU_AVAIL / BOOST_PRIO move with the CPU's state; the agent barrier is not a sync point here.
  syncAgentFlags(c);
  if (!busy) checkIdleRtla(c);
  if (!C.enclave) return;
  EEnclave* e = C.enc;
  if (e->alive && e->tunables["deliver_cpu_availability"]) {
    PayloadCpu p{c};
    cpuMsg(c, busy ? kMsgCpuBusy : kMsgCpuAvailable, &p, sizeof p);
  }
}

void Kernel::agentSleep(int c, bool asleep) {
  if (c < 0 || c >= opts_.ncpus) throw std::invalid_argument("emulator: no CPU " + std::to_string(c));
  ECpu& C = cpus_[size_t(c)];
  if (!C.agentTid) throw std::invalid_argument("emulator: CPU " + std::to_string(c) + " has no agent");
  if (C.agentAsleep == asleep) return;
  if (asleep && C.blockedInRun) throw std::invalid_argument("emulator: an agent parked in RUN cannot sleep");
  // A real sleep (futex, nanosleep) takes the agent off the runqueue: SW RUNNABLE changes first,
  // then CPU_AGENT_BLOCKED / WAKEUP (deliver_agent_runnability). RUN parking never sends these.
  C.agentAsleep = asleep;
  syncAgentFlags(c);
  if (!asleep) preemptCurrent(c, false);  // the woken agent outranks the ghost task
  if (C.enc && C.enc->tunables["deliver_agent_runnability"]) {
    PayloadCpu p{c};
    cpuMsg(c, asleep ? kMsgCpuAgentBlocked : kMsgCpuAgentWakeup, &p, sizeof p);
  }
  if (asleep) scheduleCpu(c);
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

}  // namespace ghost::emu
