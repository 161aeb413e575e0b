/* libFuzzer harness: loads arbitrary bytes as a Falco rules file, compiles
 * the rules, writes the report and works out the open path filter. Every
 * failure must carry a detail. Every prefix the filter keeps must be an
 * absolute path and every suffix non-empty, as the kernel side requires. */
#include <stddef.h>
#include <stdint.h>

#include "sensor/rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void get(void *ctx, const char *field, const char *arg, struct cond_fvalue *ret)
{
	(void)ctx;
	(void)arg;
	ret->kind = COND_V_STRING;
	ret->str = field;
}

static bool on_match(const struct rules_rule *rule, void *ctx)
{
	(void)rule;
	(void)ctx;
	return true;
}

static void check_open_paths(const struct rules_set *set)
{
	struct rules_open_paths paths;
	struct wd_error err = { 0 };

	if (rules_open_paths(set, &paths, &err) < 0) {
		if (err.detail[0] == '\0')
			__builtin_trap();
		return;
	}
	for (size_t i = 0; i < paths.count; i++)
		if (paths.prefixes[i][0] != '/')
			__builtin_trap();
	for (size_t i = 0; i < paths.suffix_count; i++)
		if (paths.suffixes[i][0] == '\0')
			__builtin_trap();
	rules_open_paths_free(&paths);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules_set *set = NULL;
	struct wd_error err = { 0 };
	struct wd_buf report;
	int rc;

	if (rules_set_new(&set) < 0)
		return 0;
	rc = rules_load_buffer(set, "fuzz.yaml", (const char *)data, size, &err);
	if (rc == 0)
		rc = rules_compile(set, &err);
	if (rc < 0 && err.detail[0] == '\0')
		__builtin_trap();
	if (rc == 0) {
		wd_buf_init(&report, 256, 1024 * 1024);
		if (rules_report(set, &report) < 0 && wd_buf_len(&report) == 0)
			__builtin_trap();
		wd_buf_free(&report);
		(void)rules_match(set, "open", get, NULL, on_match, NULL);
		check_open_paths(set);
	}
	rules_set_free(set);
	return 0;
}
