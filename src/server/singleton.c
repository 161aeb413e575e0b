/* The singleton lock: on a datastore that several servers share, work that
 * must run once (lease expiry, CA rotation, CRL reissue, pruning) runs on
 * the server that holds a session-level PostgreSQL advisory lock. The lock
 * lives on a connection of its own, so it is held exactly as long as that
 * session: when the holder dies, PostgreSQL ends its session and the lock
 * frees, and the others, which try again every tick, take it within a tick.
 * A kill or crash of the process closes its socket at once. A lost host or
 * network is found by TCP keepalives, which this connection sets for the
 * PostgreSQL server to send, timed so that a dead peer is dropped within the
 * takeover bound. A stopped process (SIGSTOP, a paused VM) keeps its socket
 * open, and its kernel still acknowledges keepalives. The lock's session
 * therefore also sets PostgreSQL's idle_session_timeout (14 and later). The
 * holder sends a statement every tick, so only a holder that misses ticks
 * for longer loses its session and the lock. On SQLite the server is alone and always the holder.
 *
 * Each tick also times a "SELECT 1" on the main datastore connection, which
 * /v1/health and the logs report as the datastore latency. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/random.h"
#include "common/time.h"
#include "server/server_internal.h"

/* The key of the singleton lock: the bytes of "wardenSG" as a big-endian
 * int8, distinct from the transaction lock's "wardenTX". */
#define SINGLETON_LOCK_KEY "8602282538778383175"
/* The key's halves as pg_locks shows them: classid is the high 32 bits,
 * objid the low 32 bits, and objsubid 1 marks a single int8 key. */
#define SINGLETON_LOCK_CHECK \
	"SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'" \
	" AND pid = pg_backend_pid() AND classid = 2002874980 AND objid = 1701729095" \
	" AND objsubid = 1 AND granted)"

/* Period of server_tick, in seconds. */
#define TICK_SECONDS 1

/* Weight of the newest sample in the moving average of the latency. */
#define LATENCY_WEIGHT 0.2

static int64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The datastore URL with the keepalive settings of the lock's connection:
 * the PostgreSQL server probes an idle client after idle seconds, every
 * interval seconds, and drops it after count unanswered probes, so a dead
 * holder's session, and with it the lock, ends within idle + interval x
 * count <= takeover seconds. The client side uses the same timing and
 * tcp_user_timeout, so a holder cut off from the database notices too.
 * Keepalives only apply to TCP, and a Unix socket closes with its process.
 * NOTE: no test cuts a TCP connection, so this timing is untested. */
