// The client (native/ghost/enclave.cc) against the emulated kernel, including blocking RUN on a
// real thread.
#include <atomic>
#include <chrono>
#include <thread>

#include "harness.h"
#include "ghost/satellites.h"

namespace ghost::test {
namespace {

TEST(Enclave, CommitOpsLatchesAndReportsStatesPerOp) {
  Machine m;
  for (int c = 1; c < 4; c++) m.satellite(c);
  m.globalAgent();
  uint32_t s1 = 0, s2 = 0;
  uint32_t a = m.admit(300, &s1);
  uint32_t b = m.admit(301, &s2);
  int32_t ops[2 * op::kStride] = {1, int32_t(a), int32_t(s1), 0, 0, abi::kCommitAtTxnCommit, 0, 0,
                                  2, int32_t(b), int32_t(s2 - 1), 0, 0, abi::kCommitAtTxnCommit, 0, 0};
  EXPECT_EQ(m.enclave->commitOps(m.tasks, ops, 2, false), 0);
  EXPECT_EQ(ops[op::kState], abi::kTxnComplete);
  EXPECT_EQ(ops[op::kStride + op::kState], abi::kTxnTargetStale);
  int32_t unknown[op::kStride] = {3, 999, 0, 0, 0, abi::kCommitAtTxnCommit, 0, 0};
  m.enclave->commitOps(m.tasks, unknown, 1, false);
  EXPECT_EQ(unknown[op::kState], op::kBadTarget);
}

TEST(Enclave, SwFreeChecksCanFreeFirst) {
  Machine m;
  m.globalAgent();
  uint32_t seq = 0;
  uint32_t h = m.admit(300, &seq);
  abi::SwInfo sw = m.tasks.get(h)->sw;
  EXPECT_EQ(m.enclave->swFree(sw), -EINVAL);
  {
    auto l = m.kernel->lock();
    m.kernel->depart(300);
  }
  EXPECT_EQ(m.enclave->swFree(sw), 0);
  EXPECT_EQ(m.enclave->swFree(sw), -EINVAL) << "a double free is EINVAL, not EALREADY";
}

TEST(Enclave, RunBlocksARealThreadUntilAPingAndSatellitesLoopOnEstale) {
  Machine m;
  Enclave& s1 = m.satellite(1);
  m.globalAgent();
  const abi::StatusWord* w = s1.swRegion()->word(s1.swGetInfo(abi::kSrcAgent, 1));
  std::atomic<int> rc{1};
  // m.satellite() already left CPU 1's agent parked (blockedInRun) from the driver thread, so that
  // flag cannot tell that the new thread has entered RUN: wait for its RUN(0) to park, which bumps
  // the CPU's seqnum. Pinging earlier would bump the barrier before the thread reads it, and the
  // thread would then block with an up-to-date barrier, forever.
  uint64_t seq0;
  {
    auto l = m.kernel->lock();
    seq0 = m.kernel->cpu(1)->cpuSeqnum;
  }
  std::thread t([&] { rc = s1.run(abi::kNullGtid, readSw(w).barrier, 0, 1, 0); });
  bool parked = false;
  for (int i = 0; i < 60000 && !parked; i++) {
    {
      auto l = m.kernel->lock();
      parked = m.kernel->cpu(1)->blockedInRun && m.kernel->cpu(1)->cpuSeqnum != seq0;
    }
    if (!parked) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(parked) << "the thread never parked in RUN(0)";
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(rc.load(), 1) << "RUN(0) is still blocked";
  EXPECT_EQ(m.enclave->run(abi::kAgentGtid, 0, 0, 1, 0), 0);  // ping from the same process
  t.join();
  EXPECT_EQ(rc.load(), 0);
  // The pool: ESTALE (lagging barrier) just loops; stop() pings every satellite out.
  Machine m2;
  Satellites pool;
  std::vector<std::unique_ptr<Enclave>> own;
  for (int c = 1; c < 4; c++) {
    own.push_back(Enclave::attach(m2.kernel->sysFor(kAgentPid, kAgentPid + 2000 + c), m2.kernel->options().root, m2.id, 0));
    own.back()->createSwRegion(0, 0);
  }
  pool.start({1, 2, 3}, m2.queue->fd(), [&](int c) -> Enclave& { return *own[size_t(c - 1)]; });
  for (int i = 0; i < 5000; i++) {
    auto st = pool.status();
    bool all = true;
    for (auto& s : st) all = all && s.state == 1;
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& s : pool.status()) EXPECT_EQ(s.state, 1);
  pool.stop(*m2.enclave);
}

}  // namespace
}  // namespace ghost::test
