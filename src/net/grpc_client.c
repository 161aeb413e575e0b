/* A blocking gRPC client over one HTTP/2 connection on a Unix socket: one
 * call at a time, unary or server-streaming, driven by poll(2). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "net/grpc_private.h"

#define CLIENT_READ_BYTES 16384u

struct grpc_client {
	int fd;
	int cancel_fd;  /* readable: the call in progress is cancelled; -1: none */
	nghttp2_session *session;
	struct grpc_limits limits;
	bool broken; /* the connection failed; every later call fails at once */
};

/* State of the call in progress. */
struct client_call {
	struct grpc_client *client;
	int32_t stream_id;
	struct grpc_frame_parser parser;
	grpc_message_fn on_message; /* NULL for a unary call */
	void *arg;
	uint8_t *reply;
	size_t reply_len;
	size_t reply_count;
	int callback_rc;
	int http_status;
	bool have_status;
	struct grpc_call_status status;
	bool closed;
	uint32_t close_error;
	int protocol_rc; /* a reply the client cannot accept */
	struct wd_error *err;

	/* The request body: prefix and message. */
	uint8_t *body;
	size_t body_len;
	size_t body_pos;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Returns the poll timeout until deadline (0: none): -1 for none, else the
 * milliseconds left, at least 0. */
static int poll_timeout(uint64_t deadline)
{
	uint64_t now;

	if (deadline == 0)
		return -1;
	now = now_ms();
	if (now >= deadline)
		return 0;
	return deadline - now > 60000u ? 60000 : (int)(deadline - now);
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
	void *user_data)
{
	struct grpc_client *client = user_data;
	ssize_t sent;

	(void)session;
	(void)flags;
	sent = send(client->fd, data, length, MSG_NOSIGNAL);
	if (sent < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return NGHTTP2_ERR_WOULDBLOCK;
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return sent;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
	size_t name_len, const uint8_t *value, size_t value_len, uint8_t flags, void *user_data)
{
	struct client_call *call = nghttp2_session_get_stream_user_data(session,
		frame->hd.stream_id);

	(void)flags;
	(void)user_data;
	if (!call || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (name_len == 7 && memcmp(name, ":status", 7) == 0) {
		int status;

		if (grpc_status_parse((const char *)value, value_len, &status) == 0)
			call->http_status = status;
	} else if (name_len == 11 && memcmp(name, "grpc-status", 11) == 0) {
		if (grpc_status_parse((const char *)value, value_len, &call->status.code) == 0)
			call->have_status = true;
	} else if (name_len == 12 && memcmp(name, "grpc-message", 12) == 0) {
		grpc_message_decode((const char *)value, value_len, call->status.message,
			sizeof(call->status.message));
	}
	return 0;
}

static int deliver_reply(const uint8_t *message, size_t len, void *arg)
{
	struct client_call *call = arg;

	if (call->on_message) {
		int rc = call->on_message(message ? message : (const uint8_t *)"", len, call->arg);

		if (rc < 0)
			call->callback_rc = rc;
		return rc;
	}
	if (++call->reply_count > 1)
		return wd_error_set(call->err, WD_EINVAL, "unary reply has more than one message");
	call->reply = malloc(len ? len : 1);
	if (!call->reply)
		return WD_ENOMEM;
	if (len > 0)
		memcpy(call->reply, message, len);
	call->reply_len = len;
	return 0;
}

static int on_data_chunk_recv(nghttp2_session *session, uint8_t flags, int32_t stream_id,
	const uint8_t *data, size_t len, void *user_data)
{
	struct client_call *call = nghttp2_session_get_stream_user_data(session, stream_id);
	int rc;

	(void)flags;
	(void)user_data;
	if (!call || call->callback_rc < 0 || call->protocol_rc < 0)
		return 0;
	rc = grpc_frame_parser_feed(&call->parser, data, len, deliver_reply, call);
	if (rc == 0)
		return 0;
	if (call->callback_rc == 0) {
		call->protocol_rc = rc;
		if (rc == WD_ETOOBIG)
			wd_error_set(call->err, rc, "reply message is larger than the limit of %zu "
				"bytes", call->client->limits.max_message_bytes);
		else if (call->err && call->err->code == 0)
			wd_error_set(call->err, rc, "invalid reply message framing: %s",
				wd_strerror(rc));
	}
	(void)nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
	void *user_data)
{
	struct client_call *call = nghttp2_session_get_stream_user_data(session, stream_id);

	(void)user_data;
	if (call) {
		call->closed = true;
		call->close_error = error_code;
	}
	return 0;
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
	size_t length, uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	struct client_call *call = source->ptr;
	size_t left = call->body_len - call->body_pos;
	size_t take = left < length ? left : length;

	(void)session;
	(void)stream_id;
	(void)user_data;
	memcpy(buf, call->body + call->body_pos, take);
	call->body_pos += take;
	if (call->body_pos == call->body_len)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)take;
}

static int connect_unix(const char *path, unsigned timeout_ms, int *ret_fd,
	struct wd_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t path_len = path ? strlen(path) : 0;
	uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
	int fd;
	int rc = 0;

	*ret_fd = -1;
	if (path_len == 0 || path_len >= sizeof(addr.sun_path))
		return wd_error_set(err, WD_EINVAL, "gRPC socket path \"%s\" must have 1 to %zu "
			"bytes", path ? path : "", sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, path_len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return wd_error_set(err, WD_EIO, "cannot create Unix socket: %s", strerror(errno));

	/* A Unix connect only waits (EAGAIN) while the listener's backlog is full. */
	while (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int timeout;

		if (errno != EAGAIN && errno != EINTR) {
			rc = wd_error_set(err, WD_EIO, "cannot connect to gRPC socket %s: %s", path,
				strerror(errno));
			goto out;
		}
		timeout = poll_timeout(deadline);
		if (timeout == 0) {
			rc = wd_error_set(err, WD_ETIMEOUT, "connecting to gRPC socket %s timed out "
				"after %u ms", path, timeout_ms);
			goto out;
		}
		(void)poll(&pfd, 1, timeout > 0 && timeout < 50 ? timeout : 50);
	}
	*ret_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int grpc_client_connect_unix(const char *path, const struct grpc_limits *limits,
	unsigned timeout_ms, struct grpc_client **ret_client, struct wd_error *err)
{
	struct grpc_client *client = NULL;
	nghttp2_session_callbacks *callbacks = NULL;
	nghttp2_settings_entry settings[2];
	int rc = 0;

	*ret_client = NULL;
	client = wd_calloc(1, sizeof(*client));
	if (!client)
		return wd_error_set(err, WD_ENOMEM, "cannot allocate gRPC client");
	client->fd = -1;
	client->cancel_fd = -1;
	WD_GUARD(grpc_limits_normalize(limits, &client->limits, err));
	WD_GUARD(connect_unix(path, timeout_ms, &client->fd, err));

	if (nghttp2_session_callbacks_new(&callbacks) != 0) {
		rc = wd_error_set(err, WD_ENOMEM, "cannot allocate HTTP/2 callbacks");
		goto out;
	}
	nghttp2_session_callbacks_set_send_callback(callbacks, on_send);
	nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
	if (nghttp2_session_client_new(&client->session, callbacks, client) != 0) {
		rc = wd_error_set(err, WD_ENOMEM, "cannot allocate HTTP/2 session");
		goto out;
	}
	settings[0] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 };
	settings[1] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
		client->limits.max_header_list_bytes };
	if (nghttp2_submit_settings(client->session, NGHTTP2_FLAG_NONE, settings, 2) != 0) {
		rc = wd_error_set(err, WD_ENOMEM, "cannot queue HTTP/2 SETTINGS");
		goto out;
	}
	*ret_client = client;
	client = NULL;
out:
	nghttp2_session_callbacks_del(callbacks);
	grpc_client_free(client);
	return rc;
}

void grpc_client_set_cancel_fd(struct grpc_client *client, int fd)
{
	client->cancel_fd = fd;
}

void grpc_client_free(struct grpc_client *client)
{
	if (!client)
		return;
	nghttp2_session_del(client->session);
	if (client->fd >= 0)
		close(client->fd);
	free(client);
}

/* Metadata keys are lower-case tokens; ASCII values are printable. */
static int check_metadata(const struct grpc_metadata *metadata, size_t count,
	struct wd_error *err)
{
	for (size_t i = 0; i < count; i++) {
		const char *key = metadata[i].key;
		const char *value = metadata[i].value;

		if (!key || !key[0] || !value)
			return wd_error_set(err, WD_EINVAL, "metadata %zu has no key or value", i);
		for (const char *p = key; *p; p++) {
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			    *p == '_' || *p == '.'))
				return wd_error_set(err, WD_EINVAL, "metadata key \"%s\" must contain "
					"only a-z, 0-9, '-', '_' and '.'", key);
		}
		for (const char *p = value; *p; p++) {
			if (*p < 0x20 || *p > 0x7e)
				return wd_error_set(err, WD_EINVAL, "metadata value of %s must be "
					"printable ASCII", key);
		}
	}
	return 0;
}

