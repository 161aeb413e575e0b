/* Creating tokens: the id and accessor, policies, Vault's TTL rules, and
 * the record with its accessor and parent indexes written in one
 * transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/random.h"
#include "secrets/barrier.h"
#include "secrets/token_internal.h"

/* Tries at a fresh random accessor before giving up; a collision among
 * 62^24 values means the random source is broken. */
#define ACCESSOR_TRIES 3

/* Maximum metadata pairs on one token, and maximum key and value lengths in
 * bytes. A value has room for a SPIFFE ID of the maximum length (2048 bytes
 * of path after the trust domain). */
#define META_COUNT_MAX 64
#define META_KEY_MAX 128
#define META_VALUE_MAX 4096

/* A caller-chosen id (dev mode's root token, create {"id"}) must fit and
 * be printable ASCII without spaces, since clients send it in a header. */
static int check_custom_id(const char *id, struct wd_error *err)
{
	size_t len = strnlen(id, TOKEN_ID_MAX);

	if (len == 0 || len >= TOKEN_ID_MAX)
		return wd_error_set(err, WD_EINVAL, "token id must be 1 to %d bytes",
			TOKEN_ID_MAX - 1);
	for (size_t i = 0; i < len; i++) {
		if (id[i] <= ' ' || id[i] > '~')
			return wd_error_set(err, WD_EINVAL,
				"token id has byte 0x%02x at offset %zu; only printable ASCII "
				"without spaces is allowed",
				(unsigned char)id[i], i);
	}
	return 0;
}

static int check_params(const struct token_params *params, struct wd_error *err)
{
	if (params->num_uses < 0)
		return wd_error_set(err, WD_EINVAL, "number of uses cannot be negative");
	if (params->ttl < 0)
		return wd_error_set(err, WD_EINVAL, "ttl must be positive");
	if (params->explicit_max_ttl < 0)
		return wd_error_set(err, WD_EINVAL, "explicit_max_ttl must be positive");
	if (params->period < 0)
		return wd_error_set(err, WD_EINVAL, "period must be positive");
	if (params->max_ttl < 0)
		return wd_error_set(err, WD_EINVAL, "max_ttl must be positive");
	if (params->id)
		WD_TRY(check_custom_id(params->id, err));
	return 0;
}

/* Copies metadata after checking that it is an object of bounded strings.
 * An absent or empty object stores NULL. */
static int copy_meta(const json_t *meta, json_t **ret_meta, struct wd_error *err)
{
	const char *key;
	const json_t *value;

	*ret_meta = NULL;
	if (!meta || json_is_null(meta) || (json_is_object(meta) && json_object_size(meta) == 0))
		return 0;
	if (!json_is_object(meta))
		return wd_error_set(err, WD_EINVAL, "meta must be an object of strings");
	if (json_object_size(meta) > META_COUNT_MAX)
		return wd_error_set(err, WD_EINVAL, "meta has %zu keys; at most %d are allowed",
			json_object_size(meta), META_COUNT_MAX);

	json_object_foreach((json_t *)meta, key, value) {
		if (strlen(key) > META_KEY_MAX)
			return wd_error_set(err, WD_EINVAL, "meta key \"%.32s...\" is longer than %d "
				"bytes", key, META_KEY_MAX);
		if (!json_is_string(value))
			return wd_error_set(err, WD_EINVAL, "meta value of \"%s\" is not a string",
				key);
		if (json_string_length(value) > META_VALUE_MAX)
			return wd_error_set(err, WD_EINVAL,
				"meta value of \"%s\" is longer than %d bytes", key, META_VALUE_MAX);
	}
	*ret_meta = json_deep_copy(meta);
	if (!*ret_meta)
		return wd_error_set(err, WD_ENOMEM, "out of memory copying token metadata");
	return 0;
}

static int final_policies(const struct token_params *params, json_t **ret_policies,
	struct wd_error *err)
{
	json_t *policies;
	size_t index;
	json_t *item;

