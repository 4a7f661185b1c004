/* ALPS profiler: per-invocation CPU time, run-queue wait, blocked time, context switches and
 * run slices from scheduler tracepoints (tp_btf: BTF-typed, CO-RE; runs on any BTF kernel,
 * with or without sched_ext). An invocation is every task carrying one alps_tag.inv_pid
 * (the launcher's pid, inherited at fork); its record is emitted when its last task dies.
 *
 * Accounting per tagged task (bpf_ktime_get_ns = CLOCK_MONOTONIC):
 *   switched out -> run slice = growth of the kernel's own se.sum_exec_runtime since the last
 *                   switch-out (exact even if a switch-in event was missed); then
 *                   dead -> task done; still runnable -> waiting; otherwise blocked
 *   switched in  -> first run of the invocation; own wait measurement
 *   woken        -> blocked += now - block_start; waiting
 *   dead         -> CPU time, run-queue wait and switch counts are taken from the task's own
 *                   kernel counters (sum_exec_runtime, sched_info.run_delay, nvcsw, nivcsw),
 *                   i.e. the numbers getrusage and /proc/<pid>/schedstat report, summed over
 *                   every task of the invocation. Without CONFIG_SCHED_INFO the wait falls
 *                   back to the profiler's own switch-in/out timestamps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "alps_common.h"

char LICENSE[] SEC("license") = "GPL";

#define TASK_DEAD_STATE 0x80 /* TASK_DEAD in __state / sched_switch's prev_state */

#include "alps_maps.bpf.h"

/* Profiler-private per-task state. */
struct prof_task {
	__u32 inv_pid;
	__u32 counted; /* 1 while counted in its invocation's `live` */
	__u64 last_sum;   /* se.sum_exec_runtime at the last switch-out */
	__u64 wait_start;
	__u64 block_start;
	__u64 own_wait;   /* fallback wait measurement */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct prof_task);
} prof_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct alps_prof_record);
} prof_invs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} prof_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ALPS_PROF_NR_STATS);
	__type(key, __u32);
	__type(value, __u64);
} prof_stats SEC(".maps");

/* Zeroed template for new invocation entries (too big for the 512-byte stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct alps_prof_record);
} prof_scratch SEC(".maps");

static __u64 record_seq;

static __always_inline void stat_add(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&prof_stats, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Role of a task when first seen: it was running (it tagged itself), or it is new/runnable. */
enum { SEEN_RUNNING = 0, SEEN_RUNNABLE = 1 };

/* Per-task state of a tagged task, creating it (and counting the task into its invocation)
 * on first sight; NULL for untagged tasks. */
/* Clock read once per event and only when a tracked task needs it (*now == 0: not read yet). */
static __always_inline __u64 clock_of(__u64 *now)
{
	if (!*now)
		*now = bpf_ktime_get_ns();
	return *now;
}

/* The untagged path is the hot one (every switch of every other task on the host): one
 * task-storage lookup, direct BTF loads for the cgroup id (no probe-read helpers, no clock read),
 * one hash lookup. */
static __always_inline struct prof_task *track(struct task_struct *p, __u64 *nowp, int role)
{
	struct alps_tag *tag = bpf_task_storage_get(&alps_tags, p, 0, 0);
	if (!tag || !tag->func_id) {
		/* Untagged: a task of a mapped cgroup becomes its own invocation (root = its
		 * process), tagged here so its children inherit like launcher-tagged ones. */
		__u64 cg = p->cgroups->dfl_cgrp->kn->id;
		__u32 *f = bpf_map_lookup_elem(&alps_cgfuncs, &cg);
		if (!f || !*f)
			return NULL;
		__u64 now = clock_of(nowp);
		struct alps_tag t = {.func_id = *f, .inv_pid = (__u32)BPF_CORE_READ(p, tgid), .arrival_ns = now};
		tag = bpf_task_storage_get(&alps_tags, p, &t, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!tag)
			return NULL;
		*tag = t;
	}
	__u64 now = clock_of(nowp);
	struct prof_task *pt = bpf_task_storage_get(&prof_tasks, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!pt) {
		stat_add(ALPS_PROF_TRACK_FAIL);
		return NULL;
	}
	if (pt->counted)
		return pt;
	if (pt->inv_pid)
		return NULL; /* already finished (dead) */
	__u32 key = tag->inv_pid ? tag->inv_pid : (__u32)BPF_CORE_READ(p, tgid);
	struct alps_prof_record *inv = bpf_map_lookup_elem(&prof_invs, &key);
	if (!inv) {
		__u32 zero = 0;
		struct alps_prof_record *tmpl = bpf_map_lookup_elem(&prof_scratch, &zero);
		if (!tmpl)
			return NULL;
		__builtin_memset(tmpl, 0, sizeof(*tmpl));
		tmpl->inv_pid = key;
		tmpl->func_id = tag->func_id;
		/* Arrival is no later than the root process's fork: its CPU time counts from
		 * creation (below), so an arrival at tagging time (after the fork and the
		 * launcher's exec) could make a single-threaded invocation's turnaround shorter
		 * than its own CPU time on a slow host. */
		__u64 arrival = tag->arrival_ns && tag->arrival_ns <= now ? tag->arrival_ns : now;
		if ((__u32)BPF_CORE_READ(p, tgid) == key) {
			__u64 born = BPF_CORE_READ(p, group_leader, start_time);
			if (born && born < arrival)
				arrival = born;
		}
		tmpl->arrival_ns = arrival;
		bpf_map_update_elem(&prof_invs, &key, tmpl, BPF_NOEXIST);
		inv = bpf_map_lookup_elem(&prof_invs, &key);
		if (!inv) {
			stat_add(ALPS_PROF_TRACK_FAIL);
			return NULL;
		}
	}
	__sync_fetch_and_add(&inv->live, 1);
	__sync_fetch_and_add(&inv->ntasks, 1);
	pt->inv_pid = key;
	pt->counted = 1;
	/* last_sum stays 0: a task's runtime counts from its creation (for the root, that
	 * includes the launcher's few microseconds before it tagged itself). */
	if (role == SEEN_RUNNING)
		/* It has been running since it tagged itself (the launcher, right before exec). */
		__sync_val_compare_and_swap(&inv->first_run_ns, 0, inv->arrival_ns);
	else
		pt->wait_start = now;
	return pt;
}

