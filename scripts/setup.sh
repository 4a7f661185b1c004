#!/usr/bin/env bash
# `npm run setup`: everything a fresh Debian/Ubuntu machine needs to build and test ghost-alps.
# Idempotent: each step checks before it acts, so a second run is quick and changes nothing.
#   1. system packages (apt; bookworm-backports for libbpf >= 1.4)
#   2. npm dependencies
#   3. native addon (node-gyp), BPF objects, TypeScript
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# --- 1. system packages -------------------------------------------------------------------
APT_PACKAGES=(build-essential python3 pkg-config clang-19 llvm-19 libelf-dev zlib1g-dev libzstd-dev
  bpftool qemu-system-x86 busybox-static cpio zstd xz-utils chromium tmux libgtest-dev
  prometheus)   # promtool (metrics tests; Debian packages it only inside prometheus)
BACKPORTS_PACKAGES=(libbpf-dev)   # libbpf >= 1.4: .struct_ops.link and sleepable struct_ops

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
libbpf_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 1:1.4
}

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do have_pkg "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ] || ! libbpf_ok; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    if [ "$codename" = bookworm ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      log "adding bookworm-backports (for libbpf >= 1.4)"
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $SUDO tee /etc/apt/sources.list.d/ghost-alps-backports.sources >/dev/null
    fi
    log "installing system packages: ${missing[*]:-} libbpf-dev(>=1.4)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if ! libbpf_ok; then
      if [ "$codename" = bookworm ]; then
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports "${BACKPORTS_PACKAGES[@]}" >/dev/null
      else
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${BACKPORTS_PACKAGES[@]}" >/dev/null
      fi
    fi
    libbpf_ok || { echo "setup: libbpf-dev >= 1.4 is required (have: $(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null))" >&2; exit 1; }
  else
    log "system packages present"
  fi
else
  echo "setup: not a Debian/Ubuntu machine; install by hand: ${APT_PACKAGES[*]} libbpf-dev(>=1.4)" >&2
fi

# VM kernel: Debian's sched_ext cloud kernel from trixie-backports, downloaded with a private apt
# state under the user cache (~/.cache/ghost-alps/vm, or $XDG_CACHE_HOME/ghost-alps/vm; the host's
# apt sources are not touched), unpacked, never installed; plus its BTF (vm/kernel/vmlinux.btf).
# Cached: a second run does no network I/O. Without it
# the VM tests skip with a reason, so a failure here is a warning, not the end of setup.
if command -v apt-get >/dev/null 2>&1; then
  # The Debian archive key verifies the download (always present on Debian; optional on Ubuntu).
  if ! have_pkg debian-archive-keyring; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq debian-archive-keyring >/dev/null || true
  fi
  if bash ghost-kernel/vm/fetch-kernel.sh; then :; else
    log "warning: could not fetch the VM kernel; VM tests will skip (retry: ghost-kernel/vm/fetch-kernel.sh)"
  fi
else
  echo "setup: VM kernel not fetched: ghost-kernel/vm/fetch-kernel.sh needs apt-get and dpkg-deb" >&2
fi

# libbpf's source, compiled into alps_bpf.node (see scripts/fetch-libbpf.sh for why). Without it
# the addon links the system's libbpf.so (>= 1.4, installed above), so this is not fatal either.
if ! bash scripts/fetch-libbpf.sh; then
  log "warning: could not fetch libbpf's source; alps_bpf.node will link the system libbpf.so"
fi

# --- 2. npm dependencies ------------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  # GHOST_ALPS_SETUP: the package's own install hook leaves the native build to step 3 below.
  GHOST_ALPS_SETUP=1 npm ci --no-audit --no-fund
else
  log "npm dependencies present"
fi

# --- 3. builds ----------------------------------------------------------------------------
NODEDIR_ARGS=()
if [ -f /usr/include/node/node_api.h ]; then NODEDIR_ARGS=(--nodedir=/usr); fi
log "building native addon"
npx node-gyp configure "${NODEDIR_ARGS[@]}" >/dev/null
npx node-gyp build -j 2 >/dev/null
if [ -f ghost-kernel/bpf/Makefile ]; then
  log "building BPF programs"
  make -s -C ghost-kernel/bpf
fi
log "building TypeScript"
npx tsc -p tsconfig.json
log "done"
