/* The records the sensor's eBPF programs write to the ring buffer: one
 * fixed-layout header, then a payload fixed by the header's type. Shared by
 * the kernel side (sensor.bpf.c) and the user-space decoder (sensor_event.c),
 * so the two always agree on offsets. */
#pragma once

#ifndef __bpf__
#include <linux/types.h>
#endif

#define SENSOR_COMM_LEN 16
/* The ring buffer's size, and the bytes waiting in it at which the kernel
 * side wakes the reader. Below that, the reader drains the ring every
 * SENSOR_POLL_MS, which bounds an event's delay. */
#define SENSOR_RING_BYTES (1u << 20)
#define SENSOR_WAKEUP_BYTES (64u * 1024u)
#define SENSOR_POLL_MS 10

/* Bytes of a path or file name kept, with its NUL; longer ones are cut. */
#define SENSOR_PATH_LEN 256
/* Bytes of an exec's command line kept: its arguments with their NULs. */
#define SENSOR_ARGS_LEN 1024
/* Bytes of an exec's working directory buffer: its components, each ended
 * by a NUL, from the innermost up. The kernel writes at most half of it,
 * plus one last component, so that the verifier can bound each write. */
#define SENSOR_CWD_LEN 512
/* Bytes of a mount's file system type name kept, with its NUL. */
#define SENSOR_FSTYPE_LEN 32

/* Event types; also the keys of the enabled_types map. 0 is never used, so a
 * zeroed record is invalid. */
enum sensor_event_type {
	SENSOR_EVENT_EXEC = 1,
	SENSOR_EVENT_FORK = 2,
	SENSOR_EVENT_EXIT = 3,
	SENSOR_EVENT_OPEN = 4,
	SENSOR_EVENT_CONNECT = 5,
	SENSOR_EVENT_ACCEPT = 6,
	SENSOR_EVENT_LISTEN = 7,
	SENSOR_EVENT_PTRACE = 8,
	SENSOR_EVENT_SETID = 9,
	SENSOR_EVENT_UNLINK = 10,
	SENSOR_EVENT_RENAME = 11,
	SENSOR_EVENT_MOUNT = 12,
	SENSOR_EVENT_MODULE = 13,
	SENSOR_EVENT_BPF = 14,
	SENSOR_EVENT_MEMFD = 15,
	SENSOR_EVENT_LINK = 16,
	SENSOR_EVENT_SOCKET = 17,
	SENSOR_EVENT_TYPE_COUNT = 18, /* one past the last type */
};

/* The system call behind an event whose type several calls share, as the
 * payloads' syscall field names it. 0 is never used. */
enum sensor_syscall {
	SENSOR_SYS_EXECVE = 1,
	SENSOR_SYS_EXECVEAT,
	SENSOR_SYS_OPEN,
	SENSOR_SYS_OPENAT,
	SENSOR_SYS_OPENAT2,
	SENSOR_SYS_CREAT,
	SENSOR_SYS_CONNECT,
	SENSOR_SYS_ACCEPT,
	SENSOR_SYS_ACCEPT4,
	SENSOR_SYS_LISTEN,
	SENSOR_SYS_PTRACE,
	SENSOR_SYS_SETUID,
	SENSOR_SYS_SETGID,
	SENSOR_SYS_SETREUID,
	SENSOR_SYS_SETREGID,
	SENSOR_SYS_SETRESUID,
	SENSOR_SYS_SETRESGID,
	SENSOR_SYS_UNLINK,
	SENSOR_SYS_UNLINKAT,
	SENSOR_SYS_RMDIR,
	SENSOR_SYS_RENAME,
	SENSOR_SYS_RENAMEAT,
	SENSOR_SYS_RENAMEAT2,
	SENSOR_SYS_MOUNT,
	SENSOR_SYS_INIT_MODULE,
	SENSOR_SYS_FINIT_MODULE,
	SENSOR_SYS_BPF,
	SENSOR_SYS_MEMFD_CREATE,
	SENSOR_SYS_SYMLINK,
	SENSOR_SYS_SYMLINKAT,
	SENSOR_SYS_LINK,
	SENSOR_SYS_LINKAT,
	SENSOR_SYS_SOCKET,
	SENSOR_SYS_COUNT, /* one past the last */
};

