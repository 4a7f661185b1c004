/* ALPS on sched_ext: enforce one learned Policy {funcId -> rank, slice} in the kernel.
 *
 * Ordering: one shared vtime-ordered user DSQ keyed by (rank, vtime): rank-major, and a
 * weighted virtual-time tie-break (CFS-like fairness) within a rank. Tasks with no function
 * tag, and tagged functions absent from the policy, get rank 0 (served first, fair among
 * themselves): this is the "ordinary tasks before function tasks" order the ALPS artifact
 * intends (docs/artifact-algorithm.md §5.4) and it keeps kernel threads, the
 * invoker and the agent responsive. Full switch mode (not SWITCH_PARTIAL): tagging needs no
 * sched_setscheduler() call and untagged work is still scheduled fairly by vtime.
 *
 * Slices: a function with a learned slice s runs for s once picked and is protected from
 * rank preemption until then (the artifact's "extension", §5.5). HZ=250 only notices slice
 * expiry every 4 ms, so a per-CPU pinned BPF timer armed in ops.running kicks the CPU with
 * SCX_KICK_PREEMPT when s elapses. Other tasks get the default slice (alps_ctl).
 *
 * Policy maps are switched atomically: userspace fills the inactive half of alps_policy
 * and flips alps_ctl.active_half; this program only ever reads the active half.
 * Untagged tasks cost one task-storage lookup; tagged ones add one hash lookup.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "alps_common.h"

char LICENSE[] SEC("license") = "GPL";

#define ALPS_DSQ 1
#define MAX_CPUS 64
#define DEFAULT_SLICE 5000000ULL
#define HIST_BUCKET_NS 250000ULL
#define HIST_BUCKETS 64
#define CLOCK_MONOTONIC 1
#define BPF_F_TIMER_CPU_PIN_ (1ULL << 1)
#define PF_KTHREAD 0x00200000
#define PICK_DONE_SLACK_NS 100000ULL /* a pick within 100 us of its slice counts as complete */
/* Anti-starvation: a task queued this long gets one pick right away (moved to the
 * dispatching CPU), then queues by rank again. Aging (below) bounds how long function work
 * can be overtaken by other function work, but untagged tasks outrank every function, so a
 * flood of them could still hold a function task past the kernel watchdog's limit (which
 * would eject the whole scheduler). One pick per STARVE_NS is that safety net. */
#define STARVE_NS 1000000000ULL
#define STARVE_SCAN 8
/* Aging (docs/scx.md, "Aging"). A function task's key is a virtual clock that starts at its
 * invocation's arrival a plus r * AGE_NS and advances with the CPU it receives (weighted, like
 * vtime): key = a + r * AGE_NS + served. Lowest key runs first. Without the served term this
 * is linear aging (priority r - (t - a)/AGE_NS: the t terms cancel between two tasks, so a
 * static key suffices); with it, tasks of one rank that arrive together share the CPU
 * fairly, as the vtime tie-break did. Bound: a queued task's key is fixed while new arrivals'
 * keys grow with time, so it is overtaken only by better-ranked work arriving less than
 * (its rank - their rank) * AGE_NS + served after it: the lowest rank cannot starve at any load. */
#define AGE_NS 500000000ULL
#define FUNC_REGION (1ULL << 62) /* function keys: 1<<62 | (a - epoch + r * AGE_NS + served);
				  * untagged tasks (rank 0) sort below it by virtual time alone */
#define ENOMEM 12
#define ENOENT 2
#define BPF_STRUCT_OPS(name, args...) SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

