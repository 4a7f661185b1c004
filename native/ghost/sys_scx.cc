// ghostfs and the ghOSt ioctls over the sched_ext backend (see sys_scx.h). What each ghOSt file
// and ioctl becomes here is listed in docs/ghost.md ("ghOSt kernel vs the sched_ext backend").
#include "ghost/sys_scx.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/types.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "ghost/abi.h"
#include "ghost/enclave.h"

extern "C" {
#include "../../ghost-kernel/bpf/ghost_scx.h"
}

extern char** environ;

namespace ghost {

// The BPF side's layouts are ghOSt's: pin them to native/ghost/abi.h.
static_assert(sizeof(ghost_txn) == sizeof(abi::Txn) && offsetof(ghost_txn, state) == offsetof(abi::Txn, state) &&
              offsetof(ghost_txn, agent_barrier) == offsetof(abi::Txn, agent_barrier) &&
              offsetof(ghost_txn, task_barrier) == offsetof(abi::Txn, task_barrier) &&
              offsetof(ghost_txn, run_flags) == offsetof(abi::Txn, run_flags) &&
              offsetof(ghost_txn, commit_flags) == offsetof(abi::Txn, commit_flags) &&
              offsetof(ghost_txn, gtid) == offsetof(abi::Txn, gtid) &&
              offsetof(ghost_txn, commit_time) == offsetof(abi::Txn, commit_time) &&
              offsetof(ghost_txn, cpu_seqnum) == offsetof(abi::Txn, cpu_seqnum) &&
              offsetof(ghost_txn, sync_group_owner) == offsetof(abi::Txn, sync_group_owner));
static_assert(GHOST_SCX_CPU_STRIDE == abi::kCpuDataStride);
static_assert(sizeof(ghost_status_word) == sizeof(abi::StatusWord) &&
              offsetof(ghost_status_word, flags) == offsetof(abi::StatusWord, flags) &&
              offsetof(ghost_status_word, gtid) == offsetof(abi::StatusWord, gtid) &&
              offsetof(ghost_status_word, switch_time) == offsetof(abi::StatusWord, switch_time) &&
              offsetof(ghost_status_word, runtime) == offsetof(abi::StatusWord, runtime));
static_assert(sizeof(ghost_sw_region_header) == sizeof(abi::SwRegionHeader) &&
              offsetof(ghost_sw_region_header, start) == offsetof(abi::SwRegionHeader, start) &&
              offsetof(ghost_sw_region_header, capacity) == offsetof(abi::SwRegionHeader, capacity));
static_assert(offsetof(ghost_sw_region, sw) == 64);
static_assert(offsetof(ghost_queue_mem, head) == abi::kQueueRingOffset &&
              offsetof(ghost_queue_mem, slots) == abi::kQueueSlotsOffset &&
              sizeof(ghost_queue_mem) == abi::queueMapSize(GHOST_SCX_QUEUE_ELEMS));
static_assert(GHOST_SW_TASK_ONCPU == abi::kSwTaskOnCpu && GHOST_SW_TASK_RUNNABLE == abi::kSwTaskRunnable &&
              GHOST_SW_CPU_AVAIL == abi::kSwCpuAvail && GHOST_SW_F_CANFREE == abi::kSwFCanFree);
static_assert(GHOST_TXN_COMPLETE == abi::kTxnComplete && GHOST_TXN_POISONED == abi::kTxnPoisoned &&
              GHOST_TXN_READY == abi::kTxnReady && GHOST_TXN_CPU_UNAVAIL == abi::kTxnCpuUnavail);

namespace {

constexpr int kFakeFdBase = 1 << 24;  // fds of this Sys are not kernel fds
constexpr int kSchedExt = 7;

long sysBpf(int cmd, bpf_attr* attr) { return ::syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

int objGet(const std::string& path) {
  bpf_attr a{};
  a.pathname = reinterpret_cast<uint64_t>(path.c_str());
  int fd = static_cast<int>(sysBpf(BPF_OBJ_GET, &a));
  return fd < 0 ? -errno : fd;
}

// A minimal BPF ring-buffer consumer (the record format of kernel/bpf/ringbuf.c): the consumer
// page is mapped RW, the producer page and data twice RO. Records carry one u32: a CPU to wake.
class WakeRing {
 public:
  int open(int mapFd, size_t dataSize) {
    fd_ = mapFd;
    size_ = dataSize;
    page_ = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    void* c = ::mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (c == MAP_FAILED) return -errno;
    cons_ = static_cast<uint8_t*>(c);
    void* p = ::mmap(nullptr, page_ + 2 * size_, PROT_READ, MAP_SHARED, fd_, static_cast<off_t>(page_));
    if (p == MAP_FAILED) return -errno;
    prod_ = static_cast<uint8_t*>(p);
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    if (ep_ < 0 || ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd_, &ev) < 0) return -errno;
    return 0;
  }
  ~WakeRing() {
    if (cons_) ::munmap(cons_, page_);
    if (prod_) ::munmap(prod_, page_ + 2 * size_);
    if (ep_ >= 0) ::close(ep_);
  }
  template <typename F>
  void drain(F&& onCpu) {
    auto* consPos = reinterpret_cast<unsigned long*>(cons_);
    auto* prodPos = reinterpret_cast<unsigned long*>(prod_);
    unsigned long c = std::atomic_ref<unsigned long>(*consPos).load(std::memory_order_acquire);
    for (;;) {
      unsigned long p = std::atomic_ref<unsigned long>(*prodPos).load(std::memory_order_acquire);
      if (c >= p) break;
      uint8_t* rec = prod_ + page_ + (c & (size_ - 1));
      uint32_t len = std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(rec)).load(std::memory_order_acquire);
      if (len & (1u << 31)) break;  // BUSY: still being written
      bool discard = len & (1u << 30);
      len &= ~(3u << 30);
      if (!discard && len >= 4) {
        uint32_t cpu;
        std::memcpy(&cpu, rec + 8, 4);
        onCpu(cpu);
      }
      c += (len + 8 + 7) & ~7ul;
      std::atomic_ref<unsigned long>(*consPos).store(c, std::memory_order_release);
    }
  }
  void wait(int ms) {
    epoll_event ev;
    (void)::epoll_wait(ep_, &ev, 1, ms);
  }

