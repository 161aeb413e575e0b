/* The trust side of a snapshot: CA certificates per trust domain, the
 * serials their CRLs revoke, and peer verification against both. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/alloc.h"
#include "common/time.h"
#include "crypto/x509.h"
#include "identity/x509svid.h"
#include "proxy/identity_internal.h"

/* Hex of a serial: 64 octets at most, as crypto_x509_serial_hex allows. */
#define SERIAL_HEX_SIZE (2 * 64 + 1)

struct identity_trust *identity_trust_ref(struct identity_trust *trust)
{
	if (trust)
		atomic_fetch_add_explicit(&trust->refs, 1, memory_order_relaxed);
	return trust;
}

static void domain_clear(struct identity_domain *domain)
{
	for (size_t i = 0; i < domain->authority_count; i++)
		X509_free(domain->authorities[i]);
	for (size_t i = 0; i < domain->revoked_count; i++)
		free(domain->revoked[i]);
	free(domain->authorities);
	free(domain->revoked);
	free(domain->name);
}

void identity_trust_unref(struct identity_trust *trust)
{
	if (!trust || atomic_fetch_sub_explicit(&trust->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < trust->domain_count; i++)
		domain_clear(&trust->domains[i]);
	free(trust->domains);
	free(trust);
}

const struct identity_domain *identity_trust_find(const struct identity_trust *trust,
	const char *trust_domain)
{
	if (!trust || !trust_domain)
		return NULL;
	for (size_t i = 0; i < trust->domain_count; i++) {
		if (strcmp(trust->domains[i].name, trust_domain) == 0)
			return &trust->domains[i];
	}
	return NULL;
}

/* Formats an ASN1_INTEGER's magnitude as crypto_x509_serial_hex does:
 * lowercase hex without leading zeros, "0" for zero. */
static int serial_to_hex(const ASN1_INTEGER *serial, char out[static SERIAL_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *data = ASN1_STRING_get0_data(serial);
	size_t len = (size_t)ASN1_STRING_length(serial);
	size_t pos = 0;

	if (len > 64)
		return WD_ETOOBIG;
	for (size_t i = 0; i < len; i++) {
		if (pos == 0 && data[i] == 0)
			continue;
		if (pos == 0 && data[i] < 0x10) {
			out[pos++] = digits[data[i]];
			continue;
		}
		out[pos++] = digits[data[i] >> 4];
		out[pos++] = digits[data[i] & 0x0f];
	}
	if (pos == 0)
		out[pos++] = '0';
	out[pos] = '\0';
	return 0;
}

static int domain_get(struct identity_trust *trust, const char *name,
	struct identity_domain **ret_domain, struct wd_error *err)
{
	struct identity_domain *domains;
	struct identity_domain *domain = (struct identity_domain *)identity_trust_find(trust, name);

	*ret_domain = domain;
	if (domain)
		return 0;
	if (trust->domain_count >= IDENTITY_MAX_TRUST_DOMAINS)
		return wd_error_set(err, WD_ETOOBIG, "more than %d trust domains in the bundles",
			IDENTITY_MAX_TRUST_DOMAINS);
	domains = wd_reallocarray(trust->domains, trust->domain_count + 1, sizeof(*domains));
	if (!domains)
		return wd_error_set(err, WD_ENOMEM, "out of memory adding trust domain %s", name);
	trust->domains = domains;
	domain = &domains[trust->domain_count];
	memset(domain, 0, sizeof(*domain));
	domain->name = wd_strdup(name);
	if (!domain->name)
		return wd_error_set(err, WD_ENOMEM, "out of memory adding trust domain %s", name);
	trust->domain_count++;
	*ret_domain = domain;
	return 0;
}

static int add_bundle(struct identity_trust *trust, const struct identity_bundle_input *bundle,
	struct wd_error *err)
{
	const char *name = bundle->trust_domain;
	struct identity_domain *domain;
	int count = bundle->authorities ? sk_X509_num(bundle->authorities) : 0;
	X509 **authorities;
	int rc;

	/* The Workload API keys federated bundles by "spiffe://td". */
	if (name && strncmp(name, "spiffe://", 9) == 0)
		name += 9;
	if (!name)
		return wd_error_set(err, WD_EINVAL, "a bundle has no trust domain");
	rc = spiffe_trust_domain_validate(name, err);
	if (rc < 0)
		return rc;
	rc = domain_get(trust, name, &domain, err);
	if (rc < 0)
		return rc;
	if (domain->authority_count + (size_t)count > IDENTITY_MAX_AUTHORITIES)
		return wd_error_set(err, WD_ETOOBIG,
			"trust domain %s has more than %d CA certificates", name,
			IDENTITY_MAX_AUTHORITIES);

	authorities = wd_reallocarray(domain->authorities, domain->authority_count + (size_t)count,
		sizeof(*authorities));
	if (!authorities)
		return wd_error_set(err, WD_ENOMEM, "out of memory for trust domain %s", name);
	domain->authorities = authorities;
	for (int i = 0; i < count; i++) {
		X509 *ca = sk_X509_value(bundle->authorities, i);

		if (!X509_up_ref(ca))
			return wd_error_set(err, WD_ENOMEM, "out of memory for trust domain %s", name);
		domain->authorities[domain->authority_count++] = ca;
	}
	return 0;
}

/* True when one of the domain's CAs issued and signed crl. */
static bool crl_signed_by(const struct identity_domain *domain, X509_CRL *crl)
{
	for (size_t i = 0; i < domain->authority_count; i++) {
		X509 *ca = domain->authorities[i];
		EVP_PKEY *ca_key = X509_get0_pubkey(ca);

		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0)
			continue;
		if (ca_key && X509_CRL_verify(crl, ca_key) == 1)
			return true;
	}
	ERR_clear_error();
	return false;
}

static int add_revoked(struct identity_domain *domain, X509_CRL *crl, struct wd_error *err)
{
	STACK_OF(X509_REVOKED) *entries = X509_CRL_get_REVOKED(crl);
	int count = entries ? sk_X509_REVOKED_num(entries) : 0;
	char **revoked;

	if (count == 0)
		return 0;
	if (domain->revoked_count + (size_t)count > IDENTITY_MAX_REVOKED)
		return wd_error_set(err, WD_ETOOBIG,
			"the CRLs of trust domain %s revoke more than %d serials", domain->name,
			IDENTITY_MAX_REVOKED);
	revoked = wd_reallocarray(domain->revoked, domain->revoked_count + (size_t)count,
		sizeof(*revoked));
	if (!revoked)
		return wd_error_set(err, WD_ENOMEM, "out of memory reading a CRL of %s",
			domain->name);
	domain->revoked = revoked;

	for (int i = 0; i < count; i++) {
		char hex[SERIAL_HEX_SIZE];
		const ASN1_INTEGER *serial =
			X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i));

		/* A serial too long for any certificate this proxy accepts
		 * cannot match one, so it is skipped. */
		if (serial_to_hex(serial, hex) < 0)
			continue;
		domain->revoked[domain->revoked_count] = wd_strdup(hex);
		if (!domain->revoked[domain->revoked_count])
			return wd_error_set(err, WD_ENOMEM, "out of memory reading a CRL of %s",
				domain->name);
		domain->revoked_count++;
	}
	return 0;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int identity_trust_build(const struct identity_bundle_input *bundles, size_t bundle_count,
	STACK_OF(X509_CRL) *crls, struct identity_trust **ret_trust, struct wd_error *err)
{
	struct identity_trust *trust = NULL;
	int crl_count = crls ? sk_X509_CRL_num(crls) : 0;
	int rc;

	*ret_trust = NULL;
	WD_ENSURE(crl_count <= IDENTITY_MAX_CRLS,
		wd_error_set(err, WD_ETOOBIG, "%d CRLs, at most %d are allowed", crl_count,
			IDENTITY_MAX_CRLS));
	trust = calloc(1, sizeof(*trust));
	WD_ENSURE(trust, wd_error_set(err, WD_ENOMEM, "out of memory building the trust data"));
	atomic_init(&trust->refs, 1);

	for (size_t i = 0; i < bundle_count; i++)
		WD_GUARD(add_bundle(trust, &bundles[i], err));

	/* Only a CRL whose signature verifies against a CA of a trust domain
	 * revokes anything, so a forged CRL cannot cut the proxy off from a
	 * peer. */
	for (int i = 0; i < crl_count; i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);

		for (size_t d = 0; d < trust->domain_count; d++) {
			if (crl_signed_by(&trust->domains[d], crl))
				WD_GUARD(add_revoked(&trust->domains[d], crl, err));
		}
	}
	for (size_t d = 0; d < trust->domain_count; d++) {
		struct identity_domain *domain = &trust->domains[d];

		if (domain->revoked_count > 1)
			qsort(domain->revoked, domain->revoked_count, sizeof(*domain->revoked),
				compare_strings);
	}

	*ret_trust = WD_TAKE_PTR(trust);
	rc = 0;
