/* The HTTP server: evhttp listeners over TLS bufferevents or a Unix socket,
 * per-connection tracking, and dispatch of each request through the route
 * table. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "common/alloc.h"
#include "net/net_private.h"

static void report_error(struct net_server *server, int code, const char *detail)
{
	if (server->error_cb)
		server->error_cb(code, detail, server->error_arg);
}

static struct timeval ms_to_timeval(unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

int net_server_new(struct event_base *base, const struct net_limits *limits,
	struct net_server **ret_server, struct wd_error *err)
{
	struct net_server *server;
	int rc;

	*ret_server = NULL;
	if (!base)
		return wd_error_set(err, WD_EINVAL, "server needs an event_base");
	server = calloc(1, sizeof(*server));
	if (!server)
		return wd_error_set(err, WD_ENOMEM, "out of memory creating the server");
	server->base = base;
	rc = limits_normalize(limits, &server->limits, err);
	if (rc == 0 && refusal_logs_init(server) < 0)
		rc = wd_error_set(err, WD_ENOMEM, "out of memory creating the server");
	if (rc < 0) {
		net_server_free(server);
		return rc;
	}
	*ret_server = server;
	return 0;
}

void net_server_set_error_cb(struct net_server *server, net_error_fn cb, void *arg)
{
	server->error_cb = cb;
	server->error_arg = arg;
}

/* Turns off Nagle's algorithm on a TCP socket. A reply that leaves in more
 * than one segment would otherwise wait for the peer's delayed ACK of the
 * first, 40 ms or more on Linux. Returns 0 or -errno. */
