/* gRPC over HTTP/2 cleartext (h2c with prior knowledge) on Unix sockets: a
 * server driven by a libevent event_base, and a small blocking client. Only
 * unary and server-streaming methods, and only uncompressed messages. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "common/error.h"
#include "common/macros.h"

struct grpc_server;
struct grpc_call;
struct grpc_client;

/* Status codes of the gRPC protocol (grpc/doc/statuscodes.md). */
enum grpc_status {
	GRPC_STATUS_OK = 0,
	GRPC_STATUS_CANCELLED = 1,
	GRPC_STATUS_UNKNOWN = 2,
	GRPC_STATUS_INVALID_ARGUMENT = 3,
	GRPC_STATUS_DEADLINE_EXCEEDED = 4,
	GRPC_STATUS_NOT_FOUND = 5,
	GRPC_STATUS_ALREADY_EXISTS = 6,
	GRPC_STATUS_PERMISSION_DENIED = 7,
	GRPC_STATUS_RESOURCE_EXHAUSTED = 8,
	GRPC_STATUS_FAILED_PRECONDITION = 9,
	GRPC_STATUS_ABORTED = 10,
	GRPC_STATUS_OUT_OF_RANGE = 11,
	GRPC_STATUS_UNIMPLEMENTED = 12,
	GRPC_STATUS_INTERNAL = 13,
	GRPC_STATUS_UNAVAILABLE = 14,
	GRPC_STATUS_DATA_LOSS = 15,
	GRPC_STATUS_UNAUTHENTICATED = 16,
};

/* Returns the upper-case name of a status ("UNIMPLEMENTED"), or "UNKNOWN"
 * for a value outside 0..16. */
const char *grpc_status_name(int status);

/* Returns the status a server replies with for a negative WD_E* code
 * (WD_EINVAL -> INVALID_ARGUMENT, WD_EPERM -> PERMISSION_DENIED, ...);
 * INTERNAL for codes without a closer match, OK for 0. */
int grpc_status_from_error(int code);

/* Resource ceilings. Zero in a field means its default. The client uses
 * only max_message_bytes and max_header_list_bytes. */
struct grpc_limits {
	/* One message without its 5-byte prefix; default 4 MiB. A larger request
	 * gets RESOURCE_EXHAUSTED, a larger reply is rejected by the sender. */
	size_t max_message_bytes;
	/* Open streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS); default 100. */
	uint32_t max_concurrent_streams;
	/* Request header list, counted as RFC 7541 section 4.1 does (name +
	 * value + 32 bytes per field); default 16 KiB. Larger requests get
	 * RESOURCE_EXHAUSTED. */
	uint32_t max_header_list_bytes;
	/* Response bytes one call may queue while the client does not read;
	 * default 16 MiB. */
	size_t max_send_queue_bytes;
	/* Open connections per server; default 1024. Connections over it are
	 * closed at accept. */
	size_t max_connections;
	/* Open connections per peer uid (SO_PEERCRED; uid 0 included, and
	 * connections without credentials share one count); default 64.
	 * Connections over it are closed at accept, so one local user cannot
	 * use up max_connections. */
	size_t max_connections_per_uid;
	/* Milliseconds a new connection has to send the HTTP/2 preface and the
	 * HEADERS of its first request; default 10000. */
	unsigned preface_timeout_ms;
	/* Milliseconds a connection may stay open without an open stream
	 * before it is closed with GOAWAY; default 60000. */
	unsigned idle_timeout_ms;
};

#define GRPC_DEFAULT_MAX_MESSAGE_BYTES ((size_t)4 << 20)
#define GRPC_DEFAULT_MAX_CONCURRENT_STREAMS 100u
#define GRPC_DEFAULT_MAX_HEADER_LIST_BYTES (16u << 10)
#define GRPC_DEFAULT_MAX_SEND_QUEUE_BYTES ((size_t)16 << 20)
#define GRPC_DEFAULT_MAX_CONNECTIONS 1024u
#define GRPC_DEFAULT_MAX_CONNECTIONS_PER_UID 64u
#define GRPC_DEFAULT_PREFACE_TIMEOUT_MS 10000u
#define GRPC_DEFAULT_IDLE_TIMEOUT_MS 60000u

enum grpc_method_kind {
	GRPC_UNARY,            /* one request, one reply message, then a status */
	GRPC_SERVER_STREAMING, /* one request, any number of replies, then a status */
};

/* Handles a call on the event loop thread once its request message and the
 * client's END_STREAM have arrived. Returns 0 after taking the call: the
 * handler, or the code it passes the call to, must later finish it with
 * grpc_call_finish (for a unary call after at most one
 * grpc_call_send_message). Returns a negative WD_E* code without finishing
 * to have the server finish the call with grpc_status_from_error(code) and
 * err's detail as grpc-message. */
