// Shared helpers of the alps_bpf addon: RAII file descriptors, errno-carrying errors and the
// capture of libbpf's log (verifier output) so a failed load says *why* it failed.
#pragma once

#include <napi.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

namespace alpsbpf {

// Owns one file descriptor; closes it exactly once.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Accumulates libbpf's messages while an operation runs (single JS thread: no locking needed).
void logBegin();
std::string logTake();
void installLogger();

const char* errnoName(int e);

// A JS Error with .code (errno name), .errno and, when libbpf printed anything, .log.
Napi::Error makeError(Napi::Env env, const std::string& what, int err, const std::string& log = "");

[[noreturn]] inline void throwErr(Napi::Env env, const std::string& what, int err, const std::string& log = "") {
  throw makeError(env, what, err, log);
}

// Bytes of a Buffer/TypedArray argument, checked against an expected size (0 = any).
std::pair<const uint8_t*, size_t> bytesArg(const Napi::Value& v, const char* name, size_t expect);

struct AddonData {
  Napi::FunctionReference mapCtor;
  Napi::FunctionReference linkCtor;
};

}  // namespace alpsbpf
