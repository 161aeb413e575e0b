/* Public EC and RSA keys as JWKs (RFC 7518 section 6), their RFC 7638
 * thumbprints, and ECDSA signatures as DER or JWS r || s. */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "crypto/jwk.h"

#define EC_MAX_COORDINATE_SIZE 66

struct curve_entry {
	struct crypto_ec_curve curve;
	int nid;
};

static const struct curve_entry curve_table[] = {
	{ { "P-256", "prime256v1", 32 }, NID_X9_62_prime256v1 },
	{ { "P-384", "secp384r1", 48 }, NID_secp384r1 },
	{ { "P-521", "secp521r1", 66 }, NID_secp521r1 },
};

static const struct crypto_ec_curve *curve_by_jwk_name(const char *name)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(curve_table); i++) {
		if (strcmp(curve_table[i].curve.jwk_name, name) == 0)
			return &curve_table[i].curve;
	}
	return NULL;
}

int crypto_ec_curve_of(const EVP_PKEY *key, const struct crypto_ec_curve **ret_curve)
{
	char group[64];
	int nid;

	*ret_curve = NULL;
	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		return WD_EUNSUPPORTED;
	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
		    sizeof(group), NULL) != 1)
		return WD_EUNSUPPORTED;

	/* OpenSSL reports short names ("prime256v1"); NIST names ("P-256") are
	 * mapped too. */
	nid = OBJ_sn2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	for (size_t i = 0; i < WD_ARRAY_LEN(curve_table); i++) {
		if (curve_table[i].nid == nid) {
			*ret_curve = &curve_table[i].curve;
			return 0;
		}
	}
	return WD_EUNSUPPORTED;
}

/* Sets member name of obj to the base64url of len bytes at data. */
static int set_base64url(json_t *obj, const char *name, const uint8_t *data, size_t len)
{
	char *text = NULL;
	int rc;

	rc = wd_base64url_encode(data, len, &text);
	if (rc < 0)
		return rc;
	rc = json_object_set_new(obj, name, json_string(text)) == 0 ? 0 : WD_ENOMEM;
	free(text);
	return rc;
}

/* Sets member name to the base64url of bn, big-endian: left-padded to width
 * bytes, or in the fewest bytes (RFC 7518 section 2, Base64urlUInt) when
 * width is 0. */
static int set_bignum(json_t *obj, const char *name, const BIGNUM *bn, size_t width)
{
	uint8_t *bytes = NULL;
	size_t len;
	int rc;

	len = width ? width : (size_t)BN_num_bytes(bn);
	if (len == 0)
		len = 1;
	bytes = wd_calloc(len, 1);
	if (!bytes)
		return WD_ENOMEM;
	if (BN_bn2binpad(bn, bytes, (int)len) < 0) {
		free(bytes);
		return WD_EINTERNAL;
	}
	rc = set_base64url(obj, name, bytes, len);
	free(bytes);
	return rc;
}

static int ec_members(const EVP_PKEY *key, json_t *jwk, struct wd_error *err)
{
	const struct crypto_ec_curve *curve;
	BIGNUM *x = NULL, *y = NULL;
	int rc;

	rc = crypto_ec_curve_of(key, &curve);
	if (rc < 0) {
		wd_error_set(err, rc, "unsupported EC curve: JWKs here use P-256, P-384 or P-521");
		goto out;
	}
	WD_ENSURE(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
			  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1,
		WD_EINTERNAL);

	WD_ENSURE(json_object_set_new(jwk, "kty", json_string("EC")) == 0, WD_ENOMEM);
	WD_ENSURE(json_object_set_new(jwk, "crv", json_string(curve->jwk_name)) == 0, WD_ENOMEM);
	WD_GUARD(set_bignum(jwk, "x", x, curve->coordinate_size));
	WD_GUARD(set_bignum(jwk, "y", y, curve->coordinate_size));
out:
	BN_free(x);
	BN_free(y);
	return rc;
}

static int rsa_members(const EVP_PKEY *key, json_t *jwk)
{
	BIGNUM *n = NULL, *e = NULL;
	int rc;

	WD_ENSURE(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
			  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1,
		WD_EINTERNAL);

	WD_ENSURE(json_object_set_new(jwk, "kty", json_string("RSA")) == 0, WD_ENOMEM);
	WD_GUARD(set_bignum(jwk, "n", n, 0));
	WD_GUARD(set_bignum(jwk, "e", e, 0));
out:
	BN_free(n);
	BN_free(e);
	return rc;
}

