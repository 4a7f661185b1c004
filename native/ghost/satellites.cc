#include "ghost/satellites.h"

#include <cerrno>
#include <chrono>

namespace ghost {

Satellites::~Satellites() {
  stop_.store(true);
  for (auto& t : threads_)
    if (t.joinable()) t.detach();  // stop() was not called: never block a destructor on RUN
}

void Satellites::start(const std::vector<int>& cpus, int qfd, EnclaveFor enclaveFor) {
  stop_.store(false);
  for (int cpu : cpus) {
    slots_.push_back(std::make_unique<Slot>());
    Slot& s = *slots_.back();
    s.cpu = cpu;
    Enclave& e = enclaveFor(cpu);
    threads_.emplace_back([this, &e, &s, qfd] { loop(e, s, qfd); });
  }
}

std::vector<Satellites::Status> Satellites::status() const {
  std::vector<Status> out;
  for (auto& s : slots_) out.push_back({s->cpu, s->state.load(), s->wakeups.load(), s->stale.load()});
  return out;
}

void Satellites::stop(Enclave& pinger) {
  stop_.store(true);
  for (auto& s : slots_)
    if (s->state.load() == 1) pinger.run(abi::kAgentGtid, 0, 0, s->cpu, 0);  // ping out of RUN(0)
  for (auto& t : threads_) t.join();
  threads_.clear();
  slots_.clear();
}

void Satellites::loop(Enclave& e, Slot& s, int qfd) {
  int rc;
  // EBUSY while a previous agent is still leaving the CPU (upgrade): retry.
  for (int tries = 0; (rc = e.becomeAgent(s.cpu, qfd)) == -EBUSY && tries < 2000 && !stop_.load(); tries++)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (rc < 0) {
    s.state.store(rc);
    return;
  }
  const abi::StatusWord* w = nullptr;
  try {
    w = e.swRegion() ? e.swRegion()->word(e.swGetInfo(abi::kSrcAgent, uint64_t(s.cpu))) : nullptr;
  } catch (const SysError& err) {
    s.state.store(-err.err);
    return;
  }
  if (!w) {
    s.state.store(-EPROTO);
    return;
  }
  s.state.store(1);
  for (;;) {
    // The barrier is read before parking: anything routed to this agent since then makes RUN
    // fail with ESTALE instead of sleeping through it. It is read before stop_ is checked: stop()
    // sets stop_ and then pings (bumping the barrier), so a barrier read after the check could
    // already include that ping and RUN would sleep through it, forever.
    uint32_t barrier = readSw(w).barrier;
    if (stop_.load()) break;
    rc = e.run(abi::kNullGtid, barrier, 0, s.cpu, 0);
    if (rc == 0) {
      s.wakeups.fetch_add(1);
      continue;
    }
    if (rc == -ESTALE) {
      s.stale.fetch_add(1);
      continue;
    }
    if (rc == -EINTR) continue;
    s.state.store(rc);  // ENODEV: the enclave is being torn down (or the agent was killed)
    return;
  }
}

}  // namespace ghost
