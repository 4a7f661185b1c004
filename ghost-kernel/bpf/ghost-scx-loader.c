/* ghost-scx-loader: the libbpf half of the ghOSt-on-sched_ext backend (ghost.bpf.c).
 *
 * native/ghost/sys_scx.cc (inside the libbpf-free alps_ghost addon) spawns this static helper when
 * the agent creates an enclave and talks to it over stdin/stdout, one line each way:
 *
 *   (start)             -> "ready"        maps and the two SEC("syscall") programs are loaded and
 *                                          pinned under <pin-dir>/ (BPF_OBJ_GET by the client)
 *   "attach <ms>"       -> "attached" | "error <text>"
 *                                          load the struct_ops (reusing the pinned maps) with
 *                                          timeout_ms = <ms> (runnable_timeout) and enable it
 *   "detach"            -> "detached"      disable the scheduler; tasks continue under CFS
 *   "state"             -> "state <sched_ext state>"
 *   "stats"             -> "ghost-scx stats ..." (kernel-side commit and message counters; also
 *                          printed on stderr whenever the scheduler is detached)
 *   EOF                                    detach, unpin, exit
 *
 * The link lives only in this process: when the agent process dies, its end of the pipe closes,
 * this helper sees EOF and the scheduler is unregistered — agent death returns every enclave task
 * to CFS, with nothing lost (ghOSt would need runnable_timeout or `destroy` for that).
 */
#include <errno.h>
#include <linux/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ghost_scx.h"

static const char *const kMaps[] = {"ghost_cpu_data", "ghost_sw", "ghost_queues", "ghost_qpriv",
				    "ghost_cpus", "ghost_conf", "ghost_wake", "ghost_tasks"};
static const char *const kProgs[] = {"ghost_commit", "ghost_ctl"};
#define NMAPS (sizeof(kMaps) / sizeof(kMaps[0]))
#define NPROGS (sizeof(kProgs) / sizeof(kProgs[0]))

static char pin_dir[256];
static char obj_path[512];
static struct bpf_object *base;  /* maps + syscall programs */
static struct bpf_object *sched; /* struct_ops, reusing base's maps */
static struct bpf_link *ops_link;

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static void read_state(char *buf, size_t n)
{
	FILE *f = fopen("/sys/kernel/sched_ext/state", "r");
	snprintf(buf, n, "unknown");
	if (!f)
		return;
	if (fgets(buf, (int)n, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static void unpin(void)
{
	char p[512];
	for (size_t i = 0; i < NMAPS; i++) {
		snprintf(p, sizeof p, "%s/%s", pin_dir, kMaps[i]);
		unlink(p);
	}
	for (size_t i = 0; i < NPROGS; i++) {
		snprintf(p, sizeof p, "%s/%s", pin_dir, kProgs[i]);
		unlink(p);
	}
	rmdir(pin_dir);
}

/* The kernel-side counters, one line: what the agent's commits cost from commit to running. */
static void print_stats(FILE *out)
{
	struct ghost_conf c;
	__u32 zero = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(base, "ghost_conf")), &zero, &c))
		return;
	unsigned long long commits = 0, lat = 0, n = 0, max = 0;
	int fd = bpf_map__fd(bpf_object__find_map_by_name(base, "ghost_cpus"));
	for (__u32 k = 0; k < GHOST_SCX_MAX_CPUS; k++) {
		struct ghost_cpu_state cs;
		if (bpf_map_lookup_elem(fd, &k, &cs))
			break;
		commits += cs.commits;
		lat += cs.commit_lat_ns;
		n += cs.commit_lat_n;
		if (cs.commit_lat_max > max)
			max = cs.commit_lat_max;
	}
	fprintf(out,
		"ghost-scx stats commits=%llu failed=%llu commit_to_run_n=%llu commit_to_run_mean_ns=%llu commit_to_run_max_ns=%llu "
		"new=%llu wakeup=%llu blocked=%llu preempt=%llu yield=%llu dead=%llu departed=%llu overflows=%llu\n",
		commits, (unsigned long long)c.commit_fail, n, n ? lat / n : 0, max, (unsigned long long)c.msgs[0],
		(unsigned long long)c.msgs[1], (unsigned long long)c.msgs[2], (unsigned long long)c.msgs[3],
		(unsigned long long)c.msgs[4], (unsigned long long)c.msgs[5], (unsigned long long)c.msgs[6],
		(unsigned long long)c.overflows);
}

static void detach(void)
{
	if (ops_link)
		print_stats(stderr);
	if (ops_link)
		bpf_link__destroy(ops_link);
	ops_link = NULL;
	if (sched)
		bpf_object__close(sched);
	sched = NULL;
}

