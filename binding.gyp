{
  # Two addon modules from one build:
  #   alps_ghost: the ghOSt ABI client (native/ghost) and the emulated ghOSt kernel
  #               (ghost-kernel/emu). No libbpf: it must build on a ghOSt host as it is.
  #   alps_bpf:   the libbpf wrapper (native/bpf), with libbpf 1.4 compiled in (see below).
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
      "variables": { "vendored_libbpf": "<!(node scripts/libbpf-gyp.mjs dir)" },
      "conditions": [
        # libbpf compiled in (scripts/fetch-libbpf.sh fetched its source): the addon needs only
        # libelf and zlib at run time, so the prebuilt binary in the npm package loads on hosts
        # without libbpf >= 1.4. Debian's libbpf.a cannot serve: it is not built with -fPIC.
        ["vendored_libbpf!=''", {
          "dependencies": ["libbpf_vendored"],
          "include_dirs": [".cache/libbpf/include"],
          "libraries": ["-lelf", "-lz"]
        }, {
          # No vendored source (an installed package building from source): the system's libbpf.so, >= 1.4.
          "libraries": ["-lbpf", "-lelf", "-lz"]
        }]
      ]
    }
  ],
  "conditions": [
    ["'<!(node scripts/libbpf-gyp.mjs dir)'!=''", {
      "targets": [{
        "target_name": "libbpf_vendored",
        "type": "static_library",
        "sources": ["<!@(node scripts/libbpf-gyp.mjs sources)"],
        "include_dirs": ["<!(node scripts/libbpf-gyp.mjs dir)/src", "<!(node scripts/libbpf-gyp.mjs dir)/include", "<!(node scripts/libbpf-gyp.mjs dir)/include/uapi"],
        "defines": ["_LARGEFILE64_SOURCE", "_FILE_OFFSET_BITS=64"],
        "cflags": ["-fPIC", "-std=gnu89", "-O2", "-w"]
      }]
    }]
  ]
}
