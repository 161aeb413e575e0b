/* Unit tests for CRLs: entries, extensions, signature and lookups, read
 * back with the OpenSSL API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/crl.h"
#include "identity/x509svid.h"

#define NOW 1767225600 /* 2026-01-01T00:00:00Z */

struct fixture {
	EVP_PKEY *ca_key;
	X509 *ca;
	EVP_PKEY *leaf_key;
	X509 *leaves[3];
	char serials[3][41];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct spiffe_id id;
	struct x509svid_request req = { .id = &id, .now = NOW, .ttl_seconds = 3600 };

	if (!f)
		return -1;
	if (crypto_key_generate(CRYPTO_KEY_EC_P384, &f->ca_key, NULL) < 0 ||
	    crypto_key_generate(CRYPTO_KEY_EC_P256, &f->leaf_key, NULL) < 0 ||
	    x509svid_ca_create(f->ca_key, "example.org", NOW, 86400, 0, &f->ca, NULL) < 0 ||
	    spiffe_id_parse("spiffe://example.org/w", 22, &id, NULL) < 0)
		return -1;
	req.public_key = f->leaf_key;
	for (size_t i = 0; i < 3; i++) {
		if (x509svid_issue(f->ca, f->ca_key, &req, &f->leaves[i], NULL) < 0 ||
		    crypto_x509_serial_hex(f->leaves[i], f->serials[i], sizeof(f->serials[i])) < 0)
			return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < 3; i++)
		X509_free(f->leaves[i]);
	X509_free(f->ca);
	EVP_PKEY_free(f->ca_key);
	EVP_PKEY_free(f->leaf_key);
	free(f);
	return 0;
}

static int64_t time_of(const ASN1_TIME *t)
{
	struct tm tm;

	assert_true(ASN1_TIME_to_tm(t, &tm));
	return (int64_t)timegm(&tm);
}

static void crl_contents(void **state)
{
	struct fixture *f = *state;
	struct crl_revoked revoked[] = {
		{ f->serials[2], NOW - 300 },
		{ f->serials[0], NOW - 100 },
		{ "1f", NOW - 200 },
	};
	STACK_OF(X509_REVOKED) *entries;
	ASN1_INTEGER *number;
	AUTHORITY_KEYID *akid;
	X509_REVOKED *found = NULL;
	X509_CRL *crl = NULL;
	struct wd_error err;
	int crit = -1;

	wd_error_clear(&err);
	assert_int_equal(crl_build(f->ca, f->ca_key, revoked, 3, 42, NOW, 3600, &crl, &err), 0);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(f->ca)), 0);
	assert_int_equal(time_of(X509_CRL_get0_lastUpdate(crl)), NOW);
	assert_int_equal(time_of(X509_CRL_get0_nextUpdate(crl)), NOW + 3600);
	assert_int_equal(X509_CRL_get_signature_nid(crl), NID_ecdsa_with_SHA384);

	/* Signature verifies with the CA key and not with another. */
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(f->ca)), 1);
	assert_int_equal(X509_CRL_verify(crl, f->leaf_key), 0);

	entries = X509_CRL_get_REVOKED(crl);
	assert_int_equal(sk_X509_REVOKED_num(entries), 3);
	for (int i = 1; i < 3; i++)
		assert_true(ASN1_INTEGER_cmp(
			X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i - 1)),
			X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i))) < 0);
	/* 0x1f is the smallest serial, so it sorts first. */
	assert_int_equal(ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(
				 sk_X509_REVOKED_value(entries, 0))), 0x1f);
	assert_int_equal(time_of(X509_REVOKED_get0_revocationDate(
				 sk_X509_REVOKED_value(entries, 0))), NOW - 200);

	assert_int_equal(X509_CRL_get0_by_serial(crl, &found,
				 X509_get0_serialNumber(f->leaves[0])), 1);
	assert_int_equal(time_of(X509_REVOKED_get0_revocationDate(found)), NOW - 100);
	assert_int_equal(X509_CRL_get0_by_serial(crl, &found,
				 X509_get0_serialNumber(f->leaves[2])), 1);
	assert_int_equal(time_of(X509_REVOKED_get0_revocationDate(found)), NOW - 300);
	assert_int_equal(X509_CRL_get0_by_serial(crl, &found,
				 X509_get0_serialNumber(f->leaves[1])), 0);
	/* The lookup by certificate finds the revocation too. */
	assert_int_equal(X509_CRL_get0_by_cert(crl, &found, f->leaves[0]), 1);
	assert_int_equal(X509_CRL_get0_by_cert(crl, &found, f->leaves[1]), 0);

	number = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	assert_non_null(number);
	assert_int_equal(crit, 0);
	assert_int_equal(ASN1_INTEGER_get(number), 42);
	ASN1_INTEGER_free(number);

	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
	assert_non_null(akid);
	assert_int_equal(crit, 0);
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(f->ca)), 0);
	assert_null(akid->issuer);
	AUTHORITY_KEYID_free(akid);

	X509_CRL_free(crl);
}

