// The emulated kernel's transaction validation (ghost-kernel/emu/txns.cc), order and outcomes.
#include "harness.h"

namespace ghost::test {
namespace {

class Txn : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int c = 1; c < 4; c++) m.satellite(c);
    m.globalAgent();
    a = m.admit(300, &sa);
  }
  Machine m;
  uint32_t a = 0, sa = 0;
};

TEST_F(Txn, FlagsAreCheckedBeforeTheCpu) {
  {
    auto l = m.kernel->lock();
    m.kernel->setCpuOffline(1, true);
  }
  EXPECT_EQ(m.commit(1, int32_t(a), sa, abi::kCommitAtTxnCommit | abi::kCommitAtSchedule), abi::kTxnInvalidFlags);
  EXPECT_EQ(m.commit(1, int32_t(a), sa), abi::kTxnCpuOffline);
}

TEST_F(Txn, IdleTargetRules) {
  EXPECT_EQ(m.commit(2, abi::kIdleGtid, 0), abi::kTxnTargetOnCpu);
  {
    auto l = m.kernel->lock();
    m.kernel->setCpuBusy(2, true, 0);
  }
  EXPECT_EQ(m.commit(2, abi::kIdleGtid, 0, abi::kCommitAtTxnCommit | abi::kAllowTaskOnCpu), abi::kTxnCpuUnavail);
  EXPECT_EQ(m.commit(2, abi::kNullGtid, 0, abi::kCommitAtTxnCommit, abi::kDoNotPreempt), abi::kTxnComplete);
}

TEST_F(Txn, SyncGroupPoisonsAfterTheFirstFailure) {
  uint32_t sb = 0, sc = 0;
  uint32_t b = m.admit(301, &sb);
  uint32_t c = m.admit(302, &sc);
  int32_t ops[3 * op::kStride] = {1, int32_t(a), int32_t(sa), 0, 0, 0, 0, 0,   //
                                  2, int32_t(b), int32_t(sb + 5), 0, 0, 0, 0, 0,  //
                                  3, int32_t(c), int32_t(sc), 0, 0, 0, 0, 0};
  EXPECT_EQ(m.enclave->commitOps(m.tasks, ops, 3, true), 0);
  EXPECT_EQ(ops[op::kState], abi::kTxnComplete);
  EXPECT_EQ(ops[op::kStride + op::kState], abi::kTxnTargetStale);
  EXPECT_EQ(ops[2 * op::kStride + op::kState], abi::kTxnPoisoned);
  auto l = m.kernel->lock();
  m.kernel->advance(0);
  EXPECT_EQ(m.kernel->cpu(1)->current, nullptr) << "poisoned rendezvous: the committed member does not run";
}

}  // namespace
}  // namespace ghost::test
