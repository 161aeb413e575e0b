/* Certificate revocation lists (RFC 5280 section 5) that a trust-domain CA
 * signs for the SVIDs revoked before their expiry. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"

struct crl_revoked {
	const char *serial_hex;  /* lowercase hex, as crypto_x509_serial_hex */
	int64_t revoked_at;      /* Unix seconds */
};

/* Builds a v2 CRL issued by ca_cert with the cRLNumber and
 * authorityKeyIdentifier extensions, thisUpdate = now and nextUpdate = now +
 * next_update_seconds. */
WD_MUST_CHECK int crl_build(X509 *ca_cert, EVP_PKEY *ca_key, const struct crl_revoked *revoked,
	size_t revoked_count, int64_t crl_number, int64_t now, int64_t next_update_seconds,
	X509_CRL **ret_crl, struct wd_error *err);

/* Encodes a CRL as PEM in a malloc'd string. */
WD_MUST_CHECK int crl_to_pem(X509_CRL *crl, char **ret_pem);
