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

}  // namespace ghost::emu
