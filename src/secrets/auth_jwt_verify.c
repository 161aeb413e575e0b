/* Signature checks of JWT logins: with the PEM keys of the mount's config
 * (any JWT, RFC 7515 compact form), or as a JWT-SVID of the trust domain
 * with jwtsvid_verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/encoding.h"
#include "crypto/jwk.h"
#include "identity/authority.h"
#include "identity/jwtsvid.h"
#include "identity/jwtsvid_alg.h"
#include "secrets/auth_jwt_internal.h"

/* One base64url part of a compact JWS. */
struct part {
	const char *text;
	size_t len;
};

static bool is_base64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static int invalid_token(struct wd_error *err, const char *reason)
{
	return wd_error_set(err, WD_EINVAL, "error validating token: %s", reason);
}

/* Splits header.payload.signature; only the base64url alphabet and two
 * dots may appear, which rejects the JSON serialization and padding. */
static int split_token(const char *token, size_t len, struct part parts[static 3],
	struct wd_error *err)
{
	size_t count = 0, start = 0;

	if (len > JWT_TOKEN_MAX)
		return invalid_token(err, "token is longer than 16384 bytes");
	for (size_t i = 0; i <= len; i++) {
		if (i < len && token[i] != '.') {
			if (!is_base64url(token[i]))
				return invalid_token(err, "token is not a compact JWS");
			continue;
		}
		if (count == 3 || i == start)
			return invalid_token(err, "token is not a compact JWS");
		parts[count].text = token + start;
		parts[count].len = i - start;
		count++;
		start = i + 1;
	}
	if (count != 3)
		return invalid_token(err, "token is not a compact JWS");
	return 0;
}

/* Decodes a part that contains a JSON object; duplicate names are rejected
 * so that no two parsers read different values from one token. */
static int decode_object(const struct part *part, const char *what, json_t **ret_obj,
	struct wd_error *err)
{
	uint8_t *data = NULL;
	size_t data_len = 0;
	json_t *obj;
	char reason[64];

	*ret_obj = NULL;
	snprintf(reason, sizeof(reason), "token %s is not a base64url JSON object", what);
	if (wd_base64url_decode(part->text, part->len, &data, &data_len) < 0)
		return invalid_token(err, reason);
	obj = json_loadb((const char *)data, data_len, JSON_REJECT_DUPLICATES, NULL);
	free(data);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return invalid_token(err, reason);
	}
	*ret_obj = obj;
	return 0;
}

int jwt_peek_claims(const char *token, size_t len, json_t **ret_claims, struct wd_error *err)
{
	struct part parts[3];

	*ret_claims = NULL;
	WD_TRY(split_token(token, len, parts, err));
	return decode_object(&parts[1], "claims", ret_claims, err);
}

/* Decodes the JOSE header without checking the signature. */
static int peek_header(const char *token, size_t len, json_t **ret_header,
	struct wd_error *err)
{
	struct part parts[3];

	*ret_header = NULL;
	WD_TRY(split_token(token, len, parts, err));
	return decode_object(&parts[0], "header", ret_header, err);
}

static bool alg_allowed(const struct jwt_config *config, const char *name)
{
	const json_t *item;
	size_t index;

	if (json_array_size(config->supported_algs) == 0)
		return jwtsvid_alg_find(name) != NULL;
	json_array_foreach(config->supported_algs, index, item) {
		if (json_is_string(item) && strcmp(json_string_value(item), name) == 0)
			return jwtsvid_alg_find(name) != NULL;
	}
	return false;
}

EVP_PKEY *jwt_public_key_parse(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;

	if (!bio)
		return NULL;
	key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!key) {
		(void)BIO_reset(bio);
		cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		key = cert ? X509_get_pubkey(cert) : NULL;
		X509_free(cert);
	}
	BIO_free(bio);
	ERR_clear_error();
	return key;
}

/* True when sig is a valid alg signature of input under key. ES signatures
 * arrive as r || s (RFC 7518 section 3.4) and are converted to DER. */
static bool signature_valid(const struct jwtsvid_alg *alg, EVP_PKEY *key, const char *input,
	size_t input_len, const uint8_t *sig, size_t sig_len)
{
	const struct crypto_ec_curve *curve;
	EVP_MD_CTX *md_ctx = NULL;
	EVP_PKEY_CTX *pkey_ctx = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	const uint8_t *checked = sig;
	size_t checked_len = sig_len;
	bool valid = false;

	if (alg->key_type == EVP_PKEY_EC) {
		if (crypto_ec_curve_of(key, &curve) < 0 || sig_len != 2 * curve->coordinate_size ||
		    crypto_ecdsa_sig_raw_to_der(sig, sig_len, curve->coordinate_size, &der,
			    &der_len) < 0)
			goto out;
		checked = der;
		checked_len = der_len;
	}

	md_ctx = EVP_MD_CTX_new();
	if (!md_ctx ||
	    EVP_DigestVerifyInit_ex(md_ctx, &pkey_ctx, alg->digest, NULL, NULL, key, NULL) != 1 ||
	    jwtsvid_alg_configure(alg, pkey_ctx) < 0)
		goto out;
	valid = EVP_DigestVerify(md_ctx, checked, checked_len, (const uint8_t *)input,
			input_len) == 1;
out:
	EVP_MD_CTX_free(md_ctx);
	free(der);
	ERR_clear_error();
	return valid;
}

