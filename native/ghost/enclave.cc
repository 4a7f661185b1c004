#include "ghost/enclave.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace ghost {

// ---- Ghostfs -----------------------------------------------------------------------------------

Ghostfs::Ghostfs(std::shared_ptr<Sys> sys, std::string root) : sys_(std::move(sys)), root_(std::move(root)) {}

bool Ghostfs::present() {
  int fd = sys_->open(root_ + "/version", O_RDONLY);
  if (fd < 0) return false;
  sys_->close(fd);
  return true;
}

std::vector<uint32_t> Ghostfs::versions() {
  Fd fd = openOrThrow(sys_, root_ + "/version", O_RDONLY);
  std::string text = readText(*sys_, fd.get(), root_ + "/version");
  std::vector<uint32_t> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string::npos) j = text.size();
    uint32_t v = 0;
    auto r = std::from_chars(text.data() + i, text.data() + j, v);
    if (r.ec == std::errc() && r.ptr == text.data() + j) out.push_back(v);
    i = j + 1;
  }
  return out;
}

uint64_t Ghostfs::createEnclave(uint32_t abiVersion, const std::string& extra) {
  Fd ctl = openOrThrow(sys_, root_ + "/ctl", O_WRONLY);
  for (uint64_t id = 1; id < 1000000; id++) {
    std::string cmd = "create " + std::to_string(id) + " " + std::to_string(abiVersion);
    if (!extra.empty()) cmd += " " + extra;
    ssize_t n = sys_->write(ctl.get(), cmd.data(), cmd.size());
    if (n >= 0) return id;
    if (n != -EEXIST) throw SysError("write", root_ + "/ctl <- '" + cmd + "'", static_cast<int>(-n));
  }
  throw SysError("create enclave", root_, ENOSPC);
}

// ---- status words ------------------------------------------------------------------------------

SwRegion::SwRegion(Mapping map, uint32_t id) : map_(std::move(map)), id_(id) {
  const abi::SwRegionHeader* h = header();
  if (map_.size() < sizeof(abi::SwRegionHeader) || h->version != abi::kSwRegionVersion || h->id != id ||
      h->start < sizeof(abi::SwRegionHeader) || h->start + size_t{h->capacity} * sizeof(abi::StatusWord) > map_.size())
    throw SysError("validate", "status-word region " + std::to_string(id), EPROTO);
}

const abi::StatusWord* SwRegion::word(abi::SwInfo info) const {
  const abi::SwRegionHeader* h = header();
  if (info.id != id_ || info.index >= h->capacity) return nullptr;
  return reinterpret_cast<const abi::StatusWord*>(map_.data() + h->start + size_t{info.index} * sizeof(abi::StatusWord));
}

SwSnapshot readSw(const abi::StatusWord* w) {
  auto* mw = const_cast<abi::StatusWord*>(w);
  SwSnapshot s;
  s.barrier = std::atomic_ref<uint32_t>(mw->barrier).load(std::memory_order_acquire);
  s.flags = std::atomic_ref<uint32_t>(mw->flags).load(std::memory_order_acquire);
  s.gtid = w->gtid;
  s.runtime = w->runtime;
  return s;
}

// ---- queues ------------------------------------------------------------------------------------

Queue::Queue(Fd fd, Mapping map, uint32_t elems) : fd_(std::move(fd)), map_(std::move(map)) {
  int err = view_.attach(map_.data(), map_.size(), elems);
  if (err) throw SysError("validate", "queue header", err);
}

// ---- transactions ------------------------------------------------------------------------------

TxnArea::TxnArea(Mapping map) : map_(std::move(map)) {}

abi::Txn* TxnArea::slot(int cpu) const {
  if (cpu < 0 || cpu >= ncpus()) return nullptr;
  return reinterpret_cast<abi::Txn*>(map_.data() + size_t(cpu) * abi::kCpuDataStride);
}

