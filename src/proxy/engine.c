/* The proxy's engine: binds every listener once per worker with
 * SO_REUSEPORT so the kernel spreads connections over the workers, starts a
 * thread per worker, and waits for SIGINT or SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/time.h"
#include "proxy/engine.h"

/* How often the sweep looks for deadlines and flushes the access log. */
#define SWEEP_INTERVAL_MS 200
/* Connections taken per wake-up of a listening socket, for fairness. */
#define ACCEPT_BATCH 64
/* Buffers kept per worker for reuse. */
#define FREE_BUFS_MAX 256

int pbuf_reserve(struct worker *w, struct pbuf *b)
{
	if (b->data)
		return 0;
	if (w->free_count > 0)
		b->data = w->free_bufs[--w->free_count];
	else
		b->data = malloc(w->engine->buffer_bytes);
	if (!b->data)
		return WD_ENOMEM;
	b->start = b->end = 0;
	return 0;
}

void pbuf_release(struct worker *w, struct pbuf *b)
{
	if (!b->data)
		return;
	if (w->free_count < w->free_cap)
		w->free_bufs[w->free_count++] = b->data;
	else
		free(b->data);
	b->data = NULL;
	b->start = b->end = 0;
}

void proxy_format_address(const struct sockaddr_storage *addr, socklen_t len, char *out,
	size_t size)
{
	char host[INET6_ADDRSTRLEN];

	(void)len;
	if (addr->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)addr;

		if (inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host)))
			(void)snprintf(out, size, "%s:%u", host, ntohs(in->sin_port));
		else
			(void)snprintf(out, size, "unknown");
	} else if (addr->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;

		if (inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host)))
			(void)snprintf(out, size, "[%s]:%u", host, ntohs(in6->sin6_port));
		else
			(void)snprintf(out, size, "unknown");
	} else {
		(void)snprintf(out, size, "unknown");
	}
}

int proxy_parse_address(const char *text, struct sockaddr_storage *ret_addr, socklen_t *ret_len,
	struct wd_error *err)
{
	char host[256];
	const char *colon, *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *found = NULL;
	size_t host_len;
	int rc;

	memset(ret_addr, 0, sizeof(*ret_addr));
	*ret_len = 0;
	if (!text || !*text)
		return wd_error_set(err, WD_ECONFIG, "empty address: expected host:port");
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return wd_error_set(err, WD_ECONFIG,
				"address '%.200s' is not [ipv6]:port", text);
		host_len = (size_t)(close - text - 1);
		memmove(host, text + 1, host_len < sizeof(host) ? host_len : 0);
		port = close + 2;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return wd_error_set(err, WD_ECONFIG,
				"address '%.200s' has no port: expected host:port", text);
		host_len = (size_t)(colon - text);
		if (host_len < sizeof(host))
			memcpy(host, text, host_len);
		port = colon + 1;
	}
	if (host_len == 0 || host_len >= sizeof(host))
		return wd_error_set(err, WD_ECONFIG, "address '%.200s' has no valid host", text);
	host[host_len] = '\0';
	if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    strtol(port, NULL, 10) > 65535)
		return wd_error_set(err, WD_ECONFIG, "address '%.200s' has an invalid port", text);

	rc = getaddrinfo(host, port, &hints, &found);
	if (rc != 0 || !found)
		return wd_error_set(err, WD_ECONFIG, "address '%.200s' does not resolve: %s", text,
			gai_strerror(rc));
	memcpy(ret_addr, found->ai_addr, found->ai_addrlen);
	*ret_len = found->ai_addrlen;
	freeaddrinfo(found);
	return 0;
}

static int listen_socket(const struct listener *l, struct wd_error *err)
{
	int one = 1;
	int fd = socket(l->listen_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return wd_error_set(err, WD_EIO, "socket for %s: %s", l->config->listen,
			strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)&l->listen_addr, l->listen_len) != 0 ||
	    listen(fd, 4096) != 0) {
		int saved = errno;

		close(fd);
		return wd_error_set(err, WD_EIO, "cannot listen on %s: %s", l->config->listen,
			strerror(saved));
	}
	return fd;
}

