/* Keys for the io.jwt.* builtins: PEM certificates and public keys, JWKs and
 * JWK sets (RFC 7517) public or private, and the JWS algorithms of RFC 7518
 * and RFC 8037 that OPA supports. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/alloc.h"
#include "common/error.h"
#include "crypto/jwk.h"
#include "policy/bi_crypto_util.h"
#include "policy/bi_jwt_key.h"

static const struct jwt_alg algs[] = {
	{ "HS256", JWT_HMAC, "SHA256" },
	{ "HS384", JWT_HMAC, "SHA384" },
	{ "HS512", JWT_HMAC, "SHA512" },
	{ "RS256", JWT_RSA_PKCS1, "SHA256" },
	{ "RS384", JWT_RSA_PKCS1, "SHA384" },
	{ "RS512", JWT_RSA_PKCS1, "SHA512" },
	{ "PS256", JWT_RSA_PSS, "SHA256" },
	{ "PS384", JWT_RSA_PSS, "SHA384" },
	{ "PS512", JWT_RSA_PSS, "SHA512" },
	{ "ES256", JWT_ECDSA, "SHA256" },
	{ "ES384", JWT_ECDSA, "SHA384" },
	{ "ES512", JWT_ECDSA, "SHA512" },
	{ "EdDSA", JWT_EDDSA, NULL },
};

const struct jwt_alg *jwt_alg_find(const char *name, size_t len)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(algs); i++)
		if (strlen(algs[i].name) == len && memcmp(algs[i].name, name, len) == 0)
			return &algs[i];
	return NULL;
}

static void key_clear(struct jwt_key *key)
{
	EVP_PKEY_free(key->pkey);
	if (key->secret)
		wd_free_secret(key->secret, key->secret_len);
	free(key->kid);
	memset(key, 0, sizeof(*key));
}

void jwt_keyset_free(struct jwt_keyset *keys)
{
	if (!keys)
		return;
	for (size_t i = 0; i < keys->count; i++)
		key_clear(&keys->keys[i]);
	free(keys->keys);
	keys->keys = NULL;
	keys->count = 0;
}

static int set_error(char *err, size_t err_cap, const char *fmt, ...) WD_PRINTF(3, 4);

static int set_error(char *err, size_t err_cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_cap, fmt, ap);
	va_end(ap);
	return WD_EINVAL;
}

/* ---- JWK members ---- */

/* Decodes base64url member name into out (a secret buffer for private
 * members). Missing is reported through *ret_present. */
static int member_bytes(const json_t *jwk, const char *name, struct wd_buf *out,
			bool *ret_present, char *err, size_t err_cap)
{
	const json_t *value = json_object_get(jwk, name);
	char detail[160];

	*ret_present = false;
	if (!value)
		return 0;
	if (!json_is_string(value)) {
		snprintf(detail, sizeof(detail), "member %s is not a string", name);
		return set_error(err, err_cap, "%s", detail);
	}
	if (bi_b64url_decode_opa(json_string_value(value), json_string_length(value), out,
				 NULL, 0) < 0) {
		snprintf(detail, sizeof(detail), "member %s is not valid base64url", name);
		return set_error(err, err_cap, "%s", detail);
	}
	*ret_present = true;
	return 0;
}

static int push_bn(OSSL_PARAM_BLD *bld, const char *param, const struct wd_buf *bytes,
		   BIGNUM **slot)
{
	*slot = BN_bin2bn(wd_buf_data(bytes) ? wd_buf_data(bytes) : (const uint8_t *)"",
			  (int)wd_buf_len(bytes), NULL);
	if (!*slot || OSSL_PARAM_BLD_push_BN(bld, param, *slot) != 1)
		return WD_ENOMEM;
	return 0;
}

static int key_from_params(const char *type, OSSL_PARAM_BLD *bld, bool private_key,
			   EVP_PKEY **ret_key)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = NULL;
	int rc;

	WD_ENSURE(params, WD_ENOMEM);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	WD_ENSURE(ctx, WD_ENOMEM);
	WD_ENSURE(EVP_PKEY_fromdata_init(ctx) == 1, WD_EINTERNAL);
	WD_ENSURE(EVP_PKEY_fromdata(ctx, ret_key,
				    private_key ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
				    params) == 1,
		  WD_EINVAL);
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return rc;
}

