/* Verification of the bearer tokens the proxy passes to the policy as
 * request.jwt: JWS compact serialization (RFC 7515 section 7.1), the
 * asymmetric algorithms of RFC 7518 section 3.1 and RFC 8037, then the exp,
 * nbf, iss and aud claims (RFC 7519 section 4.1). Signatures are checked
 * by the io.jwt builtins' key code, so the proxy and policies verify
 * alike. */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "common/encoding.h"
#include "proxy/jwt_internal.h"

/* Header and claim values are quoted up to this many bytes in details. */
#define QUOTE_MAX 64

/* The three base64url parts of a compact token. */
struct token_parts {
	const char *header, *payload, *signature;
	size_t header_len, payload_len, signature_len;
};

static int split_token(const char *token, size_t len, struct token_parts *ret_parts,
	struct wd_error *err)
{
	const char *first = memchr(token, '.', len);
	const char *second;

	if (!first)
		return wd_error_set(err, WD_EINVAL, "JWT has no \".\"; expected header.payload.signature");
	second = memchr(first + 1, '.', len - (size_t)(first + 1 - token));
	if (!second || memchr(second + 1, '.', len - (size_t)(second + 1 - token)))
		return wd_error_set(err, WD_EINVAL, "JWT does not have exactly 3 parts");

	ret_parts->header = token;
	ret_parts->header_len = (size_t)(first - token);
	ret_parts->payload = first + 1;
	ret_parts->payload_len = (size_t)(second - first - 1);
	ret_parts->signature = second + 1;
	ret_parts->signature_len = len - (size_t)(second + 1 - token);
	if (ret_parts->header_len == 0 || ret_parts->payload_len == 0 ||
	    ret_parts->signature_len == 0)
		return wd_error_set(err, WD_EINVAL, "JWT has an empty part");
	return 0;
}

/* Decodes a base64url part holding a JSON object. Duplicate member names
 * are rejected (RFC 7515 section 4 and RFC 7519 section 4 allow this), so
 * the policy and the upstream service cannot read different claims. */
static int decode_object(const char *text, size_t len, const char *what, json_t **ret_object,
	struct wd_error *err)
{
	uint8_t *data = NULL;
	size_t data_len = 0;
	json_error_t json_err;
	json_t *object;

	*ret_object = NULL;
	if (wd_base64url_decode(text, len, &data, &data_len) < 0)
		return wd_error_set(err, WD_EINVAL, "JWT %s is not valid base64url", what);
	object = json_loadb((const char *)data, data_len, JSON_REJECT_DUPLICATES, &json_err);
	free(data);
	if (!object)
		return wd_error_set(err, WD_EINVAL, "JWT %s is not valid JSON at byte %d", what,
			json_err.position);
	if (!json_is_object(object)) {
		json_decref(object);
		return wd_error_set(err, WD_EINVAL, "JWT %s is not a JSON object", what);
	}
	*ret_object = object;
	return 0;
}

/* Reads alg and kid. "crit" is rejected because the verifier understands
 * no extension (RFC 7515 section 4.1.11), which also rejects unencoded
 * payloads (RFC 7797). */
static int read_header(const json_t *header, const struct jwt_alg **ret_alg,
	const char **ret_kid, struct wd_error *err)
{
	const json_t *alg = json_object_get(header, "alg");
	const json_t *kid = json_object_get(header, "kid");
	const char *name;

	*ret_alg = NULL;
	*ret_kid = NULL;
	if (!json_is_string(alg))
		return wd_error_set(err, WD_EINVAL, "JWT header alg is missing or not a string");
	name = json_string_value(alg);
	*ret_alg = jwt_alg_find(name, json_string_length(alg));
	if (!*ret_alg || (*ret_alg)->kind == JWT_HMAC)
		return wd_error_set(err, WD_EINVAL,
			"JWT alg \"%.*s\" is not allowed; use RS, PS or ES 256/384/512 or EdDSA",
			QUOTE_MAX, name);
	if (json_object_get(header, "crit"))
		return wd_error_set(err, WD_EINVAL, "JWT header crit names an unsupported extension");
	if (kid && !json_is_string(kid))
		return wd_error_set(err, WD_EINVAL, "JWT header kid is not a string");
	*ret_kid = kid ? json_string_value(kid) : NULL;
	return 0;
}

