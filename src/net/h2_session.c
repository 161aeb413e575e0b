/* One server-side HTTP/2 connection: an nghttp2 session fed from a libevent
 * bufferevent, streams mapped to gRPC calls, and replies read from each
 * call's output queue by a data provider. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "net/grpc_private.h"

/* The send callback stops (NGHTTP2_ERR_WOULDBLOCK) while this many bytes
 * wait in the socket's output buffer, so a client that does not read
 * leaves the frames inside nghttp2, under its flow control. */
#define OUTPUT_HIGH_WATER_BYTES ((size_t)64 << 10)

static void conn_close_later(struct h2_conn *conn)
{
	if (conn->closing)
		return;
	conn->closing = true;
	event_active(conn->close_ev, 0, 0);
}

static void timeout_arm(struct h2_conn *conn, unsigned timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000u,
		.tv_usec = (suseconds_t)(timeout_ms % 1000u) * 1000 };

	if (conn->bev && !conn->closing)
		event_add(conn->timeout_ev, &tv);
}

/* Closes a connection that sent no request before the preface deadline or
 * had no open stream for the idle timeout. The GOAWAY is written straight
 * to the socket, best effort, because the connection is freed right after. */
static void on_timeout_event(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *conn = arg;

	(void)fd;
	(void)what;
	if (conn->closing || !TAILQ_EMPTY(&conn->calls))
		return;
	if (!conn->got_request)
		grpc_server_report_reject(conn->server, GRPC_REJECT_PREFACE_TIMEOUT, WD_ETIMEOUT,
			"closed gRPC connection of pid %ld: no request within %u ms of connecting",
			(long)conn->pid, conn->server->limits.preface_timeout_ms);
	(void)nghttp2_session_terminate_session(conn->session, NGHTTP2_NO_ERROR);
	(void)nghttp2_session_send(conn->session);
	(void)evbuffer_write(bufferevent_get_output(conn->bev), bufferevent_getfd(conn->bev));
	conn_close_later(conn);
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
	void *user_data)
{
	struct h2_conn *conn = user_data;
	struct evbuffer *output;

	(void)session;
	(void)flags;
	if (!conn->bev)
		return (ssize_t)length;
	output = bufferevent_get_output(conn->bev);
	if (evbuffer_get_length(output) >= OUTPUT_HIGH_WATER_BYTES)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (bufferevent_write(conn->bev, data, length) < 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)length;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
	void *user_data)
{
	struct h2_conn *conn = user_data;
	struct grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	call = grpc_call_new(conn, frame->hd.stream_id);
	if (!call)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, call) != 0) {
		grpc_call_unref(call);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	TAILQ_INSERT_TAIL(&conn->calls, call, link);
	conn->got_request = true;
	event_del(conn->timeout_ev);
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
	size_t name_len, const uint8_t *value, size_t value_len, uint8_t flags, void *user_data)
{
	struct grpc_call *call;

	(void)flags;
	(void)user_data;
	/* Trailers from a client (a later HEADERS frame) carry nothing gRPC uses. */
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	call = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (!call)
		return 0;
	if (grpc_call_on_header(call, name, name_len, value, value_len) < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct grpc_call *call;

	(void)user_data;
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	call = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (!call)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
		grpc_call_on_headers_done(call);
	if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
		grpc_call_on_request_done(call);
	return 0;
}

static int on_data_chunk_recv(nghttp2_session *session, uint8_t flags, int32_t stream_id,
	const uint8_t *data, size_t len, void *user_data)
{
	struct grpc_call *call = nghttp2_session_get_stream_user_data(session, stream_id);

	(void)flags;
	(void)user_data;
	if (call)
		grpc_call_on_data(call, data, len);
	return 0;
}

/* After the final HEADERS of a response, a client that is still sending is
 * told to stop with RST_STREAM(NO_ERROR), as RFC 9113 section 8.1 allows. */
static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	(void)user_data;
	if (frame->hd.type != NGHTTP2_HEADERS || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	if (nghttp2_session_get_stream_remote_close(session, frame->hd.stream_id) == 0)
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
			NGHTTP2_NO_ERROR);
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
	void *user_data)
{
	struct h2_conn *conn = user_data;
	struct grpc_call *call = nghttp2_session_get_stream_user_data(session, stream_id);

	if (!call)
		return 0;
	nghttp2_session_set_stream_user_data(session, stream_id, NULL);
	TAILQ_REMOVE(&conn->calls, call, link);
	call->conn = NULL;
	grpc_call_on_close(call, error_code != NGHTTP2_NO_ERROR || !call->finished);
	if (TAILQ_EMPTY(&conn->calls))
		timeout_arm(conn, conn->server->limits.idle_timeout_ms);
	return 0;
}