 private:
  int fd_ = -1, ep_ = -1;
  size_t size_ = 0, page_ = 4096;
  uint8_t* cons_ = nullptr;
  uint8_t* prod_ = nullptr;
};

enum class Kind {
  Version,
  TopCtl,
  Ctl,
  Tasks,
  Status,
  CpuList,
  CpuMask,
  AbiVersion,
  CpuData,
  SwRegion,
  AgentOnline,
  Tunable,
  Queue,
};

struct FakeFile {
  Kind kind;
  std::string name;  // tunable name
  int qid = -1;
};

class ScxSys final : public Sys {
 public:
  explicit ScxSys(ScxOptions o) : o_(std::move(o)) {
    if (o_.pinDir.empty()) o_.pinDir = std::string(GHOST_SCX_PIN_DIR) + "-" + std::to_string(::getpid());
  }
  ~ScxSys() override { teardown(); }

  int open(const std::string& path, int flags) override {
    std::lock_guard<std::mutex> g(mu_);
    const std::string& r = o_.root;
    if (path.compare(0, r.size(), r) != 0) return -ENOENT;
    std::string rel = path.substr(r.size());
    if (rel == "/version") return add({Kind::Version, "", -1});
    if (rel == "/ctl") return add({Kind::TopCtl, "", -1});
    const std::string enc = "/enclave_1/";
    if (rel.compare(0, enc.size(), enc) != 0) return -ENOENT;
    if (!loaded_) return -ENOENT;
    std::string f = rel.substr(enc.size());
    if (f == "ctl") return add({Kind::Ctl, "", -1});
    if (f == "tasks") return add({Kind::Tasks, "", -1});
    if (f == "status") return add({Kind::Status, "", -1});
    if (f == "cpulist") return add({Kind::CpuList, "", -1});
    if (f == "cpumask") return add({Kind::CpuMask, "", -1});
    if (f == "abi_version") return add({Kind::AbiVersion, "", -1});
    if (f == "cpu_data") return add({Kind::CpuData, "", -1});
    if (f == "sw_regions/sw_0") return add({Kind::SwRegion, "", -1});
    if (f == "agent_online") {
      if ((flags & O_ACCMODE) != O_RDONLY) {
        if (online_ >= 0) return -EBUSY;
        int rc = attachScheduler();
        if (rc < 0) return rc;
        int fd = add({Kind::AgentOnline, "", -1});
        online_ = fd;
        return fd;
      }
      return add({Kind::AgentOnline, "", -1});
    }
    if (f == "runnable_timeout" || f == "deliver_ticks" || f == "commit_at_tick" ||
        f == "deliver_cpu_availability" || f == "deliver_agent_runnability" || f == "wake_on_waker_cpu" ||
        f == "switchto_disabled" || f == "live_dangerously")
      return add({Kind::Tunable, f, -1});
    return -ENOENT;
  }

  ssize_t pread(int fd, void* buf, size_t n, off_t off) override {
    std::string text;
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = files_.find(fd);
      if (it == files_.end()) return -EBADF;
      const FakeFile& f = it->second;
      switch (f.kind) {
        case Kind::Version: text = "91\n"; break;
        case Kind::Ctl: text = "1"; break;
        case Kind::AbiVersion: text = "91\n"; break;
        case Kind::Status: text = statusText(); break;
        case Kind::CpuList: text = formatCpuList(cpus_) + "\n"; break;
        case Kind::CpuMask: {
          char b[32];
          std::snprintf(b, sizeof b, "%llx\n", static_cast<unsigned long long>(mask_));
          text = b;
          break;
        }
        case Kind::AgentOnline: text = online_ >= 0 ? "1" : "0"; break;
        case Kind::Tunable: text = std::to_string(tunables_[f.name]) + "\n"; break;
        case Kind::Tasks: text = tasksText(); break;
        default: return -EINVAL;
      }
    }
    if (off < 0) return -EINVAL;
    if (static_cast<size_t>(off) >= text.size()) return 0;
    size_t k = std::min(n, text.size() - static_cast<size_t>(off));
    std::memcpy(buf, text.data() + off, k);
    return static_cast<ssize_t>(k);
  }

