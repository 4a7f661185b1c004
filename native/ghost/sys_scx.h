// The Sys seam over the ghOSt-on-sched_ext backend (ghost-kernel/bpf/ghost.bpf.c): ghostfs paths
// and ghOSt ioctls map onto BPF maps and two SEC("syscall") programs, so enclave.cc, queue.cc, the
// decoder and src/agent/ghost run unchanged above it on a stock sched_ext kernel.
//
// It links no libbpf (alps_ghost must build on ghOSt hosts as it is): loading the object and
// holding the struct_ops link is the job of the static helper ghost-kernel/bpf/build/
// ghost-scx-loader, spawned on `create`, which pins the maps and programs; this side opens the
// pins with BPF_OBJ_GET, mmaps the maps and runs the programs with BPF_PROG_RUN (raw bpf(2)).
#pragma once

#include <memory>
#include <string>

#include "ghost/sys.h"

namespace ghost {

struct ScxOptions {
  /** ghost-kernel/bpf/build/ghost-scx-loader */
  std::string loader;
  /** ghost-kernel/bpf/build/ghost.bpf.o */
  std::string object;
  /** The ghostfs root this Sys answers for (paths outside it fail with ENOENT). */
  std::string root = "/sys/fs/ghost";
  /** bpffs directory for the pins (default /sys/fs/bpf/ghost-scx-<pid>). */
  std::string pinDir;
};

/** A ghostfs/ioctl emulation over the sched_ext backend. One enclave (id 1) per instance. */
std::shared_ptr<Sys> scxSys(const ScxOptions& opts);

}  // namespace ghost