static void submit_trailers(nghttp2_session *session, struct grpc_call *call)
{
	char status[16];
	nghttp2_nv nva[2];
	size_t count = 0;

	snprintf(status, sizeof(status), "%d", call->status);
	nva[count++] = (nghttp2_nv){ (uint8_t *)"grpc-status", (uint8_t *)status, 11,
		strlen(status), NGHTTP2_NV_FLAG_NONE };
	if (call->status_message && call->status_message[0])
		nva[count++] = (nghttp2_nv){ (uint8_t *)"grpc-message",
			(uint8_t *)call->status_message, 12, strlen(call->status_message),
			NGHTTP2_NV_FLAG_NONE };
	/* A failure here leaves the stream without a status; the client then
	 * sees the stream end as an error, and nghttp2 returns it from send. */
	(void)nghttp2_submit_trailer(session, call->stream_id, nva, count);
}

static ssize_t read_output(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
	size_t length, uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	struct grpc_call *call = source->ptr;
	int copied;

	(void)stream_id;
	(void)user_data;
	copied = evbuffer_remove(call->out, buf, length);
	if (copied < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (evbuffer_get_length(call->out) > 0)
		return copied;
	if (!call->finished)
		return copied > 0 ? copied : NGHTTP2_ERR_DEFERRED;
	*data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
	submit_trailers(session, call);
	return copied;
}

#define NV_LITERAL(name, value)                                                               \
	(nghttp2_nv){ (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1,                 \
		sizeof(value) - 1, NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE }

int h2_call_submit(struct grpc_call *call)
{
	nghttp2_session *session = call->conn->session;
	nghttp2_data_provider provider = { .source.ptr = call, .read_callback = read_output };
	char http_status[8];
	char status[16];
	nghttp2_nv nva[5];
	size_t count = 0;
	int rv;

	snprintf(http_status, sizeof(http_status), "%d", call->http_status);
	nva[count++] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)http_status, 7,
		strlen(http_status), NGHTTP2_NV_FLAG_NO_COPY_NAME };
	nva[count++] = NV_LITERAL("content-type", "application/grpc");
	nva[count++] = NV_LITERAL("grpc-accept-encoding", "identity");

	if (call->finished && call->message_count == 0) {
		/* Trailers-Only: the status goes in the one HEADERS frame. */
		snprintf(status, sizeof(status), "%d", call->status);
		nva[count++] = (nghttp2_nv){ (uint8_t *)"grpc-status", (uint8_t *)status, 11,
			strlen(status), NGHTTP2_NV_FLAG_NO_COPY_NAME };
		if (call->status_message && call->status_message[0])
			nva[count++] = (nghttp2_nv){ (uint8_t *)"grpc-message",
				(uint8_t *)call->status_message, 12, strlen(call->status_message),
				NGHTTP2_NV_FLAG_NO_COPY_NAME };
		rv = nghttp2_submit_response(session, call->stream_id, nva, count, NULL);
	} else {
		rv = nghttp2_submit_response(session, call->stream_id, nva, count, &provider);
	}
	if (rv != 0)
		return rv == NGHTTP2_ERR_NOMEM ? WD_ENOMEM : WD_EINTERNAL;
	call->response_submitted = true;
	h2_conn_schedule_flush(call->conn);
	return 0;
}

void h2_call_resume(struct grpc_call *call)
{
	/* Fails harmlessly when the provider is not deferred: nghttp2 then
	 * calls it again on its own. */
	(void)nghttp2_session_resume_data(call->conn->session, call->stream_id);
	h2_conn_schedule_flush(call->conn);
}

void h2_call_reset(struct grpc_call *call, uint32_t error_code)
{
	(void)nghttp2_submit_rst_stream(call->conn->session, NGHTTP2_FLAG_NONE, call->stream_id,
		error_code);
	h2_conn_schedule_flush(call->conn);
}

void h2_conn_flush(struct h2_conn *conn)
{
	int rv;

	if (conn->closing || conn->in_recv)
		return;
	rv = nghttp2_session_send(conn->session);
	if (rv != 0) {
		grpc_server_report(conn->server, WD_EIO, "sending HTTP/2 frames failed: %s",
			nghttp2_strerror(rv));
		conn_close_later(conn);
		return;
	}
	/* Both sides are done (GOAWAY exchanged, or a fatal error was sent):
	 * close once the socket has written everything. */
	if (!nghttp2_session_want_read(conn->session) &&
	    !nghttp2_session_want_write(conn->session) &&
	    (!conn->bev || evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0))
		conn_close_later(conn);
}

void h2_conn_schedule_flush(struct h2_conn *conn)
{
	if (!conn->closing)
		event_active(conn->flush_ev, 0, 0);
}

