/* The records the sensor's eBPF programs write to the ring buffer: one
 * fixed-layout header, then a payload fixed by the header's type. Shared by
 * the kernel side (sensor.bpf.c) and the user-space decoder (sensor_event.c),
 * so the two always agree on offsets. */
#pragma once

#ifndef __bpf__
#include <linux/types.h>
#endif

#define SENSOR_COMM_LEN 16
/* Bytes of a path or file name kept, with its NUL; longer ones are cut. */
#define SENSOR_PATH_LEN 256

/* Event types; also the keys of the enabled_types map. 0 is never used, so a
 * zeroed record is invalid. */
enum sensor_event_type {
	SENSOR_EVENT_EXEC = 1,
	SENSOR_EVENT_FORK = 2,
	SENSOR_EVENT_EXIT = 3,
	SENSOR_EVENT_OPEN = 4,
	SENSOR_EVENT_CONNECT = 5,
	SENSOR_EVENT_TYPE_COUNT = 6, /* one past the last type */
};

/* Reasons the kernel side dropped an event, the keys of the drops map. */
enum sensor_drop_reason {
	SENSOR_DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_reserve failed */
	SENSOR_DROP_FILTERED = 1,     /* the type is disabled in enabled_types */
	SENSOR_DROP_REASON_COUNT = 2,
};

/* 64 bytes, no implicit padding. The ids are those of the task that caused
 * the event, as the kernel numbers them in the initial namespaces. */
struct sensor_event_header {
	__u32 type;          /* enum sensor_event_type */
	__u32 size;          /* bytes of the whole record, header included */
	__u64 timestamp_ns;  /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, nanoseconds */
	__u64 cgroup_id;     /* the task's cgroup v2 id */
	__u32 pid;           /* thread group id */
	__u32 tid;           /* thread id */
	__u32 ppid;          /* thread group id of the real parent */
	__u32 uid;
	__u32 gid;
	__u32 reserved;      /* zero */
	char comm[SENSOR_COMM_LEN];
};

/* sched/sched_process_exec: the header's pid has just run a new program. */
struct sensor_exec_payload {
	__u32 old_tid;       /* the thread that called execve */
	__u32 reserved;
	char filename[SENSOR_PATH_LEN];
};

/* sched/sched_process_fork: the header is the parent. */
struct sensor_fork_payload {
	__u32 child_pid;     /* thread group id of the new task */
	__u32 child_tid;     /* thread id of the new task */
};

/* sched/sched_process_exit of a thread group leader: the process ended. */
struct sensor_exit_payload {
	__s32 exit_code;     /* the wait status as waitpid returns it */
	__u32 reserved;
};

/* syscalls/sys_enter_openat and sys_exit_openat, paired by thread id. */
struct sensor_open_payload {
	__s32 dfd;
	__s32 flags;         /* O_* flags as passed */
	__u32 mode;
	__s32 ret;           /* the new fd, or -errno */
	char path[SENSOR_PATH_LEN];
};

/* syscalls/sys_enter_connect of an AF_INET or AF_INET6 address. */
struct sensor_connect_payload {
	__s32 fd;
	__u16 family;        /* AF_INET or AF_INET6 */
	__u16 port;          /* host byte order */
	__u8 addr[16];       /* network byte order; IPv4 in the first 4 bytes */
};

struct sensor_exec_record {
	struct sensor_event_header header;
	struct sensor_exec_payload exec;
};

struct sensor_fork_record {
	struct sensor_event_header header;
	struct sensor_fork_payload fork;
};

struct sensor_exit_record {
	struct sensor_event_header header;
	struct sensor_exit_payload exit;
};

struct sensor_open_record {
	struct sensor_event_header header;
	struct sensor_open_payload open;
};

struct sensor_connect_record {
	struct sensor_event_header header;
	struct sensor_connect_payload connect;
};
