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
	__uint(max_entries, SENSOR_RING_BYTES);
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

/* A call's arguments between sys_enter and sys_exit, in the thread's own
 * task storage, so the exit can report them with the return value. Pointers
 * are read at exit, after the kernel has faulted their pages in. The
 * storage goes with the thread, and a lookup costs less than a hash's,
 * which every exit of a watched call pays, even one the filter dropped. */
struct pending_call {
	__u32 syscall;       /* enum sensor_syscall; 0: nothing saved */
	__u32 reserved;
	__u64 args[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_call);
} pending SEC(".maps");

/* Threads inside execveat, keyed by thread id, so the exec event can tell
 * the two exec calls apart. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} execveat_pending SEC(".maps");

/* Executables whose exec is killed: user space fills it (sensor_deny_exec_add). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct sensor_deny_key);
	__type(value, __u32);
} deny_exec SEC(".maps");

/* The path filter of open events (sensor_filter_open_paths): the prefixes
 * and suffixes that the loaded rules' conditions allow, and the switch
 * that user space sets once they are in. Until then every open passes. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SENSOR_FILTER_PREFIXES);
	__type(key, struct sensor_prefix_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} open_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SENSOR_FILTER_PREFIXES);
	__type(key, struct sensor_prefix_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} open_suffixes SEC(".maps");

__u32 open_filter_on = 0;

/* The work area of one check: the path as the prefix key, the path
 * reversed as the suffix key, and the reversed words before they are moved
 * to the front. In a per-CPU map because the verifier wants every byte of a
 * key on the stack written before a helper reads it, and the stack is too
 * small for all three. */
struct path_scratch {
	struct sensor_prefix_key path;
	struct sensor_prefix_key reversed;
	__u64 backwards[SENSOR_FILTER_LEN / 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_scratch);
} path_scratch SEC(".maps");

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

/* Commits a reserved record. Waking the reader on every record costs an
 * interrupt per event, which was most of each program's cost, so the reader
 * is woken only once SENSOR_WAKEUP_BYTES are waiting; user space also
 * drains the ring every SENSOR_POLL_MS. */
static __always_inline void submit(void *record)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= SENSOR_WAKEUP_BYTES)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(record, flags);
}

/* tty_nr as /proc/PID/stat gives it: the controlling terminal's device in
 * the old encoding, 0 without one. */
static __always_inline __u32 task_tty(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	__u32 major, minor;

	if (!tty)
		return 0;
	major = (__u32)BPF_CORE_READ(tty, driver, major);
	minor = (__u32)BPF_CORE_READ(tty, driver, minor_start) + (__u32)BPF_CORE_READ(tty, index);
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/* Copies the new program's argv from its stack, where exec just wrote it. */
static __always_inline void read_args(struct task_struct *task,
	struct sensor_exec_payload *exec)
{
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	__u64 len = end > start ? end - start : 0;

	if (len > SENSOR_ARGS_LEN)
		len = SENSOR_ARGS_LEN;
	/* Tells the verifier the bound survives the compiler's reordering. */
	asm volatile("" : "+r"(len));
	if (len > SENSOR_ARGS_LEN || len == 0 ||
	    bpf_probe_read_user(exec->args, len, (const void *)start) < 0)
		len = 0;
	exec->args_len = (__u32)len;
}

/* Directory levels and mount crossings read_cwd walks at most. */
#define CWD_MAX_STEPS 64

/* The state of one walk from the working directory up to the root. Kept in
 * a per-CPU map rather than on the stack: the walk runs in bpf_loop, whose
 * callback is verified once instead of once per path through the loop. */
struct cwd_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u32 used;          /* bytes of buf written */
	__u32 whole;         /* the walk reached the root */
	char buf[SENSOR_CWD_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cwd_walk);
} cwd_scratch SEC(".maps");

/* One step up, as d_path takes it: to the parent directory, or across a
 * mount point. Each name is written at an offset below half the buffer with
 * at most half its size, so every write stays inside the buffer in a form
 * the verifier can check. Returns 1 to end the loop. */
