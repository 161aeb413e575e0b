/* Verification of in-toto attestations in DSSE envelopes: the signature over
 * the PAE, the Statement's subject digest and its predicate type. */
#include <string.h>

#include "supply/intoto.h"
#include "supply/verify_internal.h"

static int verify_envelope(const struct supply_dsse_envelope *envelope,
	const struct supply_signers *signers, struct supply_verified *verified,
	struct wd_error *err)
{
	int rc = WD_ECRYPTO;

	for (size_t i = 0; i < signers->count; i++) {
		rc = supply_dsse_verify(envelope, signers->keys[i], err);
		if (rc == WD_OK) {
			verified->key_index = i;
			return WD_OK;
		}
		if (rc == WD_EINVAL)
			return rc;
	}
	if (signers->count == 1)
		return rc;
	return wd_error_set(err, WD_ECRYPTO,
		"invalid signature: the DSSE envelope verifies with none of the %zu trusted keys",
		signers->count);
}

int supply_verify_dsse_statement(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const struct supply_dsse_envelope *envelope, const struct supply_signers *signers,
	const char *predicate_type, struct supply_verified *verified, struct wd_error *err)
{
	struct supply_statement statement = { 0 };
	int rc;

	/* The signature first: nothing in the payload is trusted before. */
	WD_GUARD(verify_envelope(envelope, signers, verified, err));
	WD_ENSURE(strcmp(envelope->payload_type, SUPPLY_DSSE_INTOTO_TYPE) == 0,
		wd_error_set(err, WD_EUNSUPPORTED,
			"unsupported DSSE payloadType \"%.128s\", expected \"%s\"",
			envelope->payload_type, SUPPLY_DSSE_INTOTO_TYPE));
	WD_GUARD(supply_statement_parse(envelope->payload, envelope->payload_len, &statement,
		err));
	WD_GUARD(supply_statement_match_subject(&statement, digest, err));
	WD_ENSURE(!predicate_type || strcmp(statement.predicate_type, predicate_type) == 0,
		wd_error_set(err, WD_ECRYPTO,
			"wrong predicate type: the attestation has \"%.512s\", expected \"%.256s\"",
			statement.predicate_type, predicate_type));
	snprintf(verified->predicate_type, sizeof(verified->predicate_type), "%s",
		statement.predicate_type);
	rc = WD_OK;
out:
	supply_statement_clear(&statement);
	return rc;
}

/* A Sigstore bundle has a mediaType member; a bare envelope does not. */
static bool looks_like_bundle(const char *text, size_t len)
{
	json_t *root = json_loadb(text, len, 0, NULL);
	bool bundle = json_object_get(root, "mediaType") != NULL;

	json_decref(root);
	return bundle;
}

static int verify_bare_envelope(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const char *text, size_t len, const struct supply_trust *trust,
	const char *predicate_type, struct supply_verified *verified, struct wd_error *err)
{
	struct supply_dsse_envelope envelope;
	struct supply_signers signers = { 0 };
	int rc;

	WD_TRY(supply_dsse_parse(text, len, &envelope, err));
	WD_GUARD(supply_signers_resolve(NULL, trust, &signers, verified, err));
	WD_GUARD(supply_verify_dsse_statement(digest, &envelope, &signers, predicate_type,
		verified, err));
	rc = WD_OK;
out:
	supply_signers_clear(&signers);
	supply_dsse_clear(&envelope);
	return rc;
}

static int verify_bundled_envelope(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const char *text, size_t len, const struct supply_trust *trust,
	const char *predicate_type, struct supply_verified *verified, struct wd_error *err)
{
	struct supply_bundle bundle;
	struct supply_signers signers = { 0 };
	int rc;

	WD_TRY(supply_bundle_parse(text, len, &bundle, err));
	WD_ENSURE(bundle.content == SUPPLY_CONTENT_DSSE, wd_error_set(err, WD_EINVAL,
		"the bundle holds a message signature, not an attestation: verify it with "
		"verify-blob"));
	WD_GUARD(supply_signers_resolve(&bundle, trust, &signers, verified, err));
	WD_GUARD(supply_verify_dsse_statement(digest, &bundle.envelope, &signers, predicate_type,
		verified, err));
	rc = WD_OK;
out:
	supply_signers_clear(&signers);
	supply_bundle_clear(&bundle);
	return rc;
}

int supply_verify_attestation(const uint8_t digest[static SUPPLY_DIGEST_LEN], const char *text,
	size_t len, const struct supply_trust *trust, const char *predicate_type,
	struct supply_verified *ret_verified, struct wd_error *err)
{
	struct supply_verified verified = { 0 };
	int rc;

	if (ret_verified)
		memset(ret_verified, 0, sizeof(*ret_verified));
	if (looks_like_bundle(text, len))
		rc = verify_bundled_envelope(digest, text, len, trust, predicate_type, &verified,
			err);
	else
		rc = verify_bare_envelope(digest, text, len, trust, predicate_type, &verified, err);
	if (rc == WD_OK && ret_verified)
		*ret_verified = verified;
	return rc;
}
