// The emulated kernel's thread programs and modelled default class (ghost-kernel/emu/fair.cc):
// hand-back on destroy, kills, departures and bad arguments — under ASan too, since threads exit
// from inside the kernel's own loops.
#include <stdexcept>

#include "harness.h"

namespace ghost::test {
namespace {

constexpr int64_t kMs = 1'000'000;

class Fair : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int c = 1; c < 4; c++) m.satellite(c);
    m.globalAgent();
  }
  /** Spawn `tid` of process `pid` with `program`, admit it to the enclave; its handle and token. */
  uint32_t admitProgram(int pid, int tid, std::vector<emu::Phase> program, uint32_t* seq) {
    {
      auto l = m.kernel->lock();
      m.kernel->spawn(pid, tid, true);
      m.kernel->setProgram(tid, std::move(program));
    }
    m.enclave->enterTask(tid);
    Decoded out[64];
    size_t n = m.queue->view().drain(m.enclave->abiVersion(), m.tasks, out, 64);
    for (size_t i = 0; i < n; i++)
      if (out[i].type == abi::kMsgTaskNew) {
        *seq = out[i].seqnum;
        return out[i].task;
      }
    ADD_FAILURE() << "no TASK_NEW for tid " << tid;
    return 0;
  }
  emu::Accounting acc() {
    auto l = m.kernel->lock();
    return m.kernel->accounting();
  }
  void advance(int64_t ns) {
    auto l = m.kernel->lock();
    m.kernel->advance(ns);
  }
  Machine m;
};

TEST_F(Fair, DestroyHandsProgramsToTheFairClassAndAKillIsCounted) {
  const std::vector<emu::Phase> prog{{true, 10 * kMs}, {false, 2 * kMs}, {true, 5 * kMs}};
  uint32_t s[5] = {};
  uint32_t h[5] = {};
  for (int i = 0; i < 5; i++) h[i] = admitProgram(1, 300 + i, prog, &s[i]);
  uint32_t sk = 0;
  uint32_t hk = admitProgram(2, 400, {{true, 50 * kMs}}, &sk);
  EXPECT_EQ(m.commit(1, int32_t(h[0]), s[0]), abi::kTxnComplete);
  EXPECT_EQ(m.commit(2, int32_t(h[1]), s[1]), abi::kTxnComplete);
  EXPECT_EQ(m.commit(3, int32_t(hk), sk), abi::kTxnComplete);
  advance(3 * kMs);
  EXPECT_EQ(acc().ghostNs, uint64_t(9 * kMs));
  m.enclave->destroy();
  EXPECT_EQ(acc().liveInFair, 6u);
  advance(1 * kMs);  // to the tick at 4 ms: the fair class rotates by vruntime, 400 gets a CPU
  uint64_t killedCpu = 0;
  {
    auto l = m.kernel->lock();
    EXPECT_GE(m.kernel->thread(400)->fairCpu, 0) << "handed back, it runs in the fair class";
    killedCpu = m.kernel->threadCpu(*m.kernel->thread(400));
    m.kernel->killProcess(2);  // dies in the fair class, its CPU is freed
    EXPECT_EQ(m.kernel->thread(400), nullptr);
  }
  EXPECT_GE(killedCpu, uint64_t(3 * kMs));
  emu::Accounting a = acc();
  EXPECT_EQ(a.killed, 1u);
  EXPECT_EQ(a.live, 5u);
  for (int i = 0; i < 200 && acc().live > 0; i++) advance(kMs);
  a = acc();
  EXPECT_EQ(a.completed, 5u);
  EXPECT_EQ(a.completedUnderFair, 5u);
  EXPECT_EQ(a.remainingCpuNs, 0u);
  std::vector<emu::Completion> done;
  {
    auto l = m.kernel->lock();
    done = m.kernel->takeCompletions();
    for (int c = 0; c < 4; c++) EXPECT_EQ(m.kernel->cpu(c)->fairTid, 0) << "cpu " << c;
  }
  ASSERT_EQ(done.size(), 5u);
  uint64_t sum = 0;
  for (const auto& c : done) {
    EXPECT_EQ(c.cpuNs, uint64_t(15 * kMs)) << "tid " << c.tid;
    EXPECT_EQ(c.ghostNs + c.fairNs, c.cpuNs);
    sum += c.cpuNs;
  }
  EXPECT_EQ(a.cpuNs, sum + killedCpu) << "the killed thread's CPU time counts as work done";
}

TEST_F(Fair, DepartedTaskFinishesItsProgramInTheFairClass) {
  uint32_t s = 0;
  uint32_t h = admitProgram(1, 300, {{true, 5 * kMs}}, &s);
  EXPECT_EQ(m.commit(1, int32_t(h), s), abi::kTxnComplete);
  advance(2 * kMs);
  {
    auto l = m.kernel->lock();
    m.kernel->depart(300);
    EXPECT_EQ(m.kernel->thread(300)->task, nullptr);
  }
  advance(10 * kMs);
  auto l = m.kernel->lock();
  auto done = m.kernel->takeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].cpuNs, uint64_t(5 * kMs));
  EXPECT_EQ(done[0].ghostNs, uint64_t(2 * kMs));
  EXPECT_TRUE(done[0].underFair);
  EXPECT_EQ(done[0].endNs, 5 * kMs) << "3 ms left, run at once on a free CPU";
}

TEST_F(Fair, KilledGhostTaskWithAProgramIsCountedAsKilled) {
  uint32_t s = 0;
  uint32_t h = admitProgram(2, 300, {{true, 5 * kMs}}, &s);
  EXPECT_EQ(m.commit(1, int32_t(h), s), abi::kTxnComplete);
  advance(1 * kMs);
  {
    auto l = m.kernel->lock();
    m.kernel->killProcess(2);
  }
  emu::Accounting a = acc();
  EXPECT_EQ(a.killed, 1u);
  EXPECT_EQ(a.live, 0u);
  EXPECT_EQ(a.ghostNs, uint64_t(kMs));
}

TEST_F(Fair, EmptyProgramEndsAtOnceAndBadProgramsAreRefused) {
  auto l = m.kernel->lock();
  m.kernel->spawn(1, 300, true);
  m.kernel->setProgram(300, {{true, 0}, {false, 0}});
  EXPECT_EQ(m.kernel->thread(300), nullptr);
  EXPECT_EQ(m.kernel->takeCompletions().size(), 1u);
  m.kernel->spawn(1, 301, true);
  EXPECT_THROW(m.kernel->setProgram(301, {{true, -1}}), std::invalid_argument);
  EXPECT_THROW(m.kernel->setProgram(999, {{true, 1}}), std::invalid_argument);
  m.kernel->setProgram(301, {{false, kMs}, {true, kMs}});
  EXPECT_THROW(m.kernel->setProgram(301, {{true, 1}}), std::invalid_argument);
  EXPECT_FALSE(m.kernel->thread(301)->runnable) << "a program that starts blocked";
  EXPECT_EQ(m.kernel->nextProgramEvent(), kMs);
  m.kernel->advance(3 * kMs);
  auto done = m.kernel->takeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].endNs, 2 * kMs);
  EXPECT_EQ(done[0].cpuNs, uint64_t(kMs));
}

}  // namespace
}  // namespace ghost::test
