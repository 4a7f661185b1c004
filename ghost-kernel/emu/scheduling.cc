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

void Kernel::putOffCpu(ETask& t) {
  if (!t.oncpu) return;
  t.runtime += static_cast<uint64_t>(now_ - t.switchTime);
  t.oncpu = false;
  ECpu& C = cpus_[size_t(t.cpu)];
  if (C.current == &t) C.current = nullptr;
  syncTaskSw(t);
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

}  // namespace ghost::emu
