/* Field values of one sensor event for the rule conditions and the alert
 * output, spelled the way Falco spells them. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "sensor/rules/event_source.h"

const char *event_falco_type(uint32_t type)
{
	switch (type) {
	case SENSOR_EVENT_EXEC: return "execve";
	case SENSOR_EVENT_OPEN: return "openat";
	case SENSOR_EVENT_CONNECT: return "connect";
	case SENSOR_EVENT_ACCEPT: return "accept";
	case SENSOR_EVENT_LISTEN: return "listen";
	case SENSOR_EVENT_PTRACE: return "ptrace";
	case SENSOR_EVENT_SETID: return "setuid";
	case SENSOR_EVENT_UNLINK: return "unlinkat";
	case SENSOR_EVENT_RENAME: return "renameat2";
	case SENSOR_EVENT_MOUNT: return "mount";
	case SENSOR_EVENT_MODULE: return "finit_module";
	case SENSOR_EVENT_BPF: return "bpf";
	case SENSOR_EVENT_MEMFD: return "memfd_create";
	case SENSOR_EVENT_LINK: return "linkat";
	case SENSOR_EVENT_SOCKET: return "socket";
	default: return NULL;
	}
}

const char *event_falco_name(const struct sensor_event *event)
{
	uint32_t syscall = sensor_event_syscall(event);

	/* A payload that names no call gets its type's usual one. */
	return syscall ? sensor_syscall_name(syscall) : event_falco_type(event->header.type);
}

uint32_t event_sensor_type(const char *falco_type)
{
	for (uint32_t syscall = 1; syscall < SENSOR_SYS_COUNT; syscall++)
		if (!strcmp(sensor_syscall_name(syscall), falco_type))
			return sensor_syscall_type(syscall);
	return 0;
}

/* The types the rules can see: every one but fork and exit. */
#define RULE_TYPES                                                              \
	(SENSOR_TYPES_ALL & ~(SENSOR_TYPE_BIT(SENSOR_EVENT_FORK) |                   \
		SENSOR_TYPE_BIT(SENSOR_EVENT_EXIT)))

unsigned event_rules_types(const struct rules_set *set)
{
	unsigned mask = 0;

	for (size_t i = 0; i < rules_count(set); i++) {
		const struct rules_rule *rule = rules_get(set, i);

		if (rule->status != RULES_LOADED)
			continue;
		if (rule->any_evttype) {
			mask |= SENSOR_TYPES_ALL;
			continue;
		}
		for (size_t j = 0; j < rule->nevttypes; j++) {
			uint32_t type = event_sensor_type(rule->evttypes[j]);

			if (type)
				mask |= SENSOR_TYPE_BIT(type);
		}
	}
	return mask & RULE_TYPES;
}

