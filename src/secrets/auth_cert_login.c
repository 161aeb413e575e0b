/* Login with a TLS client certificate. The chain the listener verified is
 * checked again against each role's CA certificates (or the trust bundle),
 * then against the role's URI SAN and common name globs. The first role that
 * accepts it gives the token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "common/alloc.h"
#include "crypto/x509.h"
#include "identity/authority.h"
#include "identity/x509svid.h"
#include "net/net_json.h"
#include "secrets/auth_cert_internal.h"
#include "secrets/barrier.h"
#include "secrets/token_internal.h"

/* Text of a SPIFFE ID: "spiffe://" + trust domain + path. */
#define SPIFFE_TEXT_MAX (sizeof("spiffe://") + SPIFFE_TRUST_DOMAIN_MAX_LEN + SPIFFE_ID_MAX_LEN)

/* Longest common name and key id shown in token metadata, in bytes. */
#define META_FIELD_MAX 256

/* The state of one login: the chain and the trust bundle roles check against. */
struct login_context {
	STACK_OF(X509) *chain;
	int64_t now;
	STACK_OF(X509) *bundle;    /* the trust bundle, loaded on first need */
	bool any_verified;         /* some role's CAs verified the chain */
};

/* A role that accepted the chain, and what the chain showed. */
struct login_match {
	struct spiffe_id id;
	char id_text[SPIFFE_TEXT_MAX];
	char common_name[META_FIELD_MAX];
};

static int collect_name(void *context, const char *rest)
{
	json_t *names = context;

	if (json_array_size(names) >= CERT_LOGIN_MAX_ROLES)
		return WD_ETOOBIG;
	return json_array_append_new(names, json_string(rest)) == 0 ? 0 : WD_ENOMEM;
}

/* The role names to try: the one asked for, or all of them in order. */
static int role_names(struct secrets *secrets, const struct vault_request *req,
	const char *name, json_t **ret_names, struct wd_error *err)
{
	char prefix[VAULT_PATH_MAX];
	json_t *names = json_array();
	int rc;

	*ret_names = NULL;
	if (!names)
		return wd_error_set(err, WD_ENOMEM, "out of memory listing cert roles");
	if (name) {
		rc = json_array_append_new(names, json_string(name)) == 0 ? 0 : WD_ENOMEM;
	} else {
		rc = auth_storage_path(req->mount, CERT_ROLE_FOLDER, "", prefix, sizeof(prefix), err);
		if (rc == 0)
			rc = barrier_list(secrets->barrier, prefix, true, collect_name, names, err);
	}
	if (rc == WD_ENOMEM)
		rc = wd_error_set(err, rc, "out of memory listing cert roles");
	else if (rc == WD_ETOOBIG)
		rc = wd_error_set(err, rc, "more than %d cert roles; name one in the login",
			CERT_LOGIN_MAX_ROLES);
	if (rc < 0) {
		json_decref(names);
		return rc;
	}
	*ret_names = names;
	return 0;
}

/* The CA certificates a role trusts: its own, or the trust domain's. */
static int role_authorities(struct secrets *secrets, struct login_context *ctx,
	const struct cert_role *role, STACK_OF(X509) **ret_owned, STACK_OF(X509) **ret_cas,
	struct wd_error *err)
{
	*ret_owned = NULL;
	*ret_cas = NULL;
	if (role->certificate) {
		WD_TRY(crypto_x509_chain_from_pem(role->certificate, strlen(role->certificate),
			CERT_PEM_MAX_CERTS, ret_owned, err));
		*ret_cas = *ret_owned;
		return 0;
	}
	if (!ctx->bundle) {
		if (!secrets->authority)
			return wd_error_set(err, WD_EUNAVAILABLE, "no trust bundle to check against");
		WD_TRY(authority_x509_authorities(secrets->authority, &ctx->bundle, err));
	}
	*ret_cas = ctx->bundle;
	return 0;
}

/* Verifies the chain against cas and reads the leaf's SPIFFE ID. */
static int verify_chain(const struct login_context *ctx, STACK_OF(X509) *cas,
	struct spiffe_id *ret_id, struct wd_error *err)
{
	int count = sk_X509_num(cas);
	X509 **array;
	int rc;

	if (count <= 0)
		return wd_error_set(err, WD_ECRYPTO, "no CA certificates");
	array = wd_calloc((size_t)count, sizeof(*array));
	if (!array)
		return wd_error_set(err, WD_ENOMEM, "out of memory verifying a client chain");
	for (int i = 0; i < count; i++)
		array[i] = sk_X509_value(cas, i);
	rc = x509svid_verify(ctx->chain, array, (size_t)count, ctx->now, ret_id, err);
	free(array);
	return rc;
}

static void leaf_common_name(X509 *leaf, char *out, size_t len)
{
	X509_NAME *subject = X509_get_subject_name(leaf);
	int index = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
	X509_NAME_ENTRY *entry = index >= 0 ? X509_NAME_get_entry(subject, index) : NULL;
	unsigned char *utf8 = NULL;
	int n;

	out[0] = '\0';
	if (!entry)
		return;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
	if (n > 0)
		snprintf(out, len, "%.*s", n, (const char *)utf8);
	OPENSSL_free(utf8);
}

static bool any_glob(const json_t *patterns, const char *text)
{
	const json_t *item;
	size_t index;

	if (json_array_size(patterns) == 0)
		return true;
	json_array_foreach(patterns, index, item) {
		if (json_is_string(item) && auth_glob_match(json_string_value(item), text))
			return true;
	}
	return false;
}

