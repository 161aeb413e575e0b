/* Revocation of the tokens an outside decision picks by their login
 * metadata: the server revokes the tokens a workload got by logging in
 * with its SVID when the runtime sensor reports that workload. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "secrets/barrier.h"
#include "secrets/expire.h"
#include "secrets/expire_internal.h"
#include "secrets/token_internal.h"

/* Token hashes listed per barrier read; the walk goes on after the last. */
#define MATCH_BATCH 256

struct match_batch {
	const char *after;
	char hashes[MATCH_BATCH][TOKEN_HASH_HEX_LEN + 1];
	size_t count;
};

static int collect_after(void *context, const char *rest)
{
	struct match_batch *batch = context;

	if (!token_hash_valid(rest) || strcmp(rest, batch->after) <= 0)
		return 0;
	if (batch->count == MATCH_BATCH)
		return WD_ETOOBIG;
	memcpy(batch->hashes[batch->count++], rest, TOKEN_HASH_HEX_LEN + 1);
	return 0;
}

static int append_lease(void *context, const char *lease_id)
{
	json_t *leases = context;

	if (json_array_size(leases) >= SECRETS_REVOKE_MAX_ITEMS)
		return WD_ETOOBIG;
	return json_array_append_new(leases, json_string(lease_id)) == 0 ? 0 : WD_ENOMEM;
}

/* Revokes one matched token after listing its own leases, which the
 * revocation deletes. The accessor is recorded as its audit HMAC, since an
 * accessor lets a caller with the right policy look the token up. */
static int revoke_matched(struct secrets *secrets, const struct vault_token *token,
	json_t *tokens, json_t *leases, struct wd_error *err)
{
	const char *spiffe_id = json_string_value(json_object_get(token->meta, "spiffe_id"));
	size_t first_lease = json_array_size(leases);
	char hashed[96];
	json_t *record;
	int rc;

	if (json_array_size(tokens) >= SECRETS_REVOKE_MAX_ITEMS)
		return wd_error_set(err, WD_ETOOBIG, "more than %d tokens match",
			SECRETS_REVOKE_MAX_ITEMS);
	rc = expire_lease_each_by_token(secrets, token->hash, append_lease, leases, err);
	if (rc == WD_ETOOBIG)
		return wd_error_set(err, rc, "more than %d leases belong to the matched tokens",
			SECRETS_REVOKE_MAX_ITEMS);
	if (rc == WD_ENOMEM)
		return wd_error_set(err, rc, "out of memory listing leases");
	WD_TRY(rc);
	WD_TRY(token_revoke(secrets, token, err));

	vault_audit_hash(secrets, token->accessor, hashed, sizeof(hashed));
	record = json_pack("{s:s, s:s, s:s, s:I}", "accessor_hmac", hashed, "spiffe_id",
		spiffe_id ? spiffe_id : "", "path", token->path, "first_lease",
		(json_int_t)first_lease);
	if (!record || json_array_append_new(tokens, record) != 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory listing tokens");
	return 0;
}

int secrets_revoke_tokens_matching(struct secrets *secrets, secrets_token_match_fn match,
	void *arg, json_t *ret_tokens, json_t *ret_lease_ids, struct wd_error *err)
{
	struct match_batch *batch = NULL;
	char cursor[TOKEN_HASH_HEX_LEN + 1] = "";
	int more = 0;
	int rc;

	if (!secrets || barrier_sealed(secrets->barrier))
		return wd_error_set(err, WD_EUNAVAILABLE, "the secrets service is sealed");
	WD_TRY(token_salt_ensure(secrets, err));
	batch = wd_calloc(1, sizeof(*batch));
	if (!batch)
		return wd_error_set(err, WD_ENOMEM, "out of memory listing tokens");

	do {
		batch->after = cursor;
		batch->count = 0;
		more = barrier_list(secrets->barrier, TOKEN_ID_PREFIX, false, collect_after, batch,
			err);
		if (more == WD_ETOOBIG) {
			more = 1;
			wd_error_clear(err);
		}
		WD_GUARD(more);

		for (size_t i = 0; i < batch->count; i++) {
			struct vault_token *token = NULL;

			rc = token_record_load(secrets, batch->hashes[i], &token, err);
			/* Gone already: revoked with a parent earlier in the walk. */
			if (rc == WD_ENOTFOUND) {
				wd_error_clear(err);
				continue;
			}
			WD_GUARD(rc);
			if (match(arg, token->path, token->meta))
				rc = revoke_matched(secrets, token, ret_tokens, ret_lease_ids, err);
			token_free(token);
			WD_GUARD(rc);
		}
		if (batch->count > 0)
			memcpy(cursor, batch->hashes[batch->count - 1], sizeof(cursor));
	} while (more == 1);
	rc = 0;
out:
	free(batch);
	return rc;
}
