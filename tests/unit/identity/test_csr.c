/* Unit tests for CSR parsing: valid PEM and DER requests of each allowed key
 * type, and bad signatures, weak or foreign keys, garbage, truncated and
 * oversized input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "identity/csr.h"

static EVP_PKEY *make_key(const char *type, const char *curve, size_t rsa_bits)
{
	EVP_PKEY *key;

	if (curve)
		key = EVP_PKEY_Q_keygen(NULL, NULL, type, curve);
	else if (rsa_bits)
		key = EVP_PKEY_Q_keygen(NULL, NULL, type, rsa_bits);
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, type);
	assert_non_null(key);
	return key;
}

/* Builds a CSR for key, signed with SHA-256 (no digest for Ed25519). */
static X509_REQ *make_csr(EVP_PKEY *key)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	const EVP_MD *md = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();

	assert_non_null(req);
	assert_non_null(name);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		(const unsigned char *)"workload", -1, -1, 0));
	assert_true(X509_REQ_set_subject_name(req, name));
	assert_true(X509_REQ_set_pubkey(req, key));
	assert_true(X509_REQ_sign(req, key, md) > 0);
	X509_NAME_free(name);
	return req;
}

static unsigned char *csr_der(X509_REQ *req, size_t *ret_len)
{
	unsigned char *der = NULL;
	int len = i2d_X509_REQ(req, &der);

	assert_true(len > 0);
	*ret_len = (size_t)len;
	return der;
}

static char *csr_pem(X509_REQ *req, size_t *ret_len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	char *copy;
	long len;

	assert_non_null(bio);
	assert_true(PEM_write_bio_X509_REQ(bio, req));
	len = BIO_get_mem_data(bio, &data);
	copy = malloc((size_t)len + 1);
	assert_non_null(copy);
	memcpy(copy, data, (size_t)len);
	copy[len] = '\0';
	BIO_free(bio);
	*ret_len = (size_t)len;
	return copy;
}

/* Checks that csr_parse_and_verify_spki returns the key and its
 * SubjectPublicKeyInfo exactly as i2d_PUBKEY encodes it. */
static void check_spki_returned(EVP_PKEY *key, const unsigned char *der, size_t der_len)
{
	struct wd_error err;
	EVP_PKEY *parsed = NULL;
	unsigned char *expected = NULL;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	int expected_len = i2d_PUBKEY(key, &expected);

	wd_error_clear(&err);
	assert_true(expected_len > 0);
	assert_int_equal(csr_parse_and_verify_spki(der, der_len, &parsed, &spki, &spki_len, &err),
		0);
	assert_int_equal(EVP_PKEY_eq(parsed, key), 1);
	assert_non_null(spki);
	assert_int_equal(spki_len, (size_t)expected_len);
	assert_memory_equal(spki, expected, spki_len);

	free(spki);
	OPENSSL_free(expected);
	EVP_PKEY_free(parsed);
}

/* Parses the CSR of key in PEM and DER and checks the returned key equals
 * the CSR's key, and the returned SubjectPublicKeyInfo its encoding. */
static void check_accepted(EVP_PKEY *key)
{
	X509_REQ *req = make_csr(key);
	struct wd_error err;
	EVP_PKEY *parsed = NULL;
	size_t der_len;
	size_t pem_len;
	unsigned char *der = csr_der(req, &der_len);
	char *pem = csr_pem(req, &pem_len);

	wd_error_clear(&err);
	assert_int_equal(csr_parse_and_verify(der, der_len, &parsed, &err), 0);
	assert_non_null(parsed);
	assert_int_equal(EVP_PKEY_eq(parsed, key), 1);
	EVP_PKEY_free(parsed);
	parsed = NULL;

	assert_int_equal(csr_parse_and_verify(pem, pem_len, &parsed, &err), 0);
	assert_int_equal(EVP_PKEY_eq(parsed, key), 1);
	EVP_PKEY_free(parsed);

	check_spki_returned(key, der, der_len);
	OPENSSL_free(der);
	free(pem);
	X509_REQ_free(req);
}

static void csr_accepts_allowed_keys(void **state)
{
	EVP_PKEY *p256 = make_key("EC", "P-256", 0);
	EVP_PKEY *p384 = make_key("EC", "P-384", 0);
	EVP_PKEY *rsa2048 = make_key("RSA", NULL, 2048);
	EVP_PKEY *rsa3072 = make_key("RSA", NULL, 3072);

	(void)state;
	check_accepted(p256);
	check_accepted(p384);
	check_accepted(rsa2048);
	check_accepted(rsa3072);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(rsa3072);
}

/* Expects csr_parse_and_verify on the CSR of key (DER) to fail with code
 * and a detail containing reason. */
static void check_key_rejected(EVP_PKEY *key, int code, const char *reason)
{
	X509_REQ *req = make_csr(key);
	struct wd_error err;
	EVP_PKEY *parsed = (EVP_PKEY *)1;
	size_t der_len;
	unsigned char *der = csr_der(req, &der_len);

	assert_int_equal(csr_parse_and_verify(der, der_len, &parsed, &err), code);
	assert_null(parsed);
	if (!strstr(err.detail, reason))
		print_error("detail: %s\n", err.detail);
	assert_non_null(strstr(err.detail, reason));
	OPENSSL_free(der);
	X509_REQ_free(req);
}

