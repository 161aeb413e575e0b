/* Decoding of the certificates and CRLs a source hands over: concatenated
 * DER from the Workload API, PEM or DER CRL files. */
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "proxy/identity_internal.h"

int identity_der_certs(const uint8_t *der, size_t len, size_t max_count, const char *what,
	STACK_OF(X509) **ret_certs, struct wd_error *err)
{
	STACK_OF(X509) *certs = NULL;
	const unsigned char *cursor = der;
	const unsigned char *end = der + len;
	int rc;

	*ret_certs = NULL;
	WD_ENSURE(der && len > 0, wd_error_set(err, WD_EINVAL, "%s is empty", what));
	WD_ENSURE(len <= LONG_MAX, wd_error_set(err, WD_ETOOBIG, "%s is too long", what));
	certs = sk_X509_new_null();
	WD_ENSURE(certs, wd_error_set(err, WD_ENOMEM, "out of memory decoding %s", what));

	/* d2i advances the cursor past each certificate and never reads more
	 * than the remaining length. */
	while (cursor < end) {
		X509 *cert;

		WD_ENSURE((size_t)sk_X509_num(certs) < max_count,
			wd_error_set(err, WD_ETOOBIG, "%s holds more than %zu certificates", what,
				max_count));
		cert = d2i_X509(NULL, &cursor, (long)(end - cursor));
		WD_ENSURE(cert, wd_error_set(err, WD_EINVAL,
			"%s: certificate %d is not valid DER", what, sk_X509_num(certs) + 1));
		if (!sk_X509_push(certs, cert)) {
			X509_free(cert);
			rc = wd_error_set(err, WD_ENOMEM, "out of memory decoding %s", what);
			goto out;
		}
	}

	*ret_certs = WD_TAKE_PTR(certs);
	rc = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return rc;
}

static int push_crl(STACK_OF(X509_CRL) *crls, X509_CRL *crl, const char *what,
	struct wd_error *err)
{
	if (sk_X509_CRL_num(crls) >= IDENTITY_MAX_CRLS) {
		X509_CRL_free(crl);
		return wd_error_set(err, WD_ETOOBIG, "%s holds more than %d CRLs", what,
			IDENTITY_MAX_CRLS);
	}
	if (!sk_X509_CRL_push(crls, crl)) {
		X509_CRL_free(crl);
		return wd_error_set(err, WD_ENOMEM, "out of memory decoding %s", what);
	}
	return 0;
}

static int parse_pem_crls(const uint8_t *data, size_t len, const char *what,
	STACK_OF(X509_CRL) *crls, struct wd_error *err)
{
	BIO *bio = NULL;
	int found = 0;
	int rc;

	WD_ENSURE(len <= INT_MAX, wd_error_set(err, WD_ETOOBIG, "%s is too long", what));
	bio = BIO_new_mem_buf(data, (int)len);
	WD_ENSURE(bio, wd_error_set(err, WD_ENOMEM, "out of memory decoding %s", what));
	for (;;) {
		X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);

		if (!crl)
			break;
		WD_GUARD(push_crl(crls, crl, what, err));
		found++;
	}
	/* PEM_read_bio stops with "no start line" at the end of the input;
	 * anything else means a block was malformed. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE || found == 0) {
		rc = wd_error_set(err, WD_EINVAL, "%s: CRL %d is not valid PEM", what, found + 1);
		goto out;
	}
	rc = 0;
out:
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

static int parse_der_crls(const uint8_t *data, size_t len, const char *what,
	STACK_OF(X509_CRL) *crls, struct wd_error *err)
{
	const unsigned char *cursor = data;
	const unsigned char *end = data + len;
	int index = 0;
	int rc;

	WD_ENSURE(len <= LONG_MAX, wd_error_set(err, WD_ETOOBIG, "%s is too long", what));
	while (cursor < end) {
		X509_CRL *crl = d2i_X509_CRL(NULL, &cursor, (long)(end - cursor));

		index++;
		WD_ENSURE(crl, wd_error_set(err, WD_EINVAL, "%s: CRL %d is not valid DER", what,
			index));
		WD_GUARD(push_crl(crls, crl, what, err));
	}
	rc = 0;
out:
	ERR_clear_error();
	return rc;
}

int identity_parse_crls(const uint8_t *data, size_t len, const char *what,
	STACK_OF(X509_CRL) *crls, struct wd_error *err)
{
	static const char pem_marker[] = "-----BEGIN";

	if (!data || len == 0)
		return wd_error_set(err, WD_EINVAL, "%s is empty", what);
	if (memmem(data, len, pem_marker, sizeof(pem_marker) - 1))
		return parse_pem_crls(data, len, what, crls, err);
	return parse_der_crls(data, len, what, crls, err);
}
