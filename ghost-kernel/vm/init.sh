#!/bin/busybox sh
# /init of the ghost-alps test VM (packed into the initramfs by src/vm/layers.ts).
#
# Channels (qemu writes each to its own file on the host, see src/vm/run.ts):
#   ttyS0         console: kernel log and this script's own diagnostics (legacy UART)
#   ghost.stdout  the command's stdout    ghost.stderr  its stderr      (virtio-serial ports:
#   ghost.ctl     "GHOSTVM READY <uptime s>" before the command,         ~100x the UART's
#                 "GHOSTVM EXIT <code>" after                            throughput)
#   ghost.files   tar archives of the paths the caller asked to collect, after the command
# The command is /ghost-vm/cmd (a shell script the host wrote into the per-run layer); its
# stdin is /dev/null and its stdout/stderr are pipes.
# Whatever happens, the script ends in `poweroff -f`; qemu runs with -no-reboot, so a kernel
# panic (panic=-1) also ends the VM, and the host treats a missing EXIT line as a failure.
export PATH=/bin:/usr/bin:/project/node_modules/.bin HOME=/root TERM=dumb GHOST_ALPS_IN_VM=1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
chmod 1777 /tmp  # rootfs is already a tmpfs: no mount, so files placed in /tmp by the host stay visible
mkdir -p /dev/shm /sys/kernel/debug /sys/kernel/tracing /sys/fs/bpf /sys/fs/cgroup
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
hostname ghost-vm
# Loopback only (the guest has no NIC): telemetry servers and their clients talk on 127.0.0.1.
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
ulimit -l unlimited

# virtio-serial ports appear as /dev/vportNpM; their names are in sysfs (no udev here).
for p in /sys/class/virtio-ports/vport*; do
  read -r name <"$p/name"
  case "$name" in
    ghost.stdout) port_out=/dev/${p##*/} ;;
    ghost.stderr) port_err=/dev/${p##*/} ;;
    ghost.ctl) port_ctl=/dev/${p##*/} ;;
    ghost.files) port_files=/dev/${p##*/} ;;
  esac
done
if [ -z "$port_out" ] || [ -z "$port_err" ] || [ -z "$port_ctl" ]; then
  echo "ghost-vm init: virtio-serial ports missing ($(ls /sys/class/virtio-ports 2>&1))"
  poweroff -f
fi
# A write to a virtio port returns once the host has taken the data, so nothing is left in
# flight when the VM powers off.
exec 4>"$port_out" 5>"$port_err" 6>"$port_ctl"

# The command writes into FIFOs, not the serial ttys, so it sees pipes (isatty false, no
# column output, same buffering as `cmd | cat` on the host) and may reopen /dev/stdout (a
# virtio port can be open only once at a time); two cats copy the FIFOs to the ports.
mkfifo /ghost-vm/stdout /ghost-vm/stderr
cat /ghost-vm/stdout >&4 5>&- 6>&- &
cat_out=$!
cat /ghost-vm/stderr >&5 4>&- 6>&- &
cat_err=$!

read -r up _ </proc/uptime
echo "GHOSTVM READY $up" >&6
cd /project
sh /ghost-vm/cmd </dev/null >/ghost-vm/stdout 2>/ghost-vm/stderr 4>&- 5>&- 6>&-
code=$?

# The cats end when the last writer closes the FIFOs. Processes the command left running may
# hold them open, so give the cats 1 s, then end everything (cats included).
(sleep 1; kill -KILL -1) 2>/dev/null &
wait $cat_out $cat_err
kill -KILL -1 2>/dev/null
exec 4>&- 5>&-
# Files the caller asked back (`collect`): /ghost-vm/collect.sh sets "$@" to paths relative to
# /. One tar archive per existing path, concatenated (the host reads them with tar -i).
if [ -f /ghost-vm/collect.sh ] && [ -n "$port_files" ]; then
  . /ghost-vm/collect.sh
  for p; do
    if [ -e "/$p" ]; then tar -c -f - -C / "$p"; fi
  done >"$port_files"
fi
echo "GHOSTVM EXIT $code" >&6
exec 6>&-
poweroff -f
