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
	default: return NULL;
	}
}

uint32_t event_sensor_type(const char *falco_type)
{
	static const struct { const char *name; uint32_t type; } map[] = {
		{ "execve", SENSOR_EVENT_EXEC }, { "execveat", SENSOR_EVENT_EXEC },
		{ "open", SENSOR_EVENT_OPEN }, { "openat", SENSOR_EVENT_OPEN },
		{ "openat2", SENSOR_EVENT_OPEN }, { "creat", SENSOR_EVENT_OPEN },
		{ "connect", SENSOR_EVENT_CONNECT },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(map); i++)
		if (!strcmp(map[i].name, falco_type))
			return map[i].type;
	return 0;
}

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
	return mask & (SENSOR_TYPE_BIT(SENSOR_EVENT_EXEC) | SENSOR_TYPE_BIT(SENSOR_EVENT_OPEN) |
		SENSOR_TYPE_BIT(SENSOR_EVENT_CONNECT));
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
			snprintf(link, sizeof(link), "%s/%u/cwd", procs->proc_root, h->pid);
			n = readlink(link, cwd, sizeof(cwd) - 1);
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

	if (type != SENSOR_EVENT_OPEN && type != SENSOR_EVENT_CONNECT)
		return;
	if (!strcmp(field, "fd.name")) {
		set_str(ret, f->fd_name);
		return;
	}
	if (!strcmp(field, "fd.num")) {
		set_num(ret, type == SENSOR_EVENT_OPEN ? f->event->open.ret : f->event->connect.fd);
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

static void get_evt(struct event_fields *f, const char *field, const char *arg,
	struct cond_fvalue *ret)
{
	const struct sensor_event *event = f->event;
	bool open = event->header.type == SENSOR_EVENT_OPEN;
	int mode = event->open.flags & O_ACCMODE;

	if (!strcmp(field, "evt.type")) {
		set_str(ret, event_falco_type(event->header.type));
	} else if (!strcmp(field, "evt.time")) {
		set_num(ret, f->time_ns);
	} else if (!strcmp(field, "evt.is_open_read") && open) {
		set_num(ret, mode == O_RDONLY || mode == O_RDWR);
	} else if (!strcmp(field, "evt.res") && (open || event->header.type == SENSOR_EVENT_EXEC)) {
		/* The sensor reports only execs that succeeded. */
		int32_t res = open ? event->open.ret : 0;
		const char *name = res < 0 ? strerrorname_np(-res) : "SUCCESS";

		set_str(ret, name);
	} else if (!strcmp(field, "evt.rawres") && open) {
		set_num(ret, event->open.ret);
	} else if (!strcmp(field, "evt.failed") && open) {
		set_num(ret, event->open.ret < 0);
	} else if (!strcmp(field, "evt.is_open_write") && open) {
		set_num(ret, mode == O_WRONLY || mode == O_RDWR);
	} else if (!strcmp(field, "evt.arg") && open && arg && !strcmp(arg, "flags")) {
		char *buf = malloc(256);

		if (buf)
			event_open_flags_name(event->open.flags, buf, 256);
		set_owned(f, ret, buf);
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
		char link[128], cwd[SENSOR_PATH_LEN + 2];
		ssize_t n;

		/* Falco ends the directory with a slash. */
		snprintf(link, sizeof(link), "%s/%u/cwd", f->procs->proc_root, h->pid);
		n = readlink(link, cwd, sizeof(cwd) - 2);
		if (n <= 0)
			return;
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