/* Whether role accepts the chain. A chain that its CAs do not verify is no
 * match, not an error: another role may still accept it. */
static int role_matches(struct secrets *secrets, struct login_context *ctx,
	const struct cert_role *role, struct login_match *ret_match, bool *ret_ok,
	struct wd_error *err)
{
	STACK_OF(X509) *owned = NULL, *cas = NULL;
	struct wd_error verify_err = { 0 };
	int rc;

	*ret_ok = false;
	rc = role_authorities(secrets, ctx, role, &owned, &cas, &verify_err);
	if (rc == 0)
		rc = verify_chain(ctx, cas, &ret_match->id, &verify_err);
	sk_X509_pop_free(owned, X509_free);
	if (rc == WD_ENOMEM)
		return wd_error_set(err, rc, "%s", wd_error_text(&verify_err));
	if (rc < 0)
		return 0;
	ctx->any_verified = true;

	WD_TRY(spiffe_id_format(&ret_match->id, ret_match->id_text, sizeof(ret_match->id_text)));
	leaf_common_name(sk_X509_value(ctx->chain, 0), ret_match->common_name,
		sizeof(ret_match->common_name));
	*ret_ok = any_glob(role->allowed_uri_sans, ret_match->id_text) &&
		  any_glob(role->allowed_common_names, ret_match->common_name);
	return 0;
}

/* Writes a key id as colon-separated hex pairs, as Vault shows it. */
static void key_id_hex(const ASN1_OCTET_STRING *key_id, char *out, size_t len)
{
	const unsigned char *bytes = key_id ? ASN1_STRING_get0_data(key_id) : NULL;
	int count = key_id ? ASN1_STRING_length(key_id) : 0;
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; bytes && i < count && used + 4 <= len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%02x", i ? ":" : "", bytes[i]);
}

/* Writes the leaf's serial number in decimal, as Vault's metadata has it. */
static int serial_decimal(X509 *leaf, char *out, size_t len)
{
	BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	char *text = serial ? BN_bn2dec(serial) : NULL;
	int rc = WD_ENOMEM;

	out[0] = '\0';
	if (text && strlen(text) < len) {
		snprintf(out, len, "%s", text);
		rc = 0;
	}
	OPENSSL_free(text);
	BN_free(serial);
	return rc;
}

static int login_with(struct secrets *secrets, struct vault_request *req,
	const struct cert_role *role, const struct login_match *match, X509 *leaf,
	struct vault_response *resp, struct wd_error *err)
{
	char serial[AUTHORITY_SERIAL_HEX_SIZE * 2];
	char subject_key_id[META_FIELD_MAX], authority_key_id[META_FIELD_MAX];
	char display_name[AUTH_ROLE_NAME_MAX + 300];
	json_t *meta;
	int rc;

	if (serial_decimal(leaf, serial, sizeof(serial)) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory reading the serial number");
	key_id_hex(X509_get0_subject_key_id(leaf), subject_key_id, sizeof(subject_key_id));
	key_id_hex(X509_get0_authority_key_id(leaf), authority_key_id, sizeof(authority_key_id));
	meta = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
		"cert_name", role->name,
		"common_name", match->common_name,
		"serial_number", serial,
		"spiffe_id", match->id_text,
		"subject_key_id", subject_key_id,
		"authority_key_id", authority_key_id);
	if (!meta)
		return wd_error_set(err, WD_ENOMEM, "out of memory building token metadata");

	snprintf(display_name, sizeof(display_name), "cert-%s",
		role->display_name ? role->display_name : role->name);
	rc = auth_login_token(secrets, req, &role->token, display_name, meta, resp, err);
	json_decref(meta);
	return rc;
}

int cert_login(struct secrets *secrets, struct vault_request *req, STACK_OF(X509) *chain,
	struct vault_response *resp, struct wd_error *err)
{
	struct login_context ctx = { .chain = chain, .now = token_now() };
	struct cert_role *role = NULL;
	struct login_match match;
	json_t *names = NULL;
	const char *name = NULL;
	const json_t *item;
	size_t index;
	bool ok = false;
	int rc;

	WD_GUARD(net_json_get_string(req->body, "name", false, AUTH_ROLE_NAME_MAX, &name, err));
	if (name && name[0] == '\0')
		name = NULL;
	WD_ENSURE(chain && sk_X509_num(chain) > 0,
		wd_error_set(err, WD_EINVAL,
			"invalid certificate or no client certificate supplied"));
	WD_GUARD(role_names(secrets, req, name, &names, err));

	json_array_foreach(names, index, item) {
		rc = cert_role_load(secrets, req->mount, json_string_value(item), &role, err);
		if (rc == WD_ENOTFOUND || rc == WD_EINVAL) {
			wd_error_clear(err);
			continue;
		}
		WD_GUARD(rc);
		memset(&match, 0, sizeof(match));
		WD_GUARD(role_matches(secrets, &ctx, role, &match, &ok, err));
		if (ok)
			break;
		cert_role_free(role);
		role = NULL;
	}

	if (!ok && !ctx.any_verified)
		WD_GUARD(wd_error_set(err, WD_EINVAL,
			"invalid certificate or no client certificate supplied"));
	if (!ok)
		WD_GUARD(wd_error_set(err, WD_EINVAL, "no chain matching all constraints could be "
			"found for this login certificate"));
	WD_GUARD(login_with(secrets, req, role, &match, sk_X509_value(chain, 0), resp, err));
	rc = 0;
out:
	cert_role_free(role);
	json_decref(names);
	sk_X509_pop_free(ctx.bundle, X509_free);
	return rc;
}
