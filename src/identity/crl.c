/* Version 2 CRLs (RFC 5280 section 5) signed by a trust-domain CA. */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/alloc.h"
#include "crypto/key.h"
#include "identity/crl.h"

/* A serial of up to 20 octets (RFC 5280 section 4.1.2.2) is 40 hex digits. */
#define SERIAL_HEX_MAX 40

/* Accepts an optional '-' (crypto_x509_serial_hex writes one for the
 * negative serials of non-conforming certificates) and 1..40 hex digits. */
static bool serial_hex_valid(const char *hex)
{
	size_t len;

	if (!hex)
		return false;
	if (hex[0] == '-')
		hex++;
	len = strlen(hex);
	return len >= 1 && len <= SERIAL_HEX_MAX && strspn(hex, "0123456789abcdefABCDEF") == len;
}

static int add_revoked(X509_CRL *crl, const struct crl_revoked *entry, struct wd_error *err)
{
	X509_REVOKED *revoked = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *date = NULL;
	BIGNUM *bn = NULL;
	int rc;

	if (!serial_hex_valid(entry->serial_hex))
		return wd_error_set(err, WD_EINVAL, "invalid CRL entry: serial \"%.64s\" is not "
			"1 to 40 hex digits", entry->serial_hex ? entry->serial_hex : "(null)");

	WD_ENSURE(BN_hex2bn(&bn, entry->serial_hex) > 0, WD_ENOMEM);
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	date = ASN1_TIME_set(NULL, (time_t)entry->revoked_at);
	revoked = X509_REVOKED_new();
	WD_ENSURE(serial && date && revoked, WD_ENOMEM);
	WD_ENSURE(X509_REVOKED_set_serialNumber(revoked, serial), WD_ENOMEM);
	WD_ENSURE(X509_REVOKED_set_revocationDate(revoked, date), WD_ENOMEM);
	WD_ENSURE(X509_CRL_add0_revoked(crl, revoked), WD_ENOMEM);
	revoked = NULL;
	rc = 0;
out:
	X509_REVOKED_free(revoked);
	ASN1_TIME_free(date);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return rc;
}

/* Sorts the entries by serial and rejects a serial listed twice. */
static int sort_revoked(X509_CRL *crl, struct wd_error *err)
{
	STACK_OF(X509_REVOKED) *entries;

	if (!X509_CRL_sort(crl))
		return WD_EINTERNAL;
	entries = X509_CRL_get_REVOKED(crl);
	for (int i = 1; i < sk_X509_REVOKED_num(entries); i++) {
		const ASN1_INTEGER *a =
			X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i - 1));
		const ASN1_INTEGER *b =
			X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i));

		if (ASN1_INTEGER_cmp(a, b) == 0)
			return wd_error_set(err, WD_EINVAL,
				"invalid CRL entries: a serial is listed more than once");
	}
	return 0;
}

static int add_crl_number(X509_CRL *crl, int64_t crl_number)
{
	ASN1_INTEGER *number = ASN1_INTEGER_new();
	int rc = WD_ENOMEM;

	if (number && ASN1_INTEGER_set_int64(number, crl_number) &&
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
	ASN1_INTEGER_free(number);
	return rc;
}

/* Adds the authorityKeyIdentifier (RFC 5280 section 5.2.1) holding the CA's
 * subjectKeyIdentifier, so a relying party finds the right CA key after a
 * rotation. */
static int add_authority_key_id(X509_CRL *crl, X509 *ca_cert, struct wd_error *err)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca_cert);
	AUTHORITY_KEYID *akid = NULL;
	int rc;

	if (!ski)
		return wd_error_set(err, WD_EINVAL,
			"the CA certificate has no subjectKeyIdentifier for the CRL's "
			"authorityKeyIdentifier");
	akid = AUTHORITY_KEYID_new();
	WD_ENSURE(akid, WD_ENOMEM);
	akid->keyid = ASN1_OCTET_STRING_dup(ski);
	WD_ENSURE(akid->keyid, WD_ENOMEM);
	WD_ENSURE(X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0,
			  X509V3_ADD_DEFAULT) == 1, WD_ENOMEM);
	rc = 0;
