/* GET /metrics: the server's counters and gauges in the Prometheus text
 * exposition format 0.0.4, for any caller that /v1/health serves. */

#include "common/buf.h"
#include "server/server_internal.h"
#include "store/store.h"

/* Ceiling of one rendered page, in bytes. A page is about 4 KiB. */
#define METRICS_MAX_BYTES (64 * 1024)

static const char *const route_class_names[SERVER_ROUTE_CLASS_COUNT] = {
	[SERVER_ROUTE_NODE] = "node",
	[SERVER_ROUTE_SHARED] = "shared",
	[SERVER_ROUTE_ADMIN] = "admin",
	[SERVER_ROUTE_SENSOR] = "sensor",
	[SERVER_ROUTE_POLICY] = "policy",
};

static int header(struct wd_buf *out, const char *name, const char *type, const char *help)
{
	return wd_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int counter(struct wd_buf *out, const char *name, const char *help, uint64_t value)
{
	WD_TRY(header(out, name, "counter", help));
	return wd_buf_appendf(out, "%s %llu\n", name, (unsigned long long)value);
}

static int gauge(struct wd_buf *out, const char *name, const char *help, double value)
{
	WD_TRY(header(out, name, "gauge", help));
	return wd_buf_appendf(out, "%s %.9g\n", name, value);
}

static int by_route_class(struct wd_buf *out, const char *name, const char *help,
	const uint64_t values[static SERVER_ROUTE_CLASS_COUNT])
{
	WD_TRY(header(out, name, "counter", help));
	for (size_t i = 0; i < SERVER_ROUTE_CLASS_COUNT; i++)
		WD_TRY(wd_buf_appendf(out, "%s{class=\"%s\"} %llu\n", name, route_class_names[i],
			(unsigned long long)values[i]));
	return 0;
}

static int render_requests(const struct server_ctx *ctx, struct wd_buf *out)
{
	const struct server_metrics *metrics = &ctx->metrics;

	WD_TRY(by_route_class(out, "warden_server_requests_total",
		"Requests served on the identity, policy and admin APIs, by route class.",
		metrics->requests));
	WD_TRY(by_route_class(out, "warden_server_request_errors_total",
		"Requests answered with an error status, by route class.", metrics->request_errors));
	WD_TRY(counter(out, "warden_server_entry_syncs_total",
		"GET /v1/node/entries requests answered.", metrics->entry_syncs));
	return counter(out, "warden_server_entry_syncs_unchanged_total",
		"Entry syncs answered with unchanged=true.", metrics->entry_syncs_unchanged);
}

static int render_datastore(const struct server_ctx *ctx, struct wd_buf *out)
{
	const struct server_singleton *singleton = &ctx->singleton;

	WD_TRY(header(out, "warden_server_datastore_info", "gauge",
		"The datastore backend, as a label; the value is always 1."));
	WD_TRY(wd_buf_appendf(out, "warden_server_datastore_info{backend=\"%s\"} 1\n",
		store_backend(ctx->store)));
	WD_TRY(gauge(out, "warden_server_datastore_up",
		"1 when the last SELECT 1 on the datastore succeeded, 0 when it failed.",
		singleton->store_down ? 0 : 1));
	WD_TRY(gauge(out, "warden_server_datastore_latency_seconds",
		"Round trip of the last SELECT 1 on the datastore, sent once a second.",
		(double)singleton->latency_us / 1e6));
	WD_TRY(gauge(out, "warden_server_datastore_latency_average_seconds",
		"Moving average of that round trip.", singleton->latency_avg_us / 1e6));
	WD_TRY(counter(out, "warden_server_datastore_errors_total",
		"Round trips to the datastore that failed.", singleton->store_errors));
	return counter(out, "warden_server_datastore_statements_total",
		"Statements this process sent to its datastores since it started.",
		store_statement_count());
}

static int render_cluster(const struct server_ctx *ctx, struct wd_buf *out)
{
	const struct server_singleton *singleton = &ctx->singleton;

	WD_TRY(gauge(out, "warden_server_singleton_holder",
		"1 when this server holds the singleton lock and runs the run-once work.",
		singleton->held ? 1 : 0));
	WD_TRY(counter(out, "warden_server_singleton_acquisitions_total",
		"Times this server took the singleton lock.", singleton->acquisitions));
	WD_TRY(counter(out, "warden_server_changes_applied_total",
		"Change notifications from other servers applied, and full refreshes.",
		ctx->changes_applied));
	/* SQLite has no listener, because one server owns the file. */
	if (ctx->listen_store)
		WD_TRY(gauge(out, "warden_server_change_listener_up",
			"1 while the change listener is connected to PostgreSQL.",
			ctx->listen_event ? 1 : 0));
	return gauge(out, "warden_server_bundle_sequence",
		"Sequence of the trust bundle and CRLs this server serves.",
		(double)authority_bundle_sequence(ctx->authority));
}

static int by_cache(struct wd_buf *out, const char *name, const char *help,
	uint64_t entry_revision, uint64_t caller)
{
	WD_TRY(header(out, name, "counter", help));
	return wd_buf_appendf(out, "%s{cache=\"entry_revision\"} %llu\n"
		"%s{cache=\"caller\"} %llu\n", name, (unsigned long long)entry_revision, name,
		(unsigned long long)caller);
}

static int render_caches(const struct server_ctx *ctx, struct wd_buf *out)
{
	WD_TRY(by_cache(out, "warden_server_cache_hits_total",
		"Lookups answered from memory: the entry revision, and a caller's "
		"revocation or node check.", ctx->entry_revision.hits, ctx->caller_cache.hits));
	return by_cache(out, "warden_server_cache_misses_total",
		"Lookups that read the datastore.", ctx->entry_revision.misses,
		ctx->caller_cache.misses);
}

int server_metrics_render(const struct server_ctx *ctx, struct wd_buf *out)
{
	WD_TRY(render_requests(ctx, out));
	WD_TRY(render_caches(ctx, out));
	WD_TRY(render_datastore(ctx, out));
	return render_cluster(ctx, out);
}

int handle_metrics(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct caller caller;
	struct wd_buf text;
	int rc;

	WD_TRY(caller_identify(ctx, req, &caller, err));
	wd_buf_init(&text, 4096, METRICS_MAX_BYTES);
	rc = server_metrics_render(ctx, &text);
	if (rc < 0)
		rc = wd_error_set(err, rc, "cannot render the metrics page");
	else
		rc = net_reply_text(req, 200, "text/plain; version=0.0.4", wd_buf_data(&text),
			wd_buf_len(&text));
	wd_buf_free(&text);
	return rc;
}
