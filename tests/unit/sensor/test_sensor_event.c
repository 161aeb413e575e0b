/* Unit tests of sensor_event.c: decoding of ring buffer records built here
 * byte for byte, hostile sizes and types, the --types list and the JSON
 * form of each event type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/sensor_event.h"

static void fill_header(struct sensor_event_header *header, uint32_t type, uint32_t size)
{
	memset(header, 0, sizeof(*header));
	header->type = type;
	header->size = size;
	header->timestamp_ns = 123456789012ULL;
	header->cgroup_id = 42;
	header->pid = 1000;
	header->tid = 1001;
	header->ppid = 999;
	header->uid = 0;
	header->gid = 5;
	memcpy(header->comm, "true", 5);
}

static char *event_json(const struct sensor_event *event)
{
	json_t *object = sensor_event_to_json(event);
	char *text;

	assert_non_null(object);
	text = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(object);
	assert_non_null(text);
	return text;
}

static void test_header_layout(void **state)
{
	(void)state;
	/* The kernel and user space share these offsets; a change is an ABI
	 * break between sensor.bpf.o and the decoder. */
	assert_int_equal(sizeof(struct sensor_event_header), 64);
	assert_int_equal(offsetof(struct sensor_event_header, timestamp_ns), 8);
	assert_int_equal(offsetof(struct sensor_event_header, pid), 24);
	assert_int_equal(offsetof(struct sensor_event_header, comm), 48);
	assert_int_equal(sizeof(struct sensor_exec_record),
		64 + 24 + SENSOR_PATH_LEN + SENSOR_ARGS_LEN + SENSOR_CWD_LEN);
	assert_int_equal(offsetof(struct sensor_exec_record, exec.args), 64 + 24 + 256);
	assert_int_equal(offsetof(struct sensor_exec_record, exec.cwd), 64 + 24 + 256 + 1024);
	assert_int_equal(sizeof(struct sensor_open_record), 64 + 24 + SENSOR_PATH_LEN);
	assert_int_equal(sizeof(struct sensor_connect_record), 64 + 24);
	assert_int_equal(sizeof(struct sensor_accept_record), 64 + 40);
	assert_int_equal(sizeof(struct sensor_listen_record), 64 + 16);
	assert_int_equal(sizeof(struct sensor_ptrace_record), 64 + 16);
	assert_int_equal(sizeof(struct sensor_setid_record), 64 + 24);
	assert_int_equal(sizeof(struct sensor_unlink_record), 64 + 16 + SENSOR_PATH_LEN);
	assert_int_equal(sizeof(struct sensor_rename_record), 64 + 24 + 2 * SENSOR_PATH_LEN);
	assert_int_equal(sizeof(struct sensor_mount_record),
		64 + 8 + 2 * SENSOR_PATH_LEN + SENSOR_FSTYPE_LEN);
	assert_int_equal(sizeof(struct sensor_module_record), 64 + 16);
	assert_int_equal(sizeof(struct sensor_bpf_record), 64 + 8);
	assert_int_equal(sizeof(struct sensor_memfd_record), 64 + 8 + SENSOR_PATH_LEN);
	assert_int_equal(sizeof(struct sensor_link_record), 64 + 24 + 2 * SENSOR_PATH_LEN);
	assert_int_equal(sizeof(struct sensor_socket_record), 64 + 16);
	assert_int_equal(sizeof(struct sensor_deny_key), 16);
}