static int tcp_nodelay_set(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

/* Connection tracking and deadlines. */

/* Index of the conn_track in the ex_data of each TLS connection's SSL. */
static int track_ssl_index = -1;
static pthread_once_t track_ssl_once = PTHREAD_ONCE_INIT;

static void track_arm(struct conn_track *track, enum track_phase phase, unsigned ms)
{
	struct timeval tv = ms_to_timeval(ms);

	track->phase = phase;
	if (track->timer && event_add(track->timer, &tv) < 0)
		report_error(track->listener->server, WD_EINTERNAL, "cannot start a connection "
			"deadline timer; the connection has only the read timeout");
}

/* Closes a connection to enforce a limit. Shutting the socket down makes
 * libevent read EOF and free the connection by its usual path, which works
 * in every state from the TLS handshake on. */
static void track_shutdown(struct conn_track *track)
{
	int fd = track->bev ? (int)bufferevent_getfd(track->bev) : -1;

	track->phase = TRACK_CLOSING;
	if (track->timer)
		event_del(track->timer);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

/* Runs right after a TLS accept: counts the connection against its client
 * address, and closes it when the address is over max_connections_per_ip. */
static void track_admit(struct conn_track *track)
{
	struct net_listener *listener = track->listener;
	const struct net_limits *limits = &listener->server->limits;
	size_t count = 0;
	int rc;

	rc = ip_key_of_socket((int)bufferevent_getfd(track->bev), &track->ip);
	if (rc < 0) {
		/* The peer is gone already; libevent reads EOF next. */
		track_shutdown(track);
		return;
	}
	rc = ip_slot_acquire(listener, &track->ip, &count);
	if (rc == WD_ETOOBIG) {
		refusal_report(listener->server, REFUSAL_PER_IP, "rejected a TLS connection from %s: "
			"it has %zu open connections, the limit per client address "
			"(limits.max_connections_per_ip)", track->ip.text, count);
		track_shutdown(track);
		return;
	}
	if (rc < 0) {
		refusal_report(listener->server, REFUSAL_MAX_CONNECTIONS, "rejected a TLS "
			"connection from %s: %zu client addresses hold all connections "
			"(limits.max_connections)", track->ip.text, listener->ip_slot_count);
		track_shutdown(track);
		return;
	}
	track->ip_counted = true;
	track_arm(track, TRACK_HANDSHAKE, limits->handshake_timeout_ms);
}

static void track_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn_track *track = arg;
	struct net_listener *listener = track->listener;
	const struct net_limits *limits = &listener->server->limits;
	SSL *ssl;

	(void)fd;
	(void)events;
	switch (track->phase) {
	case TRACK_ADMIT:
		track_admit(track);
		return;
	case TRACK_HANDSHAKE:
		ssl = bufferevent_openssl_get_ssl(track->bev);
		refusal_report(listener->server, REFUSAL_HANDSHAKE_TIMEOUT, "closed a TLS "
			"connection from %s: %s within %u ms of accept (limits.handshake_timeout)",
			track->ip.text, ssl && SSL_is_init_finished(ssl) ? "no request started" :
			"TLS handshake not finished", limits->handshake_timeout_ms);
		break;
	case TRACK_READING:
		refusal_report(listener->server, REFUSAL_REQUEST_TIMEOUT, "closed a connection "
			"from %s: request not read within %u ms of its first byte "
			"(limits.request_timeout)", listener->kind == LISTENER_TLS ?
			track->ip.text : "the admin socket", limits->request_timeout_ms);
		break;
	case TRACK_IDLE:
	case TRACK_CLOSING:
		return;
	}
	track_shutdown(track);
}

static void track_input_cb(struct evbuffer *buffer, const struct evbuffer_cb_info *info,
	void *arg)
{
	struct conn_track *track = arg;
	const struct net_limits *limits = &track->listener->server->limits;
	struct timeval tv;

	(void)buffer;
	if (info->n_added == 0)
		return;
	if (track->phase != TRACK_HANDSHAKE && track->phase != TRACK_IDLE)
		return;

	/* The first bytes of a request arrived: its deadline starts, and the
	 * shorter read timeout applies again until the request is read. */
	track_arm(track, TRACK_READING, limits->request_timeout_ms);
	if (track->evcon) {
		tv = ms_to_timeval(limits->read_timeout_ms);
		evhttp_connection_set_timeout_tv(track->evcon, &tv);
	}
}

static struct conn_track *track_new(struct net_listener *listener, struct bufferevent *bev)
{
	struct conn_track *track = calloc(1, sizeof(*track));

	if (!track)
		return NULL;
	track->listener = listener;
	track->bev = bev;
	track->phase = TRACK_IDLE;
	track->timer = evtimer_new(listener->server->base, track_timer_cb, track);
	track->input_cb = evbuffer_add_cb(bufferevent_get_input(bev), track_input_cb, track);
	if (!track->timer || !track->input_cb) {
		if (track->input_cb)
			evbuffer_remove_cb_entry(bufferevent_get_input(bev), track->input_cb);
		if (track->timer)
			event_free(track->timer);
		free(track);
		return NULL;
	}
	return track;
}

/* Stops a track's callbacks and gives back its address count. The caller
 * frees the memory. */
static void track_detach(struct conn_track *track)
{
	if (track->timer)
		event_free(track->timer);
	track->timer = NULL;
	if (track->input_cb && track->bev)
		evbuffer_remove_cb_entry(bufferevent_get_input(track->bev), track->input_cb);
	track->input_cb = NULL;
	if (track->listener && track->ip_counted)
		ip_slot_release(track->listener, &track->ip);
	track->ip_counted = false;
	track->listener = NULL;
}

static void tls_track_unlink(struct net_listener *listener, struct conn_track *track)
{
	if (track->prev)
		track->prev->next = track->next;
	else
		listener->tls_tracks = track->next;
	if (track->next)
		track->next->prev = track->prev;
	track->prev = track->next = NULL;
}

/* Runs inside SSL_free, which libevent calls when it finalizes the
 * connection's bufferevent, possibly after the listener is gone. */
static void tls_track_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
	void *argp)
{
	struct conn_track *track = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!track)
		return;
	if (track->listener)
		tls_track_unlink(track->listener, track);
	/* The bufferevent is being finalized and frees its own evbuffer
	 * callbacks. */
	track->input_cb = NULL;
	track_detach(track);
	free(track);
}

static void track_ssl_index_init(void)
{
	track_ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, tls_track_free);
}

/* Creates the track of a new TLS connection and queues its admission,
 * which runs once libevent has set the accepted socket on bev. */
static int tls_track_start(struct net_listener *listener, struct bufferevent *bev, SSL *ssl)
{
	struct conn_track *track;

	pthread_once(&track_ssl_once, track_ssl_index_init);
	if (track_ssl_index < 0)
		return WD_EINTERNAL;
	track = track_new(listener, bev);
	if (!track)
		return WD_ENOMEM;
	if (!SSL_set_ex_data(ssl, track_ssl_index, track)) {
		track_detach(track);
		free(track);
		return WD_ENOMEM;
	}
	track->next = listener->tls_tracks;
	if (track->next)
		track->next->prev = track;
	listener->tls_tracks = track;

	/* Active callbacks run in the current pass of the event loop, after
	 * libevent's accept callback returns and before any byte of the new
	 * connection is read. */
	track->phase = TRACK_ADMIT;
	event_active(track->timer, EV_TIMEOUT, 1);
	return 0;
}