/* RFC 7518 section 3.4 ties each ES algorithm to one curve. */
static bool curve_fits(const struct jwt_alg *alg, const EVP_PKEY *key)
{
	int bits;

	if (alg->kind != JWT_ECDSA)
		return true;
	bits = EVP_PKEY_get_bits(key);
	if (strcmp(alg->name, "ES256") == 0)
		return bits == 256;
	if (strcmp(alg->name, "ES384") == 0)
		return bits == 384;
	return bits == 521;
}

/* Tries the keys with kid (every key when kid is NULL) that suit alg.
 * Returns 1 when one verifies the signature, 0 when none does. */
static int check_signature(const struct jwt_key_snapshot *keys, const struct jwt_alg *alg,
	const char *kid, const char *token, const struct token_parts *parts, struct wd_error *err)
{
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	size_t input_len = parts->header_len + 1 + parts->payload_len;
	bool kid_found = false;
	int rc = 0;

	if (wd_base64url_decode(parts->signature, parts->signature_len, &sig, &sig_len) < 0)
		return wd_error_set(err, WD_EINVAL, "JWT signature is not valid base64url");

	for (size_t i = 0; i < keys->set.count && rc == 0; i++) {
		const struct jwt_key *key = &keys->set.keys[i];

		if (kid && (!key->kid || strcmp(key->kid, kid) != 0))
			continue;
		kid_found = true;
		if (key->alg[0] && strcmp(key->alg, alg->name) != 0)
			continue;
		if (!curve_fits(alg, key->pkey))
			continue;
		/* strict: r || s of exactly twice the curve size, PSS salt as long
		 * as the hash (RFC 7518 sections 3.4 and 3.5). */
		rc = jwt_verify(alg, key, (const uint8_t *)token, input_len, sig, sig_len, true);
	}
	free(sig);
	if (rc < 0)
		return rc;
	if (rc == 0 && kid && !kid_found)
		return wd_error_set(err, WD_ECRYPTO, "no JWKS key has kid \"%.*s\"", QUOTE_MAX, kid);
	if (rc == 0)
		return wd_error_set(err, WD_ECRYPTO, "JWT %s signature does not verify with any key%s",
			alg->name, kid ? " of its kid" : "");
	return 0;
}

/* Reads a NumericDate (RFC 7519 section 2); a fraction is dropped. */
static int numeric_date(const json_t *value, const char *claim, int64_t *ret_time,
	struct wd_error *err)
{
	double real;

	if (json_is_integer(value)) {
		*ret_time = json_integer_value(value);
		return 0;
	}
	if (json_is_real(value)) {
		real = json_real_value(value);
		/* 2^63 as a double; a larger value would overflow the cast. */
		if (isfinite(real) && real > -9223372036854775808.0 && real < 9223372036854775808.0) {
			*ret_time = (int64_t)real;
			return 0;
		}
	}
	return wd_error_set(err, WD_EINVAL, "JWT claim %s is not a NumericDate", claim);
}

static bool audience_listed(const struct proxy_jwt_verifier *verifier, const char *aud)
{
	for (size_t i = 0; i < verifier->audience_count; i++) {
		if (strcmp(verifier->audiences[i], aud) == 0)
			return true;
	}
	return false;
}

/* iss and aud, which do not change with time, so a cached token passed
 * them already. */
static int check_iss_aud(const struct proxy_jwt_verifier *verifier, const json_t *claims,
	struct wd_error *err)
{
	const json_t *iss = json_object_get(claims, "iss");
	const json_t *aud = json_object_get(claims, "aud");
	const json_t *item;
	size_t index;

	if (verifier->issuer &&
	    (!json_is_string(iss) || strcmp(json_string_value(iss), verifier->issuer) != 0))
		return wd_error_set(err, WD_EAUTH, "JWT claim iss is not \"%.*s\"", QUOTE_MAX,
			verifier->issuer);
	if (verifier->audience_count == 0)
		return 0;
	if (json_is_string(aud) && audience_listed(verifier, json_string_value(aud)))
		return 0;
	json_array_foreach(aud, index, item) {
		if (json_is_string(item) && audience_listed(verifier, json_string_value(item)))
			return 0;
	}
	return wd_error_set(err, WD_EAUTH, "JWT claim aud holds none of the configured audiences");
}

