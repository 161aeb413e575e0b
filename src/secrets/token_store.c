/* The token store's records: the salt that hashes token ids, reading and
 * writing a token under its hash, and looking tokens up by id or accessor
 * with Vault's expiry and use-count rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/random.h"
#include "common/time.h"
#include "secrets/barrier.h"
#include "secrets/token_internal.h"

/* Maximum length of an accessor in a request; ours have TOKEN_ACCESSOR_LEN. */
#define ACCESSOR_INPUT_MAX 64

/* Reads the salt, or creates and stores one when the barrier has none. */
static int salt_load(struct secrets *secrets, struct token_store *store, struct wd_error *err)
{
	uint8_t *value = NULL;
	size_t len = 0;
	int rc;

	rc = barrier_get(secrets->barrier, TOKEN_SALT_PATH, &value, &len, err);
	if (rc == WD_ENOTFOUND) {
		WD_TRY(wd_random_bytes(store->salt, sizeof(store->salt)));
		rc = barrier_put(secrets->barrier, TOKEN_SALT_PATH, store->salt,
			sizeof(store->salt), err);
		if (rc < 0) {
			OPENSSL_cleanse(store->salt, sizeof(store->salt));
			return rc;
		}
		store->salt_loaded = true;
		return 0;
	}
	if (rc < 0)
		return rc;

	if (len != sizeof(store->salt)) {
		barrier_value_free(value, len);
		return wd_error_set(err, WD_ECORRUPT, "%s holds %zu bytes; expected %zu",
			TOKEN_SALT_PATH, len, sizeof(store->salt));
	}
	memcpy(store->salt, value, sizeof(store->salt));
	barrier_value_free(value, len);
	store->salt_loaded = true;
	return 0;
}

int token_store_open(struct secrets *secrets, struct token_store **ret_store,
	struct wd_error *err)
{
	struct token_store *store;
	int rc;

	*ret_store = NULL;
	store = wd_calloc(1, sizeof(*store));
	if (!store)
		return wd_error_set(err, WD_ENOMEM, "out of memory opening the token store");

	/* The salt lives behind the barrier. Opened while sealed, the store
	 * loads it on first use instead. */
	if (secrets->barrier && !barrier_sealed(secrets->barrier)) {
		rc = salt_load(secrets, store, err);
		if (rc < 0) {
			token_store_free(store);
			return rc;
		}
	}
	*ret_store = store;
	return 0;
}

void token_store_free(struct token_store *store)
{
	if (!store)
		return;
	OPENSSL_cleanse(store->salt, sizeof(store->salt));
	free(store);
}

int token_salt_ensure(struct secrets *secrets, struct wd_error *err)
{
	struct token_store *store = secrets->tokens;

	if (!store)
		return wd_error_set(err, WD_EUNAVAILABLE, "the token store is not open");
	if (store->salt_loaded)
		return 0;
	return salt_load(secrets, store, err);
}

int token_hash_id(struct secrets *secrets, const char *id,
	char ret_hash[static TOKEN_HASH_HEX_LEN + 1], struct wd_error *err)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	ret_hash[0] = '\0';
	WD_TRY(token_salt_ensure(secrets, err));

	if (!HMAC(EVP_sha256(), secrets->tokens->salt, TOKEN_SALT_LEN, (const uint8_t *)id,
		    strlen(id), mac, &mac_len) ||
	    mac_len * 2 != TOKEN_HASH_HEX_LEN)
		return wd_error_set(err, WD_EINTERNAL, "HMAC-SHA256 of a token id failed");

	for (unsigned int i = 0; i < mac_len; i++) {
		ret_hash[2 * i] = digits[mac[i] >> 4];
		ret_hash[2 * i + 1] = digits[mac[i] & 15u];
	}
	ret_hash[TOKEN_HASH_HEX_LEN] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

bool token_hash_valid(const char *text)
{
	size_t i;

	for (i = 0; text[i]; i++) {
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	}
	return i == TOKEN_HASH_HEX_LEN;
}