void event_open_flags_name(int32_t flags, char *buf, size_t size)
{
	/* Falco's flag names. The access mode comes first because O_RDONLY is 0.
	 * NOTE: the order of the other names is this table's, not checked
	 * against Falco's output. */
	static const struct { int bits; const char *name; } names[] = {
		{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" },
		{ O_TRUNC, "O_TRUNC" }, { O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
		{ O_SYNC, "O_SYNC" }, { O_DSYNC, "O_DSYNC" }, { O_DIRECT, "O_DIRECT" },
		{ O_LARGEFILE, "O_LARGEFILE" }, { O_TMPFILE, "O_TMPFILE" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
		{ O_NOATIME, "O_NOATIME" }, { O_PATH, "O_PATH" }, { O_CLOEXEC, "O_CLOEXEC" },
	};
	int rest = flags & ~O_ACCMODE;
	size_t used;

	switch (flags & O_ACCMODE) {
	case O_WRONLY: used = (size_t)snprintf(buf, size, "O_WRONLY"); break;
	case O_RDWR: used = (size_t)snprintf(buf, size, "O_RDWR"); break;
	default: used = (size_t)snprintf(buf, size, "O_RDONLY"); break;
	}
	for (size_t i = 0; i < WD_ARRAY_LEN(names) && used < size; i++) {
		/* O_SYNC and O_TMPFILE contain other flags' bits: name the whole. */
		if (!names[i].bits || (rest & names[i].bits) != names[i].bits)
			continue;
		used += (size_t)snprintf(buf + used, size - used, "|%s", names[i].name);
		rest &= ~names[i].bits;
	}
}

void event_fields_init(struct event_fields *fields, const struct sensor_event *event,
	const struct proc_table *procs, int64_t realtime_offset_ns)
{
	const struct sensor_event_header *h = &event->header;

	memset(fields, 0, sizeof(*fields));
	fields->event = event;
	fields->procs = procs;
	fields->time_ns = (int64_t)h->timestamp_ns + realtime_offset_ns;
	if (h->type == SENSOR_EVENT_OPEN) {
		const char *path = event->open.path;
		char link[128], cwd[SENSOR_PATH_LEN + 1];
		ssize_t n = -1;

		/* Falco shows a path relative to the working directory whole. */
		if (path[0] != '/' && event->open.dfd == AT_FDCWD) {
			const struct proc_entry *self = proc_table_get(procs, h->pid);

			snprintf(link, sizeof(link), "%s/%u/cwd", procs->proc_root, h->pid);
			n = readlink(link, cwd, sizeof(cwd) - 1);
			/* A process gone by now: its directory at its last exec. */
			if (n <= 0 && self && self->cwd)
				n = snprintf(cwd, sizeof(cwd), "%s", self->cwd);
			if (n >= (ssize_t)sizeof(cwd))
				n = -1;
		}
		if (n > 0) {
			cwd[n] = '\0';
			snprintf(fields->fd_name, sizeof(fields->fd_name), "%s%s%s", cwd,
				strcmp(cwd, "/") ? "/" : "", path[0] == '.' && path[1] == '/' ? path + 2 :
				path);
		} else {
			snprintf(fields->fd_name, sizeof(fields->fd_name), "%s", path);
		}
		/* Falco resolves "." and ".."; fd.nameraw keeps the path as given. */
		if (strstr(fields->fd_name, "/.") || strstr(fields->fd_name, "//")) {
			char clean[sizeof(fields->fd_name)];

			proc_path_normalize(fields->fd_name, clean, sizeof(clean));
			memcpy(fields->fd_name, clean, sizeof(clean));
		}
	} else if (h->type == SENSOR_EVENT_CONNECT) {
		char ip[INET6_ADDRSTRLEN] = "";
		int family = event->connect.family == AF_INET6 ? AF_INET6 : AF_INET;

		inet_ntop(family, event->connect.addr, ip, sizeof(ip));
		snprintf(fields->fd_name, sizeof(fields->fd_name), "%s:%u", ip,
			(unsigned)event->connect.port);
	} else if (h->type == SENSOR_EVENT_ACCEPT && event->accept.family) {
		char ip[INET6_ADDRSTRLEN] = "";
		int family = event->accept.family == AF_INET6 ? AF_INET6 : AF_INET;

		/* The peer, as for connect. */
		inet_ntop(family, event->accept.addr, ip, sizeof(ip));
		snprintf(fields->fd_name, sizeof(fields->fd_name), "%s:%u", ip,
			(unsigned)event->accept.port);
	} else if (h->type == SENSOR_EVENT_MEMFD) {
		/* Falco names a memfd's descriptor the way /proc/PID/fd shows it. */
		snprintf(fields->fd_name, sizeof(fields->fd_name), "memfd:%s", event->memfd.name);
	}
}

void event_fields_clear(struct event_fields *fields)
{
	free(fields->scratch);
	fields->scratch = NULL;
}

static void set_str(struct cond_fvalue *ret, const char *s)
{
	if (!s)
		return;
	ret->kind = COND_V_STRING;
	ret->str = s;
	ret->len = 0;
}

static void set_num(struct cond_fvalue *ret, int64_t num)
{
	ret->kind = COND_V_NUMBER;
	ret->num = num;
}

/* Hands out a new string, freed at the next lookup; unset when memory ran out. */
static void set_owned(struct event_fields *f, struct cond_fvalue *ret, char *s)
{
	free(f->scratch);
	f->scratch = s;
	set_str(ret, s);
}

/* "name arg1 arg2", as Falco prints proc.cmdline. */
static char *cmdline_of(const struct proc_entry *e)
{
	size_t len = strlen(e->comm) + (e->args ? strlen(e->args) + 1 : 0) + 1;
	char *s = malloc(len);

	if (s)
		snprintf(s, len, "%s%s%s", e->comm, e->args ? " " : "", e->args ? e->args : "");
	return s;
}

static const struct proc_entry *ancestor(const struct proc_table *t, const struct proc_entry *e,
	unsigned level)
{
	for (unsigned i = 0; e && i < level; i++) {
		if (e->ppid == 0 || e->ppid == e->pid)
			return NULL;
		e = proc_table_get(t, e->ppid);
	}
	return e;
}

/* The descriptor an event's call created, for the calls that create one. */
static bool event_new_fd(const struct sensor_event *event, int64_t *ret)
{
	switch (event->header.type) {
	case SENSOR_EVENT_OPEN: *ret = event->open.ret; return true;
	case SENSOR_EVENT_ACCEPT: *ret = event->accept.ret; return true;
	case SENSOR_EVENT_MEMFD: *ret = event->memfd.ret; return true;
	case SENSOR_EVENT_SOCKET: *ret = event->socket.ret; return true;
	default: return false;
	}
}

/* The remote end of a connect, which is the server: the event does not
 * carry the local address and port. */
static void get_connect(struct event_fields *f, const char *field, struct cond_fvalue *ret)
{
	const struct sensor_connect_payload *c = &f->event->connect;

	if (!strcmp(field, "fd.rport") || !strcmp(field, "fd.sport")) {
		set_num(ret, c->port);
	} else if (!strcmp(field, "fd.rip") || !strcmp(field, "fd.sip")) {
		char *ip = malloc(INET6_ADDRSTRLEN);

		if (ip && !inet_ntop(c->family == AF_INET6 ? AF_INET6 : AF_INET, c->addr, ip,
			INET6_ADDRSTRLEN)) {
			free(ip);
			ip = NULL;
		}
		set_owned(f, ret, ip);
	} else if (!strcmp(field, "fd.sockfamily")) {
		set_str(ret, "ip");
	}
}

static void get_fd(struct event_fields *f, const char *field, struct cond_fvalue *ret)
{
	uint32_t type = f->event->header.type;
	const char *slash;
	int64_t fd;

	if (!strcmp(field, "fd.num")) {
		if (type == SENSOR_EVENT_CONNECT)
			set_num(ret, f->event->connect.fd);
		else if (event_new_fd(f->event, &fd))
			/* Falco gives a failed call's fd.num as -1 (its open_file_failed
			 * macro tests fd.num=-1); evt.rawres keeps the -errno. */
			set_num(ret, fd < 0 ? -1 : fd);
		return;
	}
	if (type != SENSOR_EVENT_OPEN && type != SENSOR_EVENT_CONNECT) {
		/* accept and memfd_create name their new descriptor too. */
		if (!strcmp(field, "fd.name") && f->fd_name[0])
			set_str(ret, f->fd_name);
		return;
	}
	if (!strcmp(field, "fd.name")) {
		set_str(ret, f->fd_name);
		return;
	}
	if (!strcmp(field, "fd.typechar") || !strcmp(field, "fd.type")) {
		/* An open names a file, or a directory with O_DIRECTORY. A connect
		 * names an IPv4 or IPv6 socket. */
		static const char *const names[][2] = {
			{ "file", "f" }, { "directory", "d" }, { "ipv4", "4" }, { "ipv6", "6" },
		};
		size_t kind;

		if (type == SENSOR_EVENT_OPEN)
			kind = (f->event->open.flags & O_DIRECTORY) ? 1 : 0;
		else
			kind = f->event->connect.family == AF_INET6 ? 3 : 2;
		set_str(ret, names[kind][!strcmp(field, "fd.typechar")]);
		return;
	}
	if (type == SENSOR_EVENT_CONNECT) {
		get_connect(f, field, ret);
		return;
	}
	if (!strcmp(field, "fd.nameraw")) {
		set_str(ret, f->event->open.path);
		return;
	}
	slash = strrchr(f->fd_name, '/');
	if (!strcmp(field, "fd.filename")) {
		set_str(ret, slash ? slash + 1 : f->fd_name);
	} else if (!strcmp(field, "fd.directory") && slash) {
		set_owned(f, ret, wd_strndup(f->fd_name, slash == f->fd_name ? 1 :
			(size_t)(slash - f->fd_name)));
	}
}

/* The call's return value, for the events that carry one. */
static bool event_ret(const struct sensor_event *event, int64_t *ret)
{
	switch (event->header.type) {
	/* The sensor reports only execs that succeeded. */
	case SENSOR_EVENT_EXEC: *ret = 0; return true;
	case SENSOR_EVENT_OPEN: *ret = event->open.ret; return true;
	case SENSOR_EVENT_ACCEPT: *ret = event->accept.ret; return true;
	case SENSOR_EVENT_LISTEN: *ret = event->listen.ret; return true;
	case SENSOR_EVENT_PTRACE: *ret = event->ptrace.ret; return true;
	case SENSOR_EVENT_SETID: *ret = event->setid.ret; return true;
	case SENSOR_EVENT_UNLINK: *ret = event->unlink.ret; return true;
	case SENSOR_EVENT_RENAME: *ret = event->rename.ret; return true;
	case SENSOR_EVENT_MOUNT: *ret = event->mount.ret; return true;
	case SENSOR_EVENT_MODULE: *ret = event->module.ret; return true;
	case SENSOR_EVENT_BPF: *ret = event->bpf.ret; return true;
	case SENSOR_EVENT_MEMFD: *ret = event->memfd.ret; return true;
	case SENSOR_EVENT_LINK: *ret = event->link.ret; return true;
	case SENSOR_EVENT_SOCKET: *ret = event->socket.ret; return true;
	default: return false;
	}
}

/* Returns a new string of num in decimal, or NULL when memory runs out. */
static char *num_text(int64_t num)
{
	char *text = malloc(24);

	if (text)
		snprintf(text, 24, "%lld", (long long)num);
	return text;
}

/* evt.res as Falco gives it: "SUCCESS", or the errno's name ("ENOENT"). */
static void set_res(struct event_fields *f, struct cond_fvalue *ret, int64_t res)
{
	const char *name = res < 0 ? strerrorname_np((int)-res) : "SUCCESS";

	if (name) {
		set_str(ret, name);
		return;
	}
	set_owned(f, ret, num_text(res));
}

static void set_num_text(struct event_fields *f, struct cond_fvalue *ret, int64_t num)
{
	set_owned(f, ret, num_text(num));
}

/* A uid or gid argument: Falco gives the name when the host has one for it. */
static void set_id(struct event_fields *f, struct cond_fvalue *ret, uint32_t id, bool group)
{
	char buf[1024];

	if (id == UINT32_MAX) {
		set_str(ret, "-1");
		return;
	}
	if (group) {
		struct group gr, *found = NULL;

		if (!getgrgid_r(id, &gr, buf, sizeof(buf), &found) && found) {
			set_owned(f, ret, wd_strdup(found->gr_name));
			return;
		}
	} else {
		struct passwd pw, *found = NULL;

		if (!getpwuid_r(id, &pw, buf, sizeof(buf), &found) && found) {
			set_owned(f, ret, wd_strdup(found->pw_name));
			return;
		}
	}
	set_num_text(f, ret, id);
}

static const char *ptrace_request_name(int32_t request)
{
	static const struct { int32_t value; const char *name; } names[] = {
		{ 0, "PTRACE_TRACEME" }, { 1, "PTRACE_PEEKTEXT" }, { 2, "PTRACE_PEEKDATA" },
		{ 3, "PTRACE_PEEKUSR" }, { 4, "PTRACE_POKETEXT" }, { 5, "PTRACE_POKEDATA" },
		{ 6, "PTRACE_POKEUSR" }, { 7, "PTRACE_CONT" }, { 8, "PTRACE_KILL" },
		{ 9, "PTRACE_SINGLESTEP" }, { 12, "PTRACE_GETREGS" }, { 13, "PTRACE_SETREGS" },
		{ 14, "PTRACE_GETFPREGS" }, { 15, "PTRACE_SETFPREGS" }, { 16, "PTRACE_ATTACH" },
		{ 17, "PTRACE_DETACH" }, { 24, "PTRACE_SYSCALL" }, { 0x4200, "PTRACE_SETOPTIONS" },
		{ 0x4201, "PTRACE_GETEVENTMSG" }, { 0x4202, "PTRACE_GETSIGINFO" },
		{ 0x4203, "PTRACE_SETSIGINFO" }, { 0x4204, "PTRACE_GETREGSET" },
		{ 0x4205, "PTRACE_SETREGSET" }, { 0x4206, "PTRACE_SEIZE" },
		{ 0x4207, "PTRACE_INTERRUPT" }, { 0x4208, "PTRACE_LISTEN" },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(names); i++)
		if (names[i].value == request)
			return names[i].name;
	return NULL;
}

static const char *bpf_cmd_name(int32_t cmd)
{
	static const char *const names[] = {
		"BPF_MAP_CREATE", "BPF_MAP_LOOKUP_ELEM", "BPF_MAP_UPDATE_ELEM",
		"BPF_MAP_DELETE_ELEM", "BPF_MAP_GET_NEXT_KEY", "BPF_PROG_LOAD", "BPF_OBJ_PIN",
		"BPF_OBJ_GET", "BPF_PROG_ATTACH", "BPF_PROG_DETACH", "BPF_PROG_TEST_RUN",
		"BPF_PROG_GET_NEXT_ID", "BPF_MAP_GET_NEXT_ID", "BPF_PROG_GET_FD_BY_ID",
		"BPF_MAP_GET_FD_BY_ID", "BPF_OBJ_GET_INFO_BY_FD", "BPF_PROG_QUERY",
		"BPF_RAW_TRACEPOINT_OPEN", "BPF_BTF_LOAD", "BPF_BTF_GET_FD_BY_ID",
		"BPF_TASK_FD_QUERY", "BPF_MAP_LOOKUP_AND_DELETE_ELEM", "BPF_MAP_FREEZE",
		"BPF_BTF_GET_NEXT_ID", "BPF_MAP_LOOKUP_BATCH", "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
		"BPF_MAP_UPDATE_BATCH", "BPF_MAP_DELETE_BATCH", "BPF_LINK_CREATE",
		"BPF_LINK_UPDATE", "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID",
		"BPF_ENABLE_STATS", "BPF_ITER_CREATE", "BPF_LINK_DETACH", "BPF_PROG_BIND_MAP",
	};

	return cmd >= 0 && (size_t)cmd < WD_ARRAY_LEN(names) ? names[cmd] : NULL;
}

static const char *socket_family_name(int32_t family)
{
	static const struct { int32_t value; const char *name; } names[] = {
		{ AF_UNIX, "AF_UNIX" }, { AF_INET, "AF_INET" }, { AF_INET6, "AF_INET6" },
		{ AF_NETLINK, "AF_NETLINK" }, { AF_PACKET, "AF_PACKET" },
		{ AF_BLUETOOTH, "AF_BLUETOOTH" }, { AF_ALG, "AF_ALG" }, { AF_VSOCK, "AF_VSOCK" },
		{ AF_XDP, "AF_XDP" },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(names); i++)
		if (names[i].value == family)
			return names[i].name;
	return NULL;
}

/* symlink and symlinkat call their paths target and linkpath; link and
 * linkat oldpath and newpath, as Falco's event tables do. */
static void get_link_arg(struct event_fields *f, const char *arg, struct cond_fvalue *ret)
{
	const struct sensor_link_payload *p = &f->event->link;
	bool symbolic = p->syscall == SENSOR_SYS_SYMLINK || p->syscall == SENSOR_SYS_SYMLINKAT;

	if (!strcmp(arg, symbolic ? "target" : "oldpath"))
		set_str(ret, p->oldpath);
	else if (!strcmp(arg, symbolic ? "linkpath" : "newpath"))
		set_str(ret, p->newpath);
	else if (p->syscall == SENSOR_SYS_SYMLINKAT && !strcmp(arg, "linkdirfd"))
		set_num_text(f, ret, p->newdfd);
	else if (p->syscall == SENSOR_SYS_LINKAT && !strcmp(arg, "olddir"))
		set_num_text(f, ret, p->olddfd);
	else if (p->syscall == SENSOR_SYS_LINKAT && !strcmp(arg, "newdir"))
		set_num_text(f, ret, p->newdfd);
	else if (p->syscall == SENSOR_SYS_LINKAT && !strcmp(arg, "flags"))
		set_num_text(f, ret, p->flags);
}

/* A name or a number: unknown values are given as decimal text. */
static void set_name_or_num(struct event_fields *f, struct cond_fvalue *ret,
	const char *name, int64_t num)
{
	if (name)
		set_str(ret, name);
	else
		set_num_text(f, ret, num);
}

static void get_setid_arg(struct event_fields *f, const char *arg, struct cond_fvalue *ret)
{
	const struct sensor_setid_payload *p = &f->event->setid;
	bool group = p->syscall == SENSOR_SYS_SETGID || p->syscall == SENSOR_SYS_SETREGID ||
		p->syscall == SENSOR_SYS_SETRESGID;
	const char *const *names;
	static const char *const single_uid[] = { "uid", NULL, NULL };
	static const char *const single_gid[] = { "gid", NULL, NULL };
	static const char *const res_uid[] = { "ruid", "euid", "suid" };
	static const char *const res_gid[] = { "rgid", "egid", "sgid" };

	if (p->syscall == SENSOR_SYS_SETUID)
		names = single_uid;
	else if (p->syscall == SENSOR_SYS_SETGID)
		names = single_gid;
	else
		names = group ? res_gid : res_uid;
	for (size_t i = 0; i < 3; i++) {
		if (names[i] && !strcmp(arg, names[i])) {
			set_id(f, ret, p->ids[i], group);
			return;
		}
	}
}

/* evt.arg.NAME of the system calls beyond open, named as Falco's event
 * tables name the parameters. */
static void get_arg(struct event_fields *f, const char *arg, struct cond_fvalue *ret)
{
	const struct sensor_event *e = f->event;

	switch (e->header.type) {
	case SENSOR_EVENT_OPEN:
		if (!strcmp(arg, "flags")) {
			char *buf = malloc(256);

			if (buf)
				event_open_flags_name(e->open.flags, buf, 256);
			set_owned(f, ret, buf);
		} else if (!strcmp(arg, "name")) {
			set_str(ret, e->open.path);
		} else if (!strcmp(arg, "fd")) {
			set_num_text(f, ret, e->open.ret);
		} else if (!strcmp(arg, "dirfd") && e->open.syscall != SENSOR_SYS_OPEN &&
			   e->open.syscall != SENSOR_SYS_CREAT) {
			set_num_text(f, ret, e->open.dfd);
		}
		break;
	case SENSOR_EVENT_ACCEPT:
		if (!strcmp(arg, "fd"))
			set_num_text(f, ret, e->accept.ret);
		else if (!strcmp(arg, "flags") && e->accept.syscall == SENSOR_SYS_ACCEPT4)
			set_num_text(f, ret, e->accept.flags);
		break;
	case SENSOR_EVENT_LISTEN:
		if (!strcmp(arg, "fd"))
			set_num_text(f, ret, e->listen.fd);
		else if (!strcmp(arg, "backlog"))
			set_num_text(f, ret, e->listen.backlog);
		break;
	case SENSOR_EVENT_PTRACE:
		if (!strcmp(arg, "request"))
			set_name_or_num(f, ret, ptrace_request_name(e->ptrace.request),
				e->ptrace.request);
		else if (!strcmp(arg, "pid"))
			set_num_text(f, ret, e->ptrace.pid);
		break;
	case SENSOR_EVENT_SETID:
		get_setid_arg(f, arg, ret);
		break;
	case SENSOR_EVENT_UNLINK:
		/* unlink and rmdir call it path, unlinkat name. */
		if (!strcmp(arg, e->unlink.syscall == SENSOR_SYS_UNLINKAT ? "name" : "path"))
			set_str(ret, e->unlink.path);
		else if (e->unlink.syscall == SENSOR_SYS_UNLINKAT && !strcmp(arg, "dirfd"))
			set_num_text(f, ret, e->unlink.dfd);
		else if (e->unlink.syscall == SENSOR_SYS_UNLINKAT && !strcmp(arg, "flags"))
			set_str(ret, e->unlink.flags & 0x200 ? "AT_REMOVEDIR" : "");
		break;
	case SENSOR_EVENT_RENAME:
		if (!strcmp(arg, "oldpath"))
			set_str(ret, e->rename.oldpath);
		else if (!strcmp(arg, "newpath"))
			set_str(ret, e->rename.newpath);
		else if (e->rename.syscall != SENSOR_SYS_RENAME && !strcmp(arg, "olddirfd"))
			set_num_text(f, ret, e->rename.olddfd);
		else if (e->rename.syscall != SENSOR_SYS_RENAME && !strcmp(arg, "newdirfd"))
			set_num_text(f, ret, e->rename.newdfd);
		else if (e->rename.syscall == SENSOR_SYS_RENAMEAT2 && !strcmp(arg, "flags"))
			set_num_text(f, ret, e->rename.flags);
		break;
	case SENSOR_EVENT_MOUNT:
		if (!strcmp(arg, "dev"))
			set_str(ret, e->mount.dev);
		else if (!strcmp(arg, "dir"))
			set_str(ret, e->mount.dir);
		else if (!strcmp(arg, "type"))
			set_str(ret, e->mount.fstype);
		else if (!strcmp(arg, "flags"))
			set_num_text(f, ret, e->mount.flags);
		break;
	case SENSOR_EVENT_MODULE:
		if (e->module.syscall == SENSOR_SYS_FINIT_MODULE && !strcmp(arg, "fd"))
			set_num_text(f, ret, e->module.fd);
		else if (e->module.syscall == SENSOR_SYS_FINIT_MODULE && !strcmp(arg, "flags"))
			set_num_text(f, ret, e->module.flags);
		break;
	case SENSOR_EVENT_BPF:
		if (!strcmp(arg, "cmd"))
			set_name_or_num(f, ret, bpf_cmd_name(e->bpf.cmd), e->bpf.cmd);
		else if (!strcmp(arg, "res_or_fd"))
			set_num_text(f, ret, e->bpf.ret);
		break;
	case SENSOR_EVENT_MEMFD:
		if (!strcmp(arg, "name"))
			set_str(ret, e->memfd.name);
		else if (!strcmp(arg, "flags"))
			set_num_text(f, ret, e->memfd.flags);
		else if (!strcmp(arg, "fd"))
			set_num_text(f, ret, e->memfd.ret);
		break;
	case SENSOR_EVENT_LINK:
		get_link_arg(f, arg, ret);
		break;
	case SENSOR_EVENT_SOCKET:
		if (!strcmp(arg, "domain"))
			set_name_or_num(f, ret, socket_family_name(e->socket.domain),
				e->socket.domain);
		else if (!strcmp(arg, "type"))
			set_num_text(f, ret, e->socket.type);
		else if (!strcmp(arg, "proto"))
			set_num_text(f, ret, e->socket.protocol);
		break;
	default:
		break;
	}
}

static void get_evt(struct event_fields *f, const char *field, const char *arg,
	struct cond_fvalue *ret)
{
	const struct sensor_event *event = f->event;
	bool open = event->header.type == SENSOR_EVENT_OPEN;
	int mode = event->open.flags & O_ACCMODE;
	int64_t res;

	if (!strcmp(field, "evt.type")) {
		set_str(ret, event_falco_name(event));
	} else if (!strcmp(field, "evt.time")) {
		set_num(ret, f->time_ns);
	} else if (!strcmp(field, "evt.is_open_read") && open) {
		set_num(ret, mode == O_RDONLY || mode == O_RDWR);
	} else if (!strcmp(field, "evt.is_open_write") && open) {
		set_num(ret, mode == O_WRONLY || mode == O_RDWR);
	} else if (!strcmp(field, "evt.arg") && arg) {
		get_arg(f, arg, ret);
	} else if (!strcmp(field, "evt.res") && event_ret(event, &res)) {
		set_res(f, ret, res);
	} else if (!strcmp(field, "evt.rawres") && event_ret(event, &res)) {
		set_num(ret, res);
	} else if (!strcmp(field, "evt.failed") && event_ret(event, &res)) {
		set_num(ret, res < 0);
	}
}

/* One ancestor's value of proc.aname, proc.aexe or proc.aexepath. */
static const char *ancestor_value(const char *field, const struct proc_entry *a)
{
	if (!strcmp(field, "proc.aname"))
		return a->comm;
	if (!strcmp(field, "proc.aexe"))
		return a->argv0;
	return a->exepath;
}

/* proc.aname[N] (N = 0 is the process itself, 1 its parent) or, without N,
 * every ancestor, the parent first. proc.apid[N] is a number. */
static void get_ancestors(struct event_fields *f, const char *field, const char *arg,
	const struct proc_entry *self, const struct proc_entry *parent, struct cond_fvalue *ret)
{
	bool pid = !strcmp(field, "proc.apid");

	if (arg) {
		char *end = NULL;
		unsigned long level = strtoul(arg, &end, 10);
		const struct proc_entry *a;

		if (*end || end == arg || level >= PROC_MAX_DEPTH)
			return;
		a = self ? ancestor(f->procs, self, (unsigned)level) : NULL;
		if (a && pid)
			set_num(ret, a->pid);
		else if (a)
			set_str(ret, ancestor_value(field, a));
		return;
	}
	ret->count = 0;
	for (const struct proc_entry *a = parent; a && ret->count < PROC_MAX_DEPTH;
		a = ancestor(f->procs, a, 1)) {
		const char *value;

		if (pid) {
			snprintf(f->pids[ret->count], sizeof(f->pids[0]), "%u", a->pid);
			value = f->pids[ret->count];
		} else {
			value = ancestor_value(field, a);
		}
		if (value)
			f->items[ret->count++] = value;
	}
	ret->kind = COND_V_LIST;
	ret->items = f->items;
}

/* Fields of the process's context: working directory, terminal, session,
 * login uid and container. */
static void get_context(struct event_fields *f, const char *field,
	const struct proc_entry *self, struct cond_fvalue *ret)
{
	const struct sensor_event_header *h = &f->event->header;

	if (!strcmp(field, "thread.tid")) {
		set_num(ret, h->tid);
		return;
	}
	if (!strcmp(field, "proc.cwd")) {
		char link[128], cwd[SENSOR_EXEC_CWD_MAX + 1];
		ssize_t n = -1;

		/* At an exec, the directory the kernel read with it; otherwise the
		 * current one, or the last exec's when the process is gone. */
		if (h->type != SENSOR_EVENT_EXEC || !self || !self->cwd) {
			snprintf(link, sizeof(link), "%s/%u/cwd", f->procs->proc_root, h->pid);
			n = readlink(link, cwd, sizeof(cwd) - 2);
		}
		if (n <= 0 && self && self->cwd && strlen(self->cwd) < sizeof(cwd) - 1)
			n = snprintf(cwd, sizeof(cwd), "%s", self->cwd);
		if (n <= 0)
			return;
		/* Falco ends the directory with a slash. */
		if (cwd[n - 1] != '/')
			cwd[n++] = '/';
		cwd[n] = '\0';
		set_owned(f, ret, wd_strdup(cwd));
		return;
	}
	if (!self)
		return;
	if (!strcmp(field, "proc.tty")) {
		set_num(ret, self->tty);
	} else if (!strcmp(field, "proc.sid")) {
		set_num(ret, self->sid);
	} else if (!strcmp(field, "proc.vpgid")) {
		set_num(ret, self->pgid);
	} else if (!strcmp(field, "user.loginuid")) {
		/* Falco shows the kernel's unset value as -1. */
		set_num(ret, self->loginuid == UINT32_MAX ? -1 : (int64_t)self->loginuid);
	} else if (!strcmp(field, "user.loginname") && self->loginuid != UINT32_MAX) {
		struct passwd pw, *found = NULL;
		char buf[1024];

		if (!getpwuid_r(self->loginuid, &pw, buf, sizeof(buf), &found) && found)
			set_owned(f, ret, wd_strdup(found->pw_name));
	} else if (!strcmp(field, "proc.duration")) {
		/* Both clocks count from boot; the event's stops in a suspend. */
		if (self->start_ns && h->timestamp_ns >= self->start_ns)
			set_num(ret, (int64_t)(h->timestamp_ns - self->start_ns));
	} else if (!strncmp(field, "thread.cap_", 11)) {
		uint64_t mask = self->cap_inheritable;
		char *buf = malloc(1024);

		if (!strcmp(field, "thread.cap_permitted"))
			mask = self->cap_permitted;
		else if (!strcmp(field, "thread.cap_effective"))
			mask = self->cap_effective;

		if (buf)
			proc_caps_name(mask, buf, 1024);
		set_owned(f, ret, buf);
	} else if (!strcmp(field, "proc.is_exe_from_memfd")) {
		set_num(ret, self->exe_memfd);
	} else if (!strcmp(field, "container.id")) {
		set_str(ret, self->container_id[0] ? self->container_id : "host");
	} else if (!strcmp(field, "container.name") && !self->container_id[0]) {
		/* Without a runtime to ask, only the host's name is known. */
		set_str(ret, "host");
	}
}

void event_fields_get(void *ctx, const char *field, const char *arg, struct cond_fvalue *ret)
{
	struct event_fields *f = ctx;
	const struct sensor_event_header *h = &f->event->header;
	const struct proc_entry *self = proc_table_get(f->procs, h->pid);
	const struct proc_entry *parent = self ? ancestor(f->procs, self, 1) : NULL;

	ret->kind = COND_V_UNSET;
	/* Falco writes evt.arg.flags; the parser hands the suffix as arg. */
	if (!strncmp(field, "evt.arg.", 8) && !arg) {
		get_evt(f, "evt.arg", field + 8, ret);
		return;
	}
	if (!strncmp(field, "evt.", 4)) {
		get_evt(f, field, arg, ret);
	} else if (!strncmp(field, "fd.", 3)) {
		get_fd(f, field, ret);
	} else if (!strcmp(field, "proc.pid")) {
		set_num(ret, h->pid);
	} else if (!strcmp(field, "proc.ppid")) {
		set_num(ret, self ? self->ppid : h->ppid);
	} else if (!strcmp(field, "proc.name")) {
		set_str(ret, h->comm);
	} else if (!strcmp(field, "proc.exe")) {
		set_str(ret, self ? self->argv0 : NULL);
	} else if (!strcmp(field, "proc.exepath")) {
		set_str(ret, self ? self->exepath : NULL);
	} else if (!strcmp(field, "proc.args")) {
		if (self)
			set_str(ret, self->args ? self->args : "");
	} else if (!strcmp(field, "proc.cmdline")) {
		if (self)
			set_owned(f, ret, cmdline_of(self));
	} else if (!strcmp(field, "proc.pname")) {
		set_str(ret, parent ? parent->comm : NULL);
	} else if (!strcmp(field, "proc.pcmdline")) {
		if (parent)
			set_owned(f, ret, cmdline_of(parent));
	} else if (!strcmp(field, "proc.aname") || !strcmp(field, "proc.apid") ||
		!strcmp(field, "proc.aexe") || !strcmp(field, "proc.aexepath")) {
		get_ancestors(f, field, arg, self, parent, ret);
	} else if (!strcmp(field, "proc.pexe")) {
		set_str(ret, parent ? parent->argv0 : NULL);
	} else if (!strcmp(field, "proc.pexepath")) {
		set_str(ret, parent ? parent->exepath : NULL);
	} else if (!strncmp(field, "proc.", 5) || !strncmp(field, "thread.", 7) ||
		!strncmp(field, "container.", 10) || !strncmp(field, "user.login", 10)) {
		get_context(f, field, self, ret);
	} else if (!strcmp(field, "user.uid")) {
		set_num(ret, h->uid);
	} else if (!strcmp(field, "group.gid")) {
		set_num(ret, h->gid);
	} else if (!strcmp(field, "group.name")) {
		struct group gr, *found = NULL;
		char buf[4096];

		if (!getgrgid_r(h->gid, &gr, buf, sizeof(buf), &found) && found)
			set_owned(f, ret, wd_strdup(found->gr_name));
	} else if (!strcmp(field, "user.name")) {
		struct passwd pw, *found = NULL;
		char buf[1024];

		if (!getpwuid_r(h->uid, &pw, buf, sizeof(buf), &found) && found)
			set_owned(f, ret, wd_strdup(found->pw_name));
	}
}
