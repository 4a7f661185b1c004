/* The kernel side of the ghOSt ABI (version 91) as a sched_ext scheduler.
 *
 * Model (ghost-kernel-semantics, carried onto sched_ext):
 *   - Partial switch: only SCHED_EXT tasks are ours; CFS runs everything else and wins a CPU over
 *     them, as CFS wins over SCHED_GHOST. Entering the enclave = sched_setscheduler(SCHED_EXT);
 *     leaving = exit or a policy change.
 *   - A runnable task the agent has not placed sits in one user DSQ (GHOST_SCX_DSQ). Nothing ever
 *     takes it from there except a committed transaction: ops.dispatch runs nothing from the
 *     enclave, so a CPU without a committed task runs CFS or idles.
 *   - COMMIT_TXN is the SEC("syscall") program ghost_commit, run by the agent with BPF_PROG_RUN.
 *     It validates each txn as ghOSt's kernel does, moves the target with scx_bpf_dsq_move to
 *     SCX_DSQ_LOCAL_ON|cpu with an infinite slice (a ghOSt task runs until it blocks, yields or is
 *     preempted) and kicks the CPU, then writes the txn state back.
 *   - Messages are produced in ghOSt's queue layout from the callbacks (TASK_NEW at the first
 *     runnable after enable, WAKEUP, BLOCKED, PREEMPT, YIELD, DEAD, DEPARTED, CPU_TICK, ON_CPU),
 *     each bumping the source's status-word barrier first, as ghOSt does.
 *   - Agent death: the loader holding the struct_ops link exits with the agent, sched_ext is
 *     disabled and every SCHED_EXT task continues under CFS. runnable_timeout is the sched_ext
 *     watchdog (timeout_ms), which ejects the scheduler with the same effect.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ghost_scx.h"

char LICENSE[] SEC("license") = "GPL";

#define BPF_STRUCT_OPS(name, args...) SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)
#define SLICE_INF (~0ULL)
#define PF_EXITING 0x00000004
#define SCHED_EXT_POLICY 7
#define EINVAL 22
#define ENOENT 2
#define ESTALE 116
#define EBUSY 16
#define ENODEV 19
#define ENOMEM 12
#define EALREADY 114
#define ENOSPC 28
#define EBADF 9
#define EOPNOTSUPP 95
#define ESRCH 3
#define NR_CPUS GHOST_SCX_MAX_CPUS
#define QMASK2 (2 * GHOST_SCX_QUEUE_ELEMS - 1)

extern void scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym;
extern s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
extern void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;
extern struct task_struct *scx_bpf_cpu_curr(s32 cpu) __ksym;
extern s32 scx_bpf_task_cpu(const struct task_struct *p) __ksym;
extern bool scx_bpf_task_running(const struct task_struct *p) __ksym;
extern u32 scx_bpf_nr_cpu_ids(void) __ksym;
extern int bpf_iter_scx_dsq_new(struct bpf_iter_scx_dsq *it, u64 dsq_id, u64 flags) __ksym;
extern struct task_struct *bpf_iter_scx_dsq_next(struct bpf_iter_scx_dsq *it) __ksym;
extern void bpf_iter_scx_dsq_destroy(struct bpf_iter_scx_dsq *it) __ksym;
extern bool scx_bpf_dsq_move(struct bpf_iter_scx_dsq *it__iter, struct task_struct *p, u64 dsq_id, u64 enq_flags) __ksym;
extern void scx_bpf_dsq_move_set_slice(struct bpf_iter_scx_dsq *it__iter, u64 slice) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;

/* ---- shared memory (mmapable: the client maps these as ghostfs files) ------------------------ */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, GHOST_SCX_MAX_CPUS);
	__type(key, u32);
	__type(value, struct ghost_cpu_data);
} ghost_cpu_data SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct ghost_sw_region);
} ghost_sw SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, GHOST_SCX_MAX_QUEUES);
	__type(key, u32);
	__type(value, struct ghost_queue_mem);
} ghost_queues SEC(".maps");

/* ---- private state --------------------------------------------------------------------------- */
/* Producer side of each queue: ghOSt keeps nelems and the wakeup list privately too (it never
 * trusts the mapped header after creation). */
struct queue_priv {
	struct bpf_spin_lock lock;
	u32 nelems; /* 0 = queue slot unused */
	s32 nwake;
	s32 wake[2];
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GHOST_SCX_MAX_QUEUES);
	__type(key, u32);
	__type(value, struct queue_priv);
} ghost_qpriv SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GHOST_SCX_MAX_CPUS);
	__type(key, u32);
	__type(value, struct ghost_cpu_state);
} ghost_cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct ghost_conf);
} ghost_conf SEC(".maps");

/* Agent wakeups (CONFIG_QUEUE_WAKEUP): one u32 CPU per wakeup; the agent blocks on it in RUN(0). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} ghost_wake SEC(".maps");

#define T_NEW_SENT 1u
#define T_YIELDING 2u
#define T_ON_CPU_MSG 4u /* the committing txn asked for TASK_ON_CPU */
#define T_WAS_ONCPU 8u
#define T_RAN 16u       /* has run on a CPU the agent gave it since TASK_NEW */  /* taken off its CPU by an attribute/policy change (quiescent w/o sleep) */
struct ghost_task {
	u64 gtid;
	u64 cpu_seqnum;
	u64 commit_ns;
	s32 sw;  /* status-word index */
	s32 qid; /* -1: the default queue when TASK_NEW is produced */
	u32 flags;
	s32 latched_cpu; /* committed and not yet running: its local DSQ's CPU, else -1 */
};
/* Keyed by TID: gtid = tid << 41 | incarnation, so a txn's gtid names its entry directly. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GHOST_SCX_SW_CAP);
	__type(key, u32);
	__type(value, struct ghost_task);
} ghost_tasks SEC(".maps");

const volatile u32 ghost_ops_timeout_off = __builtin_offsetof(struct sched_ext_ops, timeout_ms);

static __always_inline struct ghost_conf *conf(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&ghost_conf, &zero);
}
static __always_inline struct ghost_sw_region *region(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&ghost_sw, &zero);
}
static __always_inline struct ghost_status_word *sw_at(struct ghost_sw_region *r, s32 idx)
{
	/* The mask gives the verifier a bound even where clang re-derives the index after the
	 * range check; the check then excludes the two slots past the region. */
	u64 i = (u32)idx & 4095;
	if (!r || idx < 0 || i >= GHOST_SCX_SW_CAP)
		return NULL;
	asm volatile("" : "+r"(i));
	if (i >= GHOST_SCX_SW_CAP)
		return NULL;
	return &r->sw[i];
}
static __always_inline struct ghost_cpu_state *cpu_state(s32 cpu)
{
	u32 k = cpu;
	if (cpu < 0 || cpu >= NR_CPUS)
		return NULL;
	return bpf_map_lookup_elem(&ghost_cpus, &k);
}
static __always_inline void count(int i)
{
	struct ghost_conf *c = conf();
	if (c && i >= 0 && i < 8)
		__sync_fetch_and_add(&c->msgs[i], 1);
}

