/* Structures and helpers shared by the gRPC and HTTP/2 files of the net
 * module; not part of its API. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <nghttp2/nghttp2.h>

#include "common/buf.h"
#include "net/grpc.h"

/* Length-prefixed message framing (gRPC over HTTP/2, "Length-Prefixed-Message"):
 * a compressed-flag byte, a 4-byte big-endian length, then the message. */
#define GRPC_FRAME_HEADER_LEN 5u

/* Receives one complete message, borrowed until the callback returns.
 * Returns 0 to go on or a negative code that grpc_frame_parser_feed returns. */
typedef int (*grpc_frame_message_fn)(const uint8_t *message, size_t len, void *arg);

/* An incremental parser of a stream of length-prefixed messages. */
struct grpc_frame_parser {
	size_t max_message_bytes;
	uint8_t header[GRPC_FRAME_HEADER_LEN];
	size_t header_len;     /* header bytes received of the current message */
	size_t message_len;    /* length of the current message, once its header is complete */
	struct wd_buf message; /* body bytes received, ceiling max_message_bytes */
	int failed;            /* the first error; every later feed returns it */
};

/* Sets up an empty parser for messages of at most max_message_bytes. */
void grpc_frame_parser_init(struct grpc_frame_parser *parser, size_t max_message_bytes);

/* Parses len more bytes and runs on_message for each message they
 * complete. WD_ETOOBIG for a length over the ceiling (detected from the
 * prefix alone), WD_EUNSUPPORTED for the compressed flag, WD_EINVAL for a
 * flag byte other than 0 or 1, or the callback's negative code. After an
 * error the parser keeps returning it. */
WD_MUST_CHECK int grpc_frame_parser_feed(struct grpc_frame_parser *parser, const uint8_t *data,
	size_t len, grpc_frame_message_fn on_message, void *arg);

/* Checks that the input ended on a message boundary: WD_ETRUNCATED when a
 * partial message is pending, or the earlier error. */
WD_MUST_CHECK int grpc_frame_parser_finish(const struct grpc_frame_parser *parser);

/* Frees the buffered bytes; accepts a parser that was only initialized. */
void grpc_frame_parser_free(struct grpc_frame_parser *parser);

/* Writes the 5-byte prefix of an uncompressed message of len bytes.
 * WD_ETOOBIG when len does not fit in 32 bits. */
WD_MUST_CHECK int grpc_frame_write_header(uint8_t out[static GRPC_FRAME_HEADER_LEN], size_t len);

/* grpc_status.c */

/* Percent-encodes message for grpc-message: bytes outside 0x20..0x7E and
 * '%' become %XX. At most max_input bytes of message are encoded. */
WD_MUST_CHECK int grpc_message_encode(const char *message, size_t max_input,
	struct wd_buf *out);

/* Percent-decodes a grpc-message value into out (out_size bytes, always
 * NUL-terminated, cut to fit). A malformed %XX is kept as it is, as the
 * gRPC spec asks of receivers. */
void grpc_message_decode(const char *value, size_t len, char *out, size_t out_size);

/* Formats a grpc-timeout value ("1500m") for timeout_ms into out. */
void grpc_timeout_format(unsigned timeout_ms, char out[static 16]);

/* Parses a grpc-status value: 1 to 10 ASCII digits. WD_EINVAL otherwise. */
WD_MUST_CHECK int grpc_status_parse(const char *value, size_t len, int *ret_status);

/* Fills ret_limits from limits (NULL: defaults), with zero fields set to
 * their defaults. WD_EINVAL for values out of range. */
WD_MUST_CHECK int grpc_limits_normalize(const struct grpc_limits *limits,
	struct grpc_limits *ret_limits, struct wd_error *err);

/* Server state. */

struct h2_conn;

/* One metadata field of a request. */
struct grpc_header {
	char *name;  /* lower case, as HTTP/2 requires */
	char *value;
	size_t value_len;
};

/* Why a request is rejected before its handler runs. */
enum call_reject {
	CALL_REJECT_NONE,
	CALL_REJECT_HEADERS_TOO_BIG,
};

struct grpc_call {
	unsigned refs;
	struct grpc_server *server;
	struct h2_conn *conn; /* NULL once the stream closed */
	int32_t stream_id;
	const struct grpc_method *method;

	char *path;
	struct grpc_header *headers;
	size_t header_count;
	size_t header_cap;
	size_t header_list_bytes;
	enum call_reject reject;

	struct grpc_frame_parser parser;
	uint8_t *request;
	size_t request_len;
	size_t request_count;

	struct evbuffer *out;   /* framed reply messages not yet read by nghttp2 */
	size_t message_count;   /* reply messages queued */
	int http_status;        /* :status of the response, 200 unless rejected */
	int status;             /* valid once finished */
	char *status_message;   /* percent-encoded, valid once finished */
	bool response_submitted;
	bool dispatched;
	bool finished;
	bool closed;
	bool cancelled;

	grpc_close_fn close_cb;
	void *close_arg;

	/* The connection's SO_PEERCRED credentials, copied at dispatch so they
	 * outlive the connection. */
	bool has_cred;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool has_process;
	struct grpc_peer_process process;

	TAILQ_ENTRY(grpc_call) link; /* in the connection's list of open calls */
};