/* kfuncs (BPF-visible prototypes of this kernel: docs/facts/sched-ext-7.3-kfuncs.txt) */
extern void scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym;
extern void scx_bpf_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime, u64 enq_flags) __ksym;
extern bool scx_bpf_dsq_move_to_local(u64 dsq_id) __ksym;
extern s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
extern s32 scx_bpf_select_cpu_dfl(struct task_struct *p, s32 prev_cpu, u64 wake_flags, bool *is_idle) __ksym;
extern s32 scx_bpf_pick_idle_cpu(const struct cpumask *cpus_allowed, u64 flags) __ksym;
extern void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;
extern struct task_struct *scx_bpf_cpu_curr(s32 cpu) __ksym;
extern u32 scx_bpf_nr_cpu_ids(void) __ksym;
extern u64 scx_bpf_now(void) __ksym;
extern s32 scx_bpf_task_cpu(const struct task_struct *p) __ksym;
extern int bpf_iter_scx_dsq_new(struct bpf_iter_scx_dsq *it, u64 dsq_id, u64 flags) __ksym;
extern struct task_struct *bpf_iter_scx_dsq_next(struct bpf_iter_scx_dsq *it) __ksym;
extern void bpf_iter_scx_dsq_destroy(struct bpf_iter_scx_dsq *it) __ksym;
extern bool scx_bpf_dsq_move(struct bpf_iter_scx_dsq *it__iter, struct task_struct *p, u64 dsq_id, u64 enq_flags) __ksym;

#include "alps_maps.bpf.h"

/* Function of `p` by its cgroup-v2 leaf cgroup (0 = none). Not cached, so moves count. */
static __always_inline u32 cgroup_func(struct task_struct *p)
{
	u64 id = BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);
	u32 *f = bpf_map_lookup_elem(&alps_cgfuncs, &id);
	return f ? *f : 0;
}

struct task_ctx {
	u64 run_start;
	/* CPU used in the current pick of a learned slice, across interruptions by per-CPU
	 * kthreads (softirqs, kworkers): the learned slice is a budget per pick, as in the
	 * artifact's __schedule hook, not per uninterrupted run. */
	u64 pick_used;
	u64 enq_at;    /* when it was last queued (0 = not queued) */
	u64 first_seen;/* CLOCK_MONOTONIC of its first enqueue: arrival of cgroup-mapped work */
	u64 served;    /* weighted CPU received (ns x 100 / weight): the aging key's own clock */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} alps_tctx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * ALPS_POLICY_MAX);
	__type(key, u64);
	__type(value, struct alps_policy_entry);
} alps_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct alps_ctl);
} alps_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ALPS_ST_NR);
	__type(key, u32);
	__type(value, u64);
} alps_stats SEC(".maps");

/* CPU time of each completed pick of a function task (slice used up or rank-preempted while
 * runnable), in 250 us buckets: how precisely learned slices are enforced. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HIST_BUCKETS);
	__type(key, u32);
	__type(value, u64);
} alps_run_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct alps_exit_info);
} alps_exit SEC(".maps");

struct cpu_state {
	struct bpf_timer timer;
	u32 pid;        /* task running on this CPU (0 = none of ours) */
	u32 pad;
	u64 rank;       /* its aged priority (level_of; 0 = untagged) */
	u64 seq;        /* increments at every ops.running */
	u64 armed_seq;  /* run the slice timer was armed for */
	u64 guard_until;/* learned-slice protection from rank preemption */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_CPUS);
	__type(key, u32);
	__type(value, struct cpu_state);
} alps_cpus SEC(".maps");

static u64 vtime_now;
static u64 age_epoch; /* CLOCK_MONOTONIC at init: levels count from here */

/* Where timeout_ms sits in this kernel's struct sched_ext_ops, so loaders can patch the
 * watchdog timeout into the struct_ops data before load without knowing the layout. */
const volatile u32 alps_ops_timeout_off = __builtin_offsetof(struct sched_ext_ops, timeout_ms);

