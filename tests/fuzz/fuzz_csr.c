/* libFuzzer harness for CSR parsing: arbitrary bytes must be rejected with a
 * detail or yield a public key of an allowed type. */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "identity/csr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_error err;
	EVP_PKEY *key = NULL;
	int rc;

	wd_error_clear(&err);
	rc = csr_parse_and_verify(data, size, &key, &err);
	if (rc < 0) {
		if (key || err.code != rc || err.detail[0] == '\0')
			abort();
		return 0;
	}
	if (!key)
		abort();
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
	case EVP_PKEY_RSA:
		break;
	default:
		abort();
	}
	EVP_PKEY_free(key);
	return 0;
}
