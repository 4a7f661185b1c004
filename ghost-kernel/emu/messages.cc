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

void Kernel::taskMsg(ETask& t, uint16_t type, const void* payload, size_t len) {
  EEnclave* e = t.enc;
  // The barrier moves for every message generated, delivered or not (§4.4).
  bumpTaskBarrier(t);
  if (!e->alive || (t.gated && type != kMsgTaskDeparted) || !t.q) return;
  StatusWord* w = sw(*e, t.swIndex);
  produce(*t.q, type, w ? aref(w->barrier).load(std::memory_order_relaxed) : 0, payload, len);
  wakeAgentFor(*t.q, t.cpu);
}

void Kernel::cpuMsg(int c, uint16_t type, const void* payload, size_t len) {
  ECpu& C = cpus_[size_t(c)];
  C.agentBarrier++;
  syncAgentSw(c);
  if (!C.agentTid || !C.agentQ) return;
  std::shared_ptr<EQueue> q = C.agentQ;
  produce(*q, type, C.agentBarrier, payload, len);
  wakeAgentFor(*q, c);
}

void Kernel::wakeAgentFor(EQueue& q, int srcCpu) {
  if (q.wakeCpus.empty()) return;  // polling model: nobody is woken (§5.7)
  int target = std::find(q.wakeCpus.begin(), q.wakeCpus.end(), srcCpu) != q.wakeCpus.end() ? srcCpu : q.wakeCpus[0];
  wakeAgent(target);
}

void Kernel::wakeAgent(int c) {
  ECpu& C = cpus_[size_t(c)];
  if (!C.agentTid) return;
  C.agentBarrier++;
  bool wasBlocked = C.agentBlocked;
  C.agentBlocked = false;
  syncAgentSw(c);
  if (wasBlocked) {
    // The agent outranks every ghost task: its CPU's ghost task is preempted while it runs.
    preemptCurrent(c, false);
    EEnclave* e = C.enc;
    if (e->tunables["deliver_agent_runnability"]) {
      PayloadCpu p{c};
      cpuMsg(c, kMsgCpuAgentWakeup, &p, sizeof p);
    }
  }
}

void Kernel::sendTaskNew(ETask& t) {
  EEnclave* e = t.enc;
  if (e->abi < 88) {
    v84::PayloadTaskNew p{};
    p.gtid = t.gtid;
    p.runtime = runtimeOf(t);
    p.runnable = t.runnable;
    p.nice = t.nice;
    p.sw_info = {0, t.swIndex};
    taskMsg(t, kMsgTaskNew, &p, sizeof p);
  } else {
    v90::PayloadTaskNew p{};
    p.gtid = t.gtid;
    p.runtime = runtimeOf(t);
    p.runnable = t.runnable;
    p.nice = t.nice;
    p.sw_info = {0, t.swIndex};
    taskMsg(t, kMsgTaskNew, &p, sizeof p);
  }
}

}  // namespace ghost::emu