static void test_decode_exec(void **state)
{
	struct sensor_exec_record record;
	struct sensor_event event;
	struct wd_error err = { 0 };
	char *text;

	(void)state;
	memset(&record, 0, sizeof(record));
	fill_header(&record.header, SENSOR_EVENT_EXEC, sizeof(record));
	record.exec.old_tid = 1001;
	record.exec.tty = 34816;
	memcpy(record.exec.filename, "/bin/true", 10);
	memcpy(record.exec.args, "true\0-x\0a b", 12);
	record.exec.args_len = 12;
	record.exec.flags = SENSOR_EXEC_CWD_WHOLE;
	memcpy(record.exec.cwd, "tmp\0home\0", 9);
	record.exec.cwd_len = 9;

	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), 0);
	assert_int_equal(event.header.type, SENSOR_EVENT_EXEC);
	assert_int_equal(event.header.pid, 1000);
	assert_string_equal(event.header.comm, "true");
	assert_string_equal(event.exec.filename, "/bin/true");

	text = event_json(&event);
	assert_string_equal(text,
		"{\"type\":\"exec\",\"timestamp_ns\":123456789012,\"pid\":1000,\"tid\":1001,"
		"\"ppid\":999,\"uid\":0,\"gid\":5,\"cgroup_id\":42,\"comm\":\"true\","
		"\"syscall\":\"execve\",\"filename\":\"/bin/true\",\"old_tid\":1001,"
		"\"argv\":[\"true\",\"-x\",\"a b\"],\"cwd\":\"/home/tmp\",\"tty\":34816,"
		"\"killed\":false}");
	free(text);

	/* execveat and a kill for --deny-exec; a cut last argument is kept. */
	record.exec.flags = SENSOR_EXEC_EXECVEAT | SENSOR_EXEC_KILLED;
	record.exec.args_len = 9;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"syscall\":\"execveat\""));
	assert_non_null(strstr(text, "\"argv\":[\"true\",\"-x\",\"a\"],\"cwd\":null,"
		"\"tty\":34816,\"killed\":true}"));
	free(text);

	/* A length past the buffer would read beyond the record. */
	record.exec.args_len = SENSOR_ARGS_LEN + 1;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"sensor exec record says it has 1025 bytes of arguments, at most 1024");
	assert_int_equal(event.header.type, 0);
	record.exec.args_len = SENSOR_ARGS_LEN;
	memset(record.exec.args, 'x', SENSOR_ARGS_LEN);
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), 0);
	text = event_json(&event);
	assert_int_equal(strlen(strstr(text, "\"argv\":[\"") + 9),
		SENSOR_ARGS_LEN + strlen("\"],\"cwd\":null,\"tty\":34816,\"killed\":true}"));
	free(text);

	record.exec.cwd_len = SENSOR_CWD_LEN + 1;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"sensor exec record says it has 513 bytes of working directory, at most 512");
}

static void test_exec_cwd(void **state)
{
	struct sensor_exec_payload exec;
	char buf[SENSOR_EXEC_CWD_MAX];

	(void)state;
	memset(&exec, 0, sizeof(exec));
	exec.flags = SENSOR_EXEC_CWD_WHOLE;
	memcpy(exec.cwd, "c\0bb\0a\0", 7);
	exec.cwd_len = 7;
	assert_int_equal(sensor_exec_cwd(&exec, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "/a/bb/c");
	/* Exactly room for the path and its NUL, then one byte less. */
	assert_int_equal(sensor_exec_cwd(&exec, buf, 8), 7);
	assert_int_equal(sensor_exec_cwd(&exec, buf, 7), -1);
	assert_string_equal(buf, "");

	/* The root directory has no components. */
	exec.cwd_len = 0;
	assert_int_equal(sensor_exec_cwd(&exec, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/");

	/* Without the root, the outer components are unknown. */
	exec.cwd_len = 7;
	exec.flags = 0;
	assert_int_equal(sensor_exec_cwd(&exec, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");

	/* A last component the kernel cut has no NUL: it is kept. */
	exec.flags = SENSOR_EXEC_CWD_WHOLE;
	memset(exec.cwd, 'x', SENSOR_CWD_LEN);
	exec.cwd[0] = 'y';
	exec.cwd[1] = '\0';
	exec.cwd_len = SENSOR_CWD_LEN;
	assert_int_equal(sensor_exec_cwd(&exec, buf, sizeof(buf)), SENSOR_CWD_LEN + 1);
	assert_int_equal(buf[0], '/');
	assert_int_equal(buf[SENSOR_CWD_LEN - 2], 'x');
	assert_string_equal(buf + SENSOR_CWD_LEN - 1, "/y");
}

static void test_decode_open(void **state)
{
	struct sensor_open_record record;
	struct sensor_event event;
	char *text;

	(void)state;
	memset(&record, 0, sizeof(record));
	fill_header(&record.header, SENSOR_EVENT_OPEN, sizeof(record));
	record.open.dfd = -100;
	record.open.flags = 0101;
	record.open.mode = 0600;
	record.open.ret = -13;
	record.open.syscall = SENSOR_SYS_OPENAT2;
	memcpy(record.open.path, "/etc/shadow", 12);

	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"syscall\":\"openat2\",\"path\":\"/etc/shadow\","
		"\"dfd\":-100,\"flags\":65,\"mode\":384,\"ret\":-13}"));
	free(text);

	/* A call that is not an open's. */
	record.open.syscall = SENSOR_SYS_PTRACE;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, NULL), WD_EINVAL);
	record.open.syscall = SENSOR_SYS_COUNT;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, NULL), WD_EINVAL);
}

