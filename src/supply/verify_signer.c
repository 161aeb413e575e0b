/* Signer resolution: the trusted keys for key-signed content, or the leaf of
 * an X.509-SVID chain that verifies against the trust bundle and names the
 * expected SPIFFE ID. */
#include <string.h>
#include <time.h>

#include "crypto/x509.h"
#include "identity/x509svid.h"
#include "supply/verify_internal.h"

void supply_signers_clear(struct supply_signers *signers)
{
	if (!signers)
		return;
	EVP_PKEY_free(signers->leaf_key);
	memset(signers, 0, sizeof(*signers));
}

/* Returns the time of the chain check; see struct supply_trust. */
static int check_time(X509 *leaf, const struct supply_trust *trust, int64_t *ret_time)
{
	int64_t now = trust->now ? trust->now : (int64_t)time(NULL);
	int64_t not_after;

	*ret_time = now;
	if (trust->require_current)
		return WD_OK;
	/* OpenSSL counts a certificate as expired at its notAfter second
	 * (X509_cmp_time treats equal as earlier), so the last second it
	 * accepts is the one before. */
	WD_TRY(crypto_x509_not_after(leaf, &not_after));
	if (not_after <= now)
		*ret_time = not_after - 1;
	return WD_OK;
}

static int check_identity(const struct spiffe_id *signer, const char *expected_text,
	struct supply_verified *verified, struct wd_error *err)
{
	struct spiffe_id expected;

	WD_TRY(spiffe_id_format(signer, verified->spiffe_id, sizeof(verified->spiffe_id)));
	WD_TRY(spiffe_id_parse(expected_text, strlen(expected_text), &expected, err));
	if (strcmp(signer->trust_domain, expected.trust_domain) != 0 ||
	    strcmp(signer->path, expected.path) != 0)
		return wd_error_set(err, WD_ECRYPTO,
			"wrong signer: the certificate's SPIFFE ID is %.1024s, expected %.1024s",
			verified->spiffe_id, expected_text);
	return WD_OK;
}

/* Verifies the bundle's certificates as an X.509-SVID chain and keeps the
 * leaf's public key. */
static int resolve_svid(STACK_OF(X509) *chain, const struct supply_trust *trust,
	struct supply_signers *signers, struct supply_verified *verified, struct wd_error *err)
{
	struct spiffe_id signer;
	int64_t at = 0;
	X509 *leaf = sk_X509_value(chain, 0);

	if (trust->authority_count == 0 || !trust->spiffe_id)
		return wd_error_set(err, WD_EINVAL,
			"the signature comes with an X.509 certificate: verify it with a trust bundle "
			"and the expected SPIFFE ID");
	if (!leaf)
		return wd_error_set(err, WD_EINVAL, "the bundle's certificate chain is empty");
	WD_TRY(check_time(leaf, trust, &at));
	WD_TRY(x509svid_verify(chain, trust->authorities, trust->authority_count, at, &signer,
		err));
	WD_TRY(check_identity(&signer, trust->spiffe_id, verified, err));

	signers->leaf_key = X509_get_pubkey(leaf);
	if (!signers->leaf_key)
		return wd_error_set(err, WD_EINVAL, "the signer's certificate has no usable key");
	signers->keys = &signers->leaf_key;
	signers->count = 1;
	return WD_OK;
}

int supply_signers_resolve(const struct supply_bundle *bundle, const struct supply_trust *trust,
	struct supply_signers *ret_signers, struct supply_verified *verified, struct wd_error *err)
{
	int rc;

	memset(ret_signers, 0, sizeof(*ret_signers));
	if (bundle && bundle->material != SUPPLY_MATERIAL_PUBLIC_KEY) {
		rc = resolve_svid(bundle->certificates, trust, ret_signers, verified, err);
		if (rc < 0)
			supply_signers_clear(ret_signers);
		return rc;
	}
	if (trust->key_count == 0)
		return wd_error_set(err, WD_EINVAL, bundle ?
			"the bundle is signed with a key and carries no certificate: verify it with "
			"the public key" :
			"a DSSE envelope carries no certificate: verify it with the public key, or "
			"use a bundle for signatures made with an X.509-SVID");
	ret_signers->keys = trust->keys;
	ret_signers->count = trust->key_count;
	return WD_OK;
}