static void crl_pem_round_trip(void **state)
{
	struct fixture *f = *state;
	struct crl_revoked revoked[] = { { f->serials[1], NOW } };
	X509_CRL *crl = NULL;
	X509_CRL *parsed;
	char *pem = NULL;
	BIO *bio;

	assert_int_equal(crl_build(f->ca, f->ca_key, revoked, 1, 1, NOW, 60, &crl, NULL), 0);
	assert_int_equal(crl_to_pem(crl, &pem), 0);
	assert_true(strncmp(pem, "-----BEGIN X509 CRL-----\n", 25) == 0);

	bio = BIO_new_mem_buf(pem, -1);
	parsed = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	assert_non_null(parsed);
	assert_int_equal(X509_CRL_cmp(crl, parsed), 0);
	assert_int_equal(X509_CRL_verify(parsed, X509_get0_pubkey(f->ca)), 1);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(parsed)), 1);

	BIO_free(bio);
	X509_CRL_free(parsed);
	X509_CRL_free(crl);
	free(pem);
	assert_int_equal(crl_to_pem(NULL, &pem), WD_EINVAL);
	assert_null(pem);
}

static void crl_empty_list(void **state)
{
	struct fixture *f = *state;
	X509_CRL *crl = NULL;

	assert_int_equal(crl_build(f->ca, f->ca_key, NULL, 0, 0, NOW, 60, &crl, NULL), 0);
	/* RFC 5280 section 5.1.2.6: with no entries the list is absent. */
	assert_null(X509_CRL_get_REVOKED(crl));
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(f->ca)), 1);
	X509_CRL_free(crl);
}

static void check_rejected(struct fixture *f, const char *serial, const char *reason)
{
	struct crl_revoked revoked[] = { { "01", NOW }, { serial, NOW } };
	X509_CRL *crl = (X509_CRL *)1;
	struct wd_error err;

	assert_int_equal(crl_build(f->ca, f->ca_key, revoked, 2, 1, NOW, 60, &crl, &err),
		WD_EINVAL);
	assert_null(crl);
	if (!strstr(err.detail, reason))
		print_error("detail: %s\n", err.detail);
	assert_non_null(strstr(err.detail, reason));
}

static void crl_rejects_bad_input(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *other = NULL;
	X509_CRL *crl = NULL;
	struct wd_error err;

	check_rejected(f, "", "serial \"\" is not 1 to 40 hex digits");
	check_rejected(f, "xyz", "serial \"xyz\" is not 1 to 40 hex digits");
	check_rejected(f, "0x1f", "is not 1 to 40 hex digits");
	check_rejected(f, "1f 2", "is not 1 to 40 hex digits");
	check_rejected(f, "-", "is not 1 to 40 hex digits");
	check_rejected(f, "12345678901234567890123456789012345678901",
		"is not 1 to 40 hex digits");
	check_rejected(f, NULL, "serial \"(null)\"");
	check_rejected(f, "001", "a serial is listed more than once");

	assert_int_equal(crl_build(f->ca, f->ca_key, NULL, 0, -1, NOW, 60, &crl, &err),
		WD_EINVAL);
	assert_non_null(strstr(err.detail, "invalid CRL number -1"));
	assert_int_equal(crl_build(f->ca, f->ca_key, NULL, 0, 1, NOW, 0, &crl, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "next update interval 0"));
	assert_int_equal(crl_build(f->ca, f->ca_key, NULL, 1, 1, NOW, 60, &crl, &err), WD_EINVAL);

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P384, &other, NULL), 0);
	assert_int_equal(crl_build(f->ca, other, NULL, 0, 1, NOW, 60, &crl, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "CA key does not match"));
	assert_null(crl);
	EVP_PKEY_free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crl_contents),
		cmocka_unit_test(crl_pem_round_trip),
		cmocka_unit_test(crl_empty_list),
		cmocka_unit_test(crl_rejects_bad_input),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
