// The queue decoder (native/ghost/queue.cc) over messages the emulated kernel produced, and over
// hostile bytes.
#include <cstring>

#include "harness.h"
#include "ghost/queue.h"

namespace ghost::test {
namespace {

TEST(Decoder, TaskNewGetsAHandleAndTheSeqnumIsTheBarrier) {
  Machine m;
  m.globalAgent();
  uint32_t seq = 0;
  uint32_t h = m.admit(300, &seq);
  ASSERT_NE(h, 0u);
  TaskEntry* e = m.tasks.get(h);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->gtid >> 41, 300u);
  const abi::StatusWord* w = m.enclave->swRegion()->word(e->sw);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(readSw(w).barrier, seq);
}

TEST(Decoder, MessagesOfAnUnknownTaskAreCountedNotDelivered) {
  Machine m;
  m.globalAgent();
  uint32_t seq = 0;
  m.admit(300, &seq);
  TaskTable fresh;  // an agent that never saw TASK_NEW
  {
    auto l = m.kernel->lock();
    m.kernel->setNice(300, 3);
  }
  Decoded out[8];
  size_t n = m.queue->view().drain(m.enclave->abiVersion(), fresh, out, 8);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(out[0].task, 0u);
  EXPECT_EQ(m.queue->view().stats().unknownTask, 1u);
}

TEST(Decoder, HostileLengthsAreRefusedWithoutReadingPastTheRing) {
  // A queue image: header, ring indices, then 8 slots of which the first claims a huge length.
  std::vector<uint64_t> mem((abi::queueMapSize(8) + 7) / 8, 0);
  auto* base = reinterpret_cast<uint8_t*>(mem.data());
  auto* hdr = reinterpret_cast<abi::QueueHeader*>(base);
  hdr->start = abi::kQueueRingOffset;
  hdr->nelems = 8;
  auto* ring = reinterpret_cast<abi::Ring*>(base + abi::kQueueRingOffset);
  abi::MsgHeader bad{abi::kMsgTaskWakeup, 60000, 1};
  std::memcpy(base + abi::kQueueSlotsOffset, &bad, sizeof bad);
  ring->head = 1;
  QueueView v;
  ASSERT_EQ(v.attach(base, abi::queueMapSize(8), 0), 0);
  TaskTable t;
  Decoded out[4];
  EXPECT_EQ(v.drain(91, t, out, 4), 0u);
  EXPECT_GE(v.stats().corrupt + v.stats().bad, 1u);
}

}  // namespace
}  // namespace ghost::test
