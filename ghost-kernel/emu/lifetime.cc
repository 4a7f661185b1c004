// Emulated ghOSt kernel: agents leaving, enclave destruction, processes dying, ticks and time.
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
  // The agent barrier restarts at 0 for the next agent; a parked thread of this agent wakes up.
  C.agentTid = 0;
  C.agentQ.reset();
  C.blockedInRun = false;
  C.agentAsleep = false;
  C.parkFlags = 0;
  C.agentBarrier = 0;
  parked_.notify_all();
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
    // The reaper returns every task to the default class (sched_setscheduler SCHED_NORMAL). Its
    // TASK_DEPARTED messages are not produced: every agent of the enclave is dead by then.
    auto th = threads_.find(t->tid);
    if (th != threads_.end()) {
      // (A departed, gated task's thread already lives in the default class.)
      if (th->second.task == t) {
        leaveGhost(th->second, *t);  // its ghOSt runtime, this stay's included; the fair class continues
        th->second.task = nullptr;
        th->second.runnable = t->runnable;
      }
      if (!th->second.alive) {  // a killed task dies under the default class
        forgetThread(th->second);
        threads_.erase(th);
      }
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
    th.alive = false;
    ETask* t = th.task;
    if (!t) continue;
    // A SIGKILLed ghost task must run to act on the signal: a running one exits now (BLOCKED,
    // then DEAD); a blocked one is woken (TASK_WAKEUP); a runnable one dies when next on a CPU.
    t->killed = true;
    if (t->oncpu) die(t);
    else if (!t->runnable && !t->gated) wake(tid, -1);
  }
  for (int tid : tids) {
    auto it = threads_.find(tid);
    if (it != threads_.end() && !it->second.task) {
      forgetThread(it->second);
      threads_.erase(it);
    }
  }
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
  if (th != threads_.end()) {
    leaveGhost(th->second, *t);
    th->second.task = nullptr;
    if (!th->second.alive) {
      forgetThread(th->second);
      threads_.erase(th);
    }
  }
  tasks_.erase(t->gtid);
}

void Kernel::tick() {
  for (auto& [id, ep] : enclaves_) {
    EEnclave& e = *ep;
    if (!e.alive) continue;
    const int64_t timeoutNs = e.tunables["runnable_timeout"] * 1'000'000;
    for (int c : e.cpus) {
      ECpu& C = cpus_[size_t(c)];
      // CPU_TICK only when a ghost-class task (a ghost task or the agent) is current there.
      if (e.tunables["deliver_ticks"] && (C.current || agentOnCpu(C))) {
        v90::PayloadCpuTick p{c, agentOnCpu(C) ? 1 : 0};
        cpuMsg(c, kMsgCpuTick, &p, e.abi < 90 ? sizeof(v84::PayloadCpuTick) : sizeof p);
      }
      // A tick while the agent is current ends a latch it deferred (DEFER_LATCHED_PREEMPTION_BY_AGENT).
      if (agentOnCpu(C) && C.latched) preemptLatched(c);
      if (e.tunables["commit_at_tick"] && C.pendingCommit) scheduleCpu(c);
      // runnable_timeout watchdog, per CPU: only the oldest waiter on this CPU's runqueue (tasks
      // on the list in last_runnable_at order; running ones and agents skipped). A violation only
      // queues the destruction (a work item), which runs after the tick.
      if (timeoutNs > 0) {
        const ETask* oldest = nullptr;
        for (auto& [g, t] : tasks_) {
          if (t->enc != &e || t->isAgent || t->gated || !t->runnable || t->oncpu || t->rqCpu != c) continue;
          if (!oldest || t->runnableSince < oldest->runnableSince) oldest = t.get();
        }
        if (oldest && oldest->runnableSince + timeoutNs < now_ &&
            std::find(pendingDestroy_.begin(), pendingDestroy_.end(), e.id) == pendingDestroy_.end())
          pendingDestroy_.push_back(e.id);
      }
    }
  }
}

void Kernel::runDeferredWork() {
  std::vector<uint64_t> ids;
  ids.swap(pendingDestroy_);
  for (uint64_t id : ids)
    if (EEnclave* e = liveEnclave(id)) destroyEnclave(*e, "runnable_timeout");
}

void Kernel::advance(int64_t ns) {
  if (ns < 0) throw std::invalid_argument("emulator: advance(ns) needs ns >= 0");
  runPrograms();
  scheduleAll();
  const int64_t target = now_ + ns;
  while (now_ < target) {
    int64_t next = std::min(target, nextTick_);
    for (const TimerEvent& t : timers_) next = std::min(next, std::max(t.at, now_));
    // Program events (a CPU phase ends, a block ends); one already due waits at most 1 ns.
    next = std::min(next, std::max(nextProgramEvent(), now_ + 1));
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
    runPrograms();
    if (now_ == nextTick_) {
      tick();
      fairTick();
      nextTick_ += opts_.tickNs;
    }
    runDeferredWork();
    scheduleAll();
  }
}

}  // namespace ghost::emu