/* Tries each configured key that fits alg. */
static bool any_key_verifies(const struct jwt_config *config, const struct jwtsvid_alg *alg,
	const char *input, size_t input_len, const uint8_t *sig, size_t sig_len)
{
	const json_t *item;
	size_t index;
	bool valid = false;

	json_array_foreach(config->pubkeys, index, item) {
		EVP_PKEY *key = json_is_string(item) ? jwt_public_key_parse(json_string_value(item)) : NULL;

		if (key && jwtsvid_alg_check_key(alg, key, NULL) == 0)
			valid = signature_valid(alg, key, input, input_len, sig, sig_len);
		EVP_PKEY_free(key);
		if (valid)
			break;
	}
	return valid;
}

static int check_header(const struct jwt_config *config, const json_t *header,
	const struct jwtsvid_alg **ret_alg, struct wd_error *err)
{
	const json_t *alg = json_object_get(header, "alg");
	char reason[96];

	*ret_alg = NULL;
	if (!json_is_string(alg))
		return invalid_token(err, "token header has no alg");
	if (!alg_allowed(config, json_string_value(alg))) {
		snprintf(reason, sizeof(reason), "unsupported signing algorithm \"%.32s\"",
			json_string_value(alg));
		return invalid_token(err, reason);
	}
	*ret_alg = jwtsvid_alg_find(json_string_value(alg));
	return 0;
}

int jwt_verify_with_keys(const struct jwt_config *config, const char *token, size_t len,
	json_t **ret_claims, struct wd_error *err)
{
	struct part parts[3];
	const struct jwtsvid_alg *alg;
	json_t *header = NULL;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	int rc;

	*ret_claims = NULL;
	WD_GUARD(split_token(token, len, parts, err));
	WD_GUARD(decode_object(&parts[0], "header", &header, err));
	WD_GUARD(check_header(config, header, &alg, err));
	WD_ENSURE(wd_base64url_decode(parts[2].text, parts[2].len, &sig, &sig_len) == 0,
		invalid_token(err, "token signature is not base64url"));

	/* The signature is checked before the claims are parsed. */
	WD_ENSURE(any_key_verifies(config, alg, token, parts[0].len + 1 + parts[1].len, sig,
			  sig_len),
		invalid_token(err, "no known key successfully validated the token signature"));
	WD_GUARD(decode_object(&parts[1], "claims", ret_claims, err));
	rc = 0;
out:
	free(sig);
	json_decref(header);
	return rc;
}

/* True when the aud claim (a string or a list of strings) contains name. */
static bool aud_contains(const json_t *aud, const char *name)
{
	const json_t *item;
	size_t index;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), name) == 0;
	json_array_foreach(aud, index, item) {
		if (json_is_string(item) && strcmp(json_string_value(item), name) == 0)
			return true;
	}
	return false;
}

static bool aud_present(const json_t *aud)
{
	return (json_is_string(aud) && json_string_length(aud) > 0) ||
	       (json_is_array(aud) && json_array_size(aud) > 0);
}

/* Picks the bound audience to verify with: the first that the token names,
 * else the first bound one, so that the verifier reports the mismatch. */
static const char *pick_audience(const struct jwt_role *role, const json_t *peeked)
{
	const json_t *aud = json_object_get(peeked, "aud");
	const json_t *item;
	size_t index;

	json_array_foreach(role->bound_audiences, index, item) {
		if (aud_contains(aud, json_string_value(item)))
			return json_string_value(item);
	}
	return json_string_value(json_array_get(role->bound_audiences, 0));
}

int jwt_verify_with_authorities(struct secrets *secrets, const struct jwt_config *config,
	const struct jwt_role *role, const char *token, size_t len, int64_t now,
	json_t **ret_claims, struct wd_error *err)
{
	struct jwt_authority *authorities = NULL;
	size_t authority_count = 0;
	struct jwtsvid_verified verified;
	struct wd_error verify_err = { 0 };
	const struct jwtsvid_alg *alg;
	json_t *header = NULL, *peeked = NULL;
	const char *audience;
	int rc;

	*ret_claims = NULL;
	WD_GUARD(peek_header(token, len, &header, err));
	WD_GUARD(check_header(config, header, &alg, err));
	WD_GUARD(jwt_peek_claims(token, len, &peeked, err));

	/* JWT-SVIDs always carry aud, so a role without bound audiences can
	 * accept none of them (Vault's rule for any JWT). */
	if (json_array_size(role->bound_audiences) == 0) {
		WD_ENSURE(!aud_present(json_object_get(peeked, "aud")),
			wd_error_set(err, WD_EINVAL,
				"audience claim found in JWT but no audiences bound to the role"));
		audience = "";
	} else {
		audience = pick_audience(role, peeked);
	}

	WD_ENSURE(secrets->authority,
		wd_error_set(err, WD_EUNAVAILABLE, "no JWT authorities to verify with"));
	WD_GUARD(authority_jwt_authorities(secrets->authority, &authorities, &authority_count,
		err));
	rc = jwtsvid_verify(token, len, authorities, authority_count, audience, now, &verified,
		&verify_err);
	if (rc == WD_EAUTH)
		WD_GUARD(invalid_token(err, "invalid audience (aud) claim: audience claim does not "
			"match any expected audience"));
	if (rc == WD_ENOMEM)
		WD_GUARD(wd_error_set(err, rc, "out of memory verifying a JWT"));
	if (rc < 0)
		WD_GUARD(invalid_token(err, wd_error_text(&verify_err)));

	/* Verified now, so the peeked claims are the signed ones. */
	*ret_claims = WD_TAKE_PTR(peeked);
	rc = 0;
out:
	authority_jwt_authorities_free(authorities, authority_count);
	json_decref(peeked);
	json_decref(header);
	return rc;
}
