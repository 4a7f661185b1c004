// The emulated ghOSt kernel: the kernel half of the ghOSt ABI (ghostfs files, ioctls, status-word
// regions, message queues, per-CPU transactions) over the very same shared-memory layouts as the
// real kernel (native/ghost/abi.h), driven in virtual time.
//
// A driver (a test, the simulator, the benchmark) plays the machine: it creates threads, makes ghost
// tasks block/wake/yield/exit, occupies CPUs with higher-class work and advances time. The agent
// under test talks to this kernel only through `sysFor(pid, tid)`, a Sys (native/ghost/sys.h)
// bound to one emulated thread, so the client code is exactly the code a ghOSt host runs.
//
// Threads: every entry point runs under one kernel lock, so agents may call in from real threads
// (the native satellites, an agent in a worker thread) while the driver plays the machine. The
// blocking calls (RUN with gtid 0, a successful local commit) park the agent and block the calling
// thread until it is un-parked (a ping, a message wakeup, an RTLA edge, RTLA_ON_IDLE, agent death).
// The one exception is the driver's own thread (the one that built the Kernel): it runs the machine,
// so nothing could ever wake it; there a parking call records the park and returns.
//
// Simplifications (docs/ghost.md, fidelity table): time only moves in `advance`; a remotely latched
// task gets on its CPU at the next scheduling point (any `advance`, including advance(0)).
//
// Work and the default class (fair.cc): a driver may give a thread a program (CPU and blocking
// phases). The kernel then runs it in whatever class the thread is in — a ghOSt task on the CPU its
// agent committed, any other thread under a modelled fair class (CFS-like: vruntime order, one
// global runqueue, equal weights, tick preemption) on CPUs ghOSt leaves free — and counts
// completions and remaining work itself. On enclave destroy, tasks return to that class.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ghost/abi.h"
#include "ghost/sys.h"

namespace ghost::emu {

struct Options {
  int ncpus = 8;
  std::vector<uint32_t> versions{84, 90, 91};
  int64_t tickNs = 4'000'000;  // HZ=250
  bool capSysNice = true;
  std::string root = "/sys/fs/ghost";
  /** advance() lets a latched task displace a running one. False: only reschedule(cpu) does
   *  (a driver that decides when IPIs land, e.g. the simulator mirror). */
  bool autoPreempt = true;
};

/** Anonymous shared memory that stands in for a kernel allocation the agent maps. */
class Mem {
 public:
  explicit Mem(size_t len);
  ~Mem();
  Mem(const Mem&) = delete;
  Mem& operator=(const Mem&) = delete;
  uint8_t* data() const { return p_; }
  size_t size() const { return len_; }