struct accept_ctx {
	struct worker *worker;
	const struct listener *listener;
};

static void on_accept_ready(evutil_socket_t fd, short what, void *arg)
{
	struct accept_ctx *ctx = arg;
	struct worker *w = ctx->worker;

	(void)what;
	w->now_ms = wd_monotonic_ms();
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);
		int client = accept4(fd, (struct sockaddr *)&addr, &len,
			SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (client < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				log_warn("proxy", "accept failed: out of file descriptors",
					"listener", ctx->listener->config->name, NULL);
			break;
		}
		conn_accept(w, ctx->listener, client, &addr, len);
	}
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	conn_sweep(w);
	access_log_flush(w);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char byte;

	(void)what;
	while (read(fd, &byte, 1) == 1)
		;
	if (w->engine->stopping)
		event_base_loopbreak(w->base);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	(void)event_base_dispatch(w->base);
	while (w->conns)
		conn_close(w->conns, "proxy stopping");
	access_log_flush(w);
	return NULL;
}

static int worker_init(struct proxy_engine *e, struct worker *w, size_t index,
	struct accept_ctx *ctxs, struct wd_error *err)
{
	struct timeval sweep = { 0, SWEEP_INTERVAL_MS * 1000 };
	struct event_config *cfg;

	w->engine = e;
	w->index = index;
	w->wake_pipe[0] = w->wake_pipe[1] = -1;
	cfg = event_config_new();
	if (!cfg)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	(void)event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	w->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	w->listen_fds = calloc(e->listener_count, sizeof(int));
	w->listen_events = calloc(e->listener_count, sizeof(struct event));
	w->free_bufs = calloc(FREE_BUFS_MAX, sizeof(uint8_t *));
	w->free_cap = FREE_BUFS_MAX;
	w->scratch_head = calloc(1, sizeof(*w->scratch_head));
	w->sessions = calloc(e->listener_count, sizeof(SSL_SESSION *));
	w->session_generation = calloc(e->listener_count, sizeof(uint64_t));
	if (!w->base || !w->listen_fds || !w->listen_events || !w->free_bufs || !w->scratch_head ||
	    !w->sessions || !w->session_generation)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	wd_buf_init(&w->access_log, 4096, 1 << 20);
	for (size_t i = 0; i < e->listener_count; i++)
		w->listen_fds[i] = -1;

