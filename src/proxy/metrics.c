/* Prometheus metrics of the proxy, served on a loopback address only: the
 * endpoint has no authentication of its own, so it must not be reachable
 * from another host. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "proxy/engine.h"

struct metric_desc {
	const char *name;
	const char *type;
	const char *help;
	const char *label;  /* extra label, or NULL */
};

static const struct metric_desc descriptions[PM_COUNTER_COUNT] = {
	[PM_CONNECTIONS_ACCEPTED] = { "warden_proxy_connections_accepted_total", "counter",
		"Connections accepted on every listener.", NULL },
	[PM_CONNECTIONS_CLOSED] = { "warden_proxy_connections_closed_total", "counter",
		"Connections closed.", NULL },
	[PM_REFUSED_LIMIT] = { "warden_proxy_connections_refused_total", "counter",
		"Connections refused, by reason.", "reason=\"max_connections\"" },
	[PM_REFUSED_TLS] = { "warden_proxy_connections_refused_total", NULL, NULL,
		"reason=\"tls\"" },
	[PM_REFUSED_AUTHZ] = { "warden_proxy_connections_refused_total", NULL, NULL,
		"reason=\"spiffe_id\"" },
	[PM_HANDSHAKES] = { "warden_proxy_tls_handshakes_total", "counter",
		"Completed TLS handshakes.", NULL },
	[PM_HANDSHAKES_RESUMED] = { "warden_proxy_tls_resumed_total", "counter",
		"TLS handshakes that resumed a session.", NULL },
	[PM_KTLS_SEND] = { "warden_proxy_ktls_connections_total", "counter",
		"TLS connections offloaded to the kernel, by direction.", "direction=\"send\"" },
	[PM_KTLS_RECV] = { "warden_proxy_ktls_connections_total", NULL, NULL,
		"direction=\"receive\"" },
	[PM_UPSTREAM_FAILURES] = { "warden_proxy_upstream_failures_total", "counter",
		"Connections to the forward or upstream address that failed.", NULL },
	[PM_TIMEOUT_HANDSHAKE] = { "warden_proxy_timeouts_total", "counter",
		"Connections closed by a timeout, by kind.", "kind=\"handshake\"" },
	[PM_TIMEOUT_HEADER] = { "warden_proxy_timeouts_total", NULL, NULL, "kind=\"header\"" },
	[PM_TIMEOUT_IDLE] = { "warden_proxy_timeouts_total", NULL, NULL, "kind=\"idle\"" },
	[PM_TIMEOUT_TOTAL] = { "warden_proxy_timeouts_total", NULL, NULL, "kind=\"total\"" },
	[PM_BYTES_FROM_CLIENTS] = { "warden_proxy_bytes_total", "counter",
		"Bytes exchanged with callers, by direction.", "direction=\"received\"" },
	[PM_BYTES_TO_CLIENTS] = { "warden_proxy_bytes_total", NULL, NULL, "direction=\"sent\"" },
	[PM_REQUESTS] = { "warden_proxy_http_requests_total", "counter",
		"HTTP requests parsed on L7 listeners.", NULL },
	[PM_REQUESTS_ALLOWED] = { "warden_proxy_decisions_total", "counter",
		"Policy decisions, by outcome.", "decision=\"allow\"" },
	[PM_REQUESTS_DENIED] = { "warden_proxy_decisions_total", NULL, NULL,
		"decision=\"deny\"" },
	[PM_REQUESTS_MALFORMED] = { "warden_proxy_http_malformed_total", "counter",
		"Requests refused as malformed.", NULL },
	[PM_POLICY_EVAL_NS] = { "warden_proxy_policy_eval_seconds_total", "counter",
		"Time spent evaluating the policy.", NULL },
	[PM_AUDIT_WRITTEN] = { "warden_proxy_audit_records_total", "counter",
		"Audit records, by fate.", "fate=\"written\"" },
	[PM_AUDIT_DROPPED] = { "warden_proxy_audit_records_total", NULL, NULL,
		"fate=\"dropped\"" },
};

