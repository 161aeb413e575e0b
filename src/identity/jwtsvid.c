/* JWT-SVID signing (JWT-SVID standard section 3, JWS compact serialization
 * of RFC 7515 section 7.1), key ids, and the JWS algorithm table. */
#include <string.h>

#include <jansson.h>
#include <openssl/rsa.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "crypto/jwk.h"
#include "identity/jwtsvid.h"
#include "identity/jwtsvid_alg.h"

/* SPIFFE-ID.md section 2: "spiffe://", a trust domain and a path. */
#define SPIFFE_ID_TEXT_MAX (sizeof("spiffe://") + SPIFFE_TRUST_DOMAIN_MAX_LEN + SPIFFE_ID_MAX_LEN)

static const struct jwtsvid_alg alg_table[] = {
	{ "RS256", EVP_PKEY_RSA, NULL, "SHA256", false },
	{ "RS384", EVP_PKEY_RSA, NULL, "SHA384", false },
	{ "RS512", EVP_PKEY_RSA, NULL, "SHA512", false },
	{ "PS256", EVP_PKEY_RSA, NULL, "SHA256", true },
	{ "PS384", EVP_PKEY_RSA, NULL, "SHA384", true },
	{ "PS512", EVP_PKEY_RSA, NULL, "SHA512", true },
	{ "ES256", EVP_PKEY_EC, "P-256", "SHA256", false },
	{ "ES384", EVP_PKEY_EC, "P-384", "SHA384", false },
	{ "ES512", EVP_PKEY_EC, "P-521", "SHA512", false },
};

const struct jwtsvid_alg *jwtsvid_alg_find(const char *name)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(alg_table); i++) {
		if (strcmp(alg_table[i].name, name) == 0)
			return &alg_table[i];
	}
	return NULL;
}

int jwtsvid_alg_check_key(const struct jwtsvid_alg *alg, const EVP_PKEY *key,
	struct wd_error *err)
{
	const struct crypto_ec_curve *curve;
	int bits;

	if (EVP_PKEY_get_base_id(key) != alg->key_type)
		return wd_error_set(err, WD_ECRYPTO, "alg \"%s\" does not match the %s key", alg->name,
			EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown");

	if (alg->key_type == EVP_PKEY_EC) {
		if (crypto_ec_curve_of(key, &curve) < 0 || strcmp(curve->jwk_name, alg->curve) != 0)
			return wd_error_set(err, WD_ECRYPTO, "alg \"%s\" needs a %s key", alg->name,
				alg->curve);
		return 0;
	}

	bits = EVP_PKEY_get_bits(key);
	if (bits < CRYPTO_JWK_RSA_MIN_BITS || bits > CRYPTO_JWK_RSA_MAX_BITS)
		return wd_error_set(err, WD_ECRYPTO, "alg \"%s\" needs an RSA key of %d to %d bits, "
			"not %d", alg->name, CRYPTO_JWK_RSA_MIN_BITS, CRYPTO_JWK_RSA_MAX_BITS, bits);
	return 0;
}

int jwtsvid_alg_configure(const struct jwtsvid_alg *alg, EVP_PKEY_CTX *pkey_ctx)
{
	if (alg->key_type != EVP_PKEY_RSA)
		return 0;

	/* RFC 7518 section 3.5: PS* use MGF1 with the same hash (OpenSSL's
	 * default) and a salt as long as the hash output. */
	if (alg->pss) {
		if (EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST) != 1)
			return WD_EINTERNAL;
		return 0;
	}
	return EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PADDING) == 1 ? 0 : WD_EINTERNAL;
}

/* Picks the algorithm for key: ES256/ES384/ES512 by curve, RS256 or PS256
 * by rsa_alg for RSA. */
static int alg_for_key(const EVP_PKEY *key, enum jwtsvid_rsa_alg rsa_alg,
	const struct jwtsvid_alg **ret_alg, struct wd_error *err)
{
	const struct crypto_ec_curve *curve;
	const char *name;
	int rc;

	*ret_alg = NULL;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		if (crypto_ec_curve_of(key, &curve) < 0)
			return wd_error_set(err, WD_EUNSUPPORTED,
				"unsupported EC curve for a JWT-SVID: use P-256, P-384 or P-521");
		name = curve->coordinate_size == 32 ? "ES256" :
		       curve->coordinate_size == 48 ? "ES384" : "ES512";
		break;
	case EVP_PKEY_RSA:
		if (rsa_alg != JWTSVID_RS256 && rsa_alg != JWTSVID_PS256)
			return wd_error_set(err, WD_EINVAL, "unknown RSA algorithm choice %d",
				(int)rsa_alg);
		name = rsa_alg == JWTSVID_PS256 ? "PS256" : "RS256";
		break;
	default:
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported key type %s for a JWT-SVID",
			EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown");
	}

	*ret_alg = jwtsvid_alg_find(name);
	rc = jwtsvid_alg_check_key(*ret_alg, key, err);
	if (rc < 0)
		*ret_alg = NULL;
	return rc;
}