 private:
  uint8_t* p_;
  size_t len_;
};

struct EQueue {
  uint32_t nelems = 0;
  uint32_t head = 0;  // private copy: the kernel never trusts the mapped header
  std::unique_ptr<Mem> mem;
  uint64_t enclave = 0;
  std::vector<int> wakeCpus;
  uint64_t produced = 0;
  uint64_t dropped = 0;
};

struct EEnclave;

struct ETask {
  int tid = 0;
  uint64_t gtid = 0;
  uint64_t enclave = 0;
  EEnclave* enc = nullptr;  // cached enclaves_[enclave] (enclave objects are never freed)
  uint32_t swIndex = 0;
  std::shared_ptr<EQueue> q;
  bool runnable = false;
  bool oncpu = false;
  bool gated = false;       // departed; messages held until the old status word is freed
  bool newPending = false;  // entered while running or gated: TASK_NEW not produced yet
  bool isAgent = false;
  bool killed = false;   // SIGKILLed: dies the next time it is on a CPU
  int cpu = -1;          // current CPU when oncpu, else the CPU it last ran on
  int rqCpu = -1;        // runqueue it waits on (watchdog list); -1 = none yet
  int latchedCpu = -1;   // CPU it is latched on (committed, not yet running)
  uint16_t runFlags = 0; // run_flags of the txn that put it on its CPU
  int64_t switchTime = 0;
  int64_t runnableSince = 0;
  uint64_t runtime = 0;  // accumulated while off CPU
  int nice = 0;
};

struct ECpu {
  uint64_t enclave = 0;  // 0 = not in any enclave
  EEnclave* enc = nullptr;
  int agentTid = 0;      // 0 = no agent
  bool blockedInRun = false;  // parked in RUN / a local commit: on the runqueue, never picked
  bool agentAsleep = false;   // the agent thread really sleeps (futex, nanosleep): off the runqueue
  uint16_t parkFlags = 0;     // run_flags of the RUN that parked the agent (RTLA_ON_IDLE)
  bool rendezvousPoisoned = false;  // the next task switched in belongs to a failed sync group
  bool busy = false;  // a higher-class (CFS/RT) task holds the CPU
  bool offline = false;
  uint32_t agentBarrier = 0;  // rq->ghost.agent_barrier; the agent's status word copies it at sync points
  uint64_t cpuSeqnum = 0;
  std::shared_ptr<EQueue> agentQ;
  ETask* current = nullptr;
  ETask* latched = nullptr;
  bool idleLatched = false;
  bool notifyNotIdle = false;
  bool pendingCommit = false;  // a READY greedy / at-schedule txn waits for this CPU
  bool elideNext = false;      // the latch that displaces `current` asked for ELIDE_PREEMPT
  int fairTid = 0;  // the modelled fair class runs this (programmed, non-ghOSt) thread here
};

struct EEnclave {
  uint64_t id = 0;
  uint32_t abi = 0;
  bool alive = true;
  std::string destroyReason;
  std::unique_ptr<Mem> cpuData;
  std::unique_ptr<Mem> sw;  // region 0 (the only one the client uses)
  std::vector<uint32_t> swFree;
  std::weak_ptr<EQueue> defaultQ;
  std::map<std::string, int64_t> tunables;
  int onlineHolderPid = 0;
  std::vector<int> cpus;
};

/** One phase of a thread's program: `ns` of CPU work, or `ns` blocked. */
struct Phase {
  bool cpu = true;
  int64_t ns = 0;
};

struct EThread {
  int tid = 0;
  int pid = 0;
  bool alive = true;
  bool runnable = true;  // as a CFS thread
  uint64_t gtid = 0;
  ETask* task = nullptr;  // when in ghOSt
  uint64_t taskRtBase = 0;  // task->runtime when it (re-)entered ghOSt

  // A program (setProgram): the kernel runs it in the thread's class. Threads without one (agents,
  // launchers, threads a test drives by hand) do no modelled work and never take a CPU in the
  // fair class.
  bool programmed = false;
  std::vector<Phase> program;
  size_t phase = 0;
  int64_t startNs = 0;
  uint64_t cpuBase = 0;   // CPU time of finished ghOSt stays and fair-class runs
  uint64_t ghostNs = 0;   // the part of cpuBase consumed in ghOSt
  uint64_t fairNs = 0;    // the part of cpuBase consumed in the fair class
  uint64_t phaseEnd = 0;  // thread CPU time at which the current CPU phase ends
  int64_t wakeAt = -1;    // in a blocking phase: when it ends
  // fair class
  int fairCpu = -1;       // CPU it runs on in the fair class, or -1
  int64_t fairSwitch = 0;
  uint64_t vruntime = 0;
};

/** A program that ran to its end (the thread exited), as the kernel accounted it. */
struct Completion {
  int tid = 0;
  int pid = 0;
  int64_t startNs = 0;
  int64_t endNs = 0;
  uint64_t cpuNs = 0;
  uint64_t ghostNs = 0;
  uint64_t fairNs = 0;
  bool underFair = false;  // it ended in the fair class (not in ghOSt)
};

/** Kernel-side totals over every program given to this kernel. */
struct Accounting {
  uint64_t started = 0;
  uint64_t completed = 0;
  uint64_t completedUnderFair = 0;
  uint64_t killed = 0;     // threads killed before their program ended
  uint64_t live = 0;       // started - completed - killed
  uint64_t liveInGhost = 0;
  uint64_t liveInFair = 0;
  uint64_t cpuNs = 0;      // CPU work done so far (completed and live programs)
  uint64_t ghostNs = 0;
  uint64_t fairNs = 0;
  uint64_t remainingCpuNs = 0;  // CPU work the live programs still need
};

struct EFile {
  enum Kind { kVersion, kTopCtl, kEnclaveFile, kQueue } kind;
  uint64_t enclave = 0;
  std::string name;
  int flags = 0;
  std::shared_ptr<EQueue> q;
};

/** One status-word publication (tracing for ordering tests): what an agent could observe. */
struct SwEvent {
  uint64_t gtid;
  uint32_t barrier;
  uint32_t flags;
};

struct TimerEvent {
  int64_t at;
  int cpu;
  uint64_t type;
  uint64_t cookie;
};

class Kernel : public std::enable_shared_from_this<Kernel> {
 public:
  explicit Kernel(Options opts);
  ~Kernel();
  const Options& options() const { return opts_; }

