/* Unit tests of the sensor's event source for the rules: open flag names,
 * command line splitting, the process table over a fixture proc directory,
 * the field values of exec, open and connect events, and the alert JSON. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <cmocka.h>

#include "sensor/rules/event_source.h"

static void expect_flags(int32_t flags, const char *expected)
{
	char buf[256];

	event_open_flags_name(flags, buf, sizeof(buf));
	assert_string_equal(buf, expected);
}

static void test_open_flags(void **state)
{
	(void)state;
	expect_flags(0, "O_RDONLY");
	expect_flags(O_RDONLY | O_CLOEXEC, "O_RDONLY|O_CLOEXEC");
	expect_flags(O_WRONLY | O_CREAT | O_TRUNC, "O_WRONLY|O_CREAT|O_TRUNC");
	expect_flags(O_RDWR | O_APPEND | O_NONBLOCK, "O_RDWR|O_APPEND|O_NONBLOCK");
	/* O_SYNC contains O_DSYNC's bit and O_TMPFILE contains O_DIRECTORY's,
	 * so each gets one name. */
	expect_flags(O_WRONLY | O_SYNC, "O_WRONLY|O_SYNC");
	expect_flags(O_RDWR | O_TMPFILE, "O_RDWR|O_TMPFILE");
	expect_flags(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		"O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC");
	/* Both access bits set is not a valid mode; it reads as RDONLY. */
	expect_flags(O_ACCMODE, "O_RDONLY");
}

static void expect_split(const char *data, size_t len, const char *argv0, const char *args)
{
	char *a0 = NULL, *rest = NULL;

	assert_int_equal(proc_cmdline_split(data, len, &a0, &rest), 0);
	if (argv0)
		assert_string_equal(a0, argv0);
	else
		assert_null(a0);
	if (args)
		assert_string_equal(rest, args);
	else
		assert_null(rest);
	free(a0);
	free(rest);
}

static void test_cmdline_split(void **state)
{
	(void)state;
	expect_split("cat\0/etc/shadow\0", 16, "cat", "/etc/shadow");
	expect_split("sh\0-c\0echo a b\0", 15, "sh", "-c echo a b");
	expect_split("", 0, NULL, NULL);
	/* One empty argument: a kernel thread or a process that cleared argv. */
	expect_split("\0", 1, NULL, NULL);
	expect_split("top", 3, "top", NULL);
	expect_split("x\0\0y\0", 5, "x", " y");
}

static void expect_container(const char *text, const char *id, const char *path)
{
	char got[PROC_CONTAINER_ID_LEN + 1];
	char *got_path = NULL;

	assert_int_equal(proc_cgroup_parse(text, strlen(text), got, &got_path), 0);
	assert_string_equal(got, id);
	if (path)
		assert_string_equal(got_path, path);
	else
		assert_null(got_path);
	free(got_path);
}

#define HEX64 "f00dcafe0123456789abcdef0123456789abcdef0123456789abcdef01234567"

/* The cgroup names of docker, containerd, cri-o and podman give the short
 * container id; a host process has none. */
static void test_cgroup_container(void **state)
{
	(void)state;
	expect_container("0::/system.slice/docker-" HEX64 ".scope\n", "f00dcafe0123",
		"/system.slice/docker-" HEX64 ".scope");
	expect_container("12:pids:/docker/" HEX64 "\n0::/\n", "f00dcafe0123", "/");
	expect_container("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
		"cri-containerd-" HEX64 ".scope\n", "f00dcafe0123",
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
		"cri-containerd-" HEX64 ".scope");
	expect_container("0::/kubepods.slice/crio-" HEX64 ".scope\n", "f00dcafe0123",
		"/kubepods.slice/crio-" HEX64 ".scope");
	expect_container("0::/machine.slice/libpod-" HEX64 ".scope/container\n", "f00dcafe0123",
		"/machine.slice/libpod-" HEX64 ".scope/container");
	expect_container("0::/user.slice/user-1000.slice/session-2.scope\n", "",
		"/user.slice/user-1000.slice/session-2.scope");
	/* Named like a container below a user's own manager: not one. */
	expect_container("0::/user.slice/user-1000.slice/user@1000.service/docker-" HEX64 ".scope\n",
		"", "/user.slice/user-1000.slice/user@1000.service/docker-" HEX64 ".scope");
	expect_container("garbage", "", NULL);
	expect_container("", "", NULL);
}

static void expect_normal(const char *path, const char *expected)
{
	char buf[64];

	proc_path_normalize(path, buf, sizeof(buf));
	assert_string_equal(buf, expected);
}

static void test_path_normalize(void **state)
{
	(void)state;
	expect_normal("/etc/../etc/../etc/passwd", "/etc/passwd");
	expect_normal("/etc//./shadow", "/etc/shadow");
	expect_normal("/../../etc", "/etc");
	expect_normal("/a/b/..", "/a");
	expect_normal("/a/..", "/");
	expect_normal("/", "/");
	expect_normal("a/./b/../c", "a/c");
	expect_normal("a/../..", "..");
	expect_normal("../../x", "../../x");
	expect_normal("./", ".");
}

