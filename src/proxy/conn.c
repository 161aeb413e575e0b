/* One proxied connection: a caller side and an upstream side, each plain
 * TCP or TLS, with a queue per direction. Sockets are registered once,
 * edge-triggered, and every event runs conn_pump, which moves bytes in both
 * directions until nothing more can move. Reading from a side stops while
 * its queue is full (backpressure) and resumes in the same pump once the
 * other side drained it, so no event is ever re-armed. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "common/time.h"
#include "proxy/authz.h"
#include "proxy/engine.h"

/* Outcome of one read or write on a side. */
enum io_result {
	IO_DONE,   /* bytes moved */
	IO_AGAIN,  /* the socket would block */
	IO_EOF,    /* the peer ended its stream */
	IO_ERROR,  /* reset, protocol error */
};

static void on_side_event(evutil_socket_t fd, short what, void *arg);

/* Records whether OpenSSL's last recv on a TLS side was short. A short recv
 * means the socket is drained, so flow_read can stop without another recv. */
static long on_bio_io(BIO *bio, int oper, const char *argp, size_t len, int argi, long argl,
	int ret, size_t *processed)
{
	struct side *s = (struct side *)BIO_get_callback_arg(bio);

	(void)argp;
	(void)argi;
	(void)argl;
	if (s && oper == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0 && processed)
		s->short_read = *processed < len;
	return ret;
}

static void watch_reads(struct side *s)
{
	BIO *bio = SSL_get_rbio(s->ssl);

	if (!bio)
		return;
	BIO_set_callback_arg(bio, (char *)s);
	BIO_set_callback_ex(bio, on_bio_io);
}

static void side_init(struct side *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->readable = true;
}

static int side_register(struct conn *c, struct side *s)
{
	if (event_assign(&s->ev, c->worker->base, s->fd,
		    EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST, on_side_event, c) != 0)
		return WD_EINTERNAL;
	if (event_add(&s->ev, NULL) != 0)
		return WD_EINTERNAL;
	s->ev_added = true;
	return 0;
}

static void side_close(struct side *s)
{
	if (s->ev_added) {
		event_del(&s->ev);
		s->ev_added = false;
	}
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	s->state = SIDE_UNUSED;
}

/* Reads into the free tail of b. */
static enum io_result side_read(struct side *s, struct pbuf *b, uint32_t cap, uint32_t *ret_n)
{
	uint32_t room = cap - b->end;

	*ret_n = 0;
	if (s->ssl) {
		size_t n = 0;
		int rc = SSL_read_ex(s->ssl, b->data + b->end, room, &n);

		if (rc == 1) {
			*ret_n = (uint32_t)n;
			return IO_DONE;
		}
		switch (SSL_get_error(s->ssl, 0)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return IO_AGAIN;
		case SSL_ERROR_ZERO_RETURN:
			return IO_EOF;
		case SSL_ERROR_SYSCALL:
			ERR_clear_error();
			return errno == 0 ? IO_EOF : IO_ERROR;
		default:
			ERR_clear_error();
			return IO_ERROR;
		}
	}

	for (;;) {
		ssize_t n = recv(s->fd, b->data + b->end, room, 0);

		if (n > 0) {
			*ret_n = (uint32_t)n;
			s->short_read = (uint32_t)n < room;
			return IO_DONE;
		}
		if (n == 0)
			return IO_EOF;
		if (errno == EINTR)
			continue;
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? IO_AGAIN : IO_ERROR;
	}
}

static enum io_result side_write(struct side *s, const uint8_t *data, uint32_t len,
	uint32_t *ret_n)
{
	*ret_n = 0;
	if (s->ssl) {
		size_t n = 0;
		uint32_t attempt = len;
		int rc;

		/* After WANT_WRITE, OpenSSL needs at least the length it was
		 * given before; the queue only grows until it is written. */
		if (s->retry_len > attempt)
			attempt = s->retry_len;
		rc = SSL_write_ex(s->ssl, data, attempt, &n);
		if (rc == 1) {
			s->retry_len = 0;
			*ret_n = (uint32_t)n;
			return IO_DONE;
		}
		switch (SSL_get_error(s->ssl, 0)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			s->retry_len = attempt;
			return IO_AGAIN;
		default:
			ERR_clear_error();
			return IO_ERROR;
		}
	}

	for (;;) {
		ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);

		if (n >= 0) {
			*ret_n = (uint32_t)n;
			return IO_DONE;
		}
		if (errno == EINTR)
			continue;
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? IO_AGAIN : IO_ERROR;
	}
}

