/* libFuzzer harness: decodes the input as a request body and runs every
 * typed getter of a small field schema over it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fields[] = { "spiffe_id", "ttl", "admin", "dns_names" };
	struct wd_error err;
	json_t *obj = NULL;
	const char *spiffe_id;
	int64_t ttl;
	bool admin;
	const char **dns_names = NULL;
	size_t dns_count;

	wd_error_clear(&err);
	if (net_json_parse_object(data, size, 0, &obj, &err) < 0)
		return 0;

	/* Each getter runs even after another failed, so all paths are hit;
	 * a result that breaks the getter's contract aborts. */
	if (net_json_check_fields(obj, fields, 4, &err) < 0 && err.code != WD_EINVAL)
		abort();
	if (net_json_get_string(obj, "spiffe_id", true, 2048, &spiffe_id, &err) == 1 &&
	    (!spiffe_id || strlen(spiffe_id) > 2048))
		abort();
	if (net_json_get_int(obj, "ttl", false, 1, 86400, &ttl, &err) == 1 &&
	    (ttl < 1 || ttl > 86400))
		abort();
	if (net_json_get_bool(obj, "admin", false, &admin, &err) < 0 && admin)
		abort();
	if (net_json_get_string_array(obj, "dns_names", false, 8, 255, &dns_names, &dns_count,
		    &err) == 1) {
		if (dns_count > 8)
			abort();
		for (size_t i = 0; i < dns_count; i++) {
			if (strlen(dns_names[i]) > 255)
				abort();
		}
		free(dns_names);
	}
	json_decref(obj);
	return 0;
}