static int lock_url(const char *url, int64_t takeover, char **ret_url, struct wd_error *err)
{
	int64_t interval = takeover / 5 > 1 ? takeover / 5 : 1;
	int64_t idle = takeover - 3 * interval > 1 ? takeover - 3 * interval : 1;
	const char *separator = strchr(url, '?') ? "&" : "?";
	char *out = NULL;
	int n;

	/* A URL that sets its own server options keeps them; then only the
	 * client side probes. */
	if (strstr(url, "options="))
		n = asprintf(&out, "%s%skeepalives=1&keepalives_idle=%" PRId64
			"&keepalives_interval=%" PRId64 "&keepalives_count=3&tcp_user_timeout=%" PRId64,
			url, separator, idle, interval, takeover * 1000);
	else
		n = asprintf(&out, "%s%skeepalives=1&keepalives_idle=%" PRId64
			"&keepalives_interval=%" PRId64 "&keepalives_count=3&tcp_user_timeout=%" PRId64
			"&options=-c%%20tcp_keepalives_idle%%3D%" PRId64
			"%%20-c%%20tcp_keepalives_interval%%3D%" PRId64
			"%%20-c%%20tcp_keepalives_count%%3D3%%20-c%%20tcp_user_timeout%%3D%" PRId64,
			url, separator, idle, interval, takeover * 1000, idle, interval,
			takeover * 1000);
	if (n < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory building the lock's URL");
	*ret_url = out;
	return 0;
}

int server_singleton_open(struct server_ctx *ctx, const char *store_url, struct wd_error *err)
{
	struct server_singleton *singleton = &ctx->singleton;
	uint32_t suffix = 0;
	char host[64] = "";

	singleton->takeover = ctx->config->singleton_takeover;
	singleton->shared = strcmp(store_backend(ctx->store), "postgres") == 0;
	if (!singleton->shared) {
		singleton->held = true;
		return 0;
	}
	/* The name a lease claim records: readable, and unique across
	 * restarts of one host's servers. */
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	WD_TRY(wd_random_bytes(&suffix, sizeof(suffix)));
	snprintf(singleton->node_id, sizeof(singleton->node_id), "%.32s:%ld:%08" PRIx32, host,
		(long)getpid(), suffix);
	WD_TRY(lock_url(store_url, singleton->takeover, &singleton->url, err));
	return 0;
}

void server_singleton_close(struct server_ctx *ctx)
{
	struct server_singleton *singleton = &ctx->singleton;

	/* Closing the session releases the lock at once. */
	store_close(singleton->store);
	singleton->store = NULL;
	singleton->held = !singleton->shared;
	if (singleton->url) {
		explicit_bzero(singleton->url, strlen(singleton->url));
		free(singleton->url);
		singleton->url = NULL;
	}
}

/* The application_name of the lock's session, "warden lock NODE_ID", so
 * that the other servers read the holder's node id from pg_stat_activity.
 * The longest node id, 49 bytes, fits PostgreSQL's limit of 63. */
#define LOCK_APPLICATION_PREFIX "warden lock "

/* Sessions holding the lock, with their application_name. */
#define SINGLETON_HOLDER_QUERY \
	"SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid" \
	" WHERE l.locktype = 'advisory' AND l.classid = 2002874980 AND l.objid = 1701729095" \
	" AND l.objsubid = 1 AND l.granted LIMIT 1"

struct lock_reply {
	bool granted;
	bool idle_timeout_set;
	char holder_node[64];
};

static int read_lock_reply(void *context, const struct store_row *row)
{
	struct lock_reply *reply = context;
	const char *text = store_row_text(row, 0);

	/* PostgreSQL's boolean arrives as "t" or "f". */
	reply->granted = text && (text[0] == 't' || text[0] == '1');
	return 0;
}

static int read_try_reply(void *context, const struct store_row *row)
{
	struct lock_reply *reply = context;

	const char *holder = store_row_text(row, 3);
	size_t prefix_length = strlen(LOCK_APPLICATION_PREFIX);

	(void)read_lock_reply(context, row);
	reply->idle_timeout_set = store_row_int(row, 1) == 1;
	/* Another application_name is a session of an older server, whose
	 * node id is unknown. */
	if (holder && strncmp(holder, LOCK_APPLICATION_PREFIX, prefix_length) == 0)
		snprintf(reply->holder_node, sizeof(reply->holder_node), "%s",
			holder + prefix_length);
	return 0;
}

/* The idle_session_timeout of the lock's session, in milliseconds: a
 * holder that stops for this long loses the lock, and another server takes
 * it at its next tick, so within takeover seconds of the holder's last
 * tick. The holder touches its session every tick, which leaves a tick
 * that runs late takeover - 2 s of slack.
 * NOTE: at the minimum takeover of 2 s the timeout stays at 1.5 s, so that
 * a live holder keeps half a second of slack, and a stopped holder is
 * replaced within 2.5 s. */
static int64_t idle_timeout_ms(int64_t takeover)
{
	int64_t timeout = (takeover - TICK_SECONDS) * 1000;

	return timeout > 1500 ? timeout : 1500;
}

static int ignore_row(void *context, const struct store_row *row)
{
	(void)context;
	(void)row;
	return 0;
}

static void lose(struct server_ctx *ctx, const char *why, struct wd_error *err)
{
	struct server_singleton *singleton = &ctx->singleton;

	store_close(singleton->store);
	singleton->store = NULL;
	singleton->holder_node[0] = '\0';
	if (singleton->held) {
		singleton->held = false;
		log_warn("server", "singleton lock lost: run-once work stops here", "reason", why,
			"error", err ? wd_error_text(err) : "");
		server_audit(ctx, NULL, "singleton.lose", ctx->config->trust_domain, "success",
			NULL);
	}
}

/* Checks the held lock's session, or tries to take the lock. */
static void poll_lock(struct server_ctx *ctx, int64_t now)
{
	struct server_singleton *singleton = &ctx->singleton;
	struct lock_reply reply = { 0 };
	struct store_value application_name;
	char application[sizeof(LOCK_APPLICATION_PREFIX) + sizeof(singleton->node_id)];
	struct wd_error err;
	char sql[768];
	int rc;

	wd_error_clear(&err);
	snprintf(application, sizeof(application), LOCK_APPLICATION_PREFIX "%s", singleton->node_id);
	application_name = STORE_TEXT_VALUE(application);
	if (!singleton->store) {
		rc = store_open(singleton->url, NULL, &singleton->store, &err);
		if (rc < 0) {
			lose(ctx, "no connection for the lock", &err);
			return;
		}
	}
	if (singleton->held) {
		/* The lock lasts as long as this session. The store reconnects
		 * a lost connection by itself, so check the lock, not only that
		 * the session responds. A holder that was stopped for longer than
		 * the idle timeout finds its session ended here, before this tick
		 * runs any run-once work. The check also keeps a live holder's
		 * session from idling out. */
		rc = store_query(singleton->store, SINGLETON_LOCK_CHECK, NULL, 0, read_lock_reply,
			&reply, &err);
		if (rc < 0)
			lose(ctx, "the lock's session failed", &err);
		else if (!reply.granted)
			lose(ctx, "the lock's session was replaced", NULL);
		return;
	}
	/* The session timeout and the application_name are set in the
	 * statement that takes the lock, so a session that the store opened
	 * again by itself gets them too. Reading pg_settings returns no row,
	 * rather than an error, on PostgreSQL before 14, which has no
	 * idle_session_timeout. The last column names the holder. */
	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(" SINGLETON_LOCK_KEY "),"
		" (SELECT count(set_config(name, '%" PRId64 "', false)) FROM pg_settings"
		" WHERE name = 'idle_session_timeout'),"
		" set_config('application_name', $1, false), (" SINGLETON_HOLDER_QUERY ")",
		idle_timeout_ms(singleton->takeover));
	rc = store_query(singleton->store, sql, &application_name, 1, read_try_reply, &reply,
		&err);
	if (rc < 0) {
		lose(ctx, "the lock's session failed", &err);
		return;
	}
	if (!reply.granted) {
		memcpy(singleton->holder_node, reply.holder_node, sizeof(singleton->holder_node));
		return;
	}
	snprintf(singleton->holder_node, sizeof(singleton->holder_node), "%s",
		singleton->node_id);
	if (!reply.idle_timeout_set)
		log_warn("server", "PostgreSQL has no idle_session_timeout (it needs 14 or later): "
			"a stopped holder keeps the singleton lock until it runs again",
			"node", singleton->node_id);
	singleton->held = true;
	singleton->since = now;
	singleton->acquisitions++;
	log_info("server", "singleton lock taken: this server runs the run-once work", "node",
		singleton->node_id);
	server_audit(ctx, NULL, "singleton.take", ctx->config->trust_domain, "success", NULL);
}

