/* Steps shared by the verification of bundles and attestations. */
#pragma once

#include "supply/dsse.h"
#include "supply/verify.h"

/* The public keys a signature may verify with: the trusted keys (borrowed)
 * or the leaf key of a verified X.509-SVID (owned). */
struct supply_signers {
	EVP_PKEY *const *keys;
	size_t count;
	EVP_PKEY *leaf_key;
};

/* Picks the signers for bundle's material, or for a bare DSSE envelope when
 * bundle is NULL. For certificate material, verifies the chain against the
 * trust bundle and the leaf's SPIFFE ID (stored in verified). */
WD_MUST_CHECK int supply_signers_resolve(const struct supply_bundle *bundle,
	const struct supply_trust *trust, struct supply_signers *ret_signers,
	struct supply_verified *verified, struct wd_error *err);

void supply_signers_clear(struct supply_signers *signers);

/* Verifies a DSSE envelope holding an in-toto Statement about digest with
 * one of signers; predicate_type may be NULL to accept any. */
WD_MUST_CHECK int supply_verify_dsse_statement(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const struct supply_dsse_envelope *envelope, const struct supply_signers *signers,
	const char *predicate_type, struct supply_verified *verified, struct wd_error *err);
