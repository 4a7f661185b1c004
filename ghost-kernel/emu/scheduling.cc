// Emulated ghOSt kernel: getting tasks on and off CPUs, latching.
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

// ---- scheduling ---------------------------------------------------------------------------------

// Off-CPU edges go in the kernel's order: the runtime is brought up to date, the message is
// produced (barrier bumped), and only then ONCPU is cleared — so an agent that sees ONCPU clear
// knows every message about that run is already in its queue.
void Kernel::chargeRuntime(ETask& t) {
  if (!t.oncpu) return;
  t.runtime += static_cast<uint64_t>(now_ - t.switchTime);
  t.switchTime = now_;
}

void Kernel::clearOnCpu(ETask& t) {
  if (!t.oncpu) return;
  t.oncpu = false;
  ECpu& C = cpus_[size_t(t.cpu)];
  if (C.current == &t) C.current = nullptr;
  syncTaskSw(t);
}

void Kernel::putOffCpu(ETask& t) {
  chargeRuntime(t);
  clearOnCpu(t);
}

void Kernel::preemptCurrent(int c, bool elide) {
  ECpu& C = cpus_[size_t(c)];
  ETask* t = C.current;
  if (!t) return;
  chargeRuntime(*t);
  t->runnableSince = now_;  // back at the tail of the watchdog list
  t->rqCpu = c;
  if (!elide) return leaveCpu<PayloadTaskPreempt>(*t, c, kMsgTaskPreempt, kRtlaOnPreempt);
  // The txn that displaces it asked for ELIDE_PREEMPT: no TASK_PREEMPT, so no agent run for it.
  C.cpuSeqnum++;
  clearOnCpu(*t);
}

void Kernel::preemptLatched(int c) {
  ECpu& C = cpus_[size_t(c)];
  ETask* t = C.latched;
  if (!t) return;
  C.latched = nullptr;
  t->latchedCpu = -1;
  C.elideNext = false;
  C.cpuSeqnum++;
  auto p = offCpuPayload<PayloadTaskPreempt>(*t, C.cpuSeqnum, c);
  p.was_latched = 1;
  taskMsg(*t, kMsgTaskPreempt, &p, sizeof p);
  if (t->runFlags & kRtlaOnPreempt) scheduleAgent(c);
}

void Kernel::scheduleCpu(int c, bool mayPreempt) {
  ECpu& C = cpus_[size_t(c)];
  if (!C.enclave) return;
  EEnclave* e = C.enc;
  if (!e->alive) return;
  // _balance_ghost: a greedy txn is committed by its CPU only when the agent is parked, nothing is
  // latched and no higher-class task wants the CPU.
  if (C.pendingCommit && C.agentTid && !agentOnCpu(C) && !C.latched && !higherClass(C)) {
    C.pendingCommit = false;
    Txn* t = txn(*e, c);
    if (aref(t->state).load(std::memory_order_acquire) == kTxnReady) commitOne(*e, c, c, false);
  }
  if (!higherClass(C) && C.latched && !agentOnCpu(C) && (!C.current || mayPreempt)) {
    if (C.current) preemptCurrent(c, C.elideNext);
    C.elideNext = false;
    ETask* t = C.latched;
    C.latched = nullptr;
    t->latchedCpu = -1;
    t->oncpu = true;
    t->cpu = c;
    t->rqCpu = c;
    t->switchTime = now_;
    C.current = t;
    syncTaskSw(*t);
    if (C.rendezvousPoisoned) {
      // A member of a failed sync group: forced off at once, with no TASK_PREEMPT
      // (ignore_prev_preemption); it stays runnable and unlatched.
      C.rendezvousPoisoned = false;
      t->runnableSince = now_;
      clearOnCpu(*t);
    } else {
      if (t->runFlags & kSendTaskOnCpu) {
        C.cpuSeqnum++;
        PayloadTaskOnCpu p{t->gtid, static_cast<uint64_t>(now_), C.cpuSeqnum, c};
        taskMsg(*t, kMsgTaskOnCpu, &p, sizeof p);
      }
      // A SIGKILLed task acts on the signal as soon as it runs: BLOCKED, then DEAD.
      if (t->killed) die(t);
    }
  }
  checkIdleRtla(c);
}

void Kernel::checkIdleRtla(int c) {
  ECpu& C = cpus_[size_t(c)];
  // RTLA_ON_IDLE: at a pick with nothing to run, the parked agent runs instead of the idle task.
  if (C.blockedInRun && (C.parkFlags & kRtlaOnIdle) && !higherClass(C) && !C.current && !C.latched && !C.idleLatched)
    scheduleAgent(c);
}

void Kernel::scheduleAll() {
  for (int c = 0; c < opts_.ncpus; c++) scheduleCpu(c, opts_.autoPreempt);
  scheduleFair();  // the default class takes what ghOSt left free
}

}  // namespace ghost::emu
