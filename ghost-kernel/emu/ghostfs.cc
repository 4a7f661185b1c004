// Emulated ghOSt kernel: ghostfs files and the Sys entry points (open/read/write/mmap/close).
#include "emu/kernel.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>

#include "emu/internal.h"
#include "ghost/cpulist.h"

namespace ghost::emu {

using namespace ghost::abi;
using namespace ghost::emu::detail;

// ---- ghostfs files (§2) ------------------------------------------------------------------------

void Kernel::enterGhost(EEnclave& e, EThread& th) {
  fairOff(th);  // leaves the default class (and its CPU there)
  auto existing = tasks_.find(th.gtid);
  if (existing != tasks_.end() && existing->second->gated) {
    // Re-entry before the agent freed the old status word: TASK_NEW is held until SW_FREE (§7.6).
    ETask* t = existing->second.get();
    t->newPending = true;
    t->runnable = th.runnable;
    t->runnableSince = now_;
    t->q = e.defaultQ.lock();
    th.task = t;
    th.taskRtBase = t->runtime;
    return;
  }
  auto t = std::make_unique<ETask>();
  t->tid = th.tid;
  t->gtid = th.gtid;
  t->enclave = e.id;
  t->enc = &e;
  t->runnable = th.runnable;
  t->runnableSince = now_;
  // It waits on the runqueue of the CPU it came from; the emulator's threads have none, so the
  // enclave's first CPU stands in (the same CPU TASK_WAKEUP reports for a task that never ran).
  t->rqCpu = e.cpus.empty() ? -1 : e.cpus.front();
  t->q = e.defaultQ.lock();
  t->swIndex = allocSw(e, th.gtid, 0);
  ETask* raw = t.get();
  tasks_[th.gtid] = std::move(t);
  th.task = raw;
  th.taskRtBase = 0;
  syncTaskSw(*raw);
  sendTaskNew(*raw);
}

int Kernel::topCtlCommand(const std::string& cmd) {
  auto w = words(cmd);
  if (w.size() < 3 || w[0] != "create") return -EINVAL;
  int64_t id = 0, abiV = 0;
  if (!parseInt(w[1], id) || id < 0 || !parseInt(w[2], abiV) || abiV < 0) return -EINVAL;
  if (std::find(opts_.versions.begin(), opts_.versions.end(), uint32_t(abiV)) == opts_.versions.end()) return -ESRCH;
  if (("enclave_" + w[1]).size() >= 31) return -ENOSPC;
  for (size_t i = 3; i < w.size(); i++) {
    int64_t gid = 0;
    if (w[i] == "ephemeral") continue;
    if (w[i].rfind("gid=", 0) == 0) {
      if (!parseInt(w[i].substr(4), gid)) return -EINVAL;
      continue;
    }
    return -ENOENT;
  }
  if (enclaves_.count(uint64_t(id))) return -EEXIST;
  auto e = std::make_unique<EEnclave>();
  e->id = uint64_t(id);
  e->abi = uint32_t(abiV);
  e->cpuData = std::make_unique<Mem>(kCpuDataStride * size_t(opts_.ncpus));
  for (const char* t : kTunables) e->tunables[t] = 0;
  enclaves_[e->id] = std::move(e);
  return 0;
}

int Kernel::ctlCommand(int pid, int tid, EEnclave& e, const std::string& cmd) {
  auto w = words(cmd);
  if (w.size() == 1 && w[0] == "destroy") {
    destroyEnclave(e, "destroy");
    return 0;
  }
  if (w.size() == 4 && w[0] == "create" && w[1] == "sw_region") {
    int64_t rid = 0, node = 0;
    if (!parseInt(w[2], rid) || !parseInt(w[3], node)) return -EINVAL;
    if (node != 0) return -ENODEV;
    if (rid != 0) return -ENOSPC;  // one region per enclave is all the client uses
    if (e.sw) return -EEXIST;
    e.sw = std::make_unique<Mem>(kSwRegionSize);
    auto* h = reinterpret_cast<SwRegionHeader*>(e.sw->data());
    h->version = kSwRegionVersion;
    h->id = 0;
    h->numa_node = 0;
    h->start = 64;
    h->capacity = kSwRegionCapacity;
    for (uint32_t i = kSwRegionCapacity; i-- > 0;) e.swFree.push_back(i);
    h->available = kSwRegionCapacity;
    return 0;
  }
  if (w.size() == 4 && w[0] == "become" && w[1] == "agent") {
    int64_t c = 0, qfd = 0;
    if (!parseInt(w[2], c) || !parseInt(w[3], qfd)) return -EINVAL;
    if (!opts_.capSysNice) return -EPERM;
    if (c < 0 || c >= opts_.ncpus) return -EINVAL;
    ECpu& C = cpus_[size_t(c)];
    if (C.enclave != e.id) return -ENODEV;
    std::shared_ptr<EQueue> q;
    if (qfd < -1) return -EBADF;
    if (qfd >= 0) {
      EFile* f = file(pid, int(qfd));
      if (!f || f->kind != EFile::kQueue) return -EBADF;
      q = f->q;
    } else {
      q = e.defaultQ.lock();
      if (!q) return -ENXIO;
    }
    if (C.agentTid) return -EBUSY;
    EThread& th = threads_.at(tid);
    if (th.task) return -EINVAL;  // already an agent (or a ghost task)
    if (!e.sw) return -ENOMEM;
    auto a = std::make_unique<ETask>();
    a->tid = tid;
    a->gtid = th.gtid;
    a->enclave = e.id;
    a->enc = &e;
    a->isAgent = true;
    a->cpu = int(c);
    a->swIndex = allocSw(e, th.gtid, kSwTaskIsAgent);
    if (a->swIndex == UINT32_MAX) return -ENOMEM;
    th.task = a.get();
    tasks_[th.gtid] = std::move(a);
    C.agentTid = tid;
    C.agentQ = q;
    C.blockedInRun = false;
    C.agentAsleep = false;
    C.agentBarrier = 0;
    // Becoming the agent kills stale transactions left on this CPU.
    Txn* t = txn(e, int(c));
    int32_t ready = kTxnReady;
    aref(t->state).compare_exchange_strong(ready, kTxnNoAgent);
    syncAgentSw(int(c));
    return 0;
  }
  if (w.size() == 2 && w[0] == "discover" && w[1] == "tasks") {
    for (auto& [g, t] : tasks_)
      if (t->enclave == e.id && !t->isAgent && !t->gated) sendTaskNew(*t);
    return 0;
  }
  if (w.size() == 3 && w[0] == "disable" && w[1] == "my" && w[2] == "bpf_prog_load") return 0;
  return -EINVAL;
}

std::string Kernel::readEnclaveFile(EEnclave& e, const std::string& name) {
  if (name == "ctl") return std::to_string(e.id);
  if (name == "abi_version") return std::to_string(e.abi) + "\n";
  if (name == "status") {
    size_t n = 0;
    for (auto& [g, t] : tasks_) n += t->enclave == e.id && !t->isAgent && !t->gated;
    return "version " + std::to_string(e.abi) + "\nactive " + (e.onlineHolderPid ? "yes" : "no") + "\nnr_tasks " +
           std::to_string(n) + "\n";
  }
  if (name == "cpulist") return formatCpuList(e.cpus) + "\n";
  if (name == "cpumask") {
    std::vector<uint32_t> wordsv(size_t(opts_.ncpus + 31) / 32, 0);
    for (int c : e.cpus) wordsv[size_t(c) / 32] |= 1u << (c % 32);
    std::string s;
    char buf[16];
    for (size_t i = wordsv.size(); i-- > 0;) {
      std::snprintf(buf, sizeof buf, i + 1 == wordsv.size() ? "%x" : "%08x", wordsv[i]);
      s += buf;
      if (i) s += ",";
    }
    return s + "\n";
  }
  if (name == "tasks") {
    std::string s;
    for (auto& [g, t] : tasks_)
      if (t->enclave == e.id && !t->isAgent && !t->gated) s += std::to_string(t->tid) + "\n";
    return s;
  }
  if (name == "agent_online") return e.onlineHolderPid ? "1" : "0";
  if (isTunable(name)) return std::to_string(e.tunables[name]) + "\n";
  return "";
}

int Kernel::writeEnclaveFile(int pid, int tid, EEnclave& e, const std::string& name, const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '\n') t.pop_back();
  if (name == "ctl") return ctlCommand(pid, tid, e, t);
  if (name == "cpulist" || name == "cpumask") {
    std::vector<int> want;
    if (name == "cpulist") {
      try {
        want = parseCpuList(t);
      } catch (const std::invalid_argument&) {
        return -EINVAL;
      }
    } else {
      std::string hex;
      for (char ch : t)
        if (ch != ',') hex += ch;
      int bit = 0;
      for (size_t i = hex.size(); i-- > 0; bit += 4) {
        int v = std::isxdigit(static_cast<unsigned char>(hex[i])) ? std::stoi(std::string(1, hex[i]), nullptr, 16) : -1;
        if (v < 0) return -EINVAL;
        for (int b = 0; b < 4; b++)
          if (v & (1 << b)) want.push_back(bit + b);
      }
      std::sort(want.begin(), want.end());
    }
    for (int c : want) {
      if (c >= opts_.ncpus) return -EINVAL;
      if (cpus_[size_t(c)].enclave && cpus_[size_t(c)].enclave != e.id) return -EBUSY;
    }
    for (int c : e.cpus)
      if (std::find(want.begin(), want.end(), c) == want.end() && cpus_[size_t(c)].agentTid) return -EEXIST;
    for (int c : e.cpus)
      if (std::find(want.begin(), want.end(), c) == want.end()) {
        cpus_[size_t(c)].enclave = 0;
        cpus_[size_t(c)].enc = nullptr;
        std::memset(static_cast<void*>(txn(e, c)), 0, sizeof(Txn));
      }
    for (int c : want) {
      if (cpus_[size_t(c)].enclave == e.id) continue;
      cpus_[size_t(c)].enclave = e.id;
      cpus_[size_t(c)].enc = &e;
      Txn* x = txn(e, c);
      x->version = kTxnVersion;
      x->cpu = c;
      x->sync_group_owner = -1;
      aref(x->state).store(kTxnComplete, std::memory_order_release);
    }
    e.cpus = want;
    return 0;
  }
  if (name == "tasks") {
    int64_t v = 0;
    if (!parseInt(t, v) || v < 0) return -EINVAL;
    int target = v == 0 ? tid : int(v);
    auto it = threads_.find(target);
    if (it == threads_.end()) return -ESRCH;
    EThread& th = it->second;
    if (target != tid && !opts_.capSysNice) return -EPERM;
    if (th.task && th.task->enclave == e.id) return -EALREADY;
    if (th.task) return -EINVAL;
    if (!e.sw || e.swFree.empty()) return -ENOMEM;
    enterGhost(e, th);
    return 0;
  }
  if (name == "agent_online") return -EINVAL;
  if (isTunable(name)) {
    int64_t v = 0;
    if (!parseInt(t, v)) return -EINVAL;
    e.tunables[name] = v;
    return 0;
  }
  return -EACCES;
}

