/* The notify action: a bounded queue of alerts and a worker thread that
 * POSTs each one to the webhook, so a slow or dead webhook never holds up
 * the event loop. Each alert uses a new connection, which keeps the worker
 * simple. A webhook that receives many alerts a second would need
 * keep-alive. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/alloc.h"
#include "net/net_client.h"
#include "sensor/response/response_priv.h"

struct notify_item {
	char *rule;
	char *body;
	uint32_t pid;
};

struct response_notifier {
	/* The parsed URL. */
	bool tls;
	char host[256];           /* without brackets: for getaddrinfo and TLS */
	char host_header[300];    /* as the Host header carries it */
	uint16_t port;
	char *path;               /* path and query */
	char *target;             /* scheme://host:port/path, for audit records */
	unsigned timeout_ms;
	X509 **anchors;
	size_t anchor_count;

	response_notify_done_fn done;
	void *done_ctx;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct notify_item *queue; /* ring of queue_max items */
	size_t queue_max;
	size_t head;
	size_t count;
	bool stopping;
	bool started;
	pthread_t worker;
	struct response_notify_stats stats;
};

/* Splits http[s]://[user@]host[:port][/path] into the notifier's fields. */
static int parse_url(struct response_notifier *n, const char *url, struct wd_error *err)
{
	const char *rest = url;
	const char *authority;
	const char *path;
	const char *at;
	const char *host_end;
	const char *port_text = NULL;
	size_t host_len;

	n->tls = !strncmp(url, "https://", 8);
	if (!n->tls && strncmp(url, "http://", 7))
		return wd_error_set(err, WD_EINVAL, "notify url must start with http:// or https://");
	rest += n->tls ? 8 : 7;
	path = rest + strcspn(rest, "/?#");
	at = memchr(rest, '@', (size_t)(path - rest));
	authority = at ? at + 1 : rest;

	if (*authority == '[') {
		host_end = memchr(authority, ']', (size_t)(path - authority));
		if (!host_end)
			return wd_error_set(err, WD_EINVAL, "notify url has an unclosed '['");
		authority++;
		if (host_end + 1 < path && host_end[1] == ':')
			port_text = host_end + 2;
		else if (host_end + 1 != path)
			return wd_error_set(err, WD_EINVAL, "notify url has junk after ']'");
	} else {
		host_end = memchr(authority, ':', (size_t)(path - authority));
		if (host_end)
			port_text = host_end + 1;
		else
			host_end = path;
	}
	host_len = (size_t)(host_end - authority);
	if (host_len == 0 || host_len >= sizeof(n->host))
		return wd_error_set(err, WD_EINVAL, "notify url has an empty or too long host");
	memcpy(n->host, authority, host_len);
	n->host[host_len] = '\0';

	n->port = n->tls ? 443 : 80;
	if (port_text) {
		unsigned long port = 0;
		const char *p = port_text;

		for (; p < path && *p >= '0' && *p <= '9' && port <= 65535; p++)
			port = port * 10 + (unsigned long)(*p - '0');
		if (p != path || p == port_text || port == 0 || port > 65535)
			return wd_error_set(err, WD_EINVAL, "notify url has an invalid port");
		n->port = (uint16_t)port;
	}
	snprintf(n->host_header, sizeof(n->host_header), strchr(n->host, ':') ? "[%s]:%u" : "%s:%u",
		n->host, n->port);

	/* A fragment is never sent; user information and the query can hold a
	 * token, so the audit target leaves them out. */
	n->path = wd_strndup(*path == '/' ? path : "/", *path == '/' ? strcspn(path, "#") : 1);
	if (n->path && *path == '?') {
		free(n->path);
		n->path = NULL;
		if (asprintf(&n->path, "/%.*s", (int)strcspn(path, "#"), path) < 0)
			n->path = NULL;
	}
	if (!n->path || asprintf(&n->target, "%s://%s%.*s", n->tls ? "https" : "http",
		n->host_header, (int)strcspn(n->path, "?"), n->path) < 0) {
		n->target = NULL;
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	return 0;
}

static int load_anchors(struct response_notifier *n, const char *file, struct wd_error *err)
{
	FILE *f = fopen(file, "re");
	X509 *cert;

	if (!f)
		return wd_error_set(err, WD_EIO, "cannot open the notify CA file %s", file);
	while ((cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		X509 **grown = wd_reallocarray(n->anchors, n->anchor_count + 1, sizeof(*grown));

		if (!grown) {
			X509_free(cert);
			fclose(f);
			return wd_error_set(err, WD_ENOMEM, "out of memory");
		}
		n->anchors = grown;
		n->anchors[n->anchor_count++] = cert;
	}
	ERR_clear_error();
	fclose(f);
	if (!n->anchor_count)
		return wd_error_set(err, WD_EINVAL, "the notify CA file %s has no PEM certificate",
			file);
	return 0;
}

/* net_client checks the chain against the anchors; the webhook's name is
 * checked here (RFC 6125): a DNS name or IP address SAN must match. */
static int verify_name(STACK_OF(X509) *chain, void *arg, struct wd_error *err)
{
	const struct response_notifier *n = arg;
	X509 *leaf = sk_X509_value(chain, 0);
	int ok;

	if (!leaf)
		return wd_error_set(err, WD_ECRYPTO, "the webhook sent no certificate");
	ok = X509_check_ip_asc(leaf, n->host, 0);
	if (ok < 0 || (ok == 0 && !strchr(n->host, ':')))
		ok = X509_check_host(leaf, n->host, 0, 0, NULL);
	if (ok != 1)
		return wd_error_set(err, WD_ECRYPTO, "the webhook's certificate is not valid for %s",
			n->host);
	return 0;
}

/* Sends one alert. Returns NULL on success or the reason in buf. */
static const char *post(struct response_notifier *n, const char *body, char *buf, size_t size)
{
	struct net_client_config config = {
		.host = n->host,
		.port = n->port,
		.plaintext = !n->tls,
		.server_name = n->tls ? n->host : n->host_header,
		.trust_anchors = n->anchors,
		.trust_anchor_count = n->anchor_count,
		.verify = n->tls ? verify_name : NULL,
		.verify_arg = n,
		.timeout_ms = n->timeout_ms,
		.max_response_bytes = 64 * 1024,
	};
	struct net_client *client = NULL;
	struct net_response *response = NULL;
	struct wd_error err = { 0 };
	const char *reason = NULL;

	if (net_client_connect(&config, &client, &err) < 0 ||
	    net_client_request(client, "POST", n->path, NULL, 0, "application/json", body,
		    strlen(body), &response, &err) < 0) {
		snprintf(buf, size, "%s", wd_error_text(&err));
		reason = buf;
	} else if (response->status < 200 || response->status > 299) {
		snprintf(buf, size, "the webhook answered with status %d", response->status);
		reason = buf;
	}
	net_response_free(response);
	net_client_free(client);
	return reason;
}

static void item_clear(struct notify_item *item)
{
	free(item->rule);
	free(item->body);
	memset(item, 0, sizeof(*item));
}

static void *worker_main(void *arg)
{
	struct response_notifier *n = arg;
	sigset_t pipe_only;

	/* OpenSSL writes with write(2): a webhook that closes the connection
	 * must make the write fail with EPIPE, not end the sensor. The signal
	 * is raised in the writing thread, so blocking it here is enough. */
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, NULL);

	pthread_mutex_lock(&n->lock);
	for (;;) {
		struct notify_item item;
		const char *reason;
		char buf[600];

		while (!n->count && !n->stopping)
			pthread_cond_wait(&n->wake, &n->lock);
		if (n->stopping)
			break;
		item = n->queue[n->head];
		memset(&n->queue[n->head], 0, sizeof(item));
		n->head = (n->head + 1) % n->queue_max;
		n->count--;
		pthread_mutex_unlock(&n->lock);

		reason = post(n, item.body, buf, sizeof(buf));
		n->done(n->done_ctx, item.rule, item.pid, reason ? "failure" : "success", reason);
		item_clear(&item);

		pthread_mutex_lock(&n->lock);
		if (reason)
			n->stats.failed++;
		else
			n->stats.sent++;
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

int response_notifier_new(const struct response_notify_config *config,
	response_notify_done_fn done, void *done_ctx, struct response_notifier **ret,
	struct wd_error *err)
{
	struct response_notifier *n = NULL;
	int rc = 0;

	*ret = NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->wake, NULL);
	n->done = done;
	n->done_ctx = done_ctx;
	n->timeout_ms = config->timeout_ms ? config->timeout_ms : RESPONSE_NOTIFY_DEFAULT_TIMEOUT_MS;
	n->queue_max = config->queue_max ? config->queue_max : RESPONSE_NOTIFY_DEFAULT_QUEUE;
	WD_GUARD(parse_url(n, config->url, err));
	if (n->tls)
		WD_GUARD(load_anchors(n, config->ca_file ? config->ca_file
			: RESPONSE_NOTIFY_SYSTEM_CA, err));
	n->queue = wd_calloc(n->queue_max, sizeof(*n->queue));
	if (!n->queue) {
		rc = wd_error_set(err, WD_ENOMEM, "out of memory");
		goto out;
	}
	if (pthread_create(&n->worker, NULL, worker_main, n) != 0) {
		rc = wd_error_set(err, WD_EINTERNAL, "cannot start the notify thread");
		goto out;
	}
	n->started = true;
	*ret = WD_TAKE_PTR(n);
out:
	response_notifier_free(n);
	return rc;
}

int response_notifier_push(struct response_notifier *n, const char *rule, uint32_t pid,
	const char *body, struct wd_error *err)
{
	struct notify_item item = { .rule = wd_strdup(rule), .body = wd_strdup(body), .pid = pid };
	int rc = 0;

	if (!item.rule || !item.body) {
		item_clear(&item);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&n->lock);
	if (n->stopping) {
		n->stats.dropped++;
		rc = wd_error_set(err, WD_EUNAVAILABLE, "the notify worker has stopped: alert dropped");
	} else if (n->count >= n->queue_max) {
		n->stats.dropped++;
		rc = wd_error_set(err, WD_ETOOBIG, "the notify queue is full (%zu alerts): alert "
			"dropped", n->queue_max);
	} else {
		n->queue[(n->head + n->count) % n->queue_max] = item;
		memset(&item, 0, sizeof(item));
		n->count++;
		pthread_cond_signal(&n->wake);
	}
	pthread_mutex_unlock(&n->lock);
	item_clear(&item);
	return rc;
}

const char *response_notifier_target(const struct response_notifier *n)
{
	return n->target;
}

struct response_notify_stats response_notifier_stats(struct response_notifier *n)
{
	struct response_notify_stats stats;

	pthread_mutex_lock(&n->lock);
	stats = n->stats;
	pthread_mutex_unlock(&n->lock);
	return stats;
}

void response_notifier_stop(struct response_notifier *n)
{
	if (!n)
		return;
	if (n->started) {
		pthread_mutex_lock(&n->lock);
		n->stopping = true;
		pthread_cond_signal(&n->wake);
		pthread_mutex_unlock(&n->lock);
		pthread_join(n->worker, NULL);
		n->started = false;
	}
	for (; n->queue && n->count; n->count--) {
		item_clear(&n->queue[n->head]);
		n->head = (n->head + 1) % n->queue_max;
		n->stats.dropped++;
	}
}

void response_notifier_free(struct response_notifier *n)
{
	if (!n)
		return;
	response_notifier_stop(n);
	for (size_t i = 0; i < n->anchor_count; i++)
		X509_free(n->anchors[i]);
	free(n->anchors);
	free(n->queue);
	free(n->path);
	free(n->target);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->wake);
	free(n);
}
