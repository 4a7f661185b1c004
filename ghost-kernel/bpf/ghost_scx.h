/* ghOSt ABI 91 on sched_ext: the memory layouts the BPF side (ghost.bpf.c) shares with userspace
 * (native/ghost/sys_scx.cc and the in-guest loader ghost-scx-loader.c).
 *
 * The shared regions are ghOSt's own layouts, byte for byte: the per-CPU transaction area
 * (`cpu_data`, one 4096-byte stride per CPU, a struct ghost_txn at its start), the status-word
 * region (64-byte header + 32-byte words) and the message queues (64-byte header, ring indices at
 * 64, 8-byte slots from byte 76). Each lives in a BPF_F_MMAPABLE array map, so the unmodified
 * ghOSt client maps them exactly as it maps ghostfs files. native/ghost/sys_scx.cc checks every
 * layout here against native/ghost/abi.h with static_asserts; the _Static_asserts below pin the
 * sizes and offsets on the BPF side too.
 *
 * Needs __u8/__u16/__u32/__u64/__s32/__s64 (vmlinux.h on the BPF side, <linux/types.h> in C/C++).
 */
#ifndef GHOST_SCX_H
#define GHOST_SCX_H

#ifdef __cplusplus
#define GHOST_SCX_ASSERT(c, m) static_assert(c, m)
#define GHOST_SCX_OFF(t, f) offsetof(t, f)
#else
#define GHOST_SCX_ASSERT(c, m) _Static_assert(c, m)
#define GHOST_SCX_OFF(t, f) __builtin_offsetof(t, f)
#endif

#define GHOST_SCX_ABI 91
#define GHOST_SCX_MAX_CPUS 64
#define GHOST_SCX_CPU_STRIDE 4096
#define GHOST_SCX_SW_CAP 4094 /* 64 + 4094 * 32 = 128 KiB exactly */
#define GHOST_SCX_MAX_QUEUES 4
#define GHOST_SCX_QUEUE_ELEMS 65536 /* largest queue; a queue uses nelems <= this */
#define GHOST_SCX_GTID_SEQ_BITS 41  /* gtid = tid << 41 | incarnation (pid_max_max 4194304) */
#define GHOST_SCX_DSQ 0x6705ULL     /* the enclave's runnable-and-uncommitted tasks */
#define GHOST_SCX_PIN_DIR "/sys/fs/bpf/ghost-scx"

/* ---- ghOSt structures (ABI 84/90/91 identical) ---------------------------------------------- */
struct ghost_txn {
	__s32 version;
	__s32 cpu;
	__s32 state;
	__u32 agent_barrier;
	__u32 task_barrier;
	__u16 run_flags;
	__u8 commit_flags;
	__u8 unused;
	__s64 gtid;
	__s64 commit_time;
	__u64 cpu_seqnum;
	__s32 sync_group_owner;
	__u32 pad[3];
};
GHOST_SCX_ASSERT(sizeof(struct ghost_txn) == 64, "ghost_txn is 64 bytes");
GHOST_SCX_ASSERT(GHOST_SCX_OFF(struct ghost_txn, state) == 8 && GHOST_SCX_OFF(struct ghost_txn, run_flags) == 20 &&
			 GHOST_SCX_OFF(struct ghost_txn, commit_flags) == 22 && GHOST_SCX_OFF(struct ghost_txn, gtid) == 24 &&
			 GHOST_SCX_OFF(struct ghost_txn, commit_time) == 32 &&
			 GHOST_SCX_OFF(struct ghost_txn, cpu_seqnum) == 40 &&
			 GHOST_SCX_OFF(struct ghost_txn, sync_group_owner) == 48,
		 "ghost_txn layout (ghost-abi §6.1)");

struct ghost_cpu_data {
	struct ghost_txn txn;
	__u8 pad[GHOST_SCX_CPU_STRIDE - 64];
};
GHOST_SCX_ASSERT(sizeof(struct ghost_cpu_data) == GHOST_SCX_CPU_STRIDE, "cpu_data stride is one page");

struct ghost_status_word {
	__u32 barrier;
	__u32 flags;
	__u64 gtid;
	__s64 switch_time;
	__u64 runtime;
};
GHOST_SCX_ASSERT(sizeof(struct ghost_status_word) == 32 && GHOST_SCX_OFF(struct ghost_status_word, gtid) == 8 &&
			 GHOST_SCX_OFF(struct ghost_status_word, runtime) == 24,
		 "status word layout (ghost-abi §4.1)");

struct ghost_sw_region_header {
	__u32 version;
	__u32 id;
	__u32 numa_node;
	__u32 start;
	__u32 capacity;
	__u32 available;
	__u32 pad[10];
};
struct ghost_sw_region {
	struct ghost_sw_region_header header;
	struct ghost_status_word sw[GHOST_SCX_SW_CAP];
};
GHOST_SCX_ASSERT(sizeof(struct ghost_sw_region_header) == 64, "region header is 64 bytes");
GHOST_SCX_ASSERT(sizeof(struct ghost_sw_region) == 131072, "region is 128 KiB (page multiple, mmapable)");

