/* Sweeps over every stored token: the periodic one that revokes tokens no
 * request presents any more (without it an expired token is revoked only
 * when a request presents it), and the revocation of all tokens an auth
 * method made. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "secrets/barrier.h"
#include "secrets/token_internal.h"

/* The hashes of one batch, in storage order after the cursor. */
struct tidy_batch {
	const char *after;
	char hashes[TOKEN_TIDY_BATCH][TOKEN_HASH_HEX_LEN + 1];
	size_t count;
};

static int collect_after(void *context, const char *rest)
{
	struct tidy_batch *batch = context;

	if (!token_hash_valid(rest) || strcmp(rest, batch->after) <= 0)
		return 0;
	if (batch->count == TOKEN_TIDY_BATCH)
		return WD_ETOOBIG;
	memcpy(batch->hashes[batch->count++], rest, TOKEN_HASH_HEX_LEN + 1);
	return 0;
}

/* Lists the next batch of hashes after batch->after. Returns 1 when the
 * batch is full and more may follow, 0 at the end. */
static int next_batch(struct secrets *secrets, struct tidy_batch *batch, struct wd_error *err)
{
	int rc;

	batch->count = 0;
	rc = barrier_list(secrets->barrier, TOKEN_ID_PREFIX, false, collect_after, batch, err);
	if (rc == WD_ETOOBIG)
		return 1;
	return rc;
}

/* Revokes the token under hash when it is dead. */
static void tidy_one(struct secrets *secrets, const char *hash, int64_t now)
{
	struct vault_token *token = NULL;
	struct wd_error err = { 0 };

	/* A record a revocation earlier in the batch removed is skipped. */
	if (token_record_load(secrets, hash, &token, &err) < 0)
		return;
	if (token_is_dead(token, now) && token_revoke(secrets, token, &err) < 0)
		log_warn("secrets", "revoking an expired token failed", "accessor", token->accessor,
			"error", wd_error_text(&err));
	token_free(token);
}

void token_tidy(struct secrets *secrets, int64_t now)
{
	struct token_store *store = secrets->tokens;
	static struct tidy_batch batch;
	struct wd_error err = { 0 };
	int rc;

	if (!store || barrier_sealed(secrets->barrier) || now < store->next_tidy)
		return;
	if (token_salt_ensure(secrets, &err) < 0) {
		log_warn("secrets", "token sweep failed", "error", wd_error_text(&err));
		store->next_tidy = now + TOKEN_TIDY_INTERVAL;
		return;
	}

	batch.after = store->tidy_cursor;
	rc = next_batch(secrets, &batch, &err);
	if (rc < 0) {
		log_warn("secrets", "token sweep failed", "error", wd_error_text(&err));
		store->next_tidy = now + TOKEN_TIDY_INTERVAL;
		return;
	}
	for (size_t i = 0; i < batch.count; i++)
		tidy_one(secrets, batch.hashes[i], now);

	/* A full batch means more records follow: continue on the next tick.
	 * Otherwise the sweep is done and starts over after the interval. */
	if (rc == 1) {
		memcpy(store->tidy_cursor, batch.hashes[batch.count - 1], TOKEN_HASH_HEX_LEN + 1);
		store->next_tidy = now + 1;
	} else {
		store->tidy_cursor[0] = '\0';
		store->next_tidy = now + TOKEN_TIDY_INTERVAL;
	}
}

int token_revoke_prefix(struct secrets *secrets, const char *prefix, struct wd_error *err)
{
	static struct tidy_batch batch;
	char cursor[TOKEN_HASH_HEX_LEN + 1] = "";
	size_t prefix_len = strlen(prefix);
	int more;

	WD_TRY(token_salt_ensure(secrets, err));
	do {
		batch.after = cursor;
		more = next_batch(secrets, &batch, err);
		if (more < 0)
			return more;
		for (size_t i = 0; i < batch.count; i++) {
			struct vault_token *token = NULL;
			int rc = token_record_load(secrets, batch.hashes[i], &token, err);

			/* Gone already: revoked with a parent earlier in the batch. */
			if (rc == WD_ENOTFOUND) {
				wd_error_clear(err);
				continue;
			}
			if (rc == 0 && strncmp(token->path, prefix, prefix_len) == 0)
				rc = token_revoke(secrets, token, err);
			token_free(token);
			if (rc < 0)
				return rc;
		}
		if (batch.count > 0)
			memcpy(cursor, batch.hashes[batch.count - 1], sizeof(cursor));
	} while (more == 1);
	return 0;
}