  /** The kernel lock. Drivers hold it around driver-API calls and inspection; Sys calls take it. */
  std::unique_lock<std::recursive_mutex> lock() { return std::unique_lock<std::recursive_mutex>(mu_); }

  /** A Sys bound to emulated thread `tid` of process `pid` (the thread is created if needed). */
  std::shared_ptr<Sys> sysFor(int pid, int tid);

  // ---- driver API: the machine ------------------------------------------------------------------
  int64_t now() const { return now_; }
  /** Run the scheduling points, then move virtual time forward by `ns`, firing ticks and timers. */
  void advance(int64_t ns);
  /** A CFS thread that exists (so `tasks` can admit it). */
  void spawn(int pid, int tid, bool runnable);
  void wake(int tid, int wakerCpu);
  void block(int tid);
  void yield(int tid);
  void exit(int tid);
  void depart(int tid);
  void setAffinity(int tid);
  void setNice(int tid, int nice);
  void switchto(int tid);
  /** The agent thread of `cpu` really sleeps (asleep=true) or wakes: CPU_AGENT_BLOCKED / WAKEUP. */
  void agentSleep(int cpu, bool asleep);
  void latchFailure(int tid, int err);
  /** A higher-class task takes (busy=true) or leaves CPU `cpu`. `nextTid` names it for CPU_NOT_IDLE. */
  void setCpuBusy(int cpu, bool busy, int nextTid);
  void armTimer(int cpu, int64_t atNs, uint64_t type, uint64_t cookie);
  /** A scheduling point on `cpu` (e.g. the IPI after a remote commit lands): a latched task
   *  displaces the running one and gets on the CPU. `advance` runs one on every CPU. */
  void reschedule(int cpu);
  /** Takes a task off its CPU or its latch (TASK_PREEMPT), as a failed txn landing would. */
  void evict(int tid);
  /** Hot-unplug (offline=true) or replug a CPU: commits to it fail CPU_OFFLINE. */
  void setCpuOffline(int cpu, bool offline);
  /** SIGKILL: every thread of `pid` dies and every fd it held is closed. */
  void killProcess(int pid);
  /** Give thread `tid` (not in ghOSt yet) its work: the kernel runs the phases in its class,
   *  blocks/wakes it between them and exits it after the last one (recorded as a Completion). */
  void setProgram(int tid, std::vector<Phase> phases);
  /** The next time a program needs the kernel (a CPU phase ends on a CPU, a block ends); INT64_MAX
   *  if none. Runnable threads that wait for a CPU have no event of their own. */
  int64_t nextProgramEvent() const;
  /** Programs that ended since the last call, in order. */
  std::vector<Completion> takeCompletions();
  Accounting accounting() const;