static int check_claims_in(const struct jwtsvid_claims_in *claims, struct wd_error *err)
{
	if (!claims || !claims->subject)
		return wd_error_set(err, WD_EINVAL, "JWT-SVID claims need a subject");
	if (!claims->audience || claims->audience_count == 0)
		return wd_error_set(err, WD_EINVAL, "JWT-SVID claims need at least one audience");
	for (size_t i = 0; i < claims->audience_count; i++) {
		if (!claims->audience[i] || claims->audience[i][0] == '\0')
			return wd_error_set(err, WD_EINVAL, "JWT-SVID audience %zu is empty", i);
	}
	if (claims->issued_at < 0 || claims->expires_at <= claims->issued_at)
		return wd_error_set(err, WD_EINVAL,
			"JWT-SVID expiry %lld must be after its issue time %lld (Unix seconds)",
			(long long)claims->expires_at, (long long)claims->issued_at);
	return 0;
}

/* Builds the claims set: sub, aud (a string for one audience as the
 * JWT-SVID standard recommends, else an array), exp and iat. */
static int build_claims(const struct jwtsvid_claims_in *claims, json_t **ret_claims,
	struct wd_error *err)
{
	char subject[SPIFFE_ID_TEXT_MAX];
	json_t *obj = NULL, *aud = NULL;
	int rc;

	*ret_claims = NULL;
	rc = spiffe_id_format(claims->subject, subject, sizeof(subject));
	if (rc < 0)
		return wd_error_set(err, rc, "JWT-SVID subject does not fit in a SPIFFE ID");

	obj = json_object();
	WD_ENSURE(obj, WD_ENOMEM);
	if (claims->audience_count == 1) {
		aud = json_string(claims->audience[0]);
	} else {
		aud = json_array();
		for (size_t i = 0; aud && i < claims->audience_count; i++) {
			if (json_array_append_new(aud, json_string(claims->audience[i])) != 0) {
				rc = wd_error_set(err, WD_EINVAL,
					"JWT-SVID audience %zu is not valid UTF-8", i);
				goto out;
			}
		}
	}
	if (!aud) {
		rc = wd_error_set(err, WD_EINVAL, "JWT-SVID audience is not valid UTF-8");
		goto out;
	}

	WD_ENSURE(json_object_set_new(obj, "aud", WD_TAKE_PTR(aud)) == 0 &&
			  json_object_set_new(obj, "sub", json_string(subject)) == 0 &&
			  json_object_set_new(obj, "exp", json_integer(claims->expires_at)) == 0 &&
			  json_object_set_new(obj, "iat", json_integer(claims->issued_at)) == 0,
		WD_ENOMEM);

	*ret_claims = WD_TAKE_PTR(obj);
	rc = 0;
out:
	json_decref(aud);
	json_decref(obj);
	return rc;
}

/* Serializes obj with sorted keys and no whitespace, and base64url-encodes
 * it as one JWS part. */
static int encode_part(const json_t *obj, char **ret_part)
{
	char *text;
	int rc;

	*ret_part = NULL;
	text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return WD_ENOMEM;
	rc = wd_base64url_encode((const uint8_t *)text, strlen(text), ret_part);
	free(text);
	return rc;
}

/* Signs input with key under alg and returns the JWS signature bytes: r || s
 * for ES algorithms (RFC 7518 section 3.4), the RSA signature otherwise. */
