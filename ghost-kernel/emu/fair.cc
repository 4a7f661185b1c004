// Emulated ghOSt kernel: thread programs (the work a driver gives a thread) and the modelled
// default class that runs every programmed thread outside ghOSt — where an enclave's tasks go when
// it is destroyed (the reaper's sched_setscheduler(SCHED_NORMAL), docs/facts §6.6).
//
// The fair class is CFS reduced to what the emulator's drivers can observe: equal weights, one
// global runqueue ordered by vruntime (no per-CPU runqueues, no load balancing), a thread joining
// or waking starts at the queue's minimum vruntime, and at every tick a running thread yields its
// CPU to a waiter with a smaller vruntime. It outranks ghOSt as CFS does — a CPU it holds is
// "busy" for the enclave (CPU_UNAVAIL, CPU_BUSY, CPU_AVAIL cleared) — but it only takes CPUs that
// ghOSt leaves free (no ghOSt task current or latched, no agent on CPU): it never preempts a ghOSt
// task, as if the real CFS had always found an idle CPU for its wakeup.
#include "emu/kernel.h"

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <utility>

#include "emu/internal.h"

namespace ghost::emu {

using namespace ghost::emu::detail;

uint64_t Kernel::threadCpu(const EThread& th) const {
  uint64_t ns = th.cpuBase;
  if (th.task && !th.task->isAgent) ns += runtimeOf(*th.task) - th.taskRtBase;
  if (th.fairCpu >= 0) ns += static_cast<uint64_t>(now_ - th.fairSwitch);
  return ns;
}

void Kernel::leaveGhost(EThread& th, const ETask& t) {
  const uint64_t ns = runtimeOf(t) - th.taskRtBase;
  th.cpuBase += ns;
  th.ghostNs += ns;
  th.vruntime = std::max(th.vruntime, fairMinVruntime_);
}

// ---- programs ----------------------------------------------------------------------------------

void Kernel::setProgram(int tid, std::vector<Phase> phases) {
  auto it = threads_.find(tid);
  if (it == threads_.end()) throw bad("no such thread", tid);
  EThread& th = it->second;
  if (th.programmed) throw bad("the thread already has a program", tid);
  if (th.task) throw bad("a program is given before the thread enters ghOSt", tid);
  for (const Phase& p : phases)
    if (p.ns < 0) throw bad("a phase needs ns >= 0", tid);
  phases.erase(std::remove_if(phases.begin(), phases.end(), [](const Phase& p) { return p.ns == 0; }), phases.end());
  th.programmed = true;
  th.program = std::move(phases);
  th.phase = 0;
  th.startNs = now_;
  th.vruntime = std::max(th.vruntime, fairMinVruntime_);
  programmed_.insert(tid);
  done_.started++;
  // The thread is not in ghOSt and no time passes here, so its state is simply set.
  if (th.program.empty()) {
    finishProgram(th);
    return;
  }
  th.runnable = th.program.front().cpu;
  if (th.runnable) {
    th.phaseEnd = threadCpu(th) + uint64_t(th.program.front().ns);
  } else {
    th.wakeAt = now_ + th.program.front().ns;
  }
}

void Kernel::enterPhase(EThread& th) {
  if (th.phase >= th.program.size()) {
    finishProgram(th);
    return;
  }
  const Phase p = th.program[th.phase];
  if (p.cpu) {
    th.wakeAt = -1;
    th.phaseEnd = threadCpu(th) + uint64_t(p.ns);
    if (th.task ? !th.task->runnable : !th.runnable) wake(th.tid, -1);  // TASK_WAKEUP in ghOSt
    return;
  }
  th.wakeAt = now_ + p.ns;
  if (!th.task) {
    block(th.tid);
  } else if (th.task->runnable) {
    // Only a running task reaches the end of a CPU phase (runPrograms), so this is its own block.
    block(th.tid);
  }
}

void Kernel::finishProgram(EThread& th) {
  Completion c;
  c.tid = th.tid;
  c.pid = th.pid;
  c.startNs = th.startNs;
  c.endNs = now_;
  c.cpuNs = threadCpu(th);
  c.ghostNs = th.ghostNs + (th.task ? runtimeOf(*th.task) - th.taskRtBase : 0);
  c.fairNs = th.fairNs + (th.fairCpu >= 0 ? static_cast<uint64_t>(now_ - th.fairSwitch) : 0);
  c.underFair = th.task == nullptr;
  completions_.push_back(c);
  done_.completed++;
  if (c.underFair) done_.completedUnderFair++;
  done_.cpuNs += c.cpuNs;
  done_.ghostNs += c.ghostNs;
  done_.fairNs += c.fairNs;
  th.programmed = false;
  programmed_.erase(th.tid);
  // The thread exits: a running ghOSt task through its final schedule (TASK_BLOCKED, TASK_DEAD).
  const int tid = th.tid;
  if (th.task && th.task->oncpu) block(tid);
  exit(tid);
}

void Kernel::forgetThread(EThread& th) {
  if (th.fairCpu >= 0) fairOff(th);
  if (!th.programmed) return;
  const uint64_t cpu = threadCpu(th);
  done_.killed++;
  done_.cpuNs += cpu;
  done_.ghostNs += cpu - th.fairNs;
  done_.fairNs += th.fairNs;
  th.programmed = false;
  programmed_.erase(th.tid);
}

void Kernel::runPrograms() {
  std::vector<int> due;
  for (int tid : programmed_) {
    auto it = threads_.find(tid);
    if (it == threads_.end() || !it->second.alive) continue;
    const EThread& th = it->second;
    if (th.wakeAt >= 0) {
      if (th.wakeAt <= now_) due.push_back(tid);
      continue;
    }
    // A ghOSt task ends its phase on a CPU (it blocks there); a fair thread may have been switched
    // out at the very instant its phase ended.
    if ((!th.task || th.task->oncpu) && threadCpu(th) >= th.phaseEnd) due.push_back(tid);
  }
  for (int tid : due) {
    auto it = threads_.find(tid);
    if (it == threads_.end() || !it->second.programmed) continue;
    EThread& th = it->second;
    th.wakeAt = -1;
    th.phase++;
    enterPhase(th);
  }
}

int64_t Kernel::nextProgramEvent() const {
  int64_t at = INT64_MAX;
  for (int tid : programmed_) {
    auto it = threads_.find(tid);
    if (it == threads_.end() || !it->second.alive) continue;
    const EThread& th = it->second;
    if (th.wakeAt >= 0) {
      at = std::min(at, th.wakeAt);
      continue;
    }
    if (th.task ? !th.task->oncpu : th.fairCpu < 0) continue;
    const uint64_t cpu = threadCpu(th);
    at = std::min(at, now_ + int64_t(th.phaseEnd > cpu ? th.phaseEnd - cpu : 0));
  }
  return at;
}

std::vector<Completion> Kernel::takeCompletions() {
  std::vector<Completion> out;
  out.swap(completions_);
  return out;
}

Accounting Kernel::accounting() const {
  Accounting a = done_;
  for (int tid : programmed_) {
    auto it = threads_.find(tid);
    if (it == threads_.end()) continue;
    const EThread& th = it->second;
    a.live++;
    if (th.task) a.liveInGhost++;
    else a.liveInFair++;
    const uint64_t cpu = threadCpu(th);
    const uint64_t fair = th.fairNs + (th.fairCpu >= 0 ? static_cast<uint64_t>(now_ - th.fairSwitch) : 0);
    a.cpuNs += cpu;
    a.fairNs += fair;
    a.ghostNs += cpu - fair;
    for (size_t i = th.phase; i < th.program.size(); i++) {
      const Phase& p = th.program[i];
      if (!p.cpu) continue;
      if (i == th.phase) a.remainingCpuNs += th.phaseEnd > cpu ? th.phaseEnd - cpu : 0;
      else a.remainingCpuNs += uint64_t(p.ns);
    }
  }
  return a;
}

// ---- the fair class ----------------------------------------------------------------------------

uint64_t Kernel::vruntimeOf(const EThread& th) const {
  return th.vruntime + (th.fairCpu >= 0 ? static_cast<uint64_t>(now_ - th.fairSwitch) : 0);
}

bool Kernel::fairMayUse(const ECpu& C) const {
  return !C.offline && !C.busy && !C.fairTid && !C.current && !C.latched && !agentOnCpu(C);
}

void Kernel::fairOn(EThread& th, int c) {
  ECpu& C = cpus_[size_t(c)];
  C.fairTid = th.tid;
  th.fairCpu = c;
  th.fairSwitch = now_;
  if (!C.busy) higherClassChanged(c, th.tid);
}

void Kernel::fairOff(EThread& th) {
  const int c = th.fairCpu;
  if (c < 0) return;
  const uint64_t ns = static_cast<uint64_t>(now_ - th.fairSwitch);
  th.cpuBase += ns;
  th.fairNs += ns;
  th.vruntime += ns;
  th.fairCpu = -1;
  ECpu& C = cpus_[size_t(c)];
  C.fairTid = 0;
  if (!C.busy) higherClassChanged(c, 0);
}

void Kernel::scheduleFair() {
  if (programmed_.empty()) return;
  // A class above (a driver-declared task, an agent that runs) or an offlined CPU takes the CPU
  // back: the thread returns to the runqueue.
  for (int c = 0; c < opts_.ncpus; c++) {
    ECpu& C = cpus_[size_t(c)];
    if (C.fairTid && (C.busy || C.offline || agentOnCpu(C))) fairOff(threads_.at(C.fairTid));
  }
  std::vector<std::pair<uint64_t, int>> waiting;  // (vruntime, tid)
  uint64_t minVr = UINT64_MAX;
  for (int tid : programmed_) {
    auto it = threads_.find(tid);
    if (it == threads_.end()) continue;
    const EThread& th = it->second;
    if (th.task || !th.alive || !th.runnable) continue;
    minVr = std::min(minVr, vruntimeOf(th));
    if (th.fairCpu < 0) waiting.emplace_back(th.vruntime, tid);
  }
  if (minVr != UINT64_MAX) fairMinVruntime_ = std::max(fairMinVruntime_, minVr);
  std::sort(waiting.begin(), waiting.end());
  size_t next = 0;
  for (int c = 0; c < opts_.ncpus && next < waiting.size(); c++)
    if (fairMayUse(cpus_[size_t(c)])) fairOn(threads_.at(waiting[next++].second), c);
}

void Kernel::fairTick() {
  // Tick preemption: a running thread whose vruntime passed the smallest waiting one goes back to
  // the runqueue; scheduleFair then hands the CPUs out in vruntime order.
  uint64_t minWaiting = UINT64_MAX;
  for (int tid : programmed_) {
    auto it = threads_.find(tid);
    if (it == threads_.end()) continue;
    const EThread& th = it->second;
    if (!th.task && th.alive && th.runnable && th.fairCpu < 0) minWaiting = std::min(minWaiting, th.vruntime);
  }
  if (minWaiting == UINT64_MAX) return;
  for (int c = 0; c < opts_.ncpus; c++) {
    const int tid = cpus_[size_t(c)].fairTid;
    if (!tid) continue;
    EThread& th = threads_.at(tid);
    if (vruntimeOf(th) > minWaiting) fairOff(th);
  }
}

}  // namespace ghost::emu
