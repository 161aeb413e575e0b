/* Sigstore bundles (protobuf-specs dev.sigstore.bundle.v1.Bundle in its JSON
 * form): the verification material (a public key hint or X.509
 * certificates) and the signed content (a message signature over an
 * artifact digest, or a DSSE envelope). Transparency log entries and
 * timestamps are read past but not verified. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"
#include "supply/dsse.h"
#include "supply/sign.h"

/* The media type warden writes, and the older spellings it reads. */
#define SUPPLY_BUNDLE_MEDIA_TYPE_V03 "application/vnd.dev.sigstore.bundle.v0.3+json"
#define SUPPLY_BUNDLE_MEDIA_TYPE_PREFIX "application/vnd.dev.sigstore.bundle+json;version="

/* Ceiling on the certificates of x509CertificateChain, leaf included. */
#define SUPPLY_BUNDLE_CERTS_MAX 16

enum supply_bundle_material {
	SUPPLY_MATERIAL_PUBLIC_KEY,  /* publicKey.hint */
	SUPPLY_MATERIAL_CERTIFICATE, /* certificate: the leaf only */
	SUPPLY_MATERIAL_CHAIN,       /* x509CertificateChain: leaf first */
};

enum supply_bundle_content {
	SUPPLY_CONTENT_MESSAGE_SIGNATURE,
	SUPPLY_CONTENT_DSSE,
};

struct supply_bundle {
	int minor_version;                 /* 1, 2 or 3: bundle versions 0.1 to 0.3 */
	enum supply_bundle_material material;
	char *key_hint;                    /* publicKey.hint, "" when absent */
	STACK_OF(X509) *certificates;      /* certificate or chain, leaf first */
	enum supply_bundle_content content;
	bool has_message_digest;           /* messageSignature.messageDigest given */
	uint8_t message_digest[SUPPLY_DIGEST_LEN];
	uint8_t *signature;                /* messageSignature.signature, raw bytes */
	size_t signature_len;
	struct supply_dsse_envelope envelope; /* dsseEnvelope */
};

/* Parses a bundle's JSON text. Fails with WD_EUNSUPPORTED naming an unknown
 * media type or version, or a message digest algorithm other than
 * SHA2_256. Fails with WD_EINVAL naming the field for a missing or unknown
 * field, bad base64, an empty certificate chain or a certificate that is
 * not DER. Two material or content forms at once, or none, are WD_EINVAL
 * too. */
WD_MUST_CHECK int supply_bundle_parse(const char *text, size_t len,
	struct supply_bundle *ret_bundle, struct wd_error *err);

/* Encodes bundle as v0.3 JSON text (malloc'd, compact, no newline). The
 * material is a publicKey hint, the leaf as "certificate" when it is the
 * only certificate, or x509CertificateChain with intermediates. The content
 * is a messageSignature with a SHA2_256 messageDigest, or the dsseEnvelope. There is no tlogEntries
 * member, since warden logs to no transparency log. */
WD_MUST_CHECK int supply_bundle_write(const struct supply_bundle *bundle, char **ret_text,
	struct wd_error *err);

/* Computes the public key hint of key as cosign writes it: base64 of the
 * SHA-256 of the DER SubjectPublicKeyInfo. *ret_hint is malloc'd. */
WD_MUST_CHECK int supply_bundle_key_hint(EVP_PKEY *key, char **ret_hint, struct wd_error *err);

/* Frees the members of bundle and zeroes it; accepts NULL. */
void supply_bundle_clear(struct supply_bundle *bundle);
