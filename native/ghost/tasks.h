// gtid <-> small integer handle. JS numbers cannot hold a 63-bit gtid exactly, and BigInt on the
// hot path is slow, so the client interns each gtid on TASK_NEW (or discovery) and hands the agent
// a u32 handle. The table also remembers each task's status-word slot (for SW_FREE and zero-copy
// barrier checks) and the last seqnum seen (the decoder rejects a non-increasing one).
//
// Handle pool: an agent that decodes the queue itself (src/native/ghost-queue.ts) would otherwise
// cross into native once per new task only to learn its handle. Instead the table keeps a few
// reserved handles in a buffer the agent owns (attachPool); the agent names a new task with one at
// once and appends (handle, gtid, status word) to a bind buffer. Every public method binds the
// pending entries and tops the pool up first (sync()), so no caller can observe the table without
// them: a commit, SW_FREE or internGtid() right after sees the task exactly as if TASK_NEW had
// been resolved natively.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "ghost/abi.h"

namespace ghost {

struct TaskEntry {
  uint64_t gtid = 0;
  abi::SwInfo sw{0, 0};
  uint32_t lastSeq = 0;
  bool live = false;
  bool reserved = false;  // in the pool: handed out by the agent, bound by sync()
};

/**
 * Layout of the pool buffers (mirrored by src/native/ghost-queue.ts HandlePool):
 *  pool  (int32):  [0] handles available, [1 .. cap] the handles (the agent takes pool[pool[0]]).
 *  binds (uint32): [0] entries pending, then kBindStride u32 each: handle, gtid lo, gtid hi,
 *                  status-word region id, status-word index.
 */
inline constexpr size_t kBindStride = 5;
// A bind entry is the handle, the gtid as two u32 halves, and the status word's SwInfo as is.
static_assert(kBindStride == 3 + sizeof(abi::SwInfo) / sizeof(uint32_t), "bind entry layout (ghost-queue.ts BIND_STRIDE)");

class TaskTable {
 public:
  /** Handle of `gtid`, creating one if absent. Never returns 0. */
  uint32_t intern(uint64_t gtid) {
    sync();
    auto it = byGtid_.find(gtid);
    if (it != byGtid_.end()) return it->second;
    uint32_t h = take();
    entries_[h] = TaskEntry{gtid, {0, 0}, 0, true, false};
    byGtid_.emplace(gtid, h);
    return h;
  }
  /** Handle of `gtid`, or 0 when the task is unknown. */
  uint32_t find(uint64_t gtid) {
    sync();
    auto it = byGtid_.find(gtid);
    return it == byGtid_.end() ? 0 : it->second;
  }
  TaskEntry* get(uint32_t h) {
    sync();
    if (h == 0 || h >= entries_.size() || !entries_[h].live) return nullptr;
    return &entries_[h];
  }
  /** Drops `h`, and any other handle of the same task (see bind()): the task is gone. */
  void release(uint32_t h) {
    sync();
    if (h == 0 || h >= entries_.size() || !entries_[h].live) return;
    const uint64_t g = entries_[h].gtid;
    drop(h);
    auto it = byGtid_.find(g);
    if (it != byGtid_.end()) {
      dropIfNames(it->second, g);
      byGtid_.erase(it);
    }
    if (!aliases_.empty()) {
      auto a = aliases_.find(g);
      if (a != aliases_.end()) {
        for (uint32_t o : a->second) dropIfNames(o, g);
        aliases_.erase(a);
      }
    }
  }
  size_t size() {
    sync();
    return byGtid_.size();
  }