bool TxnArea::open(const TxnRequest& r) {
  abi::Txn* t = slot(r.cpu);
  if (!t) return false;
  std::atomic_ref<int32_t> state(t->state);
  // Never rewrite a slot that is open or being committed: only a committed (negative) one.
  if (!abi::txnCommitted(state.load(std::memory_order_acquire))) return false;
  t->agent_barrier = r.agentBarrier;
  t->task_barrier = r.taskBarrier;
  t->gtid = r.gtid;
  t->run_flags = r.runFlags;
  t->commit_flags = r.commitFlags;
  state.store(abi::kTxnReady, std::memory_order_release);
  return true;
}

bool TxnArea::abort(int cpu) {
  abi::Txn* t = slot(cpu);
  if (!t) return false;
  int32_t expected = abi::kTxnReady;
  return std::atomic_ref<int32_t>(t->state).compare_exchange_strong(expected, abi::kTxnAborted,
                                                                     std::memory_order_acq_rel);
}

int32_t TxnArea::state(int cpu) const {
  abi::Txn* t = slot(cpu);
  return t ? std::atomic_ref<int32_t>(t->state).load(std::memory_order_acquire) : abi::kTxnInvalidCpu;
}

// ---- Enclave -----------------------------------------------------------------------------------

Enclave::Enclave(std::shared_ptr<Sys> sys, std::string dir, uint64_t id)
    : sys_(std::move(sys)), dir_(std::move(dir)), id_(id) {}

std::unique_ptr<Enclave> Enclave::attach(std::shared_ptr<Sys> sys, const std::string& root, uint64_t id,
                                         uint32_t abiVersion) {
  std::unique_ptr<Enclave> e(new Enclave(sys, root + "/enclave_" + std::to_string(id), id));
  e->ctl_ = openOrThrow(sys, e->path("ctl"), O_RDWR);
  e->tasks_ = openOrThrow(sys, e->path("tasks"), O_RDWR);
  e->status_ = openOrThrow(sys, e->path("status"), O_RDONLY);
  e->cpulist_ = openOrThrow(sys, e->path("cpulist"), O_RDWR);
  {
    Fd f = openOrThrow(sys, e->path("abi_version"), O_RDONLY);
    std::string t = readText(*sys, f.get(), e->path("abi_version"));
    uint32_t v = 0;
    auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (r.ec != std::errc()) throw SysError("parse", e->path("abi_version"), EPROTO);
    if (abiVersion != 0 && v != abiVersion) throw SysError("enclave ABI " + std::to_string(v) + " is not " +
                                                           std::to_string(abiVersion) + " at", e->dir_, EPROTO);
    if (!abi::abiSupported(v)) throw SysError("unsupported enclave ABI " + std::to_string(v) + " at", e->dir_, EPROTO);
    e->abi_ = v;
  }
  {
    Fd f = openOrThrow(sys, e->path("cpu_data"), O_RDWR);
    e->txns_ = TxnArea(mapOrThrow(sys, f.get(), 0, PROT_READ | PROT_WRITE, e->path("cpu_data")));
  }
  return e;
}

std::vector<int> Enclave::cpus() {
  std::string t = readText(*sys_, cpulist_.get(), path("cpulist"));
  try {
    return parseCpuList(t);
  } catch (const std::invalid_argument&) {
    throw SysError("parse", path("cpulist"), EPROTO);
  }
}

void Enclave::setCpus(const std::vector<int>& cpus) {
  writeText(*sys_, cpulist_.get(), formatCpuList(cpus), path("cpulist"));
}

std::string Enclave::status() {
  return readText(*sys_, status_.get(), path("status"));
}

int64_t Enclave::tunable(const std::string& name) {
  Fd f = openOrThrow(sys_, path(name), O_RDONLY);
  std::string t = readText(*sys_, f.get(), path(name));
  int64_t v = 0;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  if (r.ec != std::errc()) throw SysError("parse", path(name), EPROTO);
  return v;
}

void Enclave::setTunable(const std::string& name, int64_t value) {
  Fd f = openOrThrow(sys_, path(name), O_WRONLY);
  writeText(*sys_, f.get(), std::to_string(value), path(name));
}