static long cwd_step(__u32 index, void *ctx)
{
	__u32 zero = 0;
	struct cwd_walk *walk = bpf_map_lookup_elem(&cwd_scratch, &zero);
	/* Copies, because BPF_CORE_READ relocates every step of its chain and
	 * struct cwd_walk is not a kernel type. */
	struct dentry *dentry, *parent;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	const unsigned char *name;
	long written;

	if (!walk)
		return 1;
	dentry = walk->dentry;
	vfsmnt = walk->vfsmnt;
	mnt = walk->mnt;
	if (dentry == walk->root_dentry && vfsmnt == walk->root_mnt) {
		walk->whole = 1;
		return 1;
	}
	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		/* The top of the mount tree: the process's root is outside it. */
		if (up == mnt) {
			walk->whole = 1;
			return 1;
		}
		walk->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		walk->mnt = up;
		walk->vfsmnt = &up->mnt;
		return 0;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent == dentry || walk->used >= SENSOR_CWD_LEN / 2)
		return 1;
	name = BPF_CORE_READ(dentry, d_name.name);
	written = bpf_probe_read_kernel_str(walk->buf + (walk->used & (SENSOR_CWD_LEN / 2 - 1)),
		SENSOR_CWD_LEN / 2, name);
	if (written <= 0)
		return 1;
	walk->used += (__u32)written;
	walk->dentry = parent;
	return 0;
}

/* Copies the names from the working directory up to the process's root
 * directory, innermost first. */
static __always_inline void read_cwd(struct task_struct *task,
	struct sensor_exec_payload *exec)
{
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct vfsmount *pwd_mnt = BPF_CORE_READ(fs, pwd.mnt);
	__u32 zero = 0;
	struct cwd_walk *walk = bpf_map_lookup_elem(&cwd_scratch, &zero);

	exec->cwd_len = 0;
	if (!walk)
		return;
	walk->dentry = BPF_CORE_READ(fs, pwd.dentry);
	walk->vfsmnt = pwd_mnt;
	walk->mnt = container_of(pwd_mnt, struct mount, mnt);
	walk->root_dentry = BPF_CORE_READ(fs, root.dentry);
	walk->root_mnt = BPF_CORE_READ(fs, root.mnt);
	walk->used = 0;
	walk->whole = 0;
	bpf_loop(CWD_MAX_STEPS, cwd_step, NULL, 0);
	if (walk->used > SENSOR_CWD_LEN)
		return;
	if (bpf_probe_read_kernel(exec->cwd, SENSOR_CWD_LEN, walk->buf) < 0)
		return;
	exec->cwd_len = walk->used;
	if (walk->whole)
		exec->flags |= SENSOR_EXEC_CWD_WHOLE;
}

/* True when the program just loaded is on the deny list. */
static __always_inline bool exec_denied(struct task_struct *task)
{
	struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	struct sensor_deny_key key = {
		.ino = BPF_CORE_READ(inode, i_ino),
		.dev = (__u32)BPF_CORE_READ(inode, i_sb, s_dev),
	};

	return bpf_map_lookup_elem(&deny_exec, &key) != NULL;
}

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sensor_exec_record *record;
	/* filename is a __data_loc field: the low 16 bits are its offset. */
	unsigned int offset = ctx->__data_loc_filename & 0xFFFF;
	__u32 old_tid = (__u32)ctx->old_pid;
	__u32 flags = 0;

	if (bpf_map_lookup_elem(&execveat_pending, &old_tid)) {
		flags |= SENSOR_EXEC_EXECVEAT;
		bpf_map_delete_elem(&execveat_pending, &old_tid);
	}
	/* The signal is queued before the new program runs a single
	 * instruction: it is delivered on the way back to user space. */
	if (exec_denied(task)) {
		bpf_send_signal(9 /* SIGKILL */);
		flags |= SENSOR_EXEC_KILLED;
	}
	/* A killed exec is reported even when the filter drops exec events,
	 * because user space turns it into an alert. */
	if (!(flags & SENSOR_EXEC_KILLED) && !type_enabled(SENSOR_EVENT_EXEC))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_EXEC, sizeof(*record));
	record->exec.old_tid = old_tid;
	record->exec.flags = flags;
	record->exec.tty = task_tty(task);
	record->exec.reserved = 0;
	bpf_probe_read_kernel_str(record->exec.filename, sizeof(record->exec.filename),
		(void *)ctx + offset);
	read_args(task, &record->exec);
	read_cwd(task, &record->exec);
	submit(record);
	return 0;
}

SEC("tp/syscalls/sys_enter_execveat")
int handle_execveat_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 one = 1;

	bpf_map_update_elem(&execveat_pending, &tid, &one, BPF_ANY);
	return 0;
}

