/* Unit tests for the option tables, usage errors, durations and subcommand
 * dispatch of the operator commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_args.h"
#include "common/macros.h"

enum test_option {
	OPT_NAME,
	OPT_TAG,
	OPT_TTL,
	OPT_FLAG,
};

static const struct cli_option test_options[] = {
	{ "name", "NAME", OPT_NAME, "a name" },
	{ "tag", "TAG", OPT_TAG, "a tag; repeat for more" },
	{ "ttl", "DURATION", OPT_TTL, "a lifetime\nsecond help line" },
	{ "flag", NULL, OPT_FLAG, "a flag" },
};

static const struct cli_spec test_spec = {
	.name = "test run",
	.synopsis = "[OPTIONS] [ID]",
	.description = "Runs the test.\n",
	.options = test_options,
	.option_count = WD_ARRAY_LEN(test_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
	.min_operands = 0,
	.max_operands = 1,
	.operand_name = "ID",
};

struct parsed {
	const char *name;
	struct cli_strings tags;
	int64_t ttl;
	bool flag;
};

static int handle(void *ctx, int id, const char *value)
{
	struct parsed *parsed = ctx;

	switch ((enum test_option)id) {
	case OPT_NAME:
		parsed->name = value;
		break;
	case OPT_TAG:
		return cli_strings_append(&parsed->tags, value);
	case OPT_TTL:
		return cli_parse_duration("--ttl", value, &parsed->ttl);
	case OPT_FLAG:
		parsed->flag = true;
		break;
	}
	return CLI_CONTINUE;
}

/* Runs cli_parse over a NULL-terminated argument list. */
static int parse(struct parsed *parsed, struct cli_common *common, char ***operands,
	size_t *count, char **args)
{
	int argc = 0;

	while (args[argc])
		argc++;
	memset(parsed, 0, sizeof(*parsed));
	return cli_parse(&test_spec, argc, args, handle, parsed, common, operands, count);
}

static void parse_options_and_operand(void **state)
{
	char *args[] = { "run", "--name", "web", "ID-1", "--tag", "a", "--tag=b", "--ttl", "1h30m",
		"--flag", "--json", "--admin-socket", "/tmp/a.sock", NULL };
	struct parsed parsed;
	struct cli_common common;
	char **operands;
	size_t count;

	(void)state;
	assert_int_equal(parse(&parsed, &common, &operands, &count, args), CLI_CONTINUE);
	assert_string_equal(parsed.name, "web");
	assert_int_equal(parsed.tags.count, 2);
	assert_string_equal(parsed.tags.items[0], "a");
	assert_string_equal(parsed.tags.items[1], "b");
	assert_int_equal(parsed.ttl, 5400);
	assert_true(parsed.flag);
	assert_true(common.json);
	assert_string_equal(common.admin_socket, "/tmp/a.sock");
	assert_int_equal(count, 1);
	assert_string_equal(operands[0], "ID-1");
	cli_strings_free(&parsed.tags);
}

static void parse_defaults_when_absent(void **state)
{
	char *args[] = { "run", NULL };
	struct parsed parsed;
	struct cli_common common;
	char **operands;
	size_t count;

	(void)state;
	assert_int_equal(parse(&parsed, &common, &operands, &count, args), CLI_CONTINUE);
	assert_null(parsed.name);
	assert_int_equal(parsed.tags.count, 0);
	assert_false(common.json);
	assert_null(common.admin_socket);
	assert_int_equal(count, 0);
}

static void parse_rejects_bad_usage(void **state)
{
	char *unknown[] = { "run", "--bogus", NULL };
	char *missing_value[] = { "run", "--name", NULL };
	char *flag_value[] = { "run", "--flag=yes", NULL };
	char *short_unknown[] = { "run", "-x", NULL };
	char *extra_operand[] = { "run", "a", "b", NULL };
	char *bad_duration[] = { "run", "--ttl", "10x", NULL };
	char *negative_duration[] = { "run", "--ttl", "-5s", NULL };
	char **cases[] = { unknown, missing_value, flag_value, short_unknown, extra_operand,
		bad_duration, negative_duration };
	struct parsed parsed;
	struct cli_common common;
	char **operands;
	size_t count;

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		assert_int_equal(parse(&parsed, &common, &operands, &count, cases[i]),
			CLI_EXIT_USAGE);
		assert_null(operands);
		cli_strings_free(&parsed.tags);
	}
}

