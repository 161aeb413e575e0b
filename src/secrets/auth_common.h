/* Helpers the auth backends (token, cert, jwt) share: the token_* fields of a
 * login role, issuing a login token, role names and storage, globs, and
 * Vault's warning about request fields that an endpoint ignores. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/secrets_internal.h"

/* Maximum length of a role name, in bytes. */
#define AUTH_ROLE_NAME_MAX 128

/* Ceiling on the items of any list field of a role (policies, allowed
 * names, audiences, claim values). */
#define AUTH_LIST_MAX 256

/* Maximum length of an item of a role's list field, in bytes. */
#define AUTH_LIST_ITEM_MAX 1024

/* The token settings of a role (Vault's tokenutil.TokenParams). Durations
 * in seconds; 0 means unset. */
struct auth_token_settings {
	json_t *policies;          /* token_policies: array of names, owned */
	int64_t ttl;
	int64_t max_ttl;
	int64_t explicit_max_ttl;
	int64_t period;
	int64_t num_uses;
	bool no_default_policy;
};

/* Frees the policies and zeroes settings; accepts NULL. */
void auth_token_settings_clear(struct auth_token_settings *settings);

/* Reads the token_* fields present in body into settings and keeps the
 * others, as an update of a role does: token_policies (or legacy policies),
 * token_ttl (ttl), token_max_ttl (max_ttl), token_explicit_max_ttl,
 * token_period (period), token_num_uses, token_no_default_policy. Also
 * reads a stored role. WD_EINVAL naming the field, or
 * "'token_ttl' cannot be greater than 'token_max_ttl'". */
WD_MUST_CHECK int auth_token_settings_parse(const json_t *body,
	struct auth_token_settings *settings, struct wd_error *err);

/* Adds the token_* fields to obj as a role read shows them, plus the legacy
 * "policies" that mirrors token_policies. */
WD_MUST_CHECK int auth_token_settings_to_json(const struct auth_token_settings *settings,
	json_t *obj);

/* True when name is one of the fields auth_token_settings_parse reads. */
bool auth_token_field(const char *name);

/* Creates the token of a successful login: an orphan made at req->path
 * (its mount gives the default and maximum TTL), renewable, with the
 * role's settings, display_name and meta (borrowed). Fills resp->auth and
 * adds a capping warning. */
WD_MUST_CHECK int auth_login_token(struct secrets *secrets, const struct vault_request *req,
	const struct auth_token_settings *settings, const char *display_name, const json_t *meta,
	struct vault_response *resp, struct wd_error *err);

/* Vault's glob (go-glob): '*' matches any run of bytes, '/' included;
 * every other byte matches itself. */
bool auth_glob_match(const char *pattern, const char *text);

/* Checks a role name as Vault's GenericNameRegex does: word characters at
 * both ends, word characters, '-' and '.' between, at most
 * AUTH_ROLE_NAME_MAX bytes. WD_EINVAL naming it. */
WD_MUST_CHECK int auth_role_name_check(const char *name, struct wd_error *err);

/* Writes the barrier path of an item of a mount ("<storage prefix><folder>
 * <name>") to out. WD_ETOOBIG when it does not fit. */
WD_MUST_CHECK int auth_storage_path(const struct vault_mount *mount, const char *folder,
	const char *name, char *out, size_t len, struct wd_error *err);

/* Replies to a LIST of the names stored under folder with data {"keys":
 * [...]}, or WD_ENOTFOUND when there are none (Vault replies 404). */
WD_MUST_CHECK int auth_list_names(struct secrets *secrets, const struct vault_mount *mount,
	const char *folder, struct vault_response *resp, struct wd_error *err);

/* Adds Vault's warning "Endpoint ignored these unrecognized parameters:
 * [a b]" for the body fields that are not in allowed (nor token_* fields
 * when token_fields). */
WD_MUST_CHECK int auth_warn_unknown_fields(struct vault_response *resp, const json_t *body,
	const char *const *allowed, size_t allowed_count, bool token_fields);

/* Reads a list field (JSON array of strings, or one comma-separated
 * string) of at most AUTH_LIST_MAX items of AUTH_LIST_ITEM_MAX bytes.
 * Returns 1 and a new array when present, 0 (and NULL) when absent or
 * null. */
WD_MUST_CHECK int auth_json_list(const json_t *body, const char *field, json_t **ret_list,
	struct wd_error *err);

/* The unauthenticated() of an auth method: its login path needs no token,
 * since it is how a caller gets one. */
bool auth_login_unauthenticated(const char *rel, enum vault_op op);