/* RSA members n and e, with d and the CRT members for a private key. */
static int rsa_from_jwk(const json_t *jwk, struct jwt_key *key, char *err, size_t err_cap)
{
	static const char *const names[] = { "n", "e", "d", "p", "q", "dp", "dq", "qi" };
	static const char *const params[] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	struct wd_buf bytes[8];
	BIGNUM *bns[8] = { NULL };
	bool present[8] = { false };
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	int rc = 0;

	for (size_t i = 0; i < 8; i++)
		wd_buf_init_secret(&bytes[i], 64, 4096);
	WD_ENSURE(bld, WD_ENOMEM);

	for (size_t i = 0; i < 8; i++)
		WD_GUARD(member_bytes(jwk, names[i], &bytes[i], &present[i], err, err_cap));
	if (!present[0] || !present[1]) {
		rc = set_error(err, err_cap, "%s", "required member n or e is missing");
		goto out;
	}

	/* The CRT members are used only when all of them are present. */
	bool crt = present[3] && present[4] && present[5] && present[6] && present[7];

	for (size_t i = 0; i < 8; i++) {
		if (!present[i] || (i >= 3 && !crt))
			continue;
		WD_GUARD(push_bn(bld, params[i], &bytes[i], &bns[i]));
	}
	rc = key_from_params("RSA", bld, present[2], &key->pkey);
	if (rc == WD_EINVAL)
		set_error(err, err_cap, "%s", "invalid RSA key");
out:
	for (size_t i = 0; i < 8; i++) {
		BN_clear_free(bns[i]);
		wd_buf_free(&bytes[i]);
	}
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

struct curve_name {
	const char *jwk;
	const char *group;
	size_t size;
};

static const struct curve_name curves[] = {
	{ "P-256", "prime256v1", 32 },
	{ "P-384", "secp384r1", 48 },
	{ "P-521", "secp521r1", 66 },
};

static int ec_from_jwk(const json_t *jwk, struct jwt_key *key, char *err, size_t err_cap)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	const struct curve_name *curve = NULL;
	struct wd_buf x, y, d, point;
	bool has_x, has_y, has_d;
	BIGNUM *priv = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	int rc;

	wd_buf_init(&x, 80, 256);
	wd_buf_init(&y, 80, 256);
	wd_buf_init(&point, 160, 512);
	wd_buf_init_secret(&d, 80, 256);
	WD_ENSURE(bld, WD_ENOMEM);

	for (size_t i = 0; crv && i < WD_ARRAY_LEN(curves); i++)
		if (strcmp(crv, curves[i].jwk) == 0)
			curve = &curves[i];
	if (!curve) {
		rc = set_error(err, err_cap, "invalid curve %s", crv ? crv : "(missing)");
		goto out;
	}

	WD_GUARD(member_bytes(jwk, "x", &x, &has_x, err, err_cap));
	WD_GUARD(member_bytes(jwk, "y", &y, &has_y, err, err_cap));
	WD_GUARD(member_bytes(jwk, "d", &d, &has_d, err, err_cap));
	if (!has_x || !has_y || wd_buf_len(&x) != curve->size || wd_buf_len(&y) != curve->size) {
		rc = set_error(err, err_cap, "invalid EC point for curve %s", curve->jwk);
		goto out;
	}

	/* SEC 1 section 2.3.3 uncompressed point: 0x04 || x || y. */
	WD_GUARD(wd_buf_append_byte(&point, 0x04));
	WD_GUARD(wd_buf_append(&point, wd_buf_data(&x), wd_buf_len(&x)));
	WD_GUARD(wd_buf_append(&point, wd_buf_data(&y), wd_buf_len(&y)));
	WD_ENSURE(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve->group,
						  0) == 1 &&
			  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
							   wd_buf_data(&point),
							   wd_buf_len(&point)) == 1,
		  WD_ENOMEM);
	if (has_d)
		WD_GUARD(push_bn(bld, OSSL_PKEY_PARAM_PRIV_KEY, &d, &priv));

	rc = key_from_params("EC", bld, has_d, &key->pkey);
	if (rc == WD_EINVAL)
		set_error(err, err_cap, "invalid EC key for curve %s", curve->jwk);
