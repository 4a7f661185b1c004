/* ALPS on sched_ext: enforce one learned Policy {funcId -> rank, slice, E[CPU]} in the kernel
 * with the ALPS rule (src/core/alps-rule.ts; docs/scx.md "The ALPS rule"; its constants come
 * from the generated alps_rule.h):
 *
 *   level 0  ordinary: untagged work                      -> ORD_DSQ, key vtime
 *            (weighted virtual time: fair, nice respected); function work never runs ahead
 *            of the host's own work (the invoker, the agent, daemons)
 *   level 1  overdue: a function task past its escape deadline
 *            d = arrival + ALPS_ESCAPE_SLOWDOWN x E[CPU]   -> OVERDUE_DSQ, key: overdue
 *            degree (now - arrival) / (d - arrival), higher first | rank | d
 *   level 1+r ranked: rank r                              -> RANK_DSQ, key r<<50 | arrival
 *            (rank-major, oldest invocation first within a rank); a function without a
 *            policy entry at ALPS_UNKNOWN_FUNCTION_RANK with the default E[CPU]
 *
 * Preemption: an enqueued task kicks (SCX_KICK_PREEMPT) the CPU running the worst level
 * strictly above its own, among the CPUs it may run on; a claim (CAS on the CPU's run sequence)
 * keeps concurrent enqueuers from all picking the same victim. Nothing else preempts.
 * Slice protection: a learned slice is armed as a per-CPU BPF timer (HZ=250 ticks are too
 * coarse); at slice end (timer kick, tick, or slice exhausted) ops.dispatch keeps prev running
 * for another slice when it still orders before every queued head, else it queues again.
 * Tail bound: a rate-limited walk of RANK_DSQ in ops.dispatch moves tasks whose deadline passed
 * to OVERDUE_DSQ, and of OVERDUE_DSQ re-keys tasks whose degree grew; ops.tick kicks its CPU
 * when the earliest queued deadline has passed and the CPU runs a ranked (not overdue) task, so
 * an escape waits at most one tick.
 * Safety net (BPF only): a DSQ head queued longer than ALPS_STARVE_NS is dispatched first, so
 * no task reaches the kernel watchdog; the watchdog timeout is at least ALPS_WATCHDOG_MIN_MS.
 *
 * Per task, the policy is looked up once and cached with the policy generation, the task's
 * cgroup and its launcher tag; a new generation, a cgroup move or a (re)tag refreshes it. A cgroup mapping matches the task's
 * cgroup or any ancestor (ALPS_CG_DEPTH levels); a cgroup move to a mapped cgroup wins over an
 * older launcher tag. A cgroup-mapped task's invocation arrives when it wakes from sleep.
 * Full switch mode: every task is ours.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "alps_common.h"
#include "alps_rule.h"
#include "alps_kfuncs.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define OVERDUE_DSQ 1
#define ORD_DSQ 2
#define RANK_DSQ 3
#define MAX_CPUS 1024
#define DEFAULT_SLICE 5000000ULL
#define HIST_BUCKET_NS 250000ULL
#define HIST_BUCKETS 64
#define CLOCK_MONOTONIC 1
#define BPF_F_TIMER_CPU_PIN_ (1ULL << 1)
#define PF_KTHREAD 0x00200000
#define PICK_DONE_SLACK_NS 100000ULL /* a pick within 100 us of its slice counts as complete */
#define ESCAPE_SCAN_NS 2000000ULL    /* RANK_DSQ walked for passed deadlines at most every 2 ms */
#define ALPS_CG_DEPTH 8              /* cgroup ancestors checked for a function mapping */
#define BPF_FOR_EACH_ITER (&___it) /* the iterator of libbpf's bpf_for_each */
#define RANK_KEY_MASK ((1ULL << ALPS_RANK_KEY_SHIFT) - 1)
#define OVERDUE_DL_MASK ((1ULL << 42) - 1) /* 42 bits of us: 50 days */
#define ENOMEM 12
#define E2BIG 7
#define BPF_STRUCT_OPS(name, args...) SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