static void csr_rejects_weak_and_foreign_keys(void **state)
{
	EVP_PKEY *rsa1024 = make_key("RSA", NULL, 1024);
	EVP_PKEY *k256 = make_key("EC", "secp256k1", 0);
	EVP_PKEY *p521 = make_key("EC", "P-521", 0);
	EVP_PKEY *ed25519 = make_key("ED25519", NULL, 0);

	(void)state;
	check_key_rejected(rsa1024, WD_EINVAL, "RSA key of 1024 bits is too small");
	check_key_rejected(k256, WD_EINVAL, "EC curve \"secp256k1\" is not allowed");
	check_key_rejected(p521, WD_EINVAL, "EC curve \"secp521r1\" is not allowed");
	check_key_rejected(ed25519, WD_EINVAL, "key algorithm \"ED25519\" is not allowed");
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(k256);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(ed25519);
}

static void csr_rejects_broken_signature(void **state)
{
	EVP_PKEY *key = make_key("EC", "P-256", 0);
	EVP_PKEY *other = make_key("EC", "P-256", 0);
	X509_REQ *req = make_csr(key);
	struct wd_error err;
	EVP_PKEY *parsed = NULL;
	size_t der_len;
	unsigned char *der;

	(void)state;
	/* Sign with another key: the embedded key no longer matches. */
	assert_true(X509_REQ_sign(req, other, EVP_sha256()) > 0);
	assert_true(X509_REQ_set_pubkey(req, key));
	der = csr_der(req, &der_len);
	assert_int_equal(csr_parse_and_verify(der, der_len, &parsed, &err), WD_ECRYPTO);
	assert_null(parsed);
	assert_non_null(strstr(err.detail, "self-signature does not verify"));
	OPENSSL_free(der);
	X509_REQ_free(req);

	/* Flip a bit in the subject (the signed part), keeping DER valid. */
	req = make_csr(key);
	der = csr_der(req, &der_len);
	{
		unsigned char *cn = memmem(der, der_len, "workload", 8);

		assert_non_null(cn);
		cn[0] = 'W';
	}
	assert_int_equal(csr_parse_and_verify(der, der_len, &parsed, &err), WD_ECRYPTO);
	assert_null(parsed);
	{
		uint8_t *spki = (uint8_t *)"not reset";
		size_t spki_len = 9;

		assert_int_equal(csr_parse_and_verify_spki(der, der_len, &parsed, &spki,
			&spki_len, &err), WD_ECRYPTO);
		assert_null(parsed);
		assert_null(spki);
		assert_int_equal(spki_len, 0);
	}
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static void csr_rejects_garbage_and_truncation(void **state)
{
	EVP_PKEY *key = make_key("EC", "P-256", 0);
	X509_REQ *req = make_csr(key);
	struct wd_error err;
	EVP_PKEY *parsed = NULL;
	size_t der_len;
	size_t pem_len;
	unsigned char *der = csr_der(req, &der_len);
	char *pem = csr_pem(req, &pem_len);
	unsigned char *longer;

	(void)state;
	assert_int_equal(csr_parse_and_verify("garbage!", 8, &parsed, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "neither PEM nor a DER PKCS#10 request"));

	assert_int_equal(csr_parse_and_verify(der, der_len - 1, &parsed, &err), WD_EINVAL);
	assert_int_equal(csr_parse_and_verify(der, der_len / 2, &parsed, &err), WD_EINVAL);
	assert_int_equal(csr_parse_and_verify(der, 1, &parsed, &err), WD_EINVAL);
	assert_int_equal(csr_parse_and_verify(pem, pem_len / 2, &parsed, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "PEM \"CERTIFICATE REQUEST\""));

	/* Bytes after a complete DER request. */
	longer = malloc(der_len + 3);
	assert_non_null(longer);
	memcpy(longer, der, der_len);
	memcpy(longer + der_len, "xyz", 3);
	assert_int_equal(csr_parse_and_verify(longer, der_len + 3, &parsed, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "3 bytes follow the DER request"));

	/* A certificate PEM block is not a request. */
	assert_int_equal(csr_parse_and_verify("-----BEGIN CERTIFICATE-----\nAAAA\n"
					      "-----END CERTIFICATE-----\n", 59, &parsed, &err),
		WD_EINVAL);

	assert_int_equal(csr_parse_and_verify("", 0, &parsed, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "empty"));
	assert_int_equal(csr_parse_and_verify(NULL, 10, &parsed, &err), WD_EINVAL);
	assert_int_equal(csr_parse_and_verify(der, der_len, NULL, &err), WD_EINVAL);
	assert_null(parsed);

	free(longer);
	OPENSSL_free(der);
	free(pem);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
}

static void csr_rejects_oversized(void **state)
{
	size_t len = CSR_MAX_BYTES + 1;
	char *big = malloc(len);
	struct wd_error err;
	EVP_PKEY *parsed = NULL;

	(void)state;
	assert_non_null(big);
	memset(big, 'A', len);
	memcpy(big, "-----BEGIN CERTIFICATE REQUEST-----\n", 36);
	assert_int_equal(csr_parse_and_verify(big, len, &parsed, &err), WD_ETOOBIG);
	assert_non_null(strstr(err.detail, "65537 bytes is larger than the limit of 65536"));
	assert_null(parsed);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csr_accepts_allowed_keys),
		cmocka_unit_test(csr_rejects_weak_and_foreign_keys),
		cmocka_unit_test(csr_rejects_broken_signature),
		cmocka_unit_test(csr_rejects_garbage_and_truncation),
		cmocka_unit_test(csr_rejects_oversized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