int proxy_metrics_render(const struct proxy_metrics *m, struct wd_buf *out)
{
	for (size_t i = 0; i < PM_COUNTER_COUNT; i++) {
		const struct metric_desc *d = &descriptions[i];
		uint64_t value = __atomic_load_n(&m->counters[i], __ATOMIC_RELAXED);
		int rc = 0;

		if (d->help)
			rc = wd_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help,
				d->name, d->type);
		if (rc < 0)
			return rc;
		if (i == PM_POLICY_EVAL_NS)
			rc = wd_buf_appendf(out, "%s %.9f\n", d->name, (double)value / 1e9);
		else if (d->label)
			rc = wd_buf_appendf(out, "%s{%s} %llu\n", d->name, d->label,
				(unsigned long long)value);
		else
			rc = wd_buf_appendf(out, "%s %llu\n", d->name, (unsigned long long)value);
		if (rc < 0)
			return rc;
	}
	return wd_buf_appendf(out,
		"# HELP warden_proxy_connections_active Open caller connections.\n"
		"# TYPE warden_proxy_connections_active gauge\n"
		"warden_proxy_connections_active %lld\n"
		"# HELP warden_proxy_identity_generation SVID snapshots received.\n"
		"# TYPE warden_proxy_identity_generation gauge\n"
		"warden_proxy_identity_generation %llu\n"
		"# HELP warden_proxy_svid_expiry_timestamp_seconds notAfter of the current SVID.\n"
		"# TYPE warden_proxy_svid_expiry_timestamp_seconds gauge\n"
		"warden_proxy_svid_expiry_timestamp_seconds %lld\n",
		(long long)__atomic_load_n(&m->active_connections, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&m->identity_generation, __ATOMIC_RELAXED),
		(long long)__atomic_load_n(&m->identity_not_after, __ATOMIC_RELAXED));
}

struct proxy_metrics_server {
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	struct event *stop_check;
	int stop;
	bool running;
	struct proxy_metrics *metrics;
};

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct proxy_metrics_server *s = arg;
	struct evbuffer *body = evbuffer_new();
	struct wd_buf text;

	if (!body) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evbuffer_free(body);
		evhttp_send_error(req, 405, NULL);
		return;
	}
	wd_buf_init(&text, 4096, 1 << 20);
	if (proxy_metrics_render(s->metrics, &text) < 0) {
		wd_buf_free(&text);
		evbuffer_free(body);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(body, wd_buf_data(&text), wd_buf_len(&text));
	wd_buf_free(&text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		"text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}

static void on_health(struct evhttp_request *req, void *arg)
{
	struct evbuffer *body = evbuffer_new();

	(void)arg;
	if (!body) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(body, "{\"status\":\"ok\"}\n");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		"application/json");
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}

/* libevent bases are not shared between threads here, so the stop
 * request is a flag the loop's own timer reads. */
static void on_stop_check(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_metrics_server *s = arg;

	(void)fd;
	(void)what;
	if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
		event_base_loopbreak(s->base);
}

static void *metrics_main(void *arg)
{
	struct proxy_metrics_server *s = arg;

	(void)event_base_dispatch(s->base);
	return NULL;
}

static bool is_loopback(const struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr) >> 24) == 127;
	if (addr->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)addr)->sin6_addr);
	return false;
}

int proxy_metrics_server_start(const char *address, struct proxy_metrics *m,
	struct proxy_metrics_server **ret_server, struct wd_error *err)
{
	struct proxy_metrics_server *s;
	struct sockaddr_storage addr;
	socklen_t len;
	struct evhttp_bound_socket *bound;
	char host[64];
	int rc;

	*ret_server = NULL;
	rc = proxy_parse_address(address, &addr, &len, err);
	if (rc < 0)
		return rc;
	if (!is_loopback(&addr))
		return wd_error_set(err, WD_ECONFIG,
			"metrics address %.200s is not a loopback address: the metrics endpoint "
			"has no authentication", address);

	s = calloc(1, sizeof(*s));
	if (!s)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	s->metrics = m;
	s->base = event_base_new();
	s->http = s->base ? evhttp_new(s->base) : NULL;
	if (!s->http) {
		proxy_metrics_server_free(s);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	proxy_format_address(&addr, len, host, sizeof(host));
	*strrchr(host, ':') = '\0';
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	bound = evhttp_bind_socket_with_handle(s->http, host,
		ntohs(((struct sockaddr_in *)&addr)->sin_port));
	if (!bound) {
		proxy_metrics_server_free(s);
		return wd_error_set(err, WD_EIO, "cannot listen on metrics address %.200s", address);
	}
	evhttp_set_cb(s->http, "/metrics", on_metrics, s);
	evhttp_set_cb(s->http, "/health", on_health, s);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET);
	s->stop_check = event_new(s->base, -1, EV_PERSIST, on_stop_check, s);
	if (!s->stop_check || event_add(s->stop_check, &(struct timeval){ 0, 200000 }) != 0) {
		proxy_metrics_server_free(s);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	if (pthread_create(&s->thread, NULL, metrics_main, s) != 0) {
		proxy_metrics_server_free(s);
		return wd_error_set(err, WD_EINTERNAL, "cannot start the metrics thread");
	}
	s->running = true;
	*ret_server = s;
	return 0;
}

void proxy_metrics_server_free(struct proxy_metrics_server *s)
{
	if (!s)
		return;
	if (s->running) {
		__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
		pthread_join(s->thread, NULL);
	}
	if (s->stop_check)
		event_free(s->stop_check);
	if (s->http)
		evhttp_free(s->http);
	if (s->base)
		event_base_free(s->base);
	free(s);
}
