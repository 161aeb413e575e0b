/* Revocation through a lease's mount, and the tick that revokes leases at
 * expiry: failures are retried after 2^attempt x 10 s (+-50 %), and after
 * EXPIRE_MAX_ATTEMPTS tries, or at once on an error that retrying cannot
 * fix, the lease is marked irrevocable, kept, and retried once a day. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/random.h"
#include "secrets/barrier.h"
#include "secrets/expire_internal.h"

/* Seconds before the tick looks again at a lease it could not load or
 * store, so that a failing barrier does not spin the loop. */
#define STORAGE_RETRY_SECONDS 60

int64_t expire_backoff_seconds(int64_t attempts)
{
	int64_t shift = attempts;
	int64_t base;
	uint32_t r = 0;

	/* 2^20 x 10 s is four months: no lease waits longer. */
	if (shift < 0)
		shift = 0;
	if (shift > 20)
		shift = 20;
	base = ((int64_t)1 << shift) * EXPIRE_BACKOFF_BASE_SECONDS;

	/* Jitter spreads the retries of leases that expired together. Without
	 * randomness the midpoint is still a valid backoff. */
	if (wd_random_bytes(&r, sizeof(r)) < 0)
		return base;
	return base / 2 + (int64_t)(r % (uint32_t)(base + 1));
}

/* Calls the backend's lease_revoke. *ret_unrecoverable is set when the
 * failure is one that retrying cannot fix: the mount is gone, cannot
 * revoke, or rejects the request as invalid (as Vault's ErrInvalidRequest
 * and ErrUnsupportedOperation). */
static int revoke_in_backend(struct secrets *secrets, const struct lease *lease,
	bool *ret_unrecoverable, struct wd_error *err)
{
	struct vault_mount *mount = vault_mount_lookup(secrets, lease->path);
	int rc;

	*ret_unrecoverable = false;
	if (!mount || strcmp(mount->path, lease->mount) != 0) {
		/* On a shared datastore another server may have mounted it after
		 * this one loaded its mount table, so the retries wait for a
		 * reload of the table. */
		*ret_unrecoverable = !secrets->config.node_id;
		return wd_error_set(err, WD_ENOTFOUND, "mount \"%s\" of the lease no longer exists",
			lease->mount);
	}
	if (!mount->backend->lease_revoke) {
		*ret_unrecoverable = true;
		return wd_error_set(err, WD_EUNSUPPORTED, "mount \"%s\" of type %s cannot revoke leases",
			mount->path, mount->backend->type);
	}

	wd_error_clear(err);
	rc = mount->backend->lease_revoke(secrets, mount, lease->internal, err);
	if (rc < 0) {
		*ret_unrecoverable = rc == WD_EINVAL || rc == WD_EUNSUPPORTED;
		if (!err->detail[0])
			wd_error_set(err, rc, "%s", wd_strerror(rc));
	}
	return rc < 0 ? rc : 0;
}

int expire_revoke_lease(struct secrets *secrets, struct lease *lease, bool force,
	struct wd_error *err)
{
	char detail[sizeof(err->detail)];
	bool unrecoverable;
	int rc = revoke_in_backend(secrets, lease, &unrecoverable, err);

	if (rc < 0 && !force) {
		snprintf(detail, sizeof(detail), "%s", wd_error_text(err));
		return wd_error_set(err, rc, "failed to revoke lease \"%s\": %s", lease->lease_id,
			detail);
	}
	if (rc < 0)
		log_warn("expire", "lease deleted by force although its revocation failed",
			"lease_id", lease->lease_id, "error", wd_error_text(err));

	WD_TRY(expire_lease_delete(secrets, lease, err));
	expire_schedule_remove(secrets->expiration->schedule, lease->lease_id);
	log_info("expire", "lease revoked", "lease_id", lease->lease_id);
	return 0;
}

/* Stores message, cut to EXPIRE_REVOKE_ERR_MAX bytes without splitting a
 * UTF-8 sequence, as the lease's revoke_err. */