static __always_inline void finish(struct prof_task *pt, struct alps_prof_record *inv, __u64 now)
{
	pt->counted = 0;
	if (__sync_fetch_and_add(&inv->live, -1) != 1)
		return;
	/* Last task of the invocation: nobody else updates `inv` any more. */
	__u32 key = pt->inv_pid;
	struct alps_prof_record *rec = bpf_ringbuf_reserve(&prof_events, sizeof(*rec), 0);
	if (!rec) {
		stat_add(ALPS_PROF_DROPPED);
	} else {
		bpf_probe_read_kernel(rec, sizeof(*rec), inv);
		rec->end_ns = now;
		rec->live = 0;
		rec->seq = __sync_add_and_fetch(&record_seq, 1);
		bpf_ringbuf_submit(rec, 0);
		stat_add(ALPS_PROF_RECORDS);
	}
	bpf_map_delete_elem(&prof_invs, &key);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(prof_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 now = 0; /* read by track() only for a tracked task */
	struct prof_task *pt = track(prev, &now, SEEN_RUNNING);
	if (pt) {
		struct alps_prof_record *inv = bpf_map_lookup_elem(&prof_invs, &pt->inv_pid);
		stat_add(ALPS_PROF_SWITCHES);
		if (inv) {
			/* update_curr() ran before this tracepoint: the sum is current. */
			__u64 sum = BPF_CORE_READ(prev, se.sum_exec_runtime);
			if (sum > pt->last_sum) {
				__u32 idx = __sync_fetch_and_add(&inv->nslices, 1);
				if (idx < ALPS_MAX_SLICES)
					inv->slices[idx & (ALPS_MAX_SLICES - 1)] = sum - pt->last_sum;
				pt->last_sum = sum;
			}
			if (prev_state & TASK_DEAD_STATE) {
				__u64 wait = pt->own_wait;
				if (bpf_core_field_exists(prev->sched_info.run_delay))
					wait = BPF_CORE_READ(prev, sched_info.run_delay);
				__sync_fetch_and_add(&inv->cpu_ns, sum);
				__sync_fetch_and_add(&inv->wait_ns, wait);
				__sync_fetch_and_add(&inv->nvcsw, (__u32)BPF_CORE_READ(prev, nvcsw));
				__sync_fetch_and_add(&inv->nivcsw, (__u32)BPF_CORE_READ(prev, nivcsw));
				finish(pt, inv, now);
			} else if (preempt || prev_state == 0) {
				pt->wait_start = now;
			} else {
				pt->block_start = now;
			}
		}
	}
	pt = track(next, &now, SEEN_RUNNABLE);
	if (pt) {
		struct alps_prof_record *inv = bpf_map_lookup_elem(&prof_invs, &pt->inv_pid);
		if (inv)
			__sync_val_compare_and_swap(&inv->first_run_ns, 0, now);
		if (pt->wait_start && now > pt->wait_start)
			pt->own_wait += now - pt->wait_start;
		pt->wait_start = 0;
	}
	return 0;
}

static __always_inline void on_wakeup(struct task_struct *p)
{
	__u64 now = 0;
	struct prof_task *pt = track(p, &now, SEEN_RUNNABLE);
	if (!pt)
		return;
	if (pt->block_start) {
		struct alps_prof_record *inv = bpf_map_lookup_elem(&prof_invs, &pt->inv_pid);
		if (inv && now > pt->block_start)
			__sync_fetch_and_add(&inv->blocked_ns, now - pt->block_start);
		pt->block_start = 0;
	}
	pt->wait_start = now;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(prof_wakeup, struct task_struct *p)
{
	on_wakeup(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(prof_wakeup_new, struct task_struct *p)
{
	on_wakeup(p);
	return 0;
}

/* Children inherit the parent's tag (threads and processes alike) and are counted into the
 * invocation right away, so the invocation cannot end while a child has yet to run. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(prof_fork, struct task_struct *parent, struct task_struct *child)
{
	struct alps_tag *tag = bpf_task_storage_get(&alps_tags, parent, 0, 0);
	if (!tag || !tag->func_id)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	track(parent, &now, SEEN_RUNNING);
	struct alps_tag copy = *tag;
	struct alps_tag *ct = bpf_task_storage_get(&alps_tags, child, &copy, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ct)
		return 0;
	*ct = copy;
	track(child, &now, SEEN_RUNNABLE);
	return 0;
}
