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
		"usage: warden version compare --ecosystem NAME A B\n"
		"       warden version compare --ecosystem NAME --stdin\n\n"
		"Prints -1, 0 or 1 as version A sorts before, equal to or after B.\n"
		"With --stdin, reads one \"A<TAB>B\" pair a line and prints one result a\n"
		"line: the order, or \"error: <reason>\" for an invalid version.\n"
		"NAME is an OSV ecosystem (Debian, Alpine, Red Hat, PyPI, npm, Go, ...)\n"
		"or a version scheme (dpkg, rpm, apk, semver, pep440, go).\n");
}

/* Maximum length of an input line of --stdin: two versions and a tab. */
#define PAIR_LINE_MAX 1024

/* Compares the tab-separated pairs of stdin, one result a line, so a test
 * of thousands of pairs runs one process. */
static int compare_lines(enum supply_ecosystem ecosystem)
{
	char line[PAIR_LINE_MAX];
	unsigned long number = 0;

	while (fgets(line, sizeof(line), stdin)) {
		char *tab;
		struct wd_error err = { 0 };
		int order = 0;

		number++;
		line[strcspn(line, "\n")] = '\0';
		tab = strchr(line, '\t');
		if (!tab) {
			fprintf(stderr, "warden version compare: line %lu has no tab between the "
				"two versions\n", number);
			return 2;
		}
		*tab = '\0';
		if (supply_version_compare(ecosystem, line, tab + 1, &order, &err) < 0)
			printf("error: %s\n", wd_error_text(&err));
		else
			printf("%d\n", order);
	}
	return 0;
}

int cmd_version_compare(int argc, char **argv)
{
	const char *ecosystem_name = NULL;
	const char *versions[2];
	size_t version_count = 0;
	enum supply_ecosystem ecosystem;
	struct wd_error err = { 0 };
	bool options_done = false;
	bool from_stdin = false;
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
		if (!options_done && !strcmp(arg, "--stdin")) {
			from_stdin = true;
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
	if (!ecosystem_name || version_count != (from_stdin ? 0 : 2)) {
		print_compare_usage(stderr);
		return 2;
	}
	if (from_stdin) {
		if (supply_ecosystem_parse(ecosystem_name, &ecosystem, &err) < 0) {
			fprintf(stderr, "warden version compare: %s\n", wd_error_text(&err));
			return 1;
		}
		return compare_lines(ecosystem);
	}

	if (supply_ecosystem_parse(ecosystem_name, &ecosystem, &err) < 0 ||
	    supply_version_compare(ecosystem, versions[0], versions[1], &order, &err) < 0) {
		fprintf(stderr, "warden version compare: %s\n", wd_error_text(&err));
		return 1;
	}

	printf("%d\n", order);
	return 0;
}
