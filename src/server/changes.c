/* Change notification between servers that share a PostgreSQL datastore:
 * a listener connection of its own, polled from the event loop, and the
 * caches each kind of change refreshes. Writes notify in their own
 * transaction (store_notify), so a notification means a committed change.
 * Entry lists are read from the datastore on every request that needs
 * them. Only the entry revision and the caller checks are kept in memory. */
#include <stdbool.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/time.h"
#include "server/policy_state.h"
#include "server/server_internal.h"

/* Upper bound of the wait between attempts to reconnect the listener. */
#define CHANGES_MAX_BACKOFF_SECONDS 30

static bool has_kind(const char *payload, const char *kind)
{
	size_t len = strlen(kind);

	return strncmp(payload, kind, len) == 0 &&
		(payload[len] == '\0' || payload[len] == ':' || payload[len] == '_');
}

void server_changes_apply(struct server_ctx *ctx, const char *payload)
{
	bool all = payload == NULL;
	struct wd_error err;

	wd_error_clear(&err);
	if (all || has_kind(payload, "policy")) {
		if (policy_state_reload(ctx->policy, &err) < 0)
			log_error("server", "policies not reloaded after a change", "change",
				payload ? payload : "all", "error", wd_error_text(&err));
	}
	if (all || has_kind(payload, "secrets") || has_kind(payload, "seal")) {
		wd_error_clear(&err);
		if (secrets_reload(ctx->secrets, &err) < 0)
			log_error("server", "secrets state not reloaded after a change",
				"change", payload ? payload : "all", "error", wd_error_text(&err));
	}
	if (all || has_kind(payload, "ca") || has_kind(payload, "revocation")) {
		bool changed = false;

		wd_error_clear(&err);
		if (authority_reload_if_changed(ctx->authority, &changed, &err) < 0)
			log_error("server", "authority not reloaded after a change", "change",
				payload ? payload : "all", "error", wd_error_text(&err));
		server_caller_cache_clear(ctx);
	}
	if (all)
		server_entry_revision_forget(ctx);
	else if (has_kind(payload, "entry"))
		server_entry_revision_notified(ctx, payload);
	if (!all && has_kind(payload, "node"))
		server_caller_cache_forget_agent(ctx, payload[4] == ':' ? payload + 5 : NULL);
	ctx->changes_applied++;
	/* Entry and node changes come with every entry write and SVID renewal,
	 * too often to log each. */
	if (all || !(has_kind(payload, "entry") || has_kind(payload, "node")))
		log_info("server", "change from another server applied", "change",
			payload ? payload : "all");
}

static void on_notification(const char *payload, bool own, void *arg)
{
	/* This server updated its own caches when it wrote. */
	if (!own)
		server_changes_apply(arg, payload);
}

static void schedule_retry(struct server_ctx *ctx);

/* Handles the notifications that arrived on the listener. A lost
 * connection stops the caches from being used (server_caches_trusted)
 * until it reconnects. */
static void drain(struct server_ctx *ctx)
{
	struct wd_error err;

	wd_error_clear(&err);
	if (store_listen_drain(ctx->listen_store, on_notification, ctx, &err) == 0)
		return;
	log_warn("server", "change listener lost its connection, reconnecting", "error",
		wd_error_text(&err));
	event_free(ctx->listen_event);
	ctx->listen_event = NULL;
	ctx->listen_backoff = 0;
	server_entry_revision_forget(ctx);
	server_caller_cache_clear(ctx);
	schedule_retry(ctx);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain(arg);
}

void server_changes_poll(struct server_ctx *ctx)
{
	if (ctx->listen_event)
		drain(ctx);
}

/* Subscribes and watches the listener's socket. */
static int listen_now(struct server_ctx *ctx, struct wd_error *err)
{
	int fd;

	WD_TRY(store_listen(ctx->listen_store, err));
	fd = store_listen_fd(ctx->listen_store);
	if (fd < 0)
		return wd_error_set(err, WD_EUNAVAILABLE, "the change listener has no connection");
	ctx->listen_event = event_new(ctx->base, fd, EV_READ | EV_PERSIST, on_readable, ctx);
	if (!ctx->listen_event)
		return wd_error_set(err, WD_ENOMEM, "out of memory watching the change listener");
	if (event_add(ctx->listen_event, NULL) < 0) {
		event_free(ctx->listen_event);
		ctx->listen_event = NULL;
		return wd_error_set(err, WD_EINTERNAL, "cannot watch the change listener");
	}
	return 0;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct server_ctx *ctx = arg;
	struct wd_error err;

	(void)fd;
	(void)what;
	wd_error_clear(&err);
	if (listen_now(ctx, &err) < 0) {
		log_warn("server", "change listener not reconnected", "error", wd_error_text(&err));
		schedule_retry(ctx);
		return;
	}
	log_info("server", "change listener reconnected");
	/* Changes made while the connection was down were not heard. */
	server_changes_apply(ctx, NULL);
}

static void schedule_retry(struct server_ctx *ctx)
{
	int64_t delay = ctx->listen_backoff <= 0 ? 1 : ctx->listen_backoff * 2;
	struct timeval tv;

	if (delay > CHANGES_MAX_BACKOFF_SECONDS)
		delay = CHANGES_MAX_BACKOFF_SECONDS;
	ctx->listen_backoff = delay;
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = 0;
	if (!ctx->listen_retry)
		ctx->listen_retry = evtimer_new(ctx->base, on_retry, ctx);
	if (!ctx->listen_retry || evtimer_add(ctx->listen_retry, &tv) < 0)
		log_error("server", "cannot schedule the change listener's reconnection");
}

int server_changes_start(struct server_ctx *ctx, struct wd_error *err)
{
	const char *url = ctx->config->datastore;

	if (!url || strcmp(store_backend(ctx->store), "postgres") != 0)
		return 0;
	WD_TRY(store_open(url, NULL, &ctx->listen_store, err));
	return listen_now(ctx, err);
}

void server_changes_stop(struct server_ctx *ctx)
{
	if (ctx->listen_event)
		event_free(ctx->listen_event);
	ctx->listen_event = NULL;
	if (ctx->listen_retry)
		event_free(ctx->listen_retry);
	ctx->listen_retry = NULL;
	store_close(ctx->listen_store);
	ctx->listen_store = NULL;
}

void server_changes_announce(struct server_ctx *ctx, const char *payload)
{
	struct wd_error err;

	/* This server's own revocation or CA change, which its caller checks
	 * must not outlive. */
	if (has_kind(payload, "revocation") || has_kind(payload, "ca"))
		server_caller_cache_clear(ctx);
	wd_error_clear(&err);
	if (store_notify(ctx->store, payload, &err) < 0)
		log_warn("server", "cannot notify other servers", "change", payload, "error",
			wd_error_text(&err));
}
