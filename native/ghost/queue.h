// Consumer side of a ghOSt message queue: validation of the mapped ring, batch draining, and the
// per-ABI message decoder. The decoder turns each raw message into one fixed 64-byte `Decoded`
// record in a caller-provided buffer (src/native/ghost.ts reads these with typed-array views), so
// draining N messages costs one N-API call and no JS objects.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ghost/abi.h"
#include "ghost/tasks.h"

namespace ghost {

/** One decoded message. Layout is part of the JS contract (src/native/ghost.ts, RECORD_*). */
struct Decoded {
  uint16_t type;
  uint16_t length;
  uint32_t seqnum;
  uint32_t task;   // task handle (task messages; 0 = unknown task), 0 for CPU messages
  int32_t cpu;     // CPU the message is about (-1 where the payload has none)
  uint32_t flags;  // kDec* bits
  int32_t a;       // nice (NEW, PRIORITY_CHANGED) | errno (LATCH_FAILURE) | last_ran_cpu (WAKEUP)
  int32_t b;       // waker_cpu (WAKEUP) | sw index (NEW)
  uint32_t c;      // sw region id (NEW)
  double time;     // runtime ns (NEW/BLOCKED/PREEMPT/YIELD/SWITCHTO) | commit_time (ON_CPU) | timer type
  double cpuSeq;   // cpu_seqnum | timer cookie
  uint32_t gtidLo, gtidHi;    // the task's gtid
  uint32_t gtid2Lo, gtid2Hi;  // parent_gtid (NEW) | next_gtid (NOT_IDLE) | agent_data (WAKEUP/PREEMPT/YIELD)
};
static_assert(sizeof(Decoded) == 64 && offsetof(Decoded, time) == 32 && offsetof(Decoded, gtidLo) == 48 &&
              offsetof(Decoded, gtid2Lo) == 56);

constexpr uint32_t kDecRunnable = 1u << 0;
constexpr uint32_t kDecFromSwitchto = 1u << 1;
constexpr uint32_t kDecWasLatched = 1u << 2;
constexpr uint32_t kDecWasCurrent = 1u << 3;
constexpr uint32_t kDecDeferrable = 1u << 4;
constexpr uint32_t kDecIsAgent = 1u << 5;
constexpr uint32_t kDecHasAgentData = 1u << 6;  // TASK_NEW agent_data present (ABI >= 88)
constexpr uint32_t kDecHasCpu = 1u << 7;        // TASK_DEAD cpu / CPU_TICK is_agent present (ABI >= 89/90)

/** Counters of everything the drain loop refused or noticed; cumulative per queue. */
struct DrainStats {
  uint64_t messages = 0;    // decoded and delivered
  uint64_t nops = 0;        // MSG_NOP fillers skipped
  uint64_t bad = 0;         // rejected: bad length, unknown type, wrong size for the ABI
  uint64_t staleSeq = 0;    // rejected: seqnum not above the last one seen for that task
  uint64_t unknownTask = 0; // delivered with task = 0: message about a task never announced
  uint64_t corrupt = 0;     // ring indices impossible (head - tail > nelems): skipped to head
  uint64_t overflow = 0;    // kernel-reported dropped messages (ring.overflow), total seen
};

/**
 * A view of one mapped queue. Does not own the memory (Queue in enclave.h does); the fuzz entry
 * point builds one over arbitrary bytes, so every read is bounds-checked against `mapLen`.
 */
class QueueView {
 public:
  /** Returns 0 or an errno-style reason the mapping is not a valid queue of `expectElems` (0 = any). */
  int attach(uint8_t* base, size_t mapLen, uint32_t expectElems);
  /**
   * Decode up to `max` messages into `out`, advance the tail past everything consumed. Stops early
   * when `out` is full (the rest stays in the ring). `table` interns gtids (TASK_NEW creates).
   */
  size_t drain(uint32_t abi, TaskTable& table, Decoded* out, size_t max);
  /** Messages waiting (head - tail), without consuming. */
  uint32_t pending() const;
  const DrainStats& stats() const { return stats_; }
  uint32_t nelems() const { return nelems_; }
  bool overflowed() const { return stats_.overflow != 0; }

 private:
  bool decodeOne(uint32_t abi, TaskTable& table, uint16_t type, uint16_t len, uint32_t seq, const uint8_t* payload,
                 Decoded& out);
  abi::Ring* ring_ = nullptr;
  const uint8_t* slots_ = nullptr;
  uint32_t nelems_ = 0;
  DrainStats stats_;
};

}  // namespace ghost