#include "alps_maps.bpf.h"

struct task_ctx {
	u64 run_start;
	/* CPU used in the current pick of a learned slice, across interruptions by per-CPU
	 * kthreads: the learned slice is a budget per pick, as in the artifact's __schedule hook. */
	u64 pick_used;
	u64 enq_at;    /* scx_bpf_now() when last queued (0 = not queued) */
	u64 arrival;   /* CLOCK_MONOTONIC arrival of its invocation (tag, else wakeup/first runnable) */
	u64 vtime;     /* weighted virtual time (ordinary level) */
	/* policy cache: valid while gen == alps_ctl.generation + 1 and cgid is its cgroup */
	u64 gen;
	u64 cgid;
	u64 slice;     /* slice of a pick (learned, else default) */
	u64 learned;   /* learned slice (0 = none) */
	u64 deadline;  /* escape deadline (CLOCK_MONOTONIC; 0 = none: not ranked) */
	u64 tag_arrival; /* launcher tag the cache was computed with */
	u32 tag_func;
	u32 rank;      /* 0 = ordinary */
	u32 func;
	u32 cg_func;   /* function of its cgroup (0 = none) */
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

/* Counters, per CPU (no shared cache line on the hot path); userspace sums them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ALPS_ST_NR);
	__type(key, u32);
	__type(value, u64);
} alps_stats SEC(".maps");

/* CPU time of each completed pick of a function task (slice used up or preempted while
 * runnable), in 250 us buckets: how precisely learned slices are enforced. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
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
	u32 pid;        /* task running on this CPU (0 = none) */
	u32 level;      /* its level under the rule */
	u64 seq;        /* increments at every ops.running */
	u64 armed_seq;  /* run the slice timer was armed for */
	u64 claimed_seq;/* run an enqueuer already kicked (one preemption per run) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_CPUS);
	__type(key, u32);
	__type(value, struct cpu_state);
} alps_cpus SEC(".maps");

static u64 vtime_now;     /* ordinary level's virtual clock */
static u64 age_epoch;     /* CLOCK_MONOTONIC at init: ranked keys count arrival from here */
static u64 next_escape;   /* earliest deadline of a task put in RANK_DSQ since the last walk */
static u64 last_escape_scan;
static u32 nr_cpus;

/* Where timeout_ms sits in this kernel's struct sched_ext_ops, so loaders can patch the
 * watchdog timeout into the struct_ops data before load without knowing the layout. */
const volatile u32 alps_ops_timeout_off = __builtin_offsetof(struct sched_ext_ops, timeout_ms);

static __always_inline void stat_add(u32 idx)
{
	u64 *v = bpf_map_lookup_elem(&alps_stats, &idx);
	if (v)
		(*v)++;
}

/* One completed pick of a function task, `ns` of CPU, into the 250 us histogram. */
static __always_inline void hist_add(u64 ns)
{
	u32 b = ns / HIST_BUCKET_NS;
	if (b >= HIST_BUCKETS)
		b = HIST_BUCKETS - 1;
	u64 *h = bpf_map_lookup_elem(&alps_run_hist, &b);
	if (h)
		(*h)++;
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

/* Function of the task's cgroup or its nearest mapped ancestor (0 = none). */
static u32 cgroup_func(struct task_struct *p, u64 *leaf_id)
{
	struct cgroup *cg = BPF_CORE_READ(p, cgroups, dfl_cgrp);
	*leaf_id = BPF_CORE_READ(cg, kn, id);
	int level = BPF_CORE_READ(cg, level);
	for (int i = 0; i < ALPS_CG_DEPTH; i++) {
		if (level - i < 1)
			break;
		struct cgroup *a = BPF_CORE_READ(cg, ancestors[level - i]);
		u64 id = BPF_CORE_READ(a, kn, id);
		u32 *f = bpf_map_lookup_elem(&alps_cgfuncs, &id);
		if (f && *f)
			return *f;
	}
	return 0;
}

/* Refresh the task's cached policy if the policy generation or its cgroup changed. */
static __always_inline void task_policy(struct task_struct *p, struct task_ctx *tc, struct alps_ctl *c)
{
	u64 gen = c ? c->generation + 1 : 0;
	u64 cgid = BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);
	/* The launcher tags a task after it has already run (by pidfd, then exec): the tag is part
	 * of the cache key. One task-storage lookup; the policy hash lookup is what is cached. */
	struct alps_tag *tag = bpf_task_storage_get(&alps_tags, p, 0, 0);
	u32 tag_func = tag ? tag->func_id : 0;
	u64 tag_arrival = tag ? tag->arrival_ns : 0;
	if (tc->gen == gen && tc->cgid == cgid && gen && tc->tag_func == tag_func && tc->tag_arrival == tag_arrival)
		return;
	tc->tag_func = tag_func;
	tc->tag_arrival = tag_arrival;
	if (tc->cgid != cgid) {
		u64 leaf;
		u32 cf = cgroup_func(p, &leaf);
		/* A move into a mapped cgroup starts a new invocation of that function. */
		if (cf && cf != tc->cg_func && tc->cgid)
			tc->arrival = bpf_ktime_get_ns();
		tc->cg_func = cf;
		tc->cgid = cgid;
	}
	tc->gen = gen;
	/* The cgroup mapping wins over the launcher tag only when it is newer (a later move). */
	u32 func = tc->cg_func ? tc->cg_func : (tag ? tag->func_id : 0);
	if (tag && tag->func_id && tc->cg_func && tag->arrival_ns > tc->arrival)
		func = tag->func_id;
	if (tag && tag->func_id == func && tag->arrival_ns)
		tc->arrival = tag->arrival_ns;
	tc->func = func;
	tc->rank = 0;
	tc->learned = 0;
	tc->slice = default_slice(c);
	tc->deadline = 0;
	if (!func || !c || !c->functions)
		return; /* untagged, or the cold start: nothing learned yet, function work is ordinary */
	/* A function the policy does not know (not learned yet, or expired) ranks behind every
	 * learned rank, with the default E[CPU] for its deadline (alps_rule.h, functionRank). */
	tc->rank = ALPS_UNKNOWN_FUNCTION_RANK;
	u64 expect = ALPS_ESCAPE_DEFAULT_EXPECTED_CPU_NS;
	u64 key = ((u64)(c->active_half & 1) << 32) | func;
	struct alps_policy_entry *e = bpf_map_lookup_elem(&alps_policy, &key);
	if (e && e->valid && e->rank) {
		tc->rank = e->rank < ALPS_MAX_RANK ? e->rank : ALPS_MAX_RANK;
		if (e->slice_ns) {
			tc->slice = e->slice_ns;
			tc->learned = e->slice_ns;
		}
		if (e->expected_cpu_ns)
			expect = e->expected_cpu_ns;
	}
	tc->deadline = tc->arrival + ALPS_ESCAPE_SLOWDOWN * expect;
}

/* The rule's level of a task with a fresh cache, at CLOCK_MONOTONIC `mono`. */
static __always_inline u32 level_of(struct task_ctx *tc, u64 mono)
{
	if (!tc->rank)
		return ALPS_LEVEL_ORDINARY;
	if (mono >= tc->deadline)
		return ALPS_LEVEL_OVERDUE;
	return ALPS_LEVEL_OVERDUE + tc->rank;
}

/* Overdue degree: how many times its budget d - arrival it has been in the system. */
static __always_inline u64 degree_of(struct task_ctx *tc, u64 mono)
{
	u64 budget = tc->deadline > tc->arrival ? tc->deadline - tc->arrival : 1;
	u64 d = mono > tc->arrival ? (mono - tc->arrival) / budget : 0;
	return d < ALPS_MAX_OVERDUE_DEGREE ? d : ALPS_MAX_OVERDUE_DEGREE;
}

/* The rule's key within a level. Overdue: degree (higher first) | rank | deadline in us. */
static __always_inline u64 key_of(struct task_ctx *tc, u32 level, u64 mono)
{
	if (level == ALPS_LEVEL_OVERDUE) {
		u64 d = tc->deadline > age_epoch ? (tc->deadline - age_epoch) / ALPS_ARRIVAL_KEY_UNIT_NS : 0;
		if (d > OVERDUE_DL_MASK)
			d = OVERDUE_DL_MASK;
		return ((ALPS_MAX_OVERDUE_DEGREE - degree_of(tc, mono)) << 56) | ((u64)tc->rank << 42) | d;
	}
	if (level == ALPS_LEVEL_ORDINARY)
		return tc->vtime;
	u64 a = tc->arrival > age_epoch ? (tc->arrival - age_epoch) / ALPS_ARRIVAL_KEY_UNIT_NS : 0;
	if (a > RANK_KEY_MASK)
		a = RANK_KEY_MASK;
	return ((u64)tc->rank << ALPS_RANK_KEY_SHIFT) | a;
}

static __always_inline u64 dsq_of(u32 level)
{
	return level == ALPS_LEVEL_OVERDUE ? OVERDUE_DSQ : level == ALPS_LEVEL_ORDINARY ? ORD_DSQ : RANK_DSQ;
}

/* (level a, key a) orders strictly before (level b, key b). */
static __always_inline bool rule_before(u32 la, u64 ka, u32 lb, u64 kb)
{
	return la < lb || (la == lb && ka < kb);
}

static __always_inline struct task_ctx *tctx(struct task_struct *p)
{
	return bpf_task_storage_get(&alps_tctx, p, 0, 0);
}

/* Idle CPU for p: prev if idle, else one in prev's LLC, else any (the kernel's default picker
 * does this in that order, honouring p->cpus_ptr). */
s32 BPF_STRUCT_OPS(alps_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	struct alps_ctl *c = ctl();
	s32 cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle && !(c && c->stall_dispatch)) {
		struct task_ctx *tc = tctx(p);
		u64 slice = default_slice(c);
		if (tc) {
			task_policy(p, tc, c);
			slice = tc->slice;
		}
		stat_add(ALPS_ST_SELECT_IDLE);
		/* Local DSQ of the returned CPU, which the default picker took from p->cpus_ptr. */
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice, 0);
	}
	return cpu;
}