int64_t token_now(void)
{
	return wd_now();
}

void token_free(struct vault_token *token)
{
	if (!token)
		return;
	free(token->display_name);
	free(token->path);
	json_decref(token->policies);
	json_decref(token->meta);
	free(token);
}

bool token_has_policy(const struct vault_token *token, const char *name)
{
	const json_t *item;
	size_t index;

	if (!token || !token->policies)
		return false;
	json_array_foreach(token->policies, index, item) {
		if (json_is_string(item) && strcmp(json_string_value(item), name) == 0)
			return true;
	}
	return false;
}

static json_t *record_to_json(const struct vault_token *token)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:b}",
		"accessor", token->accessor,
		"parent", token->parent_hash,
		"display_name", token->display_name ? token->display_name : "",
		"path", token->path ? token->path : "",
		"policies", token->policies,
		"meta", token->meta ? token->meta : json_null(),
		"creation_time", (json_int_t)token->creation_time,
		"creation_ttl", (json_int_t)token->creation_ttl,
		"expire_time", (json_int_t)token->expire_time,
		"last_renewal_time", (json_int_t)token->last_renewal_time,
		"explicit_max_ttl", (json_int_t)token->explicit_max_ttl,
		"period", (json_int_t)token->period,
		"num_uses", (json_int_t)token->num_uses,
		"max_ttl", (json_int_t)token->max_ttl,
		"renewable", token->renewable);
}

/* Copies a string field of at most max bytes into out. */
static int copy_field(const json_t *record, const char *name, char *out, size_t max)
{
	const json_t *value = json_object_get(record, name);

	if (!json_is_string(value) || json_string_length(value) >= max)
		return WD_ECORRUPT;
	memcpy(out, json_string_value(value), json_string_length(value) + 1);
	return 0;
}

static int record_from_json(const char *hash, const json_t *record,
	struct vault_token **ret_token)
{
	struct vault_token *token;
	json_t *policies, *meta;
	json_int_t creation_time = 0, creation_ttl = 0, expire_time = 0, renewal = 0,
		   explicit_max = 0, period = 0, uses = 0, max_ttl = 0;
	const char *display_name = NULL, *path = NULL;
	int renewable = 0;
	int rc;

	*ret_token = NULL;
	if (json_unpack((json_t *)record,
		    "{s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
		    "display_name", &display_name, "path", &path, "policies", &policies, "meta",
		    &meta, "creation_time", &creation_time, "creation_ttl", &creation_ttl,
		    "expire_time", &expire_time, "last_renewal_time", &renewal,
		    "explicit_max_ttl", &explicit_max, "period", &period, "num_uses", &uses,
		    "max_ttl", &max_ttl, "renewable", &renewable) != 0)
		return WD_ECORRUPT;
	if (!json_is_array(policies) || !(json_is_object(meta) || json_is_null(meta)))
		return WD_ECORRUPT;

	token = wd_calloc(1, sizeof(*token));
	if (!token)
		return WD_ENOMEM;
	snprintf(token->hash, sizeof(token->hash), "%s", hash);
	rc = copy_field(record, "accessor", token->accessor, sizeof(token->accessor));
	if (rc == 0)
		rc = copy_field(record, "parent", token->parent_hash, sizeof(token->parent_hash));
	if (rc < 0) {
		token_free(token);
		return rc;
	}

	token->display_name = wd_strdup(display_name);
	token->path = wd_strdup(path);
	token->policies = json_incref(policies);
	token->meta = json_is_object(meta) ? json_incref(meta) : NULL;
	token->creation_time = creation_time;
	token->creation_ttl = creation_ttl;
	token->expire_time = expire_time;
	token->last_renewal_time = renewal;
	token->explicit_max_ttl = explicit_max;
	token->period = period;
	token->num_uses = uses;
	token->max_ttl = max_ttl;
	token->renewable = renewable;
	token->orphan = token->parent_hash[0] == '\0';
	if (!token->display_name || !token->path) {
		token_free(token);
		return WD_ENOMEM;
	}
	*ret_token = token;
	return 0;
}

