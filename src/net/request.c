/* Request accessors and the replies handlers send: JSON, JSON errors and
 * raw bytes. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "common/alloc.h"
#include "net/net_private.h"

static STACK_OF(X509) *peer_chain_of(struct evhttp_request *ev)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *leaf;

	if (!ssl)
		return NULL;
	leaf = SSL_get0_peer_certificate(ssl);
	if (!leaf || SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	/* The verified chain runs from the leaf to the trust anchor. */
	return SSL_get0_verified_chain(ssl);
}

static int body_copy(struct net_request *req, struct evhttp_request *ev, size_t max_body)
{
	struct evbuffer *input = evhttp_request_get_input_buffer(ev);
	size_t len = input ? evbuffer_get_length(input) : 0;

	if (len > max_body)
		return WD_ETOOBIG;
	req->body = malloc(len + 1);
	if (!req->body)
		return WD_ENOMEM;
	if (len > 0 && evbuffer_copyout(input, req->body, len) != (ev_ssize_t)len)
		return WD_EIO;
	req->body[len] = '\0';
	req->body_len = len;
	return 0;
}

/* Decodes one query string component ('+' is a space); NULL when memory
 * runs out or the text decodes to a NUL byte. */
static char *query_component(const char *text, size_t len)
{
	char *raw = wd_strndup(text, len);
	char *decoded;
	size_t decoded_len = 0;

	if (!raw)
		return NULL;
	decoded = evhttp_uridecode(raw, 1, &decoded_len);
	free(raw);
	if (decoded && strlen(decoded) != decoded_len) {
		free(decoded);
		return NULL;
	}
	return decoded;
}

/* Splits a query string into name/value pairs. Unlike libevent's parser, a
 * name without '=' is accepted with an empty value, because OPA's clients
 * send flags such as ?pretty and ?strict-builtin-errors that way. */
static int query_parse(const char *query, struct evkeyvalq *out)
{
	const char *p = query;

	while (*p) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		char *name = NULL;
		char *value = NULL;
		int rc = 0;

		if (len > 0) {
			name = query_component(p, eq ? (size_t)(eq - p) : len);
			value = eq ? query_component(eq + 1, len - (size_t)(eq + 1 - p))
				   : wd_strdup("");
			if (!name || !value || name[0] == '\0')
				rc = WD_EINVAL;
			else if (evhttp_add_header(out, name, value) < 0)
				rc = WD_EINVAL;
		}
		free(name);
		free(value);
		WD_TRY(rc);
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

int request_init(struct net_request *req, struct evhttp_request *ev,
	struct net_listener *listener, struct conn_track *track, struct wd_error *err)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	size_t path_len = 0;
	int rc;

	memset(req, 0, sizeof(*req));
	TAILQ_INIT(&req->query);
	req->ev = ev;
	req->listener = listener;
	req->track = track;
	req->method = router_method_name(evhttp_request_get_command(ev));

	if (!raw_path || raw_path[0] == '\0')
		raw_path = "/";
	req->route_path = router_path_normalize(raw_path);
	req->path = evhttp_uridecode(raw_path, 0, &path_len);
	if (!req->path || !req->route_path)
		return wd_error_set(err, WD_ENOMEM, "out of memory decoding the path");
	if (strlen(req->path) != path_len)
		return wd_error_set(err, WD_EINVAL, "request path contains an encoded NUL byte");

	if (query) {
		if (query_parse(query, &req->query) < 0)
			return wd_error_set(err, WD_EINVAL, "malformed query string");
		req->query_parsed = true;
	}

	rc = body_copy(req, ev, listener->server->limits.max_body_bytes);
	if (rc == WD_ETOOBIG)
		return wd_error_set(err, rc, "request body is larger than %zu bytes",
			listener->server->limits.max_body_bytes);
	if (rc < 0)
		return wd_error_set(err, rc, "cannot read the request body");

	if (listener->kind == LISTENER_TLS)
		req->peer_chain = peer_chain_of(ev);
	return 0;
}