struct ghost_queue_header {
	__u32 version;
	__u32 start;
	__u32 nelems;
	__u32 reserved[13];
};
/* One queue mapping: header, ring indices at 64, slots from 76 (4 mod 8, as on ghOSt). Slots are
 * declared as u32 pairs so the struct needs only 4-byte alignment and has no hole at 76. */
struct ghost_queue_mem {
	struct ghost_queue_header header;
	__u32 head;
	__u32 tail;
	__u32 overflow;
	__u32 slots[2 * GHOST_SCX_QUEUE_ELEMS];
	__u8 pad[4020]; /* to the page-aligned mapsize of a 65536-slot ghOSt queue */
};
GHOST_SCX_ASSERT(GHOST_SCX_OFF(struct ghost_queue_mem, head) == 64 && GHOST_SCX_OFF(struct ghost_queue_mem, slots) == 76,
		 "queue layout (ghost-abi §5.1)");
GHOST_SCX_ASSERT(sizeof(struct ghost_queue_mem) == 528384, "a queue is page-aligned(76 + 8 * 65536)");

/* ---- status-word flags, message types, txn states (ghost-abi §4.2, §5.4, §6.2) -------------- */
#define GHOST_SW_F_INUSE (1u << 0)
#define GHOST_SW_F_CANFREE (1u << 1)
#define GHOST_SW_F_ALLOCATED (1u << 2)
#define GHOST_SW_CPU_AVAIL (1u << 8)
#define GHOST_SW_TASK_ONCPU (1u << 16)
#define GHOST_SW_TASK_RUNNABLE (1u << 17)
#define GHOST_SW_TASK_IS_AGENT (1u << 18)
#define GHOST_SW_TASK_MSG_GATED (1u << 19)

#define MSG_NOP 0
#define MSG_TASK_DEAD 64
#define MSG_TASK_BLOCKED 65
#define MSG_TASK_WAKEUP 66
#define MSG_TASK_NEW 67
#define MSG_TASK_PREEMPT 68
#define MSG_TASK_YIELD 69
#define MSG_TASK_DEPARTED 70
#define MSG_TASK_AFFINITY_CHANGED 72
#define MSG_TASK_ON_CPU 73
#define MSG_CPU_TICK 128

#define GHOST_TXN_READY 0x7fffffff
#define GHOST_TXN_COMPLETE ((__s32)0x80000000)
#define GHOST_TXN_ABORTED (GHOST_TXN_COMPLETE + 1)
#define GHOST_TXN_TARGET_ONCPU (GHOST_TXN_COMPLETE + 2)
#define GHOST_TXN_TARGET_STALE (GHOST_TXN_COMPLETE + 3)
#define GHOST_TXN_TARGET_NOT_FOUND (GHOST_TXN_COMPLETE + 4)
#define GHOST_TXN_TARGET_NOT_RUNNABLE (GHOST_TXN_COMPLETE + 5)
#define GHOST_TXN_AGENT_STALE (GHOST_TXN_COMPLETE + 6)
#define GHOST_TXN_CPU_OFFLINE (GHOST_TXN_COMPLETE + 7)
#define GHOST_TXN_CPU_UNAVAIL (GHOST_TXN_COMPLETE + 8)
#define GHOST_TXN_INVALID_FLAGS (GHOST_TXN_COMPLETE + 9)
#define GHOST_TXN_INVALID_TARGET (GHOST_TXN_COMPLETE + 10)
#define GHOST_TXN_NOT_PERMITTED (GHOST_TXN_COMPLETE + 11)
#define GHOST_TXN_INVALID_CPU (GHOST_TXN_COMPLETE + 12)
#define GHOST_TXN_NO_AGENT (GHOST_TXN_COMPLETE + 13)
#define GHOST_TXN_UNSUPPORTED_VERSION (GHOST_TXN_COMPLETE + 14)
#define GHOST_TXN_POISONED (GHOST_TXN_COMPLETE + 15)

#define GHOST_RUN_SEND_TASK_ON_CPU (1u << 10)
#define GHOST_RUN_DO_NOT_PREEMPT (1u << 12)
#define GHOST_RUN_VALID 0x1ee7 /* RTLA_ON_{PREEMPT,BLOCKED,YIELD,IDLE}, L1D, NOT_IDLE, ELIDE, ON_CPU, DEFER, DNP */
#define GHOST_COMMIT_AT_SCHEDULE 0x1
#define GHOST_COMMIT_AT_TXN_COMMIT 0x2
#define GHOST_ALLOW_TASK_ONCPU 0x4
#define GHOST_ELIDE_AGENT_BARRIER_INC 0x8
#define GHOST_INC_AGENT_BARRIER_ON_FAILURE 0x10

