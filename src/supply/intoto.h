/* in-toto Statements (in-toto attestation framework, Statement v1): the
 * subjects an attestation is about, identified by their digests, and a typed
 * predicate. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "supply/sign.h"

#define SUPPLY_INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"
/* The earlier Statement type, which cosign wrote before v1; read only. */
#define SUPPLY_INTOTO_STATEMENT_V01 "https://in-toto.io/Statement/v0.1"

/* Ceilings on a Statement read: subjects, and bytes of a predicateType. */
#define SUPPLY_INTOTO_SUBJECTS_MAX 1024
#define SUPPLY_INTOTO_TYPE_MAX 1024

/* Ceiling on a predicate file, in bytes: the SBOM of a large root file
 * system, with room left in SUPPLY_DSSE_PAYLOAD_MAX for the rest. */
#define SUPPLY_INTOTO_PREDICATE_MAX (16 * 1024 * 1024)

/* Resolves a predicate type name in the style of `cosign attest --type`.
 * "spdx" and "spdxjson" map to https://spdx.dev/Document, "cyclonedx" to
 * https://cyclonedx.org/bom, "openvex" to https://openvex.dev/ns.
 * "slsaprovenance" and "slsaprovenance1" map to
 * https://slsa.dev/provenance/v1 (cosign maps "slsaprovenance" to v0.2),
 * and "slsaprovenance02" to v0.2. Any other value containing ':' is taken
 * as the URI itself. *ret_uri is static or name. WD_EINVAL names any other
 * value. */
WD_MUST_CHECK int supply_predicate_type_resolve(const char *name, const char **ret_uri,
	struct wd_error *err);

/* Builds a Statement v1 with one subject (name and SHA-256 digest in
 * lowercase hex), predicate_type and predicate (a JSON object, borrowed),
 * and encodes it as compact JSON in *ret_text (malloc'd, length in
 * *ret_len). */
WD_MUST_CHECK int supply_statement_build(const char *subject_name,
	const uint8_t digest[static SUPPLY_DIGEST_LEN], const char *predicate_type,
	json_t *predicate, char **ret_text, size_t *ret_len, struct wd_error *err);

/* A parsed Statement; the strings point into root. */
struct supply_statement {
	json_t *root;
	const char *type;            /* _type */
	const char *predicate_type;
	json_t *subjects;            /* array of objects with a "digest" object */
};

/* Parses a Statement (v1, or v0.1) from a DSSE payload. Requires _type,
 * a non-empty subject list whose entries each have a non-empty digest
 * object of strings, and predicateType. Unknown fields are ignored, as the
 * framework requires of consumers. */
WD_MUST_CHECK int supply_statement_parse(const uint8_t *payload, size_t len,
	struct supply_statement *ret_statement, struct wd_error *err);

/* Succeeds when a subject's "sha256" digest equals digest; WD_ECRYPTO
 * naming the artifact digest otherwise. */
WD_MUST_CHECK int supply_statement_match_subject(const struct supply_statement *statement,
	const uint8_t digest[static SUPPLY_DIGEST_LEN], struct wd_error *err);

/* Releases the statement and zeroes it; accepts NULL. */
void supply_statement_clear(struct supply_statement *statement);
