/* Tests of deferred replies: a handler keeps its request open and a later
 * callback on the loop replies, while other requests are served. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/net.h"
#include "net/net_client.h"
#include "net_test_pki.h"

#define LATER_DELAY_MS 300

static struct {
	struct test_loop loop;
	struct net_server *server;
	char dir[64];
	char path[100];
	struct net_request *never; /* deferred and left open */
} g;

struct later {
	struct net_request *req;
	struct event *timer;
};

static void later_cb(evutil_socket_t fd, short events, void *arg)
{
	struct later *later = arg;
	json_t *body = json_pack("{s:s}", "reply", "later");

	(void)fd;
	(void)events;
	if (net_reply_json(later->req, 200, body) < 0)
		fprintf(stderr, "deferred reply failed\n");
	json_decref(body);
	net_request_finish(later->req);
	event_free(later->timer);
	free(later);
}

static int handle_later(struct net_request *req, void *arg, struct wd_error *err)
{
	struct later *later = calloc(1, sizeof(*later));
	struct timeval delay = { 0, LATER_DELAY_MS * 1000 };

	(void)arg;
	if (!later)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	later->req = net_request_defer(req);
	later->timer = evtimer_new(g.loop.base, later_cb, later);
	if (!later->req || !later->timer || evtimer_add(later->timer, &delay) < 0)
		abort();
	return 0;
}

static int handle_never(struct net_request *req, void *arg, struct wd_error *err)
{
	(void)arg;
	(void)err;
	g.never = net_request_defer(req);
	return g.never ? 0 : WD_ENOMEM;
}

static int handle_now(struct net_request *req, void *arg, struct wd_error *err)
{
	(void)arg;
	(void)err;
	return net_reply_text(req, 200, "text/plain", "now", 3);
}

static const struct net_route routes[] = {
	{ "GET", "/v1/later", handle_later, NULL, NET_AUTH_UNIX, false },
	{ "GET", "/v1/never", handle_never, NULL, NET_AUTH_UNIX, false },
	{ "GET", "/v1/now", handle_now, NULL, NET_AUTH_UNIX, false },
};

static int setup(void **state)
{
	struct wd_error err;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(g.dir, sizeof(g.dir), "/tmp/test_net_defer.XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	snprintf(g.path, sizeof(g.path), "%s/admin.sock", g.dir);
	test_loop_init(&g.loop);
	wd_error_clear(&err);
	assert_int_equal(net_server_new(g.loop.base, NULL, &g.server, &err), 0);
	assert_int_equal(net_listener_add_unix(g.server, g.path, 0600, NULL, 0, routes,
		WD_ARRAY_LEN(routes), NULL, &err), 0);
	test_loop_start(&g.loop);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_loop_stop(&g.loop);
	/* Frees the request left open by handle_never. */
	net_server_free(g.server);
	event_base_free(g.loop.base);
	rmdir(g.dir);
	return 0;
}

struct reply {
	int status;
	char body[64];
};

static void *get(void *arg)
{
	const char *path = arg;
	struct net_client_config config = { .unix_path = g.path, .timeout_ms = 5000 };
	struct net_client *client = NULL;
	struct net_response *resp = NULL;
	struct reply *reply = calloc(1, sizeof(*reply));
	struct wd_error err;

	wd_error_clear(&err);
	reply->status = net_client_connect(&config, &client, &err);
	if (reply->status == 0)
		reply->status = net_client_request(client, "GET", path, NULL, 0, NULL, NULL, 0,
			&resp, &err);
	if (reply->status == 0) {
		reply->status = resp->status;
		snprintf(reply->body, sizeof(reply->body), "%.*s", (int)resp->body_len,
			(const char *)resp->body);
	}
	net_response_free(resp);
	net_client_free(client);
	return reply;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void deferred_reply_arrives(void **state)
{
	struct reply *reply;

	(void)state;
	reply = get("/v1/later");
	assert_int_equal(reply->status, 200);
	assert_string_equal(reply->body, "{\"reply\":\"later\"}");
	free(reply);
}

static void others_served_while_pending(void **state)
{
	pthread_t waiting;
	struct reply *later, *now;
	double start, now_done;

	(void)state;
	start = now_ms();
	assert_int_equal(pthread_create(&waiting, NULL, get, "/v1/later"), 0);
	usleep(50 * 1000);
	now = get("/v1/now");
	now_done = now_ms();
	assert_int_equal(pthread_join(waiting, (void **)&later), 0);

	assert_int_equal(now->status, 200);
	assert_string_equal(now->body, "now");
	/* Served before the deferred reply, which comes after LATER_DELAY_MS. */
	assert_true(now_done - start < LATER_DELAY_MS);
	assert_int_equal(later->status, 200);
	free(now);
	free(later);
}

static void open_request_freed_with_server(void **state)
{
	static const char request[] = "GET /v1/never HTTP/1.1\r\nHost: x\r\n\r\n";
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd;

	(void)state;
	/* Sends the request without waiting for a reply that never comes;
	 * teardown frees the server with the request still open. */
	snprintf(address.sun_path, sizeof(address.sun_path), "%s", g.path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&address, sizeof(address)), 0);
	assert_int_equal(write(fd, request, sizeof(request) - 1), (ssize_t)(sizeof(request) - 1));
	for (int i = 0; i < 100 && !__atomic_load_n(&g.never, __ATOMIC_SEQ_CST); i++)
		usleep(10 * 1000);
	assert_non_null(__atomic_load_n(&g.never, __ATOMIC_SEQ_CST));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deferred_reply_arrives),
		cmocka_unit_test(others_served_while_pending),
		cmocka_unit_test(open_request_freed_with_server),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