/* Sends our end of the stream to s: close_notify on TLS, then FIN, so the
 * peer sees the half-close while the other direction keeps flowing. */
static void side_shutdown_write(struct side *s)
{
	if (s->write_shut || s->fd < 0)
		return;
	s->write_shut = true;
	if (s->ssl && SSL_is_init_finished(s->ssl)) {
		(void)SSL_shutdown(s->ssl);
		ERR_clear_error();
	}
	(void)shutdown(s->fd, SHUT_WR);
}

/* Reads from src into in until in is full or src would block. */
static bool flow_read(struct conn *c, struct side *src, struct pbuf *in, bool *ret_error)
{
	struct worker *w = c->worker;
	uint32_t cap = w->engine->buffer_bytes;
	bool moved = false;

	while (!src->read_eof && src->state == SIDE_OPEN && src->readable) {
		uint32_t n;
		enum io_result r;

		if (!in->data && pbuf_reserve(w, in) < 0) {
			*ret_error = true;
			return moved;
		}
		if (in->end == cap) {
			if (in->start == 0)
				break;
			memmove(in->data, in->data + in->start, pbuf_len(in));
			in->end -= in->start;
			in->start = 0;
		}
		r = side_read(src, in, cap, &n);
		if (r == IO_DONE) {
			in->end += n;
			src->bytes_in += n;
			moved = true;
			/* A short recv drained the socket: the next one would only
			 * return EAGAIN, and new bytes raise a new edge. A FIN that
			 * came with the data raises none, so EPOLLRDHUP keeps the
			 * side readable until the EOF is read. */
			if (src->short_read && !src->peer_closed &&
			    (!src->ssl || !SSL_has_pending(src->ssl))) {
				src->readable = false;
				break;
			}
			continue;
		}
		if (r == IO_EOF) {
			src->read_eof = true;
			moved = true;
		} else if (r == IO_AGAIN) {
			src->readable = false;
		} else if (r == IO_ERROR) {
			*ret_error = true;
		}
		break;
	}
	if (in->data && pbuf_len(in) == 0)
		pbuf_release(w, in);
	return moved;
}

/* Writes out to dst until it is empty or dst would block. */
static bool flow_write(struct conn *c, struct side *dst, struct pbuf *out, bool *ret_error)
{
	bool moved = false;

	while (out->data && pbuf_len(out) > 0 && dst->state == SIDE_OPEN && !dst->write_shut) {
		uint32_t n;
		enum io_result r = side_write(dst, out->data + out->start, pbuf_len(out), &n);

		if (r == IO_DONE) {
			out->start += n;
			dst->bytes_out += n;
			moved = true;
			continue;
		}
		if (r == IO_ERROR)
			*ret_error = true;
		dst->write_blocked = true;
		break;
	}
	if (out->data && pbuf_len(out) == 0) {
		dst->write_blocked = false;
		pbuf_release(c->worker, out);
	}
	return moved;
}

static bool side_established(const struct side *s)
{
	return s->state == SIDE_OPEN;
}

static void count_refusal(struct conn *c, enum proxy_counter counter)
{
	if (c->counted_refusal)
		return;
	c->counted_refusal = true;
	proxy_metric_add(c->worker->engine->metrics, counter, 1);
}

/* Records an L4 decision or a refused peer in the audit chain. */
static void audit_connection(struct conn *c, const char *action, const char *outcome,
	const char *detail)
{
	struct proxy_engine *e = c->worker->engine;
	char object[160];

	if (!e->audit)
		return;
	(void)snprintf(object, sizeof(object), "%s %s", c->listener->config->name,
		c->listener->listen_text);
	proxy_audit_record(e->audit, c->peer_id ? c->peer_id : c->source_address, action, object,
		outcome, detail);
}

/* After the TLS handshake: checks the verified peer against the listener's
 * patterns. */
