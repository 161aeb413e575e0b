/* JWT-SVID verification per the JWT-SVID standard sections 2, 3 and 5.1:
 * compact JWS only, the nine RS/ES/PS algorithms, typ absent or JWT/JOSE,
 * no other header parameters, then sub, aud and exp. */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "crypto/jwk.h"
#include "identity/jwtsvid.h"
#include "identity/jwtsvid_alg.h"

/* Header and claim values are quoted up to this many bytes in details. */
#define QUOTE_MAX 64

/* One base64url part of the token. */
struct part {
	const char *text;
	size_t len;
};

static bool is_base64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Splits the compact serialization (RFC 7515 section 7.1) into its three
 * parts. Only the base64url alphabet and two dots may appear, which rejects
 * the JSON serialization, padding and whitespace before any decoding. */
static int split_token(const char *token, size_t len, struct part parts[static 3],
	struct wd_error *err)
{
	size_t dots = 0, start = 0;

	if (len > 0 && token[0] == '{')
		return wd_error_set(err, WD_EINVAL,
			"JWT-SVID uses the JWS JSON serialization; only the compact form is allowed");

	for (size_t i = 0; i < len; i++) {
		if (token[i] == '.') {
			dots++;
			continue;
		}
		if (!is_base64url_char(token[i]))
			return wd_error_set(err, WD_EINVAL,
				"JWT-SVID has byte 0x%02x at offset %zu outside the base64url alphabet",
				(unsigned char)token[i], i);
	}
	if (dots != 2)
		return wd_error_set(err, WD_EINVAL,
			"JWT-SVID has %zu parts; the JWS compact serialization has 3", dots + 1);

