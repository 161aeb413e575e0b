/* Key helpers for the io.jwt tests: fresh OpenSSL keys, their JWKs, PEM
 * public keys and self-signed certificates, and base64url text. */
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/encoding.h"
#include "test_bi_crypto_support.h"

/* RSA keys take long to generate: the tests share three, handed out in
 * turn, so two calls in a row give two different keys. */
static inline EVP_PKEY *tk_shared_rsa(void)
{
	static EVP_PKEY *pool[3];
	static size_t next;
	EVP_PKEY *key;

	if (!pool[next % 3])
		pool[next % 3] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	key = pool[next++ % 3];
	assert_non_null(key);
	assert_int_equal(EVP_PKEY_up_ref(key), 1);
	return key;
}

static inline EVP_PKEY *tk_generate(const char *type, const char *param)
{
	EVP_PKEY *key = NULL;

	if (strcmp(type, "RSA") == 0 && strcmp(param, "2048") == 0)
		return tk_shared_rsa();
	if (strcmp(type, "RSA") == 0)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)strtoul(param, NULL, 10));
	else if (strcmp(type, "EC") == 0)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, type);
	assert_non_null(key);
	return key;
}

static inline void tk_b64url(struct wd_buf *out, const uint8_t *data, size_t len)
{
	char *text = NULL;

	assert_int_equal(wd_base64url_encode(data, len, &text), 0);
	assert_int_equal(wd_buf_append_str(out, text), 0);
	free(text);
}

static inline void tk_member_bn(struct wd_buf *out, const char *name, EVP_PKEY *key,
				const char *param, size_t width)
{
	BIGNUM *bn = NULL;
	uint8_t bytes[1024];
	int len;

	assert_int_equal(EVP_PKEY_get_bn_param(key, param, &bn), 1);
	len = width ? BN_bn2binpad(bn, bytes, (int)width) : BN_bn2bin(bn, bytes);
	assert_true(len > 0);
	assert_int_equal(wd_buf_appendf(out, ",\"%s\":\"", name), 0);
	tk_b64url(out, bytes, (size_t)len);
	assert_int_equal(wd_buf_append_byte(out, '"'), 0);
	BN_free(bn);
}

/* Appends the JWK of key (with its private members when private_key), with
 * "alg" and "kid" members when given. */
static inline void tk_jwk(struct wd_buf *out, EVP_PKEY *key, bool private_key, const char *alg,
			  const char *kid)
{
	if (EVP_PKEY_is_a(key, "RSA")) {
		assert_int_equal(wd_buf_append_str(out, "{\"kty\":\"RSA\""), 0);
		tk_member_bn(out, "n", key, OSSL_PKEY_PARAM_RSA_N, 0);
		tk_member_bn(out, "e", key, OSSL_PKEY_PARAM_RSA_E, 0);
		if (private_key) {
			tk_member_bn(out, "d", key, OSSL_PKEY_PARAM_RSA_D, 0);
			tk_member_bn(out, "p", key, OSSL_PKEY_PARAM_RSA_FACTOR1, 0);
			tk_member_bn(out, "q", key, OSSL_PKEY_PARAM_RSA_FACTOR2, 0);
			tk_member_bn(out, "dp", key, OSSL_PKEY_PARAM_RSA_EXPONENT1, 0);
			tk_member_bn(out, "dq", key, OSSL_PKEY_PARAM_RSA_EXPONENT2, 0);
			tk_member_bn(out, "qi", key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 0);
		}
	} else if (EVP_PKEY_is_a(key, "EC")) {
		size_t width = ((size_t)EVP_PKEY_get_bits(key) + 7) / 8;
		const char *crv = "P-521";

		if (width == 32)
			crv = "P-256";
		else if (width == 48)
			crv = "P-384";

		assert_int_equal(wd_buf_appendf(out, "{\"kty\":\"EC\",\"crv\":\"%s\"", crv), 0);
		tk_member_bn(out, "x", key, OSSL_PKEY_PARAM_EC_PUB_X, width);
		tk_member_bn(out, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y, width);
		if (private_key)
			tk_member_bn(out, "d", key, OSSL_PKEY_PARAM_PRIV_KEY, width);
	} else {
		uint8_t raw[32];
		size_t len = sizeof(raw);

		assert_int_equal(wd_buf_append_str(out, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\""), 0);
		assert_int_equal(EVP_PKEY_get_raw_public_key(key, raw, &len), 1);
		tk_b64url(out, raw, len);
		if (private_key) {
			assert_int_equal(wd_buf_append_str(out, "\",\"d\":\""), 0);
			len = sizeof(raw);
			assert_int_equal(EVP_PKEY_get_raw_private_key(key, raw, &len), 1);
			tk_b64url(out, raw, len);
		}
		assert_int_equal(wd_buf_append_byte(out, '"'), 0);
	}
	if (alg)
		assert_int_equal(wd_buf_appendf(out, ",\"alg\":\"%s\"", alg), 0);
	if (kid)
		assert_int_equal(wd_buf_appendf(out, ",\"kid\":\"%s\"", kid), 0);
	assert_int_equal(wd_buf_append_byte(out, '}'), 0);
}

/* Appends the SubjectPublicKeyInfo PEM of key. */
static inline void tk_public_pem(struct wd_buf *out, EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
	len = BIO_get_mem_data(bio, &data);
	assert_int_equal(wd_buf_append(out, data, (size_t)len), 0);
	BIO_free(bio);
}

/* Builds a self-signed certificate for key (the issuer signs with signer). */
static inline X509 *tk_certificate(EVP_PKEY *key, EVP_PKEY *signer, const char *cn,
				   const char *issuer_cn, bool ca, const char *san)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new(), *issuer = X509_NAME_new();
	X509V3_CTX v3;

	assert_non_null(cert);
	assert_int_equal(X509_set_version(cert, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242), 1);
	/* Valid from 2020-01-01 to 2030-01-01, around TB_NOW_NS. */
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(cert), 1577836800));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(cert), 1893456000));
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_UTF8,
						    (const unsigned char *)issuer_cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(cert, name), 1);
	assert_int_equal(X509_set_issuer_name(cert, issuer), 1);
	assert_int_equal(X509_set_pubkey(cert, key), 1);

	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	if (ca) {
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
							  "critical,CA:TRUE");

		assert_non_null(ext);
		assert_int_equal(X509_add_ext(cert, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	if (san) {
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);

		assert_non_null(ext);
		assert_int_equal(X509_add_ext(cert, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(cert, signer, EVP_PKEY_is_a(signer, "ED25519") ? NULL : EVP_sha256()) > 0);
	X509_NAME_free(name);
	X509_NAME_free(issuer);
	return cert;
}

static inline void tk_cert_pem(struct wd_buf *out, X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_X509(bio, cert), 1);
	len = BIO_get_mem_data(bio, &data);
	assert_int_equal(wd_buf_append(out, data, (size_t)len), 0);
	BIO_free(bio);
}