/* ---- message production (ghost-abi §5.3) ------------------------------------------------------ */
struct msg_buf {
	u32 w[16]; /* header (type|length, seqnum) + payload, at most 64 bytes */
};

static __always_inline void put_u64(struct msg_buf *m, int off, u64 v)
{
	/* off is a byte offset from the message start, 4-aligned */
	m->w[(off / 4) & 15] = (u32)v;
	m->w[(off / 4 + 1) & 15] = (u32)(v >> 32);
}
static __always_inline void put_u32(struct msg_buf *m, int off, u32 v)
{
	m->w[(off / 4) & 15] = v;
}

/* Wake the agent a queue names (ghost-abi §3.3 CONFIG_QUEUE_WAKEUP): the source CPU's agent if it
 * is listed, else the first listed one. Bumps that agent's barrier, as a ghOSt wakeup does. */
static void notify(struct queue_priv *qp, s32 src_cpu)
{
	s32 n = qp->nwake, target = -1;
	if (n <= 0)
		return;
	target = qp->wake[0];
	if (n > 1 && qp->wake[1] == src_cpu)
		target = src_cpu;
	struct ghost_cpu_state *cs = cpu_state(target);
	if (cs) {
		struct ghost_status_word *w = sw_at(region(), cs->agent_sw);
		if (w)
			__sync_fetch_and_add(&w->barrier, 1);
	}
	u32 cpu = target;
	bpf_ringbuf_output(&ghost_wake, &cpu, sizeof(cpu), 0);
	struct ghost_conf *c = conf();
	if (c)
		__sync_fetch_and_add(&c->wakes, 1);
}

/* Append one message to queue `qid` (len bytes incl. header, type/seqnum already in m). */
static void produce(s32 qid, struct msg_buf *m, u32 len, s32 src_cpu)
{
	struct ghost_conf *c = conf();
	if (qid < 0 && c)
		qid = c->default_q;
	if (qid < 0 || qid >= GHOST_SCX_MAX_QUEUES)
		return; /* no queue: the barrier moved, nothing is delivered (as on ghOSt) */
	u32 k = qid;
	struct ghost_queue_mem *q = bpf_map_lookup_elem(&ghost_queues, &k);
	struct queue_priv *qp = bpf_map_lookup_elem(&ghost_qpriv, &k);
	if (!q || !qp)
		return;
	u32 need = (len + 7) / 8;
	bool dropped = false;
	bpf_spin_lock(&qp->lock);
	u32 nelems = qp->nelems;
	if (nelems == 0 || nelems > GHOST_SCX_QUEUE_ELEMS) {
		bpf_spin_unlock(&qp->lock);
		return;
	}
	u32 mask = nelems - 1;
	u32 head = q->head;
	u32 tail = *(volatile u32 *)&q->tail;
	u32 used = head - tail;
	u32 idx = head & mask;
	u32 contig = nelems - idx;
	u32 skip = need > contig ? contig : 0;
	if (used > nelems || used + skip + need > nelems) {
		dropped = true;
	} else {
		if (skip) {
			/* MSG_NOP filler to the end of the ring; the message starts at slot 0 */
			u32 s = (idx * 2) & QMASK2;
			q->slots[s] = (u32)MSG_NOP | ((skip * 8) << 16);
			q->slots[(s + 1) & QMASK2] = 0;
			idx = 0;
		}
		u32 base = (idx * 2) & QMASK2;
		for (int i = 0; i < 16; i++) {
			if (i >= need * 2)
				break;
			q->slots[(base + i) & QMASK2] = m->w[i];
		}
		__sync_fetch_and_add(&q->head, skip + need); /* publish (fully ordered) */
	}
	if (dropped)
		__sync_fetch_and_add(&q->overflow, 1);
	bpf_spin_unlock(&qp->lock);
	if (dropped) {
		if (c)
			__sync_fetch_and_add(&c->overflows, 1);
		return;
	}
	notify(qp, src_cpu);
}

/* Bump the task barrier (release) and return the new value: the message's seqnum. */
static __always_inline u32 bump(struct ghost_status_word *w)
{
	return __sync_add_and_fetch(&w->barrier, 1);
}
static __always_inline void sw_set(struct ghost_status_word *w, u32 f)
{
	__sync_fetch_and_or(&w->flags, f);
}
static __always_inline void sw_clear(struct ghost_status_word *w, u32 f)
{
	__sync_fetch_and_and(&w->flags, ~f);
}

static __always_inline void hdr(struct msg_buf *m, u16 type, u16 len, u32 seq)
{
	m->w[0] = (u32)type | ((u32)len << 16);
	m->w[1] = seq;
}

