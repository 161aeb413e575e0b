/* The gRPC layer of the server: the method table, request validation as
 * "gRPC over HTTP2" (grpc/doc/PROTOCOL-HTTP2.md) specifies it, dispatch to
 * handlers, and the call object handlers reply through. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "net/grpc_private.h"

/* grpc-message is cut to this many bytes before percent-encoding. */
#define STATUS_MESSAGE_MAX_BYTES 1024u

int grpc_server_new(struct event_base *base, const struct grpc_limits *limits,
	struct grpc_server **ret_server, struct wd_error *err)
{
	struct grpc_server *server;
	struct grpc_limits normalized;

	*ret_server = NULL;
	if (!base)
		return wd_error_set(err, WD_EINVAL, "gRPC server needs an event_base");
	WD_TRY(grpc_limits_normalize(limits, &normalized, err));
	server = wd_calloc(1, sizeof(*server));
	if (!server)
		return wd_error_set(err, WD_ENOMEM, "cannot allocate gRPC server");
	server->base = base;
	server->limits = normalized;
	TAILQ_INIT(&server->conns);
	*ret_server = server;
	return 0;
}

void grpc_server_set_error_cb(struct grpc_server *server, grpc_error_fn cb, void *arg)
{
	server->error_cb = cb;
	server->error_arg = arg;
}

void grpc_server_report(struct grpc_server *server, int code, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	if (!server->error_cb)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	server->error_cb(code, detail, server->error_arg);
}

static uint64_t monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

void grpc_server_report_reject(struct grpc_server *server, enum grpc_conn_reject cause,
	int code, const char *fmt, ...)
{
	struct grpc_reject_throttle *throttle = &server->rejects[cause];
	uint64_t now = monotonic_ms();
	char detail[400];
	va_list ap;

	if (throttle->last_report_ms != 0 && now - throttle->last_report_ms < 1000u) {
		throttle->unreported++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (throttle->unreported > 0)
		grpc_server_report(server, code, "%s (%zu more like it since the last report)",
			detail, throttle->unreported);
	else
		grpc_server_report(server, code, "%s", detail);
	throttle->last_report_ms = now ? now : 1;
	throttle->unreported = 0;
}

size_t grpc_server_connection_count(const struct grpc_server *server)
{
	return server->conn_count;
}

static const struct grpc_method *find_method(const struct grpc_server *server, const char *path)
{
	for (size_t i = 0; i < server->method_count; i++) {
		if (strcmp(server->methods[i].path, path) == 0)
			return &server->methods[i];
	}
	return NULL;
}

/* Accepts "/service/method" with non-empty parts of visible ASCII. */
static bool method_path_valid(const char *path)
{
	const char *slash;

	if (!path || path[0] != '/')
		return false;
	slash = strchr(path + 1, '/');
	if (!slash || slash == path + 1 || slash[1] == '\0' || strchr(slash + 1, '/'))
		return false;
	for (const char *p = path; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	}
	return true;
}

int grpc_server_add_methods(struct grpc_server *server, const struct grpc_method *methods,
	size_t method_count, struct wd_error *err)
{
	struct grpc_method *table;
	size_t total;
	size_t added = 0;
	int rc = 0;

	for (size_t i = 0; i < method_count; i++) {
		const struct grpc_method *m = &methods[i];

		if (!method_path_valid(m->path))
			return wd_error_set(err, WD_EINVAL, "gRPC method path \"%s\" is not of the "
				"form /service/method", m->path ? m->path : "");
		if (!m->handler)
			return wd_error_set(err, WD_EINVAL, "gRPC method %s has no handler", m->path);
		if (m->kind != GRPC_UNARY && m->kind != GRPC_SERVER_STREAMING)
			return wd_error_set(err, WD_EINVAL, "gRPC method %s has an unsupported kind %d",
				m->path, (int)m->kind);
		if (find_method(server, m->path))
			return wd_error_set(err, WD_EINVAL, "gRPC method %s is already added", m->path);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(methods[j].path, m->path) == 0)
				return wd_error_set(err, WD_EINVAL, "gRPC method %s is listed twice",
					m->path);
		}
	}

	if (__builtin_add_overflow(server->method_count, method_count, &total))
		return wd_error_set(err, WD_ENOMEM, "too many gRPC methods");
	table = wd_reallocarray(server->methods, total, sizeof(*table));
	if (!table)
		return wd_error_set(err, WD_ENOMEM, "cannot allocate gRPC method table");
	server->methods = table;
	for (; added < method_count; added++) {
		struct grpc_method *m = &table[server->method_count + added];

		*m = methods[added];
		m->path = wd_strdup(methods[added].path);
		WD_ENSURE(m->path, WD_ENOMEM);
	}
	server->method_count = total;
