/* Tests of the TLS listener with real peers: the net client and, when
 * installed, the curl binary, against a server on an event loop thread. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "net/net.h"
#include "net/net_client.h"
#include "net/net_json.h"
#include "net_test_pki.h"

/* Short timeouts so the timeout tests run in about a second. */
#define TEST_READ_TIMEOUT_MS 2000u
#define TEST_IDLE_TIMEOUT_MS 700u
#define TEST_MAX_BODY 4096u

static struct {
	struct test_cert ca;
	struct test_cert other_ca;
	struct test_cert server1;
	struct test_cert server2;
	struct test_cert client;
	struct test_cert rogue;
	char *client_chain_pem;
	char *rogue_chain_pem;
	struct test_loop loop;
	struct net_server *server;
	struct net_listener *required;
	uint16_t port_required;
	uint16_t port_optional;
	uint16_t port_none;
	char dir[64];
	bool have_curl;
} g;

static void cn_of(X509 *cert, char *out, size_t len)
{
	out[0] = '\0';
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, (int)len);
}

static int handle_get_entry(struct net_request *req, void *arg, struct wd_error *err)
{
	json_t *body = json_pack("{s:s,s:s?}", "id", net_request_param(req, "id"), "q",
		net_request_query(req, "q"));
	int rc;

	(void)arg;
	(void)err;
	rc = net_reply_json(req, 200, body);
	json_decref(body);
	return rc;
}

static int handle_put_entry(struct net_request *req, void *arg, struct wd_error *err)
{
	(void)arg;
	(void)err;
	return net_reply_text(req, 204, "text/plain", NULL, 0);
}

static int handle_echo(struct net_request *req, void *arg, struct wd_error *err)
{
	static const char *const fields[] = { "name", "count" };
	const uint8_t *data;
	size_t len;
	json_t *obj = NULL;
	json_t *reply;
	const char *name;
	int64_t count;
	int rc;

	(void)arg;
	data = net_request_body(req, &len);
	rc = net_json_parse_object(data, len, 0, &obj, err);
	if (rc == 0)
		rc = net_json_check_fields(obj, fields, 2, err);
	if (rc == 0)
		rc = net_json_get_string(obj, "name", true, 32, &name, err);
	if (rc >= 0)
		rc = net_json_get_int(obj, "count", false, 0, 10, &count, err);
	if (rc < 0) {
		json_decref(obj);
		return rc;
	}
	reply = json_pack("{s:s,s:I}", "name", name, "count", (json_int_t)count);
	rc = net_reply_json(req, 200, reply);
	json_decref(reply);
	json_decref(obj);
	return rc;
}

/* Spans three TLS records of 16384 bytes. */
#define LARGE_BODY_LEN 40000u

static uint8_t large_body_byte(size_t i)
{
	return (uint8_t)('a' + i % 26);
}

static int handle_large(struct net_request *req, void *arg, struct wd_error *err)
{
	uint8_t *body = malloc(LARGE_BODY_LEN);
	int rc;

	(void)arg;
	(void)err;
	if (!body)
		return WD_ENOMEM;
	for (size_t i = 0; i < LARGE_BODY_LEN; i++)
		body[i] = large_body_byte(i);
	rc = net_reply_text(req, 200, "text/plain", body, LARGE_BODY_LEN);
	free(body);
	return rc;
}

static int handle_peer(struct net_request *req, void *arg, struct wd_error *err)
{
	STACK_OF(X509) *chain = net_request_peer_chain(req);
	char cn[128];
	json_t *body;
	int rc;

	(void)arg;
	(void)err;
	if (chain)
		cn_of(sk_X509_value(chain, 0), cn, sizeof(cn));
	body = json_pack("{s:s?,s:i}", "cn", chain ? cn : NULL, "depth",
		chain ? sk_X509_num(chain) : 0);
	rc = net_reply_json(req, 200, body);
	json_decref(body);
	return rc;
}

