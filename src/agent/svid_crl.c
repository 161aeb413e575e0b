/* The serial-on-CRL check behind the agent's revocation of cached
 * X.509-SVIDs. */
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "agent/svid_crl.h"
#include "common/alloc.h"
#include "crypto/x509.h"

struct agent_crl_set {
	STACK_OF(X509) *authorities;
	STACK_OF(X509_CRL) *crls;
};

void agent_crl_set_free(struct agent_crl_set *set)
{
	if (!set)
		return;
	sk_X509_pop_free(set->authorities, X509_free);
	sk_X509_CRL_pop_free(set->crls, X509_CRL_free);
	free(set);
}

/* Decodes concatenated DER certificates; d2i never reads past the
 * remaining length. */
static int decode_authorities(const uint8_t *der, size_t len, STACK_OF(X509) *out,
	struct wd_error *err)
{
	const uint8_t *cursor = der;
	const uint8_t *end = der + len;

	if (len > LONG_MAX)
		return wd_error_set(err, WD_ETOOBIG, "bundle of %zu bytes is too long", len);
	while (cursor < end) {
		X509 *cert;

		if ((size_t)sk_X509_num(out) >= AGENT_CRL_MAX_AUTHORITIES)
			return wd_error_set(err, WD_ETOOBIG, "bundle holds more than %u "
				"certificates", AGENT_CRL_MAX_AUTHORITIES);
		cert = d2i_X509(NULL, &cursor, (long)(end - cursor));
		if (!cert)
			return wd_error_set(err, WD_EINVAL, "bundle certificate %d is not valid "
				"DER", sk_X509_num(out) + 1);
		if (!sk_X509_push(out, cert)) {
			X509_free(cert);
			return wd_error_set(err, WD_ENOMEM, "out of memory decoding the bundle");
		}
	}
	return 0;
}

int agent_crl_set_new(const uint8_t *authorities_der, size_t authorities_der_len,
	const uint8_t *const *crl_der, const size_t *crl_der_len, size_t crl_count,
	struct agent_crl_set **ret_set, struct wd_error *err)
{
	struct agent_crl_set *set;
	int rc = 0;

	*ret_set = NULL;
	set = wd_calloc(1, sizeof(*set));
	if (!set)
		return wd_error_set(err, WD_ENOMEM, "out of memory decoding the CRLs");
	set->authorities = sk_X509_new_null();
	set->crls = sk_X509_CRL_new_null();
	WD_ENSURE(set->authorities && set->crls,
		wd_error_set(err, WD_ENOMEM, "out of memory decoding the CRLs"));
	WD_GUARD(decode_authorities(authorities_der, authorities_der_len, set->authorities, err));

	for (size_t i = 0; i < crl_count; i++) {
		const uint8_t *cursor = crl_der[i];
		X509_CRL *crl = NULL;

		if (crl_der_len[i] <= LONG_MAX)
			crl = d2i_X509_CRL(NULL, &cursor, (long)crl_der_len[i]);
		if (!crl)
			continue;
		if (!sk_X509_CRL_push(set->crls, crl)) {
			X509_CRL_free(crl);
			rc = wd_error_set(err, WD_ENOMEM, "out of memory decoding the CRLs");
			goto out;
		}
	}
	*ret_set = WD_TAKE_PTR(set);
out:
	ERR_clear_error();
	agent_crl_set_free(set);
	return rc;
}

size_t agent_crl_set_count(const struct agent_crl_set *set)
{
	return (size_t)sk_X509_CRL_num(set->crls);
}

/* Returns the public key of the certificate named issuer: the chain's
 * intermediates first (the leaf's own issuer), then the bundle. Borrowed. */
static EVP_PKEY *issuer_key(const struct agent_crl_set *set, const STACK_OF(X509) *chain,
	const X509_NAME *issuer)
{
	for (int i = 1; i < sk_X509_num(chain); i++) {
		X509 *cert = sk_X509_value(chain, i);

		if (X509_NAME_cmp(X509_get_subject_name(cert), issuer) == 0)
			return X509_get0_pubkey(cert);
	}
	for (int i = 0; i < sk_X509_num(set->authorities); i++) {
		X509 *cert = sk_X509_value(set->authorities, i);

		if (X509_NAME_cmp(X509_get_subject_name(cert), issuer) == 0)
			return X509_get0_pubkey(cert);
	}
	return NULL;
}

/* Returns whether leaf is on a CRL that its issuer signed. */
static bool on_issuer_crl(const struct agent_crl_set *set, const STACK_OF(X509) *chain, X509 *leaf)
{
	const X509_NAME *issuer = X509_get_issuer_name(leaf);
	EVP_PKEY *key = issuer_key(set, chain, issuer);

	if (!key)
		return false;
	for (int i = 0; i < sk_X509_CRL_num(set->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(set->crls, i);
		X509_REVOKED *entry = NULL;

		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), issuer) != 0)
			continue;
		if (X509_CRL_verify(crl, key) != 1)
			continue;
		/* Returns 1 for a listed serial, 2 for one listed with the
		 * removeFromCRL reason (RFC 5280 section 5.3.1), which is not a
		 * revocation. */
		if (X509_CRL_get0_by_cert(crl, &entry, leaf) == 1)
			return true;
	}
	return false;
}

int agent_crl_set_check(const struct agent_crl_set *set, const uint8_t *chain_der,
	size_t chain_der_len, bool *ret_revoked, char ret_serial[AGENT_CRL_SERIAL_HEX_SIZE])
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	const uint8_t *cursor = chain_der;
	const uint8_t *end = chain_der + chain_der_len;
	int rc = 0;

	*ret_revoked = false;
	ret_serial[0] = '\0';
	WD_ENSURE(chain, WD_ENOMEM);
	WD_ENSURE(chain_der_len > 0 && chain_der_len <= LONG_MAX, WD_EINVAL);
	/* The intermediates matter only as issuers; a tail that does not
	 * decode leaves the bundle to name the issuer. */
	while (cursor < end && sk_X509_num(chain) < AGENT_CRL_MAX_AUTHORITIES) {
		X509 *cert = d2i_X509(NULL, &cursor, (long)(end - cursor));

		if (!cert)
			break;
		if (!sk_X509_push(chain, cert)) {
			X509_free(cert);
			WD_ENSURE(false, WD_ENOMEM);
		}
	}
	WD_ENSURE(sk_X509_num(chain) > 0, WD_EINVAL);

	X509 *leaf = sk_X509_value(chain, 0);
	WD_GUARD(crypto_x509_serial_hex(leaf, ret_serial, AGENT_CRL_SERIAL_HEX_SIZE));
	*ret_revoked = on_issuer_crl(set, chain, leaf);
out:
	ERR_clear_error();
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