static void parse_help_exits_zero(void **state)
{
	char *long_help[] = { "run", "--name", "x", "--help", NULL };
	char *short_help[] = { "run", "-h", NULL };
	struct parsed parsed;
	struct cli_common common;
	char **operands;
	size_t count;

	(void)state;
	assert_int_equal(parse(&parsed, &common, &operands, &count, long_help), CLI_EXIT_OK);
	assert_int_equal(parse(&parsed, &common, &operands, &count, short_help), CLI_EXIT_OK);
}

static void parse_twice_starts_over(void **state)
{
	char *first[] = { "run", "--name", "a", "X", NULL };
	char *second[] = { "run", "--name", "b", NULL };
	struct parsed parsed;
	struct cli_common common;
	char **operands;
	size_t count;

	(void)state;
	assert_int_equal(parse(&parsed, &common, &operands, &count, first), CLI_CONTINUE);
	assert_int_equal(count, 1);
	assert_int_equal(parse(&parsed, &common, &operands, &count, second), CLI_CONTINUE);
	assert_string_equal(parsed.name, "b");
	assert_int_equal(count, 0);
}

static void help_lists_every_option(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	assert_non_null(out);
	cli_print_help(&test_spec, out);
	fclose(out);
	assert_non_null(strstr(text, "usage: warden test run [OPTIONS] [ID]\n"));
	assert_non_null(strstr(text, "  --name NAME "));
	assert_non_null(strstr(text, "  --flag "));
	assert_non_null(strstr(text, "  --admin-socket PATH "));
	assert_non_null(strstr(text, "  --json "));
	assert_non_null(strstr(text, "  -h, --help "));
	/* A continuation line is indented under the help column. */
	assert_non_null(strstr(text, "a lifetime\n                           second help line\n"));
	free(text);
}

static void duration_option_values(void **state)
{
	int64_t seconds = -1;

	(void)state;
	assert_int_equal(cli_parse_duration("--ttl", "90s", &seconds), CLI_CONTINUE);
	assert_int_equal(seconds, 90);
	assert_int_equal(cli_parse_duration("--ttl", "0", &seconds), CLI_CONTINUE);
	assert_int_equal(seconds, 0);
	assert_int_equal(cli_parse_duration("--ttl", "", &seconds), CLI_EXIT_USAGE);
	assert_int_equal(cli_parse_duration("--ttl", "1h1h", &seconds), CLI_EXIT_USAGE);
	assert_int_equal(cli_parse_duration("--ttl", "99999999999999999999d", &seconds),
		CLI_EXIT_USAGE);
}

static int last_run;

static int run_one(int argc, char **argv)
{
	(void)argv;
	last_run = argc;
	return 7;
}

static const struct cli_command group[] = {
	{ "one", "the only subcommand", run_one },
};

static void dispatch_by_table(void **state)
{
	char *ok[] = { "grp", "one", "x", NULL };
	char *unknown[] = { "grp", "two", NULL };
	char *missing[] = { "grp", NULL };
	char *help[] = { "grp", "--help", NULL };

	(void)state;
	assert_int_equal(cli_dispatch("grp", group, 1, 3, ok), 7);
	assert_int_equal(last_run, 2);
	assert_int_equal(cli_dispatch("grp", group, 1, 2, unknown), CLI_EXIT_USAGE);
	assert_int_equal(cli_dispatch("grp", group, 1, 1, missing), CLI_EXIT_USAGE);
	assert_int_equal(cli_dispatch("grp", group, 1, 2, help), CLI_EXIT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_options_and_operand),
		cmocka_unit_test(parse_defaults_when_absent),
		cmocka_unit_test(parse_rejects_bad_usage),
		cmocka_unit_test(parse_help_exits_zero),
		cmocka_unit_test(parse_twice_starts_over),
		cmocka_unit_test(help_lists_every_option),
		cmocka_unit_test(duration_option_values),
		cmocka_unit_test(dispatch_by_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