static struct conn_track *tls_track_of(struct bufferevent *bev)
{
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;

	if (!ssl || track_ssl_index < 0)
		return NULL;
	return SSL_get_ex_data(ssl, track_ssl_index);
}

static void track_remove(struct net_listener *listener, struct conn_track *track)
{
	for (size_t i = 0; i < listener->track_count; i++) {
		if (listener->tracks[i] == track) {
			listener->tracks[i] = listener->tracks[listener->track_count - 1];
			listener->track_count--;
			return;
		}
	}
}

/* libevent's close callback of a Unix connection. */
static void track_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn_track *track = arg;

	(void)evcon;
	track_remove(track->listener, track);
	track_detach(track);
	free(track);
}

static struct conn_track *track_find(struct net_listener *listener,
	struct evhttp_connection *evcon)
{
	for (size_t i = 0; i < listener->track_count; i++) {
		if (listener->tracks[i]->evcon == evcon)
			return listener->tracks[i];
	}
	return NULL;
}

/* Returns the track of evcon. A TLS connection has had one since accept;
 * a Unix one gets it here at its first request. WD_ETOOBIG when the Unix
 * listener already tracks max_connections connections, WD_ENOMEM. */
static int track_get(struct net_listener *listener, struct evhttp_connection *evcon,
	struct conn_track **ret_track)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	struct conn_track *track;

	*ret_track = NULL;
	if (listener->kind == LISTENER_TLS) {
		track = tls_track_of(bev);
		if (!track)
			return WD_ENOMEM;
		if (!track->evcon) {
			track->evcon = evcon;
			/* Linux copies TCP_NODELAY from the listening socket at
			 * accept, so the handshake already ran without Nagle.
			 * Other kernels may not, so it is set on the connection
			 * itself at its first request. */
			if (tcp_nodelay_set(bufferevent_getfd(bev)) < 0)
				report_error(listener->server, WD_EIO, "setting TCP_NODELAY on an "
					"accepted connection failed; its replies may wait for "
					"delayed ACKs");
		}
		*ret_track = track;
		return 0;
	}

	track = track_find(listener, evcon);
	if (track) {
		*ret_track = track;
		return 0;
	}
	if (listener->track_count >= listener->server->limits.max_connections)
		return WD_ETOOBIG;
	track = track_new(listener, bev);
	if (!track)
		return WD_ENOMEM;
	track->evcon = evcon;
	if (peercred_read(bufferevent_getfd(bev), &track->uid, &track->gid, &track->pid) == 0)
		track->has_cred = true;
	listener->tracks[listener->track_count++] = track;
	evhttp_connection_set_closecb(evcon, track_closed, track);
	*ret_track = track;
	return 0;
}

/* Checks before routing: transport, peer, header count. Returns false
 * after sending the error reply. */

static bool uid_allowed(const struct net_listener *listener, uid_t uid)
{
	if (uid == 0)
		return true;
	for (size_t i = 0; i < listener->allowed_uid_count; i++) {
		if (listener->allowed_uids[i] == uid)
			return true;
	}
	return false;
}

static size_t header_count(struct evhttp_request *ev)
{
	struct evkeyvalq *headers = evhttp_request_get_input_headers(ev);
	struct evkeyval *header;
	size_t count = 0;

	for (header = headers->tqh_first; header; header = header->next.tqe_next)
		count++;
	return count;
}

/* Checks the headers that frame the body (RFC 9112 section 6.3). A request
 * with two Content-Length headers, even equal ones, or with Content-Length
 * and Transfer-Encoding cannot be framed reliably and may be an attempt at
 * request smuggling. Returns NULL or the reason to reject it. */
