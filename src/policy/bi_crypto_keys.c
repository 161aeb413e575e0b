/* Keys as OPA returns them: Go's JSON of RSA, ECDSA and Ed25519 keys, and
 * JWKs of private keys (RFC 7518 section 6). Private values are built only
 * for the caller's own keys and their byte copies are wiped. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "common/encoding.h"
#include "common/error.h"
#include "policy/bi_crypto_x509.h"

static struct rv *bn_number(const BIGNUM *bn)
{
	char *dec = bn ? BN_bn2dec(bn) : NULL;
	struct rv *value = dec ? rv_number_parse(dec, strlen(dec)) : NULL;

	if (dec)
		OPENSSL_clear_free(dec, strlen(dec));
	return value;
}

static BIGNUM *get_bn(EVP_PKEY *pkey, const char *param)
{
	BIGNUM *bn = NULL;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		return NULL;
	return bn;
}

/* Puts a big-integer parameter of pkey as a number; absent is an error. */
static int put_bn(struct rv *obj, const char *key, EVP_PKEY *pkey, const char *param)
{
	BIGNUM *bn = get_bn(pkey, param);
	int rc = x509_put(obj, key, bn ? bn_number(bn) : NULL);

	BN_clear_free(bn);
	return rc;
}

static int rsa_value(EVP_PKEY *pkey, bool private_key, struct rv *obj)
{
	struct rv *primes = NULL, *pre = NULL;
	int rc;

	WD_GUARD(put_bn(obj, "N", pkey, OSSL_PKEY_PARAM_RSA_N));
	WD_GUARD(put_bn(obj, "E", pkey, OSSL_PKEY_PARAM_RSA_E));
	if (!private_key)
		return 0;

	WD_GUARD(put_bn(obj, "D", pkey, OSSL_PKEY_PARAM_RSA_D));
	primes = rv_array_new(2);
	pre = rv_object_new(4);
	WD_ENSURE(primes && pre, WD_ENOMEM);
	{
		BIGNUM *p = get_bn(pkey, OSSL_PKEY_PARAM_RSA_FACTOR1);
		BIGNUM *q = get_bn(pkey, OSSL_PKEY_PARAM_RSA_FACTOR2);

		rc = rv_array_push(primes, p ? bn_number(p) : NULL);
		if (rc == 0)
			rc = rv_array_push(primes, q ? bn_number(q) : NULL);
		BN_clear_free(p);
		BN_clear_free(q);
		WD_GUARD(rc);
	}
	WD_GUARD(put_bn(pre, "Dp", pkey, OSSL_PKEY_PARAM_RSA_EXPONENT1));
	WD_GUARD(put_bn(pre, "Dq", pkey, OSSL_PKEY_PARAM_RSA_EXPONENT2));
	WD_GUARD(put_bn(pre, "Qinv", pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
	WD_GUARD(x509_put(pre, "CRTValues", rv_array_new(0)));
	WD_GUARD(x509_put(obj, "Primes", WD_TAKE_PTR(primes)));
	WD_GUARD(x509_put(obj, "Precomputed", WD_TAKE_PTR(pre)));
	rc = 0;
out:
	rv_unref(primes);
	rv_unref(pre);
	return rc;
}

/* Go's elliptic curves have only unexported fields: "Curve" is {}. */
static int ec_value(EVP_PKEY *pkey, bool private_key, struct rv *obj)
{
	WD_TRY(x509_put(obj, "Curve", rv_object_new(0)));
	WD_TRY(put_bn(obj, "X", pkey, OSSL_PKEY_PARAM_EC_PUB_X));
	WD_TRY(put_bn(obj, "Y", pkey, OSSL_PKEY_PARAM_EC_PUB_Y));
	if (private_key)
		WD_TRY(put_bn(obj, "D", pkey, OSSL_PKEY_PARAM_PRIV_KEY));
	return 0;
}

/* An Ed25519 key is a byte slice: 32 public bytes, or seed || public. */
static int ed25519_value(EVP_PKEY *pkey, bool private_key, struct rv **ret)
{
	uint8_t bytes[64];
	size_t len = 32;
	int rc = WD_EINVAL;

	if (EVP_PKEY_get_raw_public_key(pkey, bytes + (private_key ? 32 : 0), &len) != 1)
		goto out;
	if (private_key) {
		len = 32;
		if (EVP_PKEY_get_raw_private_key(pkey, bytes, &len) != 1)
			goto out;
	}
	*ret = x509_b64_value(bytes, private_key ? 64 : 32);
	rc = *ret ? 0 : WD_ENOMEM;
out:
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return rc;
}

int x509_key_value(EVP_PKEY *pkey, bool private_key, struct rv **ret)
{
	struct rv *obj;
	int rc;

	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return ed25519_value(pkey, private_key, ret);
	obj = rv_object_new(6);
	if (!obj)
		return WD_ENOMEM;
	if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS"))
		rc = rsa_value(pkey, private_key, obj);
	else if (EVP_PKEY_is_a(pkey, "EC"))
		rc = ec_value(pkey, private_key, obj);
	else
		rc = 0;
	if (rc < 0) {
		rv_unref(obj);
		return rc;
	}
	*ret = obj;
	return 0;
}

/* A big-integer parameter as unpadded base64url (big.Int.Bytes). */
static int put_b64url(struct rv *obj, const char *key, EVP_PKEY *pkey, const char *param)
{
	BIGNUM *bn = get_bn(pkey, param);
	uint8_t bytes[1024];
	char *text = NULL;
	int len, rc;

	if (!bn || BN_num_bytes(bn) > (int)sizeof(bytes)) {
		BN_clear_free(bn);
		return WD_EINVAL;
	}
	len = BN_bn2bin(bn, bytes);
	BN_clear_free(bn);
	rc = wd_base64url_encode(bytes, (size_t)len, &text);
	OPENSSL_cleanse(bytes, sizeof(bytes));
	WD_TRY(rc);
	rc = x509_put(obj, key, rv_string(text, strlen(text)));
	OPENSSL_clear_free(text, strlen(text));
	return rc;
}

int x509_key_jwk(EVP_PKEY *pkey, struct rv **ret)
{
	static const char *const rsa_members[][2] = {
		{ "n", OSSL_PKEY_PARAM_RSA_N }, { "e", OSSL_PKEY_PARAM_RSA_E },
		{ "d", OSSL_PKEY_PARAM_RSA_D }, { "p", OSSL_PKEY_PARAM_RSA_FACTOR1 },
		{ "q", OSSL_PKEY_PARAM_RSA_FACTOR2 }, { "dp", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
		{ "dq", OSSL_PKEY_PARAM_RSA_EXPONENT2 }, { "qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
	};
	struct rv *obj = rv_object_new(10);
	int rc = 0;

	WD_ENSURE(obj, WD_ENOMEM);
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		WD_GUARD(x509_put(obj, "kty", rv_cstring("RSA")));
		for (size_t i = 0; i < WD_ARRAY_LEN(rsa_members); i++)
			WD_GUARD(put_b64url(obj, rsa_members[i][0], pkey, rsa_members[i][1]));
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[64] = "";
		const char *crv = "";

		EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
					       sizeof(group), NULL);
		if (strcmp(group, "prime256v1") == 0)
			crv = "P-256";
		else if (strcmp(group, "secp384r1") == 0)
			crv = "P-384";
		else if (strcmp(group, "secp521r1") == 0)
			crv = "P-521";
		WD_GUARD(x509_put(obj, "kty", rv_cstring("EC")));
		WD_GUARD(x509_put(obj, "crv", rv_cstring(crv)));
		WD_GUARD(put_b64url(obj, "x", pkey, OSSL_PKEY_PARAM_EC_PUB_X));
		WD_GUARD(put_b64url(obj, "y", pkey, OSSL_PKEY_PARAM_EC_PUB_Y));
		WD_GUARD(put_b64url(obj, "d", pkey, OSSL_PKEY_PARAM_PRIV_KEY));
	} else {
		rc = WD_EUNSUPPORTED;
		goto out;
	}
	*ret = WD_TAKE_PTR(obj);
out:
	rv_unref(obj);
	return rc;
}