static const struct net_route routes[] = {
	{ "GET", "/v1/entries/{id}", handle_get_entry, NULL, NET_AUTH_NONE, false },
	{ "PUT", "/v1/entries/{id}", handle_put_entry, NULL, NET_AUTH_NONE, false },
	{ "POST", "/v1/echo", handle_echo, NULL, NET_AUTH_NONE, false },
	{ "GET", "/v1/peer", handle_peer, NULL, NET_AUTH_NONE, false },
	{ "GET", "/v1/large", handle_large, NULL, NET_AUTH_NONE, false },
	{ "GET", "/v1/whoami", handle_peer, NULL, NET_AUTH_CLIENT_CERT, false },
};

static struct net_tls_config tls_config(const struct test_cert *server_cert,
	enum net_client_cert policy)
{
	static X509 *anchors[1];
	struct net_tls_config tls = {
		.cert_chain_pem = server_cert->pem,
		.cert_chain_len = strlen(server_cert->pem),
		.key = server_cert->key,
		.trust_anchors = anchors,
		.trust_anchor_count = 1,
		.client_cert = policy,
	};

	anchors[0] = g.ca.cert;
	return tls;
}

static uint16_t add_listener(enum net_client_cert policy, struct net_listener **ret_listener)
{
	struct net_tls_config tls = tls_config(&g.server1, policy);
	struct wd_error err;
	uint16_t port = 0;

	wd_error_clear(&err);
	assert_int_equal(net_listener_add_tls(g.server, "127.0.0.1:0", &tls, routes,
		WD_ARRAY_LEN(routes), ret_listener, &port, &err), 0);
	assert_true(port > 0);
	return port;
}

