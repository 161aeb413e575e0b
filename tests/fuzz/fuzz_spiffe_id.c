/* libFuzzer harness for the SPIFFE ID parser: every input either fails with
 * a detail or parses, and a parsed ID formats back to the same bytes and
 * parses to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity/spiffe_id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spiffe_id id;
	struct spiffe_id again;
	struct wd_error err;
	char formatted[SPIFFE_ID_MAX_LEN + 1];
	int rc;

	wd_error_clear(&err);
	rc = spiffe_id_parse((const char *)data, size, &id, &err);
	if (rc < 0) {
		/* A rejection always names the ID and the rule. */
		if (rc != WD_EINVAL || strncmp(err.detail, "invalid SPIFFE ID \"", 19) != 0)
			abort();
		return 0;
	}

	/* The parser accepts exactly the canonical form, so formatting must
	 * reproduce the input byte for byte. */
	if (spiffe_id_format(&id, formatted, sizeof(formatted)) != 0)
		abort();
	if (strlen(formatted) != size || memcmp(formatted, data, size) != 0)
		abort();
	if (spiffe_id_parse(formatted, strlen(formatted), &again, NULL) != 0)
		abort();
	if (strcmp(id.trust_domain, again.trust_domain) != 0 || strcmp(id.path, again.path) != 0)
		abort();
	if (!spiffe_id_member_of(&again, id.trust_domain))
		abort();
	if (spiffe_trust_domain_validate(id.trust_domain, NULL) != 0)
		abort();
	return 0;
}
