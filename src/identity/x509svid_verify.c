/* Validates X.509-SVID chains: the leaf rules of X509-SVID.md section 5 and
 * RFC 5280 path validation against the trust domain's authorities. */
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "identity/x509svid.h"

/* Maximum chain length accepted, leaf included. Nested CAs rarely add more
 * than a few intermediates. */
#define CHAIN_MAX_CERTS 16

static int verify_path(STACK_OF(X509) *chain, X509 *const *authorities,
	size_t authority_count, int64_t now, struct wd_error *err)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_VERIFY_PARAM *param;
	int rc;

	WD_ENSURE(store && ctx && untrusted, WD_ENOMEM);
	for (size_t i = 0; i < authority_count; i++) {
		WD_ENSURE(authorities[i], WD_EINVAL);
		WD_ENSURE(X509_STORE_add_cert(store, authorities[i]), WD_ENOMEM);
	}
	for (int i = 1; i < sk_X509_num(chain); i++)
		WD_ENSURE(sk_X509_push(untrusted, sk_X509_value(chain, i)), WD_ENOMEM);

	WD_ENSURE(X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), untrusted),
		WD_ENOMEM);
	param = X509_STORE_CTX_get0_param(ctx);
	/* Every authority is a trust anchor even when it is not self-signed,
	 * so an intermediate from an upstream CA can be a trust domain's
	 * authority. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_time(param, (time_t)now);

	if (X509_verify_cert(ctx) != 1) {
		int verify_error = X509_STORE_CTX_get_error(ctx);
		int depth = X509_STORE_CTX_get_error_depth(ctx);

		rc = wd_error_set(err,
			verify_error == X509_V_ERR_CERT_HAS_EXPIRED ? WD_EEXPIRED : WD_ECRYPTO,
			"X.509-SVID chain verification failed at depth %d: %s", depth,
			X509_verify_cert_error_string(verify_error));
		goto out;
	}
	rc = 0;
out:
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

/* Applies the leaf rules of X509-SVID.md sections 4.3 and 5.1: cA=false,
 * digitalSignature without keyCertSign or cRLSign, and an EKU, if present,
 * with both serverAuth and clientAuth. */
static int check_leaf(X509 *leaf, struct wd_error *err)
{
	uint32_t flags = X509_get_extension_flags(leaf);
	uint32_t key_usage;
	uint32_t ext_key_usage;

	if (flags & EXFLAG_INVALID)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID leaf has malformed extensions");
	if (flags & EXFLAG_CA)
		return wd_error_set(err, WD_EINVAL,
			"X.509-SVID leaf is a CA certificate (basicConstraints cA=true)");

	/* NOTE: keyUsage criticality is not checked, so SVIDs from issuers
	 * that mark it non-critical still verify. */
	if (!(flags & EXFLAG_KUSAGE))
		return wd_error_set(err, WD_EINVAL, "X.509-SVID leaf has no keyUsage extension");
	key_usage = X509_get_key_usage(leaf);
	if (key_usage & KU_KEY_CERT_SIGN)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID leaf keyUsage includes keyCertSign");
	if (key_usage & KU_CRL_SIGN)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID leaf keyUsage includes cRLSign");
	if (!(key_usage & KU_DIGITAL_SIGNATURE))
		return wd_error_set(err, WD_EINVAL,
			"X.509-SVID leaf keyUsage lacks digitalSignature");

	if (flags & EXFLAG_XKUSAGE) {
		ext_key_usage = X509_get_extended_key_usage(leaf);
		if (!(ext_key_usage & XKU_SSL_SERVER) || !(ext_key_usage & XKU_SSL_CLIENT))
			return wd_error_set(err, WD_EINVAL,
				"X.509-SVID leaf extendedKeyUsage must contain both serverAuth and "
				"clientAuth");
	}
	return 0;
}

int x509svid_verify(STACK_OF(X509) *chain, X509 *const *authorities, size_t authority_count,
	int64_t now, struct spiffe_id *ret_id, struct wd_error *err)
{
	struct spiffe_id id;
	X509 *leaf;
	int rc;

	if (ret_id)
		memset(ret_id, 0, sizeof(*ret_id));
	if (!chain || !ret_id || (!authorities && authority_count > 0))
		return wd_error_set(err, WD_EINVAL, "X.509-SVID verification: missing argument");
	if (sk_X509_num(chain) < 1)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID chain is empty");
	if (sk_X509_num(chain) > CHAIN_MAX_CERTS)
		return wd_error_set(err, WD_ETOOBIG,
			"X.509-SVID chain has %d certificates, at most %d are allowed",
			sk_X509_num(chain), CHAIN_MAX_CERTS);
	if (authority_count == 0)
		return wd_error_set(err, WD_EINVAL,
			"X.509-SVID verification: the trust bundle has no X.509 authorities");

	leaf = sk_X509_value(chain, 0);
	if (!leaf)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID chain has no leaf");

	/* The leaf rules run first: they are cheap, and OpenSSL's strict mode
	 * would otherwise report some of them (keyCertSign on a non-CA) in its
	 * own words instead of naming the X.509-SVID rule. */
	WD_GUARD(check_leaf(leaf, err));
	WD_GUARD(x509svid_spiffe_id(leaf, &id, err));
	if (id.path[0] == '\0') {
		rc = wd_error_set(err, WD_EINVAL,
			"X.509-SVID leaf has SPIFFE ID \"spiffe://%.255s\" with no path; a leaf "
			"needs a non-root path",
			id.trust_domain);
		goto out;
	}
	WD_GUARD(verify_path(chain, authorities, authority_count, now, err));
	*ret_id = id;
	rc = 0;
out:
	ERR_clear_error();
	return rc;
}