static __always_inline void stat_add(u32 idx)
{
	u64 *v = bpf_map_lookup_elem(&alps_stats, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline struct alps_ctl *ctl(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&alps_ctl, &zero);
}

static __always_inline u64 default_slice(struct alps_ctl *c)
{
	return c && c->default_slice_ns ? c->default_slice_ns : DEFAULT_SLICE;
}

/* Rank and slice of `p` under the active policy half; rank 0 = default treatment. */
static __always_inline void policy_of(struct task_struct *p, struct alps_ctl *c, u32 *rank, u64 *slice, u64 *learned)
{
	*rank = 0;
	*slice = default_slice(c);
	*learned = 0;
	if (!c)
		return;
	struct alps_tag *tag = bpf_task_storage_get(&alps_tags, p, 0, 0);
	u32 func = tag && tag->func_id ? tag->func_id : cgroup_func(p);
	if (!func)
		return;
	u64 key = ((u64)(c->active_half & 1) << 32) | func;
	struct alps_policy_entry *e = bpf_map_lookup_elem(&alps_policy, &key);
	if (!e || !e->valid)
		return;
	*rank = e->rank;
	if (e->slice_ns) {
		*slice = e->slice_ns;
		*learned = e->slice_ns;
	}
}

/* Aging key of a function task (0 for rank 0, lower first): see AGE_NS. Arrival is the
 * invocation's tag time (CLOCK_MONOTONIC, shared by its whole process tree), else the task's
 * first enqueue. Saturates below FUNC_REGION (after ~146 years of uptime). */
static __always_inline u64 level_of(struct task_struct *p, struct task_ctx *tc, u32 rank)
{
	if (!rank)
		return 0;
	struct alps_tag *tag = bpf_task_storage_get(&alps_tags, p, 0, 0);
	u64 arr = tag && tag->arrival_ns ? tag->arrival_ns : (tc ? tc->first_seen : 0);
	u64 level = (arr > age_epoch ? arr - age_epoch : 0) + (u64)rank * AGE_NS + (tc ? tc->served : 0);
	return level < FUNC_REGION ? level : FUNC_REGION - 1;
}

s32 BPF_STRUCT_OPS(alps_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	struct alps_ctl *c = ctl();
	s32 cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle && !(c && c->stall_dispatch)) {
		u32 rank;
		u64 slice, learned;
		policy_of(p, c, &rank, &slice, &learned);
		stat_add(ALPS_ST_SELECT_IDLE);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice, 0);
	}
	return cpu;
}

struct victim_ctx {
	u64 now;
	u64 worst;
	s32 victim;
};

static long victim_scan(u64 i, void *data)
{
	struct victim_ctx *vc = data;
	u32 key = (u32)i;
	struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &key);
	if (st && st->pid && st->rank > vc->worst && vc->now >= st->guard_until) {
		vc->worst = st->rank;
		vc->victim = (s32)key;
	}
	return 0;
}

void BPF_STRUCT_OPS(alps_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct alps_ctl *c = ctl();
	u32 rank;
	u64 slice, learned;
	stat_add(ALPS_ST_ENQUEUE);
	/* Per-CPU kthreads (ksoftirqd runs the BPF slice timers under load, kworkers) run
	 * next on their CPU: they are short, and delaying them delays everything else. */
	if ((p->flags & PF_KTHREAD) && p->nr_cpus_allowed == 1) {
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, default_slice(c), enq_flags | SCX_ENQ_PREEMPT);
		return;
	}
	policy_of(p, c, &rank, &slice, &learned);
	struct task_ctx *tc = bpf_task_storage_get(&alps_tctx, p, 0, 0);
	if (tc) {
		tc->enq_at = scx_bpf_now();
		if (!tc->first_seen)
			tc->first_seen = bpf_ktime_get_ns();
	}
	if (learned && tc && tc->pick_used && tc->pick_used < learned)
		slice = learned - tc->pick_used; /* resume an interrupted pick */
	else if (tc)
		tc->pick_used = 0;
	if (rank)
		stat_add(ALPS_ST_ENQ_TAGGED);
	if (rank > ALPS_MAX_RANK)
		rank = ALPS_MAX_RANK;

	/* Bound the credit a sleeper can bank: at most one default slice behind. */
	u64 vt = p->scx.dsq_vtime;
	u64 floor = vtime_now > default_slice(c) ? vtime_now - default_slice(c) : 0;
	if (vt < floor)
		vt = floor;
	p->scx.dsq_vtime = vt;
	u64 level = level_of(p, tc, rank);
	u64 key = rank ? FUNC_REGION | level : vt & (FUNC_REGION - 1);
	scx_bpf_dsq_insert_vtime(p, ALPS_DSQ, slice, key, enq_flags);

	/* Get it a CPU: an idle one, else preempt the CPU running the worst (aged) level that
	 * is higher than this task's and is past its learned-slice protection. */
	s32 idle = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	if (idle >= 0) {
		scx_bpf_kick_cpu(idle, SCX_KICK_IDLE);
		return;
	}
	/* bpf_loop: the callback is verified once, so the CPU scan does not multiply states. */
	struct victim_ctx vc = {.now = scx_bpf_now(), .worst = level, .victim = -1};
	u32 n = scx_bpf_nr_cpu_ids();
	bpf_loop(n < MAX_CPUS ? n : MAX_CPUS, victim_scan, &vc, 0);
	s32 victim = vc.victim;
	if (victim >= 0) {
		stat_add(ALPS_ST_RANK_PREEMPT);
		scx_bpf_kick_cpu(victim, SCX_KICK_PREEMPT);
	}
}