out:
	BN_clear_free(priv);
	OSSL_PARAM_BLD_free(bld);
	wd_buf_free(&x);
	wd_buf_free(&y);
	wd_buf_free(&d);
	wd_buf_free(&point);
	return rc;
}

/* RFC 8037 OKP keys: Ed25519 only, as OPA signs and verifies no other. */
static int okp_from_jwk(const json_t *jwk, struct jwt_key *key, char *err, size_t err_cap)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	struct wd_buf x, d;
	bool has_x, has_d;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	int rc;

	wd_buf_init(&x, 32, 64);
	wd_buf_init_secret(&d, 32, 64);
	WD_ENSURE(bld, WD_ENOMEM);
	if (!crv || strcmp(crv, "Ed25519") != 0) {
		rc = set_error(err, err_cap, "unsupported OKP curve %s", crv ? crv : "(missing)");
		goto out;
	}
	WD_GUARD(member_bytes(jwk, "x", &x, &has_x, err, err_cap));
	WD_GUARD(member_bytes(jwk, "d", &d, &has_d, err, err_cap));
	if (!has_x || wd_buf_len(&x) != 32 || (has_d && wd_buf_len(&d) != 32)) {
		rc = set_error(err, err_cap, "%s", "invalid Ed25519 key size");
		goto out;
	}
	WD_ENSURE(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, wd_buf_data(&x),
						   32) == 1,
		  WD_ENOMEM);
	if (has_d)
		WD_ENSURE(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PRIV_KEY,
							   wd_buf_data(&d), 32) == 1,
			  WD_ENOMEM);
	rc = key_from_params("ED25519", bld, has_d, &key->pkey);
	if (rc == WD_EINVAL)
		set_error(err, err_cap, "%s", "invalid Ed25519 key");
out:
	OSSL_PARAM_BLD_free(bld);
	wd_buf_free(&x);
	wd_buf_free(&d);
	return rc;
}

static int oct_from_jwk(const json_t *jwk, struct jwt_key *key, char *err, size_t err_cap)
{
	struct wd_buf k;
	bool has_k;
	int rc;

	wd_buf_init_secret(&k, 64, 64 * 1024);
	WD_GUARD(member_bytes(jwk, "k", &k, &has_k, err, err_cap));
	if (!has_k) {
		rc = set_error(err, err_cap, "%s", "required member k is missing");
		goto out;
	}
	key->secret_len = wd_buf_len(&k);
	key->secret = wd_buf_take(&k, NULL);
	WD_ENSURE(key->secret, WD_ENOMEM);
	rc = 0;
out:
	wd_buf_free(&k);
	return rc;
}

static int key_from_jwk(const json_t *jwk, struct jwt_key *key, char *err, size_t err_cap)
{
	const char *kty;
	const json_t *alg, *kid;

	if (!json_is_object(jwk))
		return set_error(err, err_cap, "%s", "a JWK must be a JSON object");
	kty = json_string_value(json_object_get(jwk, "kty"));
	if (!kty)
		return set_error(err, err_cap, "%s", "required member kty is missing");

	if (strcmp(kty, "RSA") == 0)
		WD_TRY(rsa_from_jwk(jwk, key, err, err_cap));
	else if (strcmp(kty, "EC") == 0)
		WD_TRY(ec_from_jwk(jwk, key, err, err_cap));
	else if (strcmp(kty, "OKP") == 0)
		WD_TRY(okp_from_jwk(jwk, key, err, err_cap));
	else if (strcmp(kty, "oct") == 0)
		WD_TRY(oct_from_jwk(jwk, key, err, err_cap));
	else
		return set_error(err, err_cap, "invalid key type from JSON (%.64s)", kty);

	alg = json_object_get(jwk, "alg");
	if (json_is_string(alg))
		snprintf(key->alg, sizeof(key->alg), "%s", json_string_value(alg));
	kid = json_object_get(jwk, "kid");
	if (json_is_string(kid)) {
		key->kid = wd_strdup(json_string_value(kid));
		if (!key->kid)
			return WD_ENOMEM;
	}
	return 0;
}