// ---- the Sys entry points ----------------------------------------------------------------------

int Kernel::sysOpen(int pid, int tid, const std::string& path, int flags) {
  const std::string& root = opts_.root;
  if (path.rfind(root + "/", 0) != 0) return -ENOENT;
  std::string rest = path.substr(root.size() + 1);
  const int acc = flags & O_ACCMODE;
  EFile f{};
  if (rest == "version") {
    if (acc != O_RDONLY) return -EACCES;
    f = {EFile::kVersion, 0, rest, flags, nullptr};
  } else if (rest == "ctl") {
    f = {EFile::kTopCtl, 0, rest, flags, nullptr};
  } else if (rest.rfind("enclave_", 0) == 0) {
    size_t slash = rest.find('/');
    if (slash == std::string::npos) return -EISDIR;
    int64_t id = 0;
    if (!parseInt(rest.substr(8, slash - 8), id)) return -ENOENT;
    EEnclave* e = liveEnclave(uint64_t(id));
    if (!e) return -ENOENT;
    std::string name = rest.substr(slash + 1);
    static const char* const kFiles[] = {"ctl", "abi_version", "status", "cpumask", "cpulist", "cpu_data",
                                         "agent_online", "tasks"};
    bool known = isTunable(name) ||
                 std::any_of(std::begin(kFiles), std::end(kFiles), [&](const char* n) { return name == n; }) ||
                 (name == "sw_regions/sw_0" && e->sw);
    if (!known) return -ENOENT;
    if ((name == "abi_version" || name == "status" || name == "sw_regions/sw_0") && acc != O_RDONLY) return -EACCES;
    // An agent opening enclave files could deadlock in kernfs (§2.3 live_dangerously).
    if (agentCpuOf(tid) >= 0 && !e->tunables["live_dangerously"]) return -EDEADLK;
    if (name == "agent_online" && acc != O_RDONLY) {
      if (e->onlineHolderPid) return -EBUSY;
      e->onlineHolderPid = pid;
    }
    f = {EFile::kEnclaveFile, e->id, name, flags, nullptr};
  } else {
    return -ENOENT;
  }
  auto& table = fds_[pid];
  int fd = table.empty() ? 3 : table.rbegin()->first + 1;
  table.emplace(fd, f);
  return fd;
}

