#include "ghost/fifo_baseline.h"

#include <algorithm>

namespace ghost {

FifoBaseline::FifoBaseline(Enclave& e, Queue& q, TaskTable& tasks, std::vector<int> workers)
    : e_(e), q_(q), tasks_(tasks), workers_(std::move(workers)), buf_(512), ops_(size_t(op::kStride) * 64) {
  int maxCpu = 0;
  for (int c : workers_) maxCpu = std::max(maxCpu, c);
  cpuTask_.assign(size_t(maxCpu) + 1, 0);
  if (workers_.size() > 64) workers_.resize(64);
  opTask_.resize(workers_.size());
}

FifoBaseline::Task& FifoBaseline::task(uint32_t h) {
  if (h >= t_.size()) t_.resize(size_t(h) * 2 + 16);
  return t_[h];
}

void FifoBaseline::offCpu(Task& t) {
  if (t.cpu >= 0 && size_t(t.cpu) < cpuTask_.size() && cpuTask_[size_t(t.cpu)] != 0 &&
      &task(cpuTask_[size_t(t.cpu)]) == &t)
    cpuTask_[size_t(t.cpu)] = 0;
  t.cpu = -1;
}

void FifoBaseline::enqueue(uint32_t h, bool front) {
  Task& t = task(h);
  t.state = kQueued;
  if (front) fifo_.push_front(h);
  else fifo_.push_back(h);
}

void FifoBaseline::handle(const Decoded& m) {
  if (m.type >= 128 || m.task == 0) return;  // CPU messages: nothing to do for FIFO
  Task& t = task(m.task);
  t.seq = m.seqnum;
  switch (m.type) {
    case abi::kMsgTaskNew:
      t.sw = uint32_t(m.b);
      t.cpu = -1;
      if (m.flags & kDecRunnable) enqueue(m.task, false);
      else t.state = kBlocked;
      break;
    case abi::kMsgTaskWakeup:
      if (t.state == kBlocked) enqueue(m.task, false);
      break;
    case abi::kMsgTaskBlocked:
    case abi::kMsgTaskSwitchto:
      offCpu(t);
      t.state = kBlocked;  // a queued copy in fifo_ is skipped when popped
      break;
    case abi::kMsgTaskPreempt:
      offCpu(t);
      if (t.state == kRunning) enqueue(m.task, true);
      break;
    case abi::kMsgTaskYield:
      offCpu(t);
      if (t.state == kRunning) enqueue(m.task, false);
      break;
    case abi::kMsgTaskDead:
    case abi::kMsgTaskDeparted:
      offCpu(t);
      t.state = kGone;
      if (TaskEntry* te = tasks_.get(m.task)) e_.swFree(te->sw);
      tasks_.release(m.task);
      break;
    default:
      break;
  }
}

int FifoBaseline::step() {
  for (;;) {
    size_t n = q_.view().drain(e_.abiVersion(), tasks_, buf_.data(), buf_.size());
    for (size_t i = 0; i < n; i++) handle(buf_[i]);
    messages_ += n;
    if (n < buf_.size()) break;
  }
  const SwRegion* sw = e_.swRegion();
  size_t nops = 0;
  deferred_.clear();
  for (int c : workers_) {
    if (cpuTask_[size_t(c)] != 0) continue;
    uint32_t pick = 0;
    while (!fifo_.empty()) {
      uint32_t h = fifo_.front();
      fifo_.pop_front();
      Task& t = task(h);
      if (t.state != kQueued) continue;  // blocked or gone since it was queued
      if (sw) {
        const TaskEntry* te = tasks_.get(h);
        const abi::StatusWord* w = te ? sw->word(te->sw) : nullptr;
        if (!w) continue;
        SwSnapshot s = readSw(w);
        if (s.barrier != t.seq || (s.flags & abi::kSwTaskOnCpu)) {  // unread message / still leaving
          deferred_.push_back(h);
          continue;
        }
      }
      pick = h;
      break;
    }
    if (!pick) break;
    Task& t = task(pick);
    t.state = kRunning;
    t.cpu = c;
    int32_t* o = ops_.data() + nops * op::kStride;
    o[op::kCpu] = c;
    o[op::kTarget] = int32_t(pick);
    o[op::kTaskBarrier] = int32_t(t.seq);
    o[op::kAgentBarrier] = 0;
    o[op::kRunFlags] = 0;
    o[op::kCommitFlags] = abi::kCommitAtTxnCommit;
    o[op::kState] = 0;
    opTask_[nops++] = pick;
  }
  for (auto it = deferred_.rbegin(); it != deferred_.rend(); ++it) fifo_.push_front(*it);
  if (nops == 0) return 0;
  e_.commitOps(tasks_, ops_.data(), nops, false);
  int ok = 0;
  for (size_t i = 0; i < nops; i++) {
    const int32_t* o = ops_.data() + i * op::kStride;
    Task& t = task(opTask_[i]);
    if (o[op::kState] == abi::kTxnComplete) {
      cpuTask_[size_t(o[op::kCpu])] = opTask_[i];
      ok++;
    } else {
      t.cpu = -1;
      if (o[op::kState] == abi::kTxnTargetNotRunnable || o[op::kState] == abi::kTxnTargetNotFound) t.state = kBlocked;
      else enqueue(opTask_[i], true);
    }
  }
  return ok;
}

}  // namespace ghost