	*ret_policies = NULL;
	if (params->root) {
		*ret_policies = json_pack("[s]", "root");
		return *ret_policies ? 0 : wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	WD_TRY(token_policies_sanitize(params->policies, !params->no_default_policy, &policies,
		err));

	/* Vault strips "default" even when it was listed by name. */
	if (params->no_default_policy) {
		json_array_foreach(policies, index, item) {
			if (strcmp(json_string_value(item), "default") == 0) {
				json_array_remove(policies, index);
				break;
			}
		}
	}
	*ret_policies = policies;
	return 0;
}

/* Computes Vault's token TTL (handleCreateCommon). A root token without ttl
 * or period never expires. Other tokens get CalculateTTL from the mount of
 * the creating path, where a period replaces the TTL. Root tokens stay bound
 * by explicit_max_ttl. */
static int creation_ttl(struct secrets *secrets, const struct token_params *params,
	bool is_root, const char *path, int64_t now, int64_t *ret_ttl, char *ret_warning,
	struct wd_error *err)
{
	const struct vault_mount *mount = vault_mount_lookup(secrets, path);
	int64_t backend_max = token_min_nonzero(params->max_ttl, params->explicit_max_ttl);
	int64_t ttl = 0;

	*ret_ttl = 0;
	if (params->period > 0)
		WD_TRY(vault_calculate_ttl(secrets, mount, now, now, params->period, 0, backend_max,
			&ttl, ret_warning, err));
	else if (params->ttl > 0 || !is_root)
		WD_TRY(vault_calculate_ttl(secrets, mount, now, now, 0, params->ttl, backend_max,
			&ttl, ret_warning, err));

	if (ttl == 0 && params->explicit_max_ttl > 0)
		ttl = params->explicit_max_ttl;
	*ret_ttl = ttl;
	return 0;
}

/* Picks an accessor that no token uses yet. */
static int new_accessor(struct secrets *secrets, char out[static TOKEN_ACCESSOR_LEN + 1],
	struct wd_error *err)
{
	char path[sizeof(TOKEN_ACCESSOR_PREFIX) + TOKEN_ACCESSOR_LEN];
	json_t *existing = NULL;
	int rc;

	for (int i = 0; i < ACCESSOR_TRIES; i++) {
		WD_TRY(vault_random_base62(out, TOKEN_ACCESSOR_LEN));
		snprintf(path, sizeof(path), TOKEN_ACCESSOR_PREFIX "%s", out);
		rc = barrier_get_json(secrets->barrier, path, &existing, err);
		json_decref(existing);
		existing = NULL;
		if (rc == WD_ENOTFOUND)
			return 0;
		if (rc < 0)
			return rc;
	}
	return wd_error_set(err, WD_EINTERNAL, "no unused token accessor after %d tries",
		ACCESSOR_TRIES);
}

/* Picks the id, refusing one that a token already has. */
static int choose_id(struct secrets *secrets, const struct token_params *params,
	char id[static TOKEN_ID_MAX], char hash[static TOKEN_HASH_HEX_LEN + 1],
	struct wd_error *err)
{
	struct vault_token *existing = NULL;
	int rc;

	if (params->id) {
		snprintf(id, TOKEN_ID_MAX, "%s", params->id);
	} else {
		memcpy(id, TOKEN_SERVICE_PREFIX, sizeof(TOKEN_SERVICE_PREFIX) - 1);
		WD_TRY(vault_random_base62(id + sizeof(TOKEN_SERVICE_PREFIX) - 1, VAULT_RANDOM_ID_LEN));
	}
	WD_TRY(token_hash_id(secrets, id, hash, err));

	rc = token_record_load(secrets, hash, &existing, err);
	token_free(existing);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	return wd_error_set(err, WD_EINVAL, "a token with the given id already exists");
}

/* Writes the record, the accessor index and the parent index together. */
static int write_token(struct secrets *secrets, const struct vault_token *token,
	struct wd_error *err)
{
	char path[sizeof(TOKEN_PARENT_PREFIX) + 2 * TOKEN_HASH_HEX_LEN + 1];
	json_t *index = NULL, *empty = NULL;
	int rc;