struct victim_ctx {
	struct task_struct *p;
	u32 worst;
	s32 victim;
	u64 seq;
};

static long victim_scan(u64 i, void *data)
{
	struct victim_ctx *vc = data;
	u32 key = (u32)i;
	struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &key);
	if (!st || !st->pid || st->level <= vc->worst || st->claimed_seq == st->seq)
		return 0;
	if (!bpf_cpumask_test_cpu(key, vc->p->cpus_ptr))
		return 0;
	vc->worst = st->level;
	vc->victim = (s32)key;
	vc->seq = st->seq;
	return 0;
}

void BPF_STRUCT_OPS(alps_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct alps_ctl *c = ctl();
	stat_add(ALPS_ST_ENQUEUE);
	/* Per-CPU kthreads (ksoftirqd runs the BPF slice timers under load, kworkers) run next on
	 * their only CPU, which is the CPU enqueueing them. */
	if ((p->flags & PF_KTHREAD) && p->nr_cpus_allowed == 1) {
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, default_slice(c), enq_flags | SCX_ENQ_PREEMPT);
		return;
	}
	struct task_ctx *tc = tctx(p);
	if (!tc) {
		scx_bpf_error("enqueue: %d has no task context", p->pid);
		return;
	}
	task_policy(p, tc, c);
	tc->enq_at = scx_bpf_now();
	u64 slice = tc->slice;
	if (tc->learned && tc->pick_used && tc->pick_used < tc->learned)
		slice = tc->learned - tc->pick_used; /* resume an interrupted pick */
	else
		tc->pick_used = 0;
	if (tc->rank)
		stat_add(ALPS_ST_ENQ_TAGGED);
	/* Bound the credit a sleeper can bank: at most one default slice behind. */
	u64 floor = vtime_now > default_slice(c) ? vtime_now - default_slice(c) : 0;
	if (tc->vtime < floor)
		tc->vtime = floor;
	u64 mono = bpf_ktime_get_ns();
	u32 level = level_of(tc, mono);
	scx_bpf_dsq_insert_vtime(p, dsq_of(level), slice, key_of(tc, level, mono), enq_flags);
	if (level != ALPS_LEVEL_ORDINARY) {
		/* When its level or overdue degree changes next: the escape walk must run then. */
		u64 budget = tc->deadline > tc->arrival ? tc->deadline - tc->arrival : 1;
		u64 at = level == ALPS_LEVEL_OVERDUE ? tc->arrival + (degree_of(tc, mono) + 1) * budget : tc->deadline;
		u64 ne = next_escape;
		if (!ne || at < ne)
			__sync_val_compare_and_swap(&next_escape, ne, at);
	}

	/* Get it a CPU: an idle one it may use, else preempt the CPU running the worst level
	 * strictly above its own (the rule's preemption), among its allowed CPUs. */
	s32 idle = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	if (idle >= 0) {
		scx_bpf_kick_cpu(idle, SCX_KICK_IDLE);
		return;
	}
	struct victim_ctx vc = {.p = p, .worst = level, .victim = -1};
	bpf_loop(nr_cpus, victim_scan, &vc, 0);
	if (vc.victim < 0)
		return;
	u32 vkey = (u32)vc.victim;
	struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &vkey);
	/* Claim this run of the victim (lavd-style CAS): only one enqueuer kicks it. */
	if (!st)
		return;
	u64 old = st->claimed_seq;
	if (old != vc.seq && __sync_val_compare_and_swap(&st->claimed_seq, old, vc.seq) == old) {
		stat_add(ALPS_ST_RANK_PREEMPT);
		scx_bpf_kick_cpu(vc.victim, SCX_KICK_PREEMPT);
	}
}