static int check_peer(struct conn *c, struct side *tls_side)
{
	const struct proxy_listener_config *lc = c->listener->config;
	const char *id = proxy_identity_peer_id(tls_side->ssl);

	if (!id) {
		log_warn("proxy", "peer refused", "listener", lc->name, "source", c->source_address,
			"reason", "peer certificate was not verified", NULL);
		count_refusal(c, PM_REFUSED_TLS);
		audit_connection(c, "proxy.connect", "denied", "peer certificate was not verified");
		return WD_EAUTH;
	}
	c->peer_id = id;
	if (lc->pattern_count > 0 &&
	    !proxy_allow_list_match((const char *const *)lc->patterns, lc->pattern_count, id)) {
		char detail[2200];

		(void)snprintf(detail, sizeof(detail), "%s %s is not in the listener's allow-list",
			lc->direction == PROXY_INBOUND ? "caller" : "server", id);
		log_warn("proxy", "peer refused", "listener", lc->name, "source", c->source_address,
			"peer", id, "reason", detail, NULL);
		count_refusal(c, PM_REFUSED_AUTHZ);
		c->decision = "deny";
		audit_connection(c, "proxy.connect", "denied", detail);
		return WD_EPERM;
	}
	c->decision = "allow";
	return 0;
}

static void log_handshake_failure(struct conn *c, struct side *s)
{
	const char *reason = s->ssl ? proxy_identity_refusal(s->ssl) : NULL;
	char text[PROXY_REFUSAL_MAX];
	unsigned long code = ERR_peek_error();

	if (!reason) {
		if (code != 0) {
			ERR_error_string_n(code, text, sizeof(text));
			reason = text;
		} else {
			reason = "connection closed during the TLS handshake";
		}
	}
	ERR_clear_error();
	log_warn("proxy", "handshake failed", "listener", c->listener->config->name, "source",
		c->source_address, "reason", reason, NULL);
	count_refusal(c, PM_REFUSED_TLS);
	audit_connection(c, "proxy.handshake", "denied", reason);
}

static void note_handshake(struct conn *c, struct side *s)
{
	struct proxy_metrics *m = c->worker->engine->metrics;

	proxy_metric_add(m, PM_HANDSHAKES, 1);
	if (SSL_session_reused(s->ssl)) {
		c->resumed = true;
		proxy_metric_add(m, PM_HANDSHAKES_RESUMED, 1);
	}
	if (BIO_get_ktls_send(SSL_get_wbio(s->ssl)))
		proxy_metric_add(m, PM_KTLS_SEND, 1);
	if (BIO_get_ktls_recv(SSL_get_rbio(s->ssl)))
		proxy_metric_add(m, PM_KTLS_RECV, 1);
}

/* Keeps the outbound's last session per listener for resumption, dropped
 * when the identity changes so a new bundle or CRL gets a full handshake. */
static void remember_session(struct conn *c)
{
	struct worker *w = c->worker;
	size_t i = c->listener->index;
	SSL_SESSION *session;

	if (!w->engine->config->session_resumption || !c->up.ssl)
		return;
	session = SSL_get1_session(c->up.ssl);
	if (!session)
		return;
	if (!SSL_SESSION_is_resumable(session)) {
		SSL_SESSION_free(session);
		return;
	}
	SSL_SESSION_free(w->sessions[i]);
	w->sessions[i] = session;
	w->session_generation[i] = proxy_identity_generation(c->identity);
}

static int start_connect(struct conn *c);

/* Drives handshakes and connects. Returns < 0 when the connection must
 * close. */