static nghttp2_nv make_nv(const char *name, const char *value)
{
	return (nghttp2_nv){ (uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
		NGHTTP2_NV_FLAG_NONE };
}

/* Ends the call's stream with RST_STREAM(CANCEL) and forgets it. */
static void cancel_stream(struct grpc_client *client, struct client_call *call)
{
	(void)nghttp2_submit_rst_stream(client->session, NGHTTP2_FLAG_NONE, call->stream_id,
		NGHTTP2_CANCEL);
	(void)nghttp2_session_send(client->session);
	nghttp2_session_set_stream_user_data(client->session, call->stream_id, NULL);
}

/* Reads and writes until the call's stream closes, the deadline passes or
 * the cancel descriptor becomes readable. */
static int run_call(struct grpc_client *client, struct client_call *call, uint64_t deadline,
	unsigned timeout_ms, struct wd_error *err)
{
	uint8_t buf[CLIENT_READ_BYTES];

	while (!call->closed) {
		struct pollfd pfds[2] = {
			{ .fd = client->fd, .events = 0 },
			{ .fd = client->cancel_fd, .events = POLLIN },
		};
		struct pollfd *pfd = &pfds[0];
		nfds_t nfds = client->cancel_fd >= 0 ? 2 : 1;
		int timeout;
		int ready;
		ssize_t got;
		int rv = nghttp2_session_send(client->session);

		if (rv != 0)
			return wd_error_set(err, WD_EIO, "sending HTTP/2 frames failed: %s",
				nghttp2_strerror(rv));
		if (call->closed)
			break;
		if (nghttp2_session_want_read(client->session))
			pfd->events |= POLLIN;
		if (nghttp2_session_want_write(client->session))
			pfd->events |= POLLOUT;
		if (pfd->events == 0)
			return wd_error_set(err, WD_EIO, "gRPC connection was closed by the "
				"server (GOAWAY)");
		timeout = poll_timeout(deadline);
		if (timeout == 0)
			goto timed_out;
		ready = poll(pfds, nfds, timeout);
		if (ready < 0 && errno != EINTR)
			return wd_error_set(err, WD_EIO, "poll failed: %s", strerror(errno));
		if (ready <= 0)
			continue;
		if (nfds == 2 && pfds[1].revents)
			goto cancelled;
		if (!(pfd->revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		got = recv(client->fd, buf, sizeof(buf), 0);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got <= 0)
			return wd_error_set(err, WD_EIO, "gRPC connection closed: %s",
				got < 0 ? strerror(errno) : "end of stream");
		rv = (int)nghttp2_session_mem_recv(client->session, buf, (size_t)got);
		if (rv < 0)
			return wd_error_set(err, WD_EINVAL, "invalid HTTP/2 from the server: %s",
				nghttp2_strerror(rv));
	}
	return 0;

timed_out:
	cancel_stream(client, call);
	return wd_error_set(err, WD_ETIMEOUT, "gRPC call timed out after %u ms", timeout_ms);

cancelled:
	cancel_stream(client, call);
	return wd_error_set(err, WD_EUNAVAILABLE, "gRPC call cancelled by the caller");
}

/* Turns a closed stream into the call's result. */
static int call_result(struct client_call *call, const char *method, struct wd_error *err)
{
	if (call->callback_rc < 0)
		return call->callback_rc;
	if (call->protocol_rc < 0)
		return call->protocol_rc;
	if (!call->have_status) {
		if (call->close_error != NGHTTP2_NO_ERROR)
			return wd_error_set(err, WD_EIO, "server reset the stream of %s with HTTP/2 "
				"error %s", method, nghttp2_http2_strerror(call->close_error));
		return wd_error_set(err, WD_EINVAL, "reply to %s has no grpc-status (HTTP status "
			"%d)", method, call->http_status);
	}
	if (grpc_frame_parser_finish(&call->parser) < 0)
		return wd_error_set(err, WD_EINVAL, "reply to %s ended inside a message", method);
	return 0;
}

static int do_call(struct grpc_client *client, const char *method,
	const struct grpc_metadata *metadata, size_t metadata_count, const void *request,
	size_t request_len, unsigned timeout_ms, struct client_call *call, struct wd_error *err)
{
	nghttp2_data_provider provider = { .source.ptr = call, .read_callback = read_body };
	uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
	char timeout_text[16];
	nghttp2_nv *nva = NULL;
	size_t nv_count = 0;
	int32_t stream_id;
	int rc = 0;

	if (client->broken)
		return wd_error_set(err, WD_EIO, "gRPC connection failed earlier");
	if (!method || method[0] != '/')
		return wd_error_set(err, WD_EINVAL, "gRPC method \"%s\" must start with '/'",
			method ? method : "");
	if (request_len > client->limits.max_message_bytes)
		return wd_error_set(err, WD_ETOOBIG, "request of %zu bytes is larger than the "
			"limit of %zu bytes", request_len, client->limits.max_message_bytes);
	WD_TRY(check_metadata(metadata, metadata_count, err));

	call->body_len = request_len + GRPC_FRAME_HEADER_LEN;
	call->body = malloc(call->body_len);
	nva = wd_calloc(metadata_count + 8, sizeof(*nva));
	if (!call->body || !nva) {
		rc = wd_error_set(err, WD_ENOMEM, "cannot allocate gRPC request");
		goto out;
	}
	WD_GUARD(grpc_frame_write_header(call->body, request_len));
	if (request_len > 0)
		memcpy(call->body + GRPC_FRAME_HEADER_LEN, request, request_len);

	nva[nv_count++] = make_nv(":method", "POST");
	nva[nv_count++] = make_nv(":scheme", "http");
	nva[nv_count++] = make_nv(":path", method);
	nva[nv_count++] = make_nv(":authority", "localhost");
	nva[nv_count++] = make_nv("content-type", "application/grpc");
	nva[nv_count++] = make_nv("te", "trailers");
	nva[nv_count++] = make_nv("user-agent", "warden-grpc/" WARDEN_VERSION);
	if (timeout_ms) {
		grpc_timeout_format(timeout_ms, timeout_text);
		nva[nv_count++] = make_nv("grpc-timeout", timeout_text);
	}
	for (size_t i = 0; i < metadata_count; i++)
		nva[nv_count++] = make_nv(metadata[i].key, metadata[i].value);

	stream_id = nghttp2_submit_request(client->session, NULL, nva, nv_count, &provider, call);
	if (stream_id < 0) {
		rc = wd_error_set(err, WD_EIO, "cannot start gRPC call %s: %s", method,
			nghttp2_strerror(stream_id));
		goto out;
	}
	call->stream_id = stream_id;
	rc = run_call(client, call, deadline, timeout_ms, err);
	if (rc < 0) {
		if (rc != WD_ETIMEOUT)
			client->broken = true;
		goto out;
	}
	rc = call_result(call, method, err);
out:
	if (call->stream_id > 0 && !call->closed)
		nghttp2_session_set_stream_user_data(client->session, call->stream_id, NULL);
	free(nva);
	free(call->body);
	call->body = NULL;
	return rc;
}

static void call_init(struct client_call *call, struct grpc_client *client, struct wd_error *err)
{
	memset(call, 0, sizeof(*call));
	call->client = client;
	call->err = err;
	call->status.code = GRPC_STATUS_UNKNOWN;
	grpc_frame_parser_init(&call->parser, client->limits.max_message_bytes);
}

int grpc_client_unary(struct grpc_client *client, const char *method,
	const struct grpc_metadata *metadata, size_t metadata_count, const void *request,
	size_t request_len, unsigned timeout_ms, uint8_t **ret_reply, size_t *ret_reply_len,
	struct grpc_call_status *ret_status, struct wd_error *err)
{
	struct client_call call;
	int rc;

	*ret_reply = NULL;
	*ret_reply_len = 0;
	memset(ret_status, 0, sizeof(*ret_status));
	ret_status->code = GRPC_STATUS_UNKNOWN;
	call_init(&call, client, err);
	rc = do_call(client, method, metadata, metadata_count, request, request_len, timeout_ms,
		&call, err);
	grpc_frame_parser_free(&call.parser);
	if (rc < 0) {
		free(call.reply);
		return rc;
	}
	*ret_reply = call.reply;
	*ret_reply_len = call.reply_len;
	*ret_status = call.status;
	return 0;
}

int grpc_client_stream(struct grpc_client *client, const char *method,
	const struct grpc_metadata *metadata, size_t metadata_count, const void *request,
	size_t request_len, unsigned timeout_ms, grpc_message_fn on_message, void *arg,
	struct grpc_call_status *ret_status, struct wd_error *err)
{
	struct client_call call;
	int rc;

	memset(ret_status, 0, sizeof(*ret_status));
	ret_status->code = GRPC_STATUS_UNKNOWN;
	if (!on_message)
		return wd_error_set(err, WD_EINVAL, "streaming call %s needs a message callback",
			method ? method : "");
	call_init(&call, client, err);
	call.on_message = on_message;
	call.arg = arg;
	rc = do_call(client, method, metadata, metadata_count, request, request_len, timeout_ms,
		&call, err);
	grpc_frame_parser_free(&call.parser);
	if (rc < 0)
		return rc;
	*ret_status = call.status;
	return 0;
}
