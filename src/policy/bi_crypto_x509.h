/* Values of certificates, certificate requests and keys as OPA returns them:
 * the JSON encoding of Go's x509.Certificate, x509.CertificateRequest and
 * crypto key types. */
#pragma once

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/macros.h"
#include "policy/builtin.h"
#include "policy/value.h"

/* Builds the object of a certificate; with_uri_strings adds OPA's
 * "URIStrings" member. */
WD_MUST_CHECK int x509_cert_value(X509 *cert, bool with_uri_strings, struct rv **ret);

/* Builds the object of a certificate request. */
WD_MUST_CHECK int x509_csr_value(X509_REQ *req, struct rv **ret);

/* Builds the Go JSON of a key: rsa.PublicKey {"N", "E"}, ecdsa.PublicKey
 * {"Curve", "X", "Y"} and with private_key the private members ("D",
 * "Primes", "Precomputed"), or the base64 of an Ed25519 key. */
WD_MUST_CHECK int x509_key_value(EVP_PKEY *pkey, bool private_key, struct rv **ret);

/* Builds the JWK of a private key (RFC 7518 section 6): RSA or EC. */
WD_MUST_CHECK int x509_key_jwk(EVP_PKEY *pkey, struct rv **ret);

/* Puts key -> value into obj, taking value; WD_ENOMEM on failure. */
WD_MUST_CHECK int x509_put(struct rv *obj, const char *key, struct rv *value);

/* A base64 (standard alphabet, padded) string value of len bytes. */
struct rv *x509_b64_value(const uint8_t *data, size_t len);

/* crypto.x509.parse_keypair (bi_crypto_keypair.c). */
int bi_crypto_parse_keypair(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			    struct rv **ret);
