/* Verification of Sigstore bundles: the signer, then the message signature
 * over the artifact digest or the DSSE attestation about it. */
#include <string.h>

#include <openssl/crypto.h>

#include "common/encoding.h"
#include "supply/verify_internal.h"

/* Tries each signer on the message signature. With one signer its own
 * error is returned, so "wrong key type" is not hidden behind a mismatch. */
static int verify_message(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const struct supply_bundle *bundle, const struct supply_signers *signers,
	struct supply_verified *verified, struct wd_error *err)
{
	int rc = WD_ECRYPTO;

	for (size_t i = 0; i < signers->count; i++) {
		rc = supply_digest_verify(signers->keys[i], digest, bundle->signature,
			bundle->signature_len, err);
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
		"invalid signature: it matches the artifact with none of the %zu trusted keys",
		signers->count);
}

/* The messageDigest is an unauthenticated hint, but a bundle whose hint
 * names another artifact is rejected before the signature is checked. */
static int check_message_digest(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const struct supply_bundle *bundle, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *expected = NULL;
	_wd_cleanup_(wd_freep) char *found = NULL;

	if (!bundle->has_message_digest ||
	    CRYPTO_memcmp(digest, bundle->message_digest, SUPPLY_DIGEST_LEN) == 0)
		return WD_OK;
	WD_TRY(wd_hex_encode(digest, SUPPLY_DIGEST_LEN, &expected));
	WD_TRY(wd_hex_encode(bundle->message_digest, SUPPLY_DIGEST_LEN, &found));
	return wd_error_set(err, WD_ECRYPTO,
		"digest mismatch: the bundle signs sha256:%s, the artifact is sha256:%s", found,
		expected);
}

int supply_verify_bundle(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const struct supply_bundle *bundle, const struct supply_trust *trust,
	struct supply_verified *ret_verified, struct wd_error *err)
{
	struct supply_verified verified = { 0 };
	struct supply_signers signers = { 0 };
	int rc;

	if (ret_verified)
		memset(ret_verified, 0, sizeof(*ret_verified));
	if (bundle->content == SUPPLY_CONTENT_MESSAGE_SIGNATURE)
		WD_TRY(check_message_digest(digest, bundle, err));
	WD_TRY(supply_signers_resolve(bundle, trust, &signers, &verified, err));

	if (bundle->content == SUPPLY_CONTENT_MESSAGE_SIGNATURE)
		rc = verify_message(digest, bundle, &signers, &verified, err);
	else
		rc = supply_verify_dsse_statement(digest, &bundle->envelope, &signers, NULL,
			&verified, err);
	supply_signers_clear(&signers);
	if (rc == WD_OK && ret_verified)
		*ret_verified = verified;
	return rc;
}

int supply_verify_bundle_text(const uint8_t digest[static SUPPLY_DIGEST_LEN], const char *text,
	size_t len, const struct supply_trust *trust, struct supply_verified *ret_verified,
	struct wd_error *err)
{
	struct supply_bundle bundle;
	int rc;

	if (ret_verified)
		memset(ret_verified, 0, sizeof(*ret_verified));
	WD_TRY(supply_bundle_parse(text, len, &bundle, err));
	rc = supply_verify_bundle(digest, &bundle, trust, ret_verified, err);
	supply_bundle_clear(&bundle);
	return rc;
}
