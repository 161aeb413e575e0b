/* Decoding of ring buffer records into struct sensor_event, and their JSON
 * form for `warden sensor events --json`. */
#include "sensor/sensor_event.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "common/macros.h"

/* The longest --types list accepted: every name once, with some slack. */
#define TYPES_LIST_MAX 256

struct type_info {
	const char *name;
	size_t record_size;
};

static const struct type_info types[SENSOR_EVENT_TYPE_COUNT] = {
	[SENSOR_EVENT_EXEC] = { "exec", sizeof(struct sensor_exec_record) },
	[SENSOR_EVENT_FORK] = { "fork", sizeof(struct sensor_fork_record) },
	[SENSOR_EVENT_EXIT] = { "exit", sizeof(struct sensor_exit_record) },
	[SENSOR_EVENT_OPEN] = { "open", sizeof(struct sensor_open_record) },
	[SENSOR_EVENT_CONNECT] = { "connect", sizeof(struct sensor_connect_record) },
	[SENSOR_EVENT_ACCEPT] = { "accept", sizeof(struct sensor_accept_record) },
	[SENSOR_EVENT_LISTEN] = { "listen", sizeof(struct sensor_listen_record) },
	[SENSOR_EVENT_PTRACE] = { "ptrace", sizeof(struct sensor_ptrace_record) },
	[SENSOR_EVENT_SETID] = { "setid", sizeof(struct sensor_setid_record) },
	[SENSOR_EVENT_UNLINK] = { "unlink", sizeof(struct sensor_unlink_record) },
	[SENSOR_EVENT_RENAME] = { "rename", sizeof(struct sensor_rename_record) },
	[SENSOR_EVENT_MOUNT] = { "mount", sizeof(struct sensor_mount_record) },
	[SENSOR_EVENT_MODULE] = { "module", sizeof(struct sensor_module_record) },
	[SENSOR_EVENT_BPF] = { "bpf", sizeof(struct sensor_bpf_record) },
	[SENSOR_EVENT_MEMFD] = { "memfd", sizeof(struct sensor_memfd_record) },
	[SENSOR_EVENT_LINK] = { "link", sizeof(struct sensor_link_record) },
	[SENSOR_EVENT_SOCKET] = { "socket", sizeof(struct sensor_socket_record) },
};