/* After a success, sched_process_exec has already taken the entry; after a
 * failure, this drops it, so a later execve is not taken for execveat. */
SEC("tp/syscalls/sys_exit_execveat")
int handle_execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&execveat_pending, &tid);
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
	submit(record);
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
	submit(record);
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
	submit(record);
	return 0;
}

/* The calls below report their return value: sys_enter saves the arguments
 * (when the event's type is enabled) and sys_exit writes the record. */
static __always_inline int save_call(struct trace_event_raw_sys_enter *ctx, __u32 type,
	__u32 syscall, int nargs)
{
	struct pending_call *call;

	if (!type_enabled(type))
		return 0;
	call = bpf_task_storage_get(&pending, bpf_get_current_task_btf(), NULL,
		BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!call)
		return 0;
	call->syscall = syscall;
	/* Written out: the verifier refuses a context read at a computed offset.
	 * Only the call's own arguments are read, since the kernel refuses to
	 * attach a program that reads past the end of a tracepoint's record. */
	call->args[0] = (__u64)ctx->args[0];
	if (nargs > 1)
		call->args[1] = (__u64)ctx->args[1];
	if (nargs > 2)
		call->args[2] = (__u64)ctx->args[2];
	if (nargs > 3)
		call->args[3] = (__u64)ctx->args[3];
	if (nargs > 4)
		call->args[4] = (__u64)ctx->args[4];
	if (nargs > 5)
		call->args[5] = (__u64)ctx->args[5];
	return 0;
}

/* Moves the saved arguments of the current thread into *call. False when
 * there are none: the type was off at the call's entry, or the sensor
 * attached while the call was blocked. Also false when they belong to
 * another call whose exit was missed, so that they are not reported as
 * this call's. */
static __always_inline bool take_call(struct pending_call *call, __u32 syscall)
{
	struct pending_call *saved = bpf_task_storage_get(&pending, bpf_get_current_task_btf(),
		NULL, 0);

	if (!saved || !saved->syscall)
		return false;
	*call = *saved;
	saved->syscall = 0;
	return call->syscall == syscall;
}

static __always_inline void read_path(char *dst, __u64 src)
{
	if (bpf_probe_read_user_str(dst, SENSOR_PATH_LEN, (const void *)src) < 0)
		dst[0] = '\0';
}

#define BYTES_ONES 0x0101010101010101ULL
#define BYTES_LOW7 0x7f7f7f7f7f7f7f7fULL
#define BYTES_HIGH 0x8080808080808080ULL

/* 0x80 in each byte of word that equals c, 0 in the others; exact, since no
 * byte's sum carries into the next. */
static __always_inline __u64 bytes_equal(__u64 word, __u8 c)
{
	__u64 x = word ^ (BYTES_ONES * c);

	return ~(((x & BYTES_LOW7) + BYTES_LOW7) | x) & BYTES_HIGH;
}

/* The 8 bytes of path from byte 8 * index, with the bytes from len on
 * zeroed: they hold an earlier path. */
static __always_inline __u64 path_word(const struct sensor_prefix_key *path, __u32 index,
	__u32 len)
{
	__u64 word;

	if (index >= SENSOR_FILTER_LEN / 8 || index * 8 >= len)
		return 0;
	__builtin_memcpy(&word, &path->data[index * 8], sizeof(word));
	if (len - index * 8 < 8)
		word &= (1ULL << ((len - index * 8) * 8)) - 1;
	return word;
}

/* True when the len bytes of path hold "//", "/." or "..", which user
 * space normalizes. Also writes the path reversed into the words of
 * backwards, ending at its end. Eight bytes at a time: a byte loop costs
 * more here than the rest of the check. */
static __always_inline bool scan_path(const struct sensor_prefix_key *path, __u32 len,
	__u64 *backwards)
{
	__u64 next = path_word(path, 0, len);
	__u64 odd = 0;

	for (__u32 i = 0; i < SENSOR_FILTER_LEN / 8; i++) {
		__u64 word = next, after, slash, dot;

		if (i * 8 >= len)
			break;
		next = path_word(path, i + 1, len);
		/* Each byte's successor, in the same byte position. */
		after = (word >> 8) | (next << 56);
		slash = bytes_equal(word, '/');
		dot = bytes_equal(word, '.');
		odd |= (slash & (bytes_equal(after, '/') | bytes_equal(after, '.'))) |
			(dot & bytes_equal(after, '.'));
		backwards[SENSOR_FILTER_LEN / 8 - 1 - i] = __builtin_bswap64(word);
	}
	return odd != 0;
}

