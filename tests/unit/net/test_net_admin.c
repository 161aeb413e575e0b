/* Tests of the Unix admin listener: SO_PEERCRED authorization with real
 * processes, the socket file mode, stale sockets and the read timeout. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/net.h"
#include "net/net_client.h"
#include "net_test_pki.h"

#define NOBODY_UID 65534
#define TEST_READ_TIMEOUT_MS 500u

static struct {
	struct test_loop loop;
	struct net_server *server;
	char dir[64];
	char path_closed[100]; /* mode 0660, root only */
	char path_open[100];   /* mode 0666, root only */
	char path_nobody[100]; /* mode 0666, root and nobody */
	volatile int handler_calls;
	volatile uid_t seen_uid;
	volatile pid_t seen_pid;
} g;

static int handle_status(struct net_request *req, void *arg, struct wd_error *err)
{
	uid_t uid;
	gid_t gid;
	pid_t pid;
	json_t *body;
	int rc;

	(void)arg;
	(void)err;
	__atomic_add_fetch(&g.handler_calls, 1, __ATOMIC_SEQ_CST);
	rc = net_request_peer_cred(req, &uid, &gid, &pid);
	if (rc < 0)
		return rc;
	g.seen_uid = uid;
	g.seen_pid = pid;
	body = json_pack("{s:i}", "uid", (int)uid);
	rc = net_reply_json(req, 200, body);
	json_decref(body);
	return rc;
}

static const struct net_route routes[] = {
	{ "GET", "/v1/status", handle_status, NULL, NET_AUTH_UNIX, false },
	{ "POST", "/v1/status", handle_status, NULL, NET_AUTH_UNIX, false },
};

static int group_setup(void **state)
{
	const uid_t nobody[] = { NOBODY_UID };
	struct net_limits limits = { .read_timeout_ms = TEST_READ_TIMEOUT_MS };
	struct wd_error err;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(g.dir, sizeof(g.dir), "/tmp/test_net_admin.XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	assert_int_equal(chmod(g.dir, 0755), 0);
	snprintf(g.path_closed, sizeof(g.path_closed), "%s/closed.sock", g.dir);
	snprintf(g.path_open, sizeof(g.path_open), "%s/open.sock", g.dir);
	snprintf(g.path_nobody, sizeof(g.path_nobody), "%s/nobody.sock", g.dir);

	test_loop_init(&g.loop);
	wd_error_clear(&err);
	assert_int_equal(net_server_new(g.loop.base, &limits, &g.server, &err), 0);
	assert_int_equal(net_listener_add_unix(g.server, g.path_closed, 0660, NULL, 0, routes,
		WD_ARRAY_LEN(routes), NULL, &err), 0);
	assert_int_equal(net_listener_add_unix(g.server, g.path_open, 0666, NULL, 0, routes,
		WD_ARRAY_LEN(routes), NULL, &err), 0);
	assert_int_equal(net_listener_add_unix(g.server, g.path_nobody, 0666, nobody, 1, routes,
		WD_ARRAY_LEN(routes), NULL, &err), 0);
	test_loop_start(&g.loop);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	test_loop_stop(&g.loop);
	net_server_free(g.server);
	event_base_free(g.loop.base);
	/* net_server_free removed the socket files. */
	assert_int_equal(access(g.path_closed, F_OK), -1);
	rmdir(g.dir);
	return 0;
}

/* Requests GET /v1/status over path; returns the status or a negative code. */
static int status_request(const char *path, char *body, size_t body_len)
{
	struct net_client_config config = { .unix_path = path, .timeout_ms = 5000 };
	struct net_client *client = NULL;
	struct net_response *resp = NULL;
	struct wd_error err;
	int rc;

	wd_error_clear(&err);
	rc = net_client_connect(&config, &client, &err);
	if (rc == 0)
		rc = net_client_request(client, "GET", "/v1/status", NULL, 0, NULL, NULL, 0, &resp,
			&err);
	if (rc == 0) {
		rc = resp->status;
		snprintf(body, body_len, "%s", (const char *)resp->body);
	}
	net_response_free(resp);
	net_client_free(client);
	return rc;
}

static void root_request_succeeds(void **state)
{
	char body[256];

	(void)state;
	if (geteuid() != 0) {
		printf("skipped: the test must run as root to connect with uid 0\n");
		skip();
	}
	g.handler_calls = 0;
	assert_int_equal(status_request(g.path_closed, body, sizeof(body)), 200);
	assert_string_equal(body, "{\"uid\":0}");
	assert_int_equal(g.handler_calls, 1);
	assert_int_equal(g.seen_uid, 0);
	assert_int_equal(g.seen_pid, getpid());
}

/* Forks a child that drops to nobody, requests over path and exits with 0
 * when the status and body are the expected ones. */
static int run_as_nobody(const char *path, int expected_status, const char *expected_body)
{
	int wstatus = 0;
	pid_t pid = fork();

	if (pid == 0) {
		char body[256] = "";
		int status;

		if (setgroups(0, NULL) < 0 || setgid(NOBODY_UID) < 0 || setuid(NOBODY_UID) < 0)
			_exit(2);
		status = status_request(path, body, sizeof(body));
		if (status != expected_status) {
			fprintf(stderr, "child: status %d, expected %d\n", status, expected_status);
			_exit(3);
		}
		if (strcmp(body, expected_body) != 0) {
			fprintf(stderr, "child: body %s\n", body);
			_exit(4);
		}
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	return WEXITSTATUS(wstatus);
}

static void nobody_rejected_403(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		printf("skipped: changing to uid %d needs root\n", NOBODY_UID);
		skip();
	}
	g.handler_calls = 0;
	assert_int_equal(run_as_nobody(g.path_open, 403, "{\"error\":{\"code\":\"EPERM\","
		"\"message\":\"uid 65534 is not allowed on the admin socket\"}}"), 0);
	assert_int_equal(g.handler_calls, 0);
}

static void nobody_allowed_by_list(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		printf("skipped: changing to uid %d needs root\n", NOBODY_UID);
		skip();
	}
	g.handler_calls = 0;
	assert_int_equal(run_as_nobody(g.path_nobody, 200, "{\"uid\":65534}"), 0);
	assert_int_equal(g.handler_calls, 1);
	assert_int_equal(g.seen_uid, NOBODY_UID);
}

