/* Shapes shared by the BPF programs (profile.bpf.c, alps.bpf.c), the C launcher (alps-exec.c)
 * and the N-API wrapper's TypeScript codecs (src/native/bpf.ts mirrors these layouts: keep
 * field order and sizes in sync; every struct is 8-byte aligned with explicit padding). */
#ifndef GHOST_ALPS_BPF_COMMON_H
#define GHOST_ALPS_BPF_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Per-task function tag, in a TASK_STORAGE map ("alps_tags"). Userspace writes it by pidfd
 * (the launcher tags itself, then execs); BPF copies it to every child at fork, so a whole
 * invocation's process tree carries it. func_id 0 = untagged. */
struct alps_tag {
	__u32 func_id;
	/* tgid of the invocation's root process: all tasks of one invocation share it. */
	__u32 inv_pid;
	/* CLOCK_MONOTONIC ns when the launcher tagged itself (the invocation's arrival). */
	__u64 arrival_ns;
};

/* cgroup -> function map ("alps_cgfuncs", HASH u64 cgroup id -> u32 func_id): every task
 * whose cgroup-v2 leaf cgroup is listed is that function's (container sandboxes). The cgroup
 * id is the inode number of the cgroup's directory. An explicit task tag wins. */
#define ALPS_CGFUNCS_MAX 4096

#define ALPS_MAX_SLICES 32

/* One finished invocation, sent through the profiler's ring buffer ("prof_events") when the
 * last task of the invocation dies. Also the value of the in-flight "prof_invs" hash. */
struct alps_prof_record {
	__u64 seq;          /* emission order, from 1 */
	__u32 inv_pid;
	__u32 func_id;
	__u64 arrival_ns;
	__u64 end_ns;       /* the last task's final switch-out */
	__u64 first_run_ns;
	__u64 cpu_ns;
	__u64 wait_ns;      /* runnable, not running */
	__u64 blocked_ns;   /* sleeping / I/O */
	__u32 nvcsw;
	__u32 nivcsw;
	__u32 nslices;      /* total run slices (slices[] keeps the first ALPS_MAX_SLICES) */
	__u32 ntasks;       /* tasks (threads + processes) that took part */
	__s32 live;         /* tasks still alive (0 in emitted records) */
	__u32 _pad;
	__u64 slices[ALPS_MAX_SLICES];
};

/* Profiler counters: index into the "prof_stats" array map (u64 values). */
enum alps_prof_stat {
	ALPS_PROF_SWITCHES = 0,   /* sched_switch events that touched a tagged task */
	ALPS_PROF_RECORDS = 1,    /* records emitted */
	ALPS_PROF_DROPPED = 2,    /* records lost: ring buffer full */
	ALPS_PROF_TRACK_FAIL = 3, /* storage/hash allocation failures */
	ALPS_PROF_NR_STATS = 4,
};

/* ---- sched_ext scheduler (alps.bpf.c) ------------------------------------------------- */

/* Policy table: a HASH map "alps_policy" keyed by (half << 32 | func_id), half = 0/1, up to
 * ALPS_POLICY_MAX functions per half. Userspace fills the inactive half (and deletes that
 * half's stale keys), then flips alps_ctl.active_half; BPF looks up only the active half, so it
 * never sees a half-written table. func_id is any u32 > 0 (names hash to ids). */
#define ALPS_POLICY_MAX 8192
/* Kernel ranks are dense (1..number of functions): userspace compresses the learner's u32 ranks
 * preserving order, so rank fits 14 bits of the DSQ key (ALPS_MAX_RANK, alps_rule.h). */
#include "alps_rule.h"

struct alps_policy_entry {
	__u32 rank;      /* 1 = served first; 0 = slot unused (default treatment) */
	__u32 valid;     /* 1 if the entry is set */
	__u64 slice_ns;  /* 0 = default slice */
	__u64 expected_cpu_ns; /* E[CPU] of one invocation (escape deadline); 0 = unknown */
};

/* Control word: one-element ARRAY map "alps_ctl". */
struct alps_ctl {
	__u32 active_half;   /* 0 or 1 */
	__u32 stall_dispatch;/* test hook: 1 = dispatch stops moving tasks (watchdog test) */
	__u64 generation;    /* policy generation currently active */
	__u64 default_slice_ns;
	__u32 functions;     /* entries of the active policy; 0 = nothing learned yet, and the
	                      * rule's cold start treats function work as ordinary */
	__u32 pad;
};

enum alps_sched_stat {
	ALPS_ST_ENQUEUE = 0,
	ALPS_ST_ENQ_TAGGED = 1,
	ALPS_ST_DISPATCH = 2,
	ALPS_ST_TIMER_PREEMPT = 3,
	ALPS_ST_RANK_PREEMPT = 4, /* kicked a CPU running a worse rank */
	ALPS_ST_INHERIT = 5,
	ALPS_ST_SELECT_IDLE = 6,
	ALPS_ST_STARVED = 7, /* DSQ heads dispatched by the safety net (waited ALPS_STARVE_NS) */
	ALPS_ST_ESCAPED = 8, /* ranked tasks moved to the overdue queue (escape deadline passed) */
	ALPS_ST_KEEP_PREV = 9, /* slice ends where prev still ordered first and kept its CPU */
	ALPS_ST_HOTPLUG = 10, /* CPU online/offline events */
	ALPS_ST_NR = 11,
};

/* Exit info copied out in ops.exit (one-element ARRAY map "alps_exit"), UEI-style: the kernel's
 * exit kind, code, reason, message and the head of its debug dump. */
#define ALPS_EXIT_MSG_LEN 256
#define ALPS_EXIT_DUMP_LEN 4096
struct alps_exit_info {
	__s32 kind;       /* scx_exit_kind; 0 = still running */
	__s32 exit_cpu;
	__s64 exit_code;
	char reason[128];
	char msg[ALPS_EXIT_MSG_LEN];
	char dump[ALPS_EXIT_DUMP_LEN];
};

#endif
