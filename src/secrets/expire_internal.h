/* Declarations the files of the expiration manager share: the lease
 * record as stored in the barrier (expire_store.c), the in-memory schedule
 * of due revocations (expire_schedule.c), and the revocation step that the
 * tick, the API and token revocation use (expire_revoke.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/expire.h"
#include "secrets/secrets_internal.h"

/* Barrier prefixes of the lease records and of the index by token. */
#define EXPIRE_ID_PREFIX "sys/expire/id/"
#define EXPIRE_TOKEN_PREFIX "sys/expire/token/"

/* Revocations one tick runs at most, so that a restore that finds
 * thousands of expired leases does not stall the event loop (Vault's
 * revocation storms after an outage). */
#define EXPIRE_TICK_REVOCATIONS 64

/* An irrevocable lease is tried again this often, in seconds (Vault's
 * daily retry). */
#define EXPIRE_IRREVOCABLE_RETRY_SECONDS (24 * 3600)

/* Longest stored revocation error, in bytes (Vault's cap). */
#define EXPIRE_REVOKE_ERR_MAX 240

/* Leases held before register logs a warning, as Vault's
 * maxLeaseThreshold, and before it rejects new ones. */
#define EXPIRE_LEASE_WARN_COUNT 256000
#define EXPIRE_MAX_LEASES 1000000

/* Bytes of a barrier key of a lease or of its token index entry: the
 * prefix, a 64-character token hash, '/' and the lease id with every '/'
 * escaped as three bytes. */
#define EXPIRE_KEY_MAX (sizeof(EXPIRE_TOKEN_PREFIX) + 65 + 3 * VAULT_LEASE_ID_MAX)

/* Maximum length of the server name that a lease claim records. */
#define EXPIRE_CLAIM_OWNER_MAX 64

/* One lease as stored at sys/expire/id/<lease_id>. Times are Unix seconds. */
struct lease {
	char *lease_id;        /* "database/creds/app/<24 base62>" */
	char *path;            /* the request path that made it: "database/creds/app" */
	char *mount;           /* the mount's path when it was made: "database/" */
	char token_hash[65];   /* hash of the creating token; "" when none */
	int64_t issue_time;
	int64_t expire_time;
	int64_t last_renewal;  /* 0 when never renewed */
	bool renewable;
	json_t *internal;      /* what the backend's lease_revoke needs; never returned */
	int64_t attempts;      /* failed revocations so far */
	int64_t next_attempt;  /* when to retry after a failure; 0 when none failed */
	char *revoke_err;      /* last revocation error, NULL when none */
	bool irrevocable;
	/* The server revoking it on a shared datastore, and since when; "" and
	 * 0 when none is (expire_claim.c). */
	char claim_owner[EXPIRE_CLAIM_OWNER_MAX + 1];
	int64_t claim_time;
};

/* The manager's state, secrets->expiration. */
struct expiration {
	struct expire_schedule *schedule;
	bool loaded;           /* restored since the last unseal */
	bool warned_count;     /* the lease count warning was logged */
};

/* --- Lease records (expire_store.c) --- */

void expire_lease_free(struct lease *lease);

/* When the tick should next look at lease: its expiry, or the retry time
 * after a failed revocation. */
int64_t expire_lease_due(const struct lease *lease);

/* Writes "sys/expire/id/<lease_id>" to out (EXPIRE_KEY_MAX bytes);
 * WD_ETOOBIG when it does not fit. */
WD_MUST_CHECK int expire_id_key(const char *lease_id, char *out, size_t len);

/* Writes "sys/expire/token/<token_hash>/<escaped lease_id>" to out, '%' and
 * '/' escaped as "%25" and "%2F". */
WD_MUST_CHECK int expire_token_key(const char *token_hash, const char *lease_id, char *out,
	size_t len);

/* Reverses the escaping of a token index key's last segment into out.
 * WD_EINVAL for a malformed escape. */
WD_MUST_CHECK int expire_token_key_unescape(const char *escaped, char *out, size_t len);

/* Loads the lease; WD_ENOTFOUND when absent, WD_ECORRUPT when the stored
 * record is not a lease. The caller frees *ret_lease. */
WD_MUST_CHECK int expire_lease_load(struct secrets *secrets, const char *lease_id,
	struct lease **ret_lease, struct wd_error *err);

/* Writes the lease record and, when it has a token, its index entry, in
 * one barrier transaction. */
WD_MUST_CHECK int expire_lease_save(struct secrets *secrets, const struct lease *lease,
	struct wd_error *err);

/* Deletes the lease record and its index entry in one transaction. */
WD_MUST_CHECK int expire_lease_delete(struct secrets *secrets, const struct lease *lease,
	struct wd_error *err);

/* Calls on_lease with every lease id under prefix (a lease id prefix,
 * possibly ""), in key order. The ids are collected before the first call,
 * so on_lease may change the barrier. */