  ssize_t write(int fd, const void* buf, size_t n) override {
    std::string s(static_cast<const char*>(buf), n);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    Kind kind;
    std::string name;
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = files_.find(fd);
      if (it == files_.end()) return -EBADF;
      kind = it->second.kind;
      name = it->second.name;
    }
    int rc = 0;
    switch (kind) {
      case Kind::TopCtl: rc = topCtl(s); break;
      case Kind::Ctl: rc = enclaveCtl(s); break;
      case Kind::Tasks: rc = enterTask(s); break;
      case Kind::CpuList:
        try {
          rc = setCpus(parseCpuList(s));
        } catch (const std::invalid_argument&) {
          rc = -EINVAL;
        }
        break;
      case Kind::CpuMask: {
        uint64_t m = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), m, 16);
        if (r.ec != std::errc()) return -EINVAL;
        std::vector<int> c;
        for (int i = 0; i < 64; i++)
          if (m >> i & 1) c.push_back(i);
        rc = setCpus(c);
        break;
      }
      case Kind::Tunable: rc = setTunable(name, s); break;
      default: rc = -EINVAL;
    }
    return rc < 0 ? rc : static_cast<ssize_t>(n);
  }

  int ioctl(int fd, unsigned long req, void* arg) override {
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = files_.find(fd);
      if (it == files_.end()) return -EBADF;
      if (it->second.kind != Kind::Ctl) return -ENOTTY;
    }
    switch (req) {
      case abi::kIocNull: return 0;
      case abi::kIocSwGetInfo: {
        auto* r = static_cast<abi::IocSwGetInfo*>(arg);
        ghost_ctl_args a{};
        a.op = GHOST_OP_SW_GET_INFO;
        if (r->request.type == abi::kSrcAgent) {
          a.a = 0;
          a.cpu = static_cast<int32_t>(r->request.arg);
        } else if (r->request.type == abi::kSrcTask) {
          a.a = 1;
          a.gtid = r->request.arg;
        } else {
          return -EINVAL;
        }
        int rc = ctl(a);
        if (rc < 0) return rc;
        r->response = {0, static_cast<uint32_t>(rc)};
        return 0;
      }
      case abi::kIocSwFree: {
        auto* r = static_cast<abi::SwInfo*>(arg);
        if (r->id != 0) return -ENOENT;
        ghost_ctl_args a{};
        a.op = GHOST_OP_SW_FREE;
        a.a = static_cast<int32_t>(r->index);
        return ctl(a);
      }
      case abi::kIocCreateQueue: {
        auto* r = static_cast<abi::IocCreateQueue*>(arg);
        if (r->flags != 0 || r->node != 0) return -EINVAL;
        ghost_ctl_args a{};
        a.op = GHOST_OP_CREATE_QUEUE;
        a.a = r->elems;
        int qid = ctl(a);
        if (qid < 0) return qid;
        r->mapsize = abi::queueMapSize(static_cast<uint32_t>(r->elems));
        std::lock_guard<std::mutex> g(mu_);
        return add({Kind::Queue, "", qid});
      }
      case abi::kIocAssocQueue: {
        auto* r = static_cast<abi::IocAssocQueue*>(arg);
        if (r->flags != 0 || r->src.type != abi::kSrcTask) return -EINVAL;
        int qid = queueOf(r->fd);
        if (qid < 0) return -EBADF;
        ghost_ctl_args a{};
        a.op = GHOST_OP_ASSOC_QUEUE;
        a.qid = qid;
        a.gtid = r->src.arg;
        a.barrier = r->barrier;
        return ctl(a);
      }
      case abi::kIocSetDefaultQueue: {
        int qid = queueOf(static_cast<abi::IocSetDefaultQueue*>(arg)->fd);
        if (qid < 0) return -EBADF;
        ghost_ctl_args a{};
        a.op = GHOST_OP_SET_DEFAULT_QUEUE;
        a.qid = qid;
        return ctl(a);
      }
      case abi::kIocConfigQueueWakeup: {
        auto* r = static_cast<abi::IocConfigQueueWakeup*>(arg);
        if (r->flags != 0 || r->ninfo < 0 || r->ninfo > abi::kMaxWakeupInfo) return -EINVAL;
        int qid = queueOf(r->qfd);
        if (qid < 0) return -EBADF;
        ghost_ctl_args a{};
        a.op = GHOST_OP_CONFIG_WAKEUP;
        a.qid = qid;
        a.a = r->ninfo;
        for (int i = 0; i < r->ninfo; i++) {
          if (r->w[i].prio != 0 || r->w[i].cpu < 0 || r->w[i].cpu >= GHOST_SCX_MAX_CPUS) return -EINVAL;
          a.cpus[i] = r->w[i].cpu;
        }
        int rc = ctl(a);
        if (rc == 0) {
          std::lock_guard<std::mutex> g(wakeMu_);
          for (int i = 0; i < r->ninfo; i++) ringCpus_ |= uint64_t{1} << r->w[i].cpu;
        }
        if (rc == 0 && r->ninfo > 0) wakeCpu(r->w[r->ninfo - 1].cpu, kForced);  // as ghOSt: wake the last one now
        return rc;
      }
      case abi::kIocGetCpuTime: {
        auto* r = static_cast<abi::IocGetCpuTime*>(arg);
        ghost_ctl_args a{};
        a.op = GHOST_OP_CPU_TIME;
        a.gtid = static_cast<uint64_t>(r->gtid);
        int rc = ctl(a);
        if (rc < 0) return rc;
        r->runtime = a.out;
        return 0;
      }
      case abi::kIocCommitTxn:
      case abi::kIocSyncGroupTxn: {
        auto* r = static_cast<abi::IocCommitTxn*>(arg);
        if (r->flags != 0) return -EINVAL;
        if (!r->mask_ptr && r->mask_len) return -EFAULT;
        ghost_commit_args c{};
        std::memcpy(&c.mask, r->mask_ptr, std::min<size_t>(r->mask_len, sizeof c.mask));
        c.sync = req == abi::kIocSyncGroupTxn;
        c.caller_tid = static_cast<uint32_t>(::gettid());
        c.caller_cpu = ::sched_getcpu();
        {
          std::lock_guard<std::mutex> g(wakeMu_);
          c.caller_sleeps = sleeperTid_ != 0 && sleeperTid_ == c.caller_tid;
        }
        int rc = runProg(commitFd_, &c, sizeof c);
        if (rc < 0) return rc;
        return c.sync ? c.ret : 0;
      }
      case abi::kIocRun: return run(*static_cast<abi::IocRun*>(arg));
      case abi::kIocTimerfdSettime: return -EOPNOTSUPP;  // no MSG_CPU_TIMER_EXPIRED in this backend
      default: return -ENOTTY;
    }
  }

  MapResult mmap(size_t length, int prot, int fd) override {
    std::lock_guard<std::mutex> g(mu_);
    auto it = files_.find(fd);
    if (it == files_.end()) return {nullptr, EBADF};
    int mapFd = -1;
    off_t off = 0;
    size_t max = 0;
    switch (it->second.kind) {
      case Kind::CpuData: mapFd = cpuDataFd_; max = GHOST_SCX_MAX_CPUS * GHOST_SCX_CPU_STRIDE; break;
      case Kind::SwRegion:
        if (prot & PROT_WRITE) return {nullptr, EACCES};
        mapFd = swFd_;
        max = sizeof(ghost_sw_region);
        break;
      case Kind::Queue:
        mapFd = queuesFd_;
        off = static_cast<off_t>(it->second.qid) * static_cast<off_t>(sizeof(ghost_queue_mem));
        max = sizeof(ghost_queue_mem);
        break;
      default: return {nullptr, ENODEV};
    }
    if (length == 0 || length > max) return {nullptr, EINVAL};
    void* p = ::mmap(nullptr, length, prot, MAP_SHARED, mapFd, off);
    if (p == MAP_FAILED) return {nullptr, errno};
    return {p, 0};
  }
  int munmap(void* addr, size_t length) override { return ::munmap(addr, length) < 0 ? -errno : 0; }

  int close(int fd) override {
    std::lock_guard<std::mutex> g(mu_);
    auto it = files_.find(fd);
    if (it == files_.end()) return -EBADF;
    if (fd == online_) {
      online_ = -1;
      printStats();
      loaderCmd("detach", "detached");  // agent_online closed: the enclave's tasks go back to CFS
    }
    files_.erase(it);
    return 0;
  }
  int64_t fileSize(int fd) override {
    std::lock_guard<std::mutex> g(mu_);
    auto it = files_.find(fd);
    if (it == files_.end()) return -EBADF;
    switch (it->second.kind) {
      case Kind::CpuData: return GHOST_SCX_MAX_CPUS * GHOST_SCX_CPU_STRIDE;
      case Kind::SwRegion: return sizeof(ghost_sw_region);
      default: return 4096;
    }
  }
  bool hasCapSysNice() override { return linuxSys()->hasCapSysNice(); }

 private:
  int add(FakeFile f) {
    int fd = kFakeFdBase + nextFd_++;
    files_.emplace(fd, std::move(f));
    return fd;
  }
  int queueOf(int fd) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = files_.find(fd);
    return it != files_.end() && it->second.kind == Kind::Queue ? it->second.qid : -1;
  }

  // ---- the loader process --------------------------------------------------------------------
  int spawnLoader() {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) < 0) return -errno;
    if (::pipe2(out, O_CLOEXEC) < 0) return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::vector<char*> argv = {const_cast<char*>(o_.loader.c_str()), const_cast<char*>(o_.object.c_str()),
                               const_cast<char*>(o_.pinDir.c_str()), nullptr};
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, o_.loader.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) {
      ::close(in[1]);
      ::close(out[0]);
      return -rc;
    }
    loaderPid_ = pid;
    toLoader_ = in[1];
    fromLoader_ = out[0];
    std::string line = readLine(60000);
    if (line != "ready") {
      lastError_ = line.empty() ? "ghost-scx-loader exited without a word" : line;
      std::fprintf(stderr, "ghost-scx: loading %s failed: %s\n", o_.object.c_str(), lastError_.c_str());
      teardown();
      return -ENODEV;
    }
    return 0;
  }
  std::string readLine(int timeoutMs) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return line;
      pollfd p{fromLoader_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char c;
      ssize_t k = ::read(fromLoader_, &c, 1);
      if (k <= 0) return line;
      if (c == '\n') return line;
      line += c;
    }
  }
  // One command, one reply line. Caller holds mu_.
  bool loaderCmd(const std::string& cmd, const std::string& ok) {
    if (toLoader_ < 0) return false;
    std::string c = cmd + "\n";
    if (::write(toLoader_, c.data(), c.size()) != static_cast<ssize_t>(c.size())) return false;
    std::string r = readLine(60000);
    if (r != ok) lastError_ = r;
    return r == ok;
  }
  int attachScheduler() {
    long ms = tunables_["runnable_timeout"];
    if (ms <= 0) ms = 30000;  // 0 = off on ghOSt; sched_ext's watchdog cannot be off: its maximum
    if (loaderCmd("attach " + std::to_string(ms), "attached")) return 0;
    // errno alone cannot say why: the loader's line names the cause (verifier, EBUSY, state)
    std::fprintf(stderr, "ghost-scx: enabling the sched_ext scheduler failed: %s\n", lastError_.c_str());
    return lastError_.find("another sched_ext") != std::string::npos ? -EBUSY : -ENODEV;
  }
  void teardown() {
    if (toLoader_ >= 0) ::close(toLoader_);  // EOF: the loader detaches, unpins and exits
    if (fromLoader_ >= 0) ::close(fromLoader_);
    toLoader_ = fromLoader_ = -1;
    if (loaderPid_ > 0) {
      int st;
      for (int i = 0; i < 500 && ::waitpid(loaderPid_, &st, WNOHANG) == 0; i++) ::usleep(10000);
      if (::waitpid(loaderPid_, &st, WNOHANG) == 0) {
        ::kill(loaderPid_, SIGKILL);
        ::waitpid(loaderPid_, &st, 0);
      }
    }
    loaderPid_ = -1;
    wake_.reset();
    for (int* fd : {&cpuDataFd_, &swFd_, &queuesFd_, &confFd_, &wakeFd_, &tasksFd_, &cpusFd_, &commitFd_, &ctlFd_})
      if (*fd >= 0) {
        ::close(*fd);
        *fd = -1;
      }
    if (cpuData_) ::munmap(cpuData_, GHOST_SCX_MAX_CPUS * GHOST_SCX_CPU_STRIDE);
    cpuData_ = nullptr;
    if (swMap_) ::munmap(const_cast<uint8_t*>(swMap_), sizeof(ghost_sw_region));
    swMap_ = nullptr;
    loaded_ = false;
  }

  // ---- ghostfs writes -----------------------------------------------------------------------
  int topCtl(const std::string& s) {
    unsigned long id = 0;
    unsigned abiV = 0;
    char extra[64] = "";
    int n = std::sscanf(s.c_str(), "create %lu %u %63s", &id, &abiV, extra);
    if (n < 2) return -EINVAL;
    if (abiV != GHOST_SCX_ABI) return -ESRCH;
    std::lock_guard<std::mutex> g(mu_);
    if (loaded_ || id != 1) return -EEXIST;  // one enclave per backend instance: enclave_1
    int rc = spawnLoader();
    if (rc < 0) return rc;
    const std::string d = o_.pinDir + "/";
    struct {
      int* fd;
      const char* name;
    } pins[] = {{&cpuDataFd_, "ghost_cpu_data"}, {&swFd_, "ghost_sw"},       {&queuesFd_, "ghost_queues"},
                {&confFd_, "ghost_conf"},        {&wakeFd_, "ghost_wake"},   {&tasksFd_, "ghost_tasks"},
                {&cpusFd_, "ghost_cpus"},        {&commitFd_, "ghost_commit"}, {&ctlFd_, "ghost_ctl"}};
    for (auto& p : pins) {
      *p.fd = objGet(d + p.name);
      if (*p.fd < 0) {
        int e = *p.fd;
        lastError_ = std::string("BPF_OBJ_GET ") + d + p.name;
        teardown();
        return e;
      }
    }
    void* cd = ::mmap(nullptr, GHOST_SCX_MAX_CPUS * GHOST_SCX_CPU_STRIDE, PROT_READ | PROT_WRITE, MAP_SHARED,
                      cpuDataFd_, 0);
    if (cd == MAP_FAILED) {
      int e = errno;
      teardown();
      return -e;
    }
    cpuData_ = static_cast<uint8_t*>(cd);
    void* sw = ::mmap(nullptr, sizeof(ghost_sw_region), PROT_READ, MAP_SHARED, swFd_, 0);
    if (sw == MAP_FAILED) {
      int e = errno;
      teardown();
      return -e;
    }
    swMap_ = static_cast<const uint8_t*>(sw);
    for (int c = 0; c < GHOST_SCX_MAX_CPUS; c++) {
      auto* t = reinterpret_cast<ghost_txn*>(cpuData_ + size_t(c) * GHOST_SCX_CPU_STRIDE);
      t->version = 0;
      t->cpu = c;
      t->sync_group_owner = -1;
      std::atomic_ref<int32_t>(t->state).store(GHOST_TXN_COMPLETE, std::memory_order_release);
    }
    wake_ = std::make_unique<WakeRing>();
    if (int e = wake_->open(wakeFd_, 64 * 1024); e < 0) {
      teardown();
      return e;
    }
    loaded_ = true;
    ghost_ctl_args a{};
    a.op = GHOST_OP_SET_DEFAULT_QUEUE;
    a.qid = -1;
    ctlLocked(a);
    a = {};
    a.op = GHOST_OP_SET_CPUS;
    ctlLocked(a);  // initialises the status-word region header
    return 0;
  }
  int enclaveCtl(const std::string& s) {
    if (s == "destroy") {
      std::lock_guard<std::mutex> g(mu_);
      loaderCmd("detach", "detached");
      return 0;
    }
    unsigned rid = 0;
    int node = 0;
    if (std::sscanf(s.c_str(), "create sw_region %u %d", &rid, &node) == 2) return rid == 0 && node == 0 ? 0 : -ENODEV;
    int cpu = -1, qfd = -1;
    if (std::sscanf(s.c_str(), "become agent %d %d", &cpu, &qfd) == 2) {
      if (!hasCapSysNice()) return -EPERM;
      int qid = -1;
      if (qfd >= 0) {
        qid = queueOf(qfd);
        if (qid < 0) return -EBADF;
      } else if (qfd < -1) {
        return -EBADF;
      }
      ghost_ctl_args a{};
      a.op = GHOST_OP_BECOME_AGENT;
      a.cpu = cpu;
      a.qid = qid;
      a.a = static_cast<int32_t>(::gettid());
      int rc = ctl(a);
      if (rc < 0) return rc;
      bool sleeper;
      {
        std::lock_guard<std::mutex> g(wakeMu_);
        sleeper = ringCpus_ >> cpu & 1;
      }
      // The agent lives on its CPU, as on ghOSt — unless a queue wakes it (an agent that sleeps
      // in RUN between passes, agent --idle-sleep-us): that one is left to the kernel, which
      // wakes it on an idle enclave CPU where there is one instead of taking the CPU it is
      // pinned to from the task running there.
      if (sleeper) {
        std::lock_guard<std::mutex> g(wakeMu_);
        sleeperTid_ = static_cast<uint32_t>(::gettid());
      } else {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        (void)::sched_setaffinity(0, sizeof set, &set);
      }
      return 0;
    }
    if (s == "discover tasks") {
      ghost_ctl_args a{};
      a.op = GHOST_OP_DISCOVER;
      return ctl(a);
    }
    if (s == "disable my bpf_prog_load") return 0;
    return -EINVAL;
  }
  int enterTask(const std::string& s) {
    int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || v < 0) return -EINVAL;
    // a gtid has non-zero low (incarnation) bits: its TID is the high part
    pid_t tid = v >= (int64_t{1} << GHOST_SCX_GTID_SEQ_BITS) ? static_cast<pid_t>(v >> GHOST_SCX_GTID_SEQ_BITS)
                                                              : static_cast<pid_t>(v);
    struct sched_param sp {};
    if (::syscall(SYS_sched_setscheduler, tid, kSchedExt, &sp) < 0) return -errno;
    return 0;
  }
  int setCpus(const std::vector<int>& cpus) {
    uint64_t m = 0;
    for (int c : cpus) {
      if (c < 0 || c >= GHOST_SCX_MAX_CPUS) return -EINVAL;
      if (c >= get_nprocs_conf_cached()) return -ENODEV;
      m |= uint64_t{1} << c;
    }
    ghost_ctl_args a{};
    a.op = GHOST_OP_SET_CPUS;
    a.mask = m;
    int rc = ctl(a);
    if (rc < 0) return rc;
    std::lock_guard<std::mutex> g(mu_);
    mask_ = m;
    cpus_ = cpus;
    return 0;
  }
  static int get_nprocs_conf_cached() {
    static int n = static_cast<int>(::sysconf(_SC_NPROCESSORS_CONF));
    return n;
  }
  int setTunable(const std::string& name, const std::string& s) {
    long v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || v < 0) return -EINVAL;
    if (name == "runnable_timeout" && v > 30000) return -EINVAL;  // sched_ext's watchdog maximum
    if (name == "deliver_ticks") {
      ghost_ctl_args a{};
      a.op = GHOST_OP_TUNABLE;
      a.a = GHOST_TUN_DELIVER_TICKS;
      a.b = v;
      int rc = ctl(a);
      if (rc < 0) return rc;
    }
    std::lock_guard<std::mutex> g(mu_);
    tunables_[name] = v;
    return 0;
  }

  // ---- RUN -------------------------------------------------------------------------------------
  // kDoorbell: a ring record (a message's notify, a ping): every such wakeup bumped the agent's
  // barrier first, so RUN returns on it only if the barrier moved past the one the agent gave.
  // kForced: return whatever the barrier says (CONFIG_QUEUE_WAKEUP's wakeup of the last agent).
  static constexpr uint8_t kDoorbell = 1, kForced = 2;
  void wakeCpu(int cpu, uint8_t how = kDoorbell) {
    if (cpu < 0 || cpu >= GHOST_SCX_MAX_CPUS) return;
    std::lock_guard<std::mutex> g(wakeMu_);
    pending_[cpu] |= how;
    wakeCv_[cpu].notify_all();  // only that CPU's agent: a satellite must not wake per message
  }
  const ghost_status_word* agentWord(int32_t idx) const {
    if (!swMap_ || idx < 0 || idx >= GHOST_SCX_SW_CAP) return nullptr;
    return &reinterpret_cast<const ghost_sw_region*>(swMap_)->sw[idx];
  }
  int run(const abi::IocRun& r) {
    if (!hasCapSysNice()) return -EPERM;
    if (r.run_cpu < 0 || r.run_cpu >= GHOST_SCX_MAX_CPUS) return -EINVAL;
    if (r.run_flags & ~abi::kRtlaOnIdle) return -EINVAL;
    if (r.gtid == abi::kAgentGtid) {
      ghost_ctl_args a{};
      a.op = GHOST_OP_PING;
      a.cpu = r.run_cpu;
      int rc = ctl(a);
      if (rc == 0) wakeCpu(r.run_cpu);
      return rc;
    }
    if (r.gtid != abi::kNullGtid) return -EINVAL;
    ghost_ctl_args a{};
    a.op = GHOST_OP_RUN_CHECK;
    a.cpu = r.run_cpu;
    a.barrier = r.agent_barrier;
    int rc = ctl(a);
    if (rc < 0) return rc;
    const ghost_status_word* self = agentWord(static_cast<int32_t>(a.out));
    // Block until a wakeup for this CPU (a message into a queue that names it, a ping). The
    // agent is a CFS thread here: while it waits, its CPU runs whatever the agent latched there.
    // task_barrier (unused by ghOSt for RUN(0)) is a timeout in µs: this backend has no timerfd
    // (MSG_CPU_TIMER_EXPIRED), and an agent that sleeps needs to wake at its next slice end.
    const int cpu = r.run_cpu;
    const bool timed = r.task_barrier != 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(r.task_barrier);
    // Every wakeup of a ring reader (a message's notify, a ping) is a ring record, so its epoll
    // wait needs no short re-check: each spurious return takes the CPU from the task running
    // there. The 1-s bound is only a safety net.
    auto waitMs = [&]() -> int {
      if (!timed) return 1000;
      auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
      return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(1000, (left.count() + 999) / 1000));
    };
    for (;;) {
      {
        std::unique_lock<std::mutex> g(wakeMu_);
        if (pending_[cpu]) {
          const uint8_t how = pending_[cpu];
          pending_[cpu] = 0;
          // A doorbell for a message the agent read before this RUN (its barrier already counts
          // it: it came between the agent's last wakeup and its barrier read) is not news: a
          // return would only cost the agent one more empty pass.
          if ((how & kForced) || !self ||
              std::atomic_ref<const uint32_t>(self->barrier).load(std::memory_order_acquire) != r.agent_barrier)
            return 0;
          ++staleDoorbells_;
          continue;
        }
      }
      if (timed && std::chrono::steady_clock::now() >= deadline) return 0;
      // Only an agent that a queue wakes reads the ring (when any queue names one): a satellite
      // woken by every message would take its CPU from the task there, once per message.
      bool reader;
      {
        std::lock_guard<std::mutex> g(wakeMu_);
        reader = !ringCpus_ || (ringCpus_ >> cpu & 1);
      }
      if (wake_ && reader) {
        std::unique_lock<std::mutex> rg(ringMu_, std::try_to_lock);
        if (rg.owns_lock()) {
          wake_->drain([&](uint32_t c) { wakeCpu(static_cast<int>(c)); });
          {
            std::unique_lock<std::mutex> g(wakeMu_);
            if (pending_[cpu]) continue;
          }
          wake_->wait(waitMs());
          wake_->drain([&](uint32_t c) { wakeCpu(static_cast<int>(c)); });
          continue;
        }
      }
      std::unique_lock<std::mutex> g(wakeMu_);
      // A non-reader is woken by wakeCpu's notify; it re-checks only for its own timeout.
      int ms = reader ? std::max(1, waitMs()) : (timed ? std::max(1, waitMs()) : 1000);
      wakeCv_[cpu].wait_for(g, std::chrono::milliseconds(ms), [&] { return pending_[cpu]; });
    }
  }

  // ---- BPF programs -----------------------------------------------------------------------------
  int runProg(int progFd, void* ctx, size_t len) {
    if (progFd < 0) return -ENODEV;
    bpf_attr a{};
    a.test.prog_fd = static_cast<uint32_t>(progFd);
    a.test.ctx_in = reinterpret_cast<uint64_t>(ctx);
    a.test.ctx_size_in = static_cast<uint32_t>(len);
    if (sysBpf(BPF_PROG_TEST_RUN, &a) < 0) return -errno;
    return 0;
  }
  int ctlLocked(ghost_ctl_args& a) {
    int rc = runProg(ctlFd_, &a, sizeof a);
    return rc < 0 ? rc : a.ret;
  }
  int ctl(ghost_ctl_args& a) {
    int fd;
    {
      std::lock_guard<std::mutex> g(mu_);
      fd = ctlFd_;
    }
    int rc = runProg(fd, &a, sizeof a);
    return rc < 0 ? rc : a.ret;
  }
  bool lookupConf(ghost_conf& c) {
    uint32_t k = 0;
    bpf_attr a{};
    a.map_fd = static_cast<uint32_t>(confFd_);
    a.key = reinterpret_cast<uint64_t>(&k);
    a.value = reinterpret_cast<uint64_t>(&c);
    return sysBpf(BPF_MAP_LOOKUP_ELEM, &a) == 0;
  }
  // The kernel side's commit counters, summed over the per-CPU states.
  struct CommitTotals {
    uint64_t commits = 0, latSum = 0, latN = 0, latMax = 0;
  };
  CommitTotals commitTotals() {
    CommitTotals t;
    for (uint32_t k = 0; k < GHOST_SCX_MAX_CPUS; k++) {
      ghost_cpu_state cs{};
      bpf_attr a{};
      a.map_fd = static_cast<uint32_t>(cpusFd_);
      a.key = reinterpret_cast<uint64_t>(&k);
      a.value = reinterpret_cast<uint64_t>(&cs);
      if (sysBpf(BPF_MAP_LOOKUP_ELEM, &a) != 0) break;
      t.commits += cs.commits;
      t.latSum += cs.commit_lat_ns;
      t.latN += cs.commit_lat_n;
      t.latMax = std::max<uint64_t>(t.latMax, cs.commit_lat_max);
    }
    return t;
  }
  std::string statusText() {
    ghost_conf c{};
    lookupConf(c);
    std::string s = "version 91\nactive " + std::string(online_ >= 0 ? "yes" : "no") + "\nnr_tasks " +
                    std::to_string(c.nr_tasks) + "\n";
    // Backend figures (not in ghOSt's file): kernel-side commit latency and message counters.
    const CommitTotals t = commitTotals();
    const uint64_t commits = t.commits, latSum = t.latSum, latN = t.latN, latMax = t.latMax;
    s += "scx_commits " + std::to_string(commits) + "\nscx_commit_failures " + std::to_string(c.commit_fail) +
         "\nscx_commit_to_run_ns_sum " + std::to_string(latSum) + "\nscx_commit_to_run_n " + std::to_string(latN) +
         "\nscx_commit_to_run_ns_max " + std::to_string(latMax) + "\n";
    static const char* kMsg[] = {"new", "wakeup", "blocked", "preempt", "yield", "dead", "departed", "tick"};
    for (int i = 0; i < 8; i++) s += std::string("scx_msg_") + kMsg[i] + " " + std::to_string(c.msgs[i]) + "\n";
    s += "scx_overflows " + std::to_string(c.overflows) + "\nscx_no_sw " + std::to_string(c.no_sw) + "\n";
    if (c.unavail_pid) s += "scx_last_cpu_unavail " + std::to_string(c.unavail_pid) + " " + std::string(c.unavail_comm) + "\n";
    if (c.exit_kind) s += "scx_exit " + std::to_string(c.exit_kind) + " " + std::string(c.exit_reason) + "\n";
    return s;
  }
  // One line on stderr when the agent goes offline: the kernel side's view of its commits.
  void printStats() {
    ghost_conf c{};
    if (!lookupConf(c)) return;
    const CommitTotals t = commitTotals();
    const uint64_t commits = t.commits, latSum = t.latSum, latN = t.latN, latMax = t.latMax;
    std::fprintf(stderr,
                 "ghost-scx stats commits=%llu failed=%llu commit_to_run_n=%llu commit_to_run_mean_ns=%llu "
                 "commit_to_run_max_ns=%llu new=%llu wakeup=%llu blocked=%llu preempt=%llu yield=%llu dead=%llu "
                 "departed=%llu overflows=%llu tick=%llu wakes=%llu unavail_self=%llu unavail_other=%llu avail_pings=%llu",
                 (unsigned long long)commits, (unsigned long long)c.commit_fail, (unsigned long long)latN,
                 (unsigned long long)(latN ? latSum / latN : 0), (unsigned long long)latMax,
                 (unsigned long long)c.msgs[0], (unsigned long long)c.msgs[1], (unsigned long long)c.msgs[2],
                 (unsigned long long)c.msgs[3], (unsigned long long)c.msgs[4], (unsigned long long)c.msgs[5],
                 (unsigned long long)c.msgs[6], (unsigned long long)c.overflows, (unsigned long long)c.msgs[7],
                 (unsigned long long)c.wakes, (unsigned long long)c.unavail_self, (unsigned long long)c.unavail_other,
                 (unsigned long long)c.avail_pings);
    {
      std::lock_guard<std::mutex> g(wakeMu_);
      std::fprintf(stderr, " stale_doorbells=%llu\n", (unsigned long long)staleDoorbells_);
    }
    if (c.unavail_pid) std::fprintf(stderr, "ghost-scx last_cpu_unavail pid=%u comm=%.16s\n", c.unavail_pid, c.unavail_comm);
  }
  std::string tasksText() {
    std::string s;
    uint32_t key = 0, next = 0;
    bpf_attr a{};
    a.map_fd = static_cast<uint32_t>(tasksFd_);
    a.key = 0;
    a.next_key = reinterpret_cast<uint64_t>(&next);
    while (sysBpf(BPF_MAP_GET_NEXT_KEY, &a) == 0 && s.size() < 4000) {
      s += std::to_string(next) + "\n";
      key = next;
      a.key = reinterpret_cast<uint64_t>(&key);
    }
    return s;
  }

  ScxOptions o_;
  std::mutex mu_;
  std::map<int, FakeFile> files_;
  int nextFd_ = 0;
  bool loaded_ = false;
  int online_ = -1;
  std::vector<int> cpus_;
  uint64_t mask_ = 0;
  std::map<std::string, long> tunables_;
  std::string lastError_;
  pid_t loaderPid_ = -1;
  int toLoader_ = -1, fromLoader_ = -1;
  int cpuDataFd_ = -1, swFd_ = -1, queuesFd_ = -1, confFd_ = -1, wakeFd_ = -1, tasksFd_ = -1, cpusFd_ = -1;
  int commitFd_ = -1, ctlFd_ = -1;
  uint8_t* cpuData_ = nullptr;
  std::unique_ptr<WakeRing> wake_;
  std::mutex ringMu_;
  std::mutex wakeMu_;
  std::condition_variable wakeCv_[GHOST_SCX_MAX_CPUS];  // one per CPU: wakeCpu(c) wakes c's agent alone
  uint8_t pending_[GHOST_SCX_MAX_CPUS] = {};  // kDoorbell | kForced (guarded by wakeMu_)
  const uint8_t* swMap_ = nullptr;  // the status-word region, read-only: RUN re-reads its barrier
  uint64_t staleDoorbells_ = 0;     // doorbells RUN slept through (guarded by wakeMu_)
  uint64_t ringCpus_ = 0;  // CPUs some queue's wakeup names (guarded by wakeMu_)
  uint32_t sleeperTid_ = 0;  // the agent thread a queue wakes (it blocks in RUN; guarded by wakeMu_)
};

}  // namespace

std::shared_ptr<Sys> scxSys(const ScxOptions& opts) { return std::make_shared<ScxSys>(opts); }

}  // namespace ghost
