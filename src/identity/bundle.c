/* SPIFFE bundle encoding (SPIFFE Trust Domain and Bundle standard section
 * 4): a JWK Set with one key per authority, and the X.509 authorities as
 * PEM. */
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "crypto/jwk.h"
#include "crypto/x509.h"
#include "identity/bundle.h"

/* Builds the JWK of one X.509 authority: use "x509-svid", the certificate's
 * public key, and x5c holding exactly that certificate as base64 DER (RFC
 * 7517 section 4.7), with no kid (X509-SVID standard section 6). */
static int x509_authority_jwk(X509 *cert, size_t index, json_t **ret_jwk, struct wd_error *err)
{
	const EVP_PKEY *key;
	json_t *jwk = NULL, *x5c = NULL;
	uint8_t *der = NULL;
	char *der_text = NULL;
	int der_len;
	int rc;

	*ret_jwk = NULL;
	key = cert ? X509_get0_pubkey(cert) : NULL;
	if (!key)
		return wd_error_set(err, WD_EINVAL, "X.509 authority %zu has no public key", index);
	WD_GUARD(crypto_jwk_from_key(key, &jwk, err));

	der_len = i2d_X509(cert, &der);
	WD_ENSURE(der_len > 0, WD_EINTERNAL);
	WD_GUARD(wd_base64_encode(der, (size_t)der_len, &der_text));
	x5c = json_array();
	WD_ENSURE(x5c && json_array_append_new(x5c, json_string(der_text)) == 0, WD_ENOMEM);

	WD_ENSURE(json_object_set_new(jwk, "use", json_string("x509-svid")) == 0 &&
			  json_object_set_new(jwk, "x5c", WD_TAKE_PTR(x5c)) == 0,
		WD_ENOMEM);

	*ret_jwk = WD_TAKE_PTR(jwk);
	rc = 0;
out:
	json_decref(x5c);
	json_decref(jwk);
	free(der_text);
	OPENSSL_free(der);
	return rc;
}

/* Builds the JWK of one JWT authority: use "jwt-svid", its kid and its
 * public key. Verifiers find JWT authorities by kid, so it is required. */
static int jwt_authority_jwk(const struct jwt_authority *authority, size_t index,
	json_t **ret_jwk, struct wd_error *err)
{
	json_t *jwk = NULL;
	int rc;

	*ret_jwk = NULL;
	if (!authority->kid || authority->kid[0] == '\0' || !authority->key)
		return wd_error_set(err, WD_EINVAL, "JWT authority %zu has no kid or no key", index);
	WD_GUARD(crypto_jwk_from_key(authority->key, &jwk, err));

	WD_ENSURE(json_object_set_new(jwk, "use", json_string("jwt-svid")) == 0, WD_ENOMEM);
	if (json_object_set_new(jwk, "kid", json_string(authority->kid)) != 0) {
		rc = wd_error_set(err, WD_EINVAL, "JWT authority %zu kid is not valid UTF-8", index);
		goto out;
	}

	*ret_jwk = WD_TAKE_PTR(jwk);
	rc = 0;
out:
	json_decref(jwk);
	return rc;
}

/* Rejects a view that would encode to a bundle bundle_from_spiffe_json
 * rejects: NULL arrays, a repeated kid, or numbers out of range. */
static int check_view(const struct bundle_view *bundle, struct wd_error *err)
{
	if ((!bundle->x509_authorities && bundle->x509_authority_count > 0) ||
	    (!bundle->jwt_authorities && bundle->jwt_authority_count > 0))
		return wd_error_set(err, WD_EINVAL, "bundle authority list is missing");

	/* jansson stores integers as signed 64-bit values. */
	if (bundle->sequence > INT64_MAX)
		return wd_error_set(err, WD_EINVAL, "bundle sequence %llu is above 2^63 - 1",
			(unsigned long long)bundle->sequence);
	if (bundle->refresh_hint_seconds < 0)
		return wd_error_set(err, WD_EINVAL, "bundle refresh hint %lld is negative",
			(long long)bundle->refresh_hint_seconds);

	for (size_t i = 0; i < bundle->jwt_authority_count; i++) {
		const char *kid = bundle->jwt_authorities[i].kid;

		for (size_t j = 0; kid && j < i; j++) {
			const char *other = bundle->jwt_authorities[j].kid;

			if (other && strcmp(kid, other) == 0)
				return wd_error_set(err, WD_EINVAL,
					"JWT authorities %zu and %zu share kid \"%.64s\"", j, i, kid);
		}
	}
	return 0;
}

int bundle_to_spiffe_json(const struct bundle_view *bundle, char **ret_json,
	struct wd_error *err)
{
	json_t *root = NULL, *keys = NULL, *jwk = NULL;
	char *text;
	int rc;

	*ret_json = NULL;
	if (!bundle)
		return wd_error_set(err, WD_EINVAL, "no bundle given");
	WD_GUARD(check_view(bundle, err));

	keys = json_array();
	WD_ENSURE(keys, WD_ENOMEM);
	for (size_t i = 0; i < bundle->x509_authority_count; i++) {
		WD_GUARD(x509_authority_jwk(bundle->x509_authorities[i], i, &jwk, err));
		WD_ENSURE(json_array_append_new(keys, WD_TAKE_PTR(jwk)) == 0, WD_ENOMEM);
	}
	for (size_t i = 0; i < bundle->jwt_authority_count; i++) {
		WD_GUARD(jwt_authority_jwk(&bundle->jwt_authorities[i], i, &jwk, err));
		WD_ENSURE(json_array_append_new(keys, WD_TAKE_PTR(jwk)) == 0, WD_ENOMEM);
	}

	root = json_object();
	WD_ENSURE(root, WD_ENOMEM);
	WD_ENSURE(json_object_set_new(root, "keys", WD_TAKE_PTR(keys)) == 0 &&
			  json_object_set_new(root, "spiffe_sequence",
				  json_integer((json_int_t)bundle->sequence)) == 0,
		WD_ENOMEM);
	/* A hint of 0 means "unset": readers then use their default. */
	if (bundle->refresh_hint_seconds > 0)
		WD_ENSURE(json_object_set_new(root, "spiffe_refresh_hint",
				  json_integer(bundle->refresh_hint_seconds)) == 0,
			WD_ENOMEM);

	/* Sorted keys and compact separators give the same bytes for the same
	 * bundle, so publishers and tests can compare output directly. */
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	WD_ENSURE(text, WD_ENOMEM);
	*ret_json = text;
	rc = 0;
out:
	json_decref(jwk);
	json_decref(keys);
	json_decref(root);
	return rc;
}

int bundle_to_pem(const struct bundle_view *bundle, char **ret_pem, struct wd_error *err)
{
	int rc;

	*ret_pem = NULL;
	if (!bundle || (!bundle->x509_authorities && bundle->x509_authority_count > 0))
		return wd_error_set(err, WD_EINVAL, "bundle authority list is missing");

	/* An empty bundle is valid (it trusts nothing) and encodes as "". */
	if (bundle->x509_authority_count == 0) {
		*ret_pem = wd_strdup("");
		return *ret_pem ? 0 : WD_ENOMEM;
	}
	rc = crypto_x509_chain_to_pem(bundle->x509_authorities, bundle->x509_authority_count,
		ret_pem);
	if (rc < 0)
		return wd_error_set(err, rc, "encoding the X.509 authorities as PEM failed");
	return 0;
}
