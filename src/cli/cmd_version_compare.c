/* `warden version compare`: a debugging command, left out of the usage
 * text, that prints the order of two versions in one ecosystem. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "supply/version.h"

static void print_compare_usage(FILE *out)
{
	fprintf(out,
		"usage: warden version compare --ecosystem NAME A B\n\n"
		"Prints -1, 0 or 1 as version A sorts before, equal to or after B.\n"
		"NAME is an OSV ecosystem (Debian, Alpine, Red Hat, PyPI, npm, Go, ...)\n"
		"or a version scheme (dpkg, rpm, apk, semver, pep440, go).\n");
}

int cmd_version_compare(int argc, char **argv)
{
	const char *ecosystem_name = NULL;
	const char *versions[2];
	size_t version_count = 0;
	enum supply_ecosystem ecosystem;
	struct wd_error err = { 0 };
	bool options_done = false;
	int order = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && (!strcmp(arg, "--help") || !strcmp(arg, "-h"))) {
			print_compare_usage(stdout);
			return 0;
		}
		if (!options_done && !strcmp(arg, "--ecosystem") && i + 1 < argc) {
			ecosystem_name = argv[++i];
			continue;
		}
		/* "--" ends the options, so a version may start with '-'. */
		if (!options_done && !strcmp(arg, "--")) {
			options_done = true;
			continue;
		}
		if (!options_done && arg[0] == '-' && arg[1] == '-') {
			fprintf(stderr, "warden version compare: unknown option '%s'\n", arg);
			print_compare_usage(stderr);
			return 2;
		}
		if (version_count == 2) {
			fprintf(stderr, "warden version compare: unexpected argument '%s'\n", arg);
			print_compare_usage(stderr);
			return 2;
		}
		versions[version_count++] = arg;
	}
	if (!ecosystem_name || version_count != 2) {
		print_compare_usage(stderr);
		return 2;
	}

	if (supply_ecosystem_parse(ecosystem_name, &ecosystem, &err) < 0 ||
	    supply_version_compare(ecosystem, versions[0], versions[1], &order, &err) < 0) {
		fprintf(stderr, "warden version compare: %s\n", wd_error_text(&err));
		return 1;
	}

	printf("%d\n", order);
	return 0;
}