out:
	identity_trust_unref(trust);
	return rc;
}

/* Writes a refusal reason. Reasons are cut at PROXY_REFUSAL_MAX bytes,
 * which is why SPIFFE IDs in them are printed with a precision of
 * REASON_ID_MAX: the end of the sentence survives a long ID. */
#define REASON_ID_MAX 160

static void WD_PRINTF(2, 3) set_reason(char reason[static PROXY_REFUSAL_MAX],
	const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	(void)vsnprintf(reason, PROXY_REFUSAL_MAX, fmt, args);
	va_end(args);
}

static bool is_revoked(const struct identity_domain *domain, X509 *cert,
	char serial[static SERIAL_HEX_SIZE])
{
	const char *key = serial;

	if (crypto_x509_serial_hex(cert, serial, SERIAL_HEX_SIZE) < 0)
		return false;
	return domain->revoked_count > 0 &&
		bsearch(&key, domain->revoked, domain->revoked_count, sizeof(*domain->revoked),
			compare_strings) != NULL;
}

/* Writes the reason for a chain that failed with WD_EEXPIRED, naming the
 * first certificate whose notAfter has passed. */
static void describe_expiry(STACK_OF(X509) *chain, const char *peer, int64_t now,
	char reason[static PROXY_REFUSAL_MAX])
{
	char when[WD_TIME_TEXT_MAX];

	for (int i = 0; i < sk_X509_num(chain); i++) {
		int64_t not_after;

		if (crypto_x509_not_after(sk_X509_value(chain, i), &not_after) < 0 ||
			not_after >= now)
			continue;
		if (wd_time_format(not_after, when) < 0)
			snprintf(when, sizeof(when), "%lld", (long long)not_after);
		if (i == 0)
			set_reason(reason, "certificate of %.*s expired at %s", REASON_ID_MAX, peer,
				when);
		else
			set_reason(reason,
				"CA certificate at depth %d in the chain of %.*s expired at %s", i,
				REASON_ID_MAX, peer,
				when);
		return;
	}
	set_reason(reason, "a certificate in the chain of %.*s has expired",
		REASON_ID_MAX, peer);
}