void Enclave::enterTask(int64_t tid) {
  std::string s = std::to_string(tid);
  ssize_t n = sys_->write(tasks_.get(), s.data(), s.size());
  if (n < 0 && n != -EALREADY) throw SysError("write", path("tasks") + " <- " + s, static_cast<int>(-n));
}

void Enclave::destroy() {
  static const char kCmd[] = "destroy";
  (void)sys_->write(ctl_.get(), kCmd, sizeof kCmd - 1);
}

void Enclave::discoverTasks() { writeText(*sys_, ctl_.get(), "discover tasks", path("ctl")); }

SwRegion& Enclave::createSwRegion(uint32_t rid, int numaNode) {
  std::string cmd = "create sw_region " + std::to_string(rid) + " " + std::to_string(numaNode);
  ssize_t n = sys_->write(ctl_.get(), cmd.data(), cmd.size());
  if (n < 0 && n != -EEXIST) throw SysError("write", path("ctl") + " <- '" + cmd + "'", static_cast<int>(-n));
  std::string p = path("sw_regions/sw_" + std::to_string(rid));
  Fd f = openOrThrow(sys_, p, O_RDONLY);
  sw_ = std::make_unique<SwRegion>(mapOrThrow(sys_, f.get(), 0, PROT_READ, p), rid);
  return *sw_;
}

abi::SwInfo Enclave::swGetInfo(abi::MsgSrcType type, uint64_t arg) {
  abi::IocSwGetInfo req{};
  req.request.type = type;
  req.request.arg = arg;
  check(sys_->ioctl(ctl_.get(), abi::kIocSwGetInfo, &req), "SW_GET_INFO", path("ctl"));
  return req.response;
}

int Enclave::swFree(abi::SwInfo info) { return sys_->ioctl(ctl_.get(), abi::kIocSwFree, &info); }

Queue& Enclave::createQueue(int elems, int numaNode) {
  abi::IocCreateQueue req{};
  req.elems = elems;
  req.node = numaNode;
  int fd = sys_->ioctl(ctl_.get(), abi::kIocCreateQueue, &req);
  check(fd, "CREATE_QUEUE", path("ctl"));
  Fd qfd(sys_, fd);
  if (req.mapsize != abi::queueMapSize(static_cast<uint32_t>(elems)))
    throw SysError("CREATE_QUEUE mapsize " + std::to_string(req.mapsize), path("ctl"), EPROTO);
  Mapping m = mapOrThrow(sys_, qfd.get(), req.mapsize, PROT_READ | PROT_WRITE, "queue");
  queues_.push_back(std::make_unique<Queue>(std::move(qfd), std::move(m), static_cast<uint32_t>(elems)));
  return *queues_.back();
}

int Enclave::assocQueue(const Queue& q, uint64_t gtid, uint32_t barrier) {
  abi::IocAssocQueue req{};
  req.fd = q.fd();
  req.src.type = abi::kSrcTask;
  req.src.arg = gtid;
  req.barrier = barrier;
  return sys_->ioctl(ctl_.get(), abi::kIocAssocQueue, &req);
}

void Enclave::setDefaultQueue(const Queue& q) {
  abi::IocSetDefaultQueue req{q.fd()};
  check(sys_->ioctl(ctl_.get(), abi::kIocSetDefaultQueue, &req), "SET_DEFAULT_QUEUE", path("ctl"));
}

void Enclave::configQueueWakeup(const Queue& q, const std::vector<int>& cpus) {
  if (cpus.size() > abi::kMaxWakeupInfo) throw SysError("CONFIG_QUEUE_WAKEUP (more than 2 CPUs)", path("ctl"), EINVAL);
  abi::AgentWakeup w[abi::kMaxWakeupInfo]{};
  for (size_t i = 0; i < cpus.size(); i++) w[i] = {cpus[i], 0};
  abi::IocConfigQueueWakeup req{};
  req.qfd = q.fd();
  req.w = w;
  req.ninfo = static_cast<int32_t>(cpus.size());
  check(sys_->ioctl(ctl_.get(), abi::kIocConfigQueueWakeup, &req), "CONFIG_QUEUE_WAKEUP", path("ctl"));
}