  // ---- inspection ----------------------------------------------------------------------------
  const EThread* thread(int tid) const;
  const ECpu* cpu(int c) const;
  const EEnclave* enclave(uint64_t id) const;
  uint64_t runtimeOf(const ETask& t) const;
  /** CPU time of a thread across classes (ghOSt stays and fair-class runs). */
  uint64_t threadCpu(const EThread& th) const;
  uint64_t messagesProduced() const { return produced_; }
  /** Record every status-word publication from now on (on=true) or stop and clear. */
  void traceStatusWords(bool on);
  const std::vector<SwEvent>& swTrace() const { return swTrace_; }

  // ---- the Sys implementation (called through EmuSys) -----------------------------------------
  int sysOpen(int pid, int tid, const std::string& path, int flags);
  ssize_t sysRead(int pid, int fd, void* buf, size_t n, off_t off);
  ssize_t sysWrite(int pid, int tid, int fd, const void* buf, size_t n);
  int sysIoctl(int pid, int tid, int fd, unsigned long req, void* arg);
  MapResult sysMmap(int pid, size_t len, int prot, int fd);
  int sysClose(int pid, int fd);
  int64_t sysFileSize(int pid, int fd);

 private:
  // helpers
  EFile* file(int pid, int fd);
  EEnclave* liveEnclave(uint64_t id);
  ETask* taskByTid(int tid);
  ETask* taskByGtid(uint64_t gtid);
  abi::StatusWord* sw(const EEnclave& e, uint32_t index);
  abi::Txn* txn(const EEnclave& e, int cpu);
  uint32_t allocSw(EEnclave& e, uint64_t gtid, uint32_t flags);
  void syncTaskSw(ETask& t);
  void bumpTaskBarrier(ETask& t);
  void publishSw(abi::StatusWord* w, uint32_t flags);
  abi::StatusWord* agentSw(int cpu);  // the status word of `cpu`'s agent, if it has one
  void syncAgentSw(int cpu);       // agent_barrier_get: SW barrier := counter, flags refreshed
  void syncAgentFlags(int cpu);    // CPU_AVAIL / BOOST_PRIO / RUNNABLE only (barrier may lag)
  void agentBarrierInc(int cpu);   // locked increment: counter and SW copy
  int agentCpuOf(int tid) const;
  bool agentOnCpu(const ECpu& C) const { return C.agentTid && !C.blockedInRun && !C.agentAsleep; }
  /** A task of a class above ghOSt holds the CPU: driver-declared (setCpuBusy) or the fair model. */
  bool higherClass(const ECpu& C) const { return C.busy || C.fairTid; }
  void higherClassChanged(int cpu, int nextTid);

  // messages
  void produce(EQueue& q, uint16_t type, uint32_t seq, const void* payload, size_t len);
  void taskMsg(ETask& t, uint16_t type, const void* payload, size_t len);
  void cpuMsg(int cpu, uint16_t type, const void* payload, size_t len);
  void wakeAgentFor(EQueue& q, int srcCpu);
  void wakeAgentOn(int cpu);     // __ghost_wake_agent_on: lockless counter bump, un-park if parked
  void scheduleAgent(int cpu);   // schedule_next(AGENT_GTID): locked bump, un-park
  void unpark(int cpu);
  void sendTaskNew(ETask& t);

  // scheduling
  void chargeRuntime(ETask& t);
  void clearOnCpu(ETask& t);
  void putOffCpu(ETask& t);
  void checkIdleRtla(int cpu);
  int parkWait(std::unique_lock<std::recursive_mutex>& lk, int cpu, int tid);
  void preemptCurrent(int cpu, bool elide);
  // A running task leaves `cpu` with message `type` (TASK_PREEMPT/BLOCKED/YIELD): the CPU's
  // sequence number bumped, the message produced while the task is still current, then ONCPU
  // cleared, then the agent scheduled if the txn's run flags asked for it (`rtlaFlag`).
  template <class Payload>
  void leaveCpu(ETask& t, int cpu, uint16_t type, uint16_t rtlaFlag);
  void preemptLatched(int cpu);
  void scheduleCpu(int c, bool mayPreempt = true);
  void scheduleAll();
  int32_t validate(const EEnclave& e, int cpu, const abi::Txn& t, int callerCpu, bool local, ETask** target);
  int32_t commitOne(EEnclave& e, int cpu, int callerCpu, bool inlineCommit);
  void applyCommit(EEnclave& e, int cpu, abi::Txn& t, ETask* target, bool local);
  void failTxn(EEnclave& e, int cpu, abi::Txn& t, int32_t state);
  void detachAgent(int cpu);
  void destroyEnclave(EEnclave& e, const std::string& reason);
  void runDeferredWork();
  void tick();
  void enterGhost(EEnclave& e, EThread& th);
  void removeTask(ETask* t);
  void die(ETask* t);
  void leaveGhost(EThread& th, const ETask& t);  // fold the stay's runtime into the thread