static const char *framing_error(struct evhttp_request *ev)
{
	struct evkeyvalq *headers = evhttp_request_get_input_headers(ev);
	struct evkeyval *header;
	size_t lengths = 0;
	bool chunked = false;

	for (header = headers->tqh_first; header; header = header->next.tqe_next) {
		if (strcasecmp(header->key, "Content-Length") == 0)
			lengths++;
		else if (strcasecmp(header->key, "Transfer-Encoding") == 0)
			chunked = true;
	}
	if (lengths > 1)
		return "request has more than one Content-Length header";
	if (lengths == 1 && chunked)
		return "request has both Content-Length and Transfer-Encoding headers";
	return NULL;
}

static bool connection_admit(struct net_listener *listener, struct evhttp_request *ev,
	struct conn_track *track)
{
	const char *framing;
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	const struct net_limits *limits = &listener->server->limits;
	char detail[128];

	/* A TLS listener never serves a connection without TLS, even if the
	 * SSL bufferevent could not be created at accept. */
	if (listener->kind == LISTENER_TLS && !bufferevent_openssl_get_ssl(bev)) {
		reply_error_raw(ev, 503, WD_EUNAVAILABLE, "TLS is not available", true);
		return false;
	}
	if (listener->kind == LISTENER_UNIX && (!track->has_cred ||
	    !uid_allowed(listener, track->uid))) {
		snprintf(detail, sizeof(detail), "uid %ld is not allowed on the admin socket",
			track->has_cred ? (long)track->uid : -1L);
		reply_error_raw(ev, 403, WD_EPERM, detail, true);
		return false;
	}
	if (header_count(ev) > limits->max_header_count) {
		snprintf(detail, sizeof(detail), "request has more than %zu headers",
			limits->max_header_count);
		reply_error_raw(ev, 431, WD_ETOOBIG, detail, true);
		return false;
	}
	framing = framing_error(ev);
	if (framing) {
		reply_error_raw(ev, 400, WD_EINVAL, framing, true);
		return false;
	}
	return true;
}

static int route_authorize(const struct net_request *req, enum net_auth auth,
	struct wd_error *err)
{
	bool is_unix = req->listener->kind == LISTENER_UNIX;
	bool has_cert = req->peer_chain != NULL;

	switch (auth) {
	case NET_AUTH_NONE:
		return 0;
	case NET_AUTH_CLIENT_CERT:
		if (is_unix)
			return wd_error_set(err, WD_EPERM, "%s is not served on the admin socket",
				req->path);
		if (!has_cert)
			return wd_error_set(err, WD_EAUTH, "%s requires a client certificate",
				req->path);
		return 0;
	case NET_AUTH_UNIX:
		if (!is_unix)
			return wd_error_set(err, WD_EPERM, "%s is served only on the admin socket",
				req->path);
		return 0;
	case NET_AUTH_CLIENT_CERT_OR_UNIX:
		if (!is_unix && !has_cert)
			return wd_error_set(err, WD_EAUTH, "%s requires a client certificate",
				req->path);
		return 0;
	}
	return wd_error_set(err, WD_EINTERNAL, "route has invalid auth %d", (int)auth);
}

static void dispatch(struct net_listener *listener, struct evhttp_request *ev,
	struct conn_track *track)
{
	const struct compiled_route *route = NULL;
	struct net_request req;
	struct wd_error err;
	char allow[64];
	int rc;

	wd_error_clear(&err);
	rc = request_init(&req, ev, listener, track, &err);
	if (rc < 0) {
		request_reply_error_close(&req, rc, wd_error_public_text(&err));
		goto out;
	}

	rc = router_match(&listener->router, evhttp_request_get_command(ev), req.route_path, &req,
		&route, allow, sizeof(allow));
	if (rc == WD_ENOTFOUND) {
		snprintf(err.detail, sizeof(err.detail), "no route for %s", req.path);
		reply_error_raw(ev, 404, WD_ENOTFOUND, err.detail, false);
		goto out;
	}
	if (rc == WD_EPERM) {
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Allow", allow);
		snprintf(err.detail, sizeof(err.detail), "method %s is not allowed on %s; "
			"allowed: %s", req.method, req.path, allow);
		reply_error_raw(ev, 405, WD_EINVAL, err.detail, false);
		goto out;
	}
	if (rc < 0) {
		request_reply_error_close(&req, rc, "invalid path parameter");
		goto out;
	}