out:
	if (rc < 0) {
		for (size_t i = 0; i < added; i++)
			free((char *)table[server->method_count + i].path);
		wd_error_set(err, rc, "cannot allocate gRPC method table");
	}
	return rc;
}

void grpc_server_free(struct grpc_server *server)
{
	struct h2_conn *conn;

	if (!server)
		return;
	grpc_server_close_listeners(server);
	while ((conn = TAILQ_FIRST(&server->conns)) != NULL)
		h2_conn_free(conn);
	for (size_t i = 0; i < server->method_count; i++)
		free((char *)server->methods[i].path);
	free(server->methods);
	free(server);
}

/* Calls. */

struct grpc_call *grpc_call_new(struct h2_conn *conn, int32_t stream_id)
{
	struct grpc_call *call = wd_calloc(1, sizeof(*call));

	if (!call)
		return NULL;
	call->out = evbuffer_new();
	if (!call->out) {
		free(call);
		return NULL;
	}
	call->refs = 1;
	call->server = conn->server;
	call->conn = conn;
	call->stream_id = stream_id;
	call->http_status = 200;
	grpc_frame_parser_init(&call->parser, conn->server->limits.max_message_bytes);
	return call;
}

struct grpc_call *grpc_call_ref(struct grpc_call *call)
{
	call->refs++;
	return call;
}

void grpc_call_unref(struct grpc_call *call)
{
	if (!call || --call->refs > 0)
		return;
	for (size_t i = 0; i < call->header_count; i++) {
		free(call->headers[i].name);
		free(call->headers[i].value);
	}
	free(call->headers);
	free(call->path);
	free(call->request);
	free(call->status_message);
	grpc_frame_parser_free(&call->parser);
	evbuffer_free(call->out);
	free(call);
}

const uint8_t *grpc_call_request(const struct grpc_call *call, size_t *ret_len)
{
	*ret_len = call->request_len;
	return call->request ? call->request : (const uint8_t *)"";
}

const char *grpc_call_path(const struct grpc_call *call)
{
	return call->path ? call->path : "";
}

size_t grpc_call_metadata(const struct grpc_call *call, const char *key, const char **ret_first)
{
	size_t count = 0;

	if (ret_first)
		*ret_first = NULL;
	for (size_t i = 0; i < call->header_count; i++) {
		if (strcasecmp(call->headers[i].name, key) != 0)
			continue;
		if (count == 0 && ret_first)
			*ret_first = call->headers[i].value;
		count++;
	}
	return count;
}

int grpc_call_peer_cred(const struct grpc_call *call, uid_t *ret_uid, gid_t *ret_gid,
	pid_t *ret_pid)
{
	*ret_uid = (uid_t)-1;
	*ret_gid = (gid_t)-1;
	*ret_pid = 0;
	if (!call->has_cred)
		return WD_ENOTFOUND;
	*ret_uid = call->uid;
	*ret_gid = call->gid;
	*ret_pid = call->pid;
	return 0;
}

int grpc_call_peer_process(const struct grpc_call *call, struct grpc_peer_process *ret_process)
{
	memset(ret_process, 0, sizeof(*ret_process));
	if (!call->has_process)
		return WD_ENOTFOUND;
	*ret_process = call->process;
	return 0;
}

bool grpc_call_is_open(const struct grpc_call *call)
{
	return !call->closed;
}

void grpc_call_set_close_cb(struct grpc_call *call, grpc_close_fn cb, void *arg)
{
	call->close_cb = cb;
	call->close_arg = arg;
}

/* Starts the response with what the call queued, or wakes its data
 * provider when the response already started. */
static int submit_output(struct grpc_call *call)
{
	if (!call->response_submitted)
		return h2_call_submit(call);
	h2_call_resume(call);
	return 0;
}

int grpc_call_send_message(struct grpc_call *call, const void *bytes, size_t len)
{
	const struct grpc_limits *limits = &call->server->limits;
	uint8_t prefix[GRPC_FRAME_HEADER_LEN];
	struct evbuffer *framed;
	size_t queued = evbuffer_get_length(call->out);

	if (call->closed || !call->conn || call->conn->closing)
		return WD_EIO;
	if (call->finished || !call->dispatched || (len > 0 && !bytes))
		return WD_EINVAL;
	if (call->method->kind == GRPC_UNARY && call->message_count > 0)
		return WD_EINVAL;
	if (len > limits->max_message_bytes ||
	    len + GRPC_FRAME_HEADER_LEN > limits->max_send_queue_bytes - queued)
		return WD_ETOOBIG;

	WD_TRY(grpc_frame_write_header(prefix, len));
	framed = evbuffer_new();
	if (!framed || evbuffer_add(framed, prefix, sizeof(prefix)) != 0 ||
	    (len > 0 && evbuffer_add(framed, bytes, len) != 0) ||
	    evbuffer_add_buffer(call->out, framed) != 0) {
		if (framed)
			evbuffer_free(framed);
		return WD_ENOMEM;
	}
	evbuffer_free(framed);
	call->message_count++;
	return submit_output(call);
}

