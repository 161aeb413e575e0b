/* The once-a-second timer: CA rotation, serving-SVID renewal and pruning of
 * expired join tokens. On a datastore that several servers share, the work
 * that must run once (lease expiry, CA rotation and CRL reissue, pruning)
 * runs only on the holder of the singleton lock (singleton.c); the others
 * follow the CA state that the holder stores. */
#include <inttypes.h>
#include <stdio.h>

#include "common/log.h"
#include "common/time.h"
#include "secrets/secrets.h"
#include "server/server_internal.h"

/* Expired join tokens are pruned this often, in seconds. */
#define TOKEN_PRUNE_INTERVAL 300
/* An expired token stays this long, in seconds, so that an agent that
 * presents it late is told "expired" rather than "unknown". */
#define TOKEN_PRUNE_GRACE 3600

static void record_rotation(struct server_ctx *ctx, const struct authority_changes *changes)
{
	char slot[32];

	if (changes->prepared_slot) {
		snprintf(slot, sizeof(slot), "slot:%" PRId64, changes->prepared_slot);
		log_info("server", "next CA prepared and published", "slot", slot);
		server_audit(ctx, NULL, "ca.prepare", slot, "success", NULL);
	}
	if (changes->activated_slot) {
		snprintf(slot, sizeof(slot), "slot:%" PRId64, changes->activated_slot);
		log_info("server", "CA activated", "slot", slot);
		server_audit(ctx, NULL, "ca.activate", slot, "success", NULL);
	}
	for (size_t i = 0; i < changes->pruned_count; i++) {
		snprintf(slot, sizeof(slot), "slot:%" PRId64, changes->pruned_slots[i]);
		log_info("server", "expired CA removed from the bundle", "slot", slot);
		server_audit(ctx, NULL, "ca.prune", slot, "success", NULL);
	}
}

/* On a shared datastore each server loads the CA state again when another
 * server changed it: the holder by a rotation, any server by a revocation. */
static void follow_authority(struct server_ctx *ctx)
{
	struct wd_error err;
	bool changed = false;

	wd_error_clear(&err);
	if (authority_reload_if_changed(ctx->authority, &changed, &err) < 0)
		log_error("server", "CA state from the datastore not loaded", "error",
			wd_error_text(&err));
	else if (changed)
		log_info("server", "CA state loaded from the datastore");
}

/* The holder reads every stored lease again when it takes the lock and
 * then every takeover period, so that it revokes leases that other servers
 * made, and those a dead holder left. */
static void rescan_leases(struct server_ctx *ctx, bool taken, int64_t now)
{
	struct server_singleton *singleton = &ctx->singleton;

	if (!singleton->shared || (!taken && now - singleton->last_rescan < singleton->takeover))
		return;
	singleton->last_rescan = now;
	secrets_leases_rescan(ctx->secrets);
}

void server_tick(evutil_socket_t fd, short events, void *arg)
{
	struct server_ctx *ctx = arg;
	struct authority_changes changes = { 0 };
	struct wd_error err;
	int64_t now = wd_now();
	bool taken;

	(void)fd;
	(void)events;
	wd_error_clear(&err);

	taken = server_singleton_tick(ctx, now);
	server_refusal_log_flush(ctx);
	/* A revocation through another server reissues the CRLs there, so the
	 * holder follows the stored state too before it rotates. */
	if (ctx->singleton.shared)
		follow_authority(ctx);
	if (ctx->singleton.held) {
		rescan_leases(ctx, taken, now);
		/* Lease expiry first: it must not wait behind a failing CA step. */
		secrets_tick(ctx->secrets, now);
	}
	if (audit_flush(ctx->audit, &err) < 0)
		log_error("audit", "deferred audit records not flushed", "error", wd_error_text(&err));
	wd_error_clear(&err);

	if (ctx->singleton.held) {
		if (authority_tick(ctx->authority, now, &changes, &err) < 0) {
			log_error("server", "CA rotation step failed", "error", wd_error_text(&err));
			return;
		}
		record_rotation(ctx, &changes);
		if (changes.bundle_changed || changes.crls_reissued)
			server_changes_announce(ctx, "ca");
	}

	/* A new CA in the bundle must become a client trust anchor at once, and
	 * a newly active CA must sign the serving SVID, so peers that only hold
	 * the newest bundle can still verify the server. Sealed CA keys can
	 * sign nothing, and once unsealed they replace the saved certificate. */
	if (!authority_keys_sealed(ctx->authority) &&
		(ctx->serving_from_file || changes.activated_slot || now >= ctx->server_svid_renew_at ||
		authority_bundle_sequence(ctx->authority) != ctx->listener_sequence)) {
		if (server_refresh_tls(ctx, now, &err) < 0)
			log_error("server", "serving certificate not renewed", "error",
				wd_error_text(&err));
	}

	if (ctx->singleton.held && now - ctx->last_token_prune >= TOKEN_PRUNE_INTERVAL) {
		int64_t pruned = 0;

		ctx->last_token_prune = now;
		if (registry_token_prune(ctx->registry, now - TOKEN_PRUNE_GRACE, &pruned, &err) < 0)
			log_warn("server", "expired join tokens not pruned", "error", wd_error_text(&err));
	}
}
