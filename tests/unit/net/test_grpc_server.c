/* Tests of the gRPC server with real peers: the warden gRPC client and,
 * when it can be imported, Python's grpcio, against a server on an event
 * loop thread listening on a Unix socket in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/thread.h>
#include <pthread.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "net/grpc.h"

/* The server's message ceiling, small so the oversize case is quick. */
#define TEST_MAX_MESSAGE 65536u
#define STREAM_MESSAGES 3
#define STREAM_INTERVAL_MS 100
#define CONCURRENT_CALLS 20
/* Limits of the server that setup_limited starts. */
#define PER_UID_LIMIT 3
#define PREFACE_TIMEOUT_MS 300

static struct {
	struct event_base *base;
	pthread_t thread;
	struct grpc_server *server;
	char dir[64];
	char path[128];
	int cancelled_calls;   /* close callbacks with cancelled = true, atomic */
	int held_send_rc;      /* result of a send on the held call after it closed */
	struct grpc_call *held; /* a /Test/Forever call kept past its close */
	int per_uid_reports;   /* error reports about the per-uid limit, atomic */
} g;

static int atomic_get(int *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static int handle_echo(struct grpc_call *call, void *arg, struct wd_error *err)
{
	size_t len;
	const uint8_t *request = grpc_call_request(call, &len);

	(void)arg;
	(void)err;
	WD_TRY(grpc_call_send_message(call, request, len));
	return grpc_call_finish(call, GRPC_STATUS_OK, NULL);
}

/* Requires exactly one workload.spiffe.io value equal to "true", as the
 * SPIFFE Workload API does, and replies with the caller's uid. */
static int handle_metadata(struct grpc_call *call, void *arg, struct wd_error *err)
{
	const char *value = NULL;
	size_t count = grpc_call_metadata(call, "workload.spiffe.io", &value);
	char reply[32];
	uid_t uid;
	gid_t gid;
	pid_t pid;

	(void)arg;
	if (count != 1 || strcmp(value, "true") != 0)
		return wd_error_set(err, WD_EINVAL, "security header workload.spiffe.io: true "
			"is missing");
	WD_TRY(grpc_call_peer_cred(call, &uid, &gid, &pid));
	snprintf(reply, sizeof(reply), "uid=%u pid=%d", (unsigned)uid, (int)pid);
	WD_TRY(grpc_call_send_message(call, reply, strlen(reply)));
	return grpc_call_finish(call, GRPC_STATUS_OK, NULL);
}

static int handle_denied(struct grpc_call *call, void *arg, struct wd_error *err)
{
	(void)arg;
	(void)err;
	return grpc_call_finish(call, GRPC_STATUS_PERMISSION_DENIED,
		"no identity for this caller: 100% denied\n");
}

struct stream_state {
	struct event *timer;
	struct grpc_call *call;
	int sent;
};

static void stream_state_free(struct stream_state *state)
{
	event_free(state->timer);
	grpc_call_unref(state->call);
	free(state);
}

static void on_stream_close(struct grpc_call *call, bool cancelled, void *arg)
{
	(void)call;
	if (cancelled)
		__atomic_add_fetch(&g.cancelled_calls, 1, __ATOMIC_SEQ_CST);
	if (arg)
		stream_state_free(arg);
}

static void on_stream_tick(evutil_socket_t fd, short what, void *arg)
{
	struct stream_state *state = arg;
	struct timeval interval = { 0, STREAM_INTERVAL_MS * 1000 };
	char message[16];

	(void)fd;
	(void)what;
	if (state->sent == STREAM_MESSAGES) {
		if (grpc_call_finish(state->call, GRPC_STATUS_OK, NULL) < 0)
			abort();
		return;
	}
	snprintf(message, sizeof(message), "msg-%d", state->sent++);
	if (grpc_call_send_message(state->call, message, strlen(message)) < 0)
		abort();
	evtimer_add(state->timer, &interval);
}

/* Sends STREAM_MESSAGES messages STREAM_INTERVAL_MS apart, the first at
 * once, then OK. */
static int handle_stream(struct grpc_call *call, void *arg, struct wd_error *err)
{
	struct stream_state *state = calloc(1, sizeof(*state));

	(void)arg;
	if (!state)
		return wd_error_set(err, WD_ENOMEM, "no memory");
	state->call = grpc_call_ref(call);
	state->timer = evtimer_new(g.base, on_stream_tick, state);
	grpc_call_set_close_cb(call, on_stream_close, state);
	on_stream_tick(-1, 0, state);
	return 0;
}

static void on_forever_close(struct grpc_call *call, bool cancelled, void *arg)
{
	(void)arg;
	if (cancelled)
		__atomic_add_fetch(&g.cancelled_calls, 1, __ATOMIC_SEQ_CST);
	/* A subscriber that still holds the call must get WD_EIO, not a crash. */
	if (call == g.held)
		__atomic_store_n(&g.held_send_rc, grpc_call_send_message(call, "late", 4),
			__ATOMIC_SEQ_CST);
}

/* Sends one message and keeps the stream open until the client leaves. */
static int handle_forever(struct grpc_call *call, void *arg, struct wd_error *err)
{
	(void)arg;
	(void)err;
	grpc_call_set_close_cb(call, on_forever_close, NULL);
	if (!g.held)
		g.held = grpc_call_ref(call);
	return grpc_call_send_message(call, "first", 5);
}

static const struct grpc_method methods[] = {
	{ "/Test/Echo", GRPC_UNARY, handle_echo, NULL },
	{ "/Test/Metadata", GRPC_UNARY, handle_metadata, NULL },
	{ "/Test/Denied", GRPC_UNARY, handle_denied, NULL },
	{ "/Test/Stream", GRPC_SERVER_STREAMING, handle_stream, NULL },
	{ "/Test/Forever", GRPC_SERVER_STREAMING, handle_forever, NULL },
};

static void on_server_error(int code, const char *detail, void *arg)
{
	(void)code;
	(void)arg;
	if (strstr(detail, "per-uid limit"))
		__atomic_add_fetch(&g.per_uid_reports, 1, __ATOMIC_SEQ_CST);
}

static void *loop_run(void *arg)
{
	(void)arg;
	event_base_loop(g.base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* Starts g.server on its own loop thread, listening on a socket with mode
 * in a fresh directory with mode dir_mode. */
static int start_server(const struct grpc_limits *limits, mode_t mode, mode_t dir_mode)
{
	struct wd_error err;

	evthread_use_pthreads();
	g.base = event_base_new();
	assert_non_null(g.base);
	snprintf(g.dir, sizeof(g.dir), "/tmp/grpc-test-XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	assert_int_equal(chmod(g.dir, dir_mode), 0);
	snprintf(g.path, sizeof(g.path), "%s/agent.sock", g.dir);
	assert_int_equal(grpc_server_new(g.base, limits, &g.server, &err), 0);
	assert_int_equal(grpc_server_add_methods(g.server, methods, WD_ARRAY_LEN(methods), &err),
		0);
	grpc_server_set_error_cb(g.server, on_server_error, NULL);
	assert_int_equal(grpc_server_listen_unix(g.server, g.path, mode, &err), 0);
	pthread_create(&g.thread, NULL, loop_run, NULL);
	return 0;
}

static int setup(void **state)
{
	struct grpc_limits limits = { .max_message_bytes = TEST_MAX_MESSAGE };

	(void)state;
	return start_server(&limits, 0600, 0700);
}

/* A server with a preface deadline of PREFACE_TIMEOUT_MS. */
static int setup_short_preface(void **state)
{
	struct grpc_limits limits = {
		.max_message_bytes = TEST_MAX_MESSAGE,
		.preface_timeout_ms = PREFACE_TIMEOUT_MS,
	};

	(void)state;
	return start_server(&limits, 0600, 0700);
}

/* A server with a per-uid ceiling of PER_UID_LIMIT, reachable by every uid. */
static int setup_per_uid(void **state)
{
	struct grpc_limits limits = {
		.max_message_bytes = TEST_MAX_MESSAGE,
		.max_connections_per_uid = PER_UID_LIMIT,
	};

	(void)state;
	__atomic_store_n(&g.per_uid_reports, 0, __ATOMIC_SEQ_CST);
	return start_server(&limits, 0666, 0755);
}

static void free_server(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	grpc_call_unref(g.held);
	g.held = NULL;
	grpc_server_free(g.server);
	g.server = NULL;
	event_base_loopbreak(g.base);
}

static int teardown(void **state)
{
	(void)state;
	event_base_once(g.base, -1, EV_TIMEOUT, free_server, NULL, NULL);
	pthread_join(g.thread, NULL);
	event_base_free(g.base);
	rmdir(g.dir);
	return 0;
}

static struct grpc_client *connect_client(void)
{
	struct grpc_limits limits = { .max_message_bytes = (size_t)1 << 20 };
	struct grpc_client *client = NULL;
	struct wd_error err;

	assert_int_equal(grpc_client_connect_unix(g.path, &limits, 5000, &client, &err), 0);
	return client;
}

static void wait_for_cancelled(int expected)
{
	for (int i = 0; i < 200 && atomic_get(&g.cancelled_calls) < expected; i++)
		usleep(10000);
	assert_true(atomic_get(&g.cancelled_calls) >= expected);
}

static const struct grpc_metadata workload_md[] = { { "workload.spiffe.io", "true" } };

static void test_grpc_socket_mode(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(stat(g.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_grpc_listen_rejects_regular_file(void **state)
{
	char path[160];
	struct wd_error err;
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/data", g.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("keep", f);
	fclose(f);
	assert_int_equal(grpc_server_listen_unix(g.server, path, 0600, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "is not a socket"));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
}

static void test_grpc_c_unary_echo(void **state)
{
	static const uint8_t request[] = { 0, 'h', 'i', 0xff, 0 };
	struct grpc_client *client = connect_client();
	struct grpc_call_status status;
	struct wd_error err;
	uint8_t *reply = NULL;
	size_t reply_len = 0;

	(void)state;
	assert_int_equal(grpc_client_unary(client, "/Test/Echo", NULL, 0, request,
		sizeof(request), 5000, &reply, &reply_len, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_OK);
	assert_string_equal(status.message, "");
	assert_int_equal(reply_len, sizeof(request));
	assert_memory_equal(reply, request, sizeof(request));
	free(reply);

	/* An empty message, on the same connection. */
	assert_int_equal(grpc_client_unary(client, "/Test/Echo", NULL, 0, NULL, 0, 5000, &reply,
		&reply_len, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_OK);
	assert_non_null(reply);
	assert_int_equal(reply_len, 0);
	free(reply);
	grpc_client_free(client);
}

static void test_grpc_c_metadata(void **state)
{
	static const struct grpc_metadata twice[] = {
		{ "workload.spiffe.io", "true" }, { "workload.spiffe.io", "true" } };
	static const struct grpc_metadata wrong[] = { { "workload.spiffe.io", "True" } };
	struct grpc_client *client = connect_client();
	struct grpc_call_status status;
	struct wd_error err;
	uint8_t *reply = NULL;
	size_t reply_len = 0;
	char expected[32];

	(void)state;
	assert_int_equal(grpc_client_unary(client, "/Test/Metadata", NULL, 0, "x", 1, 5000,
		&reply, &reply_len, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_INVALID_ARGUMENT);
	assert_string_equal(status.message, "security header workload.spiffe.io: true is missing");
	assert_null(reply);

	assert_int_equal(grpc_client_unary(client, "/Test/Metadata", twice, 2, "x", 1, 5000,
		&reply, &reply_len, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_INVALID_ARGUMENT);
	assert_int_equal(grpc_client_unary(client, "/Test/Metadata", wrong, 1, "x", 1, 5000,
		&reply, &reply_len, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_INVALID_ARGUMENT);

	assert_int_equal(grpc_client_unary(client, "/Test/Metadata", workload_md, 1, "x", 1, 5000,
		&reply, &reply_len, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_OK);
	snprintf(expected, sizeof(expected), "uid=%u pid=%d", (unsigned)getuid(), (int)getpid());
	assert_int_equal(reply_len, strlen(expected));
	assert_memory_equal(reply, expected, reply_len);
	free(reply);
	grpc_client_free(client);
}

static void test_grpc_c_status_codes(void **state)
{
	struct grpc_client *client = connect_client();
	struct grpc_call_status status;
	struct wd_error err;
	uint8_t *reply = NULL;
	size_t reply_len = 0;

	(void)state;
	assert_int_equal(grpc_client_unary(client, "/Test/Denied", NULL, 0, "x", 1, 5000, &reply,
		&reply_len, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_PERMISSION_DENIED);
	assert_string_equal(status.message, "no identity for this caller: 100% denied\n");
	assert_null(reply);

	assert_int_equal(grpc_client_unary(client, "/Test/Nope", NULL, 0, "x", 1, 5000, &reply,
		&reply_len, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_UNIMPLEMENTED);
	assert_string_equal(status.message, "unknown method /Test/Nope");
	grpc_client_free(client);
}

static void test_grpc_c_oversized_request(void **state)
{
	size_t len = TEST_MAX_MESSAGE + 1;
	uint8_t *big = calloc(1, len);
	struct grpc_client *client = connect_client();
	struct grpc_call_status status;
	struct wd_error err;
	uint8_t *reply = NULL;
	size_t reply_len = 0;
	char expected[128];

	(void)state;
	assert_non_null(big);
	assert_int_equal(grpc_client_unary(client, "/Test/Echo", NULL, 0, big, len, 5000, &reply,
		&reply_len, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_RESOURCE_EXHAUSTED);
	snprintf(expected, sizeof(expected), "request message of %zu bytes is larger than the "
		"limit of %u bytes", len, TEST_MAX_MESSAGE);
	assert_string_equal(status.message, expected);

	/* The connection still serves the next call. */
	assert_int_equal(grpc_client_unary(client, "/Test/Echo", NULL, 0, "ok", 2, 5000, &reply,
		&reply_len, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_OK);
	free(reply);
	free(big);
	grpc_client_free(client);
}

struct received {
	int count;
	char messages[STREAM_MESSAGES][16];
	int cancel_after; /* 0: never */
};

static int on_message(const uint8_t *bytes, size_t len, void *arg)
{
	struct received *r = arg;

	if (r->count < STREAM_MESSAGES && len < sizeof(r->messages[0])) {
		memcpy(r->messages[r->count], bytes, len);
		r->messages[r->count][len] = '\0';
	}
	r->count++;
	if (r->cancel_after && r->count == r->cancel_after)
		return WD_ECONFLICT;
	return 0;
}

static uint64_t elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)((now.tv_sec - start->tv_sec) * 1000 +
		(now.tv_nsec - start->tv_nsec) / 1000000);
}

static void test_grpc_c_stream(void **state)
{
	struct grpc_client *client = connect_client();
	struct grpc_call_status status;
	struct received r = { 0 };
	struct wd_error err;
	struct timespec start;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(grpc_client_stream(client, "/Test/Stream", NULL, 0, NULL, 0, 5000,
		on_message, &r, &status, &err), 0);
	assert_int_equal(status.code, GRPC_STATUS_OK);
	assert_int_equal(r.count, STREAM_MESSAGES);
	assert_string_equal(r.messages[0], "msg-0");
	assert_string_equal(r.messages[1], "msg-1");
	assert_string_equal(r.messages[2], "msg-2");
	assert_true(elapsed_ms(&start) >= (STREAM_MESSAGES) * STREAM_INTERVAL_MS - 20);
	grpc_client_free(client);
}

static void test_grpc_c_cancel_fires_close_cb(void **state)
{
	struct grpc_client *client = connect_client();
	struct grpc_call_status status;
	struct received r = { .cancel_after = 1 };
	int before = atomic_get(&g.cancelled_calls);
	struct wd_error err;

	(void)state;
	__atomic_store_n(&g.held_send_rc, 0, __ATOMIC_SEQ_CST);
	assert_int_equal(grpc_client_stream(client, "/Test/Forever", NULL, 0, NULL, 0, 5000,
		on_message, &r, &status, &err), WD_ECONFLICT);
	assert_int_equal(r.count, 1);
	wait_for_cancelled(before + 1);
	/* The held call was closed under its holder; a send reports WD_EIO. */
	assert_int_equal(atomic_get(&g.held_send_rc), WD_EIO);
	grpc_client_free(client);
}

static void test_grpc_c_timeout(void **state)
{
	struct grpc_client *client = connect_client();
	struct grpc_call_status status;
	struct received r = { 0 };
	struct wd_error err;

	(void)state;
	assert_int_equal(grpc_client_stream(client, "/Test/Forever", NULL, 0, NULL, 0, 300,
		on_message, &r, &status, &err), WD_ETIMEOUT);
	assert_int_equal(r.count, 1);
	grpc_client_free(client);
}

static void *write_cancel_later(void *arg)
{
	int *fd = arg;

	usleep(200 * 1000);
	if (eventfd_write(*fd, 1) < 0)
		fprintf(stderr, "eventfd_write failed\n");
	return NULL;
}

/* A stream that would run for the whole 5 s ends once the cancel
 * descriptor is written from another thread. */
static void test_grpc_c_cancel_fd(void **state)
{
	struct grpc_client *client = connect_client();
	struct grpc_call_status status;
	struct received r = { 0 };
	struct timespec start;
	struct wd_error err;
	pthread_t writer;
	int fd = eventfd(0, EFD_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	grpc_client_set_cancel_fd(client, fd);
	assert_int_equal(pthread_create(&writer, NULL, write_cancel_later, &fd), 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(grpc_client_stream(client, "/Test/Forever", NULL, 0, NULL, 0, 5000,
		on_message, &r, &status, &err), WD_EUNAVAILABLE);
	assert_string_equal(wd_error_text(&err), "gRPC call cancelled by the caller");
	assert_int_equal(r.count, 1);
	assert_true(elapsed_ms(&start) < 2000);
	pthread_join(writer, NULL);
	grpc_client_free(client);
	close(fd);
}

static void *concurrent_call(void *arg)
{
	struct received *r = arg;
	struct grpc_limits limits = { 0 };
	struct grpc_client *client = NULL;
	struct grpc_call_status status;
	struct wd_error err;

	if (grpc_client_connect_unix(g.path, &limits, 5000, &client, &err) < 0)
		return NULL;
	if (grpc_client_stream(client, "/Test/Stream", NULL, 0, NULL, 0, 10000, on_message, r,
		    &status, &err) < 0 || status.code != GRPC_STATUS_OK)
		r->count = -1;
	grpc_client_free(client);
	return NULL;
}

static void test_grpc_c_concurrent_streams(void **state)
{
	pthread_t threads[CONCURRENT_CALLS];
	struct received results[CONCURRENT_CALLS];

	(void)state;
	memset(results, 0, sizeof(results));
	for (int i = 0; i < CONCURRENT_CALLS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, concurrent_call, &results[i]), 0);
	for (int i = 0; i < CONCURRENT_CALLS; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < CONCURRENT_CALLS; i++) {
		assert_int_equal(results[i].count, STREAM_MESSAGES);
		assert_string_equal(results[i].messages[2], "msg-2");
	}
}

/* Runs against the server from Python's grpcio; prints "ok" when every
 * check passed. */
static const char python_peer[] =
	"import os, sys, threading\n"
	"try:\n"
	"    import grpc\n"
	"except ImportError as e:\n"
	"    print('skip: cannot import grpc: %s' % e)\n"
	"    sys.exit(77)\n"
	"ch = grpc.insecure_channel('unix:' + sys.argv[1])\n"
	"def rpc(kind, name):\n"
	"    return getattr(ch, kind)(name, request_serializer=None, response_deserializer=None)\n"
	"def expect_error(fn, code, details, **kw):\n"
	"    try:\n"
	"        fn(**kw)\n"
	"    except grpc.RpcError as e:\n"
	"        assert e.code() == code, (e.code(), e.details())\n"
	"        assert e.details() == details, repr(e.details())\n"
	"        return\n"
	"    raise AssertionError('no error from %s' % fn)\n"
	"echo = rpc('unary_unary', '/Test/Echo')\n"
	"assert echo(b'\\x00hello\\xff', timeout=5) == b'\\x00hello\\xff'\n"
	"assert echo(b'', timeout=5) == b''\n"
	"meta = rpc('unary_unary', '/Test/Metadata')\n"
	"expect_error(lambda: meta(b'x', timeout=5), grpc.StatusCode.INVALID_ARGUMENT,\n"
	"    'security header workload.spiffe.io: true is missing')\n"
	"got = meta(b'x', metadata=[('workload.spiffe.io', 'true')], timeout=5)\n"
	"assert got == ('uid=%d pid=%d' % (os.getuid(), os.getpid())).encode(), got\n"
	"expect_error(lambda: rpc('unary_unary', '/Test/Denied')(b'x', timeout=5),\n"
	"    grpc.StatusCode.PERMISSION_DENIED, 'no identity for this caller: 100% denied\\n')\n"
	"expect_error(lambda: rpc('unary_unary', '/Test/Nope')(b'x', timeout=5),\n"
	"    grpc.StatusCode.UNIMPLEMENTED, 'unknown method /Test/Nope')\n"
	"expect_error(lambda: echo(b'a' * 65537, timeout=5), grpc.StatusCode.RESOURCE_EXHAUSTED,\n"
	"    'request message of 65537 bytes is larger than the limit of 65536 bytes')\n"
	"stream = rpc('unary_stream', '/Test/Stream')\n"
	"assert list(stream(b'', timeout=5)) == [b'msg-0', b'msg-1', b'msg-2']\n"
	"results = [None] * 20\n"
	"def run(i):\n"
	"    results[i] = list(stream(b'', timeout=10))\n"
	"threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]\n"
	"for t in threads: t.start()\n"
	"for t in threads: t.join()\n"
	"assert all(r == [b'msg-0', b'msg-1', b'msg-2'] for r in results), results\n"
	"forever = rpc('unary_stream', '/Test/Forever')(b'', timeout=10)\n"
	"assert next(forever) == b'first'\n"
	"forever.cancel()\n"
	"ch.close()\n"
	"print('ok')\n";

static void test_grpc_python_peer(void **state)
{
	int before = atomic_get(&g.cancelled_calls);
	char output[4096];
	size_t used = 0;
	int fds[2];
	pid_t pid;
	int wstatus;

	(void)state;
	if (access("/usr/bin/python3", X_OK) != 0) {
		printf("skip: /usr/bin/python3 is not installed\n");
		skip();
	}
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		execl("/usr/bin/python3", "python3", "-c", python_peer, g.path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t got = read(fds[0], output + used, sizeof(output) - 1 - used);

		if (got <= 0)
			break;
		used += (size_t)got;
		if (used == sizeof(output) - 1)
			break;
	}
	output[used] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	if (WEXITSTATUS(wstatus) == 77) {
		printf("%s", output);
		skip();
	}
	if (WEXITSTATUS(wstatus) != 0)
		fail_msg("python grpcio peer failed:\n%s", output);
	assert_non_null(strstr(output, "ok\n"));
	wait_for_cancelled(before + 1);
}

/* Connects a plain Unix socket to the server; sends nothing. */
static int raw_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(g.path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, g.path, strlen(g.path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

/* Reads from fd until the server closes it. Returns the bytes read before
 * EOF, or -1 when timeout_ms passed first or reading failed. */
static ssize_t read_until_eof(int fd, int timeout_ms)
{
	struct timespec start;
	ssize_t total = 0;
	uint8_t buf[1024];

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = timeout_ms - (int)elapsed_ms(&start);
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return total;
		if (n < 0)
			return -1;
		total += n;
	}
}

/* Returns true when the server accepted fd: its SETTINGS frame (type 4)
 * arrives first. */
static bool server_sent_settings(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t header[9];
	size_t got = 0;

	while (got < sizeof(header)) {
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0)
			return false;
		n = read(fd, header + got, sizeof(header) - got);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return header[3] == 4;
}

static void test_grpc_silent_connection_closed(void **state)
{
	struct timespec start;
	int fd;
	ssize_t bytes;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &start);
	fd = raw_connect();
	bytes = read_until_eof(fd, 10 * PREFACE_TIMEOUT_MS);
	close(fd);
	/* The server's SETTINGS and GOAWAY, then EOF. */
	assert_true(bytes > 0);
	assert_true(elapsed_ms(&start) >= PREFACE_TIMEOUT_MS - 50);
}

static void test_grpc_per_uid_limit(void **state)
{
	int fds[PER_UID_LIMIT];
	pid_t child;
	int status;

	(void)state;
	if (geteuid() != 0)
		skip();
	for (size_t i = 0; i < PER_UID_LIMIT; i++) {
		fds[i] = raw_connect();
		assert_true(server_sent_settings(fds[i]));
	}

	/* Further connections of this uid are closed without a byte sent. */
	for (int i = 0; i < 5; i++) {
		int extra = raw_connect();

		assert_int_equal(read_until_eof(extra, 5000), 0);
		close(extra);
	}
	/* Five rejections in quick succession give one report, or two when
	 * a second passes between them. */
	assert_true(__atomic_load_n(&g.per_uid_reports, __ATOMIC_SEQ_CST) >= 1);
	assert_true(__atomic_load_n(&g.per_uid_reports, __ATOMIC_SEQ_CST) <= 2);

	/* Another uid still gets in. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fd;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		fd = raw_connect();
		_exit(server_sent_settings(fd) ? 0 : 1);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	for (size_t i = 0; i < PER_UID_LIMIT; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grpc_socket_mode),
		cmocka_unit_test(test_grpc_listen_rejects_regular_file),
		cmocka_unit_test(test_grpc_c_unary_echo),
		cmocka_unit_test(test_grpc_c_metadata),
		cmocka_unit_test(test_grpc_c_status_codes),
		cmocka_unit_test(test_grpc_c_oversized_request),
		cmocka_unit_test(test_grpc_c_stream),
		cmocka_unit_test(test_grpc_c_cancel_fires_close_cb),
		cmocka_unit_test(test_grpc_c_timeout),
		cmocka_unit_test(test_grpc_c_cancel_fd),
		cmocka_unit_test(test_grpc_c_concurrent_streams),
		cmocka_unit_test(test_grpc_python_peer),
	};
	const struct CMUnitTest limit_tests[] = {
		cmocka_unit_test_setup_teardown(test_grpc_silent_connection_closed,
			setup_short_preface, teardown),
		cmocka_unit_test_setup_teardown(test_grpc_per_uid_limit, setup_per_uid, teardown),
	};
	int failed = cmocka_run_group_tests(tests, setup, teardown);

	return failed + cmocka_run_group_tests_name("connection limits", limit_tests, NULL, NULL);
}
