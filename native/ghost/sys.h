// The one seam between the ghOSt client and "the kernel". Every file, ioctl and mapping the client
// touches goes through a `Sys`: `LinuxSys` forwards to the real system calls, the emulated ghOSt
// kernel (ghost-kernel/emu) implements the same calls over the same shared-memory layouts. The
// client code above this seam is therefore identical in tests and on a ghOSt host.
//
// Conventions: calls never throw and never touch errno; they return a value >= 0 on success and
// -errno on failure (mmap returns MapResult). `Fd` and `Mapping` give RAII ownership.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace ghost {

struct MapResult {
  void* addr;  // nullptr on failure
  int err;     // errno on failure, 0 on success
};

class Sys {
 public:
  virtual ~Sys() = default;
  virtual int open(const std::string& path, int flags) = 0;
  virtual ssize_t pread(int fd, void* buf, size_t n, off_t off) = 0;
  virtual ssize_t write(int fd, const void* buf, size_t n) = 0;
  virtual int ioctl(int fd, unsigned long request, void* arg) = 0;
  /** MAP_SHARED, offset 0 (the only mappings ghOSt allows). */
  virtual MapResult mmap(size_t length, int prot, int fd) = 0;
  virtual int munmap(void* addr, size_t length) = 0;
  virtual int close(int fd) = 0;
  /** st_size of an open file, or -errno. */
  virtual int64_t fileSize(int fd) = 0;
  /** Whether this process may move foreign tasks / become an agent (CAP_SYS_NICE). */
  virtual bool hasCapSysNice() = 0;
};

/** The real kernel. */
std::shared_ptr<Sys> linuxSys();

/** A failed kernel call: carries the operation, what it was applied to, and errno. */
class SysError : public std::runtime_error {
 public:
  SysError(std::string op, std::string target, int err);
  const std::string op;
  const std::string target;
  const int err;
};

/** Throws SysError if `rc` is negative; returns it otherwise. */
inline int64_t check(int64_t rc, const char* op, const std::string& target) {
  if (rc < 0) throw SysError(op, target, static_cast<int>(-rc));
  return rc;
}

/** Owns one file descriptor of a Sys. Move-only; closes on destruction. */
class Fd {
 public:
  Fd() = default;
  Fd(std::shared_ptr<Sys> sys, int fd) : sys_(std::move(sys)), fd_(fd) {}
  Fd(Fd&& o) noexcept : sys_(std::move(o.sys_)), fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      sys_ = std::move(o.sys_);
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd_ >= 0 && sys_) sys_->close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  std::shared_ptr<Sys> sys_;
  int fd_ = -1;
};

/** Owns one shared mapping of a Sys. Move-only; unmaps on destruction. */
class Mapping {
 public:
  Mapping() = default;
  Mapping(std::shared_ptr<Sys> sys, void* addr, size_t len) : sys_(std::move(sys)), addr_(addr), len_(len) {}
  Mapping(Mapping&& o) noexcept
      : sys_(std::move(o.sys_)), addr_(std::exchange(o.addr_, nullptr)), len_(std::exchange(o.len_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      sys_ = std::move(o.sys_);
      addr_ = std::exchange(o.addr_, nullptr);
      len_ = std::exchange(o.len_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }
  void reset() {
    if (addr_ && sys_) sys_->munmap(addr_, len_);
    addr_ = nullptr;
    len_ = 0;
  }
  uint8_t* data() const { return static_cast<uint8_t*>(addr_); }
  size_t size() const { return len_; }

 private:
  std::shared_ptr<Sys> sys_;
  void* addr_ = nullptr;
  size_t len_ = 0;
};

/** Open `path` or throw SysError. */
Fd openOrThrow(const std::shared_ptr<Sys>& sys, const std::string& path, int flags);
/** Map all of `fd` (size from fileSize, or `len` when nonzero) or throw SysError. */
Mapping mapOrThrow(const std::shared_ptr<Sys>& sys, int fd, size_t len, int prot, const std::string& what);
/** Read a whole small text file (ghostfs files are < 1 page). */
std::string readText(Sys& sys, int fd, const std::string& what);
/** One write() of `text`; throws SysError on failure. */
void writeText(Sys& sys, int fd, const std::string& text, const std::string& what);

}  // namespace ghost