  // programs and the fair class (fair.cc)
  void runPrograms();
  void enterPhase(EThread& th);  // apply program[phase]: run, block, or finish
  void finishProgram(EThread& th);
  void forgetThread(EThread& th);  // before threads_.erase: free its fair CPU, close its program
  void scheduleFair();
  void fairTick();
  void fairOn(EThread& th, int cpu);
  void fairOff(EThread& th);
  uint64_t vruntimeOf(const EThread& th) const;
  bool fairMayUse(const ECpu& C) const;

  // ioctl handlers
  int iocCommit(EEnclave& e, int tid, const abi::IocCommitTxn& a, bool sync);
  int iocRun(EEnclave& e, int pid, int tid, const abi::IocRun& a);
  int iocSwGetInfo(EEnclave& e, abi::IocSwGetInfo& a);
  int iocSwFree(EEnclave& e, const abi::SwInfo& a);
  int iocCreateQueue(int pid, EEnclave& e, abi::IocCreateQueue& a);
  int iocSetDefaultQueue(int pid, EEnclave& e, const abi::IocSetDefaultQueue& a);
  int iocConfigQueueWakeup(int pid, const abi::IocConfigQueueWakeup& a);
  int iocGetCpuTime(abi::IocGetCpuTime& a);
  int iocTimerfdSettime(int pid, const abi::IocTimerfdSettime& a);
  int iocAssoc(int pid, EEnclave& e, const abi::IocAssocQueue& a);
  int ctlCommand(int pid, int tid, EEnclave& e, const std::string& cmd);
  int topCtlCommand(const std::string& cmd);
  std::string readEnclaveFile(EEnclave& e, const std::string& name);
  int writeEnclaveFile(int pid, int tid, EEnclave& e, const std::string& name, const std::string& text);

  Options opts_;
  int64_t now_ = 0;
  int64_t nextTick_;
  uint64_t produced_ = 0;
  std::vector<ECpu> cpus_;
  std::map<uint64_t, std::unique_ptr<EEnclave>> enclaves_;
  std::unordered_map<int, EThread> threads_;
  std::unordered_map<uint64_t, std::unique_ptr<ETask>> tasks_;  // by gtid, ghost tasks and agents
  std::map<int, std::map<int, EFile>> fds_;                     // pid -> fd -> file
  std::vector<TimerEvent> timers_;
  std::vector<int> commitOrder_;  // scratch of iocCommit (no allocation per commit)
  uint64_t nextGtidSeq_ = 1;
  std::recursive_mutex mu_;
  std::condition_variable_any parked_;  // notified whenever an agent is un-parked or detached
  std::thread::id driverThread_;        // the thread that built the Kernel (never blocks)
  int parkCpu_ = -1;                    // set by a handler that parked the calling agent
  std::vector<uint64_t> pendingDestroy_;  // enclaves the watchdog condemned (work queue)
  bool tracing_ = false;
  std::vector<SwEvent> swTrace_;
  std::set<int> programmed_;  // live threads with a program
  std::vector<Completion> completions_;
  Accounting done_;           // totals over finished programs (completed / killed)
  uint64_t fairMinVruntime_ = 0;
};

}  // namespace ghost::emu
