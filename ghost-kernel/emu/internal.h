// Private helpers shared by the emulated kernel's translation units (not part of its interface).
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "ghost/abi.h"

namespace ghost::emu::detail {


inline constexpr int kGtidSeqBits = 41;  // pid_max_max 4194304 -> 22 tid bits, 41 seqnum bits (§1)

template <typename T>
inline std::atomic_ref<T> aref(T& v) {
  return std::atomic_ref<T>(v);
}

inline bool parseInt(const std::string& s, int64_t& out) {
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(t.c_str(), &end, 0);
  if (errno != 0 || end == t.c_str() || *end != '\0') return false;
  out = v;
  return true;
}

inline std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') i++;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') j++;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

inline const char* const kTunables[] = {"runnable_timeout",   "commit_at_tick",           "deliver_ticks",
                                 "deliver_cpu_availability", "deliver_agent_runnability", "wake_on_waker_cpu",
                                 "switchto_disabled",  "live_dangerously"};
inline bool isTunable(const std::string& n) {
  return std::any_of(std::begin(kTunables), std::end(kTunables), [&](const char* t) { return n == t; });
}

inline std::invalid_argument bad(const std::string& what, int tid) {
  return std::invalid_argument("emulator: " + what + " (tid " + std::to_string(tid) + ")");
}

// The fields every "task left its CPU" message starts with (TASK_PREEMPT, TASK_BLOCKED,
// TASK_YIELD): the task, its runtime, the CPU's new sequence number and the CPU (docs/ghost-abi.md §5.5).
template <class Payload>
inline Payload offCpuPayload(const ETask& t, decltype(Payload{}.cpu_seqnum) cpuSeqnum, int cpu) {
  Payload p{};
  p.gtid = t.gtid;
  p.runtime = t.runtime;
  p.cpu_seqnum = cpuSeqnum;
  p.cpu = cpu;
  return p;
}

}  // namespace ghost::emu::detail

namespace ghost::emu {

template <class Payload>
void Kernel::leaveCpu(ETask& t, int c, uint16_t type, uint16_t rtlaFlag) {
  ECpu& C = cpus_[size_t(c)];
  C.cpuSeqnum++;
  auto p = detail::offCpuPayload<Payload>(t, C.cpuSeqnum, c);
  taskMsg(t, type, &p, sizeof p);
  clearOnCpu(t);
  if (t.runFlags & rtlaFlag) scheduleAgent(c);
}

}  // namespace ghost::emu