int h2_conn_feed(struct h2_conn *conn, const uint8_t *data, size_t len)
{
	ssize_t used;

	if (conn->closing)
		return WD_EIO;
	conn->in_recv++;
	used = nghttp2_session_mem_recv(conn->session, data, len);
	conn->in_recv--;
	if (used < 0) {
		grpc_server_report(conn->server, WD_EINVAL, "closing HTTP/2 connection after a "
			"protocol error: %s", nghttp2_strerror((int)used));
		/* Send the GOAWAY nghttp2 queued for the error before closing. */
		(void)nghttp2_session_send(conn->session);
		conn_close_later(conn);
		return WD_EINVAL;
	}
	h2_conn_flush(conn);
	return 0;
}

static void on_flush_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	h2_conn_flush(arg);
}

static void on_close_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	h2_conn_free(arg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct h2_conn *conn = arg;
	struct evbuffer *input = bufferevent_get_input(bev);

	while (evbuffer_get_length(input) > 0 && !conn->closing) {
		struct evbuffer_iovec chunk;

		if (evbuffer_peek(input, -1, NULL, &chunk, 1) < 1)
			break;
		if (h2_conn_feed(conn, chunk.iov_base, chunk.iov_len) < 0)
			break;
		evbuffer_drain(input, chunk.iov_len);
	}
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct h2_conn *conn = arg;

	(void)bev;
	h2_conn_flush(conn);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		h2_conn_free(arg);
}

static int session_new(struct h2_conn *conn)
{
	const struct grpc_limits *limits = &conn->server->limits;
	nghttp2_session_callbacks *callbacks = NULL;
	nghttp2_option *option = NULL;
	nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits->max_concurrent_streams },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits->max_header_list_bytes },
	};
	int rc = WD_ENOMEM;

	if (nghttp2_session_callbacks_new(&callbacks) != 0 || nghttp2_option_new(&option) != 0)
		goto out;
	nghttp2_session_callbacks_set_send_callback(callbacks, on_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
	/* Closed streams are only kept for priority bookkeeping, which gRPC
	 * does not use, and they would cost memory per finished call. */
	nghttp2_option_set_no_closed_streams(option, 1);

	if (nghttp2_session_server_new2(&conn->session, callbacks, conn, option) != 0)
		goto out;
	if (nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, settings,
		    WD_ARRAY_LEN(settings)) != 0)
		goto out;
	rc = 0;
out:
	nghttp2_session_callbacks_del(callbacks);
	nghttp2_option_del(option);
	return rc;
}

int h2_conn_new(struct grpc_server *server, struct bufferevent *bev, struct h2_conn **ret_conn)
{
	struct h2_conn *conn = NULL;
	int rc = 0;

	*ret_conn = NULL;
	conn = wd_calloc(1, sizeof(*conn));
	if (!conn) {
		if (bev)
			bufferevent_free(bev);
		return WD_ENOMEM;
	}
	conn->server = server;
	conn->bev = bev;
	TAILQ_INIT(&conn->calls);
	TAILQ_INSERT_TAIL(&server->conns, conn, link);
	server->conn_count++;

	conn->flush_ev = event_new(server->base, -1, 0, on_flush_event, conn);
	conn->close_ev = event_new(server->base, -1, 0, on_close_event, conn);
	conn->timeout_ev = event_new(server->base, -1, 0, on_timeout_event, conn);
	WD_ENSURE(conn->flush_ev && conn->close_ev && conn->timeout_ev, WD_ENOMEM);
	WD_GUARD(session_new(conn));
	if (bev) {
		bufferevent_setcb(bev, on_read, on_write, on_event, conn);
		WD_ENSURE(bufferevent_enable(bev, EV_READ | EV_WRITE) == 0, WD_EIO);
	}
	/* NOTE: a client that keeps a stream open without finishing its
	 * request keeps the connection open past both timeouts, and only the
	 * connection ceilings bound such clients. */
	timeout_arm(conn, server->limits.preface_timeout_ms);
	h2_conn_flush(conn);
	*ret_conn = conn;
	conn = NULL;
out:
	h2_conn_free(conn);
	return rc;
}

void h2_conn_free(struct h2_conn *conn)
{
	struct grpc_call *call;

	if (!conn)
		return;
	conn->closing = true;
	while ((call = TAILQ_FIRST(&conn->calls)) != NULL) {
		TAILQ_REMOVE(&conn->calls, call, link);
		if (conn->session)
			nghttp2_session_set_stream_user_data(conn->session, call->stream_id, NULL);
		call->conn = NULL;
		grpc_call_on_close(call, true);
	}
	TAILQ_REMOVE(&conn->server->conns, conn, link);
	conn->server->conn_count--;
	nghttp2_session_del(conn->session);
	if (conn->bev)
		bufferevent_free(conn->bev);
	if (conn->flush_ev)
		event_free(conn->flush_ev);
	if (conn->close_ev)
		event_free(conn->close_ev);
	if (conn->timeout_ev)
		event_free(conn->timeout_ev);
	free(conn);
}
