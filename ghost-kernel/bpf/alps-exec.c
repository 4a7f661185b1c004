/* alps-exec: tag this process as one invocation of a function, then exec the function.
 *
 *   alps-exec --func ID [--map-fd N]... [--pin PATH]... -- CMD [ARGS...]
 *
 * Writes {func_id, inv_pid = own pid, arrival = CLOCK_MONOTONIC now} into each given
 * alps_tags task-storage map (an inherited fd, or a map pinned in bpffs) keyed by a pidfd of
 * itself, closes those fds and execs CMD. The BPF side copies the tag to every child at fork,
 * so the whole process tree of the invocation is attributed to ID. Task storage survives exec.
 * Raw bpf(2) syscalls only, no libbpf: it is built static and runs in the VM's initramfs.
 * Exit status: 125 tagging failed, 126/127 exec failed, else CMD's. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "alps_common.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static void usage(void)
{
	fprintf(stderr, "usage: alps-exec --func ID [--map-fd N]... [--pin PATH]... -- CMD [ARGS...]\n");
	exit(125);
}

static unsigned long parse_u32(const char *s, const char *flag)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v > 0xffffffffUL) {
		fprintf(stderr, "alps-exec: %s: not a u32: '%s'\n", flag, s);
		exit(125);
	}
	return v;
}

int main(int argc, char **argv)
{
	int fds[16], nfds = 0, i;
	unsigned long func = 0;
	int have_func = 0;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) { i++; break; }
		if (i + 1 >= argc) usage();
		if (!strcmp(argv[i], "--func")) {
			func = parse_u32(argv[++i], "--func");
			have_func = 1;
		} else if (!strcmp(argv[i], "--map-fd")) {
			if (nfds == 16) usage();
			fds[nfds++] = (int)parse_u32(argv[++i], "--map-fd");
		} else if (!strcmp(argv[i], "--pin")) {
			union bpf_attr a;
			memset(&a, 0, sizeof(a));
			a.pathname = (__u64)(unsigned long)argv[++i];
			int fd = sys_bpf(BPF_OBJ_GET, &a);
			if (fd < 0) {
				fprintf(stderr, "alps-exec: --pin %s: %s\n", argv[i], strerror(errno));
				return 125;
			}
			if (nfds == 16) usage();
			fds[nfds++] = fd;
		} else usage();
	}
	if (!have_func || func == 0 || i >= argc || nfds == 0) usage();

	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0) {
		fprintf(stderr, "alps-exec: pidfd_open: %s\n", strerror(errno));
		return 125;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	struct alps_tag tag = {
		.func_id = (__u32)func,
		.inv_pid = (__u32)getpid(),
		.arrival_ns = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec,
	};
	for (int k = 0; k < nfds; k++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_fd = (__u32)fds[k];
		a.key = (__u64)(unsigned long)&pidfd;
		a.value = (__u64)(unsigned long)&tag;
		a.flags = BPF_ANY;
		if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) {
			fprintf(stderr, "alps-exec: tagging via map fd %d: %s\n", fds[k], strerror(errno));
			return 125;
		}
		close(fds[k]);
	}
	close(pidfd);
	execvp(argv[i], &argv[i]);
	fprintf(stderr, "alps-exec: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
