/* Checks cached X.509-SVIDs against the CRLs that come with the trust
 * bundle, so the agent stops serving an SVID the server revoked. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

/* Size of a serial in lowercase hex without leading zeros, with its NUL:
 * RFC 5280 section 4.1.2.2 allows up to 20 octets. */
#define AGENT_CRL_SERIAL_HEX_SIZE 41
/* Max certificates read from the bundle's concatenated DER. */
#define AGENT_CRL_MAX_AUTHORITIES 64

/* The bundle's CRLs, decoded once, with the CA certificates that sign them. */
struct agent_crl_set;

/* Decodes authorities_der (concatenated DER CA certificates) and each DER
 * CRL into ret_set. A CRL that does not decode is left out, because it
 * cannot revoke anything. WD_EINVAL for an authority that is not valid DER,
 * WD_ETOOBIG past AGENT_CRL_MAX_AUTHORITIES, WD_ENOMEM. Free with
 * agent_crl_set_free. */
WD_MUST_CHECK int agent_crl_set_new(const uint8_t *authorities_der, size_t authorities_der_len,
	const uint8_t *const *crl_der, const size_t *crl_der_len, size_t crl_count,
	struct agent_crl_set **ret_set, struct wd_error *err);

/* Frees set; accepts NULL. */
void agent_crl_set_free(struct agent_crl_set *set);

/* Returns the number of CRLs that decoded. */
size_t agent_crl_set_count(const struct agent_crl_set *set);

/* Sets *ret_revoked when the leaf of chain_der (concatenated DER, leaf
 * first) has its serial on a CRL of its issuer. Such a CRL carries the
 * leaf's issuer name, and its signature verifies with the key of the chain
 * certificate with that subject, or else of the bundle CA with it. Serials
 * are unique per issuer only (RFC 5280 section 4.1.2.2), hence both checks.
 * Writes the leaf's serial as lowercase hex to ret_serial in either case.
 * WD_EINVAL when the leaf is not valid DER. */
WD_MUST_CHECK int agent_crl_set_check(const struct agent_crl_set *set, const uint8_t *chain_der,
	size_t chain_der_len, bool *ret_revoked, char ret_serial[AGENT_CRL_SERIAL_HEX_SIZE]);