out:
	AUTHORITY_KEYID_free(akid);
	return rc;
}

static int set_times(X509_CRL *crl, int64_t now, int64_t next_update)
{
	ASN1_TIME *this_time = ASN1_TIME_set(NULL, (time_t)now);
	ASN1_TIME *next_time = ASN1_TIME_set(NULL, (time_t)next_update);
	int rc = WD_ENOMEM;

	if (this_time && next_time && X509_CRL_set1_lastUpdate(crl, this_time) &&
	    X509_CRL_set1_nextUpdate(crl, next_time))
		rc = 0;
	ASN1_TIME_free(this_time);
	ASN1_TIME_free(next_time);
	return rc;
}

int crl_build(X509 *ca_cert, EVP_PKEY *ca_key, const struct crl_revoked *revoked,
	size_t revoked_count, int64_t crl_number, int64_t now, int64_t next_update_seconds,
	X509_CRL **ret_crl, struct wd_error *err)
{
	X509_CRL *crl = NULL;
	int64_t next_update;
	int rc;

	if (ret_crl)
		*ret_crl = NULL;
	if (!ca_cert || !ca_key || !ret_crl || (!revoked && revoked_count > 0))
		return wd_error_set(err, WD_EINVAL, "CRL build: missing argument");
	wd_error_clear(err);
	if (crl_number < 0)
		return wd_error_set(err, WD_EINVAL, "invalid CRL number %lld: must not be negative",
			(long long)crl_number);
	if (next_update_seconds <= 0 || __builtin_add_overflow(now, next_update_seconds,
						 &next_update))
		return wd_error_set(err, WD_EINVAL,
			"invalid CRL next update interval %lld: must be positive",
			(long long)next_update_seconds);
	if (X509_check_private_key(ca_cert, ca_key) != 1) {
		ERR_clear_error();
		return wd_error_set(err, WD_EINVAL, "the CA key does not match the CA certificate");
	}

	crl = X509_CRL_new();
	WD_ENSURE(crl, WD_ENOMEM);
	/* The value 1 encodes v2, which extensions require (section 5.1.2.1). */
	WD_ENSURE(X509_CRL_set_version(crl, X509_CRL_VERSION_2), WD_EINTERNAL);
	WD_ENSURE(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca_cert)), WD_ENOMEM);
	WD_GUARD(set_times(crl, now, next_update));
	for (size_t i = 0; i < revoked_count; i++)
		WD_GUARD(add_revoked(crl, &revoked[i], err));
	WD_GUARD(sort_revoked(crl, err));
	WD_GUARD(add_crl_number(crl, crl_number));
	WD_GUARD(add_authority_key_id(crl, ca_cert, err));

	if (X509_CRL_sign(crl, ca_key, crypto_key_signing_digest(ca_key)) <= 0) {
		rc = wd_error_set(err, WD_ECRYPTO, "signing the CRL failed");
		goto out;
	}
	*ret_crl = WD_TAKE_PTR(crl);
	rc = 0;
out:
	if (rc < 0 && err && err->code != rc)
		wd_error_set(err, rc, "building the CRL failed");
	X509_CRL_free(crl);
	ERR_clear_error();
	return rc;
}

int crl_to_pem(X509_CRL *crl, char **ret_pem)
{
	BIO *bio = NULL;
	char *data = NULL;
	long len;
	int rc;

	if (ret_pem)
		*ret_pem = NULL;
	if (!crl || !ret_pem)
		return WD_EINVAL;

	bio = BIO_new(BIO_s_mem());
	WD_ENSURE(bio, WD_ENOMEM);
	WD_ENSURE(PEM_write_bio_X509_CRL(bio, crl), WD_EINTERNAL);
	len = BIO_get_mem_data(bio, &data);
	WD_ENSURE(len >= 0 && data, WD_EINTERNAL);
	*ret_pem = wd_strndup(data, (size_t)len);
	WD_ENSURE(*ret_pem, WD_ENOMEM);
	rc = 0;
out:
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}