static void test_types(void **state)
{
	(void)state;
	assert_string_equal(event_falco_type(SENSOR_EVENT_EXEC), "execve");
	assert_string_equal(event_falco_type(SENSOR_EVENT_OPEN), "openat");
	assert_string_equal(event_falco_type(SENSOR_EVENT_CONNECT), "connect");
	assert_null(event_falco_type(SENSOR_EVENT_FORK));
	assert_null(event_falco_type(SENSOR_EVENT_EXIT));
	assert_int_equal(event_sensor_type("execve"), SENSOR_EVENT_EXEC);
	assert_int_equal(event_sensor_type("execveat"), SENSOR_EVENT_EXEC);
	assert_int_equal(event_sensor_type("open"), SENSOR_EVENT_OPEN);
	assert_int_equal(event_sensor_type("openat2"), SENSOR_EVENT_OPEN);
	assert_int_equal(event_sensor_type("creat"), SENSOR_EVENT_OPEN);
	assert_int_equal(event_sensor_type("connect"), SENSOR_EVENT_CONNECT);
	assert_int_equal(event_sensor_type("ptrace"), SENSOR_EVENT_PTRACE);
	assert_int_equal(event_sensor_type("setresgid"), SENSOR_EVENT_SETID);
	assert_int_equal(event_sensor_type("rmdir"), SENSOR_EVENT_UNLINK);
	assert_int_equal(event_sensor_type("renameat2"), SENSOR_EVENT_RENAME);
	assert_int_equal(event_sensor_type("finit_module"), SENSOR_EVENT_MODULE);
	assert_int_equal(event_sensor_type("accept4"), SENSOR_EVENT_ACCEPT);
	assert_int_equal(event_sensor_type("memfd_create"), SENSOR_EVENT_MEMFD);
	assert_int_equal(event_sensor_type("symlink"), SENSOR_EVENT_LINK);
	assert_int_equal(event_sensor_type("socket"), SENSOR_EVENT_SOCKET);
	assert_int_equal(event_sensor_type("dup2"), 0);
	assert_int_equal(event_sensor_type("fork"), 0);
}

static unsigned types_of_rules(const char *yaml)
{
	struct rules_set *set = NULL;
	struct wd_error err = { 0 };
	unsigned mask;

	assert_int_equal(rules_set_new(&set), 0);
	assert_int_equal(rules_load_buffer(set, "t.yaml", yaml, strlen(yaml), &err), 0);
	assert_int_equal(rules_compile(set, &err), 0);
	mask = event_rules_types(set);
	rules_set_free(set);
	return mask;
}

#define RULE(name, cond) \
	"- rule: " name "\n  desc: d\n  condition: " cond "\n  output: o\n  priority: INFO\n"

static void test_rules_types(void **state)
{
	const unsigned exec = SENSOR_TYPE_BIT(SENSOR_EVENT_EXEC);
	const unsigned open = SENSOR_TYPE_BIT(SENSOR_EVENT_OPEN);
	const unsigned connect = SENSOR_TYPE_BIT(SENSOR_EVENT_CONNECT);

	(void)state;
	assert_int_equal(types_of_rules(RULE("a", "evt.type = execve and proc.name = sh")), exec);
	assert_int_equal(types_of_rules(RULE("a", "evt.type in (execveat, creat)")), exec | open);
	assert_int_equal(types_of_rules(RULE("a", "evt.type = openat2") RULE("b",
		"evt.type = connect")), open | connect);
	/* No evt.type restriction: every type the rules can see. */
	assert_int_equal(types_of_rules(RULE("a", "proc.name = sh")),
		SENSOR_TYPES_ALL & ~(SENSOR_TYPE_BIT(SENSOR_EVENT_FORK) |
			SENSOR_TYPE_BIT(SENSOR_EVENT_EXIT)));
	assert_int_equal(types_of_rules(RULE("a", "evt.type in (ptrace, setuid)")),
		SENSOR_TYPE_BIT(SENSOR_EVENT_PTRACE) | SENSOR_TYPE_BIT(SENSOR_EVENT_SETID));
	/* Types the sensor has no event for, and rules that did not load. */
	assert_int_equal(types_of_rules(RULE("a", "evt.type = dup2")), 0);
	assert_int_equal(types_of_rules(RULE("a", "fd.bogus = 1")), 0);
	assert_int_equal(types_of_rules(RULE("a", "proc.name = sh") "  enabled: false\n"), 0);
}

