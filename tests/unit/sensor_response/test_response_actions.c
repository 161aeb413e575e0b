/* The actions on real processes: pidfd kill with the pid reuse check, the
 * runner's audit records (dry-run, kill, the revoke hook), the cgroup
 * refusals, mountinfo and /proc/PID/cgroup parsing, and syslog messages on
 * a socket bound here. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "sensor/response/responder.h"
#include "sensor/response/response_priv.h"
#include "sensor/response/response_syslog.h"

static uint64_t monotonic_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static pid_t start_sleeper(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static int wait_signal(pid_t pid)
{
	int status = 0;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
}

static void test_pidfd_kill(void **state)
{
	struct wd_error err = { 0 };
	uint64_t before = monotonic_ns();
	pid_t pid;
	int fd = -1;

	(void)state;
	/* Start times have a resolution of one clock tick (10 ms at the usual
	 * USER_HZ of 100), so the event is placed 2 s before the start. */
	usleep(20000);
	pid = start_sleeper();
	assert_int_equal(response_pidfd_open((uint32_t)pid, before - 2000000000u, &fd, &err),
		WD_ECONFLICT);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(wd_error_text(&err), "was reused"));

	assert_int_equal(response_pidfd_open((uint32_t)pid, monotonic_ns(), &fd, &err), 0);
	assert_true(fd >= 0);
	assert_int_equal(response_pidfd_alive(fd, (uint32_t)pid, &err), 0);
	assert_int_equal(response_pidfd_kill(fd, (uint32_t)pid, &err), 0);
	assert_int_equal(wait_signal(pid), SIGKILL);
	assert_int_equal(response_pidfd_alive(fd, (uint32_t)pid, &err), WD_ENOTFOUND);
	close(fd);

	assert_int_equal(response_pidfd_open((uint32_t)pid, 0, &fd, &err), WD_ENOTFOUND);
	assert_int_equal(response_pidfd_open(0, 0, &fd, &err), WD_EINVAL);
}

struct records {
	json_t *items[16];
	size_t count;
};

static void collect(const char *record, void *ctx)
{
	struct records *records = ctx;
	json_error_t error;

	assert_true(records->count < 16);
	records->items[records->count] = json_loads(record, 0, &error);
	assert_non_null(records->items[records->count]);
	records->count++;
}

static void records_clear(struct records *records)
{
	for (size_t i = 0; i < records->count; i++)
		json_decref(records->items[i]);
	records->count = 0;
}

static const char *field(const struct records *records, size_t i, const char *key)
{
	json_t *value = json_object_get(records->items[i], key);

	return value ? json_string_value(value) : NULL;
}

struct revoke_seen {
	unsigned calls;
	uint32_t pid;
	char rule[64];
	char alert[64];
	bool alive_at_call;   /* the process still existed when the hook ran */
};

static int revoke_hook(const struct response_target *target, void *ctx, struct wd_error *err)
{
	struct revoke_seen *seen = ctx;

	seen->calls++;
	seen->pid = target->pid;
	seen->alive_at_call = kill((pid_t)target->pid, 0) == 0;
	snprintf(seen->rule, sizeof(seen->rule), "%s", target->rule);
	snprintf(seen->alert, sizeof(seen->alert), "%s", target->alert_json);
	return wd_error_set(err, WD_EUNAVAILABLE, "server unreachable");
}

