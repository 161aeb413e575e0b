/* Leases and the expiration manager: every lease is written durably to the
 * barrier (sys/expire/id/<lease id>) before its secret leaves the server,
 * revoked at expiry through its mount's backend, retried with backoff, and
 * marked irrevocable after the last try. Leases are indexed by the token
 * that created them, so revoking a token revokes its leases. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/secrets_internal.h"

/* Tries before a lease is irrevocable, and the base of the backoff:
 * 2^attempt x 10 s with +-50 % jitter, as Vault's. */
#define EXPIRE_MAX_ATTEMPTS 6
#define EXPIRE_BACKOFF_BASE_SECONDS 10

/* Opens the manager; it loads nothing until expire_restore. */
WD_MUST_CHECK int expiration_open(struct secrets *secrets, struct expiration **ret_expiration,
	struct wd_error *err);
void expiration_free(struct expiration *expiration);

/* Loads every lease after an unseal and revokes those already expired. */
WD_MUST_CHECK int expire_restore(struct secrets *secrets, struct wd_error *err);
/* Forgets the in-memory schedule when sealing. */
void expire_unload(struct secrets *secrets);

/* Registers a lease for a secret made by req's mount: lease id
 * "<req->path>/<24 base62>", issued now, expiring after ttl, owned by
 * req->token. internal is what the backend's lease_revoke needs (kept in
 * the barrier, never returned to clients). The lease is durable when this
 * returns; the caller makes the secret only after. Fills resp's lease
 * fields. */
WD_MUST_CHECK int expire_register(struct secrets *secrets, const struct vault_request *req,
	int64_t ttl, bool renewable, const json_t *internal, struct vault_response *resp,
	struct wd_error *err);

/* Replaces the internal data of a registered lease (after the backend made
 * the secret and learnt more, e.g. the final username). */
WD_MUST_CHECK int expire_update_internal(struct secrets *secrets, const char *lease_id,
	const json_t *internal, struct wd_error *err);

/* Forgets a lease without revoking (the backend already undid the secret,
 * e.g. its creation failed and was rolled back). */
WD_MUST_CHECK int expire_forget(struct secrets *secrets, const char *lease_id,
	struct wd_error *err);

/* Revokes a lease for a request, as expire_revoke does without force. When
 * the lease's backend can revoke on a worker thread, the request is
 * deferred and VAULT_PENDING returned; its reply follows the revocation. */
WD_MUST_CHECK int expire_revoke_request(struct secrets *secrets, struct vault_request *req,
	const char *lease_id, struct wd_error *err);

/* Returns whether the lease is still recorded; a lease that cannot be read
 * counts as recorded, since revoking its secret then would be premature. */
bool expire_lease_exists(struct secrets *secrets, const char *lease_id);

/* Revokes now. force deletes the lease even when the backend fails. An
 * unknown lease is success. */
WD_MUST_CHECK int expire_revoke(struct secrets *secrets, const char *lease_id, bool force,
	struct wd_error *err);
WD_MUST_CHECK int expire_revoke_prefix(struct secrets *secrets, const char *prefix, bool force,
	struct wd_error *err);
/* Revokes every lease created with the token whose hash is token_hash. */
WD_MUST_CHECK int expire_revoke_by_token(struct secrets *secrets, const char *token_hash,
	struct wd_error *err);

/* Runs due revocations and retries; called every second. */
void expire_tick(struct secrets *secrets, int64_t now);

/* The sys/leases/... (and legacy sys/renew, sys/revoke, sys/revoke-prefix)
 * handlers; rel is the path below "sys/". */
WD_MUST_CHECK int expire_handle_sys(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err);