/* Decodes record and returns its JSON text, checking first that every
 * shorter length is refused. */
static char *decode_json(const void *record, size_t size)
{
	struct sensor_event event;
	struct wd_error err = { 0 };

	for (size_t len = 0; len < size; len++)
		assert_int_equal(sensor_event_decode(record, len, &event, &err), WD_ETRUNCATED);
	assert_int_equal(sensor_event_decode(record, size, &event, &err), 0);
	return event_json(&event);
}

static void test_decode_syscall_payloads(void **state)
{
	struct sensor_accept_record accept;
	struct sensor_listen_record listen;
	struct sensor_ptrace_record ptrace;
	struct sensor_setid_record setid;
	struct sensor_unlink_record unlink;
	struct sensor_rename_record rename;
	struct sensor_mount_record mount;
	struct sensor_module_record module;
	struct sensor_bpf_record bpf;
	struct sensor_memfd_record memfd;
	struct sensor_link_record link;
	struct sensor_socket_record socket;
	char *text;

	(void)state;
	memset(&accept, 0, sizeof(accept));
	fill_header(&accept.header, SENSOR_EVENT_ACCEPT, sizeof(accept));
	accept.accept = (struct sensor_accept_payload){ .syscall = SENSOR_SYS_ACCEPT4, .fd = 3,
		.ret = 4, .flags = 0x80000, .family = 2, .port = 40000,
		.addr = { 10, 0, 0, 2 } };
	text = decode_json(&accept, sizeof(accept));
	assert_non_null(strstr(text, "\"syscall\":\"accept4\",\"fd\":3,\"flags\":524288,"
		"\"ret\":4,\"family\":\"inet\",\"address\":\"10.0.0.2\",\"port\":40000}"));
	free(text);

	fill_header(&listen.header, SENSOR_EVENT_LISTEN, sizeof(listen));
	listen.listen = (struct sensor_listen_payload){ .fd = 5, .backlog = 128, .ret = 0 };
	text = decode_json(&listen, sizeof(listen));
	assert_non_null(strstr(text, "\"syscall\":\"listen\",\"fd\":5,\"backlog\":128,"
		"\"ret\":0}"));
	free(text);

	fill_header(&ptrace.header, SENSOR_EVENT_PTRACE, sizeof(ptrace));
	ptrace.ptrace = (struct sensor_ptrace_payload){ .request = 16, .pid = 77, .ret = -1 };
	text = decode_json(&ptrace, sizeof(ptrace));
	assert_non_null(strstr(text, "\"request\":16,\"target_pid\":77,\"ret\":-1}"));
	free(text);

	fill_header(&setid.header, SENSOR_EVENT_SETID, sizeof(setid));
	setid.setid = (struct sensor_setid_payload){ .syscall = SENSOR_SYS_SETREUID, .ret = 0,
		.ids = { UINT32_MAX, 1000, UINT32_MAX } };
	text = decode_json(&setid, sizeof(setid));
	assert_non_null(strstr(text, "\"syscall\":\"setreuid\",\"ids\":[-1,1000],"
		"\"ret\":0}"));
	free(text);
	setid.setid.syscall = SENSOR_SYS_SETRESGID;
	text = decode_json(&setid, sizeof(setid));
	assert_non_null(strstr(text, "\"ids\":[-1,1000,-1],"));
	free(text);

	memset(&unlink, 0, sizeof(unlink));
	fill_header(&unlink.header, SENSOR_EVENT_UNLINK, sizeof(unlink));
	unlink.unlink.syscall = SENSOR_SYS_UNLINKAT;
	unlink.unlink.dfd = -100;
	unlink.unlink.flags = 0x200;
	unlink.unlink.ret = -2;
	memcpy(unlink.unlink.path, "/tmp/x", 7);
	text = decode_json(&unlink, sizeof(unlink));
	assert_non_null(strstr(text, "\"syscall\":\"unlinkat\",\"path\":\"/tmp/x\","
		"\"dfd\":-100,\"flags\":512,\"ret\":-2}"));
	free(text);

	memset(&rename, 0, sizeof(rename));
	fill_header(&rename.header, SENSOR_EVENT_RENAME, sizeof(rename));
	rename.rename.syscall = SENSOR_SYS_RENAMEAT2;
	rename.rename.olddfd = -100;
	rename.rename.newdfd = 4;
	rename.rename.flags = 1;
	memcpy(rename.rename.oldpath, "a", 2);
	memcpy(rename.rename.newpath, "b", 2);
	text = decode_json(&rename, sizeof(rename));
	assert_non_null(strstr(text, "\"syscall\":\"renameat2\",\"oldpath\":\"a\","
		"\"newpath\":\"b\",\"olddfd\":-100,\"newdfd\":4,\"flags\":1,\"ret\":0}"));
	free(text);

	memset(&mount, 'M', sizeof(mount));
	fill_header(&mount.header, SENSOR_EVENT_MOUNT, sizeof(mount));
	mount.mount.flags = 1;
	mount.mount.ret = -1;
	memcpy(mount.mount.dev, "none", 5);
	memcpy(mount.mount.dir, "/mnt", 5);
	text = decode_json(&mount, sizeof(mount));
	/* The file system type was never ended by a NUL: the decoder cuts it. */
	assert_non_null(strstr(text, "\"dev\":\"none\",\"dir\":\"/mnt\",\"fstype\":\""
		"MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM\",\"flags\":1,\"ret\":-1}"));
	free(text);

	fill_header(&module.header, SENSOR_EVENT_MODULE, sizeof(module));
	module.module = (struct sensor_module_payload){ .syscall = SENSOR_SYS_FINIT_MODULE,
		.fd = 3, .flags = 2, .ret = -38 };
	text = decode_json(&module, sizeof(module));
	assert_non_null(strstr(text, "\"syscall\":\"finit_module\",\"fd\":3,\"flags\":2,"
		"\"ret\":-38}"));
	free(text);
	/* A module record naming a call of another type. */
	module.module.syscall = SENSOR_SYS_SETUID;
	assert_int_equal(sensor_event_decode(&module, sizeof(module), &(struct sensor_event){ 0 },
		NULL), WD_EINVAL);

	fill_header(&bpf.header, SENSOR_EVENT_BPF, sizeof(bpf));
	bpf.bpf = (struct sensor_bpf_payload){ .cmd = 5, .ret = 7 };
	text = decode_json(&bpf, sizeof(bpf));
	assert_non_null(strstr(text, "\"syscall\":\"bpf\",\"cmd\":5,\"ret\":7}"));
	free(text);

	memset(&memfd, 0, sizeof(memfd));
	fill_header(&memfd.header, SENSOR_EVENT_MEMFD, sizeof(memfd));
	memfd.memfd.flags = 1;
	memfd.memfd.ret = 3;
	memcpy(memfd.memfd.name, "payload", 8);
	text = decode_json(&memfd, sizeof(memfd));
	assert_non_null(strstr(text, "\"syscall\":\"memfd_create\",\"name\":\"payload\","
		"\"flags\":1,\"ret\":3}"));
	free(text);

	memset(&link, 0, sizeof(link));
	fill_header(&link.header, SENSOR_EVENT_LINK, sizeof(link));
	link.link.syscall = SENSOR_SYS_SYMLINKAT;
	link.link.olddfd = -100;
	link.link.newdfd = 5;
	memcpy(link.link.oldpath, "/etc/shadow", 12);
	memcpy(link.link.newpath, "s", 2);
	text = decode_json(&link, sizeof(link));
	assert_non_null(strstr(text, "\"syscall\":\"symlinkat\",\"oldpath\":\"/etc/shadow\","
		"\"newpath\":\"s\",\"olddfd\":-100,\"newdfd\":5,\"flags\":0,\"ret\":0}"));
	free(text);
	link.link.syscall = SENSOR_SYS_RENAME;
	assert_int_equal(sensor_event_decode(&link, sizeof(link), &(struct sensor_event){ 0 },
		NULL), WD_EINVAL);

	fill_header(&socket.header, SENSOR_EVENT_SOCKET, sizeof(socket));
	socket.socket = (struct sensor_socket_payload){ .domain = 17, .type = 3, .protocol = 768,
		.ret = 4 };
	text = decode_json(&socket, sizeof(socket));
	assert_non_null(strstr(text, "\"syscall\":\"socket\",\"domain\":17,\"socket_type\":3,"
		"\"protocol\":768,\"ret\":4}"));
	free(text);
}

