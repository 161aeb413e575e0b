/* Counters of the proxy, shared by every worker (relaxed atomic adds), and
 * their Prometheus text exposition. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/macros.h"

enum proxy_counter {
	PM_CONNECTIONS_ACCEPTED,
	PM_CONNECTIONS_CLOSED,
	PM_REFUSED_LIMIT,        /* over max_connections */
	PM_REFUSED_TLS,          /* handshake failed or peer not verified */
	PM_REFUSED_AUTHZ,        /* L4 allow-list or expected server ID */
	PM_HANDSHAKES,           /* completed TLS handshakes */
	PM_HANDSHAKES_RESUMED,
	PM_KTLS_SEND,            /* connections with kernel TLS offload for sending */
	PM_KTLS_RECV,
	PM_UPSTREAM_FAILURES,    /* connect to forward or upstream failed */
	PM_TIMEOUT_HANDSHAKE,
	PM_TIMEOUT_HEADER,
	PM_TIMEOUT_IDLE,
	PM_TIMEOUT_TOTAL,
	PM_BYTES_FROM_CLIENTS,
	PM_BYTES_TO_CLIENTS,
	PM_REQUESTS,
	PM_REQUESTS_ALLOWED,
	PM_REQUESTS_DENIED,
	PM_REQUESTS_MALFORMED,
	PM_POLICY_EVAL_NS,
	PM_AUDIT_WRITTEN,
	PM_AUDIT_DROPPED,
	PM_COUNTER_COUNT,
};

struct proxy_metrics {
	uint64_t counters[PM_COUNTER_COUNT];
	int64_t active_connections;
	uint64_t identity_generation;
	int64_t identity_not_after;
};

static inline void proxy_metric_add(struct proxy_metrics *m, enum proxy_counter counter,
	uint64_t value)
{
	__atomic_fetch_add(&m->counters[counter], value, __ATOMIC_RELAXED);
}

/* Appends the Prometheus text format (version 0.0.4) of m to out. */
WD_MUST_CHECK int proxy_metrics_render(const struct proxy_metrics *m, struct wd_buf *out);

struct proxy_metrics_server;

/* Serves GET /metrics (and /health) on a loopback address from a thread
 * of its own. WD_ECONFIG when address is not a loopback "host:port". */
WD_MUST_CHECK int proxy_metrics_server_start(const char *address, struct proxy_metrics *m,
	struct proxy_metrics_server **ret_server, struct wd_error *err);
void proxy_metrics_server_free(struct proxy_metrics_server *server);

/* The hash-chained audit log of the proxy's decisions, written by a thread
 * of its own so the event loop never waits for fdatasync. */
struct proxy_audit;

WD_MUST_CHECK int proxy_audit_open(const char *path, struct proxy_metrics *m,
	struct proxy_audit **ret_audit, struct wd_error *err);

/* Queues one record; drops it (and counts the drop) when the queue of
 * 4,096 records is full. Fields are copied. */
void proxy_audit_record(struct proxy_audit *audit, const char *actor, const char *action,
	const char *object, const char *outcome, const char *detail);

/* Writes what is queued, then closes; accepts NULL. */
void proxy_audit_close(struct proxy_audit *audit);