/* Returns true when an open of the path at src must reach user space, and
 * false for a path no loaded rule can match, before a record is reserved.
 * A path the filter cannot judge as user space would always passes: an
 * unreadable or relative one, one longer than the filter reads, and one
 * with "//", "/." or "..". User space normalizes those, so a
 * "/tmp/../etc/shadow" must reach the rules. */
static __always_inline bool open_path_passes(__u64 src)
{
	struct path_scratch *scratch;
	__u32 zero = 0, len, skip;
	long read;

	if (!open_filter_on)
		return true;
	scratch = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!scratch)
		return true;
	read = bpf_probe_read_user_str(scratch->path.data, SENSOR_FILTER_LEN, (const void *)src);
	if (read <= 1 || read >= SENSOR_FILTER_LEN || scratch->path.data[0] != '/')
		return true;
	len = (__u32)read - 1;
	if (scan_path(&scratch->path, len, scratch->backwards))
		return true;
	scratch->path.prefix_bits = len * 8;
	if (bpf_map_lookup_elem(&open_prefixes, &scratch->path))
		return true;

	/* The reversed path ends the backwards words: the 8-byte words were
	 * written whole, so it starts len bytes before their end. */
	skip = SENSOR_FILTER_LEN - len;
	asm volatile("" : "+r"(skip));
	if (skip >= SENSOR_FILTER_LEN || len >= SENSOR_FILTER_LEN)
		return true;
	if (bpf_probe_read_kernel(scratch->reversed.data, len & (SENSOR_FILTER_LEN - 1),
		    (const __u8 *)scratch->backwards + skip) < 0)
		return true;
	scratch->reversed.prefix_bits = len * 8;
	if (bpf_map_lookup_elem(&open_suffixes, &scratch->reversed))
		return true;
	count_drop(SENSOR_DROP_PATH_FILTERED);
	return false;
}

#define AT_FDCWD -100
#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000

/* The open family reports from its exit alone: the call's arguments are
 * still in the registers it saved at entry, which bpf_task_pt_regs finds,
 * so no entry program runs and nothing is kept between entry and exit.
 * An open the path filter drops costs one program run. */
static __always_inline int emit_open(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct pt_regs *regs;
	struct sensor_open_record *record;
	struct pending_call call = { .syscall = syscall };
	__u64 path;

	if (!type_enabled(SENSOR_EVENT_OPEN))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	call.args[0] = PT_REGS_PARM1_SYSCALL(regs);
	call.args[1] = PT_REGS_PARM2_SYSCALL(regs);
	call.args[2] = PT_REGS_PARM3_SYSCALL(regs);
	call.args[3] = PT_REGS_PARM4_SYSCALL(regs);
	path = syscall == SENSOR_SYS_OPEN || syscall == SENSOR_SYS_CREAT ? call.args[0] :
		call.args[1];
	if (!open_path_passes(path))
		return 0;

	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_OPEN, sizeof(*record));
	record->open.syscall = call.syscall;
	record->open.reserved = 0;
	record->open.ret = (__s32)ctx->ret;
	record->open.dfd = AT_FDCWD;
	record->open.mode = 0;
	switch (call.syscall) {
	case SENSOR_SYS_OPEN:
		record->open.flags = (__s32)call.args[1];
		record->open.mode = (__u32)call.args[2];
		break;
	case SENSOR_SYS_CREAT:
		record->open.flags = O_CREAT | O_WRONLY | O_TRUNC;
		record->open.mode = (__u32)call.args[1];
		break;
	case SENSOR_SYS_OPENAT2: {
		struct open_how how = {};

		record->open.dfd = (__s32)call.args[0];
		bpf_probe_read_user(&how, sizeof(how), (const void *)call.args[2]);
		record->open.flags = (__s32)how.flags;
		record->open.mode = (__u32)how.mode;
		break;
	}
	default:
		record->open.dfd = (__s32)call.args[0];
		record->open.flags = (__s32)call.args[2];
		record->open.mode = (__u32)call.args[3];
		break;
	}
	read_path(record->open.path, path);
	submit(record);
	return 0;
}

