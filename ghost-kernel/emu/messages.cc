// Emulated ghOSt kernel: message production, barriers and agent wakeups.
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

namespace {
// Messages whose production wakes the agent the queue routes to (the rest only bump barriers):
// AFFINITY_CHANGED, SWITCHTO, ON_CPU, CPU_AVAILABLE/BUSY and AGENT_BLOCKED/WAKEUP never wake.
bool wakes(uint16_t type) {
  switch (type) {
    case kMsgTaskAffinityChanged:
    case kMsgTaskSwitchto:
    case kMsgTaskOnCpu:
    case kMsgCpuAvailable:
    case kMsgCpuBusy:
    case kMsgCpuAgentBlocked:
    case kMsgCpuAgentWakeup:
      return false;
    default:
      return true;
  }
}
}  // namespace

void Kernel::taskMsg(ETask& t, uint16_t type, const void* payload, size_t len) {
  EEnclave* e = t.enc;
  // The task barrier moves for every message attempt, delivered or not (no queue, gated, overflow).
  bumpTaskBarrier(t);
  if (!e->alive || (t.gated && type != kMsgTaskDeparted) || !t.q) return;
  StatusWord* w = sw(*e, t.swIndex);
  produce(*t.q, type, w ? aref(w->barrier).load(std::memory_order_relaxed) : 0, payload, len);
  if (wakes(type)) wakeAgentFor(*t.q, t.rqCpu >= 0 ? t.rqCpu : t.cpu);
}

void Kernel::cpuMsg(int c, uint16_t type, const void* payload, size_t len) {
  ECpu& C = cpus_[size_t(c)];
  // produce_for_agent: nothing at all (no barrier change) without an agent or its queue; else the
  // agent barrier moves first and the status word is synced, seqnum = the new barrier.
  if (!C.agentTid || !C.agentQ) return;
  agentBarrierInc(c);
  std::shared_ptr<EQueue> q = C.agentQ;
  produce(*q, type, C.agentBarrier, payload, len);
  if (wakes(type)) wakeAgentFor(*q, c);
}

void Kernel::wakeAgentFor(EQueue& q, int srcCpu) {
  if (q.wakeCpus.empty()) return;  // polling model: nobody is woken
  int target = std::find(q.wakeCpus.begin(), q.wakeCpus.end(), srcCpu) != q.wakeCpus.end() ? srcCpu : q.wakeCpus[0];
  wakeAgentOn(target);
}

void Kernel::wakeAgentOn(int c) {
  ECpu& C = cpus_[size_t(c)];
  if (!C.agentTid) return;
  // Lockless path: only the counter moves; the status word catches up at the next sync point
  // (RUN's or a local commit's check, a CPU message, or the agent's pick after an un-park).
  C.agentBarrier++;
  if (C.blockedInRun) unpark(c);
}

void Kernel::scheduleAgent(int c) {
  ECpu& C = cpus_[size_t(c)];
  if (!C.agentTid) return;
  agentBarrierInc(c);
  if (C.blockedInRun) unpark(c);
}

void Kernel::unpark(int c) {
  ECpu& C = cpus_[size_t(c)];
  C.blockedInRun = false;
  C.parkFlags = 0;
  if (!C.agentAsleep) {
    // The agent class picks it ahead of every ghost task: the running one is preempted, a latched
    // one loses its latch unless DEFER_LATCHED_PREEMPTION_BY_AGENT.
    preemptCurrent(c, false);
    if (C.latched && !(C.latched->runFlags & kDeferLatchedPreemptionByAgent)) preemptLatched(c);
  }
  syncAgentSw(c);  // pick_agent consumes agent_should_wake with agent_barrier_get
  parked_.notify_all();
}

void Kernel::sendTaskNew(ETask& t) {
  // Same fields in both layouts; ABI 88 grew the payload (docs/ghost-abi.md).
  auto send = [&](auto p) {
    p.gtid = t.gtid;
    p.runtime = runtimeOf(t);
    p.runnable = t.runnable;
    p.nice = t.nice;
    p.sw_info = {0, t.swIndex};
    taskMsg(t, kMsgTaskNew, &p, sizeof p);
  };
  if (t.enc->abi < 88) send(v84::PayloadTaskNew{});
  else send(v90::PayloadTaskNew{});
}

}  // namespace ghost::emu