static void set_revoke_err(struct lease *lease, const char *prefix, const char *message)
{
	char text[EXPIRE_REVOKE_ERR_MAX + 1];
	size_t len;

	snprintf(text, sizeof(text), "%s%s", prefix, message);
	len = strlen(text);
	if (len == EXPIRE_REVOKE_ERR_MAX) {
		size_t start = len - 1;
		unsigned char lead;
		size_t need;

		/* Find the last character's first byte and drop the character
		 * when the cut left it short of its continuation bytes. */
		while (start > 0 && ((unsigned char)text[start] & 0xc0) == 0x80)
			start--;
		lead = (unsigned char)text[start];
		if (lead < 0x80)
			need = 1;
		else if (lead >= 0xf0)
			need = 4;
		else if (lead >= 0xe0)
			need = 3;
		else
			need = 2;
		if (start + need > len)
			text[start] = '\0';
	}
	free(lease->revoke_err);
	lease->revoke_err = strdup(text[0] ? text : "unknown");
}

/* Records a failed revocation at now and schedules the next try. */
static void record_failure(struct secrets *secrets, struct lease *lease, bool unrecoverable,
	const char *message, int64_t now)
{
	struct wd_error err;
	char attempts[24], retry[24];

	if (lease->attempts < INT32_MAX)
		lease->attempts++;
	snprintf(attempts, sizeof(attempts), "%" PRId64, lease->attempts);

	if (lease->irrevocable) {
		set_revoke_err(lease, "", message);
		lease->next_attempt = now + EXPIRE_IRREVOCABLE_RETRY_SECONDS;
		log_warn("expire", "irrevocable lease failed its daily retry", "lease_id",
			lease->lease_id, "error", message);
	} else if (lease->attempts >= EXPIRE_MAX_ATTEMPTS || unrecoverable) {
		lease->irrevocable = true;
		set_revoke_err(lease, unrecoverable ? "" : "out of retries: ", message);
		lease->next_attempt = now + EXPIRE_IRREVOCABLE_RETRY_SECONDS;
		log_warn("expire", "lease marked irrevocable; revoke-force removes it", "lease_id",
			lease->lease_id, "attempts", attempts, "error", message);
	} else {
		int64_t delay = expire_backoff_seconds(lease->attempts);

		lease->next_attempt = now + delay;
		snprintf(retry, sizeof(retry), "%" PRId64 "s", delay);
		log_warn("expire", "lease revocation failed; will retry", "lease_id", lease->lease_id,
			"attempts", attempts, "retry_in", retry, "error", message);
	}

	wd_error_clear(&err);
	if (expire_lease_update(secrets, lease, &err) < 0) {
		log_error("expire", "failed revocation not recorded", "lease_id", lease->lease_id,
			"error", wd_error_text(&err));
		/* Keep the in-memory retry time anyway, or the tick would try
		 * again at once. */
		if (expire_schedule_set(secrets->expiration->schedule, lease->lease_id,
			    lease->next_attempt, lease->irrevocable) < 0)
			log_error("expire", "lease dropped from the schedule until the next unseal",
				"lease_id", lease->lease_id);
	}
}

/* Loads the lease due at now; on a shared datastore also claims it. 1 when
 * the caller should revoke, 0 when the schedule was updated instead. */
static int load_due(struct secrets *secrets, const char *lease_id, int64_t now,
	struct lease **ret_lease)
{
	struct expire_schedule *schedule = secrets->expiration->schedule;
	struct lease *lease = NULL;
	int64_t wait_until = 0;
	struct wd_error err;
	int rc;