static void test_runner_records(void **state)
{
	struct records records = { 0 };
	struct revoke_seen seen = { 0 };
	struct response_runner_config config = {
		.hostname = "host1",
		.audit = collect,
		.audit_ctx = &records,
	};
	struct response_runner *runner = NULL;
	struct wd_error err = { 0 };
	pid_t pid = start_sleeper();
	struct response_target target = {
		.rule = "Read marker",
		.pid = (uint32_t)pid,
		.event_ns = monotonic_ns() + 1000000000u,
		.alert_json = "{\"rule\":\"Read marker\"}",
	};
	char pid_text[96];

	(void)state;
	snprintf(pid_text, sizeof(pid_text), "pid:%d", (int)pid);

	/* Dry run: the process lives on, and nothing calls the hook. */
	config.dry_run = true;
	config.revoke = revoke_hook;
	config.revoke_ctx = &seen;
	assert_int_equal(response_runner_new(&config, &runner, &err), 0);
	response_runner_run(runner, RESPONSE_BIT(RESPONSE_KILL) | RESPONSE_BIT(RESPONSE_REVOKE) |
		RESPONSE_BIT(RESPONSE_NOTIFY), &target);
	response_runner_free(runner);
	assert_int_equal(records.count, 3);
	assert_string_equal(field(&records, 0, "action"), "revoke");
	assert_string_equal(field(&records, 0, "result"), "dry-run");
	assert_string_equal(field(&records, 1, "type"), "response");
	assert_string_equal(field(&records, 1, "rule"), "Read marker");
	assert_string_equal(field(&records, 1, "action"), "kill");
	assert_int_equal(json_integer_value(json_object_get(records.items[1], "pid")), pid);
	assert_string_equal(field(&records, 1, "target"), pid_text);
	assert_string_equal(field(&records, 1, "result"), "dry-run");
	assert_null(json_object_get(records.items[1], "error"));
	assert_string_equal(field(&records, 1, "hostname"), "host1");
	assert_int_equal(strlen(field(&records, 1, "time")), 30);
	assert_string_equal(field(&records, 2, "action"), "notify");
	assert_string_equal(field(&records, 2, "result"), "failure");
	assert_string_equal(field(&records, 2, "error"), "no notify url is configured");
	assert_int_equal(seen.calls, 0);
	assert_int_equal(kill(pid, 0), 0);
	records_clear(&records);

	/* Without dry-run the process is killed, the hook receives the target,
	 * and the hook's error is audited. */
	config.dry_run = false;
	assert_int_equal(response_runner_new(&config, &runner, &err), 0);
	response_runner_run(runner, RESPONSE_BIT(RESPONSE_REVOKE) | RESPONSE_BIT(RESPONSE_KILL),
		&target);
	assert_int_equal(records.count, 2);
	assert_string_equal(field(&records, 0, "action"), "revoke");
	assert_string_equal(field(&records, 0, "result"), "failure");
	assert_string_equal(field(&records, 0, "error"), "server unreachable");
	assert_string_equal(field(&records, 1, "action"), "kill");
	assert_string_equal(field(&records, 1, "result"), "success");
	assert_int_equal(seen.calls, 1);
	assert_true(seen.alive_at_call);
	assert_int_equal(seen.pid, (uint32_t)pid);
	assert_string_equal(seen.rule, "Read marker");
	assert_string_equal(seen.alert, "{\"rule\":\"Read marker\"}");
	assert_int_equal(wait_signal(pid), SIGKILL);
	records_clear(&records);

	/* The process is gone now. */
	response_runner_run(runner, RESPONSE_BIT(RESPONSE_KILL), &target);
	assert_int_equal(records.count, 1);
	assert_string_equal(field(&records, 0, "result"), "failure");
	snprintf(pid_text, sizeof(pid_text), "cannot open pid %d: the process has exited", (int)pid);
	assert_string_equal(field(&records, 0, "error"), pid_text);
	records_clear(&records);
	response_runner_free(runner);

	/* Without a hook, revoke fails with the reason. */
	config.revoke = NULL;
	assert_int_equal(response_runner_new(&config, &runner, &err), 0);
	response_runner_run(runner, RESPONSE_BIT(RESPONSE_REVOKE), &target);
	assert_int_equal(records.count, 1);
	assert_string_equal(field(&records, 0, "error"), "no revoke handler is configured");
	records_clear(&records);

	/* init is never killed. */
	target.pid = 1;
	response_runner_run(runner, RESPONSE_BIT(RESPONSE_KILL), &target);
	assert_int_equal(records.count, 1);
	assert_string_equal(field(&records, 0, "result"), "failure");
	assert_string_equal(field(&records, 0, "error"), "refusing to kill pid 1: it is init");
	records_clear(&records);
	response_runner_free(runner);
}