static int sign_input(const struct jwtsvid_alg *alg, EVP_PKEY *key, const char *input,
	size_t input_len, uint8_t **ret_sig, size_t *ret_sig_len)
{
	const struct crypto_ec_curve *curve;
	EVP_MD_CTX *md_ctx = NULL;
	EVP_PKEY_CTX *pkey_ctx = NULL;
	uint8_t *sig = NULL, *raw = NULL;
	size_t sig_len = 0;
	int rc;

	*ret_sig = NULL;
	*ret_sig_len = 0;
	md_ctx = EVP_MD_CTX_new();
	WD_ENSURE(md_ctx, WD_ENOMEM);
	WD_ENSURE(EVP_DigestSignInit_ex(md_ctx, &pkey_ctx, alg->digest, NULL, NULL, key, NULL) ==
			  1,
		WD_ECRYPTO);
	WD_GUARD(jwtsvid_alg_configure(alg, pkey_ctx));

	WD_ENSURE(EVP_DigestSign(md_ctx, NULL, &sig_len, (const uint8_t *)input, input_len) == 1,
		WD_ECRYPTO);
	sig = malloc(sig_len);
	WD_ENSURE(sig, WD_ENOMEM);
	WD_ENSURE(EVP_DigestSign(md_ctx, sig, &sig_len, (const uint8_t *)input, input_len) == 1,
		WD_ECRYPTO);

	if (alg->key_type == EVP_PKEY_EC) {
		WD_GUARD(crypto_ec_curve_of(key, &curve));
		raw = malloc(2 * curve->coordinate_size);
		WD_ENSURE(raw, WD_ENOMEM);
		WD_GUARD(crypto_ecdsa_sig_der_to_raw(sig, sig_len, curve->coordinate_size, raw,
			2 * curve->coordinate_size));
		free(sig);
		sig = WD_TAKE_PTR(raw);
		sig_len = 2 * curve->coordinate_size;
	}

	*ret_sig = WD_TAKE_PTR(sig);
	*ret_sig_len = sig_len;
	rc = 0;
out:
	free(raw);
	free(sig);
	EVP_MD_CTX_free(md_ctx);
	return rc;
}

/* Joins a and b with a dot into a new string. */
static char *join_dot(const char *a, const char *b)
{
	size_t a_len = strlen(a), b_len = strlen(b);
	char *joined = malloc(a_len + 1 + b_len + 1);

	if (!joined)
		return NULL;
	memcpy(joined, a, a_len);
	joined[a_len] = '.';
	memcpy(joined + a_len + 1, b, b_len + 1);
	return joined;
}

int jwtsvid_sign(EVP_PKEY *key, const char *kid, enum jwtsvid_rsa_alg rsa_alg,
	const struct jwtsvid_claims_in *claims, char **ret_token, struct wd_error *err)
{
	const struct jwtsvid_alg *alg;
	json_t *header = NULL, *payload = NULL;
	char *header_part = NULL, *payload_part = NULL, *input = NULL, *sig_part = NULL;
	char *token = NULL;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	int rc;

	*ret_token = NULL;
	if (!key)
		return wd_error_set(err, WD_EINVAL, "no signing key given");
	if (!kid || kid[0] == '\0')
		return wd_error_set(err, WD_EINVAL, "JWT-SVID kid is empty");
	WD_GUARD(check_claims_in(claims, err));
	WD_GUARD(alg_for_key(key, rsa_alg, &alg, err));

	/* Only the parameters JWT-SVID standard section 2 allows: alg, kid and
	 * typ "JWT". */
	header = json_pack("{s:s, s:s, s:s}", "alg", alg->name, "kid", kid, "typ", "JWT");
	if (!header) {
		rc = wd_error_set(err, WD_EINVAL, "JWT-SVID kid is not valid UTF-8");
		goto out;
	}
	WD_GUARD(build_claims(claims, &payload, err));

	WD_GUARD(encode_part(header, &header_part));
	WD_GUARD(encode_part(payload, &payload_part));
	input = join_dot(header_part, payload_part);
	WD_ENSURE(input, WD_ENOMEM);

	rc = sign_input(alg, key, input, strlen(input), &sig, &sig_len);
	if (rc < 0) {
		wd_error_set(err, rc, "signing the JWT-SVID with %s failed", alg->name);
		goto out;
	}
	WD_GUARD(wd_base64url_encode(sig, sig_len, &sig_part));
	token = join_dot(input, sig_part);
	WD_ENSURE(token, WD_ENOMEM);

	if (strlen(token) > JWTSVID_MAX_TOKEN_LEN) {
		rc = wd_error_set(err, WD_ETOOBIG,
			"JWT-SVID would be %zu bytes; verifiers accept at most %d", strlen(token),
			JWTSVID_MAX_TOKEN_LEN);
		goto out;
	}

	*ret_token = WD_TAKE_PTR(token);
	rc = 0;
out:
	free(token);
	free(sig_part);
	free(sig);
	free(input);
	free(payload_part);
	free(header_part);
	json_decref(payload);
	json_decref(header);
	return rc;
}

int jwtsvid_key_id(EVP_PKEY *key, char *out, size_t out_len)
{
	return crypto_jwk_thumbprint(key, out, out_len);
}
