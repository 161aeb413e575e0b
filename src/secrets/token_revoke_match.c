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

/* The hashes of a token and its descendants, breadth first. */
struct tree {
	char (*hashes)[TOKEN_HASH_HEX_LEN + 1];
	size_t count;
	size_t capacity;
};

static int tree_add(void *context, const char *rest)
{
	struct tree *tree = context;

	/* Anything else in a parent's folder was not written by the token store. */
	if (!token_hash_valid(rest))
		return 0;
	if (tree->count == SECRETS_REVOKE_MAX_ITEMS)
		return WD_ETOOBIG;
	if (tree->count == tree->capacity) {
		size_t capacity = tree->capacity ? 2 * tree->capacity : 8;
		void *grown = wd_reallocarray(tree->hashes, capacity, sizeof(*tree->hashes));

		if (!grown)
			return WD_ENOMEM;
		tree->hashes = grown;
		tree->capacity = capacity;
	}
	memcpy(tree->hashes[tree->count++], rest, TOKEN_HASH_HEX_LEN + 1);
	return 0;
}

/* Lists hash and every token below it, which token_revoke revokes with it. */
static int list_tree(struct secrets *secrets, const char *hash, struct tree *tree,
	struct wd_error *err)
{
	char prefix[sizeof(TOKEN_PARENT_PREFIX) + TOKEN_HASH_HEX_LEN + 1];
	int rc = tree_add(tree, hash);

	for (size_t i = 0; rc == 0 && i < tree->count; i++) {
		snprintf(prefix, sizeof(prefix), TOKEN_PARENT_PREFIX "%s/", tree->hashes[i]);
		rc = barrier_list(secrets->barrier, prefix, true, tree_add, tree, err);
	}
	if (rc == WD_ETOOBIG)
		return wd_error_set(err, rc, "a matched token has more than %d descendants",
			SECRETS_REVOKE_MAX_ITEMS);
	if (rc == WD_ENOMEM)
		return wd_error_set(err, rc, "out of memory listing child tokens");
	return rc;
}

static int append_lease(void *context, const char *lease_id)
{
	json_t *leases = context;

	if (json_array_size(leases) >= SECRETS_REVOKE_MAX_ITEMS)
		return WD_ETOOBIG;
	return json_array_append_new(leases, json_string(lease_id)) == 0 ? 0 : WD_ENOMEM;
}

/* Revokes one matched token after listing the leases of its tree, which
 * the revocation deletes. The accessor is recorded as its audit HMAC, since
 * an accessor lets a caller with the right policy look the token up. */
static int revoke_matched(struct secrets *secrets, const struct vault_token *token,
	json_t *tokens, json_t *leases, struct wd_error *err)
{
	const char *spiffe_id = json_string_value(json_object_get(token->meta, "spiffe_id"));
	size_t first_lease = json_array_size(leases);
	struct tree tree = { 0 };
	char hashed[96];
	json_t *record;
	int rc;

	if (json_array_size(tokens) >= SECRETS_REVOKE_MAX_ITEMS)
		return wd_error_set(err, WD_ETOOBIG, "more than %d tokens match",
			SECRETS_REVOKE_MAX_ITEMS);
	rc = list_tree(secrets, token->hash, &tree, err);
	for (size_t i = 0; rc == 0 && i < tree.count; i++) {
		rc = expire_lease_each_by_token(secrets, tree.hashes[i], append_lease, leases, err);
		if (rc == WD_ETOOBIG)
			rc = wd_error_set(err, rc, "more than %d leases belong to the matched tokens",
				SECRETS_REVOKE_MAX_ITEMS);
		else if (rc == WD_ENOMEM)
			rc = wd_error_set(err, rc, "out of memory listing leases");
	}
	free(tree.hashes);
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