static __always_inline int emit_accept(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_accept_record *record;
	struct pending_call call;
	__u16 family = 0;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_ACCEPT, sizeof(*record));
	__builtin_memset(&record->accept, 0, sizeof(record->accept));
	record->accept.syscall = call.syscall;
	record->accept.fd = (__s32)call.args[0];
	record->accept.ret = (__s32)ctx->ret;
	if (call.syscall == SENSOR_SYS_ACCEPT4)
		record->accept.flags = (__u32)call.args[3];
	/* The peer's address, when the caller passed a buffer for it. */
	if (ctx->ret >= 0 && call.args[1] &&
	    bpf_probe_read_user(&family, sizeof(family), (const void *)call.args[1]) == 0) {
		if (family == AF_INET) {
			const struct sockaddr_in *in = (const void *)call.args[1];
			__u16 port = 0;

			bpf_probe_read_user(&port, sizeof(port), &in->sin_port);
			bpf_probe_read_user(record->accept.addr, 4, &in->sin_addr);
			record->accept.port = bpf_ntohs(port);
			record->accept.family = family;
		} else if (family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const void *)call.args[1];
			__u16 port = 0;

			bpf_probe_read_user(&port, sizeof(port), &in6->sin6_port);
			bpf_probe_read_user(record->accept.addr, 16, &in6->sin6_addr);
			record->accept.port = bpf_ntohs(port);
			record->accept.family = family;
		}
	}
	submit(record);
	return 0;
}

static __always_inline int emit_listen(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_listen_record *record;
	struct pending_call call;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_LISTEN, sizeof(*record));
	record->listen.fd = (__s32)call.args[0];
	record->listen.backlog = (__s32)call.args[1];
	record->listen.ret = (__s32)ctx->ret;
	record->listen.reserved = 0;
	submit(record);
	return 0;
}

static __always_inline int emit_ptrace(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_ptrace_record *record;
	struct pending_call call;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_PTRACE, sizeof(*record));
	record->ptrace.request = (__s32)call.args[0];
	record->ptrace.pid = (__s32)call.args[1];
	record->ptrace.ret = (__s32)ctx->ret;
	record->ptrace.reserved = 0;
	submit(record);
	return 0;
}

static __always_inline int emit_setid(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_setid_record *record;
	struct pending_call call;
	int count = 1;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_SETID, sizeof(*record));
	record->setid.syscall = call.syscall;
	record->setid.ret = (__s32)ctx->ret;
	record->setid.reserved = 0;
	if (call.syscall == SENSOR_SYS_SETREUID || call.syscall == SENSOR_SYS_SETREGID)
		count = 2;
	else if (call.syscall == SENSOR_SYS_SETRESUID || call.syscall == SENSOR_SYS_SETRESGID)
		count = 3;
	record->setid.ids[0] = (__u32)call.args[0];
	record->setid.ids[1] = count > 1 ? (__u32)call.args[1] : 0xffffffffu;
	record->setid.ids[2] = count > 2 ? (__u32)call.args[2] : 0xffffffffu;
	submit(record);
	return 0;
}

static __always_inline int emit_unlink(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_unlink_record *record;
	struct pending_call call;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_UNLINK, sizeof(*record));
	record->unlink.syscall = call.syscall;
	record->unlink.ret = (__s32)ctx->ret;
	if (call.syscall == SENSOR_SYS_UNLINKAT) {
		record->unlink.dfd = (__s32)call.args[0];
		record->unlink.flags = (__s32)call.args[2];
		read_path(record->unlink.path, call.args[1]);
	} else {
		record->unlink.dfd = AT_FDCWD;
		record->unlink.flags = 0;
		read_path(record->unlink.path, call.args[0]);
	}
	submit(record);
	return 0;
}

static __always_inline int emit_rename(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_rename_record *record;
	struct pending_call call;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_RENAME, sizeof(*record));
	record->rename.syscall = call.syscall;
	record->rename.ret = (__s32)ctx->ret;
	record->rename.reserved = 0;
	if (call.syscall == SENSOR_SYS_RENAME) {
		record->rename.olddfd = AT_FDCWD;
		record->rename.newdfd = AT_FDCWD;
		record->rename.flags = 0;
		read_path(record->rename.oldpath, call.args[0]);
		read_path(record->rename.newpath, call.args[1]);
	} else {
		record->rename.olddfd = (__s32)call.args[0];
		record->rename.newdfd = (__s32)call.args[2];
		record->rename.flags =
			call.syscall == SENSOR_SYS_RENAMEAT2 ? (__u32)call.args[4] : 0;
		read_path(record->rename.oldpath, call.args[1]);
		read_path(record->rename.newpath, call.args[3]);
	}
	submit(record);
	return 0;
}

