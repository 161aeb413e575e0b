/* Snapshots of the proxy's identity: reference counting, accessors and the
 * builder that checks an SVID and its key and makes the TLS contexts. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "crypto/x509.h"
#include "identity/x509svid.h"
#include "proxy/identity_internal.h"

/* Process-wide, so snapshots of different sources never share a number. */
static atomic_uint_fast64_t next_generation = 1;

struct proxy_identity *proxy_identity_ref(struct proxy_identity *identity)
{
	if (identity)
		atomic_fetch_add_explicit(&identity->refs, 1, memory_order_relaxed);
	return identity;
}

void proxy_identity_unref(struct proxy_identity *identity)
{
	if (!identity || atomic_fetch_sub_explicit(&identity->refs, 1, memory_order_acq_rel) != 1)
		return;
	SSL_CTX_free(identity->server_ctx);
	SSL_CTX_free(identity->client_ctx);
	identity_trust_unref(identity->trust);
	EVP_PKEY_free(identity->key);
	sk_X509_pop_free(identity->chain, X509_free);
	free(identity->chain_pem);
	free(identity);
}

const char *proxy_identity_spiffe_id(const struct proxy_identity *identity)
{
	return identity->spiffe_id;
}

int64_t proxy_identity_not_after(const struct proxy_identity *identity)
{
	return identity->not_after;
}

uint64_t proxy_identity_generation(const struct proxy_identity *identity)
{
	return identity->generation;
}

SSL_CTX *proxy_identity_server_ctx(const struct proxy_identity *identity)
{
	return identity->server_ctx;
}

SSL_CTX *proxy_identity_client_ctx(const struct proxy_identity *identity)
{
	return identity->client_ctx;
}

const char *proxy_identity_chain_pem(const struct proxy_identity *identity, size_t *ret_len)
{
	if (ret_len)
		*ret_len = identity->chain_pem_len;
	return identity->chain_pem;
}

EVP_PKEY *proxy_identity_key(const struct proxy_identity *identity)
{
	return identity->key;
}

X509 *const *proxy_identity_authorities(const struct proxy_identity *identity,
	const char *trust_domain, size_t *ret_count)
{
	const struct identity_domain *domain = identity_trust_find(identity->trust, trust_domain);

	*ret_count = domain ? domain->authority_count : 0;
	return domain ? domain->authorities : NULL;
}

int proxy_identity_verify_peer(const struct proxy_identity *identity, STACK_OF(X509) *chain,
	int64_t now, char *ret_spiffe_id, size_t spiffe_id_size,
	char ret_reason[static PROXY_REFUSAL_MAX])
{
	return identity_trust_verify(identity->trust, chain, now, ret_spiffe_id, spiffe_id_size,
		ret_reason);
}

static int chain_to_pem(struct proxy_identity *identity, struct wd_error *err)
{
	X509 *certs[IDENTITY_MAX_CHAIN];
	size_t count = (size_t)sk_X509_num(identity->chain);

	for (size_t i = 0; i < count; i++)
		certs[i] = sk_X509_value(identity->chain, (int)i);
	if (crypto_x509_chain_to_pem(certs, count, &identity->chain_pem) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory encoding the SVID chain");
	identity->chain_pem_len = strlen(identity->chain_pem);
	return 0;
}

/* Copies the chain, checks the key against the leaf and reads the leaf's
 * SPIFFE ID and notAfter. */
static int take_svid(struct proxy_identity *identity, const struct identity_input *input,
	struct wd_error *err)
{
	struct spiffe_id id;
	X509 *leaf;
	int count = input->chain ? sk_X509_num(input->chain) : 0;
	int rc;

	if (count < 1)
		return wd_error_set(err, WD_EINVAL, "the SVID chain holds no certificate");
	if (count > IDENTITY_MAX_CHAIN)
		return wd_error_set(err, WD_ETOOBIG,
			"the SVID chain holds %d certificates, at most %d are allowed", count,
			IDENTITY_MAX_CHAIN);
	if (!input->key)
		return wd_error_set(err, WD_EINVAL, "the SVID has no private key");

	identity->chain = X509_chain_up_ref(input->chain);
	if (!identity->chain)
		return wd_error_set(err, WD_ENOMEM, "out of memory copying the SVID chain");
	leaf = sk_X509_value(identity->chain, 0);

	rc = x509svid_spiffe_id(leaf, &id, err);
	if (rc < 0)
		return rc;
	if (spiffe_id_format(&id, identity->spiffe_id, sizeof(identity->spiffe_id)) < 0)
		return wd_error_set(err, WD_EINVAL, "the SVID's SPIFFE ID is too long");
	if (X509_check_private_key(leaf, input->key) != 1) {
		ERR_clear_error();
		return wd_error_set(err, WD_EINVAL,
			"the private key does not match the SVID of %s", identity->spiffe_id);
	}
	if (crypto_x509_not_after(leaf, &identity->not_after) < 0)
		return wd_error_set(err, WD_EINVAL, "the SVID of %s has an unreadable notAfter",
			identity->spiffe_id);

	if (!EVP_PKEY_up_ref(input->key))
		return wd_error_set(err, WD_ENOMEM, "out of memory referencing the SVID key");
	identity->key = input->key;

	return chain_to_pem(identity, err);
}

int identity_build(const struct identity_input *input, struct proxy_identity **ret_identity,
	struct wd_error *err)
{
	struct proxy_identity *identity = NULL;
	int rc;

	*ret_identity = NULL;
	identity = calloc(1, sizeof(*identity));
	WD_ENSURE(identity, wd_error_set(err, WD_ENOMEM, "out of memory building a snapshot"));
	atomic_init(&identity->refs, 1);

	WD_GUARD(take_svid(identity, input, err));
	WD_GUARD(identity_trust_build(input->bundles, input->bundle_count, input->crls,
		&identity->trust, err));
	WD_GUARD(identity_tls_build(identity, err));
	identity->generation = atomic_fetch_add(&next_generation, 1);

	*ret_identity = WD_TAKE_PTR(identity);
	rc = 0;
out:
	proxy_identity_unref(identity);
	return rc;
}