static int attach(long timeout_ms, char *err, size_t errn)
{
	if (ops_link) {
		snprintf(err, errn, "already attached");
		return -1;
	}
	sched = bpf_object__open_file(obj_path, NULL);
	if (!sched) {
		snprintf(err, errn, "open %s: %s", obj_path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < NMAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(sched, kMaps[i]);
		int fd = bpf_map__fd(bpf_object__find_map_by_name(base, kMaps[i]));
		int rc = m ? bpf_map__reuse_fd(m, fd) : -ENOENT;
		if (rc) {
			snprintf(err, errn, "reuse map %s: %s", kMaps[i], strerror(-rc));
			return -1;
		}
	}
	if (timeout_ms > 0) {
		size_t rsz = 0, osz = 0;
		const __u32 *off = bpf_map__initial_value(bpf_object__find_map_by_name(sched, ".rodata"), &rsz);
		char *ops = bpf_map__initial_value(bpf_object__find_map_by_name(sched, "ghost_ops"), &osz);
		if (!off || !ops || *off + 4 > osz) {
			snprintf(err, errn, "cannot locate timeout_ms in the struct_ops data");
			return -1;
		}
		__u32 v = (__u32)timeout_ms;
		memcpy(ops + *off, &v, 4);
	}
	int rc = bpf_object__load(sched);
	if (rc) {
		snprintf(err, errn, "load scheduler: %s", strerror(-rc));
		return -1;
	}
	ops_link = bpf_map__attach_struct_ops(bpf_object__find_map_by_name(sched, "ghost_ops"));
	if (!ops_link) {
		snprintf(err, errn, "attach: %s%s", strerror(errno),
			 errno == EBUSY ? " (another sched_ext scheduler is enabled)" : "");
		return -1;
	}
	/* attach "succeeds" for a scheduler that died in init: check the state (sched-ext-7.3 §1.1) */
	char st[64];
	for (int i = 0; i < 200; i++) {
		read_state(st, sizeof st);
		if (strcmp(st, "enabling"))
			break;
		usleep(10000);
	}
	if (strcmp(st, "enabled")) {
		snprintf(err, errn, "sched_ext state is '%s' after attach", st);
		detach();
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ghost-scx-loader <ghost.bpf.o> <pin-dir>\n");
		return 2;
	}
	snprintf(obj_path, sizeof obj_path, "%s", argv[1]);
	snprintf(pin_dir, sizeof pin_dir, "%s", argv[2]);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_quiet);
	base = bpf_object__open_file(obj_path, NULL);
	if (!base) {
		printf("error open %s: %s\n", obj_path, strerror(errno));
		return 3;
	}
	/* the struct_ops is loaded at attach, when runnable_timeout is known */
	bpf_map__set_autocreate(bpf_object__find_map_by_name(base, "ghost_ops"), false);
	int rc = bpf_object__load(base);
	if (rc) {
		printf("error load %s: %s\n", obj_path, strerror(-rc));
		return 3;
	}
	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		printf("error mkdir %s: %s\n", pin_dir, strerror(errno));
		return 3;
	}
	char p[512];
	for (size_t i = 0; i < NMAPS; i++) {
		snprintf(p, sizeof p, "%s/%s", pin_dir, kMaps[i]);
		unlink(p);
		rc = bpf_map__pin(bpf_object__find_map_by_name(base, kMaps[i]), p);
		if (rc) {
			printf("error pin %s: %s\n", p, strerror(-rc));
			unpin();
			return 3;
		}
	}
	for (size_t i = 0; i < NPROGS; i++) {
		snprintf(p, sizeof p, "%s/%s", pin_dir, kProgs[i]);
		unlink(p);
		rc = bpf_program__pin(bpf_object__find_program_by_name(base, kProgs[i]), p);
		if (rc) {
			printf("error pin %s: %s\n", p, strerror(-rc));
			unpin();
			return 3;
		}
	}
	printf("ready\n");
	char line[256];
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "attach ", 7)) {
			char err[1024];
			if (attach(strtol(line + 7, NULL, 10), err, sizeof err))
				printf("error %s\n", err);
			else
				printf("attached\n");
		} else if (!strcmp(line, "detach")) {
			detach();
			printf("detached\n");
		} else if (!strcmp(line, "stats")) {
			print_stats(stdout);
		} else if (!strcmp(line, "state")) {
			char st[64];
			read_state(st, sizeof st);
			printf("state %s\n", st);
		} else {
			printf("error unknown command '%s'\n", line);
		}
	}
	detach();
	unpin();
	bpf_object__close(base);
	return 0;
}
