// The ghOSt client proper: ghostfs (version check, enclave create/attach/destroy, tunables, CPU
// set, task admission), status-word regions, queues, agents, RUN, and per-CPU transactions.
// Every kernel interaction goes through the Sys seam (sys.h); every fd and mapping is RAII-owned.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ghost/abi.h"
#include "ghost/cpulist.h"
#include "ghost/queue.h"
#include "ghost/sys.h"
#include "ghost/tasks.h"

namespace ghost {

/** The top of ghostfs: which ABIs the kernel speaks, and enclave creation. */
class Ghostfs {
 public:
  Ghostfs(std::shared_ptr<Sys> sys, std::string root = "/sys/fs/ghost");
  /** False when `root/version` cannot be opened (no ghOSt kernel, or ghostfs not mounted). */
  bool present();
  /** ABI numbers listed in `root/version`. Throws SysError. */
  std::vector<uint32_t> versions();
  /** `create <id> <abi> [extra]`, trying id = 1, 2, … on EEXIST. Returns the id. */
  uint64_t createEnclave(uint32_t abiVersion, const std::string& extra = "");
  const std::string& root() const { return root_; }
  const std::shared_ptr<Sys>& sys() const { return sys_; }

 private:
  std::shared_ptr<Sys> sys_;
  std::string root_;
};

/** A status-word region mapped read-only. */
class SwRegion {
 public:
  SwRegion() = default;
  SwRegion(Mapping map, uint32_t id);
  /** Pointer to slot `info`, or nullptr if it is not in this region. */
  const abi::StatusWord* word(abi::SwInfo info) const;
  const abi::SwRegionHeader* header() const { return reinterpret_cast<const abi::SwRegionHeader*>(map_.data()); }
  uint8_t* base() const { return map_.data(); }
  size_t size() const { return map_.size(); }
  uint32_t id() const { return id_; }

 private:
  Mapping map_;
  uint32_t id_ = 0;
};

/** Acquire-load of a status word's barrier and flags (in that order, as the kernel publishes). */
struct SwSnapshot {
  uint32_t barrier;
  uint32_t flags;
  uint64_t gtid;
  uint64_t runtime;
};
SwSnapshot readSw(const abi::StatusWord* w);

/** One message queue: its fd, its mapping, and the consumer state. */
class Queue {
 public:
  Queue(Fd fd, Mapping map, uint32_t elems);
  int fd() const { return fd_.get(); }
  QueueView& view() { return view_; }
  uint8_t* base() const { return map_.data(); }
  size_t size() const { return map_.size(); }

 private:
  Fd fd_;
  Mapping map_;
  QueueView view_;
};

/** One transaction to open: the N-API batch format decodes into these. */
struct TxnRequest {
  int cpu;
  int64_t gtid;  // task gtid, or kNullGtid / kAgentGtid / kIdleGtid
  uint32_t taskBarrier;
  uint32_t agentBarrier;
  uint16_t runFlags;
  uint8_t commitFlags;
};

/** The batch commit format: 8 int32 per op (mirrored by src/native/ghost.ts OP_*). */
namespace op {
constexpr int kCpu = 0, kTarget = 1, kTaskBarrier = 2, kAgentBarrier = 3, kRunFlags = 4, kCommitFlags = 5, kState = 6,
              kStride = 8;
/** kState when the slot could not be opened (still READY or claimed from an earlier commit). */
constexpr int32_t kNotOpened = 1;
/** kState when the op's target handle is unknown to the task table. */
constexpr int32_t kBadTarget = 2;
}  // namespace op

/** The enclave's `cpu_data` mapping: one txn slot per possible CPU. */
class TxnArea {
 public:
  TxnArea() = default;
  explicit TxnArea(Mapping map);
  abi::Txn* slot(int cpu) const;
  int ncpus() const { return static_cast<int>(map_.size() / abi::kCpuDataStride); }
  /** Fill and publish (release-store READY) the txn of `r.cpu`. False if that slot is still open or claimed. */
  bool open(const TxnRequest& r);
  /** CAS READY -> ABORTED. False if a CPU has already claimed (or committed) it. */
  bool abort(int cpu);
  int32_t state(int cpu) const;
  uint8_t* base() const { return map_.data(); }
  size_t size() const { return map_.size(); }

