/* Certificate helpers: random serials, PEM of certificates and chains,
 * validity times as Unix seconds and SHA-256 fingerprints. */
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "common/alloc.h"
#include "crypto/x509.h"

/* 16 bytes with the top bit cleared give 127 random bits, which makes a
 * serial collision within one CA negligible. */
#define SERIAL_BYTES 16

/* Largest PEM text crypto_x509_chain_from_pem reads. */
#define CHAIN_PEM_MAX_BYTES (4u * 1024u * 1024u)

static const char hex_digits[] = "0123456789abcdef";

static void hex_encode(const unsigned char *data, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[data[i] >> 4];
		out[2 * i + 1] = hex_digits[data[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int crypto_x509_set_random_serial(X509 *cert)
{
	unsigned char bytes[SERIAL_BYTES];
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = NULL;
	bool all_zero = true;
	int rc;

	if (!cert)
		return WD_EINVAL;

	/* A serial must be positive (RFC 5280 section 4.1.2.2), so the top bit
	 * is cleared. DER then needs no leading zero octet, and the encoding
	 * stays within 16 octets. An all-zero draw is replaced. */
	do {
		if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
			ERR_clear_error();
			return WD_EINTERNAL;
		}
		bytes[0] &= 0x7f;
		all_zero = true;
		for (size_t i = 0; i < sizeof(bytes); i++)
			all_zero = all_zero && bytes[i] == 0;
	} while (all_zero);

	bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
	WD_ENSURE(bn, WD_ENOMEM);
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	WD_ENSURE(serial, WD_ENOMEM);
	WD_ENSURE(X509_set_serialNumber(cert, serial), WD_EINTERNAL);
	rc = 0;
out:
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	OPENSSL_cleanse(bytes, sizeof(bytes));
	ERR_clear_error();
	return rc;
}

int crypto_x509_serial_hex(const X509 *cert, char *out, size_t out_len)
{
	const ASN1_INTEGER *serial;
	const unsigned char *data;
	size_t len;
	size_t pos = 0;
	const char *digits;
	size_t digits_len;
	char full[2 * 64 + 1];

	if (!out || out_len == 0)
		return WD_EINVAL;
	out[0] = '\0';
	if (!cert)
		return WD_EINVAL;

	serial = X509_get0_serialNumber(cert);
	data = ASN1_STRING_get0_data(serial);
	len = (size_t)ASN1_STRING_length(serial);
	/* RFC 5280 allows 20 octets. The bound of 64 leaves room for
	 * non-conforming certificates without an unbounded buffer. */
	if (len > 64)
		return WD_ETOOBIG;

	hex_encode(data, len, full);
	digits = full + strspn(full, "0");
	if (*digits == '\0')
		digits = "0";
	digits_len = strlen(digits);

	if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER)
		out[pos++] = '-';
	if (pos + digits_len >= out_len) {
		out[0] = '\0';
		return WD_ETOOBIG;
	}
	memcpy(out + pos, digits, digits_len + 1);
	return 0;
}

/* Copies the contents of a memory BIO into a NUL-terminated malloc'd
 * string. */
static int bio_to_string(BIO *bio, char **ret_text)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	char *text;

	if (len < 0 || !data)
		return WD_EINTERNAL;
	text = wd_strndup(data, (size_t)len);
	if (!text)
		return WD_ENOMEM;
	*ret_text = text;
	return 0;
}