/* Move RANK_DSQ tasks whose escape deadline passed to OVERDUE_DSQ, and re-key overdue tasks
 * whose degree grew; next_escape becomes the earliest such change still ahead. */
static void escape_scan(u64 mono)
{
	u64 last = last_escape_scan;
	u64 ne = next_escape;
	if (!ne || mono < ne || mono < last + ESCAPE_SCAN_NS)
		return;
	if (__sync_val_compare_and_swap(&last_escape_scan, last, mono) != last)
		return; /* another CPU is walking */
	next_escape = 0;
	u64 earliest = 0;
	struct task_struct *q;
	bpf_for_each(scx_dsq, q, RANK_DSQ, 0) {
		struct task_ctx *tc = tctx(q);
		if (!tc || !tc->deadline)
			continue;
		if (mono >= tc->deadline) {
			scx_bpf_dsq_move_set_vtime(BPF_FOR_EACH_ITER, key_of(tc, ALPS_LEVEL_OVERDUE, mono));
			if (scx_bpf_dsq_move_vtime(BPF_FOR_EACH_ITER, q, OVERDUE_DSQ, 0))
				stat_add(ALPS_ST_ESCAPED);
		} else if (!earliest || tc->deadline < earliest) {
			earliest = tc->deadline;
		}
	}
	bpf_for_each(scx_dsq, q, OVERDUE_DSQ, 0) {
		struct task_ctx *tc = tctx(q);
		if (!tc || !tc->deadline)
			continue;
		u64 k = key_of(tc, ALPS_LEVEL_OVERDUE, mono);
		if (k != q->scx.dsq_vtime) {
			scx_bpf_dsq_move_set_vtime(BPF_FOR_EACH_ITER, k);
			scx_bpf_dsq_move_vtime(BPF_FOR_EACH_ITER, q, OVERDUE_DSQ, 0);
		}
		u64 budget = tc->deadline > tc->arrival ? tc->deadline - tc->arrival : 1;
		u64 next = tc->arrival + (degree_of(tc, mono) + 1) * budget;
		if (!earliest || next < earliest)
			earliest = next;
	}
	if (earliest) {
		u64 cur = next_escape;
		if (!cur || earliest < cur)
			__sync_val_compare_and_swap(&next_escape, cur, earliest);
	}
}

