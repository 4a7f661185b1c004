// The smallest centralized FIFO ghOSt agent loop in C++ (drain, decide, commit), for one thing:
// a baseline that `npm run bench -- agent` measures side by side with the TypeScript agent, over
// the same kernel (real or emulated) and the same event stream. It follows what each message says
// about a task, runs runnable tasks in arrival order on idle worker CPUs, never preempts, and
// commits a pass's placements with one batched COMMIT_TXN. No allocation per pass.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "ghost/enclave.h"
#include "ghost/queue.h"
#include "ghost/tasks.h"

namespace ghost {

class FifoBaseline {
 public:
  /** `workers`: the CPUs to place tasks on (their satellites must already be agents). */
  FifoBaseline(Enclave& e, Queue& q, TaskTable& tasks, std::vector<int> workers);
  /** One pass; returns the number of successful placements. */
  int step();
  uint64_t messages() const { return messages_; }

 private:
  enum State : uint8_t { kBlocked, kQueued, kRunning, kGone };
  struct Task {
    uint32_t seq = 0;
    uint32_t sw = 0;
    State state = kGone;
    int cpu = -1;
  };
  void handle(const Decoded& m);
  void offCpu(Task& t);
  void enqueue(uint32_t h, bool front);
  Task& task(uint32_t h);

  Enclave& e_;
  Queue& q_;
  TaskTable& tasks_;
  std::vector<int> workers_;
  std::vector<Task> t_;
  std::deque<uint32_t> fifo_;
  std::vector<uint32_t> cpuTask_;
  std::vector<uint32_t> deferred_;
  std::vector<Decoded> buf_;
  std::vector<int32_t> ops_;
  std::vector<uint32_t> opTask_;
  uint64_t messages_ = 0;
};

}  // namespace ghost
