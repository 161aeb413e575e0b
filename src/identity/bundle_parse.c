/* SPIFFE bundle parsing (SPIFFE Trust Domain and Bundle standard section 4):
 * X.509 authorities from x509-svid keys, JWT authorities from jwt-svid keys,
 * the sequence number and the refresh hint. */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "crypto/jwk.h"
#include "identity/bundle.h"

/* NOTE: fixed ceilings, because bundle_from_spiffe_json takes no options.
 * A bundle contains a few keys per rotation slot, so these leave wide room. */
#define BUNDLE_MAX_JSON_LEN (1024 * 1024)
#define BUNDLE_MAX_KEYS 512

void bundle_parsed_free(struct bundle_parsed *bundle)
{
	if (!bundle)
		return;
	sk_X509_pop_free(bundle->x509_authorities, X509_free);
	for (size_t i = 0; i < bundle->jwt_authority_count; i++) {
		free((char *)bundle->jwt_authorities[i].kid);
		EVP_PKEY_free(bundle->jwt_authorities[i].key);
	}
	free(bundle->jwt_authorities);
	free(bundle);
}

/* Decodes x5c (RFC 7517 section 4.7): the X509-SVID standard section 6
 * allows exactly one certificate, as base64 (not base64url) DER. */
static int decode_x5c(const json_t *x5c, size_t index, X509 **ret_cert, struct wd_error *err)
{
	const json_t *item;
	const unsigned char *cursor;
	uint8_t *der = NULL;
	size_t der_len = 0;
	X509 *cert = NULL;
	int rc;

	*ret_cert = NULL;
	if (!json_is_array(x5c) || json_array_size(x5c) != 1)
		return wd_error_set(err, WD_EINVAL,
			"bundle keys[%zu]: x509-svid key needs x5c with exactly one certificate", index);
	item = json_array_get(x5c, 0);
	if (!json_is_string(item))
		return wd_error_set(err, WD_EINVAL, "bundle keys[%zu]: x5c[0] is not a string", index);

	rc = wd_base64_decode(json_string_value(item), json_string_length(item), &der, &der_len);
	if (rc < 0 || der_len == 0 || der_len > LONG_MAX) {
		rc = wd_error_set(err, WD_EINVAL, "bundle keys[%zu]: x5c[0] is not valid base64",
			index);
		goto out;
	}
	cursor = der;
	cert = d2i_X509(NULL, &cursor, (long)der_len);
	if (!cert || cursor != der + der_len) {
		rc = wd_error_set(err, WD_EINVAL,
			"bundle keys[%zu]: x5c[0] is not one DER certificate", index);
		goto out;
	}

	*ret_cert = WD_TAKE_PTR(cert);
	rc = 0;
out:
	X509_free(cert);
	free(der);
	return rc;
}

static int add_x509_authority(struct bundle_parsed *bundle, const json_t *jwk, EVP_PKEY *key,
	size_t index, struct wd_error *err)
{
	X509 *cert = NULL;
	int rc;

	WD_GUARD(decode_x5c(json_object_get(jwk, "x5c"), index, &cert, err));

	/* The JWK members and the certificate must describe one key, or a
	 * reader using one of them would trust a different authority. */
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1) {
		rc = wd_error_set(err, WD_EINVAL,
			"bundle keys[%zu]: x5c certificate key differs from the JWK key", index);
		goto out;
	}
	WD_ENSURE(sk_X509_push(bundle->x509_authorities, cert) > 0, WD_ENOMEM);
	cert = NULL;
	rc = 0;
out:
	X509_free(cert);
	return rc;
}

static int add_jwt_authority(struct bundle_parsed *bundle, const json_t *jwk, EVP_PKEY **key,
	size_t index, struct wd_error *err)
{
	const json_t *kid = json_object_get(jwk, "kid");
	struct jwt_authority *slot;
	const char *kid_text;

	if (!json_is_string(kid) || json_string_length(kid) == 0)
		return wd_error_set(err, WD_EINVAL, "bundle keys[%zu]: jwt-svid key has no kid",
			index);
	kid_text = json_string_value(kid);
	if (strlen(kid_text) != json_string_length(kid))
		return wd_error_set(err, WD_EINVAL, "bundle keys[%zu]: kid contains a NUL byte",
			index);

	/* Two keys under one kid would make a token's verifying key ambiguous. */
	for (size_t i = 0; i < bundle->jwt_authority_count; i++) {
		if (strcmp(bundle->jwt_authorities[i].kid, kid_text) == 0)
			return wd_error_set(err, WD_EINVAL, "bundle keys[%zu]: kid \"%.64s\" repeats",
				index, kid_text);
	}

	slot = &bundle->jwt_authorities[bundle->jwt_authority_count];
	slot->kid = wd_strdup(kid_text);
	if (!slot->kid)
		return WD_ENOMEM;
	slot->key = WD_TAKE_PTR(*key);
	bundle->jwt_authority_count++;
	return 0;
}

