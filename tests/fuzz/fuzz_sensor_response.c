/* libFuzzer harness: splits the input at the first line "#--" into a Falco
 * rules file (with `warden:` sections) and a response file, parses both and
 * builds the plan. Every failure must carry a detail. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sensor/response/response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char separator[] = "\n#--\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *split = memmem(text, size, separator, sizeof(separator) - 1);
	size_t rules_len = split ? (size_t)(split - text) : 0;
	const char *responses = split ? split + sizeof(separator) - 1 : text;
	size_t responses_len = size - (size_t)(responses - text);
	struct response_config config = { 0 };
	struct response_plan *plan = NULL;
	struct rules_set *set = NULL;
	struct wd_error err = { 0 };
	int rc;

	if (rules_set_new(&set) < 0)
		return 0;
	rc = rules_load_buffer(set, "rules.yaml", text, rules_len, &err);
	if (rc < 0 && err.detail[0] == '\0')
		__builtin_trap();
	wd_error_clear(&err);
	rc = response_config_parse("responses.yaml", responses, responses_len, &config, &err);
	if (rc < 0 && err.detail[0] == '\0')
		__builtin_trap();
	wd_error_clear(&err);
	rc = response_plan_build(set, rc == 0 ? &config : NULL, &plan, &err);
	if (rc < 0 && err.detail[0] == '\0')
		__builtin_trap();
	for (size_t i = 0; rc == 0 && i < rules_count(set); i++) {
		if (response_plan_actions(plan, rules_get(set, i)) & ~response_plan_all(plan))
			__builtin_trap();
	}
	response_plan_free(plan);
	response_config_clear(&config);
	rules_set_free(set);
	return 0;
}