/* The head of `dsq` if it has waited at least ALPS_STARVE_NS. */
static __always_inline bool head_starving(u64 dsq, u64 now)
{
	struct task_struct *h = scx_bpf_dsq_peek(dsq);
	if (!h)
		return false;
	struct task_ctx *tc = tctx(h);
	return tc && tc->enq_at && now >= tc->enq_at + ALPS_STARVE_NS;
}

/* Level and key of the best queued head (level 0xffffffff: nothing queued). */
static __always_inline u32 best_head(u64 mono, u64 *key)
{
	/* In level order. OVERDUE_DSQ keys are kept current by the escape walk; a RANK_DSQ head
	 * whose deadline passed since is judged at its level now. */
	u64 dsqs[3] = {ORD_DSQ, OVERDUE_DSQ, RANK_DSQ};
	for (int i = 0; i < 3; i++) {
		struct task_struct *h = scx_bpf_dsq_peek(dsqs[i]);
		if (!h)
			continue;
		struct task_ctx *tc = tctx(h);
		if (!tc)
			continue;
		bool overdue_dsq = dsqs[i] == OVERDUE_DSQ;
		u32 l = overdue_dsq ? ALPS_LEVEL_OVERDUE : level_of(tc, mono);
		*key = overdue_dsq ? h->scx.dsq_vtime : key_of(tc, l, mono);
		return l;
	}
	return 0xffffffff;
}