	rc = route_authorize(&req, route->route.auth, &err);
	if (rc == 0)
		rc = route->route.handler(&req, route->route.arg, &err);
	if (rc < 0 && !req.replied) {
		if (net_reply_error(&req, rc, wd_error_public_text(&err)) < 0)
			request_reply_error_close(&req, WD_ENOMEM, NULL);
	}
	if (!req.replied && !req.deferred)
		request_reply_error_close(&req, WD_EINTERNAL, "handler sent no reply");
out:
	request_release(&req);
}

static void request_cb(struct evhttp_request *ev, void *arg)
{
	struct net_listener *listener = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	struct conn_track *track = NULL;
	struct timeval idle;
	int rc;

	rc = track_get(listener, evcon, &track);
	if (rc < 0) {
		reply_error_raw(ev, 503, WD_EUNAVAILABLE, rc == WD_ETOOBIG ?
			"too many connections on this listener" : "out of memory", true);
		return;
	}
	/* The request is read in full, within its deadline. */
	if (track->phase != TRACK_CLOSING) {
		track->phase = TRACK_IDLE;
		event_del(track->timer);
	}
	if (!connection_admit(listener, ev, track))
		return;

	/* The request is read: until the next one starts, the connection is
	 * idle and gets the keep-alive timeout. */
	idle = ms_to_timeval(listener->server->limits.idle_timeout_ms);
	evhttp_connection_set_timeout_tv(evcon, &idle);
	dispatch(listener, ev, track);
}

/* Creates the SSL bufferevent and the track of a new TLS connection.
 * libevent sets the socket on the bufferevent afterwards (evhttp_set_bevcb),
 * so the per-address check runs from the track's queued admission. */
static struct bufferevent *tls_bev_cb(struct event_base *base, void *arg)
{
	struct net_listener *listener = arg;
	const struct net_limits *limits = &listener->server->limits;
	struct bufferevent *bev;
	SSL *ssl;

	/* tls_connection_new marks a connection over max_connections, and its
	 * ClientHello callback then fails the handshake. */
	if (listener->tls_connections >= limits->max_connections)
		refusal_report(listener->server, REFUSAL_MAX_CONNECTIONS, "rejected a TLS "
			"connection at its ClientHello: the listener has %zu open connections "
			"(limits.max_connections)", listener->tls_connections);
	ssl = tls_connection_new(listener);
	if (!ssl) {
		report_error(listener->server, WD_ENOMEM, "cannot create an SSL object for a "
			"new connection");
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		report_error(listener->server, WD_ENOMEM, "cannot create a TLS bufferevent");
		return NULL;
	}
	/* Without a track the connection gets 503 at its first request. */
	if (tls_track_start(listener, bev, ssl) < 0)
		report_error(listener->server, WD_ENOMEM, "cannot track a new TLS connection; "
			"it will be refused");
	return bev;
}

static void listener_free(struct net_listener *listener)
{
	if (!listener)
		return;
	/* evhttp_free closes every connection, which runs track_closed. The
	 * SSL of a TLS connection is freed later, when libevent finalizes its
	 * bufferevent, so its track is detached from the listener here. */
	if (listener->http)
		evhttp_free(listener->http);
	while (listener->tls_tracks) {
		struct conn_track *track = listener->tls_tracks;

		tls_track_unlink(listener, track);
		tls_connection_detach(bufferevent_openssl_get_ssl(track->bev));
		track_detach(track);
	}
	if (listener->path)
		unlink(listener->path);
	router_clear(&listener->router);
	SSL_CTX_free(listener->ctx);
	pthread_mutex_destroy(&listener->ctx_lock);
	free(listener->tracks);
	free(listener->ip_slots);
	free(listener->path);
	free(listener->allowed_uids);
	free(listener);
}

void net_server_free(struct net_server *server)
{
	if (!server)
		return;
	/* Their owners were expected to finish them; a reply is still owed. */
	while (server->deferred) {
		struct net_request *req = server->deferred;

		/* net_request_finish replies 500 when this fails too. */
		if (!req->replied && net_reply_error(req, WD_EUNAVAILABLE,
			"server is shutting down") < 0)
			report_error(server, WD_ENOMEM, "cannot reply 503 to an open request");
		net_request_finish(req);
	}
	while (server->listeners) {
		struct net_listener *next = server->listeners->next;

		listener_free(server->listeners);
		server->listeners = next;
	}
	refusal_logs_free(server);
	free(server);
}

