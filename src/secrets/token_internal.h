/* Declarations the token store's files share: the barrier layout, the salt,
 * record encoding, and the steps behind token.h that the token backend also
 * calls with an explicit time. Not used outside the token store and its
 * backend. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/token.h"

/* Barrier paths. Records are keyed by the hex HMAC-SHA256 of the token id
 * under the salt, so the stored paths never reveal an id. */
#define TOKEN_SALT_PATH "sys/token/salt"
#define TOKEN_ID_PREFIX "sys/token/id/"
#define TOKEN_ACCESSOR_PREFIX "sys/token/accessor/"
#define TOKEN_PARENT_PREFIX "sys/token/parent/"

/* Bytes of the salt and of a hash in hex, without the NUL. */
#define TOKEN_SALT_LEN 32
#define TOKEN_HASH_HEX_LEN 64

/* Prefix of service token ids (Vault 1.10 and later). */
#define TOKEN_SERVICE_PREFIX "hvs."

/* Most tokens one revocation walks (the token, its children and theirs). A
 * larger tree fails with WD_ETOOBIG after revoking this many leaves, so a
 * retry continues where it stopped. */
#define TOKEN_REVOKE_MAX_TREE 100000

/* Ancestors a lookup checks for expiry. A deeper token learns of an
 * expired ancestor from the sweep (token_tidy) instead. */
#define TOKEN_ANCESTOR_CHECK_MAX 16

/* Records the sweep loads per call, and the pause between full sweeps in
 * seconds. */
#define TOKEN_TIDY_BATCH 500
#define TOKEN_TIDY_INTERVAL 60

/* Stored num_uses of a token whose last use has begun: the next lookup
 * revokes it (Vault's tokenRevocationPending). */
#define TOKEN_USES_EXHAUSTED (-1)

struct token_store {
	uint8_t salt[TOKEN_SALT_LEN];
	bool salt_loaded;
	int64_t next_tidy;                     /* unix seconds of the next sweep step */
	char tidy_cursor[TOKEN_HASH_HEX_LEN + 1]; /* last hash swept; "" to start over */
};

/* Loads the salt from the barrier, creating it on first use. */
WD_MUST_CHECK int token_salt_ensure(struct secrets *secrets, struct wd_error *err);

/* Writes the hex HMAC-SHA256 of id under the salt to ret_hash. */
WD_MUST_CHECK int token_hash_id(struct secrets *secrets, const char *id,
	char ret_hash[static TOKEN_HASH_HEX_LEN + 1], struct wd_error *err);

/* True when text is 64 lowercase hex digits, as token_hash_id writes. */
bool token_hash_valid(const char *text);

/* Reads the record stored under hash; WD_ENOTFOUND when there is none. */
WD_MUST_CHECK int token_record_load(struct secrets *secrets, const char *hash,
	struct vault_token **ret_token, struct wd_error *err);

/* Writes token's record (not its indexes). */
WD_MUST_CHECK int token_record_save(struct secrets *secrets, const struct vault_token *token,
	struct wd_error *err);

/* The smaller of two caps where 0 means no cap. */
static inline int64_t token_min_nonzero(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/* Whether token can no longer be used at now: past its expiry, or its last
 * use already spent. */
bool token_is_dead(const struct vault_token *token, int64_t now);

/* Unix seconds now. */
int64_t token_now(void);

/* token_lookup at time now. count_use false loads the token without
 * spending one of its uses, for the token backend's operations on another
 * token. */
WD_MUST_CHECK int token_lookup_at(struct secrets *secrets, const char *id, int64_t now,
	bool count_use, struct vault_token **ret_token, struct wd_error *err);

/* token_lookup_accessor at time now; WD_ENOTFOUND "invalid accessor" for an
 * unknown or expired one. */
WD_MUST_CHECK int token_lookup_accessor_at(struct secrets *secrets, const char *accessor,
	int64_t now, struct vault_token **ret_token, struct wd_error *err);

/* Vault's SanitizePolicies: trims and lowercases names, drops empty ones,
 * reduces a list containing "root" to ["root"], adds "default" when
 * add_default (and not root), then sorts and removes duplicates. policies
 * may be NULL. WD_EINVAL when an item is not a string. */
WD_MUST_CHECK int token_policies_sanitize(const json_t *policies, bool add_default,
	json_t **ret_policies, struct wd_error *err);

/* True when every name in subset is in set (both arrays of strings). */
bool token_policies_subset(const json_t *set, const json_t *subset);

/* token_create at time now; a TTL capping warning (or "") goes to
 * ret_warning, which has room for 256 bytes. */
WD_MUST_CHECK int token_create_at(struct secrets *secrets, const struct token_params *params,
	int64_t now, char ret_id[static TOKEN_ID_MAX], struct vault_token **ret_token,
	char *ret_warning, struct wd_error *err);

/* Extends token's TTL by increment seconds (0: its original TTL) at time
 * now, capped as Vault caps leases: by the mount and system maximum, the
 * role's max_ttl and explicit_max_ttl, counted from the creation time. A
 * periodic token gets its period again. Saves the record and updates
 * token. WD_EINVAL "lease is not renewable" for a non-renewable or
 * non-expiring token; ret_warning (256 bytes) receives a capping warning. */
WD_MUST_CHECK int token_renew_at(struct secrets *secrets, struct vault_token *token,
	int64_t increment, int64_t now, char *ret_warning, struct wd_error *err);

/* Revokes token and its leases but not its children, which become orphans
 * (auth/token/revoke-orphan). */
WD_MUST_CHECK int token_revoke_orphan(struct secrets *secrets, const struct vault_token *token,
	struct wd_error *err);

/* Builds the data of a lookup response for token at time now. id is shown
 * as the "id" field; "" when the caller looked the token up by accessor. */
WD_MUST_CHECK int token_lookup_data(const struct vault_token *token, const char *id,
	int64_t now, json_t **ret_data);

/* --- The auth/token/ backend (token.c, token_backend_create.c) --- */

/* Whether the caller's token is root or has sudo on the request path, which
 * Vault requires to choose an id, make an orphan or a periodic token, or
 * give a child policies its parent lacks. */
bool token_caller_is_sudo(struct secrets *secrets, const struct vault_request *req);

/* auth/token/create and auth/token/create-orphan. */
WD_MUST_CHECK int token_handle_create(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err);