static void test_time(void **state)
{
	char buf[40];

	(void)state;
	event_time_rfc3339(1700000000123456789LL, buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14T22:13:20.123456789Z");
	event_time_rfc3339(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
}

/* --- a fixture proc directory --- */

struct fixture {
	char root[64];
	struct proc_table table;
};

static void write_file(const char *root, const char *rel, const char *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Writes a string literal, NULs included, without its final NUL. */
#define WRITE_LITERAL(root, rel, lit) write_file(root, rel, lit, sizeof(lit) - 1)

static void make_dir(const char *root, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0700), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char link[256];

	assert_non_null(fx);
	snprintf(fx->root, sizeof(fx->root), "/tmp/wd-proc-XXXXXX");
	assert_non_null(mkdtemp(fx->root));
	make_dir(fx->root, "1");
	WRITE_LITERAL(fx->root, "1/status",
		"Name:\tinit\nPPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
	WRITE_LITERAL(fx->root, "1/cmdline", "/sbin/init\0splash\0");
	WRITE_LITERAL(fx->root, "1/cgroup", "0::/init.scope\n");
	WRITE_LITERAL(fx->root, "1/loginuid", "4294967295");
	make_dir(fx->root, "100");
	WRITE_LITERAL(fx->root, "100/cmdline", "python3\0test.py\0");
	WRITE_LITERAL(fx->root, "100/cgroup", "0::/system.slice/docker-"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n");
	/* A comm with blanks and parentheses does not shift the fields. */
	WRITE_LITERAL(fx->root, "100/stat", "100 (py (3) x) S 1 100 90 34817 100 4194304 0 0 0 0 5 6 0 0 20 0 1 0 "
		"12345 1000 200\n");
	WRITE_LITERAL(fx->root, "100/loginuid", "0");
	WRITE_LITERAL(fx->root, "100/status", "Name:\tpython3\nUmask:\t0022\nPPid:\t1\n"
		"Uid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n"
		"CapInh:\t0000000000000000\nCapPrm:\t0000000000010021\nCapEff:\t0000000000010001\n");
	/* Not a process: skipped. */
	make_dir(fx->root, "self1");
	make_dir(fx->root, "200");
	WRITE_LITERAL(fx->root, "200/cmdline", "sh\0-c\0id\0");
	snprintf(link, sizeof(link), "%s/200/cwd", fx->root);
	assert_int_equal(symlink("/home/u", link), 0);
	assert_int_equal(proc_table_init(&fx->table, fx->root), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	proc_table_free(&fx->table);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void header(struct sensor_event *event, uint32_t type, uint32_t pid, uint32_t ppid,
	const char *comm)
{
	memset(event, 0, sizeof(*event));
	event->header.type = type;
	event->header.pid = pid;
	event->header.tid = pid;
	event->header.ppid = ppid;
	event->header.uid = 0;
	event->header.gid = 0;
	event->header.timestamp_ns = 1700000000123456789ULL;
	snprintf(event->header.comm, sizeof(event->header.comm), "%s", comm);
}

static void expect_str(struct event_fields *f, const char *field, const char *arg,
	const char *expected)
{
	struct cond_fvalue v = { .kind = COND_V_UNSET };

	event_fields_get(f, field, arg, &v);
	if (!expected) {
		assert_int_equal(v.kind, COND_V_UNSET);
		return;
	}
	assert_int_equal(v.kind, COND_V_STRING);
	assert_string_equal(v.str, expected);
}

static void expect_num(struct event_fields *f, const char *field, int64_t expected)
{
	struct cond_fvalue v = { .kind = COND_V_UNSET };

	event_fields_get(f, field, NULL, &v);
	assert_int_equal(v.kind, COND_V_NUMBER);
	assert_int_equal(v.num, expected);
}

static void expect_num_arg(struct event_fields *f, const char *field, const char *arg,
	int64_t expected)
{
	struct cond_fvalue v = { .kind = COND_V_UNSET };

	event_fields_get(f, field, arg, &v);
	assert_int_equal(v.kind, COND_V_NUMBER);
	assert_int_equal(v.num, expected);
}

/* Seeds from the fixture, then python3 (100) forks 200, which runs sh. */
static void run_shell(struct fixture *fx)
{
	struct wd_error err = { 0 };
	struct sensor_event event;
	const struct proc_entry *e;

	assert_int_equal(proc_table_seed(&fx->table, &err), 0);
	assert_int_equal(fx->table.count, 2);
	e = proc_table_get(&fx->table, 100);
	assert_non_null(e);
	assert_string_equal(e->comm, "python3");
	assert_int_equal(e->ppid, 1);
	assert_int_equal(e->uid, 1000);
	assert_int_equal(e->gid, 100);
	assert_string_equal(e->argv0, "python3");
	assert_string_equal(e->args, "test.py");

	/* A new thread of python3 leaves its entry as it was. */
	header(&event, SENSOR_EVENT_FORK, 100, 1, "python3");
	event.fork.child_pid = 100;
	event.fork.child_tid = 101;
	assert_int_equal(proc_table_apply(&fx->table, &event), 0);
	e = proc_table_get(&fx->table, 100);
	assert_non_null(e);
	assert_int_equal(e->ppid, 1);
	assert_string_equal(e->argv0, "python3");
	assert_string_equal(e->args, "test.py");
	assert_int_equal(fx->table.count, 2);

	header(&event, SENSOR_EVENT_FORK, 100, 1, "python3");
	event.fork.child_pid = 200;
	event.fork.child_tid = 200;
	assert_int_equal(proc_table_apply(&fx->table, &event), 0);
	e = proc_table_get(&fx->table, 200);
	assert_non_null(e);
	assert_int_equal(e->ppid, 100);
	assert_string_equal(e->args, "test.py");

	header(&event, SENSOR_EVENT_EXEC, 200, 100, "sh");
	snprintf(event.exec.filename, sizeof(event.exec.filename), "/usr/bin/sh");
	/* The kernel reports the terminal it inherited from python3. */
	event.exec.tty = 34817;
	assert_int_equal(proc_table_apply(&fx->table, &event), 0);

	/* A new thread of python3 leaves its entry as it was. */
	header(&event, SENSOR_EVENT_FORK, 100, 1, "python3");
	event.fork.child_pid = 100;
	event.fork.child_tid = 101;
	assert_int_equal(proc_table_apply(&fx->table, &event), 0);
	e = proc_table_get(&fx->table, 100);
	assert_non_null(e);
	assert_int_equal(e->ppid, 1);
	assert_string_equal(e->argv0, "python3");
	assert_string_equal(e->args, "test.py");
	assert_string_equal(e->container_id, "0123456789ab");
	assert_int_equal(fx->table.count, 3);
}

static void test_exec_fields(void **state)
{
	struct fixture *fx = *state;
	struct sensor_event event;
	struct event_fields f;
	struct cond_fvalue v = { .kind = COND_V_UNSET };

	run_shell(fx);
	header(&event, SENSOR_EVENT_EXEC, 200, 100, "sh");
	snprintf(event.exec.filename, sizeof(event.exec.filename), "/usr/bin/sh");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.type", NULL, "execve");
	expect_num(&f, "evt.time", 1700000000123456789LL);
	expect_num(&f, "proc.pid", 200);
	expect_num(&f, "proc.ppid", 100);
	expect_str(&f, "proc.name", NULL, "sh");
	expect_str(&f, "proc.exe", NULL, "sh");
	expect_str(&f, "proc.exepath", NULL, "/usr/bin/sh");
	expect_str(&f, "proc.args", NULL, "-c id");
	expect_str(&f, "proc.cmdline", NULL, "sh -c id");
	expect_str(&f, "proc.pname", NULL, "python3");
	expect_str(&f, "proc.pcmdline", NULL, "python3 test.py");
	expect_str(&f, "proc.aname", "0", "sh");
	expect_str(&f, "proc.aname", "1", "python3");
	expect_str(&f, "proc.aname", "2", "init");
	expect_str(&f, "proc.aname", "3", NULL);
	expect_str(&f, "proc.aname", "x", NULL);
	event_fields_get(&f, "proc.aname", NULL, &v);
	assert_int_equal(v.kind, COND_V_LIST);
	assert_int_equal(v.count, 2);
	assert_string_equal(v.items[0], "python3");
	assert_string_equal(v.items[1], "init");
	expect_num(&f, "user.uid", 0);
	expect_str(&f, "user.name", NULL, "root");
	expect_num(&f, "group.gid", 0);
	expect_num(&f, "thread.tid", 200);
	expect_str(&f, "proc.cwd", NULL, "/home/u/");
	expect_str(&f, "proc.pexepath", NULL, NULL);
	expect_str(&f, "proc.pexe", NULL, "python3");
	expect_str(&f, "proc.aexe", "2", "/sbin/init");
	expect_str(&f, "proc.aexepath", "0", "/usr/bin/sh");
	expect_num_arg(&f, "proc.apid", "1", 100);
	expect_num_arg(&f, "proc.apid", "2", 1);
	v.kind = COND_V_UNSET;
	event_fields_get(&f, "proc.apid", NULL, &v);
	assert_int_equal(v.kind, COND_V_LIST);
	assert_int_equal(v.count, 2);
	assert_string_equal(v.items[0], "100");
	assert_string_equal(v.items[1], "1");
	/* The fork copied python3's container, terminal, session and login. */
	expect_str(&f, "container.id", NULL, "0123456789ab");
	expect_str(&f, "container.name", NULL, NULL);
	expect_str(&f, "container.image", NULL, NULL);
	expect_num(&f, "proc.tty", 34817);
	expect_num(&f, "proc.sid", 90);
	expect_num(&f, "proc.vpgid", 100);
	expect_num(&f, "user.loginuid", 0);
	expect_str(&f, "thread.cap_permitted", NULL, "CAP_CHOWN CAP_KILL CAP_SYS_MODULE");
	expect_str(&f, "thread.cap_effective", NULL, "CAP_CHOWN CAP_SYS_MODULE");
	expect_str(&f, "thread.cap_inheritable", NULL, "");
	expect_num(&f, "proc.duration", 0);  /* the fork had the same time */
	expect_num(&f, "proc.is_exe_from_memfd", 0);
	expect_str(&f, "evt.res", NULL, "SUCCESS");
	expect_str(&f, "group.name", NULL, "root");
	expect_str(&f, "user.loginname", NULL, "root");
	/* Open-only and unknown fields stay unset. */
	expect_str(&f, "fd.name", NULL, NULL);
	expect_str(&f, "fd.num", NULL, NULL);
	expect_str(&f, "evt.arg.flags", NULL, NULL);
	v.kind = COND_V_UNSET;
	event_fields_get(&f, "evt.is_open_read", NULL, &v);
	assert_int_equal(v.kind, COND_V_UNSET);
	event_fields_clear(&f);

	/* python3's start comes from its stat. */
	header(&event, SENSOR_EVENT_OPEN, 100, 1, "python3");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_num(&f, "proc.duration",
		1700000000123456789LL - 12345LL * (1000000000LL / sysconf(_SC_CLK_TCK)));
	event_fields_clear(&f);

	/* init runs on the host, without a login uid. */
	header(&event, SENSOR_EVENT_EXEC, 1, 0, "init");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "container.id", NULL, "host");
	expect_str(&f, "container.name", NULL, "host");
	expect_num(&f, "user.loginuid", -1);
	expect_str(&f, "user.loginname", NULL, NULL);
	expect_num(&f, "proc.tty", 0);
	event_fields_clear(&f);

	/* The exit takes the process out of the table. */
	header(&event, SENSOR_EVENT_EXIT, 200, 100, "sh");
	assert_int_equal(proc_table_apply(&fx->table, &event), 0);
	assert_null(proc_table_get(&fx->table, 200));
	assert_int_equal(fx->table.count, 2);
}

static void test_open_fields(void **state)
{
	struct fixture *fx = *state;
	struct sensor_event event;
	struct event_fields f;

	run_shell(fx);
	header(&event, SENSOR_EVENT_OPEN, 200, 100, "sh");
	event.open.dfd = AT_FDCWD;
	event.open.flags = O_RDONLY | O_CLOEXEC;
	snprintf(event.open.path, sizeof(event.open.path), "/etc/shadow");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.type", NULL, "openat");
	expect_str(&f, "fd.name", NULL, "/etc/shadow");
	expect_str(&f, "fd.directory", NULL, "/etc");
	expect_str(&f, "fd.filename", NULL, "shadow");
	expect_str(&f, "evt.arg.flags", NULL, "O_RDONLY|O_CLOEXEC");
	expect_str(&f, "evt.arg", "flags", "O_RDONLY|O_CLOEXEC");
	expect_num(&f, "fd.num", 0);
	expect_str(&f, "fd.typechar", NULL, "f");
	expect_str(&f, "evt.arg.name", NULL, "/etc/shadow");
	expect_num(&f, "evt.is_open_read", 1);
	expect_num(&f, "evt.is_open_write", 0);
	expect_str(&f, "proc.cmdline", NULL, "sh -c id");
	event_fields_clear(&f);

	/* A relative path is joined to the working directory. */
	event.open.flags = O_RDWR | O_CREAT;
	snprintf(event.open.path, sizeof(event.open.path), "./notes.txt");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "fd.name", NULL, "/home/u/notes.txt");
	expect_str(&f, "fd.directory", NULL, "/home/u");
	expect_num(&f, "evt.is_open_read", 1);
	expect_num(&f, "evt.is_open_write", 1);
	event_fields_clear(&f);

	/* A file in / keeps "/" as its directory. */
	snprintf(event.open.path, sizeof(event.open.path), "/vmlinuz");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "fd.directory", NULL, "/");
	expect_str(&f, "fd.filename", NULL, "vmlinuz");
	event_fields_clear(&f);

	/* fd.name resolves "..", fd.nameraw keeps it; a failed open. */
	event.open.ret = -2;
	snprintf(event.open.path, sizeof(event.open.path), "../u/../../etc/passwd");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "fd.name", NULL, "/etc/passwd");
	expect_str(&f, "fd.nameraw", NULL, "../u/../../etc/passwd");
	expect_num(&f, "fd.num", -1);
	expect_str(&f, "fd.typechar", NULL, "f");
	expect_str(&f, "fd.type", NULL, "file");
	expect_str(&f, "evt.res", NULL, "ENOENT");
	expect_num(&f, "evt.rawres", -2);
	expect_num(&f, "evt.failed", 1);
	event_fields_clear(&f);

	event.open.ret = 3;
	event.open.flags = O_RDONLY | O_DIRECTORY;
	snprintf(event.open.path, sizeof(event.open.path), "/etc");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_num(&f, "fd.num", 3);
	expect_str(&f, "fd.typechar", NULL, "d");
	expect_str(&f, "fd.type", NULL, "directory");
	expect_str(&f, "evt.res", NULL, "SUCCESS");
	expect_num(&f, "evt.failed", 0);
	event_fields_clear(&f);
}

static void test_connect_fields(void **state)
{
	struct fixture *fx = *state;
	struct sensor_event event;
	struct event_fields f;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	run_shell(fx);
	header(&event, SENSOR_EVENT_CONNECT, 200, 100, "sh");
	event.connect.family = AF_INET;
	event.connect.port = 8080;
	memcpy(event.connect.addr, "\x7f\x00\x00\x01", 4);
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.type", NULL, "connect");
	expect_str(&f, "fd.name", NULL, "127.0.0.1:8080");
	expect_str(&f, "fd.directory", NULL, NULL);
	expect_str(&f, "fd.nameraw", NULL, NULL);
	expect_str(&f, "fd.typechar", NULL, "4");
	expect_str(&f, "fd.type", NULL, "ipv4");
	expect_num(&f, "fd.num", 0);
	expect_str(&f, "fd.rip", NULL, "127.0.0.1");
	expect_str(&f, "fd.sip", NULL, "127.0.0.1");
	expect_num(&f, "fd.rport", 8080);
	expect_num(&f, "fd.sport", 8080);
	expect_str(&f, "fd.sockfamily", NULL, "ip");
	expect_str(&f, "fd.lip", NULL, NULL);
	expect_str(&f, "fd.lport", NULL, NULL);
	expect_str(&f, "fd.l4proto", NULL, NULL);
	event_fields_clear(&f);

	event.connect.family = AF_INET6;
	event.connect.port = 443;
	memcpy(event.connect.addr, v6, sizeof(v6));
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "fd.name", NULL, "2001:db8::1:443");
	expect_str(&f, "fd.typechar", NULL, "6");
	expect_str(&f, "fd.rip", NULL, "2001:db8::1");
	event_fields_clear(&f);
}

/* A thread's creation reports the process itself as the child. */
static void test_thread_fork(void **state)
{
	struct fixture *fx = *state;
	struct sensor_event event;
	const struct proc_entry *e;

	run_shell(fx);
	header(&event, SENSOR_EVENT_FORK, 200, 100, "sh");
	event.fork.child_pid = 200;
	event.fork.child_tid = 201;
	assert_int_equal(proc_table_apply(&fx->table, &event), 0);
	e = proc_table_get(&fx->table, 200);
	assert_non_null(e);
	assert_int_equal(e->ppid, 100);
	assert_string_equal(e->exepath, "/usr/bin/sh");
	assert_string_equal(e->argv0, "sh");
	assert_string_equal(e->args, "-c id");
}

/* The kernel's argv wins over /proc, which shows another program by now. */
static void test_exec_args_from_kernel(void **state)
{
	struct fixture *fx = *state;
	struct sensor_event event;
	struct event_fields f;

	run_shell(fx);
	header(&event, SENSOR_EVENT_EXEC, 200, 100, "true");
	event.exec.flags = SENSOR_EXEC_EXECVEAT;
	event.exec.tty = 34817;
	snprintf(event.exec.filename, sizeof(event.exec.filename), "/usr/bin/true");
	memcpy(event.exec.args, "/bin/true\0a b\0c", 16);
	event.exec.args_len = 16;
	assert_int_equal(proc_table_apply(&fx->table, &event), 0);
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.type", NULL, "execveat");
	expect_str(&f, "proc.exe", NULL, "/bin/true");
	expect_str(&f, "proc.args", NULL, "a b c");
	expect_str(&f, "proc.cmdline", NULL, "true a b c");
	expect_num(&f, "proc.tty", 34817);
	expect_str(&f, "evt.res", NULL, "SUCCESS");
	/* The fixture's cwd link: no exec of pid 200 carried a directory. */
	expect_str(&f, "proc.cwd", NULL, "/home/u/");
	event_fields_clear(&f);

	/* Pid 300 has no /proc entry: the exec's directory is all there is. */
	header(&event, SENSOR_EVENT_EXEC, 300, 200, "cat");
	event.exec.flags = SENSOR_EXEC_CWD_WHOLE;
	snprintf(event.exec.filename, sizeof(event.exec.filename), "/usr/bin/cat");
	memcpy(event.exec.args, "cat\0a.txt", 10);
	event.exec.args_len = 10;
	memcpy(event.exec.cwd, "src\0home\0", 9);
	event.exec.cwd_len = 9;
	assert_int_equal(proc_table_apply(&fx->table, &event), 0);
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "proc.cwd", NULL, "/home/src/");
	expect_str(&f, "proc.pname", NULL, "true");
	event_fields_clear(&f);

	header(&event, SENSOR_EVENT_OPEN, 300, 200, "cat");
	event.open.dfd = AT_FDCWD;
	snprintf(event.open.path, sizeof(event.open.path), "a.txt");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "fd.name", NULL, "/home/src/a.txt");
	event_fields_clear(&f);

	/* A directory the kernel could not read whole is left unset. */
	header(&event, SENSOR_EVENT_EXEC, 301, 200, "cat");
	memcpy(event.exec.cwd, "src\0", 4);
	event.exec.cwd_len = 4;
	assert_int_equal(proc_table_apply(&fx->table, &event), 0);
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "proc.cwd", NULL, NULL);
	event_fields_clear(&f);
}