/* Records the status; the caller submits it. */
static int set_status(struct grpc_call *call, int status, const char *message)
{
	struct wd_buf encoded;
	int rc;

	wd_buf_init(&encoded, 64, STATUS_MESSAGE_MAX_BYTES * 3);
	rc = grpc_message_encode(message ? message : "", STATUS_MESSAGE_MAX_BYTES, &encoded);
	if (rc == 0 && wd_buf_len(&encoded) > 0) {
		call->status_message = wd_buf_take(&encoded, NULL);
		if (!call->status_message)
			rc = WD_ENOMEM;
	}
	wd_buf_free(&encoded);
	if (rc < 0)
		return rc;
	call->status = status;
	call->finished = true;
	return 0;
}

int grpc_call_finish(struct grpc_call *call, int status, const char *message)
{
	if (call->closed || !call->conn || call->conn->closing)
		return WD_EIO;
	if (call->finished || status < GRPC_STATUS_OK || status > GRPC_STATUS_UNAUTHENTICATED)
		return WD_EINVAL;
	WD_TRY(set_status(call, status, message));
	return submit_output(call);
}

/* Replies to a request that fails before its handler runs. When even that
 * fails (no memory), the stream is reset so the client is not left waiting. */
static void reject(struct grpc_call *call, int http_status, int status, const char *fmt, ...)
	WD_PRINTF(4, 5);

static void reject(struct grpc_call *call, int http_status, int status, const char *fmt, ...)
{
	char message[STATUS_MESSAGE_MAX_BYTES];
	va_list ap;

	if (call->finished || !call->conn)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	call->http_status = http_status;
	if (set_status(call, status, message) < 0 || submit_output(call) < 0)
		h2_call_reset(call, NGHTTP2_INTERNAL_ERROR);
}

int grpc_call_on_header(struct grpc_call *call, const uint8_t *name, size_t name_len,
	const uint8_t *value, size_t value_len)
{
	struct grpc_header *header;
	size_t limit = call->server->limits.max_header_list_bytes;

	/* RFC 7541 section 4.1: a field's size is its name and value plus 32. */
	call->header_list_bytes += name_len + value_len + 32;
	if (call->header_list_bytes > limit || call->reject != CALL_REJECT_NONE) {
		call->reject = CALL_REJECT_HEADERS_TOO_BIG;
		return 0;
	}

	if (call->header_count == call->header_cap) {
		size_t cap = call->header_cap ? call->header_cap * 2 : 16;
		struct grpc_header *grown = wd_reallocarray(call->headers, cap, sizeof(*grown));

		if (!grown)
			return WD_ENOMEM;
		call->headers = grown;
		call->header_cap = cap;
	}
	header = &call->headers[call->header_count];
	header->name = wd_strndup((const char *)name, name_len);
	header->value = wd_strndup((const char *)value, value_len);
	header->value_len = value_len;
	if (!header->name || !header->value) {
		free(header->name);
		free(header->value);
		return WD_ENOMEM;
	}
	call->header_count++;

	if (name_len == 5 && memcmp(name, ":path", 5) == 0 && !call->path) {
		call->path = wd_strndup((const char *)value, value_len);
		if (!call->path)
			return WD_ENOMEM;
	}
	return 0;
}

/* Accepts "application/grpc" alone or with a "+format" or ";parameters"
 * suffix. */
static bool content_type_valid(const char *value)
{
	static const char base[] = "application/grpc";
	size_t len = sizeof(base) - 1;

	if (!value || strncasecmp(value, base, len) != 0)
		return false;
	return value[len] == '\0' || value[len] == '+' || value[len] == ';';
}

