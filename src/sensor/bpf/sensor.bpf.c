/* The sensor's kernel side: programs on scheduler and syscall tracepoints
 * that write process, file and network events to one ring buffer. CO-RE:
 * every kernel struct is read through BPF_CORE_READ against vmlinux.h. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "event.h"

/* The tracing helpers used here are GPL-only; the license string only
 * states that the kernel may load the program. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10

/* 1 MiB: bursts of exec and open events from a build fit while user space
 * catches up. Must be a power of two and a multiple of the page size. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* enabled_types[type] != 0: the type is reported. User space sets it before
 * attaching; everything else is dropped here and counted. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SENSOR_EVENT_TYPE_COUNT);
	__type(key, __u32);
	__type(value, __u32);
} enabled_types SEC(".maps");

/* drops[reason]: events lost per reason, one counter per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SENSOR_DROP_REASON_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* openat arguments between sys_enter and sys_exit, keyed by thread id. LRU,
 * so entries of threads that never return (killed in the call) age out. */
struct open_args {
	const char *path;
	__s32 dfd;
	__s32 flags;
	__u32 mode;
	__u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct open_args);
} open_pending SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *counter = bpf_map_lookup_elem(&drops, &reason);

	if (counter)
		*counter += 1;
}

static __always_inline bool type_enabled(__u32 type)
{
	__u32 *enabled = bpf_map_lookup_elem(&enabled_types, &type);

	if (enabled && *enabled)
		return true;
	count_drop(SENSOR_DROP_FILTERED);
	return false;
}

static __always_inline void fill_header(struct sensor_event_header *header, __u32 type,
	__u32 size)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	header->type = type;
	header->size = size;
	header->timestamp_ns = bpf_ktime_get_ns();
	header->cgroup_id = bpf_get_current_cgroup_id();
	header->pid = (__u32)(pid_tgid >> 32);
	header->tid = (__u32)pid_tgid;
	header->ppid = (__u32)BPF_CORE_READ(task, real_parent, tgid);
	header->uid = (__u32)uid_gid;
	header->gid = (__u32)(uid_gid >> 32);
	header->reserved = 0;
	bpf_get_current_comm(header->comm, sizeof(header->comm));
}

/* Reserves a record of size bytes, counting a drop when the ring is full. */
static __always_inline void *reserve(__u64 size)
{
	void *record = bpf_ringbuf_reserve(&events, size, 0);

	if (!record)
		count_drop(SENSOR_DROP_RINGBUF_FULL);
	return record;
}

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct sensor_exec_record *record;
	/* filename is a __data_loc field: the low 16 bits are its offset. */
	unsigned int offset = ctx->__data_loc_filename & 0xFFFF;

	if (!type_enabled(SENSOR_EVENT_EXEC))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_EXEC, sizeof(*record));
	record->exec.old_tid = (__u32)ctx->old_pid;
	record->exec.reserved = 0;
	bpf_probe_read_kernel_str(record->exec.filename, sizeof(record->exec.filename),
		(void *)ctx + offset);
	bpf_ringbuf_submit(record, 0);
	return 0;
}

/* The BTF-typed tracepoint hands over the child's task_struct, so the
 * child's thread group id is known (the plain one gives only its tid). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct sensor_fork_record *record;

	if (!type_enabled(SENSOR_EVENT_FORK))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_FORK, sizeof(*record));
	record->fork.child_pid = (__u32)BPF_CORE_READ(child, tgid);
	record->fork.child_tid = (__u32)BPF_CORE_READ(child, pid);
	bpf_ringbuf_submit(record, 0);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sensor_exit_record *record;
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	/* Every thread passes here; only the leader's exit ends the process. */
	if ((__u32)(pid_tgid >> 32) != (__u32)pid_tgid)
		return 0;
	if (!type_enabled(SENSOR_EVENT_EXIT))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_EXIT, sizeof(*record));
	record->exit.exit_code = BPF_CORE_READ(task, exit_code);
	record->exit.reserved = 0;
	bpf_ringbuf_submit(record, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_openat")
int handle_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_args args = {
		.path = (const char *)ctx->args[1],
		.dfd = (__s32)ctx->args[0],
		.flags = (__s32)ctx->args[2],
		.mode = (__u32)ctx->args[3],
	};

	if (!type_enabled(SENSOR_EVENT_OPEN))
		return 0;
	bpf_map_update_elem(&open_pending, &tid, &args, BPF_ANY);
	return 0;
}

/* The path is read at exit, after the kernel has faulted the page in. */
SEC("tp/syscalls/sys_exit_openat")
int handle_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sensor_open_record *record;
	struct open_args *args;

	args = bpf_map_lookup_elem(&open_pending, &tid);
	if (!args)
		return 0;
	record = reserve(sizeof(*record));
	if (!record) {
		bpf_map_delete_elem(&open_pending, &tid);
		return 0;
	}
	fill_header(&record->header, SENSOR_EVENT_OPEN, sizeof(*record));
	record->open.dfd = args->dfd;
	record->open.flags = args->flags;
	record->open.mode = args->mode;
	record->open.ret = (__s32)ctx->ret;
	if (bpf_probe_read_user_str(record->open.path, sizeof(record->open.path), args->path) < 0)
		record->open.path[0] = '\0';
	bpf_map_delete_elem(&open_pending, &tid);
	bpf_ringbuf_submit(record, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_connect")
int handle_connect(struct trace_event_raw_sys_enter *ctx)
{
	const void *address = (const void *)ctx->args[1];
	__u32 length = (__u32)ctx->args[2];
	struct sensor_connect_record *record;
	__u16 family = 0;

	if (!type_enabled(SENSOR_EVENT_CONNECT))
		return 0;
	if (length < sizeof(struct sockaddr_in) ||
	    bpf_probe_read_user(&family, sizeof(family), address) < 0)
		return 0;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (family == AF_INET6 && length < sizeof(struct sockaddr_in6))
		return 0;

	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_CONNECT, sizeof(*record));
	__builtin_memset(&record->connect, 0, sizeof(record->connect));
	record->connect.fd = (__s32)ctx->args[0];
	record->connect.family = family;
	if (family == AF_INET) {
		const struct sockaddr_in *in = address;
		__u16 port = 0;

		bpf_probe_read_user(&port, sizeof(port), &in->sin_port);
		bpf_probe_read_user(record->connect.addr, 4, &in->sin_addr);
		record->connect.port = bpf_ntohs(port);
	} else {
		const struct sockaddr_in6 *in6 = address;
		__u16 port = 0;

		bpf_probe_read_user(&port, sizeof(port), &in6->sin6_port);
		bpf_probe_read_user(record->connect.addr, 16, &in6->sin6_addr);
		record->connect.port = bpf_ntohs(port);
	}
	bpf_ringbuf_submit(record, 0);
	return 0;
}