int crypto_jwk_from_key(const EVP_PKEY *key, json_t **ret_jwk, struct wd_error *err)
{
	json_t *jwk = NULL;
	int rc;

	*ret_jwk = NULL;
	if (!key)
		return wd_error_set(err, WD_EINVAL, "no key given");

	jwk = json_object();
	WD_ENSURE(jwk, WD_ENOMEM);
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		WD_GUARD(ec_members(key, jwk, err));
		break;
	case EVP_PKEY_RSA:
		WD_GUARD(rsa_members(key, jwk));
		break;
	default:
		rc = wd_error_set(err, WD_EUNSUPPORTED, "unsupported key type %s for a JWK",
			EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "(unknown)");
		goto out;
	}

	*ret_jwk = WD_TAKE_PTR(jwk);
	rc = 0;
out:
	json_decref(jwk);
	return rc;
}

/* Decodes the base64url string member name of jwk into ret_data. */
static int get_base64url(const json_t *jwk, const char *name, uint8_t **ret_data,
	size_t *ret_len, struct wd_error *err)
{
	const json_t *value = json_object_get(jwk, name);
	int rc;

	if (!json_is_string(value))
		return wd_error_set(err, WD_EINVAL, "JWK member \"%s\" is missing or not a string",
			name);
	rc = wd_base64url_decode(json_string_value(value), json_string_length(value), ret_data,
		ret_len);
	if (rc < 0)
		return wd_error_set(err, WD_EINVAL, "JWK member \"%s\" is not valid base64url", name);
	if (*ret_len == 0) {
		free(*ret_data);
		*ret_data = NULL;
		return wd_error_set(err, WD_EINVAL, "JWK member \"%s\" is empty", name);
	}
	return 0;
}

/* Builds a public key of type from params and runs OpenSSL's public key
 * check, which for EC rejects a point off the curve or at infinity. */
static int key_from_params(const char *type, OSSL_PARAM *params, EVP_PKEY **ret_key)
{
	EVP_PKEY_CTX *ctx = NULL, *check_ctx = NULL;
	EVP_PKEY *key = NULL;
	int rc;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	WD_ENSURE(ctx, WD_ENOMEM);
	WD_ENSURE(EVP_PKEY_fromdata_init(ctx) == 1, WD_EINTERNAL);
	WD_ENSURE(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1, WD_EINVAL);

	check_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	WD_ENSURE(check_ctx, WD_ENOMEM);
	WD_ENSURE(EVP_PKEY_public_check(check_ctx) == 1, WD_EINVAL);

	*ret_key = WD_TAKE_PTR(key);
	rc = 0;
out:
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(check_ctx);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static int ec_key_from_jwk(const json_t *jwk, EVP_PKEY **ret_key, struct wd_error *err)
{
	const json_t *crv = json_object_get(jwk, "crv");
	const struct crypto_ec_curve *curve;
	uint8_t *x = NULL, *y = NULL;
	size_t x_len = 0, y_len = 0;
	uint8_t point[1 + 2 * EC_MAX_COORDINATE_SIZE];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	int rc;

	if (!json_is_string(crv))
		return wd_error_set(err, WD_EINVAL, "JWK member \"crv\" is missing or not a string");
	curve = curve_by_jwk_name(json_string_value(crv));
	if (!curve)
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported JWK crv \"%.32s\"",
			json_string_value(crv));

	WD_GUARD(get_base64url(jwk, "x", &x, &x_len, err));
	WD_GUARD(get_base64url(jwk, "y", &y, &y_len, err));

	/* RFC 7518 section 6.2.1.2: each coordinate is the full size for the
	 * curve, so a shorter or longer value is malformed. */
	if (x_len != curve->coordinate_size || y_len != curve->coordinate_size) {
		rc = wd_error_set(err, WD_EINVAL,
			"JWK x and y are %zu and %zu bytes; curve %s needs %zu each", x_len, y_len,
			curve->jwk_name, curve->coordinate_size);
		goto out;
	}

	/* SEC 1 section 2.3.3 uncompressed point: 0x04 || x || y. */
	point[0] = 0x04;
	memcpy(point + 1, x, x_len);
	memcpy(point + 1 + x_len, y, y_len);

	bld = OSSL_PARAM_BLD_new();
	WD_ENSURE(bld, WD_ENOMEM);
	WD_ENSURE(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
			  curve->group_name, 0) == 1 &&
			  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
				  1 + x_len + y_len) == 1,
		WD_ENOMEM);
	params = OSSL_PARAM_BLD_to_param(bld);
	WD_ENSURE(params, WD_ENOMEM);

	rc = key_from_params("EC", params, ret_key);
	if (rc == WD_EINVAL)
		wd_error_set(err, rc, "JWK EC point is not on curve %s", curve->jwk_name);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return rc;
}

