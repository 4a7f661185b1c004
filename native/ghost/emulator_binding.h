// The JS `Emulator` class (the emulated ghOSt kernel's driver API) and how a Client finds the
// emulated machine it should talk to. The Client binding sees only this interface, never
// ghost-kernel/emu itself.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>

#include "ghost/sys.h"

namespace alps_ghost {

/** What a Client needs from an emulated machine. */
class EmulatedMachine {
 public:
  virtual ~EmulatedMachine() = default;
  /** A Sys bound to emulated thread `tid` of process `pid` (created if needed). */
  virtual std::shared_ptr<ghost::Sys> sysFor(int pid, int tid) = 0;
  /** The emulated ghostfs mount point. */
  virtual std::string root() const = 0;
  /** The machine's virtual clock (ns). */
  virtual int64_t now() = 0;
};

/** Defines `Emulator` for this env (call once per env from the module's Init). */
Napi::Function initEmulator(Napi::Env env);

/** The machine named by `v`: an Emulator object, or the number its `id()` returned (which works
 *  from another thread's isolate, e.g. an agent in a worker thread). Throws a TypeError for
 *  anything else, or when that emulator is gone. */
std::shared_ptr<EmulatedMachine> emulatedMachine(Napi::Env env, Napi::Value v);

}  // namespace alps_ghost