void BPF_STRUCT_OPS(alps_dispatch, s32 cpu, struct task_struct *prev)
{
	struct alps_ctl *c = ctl();
	if (c && c->stall_dispatch)
		return; /* test hook: starve the DSQs so the watchdog must eject us */
	stat_add(ALPS_ST_DISPATCH);
	u64 mono = bpf_ktime_get_ns();
	u64 now = scx_bpf_now();
	escape_scan(mono);

	/* Safety net first: a head that has waited ALPS_STARVE_NS runs next (ordinary work can
	 * hold overdue and ranked work back without bound). */
	if (head_starving(OVERDUE_DSQ, now) && scx_bpf_dsq_move_to_local(OVERDUE_DSQ)) {
		stat_add(ALPS_ST_STARVED);
		return;
	}
	if (head_starving(RANK_DSQ, now) && scx_bpf_dsq_move_to_local(RANK_DSQ)) {
		stat_add(ALPS_ST_STARVED);
		return;
	}

	/* Slice end: prev keeps its CPU for another slice when it still orders before every head. */
	if (prev && (prev->scx.flags & SCX_TASK_QUEUED)) {
		struct task_ctx *tc = tctx(prev);
		if (tc) {
			task_policy(prev, tc, c);
			u32 pl = level_of(tc, mono);
			u64 hk = 0;
			u32 hl = best_head(mono, &hk);
			if (rule_before(pl, key_of(tc, pl, mono), hl, hk)) {
				/* Account the run so far. If the learned slice is used up this is a
				 * completed pick (recorded) and prev starts a new one; if not (a kick
				 * whose enqueuer lost to prev), the pick goes on with what is left. */
				u64 ran = tc->run_start && now > tc->run_start ? now - tc->run_start : 0;
				u32 w = prev->scx.weight ? prev->scx.weight : 100;
				tc->vtime += ran * 100 / w;
				u64 used = tc->pick_used + ran;
				u64 slice = tc->slice;
				if (tc->learned && used + PICK_DONE_SLACK_NS < tc->learned) {
					tc->pick_used = used;
					slice = tc->learned - used;
				} else {
					if (tc->rank)
						hist_add(used);
					tc->pick_used = 0;
				}
				tc->run_start = now;
				prev->scx.slice = slice;
				u32 key = (u32)cpu;
				struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &key);
				if (st) {
					/* A new run as far as preemption goes: earlier claims are void. */
					st->seq++;
					st->level = pl;
					if (tc->learned) {
						st->armed_seq = st->seq;
						bpf_timer_start(&st->timer, slice, BPF_F_TIMER_CPU_PIN_);
					}
				}
				stat_add(ALPS_ST_KEEP_PREV);
				return;
			}
		}
	}
	if (scx_bpf_dsq_move_to_local(ORD_DSQ))
		return;
	if (scx_bpf_dsq_move_to_local(OVERDUE_DSQ))
		return;
	scx_bpf_dsq_move_to_local(RANK_DSQ);
}

