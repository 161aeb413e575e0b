/* Unit tests for the admin client: socket resolution, exit codes and error
 * messages, against a fake server on a Unix socket in a temporary
 * directory that replays canned responses. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/admin_client.h"
#include "cli/cli_args.h"

#define MAX_EXCHANGES 4

/* A server that accepts one connection per canned response, in order,
 * replies with that response and keeps each request it read. */
struct fake_server {
	char dir[64];
	char path[100];
	int listen_fd;
	pthread_t thread;
	/* Each response is a status ("200 OK") and a body. */
	const char *responses[MAX_EXCHANGES][2];
	size_t count;
	char requests[MAX_EXCHANGES][4096];
};

/* Reads one request: the head, then Content-Length bytes of body. */
static void read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	const char *head_end = NULL;
	size_t body_len = 0;

	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (!head_end) {
			const char *length;

			head_end = strstr(buf, "\r\n\r\n");
			if (!head_end)
				continue;
			length = strcasestr(buf, "Content-Length:");
			if (length && length < head_end)
				body_len = strtoul(length + 15, NULL, 10);
		}
		if (len >= (size_t)(head_end + 4 - buf) + body_len)
			break;
	}
	buf[len] = '\0';
}

static void *serve(void *arg)
{
	struct fake_server *server = arg;

	for (size_t i = 0; i < server->count; i++) {
		int fd = accept(server->listen_fd, NULL, NULL);
		const char *body = server->responses[i][1];
		char head[256];
		int head_len;

		if (fd < 0)
			break;
		read_request(fd, server->requests[i], sizeof(server->requests[i]));
		head_len = snprintf(head, sizeof(head),
			"HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			server->responses[i][0], strlen(body));
		if (write(fd, head, (size_t)head_len) < 0 || write(fd, body, strlen(body)) < 0)
			perror("fake server write");
		close(fd);
	}
	return NULL;
}

static void server_start(struct fake_server *server, const char *const (*responses)[2],
	size_t count)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(server, 0, sizeof(*server));
	snprintf(server->dir, sizeof(server->dir), "/tmp/wd-cli-test.XXXXXX");
	assert_non_null(mkdtemp(server->dir));
	snprintf(server->path, sizeof(server->path), "%s/admin.sock", server->dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", server->path);

	server->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(server->listen_fd >= 0);
	assert_int_equal(bind(server->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(server->listen_fd, 4), 0);
	for (size_t i = 0; i < count; i++) {
		server->responses[i][0] = responses[i][0];
		server->responses[i][1] = responses[i][1];
	}
	server->count = count;
	assert_int_equal(pthread_create(&server->thread, NULL, serve, server), 0);
}

static void server_stop(struct fake_server *server)
{
	assert_int_equal(pthread_join(server->thread, NULL), 0);
	close(server->listen_fd);
	unlink(server->path);
	rmdir(server->dir);
}

static void socket_resolution_order(void **state)
{
	(void)state;
	assert_int_equal(unsetenv(ADMIN_SOCKET_ENV), 0);
	assert_string_equal(admin_socket_resolve(NULL), ADMIN_SOCKET_DEFAULT);
	assert_int_equal(setenv(ADMIN_SOCKET_ENV, "", 1), 0);
	assert_string_equal(admin_socket_resolve(NULL), ADMIN_SOCKET_DEFAULT);
	assert_int_equal(setenv(ADMIN_SOCKET_ENV, "/tmp/env.sock", 1), 0);
	assert_string_equal(admin_socket_resolve(NULL), "/tmp/env.sock");
	assert_string_equal(admin_socket_resolve("/tmp/flag.sock"), "/tmp/flag.sock");
	assert_int_equal(unsetenv(ADMIN_SOCKET_ENV), 0);
}

static void success_returns_json(void **state)
{
	static const char *const responses[][2] = {
		{ "201 Created", "{\"token\":\"s\"}" },
	};
	struct fake_server server;
	struct admin_reply reply;
	json_t *body = json_pack("{s:i}", "ttl", 600);

	(void)state;
	server_start(&server, responses, 1);
	assert_int_equal(admin_call(server.path, "POST", "/v1/tokens", body, &reply), CLI_EXIT_OK);
	server_stop(&server);

	assert_string_equal(json_string_value(json_object_get(reply.json, "token")), "s");
	assert_int_equal(reply.response->status, 201);
	assert_non_null(strstr(server.requests[0], "POST /v1/tokens HTTP/1.1\r\n"));
	assert_non_null(strstr(server.requests[0], "\r\n\r\n{\"ttl\":600}"));
	admin_reply_clear(&reply);
	assert_null(reply.json);
	assert_null(reply.response);
	json_decref(body);
}

static void error_status_fails(void **state)
{
	static const char *const responses[][2] = {
		{ "404 Not Found",
			"{\"error\":{\"code\":\"ENOTFOUND\",\"message\":\"entry x not found\"}}" },
	};
	struct fake_server server;
	struct admin_reply reply;

	(void)state;
	server_start(&server, responses, 1);
	assert_int_equal(admin_call(server.path, "GET", "/v1/entries/x", NULL, &reply),
		CLI_EXIT_FAILURE);
	server_stop(&server);
	assert_null(reply.response);
	assert_null(reply.json);
}

static void non_json_body(void **state)
{
	static const char *const responses[][2] = {
		{ "200 OK", "PEM\n" },
		{ "200 OK", "PEM\n" },
	};
	struct fake_server server;
	struct admin_reply reply;

	(void)state;
	server_start(&server, responses, 2);
	assert_int_equal(admin_call_raw(server.path, "GET", "/v1/crl", NULL, &reply), CLI_EXIT_OK);
	assert_string_equal((const char *)reply.response->body, "PEM\n");
	assert_null(reply.json);
	admin_reply_clear(&reply);
	assert_int_equal(admin_call(server.path, "GET", "/v1/crl", NULL, &reply),
		CLI_EXIT_FAILURE);
	server_stop(&server);
}

static void missing_server_fails(void **state)
{
	struct admin_reply reply;

	(void)state;
	assert_int_equal(admin_call(
		"/tmp/wd-cli-test-no-such-dir/admin.sock", "GET", "/v1/ca", NULL, &reply),
		CLI_EXIT_FAILURE);
	assert_null(reply.response);
}

static void pages_are_joined(void **state)
{
	static const char *const responses[][2] = {
		{ "200 OK", "{\"agents\":[{\"a\":1}],\"next_page_token\":\"t/1\"}" },
		{ "200 OK", "{\"agents\":[{\"a\":2}],\"next_page_token\":\"\"}" },
	};
	struct fake_server server;
	json_t *all = json_array();

	(void)state;
	server_start(&server, responses, 2);
	assert_int_equal(admin_call_pages(server.path, "/v1/agents", "agents", all), CLI_EXIT_OK);
	server_stop(&server);
	assert_int_equal(json_array_size(all), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(all, 1), "a")), 2);
	assert_non_null(strstr(server.requests[0], "GET /v1/agents HTTP/1.1\r\n"));
	assert_non_null(strstr(server.requests[1], "GET /v1/agents?page_token=t%2F1 HTTP/1.1\r\n"));
	json_decref(all);
}