	for (size_t i = 0, n = 0; i <= len; i++) {
		if (i == len || token[i] == '.') {
			parts[n].text = token + start;
			parts[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	for (size_t n = 0; n < 3; n++) {
		if (parts[n].len == 0)
			return wd_error_set(err, WD_EINVAL, "JWT-SVID part %zu is empty", n + 1);
	}
	return 0;
}

/* Decodes a base64url part that contains a JSON object. Duplicate member
 * names are rejected, which RFC 7515 section 4 and RFC 7519 section 4 allow,
 * so no two parsers can read different values from one token. */
static int decode_object(const struct part *part, const char *what, json_t **ret_obj,
	struct wd_error *err)
{
	uint8_t *data = NULL;
	size_t data_len = 0;
	json_error_t json_err;
	json_t *obj;
	int rc;

	*ret_obj = NULL;
	rc = wd_base64url_decode(part->text, part->len, &data, &data_len);
	if (rc < 0)
		return wd_error_set(err, WD_EINVAL, "JWT-SVID %s is not valid base64url", what);

	obj = json_loadb((const char *)data, data_len, JSON_REJECT_DUPLICATES, &json_err);
	free(data);
	if (!obj)
		return wd_error_set(err, WD_EINVAL, "JWT-SVID %s is not valid JSON: %s", what,
			json_err.text);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return wd_error_set(err, WD_EINVAL, "JWT-SVID %s is not a JSON object", what);
	}
	*ret_obj = obj;
	return 0;
}

/* Checks the JOSE header and returns its alg and kid (borrowed from header). */
static int check_header(const json_t *header, const struct jwtsvid_alg **ret_alg,
	const char **ret_kid, struct wd_error *err)
{
	const char *name;
	const char *alg_name, *typ;
	const json_t *value;

	*ret_alg = NULL;
	*ret_kid = NULL;

	/* JWT-SVID standard section 2: alg, kid and typ only. */
	json_object_foreach((json_t *)header, name, value) {
		if (strcmp(name, "alg") != 0 && strcmp(name, "kid") != 0 && strcmp(name, "typ") != 0)
			return wd_error_set(err, WD_EINVAL,
				"JWT-SVID header parameter \"%.*s\" is not allowed", QUOTE_MAX, name);
	}

	value = json_object_get(header, "alg");
	if (!json_is_string(value))
		return wd_error_set(err, WD_EINVAL, "JWT-SVID header alg is missing or not a string");
	alg_name = json_string_value(value);
	if (strcmp(alg_name, "none") == 0)
		return wd_error_set(err, WD_EINVAL, "JWT-SVID alg \"none\" is not allowed");
	*ret_alg = jwtsvid_alg_find(alg_name);
	if (!*ret_alg)
		return wd_error_set(err, WD_EINVAL,
			"JWT-SVID alg \"%.*s\" is not one of RS, ES or PS 256/384/512", QUOTE_MAX,
			alg_name);

	value = json_object_get(header, "typ");
	if (value) {
		typ = json_is_string(value) ? json_string_value(value) : NULL;
		if (!typ || (strcmp(typ, "JWT") != 0 && strcmp(typ, "JOSE") != 0))
			return wd_error_set(err, WD_EINVAL,
				"JWT-SVID typ \"%.*s\" is not allowed; use JWT or JOSE", QUOTE_MAX,
				typ ? typ : "(not a string)");
	}

	/* The standard makes kid optional, but bundles index JWT authorities by
	 * kid (required there), so a token without one matches no key. */
	value = json_object_get(header, "kid");
	if (!json_is_string(value) || json_string_length(value) == 0)
		return wd_error_set(err, WD_EINVAL, "JWT-SVID header kid is missing or empty");
	*ret_kid = json_string_value(value);
	return 0;
}

static const struct jwt_authority *find_authority(const struct jwt_authority *authorities,
	size_t count, const char *kid)
{
	for (size_t i = 0; i < count; i++) {
		if (authorities[i].kid && authorities[i].key && strcmp(authorities[i].kid, kid) == 0)
			return &authorities[i];
	}
	return NULL;
}

/* Checks the JWS signature (RFC 7515 section 5.2) over the first two parts.
 * ES signatures arrive as r || s (RFC 7518 section 3.4), so they are
 * converted to the DER form OpenSSL verifies. */
static int check_signature(const struct jwtsvid_alg *alg, EVP_PKEY *key, const char *input,
	size_t input_len, const struct part *sig_part, struct wd_error *err)
{
	const struct crypto_ec_curve *curve;
	EVP_MD_CTX *md_ctx = NULL;
	EVP_PKEY_CTX *pkey_ctx = NULL;
	uint8_t *sig = NULL, *der = NULL;
	size_t sig_len = 0, der_len = 0;
	const uint8_t *checked;
	size_t checked_len;
	int rc;

	rc = wd_base64url_decode(sig_part->text, sig_part->len, &sig, &sig_len);
	if (rc < 0)
		return wd_error_set(err, WD_EINVAL, "JWT-SVID signature is not valid base64url");
	checked = sig;
	checked_len = sig_len;

	if (alg->key_type == EVP_PKEY_EC) {
		WD_GUARD(crypto_ec_curve_of(key, &curve));
		if (sig_len != 2 * curve->coordinate_size) {
			rc = wd_error_set(err, WD_ECRYPTO,
				"JWT-SVID %s signature is %zu bytes; expected %zu", alg->name, sig_len,
				2 * curve->coordinate_size);
			goto out;
		}
		WD_GUARD(crypto_ecdsa_sig_raw_to_der(sig, sig_len, curve->coordinate_size, &der,
			&der_len));
		checked = der;
		checked_len = der_len;
	}

	md_ctx = EVP_MD_CTX_new();
	WD_ENSURE(md_ctx, WD_ENOMEM);
	WD_ENSURE(EVP_DigestVerifyInit_ex(md_ctx, &pkey_ctx, alg->digest, NULL, NULL, key, NULL) ==
			  1,
		WD_EINTERNAL);
	WD_GUARD(jwtsvid_alg_configure(alg, pkey_ctx));
	if (EVP_DigestVerify(md_ctx, checked, checked_len, (const uint8_t *)input, input_len) !=
	    1) {
		rc = wd_error_set(err, WD_ECRYPTO, "JWT-SVID %s signature is invalid", alg->name);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(md_ctx);
	free(der);
	free(sig);
	return rc;
}

/* Reads a NumericDate (RFC 7519 section 2): seconds since the epoch, an
 * integer or a finite number whose fraction is dropped. */
static int numeric_date(const json_t *value, const char *claim, int64_t *ret_time,
	struct wd_error *err)
{
	double real;

	*ret_time = 0;
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
	return wd_error_set(err, WD_EINVAL, "JWT-SVID claim %s is not a NumericDate", claim);
}

/* True when aud (a string or an array of strings, RFC 7519 section 4.1.3)
 * contains audience; WD_EINVAL for any other shape. */
static int audience_matches(const json_t *aud, const char *audience, bool *ret_match,
	struct wd_error *err)
{
	const json_t *item;
	size_t index;

	*ret_match = false;
	if (json_is_string(aud)) {
		*ret_match = strcmp(json_string_value(aud), audience) == 0;
		return 0;
	}
	if (!json_is_array(aud) || json_array_size(aud) == 0)
		return wd_error_set(err, WD_EINVAL,
			"JWT-SVID claim aud is missing or not a string or non-empty array");
	json_array_foreach(aud, index, item) {
		if (!json_is_string(item))
			return wd_error_set(err, WD_EINVAL, "JWT-SVID claim aud[%zu] is not a string",
				index);
		if (strcmp(json_string_value(item), audience) == 0)
			*ret_match = true;
	}
	return 0;
}

static int check_claims(const json_t *claims, const char *audience, int64_t now,
	struct jwtsvid_verified *ret_verified, struct wd_error *err)
{
	struct jwtsvid_verified verified = { 0 };
	struct wd_error id_err = { 0 };
	const json_t *value;
	bool match;
	int rc;

	value = json_object_get(claims, "sub");
	if (!json_is_string(value))
		return wd_error_set(err, WD_EINVAL, "JWT-SVID claim sub is missing or not a string");
	rc = spiffe_id_parse(json_string_value(value), json_string_length(value),
		&verified.subject, &id_err);
	if (rc < 0)
		return wd_error_set(err, rc, "JWT-SVID claim sub: %s", wd_error_text(&id_err));

	WD_TRY(audience_matches(json_object_get(claims, "aud"), audience, &match, err));
	if (!match)
		return wd_error_set(err, WD_EAUTH, "JWT-SVID claim aud does not contain \"%.*s\"",
			QUOTE_MAX, audience);

	value = json_object_get(claims, "exp");
	if (!value)
		return wd_error_set(err, WD_EINVAL, "JWT-SVID claim exp is missing");
	WD_TRY(numeric_date(value, "exp", &verified.expires_at, err));
	if (verified.expires_at <= now)
		return wd_error_set(err, WD_EEXPIRED, "JWT-SVID expired at %lld (now %lld)",
			(long long)verified.expires_at, (long long)now);

	value = json_object_get(claims, "iat");
	if (value)
		WD_TRY(numeric_date(value, "iat", &verified.issued_at, err));

	*ret_verified = verified;
	return 0;
}

int jwtsvid_verify(const char *token, size_t len, const struct jwt_authority *authorities,
	size_t authority_count, const char *audience, int64_t now,
	struct jwtsvid_verified *ret_verified, struct wd_error *err)
{
	struct part parts[3];
	json_t *header = NULL, *claims = NULL;
	const struct jwtsvid_alg *alg;
	const struct jwt_authority *authority;
	const char *kid;
	struct jwtsvid_verified verified;
	int rc;

	memset(ret_verified, 0, sizeof(*ret_verified));
	if (!token || !audience || (!authorities && authority_count > 0))
		return wd_error_set(err, WD_EINVAL, "JWT-SVID verification needs a token and audience");
	if (len > JWTSVID_MAX_TOKEN_LEN)
		return wd_error_set(err, WD_ETOOBIG, "JWT-SVID is %zu bytes; the limit is %d", len,
			JWTSVID_MAX_TOKEN_LEN);

	WD_GUARD(split_token(token, len, parts, err));
	WD_GUARD(decode_object(&parts[0], "header", &header, err));
	WD_GUARD(check_header(header, &alg, &kid, err));

	authority = find_authority(authorities, authority_count, kid);
	if (!authority) {
		rc = wd_error_set(err, WD_ENOTFOUND, "no JWT authority has kid \"%.*s\"", QUOTE_MAX,
			kid);
		goto out;
	}
	WD_GUARD(jwtsvid_alg_check_key(alg, authority->key, err));

	/* The signature is checked before the claims are read, so nothing in an
	 * unauthenticated payload reaches the JSON parser. */
	WD_GUARD(check_signature(alg, authority->key, token,
		parts[0].len + 1 + parts[1].len, &parts[2], err));
	WD_GUARD(decode_object(&parts[1], "claims", &claims, err));
	WD_GUARD(check_claims(claims, audience, now, &verified, err));

	*ret_verified = verified;
	rc = 0;
out:
	json_decref(claims);
	json_decref(header);
	return rc;
}
