/* alps-invoke: replay an invocation trace with real processes and report turnarounds.
 *
 *   alps-invoke [--sched-ext] TRACE [PIN]
 *
 * TRACE: one invocation per line, "<arrival_us> <func_id> <cpu_us>", arrivals non-decreasing.
 * At t0 + arrival the invoker forks one process per invocation that burns cpu_us of its own
 * CPU time (CLOCK_THREAD_CPUTIME_ID, so contention stretches wall time, not work) and exits.
 * No exec: under TCG an exec costs many ms of CPU, which would swamp short functions. With
 * PIN (a pinned alps_tags map, opened once) each child first tags itself by pidfd as func_id,
 * exactly as alps-exec does, so both A/B arms run the same code. With --sched-ext each child
 * names itself "alps-f<func_id>" (how a ghOSt agent run with --comm-funcs tells functions
 * apart), enters the ghOSt-on-sched_ext enclave (sched_setscheduler(SCHED_EXT)) and yields once,
 * so that it leaves the CPU it had under CFS and waits for the agent to place it. A reaper thread blocks in
 * waitpid() and stamps each exit, so turnarounds are not quantised by polling. Output, one line per invocation in trace order:
 *   inv <index> <func_id> <cpu_us> <turnaround_ns> <start_lateness_ns> <exit_status>
 * turnaround = exit time - (t0 + arrival): the invoker's own lateness counts against the
 * scheduler under test, as it would for a FaaS platform. Static, for the VM initramfs. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "alps_common.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct inv {
	long long arrival_us, cpu_us;
	unsigned func;
	pid_t pid;
	long long start_ns, end_ns;
	int status;
};

static struct inv *invs;
static int ninv;
static volatile int forked;
static int sched_ext; /* --sched-ext: children enter the ghOSt enclave */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The child: tag self (if a map is given), burn, exit. */
static void child(int map_fd, unsigned func, long long cpu_us)
{
	if (map_fd >= 0) {
		int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		struct alps_tag tag = {.func_id = func, .inv_pid = (__u32)getpid(),
				       .arrival_ns = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec};
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_fd = (__u32)map_fd;
		a.key = (__u64)(unsigned long)&pidfd;
		a.value = (__u64)(unsigned long)&tag;
		if (pidfd < 0 || syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &a, sizeof(a)) < 0)
			_exit(125);
		close(pidfd);
		close(map_fd);
	}
	if (sched_ext) {
		char name[16];
		snprintf(name, sizeof(name), "alps-f%u", func);
		prctl(PR_SET_NAME, name, 0, 0, 0);
		struct sched_param sp = {0};
		if (sched_setscheduler(0, 7 /* SCHED_EXT */, &sp) < 0)
			_exit(124);
		sched_yield(); /* off the CFS-given CPU: from here on the agent decides */
	}
	volatile unsigned long sink = 0;
	long long until = thread_cpu_ns() + cpu_us * 1000LL;
	while (thread_cpu_ns() < until)
		for (int i = 0; i < 2000; i++) sink += (unsigned long)i * 2654435761UL;
	_exit((int)(sink & 0));
}

static void *reaper(void *arg)
{
	(void)arg;
	int reaped = 0;
	while (reaped < ninv) {
		int st;
		pid_t p = waitpid(-1, &st, 0);
		long long t = now_ns();
		if (p < 0) {
			if (errno == ECHILD) { usleep(200); continue; } /* nothing forked yet */
			if (errno == EINTR) continue;
			perror("alps-invoke: waitpid");
			exit(1);
		}
		pthread_mutex_lock(&mu);
		for (int i = 0; i < forked; i++)
			if (invs[i].pid == p && !invs[i].end_ns) {
				invs[i].end_ns = t;
				invs[i].status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				reaped++;
				break;
			}
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--sched-ext") == 0) {
		sched_ext = 1;
		argv++;
		argc--;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: alps-invoke [--sched-ext] TRACE [PIN]\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) { perror(argv[1]); return 2; }
	int cap = 1024;
	invs = calloc((size_t)cap, sizeof(*invs));
	long long a, c;
	unsigned fn;
	int line = 0, r;
	while ((r = fscanf(f, "%lld %u %lld", &a, &fn, &c)) == 3) {
		line++;
		if (a < 0 || c < 0 || fn == 0 || (ninv && a < invs[ninv - 1].arrival_us)) {
			fprintf(stderr, "alps-invoke: %s:%d: bad line (arrival_us func_id cpu_us)\n", argv[1], line);
			return 2;
		}
		if (ninv == cap) invs = realloc(invs, (size_t)(cap *= 2) * sizeof(*invs));
		memset(&invs[ninv], 0, sizeof(*invs));
		invs[ninv].arrival_us = a;
		invs[ninv].func = fn;
		invs[ninv].cpu_us = c;
		ninv++;
	}
	if (r != EOF) { fprintf(stderr, "alps-invoke: %s:%d: unparsable\n", argv[1], line + 1); return 2; }
	fclose(f);
	int map_fd = -1;
	if (argc == 3) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.pathname = (__u64)(unsigned long)argv[2];
		map_fd = (int)syscall(SYS_bpf, BPF_OBJ_GET, &a, sizeof(a));
		if (map_fd < 0) { fprintf(stderr, "alps-invoke: %s: %s\n", argv[2], strerror(errno)); return 2; }
	}

	pthread_t th;
	pthread_create(&th, NULL, reaper, NULL);
	long long t0 = now_ns() + 20000000LL; /* 20 ms head start */
	for (int i = 0; i < ninv; i++) {
		long long due = t0 + invs[i].arrival_us * 1000LL;
		long long wait = due - now_ns();
		if (wait > 0) {
			struct timespec ts = {wait / 1000000000LL, wait % 1000000000LL};
			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&mu);
		invs[i].start_ns = now_ns();
		pid_t p = fork();
		if (p == 0)
			child(map_fd, invs[i].func, invs[i].cpu_us);
		if (p < 0) { perror("alps-invoke: fork"); return 1; }
		invs[i].pid = p;
		forked = i + 1;
		pthread_mutex_unlock(&mu);
		invs[i].start_ns -= due; /* lateness */
	}
	pthread_join(th, NULL);
	for (int i = 0; i < ninv; i++) {
		long long due = t0 + invs[i].arrival_us * 1000LL;
		printf("inv %d %u %lld %lld %lld %d\n", i, invs[i].func, invs[i].cpu_us, invs[i].end_ns - due, invs[i].start_ns, invs[i].status);
	}
	return 0;
}