static __always_inline int emit_mount(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_mount_record *record;
	struct pending_call call;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_MOUNT, sizeof(*record));
	record->mount.flags = (__u32)call.args[3];
	record->mount.ret = (__s32)ctx->ret;
	read_path(record->mount.dev, call.args[0]);
	read_path(record->mount.dir, call.args[1]);
	if (bpf_probe_read_user_str(record->mount.fstype, sizeof(record->mount.fstype),
		    (const void *)call.args[2]) < 0)
		record->mount.fstype[0] = '\0';
	submit(record);
	return 0;
}

static __always_inline int emit_module(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_module_record *record;
	struct pending_call call;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_MODULE, sizeof(*record));
	record->module.syscall = call.syscall;
	record->module.ret = (__s32)ctx->ret;
	if (call.syscall == SENSOR_SYS_FINIT_MODULE) {
		record->module.fd = (__s32)call.args[0];
		record->module.flags = (__u32)call.args[2];
	} else {
		record->module.fd = -1;
		record->module.flags = 0;
	}
	submit(record);
	return 0;
}

static __always_inline int emit_bpf(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_bpf_record *record;
	struct pending_call call;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_BPF, sizeof(*record));
	record->bpf.cmd = (__s32)call.args[0];
	record->bpf.ret = (__s32)ctx->ret;
	submit(record);
	return 0;
}

static __always_inline int emit_memfd(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_memfd_record *record;
	struct pending_call call;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_MEMFD, sizeof(*record));
	record->memfd.flags = (__u32)call.args[1];
	record->memfd.ret = (__s32)ctx->ret;
	read_path(record->memfd.name, call.args[0]);
	submit(record);
	return 0;
}

static __always_inline int emit_link(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_link_record *record;
	struct pending_call call;
	__u64 oldpath, newpath;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_LINK, sizeof(*record));
	record->link.syscall = call.syscall;
	record->link.ret = (__s32)ctx->ret;
	record->link.reserved = 0;
	record->link.olddfd = AT_FDCWD;
	record->link.newdfd = AT_FDCWD;
	record->link.flags = 0;
	oldpath = call.args[0];
	newpath = call.args[1];
	if (call.syscall == SENSOR_SYS_SYMLINKAT) {
		record->link.newdfd = (__s32)call.args[1];
		newpath = call.args[2];
	} else if (call.syscall == SENSOR_SYS_LINKAT) {
		record->link.olddfd = (__s32)call.args[0];
		oldpath = call.args[1];
		record->link.newdfd = (__s32)call.args[2];
		newpath = call.args[3];
		record->link.flags = (__u32)call.args[4];
	}
	read_path(record->link.oldpath, oldpath);
	read_path(record->link.newpath, newpath);
	submit(record);
	return 0;
}

static __always_inline int emit_socket(struct trace_event_raw_sys_exit *ctx, __u32 syscall)
{
	struct sensor_socket_record *record;
	struct pending_call call;

	if (!take_call(&call, syscall))
		return 0;
	record = reserve(sizeof(*record));
	if (!record)
		return 0;
	fill_header(&record->header, SENSOR_EVENT_SOCKET, sizeof(*record));
	record->socket.domain = (__s32)call.args[0];
	record->socket.type = (__s32)call.args[1];
	record->socket.protocol = (__s32)call.args[2];
	record->socket.ret = (__s32)ctx->ret;
	submit(record);
	return 0;
}

/* One program pair per call. The loader leaves out the pairs whose
 * tracepoints this kernel lacks (open, creat, rename and others on arm64,
 * init_module without CONFIG_MODULES). */