static int rsa_key_from_jwk(const json_t *jwk, EVP_PKEY **ret_key, struct wd_error *err)
{
	uint8_t *n_bytes = NULL, *e_bytes = NULL;
	size_t n_len = 0, e_len = 0;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	int bits;
	int rc;

	WD_GUARD(get_base64url(jwk, "n", &n_bytes, &n_len, err));
	WD_GUARD(get_base64url(jwk, "e", &e_bytes, &e_len, err));
	if (n_len > CRYPTO_JWK_RSA_MAX_BITS / 8 + 1 || e_len > 8) {
		rc = wd_error_set(err, WD_EINVAL, "JWK RSA n (%zu bytes) or e (%zu bytes) is too long",
			n_len, e_len);
		goto out;
	}

	n = BN_bin2bn(n_bytes, (int)n_len, NULL);
	e = BN_bin2bn(e_bytes, (int)e_len, NULL);
	WD_ENSURE(n && e, WD_ENOMEM);
	bits = BN_num_bits(n);
	if (bits < CRYPTO_JWK_RSA_MIN_BITS || bits > CRYPTO_JWK_RSA_MAX_BITS) {
		rc = wd_error_set(err, WD_EINVAL, "JWK RSA modulus has %d bits; %d to %d are accepted",
			bits, CRYPTO_JWK_RSA_MIN_BITS, CRYPTO_JWK_RSA_MAX_BITS);
		goto out;
	}

	bld = OSSL_PARAM_BLD_new();
	WD_ENSURE(bld, WD_ENOMEM);
	WD_ENSURE(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
			  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1,
		WD_ENOMEM);
	params = OSSL_PARAM_BLD_to_param(bld);
	WD_ENSURE(params, WD_ENOMEM);

	rc = key_from_params("RSA", params, ret_key);
	if (rc == WD_EINVAL)
		wd_error_set(err, rc, "JWK RSA public key is invalid (OpenSSL's check of n and e failed)");
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(n_bytes);
	free(e_bytes);
	return rc;
}

int crypto_jwk_to_key(const json_t *jwk, EVP_PKEY **ret_key, struct wd_error *err)
{
	const json_t *kty;
	const char *type;

	*ret_key = NULL;
	if (!json_is_object(jwk))
		return wd_error_set(err, WD_EINVAL, "JWK is not a JSON object");

	/* "d" is the private exponent (RSA) or scalar (EC), RFC 7518 sections
	 * 6.2.2.1 and 6.3.2.1: a public JWK that carries it leaks a key. */
	if (json_object_get(jwk, "d"))
		return wd_error_set(err, WD_EINVAL, "JWK holds private key member \"d\"");

	kty = json_object_get(jwk, "kty");
	if (!json_is_string(kty))
		return wd_error_set(err, WD_EINVAL, "JWK member \"kty\" is missing or not a string");
	type = json_string_value(kty);
	if (strcmp(type, "EC") == 0)
		return ec_key_from_jwk(jwk, ret_key, err);
	if (strcmp(type, "RSA") == 0)
		return rsa_key_from_jwk(jwk, ret_key, err);
	return wd_error_set(err, WD_EUNSUPPORTED, "unsupported JWK kty \"%.32s\"", type);
}