static void test_decode_fork_exit_connect(void **state)
{
	struct sensor_fork_record fork_record;
	struct sensor_exit_record exit_record;
	struct sensor_connect_record connect_record;
	struct sensor_event event;
	char *text;

	(void)state;
	fill_header(&fork_record.header, SENSOR_EVENT_FORK, sizeof(fork_record));
	fork_record.fork.child_pid = 2000;
	fork_record.fork.child_tid = 2001;
	assert_int_equal(sensor_event_decode(&fork_record, sizeof(fork_record), &event, NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"child_pid\":2000,\"child_tid\":2001}"));
	free(text);

	fill_header(&exit_record.header, SENSOR_EVENT_EXIT, sizeof(exit_record));
	exit_record.exit.exit_code = 256;
	exit_record.exit.reserved = 0;
	assert_int_equal(sensor_event_decode(&exit_record, sizeof(exit_record), &event, NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"type\":\"exit\""));
	assert_non_null(strstr(text, "\"exit_code\":256}"));
	free(text);

	memset(&connect_record, 0, sizeof(connect_record));
	fill_header(&connect_record.header, SENSOR_EVENT_CONNECT, sizeof(connect_record));
	connect_record.connect.fd = 3;
	connect_record.connect.family = 2;
	connect_record.connect.port = 8443;
	memcpy(connect_record.connect.addr, (uint8_t[]){ 127, 0, 0, 1 }, 4);
	assert_int_equal(sensor_event_decode(&connect_record, sizeof(connect_record), &event,
		NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text,
		"\"fd\":3,\"family\":\"inet\",\"address\":\"127.0.0.1\",\"port\":8443}"));
	free(text);

	connect_record.connect.family = 10;
	memset(connect_record.connect.addr, 0, 16);
	connect_record.connect.addr[15] = 1;
	assert_int_equal(sensor_event_decode(&connect_record, sizeof(connect_record), &event,
		NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"family\":\"inet6\",\"address\":\"::1\""));
	free(text);
}

