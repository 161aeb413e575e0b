/* DSSE envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse
 * v1.0): a payload, its type, and signatures over the pre-authentication
 * encoding PAE(payloadType, payload). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"
#include "supply/sign.h"

/* The payload type of in-toto attestations. */
#define SUPPLY_DSSE_INTOTO_TYPE "application/vnd.in-toto+json"

/* Ceilings on what an envelope may carry: signatures, the payload type and
 * the decoded payload, in bytes. An SBOM predicate of a large root file
 * system fits in the payload. */
#define SUPPLY_DSSE_SIGNATURES_MAX 16
#define SUPPLY_DSSE_TYPE_MAX 256
#define SUPPLY_DSSE_PAYLOAD_MAX (32 * 1024 * 1024)

/* Ceiling on an envelope or bundle file, in bytes: the base64 payload is a
 * third larger than SUPPLY_DSSE_PAYLOAD_MAX. */
#define SUPPLY_ENVELOPE_FILE_MAX (48 * 1024 * 1024)

struct supply_dsse_signature {
	char *keyid;   /* "" when absent; an unauthenticated hint */
	uint8_t *sig;  /* raw signature bytes (DER ECDSA for warden's keys) */
	size_t sig_len;
};

struct supply_dsse_envelope {
	char *payload_type;
	uint8_t *payload;
	size_t payload_len;
	struct supply_dsse_signature *signatures;
	size_t signature_count;
};

/* Reads a DSSE envelope from its JSON object (the "dsseEnvelope" member of a
 * Sigstore bundle, or a whole envelope file). what and path name it in
 * errors. Requires payload, payloadType and at least one signature with a
 * non-empty sig; rejects unknown fields. */
WD_MUST_CHECK int supply_dsse_from_json(json_t *object, const char *what, const char *path,
	struct supply_dsse_envelope *ret_envelope, struct wd_error *err);

/* Parses a DSSE envelope file's JSON text. */
WD_MUST_CHECK int supply_dsse_parse(const char *text, size_t len,
	struct supply_dsse_envelope *ret_envelope, struct wd_error *err);

/* Builds the JSON object of envelope: payload, payloadType, signatures
 * (each with keyid and sig), base64 with the standard alphabet. */
WD_MUST_CHECK int supply_dsse_to_json(const struct supply_dsse_envelope *envelope,
	json_t **ret_object);

/* Returns PAE(payload_type, payload) = "DSSEv1" SP LEN(type) SP type SP
 * LEN(payload) SP payload, with lengths in ASCII decimal, in *ret_pae
 * (malloc'd). */
WD_MUST_CHECK int supply_dsse_pae(const char *payload_type, const uint8_t *payload,
	size_t payload_len, uint8_t **ret_pae, size_t *ret_len);

/* Signs PAE(payload_type, payload) with the ECDSA P-256 key (over its
 * SHA-256 digest) and fills *ret_envelope with one signature whose keyid is
 * keyid (may be ""). The payload is copied. */
WD_MUST_CHECK int supply_dsse_sign(EVP_PKEY *key, const char *keyid, const char *payload_type,
	const uint8_t *payload, size_t payload_len, struct supply_dsse_envelope *ret_envelope,
	struct wd_error *err);

/* Succeeds when one of the envelope's signatures verifies over its PAE with
 * key. WD_ECRYPTO when none does, and the errors of supply_digest_verify
 * when the only signature is malformed. */
WD_MUST_CHECK int supply_dsse_verify(const struct supply_dsse_envelope *envelope, EVP_PKEY *key,
	struct wd_error *err);

/* Frees the members of envelope and zeroes it; accepts NULL. */
void supply_dsse_clear(struct supply_dsse_envelope *envelope);
