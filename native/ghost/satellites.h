// Satellite agents of the centralized model: one native thread per non-global CPU becomes that
// CPU's agent and parks in RUN(0) so the CPU runs whatever the global agent latches there; it wakes
// only for pings (shutdown, handoff) and loops on ESTALE. Native threads, not JS workers: nothing
// of V8 or libuv may run on an agent thread. No N-API here: the binding owns the JS surface.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "ghost/enclave.h"

namespace ghost {

class Satellites {
 public:
  /** The Enclave handle a satellite thread uses for its own calls (on a real kernel all threads
   *  share one; under the emulator each thread has its own, bound to its emulated thread). */
  using EnclaveFor = std::function<Enclave&(int cpu)>;

  struct Status {
    int cpu;
    int state;        // 0 starting, 1 agent, < 0 -errno it stopped with
    uint64_t wakeups;  // RUN(0) calls that returned 0 (the agent was un-parked)
    uint64_t stale;    // RUN(0) calls that returned ESTALE
  };

  Satellites() = default;
  Satellites(const Satellites&) = delete;
  Satellites& operator=(const Satellites&) = delete;
  ~Satellites();

  void start(const std::vector<int>& cpus, int qfd, EnclaveFor enclaveFor);
  std::vector<Status> status() const;
  /** Sets the stop flag and pings every parked satellite out of RUN through `pinger`. */
  void stop(Enclave& pinger);
  bool running() const { return !threads_.empty(); }

 private:
  struct Slot {
    int cpu;
    std::atomic<int> state{0};
    std::atomic<uint64_t> wakeups{0};
    std::atomic<uint64_t> stale{0};
  };
  void loop(Enclave& e, Slot& s, int qfd);
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> threads_;
};

}  // namespace ghost