static void test_decode_rejects_short_and_unknown(void **state)
{
	struct sensor_open_record record;
	struct sensor_event event;
	struct wd_error err = { 0 };

	(void)state;
	memset(&record, 0, sizeof(record));
	fill_header(&record.header, SENSOR_EVENT_OPEN, sizeof(record));

	assert_int_equal(sensor_event_decode(&record, 63, &event, &err), WD_ETRUNCATED);
	assert_string_equal(err.detail,
		"sensor record of 63 bytes is shorter than its 64-byte header");
	assert_int_equal(event.header.type, 0);

	assert_int_equal(sensor_event_decode(&record, sizeof(record) - 1, &event, &err),
		WD_ETRUNCATED);
	assert_string_equal(err.detail, "sensor open record of 343 bytes is shorter than 344");

	record.header.size = 100;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), WD_EINVAL);
	assert_string_equal(err.detail, "sensor open record says it has 100 bytes, expected 344");

	record.header.type = 0;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), WD_EINVAL);
	assert_string_equal(err.detail, "sensor record has unknown type 0");
	record.header.type = SENSOR_EVENT_TYPE_COUNT;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), WD_EINVAL);
	assert_string_equal(err.detail, "sensor record has unknown type 18");
}

static void test_decode_terminates_strings(void **state)
{
	struct sensor_open_record record;
	struct sensor_event event;

	(void)state;
	memset(&record, 'A', sizeof(record));
	fill_header(&record.header, SENSOR_EVENT_OPEN, sizeof(record));
	memset(record.header.comm, 'B', sizeof(record.header.comm));
	record.open.syscall = SENSOR_SYS_OPENAT;

	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, NULL), 0);
	assert_int_equal(strlen(event.header.comm), SENSOR_COMM_LEN - 1);
	assert_int_equal(strlen(event.open.path), SENSOR_PATH_LEN - 1);
}

