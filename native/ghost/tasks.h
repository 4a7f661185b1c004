// gtid <-> small integer handle. JS numbers cannot hold a 63-bit gtid exactly, and BigInt on the
// hot path is slow, so the client interns each gtid on TASK_NEW (or discovery) and hands the agent
// a u32 handle. The table also remembers each task's status-word slot (for SW_FREE and zero-copy
// barrier checks) and the last seqnum seen (the decoder rejects a non-increasing one).
#pragma once

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
};

class TaskTable {
 public:
  /** Handle of `gtid`, creating one if absent. Never returns 0. */
  uint32_t intern(uint64_t gtid) {
    auto it = byGtid_.find(gtid);
    if (it != byGtid_.end()) return it->second;
    uint32_t h;
    if (!free_.empty()) {
      h = free_.back();
      free_.pop_back();
    } else {
      entries_.emplace_back();
      h = static_cast<uint32_t>(entries_.size() - 1);
    }
    entries_[h] = TaskEntry{gtid, {0, 0}, 0, true};
    byGtid_.emplace(gtid, h);
    return h;
  }
  /** Handle of `gtid`, or 0 when the task is unknown. */
  uint32_t find(uint64_t gtid) const {
    auto it = byGtid_.find(gtid);
    return it == byGtid_.end() ? 0 : it->second;
  }
  TaskEntry* get(uint32_t h) {
    if (h == 0 || h >= entries_.size() || !entries_[h].live) return nullptr;
    return &entries_[h];
  }
  void release(uint32_t h) {
    TaskEntry* e = get(h);
    if (!e) return;
    byGtid_.erase(e->gtid);
    *e = TaskEntry{};
    free_.push_back(h);
  }
  size_t size() const { return byGtid_.size(); }

 private:
  std::vector<TaskEntry> entries_{TaskEntry{}};  // handle 0 is reserved for "unknown"
  std::vector<uint32_t> free_;
  std::unordered_map<uint64_t, uint32_t> byGtid_;
};

}  // namespace ghost