/* Bits of sensor_exec_payload.flags. */
#define SENSOR_EXEC_EXECVEAT 0x1u /* the program came through execveat */
#define SENSOR_EXEC_KILLED 0x2u   /* on the deny list: SIGKILLed before it ran */
#define SENSOR_EXEC_CWD_WHOLE 0x4u /* cwd reaches the process's root directory */

/* Reasons the kernel side dropped an event, the keys of the drops map. */
enum sensor_drop_reason {
	SENSOR_DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_reserve failed */
	SENSOR_DROP_FILTERED = 1,     /* the type is disabled in enabled_types */
	SENSOR_DROP_PATH_FILTERED = 2, /* an open no loaded rule can match */
	SENSOR_DROP_REASON_COUNT = 3,
};

/* The path filter of open events: bytes of a path the kernel compares with
 * the prefixes in open_prefixes. A longer path always passes, since the
 * part the filter did not read could hold a "/../" that leads elsewhere. */
#define SENSOR_FILTER_LEN 128

/* The maximum number of prefixes, and of suffixes, in the filter. */
#define SENSOR_FILTER_PREFIXES 4096

/* A key of the open_prefixes and open_suffixes LPM tries: prefix_bits is 8
 * times the bytes of data that count. The suffix trie stores its strings
 * reversed, last byte first. */