	for (size_t i = 0; i < e->listener_count; i++) {
		int fd = listen_socket(&e->listeners[i], err);

		if (fd < 0)
			return fd;
		w->listen_fds[i] = fd;
		ctxs[i].worker = w;
		ctxs[i].listener = &e->listeners[i];
		if (event_assign(&w->listen_events[i], w->base, fd, EV_READ | EV_PERSIST,
			    on_accept_ready, &ctxs[i]) != 0 ||
		    event_add(&w->listen_events[i], NULL) != 0)
			return wd_error_set(err, WD_EINTERNAL, "event setup failed");
	}
	if (pipe2(w->wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return wd_error_set(err, WD_EIO, "pipe: %s", strerror(errno));
	if (event_assign(&w->wake, w->base, w->wake_pipe[0], EV_READ | EV_PERSIST, on_wake, w) != 0 ||
	    event_add(&w->wake, NULL) != 0 ||
	    event_assign(&w->sweep, w->base, -1, EV_PERSIST, on_sweep, w) != 0 ||
	    event_add(&w->sweep, &sweep) != 0)
		return wd_error_set(err, WD_EINTERNAL, "event setup failed");
	return 0;
}

static void worker_free(struct worker *w)
{
	if (!w->engine)
		return;
	for (size_t i = 0; w->listen_fds && i < w->engine->listener_count; i++) {
		if (w->listen_fds[i] >= 0) {
			event_del(&w->listen_events[i]);
			close(w->listen_fds[i]);
		}
	}
	if (w->base) {
		event_del(&w->wake);
		event_del(&w->sweep);
	}
	for (size_t i = 0; w->sessions && i < w->engine->listener_count; i++)
		SSL_SESSION_free(w->sessions[i]);
	for (size_t i = 0; i < w->free_count; i++)
		free(w->free_bufs[i]);
	if (w->wake_pipe[0] >= 0)
		close(w->wake_pipe[0]);
	if (w->wake_pipe[1] >= 0)
		close(w->wake_pipe[1]);
	if (w->base)
		event_base_free(w->base);
	wd_buf_free(&w->access_log);
	free(w->listen_fds);
	free(w->listen_events);
	free(w->free_bufs);
	free(w->scratch_head);
	free(w->sessions);
	free(w->session_generation);
}

/* Resolves every listener; a port of 0 is fixed by binding once, so every
 * worker's socket shares the port the kernel chose. */
static int resolve_listeners(struct proxy_engine *e, struct wd_error *err)
{
	const struct proxy_config *config = e->config;

	for (size_t i = 0; i < config->listener_count; i++) {
		struct listener *l = &e->listeners[i];
		int rc, probe;

		l->config = &config->listeners[i];
		l->index = i;
		rc = proxy_parse_address(l->config->listen, &l->listen_addr, &l->listen_len, err);
		if (rc < 0)
			return rc;
		rc = proxy_parse_address(l->config->target, &l->target_addr, &l->target_len, err);
		if (rc < 0)
			return rc;
		probe = listen_socket(l, err);
		if (probe < 0)
			return probe;
		l->listen_len = sizeof(l->listen_addr);
		if (getsockname(probe, (struct sockaddr *)&l->listen_addr, &l->listen_len) != 0) {
			close(probe);
			return wd_error_set(err, WD_EIO, "getsockname: %s", strerror(errno));
		}
		close(probe);
		proxy_format_address(&l->listen_addr, l->listen_len, l->listen_text,
			sizeof(l->listen_text));
	}
	e->listener_count = config->listener_count;
	return 0;
}

static void on_identity_change(struct proxy_identity *identity, void *arg)
{
	struct proxy_engine *e = arg;
	char not_after[32];

	__atomic_store_n(&e->metrics->identity_generation, proxy_identity_generation(identity),
		__ATOMIC_RELAXED);
	__atomic_store_n(&e->metrics->identity_not_after, proxy_identity_not_after(identity),
		__ATOMIC_RELAXED);
	(void)snprintf(not_after, sizeof(not_after), "%lld",
		(long long)proxy_identity_not_after(identity));
	log_info("proxy", "identity updated", "spiffe_id", proxy_identity_spiffe_id(identity),
		"not_after", not_after, NULL);
}

static int open_access_log(const char *path, struct wd_error *err)
{
	int fd;

	if (!path)
		return -1;
	if (strcmp(path, "-") == 0)
		return dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return wd_error_set(err, WD_EIO, "cannot open access log %s: %s", path,
			strerror(errno));
	return fd;
}

int proxy_run(const struct proxy_config *config, struct wd_error *err)
{
	static struct proxy_metrics metrics;
	struct proxy_engine e = { .config = config, .access_log_fd = -1 };
	struct proxy_identity_config idc = {
		.workload_api_socket = config->workload_api_socket,
		.cert_path = config->cert_path,
		.key_path = config->key_path,
		.bundle_path = config->bundle_path,
		.crl_path = config->crl_path,
	};
	struct proxy_metrics_server *metrics_server = NULL;
	struct accept_ctx *ctxs = NULL;
	bool need_policy = false;
	sigset_t stop_signals;
	size_t started = 0;
	int rc, sig = 0;

	rc = proxy_config_validate(config, err);
	if (rc < 0)
		return rc;
	e.metrics = &metrics;
	e.buffer_bytes = (uint32_t)config->buffer_bytes;
	e.http_limits.max_head_bytes = config->max_head_bytes;
	e.http_limits.max_headers = config->max_headers;
	e.worker_count = config->workers;
	if (e.worker_count == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		e.worker_count = cores > 0 ? (size_t)cores : 1;
	}

	/* Signals are taken with sigwait by this thread; workers inherit the
	 * mask, and SIGPIPE never kills the process. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = resolve_listeners(&e, err);
	if (rc < 0)
		goto out;
	rc = proxy_identity_source_start(&idc, on_identity_change, &e, &e.identity_source, err);
	if (rc < 0)
		goto out;
	{
		struct proxy_identity *current = proxy_identity_source_current(e.identity_source);

		on_identity_change(current, &e);
		proxy_identity_unref(current);
	}

	for (size_t i = 0; i < config->listener_count; i++)
		need_policy |= config->listeners[i].use_policy;
	if (need_policy) {
		struct proxy_policy_config pc = {
			.path = config->policy_path,
			.server_url = config->policy_server,
			.server_id = config->policy_server_id,
			.decision = config->decision,
		};
		struct proxy_jwt_config jc = {
			.jwks_path = config->jwks_path,
			.issuer = config->jwt_issuer,
			.audiences = (const char *const *)config->jwt_audiences,
			.audience_count = config->jwt_audience_count,
			.leeway_seconds = 30,
		};

		rc = proxy_authz_new(&pc, config->jwks_path ? &jc : NULL, e.identity_source,
			&e.authz, err);
		if (rc < 0)
			goto out;
	}
	if (config->audit_path) {
		rc = proxy_audit_open(config->audit_path, &metrics, &e.audit, err);
		if (rc < 0)
			goto out;
	}
	rc = open_access_log(config->access_log, err);
	if (rc < 0 && config->access_log)
		goto out;
	e.access_log_fd = rc;
	if (config->metrics_listen) {
		rc = proxy_metrics_server_start(config->metrics_listen, &metrics, &metrics_server,
			err);
		if (rc < 0)
			goto out;
	}

	e.workers = calloc(e.worker_count, sizeof(*e.workers));
	ctxs = calloc(e.worker_count * e.listener_count, sizeof(*ctxs));
	if (!e.workers || !ctxs) {
		rc = wd_error_set(err, WD_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < e.worker_count; i++) {
		rc = worker_init(&e, &e.workers[i], i, ctxs + i * e.listener_count, err);
		if (rc < 0)
			goto out;
	}
	for (; started < e.worker_count; started++) {
		if (pthread_create(&e.workers[started].thread, NULL, worker_main,
			    &e.workers[started]) != 0) {
			rc = wd_error_set(err, WD_EINTERNAL, "cannot start worker thread");
			goto out;
		}
	}
	for (size_t i = 0; i < e.listener_count; i++) {
		const struct proxy_listener_config *lc = e.listeners[i].config;

		log_info("proxy", "proxy listening", "listener", lc->name, "address",
			e.listeners[i].listen_text, "direction",
			lc->direction == PROXY_INBOUND ? "inbound" : "outbound", "protocol",
			lc->protocol == PROXY_HTTP ? "http" : "tcp", "target", lc->target, NULL);
	}

	while (sigwait(&stop_signals, &sig) != 0)
		;
	log_info("proxy", "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
	rc = 0;

out:
	e.stopping = 1;
	for (size_t i = 0; i < started; i++) {
		char byte = 1;

		if (write(e.workers[i].wake_pipe[1], &byte, 1) < 0)
			log_warn("proxy", "cannot wake a worker", NULL);
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(e.workers[i].thread, NULL);
	for (size_t i = 0; e.workers && i < e.worker_count; i++)
		worker_free(&e.workers[i]);
	free(e.workers);
	free(ctxs);
	proxy_metrics_server_free(metrics_server);
	proxy_authz_free(e.authz);
	proxy_audit_close(e.audit);
	proxy_identity_source_free(e.identity_source);
	if (e.access_log_fd >= 0)
		close(e.access_log_fd);
	return rc;
}