int crypto_x509_chain_to_pem(X509 *const *certs, size_t count, char **ret_pem)
{
	BIO *bio = NULL;
	int rc;

	if (ret_pem)
		*ret_pem = NULL;
	if (!certs || count == 0 || !ret_pem)
		return WD_EINVAL;

	bio = BIO_new(BIO_s_mem());
	WD_ENSURE(bio, WD_ENOMEM);
	for (size_t i = 0; i < count; i++) {
		WD_ENSURE(certs[i], WD_EINVAL);
		WD_ENSURE(PEM_write_bio_X509(bio, certs[i]), WD_EINTERNAL);
	}
	WD_GUARD(bio_to_string(bio, ret_pem));
	rc = 0;
out:
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int crypto_x509_to_pem(X509 *cert, char **ret_pem)
{
	return crypto_x509_chain_to_pem(&cert, 1, ret_pem);
}

/* True when the last OpenSSL error reports that the PEM reader found no
 * further BEGIN line, which is the normal end of a chain. */
static bool pem_at_end(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* Decodes one PEM block's DER as a certificate, rejecting trailing bytes. */
static X509 *decode_cert_der(const unsigned char *der, long der_len)
{
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, der_len);

	if (cert && p != der + der_len) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

int crypto_x509_chain_from_pem(const char *pem, size_t len, size_t max_count,
	STACK_OF(X509) **ret_chain, struct wd_error *err)
{
	STACK_OF(X509) *chain = NULL;
	BIO *bio = NULL;
	char *name = NULL;
	char *header = NULL;
	unsigned char *der = NULL;
	long der_len = 0;
	int rc;

	if (ret_chain)
		*ret_chain = NULL;
	if (!pem || !ret_chain)
		return wd_error_set(err, WD_EINVAL, "certificate parsing: missing argument");
	if (len > CHAIN_PEM_MAX_BYTES)
		return wd_error_set(err, WD_ETOOBIG,
			"certificate PEM of %zu bytes is larger than %u bytes", len,
			CHAIN_PEM_MAX_BYTES);

	chain = sk_X509_new_null();
	bio = BIO_new_mem_buf(pem, (int)len);
	WD_ENSURE(chain && bio, WD_ENOMEM);

	for (;;) {
		X509 *cert;
		size_t index = (size_t)sk_X509_num(chain);

		ERR_clear_error();
		if (!PEM_read_bio(bio, &name, &header, &der, &der_len)) {
			if (pem_at_end())
				break;
			rc = wd_error_set(err, WD_EINVAL,
				"invalid certificate PEM: block %zu is malformed", index + 1);
			goto out;
		}
		if (strcmp(name, PEM_STRING_X509) != 0) {
			rc = wd_error_set(err, WD_EINVAL,
				"invalid certificate PEM: block %zu is \"%.40s\", expected "
				"\"CERTIFICATE\"", index + 1, name);
			goto out;
		}
		if (index >= max_count) {
			rc = wd_error_set(err, WD_ETOOBIG,
				"certificate PEM holds more than %zu certificates", max_count);
			goto out;
		}
		cert = decode_cert_der(der, der_len);
		if (!cert) {
			rc = wd_error_set(err, WD_EINVAL,
				"invalid certificate PEM: certificate %zu is not valid DER", index + 1);
			goto out;
		}
		if (!sk_X509_push(chain, cert)) {
			X509_free(cert);
			rc = WD_ENOMEM;
			goto out;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
		name = header = NULL;
		der = NULL;
	}

	if (sk_X509_num(chain) == 0) {
		rc = wd_error_set(err, WD_EINVAL, "invalid certificate PEM: no CERTIFICATE block");
		goto out;
	}
	*ret_chain = WD_TAKE_PTR(chain);
	rc = 0;
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
	BIO_free(bio);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return rc;
}

static int asn1_time_to_unix(const ASN1_TIME *t, int64_t *ret_time)
{
	struct tm tm;

	*ret_time = 0;
	if (!t || !ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		return WD_EINVAL;
	}
	*ret_time = (int64_t)timegm(&tm);
	return 0;
}

int crypto_x509_not_after(const X509 *cert, int64_t *ret_time)
{
	if (!ret_time)
		return WD_EINVAL;
	*ret_time = 0;
	if (!cert)
		return WD_EINVAL;
	return asn1_time_to_unix(X509_get0_notAfter(cert), ret_time);
}

int crypto_x509_not_before(const X509 *cert, int64_t *ret_time)
{
	if (!ret_time)
		return WD_EINVAL;
	*ret_time = 0;
	if (!cert)
		return WD_EINVAL;
	return asn1_time_to_unix(X509_get0_notBefore(cert), ret_time);
}

int crypto_x509_fingerprint(const X509 *cert, char *out, size_t out_len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!out || out_len == 0)
		return WD_EINVAL;
	out[0] = '\0';
	if (!cert)
		return WD_EINVAL;
	if (out_len < 2 * 32 + 1)
		return WD_ETOOBIG;
	if (!X509_digest(cert, EVP_sha256(), md, &md_len) || md_len != 32) {
		ERR_clear_error();
		return WD_EINTERNAL;
	}
	hex_encode(md, md_len, out);
	return 0;
}
