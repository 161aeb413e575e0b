/* JWT auth (auth/jwt/): the mount's config, its roles, JWS verification
 * and the claim checks of a login, shared by auth_jwt*.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/auth_common.h"

/* Barrier paths below the mount's storage prefix. */
#define JWT_CONFIG_NAME "config"
#define JWT_ROLE_FOLDER "role/"

/* Maximum length of a token at login, in bytes: the JWT-SVID verifier's
 * ceiling, so both key sources accept the same tokens. */
#define JWT_TOKEN_MAX 16384

/* Maximum number of keys in jwt_validation_pubkeys, and maximum length of
 * one PEM key in bytes. */
#define JWT_PUBKEYS_MAX 32
#define JWT_PUBKEY_PEM_MAX 16384

/* Vault's leeway defaults for jwt roles, in seconds. A role value of 0
 * picks the default, -1 turns the leeway off. */
#define JWT_DEFAULT_CLOCK_SKEW_LEEWAY 60
#define JWT_DEFAULT_EXPIRATION_LEEWAY 150
#define JWT_DEFAULT_NOT_BEFORE_LEEWAY 150

/* Largest leeway a role may set: one year, in seconds. */
#define JWT_LEEWAY_MAX (365 * 86400)

/* The mount's config; every field is optional. */
struct jwt_config {
	char *bound_issuer;       /* NULL: any or no iss */
	json_t *pubkeys;          /* PEM public keys; empty: the trust domain's JWT authorities */
	json_t *supported_algs;   /* empty: all nine RS/PS/ES algorithms */
	char *default_role;       /* NULL: login must name a role */
};

struct jwt_role {
	char name[AUTH_ROLE_NAME_MAX + 1];
	char *user_claim;
	json_t *bound_audiences;  /* array of strings */
	char *bound_subject;      /* NULL: any */
	json_t *bound_claims;     /* object: claim name or JSON pointer -> value or list */
	bool bound_claims_glob;   /* bound_claims_type "glob" rather than "string" */
	int64_t clock_skew_leeway;
	int64_t expiration_leeway;
	int64_t not_before_leeway;
	struct auth_token_settings token;
};

/* Frees the members and zeroes config; accepts NULL. */
void jwt_config_clear(struct jwt_config *config);

/* Loads the config of mount; an absent one leaves every field empty and
 * sets *ret_found false. */
WD_MUST_CHECK int jwt_config_load(struct secrets *secrets, const struct vault_mount *mount,
	struct jwt_config *ret_config, bool *ret_found, struct wd_error *err);

/* auth/jwt/config: read and write. */
WD_MUST_CHECK int jwt_handle_config(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err);

void jwt_role_free(struct jwt_role *role);

/* Loads a role; WD_ENOTFOUND when there is none. */
WD_MUST_CHECK int jwt_role_load(struct secrets *secrets, const struct vault_mount *mount,
	const char *name, struct jwt_role **ret_role, struct wd_error *err);

/* auth/jwt/role/<name>: read, write, delete. */
WD_MUST_CHECK int jwt_handle_role(struct secrets *secrets, struct vault_request *req,
	const char *name, struct vault_response *resp, struct wd_error *err);

/* Parses a PEM public key, or the key of a PEM certificate; NULL when
 * pem contains neither. */
EVP_PKEY *jwt_public_key_parse(const char *pem);

/* Decodes the claims of a compact JWS without checking its signature, to
 * pick the audience to verify a JWT-SVID with. The caller owns the
 * object. WD_EINVAL when token is not three base64url parts with a JSON
 * object in the middle. */
WD_MUST_CHECK int jwt_peek_claims(const char *token, size_t len, json_t **ret_claims,
	struct wd_error *err);

/* Verifies the signature of token with one of config's PEM keys, under
 * an algorithm config allows, and returns the claims. Errors are WD_EINVAL
 * "error validating token: ...". */
WD_MUST_CHECK int jwt_verify_with_keys(const struct jwt_config *config, const char *token,
	size_t len, json_t **ret_claims, struct wd_error *err);

/* Verifies token as a JWT-SVID of the trust domain (jwtsvid_verify) for
 * one of the role's bound audiences, and returns the claims. Same errors,
 * and Vault's "audience claim found in JWT but no audiences bound to the
 * role". */
WD_MUST_CHECK int jwt_verify_with_authorities(struct secrets *secrets,
	const struct jwt_config *config, const struct jwt_role *role, const char *token,
	size_t len, int64_t now, json_t **ret_claims, struct wd_error *err);

/* Checks verified claims against the config and role at now: exp, nbf and
 * iat with the role's leeways, iss, sub, aud and bound_claims. WD_EINVAL
 * with Vault's messages. */
WD_MUST_CHECK int jwt_check_claims(const struct jwt_config *config, const struct jwt_role *role,
	const json_t *claims, int64_t now, struct wd_error *err);

/* Returns the claim called name, or at the JSON pointer name when it
 * starts with '/' (RFC 6901); NULL when absent. Borrowed. */
const json_t *jwt_claim_get(const json_t *claims, const char *name);

/* Writes the user claim's value as text (a string, or the decimal form of
 * an integer) to out. WD_EINVAL `claim "x" not found in token` or
 * `claim "x" could not be converted to string`. */
WD_MUST_CHECK int jwt_user_claim(const json_t *claims, const char *name, char *out,
	size_t len, struct wd_error *err);