int token_record_load(struct secrets *secrets, const char *hash, struct vault_token **ret_token,
	struct wd_error *err)
{
	char path[sizeof(TOKEN_ID_PREFIX) + TOKEN_HASH_HEX_LEN];
	json_t *record = NULL;
	int rc;

	*ret_token = NULL;
	if (!token_hash_valid(hash))
		return wd_error_set(err, WD_ENOTFOUND, "token not found");
	snprintf(path, sizeof(path), TOKEN_ID_PREFIX "%s", hash);
	WD_TRY(barrier_get_json(secrets->barrier, path, &record, err));

	rc = record_from_json(hash, record, ret_token);
	json_decref(record);
	if (rc == WD_ECORRUPT)
		return wd_error_set(err, rc, "token record %s is malformed", path);
	if (rc < 0)
		return wd_error_set(err, rc, "out of memory loading token record %s", path);
	return 0;
}

int token_record_save(struct secrets *secrets, const struct vault_token *token,
	struct wd_error *err)
{
	char path[sizeof(TOKEN_ID_PREFIX) + TOKEN_HASH_HEX_LEN];
	json_t *record;
	int rc;

	snprintf(path, sizeof(path), TOKEN_ID_PREFIX "%s", token->hash);
	record = record_to_json(token);
	if (!record)
		return wd_error_set(err, WD_ENOMEM, "out of memory writing token record %s", path);
	rc = barrier_put_json(secrets->barrier, path, record, err);
	json_decref(record);
	return rc;
}

static int permission_denied(struct wd_error *err)
{
	return wd_error_set(err, WD_EPERM, "permission denied");
}

bool token_is_dead(const struct vault_token *token, int64_t now)
{
	if (token->num_uses == TOKEN_USES_EXHAUSTED)
		return true;
	return token->expire_time != 0 && now >= token->expire_time;
}

/* Revokes a dead token found during a lookup, with its tree. A failure is
 * logged and not returned: the caller is denied either way, and the next
 * lookup or sweep retries. */
static void revoke_dead(struct secrets *secrets, const struct vault_token *token)
{
	struct wd_error err = { 0 };

	if (token_revoke(secrets, token, &err) < 0)
		log_warn("secrets", "revoking an expired token failed", "accessor", token->accessor,
			"error", wd_error_text(&err));
}

/* Whether an ancestor of token within TOKEN_ANCESTOR_CHECK_MAX levels is
 * dead or gone. A dead one is revoked with its whole tree, which contains
 * token, as Vault revokes the children of an expired token with it. */
static int ancestors_dead(struct secrets *secrets, const struct vault_token *token,
	int64_t now, bool *ret_dead, struct wd_error *err)
{
	char hash[TOKEN_HASH_HEX_LEN + 1];
	struct vault_token *ancestor = NULL;
	int rc;

	*ret_dead = false;
	memcpy(hash, token->parent_hash, sizeof(hash));
	for (int depth = 0; depth < TOKEN_ANCESTOR_CHECK_MAX && hash[0]; depth++) {
		rc = token_record_load(secrets, hash, &ancestor, err);
		/* A revocation removes children before their parent, so a missing
		 * parent means a revocation stopped halfway: finish it here. */
		if (rc == WD_ENOTFOUND) {
			wd_error_clear(err);
			revoke_dead(secrets, token);
			*ret_dead = true;
			return 0;
		}
		if (rc < 0)
			return rc;
		if (token_is_dead(ancestor, now)) {
			revoke_dead(secrets, ancestor);
			token_free(ancestor);
			*ret_dead = true;
			return 0;
		}
		memcpy(hash, ancestor->parent_hash, sizeof(hash));
		token_free(ancestor);
		ancestor = NULL;
	}
	return 0;
}

/* Checks a loaded token and its ancestors at now. Returns 0 when it may be
 * used, 1 when it or an ancestor is dead (and now revoked). */
static int check_alive(struct secrets *secrets, const struct vault_token *token, int64_t now,
	struct wd_error *err)
{
	bool dead = false;

