/* sched_ext kfuncs the ALPS scheduler calls: BPF-visible prototypes of the 7.3 kernel (its BTF;
 * see docs/scx.md). One header, so a prototype is declared once and checked once. BPF side only. */
#ifndef GHOST_ALPS_KFUNCS_BPF_H
#define GHOST_ALPS_KFUNCS_BPF_H

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
extern struct task_struct *scx_bpf_dsq_peek(u64 dsq_id) __ksym;
extern s32 scx_bpf_dsq_nr_queued(u64 dsq_id) __ksym;
extern int bpf_iter_scx_dsq_new(struct bpf_iter_scx_dsq *it, u64 dsq_id, u64 flags) __ksym;
extern struct task_struct *bpf_iter_scx_dsq_next(struct bpf_iter_scx_dsq *it) __ksym;
extern void bpf_iter_scx_dsq_destroy(struct bpf_iter_scx_dsq *it) __ksym;
extern void scx_bpf_dsq_move_set_vtime(struct bpf_iter_scx_dsq *it__iter, u64 vtime) __ksym;
extern bool scx_bpf_dsq_move_vtime(struct bpf_iter_scx_dsq *it__iter, struct task_struct *p, u64 dsq_id, u64 enq_flags) __ksym;
extern void scx_bpf_error_bstr(char *fmt, unsigned long long *data, u32 data__sz) __ksym;
extern void scx_bpf_dump_bstr(char *fmt, unsigned long long *data, u32 data__sz) __ksym;
extern bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;

/* scx_bpf_error(fmt, args...): abort the scheduler with a message (scx's common.bpf.h idiom). */
#define scx_bpf_error(fmt, args...)                                                   \
	({                                                                            \
		static char ___fmt[] = fmt;                                           \
		unsigned long long ___param[___bpf_narg(args)];                      \
		_Pragma("GCC diagnostic push")                                        \
		_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")               \
		___bpf_fill(___param, args);                                          \
		_Pragma("GCC diagnostic pop")                                         \
		scx_bpf_error_bstr(___fmt, ___param, sizeof(___param));              \
	})

#define scx_bpf_dump(fmt, args...)                                                    \
	({                                                                            \
		static char ___fmt[] = fmt;                                           \
		unsigned long long ___param[___bpf_narg(args)];                      \
		_Pragma("GCC diagnostic push")                                        \
		_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")               \
		___bpf_fill(___param, args);                                          \
		_Pragma("GCC diagnostic pop")                                         \
		scx_bpf_dump_bstr(___fmt, ___param, sizeof(___param));               \
	})

#endif