static void repeated_page_token_stops(void **state)
{
	static const char *const responses[][2] = {
		{ "200 OK", "{\"agents\":[],\"next_page_token\":\"same\"}" },
		{ "200 OK", "{\"agents\":[],\"next_page_token\":\"same\"}" },
	};
	struct fake_server server;
	json_t *all = json_array();

	(void)state;
	server_start(&server, responses, 2);
	assert_int_equal(admin_call_pages(server.path, "/v1/agents", "agents", all),
		CLI_EXIT_FAILURE);
	server_stop(&server);
	json_decref(all);
}

/* Prints the error of a response built in memory and returns the text. */
static char *error_text(int status, const char *body)
{
	struct net_response response = {
		.status = status,
		.body = (uint8_t *)body,
		.body_len = strlen(body),
	};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	admin_print_error(&response, "GET", "/v1/x", out);
	fclose(out);
	return text;
}

static void error_messages(void **state)
{
	char *text;

	(void)state;
	text = error_text(400, "{\"error\":{\"code\":\"EINVAL\",\"message\":"
			       "\"invalid SPIFFE ID \\\"spiffe://Example.org/x\\\"\"}}");
	assert_string_equal(text, "warden: invalid SPIFFE ID \"spiffe://Example.org/x\"\n");
	free(text);

	text = error_text(502, "bad gateway");
	assert_string_equal(text, "warden: the server returned HTTP 502 for GET /v1/x: "
				  "bad gateway\n");
	free(text);

	text = error_text(404, "");
	assert_string_equal(text, "warden: the server returned HTTP 404 for GET /v1/x\n");
	free(text);

	/* Control characters from the server never reach the terminal. */
	text = error_text(400, "{\"error\":{\"message\":\"a\\u001b[2Jb\\nc\"}}");
	assert_string_equal(text, "warden: a?[2Jb?c\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(socket_resolution_order),
		cmocka_unit_test(success_returns_json),
		cmocka_unit_test(error_status_fails),
		cmocka_unit_test(non_json_body),
		cmocka_unit_test(missing_server_fails),
		cmocka_unit_test(pages_are_joined),
		cmocka_unit_test(repeated_page_token_stops),
		cmocka_unit_test(error_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
