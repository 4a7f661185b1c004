{
  # Two addon modules from one build:
  #   alps_ghost: the ghOSt ABI client (native/ghost) and the emulated ghOSt kernel
  #               (ghost-kernel/emu). No libbpf: it must build on a ghOSt host as it is.
  #   alps_bpf:   the libbpf wrapper (native/bpf), libbpf >= 1.4 linked statically.
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-Werror", "-Wno-missing-field-initializers", "-fexceptions"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
    "defines": ["NAPI_VERSION=9", "NAPI_CPP_EXCEPTIONS"]
  },
  "targets": [
    {
      "target_name": "alps_ghost",
      "sources": ["<!@(node scripts/gyp-sources.mjs native/ghost ghost-kernel/emu)"],
      "include_dirs": ["ghost-kernel"],
      # node's common.gypi appends -std=gnu++17, which would override C++20 (std::atomic_ref).
      "cflags_cc!": ["-std=gnu++17"]
    },
    {
      "target_name": "alps_bpf",
      "sources": ["<!@(node scripts/gyp-sources.mjs native/bpf)"],
      # Debian's libbpf.a is not built with -fPIC, so it cannot go into a shared object (the
      # .node addon): link libbpf.so.1 (same 1.4.6 package). The static in-guest loader built by
      # ghost-kernel/bpf/Makefile does link libbpf.a.
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