	index = json_pack("{s:s}", "hash", token->hash);
	empty = json_object();
	if (!index || !empty) {
		rc = wd_error_set(err, WD_ENOMEM, "out of memory writing a token");
		goto out;
	}

	WD_GUARD(barrier_begin(secrets->barrier, err));
	rc = token_record_save(secrets, token, err);
	if (rc == 0) {
		snprintf(path, sizeof(path), TOKEN_ACCESSOR_PREFIX "%s", token->accessor);
		rc = barrier_put_json(secrets->barrier, path, index, err);
	}
	if (rc == 0 && token->parent_hash[0]) {
		snprintf(path, sizeof(path), TOKEN_PARENT_PREFIX "%s/%s", token->parent_hash,
			token->hash);
		rc = barrier_put_json(secrets->barrier, path, empty, err);
	}
	if (rc == 0)
		rc = barrier_commit(secrets->barrier, err);
	if (rc < 0)
		barrier_rollback(secrets->barrier);
out:
	json_decref(index);
	json_decref(empty);
	return rc;
}

int token_create_at(struct secrets *secrets, const struct token_params *params, int64_t now,
	char ret_id[static TOKEN_ID_MAX], struct vault_token **ret_token, char *ret_warning,
	struct wd_error *err)
{
	char id[TOKEN_ID_MAX] = "";
	struct vault_token *token = NULL;
	bool is_root;
	int64_t ttl = 0;
	int rc;

	ret_id[0] = '\0';
	if (ret_token)
		*ret_token = NULL;
	if (ret_warning)
		ret_warning[0] = '\0';
	WD_GUARD(check_params(params, err));

	token = wd_calloc(1, sizeof(*token));
	WD_ENSURE(token, wd_error_set(err, WD_ENOMEM, "out of memory creating a token"));
	token->display_name = wd_strdup(params->display_name ? params->display_name : "token");
	token->path = wd_strdup(params->path ? params->path : "auth/token/create");
	WD_ENSURE(token->display_name && token->path,
		wd_error_set(err, WD_ENOMEM, "out of memory creating a token"));
	WD_GUARD(final_policies(params, &token->policies, err));
	WD_GUARD(copy_meta(params->meta, &token->meta, err));

	WD_GUARD(choose_id(secrets, params, id, token->hash, err));
	WD_GUARD(new_accessor(secrets, token->accessor, err));
	if (params->parent)
		snprintf(token->parent_hash, sizeof(token->parent_hash), "%s", params->parent->hash);
	token->orphan = token->parent_hash[0] == '\0';

	is_root = token_has_policy(token, "root");
	WD_GUARD(creation_ttl(secrets, params, is_root, token->path, now, &ttl, ret_warning, err));
	token->creation_time = now;
	token->creation_ttl = ttl;
	token->expire_time = ttl > 0 ? now + ttl : 0;
	token->explicit_max_ttl = params->explicit_max_ttl;
	token->period = params->period;
	token->num_uses = params->num_uses;
	token->max_ttl = params->max_ttl;
	/* A token that never expires has nothing to renew (Vault does not
	 * advertise non-expiring root tokens as renewable). */
	token->renewable = params->renewable && ttl > 0;

	WD_GUARD(write_token(secrets, token, err));

	memcpy(ret_id, id, sizeof(id));
	if (ret_token)
		*ret_token = WD_TAKE_PTR(token);
	rc = 0;
out:
	OPENSSL_cleanse(id, sizeof(id));
	token_free(token);
	return rc;
}

int token_create(struct secrets *secrets, const struct token_params *params,
	char ret_id[static TOKEN_ID_MAX], struct vault_token **ret_token, struct wd_error *err)
{
	return token_create_at(secrets, params, token_now(), ret_id, ret_token, NULL, err);
}
