/* Certificates, chains and CRLs for the agent's unit tests, signed with
 * fresh P-256 keys. Each helper fails the running cmocka test on error. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "identity/crl.h"

static inline EVP_PKEY *fixture_key(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	assert_non_null(key);
	return key;
}

/* Makes a certificate for subject_cn and key, valid for a day, signed by
 * issuer with issuer_key, or self-signed when issuer is NULL. */
static inline X509 *fixture_cert(const char *subject_cn, EVP_PKEY *key, long serial, X509 *issuer,
	EVP_PKEY *issuer_key)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();

	assert_non_null(cert);
	assert_non_null(name);
	assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), serial), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), 86400));
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)subject_cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(cert, name), 1);
	assert_int_equal(X509_set_issuer_name(cert,
		issuer ? X509_get_subject_name(issuer) : name), 1);
	assert_int_equal(X509_set_pubkey(cert, key), 1);
	/* crl_build names the CA by its subject key identifier. */
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
	X509_EXTENSION *skid = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	assert_non_null(skid);
	assert_int_equal(X509_add_ext(cert, skid, -1), 1);
	X509_EXTENSION_free(skid);
	assert_true(X509_sign(cert, issuer ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return cert;
}

/* Appends the DER of cert to a malloc'd buffer. */
static inline void fixture_append_der(X509 *cert, uint8_t **der, size_t *len)
{
	uint8_t *cert_der = NULL;
	int cert_der_len = i2d_X509(cert, &cert_der);

	assert_true(cert_der_len > 0);
	*der = realloc(*der, *len + (size_t)cert_der_len);
	assert_non_null(*der);
	memcpy(*der + *len, cert_der, (size_t)cert_der_len);
	*len += (size_t)cert_der_len;
	OPENSSL_free(cert_der);
}

/* Returns the DER of a CRL that ca signs with ca_key, listing serials
 * (lowercase hex); free with OPENSSL_free. */
static inline uint8_t *fixture_crl_der(X509 *ca, EVP_PKEY *ca_key, const char *const *serials,
	size_t serial_count, size_t *ret_len)
{
	struct crl_revoked revoked[8] = { 0 };
	struct wd_error err = { 0 };
	X509_CRL *crl = NULL;
	uint8_t *der = NULL;
	int len;

	assert_true(serial_count <= 8);
	for (size_t i = 0; i < serial_count; i++) {
		revoked[i].serial_hex = serials[i];
		revoked[i].revoked_at = 1700000000;
	}
	assert_int_equal(crl_build(ca, ca_key, revoked, serial_count, 1, 1700000000, 86400, &crl,
		&err), 0);
	len = i2d_X509_CRL(crl, &der);
	assert_true(len > 0);
	X509_CRL_free(crl);
	*ret_len = (size_t)len;
	return der;
}
