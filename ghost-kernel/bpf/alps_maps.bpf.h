/* The maps the scheduler (alps.bpf.c) and the profiler (profile.bpf.c) share. `agent --scx` loads
 * the profiler with the scheduler's instances (BpfObject.reuseMap), which libbpf accepts only for
 * identical definitions: so they are defined once, here. BPF side only (needs vmlinux.h). */
#ifndef GHOST_ALPS_MAPS_BPF_H
#define GHOST_ALPS_MAPS_BPF_H

#include "alps_common.h"

/* Per-task function tag (struct alps_tag), written by the launcher by pidfd, inherited at fork. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct alps_tag);
} alps_tags SEC(".maps");

/* cgroup-v2 id -> func_id for container sandboxes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALPS_CGFUNCS_MAX);
	__type(key, __u64);
	__type(value, __u32);
} alps_cgfuncs SEC(".maps");

#endif