static void task_msg(struct ghost_task *t, struct ghost_status_word *w, struct task_struct *p, u16 type, s32 cpu)
{
	struct msg_buf m = {};
	u32 seq = bump(w);
	u64 rt = p->se.sum_exec_runtime;
	w->runtime = rt;
	switch (type) {
	case MSG_TASK_NEW: /* gtid, parent_gtid, runtime, runnable u16, pad, nice, sw_info, agent_data */
		put_u64(&m, 8, t->gtid);
		put_u64(&m, 24, rt);
		put_u32(&m, 32, 1); /* produced at the first runnable: always runnable */
		put_u32(&m, 36, (u32)(p->static_prio - 120));
		put_u32(&m, 40, 0);      /* sw_info.id: region 0 */
		put_u32(&m, 44, t->sw);  /* sw_info.index */
		hdr(&m, type, 56, seq);
		count(0);
		produce(t->qid, &m, 56, cpu);
		return;
	case MSG_TASK_WAKEUP: /* gtid, agent_data, deferrable, last_ran_cpu, wake_up_cpu, waker_cpu */
		put_u64(&m, 8, t->gtid);
		put_u32(&m, 28, (u32)cpu);
		put_u32(&m, 32, (u32)cpu);
		put_u32(&m, 36, (u32)bpf_get_smp_processor_id());
		hdr(&m, type, 40, seq);
		count(1);
		produce(t->qid, &m, 40, cpu);
		return;
	case MSG_TASK_BLOCKED: /* gtid, runtime, cpu_seqnum, cpu, from_switchto */
		put_u64(&m, 8, t->gtid);
		put_u64(&m, 16, rt);
		put_u64(&m, 24, t->cpu_seqnum);
		put_u32(&m, 32, (u32)cpu);
		hdr(&m, type, 40, seq);
		count(2);
		produce(t->qid, &m, 40, cpu);
		return;
	case MSG_TASK_PREEMPT:
	case MSG_TASK_YIELD: /* gtid, runtime, cpu_seqnum, agent_data, cpu, from_switchto, was_latched */
		put_u64(&m, 8, t->gtid);
		put_u64(&m, 16, rt);
		put_u64(&m, 24, t->cpu_seqnum);
		put_u32(&m, 40, (u32)cpu);
		hdr(&m, type, 48, seq);
		count(type == MSG_TASK_PREEMPT ? 3 : 4);
		produce(t->qid, &m, 48, cpu);
		return;
	case MSG_TASK_DEAD: /* gtid, cpu */
		put_u64(&m, 8, t->gtid);
		put_u32(&m, 16, (u32)cpu);
		hdr(&m, type, 24, seq);
		count(5);
		produce(t->qid, &m, 24, cpu);
		return;
	case MSG_TASK_DEPARTED: /* gtid, cpu_seqnum, cpu, from_switchto, was_current */
		put_u64(&m, 8, t->gtid);
		put_u64(&m, 16, t->cpu_seqnum);
		put_u32(&m, 24, (u32)cpu);
		put_u32(&m, 28, ((t->flags & T_WAS_ONCPU) || scx_bpf_task_running(p)) ? (1u << 8) : 0);
		hdr(&m, type, 32, seq);
		count(6);
		produce(t->qid, &m, 32, cpu);
		return;
	case MSG_TASK_ON_CPU: /* gtid, commit_time, cpu_seqnum, cpu */
		put_u64(&m, 8, t->gtid);
		put_u64(&m, 16, t->commit_ns);
		put_u64(&m, 24, t->cpu_seqnum);
		put_u32(&m, 32, (u32)cpu);
		hdr(&m, type, 40, seq);
		produce(t->qid, &m, 40, cpu);
		return;
	}
}

/* ---- status-word allocation --------------------------------------------------------------------- */
struct alloc_ctx {
	struct ghost_sw_region *r;
	u32 start;
	s32 found;
};
static long alloc_one(u64 i, struct alloc_ctx *ac)
{
	u32 idx = (ac->start + (u32)i) % GHOST_SCX_SW_CAP;
	struct ghost_status_word *w = sw_at(ac->r, idx);
	if (!w)
		return 1;
	if (w->flags != 0)
		return 0;
	if (__sync_val_compare_and_swap(&w->flags, 0, GHOST_SW_F_ALLOCATED) != 0)
		return 0;
	ac->found = idx;
	return 1;
}
/* A fresh status word: barrier 0, ALLOCATED|INUSE|extra, owned by gtid. -1 when the region is full. */
static s32 sw_alloc(u64 gtid, u32 extra)
{
	struct ghost_conf *c = conf();
	struct alloc_ctx ac = { .r = region(), .start = 0, .found = -1 };
	if (!ac.r || !c)
		return -1;
	ac.start = (u32)c->sw_hint % GHOST_SCX_SW_CAP;
	bpf_loop(GHOST_SCX_SW_CAP, alloc_one, &ac, 0);
	struct ghost_status_word *w = sw_at(ac.r, ac.found);
	if (!w)
		return -1;
	c->sw_hint = ac.found + 1;
	w->barrier = 0;
	w->gtid = gtid;
	w->switch_time = 0;
	w->runtime = 0;
	__sync_fetch_and_sub(&ac.r->header.available, 1);
	__sync_fetch_and_or(&w->flags, GHOST_SW_F_INUSE | extra); /* INUSE last: a scanner sees a complete word */
	return ac.found;
}
static void sw_release(s32 idx)
{
	struct ghost_sw_region *r = region();
	struct ghost_status_word *w = sw_at(r, idx);
	if (!w || !r)
		return;
	w->gtid = 0;
	w->barrier = 0;
	w->flags = 0;
	__sync_fetch_and_add(&r->header.available, 1);
}

/* ---- sched_ext callbacks ------------------------------------------------------------------------ */
/* Never pick a CPU here: the built-in picker would dispatch straight to an idle CPU behind the
 * agent's back. The agent alone decides where a task runs. */