#define SYSCALL_PAIR(name, nargs, type, syscall, emit)                         \
	SEC("tp/syscalls/sys_enter_" #name)                                    \
	int enter_##name(struct trace_event_raw_sys_enter *ctx)                \
	{                                                                      \
		return save_call(ctx, type, syscall, nargs);                   \
	}                                                                      \
	SEC("tp/syscalls/sys_exit_" #name)                                     \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)                  \
	{                                                                      \
		return emit(ctx, syscall);                                     \
	}

/* The open family: exit programs only (emit_open). */
#define OPEN_EXIT(name, syscall)                                               \
	SEC("tp/syscalls/sys_exit_" #name)                                     \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)                  \
	{                                                                      \
		return emit_open(ctx, syscall);                                \
	}

OPEN_EXIT(open, SENSOR_SYS_OPEN)
OPEN_EXIT(openat, SENSOR_SYS_OPENAT)
OPEN_EXIT(openat2, SENSOR_SYS_OPENAT2)
OPEN_EXIT(creat, SENSOR_SYS_CREAT)
SYSCALL_PAIR(accept, 3, SENSOR_EVENT_ACCEPT, SENSOR_SYS_ACCEPT, emit_accept)
SYSCALL_PAIR(accept4, 4, SENSOR_EVENT_ACCEPT, SENSOR_SYS_ACCEPT4, emit_accept)
SYSCALL_PAIR(listen, 2, SENSOR_EVENT_LISTEN, SENSOR_SYS_LISTEN, emit_listen)
SYSCALL_PAIR(ptrace, 4, SENSOR_EVENT_PTRACE, SENSOR_SYS_PTRACE, emit_ptrace)
SYSCALL_PAIR(setuid, 1, SENSOR_EVENT_SETID, SENSOR_SYS_SETUID, emit_setid)
SYSCALL_PAIR(setgid, 1, SENSOR_EVENT_SETID, SENSOR_SYS_SETGID, emit_setid)
SYSCALL_PAIR(setreuid, 2, SENSOR_EVENT_SETID, SENSOR_SYS_SETREUID, emit_setid)
SYSCALL_PAIR(setregid, 2, SENSOR_EVENT_SETID, SENSOR_SYS_SETREGID, emit_setid)
SYSCALL_PAIR(setresuid, 3, SENSOR_EVENT_SETID, SENSOR_SYS_SETRESUID, emit_setid)
SYSCALL_PAIR(setresgid, 3, SENSOR_EVENT_SETID, SENSOR_SYS_SETRESGID, emit_setid)
SYSCALL_PAIR(unlink, 1, SENSOR_EVENT_UNLINK, SENSOR_SYS_UNLINK, emit_unlink)
SYSCALL_PAIR(unlinkat, 3, SENSOR_EVENT_UNLINK, SENSOR_SYS_UNLINKAT, emit_unlink)
SYSCALL_PAIR(rmdir, 1, SENSOR_EVENT_UNLINK, SENSOR_SYS_RMDIR, emit_unlink)
SYSCALL_PAIR(rename, 2, SENSOR_EVENT_RENAME, SENSOR_SYS_RENAME, emit_rename)
SYSCALL_PAIR(renameat, 4, SENSOR_EVENT_RENAME, SENSOR_SYS_RENAMEAT, emit_rename)
SYSCALL_PAIR(renameat2, 5, SENSOR_EVENT_RENAME, SENSOR_SYS_RENAMEAT2, emit_rename)
SYSCALL_PAIR(mount, 5, SENSOR_EVENT_MOUNT, SENSOR_SYS_MOUNT, emit_mount)
SYSCALL_PAIR(init_module, 3, SENSOR_EVENT_MODULE, SENSOR_SYS_INIT_MODULE, emit_module)
SYSCALL_PAIR(finit_module, 3, SENSOR_EVENT_MODULE, SENSOR_SYS_FINIT_MODULE, emit_module)
SYSCALL_PAIR(bpf, 3, SENSOR_EVENT_BPF, SENSOR_SYS_BPF, emit_bpf)
SYSCALL_PAIR(memfd_create, 2, SENSOR_EVENT_MEMFD, SENSOR_SYS_MEMFD_CREATE, emit_memfd)
SYSCALL_PAIR(symlink, 2, SENSOR_EVENT_LINK, SENSOR_SYS_SYMLINK, emit_link)
SYSCALL_PAIR(symlinkat, 3, SENSOR_EVENT_LINK, SENSOR_SYS_SYMLINKAT, emit_link)
SYSCALL_PAIR(link, 2, SENSOR_EVENT_LINK, SENSOR_SYS_LINK, emit_link)
SYSCALL_PAIR(linkat, 5, SENSOR_EVENT_LINK, SENSOR_SYS_LINKAT, emit_link)
SYSCALL_PAIR(socket, 3, SENSOR_EVENT_SOCKET, SENSOR_SYS_SOCKET, emit_socket)
