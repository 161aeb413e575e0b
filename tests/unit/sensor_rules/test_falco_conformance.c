/* Loads Falco's own rule files from $FALCO_RULES_DIR and checks that every
 * rule either loads or is skipped only for a data source the sensor lacks.
 * Prints the per-rule report. Skips (exit 77) when the variable is unset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/rules/rules.h"

static const char *const files[] = { "falco_rules.yaml", "falco-incubating_rules.yaml" };

int main(void)
{
	const char *dir = getenv("FALCO_RULES_DIR");
	struct rules_set *set = NULL;
	struct wd_error err = { 0 };
	struct wd_buf report;
	size_t loaded = 0, skipped = 0, disabled = 0, bad = 0;
	int rc;

	if (!dir || !*dir) {
		printf("SKIP: FALCO_RULES_DIR is not set\n");
		return 77;
	}
	if (rules_set_new(&set) < 0)
		return 1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		rc = rules_load_file(set, path, &err);
		if (rc < 0) {
			printf("FAIL: %s\n", wd_error_text(&err));
			rules_set_free(set);
			return 1;
		}
	}
	rc = rules_compile(set, &err);
	if (rc < 0)
		printf("compile error: %s\n", wd_error_text(&err));

	wd_buf_init(&report, 4096, 1024 * 1024);
	if (rules_report(set, &report) < 0)
		return 1;
	fputs(wd_buf_str(&report), stdout);
	wd_buf_free(&report);

	for (size_t i = 0; i < rules_count(set); i++) {
		const struct rules_rule *r = rules_get(set, i);

		if (r->status == RULES_LOADED) {
			loaded++;
		} else if (r->status == RULES_DISABLED) {
			disabled++;
		} else {
			skipped++;
			/* Only a missing event source is an acceptable reason. */
			if (!r->reason || !strstr(r->reason, "event source")) {
				bad++;
				printf("UNEXPECTED SKIP: %s: %s\n", r->name, r->reason ? r->reason : "");
			}
		}
	}
	printf("rules %zu: loaded %zu, disabled %zu, skipped %zu, unexpected %zu\n",
		rules_count(set), loaded, disabled, skipped, bad);
	rules_set_free(set);
	return rc < 0 || bad ? 1 : 0;
}