int crypto_jwk_thumbprint(const EVP_PKEY *key, char *out, size_t out_len)
{
	json_t *jwk = NULL;
	char *canonical = NULL;
	char *text = NULL;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	int rc;

	if (out && out_len > 0)
		out[0] = '\0';
	if (!out || out_len < CRYPTO_JWK_THUMBPRINT_LEN + 1)
		return WD_EINVAL;

	/* crypto_jwk_from_key emits exactly the required members of RFC 7638
	 * section 3.2 (crv, kty, x, y or e, kty, n). Sorted keys and compact
	 * separators give the canonical form: no whitespace, members in
	 * lexicographic order, and base64url values that need no escaping. */
	WD_GUARD(crypto_jwk_from_key(key, &jwk, NULL));
	canonical = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
	WD_ENSURE(canonical, WD_ENOMEM);

	WD_ENSURE(EVP_Digest(canonical, strlen(canonical), digest, &digest_len, EVP_sha256(),
			  NULL) == 1,
		WD_EINTERNAL);
	WD_GUARD(wd_base64url_encode(digest, digest_len, &text));
	WD_ENSURE(strlen(text) == CRYPTO_JWK_THUMBPRINT_LEN, WD_EINTERNAL);
	memcpy(out, text, CRYPTO_JWK_THUMBPRINT_LEN + 1);
	rc = 0;
out:
	free(text);
	free(canonical);
	json_decref(jwk);
	return rc;
}

static bool coordinate_size_valid(size_t size)
{
	return size > 0 && size <= EC_MAX_COORDINATE_SIZE;
}

int crypto_ecdsa_sig_der_to_raw(const uint8_t *der, size_t der_len, size_t coordinate_size,
	uint8_t *out, size_t out_len)
{
	const unsigned char *cursor = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig = NULL;
	int rc;

	if (!der || !out || !coordinate_size_valid(coordinate_size) ||
	    out_len < 2 * coordinate_size || der_len == 0 || der_len > LONG_MAX)
		return WD_EINVAL;

	sig = d2i_ECDSA_SIG(NULL, &cursor, (long)der_len);
	WD_ENSURE(sig && cursor == der + der_len, WD_EINVAL);
	ECDSA_SIG_get0(sig, &r, &s);
	WD_ENSURE((size_t)BN_num_bytes(r) <= coordinate_size &&
			  (size_t)BN_num_bytes(s) <= coordinate_size,
		WD_EINVAL);

	WD_ENSURE(BN_bn2binpad(r, out, (int)coordinate_size) >= 0 &&
			  BN_bn2binpad(s, out + coordinate_size, (int)coordinate_size) >= 0,
		WD_EINTERNAL);
	rc = 0;
out:
	ECDSA_SIG_free(sig);
	return rc;
}

int crypto_ecdsa_sig_raw_to_der(const uint8_t *raw, size_t raw_len, size_t coordinate_size,
	uint8_t **ret_der, size_t *ret_der_len)
{
	BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *sig = NULL;
	uint8_t *der = NULL;
	unsigned char *cursor;
	int der_len;
	int rc;

	*ret_der = NULL;
	*ret_der_len = 0;
	if (!raw || !coordinate_size_valid(coordinate_size) || raw_len != 2 * coordinate_size)
		return WD_EINVAL;

	r = BN_bin2bn(raw, (int)coordinate_size, NULL);
	s = BN_bin2bn(raw + coordinate_size, (int)coordinate_size, NULL);
	sig = ECDSA_SIG_new();
	WD_ENSURE(r && s && sig, WD_ENOMEM);
	WD_ENSURE(ECDSA_SIG_set0(sig, r, s) == 1, WD_EINTERNAL);
	r = NULL;
	s = NULL;

	der_len = i2d_ECDSA_SIG(sig, NULL);
	WD_ENSURE(der_len > 0, WD_EINTERNAL);
	der = malloc((size_t)der_len);
	WD_ENSURE(der, WD_ENOMEM);
	cursor = der;
	WD_ENSURE(i2d_ECDSA_SIG(sig, &cursor) == der_len, WD_EINTERNAL);

	*ret_der = WD_TAKE_PTR(der);
	*ret_der_len = (size_t)der_len;
	rc = 0;
out:
	free(der);
	ECDSA_SIG_free(sig);
	BN_free(r);
	BN_free(s);
	return rc;
}
