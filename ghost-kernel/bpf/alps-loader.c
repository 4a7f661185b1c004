/* alps-loader: small static loader/test driver for the ALPS sched_ext scheduler, for use inside
 * the TCG VM where node is ~20x slower and every spawn costs ~11 ms.
 *
 *   alps-loader [--obj PATH] [--pin-tags PATH] [--policy FUNC:RANK:SLICE_US]... [--cgroup DIR:FUNC]...
 *               [--default-slice-us N] [--timeout-ms N] [--stall-after-ms N] [--wait-exit-ms N]
 *               [-- CMD...]
 *
 * Validates every policy value first (exit 3 naming the bad value; nothing is written), loads
 * alps.bpf.o, writes the policy into half 0 and the control word, pins the tag map (for
 * alps-exec --pin), attaches the struct_ops, checks that sched_ext really enabled it, runs CMD
 * (if any) while attached, optionally stalls dispatch to provoke the watchdog, then prints
 * machine-readable lines:
 *   STATE <sched_ext state>    STAT <name> <value>    HIST <bucket_us> <count>
 *   EXIT kind=<n> code=<n> reason=<text> msg=<text>   (only if the scheduler exited)
 * and detaches. Exit status: CMD's, or 3 bad input, 4 load/attach failure. */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "alps_common.h"

#define MAX_POLICY 256
#include <sys/stat.h>

static const char *stat_names[ALPS_ST_NR] = {"enqueue", "enq_tagged", "dispatch", "timer_preempt",
					    "rank_preempt", "inherit", "select_idle", "starved",
					    "escaped", "keep_prev", "hotplug"};

