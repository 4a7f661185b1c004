// The real-kernel implementation of the Sys seam, plus the small helpers every client file uses.
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ghost/sys.h"

namespace ghost {

namespace {

class LinuxSys final : public Sys {
 public:
  int open(const std::string& path, int flags) override {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
  }
  ssize_t pread(int fd, void* buf, size_t n, off_t off) override {
    ssize_t r = ::pread(fd, buf, n, off);
    return r < 0 ? -errno : r;
  }
  ssize_t write(int fd, const void* buf, size_t n) override {
    ssize_t r = ::write(fd, buf, n);
    return r < 0 ? -errno : r;
  }
  int ioctl(int fd, unsigned long request, void* arg) override {
    int r = ::ioctl(fd, request, arg);
    return r < 0 ? -errno : r;
  }
  MapResult mmap(size_t length, int prot, int fd) override {
    void* p = ::mmap(nullptr, length, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return {nullptr, errno};
    return {p, 0};
  }
  int munmap(void* addr, size_t length) override { return ::munmap(addr, length) < 0 ? -errno : 0; }
  int close(int fd) override { return ::close(fd) < 0 ? -errno : 0; }
  int64_t fileSize(int fd) override {
    struct stat st {};
    if (::fstat(fd, &st) < 0) return -errno;
    return st.st_size;
  }
  bool hasCapSysNice() override {
    // capget(2) directly: no libcap dependency on ghOSt hosts.
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) return false;
    return (data[CAP_SYS_NICE / 32].effective & (1u << (CAP_SYS_NICE % 32))) != 0;
  }
};

std::string describe(const std::string& op, const std::string& target, int err) {
  return op + " " + target + ": " + std::strerror(err);
}

}  // namespace

std::shared_ptr<Sys> linuxSys() {
  static std::shared_ptr<Sys> instance = std::make_shared<LinuxSys>();
  return instance;
}

SysError::SysError(std::string op_, std::string target_, int err_)
    : std::runtime_error(describe(op_, target_, err_)), op(std::move(op_)), target(std::move(target_)), err(err_) {}

Fd openOrThrow(const std::shared_ptr<Sys>& sys, const std::string& path, int flags) {
  int fd = sys->open(path, flags);
  check(fd, "open", path);
  return Fd(sys, fd);
}

Mapping mapOrThrow(const std::shared_ptr<Sys>& sys, int fd, size_t len, int prot, const std::string& what) {
  if (len == 0) {
    int64_t sz = sys->fileSize(fd);
    check(sz, "fstat", what);
    len = static_cast<size_t>(sz);
  }
  if (len == 0) throw SysError("mmap", what, EINVAL);
  MapResult m = sys->mmap(len, prot, fd);
  if (!m.addr) throw SysError("mmap", what, m.err);
  return Mapping(sys, m.addr, len);
}

std::string readText(Sys& sys, int fd, const std::string& what) {
  char buf[4096];
  ssize_t n = sys.pread(fd, buf, sizeof buf, 0);
  check(n, "read", what);
  return std::string(buf, static_cast<size_t>(n));
}

void writeText(Sys& sys, int fd, const std::string& text, const std::string& what) {
  ssize_t n = sys.write(fd, text.data(), text.size());
  check(n, "write", what + " <- '" + text + "'");
}

}  // namespace ghost