	if (token_is_dead(token, now)) {
		revoke_dead(secrets, token);
		return 1;
	}
	WD_TRY(ancestors_dead(secrets, token, now, &dead, err));
	return dead ? 1 : 0;
}

/* Spends one use of a token with limited uses. The last use leaves the
 * record marked exhausted, so this request completes and the next lookup
 * revokes the token together with any lease this request made. */
static int spend_use(struct secrets *secrets, struct vault_token *token, struct wd_error *err)
{
	if (token->num_uses <= 0)
		return 0;
	token->num_uses--;
	if (token->num_uses == 0)
		token->num_uses = TOKEN_USES_EXHAUSTED;
	return token_record_save(secrets, token, err);
}

int token_lookup_at(struct secrets *secrets, const char *id, int64_t now, bool count_use,
	struct vault_token **ret_token, struct wd_error *err)
{
	char hash[TOKEN_HASH_HEX_LEN + 1];
	struct vault_token *token = NULL;
	int rc;

	*ret_token = NULL;
	if (!id || id[0] == '\0' || strnlen(id, TOKEN_ID_MAX) >= TOKEN_ID_MAX)
		return permission_denied(err);

	WD_TRY(token_hash_id(secrets, id, hash, err));
	rc = token_record_load(secrets, hash, &token, err);
	if (rc == WD_ENOTFOUND)
		return permission_denied(err);
	if (rc < 0)
		return rc;

	rc = check_alive(secrets, token, now, err);
	if (rc != 0) {
		token_free(token);
		return rc < 0 ? rc : permission_denied(err);
	}
	if (count_use) {
		rc = spend_use(secrets, token, err);
		if (rc < 0) {
			token_free(token);
			return rc;
		}
	}
	*ret_token = token;
	return 0;
}

int token_lookup(struct secrets *secrets, const char *id, struct vault_token **ret_token,
	struct wd_error *err)
{
	return token_lookup_at(secrets, id, token_now(), true, ret_token, err);
}

static bool accessor_valid(const char *accessor)
{
	size_t i;

	for (i = 0; accessor[i]; i++) {
		char c = accessor[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return i > 0 && i <= ACCESSOR_INPUT_MAX;
}

int token_lookup_accessor_at(struct secrets *secrets, const char *accessor, int64_t now,
	struct vault_token **ret_token, struct wd_error *err)
{
	char path[sizeof(TOKEN_ACCESSOR_PREFIX) + ACCESSOR_INPUT_MAX];
	struct vault_token *token = NULL;
	json_t *index = NULL;
	const json_t *hash;
	int rc;

	*ret_token = NULL;
	if (!accessor || !accessor_valid(accessor))
		return wd_error_set(err, WD_ENOTFOUND, "invalid accessor");
	WD_TRY(token_salt_ensure(secrets, err));

	snprintf(path, sizeof(path), TOKEN_ACCESSOR_PREFIX "%s", accessor);
	rc = barrier_get_json(secrets->barrier, path, &index, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_ENOTFOUND, "invalid accessor");
	if (rc < 0)
		return rc;

	hash = json_object_get(index, "hash");
	if (!json_is_string(hash)) {
		json_decref(index);
		return wd_error_set(err, WD_ECORRUPT, "accessor index %s is malformed", path);
	}
	rc = token_record_load(secrets, json_string_value(hash), &token, err);
	json_decref(index);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_ENOTFOUND, "invalid accessor");
	if (rc < 0)
		return rc;

	rc = check_alive(secrets, token, now, err);
	if (rc != 0) {
		token_free(token);
		return rc < 0 ? rc : wd_error_set(err, WD_ENOTFOUND, "invalid accessor");
	}
	*ret_token = token;
	return 0;
}

int token_lookup_accessor(struct secrets *secrets, const char *accessor,
	struct vault_token **ret_token, struct wd_error *err)
{
	return token_lookup_accessor_at(secrets, accessor, token_now(), ret_token, err);
}
