/* Feeds the proxy's parsers of Workload API bytes: concatenated DER
 * certificates (SVID chains and bundles) and CRLs in PEM or DER. The first
 * byte picks the parser, so one corpus covers both. */
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "proxy/identity_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_error err = { 0 };

	if (size < 1)
		return 0;

	if (data[0] & 1) {
		STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();

		if (!crls)
			return 0;
		if (identity_parse_crls(data + 1, size - 1, "fuzz input", crls, &err) < 0 &&
		    err.detail[0] == '\0')
			__builtin_trap(); /* a failure must say why */
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
	} else {
		STACK_OF(X509) *certs = NULL;

		if (identity_der_certs(data + 1, size - 1, 16, "fuzz input", &certs, &err) == 0)
			sk_X509_pop_free(certs, X509_free);
	}
	return 0;
}