/* Wipes the private members of a JWK or JWK set before jansson frees it:
 * jansson's string copies are plain heap memory. */
static void wipe_private_members(json_t *node)
{
	static const char *const members[] = { "d", "p", "q", "dp", "dq", "qi", "k" };
	json_t *keys = json_object_get(node, "keys");

	if (json_is_array(keys)) {
		for (size_t i = 0; i < json_array_size(keys); i++)
			wipe_private_members(json_array_get(keys, i));
		return;
	}
	if (!json_is_object(node))
		return;
	for (size_t i = 0; i < WD_ARRAY_LEN(members); i++) {
		json_t *value = json_object_get(node, members[i]);

		if (json_is_string(value))
			OPENSSL_cleanse((char *)(uintptr_t)json_string_value(value),
					json_string_length(value));
	}
}

int jwt_jwks_parse(const char *text, size_t len, struct jwt_keyset *ret_keys, char *err,
		   size_t err_cap)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	const json_t *list;
	size_t count;
	int rc = 0;

	memset(ret_keys, 0, sizeof(*ret_keys));
	/* jansson's message quotes the text near the error, which may be key
	 * material: only the position is reported. */
	if (!root)
		return set_error(err, err_cap, "failed to unmarshal JSON: invalid JSON at byte %d",
				 jerr.position);

	list = json_object_get(root, "keys");
	count = json_is_array(list) ? json_array_size(list) : 1;
	if (count > JWT_MAX_KEYS) {
		rc = set_error(err, err_cap, "%s", "too many keys in the JWK set");
		goto out;
	}
	ret_keys->keys = wd_calloc(count ? count : 1, sizeof(*ret_keys->keys));
	WD_ENSURE(ret_keys->keys, WD_ENOMEM);

	for (size_t i = 0; i < count; i++) {
		const json_t *jwk = json_is_array(list) ? json_array_get(list, i) : root;

		WD_GUARD(key_from_jwk(jwk, &ret_keys->keys[i], err, err_cap));
		ret_keys->count++;
	}
out:
	if (rc < 0)
		jwt_keyset_free(ret_keys);
	wipe_private_members(root);
	json_decref(root);
	return rc;
}

/* ---- PEM and the "cert" argument ---- */

static int key_from_pem_block(const struct bi_pem_block *block, EVP_PKEY **ret_key, char *err,
			      size_t err_cap)
{
	const uint8_t *der = wd_buf_data(&block->der);
	long der_len = (long)wd_buf_len(&block->der);

	if (strcmp(block->type, "CERTIFICATE") == 0) {
		X509 *cert = der ? d2i_X509(NULL, &der, der_len) : NULL;

		if (!cert)
			return set_error(err, err_cap, "failed to parse a PEM certificate: %s",
					 "x509: malformed certificate");
		*ret_key = X509_get_pubkey(cert);
		X509_free(cert);
		return *ret_key ? 0 : set_error(err, err_cap, "failed to parse a PEM certificate: %s",
						"x509: unsupported public key");
	}
	if (strcmp(block->type, "PUBLIC KEY") == 0) {
		*ret_key = der ? d2i_PUBKEY(NULL, &der, der_len) : NULL;
		return *ret_key ? 0 : set_error(err, err_cap, "failed to parse a PEM public key: %s",
						"asn1: structure error");
	}
	return set_error(err, err_cap, "%s", "failed to extract a Key from the PEM certificate");
}