void BPF_STRUCT_OPS(alps_tick, struct task_struct *p)
{
	/* An escape deadline passed while this CPU runs a ranked task (a level above overdue):
	 * reschedule, so dispatch moves the overdue task and it runs (it preempts by level). */
	u64 ne = next_escape;
	if (!ne || bpf_ktime_get_ns() < ne)
		return;
	u32 cpu = (u32)scx_bpf_task_cpu(p);
	struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &cpu);
	if (st && st->level > ALPS_LEVEL_OVERDUE)
		p->scx.slice = 0;
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

void BPF_STRUCT_OPS(alps_runnable, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *tc = tctx(p);
	if (!tc)
		return;
	/* Arrival of work without a launcher tag: its first runnable, and for a cgroup-mapped
	 * sandbox every wakeup (a long-lived sandbox serves one invocation per wakeup). */
	struct alps_tag *tag = bpf_task_storage_get(&alps_tags, p, 0, 0);
	if (tag && tag->arrival_ns)
		return;
	if (!tc->arrival || (tc->cg_func && (enq_flags & SCX_ENQ_WAKEUP))) {
		tc->arrival = bpf_ktime_get_ns();
		tc->gen = 0; /* deadline follows the arrival */
	}
}

void BPF_STRUCT_OPS(alps_running, struct task_struct *p)
{
	u64 now = scx_bpf_now();
	struct task_ctx *tc = tctx(p);
	u32 cpu = (u32)scx_bpf_task_cpu(p);
	struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &cpu);
	if (!st) {
		scx_bpf_error("running: no state for CPU %u", cpu);
		return;
	}
	st->pid = (u32)p->pid;
	st->seq++;
	if (!tc) {
		st->level = ALPS_LEVEL_ORDINARY;
		return;
	}
	tc->run_start = now;
	tc->enq_at = 0;
	if (!tc->rank && (s64)(tc->vtime - vtime_now) > 0)
		vtime_now = tc->vtime;
	st->level = level_of(tc, bpf_ktime_get_ns());
	if (tc->learned) {
		u64 left = tc->pick_used < tc->learned ? tc->learned - tc->pick_used : tc->learned;
		st->armed_seq = st->seq;
		bpf_timer_start(&st->timer, left, BPF_F_TIMER_CPU_PIN_);
	}
}

void BPF_STRUCT_OPS(alps_stopping, struct task_struct *p, bool runnable)
{
	u64 now = scx_bpf_now();
	struct task_ctx *tc = tctx(p);
	u32 cpu = (u32)scx_bpf_task_cpu(p);
	struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &cpu);
	if (st) {
		st->pid = 0;
		st->level = 0;
	}
	if (!tc || !tc->run_start || now < tc->run_start)
		return;
	u64 used = now - tc->run_start;
	tc->run_start = 0;
	u32 w = p->scx.weight ? p->scx.weight : 100;
	tc->vtime += used * 100 / w;
	tc->pick_used += used;
	if (!runnable) {
		tc->pick_used = 0; /* blocked: the next wakeup starts a new pick */
		return;
	}
	if (!tc->rank || (tc->learned && tc->pick_used + PICK_DONE_SLACK_NS < tc->learned))
		return; /* ordinary, or a learned pick interrupted by a kthread: it resumes */
	/* A pick ended (slice used up, or preempted): record its CPU time. */
	hist_add(tc->pick_used);
	tc->pick_used = 0;
}

