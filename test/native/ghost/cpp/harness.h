// Shared setup for the C++ unit tests: an emulated kernel with an enclave over `ncpus` CPUs, a
// status-word region, one default queue and agents on every CPU (CPU 0's on this thread: the
// driver thread, where parking calls return at once).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "emu/kernel.h"
#include "ghost/enclave.h"
#include "ghost/tasks.h"

namespace ghost::test {

constexpr int kAgentPid = 100;

struct Machine {
  explicit Machine(int ncpus = 4, uint32_t abiVersion = 91) {
    emu::Options o;
    o.ncpus = ncpus;
    kernel = std::make_shared<emu::Kernel>(o);
    Ghostfs fs(kernel->sysFor(kAgentPid, kAgentPid), o.root);
    id = fs.createEnclave(abiVersion);
    enclave = Enclave::attach(kernel->sysFor(kAgentPid, kAgentPid), o.root, id, abiVersion);
    for (int c = 0; c < ncpus; c++) cpus.push_back(c);
    enclave->setCpus(cpus);
    enclave->createSwRegion(0, 0);
    queue = &enclave->createQueue(1024, 0);
    enclave->setDefaultQueue(*queue);
  }
  /** Agent of `cpu` on its own emulated thread, parked in RUN. */
  Enclave& satellite(int cpu) {
    auto e = Enclave::attach(kernel->sysFor(kAgentPid, kAgentPid + 1000 + cpu), kernel->options().root, id, 0);
    e->createSwRegion(0, 0);
    EXPECT_EQ(e->becomeAgent(cpu, -1), 0);
    // Park it (on the driver's thread RUN returns at once, the agent recorded as parked).
    const abi::StatusWord* w = e->swRegion()->word(e->swGetInfo(abi::kSrcAgent, uint64_t(cpu)));
    EXPECT_EQ(e->run(abi::kNullGtid, readSw(w).barrier, 0, cpu, 0), 0);
    sats.push_back(std::move(e));
    return *sats.back();
  }
  void globalAgent() { ASSERT_EQ(enclave->becomeAgent(0, queue->fd()), 0); }
  /** Spawn tid in the workload process, admit it, drain: its handle and barrier token. */
  uint32_t admit(int tid, uint32_t* seq) {
    {
      auto l = kernel->lock();
      kernel->spawn(1, tid, true);
    }
    enclave->enterTask(tid);
    Decoded out[64];
    size_t n = queue->view().drain(enclave->abiVersion(), tasks, out, 64);
    for (size_t i = 0; i < n; i++)
      if (out[i].type == abi::kMsgTaskNew) {
        *seq = out[i].seqnum;
        return out[i].task;
      }
    ADD_FAILURE() << "no TASK_NEW for tid " << tid;
    return 0;
  }
  /** Open and commit one op; returns the txn state. */
  int32_t commit(int cpu, int32_t target, uint32_t barrier, uint8_t commitFlags = abi::kCommitAtTxnCommit,
                 uint16_t runFlags = 0) {
    int32_t op[op::kStride] = {cpu, target, int32_t(barrier), 0, runFlags, commitFlags, 0, 0};
    enclave->commitOps(tasks, op, 1, false);
    return op[op::kState];
  }

  std::shared_ptr<emu::Kernel> kernel;
  uint64_t id = 0;
  std::unique_ptr<Enclave> enclave;
  std::vector<std::unique_ptr<Enclave>> sats;
  std::vector<int> cpus;
  Queue* queue = nullptr;
  TaskTable tasks;
};

}  // namespace ghost::test
