// Ring consumer and message decoder. Nothing in the mapping is trusted beyond what the kernel
// guarantees: indices are checked against nelems, every length against the contiguous space and the
// ABI's payload size, and payloads are memcpy'd out (slots sit at 4 mod 8, see abi.h).
#include "ghost/queue.h"

#include <atomic>
#include <cerrno>
#include <cstring>

namespace ghost {

namespace {

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void setGtid(uint64_t g, uint32_t& lo, uint32_t& hi) {
  lo = static_cast<uint32_t>(g);
  hi = static_cast<uint32_t>(g >> 32);
}

}  // namespace

int QueueView::attach(uint8_t* base, size_t mapLen, uint32_t expectElems) {
  if (!base || mapLen < abi::kQueueSlotsOffset) return EINVAL;
  abi::QueueHeader hdr;
  std::memcpy(&hdr, base, sizeof hdr);
  if (hdr.version != 0 || hdr.start != abi::kQueueRingOffset) return EPROTO;
  uint32_t n = hdr.nelems;
  if (n == 0 || (n & (n - 1)) != 0 || n > static_cast<uint32_t>(abi::kMaxQueueElems)) return EPROTO;
  if (expectElems != 0 && n != expectElems) return EPROTO;
  if (abi::kQueueSlotsOffset + size_t{n} * abi::kSlotBytes > mapLen) return EPROTO;
  ring_ = reinterpret_cast<abi::Ring*>(base + abi::kQueueRingOffset);
  slots_ = base + abi::kQueueSlotsOffset;
  nelems_ = n;
  return 0;
}

uint32_t QueueView::pending() const {
  if (!ring_) return 0;
  uint32_t head = std::atomic_ref<uint32_t>(ring_->head).load(std::memory_order_acquire);
  uint32_t tail = std::atomic_ref<uint32_t>(ring_->tail).load(std::memory_order_relaxed);
  uint32_t used = head - tail;
  return used > nelems_ ? 0 : used;
}

size_t QueueView::drain(uint32_t abiVersion, TaskTable& table, Decoded* out, size_t max) {
  if (!ring_) return 0;
  std::atomic_ref<uint32_t> headRef(ring_->head), tailRef(ring_->tail);
  uint32_t tail = tailRef.load(std::memory_order_relaxed);
  uint32_t head = headRef.load(std::memory_order_acquire);
  uint32_t ov = std::atomic_ref<uint32_t>(ring_->overflow).load(std::memory_order_relaxed);
  if (ov > stats_.overflow) stats_.overflow = ov;
  if (head - tail > nelems_) {
    // Impossible indices (corruption or a foreign writer): nothing in between can be trusted.
    stats_.corrupt++;
    tailRef.store(head, std::memory_order_release);
    return 0;
  }
  const uint32_t mask = nelems_ - 1;
  size_t n = 0;
  while (tail != head && n < max) {
    const uint32_t idx = tail & mask;
    const uint32_t contiguous = nelems_ - idx;
    const uint32_t used = head - tail;
    const uint8_t* slot = slots_ + size_t{idx} * abi::kSlotBytes;
    abi::MsgHeader h = load<abi::MsgHeader>(slot);
    const uint32_t nslots = (uint32_t{h.length} + 7) / 8;
    if (h.length < sizeof(abi::MsgHeader) || nslots > contiguous || nslots > used) {
      // The length cannot be trusted, so the next boundary is unknown: step one slot and resync.
      stats_.bad++;
      tail += 1;
      continue;
    }
    tail += nslots;
    if (h.type == abi::kMsgNop) {
      stats_.nops++;
      continue;
    }
    const int psize = abi::payloadSize(abiVersion, h.type);
    if (psize < 0 || h.length != sizeof(abi::MsgHeader) + static_cast<uint32_t>(psize)) {
      stats_.bad++;
      continue;
    }
    if (decodeOne(abiVersion, table, h.type, h.length, h.seqnum, slot + sizeof(abi::MsgHeader), out[n])) {
      n++;
      stats_.messages++;
    }
  }
  tailRef.store(tail, std::memory_order_release);
  return n;
}

bool QueueView::decodeOne(uint32_t abiVersion, TaskTable& table, uint16_t type, uint16_t len, uint32_t seq,
                          const uint8_t* p, Decoded& d) {
  using namespace abi;
  d = Decoded{};
  d.type = type;
  d.length = len;
  d.seqnum = seq;
  d.cpu = -1;
  if (isTaskMsg(type)) {
    const uint64_t gtid = load<uint64_t>(p);
    setGtid(gtid, d.gtidLo, d.gtidHi);
    uint32_t h = type == kMsgTaskNew ? table.intern(gtid) : table.find(gtid);
    if (h != 0) {
      TaskEntry* e = table.get(h);
      // A fresh TASK_NEW (lastSeq 0) starts the sequence; afterwards seqnums must strictly increase.
      if (e->lastSeq != 0 && static_cast<int32_t>(seq - e->lastSeq) <= 0) {
        stats_.staleSeq++;
        return false;
      }
      e->lastSeq = seq;
    } else {
      stats_.unknownTask++;
    }
    d.task = h;
  }
  switch (type) {
    case kMsgTaskNew: {
      if (abiVersion < 88) {
        auto m = load<v84::PayloadTaskNew>(p);
        d.time = static_cast<double>(m.runtime);
        d.flags = m.runnable ? kDecRunnable : 0;
        d.a = m.nice;
        d.b = static_cast<int32_t>(m.sw_info.index);
        d.c = m.sw_info.id;
        setGtid(m.parent_gtid, d.gtid2Lo, d.gtid2Hi);
        if (TaskEntry* e = table.get(d.task)) e->sw = m.sw_info;
      } else {
        auto m = load<v90::PayloadTaskNew>(p);
        d.time = static_cast<double>(m.runtime);
        d.flags = (m.runnable ? kDecRunnable : 0) | kDecHasAgentData;
        d.a = m.nice;
        d.b = static_cast<int32_t>(m.sw_info.index);
        d.c = m.sw_info.id;
        setGtid(m.parent_gtid, d.gtid2Lo, d.gtid2Hi);
        if (TaskEntry* e = table.get(d.task)) e->sw = m.sw_info;
      }
      break;
    }
    case kMsgTaskWakeup: {
      auto m = load<PayloadTaskWakeup>(p);
      d.cpu = m.wake_up_cpu;
      d.a = m.last_ran_cpu;
      d.b = m.waker_cpu;
      d.flags = m.deferrable ? kDecDeferrable : 0;
      setGtid(m.agent_data, d.gtid2Lo, d.gtid2Hi);
      break;
    }
    case kMsgTaskBlocked: {
      auto m = load<PayloadTaskBlocked>(p);
      d.cpu = m.cpu;
      d.time = static_cast<double>(m.runtime);
      d.cpuSeq = static_cast<double>(m.cpu_seqnum);
      d.flags = m.from_switchto ? kDecFromSwitchto : 0;
      break;
    }
    case kMsgTaskPreempt: {
      auto m = load<PayloadTaskPreempt>(p);
      d.cpu = m.cpu;
      d.time = static_cast<double>(m.runtime);
      d.cpuSeq = static_cast<double>(m.cpu_seqnum);
      d.flags = (m.from_switchto ? kDecFromSwitchto : 0) | (m.was_latched ? kDecWasLatched : 0);
      setGtid(m.agent_data, d.gtid2Lo, d.gtid2Hi);
      break;
    }
    case kMsgTaskYield: {
      auto m = load<PayloadTaskYield>(p);
      d.cpu = m.cpu;
      d.time = static_cast<double>(m.runtime);
      d.cpuSeq = static_cast<double>(m.cpu_seqnum);
      d.flags = m.from_switchto ? kDecFromSwitchto : 0;
      setGtid(m.agent_data, d.gtid2Lo, d.gtid2Hi);
      break;
    }
    case kMsgTaskDead: {
      if (abiVersion >= 89) {
        auto m = load<v90::PayloadTaskDead>(p);
        d.cpu = m.cpu;
        d.flags = kDecHasCpu;
      }
      break;
    }
    case kMsgTaskDeparted: {
      auto m = load<PayloadTaskDeparted>(p);
      d.cpu = m.cpu;
      d.cpuSeq = static_cast<double>(m.cpu_seqnum);
      d.flags = (m.from_switchto ? kDecFromSwitchto : 0) | (m.was_current ? kDecWasCurrent : 0);
      break;
    }
    case kMsgTaskSwitchto: {
      auto m = load<PayloadTaskSwitchto>(p);
      d.cpu = m.cpu;
      d.time = static_cast<double>(m.runtime);
      d.cpuSeq = static_cast<double>(m.cpu_seqnum);
      break;
    }
    case kMsgTaskAffinityChanged: break;
    case kMsgTaskPriorityChanged: d.a = load<PayloadTaskPriorityChanged>(p).nice; break;
    case kMsgTaskOnCpu: {
      auto m = load<PayloadTaskOnCpu>(p);
      d.cpu = m.cpu;
      d.time = static_cast<double>(m.commit_time);
      d.cpuSeq = static_cast<double>(m.cpu_seqnum);
      break;
    }
    case kMsgTaskLatchFailure: d.a = load<PayloadTaskLatchFailure>(p).errno_; break;
    case kMsgCpuTick: {
      if (abiVersion >= 90) {
        auto m = load<v90::PayloadCpuTick>(p);
        d.cpu = m.cpu;
        d.flags = kDecHasCpu | (m.is_agent ? kDecIsAgent : 0);
      } else {
        d.cpu = load<v84::PayloadCpuTick>(p).cpu;
      }
      break;
    }
    case kMsgCpuTimerExpired: {
      auto m = load<PayloadCpuTimerExpired>(p);
      d.cpu = m.cpu;
      d.time = static_cast<double>(m.type);
      d.cpuSeq = static_cast<double>(m.cookie);
      break;
    }
    case kMsgCpuNotIdle: {
      auto m = load<PayloadCpuNotIdle>(p);
      d.cpu = m.cpu;
      setGtid(m.next_gtid, d.gtid2Lo, d.gtid2Hi);
      break;
    }
    case kMsgCpuAvailable:
    case kMsgCpuBusy:
    case kMsgCpuAgentBlocked:
    case kMsgCpuAgentWakeup: d.cpu = load<PayloadCpu>(p).cpu; break;
    default: stats_.bad++; return false;  // unreachable: payloadSize() vetted the type
  }
  return true;
}

}  // namespace ghost
