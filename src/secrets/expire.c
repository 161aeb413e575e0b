/* The expiration manager's life cycle and the operations other parts call:
 * register a lease before its secret exists, update or forget it, and
 * revoke one lease, a prefix or every lease of a token. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/time.h"
#include "secrets/barrier.h"
#include "secrets/expire_internal.h"
#include "secrets/token.h"

/* A restore logs its progress every this many leases. */
#define RESTORE_PROGRESS_EVERY 10000

int expiration_open(struct secrets *secrets, struct expiration **ret_expiration,
	struct wd_error *err)
{
	struct expiration *expiration = calloc(1, sizeof(*expiration));

	(void)secrets;
	*ret_expiration = NULL;
	if (!expiration || expire_schedule_new(&expiration->schedule) < 0) {
		free(expiration);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	*ret_expiration = expiration;
	return 0;
}

void expiration_free(struct expiration *expiration)
{
	if (!expiration)
		return;
	expire_schedule_free(expiration->schedule);
	free(expiration);
}

int expire_check_ready(struct secrets *secrets, struct wd_error *err)
{
	if (!secrets->barrier || barrier_sealed(secrets->barrier))
		return wd_error_set(err, WD_EUNAVAILABLE, "Vault is sealed");
	if (!secrets->expiration || !secrets->expiration->loaded)
		return wd_error_set(err, WD_EUNAVAILABLE, "leases are not loaded yet");
	return 0;
}

int expire_lease_update(struct secrets *secrets, const struct lease *lease,
	struct wd_error *err)
{
	WD_TRY(expire_lease_save(secrets, lease, err));
	if (expire_schedule_set(secrets->expiration->schedule, lease->lease_id,
		    expire_lease_due(lease), lease->irrevocable) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* --- Restore and unload --- */

struct restore_state {
	struct secrets *secrets;
	int64_t now;
	size_t loaded;
	size_t expired;
	size_t skipped;
	struct wd_error *err;
};

static int restore_one(void *context, const char *lease_id)
{
	struct restore_state *state = context;
	struct lease *lease = NULL;
	struct wd_error lease_err;
	int64_t due;
	int rc;

	wd_error_clear(&lease_err);
	rc = expire_lease_load(state->secrets, lease_id, &lease, &lease_err);

	/* One undecodable record must not keep every other lease from being
	 * revoked: Vault seals on any restore error, which turned single bad
	 * entries into outages. It stays stored for revoke-force. */
	if (rc == WD_ECORRUPT || rc == WD_ENOTFOUND) {
		log_warn("expire", "stored lease skipped", "lease_id", lease_id, "error",
			wd_error_text(&lease_err));
		state->skipped++;
		return 0;
	}
	if (rc < 0) {
		*state->err = lease_err;
		return rc;
	}

	due = expire_lease_due(lease);
	rc = expire_schedule_set(state->secrets->expiration->schedule, lease_id, due,
		lease->irrevocable);
	expire_lease_free(lease);
	if (rc < 0)
		return wd_error_set(state->err, WD_ENOMEM, "out of memory");

	state->loaded++;
	if (due <= state->now)
		state->expired++;
	if (state->loaded % RESTORE_PROGRESS_EVERY == 0) {
		char loaded[24];

		snprintf(loaded, sizeof(loaded), "%zu", state->loaded);
		log_info("expire", "restoring leases", "loaded", loaded);
	}
	return 0;
}

int expire_restore(struct secrets *secrets, struct wd_error *err)
{
	struct expiration *expiration = secrets->expiration;
	struct restore_state state = { .secrets = secrets, .now = wd_now(), .err = err };
	char loaded[24], expired[24], skipped[24], irrevocable[24];
	int rc;

	if (!expiration)
		return wd_error_set(err, WD_EINTERNAL, "expiration manager not open");
	expire_schedule_clear(expiration->schedule);
	expiration->loaded = false;

	rc = expire_lease_each(secrets, "", restore_one, &state, err);
	if (rc < 0) {
		expire_schedule_clear(expiration->schedule);
		return rc;
	}
	expiration->loaded = true;

	snprintf(loaded, sizeof(loaded), "%zu", state.loaded);
	snprintf(expired, sizeof(expired), "%zu", state.expired);
	snprintf(skipped, sizeof(skipped), "%zu", state.skipped);
	snprintf(irrevocable, sizeof(irrevocable), "%zu",
		expire_schedule_irrevocable_count(expiration->schedule));
	log_info("expire", "leases restored", "count", loaded, "expired", expired, "irrevocable",
		irrevocable, "skipped", skipped);

	/* The tick revokes expired leases at a bounded rate, so log how long
	 * the backlog takes. */
	if (state.expired > EXPIRE_TICK_REVOCATIONS) {
		char seconds[24];

		snprintf(seconds, sizeof(seconds), "%zu",
			(state.expired + EXPIRE_TICK_REVOCATIONS - 1) / EXPIRE_TICK_REVOCATIONS);
		log_warn("expire", "many expired leases found; revoking them gradually",
			"expired", expired, "per_second", "64", "seconds", seconds);
	}
	return 0;
}

void expire_unload(struct secrets *secrets)
{
	if (!secrets->expiration)
		return;
	expire_schedule_clear(secrets->expiration->schedule);
	secrets->expiration->loaded = false;
}

/* --- Register, update, forget --- */

static int make_lease_id(const char *path, char *out, size_t len, struct wd_error *err)
{
	char suffix[VAULT_RANDOM_ID_LEN + 1];
	size_t path_len = strlen(path);
	int n;

	/* A list path ends in '/'; a lease id never has an empty segment. */
	while (path_len > 0 && path[path_len - 1] == '/')
		path_len--;
	if (path_len == 0)
		return wd_error_set(err, WD_EINVAL, "a lease needs a request path");
	if (vault_random_base62(suffix, VAULT_RANDOM_ID_LEN) < 0)
		return wd_error_set(err, WD_EINTERNAL, "random lease id not generated");

	n = snprintf(out, len, "%.*s/%s", (int)path_len, path, suffix);
	if (n < 0 || (size_t)n >= len)
		return wd_error_set(err, WD_ETOOBIG, "request path \"%.64s...\" is too long for a lease",
			path);
	return 0;
}

static void warn_lease_count(struct expiration *expiration)
{
	size_t count = expire_schedule_count(expiration->schedule);
	char text[24];

	if (count < EXPIRE_LEASE_WARN_COUNT) {
		expiration->warned_count = false;
		return;
	}
	if (expiration->warned_count)
		return;
	expiration->warned_count = true;
	snprintf(text, sizeof(text), "%zu", count);
	log_warn("expire", "lease count is above the warning threshold; check for clients that "
		"request credentials without reusing them", "count", text);
}

int expire_register(struct secrets *secrets, const struct vault_request *req, int64_t ttl,
	bool renewable, const json_t *internal, struct vault_response *resp,
	struct wd_error *err)
{
	struct expiration *expiration = secrets->expiration;
	char lease_id[VAULT_LEASE_ID_MAX];
	struct vault_mount *mount;
	struct lease lease = { 0 };
	int64_t now = wd_now();
	int rc;

	WD_TRY(expire_check_ready(secrets, err));
	if (ttl <= 0 || ttl > INT64_MAX - now)
		return wd_error_set(err, WD_EINVAL, "invalid lease TTL %" PRId64 " s", ttl);
	if (expire_schedule_count(expiration->schedule) >= EXPIRE_MAX_LEASES)
		return wd_error_set(err, WD_ERATELIMIT, "lease count quota of %d exceeded",
			EXPIRE_MAX_LEASES);

	mount = req->mount ? req->mount : vault_mount_lookup(secrets, req->path);
	if (!mount)
		return wd_error_set(err, WD_EINVAL, "no mount serves \"%s\"", req->path);
	WD_TRY(make_lease_id(req->path, lease_id, sizeof(lease_id), err));

	lease.lease_id = lease_id;
	lease.path = req->path;
	lease.mount = mount->path;
	if (req->token)
		snprintf(lease.token_hash, sizeof(lease.token_hash), "%s", req->token->hash);
	lease.issue_time = now;
	lease.expire_time = now + ttl;
	lease.renewable = renewable;
	lease.internal = internal ? json_deep_copy(internal) : json_object();
	if (!lease.internal)
		return wd_error_set(err, WD_ENOMEM, "out of memory");

	/* Durable before the caller makes the secret: a crash after this
	 * point leaves a lease that the restore revokes, never a secret that
	 * nothing would revoke. */
	rc = expire_lease_save(secrets, &lease, err);
	if (rc == 0 && expire_schedule_set(expiration->schedule, lease_id, lease.expire_time,
			       false) < 0) {
		/* Unscheduled, the lease would wait for the next unseal. */
		if (expire_lease_delete(secrets, &lease, NULL) < 0)
			log_error("expire", "unscheduled lease not deleted", "lease_id", lease_id);
		rc = wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	json_decref(lease.internal);
	if (rc < 0)
		return rc;

	warn_lease_count(expiration);
	snprintf(resp->lease_id, sizeof(resp->lease_id), "%s", lease_id);
	resp->renewable = renewable;
	resp->lease_duration = ttl;
	return 0;
}

int expire_update_internal(struct secrets *secrets, const char *lease_id,
	const json_t *internal, struct wd_error *err)
{
	struct lease *lease = NULL;
	json_t *copy;
	int rc;

	WD_TRY(expire_check_ready(secrets, err));
	WD_TRY(expire_lease_load(secrets, lease_id, &lease, err));

	copy = internal ? json_deep_copy(internal) : json_object();
	if (!copy) {
		expire_lease_free(lease);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	json_decref(lease->internal);
	lease->internal = copy;

	rc = expire_lease_save(secrets, lease, err);
	expire_lease_free(lease);
	return rc;
}

int expire_forget(struct secrets *secrets, const char *lease_id, struct wd_error *err)
{
	struct lease *lease = NULL;
	int rc;

	WD_TRY(expire_check_ready(secrets, err));
	rc = expire_lease_load(secrets, lease_id, &lease, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;

	rc = expire_lease_delete(secrets, lease, err);
	if (rc == 0)
		expire_schedule_remove(secrets->expiration->schedule, lease_id);
	expire_lease_free(lease);
	return rc;
}

/* --- Revocation on request --- */

bool expire_lease_exists(struct secrets *secrets, const char *lease_id)
{
	struct lease *lease = NULL;
	struct wd_error err;
	int rc;

	wd_error_clear(&err);
	rc = expire_lease_load(secrets, lease_id, &lease, &err);
	expire_lease_free(lease);
	return rc != WD_ENOTFOUND;
}

int expire_revoke(struct secrets *secrets, const char *lease_id, bool force,
	struct wd_error *err)
{
	struct lease *lease = NULL;
	int rc;

	WD_TRY(expire_check_ready(secrets, err));
	rc = expire_lease_load(secrets, lease_id, &lease, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;

	rc = expire_revoke_lease(secrets, lease, force, err);
	expire_lease_free(lease);
	return rc;
}

struct prefix_state {
	struct secrets *secrets;
	bool force;
	size_t revoked;
	struct wd_error *err;
};

static int revoke_listed(void *context, const char *lease_id)
{
	struct prefix_state *state = context;
	struct lease *lease = NULL;
	int rc;

	rc = expire_lease_load(state->secrets, lease_id, &lease, state->err);
	if (rc == WD_ENOTFOUND)
		return 0;
	if (rc == WD_ECORRUPT && state->force) {
		/* revoke-force is how an operator removes an undecodable
		 * record, so delete it without a backend call. */
		struct lease bare = { .lease_id = (char *)lease_id };

		log_warn("expire", "undecodable lease deleted by force", "lease_id", lease_id);
		return expire_lease_delete(state->secrets, &bare, state->err);
	}
	if (rc == 0)
		rc = expire_revoke_lease(state->secrets, lease, state->force, state->err);
	expire_lease_free(lease);
	if (rc < 0)
		return rc;
	state->revoked++;
	return 0;
}

int expire_revoke_prefix(struct secrets *secrets, const char *prefix, bool force,
	struct wd_error *err)
{
	struct prefix_state state = { .secrets = secrets, .force = force, .err = err };
	char folder[VAULT_LEASE_ID_MAX];
	struct lease *lease = NULL;
	size_t len = strlen(prefix);
	int rc;

	WD_TRY(expire_check_ready(secrets, err));
	if (len == 0)
		return wd_error_set(err, WD_EINVAL, "prefix is required");
	if (len + 2 > sizeof(folder))
		return wd_error_set(err, WD_EINVAL, "prefix \"%.64s...\" is too long", prefix);

	/* As Vault does: a prefix without a trailing '/' that names one lease
	 * revokes that lease; otherwise it is a folder. */
	if (prefix[len - 1] != '/') {
		rc = expire_lease_load(secrets, prefix, &lease, err);
		expire_lease_free(lease);
		if (rc == 0 || (rc == WD_ECORRUPT && force)) {
			wd_error_clear(err);
			return revoke_listed(&state, prefix);
		}
		if (rc != WD_ENOTFOUND)
			return rc;
		wd_error_clear(err);
	}
	snprintf(folder, sizeof(folder), "%s%s", prefix, prefix[len - 1] == '/' ? "" : "/");

	rc = expire_lease_each(secrets, folder, revoke_listed, &state, err);
	if (state.revoked > 0) {
		char count[24];

		snprintf(count, sizeof(count), "%zu", state.revoked);
		log_info("expire", force ? "leases revoked by prefix with force"
					 : "leases revoked by prefix",
			"prefix", folder, "count", count);
	}
	return rc;
}

int expire_revoke_lazily(struct secrets *secrets, const char *lease_id, int64_t now,
	struct wd_error *err)
{
	struct lease *lease = NULL;
	int rc = expire_lease_load(secrets, lease_id, &lease, err);

	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;

	if (lease->expire_time > now)
		lease->expire_time = now;
	if (lease->next_attempt > now)
		lease->next_attempt = now;
	rc = expire_lease_update(secrets, lease, err);
	expire_lease_free(lease);
	return rc;
}

struct token_state {
	struct secrets *secrets;
	int64_t now;
	struct wd_error *err;
};

static int revoke_token_lease(void *context, const char *lease_id)
{
	struct token_state *state = context;

	return expire_revoke_lazily(state->secrets, lease_id, state->now, state->err);
}

int expire_revoke_by_token(struct secrets *secrets, const char *token_hash,
	struct wd_error *err)
{
	struct token_state state = { .secrets = secrets, .now = wd_now(), .err = err };

	/* Lazily, as Vault does: revoking a token must not fail because one
	 * backend is down, so its leases become due now and the tick revokes
	 * them with the usual retries. */
	WD_TRY(expire_check_ready(secrets, err));
	return expire_lease_each_by_token(secrets, token_hash, revoke_token_lease, &state, err);
}
