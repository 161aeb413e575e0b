/* X.509-SVIDs and the CA certificates that sign them, per the X.509-SVID
 * standard: one URI SAN, CA:false leaves with critical digitalSignature key
 * usage and serverAuth+clientAuth EKU, CA:true signers with keyCertSign and
 * cRLSign whose SPIFFE ID has no path. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"
#include "identity/spiffe_id.h"

/* Default allowance for clocks behind the server's: notBefore is set this
 * many seconds in the past (SPIRE uses 10 s). */
#define X509SVID_DEFAULT_BACKDATE_SECONDS 10

struct x509svid_request {
	const struct spiffe_id *id;
	EVP_PKEY *public_key;          /* the subject's key, from a CSR */
	/* Optional DER SubjectPublicKeyInfo of public_key, as
	 * csr_parse_and_verify_spki returns it. x509svid_issuer_issue_der
	 * copies an EC P-256 or P-384 one into the certificate verbatim, which
	 * skips reading the point back from public_key (OpenSSL 3.0 converts
	 * it to affine coordinates on every read). It must encode the same key
	 * as public_key: the issuer checks that it is an uncompressed point on
	 * its curve, not that it matches public_key. Other key types fall back
	 * to public_key; x509svid_issuer_issue ignores it. */
	const uint8_t *public_key_spki;
	size_t public_key_spki_len;
	const char *const *dns_names;  /* optional DNS SANs; the first also
	                                  becomes the subject CN */
	size_t dns_name_count;
	int64_t now;                   /* Unix seconds */
	int64_t ttl_seconds;           /* cut to the CA's notAfter */
	int64_t backdate_seconds;
};

/* Signs an X.509-SVID for request with the CA. Prepares a new issuer for
 * the one call, so callers that sign many should keep an x509svid_issuer. */
WD_MUST_CHECK int x509svid_issue(X509 *ca_cert, EVP_PKEY *ca_key,
	const struct x509svid_request *request, X509 **ret_cert, struct wd_error *err);

/* A CA prepared for signing many SVIDs: the extensions every SVID shares
 * and a signing context, built once. Use it from one thread at a time. */
struct x509svid_issuer;

/* Prepares an issuer for the CA; it holds references to ca_cert and ca_key.
 * WD_EINVAL when the key does not match the certificate or the certificate
 * has no subject key identifier. */
WD_MUST_CHECK int x509svid_issuer_new(X509 *ca_cert, EVP_PKEY *ca_key,
	struct x509svid_issuer **ret_issuer, struct wd_error *err);

/* Signs an X.509-SVID for request through the OpenSSL X509 API, with the
 * same certificate profile as x509svid_issue. */
WD_MUST_CHECK int x509svid_issuer_issue(struct x509svid_issuer *issuer,
	const struct x509svid_request *request, X509 **ret_cert, struct wd_error *err);

/* Serial numbers are 16 random bytes with the top bit cleared: positive,
 * at most 16 octets in DER and never 0 (RFC 5280 section 4.1.2.2). */
#define X509SVID_SERIAL_BYTES 16

/* Random bytes an issuer draws from RAND_bytes at once for its serials:
 * one RAND_bytes call per 256 serials instead of one per serial. */
#define X509SVID_SERIAL_POOL_BYTES 4096

/* The serial in lowercase hex without leading zeros, plus the NUL. */
#define X509SVID_SERIAL_HEX_SIZE (2 * X509SVID_SERIAL_BYTES + 1)

/* An issued X.509-SVID in its encoded forms; release with
 * x509svid_issued_clear. */
struct x509svid_issued {
	uint8_t *der;          /* the Certificate */
	size_t der_len;
	char *pem;             /* one CERTIFICATE block */
	char serial_hex[X509SVID_SERIAL_HEX_SIZE];
	int64_t not_after;     /* Unix seconds, cut to the CA's notAfter */
	bool from_template;    /* true: the DER-template path encoded it */
};

/* Frees the buffers of issued and zeroes it; accepts NULL. */
void x509svid_issued_clear(struct x509svid_issued *issued);

/* Signs an X.509-SVID for request with the same profile, and returns DER
 * and PEM without building an X509 object. EC P-256 and P-384 subject keys
 * take the DER-template path. Other keys, RSA among them, take
 * x509svid_issuer_issue's path, and the result is encoded from it. Same
 * errors as x509svid_issuer_issue, and WD_EINVAL when public_key_spki is
 * not DER, or names P-256 or P-384 but does not carry an uncompressed
 * point on that curve. */
WD_MUST_CHECK int x509svid_issuer_issue_der(struct x509svid_issuer *issuer,
	const struct x509svid_request *request, struct x509svid_issued *ret_issued,
	struct wd_error *err);

/* Writes X509SVID_SERIAL_BYTES serial bytes; the issuer then clears the top
 * bit. Returns 0 or a negative error code. */
typedef int (*x509svid_serial_fn)(void *context, uint8_t serial[X509SVID_SERIAL_BYTES]);

/* Replaces the issuer's serial source (a pool the issuer refills from
 * RAND_bytes X509SVID_SERIAL_POOL_BYTES at a time) with source, so tests
 * can issue the same certificate twice; NULL restores RAND_bytes. A source
 * that yields 0 after the top bit is cleared fails the signing with
 * WD_EINTERNAL. */
void x509svid_issuer_set_serial_source(struct x509svid_issuer *issuer,
	x509svid_serial_fn source, void *context);

/* Frees the issuer; accepts NULL. */
void x509svid_issuer_free(struct x509svid_issuer *issuer);

/* Creates a self-signed trust-domain CA certificate for key, valid from
 * now - backdate to now + ttl, with URI SAN spiffe://trust_domain. */
WD_MUST_CHECK int x509svid_ca_create(EVP_PKEY *key, const char *trust_domain, int64_t now,
	int64_t ttl_seconds, int64_t backdate_seconds, X509 **ret_cert, struct wd_error *err);

/* Validates an SVID chain (leaf first) against the trust domain's CA
 * certificates at time now: RFC 5280 path validation, the leaf rules of the
 * X.509-SVID standard, and exactly one URI SAN. Writes the SPIFFE ID of the
 * leaf to ret_id. */
WD_MUST_CHECK int x509svid_verify(STACK_OF(X509) *chain, X509 *const *authorities,
	size_t authority_count, int64_t now, struct spiffe_id *ret_id, struct wd_error *err);

/* Reads the SPIFFE ID from the single URI SAN of cert. */
WD_MUST_CHECK int x509svid_spiffe_id(X509 *cert, struct spiffe_id *ret_id,
	struct wd_error *err);