static int group_setup(void **state)
{
	const char *san = "IP:127.0.0.1,DNS:localhost";
	struct net_limits limits = {
		.max_body_bytes = TEST_MAX_BODY,
		.read_timeout_ms = TEST_READ_TIMEOUT_MS,
		.idle_timeout_ms = TEST_IDLE_TIMEOUT_MS,
	};
	struct wd_error err;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	test_cert_make(&g.ca, "test ca", NULL, true, NULL);
	test_cert_make(&g.other_ca, "other ca", NULL, true, NULL);
	test_cert_make(&g.server1, "server-1", &g.ca, false, san);
	test_cert_make(&g.server2, "server-2", &g.ca, false, san);
	test_cert_make(&g.client, "client", &g.ca, false, "URI:spiffe://example.org/client");
	test_cert_make(&g.rogue, "rogue", &g.other_ca, false, NULL);
	g.client_chain_pem = test_pem_of(g.client.cert, NULL);
	g.rogue_chain_pem = test_pem_of(g.rogue.cert, NULL);

	test_loop_init(&g.loop);
	wd_error_clear(&err);
	assert_int_equal(net_server_new(g.loop.base, &limits, &g.server, &err), 0);
	g.port_required = add_listener(NET_CLIENT_CERT_REQUIRED, &g.required);
	g.port_optional = add_listener(NET_CLIENT_CERT_OPTIONAL, NULL);
	g.port_none = add_listener(NET_CLIENT_CERT_NONE, NULL);
	test_loop_start(&g.loop);

	snprintf(g.dir, sizeof(g.dir), "/tmp/test_net_server.XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	g.have_curl = system("curl --version >/dev/null 2>&1") == 0;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	test_loop_stop(&g.loop);
	net_server_free(g.server);
	/* Freeing the server closes its connections through deferred
	 * callbacks; one more pass of the loop runs them, so their TLS state is
	 * freed before the base. */
	event_base_loop(g.loop.base, EVLOOP_NONBLOCK);
	event_base_loop(g.loop.base, EVLOOP_NONBLOCK);
	event_base_free(g.loop.base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", g.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", g.dir);
	free(g.client_chain_pem);
	free(g.rogue_chain_pem);
	test_cert_free(&g.ca);
	test_cert_free(&g.other_ca);
	test_cert_free(&g.server1);
	test_cert_free(&g.server2);
	test_cert_free(&g.client);
	test_cert_free(&g.rogue);
	return 0;
}

enum client_identity { AS_NOBODY, AS_CLIENT, AS_ROGUE };

static int client_open(uint16_t port, enum client_identity who, struct net_client **ret_client,
	struct wd_error *err)
{
	X509 *anchors[1] = { g.ca.cert };
	struct net_client_config config = {
		.host = "127.0.0.1",
		.port = port,
		.trust_anchors = anchors,
		.trust_anchor_count = 1,
		.timeout_ms = 5000,
	};

	if (who == AS_CLIENT) {
		config.cert_chain_pem = g.client_chain_pem;
		config.cert_chain_len = strlen(g.client_chain_pem);
		config.key = g.client.key;
	} else if (who == AS_ROGUE) {
		config.cert_chain_pem = g.rogue_chain_pem;
		config.cert_chain_len = strlen(g.rogue_chain_pem);
		config.key = g.rogue.key;
	}
	wd_error_clear(err);
	return net_client_connect(&config, ret_client, err);
}

/* Sends one request on a new connection and returns the response. */
static struct net_response *fetch(uint16_t port, enum client_identity who, const char *method,
	const char *path, const char *body)
{
	struct net_client *client = NULL;
	struct net_response *resp = NULL;
	struct wd_error err;

	assert_int_equal(client_open(port, who, &client, &err), 0);
	assert_int_equal(net_client_request(client, method, path, NULL, 0,
		body ? "application/json" : NULL, body, body ? strlen(body) : 0, &resp, &err), 0);
	net_client_free(client);
	return resp;
}

static void expect_response(struct net_response *resp, int status, const char *body)
{
	assert_non_null(resp);
	assert_int_equal(resp->status, status);
	assert_string_equal((const char *)resp->body, body);
	net_response_free(resp);
}

static void route_param_json(void **state)
{
	struct net_response *resp;

	(void)state;
	resp = fetch(g.port_required, AS_CLIENT, "GET", "/v1/entries/ab%2Fc%20d?q=x", NULL);
	assert_string_equal(net_response_header(resp, "Content-Type"), "application/json");
	assert_string_equal(net_response_header(resp, "Cache-Control"), "no-store");
	expect_response(resp, 200, "{\"id\":\"ab/c d\",\"q\":\"x\"}");
	expect_response(fetch(g.port_none, AS_NOBODY, "GET", "/v1/entries/7", NULL), 200,
		"{\"id\":\"7\",\"q\":null}");

	/* A flag without '=' (OPA clients send ?pretty) reads as empty, and
	 * '+' and escapes decode in values. */
	expect_response(fetch(g.port_none, AS_NOBODY, "GET", "/v1/entries/7?pretty&q=a+b%21",
		NULL), 200, "{\"id\":\"7\",\"q\":\"a b!\"}");
	expect_response(fetch(g.port_none, AS_NOBODY, "GET", "/v1/entries/7?q", NULL), 200,
		"{\"id\":\"7\",\"q\":\"\"}");
	expect_response(fetch(g.port_none, AS_NOBODY, "GET", "/v1/entries/7?q=%00", NULL), 400,
		"{\"error\":{\"code\":\"EINVAL\",\"message\":\"malformed query string\"}}");
}

static void unknown_path_404(void **state)
{
	(void)state;
	expect_response(fetch(g.port_none, AS_NOBODY, "GET", "/v1/nope", NULL), 404,
		"{\"error\":{\"code\":\"ENOTFOUND\",\"message\":\"no route for /v1/nope\"}}");
	expect_response(fetch(g.port_none, AS_NOBODY, "GET", "/v1/entries/", NULL), 404,
		"{\"error\":{\"code\":\"ENOTFOUND\",\"message\":\"no route for /v1/entries/\"}}");
	expect_response(fetch(g.port_none, AS_NOBODY, "GET", "/v1/entries/a/b", NULL), 404,
		"{\"error\":{\"code\":\"ENOTFOUND\",\"message\":\"no route for /v1/entries/a/b\"}}");
}

static void wrong_method_405_allow(void **state)
{
	struct net_response *resp;

	(void)state;
	resp = fetch(g.port_none, AS_NOBODY, "DELETE", "/v1/entries/x", NULL);
	assert_string_equal(net_response_header(resp, "Allow"), "GET, PUT");
	expect_response(resp, 405, "{\"error\":{\"code\":\"EINVAL\",\"message\":\"method DELETE "
		"is not allowed on /v1/entries/x; allowed: GET, PUT\"}}");
}

static void body_over_limit_413(void **state)
{
	char *body = malloc(TEST_MAX_BODY + 100);
	struct net_response *resp;

	(void)state;
	memset(body, 'a', TEST_MAX_BODY + 99);
	body[TEST_MAX_BODY + 99] = '\0';
	resp = fetch(g.port_none, AS_NOBODY, "POST", "/v1/echo", body);
	assert_int_equal(resp->status, 413);
	net_response_free(resp);
	free(body);
}

static void too_many_headers_431(void **state)
{
	const char *headers[150];
	char storage[150][32];
	struct net_client *client = NULL;
	struct net_response *resp = NULL;
	struct wd_error err;

	(void)state;
	for (int i = 0; i < 150; i++) {
		snprintf(storage[i], sizeof(storage[i]), "X-Test-%d: %d", i, i);
		headers[i] = storage[i];
	}
	assert_int_equal(client_open(g.port_none, AS_NOBODY, &client, &err), 0);
	assert_int_equal(net_client_request(client, "GET", "/v1/entries/1", headers, 150, NULL,
		NULL, 0, &resp, &err), 0);
	expect_response(resp, 431, "{\"error\":{\"code\":\"ETOOBIG\",\"message\":\"request has "
		"more than 100 headers\"}}");
	assert_false(net_client_is_open(client));
	net_client_free(client);
}

static void invalid_json_400(void **state)
{
	(void)state;
	expect_response(fetch(g.port_none, AS_NOBODY, "POST", "/v1/echo", "{\"name\":}"), 400,
		"{\"error\":{\"code\":\"EINVAL\",\"message\":\"invalid JSON at line 1 column 9: "
		"unexpected token near '}'\"}}");
	expect_response(fetch(g.port_none, AS_NOBODY, "POST", "/v1/echo", "{\"nmae\":\"a\"}"),
		400, "{\"error\":{\"code\":\"EINVAL\",\"message\":\"unknown field \\\"nmae\\\"\"}}");
	expect_response(fetch(g.port_none, AS_NOBODY, "POST", "/v1/echo",
		"{\"name\":\"a\",\"count\":11}"), 400, "{\"error\":{\"code\":\"EINVAL\","
		"\"message\":\"field \\\"count\\\" is 11, outside 0 to 10\"}}");
	expect_response(fetch(g.port_none, AS_NOBODY, "POST", "/v1/echo",
		"{\"name\":\"a\",\"count\":3}"), 200, "{\"count\":3,\"name\":\"a\"}");
}

/* A request over a connection the server must reject fails somewhere: at
 * the handshake, or (TLS 1.3 checks the client certificate after the
 * client's Finished) at the first read. */
static void expect_rejected(uint16_t port, enum client_identity who)
{
	struct net_client *client = NULL;
	struct net_response *resp = NULL;
	struct wd_error err;
	int rc = client_open(port, who, &client, &err);

	if (rc == 0) {
		rc = net_client_request(client, "GET", "/v1/peer", NULL, 0, NULL, NULL, 0, &resp,
			&err);
		net_client_free(client);
	}
	assert_true(rc < 0);
	assert_null(resp);
}

static void required_policy(void **state)
{
	(void)state;
	expect_rejected(g.port_required, AS_NOBODY);
	expect_rejected(g.port_required, AS_ROGUE);
	expect_response(fetch(g.port_required, AS_CLIENT, "GET", "/v1/whoami", NULL), 200,
		"{\"cn\":\"client\",\"depth\":2}");
}

static void optional_policy(void **state)
{
	(void)state;
	expect_response(fetch(g.port_optional, AS_CLIENT, "GET", "/v1/peer", NULL), 200,
		"{\"cn\":\"client\",\"depth\":2}");
	expect_response(fetch(g.port_optional, AS_NOBODY, "GET", "/v1/peer", NULL), 200,
		"{\"cn\":null,\"depth\":0}");
	expect_response(fetch(g.port_optional, AS_NOBODY, "GET", "/v1/whoami", NULL), 401,
		"{\"error\":{\"code\":\"EAUTH\",\"message\":\"/v1/whoami requires a client "
		"certificate\"}}");
	expect_rejected(g.port_optional, AS_ROGUE);
}

static void none_policy_sends_no_request(void **state)
{
	(void)state;
	/* The client has a certificate but sends it only when asked. */
	expect_response(fetch(g.port_none, AS_CLIENT, "GET", "/v1/peer", NULL), 200,
		"{\"cn\":null,\"depth\":0}");
}

static void tls11_refused(void **state)
{
	X509 *anchors[1] = { g.ca.cert };
	struct net_client_config config = {
		.host = "127.0.0.1",
		.port = g.port_none,
		.trust_anchors = anchors,
		.trust_anchor_count = 1,
		.tls_min_version = TLS1_1_VERSION,
		.tls_max_version = TLS1_1_VERSION,
	};
	struct net_client *client = NULL;
	struct wd_error err;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(net_client_connect(&config, &client, &err), WD_ECRYPTO);
	assert_null(client);
	assert_non_null(strstr(err.detail, "TLS handshake with 127.0.0.1 failed"));
}

static void update_tls_swaps_certificate(void **state)
{
	struct net_tls_config tls = tls_config(&g.server2, NET_CLIENT_CERT_REQUIRED);
	struct net_tls_config bad = tls_config(&g.server2, NET_CLIENT_CERT_REQUIRED);
	struct net_client *old_conn = NULL;
	struct net_client *new_conn = NULL;
	struct net_response *resp = NULL;
	struct wd_error err;
	char cn[64];

	(void)state;
	assert_int_equal(client_open(g.port_required, AS_CLIENT, &old_conn, &err), 0);
	cn_of(net_client_peer_cert(old_conn), cn, sizeof(cn));
	assert_string_equal(cn, "server-1");
	assert_int_equal(net_client_request(old_conn, "GET", "/v1/peer", NULL, 0, NULL, NULL, 0,
		&resp, &err), 0);
	expect_response(resp, 200, "{\"cn\":\"client\",\"depth\":2}");

	/* A key that does not match leaves the old context in place. */
	bad.key = g.server1.key;
	assert_int_equal(net_listener_update_tls(g.required, &bad, &err), WD_ECRYPTO);
	assert_int_equal(net_listener_update_tls(g.required, &tls, &err), 0);

	assert_int_equal(client_open(g.port_required, AS_CLIENT, &new_conn, &err), 0);
	cn_of(net_client_peer_cert(new_conn), cn, sizeof(cn));
	assert_string_equal(cn, "server-2");

	/* The keep-alive connection from before the swap still works. */
	assert_int_equal(net_client_request(old_conn, "GET", "/v1/entries/k", NULL, 0, NULL,
		NULL, 0, &resp, &err), 0);
	expect_response(resp, 200, "{\"id\":\"k\",\"q\":null}");
	net_client_free(old_conn);
	net_client_free(new_conn);

	tls = tls_config(&g.server1, NET_CLIENT_CERT_REQUIRED);
	assert_int_equal(net_listener_update_tls(g.required, &tls, &err), 0);
}

static void idle_timeout_closes(void **state)
{
	struct net_client *client = NULL;
	struct net_response *resp = NULL;
	struct wd_error err;

	(void)state;
	assert_int_equal(client_open(g.port_none, AS_NOBODY, &client, &err), 0);
	assert_int_equal(net_client_request(client, "GET", "/v1/entries/1", NULL, 0, NULL, NULL,
		0, &resp, &err), 0);
	expect_response(resp, 200, "{\"id\":\"1\",\"q\":null}");

	/* Within the idle timeout the connection is reused. */
	usleep(TEST_IDLE_TIMEOUT_MS * 1000 / 3);
	assert_int_equal(net_client_request(client, "GET", "/v1/entries/2", NULL, 0, NULL, NULL,
		0, &resp, &err), 0);
	expect_response(resp, 200, "{\"id\":\"2\",\"q\":null}");

	usleep(TEST_IDLE_TIMEOUT_MS * 1000 * 2);
	assert_int_equal(net_client_request(client, "GET", "/v1/entries/3", NULL, 0, NULL, NULL,
		0, &resp, &err), WD_EIO);
	assert_null(resp);
	net_client_free(client);
}

static bool same_inet_address(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_family == AF_INET && b->sin_family == AF_INET &&
	       a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* Finds, among this process's open descriptors, the IPv4 TCP socket whose
 * local or peer address (by want_local) equals address; -1 when none. */
static int socket_with_address(const struct sockaddr_in *address, bool want_local)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	int found = -1;

	assert_non_null(dir);
	while (found < 0 && (entry = readdir(dir)) != NULL) {
		struct sockaddr_in local, peer;
		socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
		int fd = (int)strtol(entry->d_name, NULL, 10);

		if (entry->d_name[0] == '.' || fd == dirfd(dir))
			continue;
		if (getsockname(fd, (struct sockaddr *)&local, &local_len) < 0 ||
		    getpeername(fd, (struct sockaddr *)&peer, &peer_len) < 0)
			continue;
		if (same_inet_address(want_local ? &local : &peer, address))
			found = fd;
	}
	closedir(dir);
	return found;
}

static int nodelay_of(int fd)
{
	int value = -1;
	socklen_t len = sizeof(value);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &len), 0);
	return value;
}