  /**
   * Serve `pool` / `binds` (layouts above; `poolCap` handles, `bindsCap` entries) until
   * detachPool(). The buffers must stay valid and unmoved while attached. Any previous pool is
   * detached first. The pool is filled at once.
   */
  void attachPool(int32_t* pool, size_t poolCap, uint32_t* binds, size_t bindsCap) {
    detachPool();
    if (!pool || !binds || poolCap == 0) return;
    pool_ = pool;
    poolCap_ = poolCap;
    binds_ = binds;
    bindsCap_ = bindsCap;
    pool_[0] = 0;
    binds_[0] = 0;
    sync();
  }
  /** Bind what is pending, return the unused reserved handles and forget the buffers. */
  void detachPool() {
    if (!pool_) return;
    flush();
    const size_t n = size_t(pool_[0]) <= poolCap_ ? size_t(pool_[0]) : 0;
    for (size_t i = 1; i <= n; i++) unreserve(uint32_t(pool_[i]));
    pool_[0] = 0;
    pool_ = nullptr;
    binds_ = nullptr;
    poolCap_ = bindsCap_ = 0;
  }

 private:
  // Cheap enough for every call: two loads while nothing is pending and the pool is over half full.
  void sync() {
    if (pool_ && (binds_[0] != 0 || size_t(pool_[0]) * 2 < poolCap_)) flush();
  }
  void flush() {
    // The counts come from memory the agent writes: never trust them past the buffers.
    size_t nb = binds_[0] <= bindsCap_ ? size_t(binds_[0]) : bindsCap_;
    for (size_t j = 0; j < nb; j++) {
      const uint32_t* b = binds_ + 1 + j * kBindStride;
      bind(b[0], uint64_t(b[1]) | (uint64_t(b[2]) << 32), abi::SwInfo{b[3], b[4]});
    }
    binds_[0] = 0;
    size_t n = pool_[0] >= 0 && size_t(pool_[0]) <= poolCap_ ? size_t(pool_[0]) : 0;
    while (n < poolCap_) {
      uint32_t h = take();
      entries_[h] = TaskEntry{};
      entries_[h].reserved = true;
      pool_[++n] = int32_t(h);
    }
    pool_[0] = int32_t(n);
  }
  // A reserved handle the agent named a new task with. When the gtid already has a handle (an
  // internGtid() before the agent saw its TASK_NEW, e.g. host-setup's re-association), both keep
  // naming the task: lookups by gtid answer the agent's (newer) one, which is what the agent's
  // decoder learnt, and releasing either releases both (the task is gone).
  void bind(uint32_t h, uint64_t gtid, abi::SwInfo sw) {
    if (h == 0 || h >= entries_.size() || !entries_[h].reserved || gtid == 0) return;  // not ours to bind
    entries_[h] = TaskEntry{gtid, sw, 0, true, false};
    auto [it, fresh] = byGtid_.emplace(gtid, h);
    if (!fresh) {
      aliases_[gtid].push_back(it->second);
      it->second = h;
    }
  }
  uint32_t take() {
    if (!free_.empty()) {
      uint32_t h = free_.back();
      free_.pop_back();
      return h;
    }
    entries_.emplace_back();
    return static_cast<uint32_t>(entries_.size() - 1);
  }
  void drop(uint32_t h) {
    entries_[h] = TaskEntry{};
    free_.push_back(h);
  }
  void dropIfNames(uint32_t h, uint64_t gtid) {
    if (h < entries_.size() && entries_[h].live && entries_[h].gtid == gtid) drop(h);
  }
  void unreserve(uint32_t h) {
    if (h != 0 && h < entries_.size() && entries_[h].reserved) drop(h);
  }

  std::vector<TaskEntry> entries_{TaskEntry{}};  // handle 0 is reserved for "unknown"
  std::vector<uint32_t> free_;
  std::unordered_map<uint64_t, uint32_t> byGtid_;
  // Other live handles of a gtid whose current handle came from the pool (rare: see bind()).
  std::unordered_map<uint64_t, std::vector<uint32_t>> aliases_;
  int32_t* pool_ = nullptr;
  size_t poolCap_ = 0;
  uint32_t* binds_ = nullptr;
  size_t bindsCap_ = 0;
};

}  // namespace ghost