	*ret_lease = NULL;
	wd_error_clear(&err);
	if (secrets->config.node_id)
		rc = expire_claim(secrets, lease_id, now, &lease, &wait_until, &err);
	else
		rc = expire_lease_load(secrets, lease_id, &lease, &err);
	if (rc == WD_ENOTFOUND) {
		expire_schedule_remove(schedule, lease_id);
		return 0;
	}
	if (rc == WD_EUNAVAILABLE && wait_until > 0) {
		log_info("expire", "lease claimed by another server; waiting for its claim to go "
			"stale", "lease_id", lease_id, "error", wd_error_text(&err));
		if (expire_schedule_set(schedule, lease_id, wait_until, false) < 0)
			expire_schedule_remove(schedule, lease_id);
		return 0;
	}
	if (rc < 0) {
		log_error("expire", "due lease not loaded", "lease_id", lease_id, "error",
			wd_error_text(&err));
		if (expire_schedule_set(schedule, lease_id, now + STORAGE_RETRY_SECONDS, false) < 0)
			expire_schedule_remove(schedule, lease_id);
		return 0;
	}

	/* Renewed since it was scheduled: follow the stored time. */
	if (expire_lease_due(lease) > now) {
		if (expire_schedule_set(schedule, lease_id, expire_lease_due(lease),
			    lease->irrevocable) < 0)
			expire_schedule_remove(schedule, lease_id);
		expire_lease_free(lease);
		return 0;
	}
	*ret_lease = lease;
	return 1;
}

/* Deletes the revoked lease: on a shared datastore only while this
 * server's claim is still recorded. */
static int finish_due(struct secrets *secrets, const struct lease *lease, struct wd_error *err)
{
	int rc;

	if (!secrets->config.node_id)
		return expire_lease_delete(secrets, lease, err);
	rc = expire_claim_finish(secrets, lease, err);
	if (rc == WD_ENOTFOUND || rc == WD_ECONFLICT) {
		/* Another server finished it or took it over: it logs the end. */
		log_warn("expire", "lease finished by another server", "lease_id", lease->lease_id,
			"error", wd_error_text(err));
		return 1;
	}
	return rc;
}

/* Revokes the lease due at now, or records why it could not. */
static void expire_due(struct secrets *secrets, const char *lease_id, int64_t now)
{
	struct expire_schedule *schedule = secrets->expiration->schedule;
	struct lease *lease = NULL;
	struct wd_error err;
	bool unrecoverable;
	int rc;

	wd_error_clear(&err);
	if (load_due(secrets, lease_id, now, &lease) <= 0)
		return;

	rc = revoke_in_backend(secrets, lease, &unrecoverable, &err);
	if (rc < 0) {
		/* The claim ends with the attempt: the retry claims again. */
		lease->claim_owner[0] = '\0';
		lease->claim_time = 0;
		record_failure(secrets, lease, unrecoverable, wd_error_text(&err), now);
	} else if ((rc = finish_due(secrets, lease, &err)) < 0) {
		/* The secret is gone but the record stays: the next try finds
		 * nothing to undo, which backends treat as success. */
		log_error("expire", "revoked lease not deleted", "lease_id", lease_id, "error",
			wd_error_text(&err));
		if (expire_schedule_set(schedule, lease_id, now + STORAGE_RETRY_SECONDS,
			    lease->irrevocable) < 0)
			expire_schedule_remove(schedule, lease_id);
	} else {
		expire_schedule_remove(schedule, lease_id);
		if (rc == 0)
			log_info("expire", "expired lease revoked", "lease_id", lease_id);
	}
	expire_lease_free(lease);
}

void expire_tick(struct secrets *secrets, int64_t now)
{
	struct expire_schedule *schedule;

	if (expire_check_ready(secrets, NULL) < 0)
		return;
	schedule = secrets->expiration->schedule;

	for (int done = 0; done < EXPIRE_TICK_REVOCATIONS; done++) {
		char lease_id[VAULT_LEASE_ID_MAX];
		int64_t due;
		const char *first = expire_schedule_first(schedule, &due);

		if (!first || due > now)
			break;
		/* The schedule entry may be freed during the revocation. */
		snprintf(lease_id, sizeof(lease_id), "%s", first);
		expire_due(secrets, lease_id, now);
	}
}
