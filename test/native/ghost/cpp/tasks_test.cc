// The task table's handle pool (native/ghost/tasks.h): handles an agent gives new tasks itself are
// bound before any call reads the table, an internGtid()-style handle of the same task stays valid
// and goes with it, and detaching returns what the agent did not use.
#include <gtest/gtest.h>

#include <array>

#include "ghost/tasks.h"

namespace ghost::test {
namespace {

constexpr size_t kCap = 8;

struct Pool {
  std::array<int32_t, 1 + kCap> handles{};
  std::array<uint32_t, 1 + kCap * kBindStride> binds{};
  // What the JS decoder does (ghost-queue.ts fromPool): take the top handle, append a bind entry.
  uint32_t give(uint64_t gtid, uint32_t swIndex) {
    int32_t n = handles[0];
    EXPECT_GT(n, 0);
    uint32_t h = uint32_t(handles[size_t(n)]);
    handles[0] = n - 1;
    uint32_t* b = binds.data() + 1 + binds[0] * kBindStride;
    b[0] = h;
    b[1] = uint32_t(gtid);
    b[2] = uint32_t(gtid >> 32);
    b[3] = 0;
    b[4] = swIndex;
    binds[0]++;
    return h;
  }
};

TEST(TaskTablePool, AttachFillsThePoolWithDistinctUnusedHandles) {
  TaskTable t;
  Pool p;
  t.attachPool(p.handles.data(), kCap, p.binds.data(), kCap);
  ASSERT_EQ(p.handles[0], int32_t(kCap));
  for (size_t i = 1; i <= kCap; i++) {
    EXPECT_NE(p.handles[i], 0);
    EXPECT_EQ(t.get(uint32_t(p.handles[i])), nullptr) << "a reserved handle names no task yet";
    for (size_t j = 1; j < i; j++) EXPECT_NE(p.handles[i], p.handles[j]);
  }
  EXPECT_EQ(t.size(), 0u);
}

TEST(TaskTablePool, AGivenHandleIsBoundBeforeTheNextLookup) {
  TaskTable t;
  Pool p;
  t.attachPool(p.handles.data(), kCap, p.binds.data(), kCap);
  const uint64_t g = (uint64_t(300) << 41) | 7;
  uint32_t h = p.give(g, 42);
  TaskEntry* e = t.get(h);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->gtid, g);
  EXPECT_EQ(e->sw.index, 42u);
  EXPECT_EQ(p.binds[0], 0u) << "binds consumed";
  EXPECT_EQ(t.find(g), h);
  EXPECT_EQ(t.intern(g), h) << "intern answers the agent's handle, no second one";
  EXPECT_EQ(p.handles[0], int32_t(kCap)) << "pool topped up";
  t.release(h);
  EXPECT_EQ(t.get(h), nullptr);
  EXPECT_EQ(t.find(g), 0u);
}

TEST(TaskTablePool, AnInternedHandleOfTheSameTaskStaysAndGoesWithIt) {
  TaskTable t;
  Pool p;
  t.attachPool(p.handles.data(), kCap, p.binds.data(), kCap);
  const uint64_t g = (uint64_t(301) << 41) | 1;
  uint32_t old = t.intern(g);  // e.g. host-setup's re-association, before the agent saw TASK_NEW
  uint32_t h = p.give(g, 5);
  ASSERT_NE(h, old);
  ASSERT_NE(t.get(h), nullptr);
  ASSERT_NE(t.get(old), nullptr) << "the earlier handle still names the task";
  EXPECT_EQ(t.find(g), h) << "lookups by gtid answer the agent's handle";
  EXPECT_EQ(t.size(), 1u);
  t.release(old);
  EXPECT_EQ(t.get(h), nullptr) << "the task is gone: both handles go";
  EXPECT_EQ(t.get(old), nullptr);
  EXPECT_EQ(t.find(g), 0u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(TaskTablePool, DetachBindsWhatIsPendingAndReturnsTheRest) {
  TaskTable t;
  Pool p;
  t.attachPool(p.handles.data(), kCap, p.binds.data(), kCap);
  const uint64_t g = (uint64_t(302) << 41) | 3;
  uint32_t h = p.give(g, 9);
  t.detachPool();
  EXPECT_EQ(p.handles[0], 0);
  ASSERT_NE(t.get(h), nullptr);
  EXPECT_EQ(t.find(g), h);
  // The returned handles are reused by later interns: nothing leaked, nothing named twice.
  for (int i = 0; i < int(kCap) + 4; i++) {
    uint32_t n = t.intern((uint64_t(400 + i) << 41) | 1);
    EXPECT_NE(n, h);
    EXPECT_LE(n, kCap + 5u);
  }
}

TEST(TaskTablePool, CountsPastTheBuffersAreNotTrusted) {
  TaskTable t;
  Pool p;
  t.attachPool(p.handles.data(), kCap, p.binds.data(), kCap);
  p.binds[0] = 1000;  // a corrupt count: at most kCap entries are read, all of them zeros here
  p.handles[0] = -5;
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(p.binds[0], 0u);
  EXPECT_EQ(p.handles[0], int32_t(kCap));
}

}  // namespace
}  // namespace ghost::test