int Enclave::becomeAgent(int cpu, int qfd) {
  std::string cmd = "become agent " + std::to_string(cpu) + " " + std::to_string(qfd);
  ssize_t n = sys_->write(ctl_.get(), cmd.data(), cmd.size());
  return n < 0 ? static_cast<int>(n) : 0;
}

void Enclave::setOnline(bool online) {
  if (!online) {
    online_.reset();
    return;
  }
  if (!online_.valid()) online_ = openOrThrow(sys_, path("agent_online"), O_RDWR);
}

int Enclave::run(int64_t gtid, uint32_t agentBarrier, uint32_t taskBarrier, int cpu, int runFlags) {
  abi::IocRun req{gtid, agentBarrier, taskBarrier, cpu, runFlags};
  return sys_->ioctl(ctl_.get(), abi::kIocRun, &req);
}

int64_t Enclave::cpuTime(uint64_t gtid) {
  abi::IocGetCpuTime req{static_cast<int64_t>(gtid), 0};
  int rc = sys_->ioctl(ctl_.get(), abi::kIocGetCpuTime, &req);
  return rc < 0 ? rc : static_cast<int64_t>(req.runtime);
}

int Enclave::null() { return sys_->ioctl(ctl_.get(), abi::kIocNull, nullptr); }

int Enclave::commitOps(TaskTable& tasks, int32_t* o, size_t n, bool sync) {
  cpusScratch_.clear();
  for (size_t i = 0; i < n; i++) {
    int32_t* x = o + i * op::kStride;
    int32_t target = x[op::kTarget];
    uint64_t g;
    if (target > 0) {
      TaskEntry* te = tasks.get(uint32_t(target));
      if (!te) {
        x[op::kState] = op::kBadTarget;
        continue;
      }
      g = te->gtid;
    } else {
      g = uint64_t(int64_t(target));
    }
    TxnRequest r{x[op::kCpu], int64_t(g), uint32_t(x[op::kTaskBarrier]), uint32_t(x[op::kAgentBarrier]),
                 uint16_t(x[op::kRunFlags]), uint8_t(x[op::kCommitFlags])};
    if (!txns_.open(r)) {
      x[op::kState] = op::kNotOpened;
      continue;
    }
    x[op::kState] = abi::kTxnReady;
    cpusScratch_.push_back(x[op::kCpu]);
  }
  int rc = cpusScratch_.empty() ? 0 : commit(cpusScratch_, sync);
  for (size_t i = 0; i < n; i++) {
    int32_t* x = o + i * op::kStride;
    if (x[op::kState] == abi::kTxnReady) x[op::kState] = txns_.state(x[op::kCpu]);
  }
  if (rc < 0) throw SysError(sync ? "SYNC_GROUP_TXN" : "COMMIT_TXN", path("ctl"), -rc);
  return rc;
}

int Enclave::commit(const std::vector<int>& cpus, bool sync) {
  // glibc cpu_set_t layout: a bitmap of unsigned longs, CPU c at bit c % 64 of word c / 64.
  size_t words = static_cast<size_t>(txns_.ncpus() + 63) / 64;
  if (words == 0) words = 1;
  maskScratch_.assign(words, 0);
  for (int c : cpus) {
    if (c < 0 || static_cast<size_t>(c) >= words * 64) continue;
    maskScratch_[static_cast<size_t>(c) / 64] |= uint64_t{1} << (c % 64);
  }
  abi::IocCommitTxn req{maskScratch_.data(), static_cast<uint32_t>(words * sizeof(uint64_t)), 0};
  return sys_->ioctl(ctl_.get(), sync ? abi::kIocSyncGroupTxn : abi::kIocCommitTxn, &req);
}

}  // namespace ghost
