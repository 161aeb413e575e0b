/* Unit tests for certificate helpers: serials, PEM chains, validity times
 * and fingerprints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

#include "crypto/key.h"
#include "crypto/x509.h"

/* Builds a minimal self-signed certificate valid [not_before, not_after]. */
static X509 *make_cert(EVP_PKEY *key, int64_t not_before, int64_t not_after)
{
	X509 *cert = X509_new();

	assert_non_null(cert);
	assert_true(X509_set_version(cert, X509_VERSION_3));
	assert_int_equal(crypto_x509_set_random_serial(cert), 0);
	assert_true(X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8,
		(const unsigned char *)"test", -1, -1, 0));
	assert_true(X509_set_issuer_name(cert, X509_get_subject_name(cert)));
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)not_before));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)not_after));
	assert_true(X509_set_pubkey(cert, key));
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
	return cert;
}

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *key = NULL;

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	return key;
}

static void set_serial_hex(X509 *cert, const char *hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	assert_non_null(serial);
	assert_true(X509_set_serialNumber(cert, serial));
	ASN1_INTEGER_free(serial);
	BN_free(bn);
}

static void x509_serial_random(void **state)
{
	EVP_PKEY *key = new_key();
	X509 *cert = make_cert(key, 0, 1);
	char seen[200][41];

	(void)state;
	for (size_t i = 0; i < 200; i++) {
		const ASN1_INTEGER *serial;
		BIGNUM *bn;

		assert_int_equal(crypto_x509_set_random_serial(cert), 0);
		serial = X509_get0_serialNumber(cert);
		assert_int_equal(ASN1_STRING_type(serial), V_ASN1_INTEGER);
		bn = ASN1_INTEGER_to_BN(serial, NULL);
		assert_non_null(bn);
		assert_false(BN_is_zero(bn));
		assert_false(BN_is_negative(bn));
		assert_true(BN_num_bits(bn) <= 127);
		BN_free(bn);
		assert_int_equal(crypto_x509_serial_hex(cert, seen[i], sizeof(seen[i])), 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void x509_serial_hex_exact(void **state)
{
	EVP_PKEY *key = new_key();
	X509 *cert = make_cert(key, 0, 1);
	char out[41];

	(void)state;
	set_serial_hex(cert, "0A0B");
	assert_int_equal(crypto_x509_serial_hex(cert, out, sizeof(out)), 0);
	assert_string_equal(out, "a0b");

	set_serial_hex(cert, "0");
	assert_int_equal(crypto_x509_serial_hex(cert, out, sizeof(out)), 0);
	assert_string_equal(out, "0");

	set_serial_hex(cert, "7fffffffffffffffffffffffffffffffffffffff");
	assert_int_equal(crypto_x509_serial_hex(cert, out, sizeof(out)), 0);
	assert_string_equal(out, "7fffffffffffffffffffffffffffffffffffffff");
	assert_int_equal(crypto_x509_serial_hex(cert, out, 40), WD_ETOOBIG);
	assert_string_equal(out, "");

	set_serial_hex(cert, "-10");
	assert_int_equal(crypto_x509_serial_hex(cert, out, sizeof(out)), 0);
	assert_string_equal(out, "-10");

	assert_int_equal(crypto_x509_serial_hex(NULL, out, sizeof(out)), WD_EINVAL);
	assert_int_equal(crypto_x509_serial_hex(cert, out, 0), WD_EINVAL);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void x509_times(void **state)
{
	EVP_PKEY *key = new_key();
	/* 2049-12-31T23:59:59Z is UTCTime, 2050-01-01 is GeneralizedTime. */
	X509 *cert = make_cert(key, 2524607999, 2524608000);
	int64_t t = 1;

	(void)state;
	assert_int_equal(crypto_x509_not_before(cert, &t), 0);
	assert_int_equal(t, 2524607999);
	assert_int_equal(crypto_x509_not_after(cert, &t), 0);
	assert_int_equal(t, 2524608000);
	X509_free(cert);

	cert = make_cert(key, 0, 1767225600);
	assert_int_equal(crypto_x509_not_before(cert, &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(crypto_x509_not_after(cert, &t), 0);
	assert_int_equal(t, 1767225600);
	assert_int_equal(crypto_x509_not_after(NULL, &t), WD_EINVAL);
	assert_int_equal(t, 0);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void x509_fingerprint(void **state)
{
	EVP_PKEY *key = new_key();
	X509 *cert = make_cert(key, 0, 1);
	unsigned char *der = NULL;
	unsigned char md[32];
	char expected[65];
	char out[65];
	int der_len = i2d_X509(cert, &der);

	(void)state;
	assert_true(der_len > 0);
	assert_non_null(EVP_Digest(der, (size_t)der_len, md, NULL, EVP_sha256(), NULL));
	for (size_t i = 0; i < 32; i++)
		snprintf(expected + 2 * i, 3, "%02x", md[i]);
	assert_int_equal(crypto_x509_fingerprint(cert, out, sizeof(out)), 0);
	assert_string_equal(out, expected);
	assert_int_equal(crypto_x509_fingerprint(cert, out, 64), WD_ETOOBIG);
	OPENSSL_free(der);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void x509_chain_pem_round_trip(void **state)
{
	EVP_PKEY *key = new_key();
	X509 *certs[3] = { make_cert(key, 0, 1), make_cert(key, 0, 2), make_cert(key, 0, 3) };
	STACK_OF(X509) *chain = NULL;
	struct wd_error err;
	char *pem = NULL;
	char *one = NULL;

	(void)state;
	assert_int_equal(crypto_x509_chain_to_pem(certs, 3, &pem), 0);
	assert_int_equal(crypto_x509_chain_from_pem(pem, strlen(pem), 3, &chain, &err), 0);
	assert_int_equal(sk_X509_num(chain), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(X509_cmp(sk_X509_value(chain, i), certs[i]), 0);
	sk_X509_pop_free(chain, X509_free);

	assert_int_equal(crypto_x509_chain_from_pem(pem, strlen(pem), 2, &chain, &err),
		WD_ETOOBIG);
	assert_null(chain);
	assert_string_equal(err.detail, "certificate PEM holds more than 2 certificates");

	assert_int_equal(crypto_x509_to_pem(certs[0], &one), 0);
	assert_true(strncmp(pem, one, strlen(one)) == 0);
	free(one);
	free(pem);
	for (int i = 0; i < 3; i++)
		X509_free(certs[i]);
	EVP_PKEY_free(key);
}

static void x509_chain_pem_hostile(void **state)
{
	static const char key_block[] =
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	static const char bad_der[] =
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	static const char bad_base64[] =
		"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
	static const char unterminated[] = "-----BEGIN CERTIFICATE-----\nAAAA\n";
	STACK_OF(X509) *chain = NULL;
	struct wd_error err;

	(void)state;
	assert_int_equal(crypto_x509_chain_from_pem("", 0, 4, &chain, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid certificate PEM: no CERTIFICATE block");
	assert_int_equal(crypto_x509_chain_from_pem("hello", 5, 4, &chain, &err), WD_EINVAL);
	assert_int_equal(crypto_x509_chain_from_pem(key_block, strlen(key_block), 4, &chain, &err),
		WD_EINVAL);
	assert_non_null(strstr(err.detail, "block 1 is \"PRIVATE KEY\""));
	assert_int_equal(crypto_x509_chain_from_pem(bad_der, strlen(bad_der), 4, &chain, &err),
		WD_EINVAL);
	assert_non_null(strstr(err.detail, "certificate 1 is not valid DER"));
	assert_int_equal(crypto_x509_chain_from_pem(bad_base64, strlen(bad_base64), 4, &chain,
				 &err), WD_EINVAL);
	assert_int_equal(crypto_x509_chain_from_pem(unterminated, strlen(unterminated), 4, &chain,
				 &err), WD_EINVAL);
	assert_null(chain);
	assert_int_equal(crypto_x509_chain_to_pem(NULL, 1, NULL), WD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(x509_serial_random),
		cmocka_unit_test(x509_serial_hex_exact),
		cmocka_unit_test(x509_times),
		cmocka_unit_test(x509_fingerprint),
		cmocka_unit_test(x509_chain_pem_round_trip),
		cmocka_unit_test(x509_chain_pem_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