int jwt_keys_load(const char *text, size_t len, struct jwt_keyset *ret_keys, char *err,
		  size_t err_cap)
{
	struct bi_pem_block block;
	EVP_PKEY *cached;
	size_t end = 0;
	char detail[256] = "";
	int rc;

	memset(ret_keys, 0, sizeof(*ret_keys));
	if (len > BI_DECODE_MAX)
		return set_error(err, err_cap, "key text is longer than %u bytes", BI_DECODE_MAX);

	cached = jwt_pem_cache_find(text, len);
	if (cached) {
		ret_keys->keys = wd_calloc(1, sizeof(*ret_keys->keys));
		if (!ret_keys->keys) {
			EVP_PKEY_free(cached);
			return WD_ENOMEM;
		}
		ret_keys->keys[0].pkey = cached;
		ret_keys->count = 1;
		return 0;
	}

	wd_buf_init(&block.der, 4096, BI_DECODE_MAX);
	rc = bi_pem_decode(text, len, &block, &end);
	if (rc == 1) {
		EVP_PKEY *pkey = NULL;

		if (end < len)
			rc = set_error(err, err_cap, "%s", "extra data after a PEM certificate block");
		else
			rc = key_from_pem_block(&block, &pkey, err, err_cap);
		if (rc == 0) {
			ret_keys->keys = wd_calloc(1, sizeof(*ret_keys->keys));
			if (!ret_keys->keys) {
				EVP_PKEY_free(pkey);
				rc = WD_ENOMEM;
			} else {
				ret_keys->keys[0].pkey = pkey;
				ret_keys->count = 1;
				jwt_pem_cache_add(text, len, pkey);
			}
		}
		wd_buf_free(&block.der);
		return rc;
	}
	wd_buf_free(&block.der);
	if (rc < 0)
		return rc;

	rc = jwt_jwks_parse(text, len, ret_keys, detail, sizeof(detail));
	if (rc == WD_EINVAL)
		return set_error(err, err_cap, "failed to parse a JWK key (set): %s", detail);
	WD_TRY(rc);

	/* Keys naming an algorithm OPA does not support are skipped. */
	size_t kept = 0;

	for (size_t i = 0; i < ret_keys->count; i++) {
		struct jwt_key *key = &ret_keys->keys[i];

		if (key->alg[0] && !jwt_alg_find(key->alg, strlen(key->alg))) {
			key_clear(key);
			continue;
		}
		ret_keys->keys[kept++] = *key;
	}
	ret_keys->count = kept;
	return 0;
}

/* ---- signatures ---- */

static bool key_fits(const struct jwt_alg *alg, const struct jwt_key *key)
{
	switch (alg->kind) {
	case JWT_HMAC:
		return key->secret != NULL;
	case JWT_RSA_PKCS1:
	case JWT_RSA_PSS:
		return key->pkey && EVP_PKEY_is_a(key->pkey, "RSA");
	case JWT_ECDSA:
		return key->pkey && EVP_PKEY_is_a(key->pkey, "EC");
	case JWT_EDDSA:
		return key->pkey && EVP_PKEY_is_a(key->pkey, "ED25519");
	}
	return false;
}

static int hmac_compute(const struct jwt_alg *alg, const struct jwt_key *key,
			const uint8_t *msg, size_t msg_len, uint8_t *out, unsigned int *out_len)
{
	const EVP_MD *md = EVP_get_digestbyname(alg->digest);
	static const uint8_t empty[1];

	if (!md || !HMAC(md, key->secret_len ? key->secret : empty, (int)key->secret_len, msg,
			 msg_len, out, out_len))
		return WD_EINTERNAL;
	return 0;
}

/* Converts r || s (split in halves) to a DER ECDSA-Sig-Value. */
static int ecdsa_raw_to_der(const uint8_t *sig, size_t sig_len, uint8_t **ret_der,
			    int *ret_der_len)
{
	ECDSA_SIG *esig = ECDSA_SIG_new();
	size_t half = sig_len / 2;
	BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
	BIGNUM *s = BN_bin2bn(sig + half, (int)(sig_len - half), NULL);
	int rc = WD_ENOMEM;

	if (!esig || !r || !s)
		goto out;
	ECDSA_SIG_set0(esig, r, s);
	r = s = NULL;
	*ret_der = NULL;
	*ret_der_len = i2d_ECDSA_SIG(esig, ret_der);
	if (*ret_der_len > 0)
		rc = 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(esig);
	return rc;
}