/* Sum of a per-CPU u64 map value. */
static unsigned long long percpu_sum(int fd, __u32 key)
{
	int n = libbpf_num_possible_cpus();
	if (n <= 0 || n > 4096)
		return 0;
	__u64 *v = calloc((size_t)n, sizeof(__u64));
	unsigned long long s = 0;
	if (v && !bpf_map_lookup_elem(fd, &key, v))
		for (int i = 0; i < n; i++)
			s += v[i];
	free(v);
	return s;
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void read_state(char *buf, size_t n)
{
	FILE *f = fopen("/sys/kernel/sched_ext/state", "r");
	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)n, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int bad(const char *flag, const char *val, const char *why)
{
	fprintf(stderr, "alps-loader: %s '%s': %s\n", flag, val, why);
	return 3;
}

int main(int argc, char **argv)
{
	const char *obj_path = "/project/ghost-kernel/bpf/build/alps.bpf.o";
	const char *pin = NULL;
	struct { unsigned func, rank; unsigned long long slice_ns, expected_ns; } pol[MAX_POLICY];
	int npol = 0, ncg = 0, i;
	struct { unsigned long long id; unsigned func; } cgs[64];
	unsigned long long dflt_slice = 0;
	long stall_after = -1, wait_exit = 5000, timeout_ms = 0;
	char **cmd = NULL;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) { cmd = &argv[i + 1]; break; }
		if (i + 1 >= argc) return bad(argv[i], "", "needs a value");
		const char *f = argv[i], *v = argv[++i];
		char *end;
		if (!strcmp(f, "--obj")) obj_path = v;
		else if (!strcmp(f, "--pin-tags")) pin = v;
		else if (!strcmp(f, "--default-slice-us")) {
			dflt_slice = strtoull(v, &end, 10) * 1000ULL;
			if (*end || dflt_slice < 100000ULL || dflt_slice > 1000000000ULL) return bad(f, v, "must be 100..1000000 us");
		} else if (!strcmp(f, "--timeout-ms")) {
			timeout_ms = strtol(v, &end, 10);
			if (*end || timeout_ms < (long)ALPS_WATCHDOG_MIN_MS || timeout_ms > 30000) return bad(f, v, "must be 5000..30000 ms (ALPS_WATCHDOG_MIN_MS)");
		} else if (!strcmp(f, "--stall-after-ms")) {
			stall_after = strtol(v, &end, 10);
			if (*end || stall_after < 0) return bad(f, v, "not a non-negative integer");
		} else if (!strcmp(f, "--wait-exit-ms")) {
			wait_exit = strtol(v, &end, 10);
			if (*end || wait_exit < 0) return bad(f, v, "not a non-negative integer");
		} else if (!strcmp(f, "--cgroup")) {
			char path[4096];
			unsigned long fn;
			const char *colon = strrchr(v, ':');
			struct stat st;
			if (!colon || colon == v || (size_t)(colon - v) >= sizeof(path)) return bad(f, v, "expected DIR:FUNC");
			memcpy(path, v, (size_t)(colon - v));
			path[colon - v] = 0;
			fn = strtoul(colon + 1, &end, 10);
			if (*end || fn == 0 || fn > 0xffffffffUL) return bad(f, v, "funcId out of 1..4294967295");
			if (stat(path, &st) || !S_ISDIR(st.st_mode)) return bad(f, v, "not a cgroup directory");
			if (ncg == 64) return bad(f, v, "too many cgroups");
			cgs[ncg].id = (unsigned long long)st.st_ino; /* cgroup v2 id = directory inode */
			cgs[ncg].func = (unsigned)fn;
			ncg++;
		} else if (!strcmp(f, "--policy")) {
			unsigned long fn, rk; unsigned long long us, eus = 0; char c1, c2, c3;
			if (npol == MAX_POLICY) return bad(f, v, "too many entries");
			int got = sscanf(v, "%lu%c%lu%c%llu%c%llu", &fn, &c1, &rk, &c2, &us, &c3, &eus);
			if ((got != 5 && got != 7) || c1 != ':' || c2 != ':' || (got == 7 && c3 != ':'))
				return bad(f, v, "expected FUNC:RANK:SLICE_US[:EXPECTED_CPU_US]");
			if (fn == 0 || fn > 0xffffffffUL) return bad(f, v, "funcId out of 1..4294967295");
			if (rk == 0 || rk > ALPS_MAX_RANK) return bad(f, v, "rank out of 1..16383");
			if (us > 10000000ULL) return bad(f, v, "slice over 10 s (the learner's limit)");
			for (int k = 0; k < npol; k++)
				if (pol[k].func == fn) return bad(f, v, "duplicate funcId");
			pol[npol].func = (unsigned)fn;
			pol[npol].rank = (unsigned)rk;
			pol[npol].slice_ns = us * 1000ULL;
			pol[npol].expected_ns = eus * 1000ULL;
			npol++;
		} else return bad(f, v, "unknown option");
	}

	libbpf_set_print(print_fn);
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	if (!obj) { fprintf(stderr, "alps-loader: open %s: %s\n", obj_path, strerror(errno)); return 4; }
	if (timeout_ms) {
		/* Patch the watchdog timeout into the struct_ops data, at the offset the BPF object
		 * recorded for this kernel's struct sched_ext_ops. */
		size_t rsz = 0, osz = 0;
		const __u32 *off = bpf_map__initial_value(bpf_object__find_map_by_name(obj, ".rodata"), &rsz);
		char *ops = bpf_map__initial_value(bpf_object__find_map_by_name(obj, "alps_ops"), &osz);
		if (!off || !ops || *off + 4 > osz) { fprintf(stderr, "alps-loader: cannot locate timeout_ms\n"); return 4; }
		memcpy(ops + *off, &(__u32){(__u32)timeout_ms}, 4);
	}
	int err = bpf_object__load(obj);
	if (err) { fprintf(stderr, "alps-loader: load %s: %s\n", obj_path, strerror(-err)); return 4; }

	int ctl_fd = bpf_object__find_map_fd_by_name(obj, "alps_ctl");
	int pol_fd = bpf_object__find_map_fd_by_name(obj, "alps_policy");
	int stats_fd = bpf_object__find_map_fd_by_name(obj, "alps_stats");
	int hist_fd = bpf_object__find_map_fd_by_name(obj, "alps_run_hist");
	int exit_fd = bpf_object__find_map_fd_by_name(obj, "alps_exit");
	__u32 zero = 0;
	struct alps_ctl c = {.active_half = 0, .stall_dispatch = 0, .generation = 1, .default_slice_ns = dflt_slice, .functions = (__u32)npol};
	for (int k = 0; k < npol; k++) {
		__u64 key = pol[k].func; /* half 0 */
		struct alps_policy_entry e = {.rank = pol[k].rank, .valid = 1, .slice_ns = pol[k].slice_ns, .expected_cpu_ns = pol[k].expected_ns};
		if (bpf_map_update_elem(pol_fd, &key, &e, BPF_ANY)) { perror("alps-loader: policy"); return 4; }
	}
	if (bpf_map_update_elem(ctl_fd, &zero, &c, BPF_ANY)) { perror("alps-loader: ctl"); return 4; }
	int cg_fd = bpf_object__find_map_fd_by_name(obj, "alps_cgfuncs");
	for (int k = 0; k < ncg; k++)
		if (bpf_map_update_elem(cg_fd, &cgs[k].id, &cgs[k].func, BPF_ANY)) { perror("alps-loader: cgroup map"); return 4; }
	if (pin) {
		unlink(pin);
		err = bpf_map__pin(bpf_object__find_map_by_name(obj, "alps_tags"), pin);
		if (err) { fprintf(stderr, "alps-loader: pin %s: %s\n", pin, strerror(-err)); return 4; }
	}
	struct bpf_link *link = bpf_map__attach_struct_ops(bpf_object__find_map_by_name(obj, "alps_ops"));
	if (!link) { fprintf(stderr, "alps-loader: attach: %s\n", strerror(errno)); return 4; }
	char state[64];
	for (int k = 0; k < 200; k++) {
		read_state(state, sizeof(state));
		if (strcmp(state, "enabling")) break;
		sleep_ms(10);
	}
	printf("STATE %s\n", state);
	fflush(stdout);

	int rc = 0;
	if (cmd && *cmd) {
		pid_t pid = fork();
		if (pid == 0) {
			execvp(cmd[0], cmd);
			perror("alps-loader: exec");
			_exit(127);
		}
		int ws = 0;
		waitpid(pid, &ws, 0);
		rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	}
	if (stall_after >= 0) {
		sleep_ms(stall_after);
		c.stall_dispatch = 1;
		bpf_map_update_elem(ctl_fd, &zero, &c, BPF_ANY);
	}
	static struct alps_exit_info x;
	memset(&x, 0, sizeof(x));
	for (long waited = 0;; waited += 20) {
		bpf_map_lookup_elem(exit_fd, &zero, &x);
		if (x.kind || stall_after < 0 || waited >= wait_exit) break;
		sleep_ms(20);
	}
	for (__u32 k = 0; k < ALPS_ST_NR; k++)
		printf("STAT %s %llu\n", stat_names[k], percpu_sum(stats_fd, k));
	for (__u32 k = 0; k < 64; k++) {
		unsigned long long v = percpu_sum(hist_fd, k);
		if (v) printf("HIST %u %llu\n", k * 250, v);
	}
	read_state(state, sizeof(state));
	printf("STATE %s\n", state);
	if (x.kind)
		printf("EXIT kind=%d code=%lld reason=%s msg=%s\n", x.kind, (long long)x.exit_code, x.reason, x.msg);
	if (x.kind && x.dump[0])
		printf("DUMP %.*s\n", (int)sizeof(x.dump), x.dump);
	fflush(stdout);
	bpf_link__destroy(link);
	if (pin) unlink(pin);
	bpf_object__close(obj);
	return rc;
}
