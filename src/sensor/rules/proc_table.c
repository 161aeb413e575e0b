/* The sensor's process table: seeded from /proc, then kept up to date from
 * exec, fork and exit events, so the rules can read a process's parent and
 * ancestors without a /proc lookup per event. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cgroup.h"
#include "common/alloc.h"
#include "sensor/rules/event_source.h"

/* Bytes of /proc/PID/cmdline read; longer command lines are cut. */
#define CMDLINE_MAX 4096

static size_t bucket_of(uint32_t pid)
{
	return (pid * 2654435761u) % PROC_TABLE_BUCKETS;
}

int proc_table_init(struct proc_table *table, const char *proc_root)
{
	memset(table, 0, sizeof(*table));
	table->proc_root = wd_strdup(proc_root);
	return table->proc_root ? 0 : WD_ENOMEM;
}

static void entry_free(struct proc_entry *entry)
{
	free(entry->exepath);
	free(entry->argv0);
	free(entry->args);
	free(entry->cwd);
	free(entry->cgroup);
	free(entry);
}

void proc_table_free(struct proc_table *table)
{
	for (size_t i = 0; i < PROC_TABLE_BUCKETS; i++) {
		struct proc_entry *entry = table->buckets[i];

		while (entry) {
			struct proc_entry *next = entry->next;

			entry_free(entry);
			entry = next;
		}
		table->buckets[i] = NULL;
	}
	table->count = 0;
	free(table->proc_root);
	table->proc_root = NULL;
}

struct proc_entry *proc_table_get(const struct proc_table *table, uint32_t pid)
{
	for (struct proc_entry *e = table->buckets[bucket_of(pid)]; e; e = e->next)
		if (e->pid == pid)
			return e;
	return NULL;
}

/* Returns the entry of pid, a new zeroed one if there was none, or NULL
 * when memory runs out or the table is full. */
static struct proc_entry *table_put(struct proc_table *table, uint32_t pid)
{
	struct proc_entry *entry = proc_table_get(table, pid);
	size_t b = bucket_of(pid);

	if (entry)
		return entry;
	if (table->count >= PROC_TABLE_MAX)
		return NULL;
	entry = wd_calloc(1, sizeof(*entry));
	if (!entry)
		return NULL;
	entry->pid = pid;
	entry->loginuid = UINT32_MAX;
	entry->next = table->buckets[b];
	table->buckets[b] = entry;
	table->count++;
	return entry;
}

static void table_remove(struct proc_table *table, uint32_t pid)
{
	struct proc_entry **link = &table->buckets[bucket_of(pid)];

	for (; *link; link = &(*link)->next) {
		if ((*link)->pid == pid) {
			struct proc_entry *entry = *link;

			*link = entry->next;
			entry_free(entry);
			table->count--;
			return;
		}
	}
}

int proc_cmdline_split(const char *data, size_t len, char **ret_argv0, char **ret_args)
{
	size_t first;
	char *argv0 = NULL, *args = NULL;

	*ret_argv0 = NULL;
	*ret_args = NULL;
	/* A trailing NUL ends the last argument rather than adding an empty one. */
	if (len && data[len - 1] == '\0')
		len--;
	if (!len)
		return 0;
	first = strnlen(data, len);
	argv0 = wd_strndup(data, first);
	if (!argv0)
		return WD_ENOMEM;
	if (first < len) {
		args = wd_strndup(data + first + 1, len - first - 1);
		if (!args) {
			free(argv0);
			return WD_ENOMEM;
		}
		for (size_t i = 0; i < len - first - 1; i++)
			if (args[i] == '\0')
				args[i] = ' ';
	}
	*ret_argv0 = argv0;
	*ret_args = args;
	return 0;
}

static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t total = 0;

	if (fd < 0)
		return -1;
	while (total < size) {
		ssize_t n = read(fd, buf + total, size - total);

		if (n <= 0)
			break;
		total += (size_t)n;
	}
	close(fd);
	return (ssize_t)total;
}

/* Rereads pid's program and command line from proc_root. A process that
 * ended meanwhile keeps the values from the event.
 * NOTE: the read happens when user space handles the event, so a process
 * that already ran another exec shows that later command line. */