ssize_t Kernel::sysRead(int pid, int fd, void* buf, size_t n, off_t off) {
  EFile* f = file(pid, fd);
  if (!f) return -EBADF;
  if ((f->flags & O_ACCMODE) == O_WRONLY) return -EBADF;
  std::string content;
  switch (f->kind) {
    case EFile::kVersion:
      for (uint32_t v : opts_.versions) content += std::to_string(v) + "\n";
      break;
    case EFile::kTopCtl: return -EINVAL;
    case EFile::kQueue: return -EINVAL;
    case EFile::kEnclaveFile: {
      EEnclave* e = liveEnclave(f->enclave);
      if (!e) return -ENODEV;
      if (f->name == "cpu_data" || f->name.rfind("sw_regions/", 0) == 0) return -EINVAL;
      content = readEnclaveFile(*e, f->name);
      break;
    }
  }
  if (off < 0) return -EINVAL;
  if (size_t(off) >= content.size()) return 0;
  size_t m = std::min(n, content.size() - size_t(off));
  std::memcpy(buf, content.data() + off, m);
  return ssize_t(m);
}

ssize_t Kernel::sysWrite(int pid, int tid, int fd, const void* buf, size_t n) {
  EFile* f = file(pid, fd);
  if (!f) return -EBADF;
  if ((f->flags & O_ACCMODE) == O_RDONLY) return -EBADF;
  std::string text(static_cast<const char*>(buf), n);
  int r = 0;
  if (f->kind == EFile::kTopCtl) {
    std::string t = text;
    if (!t.empty() && t.back() == '\n') t.pop_back();
    r = topCtlCommand(t);
  } else if (f->kind == EFile::kEnclaveFile) {
    EEnclave* e = liveEnclave(f->enclave);
    if (!e) return -ENODEV;
    r = writeEnclaveFile(pid, tid, *e, f->name, text);
  } else {
    r = -EINVAL;
  }
  return r < 0 ? r : ssize_t(n);
}