typedef int (*grpc_handler_fn)(struct grpc_call *call, void *arg, struct wd_error *err);

/* One method. path is "/<service>/<method>", e.g.
 * "/SpiffeWorkloadAPI/FetchX509SVID"; other paths get UNIMPLEMENTED. */
struct grpc_method {
	const char *path;
	enum grpc_method_kind kind;
	grpc_handler_fn handler;
	void *arg;
};

/* Reports an error that no caller can receive (a failed accept, a
 * connection dropped for a protocol error); detail never contains a secret. */
typedef void (*grpc_error_fn)(int code, const char *detail, void *arg);

/* Creates a server on base, which the caller keeps running and frees after
 * the server. limits may be NULL for the defaults. WD_EINVAL for a limit out
 * of range, WD_ENOMEM. */
WD_MUST_CHECK int grpc_server_new(struct event_base *base, const struct grpc_limits *limits,
	struct grpc_server **ret_server, struct wd_error *err);

/* Adds methods (the table and its strings are copied). WD_EINVAL for a path
 * that does not look like "/service/method", a NULL handler or a path
 * already added; on error no method of the table is added. */
WD_MUST_CHECK int grpc_server_add_methods(struct grpc_server *server,
	const struct grpc_method *methods, size_t method_count, struct wd_error *err);

/* Sets the callback for errors without a caller; NULL drops them. */
void grpc_server_set_error_cb(struct grpc_server *server, grpc_error_fn cb, void *arg);

/* Listens on the Unix socket at path, removing a stale socket file first
 * and creating the new one with mode (e.g. 0666 for the Workload API).
 * WD_EINVAL for a path longer than sun_path or a file in the way that is not
 * a socket (left untouched), WD_EIO when binding fails. Every connection's
 * SO_PEERCRED credentials are read at accept. */
WD_MUST_CHECK int grpc_server_listen_unix(struct grpc_server *server, const char *path,
	mode_t mode, struct wd_error *err);

/* Returns the number of open connections. */
size_t grpc_server_connection_count(const struct grpc_server *server);

/* Closes the listeners (unlinking their socket files) and every connection,
 * running the close callback of each open call with cancelled = true, and
 * frees the server; accepts NULL. Calls that still hold references stay
 * valid but closed. Must run on the event loop thread or with it stopped. */
void grpc_server_free(struct grpc_server *server);

/* Call accessors. Every grpc_call_* function must run on the event loop
 * thread, and none of them runs a callback before it returns. Returned
 * pointers are owned by the call and live as long as it does. */

/* Returns the request message without its 5-byte prefix (len may be 0). */
const uint8_t *grpc_call_request(const struct grpc_call *call, size_t *ret_len);

/* Returns the :path of the request, e.g. "/SpiffeWorkloadAPI/FetchJWTSVID". */
const char *grpc_call_path(const struct grpc_call *call);

/* Returns how many header fields named key (compared case-insensitively)
 * the request carried, and stores the first value in ret_first (NULL when
 * there is none; ret_first may be NULL). Values are as received: a "-bin"
 * key's value stays base64. Pseudo-headers and the HTTP/2 and gRPC headers
 * (content-type, te, grpc-timeout, ...) are not metadata but are found too. */
size_t grpc_call_metadata(const struct grpc_call *call, const char *key,
	const char **ret_first);

/* Stores the SO_PEERCRED credentials read when the connection was accepted;
 * WD_ENOTFOUND when there are none (a connection without a socket). */
WD_MUST_CHECK int grpc_call_peer_cred(const struct grpc_call *call, uid_t *ret_uid,
	gid_t *ret_gid, pid_t *ret_pid);

/* Identity of a peer process: its start time and the file it executes. A
 * process that calls execve() keeps its pid and start time but gets a new
 * executable, so comparing the executable catches a connection handed to
 * a process that then ran another program. */
struct grpc_peer_process {
	uint64_t start_time; /* field 22 of /proc/PID/stat, clock ticks since boot */
	bool has_exe;        /* false when /proc/PID/exe could not be read */
	dev_t exe_dev;       /* st_dev and st_ino of stat(/proc/PID/exe) */
	ino_t exe_ino;
};

/* Reads the identity of process pid from /proc now. WD_ENOTFOUND when the
 * process does not exist, WD_EIO when its stat file cannot be read or
 * parsed. An unreadable executable (permission, a zombie) is not an error
 * but leaves has_exe false. */
WD_MUST_CHECK int grpc_peer_process_read(pid_t pid, struct grpc_peer_process *ret_process);

/* Stores the identity of the SO_PEERCRED pid as the server read it right
 * after accepting the connection; WD_ENOTFOUND when there is none (no
 * credentials, or the process was gone by then). */
WD_MUST_CHECK int grpc_call_peer_process(const struct grpc_call *call,
	struct grpc_peer_process *ret_process);