/* Both ends of a TLS connection run without Nagle's algorithm. The server
 * runs in this process, so its accepted socket is found among our own
 * descriptors: it is the one whose peer is the client's local address. */
static void tcp_nodelay_both_ends(void **state)
{
	struct sockaddr_in server_address = { .sin_family = AF_INET,
		.sin_port = htons(g.port_none), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in client_address;
	socklen_t len = sizeof(client_address);
	struct net_client *client = NULL;
	struct net_response *resp = NULL;
	struct wd_error err;
	int client_fd;
	int accepted_fd;

	(void)state;
	assert_int_equal(client_open(g.port_none, AS_NOBODY, &client, &err), 0);
	assert_int_equal(net_client_request(client, "GET", "/v1/entries/7", NULL, 0, NULL, NULL,
		0, &resp, &err), 0);
	expect_response(resp, 200, "{\"id\":\"7\",\"q\":null}");

	client_fd = socket_with_address(&server_address, false);
	assert_true(client_fd >= 0);
	assert_int_equal(nodelay_of(client_fd), 1);
	assert_int_equal(getsockname(client_fd, (struct sockaddr *)&client_address, &len), 0);
	accepted_fd = socket_with_address(&client_address, false);
	assert_true(accepted_fd >= 0);
	assert_true(accepted_fd != client_fd);
	assert_int_equal(nodelay_of(accepted_fd), 1);
	net_client_free(client);
}

/* A response of several TLS records still arrives whole after the server
 * joins the start of its output into one chain. */
static void large_response_intact(void **state)
{
	struct net_response *resp;

	(void)state;
	resp = fetch(g.port_none, AS_NOBODY, "GET", "/v1/large", NULL);
	assert_non_null(resp);
	assert_int_equal(resp->status, 200);
	assert_int_equal(resp->body_len, LARGE_BODY_LEN);
	for (size_t i = 0; i < LARGE_BODY_LEN; i++) {
		if (resp->body[i] != large_body_byte(i))
			fail_msg("body byte %zu is 0x%02x, expected 0x%02x", i, resp->body[i],
				large_body_byte(i));
	}
	net_response_free(resp);
}

/* Runs curl and returns its exit status; the status code and headers go
 * to files in g.dir. */
static int curl_run(uint16_t port, bool with_cert, const char *extra, const char *path,
	int *ret_http_code, char *headers, size_t headers_len)
{
	char *ca = test_write_file(g.dir, "ca.pem", g.ca.pem);
	char *cert = test_write_file(g.dir, "client.pem", g.client_chain_pem);
	char *key_pem = test_key_pem(g.client.key);
	char *key = test_write_file(g.dir, "client.key", key_pem);
	char cmd[2048];
	char out_path[128];
	FILE *f;
	int status;

	snprintf(cmd, sizeof(cmd), "curl -s -o %s/body -D %s/headers -w '%%{http_code}' "
		"--max-time 10 --cacert %s %s%s%s%s %s 'https://localhost:%u%s' > %s/code "
		"2>/dev/null", g.dir, g.dir, ca, with_cert ? "--cert " : "", with_cert ? cert : "",
		with_cert ? " --key " : "", with_cert ? key : "", extra, (unsigned)port, path,
		g.dir);
	status = system(cmd);
	free(ca);
	free(cert);
	free(key);
	free(key_pem);

	*ret_http_code = 0;
	snprintf(out_path, sizeof(out_path), "%s/code", g.dir);
	f = fopen(out_path, "r");
	if (f) {
		if (fscanf(f, "%d", ret_http_code) != 1)
			*ret_http_code = 0;
		fclose(f);
	}
	if (headers) {
		size_t n = 0;

		snprintf(out_path, sizeof(out_path), "%s/headers", g.dir);
		f = fopen(out_path, "r");
		if (f) {
			n = fread(headers, 1, headers_len - 1, f);
			fclose(f);
		}
		headers[n] = '\0';
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void curl_interop(void **state)
{
	char headers[4096];
	int code;

	(void)state;
	if (!g.have_curl) {
		printf("skipped: curl is not installed\n");
		skip();
	}
	assert_int_equal(curl_run(g.port_required, true, "", "/v1/entries/c1?q=z", &code, NULL,
		0), 0);
	assert_int_equal(code, 200);
	assert_int_equal(curl_run(g.port_required, true, "", "/v1/nope", &code, NULL, 0), 0);
	assert_int_equal(code, 404);
	assert_int_equal(curl_run(g.port_required, true, "-X DELETE", "/v1/entries/x", &code,
		headers, sizeof(headers)), 0);
	assert_int_equal(code, 405);
	assert_non_null(strstr(headers, "Allow: GET, PUT\r\n"));
	assert_int_equal(curl_run(g.port_required, true, "", "/v1/whoami", &code, NULL, 0), 0);
	assert_int_equal(code, 200);

	/* Without a client certificate the REQUIRED listener fails the
	 * handshake, so curl reports a TLS error and no status. */
	assert_true(curl_run(g.port_required, false, "", "/v1/peer", &code, NULL, 0) != 0);
	assert_int_equal(code, 0);
	assert_int_equal(curl_run(g.port_optional, false, "", "/v1/peer", &code, NULL, 0), 0);
	assert_int_equal(code, 200);
	assert_true(curl_run(g.port_none, false, "--tlsv1.1 --tls-max 1.1 --ciphers "
		"DEFAULT@SECLEVEL=0", "/v1/peer", &code, NULL, 0) != 0);
	assert_int_equal(code, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(route_param_json),
		cmocka_unit_test(unknown_path_404),
		cmocka_unit_test(wrong_method_405_allow),
		cmocka_unit_test(body_over_limit_413),
		cmocka_unit_test(too_many_headers_431),
		cmocka_unit_test(invalid_json_400),
		cmocka_unit_test(required_policy),
		cmocka_unit_test(optional_policy),
		cmocka_unit_test(none_policy_sends_no_request),
		cmocka_unit_test(tls11_refused),
		cmocka_unit_test(update_tls_swaps_certificate),
		cmocka_unit_test(idle_timeout_closes),
		cmocka_unit_test(curl_interop),
		cmocka_unit_test(tcp_nodelay_both_ends),
		cmocka_unit_test(large_response_intact),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
