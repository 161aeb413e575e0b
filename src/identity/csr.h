/* Certificate signing requests from nodes and workloads: bounded parsing,
 * self-signature check, and the public key they carry. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"

/* Upper bound for a CSR, PEM or DER; larger ones fail with WD_ETOOBIG. */
#define CSR_MAX_BYTES (64u * 1024u)

/* Parses a PKCS#10 CSR in PEM or DER, checks its self-signature and that its
 * key is of a type warden accepts (EC P-256/P-384, RSA >= 2048 bits), and
 * returns the public key (caller frees). The CSR's subject and extensions
 * are ignored: the server decides the SVID's names. Errors are WD_EINVAL,
 * WD_ECRYPTO for a bad signature, WD_ETOOBIG, each with detail. */
WD_MUST_CHECK int csr_parse_and_verify(const void *data, size_t len,
	EVP_PKEY **ret_public_key, struct wd_error *err);

/* Like csr_parse_and_verify, and also returns the request's DER
 * SubjectPublicKeyInfo (malloc'd, caller frees), the bytes the decoded key
 * came from. Pass it as the public_key_spki of an X.509-SVID request so the
 * issuer copies it instead of encoding the key again. */
WD_MUST_CHECK int csr_parse_and_verify_spki(const void *data, size_t len,
	EVP_PKEY **ret_public_key, uint8_t **ret_spki, size_t *ret_spki_len,
	struct wd_error *err);