static int listener_new(struct net_server *server, enum listener_kind kind,
	const struct net_route *routes, size_t route_count, struct net_listener **ret_listener,
	struct wd_error *err)
{
	const struct net_limits *limits = &server->limits;
	struct net_listener *listener;
	struct timeval read_tv = ms_to_timeval(limits->read_timeout_ms);
	int rc = 0;

	*ret_listener = NULL;
	listener = calloc(1, sizeof(*listener));
	if (!listener)
		return wd_error_set(err, WD_ENOMEM, "out of memory creating a listener");
	pthread_mutex_init(&listener->ctx_lock, NULL);
	listener->server = server;
	listener->kind = kind;

	WD_GUARD(router_compile(&listener->router, routes, route_count, err));
	listener->tracks = wd_calloc(limits->max_connections, sizeof(*listener->tracks));
	listener->ip_slots = wd_calloc(limits->max_connections, sizeof(*listener->ip_slots));
	listener->http = evhttp_new(server->base);
	if (!listener->tracks || !listener->ip_slots || !listener->http) {
		rc = wd_error_set(err, WD_ENOMEM, "out of memory creating a listener");
		goto out;
	}

	/* libevent 2.1.12 answers a body over its own limit with an HTML 413,
	 * and offers no hook before it reads the headers. So libevent gets
	 * twice the configured limit, and request.c answers bodies between the
	 * two with the JSON error that names the limit.
	 * NOTE: a body over twice max_body_bytes, headers over max_header_bytes
	 * and malformed requests still get libevent's HTML replies. */
	evhttp_set_max_body_size(listener->http,
		(ev_ssize_t)(limits->max_body_bytes > SIZE_MAX / 4 ? limits->max_body_bytes :
		limits->max_body_bytes * 2));
	evhttp_set_max_headers_size(listener->http, (ev_ssize_t)limits->max_header_bytes);
	/* libevent 2.1 has one timeout per connection; it starts as the read
	 * timeout and request_cb and track_input_cb switch it. */
	evhttp_set_timeout_tv(listener->http, &read_tv);
	/* TRACE and CONNECT get 501 from libevent; the rest, including methods
	 * libevent does not know (bit 15, see router.c), reach the router,
	 * which answers 405 with Allow. */
	evhttp_set_allowed_methods(listener->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
		EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
		EVHTTP_REQ_OPTIONS | (1 << 15));
	evhttp_set_default_content_type(listener->http, "application/json");
	evhttp_set_gencb(listener->http, request_cb, listener);
	*ret_listener = WD_TAKE_PTR(listener);
out:
	listener_free(listener);
	return rc;
}

static void listener_attach(struct net_server *server, struct net_listener *listener)
{
	listener->next = server->listeners;
	server->listeners = listener;
}

/* Splits "host:port" or "[v6]:port" into host and port. */
static int address_parse(const char *address, char *host, size_t host_len, uint16_t *ret_port,
	struct wd_error *err)
{
	const char *colon;
	const char *host_start = address;
	size_t len;
	char *end = NULL;
	unsigned long port;

	*ret_port = 0;
	if (!address)
		return wd_error_set(err, WD_EINVAL, "listen address is missing");
	if (address[0] == '[') {
		const char *close = strchr(address, ']');

		if (!close || close[1] != ':')
			goto invalid;
		host_start = address + 1;
		len = (size_t)(close - host_start);
		colon = close + 1;
	} else {
		colon = strrchr(address, ':');
		if (!colon || memchr(address, ':', (size_t)(colon - address)))
			goto invalid;
		len = (size_t)(colon - address);
	}
	if (len == 0 || len >= host_len)
		goto invalid;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || errno || *end || port > 65535)
		goto invalid;
	memcpy(host, host_start, len);
	host[len] = '\0';
	*ret_port = (uint16_t)port;
	return 0;
invalid:
	return wd_error_set(err, WD_EINVAL, "listen address \"%s\" is invalid: use "
		"host:port or [ipv6]:port", address);
}

static int bound_port(struct evhttp_bound_socket *bound, uint16_t *ret_port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = (int)evhttp_bound_socket_get_fd(bound);

	*ret_port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return WD_EIO;
	if (ss.ss_family == AF_INET)
		*ret_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		*ret_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		return WD_EIO;
	return 0;
}