void grpc_call_on_headers_done(struct grpc_call *call)
{
	const char *method = NULL;
	const char *content_type = NULL;
	const char *te = NULL;
	const char *encoding = NULL;

	if (call->reject == CALL_REJECT_HEADERS_TOO_BIG) {
		reject(call, 200, GRPC_STATUS_RESOURCE_EXHAUSTED, "request header list is larger "
			"than %u bytes", call->server->limits.max_header_list_bytes);
		return;
	}
	(void)grpc_call_metadata(call, ":method", &method);
	if (!method || strcmp(method, "POST") != 0) {
		reject(call, 405, GRPC_STATUS_UNIMPLEMENTED, "method %s is not allowed, gRPC "
			"uses POST", method ? method : "(none)");
		return;
	}
	(void)grpc_call_metadata(call, "content-type", &content_type);
	if (!content_type_valid(content_type)) {
		reject(call, 415, GRPC_STATUS_INTERNAL, "content-type %s is not application/grpc",
			content_type ? content_type : "(none)");
		return;
	}
	(void)grpc_call_metadata(call, "te", &te);
	if (!te || strcmp(te, "trailers") != 0) {
		reject(call, 200, GRPC_STATUS_INTERNAL, "missing te: trailers header");
		return;
	}
	(void)grpc_call_metadata(call, "grpc-encoding", &encoding);
	if (encoding && strcmp(encoding, "identity") != 0) {
		reject(call, 200, GRPC_STATUS_UNIMPLEMENTED, "grpc-encoding %s is not supported, "
			"only identity", encoding);
		return;
	}
	call->method = call->path ? find_method(call->server, call->path) : NULL;
	if (!call->method)
		reject(call, 200, GRPC_STATUS_UNIMPLEMENTED, "unknown method %s",
			call->path ? call->path : "(none)");
}

static int store_request(const uint8_t *message, size_t len, void *arg)
{
	struct grpc_call *call = arg;

	if (++call->request_count > 1)
		return WD_EINVAL;
	call->request = malloc(len ? len : 1);
	if (!call->request)
		return WD_ENOMEM;
	if (len > 0)
		memcpy(call->request, message, len);
	call->request_len = len;
	return 0;
}

/* Reads the announced length from the parser's completed prefix. */
static uint32_t announced_len(const struct grpc_call *call)
{
	const uint8_t *h = call->parser.header;

	return (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
}

void grpc_call_on_data(struct grpc_call *call, const uint8_t *data, size_t len)
{
	int rc;

	if (call->finished || call->dispatched || !call->method)
		return;
	rc = grpc_frame_parser_feed(&call->parser, data, len, store_request, call);
	if (rc == 0)
		return;
	switch (rc) {
	case WD_ETOOBIG:
		reject(call, 200, GRPC_STATUS_RESOURCE_EXHAUSTED, "request message of %u bytes is "
			"larger than the limit of %zu bytes", announced_len(call),
			call->server->limits.max_message_bytes);
		break;
	case WD_EUNSUPPORTED:
		reject(call, 200, GRPC_STATUS_INTERNAL, "request message has the compressed flag "
			"set, but no grpc-encoding was negotiated");
		break;
	case WD_EINVAL:
		if (call->request_count > 1)
			reject(call, 200, GRPC_STATUS_INTERNAL, "more than one request message for "
				"%s", call->path);
		else
			reject(call, 200, GRPC_STATUS_INTERNAL, "request message has an invalid "
				"compressed-flag byte 0x%02x", call->parser.header[0]);
		break;
	default:
		reject(call, 200, GRPC_STATUS_RESOURCE_EXHAUSTED, "cannot store request message: "
			"%s", wd_strerror(rc));
		break;
	}
}

void grpc_call_on_request_done(struct grpc_call *call)
{
	struct wd_error err;
	int rc;

	if (call->finished || call->dispatched || !call->method)
		return;
	if (grpc_frame_parser_finish(&call->parser) < 0) {
		reject(call, 200, GRPC_STATUS_INTERNAL, "request stream ended inside a message");
		return;
	}
	if (call->request_count == 0) {
		reject(call, 200, GRPC_STATUS_INTERNAL, "request for %s has no message",
			call->path);
		return;
	}

	/* TODO: honour the client's grpc-timeout with a server-side timer; now
	 * only the client enforces its deadline. */
	call->dispatched = true;
	call->has_cred = call->conn->has_cred;
	call->uid = call->conn->uid;
	call->gid = call->conn->gid;
	call->pid = call->conn->pid;
	call->has_process = call->conn->has_process;
	call->process = call->conn->process;
	wd_error_clear(&err);
	rc = call->method->handler(call, call->method->arg, &err);
	if (rc < 0 && !call->finished && !call->closed) {
		const char *detail = err.code == rc ? wd_error_text(&err) : wd_strerror(rc);

		if (set_status(call, grpc_status_from_error(rc), detail) < 0 ||
		    submit_output(call) < 0)
			h2_call_reset(call, NGHTTP2_INTERNAL_ERROR);
	}
}

void grpc_call_on_close(struct grpc_call *call, bool cancelled)
{
	call->closed = true;
	call->cancelled = cancelled;
	call->conn = NULL;
	if (call->close_cb)
		call->close_cb(call, cancelled, call->close_arg);
	grpc_call_unref(call);
}