static void measure_latency(struct server_ctx *ctx)
{
	struct server_singleton *singleton = &ctx->singleton;
	struct wd_error err;
	int64_t start = monotonic_us();
	int rc;

	wd_error_clear(&err);
	rc = store_query(ctx->store, "SELECT 1", NULL, 0, ignore_row, NULL, &err);
	if (rc < 0) {
		singleton->store_errors++;
		singleton->store_down = true;
		log_warn("server", "datastore round trip failed", "error", wd_error_text(&err));
		return;
	}
	singleton->store_down = false;
	singleton->latency_us = monotonic_us() - start;
	if (singleton->samples++ == 0)
		singleton->latency_avg_us = (double)singleton->latency_us;
	else
		singleton->latency_avg_us += LATENCY_WEIGHT *
			((double)singleton->latency_us - singleton->latency_avg_us);
}

bool server_singleton_tick(struct server_ctx *ctx, int64_t now)
{
	struct server_singleton *singleton = &ctx->singleton;
	bool was_held = singleton->held;

	measure_latency(ctx);
	if (singleton->shared)
		poll_lock(ctx, now);
	return singleton->shared && singleton->held && !was_held;
}

int server_singleton_json(struct server_ctx *ctx, json_t *obj)
{
	const struct server_singleton *singleton = &ctx->singleton;
	/* Whole microseconds, which the reply prints as milliseconds with at
	 * most three decimals (handle_health dumps reals with 15 digits). */
	int64_t average_us = (int64_t)(singleton->latency_avg_us + 0.5);
	json_t *store = json_pack("{s:s, s:b, s:f, s:f, s:I}", "backend", store_backend(ctx->store),
		"up", !singleton->store_down,
		"latency_ms", (double)singleton->latency_us / 1000.0, "latency_avg_ms",
		(double)average_us / 1000.0, "errors", (json_int_t)singleton->store_errors);
	json_t *lock = json_pack("{s:b, s:b, s:I, s:I, s:s, s:o}", "held", singleton->held,
		"shared", singleton->shared, "takeover_seconds", (json_int_t)singleton->takeover,
		"since", (json_int_t)singleton->since, "this_node", singleton->node_id,
		"holder_node", singleton->holder_node[0] ? json_string(singleton->holder_node) :
		json_null());

	/* The _new setters take the value even when they fail. */
	if (!store || !lock) {
		json_decref(store);
		json_decref(lock);
		return WD_ENOMEM;
	}
	if (json_object_set_new(obj, "datastore", store) < 0) {
		json_decref(lock);
		return WD_ENOMEM;
	}
	if (json_object_set_new(obj, "singleton_lock", lock) < 0 ||
	    json_object_set_new(obj, "singleton", json_boolean(singleton->held)) < 0)
		return WD_ENOMEM;
	return 0;
}