struct sensor_prefix_key {
	__u32 prefix_bits;
	__u8 data[SENSOR_FILTER_LEN];
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

/* sched/sched_process_exec: the header's pid has just run a new program.
 * args is read from the new program's memory in the kernel, so it is there
 * even when the process has ended before user space reads the record. */
struct sensor_exec_payload {
	__u32 old_tid;       /* the thread that called execve */
	__u32 flags;         /* SENSOR_EXEC_* */
	__u32 tty;           /* controlling terminal as /proc/PID/stat's tty_nr; 0: none */
	__u32 args_len;      /* bytes of args used, at most SENSOR_ARGS_LEN */
	__u32 cwd_len;       /* bytes of cwd used, at most SENSOR_CWD_LEN */
	__u32 reserved;
	char filename[SENSOR_PATH_LEN];
	char args[SENSOR_ARGS_LEN]; /* argv, each argument ended by a NUL; may be cut */
	/* The working directory's components, innermost first ("b\0a\0" is
	 * /a/b), relative to the process's root directory. Without
	 * SENSOR_EXEC_CWD_WHOLE the outer components are missing. */
	char cwd[SENSOR_CWD_LEN];
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

/* The enter and exit tracepoints of open, openat, openat2 and creat, paired
 * by thread id like every call below that reports a return value. */
struct sensor_open_payload {
	__s32 dfd;           /* AT_FDCWD (-100) for open and creat */
	__s32 flags;         /* O_* flags as passed; creat's are O_CREAT|O_WRONLY|O_TRUNC */
	__u32 mode;
	__s32 ret;           /* the new fd, or -errno */
	__u32 syscall;       /* SENSOR_SYS_OPEN, _OPENAT, _OPENAT2 or _CREAT */
	__u32 reserved;
	char path[SENSOR_PATH_LEN];
};

/* syscalls/sys_enter_connect of an AF_INET or AF_INET6 address. */
struct sensor_connect_payload {
	__s32 fd;
	__u16 family;        /* AF_INET or AF_INET6 */
	__u16 port;          /* host byte order */
	__u8 addr[16];       /* network byte order; IPv4 in the first 4 bytes */
};

/* accept and accept4; the peer's address when the caller asked for it. */
struct sensor_accept_payload {
	__u32 syscall;       /* SENSOR_SYS_ACCEPT or _ACCEPT4 */
	__s32 fd;            /* the listening socket */
	__s32 ret;           /* the new fd, or -errno */
	__u32 flags;         /* accept4's SOCK_* flags */
	__u16 family;        /* AF_INET, AF_INET6, or 0 when not known */
	__u16 port;          /* host byte order */
	__u32 reserved;
	__u8 addr[16];       /* network byte order; IPv4 in the first 4 bytes */
};

struct sensor_listen_payload {
	__s32 fd;
	__s32 backlog;
	__s32 ret;
	__u32 reserved;
};

struct sensor_ptrace_payload {
	__s32 request;       /* PTRACE_* */
	__s32 pid;           /* the traced process */
	__s32 ret;
	__u32 reserved;
};

/* The setuid, setgid, setreuid, setregid, setresuid and setresgid calls.
 * ids contains the arguments in order (uid; ruid, euid; ruid, euid, suid);
 * the unused ones are 0xffffffff. */
struct sensor_setid_payload {
	__u32 syscall;
	__s32 ret;
	__u32 ids[3];
	__u32 reserved;
};

/* unlink, unlinkat and rmdir. */
struct sensor_unlink_payload {
	__u32 syscall;
	__s32 dfd;           /* AT_FDCWD for unlink and rmdir */
	__s32 flags;         /* unlinkat's AT_REMOVEDIR */
	__s32 ret;
	char path[SENSOR_PATH_LEN];
};

/* rename, renameat and renameat2. */
struct sensor_rename_payload {
	__u32 syscall;
	__s32 olddfd;        /* AT_FDCWD for rename */
	__s32 newdfd;
	__u32 flags;         /* renameat2's RENAME_* */
	__s32 ret;
	__u32 reserved;
	char oldpath[SENSOR_PATH_LEN];
	char newpath[SENSOR_PATH_LEN];
};

struct sensor_mount_payload {
	__u32 flags;         /* the low 32 bits of the MS_* flags */
	__s32 ret;
	char dev[SENSOR_PATH_LEN];
	char dir[SENSOR_PATH_LEN];
	char fstype[SENSOR_FSTYPE_LEN];
};

/* init_module and finit_module. */
struct sensor_module_payload {
	__u32 syscall;
	__s32 fd;            /* finit_module's file; -1 for init_module */
	__u32 flags;         /* finit_module's MODULE_INIT_* */
	__s32 ret;
};

struct sensor_bpf_payload {
	__s32 cmd;           /* BPF_* command */
	__s32 ret;
};

struct sensor_memfd_payload {
	__u32 flags;         /* MFD_* */
	__s32 ret;           /* the new fd, or -errno */
	char name[SENSOR_PATH_LEN];
};

/* symlink, symlinkat, link and linkat. For the symbolic links, oldpath is
 * the target as written (not resolved) and newpath the new link's path. */
struct sensor_link_payload {
	__u32 syscall;
	__s32 olddfd;        /* AT_FDCWD for symlink, symlinkat and link */
	__s32 newdfd;        /* AT_FDCWD for symlink and link */
	__u32 flags;         /* linkat's AT_* flags */
	__s32 ret;
	__u32 reserved;
	char oldpath[SENSOR_PATH_LEN];
	char newpath[SENSOR_PATH_LEN];
};

struct sensor_socket_payload {
	__s32 domain;        /* AF_* */
	__s32 type;          /* SOCK_* with SOCK_NONBLOCK and SOCK_CLOEXEC */
	__s32 protocol;
	__s32 ret;           /* the new fd, or -errno */
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

struct sensor_accept_record {
	struct sensor_event_header header;
	struct sensor_accept_payload accept;
};

struct sensor_listen_record {
	struct sensor_event_header header;
	struct sensor_listen_payload listen;
};

struct sensor_ptrace_record {
	struct sensor_event_header header;
	struct sensor_ptrace_payload ptrace;
};

struct sensor_setid_record {
	struct sensor_event_header header;
	struct sensor_setid_payload setid;
};

struct sensor_unlink_record {
	struct sensor_event_header header;
	struct sensor_unlink_payload unlink;
};

struct sensor_rename_record {
	struct sensor_event_header header;
	struct sensor_rename_payload rename;
};

struct sensor_mount_record {
	struct sensor_event_header header;
	struct sensor_mount_payload mount;
};

struct sensor_module_record {
	struct sensor_event_header header;
	struct sensor_module_payload module;
};

struct sensor_bpf_record {
	struct sensor_event_header header;
	struct sensor_bpf_payload bpf;
};

struct sensor_memfd_record {
	struct sensor_event_header header;
	struct sensor_memfd_payload memfd;
};

struct sensor_link_record {
	struct sensor_event_header header;
	struct sensor_link_payload link;
};

struct sensor_socket_record {
	struct sensor_event_header header;
	struct sensor_socket_payload socket;
};

/* Key of the deny_exec map: an executable's inode, with the device as the
 * kernel numbers it (major << 20 | minor). */
struct sensor_deny_key {
	__u64 ino;
	__u32 dev;
	__u32 reserved;
};