/* The type each call's events have, and its name as Falco's evt.type. */
static const struct {
	const char *name;
	uint32_t type;
} syscalls[SENSOR_SYS_COUNT] = {
	[SENSOR_SYS_EXECVE] = { "execve", SENSOR_EVENT_EXEC },
	[SENSOR_SYS_EXECVEAT] = { "execveat", SENSOR_EVENT_EXEC },
	[SENSOR_SYS_OPEN] = { "open", SENSOR_EVENT_OPEN },
	[SENSOR_SYS_OPENAT] = { "openat", SENSOR_EVENT_OPEN },
	[SENSOR_SYS_OPENAT2] = { "openat2", SENSOR_EVENT_OPEN },
	[SENSOR_SYS_CREAT] = { "creat", SENSOR_EVENT_OPEN },
	[SENSOR_SYS_CONNECT] = { "connect", SENSOR_EVENT_CONNECT },
	[SENSOR_SYS_ACCEPT] = { "accept", SENSOR_EVENT_ACCEPT },
	[SENSOR_SYS_ACCEPT4] = { "accept4", SENSOR_EVENT_ACCEPT },
	[SENSOR_SYS_LISTEN] = { "listen", SENSOR_EVENT_LISTEN },
	[SENSOR_SYS_PTRACE] = { "ptrace", SENSOR_EVENT_PTRACE },
	[SENSOR_SYS_SETUID] = { "setuid", SENSOR_EVENT_SETID },
	[SENSOR_SYS_SETGID] = { "setgid", SENSOR_EVENT_SETID },
	[SENSOR_SYS_SETREUID] = { "setreuid", SENSOR_EVENT_SETID },
	[SENSOR_SYS_SETREGID] = { "setregid", SENSOR_EVENT_SETID },
	[SENSOR_SYS_SETRESUID] = { "setresuid", SENSOR_EVENT_SETID },
	[SENSOR_SYS_SETRESGID] = { "setresgid", SENSOR_EVENT_SETID },
	[SENSOR_SYS_UNLINK] = { "unlink", SENSOR_EVENT_UNLINK },
	[SENSOR_SYS_UNLINKAT] = { "unlinkat", SENSOR_EVENT_UNLINK },
	[SENSOR_SYS_RMDIR] = { "rmdir", SENSOR_EVENT_UNLINK },
	[SENSOR_SYS_RENAME] = { "rename", SENSOR_EVENT_RENAME },
	[SENSOR_SYS_RENAMEAT] = { "renameat", SENSOR_EVENT_RENAME },
	[SENSOR_SYS_RENAMEAT2] = { "renameat2", SENSOR_EVENT_RENAME },
	[SENSOR_SYS_MOUNT] = { "mount", SENSOR_EVENT_MOUNT },
	[SENSOR_SYS_INIT_MODULE] = { "init_module", SENSOR_EVENT_MODULE },
	[SENSOR_SYS_FINIT_MODULE] = { "finit_module", SENSOR_EVENT_MODULE },
	[SENSOR_SYS_BPF] = { "bpf", SENSOR_EVENT_BPF },
	[SENSOR_SYS_MEMFD_CREATE] = { "memfd_create", SENSOR_EVENT_MEMFD },
	[SENSOR_SYS_SYMLINK] = { "symlink", SENSOR_EVENT_LINK },
	[SENSOR_SYS_SYMLINKAT] = { "symlinkat", SENSOR_EVENT_LINK },
	[SENSOR_SYS_LINK] = { "link", SENSOR_EVENT_LINK },
	[SENSOR_SYS_LINKAT] = { "linkat", SENSOR_EVENT_LINK },
	[SENSOR_SYS_SOCKET] = { "socket", SENSOR_EVENT_SOCKET },
};

const char *sensor_syscall_name(uint32_t syscall)
{
	if (syscall >= SENSOR_SYS_COUNT)
		return NULL;
	return syscalls[syscall].name;
}

uint32_t sensor_syscall_type(uint32_t syscall)
{
	if (syscall >= SENSOR_SYS_COUNT)
		return 0;
	return syscalls[syscall].type;
}

uint32_t sensor_event_syscall(const struct sensor_event *event)
{
	switch (event->header.type) {
	case SENSOR_EVENT_EXEC:
		return event->exec.flags & SENSOR_EXEC_EXECVEAT ? SENSOR_SYS_EXECVEAT :
			SENSOR_SYS_EXECVE;
	case SENSOR_EVENT_OPEN: return event->open.syscall;
	case SENSOR_EVENT_CONNECT: return SENSOR_SYS_CONNECT;
	case SENSOR_EVENT_ACCEPT: return event->accept.syscall;
	case SENSOR_EVENT_LISTEN: return SENSOR_SYS_LISTEN;
	case SENSOR_EVENT_PTRACE: return SENSOR_SYS_PTRACE;
	case SENSOR_EVENT_SETID: return event->setid.syscall;
	case SENSOR_EVENT_UNLINK: return event->unlink.syscall;
	case SENSOR_EVENT_RENAME: return event->rename.syscall;
	case SENSOR_EVENT_MOUNT: return SENSOR_SYS_MOUNT;
	case SENSOR_EVENT_MODULE: return event->module.syscall;
	case SENSOR_EVENT_BPF: return SENSOR_SYS_BPF;
	case SENSOR_EVENT_MEMFD: return SENSOR_SYS_MEMFD_CREATE;
	case SENSOR_EVENT_LINK: return event->link.syscall;
	case SENSOR_EVENT_SOCKET: return SENSOR_SYS_SOCKET;
	default: return 0;
	}
}

/* True when the call named in a payload's syscall field belongs to type. */
static bool syscall_fits(uint32_t syscall, uint32_t type)
{
	return syscall > 0 && syscall < SENSOR_SYS_COUNT && syscalls[syscall].type == type;
}