void BPF_STRUCT_OPS(alps_dispatch, s32 cpu, struct task_struct *prev)
{
	struct alps_ctl *c = ctl();
	if (c && c->stall_dispatch)
		return; /* test hook: starve the DSQ so the watchdog must eject us */
	stat_add(ALPS_ST_DISPATCH);
	/* Look at the few lowest-priority queued tasks first: one that has waited STARVE_NS
	 * goes straight to this CPU. */
	struct bpf_iter_scx_dsq it;
	struct task_struct *q;
	u64 now = scx_bpf_now();
	bool moved = false;
	bpf_iter_scx_dsq_new(&it, ALPS_DSQ, SCX_DSQ_ITER_REV);
	for (int i = 0; i < STARVE_SCAN; i++) {
		q = bpf_iter_scx_dsq_next(&it);
		if (!q)
			break;
		struct task_ctx *tc = bpf_task_storage_get(&alps_tctx, q, 0, 0);
		if (!tc || !tc->enq_at || now < tc->enq_at + STARVE_NS)
			continue;
		if (scx_bpf_dsq_move(&it, q, SCX_DSQ_LOCAL, 0)) {
			stat_add(ALPS_ST_STARVED);
			moved = true;
			break;
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	if (!moved)
		scx_bpf_dsq_move_to_local(ALPS_DSQ);
}

static int slice_timer_fn(void *map, int *key, struct cpu_state *st)
{
	s32 cpu = *key;
	if (st->armed_seq != st->seq || !st->pid)
		return 0; /* that run already ended */
	struct task_struct *curr = scx_bpf_cpu_curr(cpu);
	if (curr && (u32)curr->pid == st->pid) {
		stat_add(ALPS_ST_TIMER_PREEMPT);
		scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
	}
	return 0;
}

void BPF_STRUCT_OPS(alps_running, struct task_struct *p)
{
	u64 now = scx_bpf_now();
	struct task_ctx *tc = bpf_task_storage_get(&alps_tctx, p, 0, 0);
	if (tc) {
		tc->run_start = now;
		tc->enq_at = 0;
	}
	if ((s64)(p->scx.dsq_vtime - vtime_now) > 0)
		vtime_now = p->scx.dsq_vtime;
	u32 cpu = (u32)scx_bpf_task_cpu(p);
	struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &cpu);
	if (!st)
		return;
	struct alps_ctl *c = ctl();
	u32 rank;
	u64 slice, learned;
	policy_of(p, c, &rank, &slice, &learned);
	u64 left = learned;
	if (learned && tc && tc->pick_used < learned)
		left = learned - tc->pick_used;
	st->pid = (u32)p->pid;
	st->rank = level_of(p, tc, rank);
	st->seq++;
	st->guard_until = learned ? now + left : 0;
	if (learned) {
		st->armed_seq = st->seq;
		bpf_timer_start(&st->timer, left, BPF_F_TIMER_CPU_PIN_);
	}
}

void BPF_STRUCT_OPS(alps_stopping, struct task_struct *p, bool runnable)
{
	u64 now = scx_bpf_now();
	struct task_ctx *tc = bpf_task_storage_get(&alps_tctx, p, 0, 0);
	u32 cpu = (u32)scx_bpf_task_cpu(p);
	struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &cpu);
	if (st) {
		st->pid = 0;
		st->rank = 0;
		st->guard_until = 0;
	}
	if (!tc || !tc->run_start || now < tc->run_start)
		return;
	u64 used = now - tc->run_start;
	tc->run_start = 0;
	u32 w = p->scx.weight ? p->scx.weight : 100;
	p->scx.dsq_vtime += used * 100 / w;
	tc->served += used * 100 / w;
	tc->pick_used += used;
	if (!runnable) {
		tc->pick_used = 0; /* blocked: the next wakeup starts a new pick */
		return;
	}
	struct alps_ctl *c = ctl();
	u32 rank;
	u64 slice, learned;
	policy_of(p, c, &rank, &slice, &learned);
	if (!rank || (learned && tc->pick_used + PICK_DONE_SLACK_NS < learned))
		return; /* untagged, or a learned pick interrupted by a kthread: it resumes */
	/* A pick ended (slice used up, or rank-preempted): record its CPU time. */
	u32 b = tc->pick_used / HIST_BUCKET_NS;
	if (b >= HIST_BUCKETS)
		b = HIST_BUCKETS - 1;
	u64 *h = bpf_map_lookup_elem(&alps_run_hist, &b);
	if (h)
		__sync_fetch_and_add(h, 1);
	tc->pick_used = 0;
}