void BPF_STRUCT_OPS(alps_enable, struct task_struct *p)
{
	struct task_ctx *tc = tctx(p);
	if (tc)
		tc->vtime = vtime_now;
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

/* CPU hotplug: without these the kernel ejects the scheduler on any hotplug. A CPU going away
 * leaves no running task behind; queued work is in shared DSQs and moves to the others. */
void BPF_STRUCT_OPS_SLEEPABLE(alps_cpu_online, s32 cpu)
{
	stat_add(ALPS_ST_HOTPLUG);
}

void BPF_STRUCT_OPS_SLEEPABLE(alps_cpu_offline, s32 cpu)
{
	u32 key = (u32)cpu;
	struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &key);
	if (st) {
		st->pid = 0;
		st->level = 0;
	}
	stat_add(ALPS_ST_HOTPLUG);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(alps_init)
{
	age_epoch = bpf_ktime_get_ns();
	nr_cpus = scx_bpf_nr_cpu_ids();
	if (nr_cpus > MAX_CPUS) {
		scx_bpf_error("%u CPUs: this build handles at most %d", nr_cpus, MAX_CPUS);
		return -E2BIG;
	}
	s32 err = scx_bpf_create_dsq(OVERDUE_DSQ, -1);
	if (!err)
		err = scx_bpf_create_dsq(ORD_DSQ, -1);
	if (!err)
		err = scx_bpf_create_dsq(RANK_DSQ, -1);
	if (err)
		return err;
	for (u32 i = 0; i < MAX_CPUS; i++) {
		if (i >= nr_cpus)
			break;
		u32 key = i; /* keep the loop variable in a register: bounded loop */
		struct cpu_state *st = bpf_map_lookup_elem(&alps_cpus, &key);
		if (!st) {
			scx_bpf_error("init: no state for CPU %u", key);
			return -E2BIG;
		}
		bpf_timer_init(&st->timer, &alps_cpus, CLOCK_MONOTONIC);
		bpf_timer_set_callback(&st->timer, slice_timer_fn);
	}
	return 0;
}

/* Debug dump (error exit, SysRq-D): the scheduler's view, appended to the kernel's dump. */
void BPF_STRUCT_OPS(alps_dump, struct scx_dump_ctx *dctx)
{
	scx_bpf_dump("alps: queued overdue=%d ordinary=%d ranked=%d next_escape=%llu vtime_now=%llu\n",
		     scx_bpf_dsq_nr_queued(OVERDUE_DSQ), scx_bpf_dsq_nr_queued(ORD_DSQ),
		     scx_bpf_dsq_nr_queued(RANK_DSQ), next_escape, vtime_now);
}

/* UEI-style exit record: kind, code, reason, message and the head of the kernel's debug dump. */
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
	if (ei->dump)
		bpf_probe_read_kernel_str(x->dump, sizeof(x->dump), ei->dump);
	asm volatile("" ::: "memory");
	x->kind = ei->kind; /* last: userspace treats kind != 0 as "exit info complete" */
}

SEC(".struct_ops.link")
struct sched_ext_ops alps_ops = {
	.select_cpu = (void *)alps_select_cpu,
	.enqueue = (void *)alps_enqueue,
	.dispatch = (void *)alps_dispatch,
	.tick = (void *)alps_tick,
	.runnable = (void *)alps_runnable,
	.running = (void *)alps_running,
	.stopping = (void *)alps_stopping,
	.enable = (void *)alps_enable,
	.init_task = (void *)alps_init_task,
	.cpu_online = (void *)alps_cpu_online,
	.cpu_offline = (void *)alps_cpu_offline,
	.dump = (void *)alps_dump,
	.init = (void *)alps_init,
	.exit = (void *)alps_exit_op,
	.exit_dump_len = ALPS_EXIT_DUMP_LEN,
	.timeout_ms = 30000, /* the kernel's maximum; loaders may lower it to ALPS_WATCHDOG_MIN_MS */
	.name = "alps",
};