const char *sensor_event_type_name(uint32_t type)
{
	if (type >= SENSOR_EVENT_TYPE_COUNT)
		return NULL;
	return types[type].name;
}

/* The kernel cuts strings at the buffer's end with a NUL, but a record is
 * still checked rather than trusted. */
static void terminate(char *text, size_t size)
{
	text[size - 1] = '\0';
}

/* Terminates the strings of a copied record and checks its lengths and
 * call numbers; zeroes the event when they are wrong. */
static int check_payload(struct sensor_event *event, struct wd_error *err)
{
	uint32_t type = event->header.type;
	uint32_t syscall = sensor_event_syscall(event);
	int rc;

	terminate(event->header.comm, sizeof(event->header.comm));
	switch (type) {
	case SENSOR_EVENT_EXEC:
		terminate(event->exec.filename, sizeof(event->exec.filename));
		if (event->exec.args_len > SENSOR_ARGS_LEN) {
			rc = wd_error_set(err, WD_EINVAL,
				"sensor exec record says it has %u bytes of arguments, at most %d",
				event->exec.args_len, SENSOR_ARGS_LEN);
			goto bad;
		}
		if (event->exec.cwd_len > SENSOR_CWD_LEN) {
			rc = wd_error_set(err, WD_EINVAL,
				"sensor exec record says it has %u bytes of working directory, at most %d",
				event->exec.cwd_len, SENSOR_CWD_LEN);
			goto bad;
		}
		break;
	case SENSOR_EVENT_OPEN:
		terminate(event->open.path, sizeof(event->open.path));
		break;
	case SENSOR_EVENT_UNLINK:
		terminate(event->unlink.path, sizeof(event->unlink.path));
		break;
	case SENSOR_EVENT_RENAME:
		terminate(event->rename.oldpath, sizeof(event->rename.oldpath));
		terminate(event->rename.newpath, sizeof(event->rename.newpath));
		break;
	case SENSOR_EVENT_MOUNT:
		terminate(event->mount.dev, sizeof(event->mount.dev));
		terminate(event->mount.dir, sizeof(event->mount.dir));
		terminate(event->mount.fstype, sizeof(event->mount.fstype));
		break;
	case SENSOR_EVENT_MEMFD:
		terminate(event->memfd.name, sizeof(event->memfd.name));
		break;
	case SENSOR_EVENT_LINK:
		terminate(event->link.oldpath, sizeof(event->link.oldpath));
		terminate(event->link.newpath, sizeof(event->link.newpath));
		break;
	default:
		break;
	}
	if (syscall && !syscall_fits(syscall, type)) {
		rc = wd_error_set(err, WD_EINVAL, "sensor %s record names unknown system call %u",
			types[type].name, syscall);
		goto bad;
	}
	return 0;
bad:
	memset(event, 0, sizeof(*event));
	return rc;
}

int sensor_event_decode(const void *data, size_t len, struct sensor_event *ret_event,
	struct wd_error *err)
{
	struct sensor_event_header header;
	size_t expected;

	memset(ret_event, 0, sizeof(*ret_event));
	if (len < sizeof(header))
		return wd_error_set(err, WD_ETRUNCATED,
			"sensor record of %zu bytes is shorter than its %zu-byte header", len,
			sizeof(header));
	memcpy(&header, data, sizeof(header));
	if (!sensor_event_type_name(header.type))
		return wd_error_set(err, WD_EINVAL, "sensor record has unknown type %u",
			header.type);
	expected = types[header.type].record_size;
	if (len < expected)
		return wd_error_set(err, WD_ETRUNCATED,
			"sensor %s record of %zu bytes is shorter than %zu", types[header.type].name,
			len, expected);
	if (header.size != expected)
		return wd_error_set(err, WD_EINVAL,
			"sensor %s record says it has %u bytes, expected %zu",
			types[header.type].name, header.size, expected);

	/* The payload union follows the header exactly as in the records. */
	memcpy(ret_event, data, expected);
	return check_payload(ret_event, err);
}