void request_release(struct net_request *req)
{
	for (size_t i = 0; i < req->param_count; i++)
		free(req->params[i].value);
	req->param_count = 0;
	evhttp_clear_headers(&req->query);
	free(req->path);
	req->path = NULL;
	free(req->route_path);
	req->route_path = NULL;
	free(req->body);
	req->body = NULL;
}

struct net_request *net_request_defer(struct net_request *req)
{
	struct net_server *server = req->listener->server;
	struct net_request *kept = malloc(sizeof(*kept));

	if (!kept || req->deferred || req->replied) {
		free(kept);
		return NULL;
	}
	*kept = *req;
	TAILQ_INIT(&kept->query);
	TAILQ_CONCAT(&kept->query, &req->query, next);
	for (size_t i = 0; i < req->param_count; i++)
		req->params[i].value = NULL;
	req->param_count = 0;
	req->path = NULL;
	req->route_path = NULL;
	req->body = NULL;
	req->body_len = 0;
	req->deferred = true;

	kept->deferred = true;
	kept->deferred_prev = NULL;
	kept->deferred_next = server->deferred;
	if (server->deferred)
		server->deferred->deferred_prev = kept;
	server->deferred = kept;
	return kept;
}

void net_request_finish(struct net_request *req)
{
	struct net_server *server = req->listener->server;

	if (!req->replied)
		request_reply_error_close(req, WD_EINTERNAL, "handler sent no reply");
	if (req->deferred_prev)
		req->deferred_prev->deferred_next = req->deferred_next;
	else
		server->deferred = req->deferred_next;
	if (req->deferred_next)
		req->deferred_next->deferred_prev = req->deferred_prev;
	request_release(req);
	free(req);
}

const char *net_request_method(const struct net_request *req)
{
	return req->method;
}

const char *net_request_path(const struct net_request *req)
{
	return req->path;
}

const char *net_request_param(const struct net_request *req, const char *name)
{
	for (size_t i = 0; i < req->param_count; i++) {
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	}
	return NULL;
}

const char *net_request_query(const struct net_request *req, const char *name)
{
	return evhttp_find_header(&req->query, name);
}

const char *net_request_header(const struct net_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

const uint8_t *net_request_body(const struct net_request *req, size_t *ret_len)
{
	*ret_len = req->body_len;
	return req->body;
}

STACK_OF(X509) *net_request_peer_chain(const struct net_request *req)
{
	return req->peer_chain;
}

int net_request_peer_address(const struct net_request *req, char *out, size_t len)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req->ev);
	char *address = NULL;
	ev_uint16_t port = 0;
	size_t address_len;

	if (len > 0)
		out[0] = '\0';
	if (req->listener->kind != LISTENER_TLS || !evcon)
		return WD_ENOTFOUND;
	/* libevent stores the address getnameinfo printed with NI_NUMERICHOST
	 * at accept. */
	evhttp_connection_get_peer(evcon, &address, &port);
	if (!address || address[0] == '\0')
		return WD_ENOTFOUND;
	address_len = strlen(address);
	if (address_len >= len)
		return WD_ETOOBIG;
	memcpy(out, address, address_len + 1);
	return 0;
}

int net_request_peer_cred(const struct net_request *req, uid_t *ret_uid, gid_t *ret_gid,
	pid_t *ret_pid)
{
	*ret_uid = (uid_t)-1;
	*ret_gid = (gid_t)-1;
	*ret_pid = 0;
	if (req->listener->kind != LISTENER_UNIX || !req->track || !req->track->has_cred)
		return WD_ENOTFOUND;
	*ret_uid = req->track->uid;
	*ret_gid = req->track->gid;
	*ret_pid = req->track->pid;
	return 0;
}

static bool header_text_valid(const char *text)
{
	return text && !strpbrk(text, "\r\n");
}

int net_reply_add_header(struct net_request *req, const char *name, const char *value)
{
	if (!header_text_valid(name) || !header_text_valid(value) || name[0] == '\0')
		return WD_EINVAL;
	if (evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value) < 0)
		return WD_EINVAL;
	return 0;
}

/* Max plaintext of one TLS record (RFC 8446 section 5.1). */
#define TLS_RECORD_MAX 16384u

