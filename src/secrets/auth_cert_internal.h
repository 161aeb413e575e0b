/* TLS certificate auth (auth/cert/): the roles that decide which client
 * certificates may log in and with what token, shared by the role
 * endpoints (auth_cert.c) and the login (auth_cert_login.c). */
#pragma once

#include <stdbool.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/auth_common.h"

/* Barrier folder of the roles below the mount's storage prefix. */
#define CERT_ROLE_FOLDER "certs/"

/* Longest PEM accepted in a role's certificate field, and most
 * certificates in it. */
#define CERT_PEM_MAX (64 * 1024)
#define CERT_PEM_MAX_CERTS 16

/* Most roles a login without a name tries, in name order. */
#define CERT_LOGIN_MAX_ROLES 1000

struct cert_role {
	char name[AUTH_ROLE_NAME_MAX + 1];
	char *certificate;             /* PEM CA certificates; NULL: the trust bundle */
	json_t *allowed_uri_sans;      /* array of globs; empty allows any */
	json_t *allowed_common_names;  /* array of globs; empty allows any */
	char *display_name;            /* NULL: the role name */
	struct auth_token_settings token;
};

/* Frees a role; accepts NULL. */
void cert_role_free(struct cert_role *role);

/* Loads the role called name of mount; WD_ENOTFOUND when there is none. */
WD_MUST_CHECK int cert_role_load(struct secrets *secrets, const struct vault_mount *mount,
	const char *name, struct cert_role **ret_role, struct wd_error *err);

/* Logs in with the client chain (leaf first, as the listener verified it;
 * NULL when the client sent none) against the role named in the body, or
 * the first role, in name order, that the chain satisfies. Fills
 * resp->auth. WD_EINVAL with Vault's messages when no role matches. */
WD_MUST_CHECK int cert_login(struct secrets *secrets, struct vault_request *req,
	STACK_OF(X509) *chain, struct vault_response *resp, struct wd_error *err);