static int parse_one(const char *name, size_t len, unsigned *mask, struct wd_error *err)
{
	if (len == 0)
		return wd_error_set(err, WD_EINVAL, "empty event type in the list");
	if (len == 3 && !memcmp(name, "all", 3)) {
		*mask |= SENSOR_TYPES_ALL;
		return 0;
	}
	for (uint32_t type = 1; type < SENSOR_EVENT_TYPE_COUNT; type++) {
		if (strlen(types[type].name) == len && !memcmp(types[type].name, name, len)) {
			*mask |= SENSOR_TYPE_BIT(type);
			return 0;
		}
	}
	return wd_error_set(err, WD_EINVAL,
		"unknown event type '%.*s' (expected exec, fork, exit, open, connect, accept, "
		"listen, ptrace, setid, unlink, rename, mount, module, bpf, memfd, link, socket "
		"or all)",
		(int)len, name);
}

int sensor_types_parse(const char *list, unsigned *ret_mask, struct wd_error *err)
{
	unsigned mask = 0;
	size_t total = strnlen(list, TYPES_LIST_MAX + 1);
	const char *item = list;

	if (total > TYPES_LIST_MAX)
		return wd_error_set(err, WD_ETOOBIG, "event type list is longer than %d bytes",
			TYPES_LIST_MAX);
	for (;;) {
		const char *comma = strchr(item, ',');
		size_t len = comma ? (size_t)(comma - item) : strlen(item);

		WD_TRY(parse_one(item, len, &mask, err));
		if (!comma)
			break;
		item = comma + 1;
	}
	*ret_mask = mask;
	return 0;
}

/* Returns a JSON string of text, with every non-ASCII byte replaced by
 * '?' when text is not valid UTF-8. */