/* Joins the start of a TLS connection's pending output into one evbuffer
 * chain. evhttp_send_reply leaves the response head and body in separate
 * chains, and libevent 2.1's OpenSSL bufferevent calls SSL_write once per
 * chain, so a small response would leave as two TLS records and two TCP
 * segments. Plain sockets need nothing: libevent writes their chains with
 * one writev. */
static void tls_output_join(struct bufferevent *bev)
{
	struct evbuffer *output;
	size_t len;

	if (!bev || !bufferevent_openssl_get_ssl(bev))
		return;
	output = bufferevent_get_output(bev);
	len = evbuffer_get_length(output);
	if (len > TLS_RECORD_MAX)
		len = TLS_RECORD_MAX;
	/* Only a failed allocation makes the pullup fail, and then the output
	 * still goes out, in more than one record. */
	(void)evbuffer_pullup(output, (ev_ssize_t)len);
}

static int reply_bytes(struct evhttp_request *ev, int status, const char *content_type,
	const void *bytes, size_t len)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	struct evbuffer *buf = evbuffer_new();

	if (!buf)
		return WD_ENOMEM;
	if (len > 0 && evbuffer_add(buf, bytes, len) < 0) {
		evbuffer_free(buf);
		return WD_ENOMEM;
	}
	evhttp_add_header(evhttp_request_get_output_headers(ev), "Content-Type", content_type);
	/* Responses carry identities and secrets, so no cache may keep them. */
	evhttp_add_header(evhttp_request_get_output_headers(ev), "Cache-Control", "no-store");
	/* evhttp_send_reply only queues the response; the event loop writes it
	 * later, so joining the queued output afterwards is in time. ev may be
	 * freed by the call, bev lives as long as the connection. */
	evhttp_send_reply(ev, status, NULL, buf);
	tls_output_join(bev);
	evbuffer_free(buf);
	return 0;
}

static int reply_checked(struct net_request *req, int status, const char *content_type,
	const void *bytes, size_t len)
{
	int rc;

	if (req->replied)
		return WD_EINVAL;
	if (status < 100 || status > 599 || !header_text_valid(content_type))
		return WD_EINVAL;
	rc = reply_bytes(req->ev, status, content_type, bytes, len);
	if (rc == 0)
		req->replied = true;
	return rc;
}

int net_reply_text(struct net_request *req, int status, const char *content_type,
	const void *bytes, size_t len)
{
	if (!bytes && len > 0)
		return WD_EINVAL;
	return reply_checked(req, status, content_type, bytes, len);
}

int net_reply_json(struct net_request *req, int status, const json_t *body)
{
	char *text;
	int rc;

	if (!body)
		return WD_EINVAL;
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!text)
		return WD_ENOMEM;
	rc = reply_checked(req, status, "application/json", text, strlen(text));
	free(text);
	return rc;
}

static char *error_body(int code, const char *detail)
{
	json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", wd_error_name(code),
		"message", detail ? detail : wd_strerror(code));
	char *text;

	if (!body)
		return NULL;
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(body);
	return text;
}

void reply_error_raw(struct evhttp_request *ev, int status, int code, const char *detail,
	bool close)
{
	char *text = error_body(code, detail);
	static const char fallback[] = "{\"error\":{\"code\":\"ENOMEM\",\"message\":"
		"\"out of memory\"}}";

	if (close)
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Connection", "close");
	if (!text) {
		(void)reply_bytes(ev, 503, "application/json", fallback, sizeof(fallback) - 1);
		return;
	}
	if (reply_bytes(ev, status, "application/json", text, strlen(text)) < 0)
		evhttp_send_error(ev, 503, NULL);
	free(text);
}

int net_reply_error(struct net_request *req, int code, const char *detail)
{
	char *text;
	int rc;

	if (code >= 0)
		code = WD_EINTERNAL;
	text = error_body(code, detail);
	if (!text)
		return WD_ENOMEM;
	rc = reply_checked(req, wd_error_http_status(code), "application/json", text,
		strlen(text));
	free(text);
	return rc;
}

void request_reply_error_close(struct net_request *req, int code, const char *detail)
{
	if (req->replied)
		return;
	req->replied = true;
	reply_error_raw(req->ev, wd_error_http_status(code), code, detail, true);
}