static size_t ec_coordinate_size(const EVP_PKEY *pkey)
{
	return ((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8;
}

static int pkey_verify(const struct jwt_alg *alg, EVP_PKEY *pkey, const uint8_t *msg,
		       size_t msg_len, const uint8_t *sig, size_t sig_len, bool strict)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (!mctx)
		return WD_ENOMEM;
	ok = EVP_DigestVerifyInit_ex(mctx, &pctx, alg->digest, NULL, NULL, pkey, NULL) == 1;
	if (ok && alg->kind == JWT_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, strict ? RSA_PSS_SALTLEN_DIGEST
								   : RSA_PSS_SALTLEN_AUTO) == 1;
	if (ok && alg->kind == JWT_RSA_PKCS1)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
	if (ok)
		ok = EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) == 1;
	EVP_MD_CTX_free(mctx);
	return ok ? 1 : 0;
}

int jwt_verify(const struct jwt_alg *alg, const struct jwt_key *key, const uint8_t *msg,
	       size_t msg_len, const uint8_t *sig, size_t sig_len, bool strict)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	uint8_t *der = NULL;
	int der_len = 0;
	int rc;

	if (!key_fits(alg, key))
		return 0;

	switch (alg->kind) {
	case JWT_HMAC:
		WD_TRY(hmac_compute(alg, key, msg, msg_len, mac, &mac_len));
		rc = sig_len == mac_len && CRYPTO_memcmp(sig, mac, mac_len) == 0;
		OPENSSL_cleanse(mac, sizeof(mac));
		return rc;
	case JWT_ECDSA:
		if (sig_len == 0 ||
		    (strict && sig_len != 2 * ec_coordinate_size(key->pkey)))
			return 0;
		WD_TRY(ecdsa_raw_to_der(sig, sig_len, &der, &der_len));
		rc = pkey_verify(alg, key->pkey, msg, msg_len, der, (size_t)der_len, strict);
		OPENSSL_free(der);
		return rc;
	default:
		return pkey_verify(alg, key->pkey, msg, msg_len, sig, sig_len, strict);
	}
}

static int pkey_sign(const struct jwt_alg *alg, EVP_PKEY *pkey, const uint8_t *msg,
		     size_t msg_len, struct wd_buf *sig)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *out = NULL;
	size_t out_len = 0;
	int rc;

	WD_ENSURE(mctx, WD_ENOMEM);
	WD_ENSURE(EVP_DigestSignInit_ex(mctx, &pctx, alg->digest, NULL, NULL, pkey, NULL) == 1,
		  WD_ECRYPTO);
	if (alg->kind == JWT_RSA_PSS)
		WD_ENSURE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
				  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1,
			  WD_ECRYPTO);
	WD_ENSURE(EVP_DigestSign(mctx, NULL, &out_len, msg, msg_len) == 1, WD_ECRYPTO);
	out = OPENSSL_malloc(out_len ? out_len : 1);
	WD_ENSURE(out, WD_ENOMEM);
	WD_ENSURE(EVP_DigestSign(mctx, out, &out_len, msg, msg_len) == 1, WD_ECRYPTO);

	if (alg->kind == JWT_ECDSA) {
		size_t size = ec_coordinate_size(pkey);
		uint8_t raw[2 * 66];

		WD_GUARD(crypto_ecdsa_sig_der_to_raw(out, out_len, size, raw, sizeof(raw)));
		WD_GUARD(wd_buf_append(sig, raw, 2 * size));
	} else {
		WD_GUARD(wd_buf_append(sig, out, out_len));
	}
	rc = 0;
out:
	OPENSSL_free(out);
	EVP_MD_CTX_free(mctx);
	return rc;
}

int jwt_sign(const struct jwt_alg *alg, const struct jwt_key *key, const uint8_t *msg,
	     size_t msg_len, struct wd_buf *sig, char *err, size_t err_cap)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	int rc;

	if (!key_fits(alg, key))
		return set_error(err, err_cap, "failed to sign payload: key does not suit %s",
				 alg->name);
	if (alg->kind != JWT_HMAC) {
		rc = pkey_sign(alg, key->pkey, msg, msg_len, sig);
		if (rc == WD_ECRYPTO)
			return set_error(err, err_cap, "failed to sign payload with %s", alg->name);
		return rc;
	}
	WD_TRY(hmac_compute(alg, key, msg, msg_len, mac, &mac_len));
	rc = wd_buf_append(sig, mac, mac_len);
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}
