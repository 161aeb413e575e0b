/* Certificate helpers: random serials, PEM and DER of certificates and
 * chains, and reading certificate fields. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"

/* Sets a random positive 128-bit serial on cert (RFC 5280 section 4.1.2.2
 * allows up to 20 octets). */
WD_MUST_CHECK int crypto_x509_set_random_serial(X509 *cert);

/* Writes the serial of cert as lowercase hex without leading zeros to out
 * (at least 41 bytes). */
WD_MUST_CHECK int crypto_x509_serial_hex(const X509 *cert, char *out, size_t out_len);

/* Encodes one certificate, or a chain of count certificates, as PEM in a
 * malloc'd string. */
WD_MUST_CHECK int crypto_x509_to_pem(X509 *cert, char **ret_pem);
WD_MUST_CHECK int crypto_x509_chain_to_pem(X509 *const *certs, size_t count, char **ret_pem);

/* Parses every certificate in PEM text; WD_EINVAL when there is none or one
 * is malformed, WD_ETOOBIG past max_count. */
WD_MUST_CHECK int crypto_x509_chain_from_pem(const char *pem, size_t len, size_t max_count,
	STACK_OF(X509) **ret_chain, struct wd_error *err);

/* Returns notAfter / notBefore of cert as Unix seconds. */
WD_MUST_CHECK int crypto_x509_not_after(const X509 *cert, int64_t *ret_time);
WD_MUST_CHECK int crypto_x509_not_before(const X509 *cert, int64_t *ret_time);

/* Returns the SHA-256 of the DER of cert as lowercase hex in out (65 bytes). */
WD_MUST_CHECK int crypto_x509_fingerprint(const X509 *cert, char *out, size_t out_len);