static json_t *string_value(const char *text)
{
	char safe[SENSOR_ARGS_LEN + 1];
	size_t i;
	json_t *value = json_string(text);

	if (value)
		return value;
	for (i = 0; text[i] && i + 1 < sizeof(safe); i++)
		safe[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
	safe[i] = '\0';
	return json_string(safe);
}

static int set(json_t *object, const char *key, json_t *value)
{
	return json_object_set_new(object, key, value);
}

int sensor_exec_cwd(const struct sensor_exec_payload *exec, char *buf, size_t size)
{
	/* Each component takes at least a byte and its NUL. */
	size_t starts[SENSOR_CWD_LEN / 2], count = 0, at = 0, used = 0;

	if (size)
		buf[0] = '\0';
	if (!(exec->flags & SENSOR_EXEC_CWD_WHOLE) || size < 2 || exec->cwd_len > SENSOR_CWD_LEN)
		return -1;
	while (at < exec->cwd_len && count < WD_ARRAY_LEN(starts)) {
		starts[count++] = at;
		at += strnlen(exec->cwd + at, exec->cwd_len - at) + 1;
	}
	/* The innermost component comes first: write them in reverse. */
	for (size_t i = count; i-- > 0;) {
		size_t len = strnlen(exec->cwd + starts[i], exec->cwd_len - starts[i]);

		if (used + 1 + len + 1 > size) {
			buf[0] = '\0';
			return -1;
		}
		buf[used++] = '/';
		memcpy(buf + used, exec->cwd + starts[i], len);
		used += len;
	}
	if (!used)
		buf[used++] = '/';
	buf[used] = '\0';
	return (int)used;
}

/* The exec's arguments as a JSON array; a cut last argument is kept. */
static json_t *argv_value(const struct sensor_exec_payload *exec)
{
	json_t *array = json_array();
	char arg[SENSOR_ARGS_LEN + 1];
	size_t at = 0;

	while (array && at < exec->args_len) {
		size_t len = strnlen(exec->args + at, exec->args_len - at);

		memcpy(arg, exec->args + at, len);
		arg[len] = '\0';
		if (json_array_append_new(array, string_value(arg)) < 0) {
			json_decref(array);
			return NULL;
		}
		at += len + 1;
	}
	return array;
}

/* The working directory, or null when the kernel could not read it whole. */
static json_t *cwd_value(const struct sensor_exec_payload *exec)
{
	char path[SENSOR_EXEC_CWD_MAX];

	if (sensor_exec_cwd(exec, path, sizeof(path)) < 0)
		return json_null();
	return string_value(path);
}

static int add_address(json_t *object, uint16_t family, const uint8_t addr[16],
	uint16_t port)
{
	char address[INET6_ADDRSTRLEN] = "";
	int af = family == 10 ? AF_INET6 : AF_INET;
	int failed = 0;

	inet_ntop(af, addr, address, sizeof(address));
	failed |= set(object, "family", json_string(af == AF_INET6 ? "inet6" : "inet"));
	failed |= set(object, "address", json_string(address));
	failed |= set(object, "port", json_integer(port));
	return failed;
}

static int add_payload(json_t *object, const struct sensor_event *event)
{
	int failed = 0;

	switch (event->header.type) {
	case SENSOR_EVENT_EXEC:
		failed |= set(object, "filename", string_value(event->exec.filename));
		failed |= set(object, "old_tid", json_integer(event->exec.old_tid));
		failed |= set(object, "argv", argv_value(&event->exec));
		failed |= set(object, "cwd", cwd_value(&event->exec));
		failed |= set(object, "tty", json_integer(event->exec.tty));
		failed |= set(object, "killed",
			json_boolean(event->exec.flags & SENSOR_EXEC_KILLED));
		break;
	case SENSOR_EVENT_FORK:
		failed |= set(object, "child_pid", json_integer(event->fork.child_pid));
		failed |= set(object, "child_tid", json_integer(event->fork.child_tid));
		break;
	case SENSOR_EVENT_EXIT:
		failed |= set(object, "exit_code", json_integer(event->exit.exit_code));
		break;
	case SENSOR_EVENT_OPEN:
		failed |= set(object, "path", string_value(event->open.path));
		failed |= set(object, "dfd", json_integer(event->open.dfd));
		failed |= set(object, "flags", json_integer(event->open.flags));
		failed |= set(object, "mode", json_integer(event->open.mode));
		failed |= set(object, "ret", json_integer(event->open.ret));
		break;
	case SENSOR_EVENT_CONNECT:
		failed |= set(object, "fd", json_integer(event->connect.fd));
		failed |= add_address(object, event->connect.family, event->connect.addr,
			event->connect.port);
		break;
	case SENSOR_EVENT_ACCEPT:
		failed |= set(object, "fd", json_integer(event->accept.fd));
		failed |= set(object, "flags", json_integer(event->accept.flags));
		failed |= set(object, "ret", json_integer(event->accept.ret));
		if (event->accept.family)
			failed |= add_address(object, event->accept.family, event->accept.addr,
				event->accept.port);
		break;
	case SENSOR_EVENT_LISTEN:
		failed |= set(object, "fd", json_integer(event->listen.fd));
		failed |= set(object, "backlog", json_integer(event->listen.backlog));
		failed |= set(object, "ret", json_integer(event->listen.ret));
		break;
	case SENSOR_EVENT_PTRACE:
		failed |= set(object, "request", json_integer(event->ptrace.request));
		failed |= set(object, "target_pid", json_integer(event->ptrace.pid));
		failed |= set(object, "ret", json_integer(event->ptrace.ret));
		break;
	case SENSOR_EVENT_SETID: {
		json_t *ids = json_array();
		uint32_t call = event->setid.syscall;
		/* As many as the call has arguments; -1 ("unchanged") stays. */
		size_t count = call == SENSOR_SYS_SETUID || call == SENSOR_SYS_SETGID ? 1 :
			call == SENSOR_SYS_SETREUID || call == SENSOR_SYS_SETREGID ? 2 : 3;

		for (size_t i = 0; ids && i < count; i++)
			failed |= json_array_append_new(ids,
				json_integer((int32_t)event->setid.ids[i]));
		failed |= set(object, "ids", ids);
		failed |= set(object, "ret", json_integer(event->setid.ret));
		break;
	}
	case SENSOR_EVENT_UNLINK:
		failed |= set(object, "path", string_value(event->unlink.path));
		failed |= set(object, "dfd", json_integer(event->unlink.dfd));
		failed |= set(object, "flags", json_integer(event->unlink.flags));
		failed |= set(object, "ret", json_integer(event->unlink.ret));
		break;
	case SENSOR_EVENT_RENAME:
		failed |= set(object, "oldpath", string_value(event->rename.oldpath));
		failed |= set(object, "newpath", string_value(event->rename.newpath));
		failed |= set(object, "olddfd", json_integer(event->rename.olddfd));
		failed |= set(object, "newdfd", json_integer(event->rename.newdfd));
		failed |= set(object, "flags", json_integer(event->rename.flags));
		failed |= set(object, "ret", json_integer(event->rename.ret));
		break;
	case SENSOR_EVENT_MOUNT:
		failed |= set(object, "dev", string_value(event->mount.dev));
		failed |= set(object, "dir", string_value(event->mount.dir));
		failed |= set(object, "fstype", string_value(event->mount.fstype));
		failed |= set(object, "flags", json_integer(event->mount.flags));
		failed |= set(object, "ret", json_integer(event->mount.ret));
		break;
	case SENSOR_EVENT_MODULE:
		failed |= set(object, "fd", json_integer(event->module.fd));
		failed |= set(object, "flags", json_integer(event->module.flags));
		failed |= set(object, "ret", json_integer(event->module.ret));
		break;
	case SENSOR_EVENT_BPF:
		failed |= set(object, "cmd", json_integer(event->bpf.cmd));
		failed |= set(object, "ret", json_integer(event->bpf.ret));
		break;
	case SENSOR_EVENT_MEMFD:
		failed |= set(object, "name", string_value(event->memfd.name));
		failed |= set(object, "flags", json_integer(event->memfd.flags));
		failed |= set(object, "ret", json_integer(event->memfd.ret));
		break;
	case SENSOR_EVENT_LINK:
		failed |= set(object, "oldpath", string_value(event->link.oldpath));
		failed |= set(object, "newpath", string_value(event->link.newpath));
		failed |= set(object, "olddfd", json_integer(event->link.olddfd));
		failed |= set(object, "newdfd", json_integer(event->link.newdfd));
		failed |= set(object, "flags", json_integer(event->link.flags));
		failed |= set(object, "ret", json_integer(event->link.ret));
		break;
	case SENSOR_EVENT_SOCKET:
		failed |= set(object, "domain", json_integer(event->socket.domain));
		failed |= set(object, "socket_type", json_integer(event->socket.type));
		failed |= set(object, "protocol", json_integer(event->socket.protocol));
		failed |= set(object, "ret", json_integer(event->socket.ret));
		break;
	default:
		return -1;
	}
	return failed ? -1 : 0;
}

json_t *sensor_event_to_json(const struct sensor_event *event)
{
	const struct sensor_event_header *header = &event->header;
	const char *name = sensor_event_type_name(header->type);
	json_t *object = json_object();
	int failed = 0;

	if (!object || !name) {
		json_decref(object);
		return NULL;
	}
	failed |= set(object, "type", json_string(name));
	failed |= set(object, "timestamp_ns", json_integer((json_int_t)header->timestamp_ns));
	failed |= set(object, "pid", json_integer(header->pid));
	failed |= set(object, "tid", json_integer(header->tid));
	failed |= set(object, "ppid", json_integer(header->ppid));
	failed |= set(object, "uid", json_integer(header->uid));
	failed |= set(object, "gid", json_integer(header->gid));
	failed |= set(object, "cgroup_id", json_integer((json_int_t)header->cgroup_id));
	failed |= set(object, "comm", string_value(header->comm));
	if (sensor_event_syscall(event))
		failed |= set(object, "syscall",
			json_string(sensor_syscall_name(sensor_event_syscall(event))));
	if (failed || add_payload(object, event) < 0) {
		json_decref(object);
		return NULL;
	}
	return object;
}
