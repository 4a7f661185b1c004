#!/usr/bin/env bash
# Fetch libbpf's upstream source (Debian's orig tarball of the version the project is tested
# with) into .cache/libbpf/, so that binding.gyp compiles libbpf into alps_bpf.node as
# position-independent code. Why: Debian's libbpf.a is not built with -fPIC and cannot go into a
# shared object, and linking libbpf.so.1 would tie the prebuilt addon shipped in the npm package
# to hosts that have libbpf >= 1.4 installed (Debian 12 has 1.1 outside backports). Statically
# compiled, the addon needs only libelf and zlib, present on every Debian/Ubuntu.
#
#   scripts/fetch-libbpf.sh    idempotent; a second run does no network I/O
#
# apt downloads the tarball through a private state (the host's sources are not touched) and
# verifies it against the archive's signed Sources index; the SHA-256 below pins the exact bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.4.6
SUITE=bookworm-backports
SHA256=d4cf3ee697d9bd959ad3c0f5c6757370a2559e54448761271e15a23c31c1082e
MIRROR=${GHOST_ALPS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
dest=.cache/libbpf
src=$dest/libbpf-$VERSION
log() { printf 'fetch-libbpf: %s\n' "$*" >&2; }

if [ -s "$src/src/libbpf.c" ] && [ -d "$dest/include/bpf" ]; then exit 0; fi
command -v apt-get >/dev/null || { log "needs apt-get"; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || { log "needs $keyring (apt-get install debian-archive-keyring)"; exit 1; }

apt_root=$PWD/$dest/apt
mkdir -p "$apt_root/lists/partial" "$apt_root/archives/partial" "$apt_root/etc/sources.list.d"
: >"$apt_root/status"
printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$MIRROR" "$SUITE" >"$apt_root/etc/sources.list"
opts=(-o "Dir::State=$apt_root" -o "Dir::State::Lists=$apt_root/lists" -o "Dir::State::status=$apt_root/status"
  -o "Dir::Cache=$apt_root" -o "Dir::Cache::archives=$apt_root/archives"
  -o "Dir::Cache::pkgcache=$apt_root/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$apt_root/srcpkgcache.bin"
  -o "Dir::Etc::SourceList=$apt_root/etc/sources.list" -o "Dir::Etc::SourceParts=$apt_root/etc/sources.list.d"
  -o "Acquire::Languages=none" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
log "downloading libbpf $VERSION source ($SUITE)"
apt-get "${opts[@]}" update -qq
tarball=libbpf_$VERSION.orig.tar.gz
# Only the upstream tarball is needed (Debian's packaging is not); apt fetches and hash-checks it.
(cd "$dest" && apt-get "${opts[@]}" source --download-only "libbpf" >/dev/null 2>&1 || true)
[ -s "$dest/$tarball" ] || { log "the archive did not provide $tarball"; exit 1; }
echo "$SHA256  $dest/$tarball" | sha256sum -c --quiet - || { log "$tarball: SHA-256 mismatch"; exit 1; }
rm -rf "$src" "$dest/include"
tar xzf "$dest/$tarball" -C "$dest"
# The addon includes <bpf/libbpf.h>: give the vendored headers that layout.
mkdir -p "$dest/include/bpf"
cp "$src"/src/*.h "$dest/include/bpf/"
log "libbpf $VERSION source in $src"