/* Parses keys[index]. Unknown use, kty or crv values skip the key, as
 * bundle standard sections 4.2.1 and 4.2.2 require; a missing use or kty
 * is malformed. */
static int parse_key(struct bundle_parsed *bundle, const json_t *jwk, size_t index,
	struct wd_error *err)
{
	const json_t *use_value;
	const char *use;
	bool x509;
	EVP_PKEY *key = NULL;
	int rc;

	if (!json_is_object(jwk))
		return wd_error_set(err, WD_EINVAL, "bundle keys[%zu] is not an object", index);
	use_value = json_object_get(jwk, "use");
	if (!json_is_string(use_value))
		return wd_error_set(err, WD_EINVAL, "bundle keys[%zu] has no use", index);
	if (!json_is_string(json_object_get(jwk, "kty")))
		return wd_error_set(err, WD_EINVAL, "bundle keys[%zu] has no kty", index);

	use = json_string_value(use_value);
	if (strcmp(use, "x509-svid") == 0)
		x509 = true;
	else if (strcmp(use, "jwt-svid") == 0)
		x509 = false;
	else
		return 0;

	rc = crypto_jwk_to_key(jwk, &key, err);
	if (rc == WD_EUNSUPPORTED) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0) {
		char detail[sizeof(err->detail)];

		if (err) {
			memcpy(detail, err->detail, sizeof(detail));
			wd_error_set(err, rc, "bundle keys[%zu]: %s", index, detail);
		}
		return rc;
	}

	if (x509)
		rc = add_x509_authority(bundle, jwk, key, index, err);
	else
		rc = add_jwt_authority(bundle, jwk, &key, index, err);
	EVP_PKEY_free(key);
	return rc;
}

/* Reads a non-negative integer member; absent leaves *ret_value at 0. */
static int non_negative_member(const json_t *root, const char *name, int64_t *ret_value,
	struct wd_error *err)
{
	const json_t *value = json_object_get(root, name);

	*ret_value = 0;
	if (!value)
		return 0;
	if (!json_is_integer(value) || json_integer_value(value) < 0)
		return wd_error_set(err, WD_EINVAL, "bundle %s is not a non-negative integer", name);
	*ret_value = json_integer_value(value);
	return 0;
}

int bundle_from_spiffe_json(const char *json, size_t len, struct bundle_parsed **ret_bundle,
	struct wd_error *err)
{
	struct bundle_parsed *bundle = NULL;
	json_t *root = NULL;
	const json_t *keys, *jwk;
	json_error_t json_err;
	int64_t sequence;
	size_t index;
	int rc;

	*ret_bundle = NULL;
	if (!json)
		return wd_error_set(err, WD_EINVAL, "no bundle JSON given");
	if (len > BUNDLE_MAX_JSON_LEN)
		return wd_error_set(err, WD_ETOOBIG, "bundle JSON is %zu bytes; the limit is %d", len,
			BUNDLE_MAX_JSON_LEN);

	/* NOTE: jansson rejects integers above 2^63 - 1 as invalid JSON, so a
	 * spiffe_sequence in the top half of the uint64 range cannot be read. */
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &json_err);
	if (!root)
		return wd_error_set(err, WD_EINVAL, "bundle is not valid JSON: %s at line %d",
			json_err.text, json_err.line);
	if (!json_is_object(root)) {
		rc = wd_error_set(err, WD_EINVAL, "bundle is not a JSON object");
		goto out;
	}

	keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		rc = wd_error_set(err, WD_EINVAL, "bundle has no \"keys\" array");
		goto out;
	}
	if (json_array_size(keys) > BUNDLE_MAX_KEYS) {
		rc = wd_error_set(err, WD_ETOOBIG, "bundle has %zu keys; the limit is %d",
			json_array_size(keys), BUNDLE_MAX_KEYS);
		goto out;
	}

	bundle = calloc(1, sizeof(*bundle));
	WD_ENSURE(bundle, WD_ENOMEM);
	bundle->x509_authorities = sk_X509_new_null();
	bundle->jwt_authorities = wd_calloc(json_array_size(keys), sizeof(struct jwt_authority));
	WD_ENSURE(bundle->x509_authorities && bundle->jwt_authorities, WD_ENOMEM);

	WD_GUARD(non_negative_member(root, "spiffe_sequence", &sequence, err));
	bundle->sequence = (uint64_t)sequence;
	WD_GUARD(non_negative_member(root, "spiffe_refresh_hint", &bundle->refresh_hint_seconds,
		err));

	json_array_foreach(keys, index, jwk) {
		WD_GUARD(parse_key(bundle, jwk, index, err));
	}

	*ret_bundle = WD_TAKE_PTR(bundle);
	rc = 0;
out:
	bundle_parsed_free(bundle);
	json_decref(root);
	return rc;
}
