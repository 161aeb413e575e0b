/* `warden audit`: operator commands on the audit chain. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/macros.h"

static void print_audit_usage(FILE *out)
{
	fprintf(out,
		"usage: warden audit verify [--json] PATH\n"
		"\n"
		"Verifies the hash chain of the audit log at PATH and, when PATH.head\n"
		"exists, that no records were cut off its end.\n"
		"\n"
		"options:\n"
		"  --json      print the result as one JSON object on stdout\n"
		"  -h, --help  print this help\n"
		"\n"
		"exit status: 0 chain intact, 1 chain broken or log unreadable, 2 usage error\n");
}

/* Prints obj as one line on stdout and frees it. */
static void print_json(json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(obj);
}

static void report_json(int rc, const struct audit_verify_result *result,
	const struct wd_error *err)
{
	json_t *obj = json_object();
	json_t *error_text;

	if (!obj)
		return;
	json_object_set_new(obj, "intact", json_boolean(rc == 0));
	if (rc == 0 || result->first_bad > 0)
		json_object_set_new(obj, "records", json_integer((json_int_t)result->records));
	if (rc == 0) {
		json_object_set_new(obj, "head", json_string(result->head));
	} else if (rc == WD_ECORRUPT && result->first_bad > 0) {
		json_object_set_new(obj, "first_bad", json_integer((json_int_t)result->first_bad));
		json_object_set_new(obj, "line", json_integer((json_int_t)result->line));
		json_object_set_new(obj, "reason", json_string(result->reason));
	} else {
		/* The detail names the path, which may not be UTF-8, so the fixed
		 * message of the code is the fallback. */
		error_text = json_string(wd_error_text(err));
		if (!error_text)
			error_text = json_string(wd_strerror(rc));
		json_object_set_new(obj, "error", error_text);
	}
	print_json(obj);
}

static void report_text(int rc, const struct audit_verify_result *result,
	const struct wd_error *err)
{
	if (rc == 0)
		printf("audit chain intact: %llu records, head %s\n",
			(unsigned long long)result->records, result->head);
	else if (rc == WD_ECORRUPT && result->first_bad > 0)
		fprintf(stderr, "audit chain broken at record %llu (line %llu): %s\n",
			(unsigned long long)result->first_bad, (unsigned long long)result->line,
			result->reason);
	else
		fprintf(stderr, "warden audit verify: %s\n", wd_error_text(err));
}

static int audit_verify_main(int argc, char **argv)
{
	struct audit_verify_result result;
	struct wd_error err;
	const char *path = NULL;
	bool json = false;
	bool options_done = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && !strcmp(arg, "--")) {
			options_done = true;
		} else if (!options_done && (!strcmp(arg, "-h") || !strcmp(arg, "--help"))) {
			print_audit_usage(stdout);
			return 0;
		} else if (!options_done && !strcmp(arg, "--json")) {
			json = true;
		} else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
			fprintf(stderr, "warden audit verify: unknown option '%s'\n", arg);
			print_audit_usage(stderr);
			return 2;
		} else if (path) {
			fprintf(stderr, "warden audit verify: unexpected argument '%s'\n", arg);
			print_audit_usage(stderr);
			return 2;
		} else {
			path = arg;
		}
	}
	if (!path) {
		fprintf(stderr, "warden audit verify: missing PATH\n");
		print_audit_usage(stderr);
		return 2;
	}

	wd_error_clear(&err);
	rc = audit_verify_file(path, &result, &err);
	if (json)
		report_json(rc, &result, &err);
	else
		report_text(rc, &result, &err);
	return rc == 0 ? 0 : 1;
}

static const struct cli_command audit_commands[] = {
	{ "verify", "verify the hash chain of an audit log", audit_verify_main },
};

int cmd_audit(int argc, char **argv)
{
	if (argc < 2) {
		print_audit_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		print_audit_usage(stdout);
		return 0;
	}

	for (size_t i = 0; i < WD_ARRAY_LEN(audit_commands); i++) {
		if (!strcmp(argv[1], audit_commands[i].name))
			return audit_commands[i].run(argc - 1, argv + 1);
	}

	fprintf(stderr, "warden audit: unknown command '%s'\n", argv[1]);
	print_audit_usage(stderr);
	return 2;
}