/* Queues one reply message of len bytes (copied) and sends it as the loop
 * runs, with the response headers before the first one. WD_EIO when the
 * stream or connection is closed, WD_EINVAL after grpc_call_finish or for a
 * second message on a unary call, WD_ETOOBIG when len is over
 * max_message_bytes or the call's send queue would pass
 * max_send_queue_bytes. Nothing is queued on error. */
WD_MUST_CHECK int grpc_call_send_message(struct grpc_call *call, const void *bytes,
	size_t len);

/* Ends the call with status (0..16) and message (may be NULL; sent
 * percent-encoded as grpc-message and cut to 1024 bytes) after the queued
 * messages. WD_EIO when the stream or connection is closed, WD_EINVAL for a
 * second finish or a status out of range. */
WD_MUST_CHECK int grpc_call_finish(struct grpc_call *call, int status, const char *message);

/* Runs once when the call's stream closes, on the event loop thread.
 * cancelled is false after the status was sent, and true when the client
 * cancelled (RST_STREAM), the connection closed or the server was freed
 * first. The call stays valid while the callback runs. */
typedef void (*grpc_close_fn)(struct grpc_call *call, bool cancelled, void *arg);

/* Sets (or with NULL clears) the close callback. On a call that has already
 * closed the callback is never run, so check grpc_call_is_open after. */
void grpc_call_set_close_cb(struct grpc_call *call, grpc_close_fn cb, void *arg);

/* Returns true until the call's stream closes. */
bool grpc_call_is_open(const struct grpc_call *call);

/* Takes a reference so the call outlives its stream; returns call. The
 * server's own reference ends after the close callback returns. */
struct grpc_call *grpc_call_ref(struct grpc_call *call);

/* Drops a reference and frees the call with the last one; accepts NULL. */
void grpc_call_unref(struct grpc_call *call);

/* Client. */

/* One metadata field sent with a request; key is lower case. */
struct grpc_metadata {
	const char *key;
	const char *value;
};

/* Final status of a call as the server sent it. */
struct grpc_call_status {
	int code;          /* grpc-status */
	char message[1024]; /* grpc-message, percent-decoded, cut to fit */
};

/* Receives one reply message of a streaming call (borrowed until the
 * callback returns). Returning a negative WD_E* code cancels the call with
 * RST_STREAM(CANCEL), and grpc_client_stream returns that code. */
typedef int (*grpc_message_fn)(const uint8_t *bytes, size_t len, void *arg);

/* Connects to the Unix socket at path; the HTTP/2 preface goes out with the
 * first call. limits may be NULL. WD_EINVAL for a bad path, WD_EIO when
 * connecting fails, WD_ETIMEOUT after timeout_ms (0: no limit). */
WD_MUST_CHECK int grpc_client_connect_unix(const char *path, const struct grpc_limits *limits,
	unsigned timeout_ms, struct grpc_client **ret_client, struct wd_error *err);

/* Makes a unary call to method ("/Service/Method") with metadata and
 * request bytes, waiting at most timeout_ms (0: no limit; also sent as
 * grpc-timeout). Returns 0 when the server sent a status, which is stored in
 * ret_status; then ret_reply (freed by the caller, NULL when no message came)
 * and ret_reply_len hold the reply. WD_EIO for a broken connection,
 * WD_ETIMEOUT, WD_EINVAL for a protocol violation by the server, WD_ETOOBIG
 * for a reply over max_message_bytes. */
WD_MUST_CHECK int grpc_client_unary(struct grpc_client *client, const char *method,
	const struct grpc_metadata *metadata, size_t metadata_count, const void *request,
	size_t request_len, unsigned timeout_ms, uint8_t **ret_reply, size_t *ret_reply_len,
	struct grpc_call_status *ret_status, struct wd_error *err);

/* Makes a server-streaming call and runs on_message for each reply until
 * the server sends a status (stored in ret_status, returns 0). The errors of
 * grpc_client_unary, or the negative code on_message returned. */
WD_MUST_CHECK int grpc_client_stream(struct grpc_client *client, const char *method,
	const struct grpc_metadata *metadata, size_t metadata_count, const void *request,
	size_t request_len, unsigned timeout_ms, grpc_message_fn on_message, void *arg,
	struct grpc_call_status *ret_status, struct wd_error *err);

/* Makes every later call end with WD_EUNAVAILABLE, after RST_STREAM(CANCEL),
 * as soon as fd is readable; -1 removes it. The caller owns fd (an eventfd
 * or a pipe read end), so another thread can stop a call that is blocked on an
 * idle stream. */
void grpc_client_set_cancel_fd(struct grpc_client *client, int fd);

/* Closes the connection and frees the client; accepts NULL. */
void grpc_client_free(struct grpc_client *client);