MapResult Kernel::sysMmap(int pid, size_t len, int prot, int fd) {
  EFile* f = file(pid, fd);
  if (!f) return {nullptr, EBADF};
  if (prot & PROT_EXEC) return {nullptr, EPERM};
  Mem* mem = nullptr;
  if (f->kind == EFile::kQueue) {
    mem = f->q->mem.get();
  } else if (f->kind == EFile::kEnclaveFile) {
    EEnclave* e = liveEnclave(f->enclave);
    if (!e) return {nullptr, ENODEV};
    if (f->name == "cpu_data") {
      mem = e->cpuData.get();
    } else if (f->name == "sw_regions/sw_0") {
      if (prot & PROT_WRITE) return {nullptr, EACCES};  // status words are read-only to agents
      mem = e->sw.get();
    }
  }
  if (!mem) return {nullptr, ENODEV};
  if (len != mem->size()) return {nullptr, EINVAL};  // the whole object, exactly (§3.3)
  return {mem->data(), 0};
}

int Kernel::sysClose(int pid, int fd) {
  EFile* f = file(pid, fd);
  if (!f) return -EBADF;
  if (f->kind == EFile::kEnclaveFile && f->name == "agent_online" && (f->flags & O_ACCMODE) != O_RDONLY) {
    auto it = enclaves_.find(f->enclave);
    if (it != enclaves_.end() && it->second->onlineHolderPid == pid) it->second->onlineHolderPid = 0;
  }
  if (f->kind == EFile::kQueue) {
    // Closing the last fd of the default queue clears it as the default (§3.3).
    std::shared_ptr<EQueue> q = f->q;
    bool other = false;
    for (auto& [p, table] : fds_)
      for (auto& [n, g] : table)
        if (g.q == q && !(p == pid && n == fd)) other = true;
    auto it = enclaves_.find(q->enclave);
    if (!other && it != enclaves_.end() && it->second->defaultQ.lock() == q) it->second->defaultQ.reset();
  }
  fds_[pid].erase(fd);
  return 0;
}

int64_t Kernel::sysFileSize(int pid, int fd) {
  EFile* f = file(pid, fd);
  if (!f) return -EBADF;
  if (f->kind == EFile::kQueue) return int64_t(f->q->mem->size());
  if (f->kind != EFile::kEnclaveFile) return 4096;
  EEnclave* e = liveEnclave(f->enclave);
  if (!e) return -ENODEV;
  if (f->name == "cpu_data") return int64_t(e->cpuData->size());
  if (f->name == "sw_regions/sw_0") return int64_t(kSwRegionSize);
  return 4096;
}

}  // namespace ghost::emu