static int advance_setup(struct conn *c)
{
	const struct proxy_listener_config *lc = c->listener->config;

	if (c->down.state == SIDE_HANDSHAKE) {
		int rc = SSL_do_handshake(c->down.ssl);

		if (rc != 1) {
			int error = SSL_get_error(c->down.ssl, rc);

			if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
				return 0;
			log_handshake_failure(c, &c->down);
			return WD_ECRYPTO;
		}
		note_handshake(c, &c->down);
		if (check_peer(c, &c->down) < 0)
			return WD_EPERM;
		c->down.state = SIDE_OPEN;
		if (c->http && http_state_new(c) < 0)
			return WD_ENOMEM;
		if (start_connect(c) < 0)
			return WD_EIO;
	}

	if (c->up.state == SIDE_CONNECTING) {
		int error = 0;
		socklen_t len = sizeof(error);

		if (getsockopt(c->up.fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
			error = errno;
		if (error == EINPROGRESS || error == EALREADY)
			return 0;
		if (error != 0) {
			log_warn("proxy", "upstream connect failed", "listener", lc->name, "target",
				lc->target, "reason", strerror(error), NULL);
			proxy_metric_add(c->worker->engine->metrics, PM_UPSTREAM_FAILURES, 1);
			return WD_EIO;
		}
		/* A connect that has not finished reports no error either; the
		 * socket is writable only once it has. */
		{
			struct sockaddr_storage peer;
			socklen_t peer_len = sizeof(peer);

			if (getpeername(c->up.fd, (struct sockaddr *)&peer, &peer_len) != 0)
				return errno == ENOTCONN ? 0 : WD_EIO;
		}
		c->up.state = c->up.ssl ? SIDE_HANDSHAKE : SIDE_OPEN;
	}

	if (c->up.state == SIDE_HANDSHAKE) {
		int rc = SSL_do_handshake(c->up.ssl);

		if (rc != 1) {
			int error = SSL_get_error(c->up.ssl, rc);

			if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
				return 0;
			log_handshake_failure(c, &c->up);
			return WD_ECRYPTO;
		}
		note_handshake(c, &c->up);
		if (check_peer(c, &c->up) < 0)
			return WD_EPERM;
		c->up.state = SIDE_OPEN;
	}
	return 0;
}

/* Tells an HTTP caller why its connection goes away when the upstream
 * could not be reached or verified: one best-effort 502 write, since the
 * connection closes right after. */
static void reply_bad_gateway(struct conn *c, const char *message)
{
	uint8_t response[512];
	size_t len = 0;
	uint32_t written;

	if (!c->http || c->down.state != SIDE_OPEN || c->down.bytes_out > 0)
		return;
	if (http1_error_response(502, "bad_gateway", message, true, response, sizeof(response),
		    &len) < 0)
		return;
	(void)side_write(&c->down, response, (uint32_t)len, &written);
}

/* Moves bytes in both directions until nothing moves. */
void conn_pump(struct conn *c)
{
	bool error = false;
	bool moved;
	int guard = 0;
	int rc = advance_setup(c);

	if (rc < 0) {
		if (rc == WD_EIO)
			reply_bad_gateway(c, "the upstream could not be reached");
		else if (c->down.state == SIDE_OPEN)
			reply_bad_gateway(c, "the upstream was not accepted");
		conn_close(c, "setup failed");
		return;
	}

	do {
		bool both_open = side_established(&c->down) && side_established(&c->up);

		moved = false;
		if (side_established(&c->down) && !c->closing)
			moved |= flow_read(c, &c->down, &c->req_in, &error);
		if (c->http) {
			if (both_open || c->closing)
				moved |= http_transform_request(c);
		}
		if (both_open)
			moved |= flow_write(c, &c->up, c->http ? &c->req_out : &c->req_in, &error);

		if (side_established(&c->up))
			moved |= flow_read(c, &c->up, &c->resp_in, &error);
		if (c->http)
			moved |= http_transform_response(c);
		if (side_established(&c->down))
			moved |= flow_write(c, &c->down, c->http ? &c->resp_out : &c->resp_in,
				&error);
		if (error) {
			conn_close(c, "connection reset");
			return;
		}
		if (c->closing && !c->resp_out.data) {
			conn_close(c, c->close_reason ? c->close_reason : "answered by the proxy");
			return;
		}
	} while (moved && ++guard < 64);

	/* Half-close: once a side ended and its bytes went out, end the
	 * other side's stream too. */
	if (c->up.state == SIDE_OPEN && c->down.read_eof && !c->req_in.data && !c->req_out.data &&
	    (!c->http || c->http->req_phase != HTTP_BODY))
		side_shutdown_write(&c->up);
	if (c->down.state == SIDE_OPEN && c->up.read_eof) {
		if (c->http)
			http_upstream_eof(c);
		if (!c->resp_in.data && !c->resp_out.data)
			side_shutdown_write(&c->down);
	}
	if (c->down.write_shut && c->up.write_shut) {
		conn_close(c, "closed");
		return;
	}
	if (c->down.read_eof && c->up.state != SIDE_OPEN && c->up.state != SIDE_CONNECTING &&
	    c->up.state != SIDE_HANDSHAKE) {
		conn_close(c, "caller closed");
		return;
	}
	if (guard >= 64)
		event_active(&c->down.ev, EV_READ, 0);
}

/* With edge-triggered events a socket reports writable after every ACK
 * that frees buffer space. Such an event matters only while bytes wait for
 * it, so only then does it run the pump and its read attempts. */
static void on_side_event(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct side *s = fd == c->down.fd ? &c->down : &c->up;

	if (what & EV_CLOSED)
		s->peer_closed = true;
	if (what & (EV_READ | EV_CLOSED))
		s->readable = true;
	else if (s->state == SIDE_OPEN && !s->write_blocked && c->down.state == SIDE_OPEN &&
		 c->up.state == SIDE_OPEN)
		return;
	c->last_io_ms = c->worker->now_ms = wd_monotonic_ms();
	conn_pump(c);
}


/* Opens the upstream side: a TCP connect and, outbound, a TLS client.
 * TODO: HTTP outbounds could share pooled upstream connections between
 * client connections; each client connection gets its own for now. */
static int start_connect(struct conn *c)
{
	const struct listener *l = c->listener;
	const struct proxy_listener_config *lc = l->config;
	struct worker *w = c->worker;
	int one = 1;
	int fd = socket(l->target_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return WD_EIO;
	c->up.fd = fd;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&l->target_addr, l->target_len) != 0 &&
	    errno != EINPROGRESS) {
		log_warn("proxy", "upstream connect failed", "listener", lc->name, "target",
			lc->target, "reason", strerror(errno), NULL);
		proxy_metric_add(w->engine->metrics, PM_UPSTREAM_FAILURES, 1);
		return WD_EIO;
	}
	c->up.state = SIDE_CONNECTING;
	c->connect_started_ms = w->now_ms;

	if (lc->direction == PROXY_OUTBOUND) {
		SSL *ssl = SSL_new(proxy_identity_client_ctx(c->identity));

		if (!ssl)
			return WD_ENOMEM;
		c->up.ssl = ssl;
		SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
		SSL_set_read_ahead(ssl, 1);
		if (SSL_set_fd(ssl, fd) != 1)
			return WD_EINTERNAL;
		watch_reads(&c->up);
		SSL_set_connect_state(ssl);
		if (lc->server_name)
			(void)SSL_set_tlsext_host_name(ssl, lc->server_name);
		if (w->sessions[l->index] &&
		    w->session_generation[l->index] == proxy_identity_generation(c->identity))
			(void)SSL_set_session(ssl, w->sessions[l->index]);
	}
	return side_register(c, &c->up);
}

static void conn_link(struct worker *w, struct conn *c)
{
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->conn_count++;
}

static void conn_unlink(struct worker *w, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->conn_count--;
}

void conn_accept(struct worker *w, const struct listener *l, int fd,
	const struct sockaddr_storage *addr, socklen_t addr_len)
{
	struct proxy_engine *e = w->engine;
	const struct proxy_listener_config *lc = l->config;
	struct conn *c;
	int one = 1;
	int64_t active;

	active = __atomic_add_fetch(&e->metrics->active_connections, 1, __ATOMIC_RELAXED);
	if ((uint64_t)active > e->config->max_connections) {
		__atomic_sub_fetch(&e->metrics->active_connections, 1, __ATOMIC_RELAXED);
		proxy_metric_add(e->metrics, PM_REFUSED_LIMIT, 1);
		close(fd);
		return;
	}
	proxy_metric_add(e->metrics, PM_CONNECTIONS_ACCEPTED, 1);

	c = calloc(1, sizeof(*c));
	if (!c) {
		__atomic_sub_fetch(&e->metrics->active_connections, 1, __ATOMIC_RELAXED);
		close(fd);
		return;
	}
	c->worker = w;
	c->listener = l;
	side_init(&c->down);
	side_init(&c->up);
	c->down.fd = fd;
	c->accepted_ms = c->last_io_ms = w->now_ms;
	c->identity = proxy_identity_source_current(e->identity_source);
	conn_link(w, c);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	proxy_format_address(addr, addr_len, c->source_address, sizeof(c->source_address));

	if (lc->protocol == PROXY_HTTP) {
		c->http = calloc(1, sizeof(*c->http));
		if (!c->http) {
			conn_close(c, "out of memory");
			return;
		}
	}

	if (lc->direction == PROXY_INBOUND) {
		SSL *ssl = SSL_new(proxy_identity_server_ctx(c->identity));

		if (!ssl) {
			conn_close(c, "out of memory");
			return;
		}
		c->down.ssl = ssl;
		SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
		SSL_set_read_ahead(ssl, 1);
		if (SSL_set_fd(ssl, fd) != 1) {
			conn_close(c, "TLS setup failed");
			return;
		}
		watch_reads(&c->down);
		SSL_set_accept_state(ssl);
		c->down.state = SIDE_HANDSHAKE;
		if (side_register(c, &c->down) < 0) {
			conn_close(c, "event setup failed");
			return;
		}
	} else {
		c->down.state = SIDE_OPEN;
		if (side_register(c, &c->down) < 0 || (c->http && http_state_new(c) < 0) ||
		    start_connect(c) < 0) {
			conn_close(c, "upstream connect failed");
			return;
		}
	}
	conn_pump(c);
}

void conn_close(struct conn *c, const char *reason)
{
	struct worker *w = c->worker;
	struct proxy_engine *e = w->engine;

	if (!c->close_reason)
		c->close_reason = reason;
	if (c->up.state == SIDE_OPEN) {
		/* OpenSSL marks a session not resumable when its connection is
		 * freed without close_notify. */
		side_shutdown_write(&c->up);
		remember_session(c);
	}
	if (!c->http && e->access_log_fd >= 0)
		access_log_connection(c);
	proxy_metric_add(e->metrics, PM_BYTES_FROM_CLIENTS, c->down.bytes_in);
	proxy_metric_add(e->metrics, PM_BYTES_TO_CLIENTS, c->down.bytes_out);
	proxy_metric_add(e->metrics, PM_CONNECTIONS_CLOSED, 1);
	__atomic_sub_fetch(&e->metrics->active_connections, 1, __ATOMIC_RELAXED);

	side_close(&c->down);
	side_close(&c->up);
	pbuf_release(w, &c->req_in);
	pbuf_release(w, &c->req_out);
	pbuf_release(w, &c->resp_in);
	pbuf_release(w, &c->resp_out);
	if (c->http)
		http_state_free(c->http);
	proxy_identity_unref(c->identity);
	conn_unlink(w, c);
	free(c);
}

/* Closes connections past a deadline. Runs a few times a second, so a
 * deadline is kept to within that period. */
void conn_sweep(struct worker *w)
{
	const struct proxy_timeouts *t = &w->engine->config->timeouts;
	struct proxy_metrics *m = w->engine->metrics;
	int64_t now = w->now_ms = wd_monotonic_ms();
	struct conn *c = w->conns;

	while (c) {
		struct conn *next = c->next;
		bool established = c->down.state == SIDE_OPEN && c->up.state == SIDE_OPEN;

		if (c->up.state == SIDE_CONNECTING && t->connect_ms &&
		    now - c->connect_started_ms > t->connect_ms) {
			proxy_metric_add(m, PM_UPSTREAM_FAILURES, 1);
			log_warn("proxy", "upstream connect timed out", "listener",
				c->listener->config->name, "target", c->listener->config->target, NULL);
			reply_bad_gateway(c, "connecting to the upstream timed out");
			conn_close(c, "connect timeout");
		} else if (!established && t->handshake_ms && now - c->accepted_ms > t->handshake_ms) {
			proxy_metric_add(m, PM_TIMEOUT_HANDSHAKE, 1);
			conn_close(c, "handshake timeout");
		} else if (c->http && c->http->head_started_ms && t->header_ms &&
			   now - c->http->head_started_ms > t->header_ms) {
			proxy_metric_add(m, PM_TIMEOUT_HEADER, 1);
			conn_close(c, "request head timeout");
		} else if (t->idle_ms && now - c->last_io_ms > t->idle_ms) {
			proxy_metric_add(m, PM_TIMEOUT_IDLE, 1);
			conn_close(c, "idle timeout");
		} else if (t->total_ms && now - c->accepted_ms > t->total_ms) {
			proxy_metric_add(m, PM_TIMEOUT_TOTAL, 1);
			conn_close(c, "total timeout");
		}
		c = next;
	}
}
