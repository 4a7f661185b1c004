// ghOSt kernel ABI, versions 84, 90 and 91, as plain C++ structs with compile-time layout checks.
//
// Everything that is shared memory or an ioctl argument is declared here once. Structures that are
// identical across the three ABIs live in namespace `ghost::abi`; the three message payloads whose
// layout changed (TASK_NEW in 88, TASK_DEAD in 89, CPU_TICK in 90) have one struct per layout in
// `ghost::abi::v84` and `ghost::abi::v90` (91 changed no struct, so it uses the v90 layouts).
// Sizes and offsets below are those of the kernel's own uapi header on x86-64 (LP64); every one is
// pinned by a static_assert so a mistake breaks the build instead of corrupting a ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <climits>
#include <ctime>

namespace ghost::abi {

constexpr int kSchedGhost = 18;
constexpr int kSchedResetOnFork = 0x40000000;
constexpr uint32_t kAbiVersions[] = {84, 90, 91};
constexpr bool abiSupported(uint32_t v) { return v == 84 || v == 90 || v == 91; }

// ---- special gtids -------------------------------------------------------------------------
constexpr int64_t kNullGtid = 0;
constexpr int64_t kAgentGtid = -1;
constexpr int64_t kIdleGtid = -2;

// ---- ioctl request numbers (magic 'g'; identical in 84/90/91) -----------------------------------
constexpr unsigned long kIocNull = 0x00006700UL;
constexpr unsigned long kIocSwGetInfo = 0xC0186701UL;
constexpr unsigned long kIocSwFree = 0x40086702UL;
constexpr unsigned long kIocCreateQueue = 0xC0186703UL;
constexpr unsigned long kIocAssocQueue = 0x40206704UL;
constexpr unsigned long kIocSetDefaultQueue = 0x40046705UL;
constexpr unsigned long kIocConfigQueueWakeup = 0x40186706UL;
constexpr unsigned long kIocGetCpuTime = 0xC0106707UL;
constexpr unsigned long kIocCommitTxn = 0x40106708UL;
constexpr unsigned long kIocSyncGroupTxn = 0x40106709UL;
constexpr unsigned long kIocTimerfdSettime = 0xC030670AUL;
constexpr unsigned long kIocRun = 0x4018670BUL;

// ---- ioctl argument structures ------------------------------------------------------------------
enum MsgSrcType : int32_t { kSrcAgent = 0, kSrcTask = 1 };

struct MsgSrc {
  int32_t type;
  uint32_t pad;
  uint64_t arg;  // CPU (agent) or gtid (task)
};
struct SwInfo {
  uint32_t id;
  uint32_t index;
};
struct IocSwGetInfo {
  MsgSrc request;
  SwInfo response;
};
struct IocCreateQueue {
  int32_t elems;
  int32_t node;
  int32_t flags;
  uint32_t pad;
  uint64_t mapsize;  // out
};
struct IocAssocQueue {
  int32_t fd;
  uint32_t pad;
  MsgSrc src;
  uint32_t barrier;
  int32_t flags;
};
constexpr int kAssocAlready = 1;
constexpr int kAssocBrandNew = 2;
struct IocSetDefaultQueue {
  int32_t fd;
};
struct AgentWakeup {
  int32_t cpu;
  int32_t prio;
};
constexpr int kMaxWakeupInfo = 2;
struct IocConfigQueueWakeup {
  int32_t qfd;
  uint32_t pad;
  AgentWakeup* w;
  int32_t ninfo;
  int32_t flags;
};
struct IocGetCpuTime {
  int64_t gtid;
  uint64_t runtime;  // out
};
struct IocCommitTxn {
  void* mask_ptr;  // glibc cpu_set_t layout
  uint32_t mask_len;
  int32_t flags;
};
struct TimerfdGhost {
  int32_t cpu;
  int32_t flags;
  uint64_t type;
  uint64_t cookie;
};
constexpr int32_t kTimerfdGhostEnabled = 1;
struct IocTimerfdSettime {
  int32_t timerfd;
  int32_t flags;
  const struct itimerspec* in_tmr;
  struct itimerspec* out_tmr;
  TimerfdGhost timerfd_ghost;
};
struct IocRun {
  int64_t gtid;
  uint32_t agent_barrier;
  uint32_t task_barrier;
  int32_t run_cpu;
  int32_t run_flags;
};

static_assert(sizeof(MsgSrc) == 16 && offsetof(MsgSrc, arg) == 8);
static_assert(sizeof(SwInfo) == 8 && offsetof(SwInfo, index) == 4);
static_assert(sizeof(IocSwGetInfo) == 24 && offsetof(IocSwGetInfo, response) == 16);
static_assert(sizeof(IocCreateQueue) == 24 && offsetof(IocCreateQueue, flags) == 8 &&
              offsetof(IocCreateQueue, mapsize) == 16);
static_assert(sizeof(IocAssocQueue) == 32 && offsetof(IocAssocQueue, src) == 8 &&
              offsetof(IocAssocQueue, barrier) == 24 && offsetof(IocAssocQueue, flags) == 28);
static_assert(sizeof(IocSetDefaultQueue) == 4);
static_assert(sizeof(AgentWakeup) == 8);
static_assert(sizeof(IocConfigQueueWakeup) == 24 && offsetof(IocConfigQueueWakeup, w) == 8 &&
              offsetof(IocConfigQueueWakeup, ninfo) == 16 && offsetof(IocConfigQueueWakeup, flags) == 20);
static_assert(sizeof(IocGetCpuTime) == 16 && offsetof(IocGetCpuTime, runtime) == 8);
static_assert(sizeof(IocCommitTxn) == 16 && offsetof(IocCommitTxn, mask_len) == 8 &&
              offsetof(IocCommitTxn, flags) == 12);
static_assert(sizeof(TimerfdGhost) == 24 && offsetof(TimerfdGhost, type) == 8 && offsetof(TimerfdGhost, cookie) == 16);
static_assert(sizeof(IocTimerfdSettime) == 48 && offsetof(IocTimerfdSettime, in_tmr) == 8 &&
              offsetof(IocTimerfdSettime, out_tmr) == 16 && offsetof(IocTimerfdSettime, timerfd_ghost) == 24);
static_assert(sizeof(IocRun) == 24 && offsetof(IocRun, agent_barrier) == 8 && offsetof(IocRun, task_barrier) == 12 &&
              offsetof(IocRun, run_cpu) == 16 && offsetof(IocRun, run_flags) == 20);

// The request numbers encode the argument size (bits 16..29); check they agree with the structs.
constexpr unsigned iocSize(unsigned long req) { return static_cast<unsigned>((req >> 16) & 0x3fff); }
static_assert(iocSize(kIocSwGetInfo) == sizeof(IocSwGetInfo));
static_assert(iocSize(kIocSwFree) == sizeof(SwInfo));
static_assert(iocSize(kIocCreateQueue) == sizeof(IocCreateQueue));
static_assert(iocSize(kIocAssocQueue) == sizeof(IocAssocQueue));
static_assert(iocSize(kIocSetDefaultQueue) == sizeof(IocSetDefaultQueue));
static_assert(iocSize(kIocConfigQueueWakeup) == sizeof(IocConfigQueueWakeup));
static_assert(iocSize(kIocGetCpuTime) == sizeof(IocGetCpuTime));
static_assert(iocSize(kIocCommitTxn) == sizeof(IocCommitTxn));
static_assert(iocSize(kIocSyncGroupTxn) == sizeof(IocCommitTxn));
static_assert(iocSize(kIocTimerfdSettime) == sizeof(IocTimerfdSettime));
static_assert(iocSize(kIocRun) == sizeof(IocRun));

// ---- status words ----------------------------------------------------------------------------
struct alignas(64) SwRegionHeader {
  uint32_t version;
  uint32_t id;
  uint32_t numa_node;
  uint32_t start;
  uint32_t capacity;
  uint32_t available;
};
struct alignas(32) StatusWord {
  uint32_t barrier;
  uint32_t flags;
  uint64_t gtid;
  int64_t switch_time;
  uint64_t runtime;
};
static_assert(sizeof(SwRegionHeader) == 64 && offsetof(SwRegionHeader, start) == 12 &&
              offsetof(SwRegionHeader, capacity) == 16 && offsetof(SwRegionHeader, available) == 20);
static_assert(sizeof(StatusWord) == 32 && offsetof(StatusWord, flags) == 4 && offsetof(StatusWord, gtid) == 8 &&
              offsetof(StatusWord, switch_time) == 16 && offsetof(StatusWord, runtime) == 24);
constexpr uint32_t kSwRegionVersion = 0;
constexpr uint32_t kSwRegionCapacity = 65534;
constexpr size_t kSwRegionSize = 2u << 20;  // page-aligned(64 + 65534 * 32)
static_assert(64 + size_t{kSwRegionCapacity} * 32 <= kSwRegionSize);

constexpr uint32_t kSwFInUse = 1u << 0;
constexpr uint32_t kSwFCanFree = 1u << 1;
constexpr uint32_t kSwFAllocated = 1u << 2;
constexpr uint32_t kSwCpuAvail = 1u << 8;
constexpr uint32_t kSwBoostPrio = 1u << 9;
constexpr uint32_t kSwTaskOnCpu = 1u << 16;
constexpr uint32_t kSwTaskRunnable = 1u << 17;
constexpr uint32_t kSwTaskIsAgent = 1u << 18;
constexpr uint32_t kSwTaskMsgGated = 1u << 19;

// ---- queues ----------------------------------------------------------------------------------
struct QueueHeader {
  uint32_t version;
  uint32_t start;
  uint32_t nelems;
  uint32_t reserved[13];
};
struct Ring {
  uint32_t head;
  uint32_t tail;
  uint32_t overflow;
};
struct MsgHeader {
  uint16_t type;
  uint16_t length;  // bytes including this header
  uint32_t seqnum;
};
static_assert(sizeof(QueueHeader) == 64 && offsetof(QueueHeader, nelems) == 8);
static_assert(sizeof(Ring) == 12 && offsetof(Ring, tail) == 4 && offsetof(Ring, overflow) == 8);
static_assert(sizeof(MsgHeader) == 8 && offsetof(MsgHeader, seqnum) == 4);
constexpr size_t kQueueRingOffset = 64;
constexpr size_t kQueueSlotsOffset = 76;  // 4 mod 8: payloads are read with memcpy
constexpr size_t kSlotBytes = 8;
constexpr int kMaxQueueElems = 65536;
constexpr size_t queueMapSize(uint32_t elems) {
  return (kQueueSlotsOffset + kSlotBytes * elems + 4095) & ~size_t{4095};
}
static_assert(queueMapSize(65536) == 528384);

// ---- message types ---------------------------------------------------------------------------
enum MsgType : uint16_t {
  kMsgNop = 0,
  kMsgTaskDead = 64,
  kMsgTaskBlocked = 65,
  kMsgTaskWakeup = 66,
  kMsgTaskNew = 67,
  kMsgTaskPreempt = 68,
  kMsgTaskYield = 69,
  kMsgTaskDeparted = 70,
  kMsgTaskSwitchto = 71,
  kMsgTaskAffinityChanged = 72,
  kMsgTaskOnCpu = 73,
  kMsgTaskPriorityChanged = 74,
  kMsgTaskLatchFailure = 75,
  kMsgCpuTick = 128,
  kMsgCpuTimerExpired = 129,
  kMsgCpuNotIdle = 130,
  kMsgCpuAvailable = 131,
  kMsgCpuBusy = 132,
  kMsgCpuAgentBlocked = 133,
  kMsgCpuAgentWakeup = 134,
};
constexpr bool isTaskMsg(uint16_t t) { return t >= 64 && t < 128; }
constexpr bool isCpuMsg(uint16_t t) { return t >= 128 && t < 192; }

// ---- message payloads (common to 84/90/91) -----------------------------------------------------
struct PayloadTaskWakeup {
  uint64_t gtid;
  uint64_t agent_data;
  char deferrable;
  char pad[3];
  int32_t last_ran_cpu;
  int32_t wake_up_cpu;
  int32_t waker_cpu;
};
struct PayloadTaskBlocked {
  uint64_t gtid;
  uint64_t runtime;
  uint64_t cpu_seqnum;
  int32_t cpu;
  char from_switchto;
};
struct PayloadTaskPreempt {
  uint64_t gtid;
  uint64_t runtime;
  uint64_t cpu_seqnum;
  uint64_t agent_data;
  int32_t cpu;
  char from_switchto;
  char was_latched;
};
struct PayloadTaskYield {
  uint64_t gtid;
  uint64_t runtime;
  uint64_t cpu_seqnum;
  uint64_t agent_data;
  int32_t cpu;
  char from_switchto;
};
struct PayloadTaskDeparted {
  uint64_t gtid;
  uint64_t cpu_seqnum;
  int32_t cpu;
  char from_switchto;
  char was_current;
};
struct PayloadTaskSwitchto {
  uint64_t gtid;
  uint64_t runtime;
  uint64_t cpu_seqnum;
  int32_t cpu;
};
struct PayloadTaskAffinityChanged {
  uint64_t gtid;
};
struct PayloadTaskPriorityChanged {
  uint64_t gtid;
  int32_t nice;
};
struct PayloadTaskOnCpu {
  uint64_t gtid;
  uint64_t commit_time;
  uint64_t cpu_seqnum;
  int32_t cpu;
};
struct PayloadTaskLatchFailure {
  uint64_t gtid;
  int32_t errno_;
};
struct PayloadCpuTimerExpired {
  int32_t cpu;
  uint64_t type;
  uint64_t cookie;
};
struct PayloadCpuNotIdle {
  int32_t cpu;
  uint64_t next_gtid;
};
struct PayloadCpu {  // CPU_AVAILABLE, CPU_BUSY, CPU_AGENT_BLOCKED, CPU_AGENT_WAKEUP
  int32_t cpu;
};
static_assert(sizeof(PayloadTaskWakeup) == 32 && offsetof(PayloadTaskWakeup, deferrable) == 16 &&
              offsetof(PayloadTaskWakeup, last_ran_cpu) == 20 && offsetof(PayloadTaskWakeup, wake_up_cpu) == 24 &&
              offsetof(PayloadTaskWakeup, waker_cpu) == 28);
static_assert(sizeof(PayloadTaskBlocked) == 32 && offsetof(PayloadTaskBlocked, cpu_seqnum) == 16 &&
              offsetof(PayloadTaskBlocked, cpu) == 24 && offsetof(PayloadTaskBlocked, from_switchto) == 28);
static_assert(sizeof(PayloadTaskPreempt) == 40 && offsetof(PayloadTaskPreempt, agent_data) == 24 &&
              offsetof(PayloadTaskPreempt, cpu) == 32 && offsetof(PayloadTaskPreempt, from_switchto) == 36 &&
              offsetof(PayloadTaskPreempt, was_latched) == 37);
static_assert(sizeof(PayloadTaskYield) == 40 && offsetof(PayloadTaskYield, cpu) == 32 &&
              offsetof(PayloadTaskYield, from_switchto) == 36);
static_assert(sizeof(PayloadTaskDeparted) == 24 && offsetof(PayloadTaskDeparted, cpu_seqnum) == 8 &&
              offsetof(PayloadTaskDeparted, cpu) == 16 && offsetof(PayloadTaskDeparted, from_switchto) == 20 &&
              offsetof(PayloadTaskDeparted, was_current) == 21);
static_assert(sizeof(PayloadTaskSwitchto) == 32 && offsetof(PayloadTaskSwitchto, cpu) == 24);
static_assert(sizeof(PayloadTaskAffinityChanged) == 8);
static_assert(sizeof(PayloadTaskPriorityChanged) == 16 && offsetof(PayloadTaskPriorityChanged, nice) == 8);
static_assert(sizeof(PayloadTaskOnCpu) == 32 && offsetof(PayloadTaskOnCpu, commit_time) == 8 &&
              offsetof(PayloadTaskOnCpu, cpu_seqnum) == 16 && offsetof(PayloadTaskOnCpu, cpu) == 24);
static_assert(sizeof(PayloadTaskLatchFailure) == 16 && offsetof(PayloadTaskLatchFailure, errno_) == 8);
static_assert(sizeof(PayloadCpuTimerExpired) == 24 && offsetof(PayloadCpuTimerExpired, type) == 8 &&
              offsetof(PayloadCpuTimerExpired, cookie) == 16);
static_assert(sizeof(PayloadCpuNotIdle) == 16 && offsetof(PayloadCpuNotIdle, next_gtid) == 8);
static_assert(sizeof(PayloadCpu) == 4);

// ---- message payloads whose layout depends on the ABI -----------------------------------------
namespace v84 {
struct PayloadTaskNew {
  uint64_t gtid;
  uint64_t parent_gtid;
  uint64_t runtime;
  uint16_t runnable;
  uint16_t pad;
  int32_t nice;
  SwInfo sw_info;
};
struct PayloadTaskDead {
  uint64_t gtid;
};
struct PayloadCpuTick {
  int32_t cpu;
};
static_assert(sizeof(PayloadTaskNew) == 40 && offsetof(PayloadTaskNew, runtime) == 16 &&
              offsetof(PayloadTaskNew, runnable) == 24 && offsetof(PayloadTaskNew, nice) == 28 &&
              offsetof(PayloadTaskNew, sw_info) == 32);
static_assert(sizeof(PayloadTaskDead) == 8);
static_assert(sizeof(PayloadCpuTick) == 4);
}  // namespace v84

namespace v90 {  // also ABI 91
struct PayloadTaskNew {
  uint64_t gtid;
  uint64_t parent_gtid;
  uint64_t runtime;
  uint16_t runnable;
  uint16_t pad;
  int32_t nice;
  SwInfo sw_info;
  uint64_t agent_data;
};
struct PayloadTaskDead {
  uint64_t gtid;
  int32_t cpu;
};
struct PayloadCpuTick {
  int32_t cpu;
  int32_t is_agent;
};
static_assert(sizeof(PayloadTaskNew) == 48 && offsetof(PayloadTaskNew, sw_info) == 32 &&
              offsetof(PayloadTaskNew, agent_data) == 40);
static_assert(sizeof(PayloadTaskDead) == 16 && offsetof(PayloadTaskDead, cpu) == 8);
static_assert(sizeof(PayloadCpuTick) == 8 && offsetof(PayloadCpuTick, is_agent) == 4);
}  // namespace v90

/** Payload bytes of message `type` under ABI `abi`, or -1 for an unknown type (NOP: 0). */
constexpr int payloadSize(uint32_t abi, uint16_t type) {
  const bool v84 = abi < 88;
  switch (type) {
    case kMsgNop: return 0;
    case kMsgTaskDead: return v84 ? 8 : (abi < 89 ? 8 : 16);
    case kMsgTaskBlocked: return sizeof(PayloadTaskBlocked);
    case kMsgTaskWakeup: return sizeof(PayloadTaskWakeup);
    case kMsgTaskNew: return v84 ? sizeof(v84::PayloadTaskNew) : sizeof(v90::PayloadTaskNew);
    case kMsgTaskPreempt: return sizeof(PayloadTaskPreempt);
    case kMsgTaskYield: return sizeof(PayloadTaskYield);
    case kMsgTaskDeparted: return sizeof(PayloadTaskDeparted);
    case kMsgTaskSwitchto: return sizeof(PayloadTaskSwitchto);
    case kMsgTaskAffinityChanged: return sizeof(PayloadTaskAffinityChanged);
    case kMsgTaskOnCpu: return sizeof(PayloadTaskOnCpu);
    case kMsgTaskPriorityChanged: return sizeof(PayloadTaskPriorityChanged);
    case kMsgTaskLatchFailure: return sizeof(PayloadTaskLatchFailure);
    case kMsgCpuTick: return abi < 90 ? sizeof(v84::PayloadCpuTick) : sizeof(v90::PayloadCpuTick);
    case kMsgCpuTimerExpired: return sizeof(PayloadCpuTimerExpired);
    case kMsgCpuNotIdle: return sizeof(PayloadCpuNotIdle);
    case kMsgCpuAvailable:
    case kMsgCpuBusy:
    case kMsgCpuAgentBlocked:
    case kMsgCpuAgentWakeup: return sizeof(PayloadCpu);
    default: return -1;
  }
}
// Message lengths (header included) per ABI, as measured from the kernel headers (docs/ghost-abi.md §5.5):
// {type, length under 84, under 90, under 91}. Checked for every type and every ABI below.
struct MsgLen {
  uint16_t type, len84, len90, len91;
};
constexpr MsgLen kMsgLens[] = {
    {kMsgTaskDead, 16, 24, 24},           {kMsgTaskBlocked, 40, 40, 40},      {kMsgTaskWakeup, 40, 40, 40},
    {kMsgTaskNew, 48, 56, 56},            {kMsgTaskPreempt, 48, 48, 48},      {kMsgTaskYield, 48, 48, 48},
    {kMsgTaskDeparted, 32, 32, 32},       {kMsgTaskSwitchto, 40, 40, 40},     {kMsgTaskAffinityChanged, 16, 16, 16},
    {kMsgTaskOnCpu, 40, 40, 40},          {kMsgTaskPriorityChanged, 24, 24, 24}, {kMsgTaskLatchFailure, 24, 24, 24},
    {kMsgCpuTick, 12, 16, 16},            {kMsgCpuTimerExpired, 32, 32, 32},  {kMsgCpuNotIdle, 24, 24, 24},
    {kMsgCpuAvailable, 12, 12, 12},       {kMsgCpuBusy, 12, 12, 12},          {kMsgCpuAgentBlocked, 12, 12, 12},
    {kMsgCpuAgentWakeup, 12, 12, 12},
};
constexpr bool msgLensMatch() {
  for (const MsgLen& m : kMsgLens) {
    if (payloadSize(84, m.type) + 8 != m.len84) return false;
    if (payloadSize(90, m.type) + 8 != m.len90) return false;
    if (payloadSize(91, m.type) + 8 != m.len91) return false;
  }
  return true;
}
static_assert(msgLensMatch(), "message payload sizes differ from the ABI 84/90/91 kernel headers");
static_assert(sizeof(kMsgLens) / sizeof(kMsgLens[0]) == 19, "every message type but NOP is listed");
// Slot counts the fact sheet measured (§5.5), per ABI.
static_assert(payloadSize(91, kMsgTaskNew) + 8 == 56 && payloadSize(84, kMsgTaskNew) + 8 == 48);
static_assert(payloadSize(91, kMsgTaskDead) + 8 == 24 && payloadSize(84, kMsgTaskDead) + 8 == 16);
static_assert(payloadSize(90, kMsgCpuTick) + 8 == 16 && payloadSize(84, kMsgCpuTick) + 8 == 12);

// ---- transactions ----------------------------------------------------------------------------
struct alignas(64) Txn {
  int32_t version;
  int32_t cpu;
  int32_t state;  // atomic
  uint32_t agent_barrier;
  uint32_t task_barrier;
  uint16_t run_flags;
  uint8_t commit_flags;
  uint8_t unused;
  int64_t gtid;
  int64_t commit_time;
  uint64_t cpu_seqnum;
  int32_t sync_group_owner;  // atomic; -1 = not owned
};
static_assert(sizeof(Txn) == 64 && offsetof(Txn, cpu) == 4 && offsetof(Txn, state) == 8 &&
              offsetof(Txn, agent_barrier) == 12 && offsetof(Txn, task_barrier) == 16 &&
              offsetof(Txn, run_flags) == 20 && offsetof(Txn, commit_flags) == 22 && offsetof(Txn, gtid) == 24 &&
              offsetof(Txn, commit_time) == 32 && offsetof(Txn, cpu_seqnum) == 40 &&
              offsetof(Txn, sync_group_owner) == 48);
constexpr size_t kCpuDataStride = 4096;
constexpr int32_t kTxnVersion = 0;

enum TxnState : int32_t {
  kTxnReady = INT_MAX,
  kTxnComplete = INT_MIN,
  kTxnAborted = INT_MIN + 1,
  kTxnTargetOnCpu = INT_MIN + 2,
  kTxnTargetStale = INT_MIN + 3,
  kTxnTargetNotFound = INT_MIN + 4,
  kTxnTargetNotRunnable = INT_MIN + 5,
  kTxnAgentStale = INT_MIN + 6,
  kTxnCpuOffline = INT_MIN + 7,
  kTxnCpuUnavail = INT_MIN + 8,
  kTxnInvalidFlags = INT_MIN + 9,
  kTxnInvalidTarget = INT_MIN + 10,
  kTxnNotPermitted = INT_MIN + 11,
  kTxnInvalidCpu = INT_MIN + 12,
  kTxnNoAgent = INT_MIN + 13,
  kTxnUnsupportedVersion = INT_MIN + 14,
  kTxnPoisoned = INT_MIN + 15,
};
constexpr bool txnCommitted(int32_t s) { return s < 0; }

// run_flags
constexpr uint16_t kRtlaOnPreempt = 1u << 0;
constexpr uint16_t kRtlaOnBlocked = 1u << 1;
constexpr uint16_t kRtlaOnYield = 1u << 2;
constexpr uint16_t kRtlaOnIdle = 1u << 5;
constexpr uint16_t kNeedL1dFlush = 1u << 6;
constexpr uint16_t kNeedCpuNotIdle = 1u << 7;
constexpr uint16_t kElidePreempt = 1u << 9;
constexpr uint16_t kSendTaskOnCpu = 1u << 10;
constexpr uint16_t kDeferLatchedPreemptionByAgent = 1u << 11;
constexpr uint16_t kDoNotPreempt = 1u << 12;
constexpr uint16_t kValidRunFlags = kRtlaOnPreempt | kRtlaOnBlocked | kRtlaOnYield | kRtlaOnIdle | kNeedL1dFlush |
                                    kNeedCpuNotIdle | kElidePreempt | kSendTaskOnCpu |
                                    kDeferLatchedPreemptionByAgent | kDoNotPreempt;
// commit_flags
constexpr uint8_t kCommitAtSchedule = 1u << 0;
constexpr uint8_t kCommitAtTxnCommit = 1u << 1;
constexpr uint8_t kAllowTaskOnCpu = 1u << 2;
constexpr uint8_t kElideAgentBarrierInc = 1u << 3;
constexpr uint8_t kIncAgentBarrierOnFailure = 1u << 4;
constexpr uint8_t kValidCommitFlags = 0x1f;

}  // namespace ghost::abi