static void test_syscall_fields(void **state)
{
	struct fixture *fx = *state;
	struct sensor_event event;
	struct event_fields f;

	run_shell(fx);
	header(&event, SENSOR_EVENT_SETID, 200, 100, "sh");
	event.setid = (struct sensor_setid_payload){ .syscall = SENSOR_SYS_SETRESUID, .ret = -1,
		.ids = { 0, UINT32_MAX, 4000000 } };
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.type", NULL, "setresuid");
	expect_str(&f, "evt.arg.ruid", NULL, "root");
	expect_str(&f, "evt.arg.euid", NULL, "-1");
	expect_str(&f, "evt.arg.suid", NULL, "4000000");
	expect_str(&f, "evt.arg.uid", NULL, NULL);
	expect_str(&f, "evt.res", NULL, "EPERM");
	expect_num(&f, "evt.rawres", -1);
	expect_num(&f, "evt.failed", 1);
	event_fields_clear(&f);

	event.setid.syscall = SENSOR_SYS_SETUID;
	event.setid.ret = 0;
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.type", NULL, "setuid");
	expect_str(&f, "evt.arg.uid", NULL, "root");
	expect_str(&f, "evt.arg.ruid", NULL, NULL);
	expect_str(&f, "evt.res", NULL, "SUCCESS");
	expect_num(&f, "evt.failed", 0);
	event_fields_clear(&f);

	header(&event, SENSOR_EVENT_PTRACE, 200, 100, "sh");
	event.ptrace = (struct sensor_ptrace_payload){ .request = 0x4206, .pid = 1 };
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.arg.request", NULL, "PTRACE_SEIZE");
	expect_str(&f, "evt.arg.pid", NULL, "1");
	event.ptrace.request = 99999;
	expect_str(&f, "evt.arg.request", NULL, "99999");
	event_fields_clear(&f);

	header(&event, SENSOR_EVENT_UNLINK, 200, 100, "sh");
	event.unlink.syscall = SENSOR_SYS_UNLINKAT;
	event.unlink.ret = -2;
	snprintf(event.unlink.path, sizeof(event.unlink.path), "/root/.bash_history");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.arg.name", NULL, "/root/.bash_history");
	expect_str(&f, "evt.arg.path", NULL, NULL);
	expect_str(&f, "evt.res", NULL, "ENOENT");
	expect_str(&f, "fd.name", NULL, NULL);
	event.unlink.syscall = SENSOR_SYS_RMDIR;
	expect_str(&f, "evt.type", NULL, "rmdir");
	expect_str(&f, "evt.arg.path", NULL, "/root/.bash_history");
	event_fields_clear(&f);

	header(&event, SENSOR_EVENT_RENAME, 200, 100, "sh");
	event.rename.syscall = SENSOR_SYS_RENAME;
	snprintf(event.rename.oldpath, sizeof(event.rename.oldpath), "a");
	snprintf(event.rename.newpath, sizeof(event.rename.newpath), "b");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.arg.oldpath", NULL, "a");
	expect_str(&f, "evt.arg.newpath", NULL, "b");
	expect_str(&f, "evt.arg.olddirfd", NULL, NULL);
	event_fields_clear(&f);

	header(&event, SENSOR_EVENT_MOUNT, 200, 100, "sh");
	snprintf(event.mount.dev, sizeof(event.mount.dev), "/dev/sda1");
	snprintf(event.mount.dir, sizeof(event.mount.dir), "/mnt");
	snprintf(event.mount.fstype, sizeof(event.mount.fstype), "ext4");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.arg.dev", NULL, "/dev/sda1");
	expect_str(&f, "evt.arg.dir", NULL, "/mnt");
	expect_str(&f, "evt.arg.type", NULL, "ext4");
	event_fields_clear(&f);

	header(&event, SENSOR_EVENT_BPF, 200, 100, "sh");
	event.bpf = (struct sensor_bpf_payload){ .cmd = 5, .ret = 9 };
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.arg.cmd", NULL, "BPF_PROG_LOAD");
	expect_str(&f, "evt.arg.res_or_fd", NULL, "9");
	event_fields_clear(&f);

	header(&event, SENSOR_EVENT_MEMFD, 200, 100, "sh");
	snprintf(event.memfd.name, sizeof(event.memfd.name), "x");
	event.memfd.ret = 3;
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.type", NULL, "memfd_create");
	expect_str(&f, "evt.arg.name", NULL, "x");
	expect_str(&f, "fd.name", NULL, "memfd:x");
	event_fields_clear(&f);

	header(&event, SENSOR_EVENT_ACCEPT, 200, 100, "sh");
	event.accept.syscall = SENSOR_SYS_ACCEPT;
	event.accept.family = AF_INET;
	event.accept.port = 5555;
	memcpy(event.accept.addr, "\x0a\x00\x00\x07", 4);
	event.accept.ret = 6;
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.type", NULL, "accept");
	expect_str(&f, "fd.name", NULL, "10.0.0.7:5555");
	expect_str(&f, "evt.arg.fd", NULL, "6");
	expect_num(&f, "evt.rawres", 6);
	expect_num(&f, "fd.num", 6);
	event_fields_clear(&f);

	header(&event, SENSOR_EVENT_LINK, 200, 100, "sh");
	event.link.syscall = SENSOR_SYS_SYMLINKAT;
	event.link.newdfd = 7;
	snprintf(event.link.oldpath, sizeof(event.link.oldpath), "/etc/shadow");
	snprintf(event.link.newpath, sizeof(event.link.newpath), "s");
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.type", NULL, "symlinkat");
	expect_str(&f, "evt.arg.target", NULL, "/etc/shadow");
	expect_str(&f, "evt.arg.linkpath", NULL, "s");
	expect_str(&f, "evt.arg.linkdirfd", NULL, "7");
	expect_str(&f, "evt.arg.oldpath", NULL, NULL);
	event.link.syscall = SENSOR_SYS_LINK;
	expect_str(&f, "evt.arg.oldpath", NULL, "/etc/shadow");
	expect_str(&f, "evt.arg.newpath", NULL, "s");
	expect_str(&f, "evt.arg.target", NULL, NULL);
	event_fields_clear(&f);

	header(&event, SENSOR_EVENT_SOCKET, 200, 100, "sh");
	event.socket = (struct sensor_socket_payload){ .domain = AF_PACKET, .type = 3,
		.protocol = 768, .ret = -1 };
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "evt.type", NULL, "socket");
	expect_str(&f, "evt.arg.domain", NULL, "AF_PACKET");
	expect_str(&f, "evt.arg.type", NULL, "3");
	expect_str(&f, "evt.arg.proto", NULL, "768");
	expect_num(&f, "fd.num", -1);
	expect_str(&f, "evt.res", NULL, "EPERM");
	event.socket.domain = 12345;
	expect_str(&f, "evt.arg.domain", NULL, "12345");
	event_fields_clear(&f);
}