static void test_cgroup_refusals(void **state)
{
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(response_cgroup_check("/", "/a/b", &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "refusing to freeze the root cgroup");
	assert_int_equal(response_cgroup_check("/a/b", "/a/b", &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err),
		"refusing to freeze /a/b: it is the sensor's own cgroup");
	assert_int_equal(response_cgroup_check("/a", "/a/b", &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err),
		"refusing to freeze /a: it contains the sensor's cgroup /a/b");
	assert_int_equal(response_cgroup_check("/a/bc", "/a/b", &err), 0);
	assert_int_equal(response_cgroup_check("/a/b/c", "/a/b", &err), 0);
	assert_int_equal(response_cgroup_check("/x", "/", &err), 0);
}

static void test_cgroup_mount(void **state)
{
	static const char mountinfo[] =
		"22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
		"31 1 0:26 / /sys/fs/cgroup rw,relatime shared:9 - tmpfs tmpfs rw\n"
		"40 31 0:37 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:10 - cgroup2 cgroup2 rw\n";
	struct wd_error err = { 0 };
	char path[64];

	(void)state;
	assert_int_equal(response_cgroup_mount(mountinfo, path, sizeof(path), &err), 0);
	assert_string_equal(path, "/sys/fs/cgroup/unified");
	assert_int_equal(response_cgroup_mount("22 1 0:21 / /proc rw - proc proc rw\n", path,
		sizeof(path), &err), WD_ENOTFOUND);
	assert_string_equal(wd_error_text(&err), "no cgroup v2 file system is mounted");
	assert_int_equal(response_cgroup_mount("", path, sizeof(path), &err), WD_ENOTFOUND);
	assert_int_equal(response_cgroup_mount(mountinfo, path, 8, &err), WD_ETOOBIG);
}

static void write_cgroup(const char *dir, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_cgroup_of(void **state)
{
	char dir[] = "/tmp/wd-cgroup-XXXXXX";
	struct wd_error err = { 0 };
	char path[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_cgroup(dir, "4:memory:/x\n0::/wdtest-1/app\n");
	assert_int_equal(response_cgroup_of(dir, path, sizeof(path), &err), 0);
	assert_string_equal(path, "/wdtest-1/app");
	write_cgroup(dir, "0::/\n");
	assert_int_equal(response_cgroup_of(dir, path, sizeof(path), &err), 0);
	assert_string_equal(path, "/");
	write_cgroup(dir, "4:memory:/x\n");
	assert_int_equal(response_cgroup_of(dir, path, sizeof(path), &err), WD_ENOTFOUND);
	write_cgroup(dir, "0::/a/../b\n");
	assert_int_equal(response_cgroup_of(dir, path, sizeof(path), &err), WD_EIO);
	write_cgroup(dir, "0::/a/..\n");
	assert_int_equal(response_cgroup_of(dir, path, sizeof(path), &err), WD_EIO);
	write_cgroup(dir, "0::/a/..b\n");
	assert_int_equal(response_cgroup_of(dir, path, sizeof(path), &err), 0);
	write_cgroup(dir, "0::relative\n");
	assert_int_equal(response_cgroup_of(dir, path, sizeof(path), &err), WD_EIO);
	write_cgroup(dir, "0::/0123456789012345678901234567890123456789012345678901234567890123\n");
	assert_int_equal(response_cgroup_of(dir, path, sizeof(path), &err), WD_EIO);
	{
		char file[512];

		snprintf(file, sizeof(file), "%s/cgroup", dir);
		unlink(file);
	}
	assert_int_equal(response_cgroup_of(dir, path, sizeof(path), &err), WD_ENOTFOUND);
	rmdir(dir);
}

static void test_syslog_message(void **state)
{
	char dir[] = "/tmp/wd-syslog-XXXXXX";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct response_syslog *log = NULL;
	struct wd_error err = { 0 };
	char expected_tail[128];
	char buf[512];
	ssize_t got;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/log", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);

	assert_int_equal(response_syslog_open(addr.sun_path, LOG_AUTHPRIV, &log, &err), 0);
	assert_int_equal(response_syslog_send(log, response_syslog_severity(RULES_WARNING),
		"{\"rule\":\"x\"}", &err), 0);
	got = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(got > 0);
	buf[got] = '\0';
	/* <84> is authpriv (10) * 8 + warning (4). */
	assert_memory_equal(buf, "<84>", 4);
	snprintf(expected_tail, sizeof(expected_tail), " warden-sensor[%d]: {\"rule\":\"x\"}",
		(int)getpid());
	assert_int_equal((size_t)got, 4 + 15 + strlen(expected_tail));
	assert_string_equal(buf + 4 + 15, expected_tail);

	assert_int_equal(response_syslog_severity(RULES_EMERGENCY), LOG_EMERG);
	assert_int_equal(response_syslog_severity(RULES_CRITICAL), LOG_CRIT);
	assert_int_equal(response_syslog_severity(RULES_INFORMATIONAL), LOG_INFO);
	assert_int_equal(response_syslog_severity(RULES_DEBUG), LOG_DEBUG);

	/* The daemon went away: the send fails and names the socket. */
	close(fd);
	unlink(addr.sun_path);
	assert_int_equal(response_syslog_send(log, LOG_ERR, "x", &err), WD_EIO);
	assert_non_null(strstr(wd_error_text(&err), addr.sun_path));
	response_syslog_free(log);
	assert_int_equal(response_syslog_open(addr.sun_path, LOG_AUTHPRIV, &log, &err), WD_EIO);
	rmdir(dir);
}

static void test_notify_queue_full(void **state)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t addr_len = sizeof(addr);
	struct records records = { 0 };
	char url[64];
	struct response_notify_config notify = { .url = url, .timeout_ms = 300, .queue_max = 1 };
	struct response_runner_config config = {
		.hostname = "host1",
		.notify = &notify,
		.audit = collect,
		.audit_ctx = &records,
	};
	struct response_runner *runner = NULL;
	struct wd_error err = { 0 };
	struct response_target target = { .rule = "R", .pid = 1, .alert_json = "{}" };
	struct response_notify_stats stats;
	int listener;

	(void)state;
	/* A webhook that accepts connections (the kernel completes them from
	 * the backlog) but never responds, so each request times out. */
	listener = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(listener >= 0);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(listener, 8), 0);
	assert_int_equal(getsockname(listener, (struct sockaddr *)&addr, &addr_len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", ntohs(addr.sin_port));

	assert_int_equal(response_runner_new(&config, &runner, &err), 0);
	response_runner_run(runner, RESPONSE_BIT(RESPONSE_NOTIFY), &target);
	usleep(100000);   /* the worker takes the first alert */
	response_runner_run(runner, RESPONSE_BIT(RESPONSE_NOTIFY), &target);
	response_runner_run(runner, RESPONSE_BIT(RESPONSE_NOTIFY), &target);
	assert_int_equal(records.count, 1);
	assert_string_equal(field(&records, 0, "result"), "failure");
	assert_string_equal(field(&records, 0, "error"),
		"the notify queue is full (1 alerts): alert dropped");
	assert_string_equal(field(&records, 0, "target"), url);

	response_runner_stop(runner);
	stats = response_runner_notify_stats(runner);
	assert_int_equal(stats.sent, 0);
	assert_int_equal(stats.failed, 1);
	assert_int_equal(stats.dropped, 2);
	assert_int_equal(records.count, 2);
	assert_string_equal(field(&records, 1, "result"), "failure");
	assert_string_equal(field(&records, 1, "error"), "server sent nothing for 300 ms");
	response_runner_run(runner, RESPONSE_BIT(RESPONSE_NOTIFY), &target);
	assert_int_equal(records.count, 3);
	assert_string_equal(field(&records, 2, "error"),
		"the notify worker has stopped: alert dropped");
	response_runner_free(runner);
	records_clear(&records);
	close(listener);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pidfd_kill),
		cmocka_unit_test(test_runner_records),
		cmocka_unit_test(test_cgroup_refusals),
		cmocka_unit_test(test_cgroup_mount),
		cmocka_unit_test(test_cgroup_of),
		cmocka_unit_test(test_syslog_message),
		cmocka_unit_test(test_notify_queue_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
