#!/usr/bin/env bash
# Fetch Debian's sched_ext-enabled cloud kernel for the test VM, unpack it (never install it)
# and extract its BTF. Idempotent: a second run with the kernel cached does no network I/O
# unless --refresh is given.
#
#   ghost-kernel/vm/fetch-kernel.sh [--refresh] [--quiet]
#
# Result (in the VM cache directory: $GHOST_ALPS_VM_CACHE, else <user cache>/vm where the user
# cache is $GHOST_ALPS_CACHE_DIR, else $XDG_CACHE_HOME/ghost-alps, else ~/.cache/ghost-alps):
#   kernel/vmlinuz        the bzImage (x86 boot protocol), booted by `ghost-alps vm run`
#   kernel/config         its kernel config (from linux-base-<release>)
#   kernel/modules.builtin  which drivers are built in (the VM loads no modules)
#   kernel/vmlinux.btf    its raw BTF, byte-identical to the guest's /sys/kernel/btf/vmlinux;
#                         `bpftool btf dump file kernel/vmlinux.btf format c > vmlinux.h`
#   kernel/release        the kernel release string, e.g. 7.3.4+deb13-cloud-amd64
#   kernel/package        "<package> <version>" of the .deb the image came from
#
# Why a private apt state: the packages come from trixie-backports, but this host runs
# bookworm. Adding trixie to the system's sources would let `apt upgrade` pull trixie onto the
# host, so apt is pointed at lists, caches and a sources file that live in the cache directory
# only. apt still verifies the archive signature with the system's Debian keyring.
#
# Environment:
#   GHOST_ALPS_CACHE_DIR          ghost-alps' cache directory (default ~/.cache/ghost-alps)
#   GHOST_ALPS_VM_CACHE           the VM cache directory (default $GHOST_ALPS_CACHE_DIR/vm)
#   GHOST_ALPS_VM_KERNEL_VERSION  pin a kernel, e.g. 7.3.4+deb13 (default: newest cloud kernel)
#   GHOST_ALPS_VM_SUITE           archive suite (default trixie-backports)
#   GHOST_ALPS_VM_MIRROR          archive URL (default http://deb.debian.org/debian)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# Same rule as src/vm/paths.ts: never inside the package (node_modules may be replaced).
if [ -n "${GHOST_ALPS_CACHE_DIR:-}" ]; then user_cache=$GHOST_ALPS_CACHE_DIR
elif [[ "${XDG_CACHE_HOME:-}" == /* ]]; then user_cache=$XDG_CACHE_HOME/ghost-alps
else user_cache=$HOME/.cache/ghost-alps; fi
cache=${GHOST_ALPS_VM_CACHE:-$user_cache/vm}
suite=${GHOST_ALPS_VM_SUITE:-trixie-backports}
mirror=${GHOST_ALPS_VM_MIRROR:-http://deb.debian.org/debian}
pin=${GHOST_ALPS_VM_KERNEL_VERSION:-}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
refresh=0
quiet=0
for a in "$@"; do
  case "$a" in
    --refresh) refresh=1 ;;
    --quiet) quiet=1 ;;
    -h | --help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "fetch-kernel: unknown argument '$a' (expected --refresh, --quiet)" >&2; exit 2 ;;
  esac
done
log() { [ "$quiet" = 1 ] || printf 'fetch-kernel: %s\n' "$*" >&2; }
die() { printf 'fetch-kernel: %s\n' "$*" >&2; exit 1; }

kdir=$cache/kernel
complete() { [ -s "$kdir/vmlinuz" ] && [ -s "$kdir/vmlinux.btf" ] && [ -s "$kdir/release" ]; }
if complete && [ "$refresh" = 0 ] && { [ -z "$pin" ] || grep -q "^$pin-cloud-amd64\$" "$kdir/release"; }; then
  log "cached: $(cat "$kdir/release") in $kdir"
  exit 0
fi

for tool in apt-get apt-cache dpkg-deb; do
  command -v "$tool" >/dev/null || die "needs $tool (Debian/Ubuntu apt tools) to download the kernel"
done
[ -r "$keyring" ] || die "needs $keyring (apt-get install debian-archive-keyring) to verify the archive"
objcopy=$(command -v llvm-objcopy-19 || command -v llvm-objcopy || command -v objcopy || true)
[ -n "$objcopy" ] || die "needs llvm-objcopy or objcopy to extract the BTF section"

# --- private apt state ---------------------------------------------------------------------
apt_root=$cache/apt
mkdir -p "$apt_root/lists/partial" "$apt_root/archives/partial" "$apt_root/etc/sources.list.d" \
  "$apt_root/etc/preferences.d" "$apt_root/debs"
: >"$apt_root/status"
printf 'deb [arch=amd64 signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite" >"$apt_root/etc/sources.list"
apt_opts=(
  -o "Dir::State=$apt_root" -o "Dir::State::Lists=$apt_root/lists" -o "Dir::State::status=$apt_root/status"
  -o "Dir::Cache=$apt_root" -o "Dir::Cache::archives=$apt_root/archives"
  -o "Dir::Cache::pkgcache=$apt_root/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$apt_root/srcpkgcache.bin"
  -o "Dir::Etc::SourceList=$apt_root/etc/sources.list" -o "Dir::Etc::SourceParts=$apt_root/etc/sources.list.d"
  -o "Dir::Etc::Preferences=$apt_root/etc/preferences" -o "Dir::Etc::PreferencesParts=$apt_root/etc/preferences.d"
  -o "Acquire::Languages=none" -o "APT::Get::List-Cleanup=true"
)
# As root apt drops to the _apt user for downloads, which cannot write into our cache.
if [ "$(id -u)" = 0 ]; then apt_opts+=(-o "APT::Sandbox::User=root"); fi

log "updating private package lists for $suite"
apt-get "${apt_opts[@]}" -qq update >&2 || die "apt-get update of $suite from $mirror failed"

# The image lives in linux-binary-unsigned-<release> (source package `linux`); its config and
# System.map in linux-base-<release>. Pick the newest cloud release unless pinned.
names=$(apt-cache "${apt_opts[@]}" pkgnames linux-binary-unsigned- |
  grep -E '^linux-binary-unsigned-[0-9]+\.[0-9]+(\.[0-9]+)?\+[a-z0-9.~]+-cloud-amd64$' || true)
[ -n "$names" ] || die "no linux-binary-unsigned-*-cloud-amd64 package in $suite"
if [ -n "$pin" ]; then
  bin_pkg=linux-binary-unsigned-$pin-cloud-amd64
  grep -qxF "$bin_pkg" <<<"$names" || die "GHOST_ALPS_VM_KERNEL_VERSION=$pin: no $bin_pkg in $suite (have: $(sed 's/linux-binary-unsigned-//;s/-cloud-amd64//' <<<"$names" | sort -V | tr '\n' ' '))"
else
  bin_pkg=$(sed 's/^linux-binary-unsigned-//' <<<"$names" | sort -V | tail -n1)
  bin_pkg=linux-binary-unsigned-$bin_pkg
fi
release=${bin_pkg#linux-binary-unsigned-}
base_pkg=linux-base-$release
version=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$bin_pkg" | sed -n 's/^Version: //p' | head -n1)
log "newest: $bin_pkg $version"

if complete && [ "$(cat "$kdir/release")" = "$release" ] && [ "$(cat "$kdir/package" 2>/dev/null)" = "$bin_pkg $version" ]; then
  log "cached: $release is already the newest"
  exit 0
fi

debs=$apt_root/debs
rm -f "$debs"/*.deb
log "downloading $bin_pkg and $base_pkg"
(cd "$debs" && apt-get "${apt_opts[@]}" -qq download "$bin_pkg=$version" "$base_pkg=$version" >&2) ||
  die "apt-get download of $bin_pkg $version failed"

stage=$(mktemp -d "$cache/unpack.XXXXXX")
trap 'rm -rf "$stage"' EXIT
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$stage/root"; done
# Newer Debian packaging keeps the image and config under /usr/lib/modules/<release>/ (the
# signed package names the image `vmlinuz`, the unsigned one `vmlinuz.unsigned`); older
# packages used /boot/<name>-<release>.
first() { for f in "$@"; do if [ -s "$f" ]; then echo "$f"; return 0; fi; done; return 1; }
mods=$stage/root/usr/lib/modules/$release
vmlinuz=$(first "$mods/vmlinuz.unsigned" "$mods/vmlinuz" "$stage/root/boot/vmlinuz-$release") ||
  die "$bin_pkg contains no kernel image for $release"
config=$(first "$mods/config" "$stage/root/boot/config-$release") || die "$base_pkg contains no config for $release"
new=$stage/kernel
mkdir -p "$new"
cp "$vmlinuz" "$new/vmlinuz"
cp "$config" "$new/config"
if [ -f "$mods/modules.builtin" ]; then cp "$mods/modules.builtin" "$new/modules.builtin"; fi

# --- BTF: decompress the bzImage payload to the vmlinux ELF, keep only its .BTF section -----
log "extracting vmlinux and its BTF"
"$here/extract-vmlinux.sh" "$new/vmlinuz" "$stage/vmlinux"
"$objcopy" -O binary --only-section=.BTF "$stage/vmlinux" "$new/vmlinux.btf"
# A raw BTF blob starts with magic 0xeB9F (little endian: 9f eb).
[ "$(head -c2 "$new/vmlinux.btf" | od -An -tx1 | tr -d ' \n')" = 9feb ] || die "extracted .BTF has no BTF magic"
printf '%s\n' "$release" >"$new/release"
printf '%s %s\n' "$bin_pkg" "$version" >"$new/package"

rm -rf "$kdir.old"
if [ -d "$kdir" ]; then mv "$kdir" "$kdir.old"; fi
mv "$new" "$kdir"
rm -rf "$kdir.old" "$debs"/*.deb
log "ready: $release ($(du -h "$kdir/vmlinuz" | cut -f1) image, $(du -h "$kdir/vmlinux.btf" | cut -f1) BTF) in $kdir"