static void test_json_replaces_invalid_utf8(void **state)
{
	struct sensor_exec_record record;
	struct sensor_event event;
	char *text;

	(void)state;
	memset(&record, 0, sizeof(record));
	fill_header(&record.header, SENSOR_EVENT_EXEC, sizeof(record));
	memcpy(record.exec.filename, "/tmp/a\xff\xfe", 9);
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"filename\":\"/tmp/a??\""));
	free(text);
}

static void test_types_parse(void **state)
{
	struct wd_error err = { 0 };
	unsigned mask = 7;
	char long_list[300];

	(void)state;
	assert_int_equal(sensor_types_parse("exec,open", &mask, &err), 0);
	assert_int_equal(mask, SENSOR_TYPE_BIT(SENSOR_EVENT_EXEC) |
		SENSOR_TYPE_BIT(SENSOR_EVENT_OPEN));
	assert_int_equal(sensor_types_parse("connect", &mask, &err), 0);
	assert_int_equal(mask, 1u << 5);
	assert_int_equal(sensor_types_parse("all", &mask, &err), 0);
	assert_int_equal(mask, 0x3fffeu);
	assert_int_equal(sensor_types_parse("setid,memfd", &mask, &err), 0);
	assert_int_equal(mask, (1u << 9) | (1u << 15));
	assert_int_equal(sensor_types_parse("exit,exit,fork", &mask, &err), 0);
	assert_int_equal(mask, (1u << 3) | (1u << 2));

	mask = 7;
	assert_int_equal(sensor_types_parse("exec,opn", &mask, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"unknown event type 'opn' (expected exec, fork, exit, open, connect, accept, "
		"listen, ptrace, setid, unlink, rename, mount, module, bpf, memfd, link, socket "
		"or all)");
	assert_int_equal(mask, 7);
	assert_int_equal(sensor_types_parse("exec,", &mask, &err), WD_EINVAL);
	assert_string_equal(err.detail, "empty event type in the list");
	assert_int_equal(sensor_types_parse("", &mask, &err), WD_EINVAL);
	assert_int_equal(sensor_types_parse("execute", &mask, &err), WD_EINVAL);
	assert_int_equal(sensor_types_parse("EXEC", &mask, &err), WD_EINVAL);

	memset(long_list, 'a', sizeof(long_list) - 1);
	long_list[sizeof(long_list) - 1] = '\0';
	assert_int_equal(sensor_types_parse(long_list, &mask, &err), WD_ETOOBIG);
	assert_int_equal(mask, 7);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(sensor_event_type_name(SENSOR_EVENT_EXEC), "exec");
	assert_string_equal(sensor_event_type_name(SENSOR_EVENT_CONNECT), "connect");
	assert_null(sensor_event_type_name(0));
	assert_null(sensor_event_type_name(SENSOR_EVENT_TYPE_COUNT));
	assert_null(sensor_event_type_name(UINT32_MAX));
	assert_string_equal(sensor_syscall_name(SENSOR_SYS_SETRESGID), "setresgid");
	assert_int_equal(sensor_syscall_type(SENSOR_SYS_RMDIR), SENSOR_EVENT_UNLINK);
	assert_null(sensor_syscall_name(0));
	assert_null(sensor_syscall_name(SENSOR_SYS_COUNT));
	assert_int_equal(sensor_syscall_type(SENSOR_SYS_COUNT), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_decode_exec),
		cmocka_unit_test(test_exec_cwd),
		cmocka_unit_test(test_decode_open),
		cmocka_unit_test(test_decode_fork_exit_connect),
		cmocka_unit_test(test_decode_syscall_payloads),
		cmocka_unit_test(test_decode_rejects_short_and_unknown),
		cmocka_unit_test(test_decode_terminates_strings),
		cmocka_unit_test(test_json_replaces_invalid_utf8),
		cmocka_unit_test(test_types_parse),
		cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