typedef int (*expire_lease_fn)(void *context, const char *lease_id);
WD_MUST_CHECK int expire_lease_each(struct secrets *secrets, const char *prefix,
	expire_lease_fn on_lease, void *context, struct wd_error *err);

/* Calls on_lease with the id of every lease indexed under token_hash,
 * collected first as expire_lease_each does. */
WD_MUST_CHECK int expire_lease_each_by_token(struct secrets *secrets, const char *token_hash,
	expire_lease_fn on_lease, void *context, struct wd_error *err);

/* --- Claims on a shared datastore (expire_claim.c) --- */

/* What a server does with a due lease that may carry another's claim. */
enum expire_claim_decision {
	EXPIRE_CLAIM_TAKE,     /* unclaimed, claimed by this server, or stale */
	EXPIRE_CLAIM_WAIT,     /* another server claimed it recently */
};

/* Decides from the lease's claim: another server's claim younger than
 * stale_after seconds makes this one wait until it goes stale, stored in
 * *ret_wait_until. */
enum expire_claim_decision expire_claim_decide(const struct lease *lease, const char *node_id,
	int64_t now, int64_t stale_after, int64_t *ret_wait_until);

/* Records this server's claim on the lease in one transaction with a fresh
 * read, and returns the lease as claimed. WD_ENOTFOUND when another server
 * already finished it, WD_EUNAVAILABLE, with *ret_wait_until, when another holds a
 * live claim. */
WD_MUST_CHECK int expire_claim(struct secrets *secrets, const char *lease_id, int64_t now,
	struct lease **ret_lease, int64_t *ret_wait_until, struct wd_error *err);

/* Deletes a revoked lease that this server claimed, in one transaction
 * with a fresh read. WD_ENOTFOUND when it is already gone and WD_ECONFLICT
 * when another server took the claim over: then that server finishes it. */
WD_MUST_CHECK int expire_claim_finish(struct secrets *secrets, const struct lease *lease,
	struct wd_error *err);

/* --- Schedule (expire_schedule.c) --- */

struct expire_schedule;

WD_MUST_CHECK int expire_schedule_new(struct expire_schedule **ret_schedule);
void expire_schedule_free(struct expire_schedule *schedule);

/* Forgets every entry. */
void expire_schedule_clear(struct expire_schedule *schedule);

/* Adds lease_id due at due (Unix seconds), or moves it there. WD_ENOMEM. */
WD_MUST_CHECK int expire_schedule_set(struct expire_schedule *schedule, const char *lease_id,
	int64_t due, bool irrevocable);

/* Removes lease_id; an unknown id is ignored. */
void expire_schedule_remove(struct expire_schedule *schedule, const char *lease_id);

/* Returns the lease id due first and stores its due time, or NULL when the
 * schedule is empty. The string is valid until the schedule changes. */
const char *expire_schedule_first(const struct expire_schedule *schedule, int64_t *ret_due);

/* Whether lease_id is scheduled, with its due time (ret_due may be NULL). */
bool expire_schedule_find(const struct expire_schedule *schedule, const char *lease_id,
	int64_t *ret_due);

size_t expire_schedule_count(const struct expire_schedule *schedule);
size_t expire_schedule_irrevocable_count(const struct expire_schedule *schedule);

/* Calls on_lease with each irrevocable lease id, in no order; a negative
 * return stops and is returned. The schedule must not change meanwhile. */
WD_MUST_CHECK int expire_schedule_each_irrevocable(const struct expire_schedule *schedule,
	expire_lease_fn on_lease, void *context);

/* --- Revocation (expire_revoke.c and expire.c) --- */

/* Backoff before retry number attempts + 1, in seconds:
 * 2^attempts x EXPIRE_BACKOFF_BASE_SECONDS, +-50 % at random. */
int64_t expire_backoff_seconds(int64_t attempts);

/* Revokes lease through its mount's backend and deletes it. When the
 * backend fails: with force the lease is deleted anyway; otherwise the
 * error is returned and the lease left as it was. */
WD_MUST_CHECK int expire_revoke_lease(struct secrets *secrets, struct lease *lease, bool force,
	struct wd_error *err);

/* Makes lease due now, durably (its expire_time becomes now), so that the
 * tick revokes it: Vault's lazy revocation. */
WD_MUST_CHECK int expire_revoke_lazily(struct secrets *secrets, const char *lease_id,
	int64_t now, struct wd_error *err);

/* Stores lease and puts it in the schedule at its due time. */
WD_MUST_CHECK int expire_lease_update(struct secrets *secrets, const struct lease *lease,
	struct wd_error *err);

/* Fails with WD_EUNAVAILABLE while sealed or before the restore. */
WD_MUST_CHECK int expire_check_ready(struct secrets *secrets, struct wd_error *err);