int identity_trust_verify(const struct identity_trust *trust, STACK_OF(X509) *chain,
	int64_t now, char *ret_spiffe_id, size_t spiffe_id_size,
	char ret_reason[static PROXY_REFUSAL_MAX])
{
	char peer[SPIFFE_ID_MAX_LEN + 1];
	char serial[SERIAL_HEX_SIZE];
	const struct identity_domain *domain;
	struct wd_error detail = { 0 };
	struct spiffe_id id;
	struct spiffe_id verified;
	int rc;

	ret_reason[0] = '\0';
	if (ret_spiffe_id && spiffe_id_size > 0)
		ret_spiffe_id[0] = '\0';
	if (!chain || sk_X509_num(chain) < 1 || !sk_X509_value(chain, 0)) {
		set_reason(ret_reason, "peer sent no certificate");
		return WD_ECRYPTO;
	}

	if (x509svid_spiffe_id(sk_X509_value(chain, 0), &id, &detail) < 0 ||
		spiffe_id_format(&id, peer, sizeof(peer)) < 0) {
		set_reason(ret_reason, "%s", wd_error_text(&detail));
		return WD_ECRYPTO;
	}
	domain = identity_trust_find(trust, id.trust_domain);
	if (!domain || domain->authority_count == 0) {
		set_reason(ret_reason,
			"peer %.*s: no trust bundle for trust domain %s", REASON_ID_MAX, peer, id.trust_domain);
		return WD_ECRYPTO;
	}

	rc = x509svid_verify(chain, domain->authorities, domain->authority_count, now,
		&verified, &detail);
	if (rc == WD_EEXPIRED) {
		describe_expiry(chain, peer, now, ret_reason);
		return WD_EEXPIRED;
	}
	if (rc < 0) {
		set_reason(ret_reason, "peer %.*s: %s", REASON_ID_MAX, peer, wd_error_text(&detail));
		return WD_ECRYPTO;
	}

	for (int i = 0; i < sk_X509_num(chain); i++) {
		if (!is_revoked(domain, sk_X509_value(chain, i), serial))
			continue;
		if (i == 0)
			set_reason(ret_reason,
				"certificate serial %s of %.*s is revoked", serial, REASON_ID_MAX, peer);
		else
			set_reason(ret_reason,
				"CA certificate serial %s in the chain of %.*s is revoked", serial,
				REASON_ID_MAX, peer);
		return WD_EREVOKED;
	}

	if (ret_spiffe_id && spiffe_id_size > 0 &&
		snprintf(ret_spiffe_id, spiffe_id_size, "%s", peer) >= (int)spiffe_id_size) {
		ret_spiffe_id[0] = '\0';
		set_reason(ret_reason, "peer %.*s: SPIFFE ID longer than the %zu-byte buffer",
			REASON_ID_MAX, peer, spiffe_id_size);
		return WD_ECRYPTO;
	}
	return 0;
}

bool identity_trust_leaf_current(const struct identity_trust *trust, X509 *leaf, int64_t now)
{
	const struct identity_domain *domain;
	char serial[SERIAL_HEX_SIZE];
	struct spiffe_id id;
	int64_t not_after;

	if (!leaf || x509svid_spiffe_id(leaf, &id, NULL) < 0)
		return false;
	domain = identity_trust_find(trust, id.trust_domain);
	if (!domain || domain->authority_count == 0)
		return false;
	if (crypto_x509_not_after(leaf, &not_after) < 0 || not_after < now)
		return false;
	return !is_revoked(domain, leaf, serial);
}
