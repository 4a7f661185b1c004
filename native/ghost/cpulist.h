// Kernel CPU-list text ("0-3,5\n"): shared by the client (enclave cpulist) and the emulated kernel,
// which must not depend on each other for it.
#pragma once

#include <string>
#include <vector>

namespace ghost {

/** Parse a kernel CPU list ("0-3,5\n"). Throws std::invalid_argument on bad text. */
std::vector<int> parseCpuList(const std::string& text);
/** Format CPUs as a kernel CPU list. */
std::string formatCpuList(const std::vector<int>& cpus);

}  // namespace ghost