static int entry_read_program(const struct proc_table *table, struct proc_entry *entry)
{
	char path[256], buf[CMDLINE_MAX];
	char *argv0 = NULL, *args = NULL;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/cmdline", table->proc_root, entry->pid);
	n = read_small(path, buf, sizeof(buf));
	if (n > 0) {
		WD_TRY(proc_cmdline_split(buf, (size_t)n, &argv0, &args));
		free(entry->argv0);
		free(entry->args);
		entry->argv0 = argv0;
		entry->args = args;
	}
	if (!entry->exepath) {
		snprintf(path, sizeof(path), "%s/%u/exe", table->proc_root, entry->pid);
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			entry->exepath = wd_strdup(buf);
			if (!entry->exepath)
				return WD_ENOMEM;
		}
	}
	if (!entry->cwd) {
		snprintf(path, sizeof(path), "%s/%u/cwd", table->proc_root, entry->pid);
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			entry->cwd = wd_strdup(buf);
			if (!entry->cwd)
				return WD_ENOMEM;
		}
	}
	return 0;
}

void proc_path_normalize(const char *path, char *buf, size_t size)
{
	size_t used = 0;
	bool absolute = path[0] == '/';

	if (!size)
		return;
	if (absolute && size > 1)
		buf[used++] = '/';
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* an empty or "." component */
		} else if (n == 2 && p[0] == '.' && p[1] == '.' &&
			used > (absolute ? 1u : 0u) &&
			!(used >= 2 && buf[used - 1] == '.' && buf[used - 2] == '.' &&
			(used == 2 || buf[used - 3] == '/'))) {
			/* Drop the last component; ".." at the root stays at the root. */
			while (used > (absolute ? 1u : 0u) && buf[used - 1] != '/')
				used--;
			if (used > (absolute ? 1u : 0u))
				used--;
		} else if (!(n == 2 && p[0] == '.' && p[1] == '.' && absolute)) {
			if (used > (absolute ? 1u : 0u) && used < size - 1)
				buf[used++] = '/';
			for (size_t i = 0; i < n && used < size - 1; i++)
				buf[used++] = p[i];
		}
		p = *end ? end + 1 : end;
	}
	if (used == 0 && !absolute && size > 1)
		buf[used++] = '.';
	buf[used] = '\0';
}

int proc_cgroup_parse(const char *text, size_t len,
	char ret_id[static PROC_CONTAINER_ID_LEN + 1], char **ret_path)
{
	struct attest_cgroup_info info = { 0 };
	int rc = 0;

	ret_id[0] = '\0';
	*ret_path = NULL;
	if (attest_cgroup_parse(text, len, &info, NULL) < 0)
		return 0;
	memcpy(ret_id, info.container_id, PROC_CONTAINER_ID_LEN);
	ret_id[info.container_id[0] ? PROC_CONTAINER_ID_LEN : 0] = '\0';
	if (info.unified_path) {
		*ret_path = wd_strdup(info.unified_path);
		if (!*ret_path)
			rc = WD_ENOMEM;
	}
	attest_cgroup_info_clear(&info);
	return rc;
}

void proc_caps_name(uint64_t mask, char *buf, size_t size)
{
	/* Capability numbers 0 to 40 of capabilities(7). */
	static const char *const names[] = {
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
		"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
		"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
		"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
		"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
		"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
		"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
		"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
		"CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
	};
	size_t used = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < WD_ARRAY_LEN(names) && used < size; i++) {
		if (mask & (1ull << i))
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? " " : "",
				names[i]);
	}
}

/* Reads CapPrm, CapEff and CapInh of /proc/PID/status. */
static void entry_read_caps(const struct proc_table *table, struct proc_entry *entry)
{
	char path[256], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/status", table->proc_root, entry->pid);
	n = read_small(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *line = buf; line && *line;) {
		char *end = strchr(line, '\n');
		unsigned long long value;

		if (sscanf(line, "CapPrm: %llx", &value) == 1)
			entry->cap_permitted = value;
		else if (sscanf(line, "CapEff: %llx", &value) == 1)
			entry->cap_effective = value;
		else if (sscanf(line, "CapInh: %llx", &value) == 1)
			entry->cap_inheritable = value;
		line = end ? end + 1 : NULL;
	}
}

/* Reads the process's cgroups, terminal, session, capabilities and login
 * uid: the fields Falco's container.*, proc.tty, thread.cap_* and
 * user.loginuid read. */