int net_listener_add_tls(struct net_server *server, const char *address,
	const struct net_tls_config *tls, const struct net_route *routes, size_t route_count,
	struct net_listener **ret_listener, uint16_t *ret_port, struct wd_error *err)
{
	struct net_listener *listener = NULL;
	char host[INET6_ADDRSTRLEN + 1];
	uint16_t port;
	int rc = 0;

	if (ret_listener)
		*ret_listener = NULL;
	if (ret_port)
		*ret_port = 0;
	WD_GUARD(address_parse(address, host, sizeof(host), &port, err));
	WD_GUARD(listener_new(server, LISTENER_TLS, routes, route_count, &listener, err));
	WD_GUARD(tls_server_ctx_new(tls, &listener->ctx, err));
	evhttp_set_bevcb(listener->http, tls_bev_cb, listener);

	listener->bound = evhttp_bind_socket_with_handle(listener->http, host, port);
	if (!listener->bound) {
		rc = wd_error_set(err, WD_EIO, "cannot listen on %s: %s", address,
			strerror(errno));
		goto out;
	}
	if (bound_port(listener->bound, &port) < 0) {
		rc = wd_error_set(err, WD_EIO, "cannot read the bound port of %s", address);
		goto out;
	}
	if (tcp_nodelay_set((int)evhttp_bound_socket_get_fd(listener->bound)) < 0) {
		rc = wd_error_set(err, WD_EIO, "cannot set TCP_NODELAY on %s: %s", address,
			strerror(errno));
		goto out;
	}

	if (ret_listener)
		*ret_listener = listener;
	if (ret_port)
		*ret_port = port;
	listener_attach(server, WD_TAKE_PTR(listener));
out:
	listener_free(listener);
	return rc;
}

int net_listener_update_tls(struct net_listener *listener, const struct net_tls_config *tls,
	struct wd_error *err)
{
	SSL_CTX *ctx = NULL;
	SSL_CTX *old;

	if (!listener || listener->kind != LISTENER_TLS)
		return wd_error_set(err, WD_EINVAL, "listener is not a TLS listener");
	WD_TRY(tls_server_ctx_new(tls, &ctx, err));

	/* Each SSL holds a reference to its SSL_CTX, so connections that
	 * started on the old context keep it until they close. */
	pthread_mutex_lock(&listener->ctx_lock);
	old = listener->ctx;
	listener->ctx = ctx;
	pthread_mutex_unlock(&listener->ctx_lock);
	SSL_CTX_free(old);
	return 0;
}

int net_listener_add_unix(struct net_server *server, const char *path, mode_t mode,
	const uid_t *allowed_uids, size_t allowed_uid_count, const struct net_route *routes,
	size_t route_count, struct net_listener **ret_listener, struct wd_error *err)
{
	struct net_listener *listener = NULL;
	int fd = -1;
	int rc = 0;

	if (ret_listener)
		*ret_listener = NULL;
	if (allowed_uid_count > 0 && !allowed_uids)
		return wd_error_set(err, WD_EINVAL, "allowed uid list is missing");
	WD_GUARD(listener_new(server, LISTENER_UNIX, routes, route_count, &listener, err));
	if (allowed_uid_count > 0) {
		listener->allowed_uids = wd_calloc(allowed_uid_count, sizeof(uid_t));
		WD_ENSURE(listener->allowed_uids, WD_ENOMEM);
		memcpy(listener->allowed_uids, allowed_uids, allowed_uid_count * sizeof(uid_t));
		listener->allowed_uid_count = allowed_uid_count;
	}

	WD_GUARD(unix_socket_bind(path, mode, "admin socket", &fd, err));
	listener->path = wd_strdup(path);
	if (!listener->path) {
		unlink(path);
		rc = WD_ENOMEM;
		goto out;
	}
	listener->bound = evhttp_accept_socket_with_handle(listener->http, fd);
	if (!listener->bound) {
		rc = wd_error_set(err, WD_EIO, "cannot accept on admin socket %s", path);
		goto out;
	}
	fd = -1; /* owned by evhttp now */

	if (ret_listener)
		*ret_listener = listener;
	listener_attach(server, WD_TAKE_PTR(listener));
out:
	if (fd >= 0)
		close(fd);
	listener_free(listener);
	return rc;
}

size_t net_listener_connection_count(const struct net_listener *listener)
{
	if (listener->kind == LISTENER_TLS)
		return listener->tls_connections;
	return listener->track_count;
}