static void socket_file_mode(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(stat(g.path_closed, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(stat(g.path_open, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0666);
}

static void stale_socket_and_regular_file(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char path[100];
	struct net_server *server = NULL;
	struct wd_error err;
	int fd;
	FILE *f;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(net_server_new(g.loop.base, NULL, &server, &err), 0);

	/* A socket file left by a process that exited is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", g.dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	assert_int_equal(net_listener_add_unix(server, path, 0600, NULL, 0, routes, 1, NULL,
		&err), 0);

	/* A regular file is never deleted. */
	snprintf(path, sizeof(path), "%s/data", g.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(net_listener_add_unix(server, path, 0600, NULL, 0, routes, 1, NULL,
		&err), WD_EINVAL);
	assert_string_equal(err.detail + strlen(err.detail) - strlen("exists and is not a "
		"socket"), "exists and is not a socket");
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);

	net_server_free(server);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void short_body_ends_at_read_timeout(void **state)
{
	static const char request[] = "POST /v1/status HTTP/1.1\r\nHost: x\r\n"
		"Content-Length: 100\r\n\r\n0123456789";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	char buf[512];
	double start;
	double elapsed;
	ssize_t n;
	int fd;

	(void)state;
	g.handler_calls = 0;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", g.path_closed);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(send(fd, request, sizeof(request) - 1, 0), (ssize_t)sizeof(request) - 1);

	start = now_seconds();
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, (int)TEST_READ_TIMEOUT_MS * 6), 1);
	n = recv(fd, buf, sizeof(buf), 0);
	elapsed = now_seconds() - start;
	close(fd);

	/* The server closes without a response once no byte came for the
	 * read timeout. */
	assert_int_equal(n, 0);
	assert_true(elapsed >= TEST_READ_TIMEOUT_MS / 1000.0 * 0.8);
	assert_true(elapsed < TEST_READ_TIMEOUT_MS / 1000.0 * 4);
	assert_int_equal(g.handler_calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(root_request_succeeds),
		cmocka_unit_test(nobody_rejected_403),
		cmocka_unit_test(nobody_allowed_by_list),
		cmocka_unit_test(socket_file_mode),
		cmocka_unit_test(stale_socket_and_regular_file),
		cmocka_unit_test(short_body_ends_at_read_timeout),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