static int entry_read_context(const struct proc_table *table, struct proc_entry *entry)
{
	char path[256], buf[CMDLINE_MAX];
	char *cgroup = NULL;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/cgroup", table->proc_root, entry->pid);
	n = read_small(path, buf, sizeof(buf));
	if (n > 0) {
		WD_TRY(proc_cgroup_parse(buf, (size_t)n, entry->container_id, &cgroup));
		free(entry->cgroup);
		entry->cgroup = cgroup;
	}
	snprintf(path, sizeof(path), "%s/%u/stat", table->proc_root, entry->pid);
	n = read_small(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		/* "pid (comm) state ppid pgrp session tty_nr ...": comm may hold
		 * blanks and parentheses, so the fields start after the last ')'. */
		char *close;
		unsigned pgid, sid;
		int tty;

		buf[n] = '\0';
		close = strrchr(buf, ')');
		unsigned long long start;
		long hz = sysconf(_SC_CLK_TCK);

		if (close && sscanf(close + 1, " %*c %*d %u %u %d %*d %*u %*u %*u %*u %*u %*u "
			"%*u %*d %*d %*d %*d %*d %*d %llu", &pgid, &sid, &tty, &start) == 4) {
			entry->pgid = pgid;
			entry->sid = sid;
			entry->tty = (uint32_t)tty;
			if (hz > 0)
				entry->start_ns = start * (1000000000ull / (unsigned long long)hz);
		}
	}
	snprintf(path, sizeof(path), "%s/%u/exe", table->proc_root, entry->pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	entry->exe_memfd = n > 7 && !strncmp(buf, "/memfd:", 7);
	entry_read_caps(table, entry);
	snprintf(path, sizeof(path), "%s/%u/loginuid", table->proc_root, entry->pid);
	n = read_small(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		unsigned long value;
		char *end;

		buf[n] = '\0';
		value = strtoul(buf, &end, 10);
		if (end != buf && value <= UINT32_MAX)
			entry->loginuid = (uint32_t)value;
	}
	return 0;
}

/* Reads Name, PPid, Uid and Gid from /proc/PID/status. */
static bool entry_read_status(const struct proc_table *table, struct proc_entry *entry)
{
	char path[256], buf[4096];
	ssize_t n;
	bool have_ppid = false;

	snprintf(path, sizeof(path), "%s/%u/status", table->proc_root, entry->pid);
	n = read_small(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *line = buf; line && *line;) {
		char *end = strchr(line, '\n');
		unsigned value;

		if (end)
			*end = '\0';
		if (!strncmp(line, "Name:\t", 6))
			snprintf(entry->comm, sizeof(entry->comm), "%s", line + 6);
		else if (sscanf(line, "PPid: %u", &value) == 1) {
			entry->ppid = value;
			have_ppid = true;
		} else if (sscanf(line, "Uid: %u", &value) == 1)
			entry->uid = value;
		else if (sscanf(line, "Gid: %u", &value) == 1)
			entry->gid = value;
		line = end ? end + 1 : NULL;
	}
	return have_ppid;
}

int proc_table_seed(struct proc_table *table, struct wd_error *err)
{
	DIR *dir = opendir(table->proc_root);
	struct dirent *d;
	int rc = 0;

	if (!dir)
		return wd_error_set(err, WD_EIO, "cannot list '%s'", table->proc_root);
	while ((d = readdir(dir))) {
		char *end = NULL;
		unsigned long pid;
		struct proc_entry *entry;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = strtoul(d->d_name, &end, 10);
		if (*end || pid == 0 || pid > UINT32_MAX)
			continue;
		entry = table_put(table, (uint32_t)pid);
		if (!entry)
			break;
		if (!entry_read_status(table, entry)) {
			table_remove(table, (uint32_t)pid);
			continue;
		}
		rc = entry_read_program(table, entry);
		if (rc == 0)
			rc = entry_read_context(table, entry);
		if (rc < 0) {
			wd_error_set(err, WD_ENOMEM, "out of memory reading '%s'", table->proc_root);
			break;
		}
	}
	closedir(dir);
	return rc;
}

static void entry_from_header(struct proc_entry *entry, const struct sensor_event_header *h)
{
	entry->ppid = h->ppid;
	entry->uid = h->uid;
	entry->gid = h->gid;
	memcpy(entry->comm, h->comm, sizeof(entry->comm));
	entry->comm[sizeof(entry->comm) - 1] = '\0';
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *copy;

	if (!s)
		return NULL;
	copy = wd_strdup(s);
	if (!copy)
		*failed = true;
	return copy;
}

static int apply_fork(struct proc_table *table, const struct sensor_event *event)
{
	const struct proc_entry *parent;
	struct proc_entry *child;
	bool failed = false;

	/* A new thread of the same process changes nothing; copying the entry
	 * onto itself would free the strings it copies and make it its own
	 * parent. */
	if (event->fork.child_pid == event->header.pid)
		return 0;
	parent = proc_table_get(table, event->header.pid);
	child = table_put(table, event->fork.child_pid);
	if (!child)
		return 0;
	entry_from_header(child, &event->header);
	child->ppid = event->header.pid;
	free(child->exepath);
	free(child->argv0);
	free(child->args);
	child->exepath = parent ? dup_or_null(parent->exepath, &failed) : NULL;
	child->argv0 = parent ? dup_or_null(parent->argv0, &failed) : NULL;
	child->args = parent ? dup_or_null(parent->args, &failed) : NULL;
	free(child->cwd);
	child->cwd = parent ? dup_or_null(parent->cwd, &failed) : NULL;
	free(child->cgroup);
	child->cgroup = parent ? dup_or_null(parent->cgroup, &failed) : NULL;
	child->loginuid = UINT32_MAX;
	if (parent) {
		memcpy(child->container_id, parent->container_id, sizeof(child->container_id));
		child->tty = parent->tty;
		child->sid = parent->sid;
		child->pgid = parent->pgid;
		child->loginuid = parent->loginuid;
		child->exe_memfd = parent->exe_memfd;
		child->cap_permitted = parent->cap_permitted;
		child->cap_effective = parent->cap_effective;
		child->cap_inheritable = parent->cap_inheritable;
	}
	/* The fork is the child's start, in the event clock. */
	child->start_ns = event->header.timestamp_ns;
	return failed ? WD_ENOMEM : 0;
}

static int apply_exec(struct proc_table *table, const struct sensor_event *event)
{
	struct proc_entry *entry = table_put(table, event->header.pid);
	char cwd[SENSOR_EXEC_CWD_MAX];

	if (!entry)
		return 0;
	entry_from_header(entry, &event->header);
	free(entry->exepath);
	free(entry->argv0);
	free(entry->args);
	entry->argv0 = NULL;
	entry->args = NULL;
	entry->exepath = wd_strdup(event->exec.filename);
	if (!entry->exepath)
		return WD_ENOMEM;
	if (sensor_exec_cwd(&event->exec, cwd, sizeof(cwd)) >= 0) {
		free(entry->cwd);
		entry->cwd = wd_strdup(cwd);
		if (!entry->cwd)
			return WD_ENOMEM;
	}
	/* The kernel read the command line at the exec itself, so it is right
	 * even when the process is gone by now; /proc is the fallback for an
	 * exec whose arguments could not be read. */
	if (event->exec.args_len > 0)
		WD_TRY(proc_cmdline_split(event->exec.args, event->exec.args_len, &entry->argv0,
			&entry->args));
	else
		WD_TRY(entry_read_program(table, entry));
	/* The terminal the kernel saw at the exec, unless /proc has a newer one:
	 * a process that is gone keeps this one. */
	entry->tty = event->exec.tty;
	return entry_read_context(table, entry);
}

int proc_table_apply(struct proc_table *table, const struct sensor_event *event)
{
	struct proc_entry *entry;

	switch (event->header.type) {
	case SENSOR_EVENT_FORK:
		return apply_fork(table, event);
	case SENSOR_EVENT_EXEC:
		return apply_exec(table, event);
	case SENSOR_EVENT_EXIT:
		table_remove(table, event->header.pid);
		return 0;
	default:
		entry = proc_table_get(table, event->header.pid);
		if (entry) {
			/* The header is newer than the table: a setuid or a prctl. */
			entry->uid = event->header.uid;
			entry->gid = event->header.gid;
			return 0;
		}
		entry = table_put(table, event->header.pid);
		if (!entry)
			return 0;
		entry_from_header(entry, &event->header);
		WD_TRY(entry_read_program(table, entry));
		return entry_read_context(table, entry);
	}
}
