/* Admission control for signed binaries: the server issues SVIDs for an
 * entry with require_signed only while every unix:sha256 selector of the
 * entry names a binary with a registered signature or attestation that
 * verifies against the admission trust (admission.trusted_keys and
 * admission.trusted_spiffe_ids). Signatures live in the datastore under the
 * migration component "admission". Each one is verified when an admin
 * registers it and again at every issuance, so a key removed from the
 * configuration, a CA rotated out of the bundle or a revoked signing SVID
 * stops admitting the binary. Not part of the public interface. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"
#include "identity/authority.h"
#include "identity/registry.h"
#include "identity/spiffe_id.h"
#include "server/server.h"
#include "store/store.h"
#include "supply/sign.h"

#define ADMISSION_MIGRATION_COMPONENT "admission"

/* Ceilings: the signatures one digest may have, which bounds the work of
 * one issuance, and the size of one bundle or envelope, in bytes. */
#define ADMISSION_MAX_SIGNATURES_PER_DIGEST 16
#define ADMISSION_MAX_CONTENT_BYTES (4u * 1024u * 1024u)

/* Signature ids are lowercase RFC 4122 version 4 UUIDs. */
#define ADMISSION_ID_LEN 36

/* "key:" and the cosign key hint (base64 of 32 bytes), or an SVID's
 * SPIFFE ID. */
#define ADMISSION_SIGNER_MAX (SPIFFE_ID_MAX_LEN + 16)
#define ADMISSION_PREDICATE_TYPE_MAX SERVER_PREDICATE_TYPE_MAX_LEN

struct admission;

/* Loads the trusted keys named by config (PEM files, ECDSA P-256) and the
 * trusted SPIFFE IDs, and applies the migrations of the signature table to
 * store, which must outlive the result. WD_ECONFIG names the setting and
 * the file for a key that cannot be read or is not an ECDSA P-256 public
 * key. */
WD_MUST_CHECK int admission_open(const struct server_admission_config *config,
	struct store *store, struct admission **ret_admission, struct wd_error *err);

/* Frees the admission state; accepts NULL. */
void admission_close(struct admission *admission);

/* Returns true when the configuration names at least one trusted signer. */
bool admission_has_trust(const struct admission *admission);

/* The facts a verified signature established. */
struct admission_verdict {
	const char *kind;                         /* "signature" or "attestation" */
	char signer[ADMISSION_SIGNER_MAX];        /* "key:<hint>" or a SPIFFE ID */
	char predicate_type[ADMISSION_PREDICATE_TYPE_MAX + 1]; /* "" for signatures */
};

/* Verifies text, a Sigstore bundle (message signature or DSSE) or a bare
 * DSSE envelope, over the artifact digest against the admission trust at
 * now: a trusted key, or an X.509-SVID of a trusted SPIFFE ID that chains to
 * authority's current bundle and is not revoked. Attestations must have one
 * of admission.predicate_types when it lists any. WD_EINVAL for text that
 * is neither form, WD_ECRYPTO (or the supply library's code) with the
 * reason otherwise. */
WD_MUST_CHECK int admission_verify(struct admission *admission, struct authority *authority,
	const uint8_t digest[static SUPPLY_DIGEST_LEN], const char *text, size_t len, int64_t now,
	struct admission_verdict *ret_verdict, struct wd_error *err);

/* A stored signature. content is owned; free with admission_signature_free. */
struct admission_signature {
	char id[ADMISSION_ID_LEN + 1];
	char digest_hex[2 * SUPPLY_DIGEST_LEN + 1];
	char kind[16];
	char signer[ADMISSION_SIGNER_MAX];
	char predicate_type[ADMISSION_PREDICATE_TYPE_MAX + 1];
	int64_t created_at;
	char *content;
	size_t content_len;
};

void admission_signature_free(struct admission_signature *signature);

/* A list of stored signatures; free with admission_signature_list_free. */
struct admission_signature_list {
	struct admission_signature **items;
	size_t count;
};

void admission_signature_list_free(struct admission_signature_list *list);

/* Stores a signature that admission_verify accepted, with a random id.
 * WD_EEXIST naming the stored one when the same content is registered for
 * the digest, WD_ETOOBIG when the digest has
 * ADMISSION_MAX_SIGNATURES_PER_DIGEST already. ret_signature (may be NULL)
 * gets the stored record. */
WD_MUST_CHECK int admission_signature_add(struct admission *admission,
	const uint8_t digest[static SUPPLY_DIGEST_LEN], const char *content, size_t len,
	const struct admission_verdict *verdict, int64_t now,
	struct admission_signature **ret_signature, struct wd_error *err);

/* Lists the signatures of digest (NULL: all), oldest first. The content is
 * loaded only with with_content. */
WD_MUST_CHECK int admission_signature_list(struct admission *admission,
	const uint8_t *digest, bool with_content, struct admission_signature_list **ret_list,
	struct wd_error *err);

/* Deletes signature id and hands the record to ret_signature (may be NULL).
 * WD_EINVAL for an id that is not a lowercase UUID, WD_ENOTFOUND naming it. */
WD_MUST_CHECK int admission_signature_delete(struct admission *admission, const char *id,
	struct admission_signature **ret_signature, struct wd_error *err);

/* Encodes a stored signature as {"id","digest":"sha256:<hex>","kind",
 * "signer","predicate_type","created_at"}, without its content. */
WD_MUST_CHECK int admission_signature_to_json(const struct admission_signature *signature,
	json_t **ret_object);

/* Parses "sha256:<64 hex digits>" (hex in either case); WD_EINVAL quoting
 * field and the value otherwise. */
WD_MUST_CHECK int admission_digest_parse(const char *field, const char *text,
	uint8_t ret_digest[static SUPPLY_DIGEST_LEN], struct wd_error *err);

/* One digest of an entry that a signature admitted. */
struct admission_grant {
	char digest_hex[2 * SUPPLY_DIGEST_LEN + 1];
	char signature_id[ADMISSION_ID_LEN + 1];
	char signer[ADMISSION_SIGNER_MAX];
};

/* Decides whether entry may be issued at now. An entry without
 * require_signed is admitted with no grants. Otherwise each unix:sha256
 * selector needs a stored signature that verifies now; ret_grants (at most
 * REGISTRY_MAX_SELECTORS, malloc'd, NULL when empty) names the one that
 * did. A refusal is WD_EPERM naming the entry, the digest and the reason,
 * so an agent treats it as a refusal of that entry alone; ret_refused_digest
 * (a buffer of 2 * SUPPLY_DIGEST_LEN + 1 bytes) then contains the digest. */
WD_MUST_CHECK int admission_check_entry(struct admission *admission,
	struct authority *authority, const struct registry_entry *entry, int64_t now,
	struct admission_grant **ret_grants, size_t *ret_grant_count, char *ret_refused_digest,
	struct wd_error *err);