 private:
  Mapping map_;
};

/** Handle to one enclave directory and its open files. Open everything before becoming an agent. */
class Enclave {
 public:
  /** Attach to `root/enclave_<id>`; checks `abi_version` is `abiVersion` (0 = take whatever it is). */
  static std::unique_ptr<Enclave> attach(std::shared_ptr<Sys> sys, const std::string& root, uint64_t id,
                                         uint32_t abiVersion);
  uint64_t id() const { return id_; }
  uint32_t abiVersion() const { return abi_; }
  /** Make later calls as another thread of the same process (same fds and mappings). Emulator:
   *  the thread identity is per call; a real process changes threads instead. */
  void setSys(std::shared_ptr<Sys> sys) { sys_ = std::move(sys); }
  const std::string& dir() const { return dir_; }
  Sys& sys() const { return *sys_; }

  // ---- text files -----------------------------------------------------------------------------
  std::vector<int> cpus();
  void setCpus(const std::vector<int>& cpus);
  std::string status();
  int64_t tunable(const std::string& name);
  void setTunable(const std::string& name, int64_t value);
  /** Move thread `tid` (or the caller, 0) into this enclave. EALREADY counts as success. */
  void enterTask(int64_t tid);
  /** Write `destroy`; errors are ignored (the enclave may already be gone). */
  void destroy();
  /** `discover tasks`: the kernel re-announces every task with TASK_NEW. */
  void discoverTasks();

  // ---- status words ---------------------------------------------------------------------------
  /** `create sw_region <rid> <node>` (EEXIST tolerated), then map sw_regions/sw_<rid>. */
  SwRegion& createSwRegion(uint32_t rid, int numaNode);
  SwRegion* swRegion() { return sw_.get(); }
  abi::SwInfo swGetInfo(abi::MsgSrcType type, uint64_t arg);
  /** SW_FREE; returns 0 or -errno (EALREADY / EINVAL are expected in races). */
  int swFree(abi::SwInfo info);

  // ---- queues ---------------------------------------------------------------------------------
  Queue& createQueue(int elems, int numaNode);
  Queue* queue(size_t i) { return i < queues_.size() ? queues_[i].get() : nullptr; }
  size_t queueCount() const { return queues_.size(); }
  /** ASSOC_QUEUE: returns the status bits (kAssocAlready | kAssocBrandNew) or -errno. */
  int assocQueue(const Queue& q, uint64_t gtid, uint32_t barrier);
  void setDefaultQueue(const Queue& q);
  void configQueueWakeup(const Queue& q, const std::vector<int>& cpus);

  // ---- agents ---------------------------------------------------------------------------------
  /** `become agent <cpu> <qfd>` on the calling thread; returns 0 or -errno (EBUSY: retry). */
  int becomeAgent(int cpu, int qfd);
  /** Hold agent_online open for writing (EBUSY if another agent holds it). */
  void setOnline(bool online);
  bool online() const { return online_.valid(); }
  /** GHOST_IOC_RUN: 0 or -errno (ESTALE: barrier moved, loop again). */
  int run(int64_t gtid, uint32_t agentBarrier, uint32_t taskBarrier, int cpu, int runFlags);
  int64_t cpuTime(uint64_t gtid);
  int null();

  // ---- transactions ---------------------------------------------------------------------------
  TxnArea& txns() { return txns_; }
  /** COMMIT_TXN (sync=false) or SYNC_GROUP_TXN (sync=true) over `cpus`; returns the ioctl result. */
  int commit(const std::vector<int>& cpus, bool sync);
  /** Opens the txn of each of `n` ops (op:: format; a positive target is a `tasks` handle, else a
   *  special gtid), submits them with one ioctl and writes each txn's state back into its op.
   *  Returns the ioctl result (sync: 1 = the group committed); throws SysError if it failed. */
  int commitOps(TaskTable& tasks, int32_t* ops, size_t n, bool sync);

 private:
  Enclave(std::shared_ptr<Sys> sys, std::string dir, uint64_t id);
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::shared_ptr<Sys> sys_;
  std::string dir_;
  uint64_t id_;
  uint32_t abi_ = 0;
  // Opened at attach and kept: an agent thread must not open enclave files (EDEADLK, §2.3).
  Fd ctl_;
  Fd tasks_;
  Fd status_;
  Fd cpulist_;
  Fd online_;
  TxnArea txns_;
  std::unique_ptr<SwRegion> sw_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::vector<uint64_t> maskScratch_;
  std::vector<int> cpusScratch_;
};

}  // namespace ghost
