#!/usr/bin/env bash
# Extract the uncompressed vmlinux ELF from an x86 bzImage.
#
#   ghost-kernel/vm/extract-vmlinux.sh <bzImage> <out-vmlinux>
#
# Unlike scanning the image for compressor magic bytes, this reads the boot protocol header
# (>= 2.08): setup_sects at 0x1f1, payload_offset at 0x248 and payload_length at 0x24c locate
# the compressed kernel exactly, so a stray magic sequence in the setup code cannot fool it.
# The payload format is then recognised by its magic and handed to the matching decompressor.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 <bzImage> <out-vmlinux>" >&2; exit 2; }
img=$1
out=$2
die() { printf 'extract-vmlinux: %s: %s\n' "$img" "$*" >&2; exit 1; }
[ -r "$img" ] || die "cannot read"

u8() { od -An -tu1 -j "$1" -N1 "$img" | tr -d ' \n'; }
u32() { od -An -tu4 -j "$1" -N4 --endian=little "$img" | tr -d ' \n'; }

[ "$(od -An -c -j 0x202 -N4 "$img" | tr -d ' \n')" = HdrS ] || die "not a bzImage (no HdrS signature)"
proto=$(od -An -tu2 -j 0x206 -N2 --endian=little "$img" | tr -d ' \n')
[ "$proto" -ge $((0x208)) ] || die "boot protocol $(printf '%#x' "$proto") has no payload fields (need >= 2.08)"
setup_sects=$(u8 $((0x1f1)))
[ "$setup_sects" -ne 0 ] || setup_sects=4
payload_offset=$(u32 $((0x248)))
payload_length=$(u32 $((0x24c)))
start=$(((setup_sects + 1) * 512 + payload_offset))

payload() { tail -c +"$((start + 1))" "$img" | head -c "$payload_length"; }
magic=$(od -An -tx1 -j "$start" -N6 "$img" | tr -d ' \n')
case "$magic" in
  1f8b*) cmd=(gzip -dc) ;;
  fd377a585a00) cmd=(xz -dc --single-stream) ;;
  28b52ffd*) cmd=(zstd -dcq) ;;
  5d0000*) cmd=(xz -dc --format=lzma --single-stream) ;;
  02214c18*) cmd=(lz4 -dc) ;;
  425a68*) cmd=(bzip2 -dc) ;;
  7f454c46*) cmd=(cat) ;;
  *) die "unknown payload compression (magic $magic)" ;;
esac
command -v "${cmd[0]}" >/dev/null || die "payload needs ${cmd[0]} to decompress"
# The kernel build appends the uncompressed size (4 bytes) after some formats; decompressors
# that see it as trailing garbage exit non-zero after writing the full output, so the exit
# status is not trusted: the ELF magic of the result is.
{ payload | "${cmd[@]}" >"$out" 2>/dev/null; } || true
[ "$(head -c4 "$out" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] || { rm -f "$out"; die "decompressed payload is not an ELF"; }
