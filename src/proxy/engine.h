/* Internals of the proxy's event loop, shared by its files: workers,
 * listeners, connections and their buffers. One worker thread per core runs
 * its own libevent base with its own SO_REUSEPORT listening sockets, so a
 * connection lives and dies on one thread and needs no locks. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/ssl.h>

#include "common/buf.h"
#include "proxy/http1.h"
#include "proxy/metrics.h"
#include "proxy/proxy.h"

struct proxy_engine;
struct worker;

/* A resolved listener, shared read-only by the workers. */
struct listener {
	const struct proxy_listener_config *config;
	struct sockaddr_storage listen_addr;
	socklen_t listen_len;
	struct sockaddr_storage target_addr;
	socklen_t target_len;
	char listen_text[80];  /* with the port resolved */
	size_t index;
};

/* A byte queue of the worker's buffer size. data is NULL while the queue
 * is empty, so an idle connection keeps no buffer. */
struct pbuf {
	uint8_t *data;
	uint32_t start, end;
};

enum side_state {
	SIDE_UNUSED,
	SIDE_CONNECTING, /* TCP connect in progress */
	SIDE_HANDSHAKE,  /* TLS handshake in progress */
	SIDE_OPEN,
};

struct side {
	int fd;
	SSL *ssl;            /* NULL for plaintext */
	struct event ev;     /* EV_READ|EV_WRITE|EV_ET|EV_PERSIST */
	bool ev_added;
	enum side_state state;
	bool read_eof;       /* the peer sent its last byte */
	bool write_shut;     /* we sent our last byte */
	bool readable;       /* no read has hit EAGAIN since the last read event */
	bool short_read;     /* the last recv returned less than it asked for */
	bool peer_closed;    /* EPOLLRDHUP seen: a FIN may wait behind the data */
	bool write_blocked;  /* bytes wait for the socket to become writable */
	uint32_t retry_len;  /* SSL_write length to repeat after WANT_WRITE */
	uint64_t bytes_in;   /* read from this side */
	uint64_t bytes_out;  /* written to this side */
};

/* A request waiting for its response, oldest first. */
#define HTTP_PIPELINE_MAX 16

struct pending_request {
	char method[16];
	char path[128];
	char decision;       /* 'a' allowed, 'd' denied, 'e' refused as malformed */
	int local_status;    /* != 0: the status of the proxy's own response; not forwarded */
	int64_t start_ms;
	uint64_t bytes_before; /* bytes sent to the client before its response */
};

enum http_phase {
	HTTP_HEAD,
	HTTP_BODY,
	HTTP_TUNNEL,  /* after 101 Switching Protocols: bytes pass unchanged */
	HTTP_WAIT,    /* after an Upgrade request, until its response */
	HTTP_STOPPED, /* the proxy sent its own response; nothing more is read */
};

struct http_state {
	enum http_phase req_phase, resp_phase;
	struct http1_body req_body, resp_body;
	struct pending_request queue[HTTP_PIPELINE_MAX];
	unsigned queue_head, queue_len;
	int64_t head_started_ms;   /* first byte of the current request head */
	int resp_status;
	uint64_t resp_bytes;       /* of the response being forwarded */
	bool close_after_response; /* the upstream sent Connection: close */
	char *local_response;      /* the proxy's own response, waiting its turn */
	size_t local_response_len;
	char *xfcc_line;           /* "X-Forwarded-Client-Cert: ..." (inbound) */
};

struct conn {
	struct worker *worker;
	const struct listener *listener;
	struct conn *prev, *next;     /* the worker's list, for the sweep */
	struct side down;             /* the caller */
	struct side up;               /* forward address or upstream */
	struct pbuf req_in, req_out;  /* down to up; L4 uses req_in only */
	struct pbuf resp_in, resp_out;/* up to down; L4 uses resp_in only */
	struct proxy_identity *identity;
	const char *peer_id;          /* verified SPIFFE ID of the mTLS peer */
	char source_address[64];
	int64_t accepted_ms, last_io_ms;
	int64_t connect_started_ms;
	struct http_state *http;      /* NULL for L4 */
	const char *close_reason;     /* static text for the access log */
	const char *decision;         /* "allow", "deny" or NULL */
	bool closing;                 /* close once resp_out is flushed */
	bool counted_refusal;
	bool resumed;
};

struct worker {
	struct proxy_engine *engine;
	size_t index;
	pthread_t thread;
	struct event_base *base;
	int *listen_fds;              /* one per listener */
	struct event *listen_events;
	struct event sweep;
	struct event wake;
	int wake_pipe[2];
	struct conn *conns;           /* every open connection */
	size_t conn_count;
	uint8_t **free_bufs;          /* buffers for reuse */
	size_t free_count, free_cap;
	struct http1_head *scratch_head;
	SSL_SESSION **sessions;       /* outbound: last session per listener */
	uint64_t *session_generation;
	struct wd_buf access_log;
	int64_t now_ms;
	/* Allowed decisions of this worker, for --audit-allow-sample. Counted
	 * per worker, not per connection, because most clients send one
	 * request per connection and would all be sampled. */
	uint64_t allow_counter;
};

struct proxy_engine {
	const struct proxy_config *config;
	struct listener listeners[PROXY_MAX_LISTENERS];
	size_t listener_count;
	struct worker *workers;
	size_t worker_count;
	struct proxy_identity_source *identity_source;
	struct proxy_authz *authz;
	struct proxy_audit *audit;
	struct proxy_metrics *metrics;
	struct http1_limits http_limits;
	int access_log_fd;            /* -1: no access log */
	volatile int stopping;
	uint32_t buffer_bytes;
};

/* Buffers. */
WD_MUST_CHECK int pbuf_reserve(struct worker *w, struct pbuf *b);
void pbuf_release(struct worker *w, struct pbuf *b);
static inline uint32_t pbuf_len(const struct pbuf *b)
{
	return b->end - b->start;
}

/* Connections (conn.c). */
void conn_accept(struct worker *w, const struct listener *l, int fd,
	const struct sockaddr_storage *addr, socklen_t addr_len);
void conn_pump(struct conn *c);
void conn_close(struct conn *c, const char *reason);
void conn_sweep(struct worker *w);

/* HTTP (conn_http.c): move bytes from in to out for one direction. Return
 * true when something moved; a fatal problem sets c->closing or closes. */
bool http_transform_request(struct conn *c);
bool http_transform_response(struct conn *c);
WD_MUST_CHECK int http_state_new(struct conn *c);
void http_state_free(struct http_state *h);
/* Called when the upstream closes: ends a response framed by the close. */
void http_upstream_eof(struct conn *c);

/* Logging (access_log.c). */
void access_log_connection(struct conn *c);
void access_log_request(struct conn *c, const struct pending_request *req, int status,
	uint64_t bytes);
void access_log_flush(struct worker *w);

/* Writes "ip:port" ("[ip]:port" for IPv6) of addr to out. */
void proxy_format_address(const struct sockaddr_storage *addr, socklen_t len, char *out,
	size_t size);

/* Parses "host:port" or "[v6]:port"; names are resolved. WD_ECONFIG naming
 * text when it is not an address. */
WD_MUST_CHECK int proxy_parse_address(const char *text, struct sockaddr_storage *ret_addr,
	socklen_t *ret_len, struct wd_error *err);