s32 BPF_STRUCT_OPS(ghost_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

void BPF_STRUCT_OPS(ghost_enqueue, struct task_struct *p, u64 enq_flags)
{
	u32 pid = p->pid;
	struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
	if (!t) {
		/* not an enclave task (its status word could not be allocated): keep it running */
		scx_bpf_dsq_insert(p, SCX_DSQ_GLOBAL, 0, enq_flags);
		return;
	}
	t->latched_cpu = -1;
	scx_bpf_dsq_insert(p, GHOST_SCX_DSQ, SLICE_INF, 0);
}

/* Nothing from the enclave runs on a CPU unless a txn put it on that CPU's local DSQ.
 * ops.dispatch runs when the CPU has nothing of a higher class and an empty local DSQ: if a
 * commit here failed CPU_UNAVAIL since, the CFS task that held it is gone, so the agent that
 * was refused is pinged (barrier + doorbell, as GHOST_OP_PING) instead of having to poll. */
void BPF_STRUCT_OPS(ghost_dispatch, s32 cpu, struct task_struct *prev)
{
	struct ghost_cpu_state *cs = cpu_state(cpu);
	if (!cs || !cs->want_avail)
		return;
	cs->want_avail = 0;
	struct ghost_conf *c = conf();
	if (!c)
		return;
	s32 qid = cs->qid >= 0 ? cs->qid : c->default_q;
	if (qid < 0 || qid >= GHOST_SCX_MAX_QUEUES)
		return;
	u32 k = qid;
	struct queue_priv *qp = bpf_map_lookup_elem(&ghost_qpriv, &k);
	if (!qp)
		return;
	__sync_fetch_and_add(&c->avail_pings, 1);
	notify(qp, cpu);
}

void BPF_STRUCT_OPS(ghost_runnable, struct task_struct *p, u64 enq_flags)
{
	u32 pid = p->pid;
	struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
	if (!t)
		return;
	struct ghost_status_word *w = sw_at(region(), t->sw);
	if (!w)
		return;
	sw_set(w, GHOST_SW_TASK_RUNNABLE);
	s32 cpu = scx_bpf_task_cpu(p);
	if (!(t->flags & T_NEW_SENT)) {
		t->flags |= T_NEW_SENT;
		task_msg(t, w, p, MSG_TASK_NEW, cpu);
	} else if (enq_flags & SCX_ENQ_WAKEUP) {
		task_msg(t, w, p, MSG_TASK_WAKEUP, cpu);
	} else if (t->flags & T_WAS_ONCPU) {
		/* it was running when an attribute change dequeued it: it lost its CPU */
		t->flags &= ~T_WAS_ONCPU;
		task_msg(t, w, p, MSG_TASK_PREEMPT, cpu);
	}
	/* else: migrated, or restored while queued: ghOSt sends nothing either */
}

void BPF_STRUCT_OPS(ghost_running, struct task_struct *p)
{
	u32 pid = p->pid;
	struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
	if (!t)
		return;
	struct ghost_status_word *w = sw_at(region(), t->sw);
	if (!w)
		return;
	s32 cpu = scx_bpf_task_cpu(p);
	u64 now = bpf_ktime_get_ns();
	w->switch_time = now;
	sw_set(w, GHOST_SW_TASK_ONCPU);
	struct ghost_cpu_state *cs = cpu_state(cpu);
	if (cs && cs->latched_pid == pid && cs->latched_commit_ns) {
		/* commit -> running, measured on the kernel side */
		u64 lat = now - cs->latched_commit_ns;
		cs->commit_lat_ns += lat;
		cs->commit_lat_n++;
		if (lat > cs->commit_lat_max)
			cs->commit_lat_max = lat;
		cs->latched_commit_ns = 0;
		cs->latched_pid = 0;
	}
	if (t->latched_cpu >= 0) {
		t->flags |= T_RAN; /* running where a txn put it */
	} else if (!(p->flags & PF_EXITING) && !p->migration_disabled) {
		/* Running without a txn: it entered the enclave while running (ghOSt forces such a
		 * task off its CPU so the agent takes over). Slice 0 + a preempting kick send it
		 * through ops.enqueue to the enclave DSQ. Exiting and migration-disabled tasks are
		 * placed by the kernel itself and must be left to finish. */
		p->scx.slice = 0;
		scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
	}
	t->latched_cpu = -1;
	if (t->flags & T_ON_CPU_MSG) {
		t->flags &= ~T_ON_CPU_MSG;
		task_msg(t, w, p, MSG_TASK_ON_CPU, cpu);
	}
}

void BPF_STRUCT_OPS(ghost_stopping, struct task_struct *p, bool runnable)
{
	u32 pid = p->pid;
	struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
	if (!t)
		return;
	struct ghost_status_word *w = sw_at(region(), t->sw);
	if (!w)
		return;
	w->runtime = p->se.sum_exec_runtime;
	if (!runnable)
		return; /* it blocks: TASK_BLOCKED comes from quiescent, ONCPU is cleared there */
	u16 type = (t->flags & T_YIELDING) ? MSG_TASK_YIELD : MSG_TASK_PREEMPT;
	t->flags &= ~T_YIELDING;
	/* A task that entered while running leaves the CPU it had under CFS: ghOSt holds its
	 * TASK_NEW until then and sends no PREEMPT; its TASK_NEW already says runnable. */
	if (t->flags & T_RAN)
		task_msg(t, w, p, type, scx_bpf_task_cpu(p));
	sw_clear(w, GHOST_SW_TASK_ONCPU); /* after the off-CPU message (ghost-abi §4.4) */
	/* Slice 0: the kernel hands it to ops.enqueue (back to the enclave DSQ, for the agent to
	 * place again) instead of keeping it at the head of this CPU's local DSQ, which it does for
	 * a task preempted by a higher class with slice left. */
	p->scx.slice = 0;
}

bool BPF_STRUCT_OPS(ghost_yield, struct task_struct *from, struct task_struct *to)
{
	u32 pid = from->pid;
	struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
	if (t)
		t->flags |= T_YIELDING;
	from->scx.slice = 0;
	return false;
}

void BPF_STRUCT_OPS(ghost_quiescent, struct task_struct *p, u64 deq_flags)
{
	u32 pid = p->pid;
	struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
	if (!t)
		return;
	struct ghost_status_word *w = sw_at(region(), t->sw);
	if (!w)
		return;
	if (!(deq_flags & SCX_DEQ_SLEEP)) {
		/* an attribute or policy change: runnable again at once (PREEMPT then, if it was
		 * running), or departing (DEPARTED says was_current) */
		if (w->flags & GHOST_SW_TASK_ONCPU) {
			t->flags |= T_WAS_ONCPU;
			sw_clear(w, GHOST_SW_TASK_ONCPU);
		}
		return;
	}
	sw_clear(w, GHOST_SW_TASK_RUNNABLE);
	if (t->flags & T_NEW_SENT)
		task_msg(t, w, p, MSG_TASK_BLOCKED, scx_bpf_task_cpu(p));
	else
		bump(w);
	sw_clear(w, GHOST_SW_TASK_ONCPU);
}

void BPF_STRUCT_OPS(ghost_tick, struct task_struct *p)
{
	struct ghost_conf *c = conf();
	if (!c || !c->deliver_ticks)
		return;
	s32 cpu = scx_bpf_task_cpu(p);
	struct ghost_cpu_state *cs = cpu_state(cpu);
	if (!cs || !cs->in_enclave)
		return;
	struct ghost_status_word *w = sw_at(region(), cs->agent_sw);
	struct msg_buf m = {};
	u32 seq = w ? bump(w) : 0;
	put_u32(&m, 8, (u32)cpu);
	put_u32(&m, 12, 0); /* is_agent: the agent is a CFS thread, never the ticking SCX task */
	hdr(&m, MSG_CPU_TICK, 16, seq);
	count(7);
	produce(cs->qid, &m, 16, cpu);
}

void BPF_STRUCT_OPS(ghost_enable, struct task_struct *p)
{
	struct ghost_conf *c = conf();
	if (!c)
		return;
	u32 pid = p->pid;
	u64 inc = __sync_add_and_fetch(&c->gtid_seq, 1) & ((1ULL << GHOST_SCX_GTID_SEQ_BITS) - 1);
	if (!inc)
		inc = 1;
	struct ghost_task t = {
		.gtid = ((u64)pid << GHOST_SCX_GTID_SEQ_BITS) | inc,
		.qid = -1,
		.latched_cpu = -1,
	};
	t.sw = sw_alloc(t.gtid, 0);
	if (t.sw < 0) {
		__sync_fetch_and_add(&c->no_sw, 1);
		return;
	}
	if (bpf_map_update_elem(&ghost_tasks, &pid, &t, BPF_ANY)) {
		sw_release(t.sw);
		__sync_fetch_and_add(&c->no_sw, 1);
		return;
	}
	__sync_fetch_and_add(&c->nr_tasks, 1);
}

void BPF_STRUCT_OPS(ghost_disable, struct task_struct *p)
{
	u32 pid = p->pid;
	struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
	if (!t)
		return;
	struct ghost_conf *c = conf();
	struct ghost_status_word *w = sw_at(region(), t->sw);
	if (w) {
		if (t->flags & T_NEW_SENT) {
			bool dead = p->flags & PF_EXITING;
			task_msg(t, w, p, dead ? MSG_TASK_DEAD : MSG_TASK_DEPARTED, scx_bpf_task_cpu(p));
			sw_clear(w, GHOST_SW_TASK_ONCPU | GHOST_SW_TASK_RUNNABLE);
			/* the agent frees the word with SW_FREE after handling DEAD/DEPARTED */
			sw_set(w, GHOST_SW_F_CANFREE | (dead ? 0 : GHOST_SW_TASK_MSG_GATED));
		} else {
			sw_release(t->sw); /* never announced: nothing for the agent to free */
		}
	}
	bpf_map_delete_elem(&ghost_tasks, &pid);
	if (c)
		__sync_fetch_and_sub(&c->nr_tasks, 1);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(ghost_init)
{
	return scx_bpf_create_dsq(GHOST_SCX_DSQ, -1);
}

void BPF_STRUCT_OPS_SLEEPABLE(ghost_exit, struct scx_exit_info *ei)
{
	struct ghost_conf *c = conf();
	if (!c)
		return;
	bpf_probe_read_kernel_str(c->exit_reason, sizeof(c->exit_reason), ei->reason);
	c->exit_kind = ei->kind;
}

SEC(".struct_ops.link")
struct sched_ext_ops ghost_ops = {
	.select_cpu = (void *)ghost_select_cpu,
	.enqueue = (void *)ghost_enqueue,
	.dispatch = (void *)ghost_dispatch,
	.runnable = (void *)ghost_runnable,
	.running = (void *)ghost_running,
	.stopping = (void *)ghost_stopping,
	.quiescent = (void *)ghost_quiescent,
	.yield = (void *)ghost_yield,
	.tick = (void *)ghost_tick,
	.enable = (void *)ghost_enable,
	.disable = (void *)ghost_disable,
	.init = (void *)ghost_init,
	.exit = (void *)ghost_exit,
	/* PARTIAL: only SCHED_EXT tasks are the enclave's. ENQ_LAST: a task whose CPU was taken
	 * from it by the agent (a txn for another task, or an unschedule) must go back to the
	 * enclave DSQ, not keep the CPU because nothing else is queued there. */
	.flags = SCX_OPS_SWITCH_PARTIAL | SCX_OPS_ENQ_LAST,
	.timeout_ms = 30000, /* runnable_timeout: the loader patches it before load */
	.name = "ghost",
};

/* ---- COMMIT_TXN / SYNC_GROUP_TXN -------------------------------------------------------------- */
struct txn_ctx {
	struct ghost_commit_args *args;
	u32 me;      /* claimer id: the calling CPU */
	bool apply;  /* false: validate only (first pass of a sync group) */
	bool failed; /* some txn failed in this call */
	bool poison; /* sync group: fail everything still READY/claimed */
};

static struct task_struct *find_queued(struct bpf_iter_scx_dsq *it, u32 pid)
{
	struct task_struct *p;
	while ((p = bpf_iter_scx_dsq_next(it))) {
		if ((u32)p->pid == pid)
			return p;
	}
	return NULL;
}

/* Validate (and, with apply, commit) the txn of `cpu`. Returns the state to write. */
static s32 commit_one(struct txn_ctx *x, s32 cpu, struct ghost_txn *txn)
{
	struct ghost_cpu_state *cs = cpu_state(cpu);
	struct ghost_sw_region *r = region();
	if (!cs || !r)
		return GHOST_TXN_INVALID_CPU;
	if (txn->version != 0)
		return GHOST_TXN_UNSUPPORTED_VERSION;
	if (txn->cpu != cpu)
		return GHOST_TXN_INVALID_CPU;
	u16 rf = txn->run_flags;
	u8 cf = txn->commit_flags;
	if ((rf & ~GHOST_RUN_VALID) || (cf & ~0x1f) ||
	    ((cf & GHOST_COMMIT_AT_SCHEDULE) && (cf & GHOST_COMMIT_AT_TXN_COMMIT)) ||
	    ((cf & GHOST_ELIDE_AGENT_BARRIER_INC) && (cf & GHOST_INC_AGENT_BARRIER_ON_FAILURE)))
		return GHOST_TXN_INVALID_FLAGS;
	if ((u32)cpu >= scx_bpf_nr_cpu_ids())
		return GHOST_TXN_CPU_OFFLINE;
	if (!cs->in_enclave)
		return GHOST_TXN_NOT_PERMITTED;
	s64 gtid = txn->gtid;
	if (gtid < -2)
		return GHOST_TXN_INVALID_TARGET;
	if (gtid == -1 && rf)
		return GHOST_TXN_INVALID_FLAGS;
	struct ghost_status_word *aw = sw_at(r, cs->agent_sw);
	if (!aw)
		return GHOST_TXN_NO_AGENT;
	/* a local commit (the caller is this CPU's agent) checks the agent barrier (§6.6 step 9) */
	if (x->args->caller_cpu == cpu && cs->agent_tid == x->args->caller_tid && gtid != -1 &&
	    aw->barrier != txn->agent_barrier)
		return GHOST_TXN_AGENT_STALE;

	s32 ret = GHOST_TXN_COMPLETE;
	bpf_rcu_read_lock();
	struct task_struct *curr = scx_bpf_cpu_curr(cpu);
	bool curr_ghost = curr && curr->policy == SCHED_EXT_POLICY;
	/* A sleeping agent (one that blocks in RUN between passes) on the target CPU is about to
	 * block: the task runs there once it does, as after a local commit on ghOSt. A spinning
	 * agent never gives its CPU up, so for it that CPU stays unavailable. */
	bool curr_other = curr && !curr_ghost && curr->pid != 0 &&
			  !(x->args->caller_sleeps && (u32)curr->pid == x->args->caller_tid);
	if (gtid <= 0) {
		/* 0 / -2: nothing from the enclave runs there; -1: ping the agent */
		if (x->apply) {
			if (gtid == -1) {
				u32 c32 = cpu;
				bpf_ringbuf_output(&ghost_wake, &c32, sizeof(c32), 0);
			} else if (curr_ghost) {
				scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
			}
		}
		goto done;
	}
	u32 pid = (u64)gtid >> GHOST_SCX_GTID_SEQ_BITS;
	struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
	if (!t || t->gtid != (u64)gtid) {
		ret = GHOST_TXN_TARGET_NOT_FOUND;
		goto done;
	}
	struct ghost_status_word *w = sw_at(r, t->sw);
	if (!w || (w->flags & (GHOST_SW_F_CANFREE | GHOST_SW_TASK_MSG_GATED))) {
		ret = GHOST_TXN_TARGET_STALE;
		goto done;
	}
	if (w->barrier != txn->task_barrier) {
		ret = GHOST_TXN_TARGET_STALE;
		goto done;
	}
	if (!(w->flags & GHOST_SW_TASK_RUNNABLE)) {
		ret = GHOST_TXN_TARGET_NOT_RUNNABLE;
		goto done;
	}
	if (w->flags & GHOST_SW_TASK_ONCPU) {
		bool same = curr && (u32)curr->pid == pid;
		ret = (same && (cf & GHOST_ALLOW_TASK_ONCPU)) ? GHOST_TXN_COMPLETE : GHOST_TXN_TARGET_ONCPU;
		goto done;
	}
	if (t->latched_cpu >= 0) {
		/* already committed to a CPU and not yet running there: this backend cannot re-latch */
		ret = GHOST_TXN_TARGET_ONCPU;
		goto done;
	}
	if ((rf & GHOST_RUN_DO_NOT_PREEMPT) && curr_ghost) {
		ret = GHOST_TXN_AGENT_STALE;
		goto done;
	}
	if (curr_other) {
		ret = GHOST_TXN_CPU_UNAVAIL; /* a CFS (or higher) task holds the CPU */
		if (x->apply)
			cs->want_avail = 1; /* ghost_dispatch pings the agent once it is free */
		struct ghost_conf *c = conf();
		if (c) {
			if ((u32)curr->tgid == (u32)(bpf_get_current_pid_tgid() >> 32))
				__sync_fetch_and_add(&c->unavail_self, 1);
			else
				__sync_fetch_and_add(&c->unavail_other, 1);
			c->unavail_pid = curr->pid;
			bpf_probe_read_kernel_str(c->unavail_comm, sizeof(c->unavail_comm), curr->comm);
		}
		goto done;
	}
	struct bpf_iter_scx_dsq it;
	bpf_iter_scx_dsq_new(&it, GHOST_SCX_DSQ, 0);
	struct task_struct *p = find_queued(&it, pid);
	if (!p) {
		ret = GHOST_TXN_TARGET_NOT_RUNNABLE; /* runnable but not (yet) queued: retry */
	} else if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr)) {
		ret = GHOST_TXN_INVALID_CPU; /* the task may not run there (affinity) */
	} else if (x->apply) {
		/* latched before the move: the target CPU may run it before this program returns,
		 * and ops.running must see that a txn put it there */
		t->latched_cpu = cpu;
		scx_bpf_dsq_move_set_slice(&it, SLICE_INF);
		if (!scx_bpf_dsq_move(&it, p, SCX_DSQ_LOCAL_ON | (u64)cpu, SCX_ENQ_PREEMPT)) {
			t->latched_cpu = -1;
			ret = GHOST_TXN_TARGET_NOT_RUNNABLE; /* lost a race with a dequeue */
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	if (ret == GHOST_TXN_COMPLETE && x->apply) {
		u64 now = bpf_ktime_get_ns();
		t->cpu_seqnum = ++cs->cpu_seqnum;
		t->commit_ns = now;
		if (rf & GHOST_RUN_SEND_TASK_ON_CPU)
			t->flags |= T_ON_CPU_MSG;
		cs->latched_pid = pid;
		cs->latched_commit_ns = now;
		scx_bpf_kick_cpu(cpu, curr_ghost ? SCX_KICK_PREEMPT : SCX_KICK_IDLE);
	}
done:
	bpf_rcu_read_unlock();
	if (x->apply) {
		if (ret == GHOST_TXN_COMPLETE && !(cf & GHOST_ELIDE_AGENT_BARRIER_INC))
			__sync_fetch_and_add(&aw->barrier, 1);
		if (ret != GHOST_TXN_COMPLETE && (cf & GHOST_INC_AGENT_BARRIER_ON_FAILURE))
			__sync_fetch_and_add(&aw->barrier, 1);
		if (ret == GHOST_TXN_COMPLETE) {
			txn->cpu_seqnum = cs->cpu_seqnum;
			cs->commits++;
		}
	}
	return ret;
}

static long commit_cb(u64 i, struct txn_ctx *x)
{
	s32 cpu = (s32)i;
	if (cpu >= NR_CPUS)
		return 1;
	if (!(x->args->mask & (1ULL << cpu)))
		return 0;
	u32 k = cpu;
	struct ghost_cpu_data *cd = bpf_map_lookup_elem(&ghost_cpu_data, &k);
	if (!cd)
		return 0;
	struct ghost_txn *txn = &cd->txn;
	if (!x->apply) {
		/* sync group, first pass: claim every txn (READY -> claimer) and validate it */
		if (__sync_val_compare_and_swap(&txn->state, GHOST_TXN_READY, (s32)x->me) != GHOST_TXN_READY) {
			x->failed = true;
			return 0;
		}
		s32 s = commit_one(x, cpu, txn);
		if (s != GHOST_TXN_COMPLETE) {
			txn->commit_time = bpf_ktime_get_ns();
			__sync_lock_test_and_set(&txn->state, s);
			x->failed = true;
		}
		return 0;
	}
	if (x->poison) {
		/* a sync group failed: every txn still claimed by us is POISONED */
		if (txn->state == (s32)x->me) {
			txn->commit_time = bpf_ktime_get_ns();
			__sync_lock_test_and_set(&txn->state, GHOST_TXN_POISONED);
		}
		return 0;
	}
	if (x->args->sync) {
		if (txn->state != (s32)x->me)
			return 0;
	} else if (__sync_val_compare_and_swap(&txn->state, GHOST_TXN_READY, (s32)x->me) != GHOST_TXN_READY) {
		return 0; /* not open (or an abort won): skipped, as ghOSt's ioctl does */
	}
	s32 s = commit_one(x, cpu, txn);
	txn->commit_time = bpf_ktime_get_ns();
	if (s == GHOST_TXN_COMPLETE) {
		x->args->committed++;
		if (x->args->sync)
			txn->sync_group_owner = -1;
	} else {
		x->args->failed++;
		x->failed = true;
	}
	__sync_lock_test_and_set(&txn->state, s); /* state last (release) */
	return 0;
}

SEC("syscall")
int ghost_commit(struct ghost_commit_args *args)
{
	struct txn_ctx x = { .args = args, .me = bpf_get_smp_processor_id() };
	struct ghost_conf *c = conf();
	args->committed = 0;
	args->failed = 0;
	if (args->sync) {
		bpf_loop(NR_CPUS, commit_cb, &x, 0); /* claim + validate all */
		x.apply = true;
		if (x.failed) {
			x.poison = true;
			bpf_loop(NR_CPUS, commit_cb, &x, 0);
			args->ret = 0;
			args->failed++;
			if (c)
				__sync_fetch_and_add(&c->commit_fail, 1);
			return 0;
		}
		bpf_loop(NR_CPUS, commit_cb, &x, 0);
		args->ret = x.failed ? 0 : 1;
	} else {
		x.apply = true;
		bpf_loop(NR_CPUS, commit_cb, &x, 0);
		args->ret = 0;
	}
	if (c) {
		__sync_fetch_and_add(&c->commits, args->committed);
		__sync_fetch_and_add(&c->commit_fail, args->failed);
	}
	return 0;
}

/* ---- ghostfs writes and the other ioctls ------------------------------------------------------- */
struct cpus_ctx {
	u64 mask;
};
static long set_cpu_cb(u64 i, struct cpus_ctx *x)
{
	struct ghost_cpu_state *cs = cpu_state((s32)i);
	if (!cs)
		return 1;
	cs->in_enclave = (x->mask >> (i & 63)) & 1;
	if (!cs->agent_tid)
		cs->agent_sw = -1;
	return 0;
}

static s32 op_create_queue(s32 elems)
{
	if (elems <= 0 || elems > GHOST_SCX_QUEUE_ELEMS || (elems & (elems - 1)))
		return -EINVAL;
	for (u32 k = 0; k < GHOST_SCX_MAX_QUEUES; k++) {
		u32 key = k;
		struct queue_priv *qp = bpf_map_lookup_elem(&ghost_qpriv, &key);
		struct ghost_queue_mem *q = bpf_map_lookup_elem(&ghost_queues, &key);
		if (!qp || !q)
			return -ENOMEM;
		bool mine = false;
		bpf_spin_lock(&qp->lock);
		if (qp->nelems == 0) {
			qp->nelems = elems;
			qp->nwake = 0;
			mine = true;
		}
		bpf_spin_unlock(&qp->lock);
		if (!mine)
			continue;
		q->header.version = 0;
		q->header.start = 64;
		q->header.nelems = elems;
		q->head = 0;
		q->tail = 0;
		q->overflow = 0;
		return k;
	}
	return -ENOSPC;
}

SEC("syscall")
int ghost_ctl(struct ghost_ctl_args *a)
{
	struct ghost_conf *c = conf();
	struct ghost_sw_region *r = region();
	if (!c || !r) {
		a->ret = -ENOMEM;
		return 0;
	}
	s32 ret = 0;
	switch (a->op) {
	case GHOST_OP_SET_CPUS: {
		struct cpus_ctx x = { .mask = a->mask };
		bpf_loop(NR_CPUS, set_cpu_cb, &x, 0);
		if (r->header.capacity == 0) {
			r->header.version = 0;
			r->header.id = 0;
			r->header.numa_node = 0;
			r->header.start = 64;
			r->header.capacity = GHOST_SCX_SW_CAP;
			r->header.available = GHOST_SCX_SW_CAP;
		}
		break;
	}
	case GHOST_OP_CREATE_QUEUE:
		ret = op_create_queue(a->a);
		break;
	case GHOST_OP_SET_DEFAULT_QUEUE:
		if (a->qid < -1 || a->qid >= GHOST_SCX_MAX_QUEUES)
			ret = -EBADF;
		else
			c->default_q = a->qid;
		break;
	case GHOST_OP_CONFIG_WAKEUP: {
		u32 k = a->qid;
		struct queue_priv *qp = bpf_map_lookup_elem(&ghost_qpriv, &k);
		if (!qp || !qp->nelems || a->a < 0 || a->a > 2) {
			ret = qp ? -EINVAL : -EBADF;
			break;
		}
		bpf_spin_lock(&qp->lock);
		qp->wake[0] = a->cpus[0];
		qp->wake[1] = a->cpus[1];
		qp->nwake = a->a;
		bpf_spin_unlock(&qp->lock);
		break;
	}
	case GHOST_OP_ASSOC_QUEUE: {
		u32 pid = a->gtid >> GHOST_SCX_GTID_SEQ_BITS;
		struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
		if (!t || t->gtid != a->gtid) {
			ret = -ENOENT;
			break;
		}
		struct ghost_status_word *w = sw_at(r, t->sw);
		if (!w || w->barrier != a->barrier) {
			ret = -ESTALE;
			break;
		}
		if (t->qid == a->qid)
			ret |= 1; /* GHOST_ASSOC_SF_ALREADY */
		if (!(t->flags & T_NEW_SENT))
			ret |= 2; /* GHOST_ASSOC_SF_BRAND_NEW */
		t->qid = a->qid;
		break;
	}
	case GHOST_OP_BECOME_AGENT: {
		struct ghost_cpu_state *cs = cpu_state(a->cpu);
		if (!cs) {
			ret = -EINVAL;
			break;
		}
		if (!cs->in_enclave) {
			ret = -ENODEV;
			break;
		}
		if (cs->agent_tid) {
			ret = -EBUSY;
			break;
		}
		u64 inc = __sync_add_and_fetch(&c->gtid_seq, 1) & ((1ULL << GHOST_SCX_GTID_SEQ_BITS) - 1);
		s32 idx = sw_alloc(((u64)(u32)a->a << GHOST_SCX_GTID_SEQ_BITS) | (inc ? inc : 1),
				   GHOST_SW_TASK_IS_AGENT | GHOST_SW_CPU_AVAIL);
		if (idx < 0) {
			ret = -ENOMEM;
			break;
		}
		cs->agent_sw = idx;
		cs->agent_tid = a->a;
		cs->qid = a->qid;
		ret = idx;
		break;
	}
	case GHOST_OP_AGENT_EXIT: {
		struct ghost_cpu_state *cs = cpu_state(a->cpu);
		if (!cs || !cs->agent_tid) {
			ret = -EINVAL;
			break;
		}
		struct ghost_status_word *w = sw_at(r, cs->agent_sw);
		if (w)
			sw_set(w, GHOST_SW_F_CANFREE);
		cs->agent_tid = 0;
		cs->agent_sw = -1;
		/* pending txns on that CPU die with NO_AGENT (ghost-abi §7.4) */
		u32 k = a->cpu;
		struct ghost_cpu_data *cd = bpf_map_lookup_elem(&ghost_cpu_data, &k);
		if (cd && __sync_val_compare_and_swap(&cd->txn.state, GHOST_TXN_READY, GHOST_TXN_NO_AGENT) == GHOST_TXN_READY)
			cd->txn.commit_time = bpf_ktime_get_ns();
		break;
	}
	case GHOST_OP_SW_GET_INFO:
		if (a->a == 0) {
			struct ghost_cpu_state *cs = cpu_state(a->cpu);
			if (!cs)
				ret = -EINVAL;
			else if (!cs->in_enclave)
				ret = -ENODEV;
			else if (cs->agent_sw < 0)
				ret = -EINVAL;
			else
				ret = cs->agent_sw;
		} else {
			u32 pid = a->gtid >> GHOST_SCX_GTID_SEQ_BITS;
			struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
			ret = (t && t->gtid == a->gtid) ? t->sw : -ENOENT;
		}
		break;
	case GHOST_OP_SW_FREE: {
		struct ghost_status_word *w = sw_at(r, a->a);
		if (!w)
			ret = -ENOENT;
		else if (w->flags == 0)
			ret = -EALREADY;
		else if (!(w->flags & GHOST_SW_F_CANFREE))
			ret = -EINVAL;
		else
			sw_release(a->a);
		break;
	}
	case GHOST_OP_RUN_CHECK: {
		struct ghost_cpu_state *cs = cpu_state(a->cpu);
		struct ghost_status_word *w = cs ? sw_at(r, cs->agent_sw) : NULL;
		if (!w)
			ret = -EINVAL;
		else if (w->barrier != a->barrier)
			ret = -ESTALE;
		else
			a->out = cs->agent_sw; /* the sleeper re-reads its barrier there on each doorbell */
		break;
	}
	case GHOST_OP_PING: {
		struct ghost_cpu_state *cs = cpu_state(a->cpu);
		struct ghost_status_word *w = cs ? sw_at(r, cs->agent_sw) : NULL;
		if (!w) {
			ret = -EINVAL;
			break;
		}
		__sync_fetch_and_add(&w->barrier, 1);
		u32 c32 = a->cpu;
		bpf_ringbuf_output(&ghost_wake, &c32, sizeof(c32), 0);
		break;
	}
	case GHOST_OP_CPU_TIME: {
		u32 pid = a->gtid >> GHOST_SCX_GTID_SEQ_BITS;
		struct ghost_task *t = bpf_map_lookup_elem(&ghost_tasks, &pid);
		if (!t || t->gtid != a->gtid) {
			ret = -ESRCH;
			break;
		}
		struct task_struct *p = bpf_task_from_pid(pid);
		if (!p) {
			ret = -ESRCH;
			break;
		}
		a->out = p->se.sum_exec_runtime;
		bpf_task_release(p);
		break;
	}
	case GHOST_OP_TUNABLE:
		if (a->a == GHOST_TUN_DELIVER_TICKS)
			c->deliver_ticks = a->b != 0;
		else
			ret = -EINVAL;
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	a->ret = ret;
	return 0;
}