void BPF_STRUCT_OPS(alps_enable, struct task_struct *p)
{
	p->scx.dsq_vtime = vtime_now;
}

/* Per-task context, and fork inheritance of the function tag: init_task(fork) runs in the
 * parent's context, before the child first runs. */
s32 BPF_STRUCT_OPS_SLEEPABLE(alps_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	if (!bpf_task_storage_get(&alps_tctx, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE))
		return -ENOMEM;
	if (args->fork) {
		struct task_struct *parent = bpf_get_current_task_btf();
		struct alps_tag *pt = bpf_task_storage_get(&alps_tags, parent, 0, 0);
		if (pt && pt->func_id) {
			struct alps_tag copy = *pt;
			struct alps_tag *ct = bpf_task_storage_get(&alps_tags, p, &copy, BPF_LOCAL_STORAGE_GET_F_CREATE);
			if (ct) {
				*ct = copy;
				stat_add(ALPS_ST_INHERIT);
			}
		}
	}
	return 0;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(alps_init)
{
	age_epoch = bpf_ktime_get_ns();
	s32 err = scx_bpf_create_dsq(ALPS_DSQ, -1);
	if (err)
		return err;
	u32 n = scx_bpf_nr_cpu_ids();
	for (u32 i = 0; i < MAX_CPUS; i++) {
		if (i >= n)
			break;
		u32 key = i; /* keep the loop variable in a register: bounded loop */
		struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &key);
		if (!st)
			return -ENOENT;
		bpf_timer_init(&st->timer, &alps_cpus, CLOCK_MONOTONIC);
		bpf_timer_set_callback(&st->timer, slice_timer_fn);
	}
	return 0;
}

void BPF_STRUCT_OPS_SLEEPABLE(alps_exit_op, struct scx_exit_info *ei)
{
	u32 zero = 0;
	struct alps_exit_info *x = bpf_map_lookup_elem(&alps_exit, &zero);
	if (!x)
		return;
	x->exit_cpu = ei->exit_cpu;
	x->exit_code = ei->exit_code;
	bpf_probe_read_kernel_str(x->reason, sizeof(x->reason), ei->reason);
	bpf_probe_read_kernel_str(x->msg, sizeof(x->msg), ei->msg);
	x->kind = ei->kind; /* last: userspace treats kind != 0 as "exit info complete" */
}

SEC(".struct_ops.link")
struct sched_ext_ops alps_ops = {
	.select_cpu = (void *)alps_select_cpu,
	.enqueue = (void *)alps_enqueue,
	.dispatch = (void *)alps_dispatch,
	.running = (void *)alps_running,
	.stopping = (void *)alps_stopping,
	.enable = (void *)alps_enable,
	.init_task = (void *)alps_init_task,
	.init = (void *)alps_init,
	.exit = (void *)alps_exit_op,
	.timeout_ms = 30000, /* the kernel's maximum; loaders may lower it */
	.name = "alps",
};
