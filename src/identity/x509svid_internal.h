/* State shared by x509svid.c (the issuer and the OpenSSL-API path) and
 * x509svid_der.c (the DER-template path for EC subject keys). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "identity/x509svid.h"

/* The pre-encoded DER of everything an SVID shares with the other SVIDs of
 * one CA. Each buffer is a complete TLV, and the template owns it. */
struct x509svid_template {
	bool ready;                      /* false: the template path is off */
	uint8_t *signature_algorithm;    /* AlgorithmIdentifier of the CA key */
	size_t signature_algorithm_len;
	uint8_t *issuer_name;            /* the CA's subject Name */
	size_t issuer_name_len;
	uint8_t *fixed_extensions;       /* basicConstraints, keyUsage, extKeyUsage */
	size_t fixed_extensions_len;
	uint8_t *authority_key_id;       /* the authorityKeyIdentifier extension */
	size_t authority_key_id_len;
	size_t signature_max_len;        /* EVP_PKEY_get_size of the CA key */
	EVP_MD *digest;                  /* the CA key's signing digest */
	EVP_PKEY_CTX *sign_ctx;          /* EVP_PKEY_sign set up with the CA key */
	EC_GROUP *p256;                  /* for checking subject SPKI points */
	EC_GROUP *p384;
};

/* Random bytes for serials, drawn from RAND_bytes in blocks. A forked
 * child must not hand out the parent's bytes, so the pool is emptied when
 * fork_generation differs from the count of forks that the pthread_atfork
 * child handler keeps. Taken bytes are wiped. A zeroed pool is empty. */
struct x509svid_serial_pool {
	uint8_t bytes[X509SVID_SERIAL_POOL_BYTES];
	size_t available;                /* unused bytes, at the end of bytes */
	unsigned long fork_generation;   /* the fork count when bytes were drawn */
};

/* The per-CA signing state, computed once: the leaf extensions that do
 * not depend on the subject, their DER, and a DigestSign context with the
 * CA key that each signing on the OpenSSL-API path copies. */
struct x509svid_issuer {
	X509 *ca_cert;
	EVP_PKEY *ca_key;
	int64_t ca_not_after;
	EVP_MD_CTX *sign_template;
	EVP_MD *sha1;                      /* for the subject key identifier */
	X509_EXTENSION *basic_constraints;
	X509_EXTENSION *key_usage;
	X509_EXTENSION *ext_key_usage;
	X509_EXTENSION *authority_key_id;
	EC_GROUP *group;                   /* curve of the last EC subject key */
	int group_nid;
	struct x509svid_template der;
	x509svid_serial_fn serial_source;
	void *serial_context;
	struct x509svid_serial_pool serial_pool;
};

/* The per-SVID values both paths encode, already checked. */
struct x509svid_fields {
	const uint8_t *serial;          /* X509SVID_SERIAL_BYTES, top bit clear, not 0 */
	int64_t not_before;
	int64_t not_after;
	const char *uri;                /* the SPIFFE ID */
	const char *common_name;        /* NULL: no CN */
	EVP_PKEY *public_key;
	const uint8_t *public_key_spki;  /* NULL: read the point from public_key */
	size_t public_key_spki_len;
	const char *const *dns_names;
	size_t dns_name_count;
};

/* Encodes the issuer's constant parts into issuer->der. Leaves der.ready
 * false, and returns 0, when the CA key's AlgorithmIdentifier cannot be
 * read or the key does not sign through EVP_PKEY_sign, so every SVID takes
 * the OpenSSL-API path. */
WD_MUST_CHECK int x509svid_template_init(struct x509svid_issuer *issuer);

/* Frees the template's buffers; accepts a zeroed template. */
void x509svid_template_clear(struct x509svid_template *der);

/* Encodes and signs the certificate for fields into a malloc'd DER buffer.
 * Errors: WD_EUNSUPPORTED, with nothing signed, for subject keys other
 * than uncompressed EC P-256 and P-384 points and when the template is off.
 * WD_EINVAL, with err set, for a public_key_spki that is not DER, or whose
 * P-256 or P-384 point is compressed, of the wrong length or off the curve.
 * WD_ETOOBIG when the encoding outgrows its computed bound, and WD_ECRYPTO
 * when signing fails. */
WD_MUST_CHECK int x509svid_der_issue(const struct x509svid_issuer *issuer,
	const struct x509svid_fields *fields, uint8_t **ret_der, size_t *ret_der_len,
	struct wd_error *err);

/* Encodes der as one PEM CERTIFICATE block (malloc'd, NUL-terminated), with
 * the 64-column lines PEM_write_bio_X509 writes. */
WD_MUST_CHECK int x509svid_der_to_pem(const uint8_t *der, size_t der_len, char **ret_pem);