static int read_times(const json_t *claims, int64_t *ret_expires_at, int64_t *ret_not_before,
	struct wd_error *err)
{
	const json_t *exp = json_object_get(claims, "exp");
	const json_t *nbf = json_object_get(claims, "nbf");

	/* A bearer token without exp would be valid forever once leaked. */
	if (!exp)
		return wd_error_set(err, WD_EINVAL, "JWT claim exp is missing");
	WD_TRY(numeric_date(exp, "exp", ret_expires_at, err));
	*ret_not_before = INT64_MIN;
	if (nbf)
		WD_TRY(numeric_date(nbf, "nbf", ret_not_before, err));
	return 0;
}

static int check_times(const struct proxy_jwt_verifier *verifier, int64_t expires_at,
	int64_t not_before, int64_t now, struct wd_error *err)
{
	int64_t leeway = verifier->leeway_seconds;

	/* Saturating, for exp near INT64_MAX or nbf near INT64_MIN. */
	if (expires_at <= INT64_MAX - leeway && now >= expires_at + leeway)
		return wd_error_set(err, WD_EEXPIRED, "JWT expired at %lld (now %lld, leeway %lld s)",
			(long long)expires_at, (long long)now, (long long)leeway);
	if (not_before != INT64_MIN && not_before >= INT64_MIN + leeway &&
	    now < not_before - leeway)
		return wd_error_set(err, WD_EAUTH, "JWT is not valid before %lld (now %lld)",
			(long long)not_before, (long long)now);
	return 0;
}

/* The full check for a token not in the cache. */
static int verify_uncached(struct proxy_jwt_verifier *verifier,
	const struct jwt_key_snapshot *keys, const char *token, size_t len, int64_t now,
	struct rv **ret_claims, struct wd_error *err)
{
	struct token_parts parts = { 0 };
	json_t *header = NULL, *claims = NULL;
	const struct jwt_alg *alg;
	const char *kid;
	int64_t expires_at, not_before;
	struct rv *value = NULL;
	int rc;

	WD_GUARD(split_token(token, len, &parts, err));
	WD_GUARD(decode_object(parts.header, parts.header_len, "header", &header, err));
	WD_GUARD(read_header(header, &alg, &kid, err));

	/* The signature is checked before the payload is parsed, so nothing
	 * unauthenticated reaches the JSON parser beyond the header. */
	WD_GUARD(check_signature(keys, alg, kid, token, &parts, err));
	WD_GUARD(decode_object(parts.payload, parts.payload_len, "payload", &claims, err));
	WD_GUARD(read_times(claims, &expires_at, &not_before, err));
	WD_GUARD(check_iss_aud(verifier, claims, err));
	WD_GUARD(check_times(verifier, expires_at, not_before, now, err));

	value = rv_from_json(claims);
	WD_ENSURE(value, WD_ENOMEM);
	rv_freeze(value);
	proxy_jwt_cache_add(verifier, token, len, keys->generation, expires_at, not_before, value);
	*ret_claims = WD_TAKE_PTR(value);
	rc = 0;
out:
	rv_free_frozen(value);
	json_decref(claims);
	json_decref(header);
	return rc;
}

int proxy_jwt_verify(struct proxy_jwt_verifier *verifier, const char *token, size_t len,
	int64_t now, struct rv **ret_claims, struct wd_error *err)
{
	struct jwt_key_snapshot *keys;
	struct rv *claims;
	int64_t expires_at, not_before;
	int rc;

	*ret_claims = NULL;
	if (!verifier || !token)
		return wd_error_set(err, WD_EINVAL, "JWT verification needs a verifier and a token");
	if (len > PROXY_JWT_MAX_LEN)
		return wd_error_set(err, WD_ETOOBIG, "JWT is %zu bytes; the limit is %d", len,
			PROXY_JWT_MAX_LEN);

	keys = proxy_jwks_current(verifier);
	claims = proxy_jwt_cache_find(verifier, token, len, keys->generation, &expires_at,
		&not_before);
	if (claims) {
		rc = check_times(verifier, expires_at, not_before, now, err);
		if (rc < 0)
			rv_free_frozen(claims);
		else
			*ret_claims = claims;
	} else {
		rc = verify_uncached(verifier, keys, token, len, now, ret_claims, err);
	}
	proxy_jwks_unref(keys);
	return rc;
}