/* A process first seen on an open is added from its header and proc_root. */
static void test_unknown_process(void **state)
{
	struct fixture *fx = *state;
	struct sensor_event event;
	struct event_fields f;

	header(&event, SENSOR_EVENT_OPEN, 4242, 1, "late");
	snprintf(event.open.path, sizeof(event.open.path), "/tmp/x");
	assert_int_equal(proc_table_apply(&fx->table, &event), 0);
	event_fields_init(&f, &event, &fx->table, 0);
	expect_str(&f, "proc.name", NULL, "late");
	expect_str(&f, "proc.cmdline", NULL, "late");
	expect_str(&f, "proc.args", NULL, "");
	expect_str(&f, "proc.exe", NULL, NULL);
	expect_str(&f, "proc.pname", NULL, NULL);
	event_fields_clear(&f);
}

static void test_alert_json(void **state)
{
	struct fixture *fx = *state;
	struct sensor_event event;
	struct event_fields f;
	char *tags[] = { "filesystem", "mitre_credential_access" };
	struct rules_rule rule = {
		.name = "Read shadow",
		.output = "%proc.name read %fd.name (user=%user.name uid=%user.uid "
			"read=%evt.is_open_read pod=%k8s.pod.name a1=%proc.aname[1] 100%). 5% off %.",
		.priority = RULES_WARNING,
		.tags = tags,
		.ntags = 2,
	};
	json_t *alert;
	char *text;

	run_shell(fx);
	header(&event, SENSOR_EVENT_OPEN, 200, 100, "cat");
	event.open.flags = O_RDONLY;
	snprintf(event.open.path, sizeof(event.open.path), "/etc/shadow");
	event_fields_init(&f, &event, &fx->table, 0);
	alert = event_alert_json(&rule, &f, "host1");
	assert_non_null(alert);
	text = json_dumps(alert, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(text,
		"{\"time\":\"2023-11-14T22:13:20.123456789Z\",\"rule\":\"Read shadow\","
		"\"priority\":\"Warning\",\"output\":\"22:13:20.123456789: Warning cat read /etc/shadow (user=root uid=0 "
		"read=true pod=<NA> a1=python3 100%). 5% off %.\",\"output_fields\":{"
		"\"evt.time\":1700000000123456789,\"proc.name\":\"cat\",\"fd.name\":\"/etc/shadow\",\"user.name\":\"root\","
		"\"user.uid\":0,\"evt.is_open_read\":true,\"k8s.pod.name\":null,"
		"\"proc.aname[1]\":\"python3\"},\"source\":\"syscall\","
		"\"tags\":[\"filesystem\",\"mitre_credential_access\"],\"hostname\":\"host1\"}");
	free(text);
	json_decref(alert);
	event_fields_clear(&f);
}

/* Transformers in an output apply to the field's value, as in a condition. */
static void test_alert_transformers(void **state)
{
	struct fixture *fx = *state;
	struct sensor_event event;
	struct event_fields f;
	struct rules_rule rule = {
		.name = "x",
		.output = "%toupper(proc.name) %len(proc.aname) %len(proc.cmdline) "
			"%basename(proc.exepath) %toupper(basename(proc.exepath)) %len(k8s.pod.name) "
			"%b64(proc.name) %toupper(len(proc.name)) %tolower(proc.aname[1]) "
			"%nosuch(proc.name) %toupper(proc.name",
		.priority = RULES_INFORMATIONAL,
	};
	json_t *alert, *fields;

	run_shell(fx);
	header(&event, SENSOR_EVENT_EXEC, 200, 100, "sh");
	event_fields_init(&f, &event, &fx->table, 0);
	alert = event_alert_json(&rule, &f, "h");
	assert_non_null(alert);
	assert_string_equal(json_string_value(json_object_get(alert, "output")),
		"22:13:20.123456789: Informational SH 2 8 sh SH <NA> <NA> 2 python3 "
		"<NA>(proc.name) %toupper(proc.name");
	fields = json_object_get(alert, "output_fields");
	assert_string_equal(json_string_value(json_object_get(fields, "toupper(proc.name)")), "SH");
	assert_int_equal(json_integer_value(json_object_get(fields, "len(proc.aname)")), 2);
	assert_int_equal(json_integer_value(json_object_get(fields, "len(proc.cmdline)")), 8);
	assert_string_equal(json_string_value(json_object_get(fields,
		"toupper(basename(proc.exepath))")), "SH");
	assert_true(json_is_null(json_object_get(fields, "len(k8s.pod.name)")));
	assert_true(json_is_null(json_object_get(fields, "b64(proc.name)")));
	assert_true(json_is_null(json_object_get(fields, "nosuch")));
	json_decref(alert);
	event_fields_clear(&f);
}

/* A path that is not UTF-8 still yields an alert, with '?' for its bytes. */
static void test_alert_not_utf8(void **state)
{
	struct fixture *fx = *state;
	struct sensor_event event;
	struct event_fields f;
	struct rules_rule rule = { .name = "r", .output = "open %fd.name",
		.priority = RULES_DEBUG };
	json_t *alert;

	header(&event, SENSOR_EVENT_OPEN, 4242, 1, "x");
	snprintf(event.open.path, sizeof(event.open.path), "/tmp/\xff\xfe");
	event_fields_init(&f, &event, &fx->table, 0);
	alert = event_alert_json(&rule, &f, "h");
	assert_non_null(alert);
	assert_string_equal(json_string_value(json_object_get(alert, "output")),
		"22:13:20.123456789: Debug open /tmp/??");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(alert, "output_fields"), "fd.name")), "/tmp/??");
	assert_string_equal(json_string_value(json_object_get(alert, "priority")), "Debug");
	json_decref(alert);
	event_fields_clear(&f);
}

int main(void)
{
	/* evt.time in the output is local time; the expected values are UTC. */
	setenv("TZ", "UTC", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_flags),
		cmocka_unit_test(test_cmdline_split),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_cgroup_container),
		cmocka_unit_test(test_path_normalize),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_rules_types),
		cmocka_unit_test_setup_teardown(test_exec_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_args_from_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syscall_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_transformers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_not_utf8, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
