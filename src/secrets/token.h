/* The token store: Vault's service tokens ("hvs." + 24 base62), kept in the
 * barrier under the HMAC of their id, with accessors, parent/child links,
 * TTLs, renewal and revocation of the whole tree and its leases. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/secrets_internal.h"

/* Bytes of a token id ("hvs." + 24) and of an accessor (24). */
#define TOKEN_ID_MAX 64
#define TOKEN_ACCESSOR_LEN 24

/* A token as loaded; the id itself is never kept, only its hash. */
struct vault_token {
	char hash[65];            /* hex HMAC-SHA256 of the id under the token salt */
	char accessor[TOKEN_ACCESSOR_LEN + 1];
	char parent_hash[65];     /* "" for orphans and root tokens */
	char *display_name;       /* "token", "cert-web", "jwt-..." */
	char *path;               /* "auth/token/create", "auth/cert/login" */
	json_t *policies;         /* sorted array of names; "root" for root tokens */
	json_t *meta;             /* object of strings */
	int64_t creation_time;    /* unix seconds */
	int64_t creation_ttl;     /* seconds; 0 for tokens that never expire */
	int64_t expire_time;      /* unix seconds; 0 never */
	int64_t explicit_max_ttl;
	int64_t period;
	int64_t num_uses;         /* 0 unlimited; -1 when this request is the last use */
	int64_t max_ttl;          /* seconds; the auth method role's cap, 0 none */
	int64_t last_renewal_time; /* unix seconds; 0 never renewed */
	bool renewable;
	bool orphan;
};

/* Parameters of a new token, for token_create. */
struct token_params {
	const char *id;                 /* NULL: random; the root token of dev mode */
	const char *display_name;       /* NULL: "token" */
	const char *path;
	const struct vault_token *parent; /* NULL: orphan */
	json_t *policies;               /* array of names (borrowed) */
	json_t *meta;                   /* object or NULL (borrowed) */
	bool no_default_policy;
	bool renewable;
	int64_t ttl;                    /* 0: the mount default */
	int64_t explicit_max_ttl;
	int64_t period;
	int64_t num_uses;
	int64_t max_ttl;                /* 0: no cap below the mount's; a login role's token_max_ttl */
	bool root;                      /* policies ["root"], no TTL */
};

WD_MUST_CHECK int token_store_open(struct secrets *secrets, struct token_store **ret_store,
	struct wd_error *err);
void token_store_free(struct token_store *store);

/* Creates a token; ret_id (TOKEN_ID_MAX) receives the id, shown once, and
 * ret_token (may be NULL) the loaded token. */
WD_MUST_CHECK int token_create(struct secrets *secrets, const struct token_params *params,
	char ret_id[static TOKEN_ID_MAX], struct vault_token **ret_token, struct wd_error *err);

/* Loads the token with id; WD_EPERM "permission denied" when it is unknown,
 * expired or used up (an expired one is revoked on the way). */
WD_MUST_CHECK int token_lookup(struct secrets *secrets, const char *id,
	struct vault_token **ret_token, struct wd_error *err);
WD_MUST_CHECK int token_lookup_accessor(struct secrets *secrets, const char *accessor,
	struct vault_token **ret_token, struct wd_error *err);

void token_free(struct vault_token *token);

/* Revokes the token, its children (recursively) and the leases of all of
 * them, through expire_revoke_by_token. */
WD_MUST_CHECK int token_revoke(struct secrets *secrets, const struct vault_token *token,
	struct wd_error *err);

/* Revokes tokens that expired or used up their uses without being looked
 * up since, with their trees and leases: at most 500 records per call, a
 * full sweep about once a minute. Call it from the tick while
 * unsealed; failures are logged. */
void token_tidy(struct secrets *secrets, int64_t now);

/* Revokes every token made at a path under prefix ("auth/cert/"), with its
 * tree and leases, as Vault does when an auth method is disabled. */
WD_MUST_CHECK int token_revoke_prefix(struct secrets *secrets, const char *prefix,
	struct wd_error *err);

/* Whether token carries policy name. */
bool token_has_policy(const struct vault_token *token, const char *name);

/* Builds Vault's "auth" block for a new token: client_token, accessor,
 * policies, token_policies, metadata, lease_duration, renewable,
 * entity_id, token_type, orphan, num_uses. */
WD_MUST_CHECK int token_auth_block(const struct vault_token *token, const char *id,
	json_t **ret_auth);