/* ---- the control interface of this backend ------------------------------------------------- */
/* ghost_ctl (SEC("syscall"), run with BPF_PROG_RUN): one ghostfs write or ioctl each. */
enum ghost_scx_op {
	GHOST_OP_SET_CPUS = 1,     /* mask: enclave CPU set (cpulist / cpumask write) */
	GHOST_OP_CREATE_QUEUE,     /* a = elems -> ret = queue id */
	GHOST_OP_SET_DEFAULT_QUEUE,/* qid */
	GHOST_OP_CONFIG_WAKEUP,    /* qid, a = n, cpus[2] */
	GHOST_OP_ASSOC_QUEUE,      /* qid, gtid, barrier -> ret = ASSOC status bits */
	GHOST_OP_BECOME_AGENT,     /* cpu, qid (-1 = default), a = agent tid -> ret = sw index */
	GHOST_OP_AGENT_EXIT,       /* cpu */
	GHOST_OP_SW_GET_INFO,      /* a = 0 agent(cpu) / 1 task(gtid) -> ret = sw index */
	GHOST_OP_SW_FREE,          /* a = sw index */
	GHOST_OP_RUN_CHECK,        /* cpu, barrier: -ESTALE if the agent barrier moved */
	GHOST_OP_PING,             /* cpu: bump the agent barrier and wake its agent */
	GHOST_OP_CPU_TIME,         /* gtid -> out = runtime ns */
	GHOST_OP_TUNABLE,          /* a = tunable id, b = value */
	GHOST_OP_DISCOVER,         /* re-announce every enclave task with TASK_NEW */
};
enum ghost_scx_tunable {
	GHOST_TUN_DELIVER_TICKS = 1,
	GHOST_TUN_RUNNABLE_TIMEOUT_MS,
};
struct ghost_ctl_args {
	__s32 op;
	__s32 cpu;
	__s32 qid;
	__s32 ret; /* out: >= 0 result or -errno */
	__u64 gtid;
	__u64 mask; /* CPU bitmap (SET_CPUS) */
	__u64 out;
	__u32 barrier;
	__s32 a;
	__s64 b;
	__s32 cpus[2];
};
GHOST_SCX_ASSERT(sizeof(struct ghost_ctl_args) == 64, "ctl args are 64 bytes");

/* ghost_commit (SEC("syscall")): COMMIT_TXN / SYNC_GROUP_TXN over a CPU mask. */
struct ghost_commit_args {
	__u64 mask;
	__s32 sync;
	__s32 ret;         /* out: 0 (COMMIT_TXN), 1/0 (SYNC_GROUP_TXN group committed / failed) */
	__u32 caller_tid;
	__s32 caller_cpu;
	__u32 committed;   /* out: txns that completed */
	__u32 failed;      /* out: txns that failed */
	__u32 caller_sleeps; /* the caller is an agent that blocks in RUN between passes (its CPU runs tasks) */
	__u32 pad;
};
GHOST_SCX_ASSERT(sizeof(struct ghost_commit_args) == 40, "commit args are 40 bytes");

/* Per-CPU state (ghost_cpus map). */
struct ghost_cpu_state {
	__u32 in_enclave;
	__s32 agent_sw;  /* status-word index of this CPU's agent, -1 = none */
	__u32 agent_tid;
	__s32 qid;       /* where this CPU's CPU messages go (-1 = default queue) */
	__u64 cpu_seqnum;
	__u64 commits;   /* txns completed targeting this CPU */
	__u64 commit_lat_ns; /* sum over completed txns of commit -> task running */
	__u64 commit_lat_n;
	__u64 commit_lat_max;
	__u64 latched_commit_ns; /* commit_time of the task latched here, 0 = none */
	__u32 latched_pid;
	__u32 want_avail; /* a commit here failed CPU_UNAVAIL: ping the agent when the CPU is free again */
};

/* Global state (ghost_conf map, one entry): counters the backend exposes (nr_tasks = `status`). */
struct ghost_conf {
	__s32 default_q;
	__u32 deliver_ticks;
	__u64 runnable_timeout_ns;
	__u64 gtid_seq;
	__s64 nr_tasks;
	__u64 msgs[8]; /* NEW, WAKEUP, BLOCKED, PREEMPT, YIELD, DEAD, DEPARTED, TICK */
	__u64 overflows;
	__u64 commits;
	__u64 commit_fail;
	__u64 no_sw;     /* tasks that entered with the status-word region full (not scheduled by the agent) */
	__u64 sw_hint;
	__s32 exit_kind; /* scx_exit_info.kind once the scheduler exited, 0 while running */
	__u32 unavail_pid; /* the task that made the last txn fail CPU_UNAVAIL (diagnostics) */
	char unavail_comm[16];
	char exit_reason[128];
	/* Diagnostics of the agent's cost: agent wakeups requested (one per delivered message or
	 * ping), and CPU_UNAVAIL results by who held the CPU: a thread of the committing agent's own
	 * process (its main thread, V8's helpers) or anything else (the invoker, kernel threads). */
	__u64 wakes;
	__u64 unavail_self;
	__u64 unavail_other;
	__u64 avail_pings; /* agent pings because a CPU that refused a commit (CPU_UNAVAIL) is free */
};

#endif