TAILQ_HEAD(grpc_call_list, grpc_call);

/* One HTTP/2 connection. bev is NULL for a connection fed from memory (the
 * fuzz harness). */
struct h2_conn {
	struct grpc_server *server;
	struct bufferevent *bev;
	nghttp2_session *session;
	struct event *flush_ev;    /* sends what calls queued, from the loop */
	struct event *close_ev;    /* frees the connection, from the loop */
	/* Closes the connection when the preface deadline or the idle timeout
	 * passes; pending while no stream is open. */
	struct event *timeout_ev;
	struct grpc_call_list calls;
	bool has_cred;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool has_process;
	struct grpc_peer_process process; /* read at accept */
	bool got_request;          /* a request's HEADERS arrived, so the preface deadline is met */
	int in_recv;               /* nonzero inside nghttp2_session_mem_recv */
	bool closing;
	TAILQ_ENTRY(h2_conn) link;
};

TAILQ_HEAD(h2_conn_list, h2_conn);

struct grpc_unix_listener {
	struct evconnlistener *listener;
	char *path;
	struct grpc_unix_listener *next;
};

/* Causes of a connection rejected at accept or closed by the server, each
 * with its own report throttle. */
enum grpc_conn_reject {
	GRPC_REJECT_MAX_CONNECTIONS,
	GRPC_REJECT_MAX_CONNECTIONS_PER_UID,
	GRPC_REJECT_PREFACE_TIMEOUT,
	GRPC_REJECT_COUNT,
};

/* Report throttle of one cause: at most one report per second, which
 * carries the number of rejections not reported since the last one. */
struct grpc_reject_throttle {
	uint64_t last_report_ms; /* CLOCK_MONOTONIC; 0 before the first report */
	size_t unreported;
};

struct grpc_server {
	struct event_base *base;
	struct grpc_limits limits;
	struct grpc_method *methods;
	size_t method_count;
	grpc_error_fn error_cb;
	void *error_arg;
	struct grpc_unix_listener *listeners;
	struct h2_conn_list conns;
	size_t conn_count;
	struct grpc_reject_throttle rejects[GRPC_REJECT_COUNT];
};

/* Reports an error through the server's error callback, if any. */
void grpc_server_report(struct grpc_server *server, int code, const char *fmt, ...)
	WD_PRINTF(3, 4);

/* Reports a rejected or closed connection through the error callback,
 * throttled per cause: at most one report a second, which carries the
 * number of rejections left unreported since the previous report. */
void grpc_server_report_reject(struct grpc_server *server, enum grpc_conn_reject cause,
	int code, const char *fmt, ...) WD_PRINTF(4, 5);

/* h2_server.c: closes the listeners and unlinks their socket files. */
void grpc_server_close_listeners(struct grpc_server *server);

/* h2_session.c */

/* Creates a connection on bev (owned from now on; NULL for a memory-fed
 * connection) and queues the server SETTINGS. */
WD_MUST_CHECK int h2_conn_new(struct grpc_server *server, struct bufferevent *bev,
	struct h2_conn **ret_conn);

/* Feeds received bytes to the session and sends the frames it queues in response. WD_EINVAL
 * for a protocol error, after which the connection is closing. */
WD_MUST_CHECK int h2_conn_feed(struct h2_conn *conn, const uint8_t *data, size_t len);

/* Sends whatever the session has queued, unless called inside a receive. */
void h2_conn_flush(struct h2_conn *conn);

/* Asks the loop to send what the calls queued. */
void h2_conn_schedule_flush(struct h2_conn *conn);

/* Closes the connection: detaches and closes its calls (cancelled), frees
 * the session and socket. */
void h2_conn_free(struct h2_conn *conn);

/* Submits the response headers of call with a data provider reading its
 * queue, or a trailers-only response when the call finished without a
 * message. */
WD_MUST_CHECK int h2_call_submit(struct grpc_call *call);

/* Wakes the data provider of call after more output or its finish. */
void h2_call_resume(struct grpc_call *call);

/* Resets the stream of call with error_code (an HTTP/2 error code). */
void h2_call_reset(struct grpc_call *call, uint32_t error_code);

/* grpc.c: the gRPC layer over a stream. */

/* Creates the call of a new stream; NULL when memory runs out. */
struct grpc_call *grpc_call_new(struct h2_conn *conn, int32_t stream_id);

/* Stores one request header. Returns 0, or a negative code to reset the
 * stream. */
WD_MUST_CHECK int grpc_call_on_header(struct grpc_call *call, const uint8_t *name,
	size_t name_len, const uint8_t *value, size_t value_len);

/* Validates the request headers once they are complete; may finish the
 * call at once (UNIMPLEMENTED, RESOURCE_EXHAUSTED, ...). */
void grpc_call_on_headers_done(struct grpc_call *call);

/* Parses request body bytes. */
void grpc_call_on_data(struct grpc_call *call, const uint8_t *data, size_t len);

/* Runs the handler once the client ended its side of the stream. */
void grpc_call_on_request_done(struct grpc_call *call);

/* Marks the stream closed, runs the close callback and drops the server's
 * reference. */
void grpc_call_on_close(struct grpc_call *call, bool cancelled);
